//! One HTTP/2 stream (RFC 9113 §5, §8.1): its request and response as decoded header blocks
//! (pseudo-headers kept), DATA bodies within the same capture bounds as HTTP/1, trailers and
//! END_STREAM; `finish` hands everything over at once (a transaction, or a gRPC call's parts).

use std::borrow::Cow;

use super::{
    grpc_tap::{self, GrpcTap},
    hpack::{Block, Part},
};
use crate::{
    http1::{
        head::{method_text, standard_reason},
        reader::Budget,
    },
    transaction::{
        Body, EndReason, Flag, Flags, Headers, HttpRequest, HttpResponse, HttpTransaction, Outcome,
    },
};

/// What a name or value the HPACK decoder could not know is reported as.
pub const UNKNOWN: &str = "<unknown>";

/// The version of every HTTP/2 message.
pub const VERSION: &str = "2";

/// Which peer sent a frame: the client (requests) or the server (responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub const fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }

    pub const fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// One decoded header block as text, pseudo-headers included, in the order sent. A field that
/// came from a table entry never seen is there as `<unknown>: <unknown>` (or with its name
/// when only the value is unknown): reported unknown, never guessed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldList {
    fields: Vec<(String, String)>,
    unknown: usize,
}

impl FieldList {
    pub fn from_block(block: &Block) -> Self {
        let mut fields = Vec::with_capacity(block.fields.len());
        for f in &block.fields {
            let field = match (&f.name, &f.value) {
                (Part::Known(n), Part::Known(v)) => (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                ),
                (Part::Known(n), Part::Unknown) => {
                    (String::from_utf8_lossy(n).into_owned(), UNKNOWN.to_owned())
                }
                // A value whose name is unknown is not shown either: it could be a secret
                // that redaction, which goes by names, would have masked.
                (Part::Unknown, _) => (UNKNOWN.to_owned(), UNKNOWN.to_owned()),
            };
            fields.push(field);
        }
        FieldList {
            fields,
            unknown: block.unknown,
        }
    }

    /// The fields as (name, value) pairs, what `grpc::GrpcStream` takes.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Fields that depended on table entries never seen.
    pub fn unknown(&self) -> usize {
        self.unknown
    }

    /// Regular fields (no pseudo-headers), `:authority` first as `host` when no `host` came.
    fn regular(&self) -> Headers {
        let mut h = Headers::default();
        if let Some(a) = self.get(":authority")
            && self.get("host").is_none()
        {
            h.push("host", a.as_bytes());
        }
        for (n, v) in &self.fields {
            if !n.starts_with(':') {
                h.push(n, v.as_bytes());
            }
        }
        h
    }

    fn status(&self) -> Option<u16> {
        self.get(":status").and_then(|s| s.parse().ok())
    }
}

/// Body capture bounds, shared with HTTP/1: bytes kept per message, and the budget held
/// across every message in progress.
#[derive(Debug)]
pub struct Capture<'a> {
    pub max_body: usize,
    pub budget: &'a mut Budget,
}

/// One direction of a stream.
#[derive(Debug, Default)]
pub struct Half {
    pub headers: Option<FieldList>,
    pub trailers: Option<FieldList>,
    pub body: Body,
    /// Statuses of 1xx header blocks (responses only).
    pub interim: Vec<u16>,
    /// END_STREAM seen.
    pub ended: bool,
    pub first_ts: Option<u64>,
    pub last_ts: u64,
}

impl Half {
    fn touch(&mut self, ts: u64) {
        self.first_ts.get_or_insert(ts);
        self.last_ts = ts;
    }
}

/// A stream as it goes: both halves, and what was odd about it.
#[derive(Debug)]
pub struct Stream {
    pub id: u32,
    pub request: Half,
    pub response: Half,
    pub flags: Flags,
    /// RST_STREAM's error code, once reset.
    pub reset: Option<u32>,
    /// Its request came as an HTTP/1.1 upgrade (h2c): emitted as that request.
    upgraded_request: Option<HttpRequest>,
    /// gRPC's per-DATA-frame message tallies, when the stream is a call.
    grpc: GrpcTap,
}

impl Stream {
    pub fn new(id: u32) -> Self {
        Stream {
            id,
            request: Half::default(),
            response: Half::default(),
            flags: Flags::empty(),
            reset: None,
            upgraded_request: None,
            grpc: GrpcTap::default(),
        }
    }

    /// Stream 1 of an h2c upgrade: its request was the HTTP/1.1 one, already complete.
    pub fn upgraded(request: HttpRequest) -> Self {
        let mut s = Stream::new(1);
        s.request.ended = true;
        s.request.first_ts = Some(request.first_ts_ns);
        s.request.last_ts = request.last_ts_ns;
        s.upgraded_request = Some(request);
        s
    }

    fn half(&mut self, side: Side) -> &mut Half {
        match side {
            Side::Client => &mut self.request,
            Side::Server => &mut self.response,
        }
    }

    /// A complete header block (HEADERS and its CONTINUATIONs, decoded) from `side`.
    pub fn on_headers(&mut self, side: Side, fields: FieldList, end_stream: bool, ts: u64) {
        if fields.unknown() > 0 {
            self.flags.set(Flag::HpackUnknown);
        }
        let half = self.half(side);
        half.touch(ts);
        half.ended |= end_stream;
        let status = fields.status();
        if half.headers.is_none() {
            if side == Side::Server
                && let Some(s) = status.filter(|s| (100..200).contains(s))
            {
                half.interim.push(s);
                return;
            }
            half.headers = Some(fields);
        } else if half.trailers.is_none() {
            half.trailers = Some(fields);
        } else {
            // A third block is a protocol error (§8.1): what it said is not kept.
            self.flags.set(Flag::InvalidTrailer);
        }
    }

    /// One DATA frame's payload (padding already removed) from `side`: where a per-frame
    /// reader (gRPC's message counter) sees each payload as it comes.
    pub fn on_data(&mut self, side: Side, data: &[u8], end_stream: bool, ts: u64, cap: Capture) {
        self.grpc.on_data(
            side,
            data,
            self.request.headers.as_ref(),
            self.response.headers.as_ref(),
            cap.max_body,
        );
        let half = match side {
            Side::Client => &mut self.request,
            Side::Server => &mut self.response,
        };
        half.touch(ts);
        half.ended |= end_stream;
        let body = &mut half.body;
        body.size += data.len() as u64;
        let room = cap.max_body.saturating_sub(body.captured.len());
        let mut n = room.min(data.len());
        let budget = cap.budget;
        if budget.held + n > budget.cap {
            n = budget.cap.saturating_sub(budget.held);
            if n < data.len().min(room) {
                self.flags.set(Flag::CaptureBudgetExhausted);
            }
        }
        budget.held += n;
        body.captured.extend_from_slice(&data[..n]);
    }

    /// `len` octets of `side`'s DATA were lost (a frame too long to read, or a gap).
    pub fn on_lost_data(&mut self, side: Side, len: u64, end_stream: bool, ts: u64) {
        self.grpc.on_lost(side);
        let half = self.half(side);
        half.touch(ts);
        half.ended |= end_stream;
        half.body.size += len;
        half.body.incomplete = true;
        self.flags.set(Flag::BodyGap);
    }

    /// Bytes of `side` were lost while this stream was open: its body may lack some.
    pub fn on_gap(&mut self, side: Side) {
        if !self.half(side).ended {
            self.grpc.on_lost(side);
            self.half(side).body.incomplete = true;
            self.flags.set(Flag::BodyGap);
        }
    }

    pub fn on_reset(&mut self, code: u32, ts: u64) {
        self.reset.get_or_insert(code);
        self.flags.set(Flag::StreamReset);
        self.response.last_ts = self.response.last_ts.max(ts);
    }

    /// The response has ended (or the stream was reset): nothing more will come for it.
    pub fn is_done(&self) -> bool {
        self.reset.is_some() || self.response.ended
    }

    /// Whether the request is complete and has waited for its response since `ts`.
    pub fn waiting_since(&self) -> Option<u64> {
        (self.request.ended && self.response.first_ts.is_none()).then_some(self.request.last_ts)
    }

    /// Everything the stream carried, in one place; releases its bodies from the budget.
    pub fn finish(self, budget: &mut Budget) -> Finished {
        // An upgraded request keeps its body in `upgraded_request`, outside the budget (HTTP/1
        // released it): this half then holds none.
        budget.release(self.request.body.captured.len());
        budget.release(self.response.body.captured.len());
        Finished { stream: self }
    }
}

/// A finished stream: both halves' header blocks, bodies and trailers (what a
/// `grpc::GrpcStream` is built from), and the transaction they make.
#[derive(Debug)]
pub struct Finished {
    stream: Stream,
}

impl Finished {
    pub fn id(&self) -> u32 {
        self.stream.id
    }

    pub fn request_headers(&self) -> Option<&FieldList> {
        self.stream.request.headers.as_ref()
    }

    pub fn request_body(&self) -> &Body {
        &self.stream.request.body
    }

    pub fn response_headers(&self) -> Option<&FieldList> {
        self.stream.response.headers.as_ref()
    }

    pub fn response_body(&self) -> &Body {
        &self.stream.response.body
    }

    /// The response's trailing header block (where gRPC puts its status).
    pub fn trailers(&self) -> Option<&FieldList> {
        self.stream.response.trailers.as_ref()
    }

    pub fn flags(&self) -> Flags {
        self.stream.flags
    }

    /// The transaction, with `flags` added; `reason` says why it ends unfinished, if it does;
    /// `now` is when, for a request without a response.
    pub fn into_transaction(
        self,
        meta: std::sync::Arc<crate::conn::ConnMeta>,
        flags: Flags,
        reason: Option<EndReason>,
        now: u64,
    ) -> HttpTransaction {
        let grpc = grpc_tap::call(&self, &self.stream.grpc).map(Box::new);
        let mut s = self.stream;
        let mut flags = s.flags.union(flags);
        let request = match s.upgraded_request.take() {
            Some(r) => Some(r),
            None => s
                .request
                .headers
                .take()
                .map(|h| request(h, s.request, &mut flags)),
        };
        let interim = std::mem::take(&mut s.response.interim);
        let response = s
            .response
            .headers
            .take()
            .map(|h| response(h, s.response, &mut flags));
        let outcome = match (&request, &response) {
            (Some(_), Some(_)) => Outcome::Complete,
            (None, Some(_)) => Outcome::RequestNotCaptured,
            (_, None) => Outcome::NoResponse,
        };
        let (start, end, cut) =
            crate::transaction::span(request.as_ref(), response.as_ref(), now, now);
        HttpTransaction {
            meta,
            request,
            response,
            interim,
            outcome,
            reason: if cut { reason } else { None },
            flags,
            start_ts_ns: start,
            end_ts_ns: end,
            grpc,
        }
    }
}

/// A pseudo-header's value, or `UNKNOWN` when it is missing from a block that had unknown
/// fields (it may have been one of them), or empty and flagged when it is simply missing.
fn pseudo<'a>(h: &'a FieldList, name: &str, flags: &mut Flags) -> &'a str {
    match h.get(name) {
        Some(v) => v,
        None if h.unknown() > 0 => UNKNOWN,
        None => {
            flags.set(Flag::InvalidHead);
            ""
        }
    }
}

fn request(h: FieldList, half: Half, flags: &mut Flags) -> HttpRequest {
    let method = method_text(pseudo(&h, ":method", flags));
    // CONNECT names an authority, not a path (§8.5).
    let target = if method == "CONNECT" {
        pseudo(&h, ":authority", flags)
    } else {
        pseudo(&h, ":path", flags)
    }
    .to_owned();
    let first = half.first_ts.unwrap_or(half.last_ts);
    let mut body = half.body;
    body.incomplete |= !half.ended;
    HttpRequest {
        method,
        target,
        version: VERSION,
        headers: h.regular(),
        body,
        trailers: half.trailers.map(|t| t.regular()).unwrap_or_default(),
        first_ts_ns: first,
        last_ts_ns: half.last_ts,
    }
}

fn response(h: FieldList, half: Half, flags: &mut Flags) -> HttpResponse {
    let status = match h.status() {
        Some(s) => s,
        None => {
            if h.unknown() == 0 {
                flags.set(Flag::InvalidHead);
            }
            0
        }
    };
    let first = half.first_ts.unwrap_or(half.last_ts);
    let mut body = half.body;
    body.incomplete |= !half.ended;
    HttpResponse {
        status,
        // HTTP/2 has no reason phrase: the standard one is shown, as HTTP/1 would send it.
        reason: Cow::Borrowed(standard_reason(status)),
        version: VERSION,
        headers: h.regular(),
        body,
        trailers: half.trailers.map(|t| t.regular()).unwrap_or_default(),
        first_ts_ns: first,
        last_ts_ns: half.last_ts,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        conn::{ConnMeta, Role, model::Attribution},
        http2::hpack::{Block, Field},
    };

    fn block(fields: &[(&str, Option<&str>)]) -> FieldList {
        let mut b = Block::default();
        for (n, v) in fields {
            let value = match v {
                Some(v) => Part::Known(v.as_bytes().to_vec()),
                None => Part::Unknown,
            };
            let name = if n.is_empty() {
                Part::Unknown
            } else {
                Part::Known(n.as_bytes().to_vec())
            };
            if !matches!((&name, &value), (Part::Known(_), Part::Known(_))) {
                b.unknown += 1;
            }
            b.fields.push(Field {
                name,
                value,
                never_indexed: false,
            });
        }
        FieldList::from_block(&b)
    }

    /// A client's connection (the HTTP/1 tests' metadata).
    fn meta() -> Arc<ConnMeta> {
        crate::http1::tests::meta(Role::Client, Attribution::Kernel)
    }

    #[test]
    fn a_request_and_its_response_make_a_transaction() {
        let mut budget = Budget { held: 0, cap: 1000 };
        let mut s = Stream::new(1);
        let req = [
            (":method", Some("POST")),
            (":scheme", Some("http")),
            (":authority", Some("example.com")),
            (":path", Some("/a?b=1")),
            ("content-type", Some("text/plain")),
        ];
        s.on_headers(Side::Client, block(&req), false, 10);
        s.on_data(Side::Client, b"hello", true, 11, cap(&mut budget));
        assert_eq!(budget.held, 4);
        s.on_headers(Side::Server, block(&[(":status", Some("103"))]), false, 12);
        s.on_headers(Side::Server, block(&[(":status", Some("200"))]), false, 13);
        s.on_data(Side::Server, b"ok", false, 14, cap(&mut budget));
        assert!(!s.is_done());
        s.on_headers(Side::Server, block(&[("x-t", Some("1"))]), true, 15);
        assert!(s.is_done());
        let f = s.finish(&mut budget);
        assert_eq!(budget.held, 0);
        assert_eq!(f.request_headers().unwrap().get(":path"), Some("/a?b=1"));
        assert_eq!(f.trailers().unwrap().pairs(), [("x-t", "1")]);
        let t = f.into_transaction(meta(), Flags::empty(), None, 20);
        let q = t.request.as_ref().unwrap();
        assert_eq!((q.method.as_ref(), q.target.as_str()), ("POST", "/a?b=1"));
        assert_eq!(q.headers.get_str("host"), Some("example.com"));
        assert!(!q.headers.contains(":path"));
        assert_eq!((q.body.size, q.body.captured.as_slice()), (5, &b"hell"[..]));
        let r = t.response.as_ref().unwrap();
        assert_eq!((r.status, r.reason.as_ref(), r.version), (200, "OK", "2"));
        assert_eq!(t.interim, [103]);
        assert_eq!(r.trailers.get_str("x-t"), Some("1"));
        assert_eq!(t.outcome, Outcome::Complete);
        assert_eq!((t.start_ts_ns, t.end_ts_ns), (10, 15));
    }

    fn cap(budget: &mut Budget) -> Capture<'_> {
        Capture {
            max_body: 4,
            budget,
        }
    }

    #[test]
    fn unknown_fields_are_reported_unknown_and_flagged() {
        let mut s = Stream::new(3);
        let req = [
            ("", None),
            (":method", Some("GET")),
            ("", Some("x")),
            ("accept", None),
        ];
        s.on_headers(Side::Client, block(&req), true, 1);
        let mut budget = Budget { held: 0, cap: 10 };
        let t = s
            .finish(&mut budget)
            .into_transaction(meta(), Flags::empty(), None, 2);
        assert!(t.flags.contains(Flag::HpackUnknown));
        assert!(!t.flags.contains(Flag::InvalidHead));
        let q = t.request.unwrap();
        assert_eq!(q.target, UNKNOWN);
        assert_eq!(q.headers.get_str("accept"), Some(UNKNOWN));
        assert_eq!(
            q.headers.get_all(UNKNOWN).collect::<Vec<_>>(),
            [b"<unknown>"; 2]
        );
        assert_eq!(q.headers.len(), 3);
        assert_eq!(t.outcome, Outcome::NoResponse);
    }

    #[test]
    fn the_budget_cuts_bodies_and_says_so() {
        let mut budget = Budget { held: 8, cap: 10 };
        let mut s = Stream::new(1);
        s.on_data(
            Side::Server,
            b"abcdef",
            true,
            1,
            Capture {
                max_body: 100,
                budget: &mut budget,
            },
        );
        assert_eq!(budget.held, 10);
        assert!(s.flags.contains(Flag::CaptureBudgetExhausted));
        assert_eq!(s.response.body.captured, b"ab");
    }
}
