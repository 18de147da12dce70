//! The HTTP/2 stage: one `Connection` per connection the protocol router gave to HTTP/2, with
//! response timeouts and the counters the `stats` event shows as its `http2` member.

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};
use schemars::JsonSchema;
use serde::Serialize;

use super::{
    connection::{Begin, ConnCounters, Connection, Limits},
    reader,
};
use crate::{
    config::HttpConfig,
    conn::{ConnMeta, Direction},
    http1::reader::Budget,
    transaction::{EndReason, HttpTransaction},
};

/// HTTP/2 counters, reported in `stats` events once some connection was HTTP/2.
#[derive(Debug, Clone, Default, Serialize, JsonSchema, PartialEq, Eq)]
pub struct Http2Counters {
    /// Connections read as HTTP/2.
    pub connections: u64,
    /// Of those, recognised by the client preface (prior knowledge, or ALPN h2 in TLS).
    pub connections_preface: u64,
    /// Of those, upgraded from HTTP/1.1 (`Upgrade: h2c`, 101).
    pub connections_upgraded: u64,
    /// Of those, joined mid-way and recognised by their frames.
    pub connections_joined: u64,
    /// Streams opened (each becomes one transaction).
    pub streams: u64,
    /// Transactions emitted.
    pub transactions: u64,
    /// RST_STREAM frames.
    pub resets: u64,
    /// GOAWAY frames.
    pub goaways: u64,
    /// Streams emitted early because too many were open on one connection.
    pub evictions: u64,
    /// PUSH_PROMISE frames (pushed responses are not reported).
    pub push_promises: u64,
    /// Streams with header fields from HPACK entries never seen (flag `hpack_unknown`).
    pub hpack_unknown: u64,
    /// Malformed or oversized frames, lost frame boundaries, undecodable header blocks.
    pub frame_errors: u64,
    /// Frames for streams already emitted, dropped.
    pub late_frames: u64,
    /// Octets skipped to find frame boundaries again (after a gap or a mid-way join).
    pub resync_skipped_bytes: u64,
    /// Streams open right now.
    pub open_streams: u64,
}

pub struct Http2Stage {
    conns: HashMap<u64, Connection>,
    limits: Limits,
    counters: Http2Counters,
}

impl Http2Stage {
    pub fn new(config: &HttpConfig) -> Self {
        Http2Stage {
            conns: HashMap::new(),
            limits: Limits {
                max_body: config.max_body_bytes,
                max_header_block: config.max_head_bytes,
                response_timeout_ns: config.response_timeout_secs.saturating_mul(1_000_000_000),
                ..Limits::default()
            },
            counters: Http2Counters::default(),
        }
    }

    /// None until some connection was HTTP/2.
    pub fn counters(&self) -> Option<Http2Counters> {
        if self.counters.connections == 0 {
            return None;
        }
        let mut c = self.counters.clone();
        for conn in self.conns.values() {
            add(&mut c, &conn.counters(), conn.reader_counters());
            c.open_streams += conn.open_streams() as u64;
        }
        Some(c)
    }

    pub fn is_http2(&self, id: u64) -> bool {
        self.conns.contains_key(&id)
    }

    /// A connection is HTTP/2 from here: `client_dir` carries the client's frames.
    pub fn open(&mut self, meta: &Arc<ConnMeta>, client_dir: Direction, begin: Begin) {
        let c = &mut self.counters;
        c.connections += 1;
        match begin {
            Begin::Preface => c.connections_preface += 1,
            Begin::Joined => c.connections_joined += 1,
        }
        let conn = Connection::new(meta.clone(), client_dir, begin, self.limits);
        self.insert(meta.id, conn);
    }

    /// An HTTP/1.1 connection upgraded to h2c; `upgrade` is the transaction HTTP/1 made of
    /// it, whose request is stream 1's.
    pub fn open_upgraded(
        &mut self,
        meta: &Arc<ConnMeta>,
        client_dir: Direction,
        upgrade: HttpTransaction,
    ) {
        self.counters.connections += 1;
        self.counters.connections_upgraded += 1;
        let conn = Connection::upgraded(meta.clone(), client_dir, upgrade, self.limits);
        self.insert(meta.id, conn);
    }

    fn insert(&mut self, id: u64, conn: Connection) {
        if let Some(old) = self.conns.insert(id, conn) {
            // Ids are unique per connection; one reused drops the old state, counted.
            add(&mut self.counters, &old.counters(), old.reader_counters());
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn data(
        &mut self,
        meta: &Arc<ConnMeta>,
        dir: Direction,
        bytes: &[u8],
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let from = out.len();
        if let Some(c) = self.conns.get_mut(&meta.id) {
            c.set_meta(meta);
            c.data(dir, bytes, ts, budget, out);
        }
        self.counters.transactions += (out.len() - from) as u64;
    }

    pub fn gap(&mut self, id: u64, dir: Direction, len: u64) {
        if let Some(c) = self.conns.get_mut(&id) {
            c.gap(dir, len);
        }
    }

    pub fn close(
        &mut self,
        meta: &Arc<ConnMeta>,
        ts: u64,
        reason: EndReason,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let from = out.len();
        if let Some(mut c) = self.conns.remove(&meta.id) {
            c.set_meta(meta);
            c.close(ts, reason, budget, out);
            add(&mut self.counters, &c.counters(), c.reader_counters());
        }
        self.counters.transactions += (out.len() - from) as u64;
    }

    pub fn tick(&mut self, now: u64, budget: &mut Budget, out: &mut Vec<HttpTransaction>) {
        let from = out.len();
        for c in self.conns.values_mut() {
            c.tick(now, budget, out);
        }
        self.counters.transactions += (out.len() - from) as u64;
    }

    pub fn shutdown(&mut self, now: u64, budget: &mut Budget, out: &mut Vec<HttpTransaction>) {
        let from = out.len();
        let mut ids: Vec<u64> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(mut c) = self.conns.remove(&id) {
                c.close(now, EndReason::MonitorStopped, budget, out);
                add(&mut self.counters, &c.counters(), c.reader_counters());
            }
        }
        self.counters.transactions += (out.len() - from) as u64;
    }
}

fn add(c: &mut Http2Counters, k: &ConnCounters, r: [reader::Counters; 2]) {
    c.streams += k.streams;
    c.resets += k.resets;
    c.goaways += k.goaways;
    c.evictions += k.evictions;
    c.push_promises += k.push_promises;
    c.hpack_unknown += k.hpack_unknown;
    c.frame_errors += k.frame_errors;
    c.late_frames += k.late_frames;
    for r in r {
        c.resync_skipped_bytes += r.skipped_bytes;
    }
}
