//! One HTTP/1 connection: its request and response readers, and the pairing of responses with
//! requests in order (pipelining, 1xx, HEAD, CONNECT, upgrades), into transactions.

use std::{collections::VecDeque, sync::Arc};

use super::{
    head::{BodyFraming, Head},
    reader::{
        Budget, Decision, Framer, Framing, Limits, Message, MessageReader, MethodKind, ReadOut,
        StopReason,
    },
};
use crate::{
    conn::{ConnMeta, Direction, Role, model::Attribution},
    transaction::{EndReason, Flag, Flags, HttpRequest, HttpResponse, HttpTransaction, Outcome},
};

#[derive(Debug, Clone, Copy)]
pub struct ExchangeConfig {
    pub limits: Limits,
    pub response_timeout_ns: u64,
    /// Requests waiting for their response, per connection.
    pub max_pipeline: usize,
}

/// Counts an exchange reports as it goes (the stage sums them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExchangeEvents {
    pub late_responses: u64,
    pub pipeline_overflows: u64,
    pub not_http: bool,
}

#[derive(Debug)]
struct Pending {
    method: MethodKind,
    first_ts: u64,
    /// Messages wait in the box the reader made for them, and become a transaction's request and
    /// response only when it is emitted: each step in between moved a few hundred bytes.
    request: Option<Box<Message>>,
    interim: Vec<u16>,
    /// What was irregular about the interim responses: they are not kept, their flags are.
    interim_flags: Flags,
    response: Option<Box<Message>>,
    /// Its final response head has been framed.
    answered: bool,
    /// Ends the connection's HTTP: upgraded or tunnel.
    end: Option<Outcome>,
    /// Already emitted without response (timed out); a late response is dropped.
    emitted: bool,
    /// The late response of an emitted request has been read and dropped.
    late_done: bool,
}

/// Where a framed response head belongs.
#[derive(Debug, Clone, Copy)]
enum Target {
    Interim(u64),
    Final(u64),
    Orphan,
}

#[derive(Debug, Default)]
struct Pairs {
    pending: VecDeque<Pending>,
    /// Sequence number of `pending[0]`.
    base: u64,
    targets: VecDeque<Target>,
    requests_stopped: bool,
}

impl Pairs {
    fn get(&mut self, seq: u64) -> Option<&mut Pending> {
        let i = seq.checked_sub(self.base)?;
        self.pending.get_mut(usize::try_from(i).ok()?)
    }

    /// Runs `f` with this connection's response framer.
    fn framing<T>(&mut self, f: impl FnOnce(&mut Framer<'_>) -> T) -> T {
        f(&mut |head, declared, first_ts, forced| {
            self.frame_response(head, declared, first_ts, forced)
        })
    }

    /// Frames a response head: from its status, its request's method, and its own fields.
    fn frame_response(
        &mut self,
        head: &Head,
        declared: BodyFraming,
        first_ts: u64,
        forced: bool,
    ) -> Decision {
        let Head::Response(r) = head else {
            return Decision::Frame(Framing::NoBody);
        };
        let status = r.status;
        let idx = self.pending.iter().position(|p| !p.answered);
        let Some(i) = idx else {
            if !forced && !self.requests_stopped {
                return Decision::Wait;
            }
            self.targets.push_back(Target::Orphan);
            return Decision::Frame(own_framing(status, declared));
        };
        let p = &mut self.pending[i];
        // A response that began before its would-be request cannot answer it.
        if p.first_ts > first_ts {
            self.targets.push_back(Target::Orphan);
            return Decision::Frame(own_framing(status, declared));
        }
        let seq = self.base + i as u64;
        if (100..200).contains(&status) && status != 101 {
            self.targets.push_back(Target::Interim(seq));
            return Decision::Frame(Framing::NoBody);
        }
        p.answered = true;
        self.targets.push_back(Target::Final(seq));
        let framing = if status == 101 {
            p.end = Some(Outcome::Upgraded);
            Framing::Stop(StopReason::Upgraded)
        } else if p.method == MethodKind::Connect && (200..300).contains(&status) {
            p.end = Some(Outcome::Tunnel);
            Framing::Stop(StopReason::Tunnel)
        } else if p.method == MethodKind::Head {
            Framing::NoBody
        } else {
            own_framing(status, declared)
        };
        Decision::Frame(framing)
    }
}

/// Framing from a response's status and fields alone.
fn own_framing(status: u16, declared: BodyFraming) -> Framing {
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Framing::NoBody;
    }
    to_framing(declared)
}

fn to_framing(declared: BodyFraming) -> Framing {
    match declared {
        BodyFraming::None => Framing::NoBody,
        BodyFraming::Length(n) => Framing::Length(n),
        BodyFraming::Chunked => Framing::Chunked,
        BodyFraming::UntilClose => Framing::UntilClose,
        BodyFraming::Ambiguous => Framing::Stop(StopReason::Ambiguous),
    }
}

fn frame_request(_: &Head, declared: BodyFraming, _: u64, _: bool) -> Decision {
    Decision::Frame(to_framing(declared))
}

#[derive(Debug)]
pub struct Exchange {
    meta: Arc<ConnMeta>,
    /// Which direction carries requests; None until the role or the first bytes tell.
    request_dir: Option<Direction>,
    req: MessageReader,
    resp: MessageReader,
    pairs: Pairs,
    config: ExchangeConfig,
    reads: Vec<ReadOut>,
    pub events: ExchangeEvents,
    /// Any message parsed on this connection.
    pub saw_http: bool,
    /// A direction stopped because its framing could not be known.
    parse_stopped: bool,
    /// Set while the connection closes: why messages cut now are cut.
    closing: Option<EndReason>,
}

impl Exchange {
    pub fn new(meta: Arc<ConnMeta>, config: ExchangeConfig) -> Self {
        // Only a connection whose handshake the kernel saw starts at a message boundary.
        let resync = !(meta.attribution == Attribution::Kernel && meta.role != Role::Unknown);
        let request_dir = match meta.role {
            Role::Client => Some(Direction::Egress),
            Role::Server => Some(Direction::Ingress),
            Role::Unknown => None,
        };
        Self {
            meta,
            request_dir,
            req: MessageReader::new(true, config.limits, resync),
            resp: MessageReader::new(false, config.limits, resync),
            pairs: Pairs::default(),
            config,
            reads: Vec::new(),
            events: ExchangeEvents::default(),
            saw_http: false,
            parse_stopped: false,
            closing: None,
        }
    }

    pub fn set_meta(&mut self, meta: &Arc<ConnMeta>) {
        if !Arc::ptr_eq(&self.meta, meta) {
            self.meta = meta.clone();
        }
    }

    /// What followed a 101 on the response side, in the read that carried it.
    pub fn take_upgrade_rest(&mut self) -> Vec<u8> {
        self.resp.take_upgrade_rest()
    }

    /// Bytes both readers skipped while resynchronising.
    pub fn skipped(&self) -> u64 {
        self.req.skipped + self.resp.skipped
    }

    pub fn data(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let request_dir = match self.request_dir {
            Some(d) => d,
            None => {
                // Empty lines may come before a start line (RFC 9112 §2.2): the direction is
                // told by the first line that is not empty, and empty lines before it are
                // ignored by either reader.
                let start = bytes.iter().position(|&b| b != b'\r' && b != b'\n');
                let Some(start) = start else {
                    return;
                };
                *self
                    .request_dir
                    .insert(if bytes[start..].starts_with(b"HTTP/") {
                        other(dir)
                    } else {
                        dir
                    })
            }
        };
        let mut reads = std::mem::take(&mut self.reads);
        if dir == request_dir {
            self.req
                .push(bytes, ts, budget, &mut frame_request, &mut reads);
        } else {
            let resp = &mut self.resp;
            self.pairs
                .framing(|framer| resp.push(bytes, ts, budget, framer, &mut reads));
        }
        self.absorb(&mut reads, ts, budget, out);
        self.reads = reads;
    }

    pub fn gap(
        &mut self,
        dir: Direction,
        len: u64,
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let mut reads = std::mem::take(&mut self.reads);
        match self.request_dir {
            Some(d) if d == dir => self.req.gap(len, ts, &mut reads),
            Some(_) => self.resp.gap(len, ts, &mut reads),
            None => {
                // Before any byte: both readers resynchronise on that side.
                self.req.gap(len, ts, &mut reads);
                self.resp.gap(len, ts, &mut reads);
            }
        }
        self.absorb(&mut reads, ts, budget, out);
        self.reads = reads;
    }

    /// The connection ended: finish what can be finished, emit every request still waiting.
    pub fn close(
        &mut self,
        ts: u64,
        reason: EndReason,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let reason = if self.parse_stopped {
            EndReason::ParseStopped
        } else {
            reason
        };
        self.closing = Some(reason);
        let mut reads = std::mem::take(&mut self.reads);
        self.req.close(ts, budget, &mut frame_request, &mut reads);
        self.absorb(&mut reads, ts, budget, out);
        self.pairs.requests_stopped = true;
        let resp = &mut self.resp;
        self.pairs
            .framing(|framer| resp.close(ts, budget, framer, &mut reads));
        self.absorb(&mut reads, ts, budget, out);
        self.reads = reads;
        while let Some(p) = self.pairs.pending.pop_front() {
            self.pairs.base += 1;
            if p.emitted {
                release_pending(&p, budget);
                continue;
            }
            let r = if p.response.is_some() {
                None
            } else {
                Some(reason)
            };
            self.emit(p, r, ts, budget, out);
        }
    }

    /// Requests whose response has not come within the timeout are emitted without one.
    pub fn tick(&mut self, now: u64, budget: &mut Budget, out: &mut Vec<HttpTransaction>) {
        let timeout = self.config.response_timeout_ns;
        for i in 0..self.pairs.pending.len() {
            let p = &mut self.pairs.pending[i];
            let waited = p
                .request
                .as_ref()
                .is_some_and(|r| now.saturating_sub(r.last_ts) > timeout);
            if !p.emitted && p.response.is_none() && waited {
                let request = p.request.take();
                p.emitted = true;
                let detached = Pending {
                    method: MethodKind::Other,
                    first_ts: p.first_ts,
                    request,
                    interim: std::mem::take(&mut p.interim),
                    interim_flags: std::mem::take(&mut p.interim_flags),
                    response: None,
                    answered: false,
                    end: None,
                    emitted: false,
                    late_done: false,
                };
                self.emit(detached, Some(EndReason::ResponseTimeout), now, budget, out);
            }
        }
        self.drain_ready(budget, out);
    }

    fn absorb(
        &mut self,
        reads: &mut Vec<ReadOut>,
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        let mut new_request = false;
        for read in reads.drain(..) {
            match read {
                ReadOut::RequestHead { method, first_ts } => {
                    new_request = true;
                    if self.pairs.pending.len() >= self.config.max_pipeline
                        && let Some(p) = self.pairs.pending.pop_front()
                    {
                        self.pairs.base += 1;
                        self.events.pipeline_overflows += 1;
                        if !p.emitted {
                            self.emit(p, Some(EndReason::PipelineOverflow), ts, budget, out);
                        } else {
                            release_pending(&p, budget);
                        }
                    }
                    self.pairs.pending.push_back(Pending {
                        method,
                        first_ts,
                        request: None,
                        interim: Vec::new(),
                        interim_flags: Flags::empty(),
                        response: None,
                        answered: false,
                        end: None,
                        emitted: false,
                        late_done: false,
                    });
                }
                ReadOut::Message(msg) => self.message(msg, budget, out),
                ReadOut::Malformed { flags, ts } => {
                    out.push(self.malformed(flags, ts));
                }
                ReadOut::Stopped(reason) => self.stopped(reason, ts, budget, out),
            }
        }
        if new_request && self.resp.is_blocked() {
            let mut more = Vec::new();
            let resp = &mut self.resp;
            self.pairs
                .framing(|framer| resp.resume(budget, framer, &mut more));
            if !more.is_empty() {
                self.absorb(&mut more, ts, budget, out);
            }
        }
        self.drain_ready(budget, out);
    }

    fn message(&mut self, msg: Box<Message>, budget: &mut Budget, out: &mut Vec<HttpTransaction>) {
        self.saw_http = true;
        let status = match &msg.head {
            Head::Request(_) => {
                match self
                    .pairs
                    .pending
                    .iter_mut()
                    .find(|p| p.request.is_none() && !p.emitted)
                {
                    Some(p) => p.request = Some(msg),
                    None => budget.release(msg.body.captured.len()),
                }
                return;
            }
            Head::Response(h) => h.status,
        };
        match self.pairs.targets.pop_front() {
            Some(Target::Interim(seq)) => {
                if let Some(p) = self.pairs.get(seq) {
                    p.interim.push(status);
                    p.interim_flags = p.interim_flags.union(msg.flags);
                }
            }
            Some(Target::Final(seq)) => match self.pairs.get(seq) {
                Some(p) if !p.emitted => p.response = Some(msg),
                Some(p) => {
                    p.late_done = true;
                    self.events.late_responses += 1;
                    budget.release(msg.body.captured.len());
                }
                None => budget.release(msg.body.captured.len()),
            },
            Some(Target::Orphan) | None => {
                let mut msg = msg;
                // A response to no request read: after an ambiguous request, the answer to
                // what was smuggled inside it.
                if self.req.after_ambiguity() {
                    msg.flags.set(Flag::AfterAmbiguity);
                }
                let orphan = Pending {
                    method: MethodKind::Other,
                    first_ts: msg.first_ts,
                    request: None,
                    interim: Vec::new(),
                    interim_flags: Flags::empty(),
                    response: Some(msg),
                    answered: true,
                    end: None,
                    emitted: false,
                    late_done: false,
                };
                self.emit(orphan, None, 0, budget, out);
            }
        }
    }

    fn stopped(
        &mut self,
        reason: StopReason,
        ts: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        match reason {
            StopReason::NotHttp => self.events.not_http = !self.saw_http,
            StopReason::Upgraded | StopReason::Tunnel => {
                // What follows on both sides is another protocol; a request body still arriving
                // (sent before the upgrade was answered) ends with what was captured.
                let mut cut = Vec::new();
                self.req.stop_now(ts, &mut cut);
                self.resp.stop_now(ts, &mut cut);
                for read in cut {
                    if let ReadOut::Message(msg) = read {
                        self.message(msg, budget, out);
                    }
                }
            }
            StopReason::Ambiguous => self.parse_stopped = true,
            // The connection is over for that sender: what it sent is reported as malformed.
            StopReason::AfterClose => {}
        }
        if self.req.is_stopped() {
            self.pairs.requests_stopped = true;
        }
    }

    /// Emits finished transactions from the front, in request order.
    fn drain_ready(&mut self, budget: &mut Budget, out: &mut Vec<HttpTransaction>) {
        while let Some(p) = self.pairs.pending.front() {
            let ready = match (&p.request, &p.response) {
                _ if p.emitted => p.late_done,
                (Some(_), Some(_)) => true,
                (None, Some(_)) => p.end.is_some() || self.req.is_stopped(),
                _ => false,
            };
            if !ready {
                break;
            }
            let Some(p) = self.pairs.pending.pop_front() else {
                break;
            };
            self.pairs.base += 1;
            if p.emitted {
                continue;
            }
            self.emit(p, None, 0, budget, out);
        }
    }

    fn emit(
        &self,
        p: Pending,
        reason: Option<EndReason>,
        now: u64,
        budget: &mut Budget,
        out: &mut Vec<HttpTransaction>,
    ) {
        release_pending(&p, budget);
        let mut flags = p.interim_flags;
        let request = p.request.and_then(|m| {
            flags = flags.union(m.flags);
            into_request(*m)
        });
        let response = p.response.and_then(|m| {
            flags = flags.union(m.flags);
            into_response(*m)
        });
        let outcome = match (&request, &response, p.end) {
            (_, Some(_), Some(end)) => end,
            (Some(_), Some(_), None) => Outcome::Complete,
            (None, Some(_), None) => Outcome::RequestNotCaptured,
            (_, None, _) => Outcome::NoResponse,
        };
        let (start, end, cut) =
            crate::transaction::span(request.as_ref(), response.as_ref(), p.first_ts, now);
        // A message cut by the end of the connection says why.
        let reason = reason.or(if cut { self.closing } else { None });
        out.push(HttpTransaction {
            meta: self.meta.clone(),
            request,
            response,
            interim: p.interim,
            outcome,
            reason,
            flags,
            start_ts_ns: start,
            end_ts_ns: end,
            grpc: None,
        });
    }

    fn malformed(&self, flags: Flags, ts: u64) -> HttpTransaction {
        HttpTransaction {
            meta: self.meta.clone(),
            request: None,
            response: None,
            interim: Vec::new(),
            outcome: Outcome::Malformed,
            reason: None,
            flags,
            start_ts_ns: ts,
            end_ts_ns: ts,
            grpc: None,
        }
    }
}

fn other(dir: Direction) -> Direction {
    match dir {
        Direction::Egress => Direction::Ingress,
        Direction::Ingress => Direction::Egress,
    }
}

fn release_pending(p: &Pending, budget: &mut Budget) {
    if let Some(r) = &p.request {
        budget.release(r.body.captured.len());
    }
    if let Some(r) = &p.response {
        budget.release(r.body.captured.len());
    }
}

/// A request message as a transaction's request (None for a response: the reader of requests
/// makes only requests, so it does not happen).
fn into_request(m: Message) -> Option<HttpRequest> {
    let Head::Request(h) = m.head else {
        return None;
    };
    Some(HttpRequest {
        method: h.method,
        target: h.target,
        version: h.version,
        headers: h.headers,
        body: m.body,
        trailers: m.trailers,
        first_ts_ns: m.first_ts,
        last_ts_ns: m.last_ts,
    })
}

/// A response message as a transaction's response (None for a request, which does not happen).
fn into_response(m: Message) -> Option<HttpResponse> {
    let Head::Response(h) = m.head else {
        return None;
    };
    Some(HttpResponse {
        status: h.status,
        reason: h.reason,
        version: h.version,
        headers: h.headers,
        body: m.body,
        trailers: m.trailers,
        first_ts_ns: m.first_ts,
        last_ts_ns: m.last_ts,
    })
}
