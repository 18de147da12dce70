//! Turns stream events into output events: wall-clock timestamps, addresses as strings,
//! payloads as base64 with a printable preview.

use base64::{Engine, engine::general_purpose::STANDARD};

use super::event::{ConnClose, ConnOpen, Connection, Data, Endpoint, Gap, OutputEvent, Process};
use crate::{
    clock::{Clock, rfc3339},
    conn::{ConnMeta, StreamEvent},
};

pub struct Renderer {
    clock: Clock,
    preview_bytes: usize,
}

impl Renderer {
    pub fn new(clock: Clock, preview_bytes: usize) -> Self {
        Self {
            clock,
            preview_bytes,
        }
    }

    pub fn render(&self, event: &StreamEvent) -> OutputEvent {
        match event {
            StreamEvent::Open { meta, ts_ns } => {
                let (ts, ts_unix_ns) = self.time(*ts_ns);
                OutputEvent::ConnOpen(ConnOpen {
                    ts,
                    ts_unix_ns,
                    connection: connection(meta),
                    process: owner(meta),
                    fd: meta.fd,
                    cgroup_id: meta.cgroup_id,
                })
            }
            StreamEvent::Data {
                meta,
                direction,
                offset,
                ts_ns,
                origin,
                bytes,
            } => {
                let (ts, ts_unix_ns) = self.time(*ts_ns);
                OutputEvent::Data(Data {
                    ts,
                    ts_unix_ns,
                    connection: connection(meta),
                    process: Process {
                        pid: origin.pid,
                        tid: Some(origin.tid),
                        comm: origin.comm.to_string(),
                    },
                    fd: meta.fd,
                    syscall: origin.syscall.name(),
                    direction: *direction,
                    offset: *offset,
                    len: bytes.len(),
                    payload_b64: STANDARD.encode(bytes),
                    preview: preview(&bytes[..bytes.len().min(self.preview_bytes)]),
                })
            }
            StreamEvent::Gap {
                meta,
                direction,
                offset,
                len,
                cause,
                ts_ns,
            } => {
                let (ts, ts_unix_ns) = self.time(*ts_ns);
                OutputEvent::Gap(Gap {
                    ts,
                    ts_unix_ns,
                    connection: connection(meta),
                    direction: *direction,
                    offset: *offset,
                    len: *len,
                    cause: *cause,
                })
            }
            StreamEvent::Close {
                meta,
                ts_ns,
                reason,
                egress,
                ingress,
            } => {
                let (ts, ts_unix_ns) = self.time(*ts_ns);
                OutputEvent::ConnClose(ConnClose {
                    ts,
                    ts_unix_ns,
                    connection: connection(meta),
                    process: owner(meta),
                    reason: *reason,
                    egress: *egress,
                    ingress: *ingress,
                })
            }
        }
    }

    fn time(&self, monotonic_ns: u64) -> (String, u64) {
        let unix = self.clock.unix_ns(monotonic_ns);
        (rfc3339(unix), unix)
    }
}

pub fn connection(meta: &ConnMeta) -> Connection {
    let ep = meta.endpoints;
    Connection {
        id: format!("{:x}", meta.id),
        local: ep.map(|e| Endpoint {
            address: e.local.ip().to_string(),
            port: e.local.port(),
        }),
        peer: ep.map(|e| Endpoint {
            address: e.remote.ip().to_string(),
            port: e.remote.port(),
        }),
        network_type: ep.map(|e| if e.local.is_ipv4() { "ipv4" } else { "ipv6" }),
        role: meta.role,
        attribution: meta.attribution,
        tls: meta.tls_library.is_some(),
        tls_library: meta.tls_library,
    }
}

pub fn owner(meta: &ConnMeta) -> Process {
    Process {
        pid: meta.pid,
        tid: None,
        comm: meta.comm.clone(),
    }
}

/// Printable ASCII (and \t \r \n) kept; other bytes shown as '.'.
pub fn preview(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'\t' | b'\r' | b'\n' | 0x20..=0x7e => b as char,
            _ => '.',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_masks_binary() {
        assert_eq!(preview(b"GET /\r\n\x00\xff"), "GET /\r\n..");
    }
}
