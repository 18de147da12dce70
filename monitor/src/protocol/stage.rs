//! The protocol router: decides per connection whether its stream events go to the HTTP/1
//! stage (as they always did) or the HTTP/2 stage — by the client preface, by an h2c upgrade
//! answered 101, or, on a connection joined mid-way, by a run of well-formed frames.

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};

use super::detect::{self, FirstBytes, JoinedSniffer, Sniff};
use crate::{
    config::HttpConfig,
    conn::{CloseReason, ConnMeta, Direction, Role, StreamEvent, model::Attribution},
    http1::{HttpCounters, HttpStage},
    http2::{
        connection::Begin,
        stage::{Http2Counters, Http2Stage},
    },
    transaction::{EndReason, HttpTransaction, Outcome},
};

/// Octets held while a connection's first bytes are not yet decisive.
const MAX_HELD: usize = 64 * 1024;
/// Events kept while a joined connection is sniffed (gaps carry no bytes, so they are bounded
/// by number).
const MAX_HELD_EVENTS: usize = 1024;

#[derive(Debug)]
enum Route {
    /// Settled: HTTP/1 (or whatever the HTTP/1 stage makes of it).
    Http1,
    Http2,
    /// The first bytes are not decisive yet: events wait here, in order.
    Undecided {
        held: Vec<StreamEvent>,
        bytes: usize,
    },
    /// Joined mid-way: HTTP/1 reads it meanwhile; the events are kept to replay into HTTP/2.
    Sniffing {
        sniffer: Box<JoinedSniffer>,
        held: Vec<StreamEvent>,
    },
}

pub struct ProtocolStage {
    http1: HttpStage,
    http2: Http2Stage,
    routes: HashMap<u64, Route>,
}

impl ProtocolStage {
    pub fn new(config: &HttpConfig) -> Self {
        ProtocolStage {
            http1: HttpStage::new(config),
            http2: Http2Stage::new(config),
            routes: HashMap::new(),
        }
    }

    pub fn counters(&self) -> HttpCounters {
        self.http1.counters()
    }

    /// None until some connection was HTTP/2.
    pub fn http2_counters(&self) -> Option<Http2Counters> {
        self.http2.counters()
    }

    /// Transactions produced so far, both protocols.
    pub fn transactions(&self) -> u64 {
        self.http1.counters().transactions + self.http2.counters().map_or(0, |c| c.transactions)
    }

    pub fn on_event(&mut self, event: &StreamEvent, out: &mut Vec<HttpTransaction>) {
        let meta = event_meta(event);
        let id = meta.id;
        if let StreamEvent::Open { .. } = event {
            // A reused id: what the old connection left is finished first.
            if let Some(Route::Http2) = self.routes.get(&id) {
                let b = self.http1.budget_mut();
                self.http2
                    .close(meta, event.ts_ns(), EndReason::ConnectionClosed, b, out);
            }
            self.routes.insert(id, initial(meta));
            self.http1.on_event(event, out);
            return;
        }
        let route = self.routes.entry(id).or_insert_with(|| initial(meta));
        let action = match route {
            Route::Http1 => Action::Http1,
            Route::Http2 => Action::Http2,
            Route::Undecided { held, bytes } => match event {
                StreamEvent::Data {
                    direction,
                    bytes: b,
                    ..
                } => {
                    *bytes += b.len();
                    held.push(event.clone());
                    match decide(meta, held, *direction) {
                        Decision::Wait if *bytes <= MAX_HELD => return,
                        Decision::Wait | Decision::Http1 => Action::SettleHttp1(take_held(route)),
                        Decision::Http2(client) => Action::Preface(client, take_held(route)),
                    }
                }
                _ => {
                    let mut held = take_held(route);
                    held.push(event.clone());
                    Action::SettleHttp1(held)
                }
            },
            Route::Sniffing { .. } => Action::Sniff,
        };
        match action {
            Action::Http1 => {
                let from = out.len();
                self.http1.on_event(event, out);
                if let StreamEvent::Close { .. } = event {
                    self.routes.remove(&id);
                } else {
                    self.follow_upgrade(event, from, out);
                }
            }
            Action::Http2 => self.to_http2(event, out),
            Action::SettleHttp1(held) => {
                self.routes.insert(id, Route::Http1);
                for ev in &held {
                    let from = out.len();
                    self.http1.on_event(ev, out);
                    if let StreamEvent::Close { .. } = ev {
                        self.routes.remove(&id);
                    } else if matches!(self.routes.get(&id), Some(Route::Http1)) {
                        self.follow_upgrade(ev, from, out);
                    } else {
                        // An upgrade among the held events: the rest are HTTP/2's.
                        self.to_http2(ev, out);
                    }
                }
            }
            Action::Preface(client, held) => {
                self.routes.insert(id, Route::Http2);
                self.http1.forget(id);
                self.http2.open(meta, client, Begin::Preface);
                for ev in &held {
                    self.to_http2(ev, out);
                }
            }
            Action::Sniff => self.sniff(meta, event, out),
        }
    }

    /// A joined connection: HTTP/1 reads it, and so does the sniffer, until one of them knows.
    fn sniff(&mut self, meta: &Arc<ConnMeta>, event: &StreamEvent, out: &mut Vec<HttpTransaction>) {
        let id = meta.id;
        let from = out.len();
        self.http1.on_event(event, out);
        let saw_http = self.http1.saw_http(id);
        let Some(Route::Sniffing { sniffer, held }) = self.routes.get_mut(&id) else {
            return;
        };
        let sniff = match event {
            StreamEvent::Data {
                direction, bytes, ..
            } => sniffer.data(*direction, bytes),
            StreamEvent::Gap { direction, len, .. } => {
                sniffer.gap(*direction, *len);
                Sniff::Undecided
            }
            _ => Sniff::NotHttp2,
        };
        if saw_http || sniff == Sniff::NotHttp2 || held.len() >= MAX_HELD_EVENTS {
            self.routes.insert(id, Route::Http1);
            if let StreamEvent::Close { .. } = event {
                self.routes.remove(&id);
            }
            return;
        }
        held.push(event.clone());
        if sniff == Sniff::Http2 {
            let held = std::mem::take(held);
            self.routes.insert(id, Route::Http2);
            // Whatever HTTP/1 made of these bytes was not HTTP/1.
            out.truncate(from);
            self.http1.forget(id);
            self.http2.open(meta, client_dir(meta), Begin::Joined);
            for ev in &held {
                self.to_http2(ev, out);
            }
        }
    }

    fn to_http2(&mut self, event: &StreamEvent, out: &mut Vec<HttpTransaction>) {
        let budget = self.http1.budget_mut();
        match event {
            StreamEvent::Open { .. } => {}
            StreamEvent::Data {
                meta,
                direction,
                ts_ns,
                bytes,
                ..
            } => self
                .http2
                .data(meta, *direction, bytes, *ts_ns, budget, out),
            StreamEvent::Gap {
                meta,
                direction,
                len,
                ..
            } => self.http2.gap(meta.id, *direction, *len),
            StreamEvent::Close {
                meta,
                ts_ns,
                reason,
                ..
            } => {
                let reason = match reason {
                    CloseReason::Shutdown => EndReason::MonitorStopped,
                    _ => EndReason::ConnectionClosed,
                };
                self.http2.close(meta, *ts_ns, reason, budget, out);
                self.routes.remove(&meta.id);
            }
        }
    }

    /// An `Upgrade: h2c` request answered 101 is HTTP/2 from the next byte: the request is
    /// stream 1's, so its transaction is held back and finished by stream 1's response.
    fn follow_upgrade(&mut self, event: &StreamEvent, from: usize, out: &mut Vec<HttpTransaction>) {
        let StreamEvent::Data {
            meta, direction, ..
        } = event
        else {
            return;
        };
        let Some(i) = out[from..].iter().position(is_h2c_upgrade) else {
            return;
        };
        let t = out.remove(from + i);
        let rest = self.http1.take_upgrade_rest(meta.id);
        self.http1.forget(meta.id);
        // The 101 came from the server: the client is the other direction.
        let client = other(*direction);
        self.http2.open_upgraded(meta, client, t);
        self.routes.insert(meta.id, Route::Http2);
        if !rest.is_empty() {
            let budget = self.http1.budget_mut();
            self.http2
                .data(meta, *direction, &rest, event.ts_ns(), budget, out);
        }
    }

    pub fn tick(&mut self, now_ns: u64, out: &mut Vec<HttpTransaction>) {
        self.http1.tick(now_ns, out);
        let budget = self.http1.budget_mut();
        self.http2.tick(now_ns, budget, out);
    }

    pub fn shutdown(&mut self, now_ns: u64, out: &mut Vec<HttpTransaction>) {
        // Held events go to HTTP/1, which they would have gone to anyway.
        let mut ids: Vec<u64> = self
            .routes
            .iter()
            .filter(|(_, r)| matches!(r, Route::Undecided { .. }))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(route) = self.routes.get_mut(&id) {
                let held = take_held(route);
                *route = Route::Http1;
                for ev in &held {
                    self.http1.on_event(ev, out);
                }
            }
        }
        self.http1.shutdown(now_ns, out);
        let budget = self.http1.budget_mut();
        self.http2.shutdown(now_ns, budget, out);
        self.routes.clear();
    }
}

/// What to do with an event, once the route has been looked at.
enum Action {
    Http1,
    Http2,
    /// HTTP/1 after all: the held events (this one last) go there in order.
    SettleHttp1(Vec<StreamEvent>),
    /// The client preface: HTTP/2 from the start, the held events replayed into it.
    Preface(Direction, Vec<StreamEvent>),
    Sniff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Wait,
    Http1,
    Http2(Direction),
}

/// A connection whose start the kernel saw starts at a message boundary (as HTTP/1's
/// `Exchange` assumes); any other was joined mid-way.
fn initial(meta: &ConnMeta) -> Route {
    if meta.attribution == Attribution::Kernel && meta.role != Role::Unknown {
        Route::Undecided {
            held: Vec::new(),
            bytes: 0,
        }
    } else {
        Route::Sniffing {
            sniffer: Box::default(),
            held: Vec::new(),
        }
    }
}

/// The decision for a connection whose first bytes are `held` (data events only), the last
/// one on `last`.
fn decide(meta: &ConnMeta, held: &[StreamEvent], last: Direction) -> Decision {
    let client = known_client_dir(meta).unwrap_or(last);
    let mut first = Vec::new();
    for ev in held {
        if let StreamEvent::Data {
            direction, bytes, ..
        } = ev
            && *direction == client
        {
            first.extend_from_slice(bytes);
        }
    }
    if !first.is_empty() {
        return match detect::client_start(&first) {
            FirstBytes::Http2 => Decision::Http2(client),
            FirstBytes::Other => Decision::Http1,
            FirstBytes::Undecided => Decision::Wait,
        };
    }
    // Only the server has spoken.
    let mut server = Vec::new();
    for ev in held {
        if let StreamEvent::Data { bytes, .. } = ev {
            server.extend_from_slice(bytes);
        }
    }
    match detect::server_start(&server) {
        FirstBytes::Undecided => Decision::Wait,
        _ => Decision::Http1,
    }
}

fn known_client_dir(meta: &ConnMeta) -> Option<Direction> {
    match meta.role {
        Role::Client => Some(Direction::Egress),
        Role::Server => Some(Direction::Ingress),
        Role::Unknown => None,
    }
}

/// A joined connection of unknown role is taken as the observed process being the client.
fn client_dir(meta: &ConnMeta) -> Direction {
    known_client_dir(meta).unwrap_or(Direction::Egress)
}

fn take_held(route: &mut Route) -> Vec<StreamEvent> {
    match route {
        Route::Undecided { held, .. } | Route::Sniffing { held, .. } => std::mem::take(held),
        _ => Vec::new(),
    }
}

fn is_h2c_upgrade(t: &HttpTransaction) -> bool {
    t.outcome == Outcome::Upgraded
        && t.response.as_ref().is_some_and(|r| {
            r.status == 101
                && r.headers
                    .get_str("upgrade")
                    .is_some_and(|u| u.trim().eq_ignore_ascii_case("h2c"))
        })
}

fn other(dir: Direction) -> Direction {
    match dir {
        Direction::Egress => Direction::Ingress,
        Direction::Ingress => Direction::Egress,
    }
}

fn event_meta(event: &StreamEvent) -> &Arc<ConnMeta> {
    match event {
        StreamEvent::Open { meta, .. }
        | StreamEvent::Data { meta, .. }
        | StreamEvent::Gap { meta, .. }
        | StreamEvent::Close { meta, .. } => meta,
    }
}
