//! Layouts of the records the kernel programs write into the ring buffer.
//!
//! Each record starts with a `u16` kind. A data record is a [`DataHeader`] followed by exactly
//! `captured_len` payload bytes; a close record is a [`CloseEvent`].

/// Name of the ring buffer map.
pub const EVENTS_MAP: &str = "EVENTS";

pub const KIND_DATA: u16 = 1;
pub const KIND_CLOSE: u16 = 2;
/// A connection seen carrying TLS records that no TLS hook has explained: a [`TlsSeenEvent`].
pub const KIND_TLS_SEEN: u16 = 3;

/// The bytes were written by this process (egress); otherwise read by it (ingress).
pub const FLAG_EGRESS: u32 = 1 << 0;
/// This process opened the connection (connect / SYN_SENT).
pub const FLAG_ROLE_CLIENT: u32 = 1 << 1;
/// This process accepted the connection (accept / SYN_RECV).
pub const FLAG_ROLE_SERVER: u32 = 1 << 2;
/// `tuple` holds the connection's addresses, as learnt from `sock:inet_sock_set_state`.
pub const FLAG_TUPLE_KNOWN: u32 = 1 << 3;
/// The bytes of this call never passed through a user buffer (sendfile): none are captured.
pub const FLAG_UNCAPTURABLE: u32 = 1 << 4;
/// The call moved more than the per-call cap: `uncaptured_len` bytes follow uncopied.
pub const FLAG_TRUNCATED: u32 = 1 << 5;
/// The capture loop ran out of steps (many tiny iovecs): `uncaptured_len` bytes follow uncopied.
pub const FLAG_STEPS_EXHAUSTED: u32 = 1 << 6;
/// The syscall was already running when the monitor attached: its buffer is unknown, so its
/// `uncaptured_len` bytes are only counted.
pub const FLAG_IN_FLIGHT: u32 = 1 << 7;
/// The payload is TLS plaintext from a TLS library hook (`DataHeader::library` names it), not
/// what the socket carried.
pub const FLAG_TLS: u32 = 1 << 8;

/// TLS library behind plaintext (`DataHeader::library`, `TlsSeenEvent::library`, uprobe cookie).
pub const LIB_NONE: u32 = 0;
pub const LIB_OPENSSL: u32 = 1;
pub const LIB_BORINGSSL: u32 = 2;
pub const LIB_GNUTLS: u32 = 3;
pub const LIB_GO: u32 = 4;

/// Name of a `LIB_*` value in output (`connection.tls_library`).
pub const fn library_name(lib: u32) -> Option<&'static str> {
    match lib {
        LIB_OPENSSL => Some("openssl"),
        LIB_BORINGSSL => Some("boringssl"),
        LIB_GNUTLS => Some("gnutls"),
        LIB_GO => Some("go"),
        _ => None,
    }
}

pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// The syscall that moved the bytes (`DataHeader::syscall`).
#[repr(u16)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syscall {
    Read = 1,
    Write = 2,
    Readv = 3,
    Writev = 4,
    Sendto = 5,
    Recvfrom = 6,
    Sendmsg = 7,
    Recvmsg = 8,
    Sendmmsg = 9,
    Recvmmsg = 10,
    Sendfile = 11,
    /// A send already in progress when the monitor attached (arguments unknown).
    InFlightSend = 12,
    /// A receive already in progress when the monitor attached (arguments unknown).
    InFlightRecv = 13,
    /// Plaintext handed to a TLS library's write (SSL_write, gnutls_record_send, Go's Write).
    TlsWrite = 14,
    /// Plaintext returned by a TLS library's read.
    TlsRead = 15,
}

impl Syscall {
    pub const fn from_u16(v: u16) -> Option<Syscall> {
        Some(match v {
            1 => Syscall::Read,
            2 => Syscall::Write,
            3 => Syscall::Readv,
            4 => Syscall::Writev,
            5 => Syscall::Sendto,
            6 => Syscall::Recvfrom,
            7 => Syscall::Sendmsg,
            8 => Syscall::Recvmsg,
            9 => Syscall::Sendmmsg,
            10 => Syscall::Recvmmsg,
            11 => Syscall::Sendfile,
            12 => Syscall::InFlightSend,
            13 => Syscall::InFlightRecv,
            14 => Syscall::TlsWrite,
            15 => Syscall::TlsRead,
            _ => return None,
        })
    }

    pub const fn name(self) -> &'static str {
        match self {
            Syscall::Read => "read",
            Syscall::Write => "write",
            Syscall::Readv => "readv",
            Syscall::Writev => "writev",
            Syscall::Sendto => "sendto",
            Syscall::Recvfrom => "recvfrom",
            Syscall::Sendmsg => "sendmsg",
            Syscall::Recvmsg => "recvmsg",
            Syscall::Sendmmsg => "sendmmsg",
            Syscall::Recvmmsg => "recvmmsg",
            Syscall::Sendfile => "sendfile",
            Syscall::InFlightSend => "unknown_send",
            Syscall::InFlightRecv => "unknown_recv",
            Syscall::TlsWrite => "tls_write",
            Syscall::TlsRead => "tls_read",
        }
    }

    /// Whether the syscall sends (egress) rather than receives.
    pub const fn is_egress(self) -> bool {
        matches!(
            self,
            Syscall::Write
                | Syscall::Writev
                | Syscall::Sendto
                | Syscall::Sendmsg
                | Syscall::Sendmmsg
                | Syscall::Sendfile
                | Syscall::InFlightSend
                | Syscall::TlsWrite
        )
    }
}

/// A TCP connection's addresses from this process's point of view. IPv4 addresses use the first
/// four bytes of the address arrays. Ports are in host byte order.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Tuple {
    pub family: u16,
    pub lport: u16,
    pub rport: u16,
    pub _pad: u16,
    pub laddr: [u8; 16],
    pub raddr: [u8; 16],
}

/// Header of one data record; `captured_len` payload bytes follow it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DataHeader {
    pub kind: u16,
    pub syscall: u16,
    pub flags: u32,
    /// CLOCK_MONOTONIC (bpf_ktime_get_ns) at syscall exit.
    pub ts_ns: u64,
    /// Changes whenever a new socket is seen, so a reused fd number gets a new id.
    pub conn_id: u64,
    /// Offset of the first payload byte within this direction's byte stream.
    pub offset: u64,
    /// Bytes of this direction lost so far before reaching userspace (ring buffer full, unreadable
    /// user memory), cumulative. Lets userspace tell a permanent gap from a late record.
    pub lost_total: u64,
    pub pid: u32,
    pub tid: u32,
    pub fd: i32,
    pub captured_len: u32,
    /// Bytes of this direction right after this chunk that the call moved but that were not
    /// captured (per-call cap, sendfile). Only the last chunk of a call carries it.
    pub uncaptured_len: u32,
    /// `LIB_*`: the TLS library whose hook captured this plaintext (with `FLAG_TLS`), else 0.
    pub library: u32,
    pub cgroup_id: u64,
    pub comm: [u8; 16],
    pub tuple: Tuple,
}

pub const DATA_HEADER_LEN: usize = core::mem::size_of::<DataHeader>();

/// Emitted when the kernel destroys a tracked TCP socket (`tcp:tcp_destroy_sock`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CloseEvent {
    pub kind: u16,
    pub _pad: u16,
    pub flags: u32,
    pub ts_ns: u64,
    pub conn_id: u64,
    /// Final stream lengths seen by the kernel programs, per direction.
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    /// Final lost byte counts, per direction (see `DataHeader::lost_total`).
    pub tx_lost: u64,
    pub rx_lost: u64,
    pub tuple: Tuple,
}

pub const CLOSE_EVENT_LEN: usize = core::mem::size_of::<CloseEvent>();

/// Emitted once per connection whose bytes look like TLS records (handshake or application
/// data) while no TLS hook ran in the thread: TLS traffic the monitor does not see inside.
/// Its ciphertext is counted, never parsed as plaintext.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TlsSeenEvent {
    pub kind: u16,
    pub _pad: u16,
    /// FLAG_EGRESS (the direction first seen), FLAG_ROLE_*, FLAG_TUPLE_KNOWN.
    pub flags: u32,
    pub ts_ns: u64,
    pub conn_id: u64,
    pub pid: u32,
    pub tid: u32,
    pub cgroup_id: u64,
    pub comm: [u8; 16],
    pub tuple: Tuple,
}

pub const TLS_SEEN_EVENT_LEN: usize = core::mem::size_of::<TlsSeenEvent>();

const _: () = assert!(DATA_HEADER_LEN == 128);
const _: () = assert!(CLOSE_EVENT_LEN == 96);
const _: () = assert!(TLS_SEEN_EVENT_LEN == 96);

/// The small ring buffer telling the agent that a process may have new code to hook: it
/// exec'd, or mapped a file executable (a library loaded at start or by dlopen).
pub const PROC_EVENTS_MAP: &str = "PROC_EVENTS";
pub const PROC_EXEC: u32 = 1;
pub const PROC_MMAP_EXEC: u32 = 2;

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcEvent {
    /// `PROC_*`.
    pub kind: u32,
    pub pid: u32,
}

pub const PROC_EVENT_LEN: usize = core::mem::size_of::<ProcEvent>();
const _: () = assert!(PROC_EVENT_LEN == 8);
