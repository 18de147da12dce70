//! The JSON lines the monitor writes: one serde enum, tagged by `type`.

use std::collections::BTreeMap;

use monitor_common::event::Syscall;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

use crate::conn::{
    CloseReason, Direction, GapCause, Role, StreamCounters, model::Attribution,
    model::DirectionTotals,
};
use crate::http1::HttpCounters;

/// One line of output; `type` says which event it is.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputEvent {
    /// One HTTP transaction: a request and its response.
    // Written through `HttpRenderer::write` (the event borrows the transaction); listed here so
    // the enum (and the schema derived from it) describes every line type.
    Http(Box<super::http::HttpEvent<'static>>),
    /// `--raw`: a connection was first seen.
    ConnOpen(ConnOpen),
    /// `--raw`: bytes one syscall moved on a connection.
    Data(Data),
    /// `--raw`: a range of a stream whose bytes were not captured.
    Gap(Gap),
    /// `--raw`: a connection ended.
    ConnClose(ConnClose),
    /// An endpoint was discovered, or its path template changed.
    Endpoint(super::insight::EndpointEvent),
    /// A session's summary: when it ends, and periodically while it lasts.
    Session(super::insight::SessionEvent),
    /// Abuse or an attack by one actor: raised, grown, ended.
    Alert(Box<super::alert::AlertEvent>),
    /// An enforcement decision: made, refused, lifted, expired, or a connection it reset.
    Block(Box<super::block::BlockEvent>),
    /// Counters, every `--stats-interval` seconds and once at the end.
    Stats(Stats),
}

/// An IP address and port.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Endpoint {
    /// IPv4 dotted or IPv6 text form.
    pub address: String,
    /// TCP port.
    pub port: u16,
}

/// A connection from the observed process's side.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Connection {
    /// Kernel connection id (hex); a reused fd number gets a new id.
    pub id: String,
    /// The observed process's address, when known.
    pub local: Option<Endpoint>,
    /// The other side's address, when known.
    pub peer: Option<Endpoint>,
    /// `ipv4` or `ipv6`, when the addresses are known.
    pub network_type: Option<&'static str>,
    pub role: Role,
    pub attribution: Attribution,
    /// Whether the bytes are TLS plaintext taken from a TLS library's hooks rather than the
    /// socket.
    pub tls: bool,
    /// The TLS library the plaintext came from (`openssl`, `boringssl`, `gnutls`, `go`), when
    /// `tls`.
    pub tls_library: Option<&'static str>,
}

/// The process that owned the connection, or (in `data` events) that made the syscall.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Process {
    /// Process (thread-group) id.
    pub pid: u32,
    /// Thread id; only in `data` events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    /// The kernel's short command name (at most 15 bytes).
    pub comm: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnOpen {
    /// RFC 3339, UTC, nanoseconds.
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    /// `ts` as nanoseconds since the Unix epoch.
    pub ts_unix_ns: u64,
    pub connection: Connection,
    pub process: Process,
    /// The socket's file descriptor in the owning process (-1 when unknown).
    pub fd: i32,
    /// The cgroup v2 id of the owning process.
    pub cgroup_id: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Data {
    /// RFC 3339, UTC, nanoseconds.
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    /// `ts` as nanoseconds since the Unix epoch.
    pub ts_unix_ns: u64,
    pub connection: Connection,
    pub process: Process,
    /// The socket's file descriptor in the owning process (-1 when unknown).
    pub fd: i32,
    /// The syscall that moved the bytes (`unknown_send`/`unknown_recv`: already running when
    /// the monitor attached).
    #[schemars(schema_with = "syscall_schema")]
    pub syscall: &'static str,
    pub direction: Direction,
    /// Offset of the first byte within this direction's stream.
    pub offset: u64,
    /// Payload bytes in this event.
    pub len: usize,
    /// The payload, base64 (standard alphabet, padded).
    pub payload_b64: String,
    /// The first bytes, printable ASCII kept, others shown as '.'.
    pub preview: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Gap {
    /// RFC 3339, UTC, nanoseconds.
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    /// `ts` as nanoseconds since the Unix epoch.
    pub ts_unix_ns: u64,
    pub connection: Connection,
    pub direction: Direction,
    /// Offset of the first missing byte within this direction's stream.
    pub offset: u64,
    /// Missing bytes.
    pub len: u64,
    pub cause: GapCause,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnClose {
    /// RFC 3339, UTC, nanoseconds.
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    /// `ts` as nanoseconds since the Unix epoch.
    pub ts_unix_ns: u64,
    pub connection: Connection,
    pub process: Process,
    pub reason: CloseReason,
    /// Totals of the bytes the observed process wrote.
    pub egress: DirectionTotals,
    /// Totals of the bytes the observed process read.
    pub ingress: DirectionTotals,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Stats {
    /// RFC 3339, UTC, nanoseconds.
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    /// `ts` as nanoseconds since the Unix epoch.
    pub ts_unix_ns: u64,
    /// Seconds since the monitor started.
    pub uptime_secs: f64,
    /// Whether this is the last stats event of the run.
    pub last: bool,
    /// Kernel-side counters by name (see README: loss accounting); a counter that could not be
    /// read is absent.
    pub kernel: BTreeMap<&'static str, u64>,
    pub agent: AgentStats,
    pub streams: StreamCounters,
    /// HTTP parsing counters (absent with `--raw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCounters>,
    /// HTTP/2 counters (present once some connection was HTTP/2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2: Option<Box<crate::http2::stage::Http2Counters>>,
    /// TLS coverage, as `monitor status` shows it (live capture only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tls::status::TlsCoverage>,
    /// Endpoint inventory counters (absent with `--raw` or `--no-discovery`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery: Option<crate::discovery::inventory::DiscoveryCounters>,
    /// Session counters (absent with `--raw` or `--no-discovery`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<crate::session::tracker::SessionCounters>,
    /// Detection counters (absent with `--raw`, `--no-discovery` or `--no-detection`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<Box<crate::detection::DetectionCounters>>,
    /// Enforcement counters (absent unless `--enforce dry-run|on`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<Box<crate::enforce::counters::EnforcementCounters>>,
}

/// What userspace read and wrote.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct AgentStats {
    /// Ring buffer records (or recording entries) read.
    pub records_read: u64,
    /// Records that failed to decode and were skipped.
    pub decode_errors: u64,
    /// JSON lines written, this stats event included.
    pub events_written: u64,
}

/// Every syscall name the kernel programs can report, listed from `Syscall` itself so the
/// schema cannot miss one.
fn syscall_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = (0..=u16::MAX)
        .filter_map(Syscall::from_u16)
        .map(Syscall::name)
        .collect();
    json_schema!({ "type": "string", "enum": names })
}
