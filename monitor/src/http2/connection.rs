//! One HTTP/2 connection: a frame reader and an HPACK decoder per direction, header blocks
//! put together from HEADERS and CONTINUATION, and frames demultiplexed by stream id into
//! `Stream`s, each emitted as a transaction once it ends, is reset, or is given up.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use super::{
    Frame, FrameReader, ReadEvent, Start,
    frame::{kind, setting},
    hpack::{self, Decoder},
    reader,
    stream::{Capture, FieldList, Side, Stream},
};
use crate::{
    conn::{ConnMeta, Direction},
    http1::reader::Budget,
    transaction::{EndReason, Flag, Flags, HttpRequest, HttpTransaction},
};

/// Bounds of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Streams open at once; beyond, the oldest is emitted early (`stream_evicted`).
    pub max_streams: usize,
    /// Octets of one header block (HEADERS and its CONTINUATIONs) held while it comes.
    pub max_header_block: usize,
    /// Body octets kept per message.
    pub max_body: usize,
    /// A request waits this long for its response.
    pub response_timeout_ns: u64,
    pub frames: reader::Limits,
    pub hpack: hpack::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_streams: 256,
            max_header_block: 64 * 1024,
            max_body: 64 * 1024,
            response_timeout_ns: 60_000_000_000,
            frames: reader::Limits::default(),
            hpack: hpack::Limits::default(),
        }
    }
}

/// How the monitor came to see this connection's HTTP/2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// From the client's preface on (prior knowledge, or ALPN h2 inside TLS).
    Preface,
    /// Joined mid-way: frame boundaries and HPACK tables must be found again.
    Joined,
}

/// What a connection did, summed by the stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnCounters {
    pub streams: u64,
    pub resets: u64,
    pub goaways: u64,
    pub evictions: u64,
    pub push_promises: u64,
    /// Streams whose headers referenced HPACK entries never seen.
    pub hpack_unknown: u64,
    /// Malformed or oversized frames, lost sync, undecodable header blocks.
    pub frame_errors: u64,
    /// Frames for streams already emitted (after a timeout or eviction), dropped.
    pub late_frames: u64,
}

/// A header block still receiving CONTINUATIONs.
#[derive(Debug)]
struct OpenBlock {
    stream: u32,
    end_stream: bool,
    /// A PUSH_PROMISE's block: decoded for the table's sake, not reported.
    push: bool,
    fragment: Vec<u8>,
    /// Longer than the limit: dropped, and the table then unknown.
    overflow: bool,
}

/// Streams emitted recently, remembered so their late frames are not taken for new streams.
const CLOSED_REMEMBERED: usize = 256;

#[derive(Debug)]
pub struct Connection {
    meta: Arc<ConnMeta>,
    client_dir: Direction,
    readers: [FrameReader; 2],
    decoders: [Decoder; 2],
    blocks: [Option<OpenBlock>; 2],
    streams: BTreeMap<u32, Stream>,
    closed: VecDeque<u32>,
    limits: Limits,
    counters: ConnCounters,
    events: Vec<ReadEvent>,
    /// After an h2c upgrade, the HTTP/1 transaction as HTTP/1 saw it, until a frame or the
    /// preface shows the peers really went on in HTTP/2; if they did not, it is what is emitted.
    unconfirmed_upgrade: Option<Box<HttpTransaction>>,
    /// That upgrade turned out not to be HTTP/2: the rest is not read.
    abandoned: bool,
}

impl Connection {
    /// `client_dir`: the direction that carries the client's frames.
    pub fn new(meta: Arc<ConnMeta>, client_dir: Direction, begin: Begin, limits: Limits) -> Self {
        let (client, server, decoder): (Start, Start, fn(hpack::Limits) -> Decoder) = match begin {
            Begin::Preface => (Start::ClientPreface, Start::Frames, Decoder::new),
            Begin::Joined => (Start::Unknown, Start::Unknown, Decoder::joined),
        };
        Connection {
            meta,
            client_dir,
            readers: [
                FrameReader::new(client, limits.frames),
                FrameReader::new(server, limits.frames),
            ],
            decoders: [decoder(limits.hpack), decoder(limits.hpack)],
            blocks: [None, None],
            streams: BTreeMap::new(),
            closed: VecDeque::new(),
            limits,
            counters: ConnCounters::default(),
            events: Vec::new(),
            unconfirmed_upgrade: None,
            abandoned: false,
        }
    }

    /// After an HTTP/1.1 `Upgrade: h2c` answered 101: the request is stream 1 (RFC 7540 §3.2),
    /// the client's preface follows, the server's frames start right after the 101.
    /// `upgrade` is the transaction HTTP/1 made of the request and its 101.
    pub fn upgraded(
        meta: Arc<ConnMeta>,
        client_dir: Direction,
        upgrade: HttpTransaction,
        limits: Limits,
    ) -> Self {
        let mut c = Connection::new(meta, client_dir, Begin::Preface, limits);
        let request: Option<HttpRequest> = upgrade.request.clone();
        if let Some(request) = request {
            c.streams.insert(1, Stream::upgraded(request));
        }
        c.unconfirmed_upgrade = Some(Box::new(upgrade));
        c.counters.streams += 1;
        c
    }

    pub fn set_meta(&mut self, meta: &Arc<ConnMeta>) {
        if !Arc::ptr_eq(&self.meta, meta) {
            self.meta = meta.clone();
        }
    }

    pub fn counters(&self) -> ConnCounters {
        self.counters
    }

    /// Frame reader counters of both directions.
    pub fn reader_counters(&self) -> [reader::Counters; 2] {
        [self.readers[0].counters(), self.readers[1].counters()]
    }

    /// Streams open right now.
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    fn side(&self, dir: Direction) -> Side {
        if dir == self.client_dir {
            Side::Client
        } else {
            Side::Server
        }
    }

    pub fn data(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        if self.abandoned {
            return;
        }
        let side = self.side(dir);
        let mut events = std::mem::take(&mut self.events);
        self.readers[side.index()].push(bytes, &mut events);
        for ev in events.drain(..) {
            if self.unconfirmed_upgrade.is_some() {
                match (&ev, side) {
                    (ReadEvent::Preface | ReadEvent::Frame(_), _) => {
                        self.unconfirmed_upgrade = None;
                    }
                    (ReadEvent::OutOfSync, Side::Client) => {
                        self.abandon_upgrade(budget, out);
                        break;
                    }
                    _ => {}
                }
            }
            self.on_event(side, ev, ts, budget, out);
        }
        self.events = events;
        self.enforce_cap(ts, budget, out);
    }

    /// The bytes after an h2c 101 are not HTTP/2: the upgrade is reported as HTTP/1 saw it,
    /// and nothing more is read (as HTTP/1 would not either).
    fn abandon_upgrade(&mut self, budget: &mut Budget, out: &mut Vec<HttpTransaction>) {
        if let Some(t) = self.unconfirmed_upgrade.take() {
            for (_, s) in std::mem::take(&mut self.streams) {
                s.finish(budget);
            }
            out.push(*t);
            self.abandoned = true;
        }
    }

    /// `len` octets of `dir` were not captured.
    pub fn gap(&mut self, dir: Direction, len: u64) {
        let side = self.side(dir);
        self.readers[side.index()].gap(len);
        self.lose_blocks(side);
        for s in self.streams.values_mut() {
            s.on_gap(side);
        }
    }

    /// Requests that waited longer than the response timeout are emitted without a response.
    pub fn tick(&mut self, now: u64, budget: &mut Budget, out: &mut Vec<HttpTransaction>) {
        let timeout = self.limits.response_timeout_ns;
        let late: Vec<u32> = self
            .streams
            .values()
            .filter(|s| {
                s.waiting_since()
                    .is_some_and(|t| now.saturating_sub(t) > timeout)
            })
            .map(|s| s.id)
            .collect();
        for id in late {
            self.emit(
                id,
                Flags::empty(),
                Some(EndReason::ResponseTimeout),
                now,
                budget,
                out,
            );
        }
    }

    /// The connection ended: every open stream is emitted, in stream order.
    pub fn close(
        &mut self,
        ts: u64,
        reason: EndReason,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        self.abandon_upgrade(budget, out);
        let ids: Vec<u32> = self.streams.keys().copied().collect();
        for id in ids {
            self.emit(id, Flags::empty(), Some(reason), ts, budget, out);
        }
    }

    fn on_event(
        &mut self,
        side: Side,
        ev: ReadEvent,
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        match ev {
            ReadEvent::Preface => {}
            ReadEvent::Frame(f) => self.on_frame(side, f, ts, budget, out),
            ReadEvent::Malformed { header, .. } => {
                self.counters.frame_errors += 1;
                if matches!(
                    header.kind,
                    kind::HEADERS | kind::CONTINUATION | kind::PUSH_PROMISE
                ) {
                    self.lose_blocks(side);
                }
            }
            ReadEvent::Oversized(h) => {
                self.counters.frame_errors += 1;
                match h.kind {
                    kind::HEADERS | kind::CONTINUATION | kind::PUSH_PROMISE => {
                        self.lose_blocks(side);
                    }
                    kind::DATA => {
                        if let Some(s) = self.stream(h.stream, false) {
                            let end = h.has(super::frame::flag::END_STREAM);
                            s.on_lost_data(side, u64::from(h.length), end, ts);
                            if s.is_done() {
                                self.emit(h.stream, Flags::empty(), None, ts, budget, out);
                            }
                        }
                    }
                    _ => {}
                }
            }
            ReadEvent::OutOfSync => {
                self.counters.frame_errors += 1;
                self.lose_blocks(side);
            }
            ReadEvent::Resynced { .. } => self.lose_blocks(side),
        }
    }

    /// A header block of `side` is lost, or may be: the decoder cannot trust its table.
    fn lose_blocks(&mut self, side: Side) {
        self.blocks[side.index()] = None;
        self.decoders[side.index()].lost_block();
    }

    fn on_frame(
        &mut self,
        side: Side,
        f: Frame,
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        // Between HEADERS and its last CONTINUATION nothing else may come (§6.10).
        if self.blocks[side.index()].is_some() && !matches!(f, Frame::Continuation { .. }) {
            self.counters.frame_errors += 1;
            self.lose_blocks(side);
        }
        match f {
            Frame::Data {
                stream,
                end_stream,
                data,
            } => {
                let max_body = self.limits.max_body;
                if let Some(s) = self.stream(stream, false) {
                    s.on_data(side, &data, end_stream, ts, Capture { max_body, budget });
                    if s.is_done() {
                        self.emit(stream, Flags::empty(), None, ts, budget, out);
                    }
                }
            }
            Frame::Headers {
                stream,
                end_stream,
                end_headers,
                fragment,
                ..
            } => self.open_block(
                side,
                stream,
                end_stream,
                false,
                end_headers,
                fragment,
                ts,
                budget,
                out,
            ),
            Frame::PushPromise {
                stream,
                end_headers,
                fragment,
                ..
            } => {
                self.counters.push_promises += 1;
                self.open_block(
                    side,
                    stream,
                    false,
                    true,
                    end_headers,
                    fragment,
                    ts,
                    budget,
                    out,
                );
            }
            Frame::Continuation {
                stream,
                end_headers,
                fragment,
            } => {
                let max = self.limits.max_header_block;
                let Some(b) = self.blocks[side.index()]
                    .as_mut()
                    .filter(|b| b.stream == stream)
                else {
                    // A CONTINUATION of a block whose start we missed: its inserts are lost.
                    self.counters.frame_errors += 1;
                    self.lose_blocks(side);
                    return;
                };
                if b.fragment.len() + fragment.len() > max {
                    b.overflow = true;
                    b.fragment = Vec::new();
                } else if !b.overflow {
                    b.fragment.extend_from_slice(&fragment);
                }
                if end_headers && let Some(b) = self.blocks[side.index()].take() {
                    self.end_block(side, b, ts, budget, out);
                }
            }
            Frame::RstStream { stream, code } => {
                self.counters.resets += 1;
                if let Some(s) = self.stream(stream, false) {
                    s.on_reset(code, ts);
                    self.emit(stream, Flags::empty(), None, ts, budget, out);
                }
            }
            Frame::Settings { ack: false, params } => {
                // The table size a peer announces bounds the encoder facing it: the other
                // direction's (§6.5.2).
                for (id, value) in params {
                    if id == setting::HEADER_TABLE_SIZE {
                        self.decoders[side.other().index()].set_settings_table_size(value);
                    }
                }
            }
            Frame::GoAway { last_stream, .. } => {
                self.counters.goaways += 1;
                // Streams the sender of GOAWAY never processed (§6.8): those the other peer
                // opened with higher ids.
                let unanswered: Vec<u32> = self
                    .streams
                    .range(last_stream.saturating_add(1)..)
                    .map(|(id, _)| *id)
                    .filter(|id| opened_by(*id) == side.other())
                    .collect();
                for id in unanswered {
                    let flags = Flags::empty().with(Flag::GoawayUnanswered);
                    self.emit(id, flags, None, ts, budget, out);
                }
            }
            Frame::Settings { ack: true, .. }
            | Frame::Priority { .. }
            | Frame::Ping { .. }
            | Frame::WindowUpdate { .. }
            | Frame::Unknown { .. } => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn open_block(
        &mut self,
        side: Side,
        stream: u32,
        end_stream: bool,
        push: bool,
        end_headers: bool,
        fragment: Vec<u8>,
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let overflow = fragment.len() > self.limits.max_header_block;
        let b = OpenBlock {
            stream,
            end_stream,
            push,
            fragment: if overflow { Vec::new() } else { fragment },
            overflow,
        };
        if end_headers {
            self.end_block(side, b, ts, budget, out);
        } else {
            self.blocks[side.index()] = Some(b);
        }
    }

    /// A whole header block: decoded (always, for the table's sake), then given to its stream.
    fn end_block(
        &mut self,
        side: Side,
        b: OpenBlock,
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let decoder = &mut self.decoders[side.index()];
        let decoded = if b.overflow {
            decoder.lost_block();
            None
        } else {
            match decoder.decode(&b.fragment) {
                Ok(block) => Some(FieldList::from_block(&block)),
                Err(_) => None,
            }
        };
        if b.push {
            return;
        }
        // Streams the server opens are pushed responses: counted with their PUSH_PROMISE.
        if opened_by(b.stream) == Side::Server {
            return;
        }
        if decoded.is_none() {
            self.counters.frame_errors += 1;
        }
        // A response's HEADERS opens a stream too: on a joined connection it is all we see.
        let Some(s) = self.stream(b.stream, true) else {
            return;
        };
        let mut newly_unknown = false;
        match decoded {
            Some(fields) => {
                let unknown_before = s.flags.contains(Flag::HpackUnknown);
                s.on_headers(side, fields, b.end_stream, ts);
                if !unknown_before && s.flags.contains(Flag::HpackUnknown) {
                    newly_unknown = true;
                }
            }
            None => {
                s.flags.set(if b.overflow {
                    Flag::HeaderTooLarge
                } else {
                    Flag::InvalidHead
                });
                // The block is lost but END_STREAM still ends the half.
                s.on_lost_data(side, 0, b.end_stream, ts);
            }
        }
        if newly_unknown {
            self.counters.hpack_unknown += 1;
        }
        if self.streams.get(&b.stream).is_some_and(Stream::is_done) {
            self.emit(b.stream, Flags::empty(), None, ts, budget, out);
        }
    }

    /// The stream `id`, created when it is new (not one emitted already); a creation beyond
    /// the cap first evicts the oldest open stream. Frames for a stream not open are taken
    /// as opening it only from HEADERS (`new`) or on a joined connection's first sight.
    fn stream(&mut self, id: u32, new: bool) -> Option<&mut Stream> {
        if !self.streams.contains_key(&id) {
            if self.closed.contains(&id) {
                self.counters.late_frames += 1;
                return None;
            }
            if !new {
                // DATA or RST_STREAM for a stream whose HEADERS we never saw: joined, or lost.
                return None;
            }
            self.counters.streams += 1;
            self.streams.insert(id, Stream::new(id));
        }
        self.streams.get_mut(&id)
    }

    fn emit(
        &mut self,
        id: u32,
        flags: Flags,
        reason: Option<EndReason>,
        now: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let Some(s) = self.streams.remove(&id) else {
            return;
        };
        if self.closed.len() >= CLOSED_REMEMBERED {
            self.closed.pop_front();
        }
        self.closed.push_back(id);
        let t = s
            .finish(budget)
            .into_transaction(self.meta.clone(), flags, reason, now);
        out.push(t);
    }

    /// Keeps at most `max_streams` open: the oldest (lowest id) is emitted early.
    fn enforce_cap(&mut self, now: u64, budget: &mut Budget, out: &mut Vec<HttpTransaction>) {
        while self.streams.len() > self.limits.max_streams {
            let Some(&id) = self.streams.keys().next() else {
                break;
            };
            self.counters.evictions += 1;
            let flags = Flags::empty().with(Flag::StreamEvicted);
            self.emit(
                id,
                flags,
                Some(EndReason::PipelineOverflow),
                now,
                budget,
                out,
            );
        }
    }
}

/// Which peer opened a stream: clients use odd ids, servers even ones (§5.1.1).
fn opened_by(id: u32) -> Side {
    if id % 2 == 1 {
        Side::Client
    } else {
        Side::Server
    }
}
