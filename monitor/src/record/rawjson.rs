//! Replay input #2: the JSON lines of `monitor run --raw`, turned back into the stream events
//! the connection table emitted, so later stages can be replayed from a plain capture.

use std::{
    borrow::Cow,
    io::{self, BufRead, Read},
    net::{IpAddr, SocketAddr},
    num::NonZeroUsize,
    sync::Arc,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use lru::LruCache;
use monitor_common::event::Syscall;
use serde::Deserialize;

use crate::{
    capture::Endpoints,
    conn::{
        CloseReason, ConnMeta, Direction, GapCause, Role, StreamEvent,
        model::{Attribution, DirectionTotals, Origin},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum RawJsonError {
    #[error("line {line} is not JSON: {detail}")]
    NotJson { line: u64, detail: String },
    #[error("line {line} misses the field `{field}`")]
    MissingField { line: u64, field: &'static str },
    #[error("line {line} has the unknown type `{kind}`")]
    UnknownType { line: u64, kind: String },
    #[error("line {line} has an invalid `{field}`: {detail}")]
    BadField {
        line: u64,
        field: &'static str,
        detail: String,
    },
    #[error("line {line} has a field of the wrong type: {detail}")]
    WrongType { line: u64, detail: String },
    #[error("line {line} is longer than {max} bytes")]
    LineTooLong { line: u64, max: usize },
    #[error("cannot read line {line}: {source}")]
    Io { line: u64, source: io::Error },
}

/// The longest line read: a data line holds one chunk (≤ 16 KiB, ~22 KiB as base64), so this
/// only stops a file that is not JSON lines from filling memory.
pub const MAX_LINE_BYTES: usize = 64 << 20;
/// Connections remembered between their events; beyond it the least recent is forgotten (its
/// later events rebuild their metadata from their own fields).
const MAX_CONNECTIONS: usize = 1 << 20;

/// Reads `--raw` JSON lines and yields the stream events they were rendered from. Timestamps
/// are the lines' `ts_unix_ns`: render them with `Clock::fixed(0)` to print the same times.
/// After an error the reader goes on with the next line; callers usually stop.
pub struct RawJsonReader<R: BufRead> {
    input: R,
    line: u64,
    buf: Vec<u8>,
    max_line: usize,
    /// Each connection's metadata, shared by its events as the connection table shares it.
    conns: LruCache<u64, Arc<ConnMeta>>,
}

impl<R: BufRead> RawJsonReader<R> {
    pub fn new(input: R) -> Self {
        Self::with_max_line(input, MAX_LINE_BYTES)
    }

    pub fn with_max_line(input: R, max_line: usize) -> Self {
        let cap = NonZeroUsize::new(MAX_CONNECTIONS).unwrap_or(NonZeroUsize::MIN);
        Self {
            input,
            line: 0,
            buf: Vec::new(),
            max_line,
            conns: LruCache::new(cap),
        }
    }

    /// The next stream event; `stats` and blank lines are skipped; `None` at the end.
    #[allow(clippy::should_implement_trait)] // fallible: Iterator would bury the line numbers
    pub fn next(&mut self) -> Result<Option<StreamEvent>, RawJsonError> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = self.line;
            let parsed: Line<'_> = serde_json::from_slice(&self.buf).map_err(|e| {
                if e.is_data() {
                    RawJsonError::WrongType {
                        line,
                        detail: e.to_string(),
                    }
                } else {
                    RawJsonError::NotJson {
                        line,
                        detail: e.to_string(),
                    }
                }
            })?;
            if let Some(event) = event(parsed, line, &mut self.conns)? {
                return Ok(Some(event));
            }
        }
    }

    /// One line into `buf`, at most `max_line` bytes plus its newline; false at the end.
    fn read_line(&mut self) -> Result<bool, RawJsonError> {
        self.buf.clear();
        self.line += 1;
        let limit = self.max_line as u64 + 1;
        let n = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| RawJsonError::Io {
                line: self.line,
                source,
            })?;
        if n as u64 == limit && self.buf.last() != Some(&b'\n') {
            self.skip_rest_of_line()?;
            return Err(RawJsonError::LineTooLong {
                line: self.line,
                max: self.max_line,
            });
        }
        Ok(n > 0)
    }

    /// Discards up to the next newline without holding it, so the next call starts on the
    /// next line.
    fn skip_rest_of_line(&mut self) -> Result<(), RawJsonError> {
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(RawJsonError::Io {
                        line: self.line,
                        source,
                    });
                }
            };
            if chunk.is_empty() {
                return Ok(());
            }
            let (used, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            self.input.consume(used);
            if done {
                return Ok(());
            }
        }
    }
}

/// Every field any line type has, optional so a missing one is named with its path.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    ts_unix_ns: Option<u64>,
    connection: Option<ConnectionJson>,
    process: Option<ProcessJson>,
    fd: Option<i32>,
    cgroup_id: Option<u64>,
    syscall: Option<String>,
    direction: Option<String>,
    offset: Option<u64>,
    len: Option<u64>,
    /// Borrowed: the one large field.
    #[serde(borrow)]
    payload_b64: Option<Cow<'a, str>>,
    cause: Option<String>,
    reason: Option<String>,
    egress: Option<TotalsJson>,
    ingress: Option<TotalsJson>,
}

#[derive(Deserialize)]
struct ConnectionJson {
    id: Option<String>,
    local: Option<EndpointJson>,
    peer: Option<EndpointJson>,
    role: Option<String>,
    attribution: Option<String>,
    /// Absent in files written before TLS capture existed: not TLS.
    tls_library: Option<String>,
}

#[derive(Deserialize)]
struct EndpointJson {
    address: Option<String>,
    port: Option<u16>,
}

#[derive(Deserialize)]
struct ProcessJson {
    pid: Option<u32>,
    tid: Option<u32>,
    comm: Option<String>,
}

#[derive(Deserialize)]
struct TotalsJson {
    bytes: Option<u64>,
    gap_bytes: Option<u64>,
}

fn need<T>(v: Option<T>, line: u64, field: &'static str) -> Result<T, RawJsonError> {
    v.ok_or(RawJsonError::MissingField { line, field })
}

fn bad(line: u64, field: &'static str, detail: impl Into<String>) -> RawJsonError {
    RawJsonError::BadField {
        line,
        field,
        detail: detail.into(),
    }
}

/// The connection as this line shows it: id, addresses, role, attribution.
struct Shown {
    id: u64,
    endpoints: Option<Endpoints>,
    role: Role,
    attribution: Attribution,
    tls_library: Option<&'static str>,
}

fn event(
    l: Line<'_>,
    line: u64,
    conns: &mut LruCache<u64, Arc<ConnMeta>>,
) -> Result<Option<StreamEvent>, RawJsonError> {
    let kind = need(l.kind, line, "type")?;
    if kind == "stats" {
        return Ok(None);
    }
    if !matches!(kind.as_str(), "conn_open" | "data" | "gap" | "conn_close") {
        return Err(RawJsonError::UnknownType { line, kind });
    }
    let ts_ns = need(l.ts_unix_ns, line, "ts_unix_ns")?;
    let shown = connection(need(l.connection, line, "connection")?, line)?;
    let id = shown.id;
    let known = conns.get(&id).cloned();
    let event = match kind.as_str() {
        "conn_open" => {
            let p = need(l.process, line, "process")?;
            let meta = Arc::new(ConnMeta {
                id,
                pid: need(p.pid, line, "process.pid")?,
                comm: need(p.comm, line, "process.comm")?,
                fd: need(l.fd, line, "fd")?,
                cgroup_id: need(l.cgroup_id, line, "cgroup_id")?,
                endpoints: shown.endpoints,
                role: shown.role,
                attribution: shown.attribution,
                tls_library: shown.tls_library,
            });
            conns.put(id, meta.clone());
            StreamEvent::Open { meta, ts_ns }
        }
        "data" => {
            let p = need(l.process, line, "process")?;
            let origin = Origin {
                pid: need(p.pid, line, "process.pid")?,
                tid: need(p.tid, line, "process.tid")?,
                comm: need(p.comm, line, "process.comm")?.into(),
                syscall: syscall_from_name(&need(l.syscall, line, "syscall")?)
                    .ok_or_else(|| bad(line, "syscall", "not a syscall this monitor names"))?,
            };
            let fd = need(l.fd, line, "fd")?;
            let b64 = need(l.payload_b64, line, "payload_b64")?;
            let bytes = STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| bad(line, "payload_b64", e.to_string()))?;
            let len = need(l.len, line, "len")?;
            if len != bytes.len() as u64 {
                return Err(bad(
                    line,
                    "len",
                    format!("{len} differs from the payload's {} bytes", bytes.len()),
                ));
            }
            let mut m = known.as_deref().cloned().unwrap_or_else(|| ConnMeta {
                // A file cut before conn_open: the chunk's mover stands for the owner.
                id,
                pid: origin.pid,
                comm: origin.comm.to_string(),
                fd,
                cgroup_id: 0,
                endpoints: None,
                role: Role::Unknown,
                attribution: Attribution::Unresolved,
                tls_library: None,
            });
            // As the connection table does: a connection first seen without an fd (a syscall
            // in flight at start) belongs to the process that later shows it.
            if m.fd < 0 && fd >= 0 {
                m.pid = origin.pid;
            }
            m.fd = fd;
            StreamEvent::Data {
                meta: shared(m, &shown, known, conns),
                direction: direction(&need(l.direction, line, "direction")?, line)?,
                offset: need(l.offset, line, "offset")?,
                ts_ns,
                origin,
                bytes: Bytes::from(bytes),
            }
        }
        "gap" => {
            let cause = need(l.cause, line, "cause")?;
            let cause = GapCause::ALL
                .into_iter()
                .find(|c| c.name() == cause)
                .ok_or_else(|| bad(line, "cause", format!("unknown cause `{cause}`")))?;
            let m = known
                .as_deref()
                .cloned()
                .unwrap_or_else(|| unknown_owner(id));
            StreamEvent::Gap {
                meta: shared(m, &shown, known, conns),
                direction: direction(&need(l.direction, line, "direction")?, line)?,
                offset: need(l.offset, line, "offset")?,
                len: need(l.len, line, "len")?,
                cause,
                ts_ns,
            }
        }
        _ => {
            let p = need(l.process, line, "process")?;
            let mut m = known
                .as_deref()
                .cloned()
                .unwrap_or_else(|| unknown_owner(id));
            m.pid = need(p.pid, line, "process.pid")?;
            m.comm = need(p.comm, line, "process.comm")?;
            let reason = match need(l.reason, line, "reason")?.as_str() {
                "closed" => CloseReason::Closed,
                "idle" => CloseReason::Idle,
                "evicted" => CloseReason::Evicted,
                "shutdown" => CloseReason::Shutdown,
                other => return Err(bad(line, "reason", format!("unknown reason `{other}`"))),
            };
            let meta = shared(m, &shown, known, conns);
            // Closed: its id is not seen again (the kernel gives a reused fd a new one).
            conns.pop(&id);
            StreamEvent::Close {
                meta,
                ts_ns,
                reason,
                egress: totals(
                    need(l.egress, line, "egress")?,
                    line,
                    ["egress.bytes", "egress.gap_bytes"],
                )?,
                ingress: totals(
                    need(l.ingress, line, "ingress")?,
                    line,
                    ["ingress.bytes", "ingress.gap_bytes"],
                )?,
            }
        }
    };
    Ok(Some(event))
}

/// Metadata for a gap or close of a connection this file never opened.
fn unknown_owner(id: u64) -> ConnMeta {
    ConnMeta {
        id,
        pid: 0,
        comm: String::new(),
        fd: -1,
        cgroup_id: 0,
        endpoints: None,
        role: Role::Unknown,
        attribution: Attribution::Unresolved,
        tls_library: None,
    }
}

/// `m` updated with what this line shows; the connection's existing `Arc` when nothing
/// changed, so events share their metadata as they did live.
fn shared(
    mut m: ConnMeta,
    shown: &Shown,
    known: Option<Arc<ConnMeta>>,
    conns: &mut LruCache<u64, Arc<ConnMeta>>,
) -> Arc<ConnMeta> {
    m.endpoints = shown.endpoints;
    m.role = shown.role;
    m.attribution = shown.attribution;
    m.tls_library = shown.tls_library;
    match known {
        Some(k) if *k == m => k,
        _ => {
            let meta = Arc::new(m);
            conns.put(shown.id, meta.clone());
            meta
        }
    }
}

fn connection(c: ConnectionJson, line: u64) -> Result<Shown, RawJsonError> {
    let id = need(c.id, line, "connection.id")?;
    let id = u64::from_str_radix(&id, 16)
        .map_err(|_| bad(line, "connection.id", format!("`{id}` is not a hex number")))?;
    let endpoints = match (c.local, c.peer) {
        (None, None) => None,
        (Some(local), Some(peer)) => Some(Endpoints {
            local: endpoint(
                local,
                line,
                ["connection.local.address", "connection.local.port"],
            )?,
            remote: endpoint(
                peer,
                line,
                ["connection.peer.address", "connection.peer.port"],
            )?,
        }),
        _ => {
            return Err(bad(
                line,
                "connection.peer",
                "local and peer must both be addresses or both be null",
            ));
        }
    };
    let role = match need(c.role, line, "connection.role")?.as_str() {
        "client" => Role::Client,
        "server" => Role::Server,
        "unknown" => Role::Unknown,
        other => {
            return Err(bad(
                line,
                "connection.role",
                format!("unknown role `{other}`"),
            ));
        }
    };
    let attribution = match need(c.attribution, line, "connection.attribution")?.as_str() {
        "kernel" => Attribution::Kernel,
        "proc" => Attribution::Proc,
        "unresolved" => Attribution::Unresolved,
        other => {
            return Err(bad(
                line,
                "connection.attribution",
                format!("unknown attribution `{other}`"),
            ));
        }
    };
    let tls_library = match c.tls_library.as_deref() {
        None => None,
        Some(name) => Some(
            ["openssl", "boringssl", "gnutls", "go"]
                .into_iter()
                .find(|known| *known == name)
                .ok_or_else(|| {
                    bad(
                        line,
                        "connection.tls_library",
                        format!("unknown TLS library `{name}`"),
                    )
                })?,
        ),
    };
    Ok(Shown {
        id,
        endpoints,
        role,
        attribution,
        tls_library,
    })
}

/// `fields`: the paths of the address and the port, for errors.
fn endpoint(
    e: EndpointJson,
    line: u64,
    fields: [&'static str; 2],
) -> Result<SocketAddr, RawJsonError> {
    let address = need(e.address, line, fields[0])?;
    let ip: IpAddr = address
        .parse()
        .map_err(|_| bad(line, fields[0], format!("`{address}` is not an IP address")))?;
    Ok(SocketAddr::new(ip, need(e.port, line, fields[1])?))
}

fn direction(s: &str, line: u64) -> Result<Direction, RawJsonError> {
    match s {
        "egress" => Ok(Direction::Egress),
        "ingress" => Ok(Direction::Ingress),
        other => Err(bad(
            line,
            "direction",
            format!("unknown direction `{other}`"),
        )),
    }
}

fn totals(
    t: TotalsJson,
    line: u64,
    fields: [&'static str; 2],
) -> Result<DirectionTotals, RawJsonError> {
    Ok(DirectionTotals {
        bytes: need(t.bytes, line, fields[0])?,
        gap_bytes: need(t.gap_bytes, line, fields[1])?,
    })
}

/// The syscall a data line names (`Syscall::name`). Syscall ids are small and dense; 255
/// leaves room for every one the kernel side could add.
pub fn syscall_from_name(name: &str) -> Option<Syscall> {
    (1..=255u16)
        .filter_map(Syscall::from_u16)
        .find(|s| s.name() == name)
}

#[cfg(test)]
mod tests {
    use std::{
        collections::BTreeMap,
        net::{Ipv6Addr, SocketAddrV6},
    };

    use proptest::prelude::*;

    use super::*;
    use crate::{
        clock::Clock,
        conn::StreamCounters,
        export::{
            OutputEvent, Renderer,
            event::{AgentStats, Stats},
        },
    };

    fn render(events: &[StreamEvent]) -> String {
        let renderer = Renderer::new(Clock::fixed(0), 32);
        let mut out = String::new();
        for (i, ev) in events.iter().enumerate() {
            out += &serde_json::to_string(&renderer.render(ev)).unwrap();
            out += "\n";
            if i == 1 {
                // A stats line between events, as a live run writes them.
                let stats = OutputEvent::Stats(Stats {
                    ts: "2023-11-14T22:13:20Z".into(),
                    ts_unix_ns: 7,
                    uptime_secs: 1.5,
                    last: false,
                    kernel: BTreeMap::from([("events_emitted", 3)]),
                    agent: AgentStats::default(),
                    streams: StreamCounters::default(),
                    http: None,
                    http2: None,
                    tls: None,
                    discovery: None,
                    sessions: None,
                    detection: None,
                    enforcement: None,
                });
                out += &serde_json::to_string(&stats).unwrap();
                out += "\n\n";
            }
        }
        out
    }

    fn read(text: &str) -> Result<Vec<StreamEvent>, RawJsonError> {
        let mut r = RawJsonReader::new(text.as_bytes());
        let mut out = vec![];
        while let Some(ev) = r.next()? {
            out.push(ev);
        }
        Ok(out)
    }

    fn meta(id: u64, fd: i32, endpoints: Option<Endpoints>, role: Role) -> Arc<ConnMeta> {
        Arc::new(ConnMeta {
            id,
            pid: 100,
            comm: "curl \"x\"".into(),
            fd,
            cgroup_id: 77,
            endpoints,
            role,
            attribution: if endpoints.is_some() {
                Attribution::Kernel
            } else {
                Attribution::Unresolved
            },
            tls_library: None,
        })
    }

    fn data(meta: &Arc<ConnMeta>, pid: u32, syscall: Syscall, bytes: &[u8]) -> StreamEvent {
        StreamEvent::Data {
            meta: meta.clone(),
            direction: if syscall.is_egress() {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            offset: 10,
            ts_ns: 1_700_000_000_000_000_123,
            origin: Origin {
                pid,
                tid: pid + 1,
                comm: format!("p{pid}").into(),
                syscall,
            },
            bytes: Bytes::copy_from_slice(bytes),
        }
    }

    #[test]
    fn rendered_events_read_back_equal_and_share_their_metadata() {
        let ep = Endpoints {
            local: "127.0.0.1:40000".parse().unwrap(),
            remote: "127.0.0.1:8080".parse().unwrap(),
        };
        let a = meta(0x1a17fe83f8200, 5, Some(ep), Role::Client);
        // Opened by a syscall in flight at start: no fd, no addresses; both learnt later.
        let b0 = meta(0xb, -1, None, Role::Unknown);
        let mut b1 = (*b0).clone();
        b1.fd = 4;
        b1.pid = 300;
        let b1 = Arc::new(b1);
        let mut b2 = (*b1).clone();
        b2.endpoints = Some(Endpoints {
            local: "[::1]:443".parse().unwrap(),
            remote: "[2001:db8::7]:50000".parse().unwrap(),
        });
        b2.role = Role::Server;
        b2.attribution = Attribution::Proc;
        let b2 = Arc::new(b2);
        let events = vec![
            StreamEvent::Open {
                meta: a.clone(),
                ts_ns: 1,
            },
            data(&a, 100, Syscall::Write, b"GET / HTTP/1.1\r\n\r\n"),
            StreamEvent::Open {
                meta: b0.clone(),
                ts_ns: 2,
            },
            data(&a, 200, Syscall::Recvfrom, &[0, 255, 10, 13]),
            StreamEvent::Gap {
                meta: a.clone(),
                direction: Direction::Ingress,
                offset: 14,
                len: 1 << 40,
                cause: GapCause::Truncated,
                ts_ns: 3,
            },
            data(&b0, 300, Syscall::InFlightRecv, b""),
            data(&b1, 300, Syscall::Read, b"x"),
            StreamEvent::Gap {
                meta: b2.clone(),
                direction: Direction::Egress,
                offset: 0,
                len: 9,
                cause: GapCause::InFlightAtStart,
                ts_ns: 4,
            },
            StreamEvent::Close {
                meta: a.clone(),
                ts_ns: u64::MAX / 2,
                reason: CloseReason::Closed,
                egress: DirectionTotals {
                    bytes: 18,
                    gap_bytes: 0,
                },
                ingress: DirectionTotals {
                    bytes: 14 + (1 << 40),
                    gap_bytes: 1 << 40,
                },
            },
            StreamEvent::Close {
                meta: b2.clone(),
                ts_ns: 5,
                reason: CloseReason::Shutdown,
                egress: DirectionTotals::default(),
                ingress: DirectionTotals::default(),
            },
        ];
        let back = read(&render(&events)).unwrap();
        assert_eq!(back, events);
        let metas: Vec<&Arc<ConnMeta>> = back
            .iter()
            .map(|e| match e {
                StreamEvent::Open { meta, .. }
                | StreamEvent::Data { meta, .. }
                | StreamEvent::Gap { meta, .. }
                | StreamEvent::Close { meta, .. } => meta,
            })
            .collect();
        // Connection a: one Arc for all its events, as the connection table shares it.
        for i in [1, 3, 4, 8] {
            assert!(Arc::ptr_eq(metas[0], metas[i]), "event {i}");
        }
        // Connection b: a new Arc each time its metadata changed.
        assert!(Arc::ptr_eq(metas[2], metas[5]));
        assert!(!Arc::ptr_eq(metas[5], metas[6]));
        assert!(Arc::ptr_eq(metas[7], metas[9]));
    }

    #[test]
    fn events_of_connections_opened_before_the_file_build_their_metadata() {
        let a = meta(0xa, 5, None, Role::Unknown);
        let events = [
            data(&a, 100, Syscall::Write, b"hi"),
            StreamEvent::Gap {
                meta: meta(0xc, 1, None, Role::Unknown),
                direction: Direction::Egress,
                offset: 0,
                len: 1,
                cause: GapCause::Lost,
                ts_ns: 1,
            },
        ];
        let back = read(&render(&events)).unwrap();
        let StreamEvent::Data { meta, origin, .. } = &back[0] else {
            panic!("not data")
        };
        assert_eq!(
            (meta.pid, meta.comm.as_str(), meta.fd),
            (100, &*origin.comm, 5)
        );
        assert_eq!(meta.cgroup_id, 0);
        let StreamEvent::Gap { meta, .. } = &back[1] else {
            panic!("not a gap")
        };
        assert_eq!((meta.id, meta.pid, meta.fd), (0xc, 0, -1));
    }

    #[test]
    fn every_syscall_round_trips_by_name() {
        for id in 0..=u8::MAX as u16 {
            if let Some(s) = Syscall::from_u16(id) {
                assert_eq!(syscall_from_name(s.name()), Some(s));
            }
        }
        assert_eq!(syscall_from_name("ioctl"), None);
    }

    fn addr() -> impl Strategy<Value = SocketAddr> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(a, p)| SocketAddr::new(IpAddr::from(a), p)),
            (any::<[u8; 16]>(), any::<u16>()).prop_map(|(a, p)| SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a),
                p,
                0,
                0
            ))),
        ]
    }

    fn conn_meta(id: u64) -> impl Strategy<Value = Arc<ConnMeta>> {
        (
            any::<(u32, i32, u64)>(),
            ".{0,16}",
            proptest::option::of((addr(), addr())),
            prop_oneof![Just(Role::Client), Just(Role::Server), Just(Role::Unknown)],
            prop_oneof![
                Just(Attribution::Kernel),
                Just(Attribution::Proc),
                Just(Attribution::Unresolved)
            ],
        )
            .prop_map(move |((pid, fd, cgroup_id), comm, ep, role, attribution)| {
                Arc::new(ConnMeta {
                    id,
                    pid,
                    comm,
                    fd,
                    cgroup_id,
                    endpoints: ep.map(|(local, remote)| Endpoints { local, remote }),
                    role,
                    attribution,
                    tls_library: None,
                })
            })
    }

    /// One connection's life: open, data and gaps, close.
    fn connection(id: u64) -> impl Strategy<Value = Vec<StreamEvent>> {
        let step = (
            any::<(bool, bool, u64, u64, u32, u32)>(),
            (1u16..=13).prop_filter_map("syscall", Syscall::from_u16),
            ".{0,8}",
            proptest::collection::vec(any::<u8>(), 0..64),
            0..GapCause::ALL.len(),
        );
        (
            conn_meta(id),
            proptest::collection::vec(step, 0..6),
            any::<[u64; 4]>(),
            0..4usize,
        )
            .prop_map(move |(meta, steps, totals, reason)| {
                let mut out = vec![StreamEvent::Open {
                    meta: meta.clone(),
                    ts_ns: totals[0],
                }];
                for ((is_gap, egress, offset, ts_ns, pid, tid), syscall, comm, bytes, cause) in
                    steps
                {
                    let direction = if egress {
                        Direction::Egress
                    } else {
                        Direction::Ingress
                    };
                    out.push(if is_gap {
                        StreamEvent::Gap {
                            meta: meta.clone(),
                            direction,
                            offset,
                            len: bytes.len() as u64,
                            cause: GapCause::ALL[cause],
                            ts_ns,
                        }
                    } else {
                        StreamEvent::Data {
                            meta: meta.clone(),
                            direction,
                            offset,
                            ts_ns,
                            origin: Origin {
                                pid,
                                tid,
                                comm: comm.into(),
                                syscall,
                            },
                            bytes: Bytes::from(bytes),
                        }
                    });
                }
                out.push(StreamEvent::Close {
                    meta,
                    ts_ns: totals[1],
                    reason: [
                        CloseReason::Closed,
                        CloseReason::Idle,
                        CloseReason::Evicted,
                        CloseReason::Shutdown,
                    ][reason],
                    egress: DirectionTotals {
                        bytes: totals[2],
                        gap_bytes: totals[3],
                    },
                    ingress: DirectionTotals {
                        bytes: totals[3],
                        gap_bytes: totals[2],
                    },
                });
                out
            })
    }

    proptest! {
        #[test]
        fn any_rendered_connections_read_back_equal(
            a in connection(1),
            b in connection(u64::MAX),
        ) {
            // Interleaved, as concurrent connections are in a live capture.
            let mut events = vec![];
            let (mut a, mut b) = (a.into_iter(), b.into_iter());
            loop {
                match (a.next(), b.next()) {
                    (None, None) => break,
                    (x, y) => events.extend(x.into_iter().chain(y)),
                }
            }
            prop_assert_eq!(read(&render(&events)).unwrap(), events);
        }
    }

    const OPEN: &str = r#"{"type":"conn_open","ts_unix_ns":1,"connection":{"id":"a","local":null,"peer":null,"role":"client","attribution":"unresolved"},"process":{"pid":1,"comm":"c"},"fd":3,"cgroup_id":0}"#;

    fn first_error(text: &str) -> RawJsonError {
        match read(text) {
            Err(e) => e,
            Ok(events) => panic!("no error: {events:?}"),
        }
    }

    #[test]
    fn malformed_lines_name_their_line_and_field() {
        let e = first_error(&format!("{OPEN}\n\nnot json\n"));
        assert!(matches!(e, RawJsonError::NotJson { line: 3, .. }), "{e}");
        assert!(e.to_string().starts_with("line 3 is not JSON: "), "{e}");

        let e = first_error(&format!("{OPEN}\n{{\"type\":\"bogus\"}}\n"));
        assert_eq!(e.to_string(), "line 2 has the unknown type `bogus`");

        let e = first_error("{\"ts_unix_ns\":1}\n");
        assert_eq!(e.to_string(), "line 1 misses the field `type`");

        let e = first_error(&OPEN.replace(r#""id":"a","#, ""));
        assert_eq!(e.to_string(), "line 1 misses the field `connection.id`");

        let e = first_error(&OPEN.replace(r#""fd":3,"#, ""));
        assert_eq!(e.to_string(), "line 1 misses the field `fd`");

        let e = first_error(&OPEN.replace(
            r#""local":null,"peer":null"#,
            r#""local":{"address":"1.2.3.4"},"peer":{"address":"::1","port":1}"#,
        ));
        assert!(e.to_string().contains("connection.local.port"), "{e}");

        let e = first_error(&OPEN.replace(r#""fd":3"#, r#""fd":"3""#));
        assert!(matches!(e, RawJsonError::WrongType { line: 1, .. }), "{e}");

        let e = first_error(&OPEN.replace(r#""id":"a""#, r#""id":"zz""#));
        assert_eq!(
            e.to_string(),
            "line 1 has an invalid `connection.id`: `zz` is not a hex number"
        );

        let data = r#"{"type":"data","ts_unix_ns":1,"connection":{"id":"a","local":null,"peer":null,"role":"client","attribution":"unresolved"},"process":{"pid":1,"tid":1,"comm":"c"},"fd":3,"syscall":"write","direction":"egress","offset":0,"len":3,"payload_b64":"aGk="}"#;
        let e = first_error(&format!("{OPEN}\n{data}\n"));
        assert_eq!(
            e.to_string(),
            "line 2 has an invalid `len`: 3 differs from the payload's 2 bytes"
        );
        let e = first_error(&data.replace("\"write\"", "\"ioctl\""));
        assert!(e.to_string().contains("`syscall`"), "{e}");
    }

    #[test]
    fn a_long_line_is_refused_and_reading_goes_on() {
        let text = format!("{OPEN}\n{}\n{OPEN}\n", "x".repeat(1000));
        let mut r = RawJsonReader::with_max_line(text.as_bytes(), OPEN.len());
        assert!(matches!(r.next(), Ok(Some(StreamEvent::Open { .. }))));
        let e = r.next().unwrap_err();
        assert!(
            matches!(e, RawJsonError::LineTooLong { line: 2, .. }),
            "{e}"
        );
        // The rest of the long line is skipped: the next line is read, with its number.
        assert!(matches!(r.next(), Ok(Some(StreamEvent::Open { .. }))));
        // A long last line without a newline.
        let text = format!("{OPEN}\n{}", "x".repeat(1000));
        let mut r = RawJsonReader::with_max_line(text.as_bytes(), OPEN.len());
        assert!(matches!(r.next(), Ok(Some(StreamEvent::Open { .. }))));
        let e = r.next().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("line 2 is longer than {} bytes", OPEN.len())
        );
        assert!(matches!(r.next(), Ok(None)));
        assert!(matches!(r.next(), Ok(None)));
    }
}
