//! The connection table: one entry per kernel connection id, bounded in count (least recently
//! active evicted), in buffered bytes, and in idle time. Everything it drops is counted.

use std::{
    collections::{BTreeMap, HashSet},
    num::NonZeroUsize,
    sync::Arc,
};

use bytes::Bytes;
use lru::LruCache;
use schemars::JsonSchema;
use serde::Serialize;

use super::{
    model::{
        Attribution, CloseReason, ConnMeta, Direction, DirectionTotals, GapCause, Origin, Role,
        StreamEvent,
    },
    proc::Resolve,
    reorder::{Chunk, DirectionStream, Piece},
};
use crate::{
    capture::{CloseRecord, DataEvent, Endpoints, RawEvent, decode::UncapturedCause},
    config::StreamConfig,
};

/// Userspace stream counters, reported in `stats` events. Totals since start unless said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct StreamCounters {
    /// Connections announced (`conn_open`).
    pub conns_opened: u64,
    /// Connections finished (`conn_close`), whatever the reason.
    pub conns_closed: u64,
    /// Connections closed for being idle.
    pub conns_idle_closed: u64,
    /// Connections evicted to stay within the connection cap.
    pub conns_evicted: u64,
    /// Connections dropped by the port filter.
    pub conns_filtered: u64,
    /// Connections whose addresses came from the kernel programs.
    pub conns_attributed_kernel: u64,
    /// Connections whose addresses came from /proc.
    pub conns_attributed_proc: u64,
    /// Connections whose addresses could not be found.
    pub conns_unattributed: u64,
    /// Close records for connections that were not tracked.
    pub closes_for_unknown_conns: u64,
    /// Payload bytes delivered in order.
    pub data_bytes: u64,
    /// Bytes received twice and dropped.
    pub duplicate_bytes: u64,
    /// Bytes of late chunks that overlapped bytes already delivered.
    pub overlap_bytes: u64,
    /// Gap bytes by cause.
    pub gap_bytes: BTreeMap<&'static str, u64>,
    /// Gauge: connections tracked at the time of the stats event.
    pub active_connections: u64,
    /// Gauge: bytes waiting in reorder buffers at the time of the stats event.
    pub buffered_bytes: u64,
}

struct Conn {
    meta: Arc<ConnMeta>,
    dirs: [DirectionStream; 2],
    last_ns: u64,
    /// Set when the kernel reported the socket destroyed; the entry finishes once its streams
    /// reach the final lengths or the reorder timeout passes.
    closing: Option<(CloseRecord, u64)>,
    /// Excluded by the userspace port filter: events are dropped.
    filtered: bool,
    /// Events of a connection not announced yet because what it is is not known yet: its fd
    /// (first seen through a syscall already running at start), or, under a port filter, its
    /// addresses (the process may be gone before /proc is read; a later kernel event or the
    /// close record names them). Bounded by the reorder window; beyond it the verdict is forced.
    held: Option<Vec<StreamEvent>>,
    held_bytes: usize,
    /// /proc was already asked (once is enough: a process that is gone stays gone).
    resolve_tried: bool,
}

pub struct ConnectionTable {
    conns: LruCache<u64, Conn>,
    /// Connections with parked chunks or a pending close, checked on every tick.
    attention: HashSet<u64>,
    config: StreamConfig,
    ports: Vec<u16>,
    resolver: Box<dyn Resolve + Send>,
    buffered: usize,
    counters: StreamCounters,
    /// Reused for each data event's pieces (empty between events): one allocation less each.
    pieces: Vec<Piece>,
}

impl ConnectionTable {
    pub fn new(config: StreamConfig, ports: Vec<u16>, resolver: Box<dyn Resolve + Send>) -> Self {
        let cap = NonZeroUsize::new(config.max_connections).unwrap_or(NonZeroUsize::MIN);
        Self {
            conns: LruCache::new(cap),
            attention: HashSet::new(),
            config,
            ports,
            resolver,
            buffered: 0,
            counters: StreamCounters::default(),
            pieces: Vec::new(),
        }
    }

    pub fn counters(&self) -> StreamCounters {
        let mut c = self.counters.clone();
        c.active_connections = self.conns.len() as u64;
        c.buffered_bytes = self.buffered as u64;
        c
    }

    pub fn ingest(&mut self, event: RawEvent, now_ns: u64, out: &mut Vec<StreamEvent>) {
        match event {
            RawEvent::Data(d) => self.ingest_data(d, now_ns, out),
            RawEvent::Close(c) => self.ingest_close(c, now_ns, out),
            // Says a connection's bytes were withheld as TLS ciphertext: no stream content.
            RawEvent::TlsSeen(_) => {}
        }
    }

    fn ingest_data(&mut self, d: DataEvent, now_ns: u64, out: &mut Vec<StreamEvent>) {
        if !self.conns.contains(&d.conn_id) {
            self.open(&d, out);
        }
        let window = self.config.reorder_window_bytes;
        let Some(conn) = self.conns.get_mut(&d.conn_id) else {
            return;
        };
        conn.last_ns = now_ns.max(d.ts_ns);
        if conn.filtered {
            return;
        }
        // Learn what the first events did not tell: the fd (a syscall in flight at start has
        // none), the addresses (from the kernel, or /proc once the fd is known). Usually there
        // is nothing to learn: the metadata (and its comm) is only copied when it may change.
        let known = &conn.meta;
        let may_learn = (known.fd < 0 && d.fd >= 0)
            || (d.tls_library.is_some() && known.tls_library != d.tls_library)
            || (known.endpoints.is_none()
                && (d.endpoints.is_some()
                    || ((known.fd >= 0 || d.fd >= 0) && !conn.resolve_tried)));
        if may_learn {
            let mut meta = (*conn.meta).clone();
            let mut changed = false;
            if meta.fd < 0 && d.fd >= 0 {
                meta.fd = d.fd;
                meta.pid = d.pid;
                changed = true;
            }
            if d.tls_library.is_some() && meta.tls_library != d.tls_library {
                // Plaintext from a TLS hook: the connection is TLS from here on.
                meta.tls_library = d.tls_library;
                changed = true;
            }
            if meta.endpoints.is_none() {
                if let Some(ep) = d.endpoints {
                    learn_from_kernel(&mut meta, ep, d.role, self.resolver.as_mut());
                    changed = true;
                } else if meta.fd >= 0 && !conn.resolve_tried {
                    conn.resolve_tried = true;
                    if let Some((ep, role)) = self.resolver.resolve(d.pid, meta.fd) {
                        meta.endpoints = Some(ep);
                        meta.attribution = Attribution::Proc;
                        if meta.role == Role::Unknown {
                            meta.role = role;
                        }
                        changed = true;
                    }
                }
            }
            if changed {
                conn.meta = Arc::new(meta);
            }
        }
        if conn.held.is_some() && Self::decidable(&self.ports, &conn.meta) {
            conn.filtered = Self::excluded(&self.ports, &conn.meta);
            Self::release(&mut self.counters, conn, out);
            if conn.filtered {
                return;
            }
        }
        let dir = d.direction;
        let chunk = Chunk {
            offset: d.offset,
            ts_ns: d.ts_ns,
            uncaptured: d.uncaptured_len,
            uncaptured_cause: match d.uncaptured_cause {
                UncapturedCause::Truncated => GapCause::Truncated,
                UncapturedCause::StepsExhausted => GapCause::StepsExhausted,
                UncapturedCause::Uncapturable => GapCause::Uncapturable,
                UncapturedCause::InFlightAtStart => GapCause::InFlightAtStart,
            },
            lost_total: d.lost_total,
            origin: Origin {
                pid: d.pid,
                tid: d.tid,
                comm: d.comm,
                syscall: d.syscall,
            },
            payload: d.payload,
        };
        let stream = &mut conn.dirs[dir.index()];
        let before = stream.pending_bytes();
        let mut pieces = std::mem::take(&mut self.pieces);
        stream.push(chunk, now_ns, window, &mut pieces);
        if self.buffered + stream.pending_bytes() > self.config.max_buffered_bytes + before {
            // Over the global budget: give up this direction's holes rather than grow.
            stream.flush(GapCause::ReorderOverflow, now_ns, &mut pieces);
        }
        let after = stream.pending_bytes();
        self.buffered = self.buffered + after - before;
        let meta = conn.meta.clone();
        match conn.held.as_mut() {
            Some(held) => {
                // Held until the connection is known, as parked chunks are: own copies, so as
                // not to keep alive the larger buffers their bytes may be slices of.
                for p in pieces.iter_mut() {
                    if let Piece::Data { bytes, .. } = p {
                        *bytes = Bytes::copy_from_slice(bytes);
                    }
                }
                conn.held_bytes += pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Data { bytes, .. } => bytes.len(),
                        Piece::Gap { .. } => 0,
                    })
                    .sum::<usize>();
                Self::emit(&mut self.counters, &meta, dir, pieces.drain(..), held);
                if conn.held_bytes > window {
                    // Still unknown after a window's worth of bytes: decide with what is known.
                    conn.filtered = Self::excluded(&self.ports, &conn.meta);
                    Self::release(&mut self.counters, conn, out);
                }
            }
            None => Self::emit(&mut self.counters, &meta, dir, pieces.drain(..), out),
        }
        self.pieces = pieces;
        let complete = conn.closing.as_ref().is_some_and(|(c, _)| {
            conn.dirs[0].next_offset() >= c.tx_bytes && conn.dirs[1].next_offset() >= c.rx_bytes
        });
        let needs_attention =
            conn.dirs.iter().any(DirectionStream::has_pending) || conn.closing.is_some();
        if complete {
            self.finish(d.conn_id, CloseReason::Closed, now_ns, out);
        } else if needs_attention {
            self.attention.insert(d.conn_id);
        }
    }

    /// Whether the userspace port filter excludes this connection (the kernel applies it when it
    /// knows the addresses; this covers the rest).
    fn excluded(ports: &[u16], meta: &ConnMeta) -> bool {
        !ports.is_empty()
            && meta.endpoints.is_none_or(|ep| {
                !ports.contains(&ep.local.port()) && !ports.contains(&ep.remote.port())
            })
    }

    /// Whether enough is known to announce a connection (or to filter it out).
    fn decidable(ports: &[u16], meta: &ConnMeta) -> bool {
        meta.endpoints.is_some() || (ports.is_empty() && meta.fd >= 0)
    }

    /// Announces a connection whose events were held, or drops them if it is filtered out.
    fn release(counters: &mut StreamCounters, conn: &mut Conn, out: &mut Vec<StreamEvent>) {
        let held = conn.held.take().unwrap_or_default();
        match conn.meta.attribution {
            Attribution::Kernel => counters.conns_attributed_kernel += 1,
            Attribution::Proc => counters.conns_attributed_proc += 1,
            Attribution::Unresolved => counters.conns_unattributed += 1,
        }
        if conn.filtered {
            counters.conns_filtered += 1;
            return;
        }
        counters.conns_opened += 1;
        let ts_ns = held.first().map_or(conn.last_ns, StreamEvent::ts_ns);
        out.push(StreamEvent::Open {
            meta: conn.meta.clone(),
            ts_ns,
        });
        for mut ev in held {
            ev.set_meta(conn.meta.clone());
            out.push(ev);
        }
    }

    fn open(&mut self, d: &DataEvent, out: &mut Vec<StreamEvent>) {
        let resolved = match (d.endpoints, d.fd >= 0) {
            (None, true) => self.resolver.resolve(d.pid, d.fd),
            _ => None,
        };
        let (endpoints, role, attribution) = match (d.endpoints, resolved) {
            // Addresses learnt after the handshake (which the monitor missed).
            (Some(ep), _) if d.role == Role::Unknown => (
                Some(ep),
                self.resolver.role(d.pid, ep.local),
                Attribution::Kernel,
            ),
            (Some(ep), _) => (Some(ep), d.role, Attribution::Kernel),
            (None, Some((ep, role))) => {
                let role = if d.role == Role::Unknown {
                    role
                } else {
                    d.role
                };
                (Some(ep), role, Attribution::Proc)
            }
            (None, None) => (None, d.role, Attribution::Unresolved),
        };
        let meta = Arc::new(ConnMeta {
            id: d.conn_id,
            pid: d.pid,
            comm: d.comm.to_string(),
            fd: d.fd,
            cgroup_id: d.cgroup_id,
            endpoints,
            role,
            attribution,
            tls_library: d.tls_library,
        });
        let mut conn = Conn {
            meta,
            dirs: [DirectionStream::default(), DirectionStream::default()],
            last_ns: d.ts_ns,
            closing: None,
            filtered: false,
            held: Some(Vec::new()),
            held_bytes: 0,
            resolve_tried: d.fd >= 0,
        };
        // Announced now if enough is known; otherwise its events are held (see `Conn::held`).
        if Self::decidable(&self.ports, &conn.meta) {
            conn.filtered = Self::excluded(&self.ports, &conn.meta);
            Self::release(&mut self.counters, &mut conn, out);
        }
        self.insert(d.conn_id, conn, d.ts_ns, out);
    }

    fn insert(&mut self, id: u64, conn: Conn, ts_ns: u64, out: &mut Vec<StreamEvent>) {
        if let Some((old_id, old)) = self.conns.push(id, conn)
            && old_id != id
        {
            self.counters.conns_evicted += 1;
            self.close_conn(old_id, old, CloseReason::Evicted, ts_ns, out);
        }
    }

    fn ingest_close(&mut self, c: CloseRecord, now_ns: u64, out: &mut Vec<StreamEvent>) {
        let Some(conn) = self.conns.get_mut(&c.conn_id) else {
            self.counters.closes_for_unknown_conns += 1;
            return;
        };
        if conn.meta.endpoints.is_none()
            && let Some(ep) = c.endpoints
        {
            // The kernel names the addresses when it destroys the socket.
            let mut meta = (*conn.meta).clone();
            learn_from_kernel(&mut meta, ep, c.role, self.resolver.as_mut());
            conn.meta = Arc::new(meta);
        }
        let complete =
            conn.dirs[0].next_offset() >= c.tx_bytes && conn.dirs[1].next_offset() >= c.rx_bytes;
        let id = c.conn_id;
        conn.closing = Some((c, now_ns));
        if complete {
            self.finish(id, CloseReason::Closed, now_ns, out);
        } else {
            self.attention.insert(id);
        }
    }

    /// Gives up holes older than the reorder timeout, finishes closed connections whose last
    /// bytes did not come in time, and closes idle connections.
    pub fn tick(&mut self, now_ns: u64, out: &mut Vec<StreamEvent>) {
        let timeout = self.config.reorder_timeout_ms * 1_000_000;
        let ids: Vec<u64> = self.attention.iter().copied().collect();
        for id in ids {
            let Some(conn) = self.conns.peek_mut(&id) else {
                self.attention.remove(&id);
                continue;
            };
            let expired_close = conn
                .closing
                .as_ref()
                .is_some_and(|(_, at)| now_ns.saturating_sub(*at) >= timeout);
            if expired_close {
                self.finish(id, CloseReason::Closed, now_ns, out);
                continue;
            }
            let meta = conn.meta.clone();
            for dir in [Direction::Egress, Direction::Ingress] {
                let stream = &mut conn.dirs[dir.index()];
                let before = stream.pending_bytes();
                let mut pieces = Vec::new();
                stream.expire(now_ns, timeout, &mut pieces);
                self.buffered -= before - stream.pending_bytes();
                match conn.held.as_mut() {
                    Some(held) => Self::emit(&mut self.counters, &meta, dir, pieces, held),
                    None => Self::emit(&mut self.counters, &meta, dir, pieces, out),
                }
            }
            if conn.closing.is_none() && !conn.dirs.iter().any(DirectionStream::has_pending) {
                self.attention.remove(&id);
            }
        }
        let idle = self.config.idle_timeout_secs.saturating_mul(1_000_000_000);
        while let Some((_, lru)) = self.conns.peek_lru() {
            if now_ns.saturating_sub(lru.last_ns) < idle {
                break;
            }
            if let Some((id, conn)) = self.conns.pop_lru() {
                self.counters.conns_idle_closed += 1;
                self.close_conn(id, conn, CloseReason::Idle, now_ns, out);
            }
        }
    }

    /// Closes every connection (the monitor is stopping).
    pub fn shutdown(&mut self, now_ns: u64, out: &mut Vec<StreamEvent>) {
        let ids: Vec<u64> = self.conns.iter().map(|(id, _)| *id).collect();
        for id in ids {
            let reason = match self.conns.peek(&id) {
                Some(c) if c.closing.is_some() => CloseReason::Closed,
                _ => CloseReason::Shutdown,
            };
            self.finish(id, reason, now_ns, out);
        }
    }

    fn finish(&mut self, id: u64, reason: CloseReason, now_ns: u64, out: &mut Vec<StreamEvent>) {
        if let Some(conn) = self.conns.pop(&id) {
            self.close_conn(id, conn, reason, now_ns, out);
        }
    }

    fn close_conn(
        &mut self,
        id: u64,
        mut conn: Conn,
        reason: CloseReason,
        now_ns: u64,
        out: &mut Vec<StreamEvent>,
    ) {
        self.attention.remove(&id);
        if conn.held.is_some() {
            // Never named its fd: announce it as it is (unless the port filter must exclude it).
            conn.filtered = Self::excluded(&self.ports, &conn.meta);
            Self::release(&mut self.counters, &mut conn, out);
        }
        let meta = conn.meta.clone();
        let mut ts = now_ns;
        for dir in [Direction::Egress, Direction::Ingress] {
            let stream = &mut conn.dirs[dir.index()];
            self.buffered -= stream.pending_bytes();
            let mut pieces = Vec::new();
            match &conn.closing {
                Some((c, _)) => {
                    ts = c.ts_ns;
                    let (len, lost) = match dir {
                        Direction::Egress => (c.tx_bytes, c.tx_lost),
                        Direction::Ingress => (c.rx_bytes, c.rx_lost),
                    };
                    stream.finish(len, lost, c.ts_ns, &mut pieces);
                }
                None => stream.flush(GapCause::ReorderTimeout, now_ns, &mut pieces),
            }
            if !conn.filtered {
                Self::emit(&mut self.counters, &meta, dir, pieces, out);
            }
        }
        for s in &conn.dirs {
            self.counters.duplicate_bytes += s.duplicate_bytes;
            self.counters.overlap_bytes += s.overlap_bytes;
        }
        if conn.filtered {
            return;
        }
        self.counters.conns_closed += 1;
        let totals = |s: &DirectionStream| DirectionTotals {
            bytes: s.next_offset(),
            gap_bytes: s.gap_bytes,
        };
        out.push(StreamEvent::Close {
            meta,
            ts_ns: ts,
            reason,
            egress: totals(&conn.dirs[0]),
            ingress: totals(&conn.dirs[1]),
        });
    }

    fn emit(
        counters: &mut StreamCounters,
        meta: &Arc<ConnMeta>,
        direction: Direction,
        pieces: impl IntoIterator<Item = Piece>,
        out: &mut Vec<StreamEvent>,
    ) {
        for p in pieces {
            match p {
                Piece::Data {
                    offset,
                    ts_ns,
                    origin,
                    bytes,
                } => {
                    counters.data_bytes += bytes.len() as u64;
                    out.push(StreamEvent::Data {
                        meta: meta.clone(),
                        direction,
                        offset,
                        ts_ns,
                        origin,
                        bytes,
                    });
                }
                Piece::Gap {
                    offset,
                    len,
                    cause,
                    ts_ns,
                } => {
                    *counters.gap_bytes.entry(cause.name()).or_default() += len;
                    out.push(StreamEvent::Gap {
                        meta: meta.clone(),
                        direction,
                        offset,
                        len,
                        cause,
                        ts_ns,
                    });
                }
            }
        }
    }
}

/// Records addresses the kernel learnt after the connection was first seen; the role comes from
/// the kernel if it knows it, else from whether the process listens on the local port.
fn learn_from_kernel(meta: &mut ConnMeta, ep: Endpoints, role: Role, resolver: &mut dyn Resolve) {
    meta.endpoints = Some(ep);
    meta.attribution = Attribution::Kernel;
    if meta.role == Role::Unknown {
        meta.role = role;
    }
    if meta.role == Role::Unknown {
        meta.role = resolver.role(meta.pid, ep.local);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        capture::{Endpoints, decode::UncapturedCause},
        conn::proc::NoResolve,
    };
    use bytes::Bytes;
    use monitor_common::event::Syscall;

    fn ep() -> Endpoints {
        Endpoints {
            local: "127.0.0.1:40000".parse().unwrap(),
            remote: "127.0.0.1:8080".parse().unwrap(),
        }
    }

    fn data(conn: u64, dir: Direction, offset: u64, payload: &[u8], ts: u64) -> RawEvent {
        RawEvent::Data(DataEvent {
            syscall: Syscall::Write,
            direction: dir,
            role: Role::Client,
            ts_ns: ts,
            conn_id: conn,
            offset,
            lost_total: 0,
            pid: 10,
            tid: 10,
            fd: 3,
            uncaptured_len: 0,
            uncaptured_cause: UncapturedCause::Truncated,
            cgroup_id: 0,
            comm: "curl".into(),
            endpoints: Some(ep()),
            tls_library: None,
            payload: Bytes::copy_from_slice(payload),
        })
    }

    fn close(conn: u64, tx: u64, rx: u64, ts: u64) -> RawEvent {
        RawEvent::Close(CloseRecord {
            ts_ns: ts,
            conn_id: conn,
            role: Role::Client,
            tx_bytes: tx,
            rx_bytes: rx,
            tx_lost: 0,
            rx_lost: 0,
            endpoints: Some(ep()),
        })
    }

    fn table(max: usize) -> ConnectionTable {
        let cfg = StreamConfig {
            max_connections: max,
            ..StreamConfig::default()
        };
        ConnectionTable::new(cfg, vec![], Box::new(NoResolve))
    }

    fn kinds(events: &[StreamEvent]) -> Vec<&'static str> {
        events
            .iter()
            .map(|e| match e {
                StreamEvent::Open { .. } => "open",
                StreamEvent::Data { .. } => "data",
                StreamEvent::Gap { .. } => "gap",
                StreamEvent::Close { .. } => "close",
            })
            .collect()
    }

    #[test]
    fn open_data_close() {
        let mut t = table(10);
        let mut out = vec![];
        t.ingest(data(1, Direction::Egress, 0, b"GET /", 1), 1, &mut out);
        t.ingest(
            data(1, Direction::Ingress, 0, b"HTTP/1.1 200", 2),
            2,
            &mut out,
        );
        t.ingest(close(1, 5, 12, 3), 3, &mut out);
        assert_eq!(kinds(&out), ["open", "data", "data", "close"]);
        let StreamEvent::Close {
            egress,
            ingress,
            reason,
            ..
        } = &out[3]
        else {
            panic!()
        };
        assert_eq!(*reason, CloseReason::Closed);
        assert_eq!(egress.bytes, 5);
        assert_eq!(ingress.bytes, 12);
        assert_eq!(t.counters().active_connections, 0);
    }

    #[test]
    fn close_waits_for_late_bytes_then_times_out_with_a_gap() {
        let mut t = table(10);
        let mut out = vec![];
        t.ingest(data(1, Direction::Egress, 0, b"abc", 1), 1, &mut out);
        t.ingest(close(1, 10, 0, 2), 2, &mut out);
        assert_eq!(kinds(&out), ["open", "data"]);
        t.tick(2 + 500_000_000, &mut out);
        assert_eq!(kinds(&out), ["open", "data"]);
        t.tick(2 + 1_000_000_000, &mut out);
        assert_eq!(kinds(&out), ["open", "data", "gap", "close"]);
        let StreamEvent::Gap { len, cause, .. } = &out[2] else {
            panic!()
        };
        assert_eq!((*len, *cause), (7, GapCause::Unaccounted));
    }

    #[test]
    fn evicts_least_recently_active_when_full() {
        let mut t = table(2);
        let mut out = vec![];
        t.ingest(data(1, Direction::Egress, 0, b"a", 1), 1, &mut out);
        t.ingest(data(2, Direction::Egress, 0, b"b", 2), 2, &mut out);
        t.ingest(data(1, Direction::Egress, 1, b"c", 3), 3, &mut out);
        t.ingest(data(3, Direction::Egress, 0, b"d", 4), 4, &mut out);
        let closed: Vec<u64> = out
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Close { meta, reason, .. } => {
                    assert_eq!(*reason, CloseReason::Evicted);
                    Some(meta.id)
                }
                _ => None,
            })
            .collect();
        assert_eq!(closed, vec![2]);
        assert_eq!(t.counters().conns_evicted, 1);
        assert_eq!(t.counters().active_connections, 2);
    }

    #[test]
    fn idle_connections_close() {
        let mut t = table(10);
        let mut out = vec![];
        t.ingest(data(1, Direction::Egress, 0, b"a", 1), 1, &mut out);
        t.tick(299_000_000_000, &mut out);
        assert_eq!(kinds(&out), ["open", "data"]);
        t.tick(301_000_000_000, &mut out);
        assert_eq!(kinds(&out), ["open", "data", "close"]);
        assert_eq!(t.counters().conns_idle_closed, 1);
    }

    #[test]
    fn buffered_bytes_are_bounded_globally() {
        let cfg = StreamConfig {
            max_buffered_bytes: 10,
            ..StreamConfig::default()
        };
        let mut t = ConnectionTable::new(cfg, vec![], Box::new(NoResolve));
        let mut out = vec![];
        t.ingest(data(1, Direction::Egress, 5, b"0123456789", 1), 1, &mut out);
        assert_eq!(t.counters().buffered_bytes, 10);
        t.ingest(data(2, Direction::Egress, 5, b"0123456789", 1), 1, &mut out);
        assert!(t.counters().buffered_bytes <= 10);
        assert_eq!(t.counters().gap_bytes.get("reorder_overflow"), Some(&5));
    }

    #[test]
    fn userspace_port_filter_drops_unmatched_connections() {
        let mut t = ConnectionTable::new(StreamConfig::default(), vec![9999], Box::new(NoResolve));
        let mut out = vec![];
        t.ingest(data(1, Direction::Egress, 0, b"a", 1), 1, &mut out);
        t.ingest(close(1, 1, 0, 2), 2, &mut out);
        assert!(out.is_empty());
        assert_eq!(t.counters().conns_filtered, 1);
    }

    #[test]
    fn unknown_addresses_under_a_port_filter_wait_for_the_kernel_to_name_them() {
        let mut t = ConnectionTable::new(StreamConfig::default(), vec![8080], Box::new(NoResolve));
        let mut out = vec![];
        let RawEvent::Data(mut d) = data(1, Direction::Egress, 0, b"GET /", 1) else {
            panic!()
        };
        d.endpoints = None;
        d.role = Role::Unknown;
        t.ingest(RawEvent::Data(d), 1, &mut out);
        assert!(out.is_empty(), "announced before its addresses were known");
        // The close record carries the addresses (from tcp_destroy_sock): port 8080 matches.
        t.ingest(close(1, 5, 0, 2), 2, &mut out);
        assert_eq!(kinds(&out), ["open", "data", "close"]);
        let StreamEvent::Data { meta, .. } = &out[1] else {
            panic!()
        };
        assert_eq!(meta.endpoints, Some(ep()));
        assert_eq!(t.counters().conns_filtered, 0);
    }

    #[test]
    fn close_for_unknown_connection_is_counted() {
        let mut t = table(10);
        let mut out = vec![];
        t.ingest(close(5, 0, 0, 1), 1, &mut out);
        assert!(out.is_empty());
        assert_eq!(t.counters().closes_for_unknown_conns, 1);
    }
}
