//! The JSON lines the monitor writes: one serde enum, tagged by `type`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::conn::{
    CloseReason, Direction, GapCause, Role, StreamCounters, model::Attribution,
    model::DirectionTotals,
};
use crate::http1::HttpCounters;

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputEvent {
    /// Written through `HttpRenderer::write` (the event borrows the transaction); listed here
    /// so the enum describes every line type.
    Http(Box<super::http::HttpEvent<'static>>),
    ConnOpen(ConnOpen),
    Data(Data),
    Gap(Gap),
    ConnClose(ConnClose),
    Stats(Stats),
}

#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub address: String,
    pub port: u16,
}

/// A connection from the observed process's side.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    /// Kernel connection id (hex); a reused fd number gets a new id.
    pub id: String,
    pub local: Option<Endpoint>,
    pub peer: Option<Endpoint>,
    /// `ipv4` or `ipv6`, when the addresses are known.
    pub network_type: Option<&'static str>,
    pub role: Role,
    pub attribution: Attribution,
}

#[derive(Debug, Clone, Serialize)]
pub struct Process {
    pub pid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    pub comm: String,
}

#[derive(Debug, Serialize)]
pub struct ConnOpen {
    pub ts: String,
    pub ts_unix_ns: u64,
    pub connection: Connection,
    pub process: Process,
    pub fd: i32,
    pub cgroup_id: u64,
}

#[derive(Debug, Serialize)]
pub struct Data {
    pub ts: String,
    pub ts_unix_ns: u64,
    pub connection: Connection,
    pub process: Process,
    pub fd: i32,
    pub syscall: &'static str,
    pub direction: Direction,
    /// Offset of the first byte within this direction's stream.
    pub offset: u64,
    pub len: usize,
    pub payload_b64: String,
    /// The first bytes, printable ASCII kept, others shown as '.'.
    pub preview: String,
}

#[derive(Debug, Serialize)]
pub struct Gap {
    pub ts: String,
    pub ts_unix_ns: u64,
    pub connection: Connection,
    pub direction: Direction,
    pub offset: u64,
    pub len: u64,
    pub cause: GapCause,
}

#[derive(Debug, Serialize)]
pub struct ConnClose {
    pub ts: String,
    pub ts_unix_ns: u64,
    pub connection: Connection,
    pub process: Process,
    pub reason: CloseReason,
    pub egress: DirectionTotals,
    pub ingress: DirectionTotals,
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub ts: String,
    pub ts_unix_ns: u64,
    pub uptime_secs: f64,
    /// Whether this is the last stats event of the run.
    pub last: bool,
    /// Kernel-side counters (see README: loss accounting).
    pub kernel: BTreeMap<&'static str, u64>,
    pub agent: AgentStats,
    pub streams: StreamCounters,
    /// HTTP parsing counters (absent with `--raw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCounters>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AgentStats {
    pub records_read: u64,
    pub decode_errors: u64,
    pub events_written: u64,
}
