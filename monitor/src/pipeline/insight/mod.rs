//! Sessions and discovery on each transaction, between parsing and export: who sent it
//! (`session::actor`), which session it is part of (`session::tracker`), which endpoint it
//! called (`discovery::inventory`); and the `endpoint` and `session` events these produce;
//! `detect` runs detection's passes on a batch.

mod detect;

use std::{
    borrow::Cow,
    fs, io,
    net::{IpAddr, SocketAddr},
    path::Path,
};

use sha2::{Digest, Sha256};

use detect::Judged;

use crate::{
    clock::Clock,
    config::Config,
    conn::{ConnMeta, Role},
    detection::{Detection, DetectionCounters},
    discovery::inventory::{
        DiscoveryCounters, EndpointChange, EndpointRef, Inventory, Observation, ServiceKey,
    },
    discovery::{
        ai::{self, AiCall},
        openapi,
    },
    export::{
        OutputEvent,
        alert::AlertEvent,
        http::split_target,
        insight::{EndpointEvent, HttpInsight, SensitiveOut, SessionEvent, session_text},
    },
    session::{
        actor::{ActorResolver, Identity},
        tracker::{
            SessionCounters, SessionId, SessionState, SessionSummary, SessionTracker, Touch,
        },
    },
    transaction::{Headers, HttpRequest, HttpTransaction, body},
};

pub struct Insight {
    actors: ActorResolver,
    sessions: SessionTracker,
    inventory: Inventory,
    clock: Clock,
    /// Sessions the last `sessions` call ended (reused).
    ended: Vec<SessionSummary>,
    changes: Vec<(ServiceKey, String, String, EndpointChange)>,
    /// Events ready to be written, in order.
    events: Vec<OutputEvent>,
    /// Decoded body bytes inspected per message.
    max_decoded: usize,
    /// Headers of a response that was not captured.
    no_headers: Headers,
    /// Abuse detection; None with `--no-detection`.
    detection: Option<Detection>,
}

/// One transaction between the two passes of [`Insight::observe_batch`]: what sessions and
/// discovery found, which detection reads, and the events it caused so far.
struct Seen<'t> {
    t: &'t HttpTransaction,
    request: &'t HttpRequest,
    identity: Identity,
    path: &'t str,
    query: Option<&'t str>,
    request_body: Cow<'t, [u8]>,
    response_body: Option<Cow<'t, [u8]>>,
    ai: Option<AiCall>,
    service: Option<ServiceKey>,
    request_type: Option<&'t str>,
    response_type: Option<&'t str>,
    endpoint: Option<EndpointRef>,
    label: Option<String>,
    session: SessionId,
    /// Endpoint events, in order.
    events: Vec<OutputEvent>,
    /// Sessions ended by this transaction (the actor's last, or one evicted).
    ended: Vec<SessionSummary>,
}

/// Names the redaction key without revealing it: the detection state's actors are only
/// meaningful under the key that made their ids.
fn key_fingerprint(key: &[u8; 32]) -> String {
    let digest = Sha256::new()
        .chain_update(b"monitor detection state\0")
        .chain_update(key)
        .finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Insight {
    pub fn new(config: &Config, key: [u8; 32], clock: Clock) -> Self {
        Self {
            actors: ActorResolver::new(&config.actors, key),
            sessions: SessionTracker::new(&config.sessions),
            inventory: Inventory::new(&config.discovery),
            clock,
            ended: Vec::new(),
            changes: Vec::new(),
            events: Vec::new(),
            max_decoded: config.http.max_decoded_bytes,
            no_headers: Headers::default(),
            detection: (config.detection.enabled).then(|| {
                let mut d = Detection::new(&config.detection.rules, clock, key_fingerprint(&key));
                if let Some(dir) = &config.detection.state_dir
                    && let Err(err) = d.restore(dir)
                {
                    log::warn!("{err}; detection starts with nothing learned");
                }
                d
            }),
        }
    }

    /// What each of `batch` says of its actor, session and endpoint, in order, with the events
    /// each caused (written after it). Passes over the whole batch: sessions and discovery,
    /// detection's (see [`detect`]), then the events, so that each stage's code and tables stay
    /// in the CPU's caches across the batch (interleaved, each evicted the other's every time).
    pub fn observe_batch<'t>(
        &mut self,
        batch: &'t [HttpTransaction],
        out: &mut Vec<(HttpInsight, Vec<OutputEvent>)>,
    ) {
        // Read in place by the second pass, then dropped in place: each is a few hundred bytes.
        let mut seen: Vec<Option<Seen<'t>>> = batch.iter().map(|t| self.discover(t)).collect();
        // Detection's passes, on the whole batch too.
        let mut judged = match &mut self.detection {
            Some(d) => detect::batch(d, &seen),
            None => Vec::new(),
        };
        let mut judged = judged.drain(..);
        out.reserve(seen.len());
        for seen in &mut seen {
            let judged = judged.next().unwrap_or_default();
            out.push(match seen {
                Some(seen) => self.finish(seen, judged),
                None => (HttpInsight::default(), Vec::new()),
            });
        }
    }

    /// The first pass on `t`: actor, session and endpoint (None without a request).
    fn discover<'t>(&mut self, t: &'t HttpTransaction) -> Option<Seen<'t>> {
        let request = t.request.as_ref()?;
        let (server, client) = sides(&t.meta);
        let identity = self.actors.identify(request, client.map(|c| c.ip()));
        let (path, query) = split_target(&request.target);
        let response = t.response.as_ref();
        let (request_body, response_body) = match t.grpc.as_deref() {
            // Framed protobuf means nothing to schema inference or detection: they read the
            // decoded messages, as JSON text.
            Some(call) => (
                message_text(call.request_body.as_ref()),
                response.map(|_| message_text(call.response_body.as_ref())),
            ),
            None => (
                body::decoded(
                    &request.body.captured,
                    request.headers.get_str("content-encoding"),
                    self.max_decoded,
                ),
                response.map(|r| {
                    body::decoded(
                        &r.body.captured,
                        r.headers.get_str("content-encoding"),
                        self.max_decoded,
                    )
                }),
            ),
        };
        let ai = path.and_then(|path| {
            ai::recognise(&ai::Exchange {
                path,
                request_headers: &request.headers,
                request_body: &request_body,
                status: response.map(|r| r.status),
                response_headers: response.map_or(&self.no_headers, |r| &r.headers),
                response_body: response_body.as_deref().unwrap_or(&[]),
            })
        });
        let origin_path = path.filter(|p| p.starts_with('/'));
        // Discovery and detection both read them; each is a scan of the headers.
        let request_type = request.headers.get_str("content-type");
        let response_type = response.and_then(|r| r.headers.get_str("content-type"));
        let service = origin_path.map(|_| {
            ServiceKey::new(
                server,
                host(request.headers.get_str("host"), &request.target),
            )
        });
        let endpoint = origin_path
            .zip(service.as_ref())
            .and_then(|(path, service)| {
                let observation = Observation {
                    service,
                    method: &request.method,
                    path,
                    query,
                    status: response.map(|r| r.status),
                    auth: identity.auth,
                    latency_ns: t.latency_ns(),
                    request_type,
                    response_type,
                    role: t.meta.role,
                    ts_ns: t.start_ts_ns,
                    request_body: &request_body,
                    response_body: response_body.as_deref().unwrap_or(&[]),
                    ai: ai.as_ref(),
                    grpc: t.grpc.as_deref(),
                };
                self.inventory.observe(&observation, &mut self.changes)
            });
        let mut events = Vec::new();
        self.queue_changes(t.start_ts_ns, &mut events);
        let label = endpoint.as_ref().map(|e| {
            let mut label = String::with_capacity(e.method.len() + 1 + e.template.len());
            label.push_str(&e.method);
            label.push(' ');
            label.push_str(&e.template);
            label
        });
        let touch = Touch {
            actor: identity.actor,
            client_ip: identity.client_ip,
            user_agent: identity.user_agent.as_deref(),
            endpoint: label.as_deref(),
            status: response.map(|r| r.status),
            request_bytes: request.body.size,
            response_bytes: response.map_or(0, |r| r.body.size),
            start_ns: t.start_ts_ns,
            end_ns: t.end_ts_ns,
        };
        let session = self.sessions.observe(&touch, &mut self.ended);
        Some(Seen {
            t,
            request,
            identity,
            path: path.unwrap_or_default(),
            query,
            request_body,
            response_body,
            ai,
            service,
            request_type,
            response_type,
            endpoint,
            label,
            session,
            events,
            ended: std::mem::take(&mut self.ended),
        })
    }

    /// The last pass: what detection said of a transaction (its alerts, the alert reports it
    /// caused, the verdicts of the sessions it ended) joins its events.
    fn finish(&mut self, seen: &mut Seen<'_>, judged: Judged) -> (HttpInsight, Vec<OutputEvent>) {
        let Judged {
            alerts,
            reports,
            verdicts,
        } = judged;
        let Seen {
            identity,
            ai,
            endpoint,
            session,
            events,
            ended,
            ..
        } = seen;
        let session = *session;
        let mut events = std::mem::take(events);
        for report in reports {
            events.push(OutputEvent::Alert(Box::new(AlertEvent::new(
                &self.clock,
                report,
            ))));
        }
        let mut verdicts = verdicts.into_iter();
        for summary in ended.drain(..) {
            let verdict = verdicts.next().flatten();
            events.push(OutputEvent::Session(SessionEvent::new(
                &self.clock,
                summary,
                verdict,
            )));
        }
        let insight = HttpInsight {
            actor: Some(identity.actor.into()),
            client_ip: identity.client_ip.map(ip_text),
            auth: Some(identity.auth),
            session_id: Some(session_text(session, &self.clock)),
            sensitive: endpoint.as_ref().map(|e| SensitiveOut {
                request: e.request_classes,
                response: e.response_classes,
            }),
            path_template: endpoint.take().map(|e| e.template),
            ai: ai.take(),
            alerts,
        };
        (insight, events)
    }

    /// Sessions idle at `now_ns` end; lasting ones are reported when due.
    pub fn tick(&mut self, now_ns: u64) {
        if let Some(d) = &mut self.detection {
            d.tick(now_ns);
        }
        self.queue_ended(|sessions, ended| sessions.tick(now_ns, ended));
    }

    /// Every session and alert ends (the monitor stops).
    pub fn shutdown(&mut self) {
        if let Some(d) = &mut self.detection {
            d.shutdown();
        }
        self.queue_ended(SessionTracker::shutdown);
    }

    /// Detection counters (None with `--no-detection`).
    pub fn detection_counters(&self) -> Option<DetectionCounters> {
        self.detection.as_ref().map(Detection::counters)
    }

    /// Saves what detection learned to `dir` (a failure is logged and counted).
    pub fn save_detection_state(&mut self, dir: &Path, unix_now_ns: u64) {
        if let Some(d) = &mut self.detection
            && let Err(err) = d.save(dir, unix_now_ns)
        {
            log::warn!("{err}");
        }
    }

    /// The events queued since the last call.
    pub fn take_events(&mut self) -> std::vec::Drain<'_, OutputEvent> {
        self.events.drain(..)
    }

    pub fn counters(&self) -> (DiscoveryCounters, SessionCounters) {
        (self.inventory.counters(), self.sessions.counters())
    }

    /// The inventory as an OpenAPI 3.1 document (services whose label contains `service`).
    pub fn openapi(&self, service: Option<&str>) -> serde_json::Value {
        openapi::document(&self.inventory, &self.clock, service)
    }

    /// Replaces `path` with the OpenAPI document in one rename, so a reader never sees half.
    pub fn write_openapi(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let text = serde_json::to_vec_pretty(&self.openapi(None)).map_err(io::Error::other)?;
        fs::write(&tmp, text)?;
        fs::rename(&tmp, path)
    }

    /// Queues the alerts detection reported, then the sessions `end` ends (a tick, or the
    /// shutdown), with their verdicts.
    fn queue_ended(&mut self, end: impl FnOnce(&mut SessionTracker, &mut Vec<SessionSummary>)) {
        let mut events = std::mem::take(&mut self.events);
        self.queue_alerts(&mut events);
        end(&mut self.sessions, &mut self.ended);
        let ended = std::mem::take(&mut self.ended);
        self.queue_sessions(ended, &mut events);
        self.events = events;
    }

    fn queue_changes(&mut self, ts_ns: u64, events: &mut Vec<OutputEvent>) {
        for (service, method, template, change) in self.changes.drain(..) {
            if let Some(e) = self.inventory.endpoint(&service, &method, &template) {
                let event = EndpointEvent::new(&self.clock, ts_ns, change, &service, e);
                events.push(OutputEvent::Endpoint(event));
            }
            self.inventory.reported(&service, &method, &template);
        }
    }

    fn queue_sessions(&mut self, ended: Vec<SessionSummary>, events: &mut Vec<OutputEvent>) {
        for summary in ended {
            let ended = summary.state != SessionState::Active;
            let verdict = self
                .detection
                .as_mut()
                .and_then(|d| d.verdict(&summary.id, ended));
            let event = SessionEvent::new(&self.clock, summary, verdict);
            events.push(OutputEvent::Session(event));
        }
    }

    fn queue_alerts(&mut self, events: &mut Vec<OutputEvent>) {
        if let Some(d) = &mut self.detection {
            for report in d.take_reports() {
                let event = AlertEvent::new(&self.clock, report);
                events.push(OutputEvent::Alert(Box::new(event)));
            }
        }
    }
}

/// A decoded gRPC message as the JSON body discovery infers schemas from; empty without one.
fn message_text(message: Option<&serde_json::Value>) -> Cow<'static, [u8]> {
    match message.map(serde_json::to_vec) {
        Some(Ok(text)) => Cow::Owned(text),
        _ => Cow::Borrowed(&[]),
    }
}

/// (server, client) addresses from the observed process's role.
fn sides(meta: &ConnMeta) -> (Option<SocketAddr>, Option<SocketAddr>) {
    match (meta.endpoints, meta.role) {
        (Some(ep), Role::Server) => (Some(ep.local), Some(ep.remote)),
        (Some(ep), Role::Client) => (Some(ep.remote), Some(ep.local)),
        _ => (None, None),
    }
}

/// The Host header, or the authority of an absolute-form target.
fn host<'a>(header: Option<&'a str>, target: &'a str) -> Option<&'a str> {
    header.or_else(|| {
        let rest = target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))?;
        rest.split(['/', '?']).next()
    })
}

/// An address as `Display` writes it; IPv4 (the usual client) without the formatting
/// machinery, which cost about a thousand instructions per transaction.
fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let mut text = String::with_capacity(15);
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    text.push('.');
                }
                text.push_str(itoa::Buffer::new().format(octet));
            }
            text
        }
        IpAddr::V6(_) => ip.to_string(),
    }
}

#[cfg(test)]
mod ip_tests {
    use super::*;

    #[test]
    fn ip_text_is_the_display_form() {
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "255.255.255.255",
            "192.168.100.7",
            "::1",
            "2001:db8::8a2e:370:7334",
            "::ffff:10.1.2.3",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }
}
