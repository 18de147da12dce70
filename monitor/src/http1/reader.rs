//! One direction of an HTTP/1 connection: bytes in, messages out. Heads are parsed when complete,
//! bodies are framed (length, chunked, until close) and captured up to a limit, and after a gap or
//! garbage the reader skips to the next plausible message start instead of emitting nonsense.

use super::{
    chunked::{self, Chunked},
    head::{self, BodyFraming, Head},
    persistence,
    start_line::{self, Shape},
};
use crate::transaction::{Body, Flag, Flags, Headers};

/// Limits applied while reading; they bound the memory one direction can hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest head (and trailer section) accepted.
    pub max_head: usize,
    /// Body bytes kept per message.
    pub max_body: usize,
}

/// Captured body bytes held across all connections, so many slow messages cannot exhaust memory.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub held: usize,
    pub cap: usize,
}

impl Budget {
    pub fn release(&mut self, n: usize) {
        self.held = self.held.saturating_sub(n);
    }
}

/// How the body after a head is delimited, as decided by the connection (responses depend on
/// their request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    NoBody,
    Length(u64),
    Chunked,
    UntilClose,
    /// Emit the message without a body, then stop reading this direction.
    Stop(StopReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Frame(Framing),
    /// Not yet known (the matching request has not been seen): keep the bytes.
    Wait,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The first bytes are not HTTP/1.
    NotHttp,
    /// 101 Switching Protocols.
    Upgraded,
    /// A successful CONNECT.
    Tunnel,
    /// The framing of a message cannot be known (conflicting lengths, bad chunk).
    Ambiguous,
    /// Bytes came after a final message (RFC 9112 §9.6): reported, not read as a message.
    AfterClose,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub head: Head,
    pub body: Body,
    pub trailers: Headers,
    pub first_ts: u64,
    pub last_ts: u64,
    pub flags: Flags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOut {
    /// A request head was parsed (its body may follow): responses can now be framed.
    RequestHead {
        method: MethodKind,
        first_ts: u64,
    },
    Message(Box<Message>),
    /// Bytes that did not form a message; what was wrong, and when.
    Malformed {
        flags: Flags,
        ts: u64,
    },
    Stopped(StopReason),
}

/// What a request's method means for its response's framing: all the connection needs of it
/// (the method itself stays with the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    /// The response has no body.
    Head,
    /// A 2xx response turns the connection into a tunnel.
    Connect,
    Other,
}

impl MethodKind {
    pub fn of(method: &str) -> Self {
        if method.eq_ignore_ascii_case("HEAD") {
            MethodKind::Head
        } else if method.eq_ignore_ascii_case("CONNECT") {
            MethodKind::Connect
        } else {
            MethodKind::Other
        }
    }
}

/// Bytes scanned for a message start before a connection that never had one is declared not HTTP.
const NOT_HTTP_AFTER: u64 = 64 * 1024;

/// Methods that mark a message start by their first bytes alone: a hint for resynchronising in
/// the middle of a stream, where a start line may be cut. A request-line with any other method
/// is known by its shape (`start_line::request_line`).
const METHODS: [&[u8]; 21] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"DELETE ",
    b"HEAD ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
    b"PROPFIND ",
    b"PROPPATCH ",
    b"MKCOL ",
    b"COPY ",
    b"MOVE ",
    b"LOCK ",
    b"UNLOCK ",
    b"REPORT ",
    b"SEARCH ",
    b"PURGE ",
    b"QUERY ",
    b"PRI ",
];

#[derive(Debug)]
enum BodyState {
    Length(u64),
    Chunked(Chunked),
    UntilClose,
}

#[derive(Debug)]
enum State {
    /// Expecting a head at the next byte.
    Head,
    /// Skipping to the next plausible message start.
    Resync {
        scanned: u64,
    },
    /// A parsed head whose framing is not decided yet; its body bytes wait in `buf`.
    Blocked(Box<Message>, BodyFraming),
    Body(Box<Message>, BodyState),
    Stopped,
}

#[derive(Debug)]
pub struct MessageReader {
    request: bool,
    state: State,
    /// Bytes not consumed yet (a partial head, or bytes behind a blocked head).
    buf: Vec<u8>,
    /// Where to resume looking for the end of the head in `buf`.
    head_scan: usize,
    head_ts: Option<u64>,
    /// Empty lines read before the next start line.
    blank: BlankLines,
    /// Flags for the next message (e.g. bytes were skipped before it).
    next_flags: Flags,
    seen_message: bool,
    /// A message or malformed head with a smuggling risk was read: see `mark`.
    ambiguous: bool,
    /// The last message was final (`persistence::is_final`): its sender may send no other.
    closed: bool,
    last_ts: u64,
    limits: Limits,
    /// Bytes skipped while resynchronising.
    pub skipped: u64,
    /// Set by a 101 head: the bytes after it are another protocol's, kept in `upgrade_rest`.
    keep_rest: bool,
    /// What followed a 101 in the same read, up to `MAX_UPGRADE_REST` (for h2c's frames).
    upgrade_rest: Vec<u8>,
}

/// Bytes after a 101 kept for the protocol that follows: the first reads of HTTP/2 (its
/// SETTINGS and first response) rarely come to more.
const MAX_UPGRADE_REST: usize = 64 * 1024;

/// The callback deciding a head's framing: (head, its declared framing, first byte ts, forced). When `forced` (the
/// stream ended), it must not answer `Wait`.
pub type Framer<'a> = dyn FnMut(&Head, BodyFraming, u64, bool) -> Decision + 'a;

impl MessageReader {
    /// `resync`: the stream does not start at a message boundary (the monitor attached late).
    pub fn new(request: bool, limits: Limits, resync: bool) -> Self {
        Self {
            request,
            state: if resync {
                State::Resync { scanned: 0 }
            } else {
                State::Head
            },
            buf: Vec::new(),
            head_scan: 0,
            head_ts: None,
            blank: BlankLines::default(),
            next_flags: Flags::empty(),
            seen_message: false,
            ambiguous: false,
            closed: false,
            last_ts: 0,
            limits,
            skipped: 0,
            keep_rest: false,
            upgrade_rest: Vec::new(),
        }
    }

    /// The bytes that followed a 101 in its read (see `upgrade_rest`), taken once.
    pub fn take_upgrade_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.upgrade_rest)
    }

    pub fn is_stopped(&self) -> bool {
        matches!(self.state, State::Stopped)
    }

    pub fn is_blocked(&self) -> bool {
        matches!(self.state, State::Blocked(..))
    }

    /// Stops reading: the rest of the stream is not HTTP/1 (after an upgrade). A message whose
    /// body was still arriving ends here, incomplete, so its captured bytes are handed on (and
    /// their budget released with it) rather than dropped with the reader's state.
    pub fn stop_now(&mut self, ts: u64, out: &mut Vec<ReadOut>) {
        if let State::Body(mut msg, _) = std::mem::replace(&mut self.state, State::Stopped) {
            msg.body.incomplete = true;
            self.finish(msg, ts, out);
        }
        self.buf = Vec::new();
    }

    pub fn push(
        &mut self,
        data: &[u8],
        ts: u64,
        budget: &mut Budget,
        framer: &mut Framer<'_>,
        out: &mut Vec<ReadOut>,
    ) {
        self.last_ts = ts;
        // A syscall's bytes that begin with a request line or status line are a strong hint of a
        // message boundary, even without a line feed before them.
        if matches!(self.state, State::Resync { .. })
            && !self.buf.is_empty()
            && find_start(data, self.request) == Some(0)
        {
            self.skipped += self.buf.len() as u64;
            self.buf.clear();
        }
        if self.buf.is_empty() {
            let used = self.process(data, ts, budget, framer, out);
            if used < data.len() && !self.is_stopped() {
                self.buf.extend_from_slice(&data[used..]);
            }
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            buf.extend_from_slice(data);
            let used = self.process(&buf, ts, budget, framer, out);
            buf.drain(..used.min(buf.len()));
            if !self.is_stopped() {
                self.buf = buf;
            }
        }
    }

    /// Retries a blocked head (its request has been seen since).
    pub fn resume(&mut self, budget: &mut Budget, framer: &mut Framer<'_>, out: &mut Vec<ReadOut>) {
        if self.is_blocked() {
            self.push(&[], self.last_ts, budget, framer, out);
        }
    }

    /// `len` bytes of this direction were not captured.
    pub fn gap(&mut self, len: u64, ts: u64, out: &mut Vec<ReadOut>) {
        self.last_ts = ts;
        let state = std::mem::replace(&mut self.state, State::Stopped);
        self.state = match state {
            State::Stopped => State::Stopped,
            State::Resync { scanned } => {
                self.buf.clear();
                State::Resync { scanned }
            }
            State::Body(mut msg, BodyState::Length(rem)) => {
                lose(&mut msg, len.min(rem));
                if len < rem {
                    State::Body(msg, BodyState::Length(rem - len))
                } else {
                    self.finish(msg, ts, out);
                    self.resync_after_gap(len > rem)
                }
            }
            State::Body(mut msg, BodyState::UntilClose) => {
                lose(&mut msg, len);
                State::Body(msg, BodyState::UntilClose)
            }
            State::Body(mut msg, BodyState::Chunked(mut c)) => match c.data_remaining() {
                Some(rem) if len < rem => {
                    lose(&mut msg, len);
                    c.skip_data(len);
                    State::Body(msg, BodyState::Chunked(c))
                }
                _ => {
                    lose(&mut msg, 0);
                    self.finish(msg, ts, out);
                    self.resync_after_gap(true)
                }
            },
            State::Blocked(mut msg, _) => {
                // The body behind a blocked head is cut: keep the head, the body is incomplete.
                msg.body.incomplete = true;
                msg.flags.set(Flag::BodyGap);
                self.buf.clear();
                self.finish(msg, ts, out);
                self.resync_after_gap(true)
            }
            State::Head => {
                self.buf.clear();
                self.head_ts = None;
                self.blank = BlankLines::default();
                self.resync_after_gap(true)
            }
        };
    }

    /// The stream ended (connection closed, or the monitor stopped).
    pub fn close(
        &mut self,
        ts: u64,
        budget: &mut Budget,
        framer: &mut Framer<'_>,
        out: &mut Vec<ReadOut>,
    ) {
        if let State::Blocked(msg, declared) = &self.state {
            let decision = framer(&msg.head, *declared, msg.first_ts, true);
            if let State::Blocked(msg, _) = std::mem::replace(&mut self.state, State::Stopped) {
                let framing = match decision {
                    Decision::Frame(f) => f,
                    Decision::Wait => Framing::UntilClose,
                };
                self.state = State::Head;
                self.begin_body(msg, framing, ts, out);
                let buf = std::mem::take(&mut self.buf);
                let used = self.process(&buf, ts, budget, framer, out);
                self.buf = buf[used.min(buf.len())..].to_vec();
            }
        }
        match std::mem::replace(&mut self.state, State::Stopped) {
            State::Body(msg, BodyState::UntilClose) => self.finish(msg, ts, out),
            State::Body(mut msg, _) => {
                msg.body.incomplete = true;
                self.finish(msg, ts, out);
            }
            State::Head if !self.buf.is_empty() => {
                self.malformed(Flags::empty().with(Flag::InvalidHead), ts, out);
            }
            _ => {}
        }
        self.buf = Vec::new();
    }

    fn resync_after_gap(&mut self, skipped_something: bool) -> State {
        if skipped_something {
            self.next_flags.set(Flag::Resynced);
        }
        State::Resync { scanned: 0 }
    }

    /// Consumes what it can of `data`; returns the bytes consumed.
    fn process(
        &mut self,
        data: &[u8],
        ts: u64,
        budget: &mut Budget,
        framer: &mut Framer<'_>,
        out: &mut Vec<ReadOut>,
    ) -> usize {
        let mut at = 0;
        loop {
            let rest = &data[at..];
            match &mut self.state {
                State::Stopped => {
                    if self.keep_rest {
                        self.keep_rest = false;
                        self.upgrade_rest = rest[..rest.len().min(MAX_UPGRADE_REST)].to_vec();
                    }
                    return data.len();
                }
                State::Resync { scanned } => {
                    if rest.is_empty() {
                        return at;
                    }
                    match find_start(rest, self.request) {
                        Some(p) => {
                            if p > 0 {
                                self.next_flags.set(Flag::Resynced);
                            }
                            self.skipped += p as u64;
                            at += p;
                            self.state = State::Head;
                        }
                        None => {
                            // Keep a short tail that may hold the beginning of a start line.
                            let keep = match memchr::memrchr(b'\n', rest) {
                                Some(nl) if rest.len() - nl <= 16 => rest.len() - nl,
                                _ => 0,
                            };
                            let skip = rest.len() - keep;
                            *scanned += skip as u64;
                            self.skipped += skip as u64;
                            if !self.seen_message && *scanned > NOT_HTTP_AFTER {
                                self.stop(StopReason::NotHttp, out);
                                return data.len();
                            }
                            return at + skip;
                        }
                    }
                }
                State::Head => {
                    if rest.is_empty() {
                        return at;
                    }
                    if self.head_ts.is_none() {
                        // Empty lines before a start line are ignored (RFC 9112 §2.2), and
                        // consumed as they come, so none is held; only many are flagged.
                        let n = rest
                            .iter()
                            .take_while(|&&b| b == b'\r' || b == b'\n')
                            .count();
                        if n > 0 {
                            self.blank.add(&rest[..n]);
                            at += n;
                            continue;
                        }
                        if self.closed {
                            // A request after one that closes the connection is one a server
                            // SHOULD NOT process (RFC 9112 §9.6) and a front end may still
                            // forward: an anomaly, not a message; nothing after it is read.
                            self.malformed(Flags::empty().with(Flag::DataAfterClose), ts, out);
                            self.stop(StopReason::AfterClose, out);
                            return data.len();
                        }
                        self.head_ts = Some(ts);
                        self.head_scan = 0;
                    }
                    // The first message must start with a request-line (or "HTTP/1."); later
                    // ones with any token, and a failure there is reported.
                    let first = !self.seen_message && !self.next_flags.contains(Flag::Resynced);
                    match sniff(rest, self.request, first) {
                        Sniff::No => {
                            self.blank = BlankLines::default();
                            if !first {
                                self.malformed(Flags::empty().with(Flag::InvalidHead), ts, out);
                                self.next_flags.set(Flag::Resynced);
                            }
                            self.head_ts = None;
                            self.state = State::Resync { scanned: 0 };
                            continue;
                        }
                        // Bounded: beyond a head's length the head's own limit applies.
                        Sniff::NeedMore if rest.len() <= self.limits.max_head => return at,
                        Sniff::NeedMore | Sniff::Yes => {}
                    }
                    let Some(end) = head::find_end(rest, self.head_scan) else {
                        if rest.len() > self.limits.max_head {
                            self.give_up_head(Flags::empty().with(Flag::HeaderTooLarge), ts, out);
                            at += rest.len();
                            continue;
                        }
                        self.head_scan = rest.len();
                        return at;
                    };
                    if end > self.limits.max_head {
                        self.give_up_head(Flags::empty().with(Flag::HeaderTooLarge), ts, out);
                        at += end;
                        continue;
                    }
                    let first_ts = self.head_ts.take().unwrap_or(ts);
                    match head::parse(&rest[..end], self.request) {
                        Err(flags) => {
                            self.give_up_head(flags, ts, out);
                            // Past this start line, so the scan finds the next one: from within
                            // the line, its tail could look like a request-line of its own.
                            at += memchr::memchr(b'\n', &rest[..end]).map_or(end, |i| i + 1);
                        }
                        Ok((head, mut flags, declared)) => {
                            at += end;
                            self.seen_message = true;
                            if std::mem::take(&mut self.blank).many() {
                                flags.set(Flag::ManyEmptyLines);
                            }
                            if let Head::Request(r) = &head {
                                out.push(ReadOut::RequestHead {
                                    method: MethodKind::of(&r.method),
                                    first_ts,
                                });
                            }
                            let flags = flags.union(std::mem::take(&mut self.next_flags));
                            let msg = Box::new(Message {
                                head,
                                body: Body::default(),
                                trailers: Headers::default(),
                                first_ts,
                                last_ts: ts,
                                flags,
                            });
                            self.state = State::Blocked(msg, declared);
                        }
                    }
                }
                State::Blocked(msg, declared) => {
                    match framer(&msg.head, *declared, msg.first_ts, false) {
                        Decision::Wait => {
                            // Bounded: a response held back longer than a head is framed as is.
                            if rest.len() <= self.limits.max_head {
                                return at;
                            }
                            let decision = framer(&msg.head, *declared, msg.first_ts, true);
                            let framing = match decision {
                                Decision::Frame(f) => f,
                                Decision::Wait => Framing::UntilClose,
                            };
                            self.unblock(framing, ts, out);
                        }
                        Decision::Frame(framing) => self.unblock(framing, ts, out),
                    }
                }
                State::Body(msg, body) => {
                    if rest.is_empty() {
                        return at;
                    }
                    msg.last_ts = ts;
                    let max = self.limits.max_body;
                    match body {
                        BodyState::Length(rem) => {
                            let n = (*rem).min(rest.len() as u64) as usize;
                            capture(msg, &rest[..n], max, budget);
                            at += n;
                            *rem -= n as u64;
                            if *rem == 0 {
                                self.complete(ts, out);
                            }
                        }
                        BodyState::UntilClose => {
                            capture(msg, rest, max, budget);
                            return data.len();
                        }
                        BodyState::Chunked(c) => {
                            let (n, status) = c.feed(rest, &mut |d| capture(msg, d, max, budget));
                            at += n;
                            match status {
                                chunked::Status::NeedMore => return at.min(data.len()),
                                chunked::Status::Done(trailers) => {
                                    msg.trailers = trailers;
                                    msg.flags = msg.flags.union(c.flags);
                                    self.complete(ts, out);
                                }
                                chunked::Status::Invalid(flag) => {
                                    msg.flags = msg.flags.union(c.flags).with(flag);
                                    msg.body.incomplete = true;
                                    self.complete(ts, out);
                                    self.stop(StopReason::Ambiguous, out);
                                    return data.len();
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The head at hand cannot be parsed: reported, and the next message start is looked for.
    fn give_up_head(&mut self, flags: Flags, ts: u64, out: &mut Vec<ReadOut>) {
        self.malformed(flags, ts, out);
        self.head_ts = None;
        self.blank = BlankLines::default();
        self.next_flags.set(Flag::Resynced);
        self.state = State::Resync { scanned: 0 };
    }

    fn unblock(&mut self, framing: Framing, ts: u64, out: &mut Vec<ReadOut>) {
        if let State::Blocked(msg, _) = std::mem::replace(&mut self.state, State::Head) {
            self.begin_body(msg, framing, ts, out);
        }
    }

    /// Messages stay in their one box from head to hand-over: re-boxing cost an allocation and
    /// a copy of the whole message at each step.
    fn begin_body(&mut self, msg: Box<Message>, framing: Framing, ts: u64, out: &mut Vec<ReadOut>) {
        self.state = match framing {
            Framing::NoBody | Framing::Length(0) => {
                self.finish(msg, ts, out);
                State::Head
            }
            Framing::Length(n) => State::Body(msg, BodyState::Length(n)),
            Framing::Chunked => {
                State::Body(msg, BodyState::Chunked(Chunked::new(self.limits.max_head)))
            }
            Framing::UntilClose => State::Body(msg, BodyState::UntilClose),
            Framing::Stop(reason) => {
                self.keep_rest = reason == StopReason::Upgraded;
                self.finish(msg, ts, out);
                out.push(ReadOut::Stopped(reason));
                self.buf = Vec::new();
                State::Stopped
            }
        };
    }

    fn complete(&mut self, ts: u64, out: &mut Vec<ReadOut>) {
        if let State::Body(msg, _) = std::mem::replace(&mut self.state, State::Head) {
            self.finish(msg, ts, out);
        }
    }

    fn finish(&mut self, mut msg: Box<Message>, _ts: u64, out: &mut Vec<ReadOut>) {
        self.mark(&mut msg.flags);
        self.closed |= persistence::is_final(&msg.head);
        out.push(ReadOut::Message(msg));
    }

    fn malformed(&mut self, mut flags: Flags, ts: u64, out: &mut Vec<ReadOut>) {
        self.mark(&mut flags);
        out.push(ReadOut::Malformed { flags, ts });
    }

    /// Whether a message of this direction could be framed otherwise by another parser: what
    /// follows it was carved out of bytes two parsers may not agree on.
    pub fn after_ambiguity(&self) -> bool {
        self.ambiguous
    }

    /// Everything after an ambiguous message is flagged `after_ambiguity` (a request smuggled
    /// inside an ambiguous one comes out as an ordinary request otherwise); messages end in
    /// order, so this is called in the order of the stream.
    fn mark(&mut self, flags: &mut Flags) {
        if self.ambiguous {
            flags.set(Flag::AfterAmbiguity);
        }
        self.ambiguous |= flags.smuggling_risk();
    }

    fn stop(&mut self, reason: StopReason, out: &mut Vec<ReadOut>) {
        self.state = State::Stopped;
        self.buf = Vec::new();
        out.push(ReadOut::Stopped(reason));
    }
}

/// Body bytes lost in a gap: counted in the size, the body marked incomplete.
fn lose(msg: &mut Message, n: u64) {
    msg.body.size += n;
    msg.body.incomplete = true;
    msg.flags.set(Flag::BodyGap);
}

fn capture(msg: &mut Message, data: &[u8], max: usize, budget: &mut Budget) {
    msg.body.size += data.len() as u64;
    let room = max.saturating_sub(msg.body.captured.len());
    let mut n = room.min(data.len());
    if budget.held + n > budget.cap {
        n = budget.cap.saturating_sub(budget.held);
        if n < data.len().min(room) {
            msg.flags.set(Flag::CaptureBudgetExhausted);
        }
    }
    budget.held += n;
    msg.body.captured.extend_from_slice(&data[..n]);
}

/// Empty lines before a start line: a few are what peers send after a body (RFC 9112 §2.2 asks
/// recipients to ignore at least one), many are flagged. Counted as the larger of the CRs and the
/// LFs seen, so CRLF, bare LF and bare CR lines each count once; saturating, so bounded.
#[derive(Debug, Default, Clone, Copy)]
struct BlankLines {
    cr: u16,
    lf: u16,
}

/// Empty lines before a start line that go unflagged.
const QUIET_BLANK_LINES: u16 = 4;

impl BlankLines {
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\r' {
                self.cr = self.cr.saturating_add(1);
            } else {
                self.lf = self.lf.saturating_add(1);
            }
        }
    }

    fn many(self) -> bool {
        self.cr.max(self.lf) > QUIET_BLANK_LINES
    }
}

enum Sniff {
    Yes,
    No,
    NeedMore,
}

/// Whether `rest` can begin a message. `strict`, before the first message: a known method or
/// the shape of a whole request-line (or "HTTP/1", whose version the head parser reads
/// leniently and flags when it is not 1.0 or 1.1), so that another protocol, or a connection
/// joined mid-stream, is not mistaken for HTTP; after it, any token and a space (the head parser
/// reports what is wrong with the rest).
fn sniff(rest: &[u8], request: bool, strict: bool) -> Sniff {
    if !request {
        let want: &[u8] = if strict { b"HTTP/1" } else { b"HTTP/" };
        let n = rest.len().min(want.len());
        return if rest[..n] != want[..n] {
            Sniff::No
        } else if n < want.len() {
            Sniff::NeedMore
        } else {
            Sniff::Yes
        };
    }
    if strict {
        if METHODS.iter().any(|m| rest.starts_with(m)) {
            return Sniff::Yes;
        }
        // A prefix of a known method is a prefix of a request-line too.
        return match start_line::request_line(rest) {
            Shape::RequestLine => Sniff::Yes,
            Shape::Partial => Sniff::NeedMore,
            Shape::Other => Sniff::No,
        };
    }
    let token = rest
        .iter()
        .take_while(|&&b| start_line::is_tchar(b))
        .count();
    match rest.get(token) {
        Some(b' ') if token > 0 => Sniff::Yes,
        None => Sniff::NeedMore,
        _ => Sniff::No,
    }
}

/// The first plausible message start in `rest` (at its beginning or after a line feed): a known
/// method's first bytes, or a request-line whole enough to show its shape.
fn find_start(rest: &[u8], request: bool) -> Option<usize> {
    let at_line = |p: usize| {
        let s = &rest[p..];
        if request {
            METHODS.iter().any(|m| s.starts_with(m))
                || start_line::request_line(s) == Shape::RequestLine
        } else {
            s.starts_with(b"HTTP/1.")
        }
    };
    if at_line(0) {
        return Some(0);
    }
    memchr::memchr_iter(b'\n', rest)
        .map(|i| i + 1)
        .find(|&p| p < rest.len() && at_line(p))
}
