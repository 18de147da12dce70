//! Values the connections stage hands to the next stages.

use std::sync::Arc;

use bytes::Bytes;
use monitor_common::event::Syscall;
use schemars::JsonSchema;
use serde::Serialize;

use crate::capture::Endpoints;

/// Which way the bytes went, from the observed process's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Written by the observed process.
    Egress,
    /// Read by the observed process.
    Ingress,
}

impl Direction {
    pub const fn index(self) -> usize {
        match self {
            Direction::Egress => 0,
            Direction::Ingress => 1,
        }
    }
}

/// The observed process's side of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// It connected.
    Client,
    /// It accepted.
    Server,
    /// The handshake was not seen and /proc did not tell.
    Unknown,
}

/// Where a connection's addresses and role came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// The kernel programs saw the handshake (sock:inet_sock_set_state).
    Kernel,
    /// Looked up in /proc/PID/fd and /proc/PID/net/tcp{,6} (connection older than the monitor).
    Proc,
    /// Neither worked (the process or socket was gone by the time we looked).
    Unresolved,
}

/// A tracked connection as first seen: the process that owned it and its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnMeta {
    pub id: u64,
    pub pid: u32,
    pub comm: String,
    pub fd: i32,
    pub cgroup_id: u64,
    pub endpoints: Option<Endpoints>,
    pub role: Role,
    pub attribution: Attribution,
    /// The TLS library whose hooks give this connection's plaintext; `None`: not TLS (or TLS
    /// the monitor does not see inside, whose bytes never reach here).
    pub tls_library: Option<&'static str>,
}

/// Who moved a chunk's bytes (several processes can share one socket after fork).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub pid: u32,
    pub tid: u32,
    pub comm: Arc<str>,
    pub syscall: Syscall,
}

/// Why a range of a stream has no bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GapCause {
    /// Beyond the per-call capture cap.
    Truncated,
    /// The kernel capture loop ran out of steps (a call with very many buffers).
    StepsExhausted,
    /// Sent with sendfile: the bytes never pass through user memory.
    Uncapturable,
    /// Moved by a syscall that was already running when the monitor attached.
    InFlightAtStart,
    /// Dropped in the kernel (ring buffer full or unreadable user memory), as its counters confirm.
    Lost,
    /// Late bytes overflowed the reorder window.
    ReorderOverflow,
    /// Late bytes did not arrive within the reorder timeout.
    ReorderTimeout,
    /// At close, the kernel reported more bytes than arrived, with no loss counted for them.
    Unaccounted,
}

impl GapCause {
    pub const ALL: [GapCause; 8] = [
        GapCause::Truncated,
        GapCause::StepsExhausted,
        GapCause::Uncapturable,
        GapCause::InFlightAtStart,
        GapCause::Lost,
        GapCause::ReorderOverflow,
        GapCause::ReorderTimeout,
        GapCause::Unaccounted,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            GapCause::Truncated => "truncated",
            GapCause::StepsExhausted => "steps_exhausted",
            GapCause::Uncapturable => "uncapturable",
            GapCause::InFlightAtStart => "in_flight_at_start",
            GapCause::Lost => "lost",
            GapCause::ReorderOverflow => "reorder_overflow",
            GapCause::ReorderTimeout => "reorder_timeout",
            GapCause::Unaccounted => "unaccounted",
        }
    }
}

/// Why the monitor stopped following a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The kernel destroyed the socket.
    Closed,
    /// No events for the idle timeout.
    Idle,
    /// Evicted to stay within the connection cap.
    Evicted,
    /// The monitor stopped.
    Shutdown,
}

/// Per-direction totals at close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct DirectionTotals {
    /// Stream length reached (bytes delivered plus gaps).
    pub bytes: u64,
    /// Bytes of this stream delivered as gaps (not captured).
    pub gap_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    Open {
        meta: Arc<ConnMeta>,
        ts_ns: u64,
    },
    Data {
        meta: Arc<ConnMeta>,
        direction: Direction,
        offset: u64,
        ts_ns: u64,
        origin: Origin,
        bytes: Bytes,
    },
    Gap {
        meta: Arc<ConnMeta>,
        direction: Direction,
        offset: u64,
        len: u64,
        cause: GapCause,
        ts_ns: u64,
    },
    Close {
        meta: Arc<ConnMeta>,
        ts_ns: u64,
        reason: CloseReason,
        egress: DirectionTotals,
        ingress: DirectionTotals,
    },
}

impl StreamEvent {
    pub fn ts_ns(&self) -> u64 {
        match self {
            StreamEvent::Open { ts_ns, .. }
            | StreamEvent::Data { ts_ns, .. }
            | StreamEvent::Gap { ts_ns, .. }
            | StreamEvent::Close { ts_ns, .. } => *ts_ns,
        }
    }

    pub fn set_meta(&mut self, new: Arc<ConnMeta>) {
        match self {
            StreamEvent::Open { meta, .. }
            | StreamEvent::Data { meta, .. }
            | StreamEvent::Gap { meta, .. }
            | StreamEvent::Close { meta, .. } => *meta = new,
        }
    }
}
