//! Loss and health counters kept by the kernel programs in a per-CPU array that userspace sums.
//! Every way a byte or an event can fail to reach userspace has its own slot: silence is a bug.

/// Name of the per-CPU array map holding the counters.
pub const COUNTERS_MAP: &str = "COUNTERS";

#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// Data events that could not be reserved in the ring buffer.
    RingbufFullEvents = 0,
    /// Payload bytes of those events.
    RingbufFullBytes = 1,
    /// Close events that could not be reserved.
    RingbufFullCloses = 2,
    /// Bytes beyond the per-call capture cap (reported in-band as `uncaptured_len`).
    TruncatedBytes = 3,
    /// Bytes left when the bounded capture loop ran out of steps (many tiny iovecs).
    StepsExhaustedBytes = 4,
    /// Bytes whose user memory could not be read (`bpf_probe_read_user` failed).
    ReadFailedBytes = 5,
    /// Bytes moved by sendfile, which never pass through a user buffer.
    UncapturableBytes = 6,
    /// Syscalls not tracked because the in-flight table was full.
    InflightFull = 7,
    /// Connections not tracked because the connection table was full.
    ConnTableFull = 8,
    /// mmsg messages beyond MAX_MMSG (bytes unknown).
    MmsgDropped = 9,
    /// Data events emitted.
    EventsEmitted = 10,
    /// Payload bytes emitted.
    BytesEmitted = 11,
    /// Connections first seen by the kernel programs.
    ConnsOpened = 12,
    /// Connections whose socket was destroyed.
    ConnsClosed = 13,
    /// Bytes moved by syscalls already running when the monitor attached.
    InFlightAtStartBytes = 14,
    /// TLS plaintext bytes whose connection could not be told (no socket call seen in the
    /// thread during this or an earlier call on the same TLS session): not emitted.
    TlsUnattributedBytes = 15,
    /// Bytes of TLS records on sockets, not parsed (plaintext comes from the hooks, if any).
    TlsCiphertextBytes = 16,
    /// TLS library calls not followed because the per-thread call table was full.
    TlsCallTableFull = 17,
    /// TLS plaintext chunks the per-thread capture state table had no room for.
    TlsCaptureStateFull = 18,
    /// Exec/mmap notices for the TLS hook manager its ring buffer had no room for (a process
    /// may then be hooked only at the next periodic rescan).
    ProcEventsLost = 19,
}

pub const COUNTER_SLOTS: u32 = 24;

impl Counter {
    pub const ALL: [Counter; 20] = [
        Counter::RingbufFullEvents,
        Counter::RingbufFullBytes,
        Counter::RingbufFullCloses,
        Counter::TruncatedBytes,
        Counter::StepsExhaustedBytes,
        Counter::ReadFailedBytes,
        Counter::UncapturableBytes,
        Counter::InflightFull,
        Counter::ConnTableFull,
        Counter::MmsgDropped,
        Counter::EventsEmitted,
        Counter::BytesEmitted,
        Counter::ConnsOpened,
        Counter::ConnsClosed,
        Counter::InFlightAtStartBytes,
        Counter::TlsUnattributedBytes,
        Counter::TlsCiphertextBytes,
        Counter::TlsCallTableFull,
        Counter::TlsCaptureStateFull,
        Counter::ProcEventsLost,
    ];

    /// Stable snake_case name used in the `stats` JSON event.
    pub const fn name(self) -> &'static str {
        match self {
            Counter::RingbufFullEvents => "ringbuf_full_events",
            Counter::RingbufFullBytes => "ringbuf_full_bytes",
            Counter::RingbufFullCloses => "ringbuf_full_closes",
            Counter::TruncatedBytes => "truncated_bytes",
            Counter::StepsExhaustedBytes => "steps_exhausted_bytes",
            Counter::ReadFailedBytes => "read_failed_bytes",
            Counter::UncapturableBytes => "uncapturable_bytes",
            Counter::InflightFull => "inflight_table_full",
            Counter::ConnTableFull => "conn_table_full",
            Counter::MmsgDropped => "mmsg_messages_dropped",
            Counter::EventsEmitted => "events_emitted",
            Counter::BytesEmitted => "bytes_emitted",
            Counter::ConnsOpened => "conns_opened",
            Counter::ConnsClosed => "conns_closed",
            Counter::InFlightAtStartBytes => "in_flight_at_start_bytes",
            Counter::TlsUnattributedBytes => "tls_unattributed_bytes",
            Counter::TlsCiphertextBytes => "tls_ciphertext_bytes",
            Counter::TlsCallTableFull => "tls_call_table_full",
            Counter::TlsCaptureStateFull => "tls_capture_state_full",
            Counter::ProcEventsLost => "proc_events_lost",
        }
    }
}
