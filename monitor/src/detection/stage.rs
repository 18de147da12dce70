//! The detection stage: runs every detector on each sighting, turns findings into alerts (one
//! per actor and category while it lasts), keeps session verdicts, and saves what it learned.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroUsize,
    path::Path,
};

use lru::LruCache;
use schemars::JsonSchema;
use serde::Serialize;

use super::{
    actors::{ActorState, AddressState},
    alerts::{AlertBook, AlertReport, Contribution},
    behaviour::{
        self, Ctx, browsing, cadence, credentials, enumeration, exposure, login,
        params::{NameSet, Params},
        rate, rotation, scanner, scraping, takeover,
    },
    category::{Category, Severity},
    finding::{Finding, WalkStep},
    hit::{Part, SignatureHit},
    learned::Learned,
    prompt::{AiExchange, PromptScanner},
    rules::Rules,
    sighting::Sighting,
    signatures::{RequestParts, SignatureScanner},
    state::{self, KnownActor, StateError, StateFile},
    verdicts::{Verdict, Verdicts},
    window::hash_of,
};
use crate::{
    clock::{Clock, rfc3339},
    conn::Role,
    session::{
        actor::{Actor, ActorId, ActorKind},
        tracker::SessionId,
    },
};

/// What detection did, in `stats.detection`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct DetectionCounters {
    /// Transactions judged.
    pub transactions: u64,
    /// Transactions skipped because the other end of the same connection is observed too
    /// (a local client of a local server): each exchange is judged once, on the server side.
    pub other_end_skipped: u64,
    /// Alerts raised, by category.
    pub alerts_raised: std::collections::BTreeMap<&'static str, u64>,
    pub alerts_open: u64,
    pub alerts_ended: u64,
    /// Alerts ended early because too many were open.
    pub alerts_evicted: u64,
    /// Findings that raised no alert: their category is disabled or below `min_severity`.
    pub findings_suppressed: u64,
    pub actors_tracked: u64,
    /// Actors forgotten because `limits.max_actors` were followed (their state starts over).
    pub actors_evicted: u64,
    pub addresses_evicted: u64,
    pub fingerprints_evicted: u64,
    /// Parameters of an actor no longer followed for enumeration (more than 8 at once).
    pub parameters_evicted: u64,
    pub baselines: u64,
    pub baselines_evicted: u64,
    pub verdicts_evicted: u64,
    pub known_actors: u64,
    /// Values inspected by the injection signatures, skipped over their caps, and internal
    /// errors of a signature (caught, the value is skipped).
    pub signature_values: u64,
    pub signature_values_skipped: u64,
    pub signature_errors: u64,
    /// Texts of AI/MCP exchanges inspected by the prompt rules, text bytes left over the cap,
    /// and bodies that could not be read as their API's shape (scanned as plain text).
    pub prompt_texts: u64,
    pub prompt_bytes_skipped: u64,
    pub prompt_unparsed_bodies: u64,
    pub state_saves: u64,
    pub state_errors: u64,
}

#[derive(Debug, Clone, Default)]
struct Known {
    kind: Option<ActorKind>,
    /// Wall-clock, so they mean the same in the next run.
    first_unix_ns: u64,
    last_unix_ns: u64,
    ips: Vec<IpAddr>,
    agents: Vec<u64>,
}

/// Addresses and user agents remembered per known actor.
const KNOWN_KEPT: usize = 4;
/// Server endpoints remembered to recognise the other end of local connections.
const SERVERS: usize = 4096;

pub struct Detection {
    rules: Rules,
    pagination: NameSet,
    not_enumerated: NameSet,
    agents: scanner::AgentList,
    signatures: SignatureScanner,
    prompt: PromptScanner,
    actors: LruCache<ActorId, ActorState>,
    addresses: LruCache<IpAddr, AddressState>,
    fingerprints: LruCache<u64, rotation::FingerprintState>,
    servers: LruCache<SocketAddr, ()>,
    learned: Learned,
    alerts: AlertBook,
    verdicts: Verdicts,
    known: LruCache<ActorId, Known>,
    /// Fingerprint of the key actor ids are made with (known actors are only kept under it).
    key_fingerprint: String,
    clock: Clock,
    counters: DetectionCounters,
    hits: Vec<SignatureHit>,
    findings: Vec<(Finding, Option<Actor>)>,
    ids: Vec<String>,
}

impl std::fmt::Debug for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detection")
            .field("actors", &self.actors.len())
            .field("alerts", &self.alerts)
            .finish_non_exhaustive()
    }
}

fn lru<K: std::hash::Hash + Eq, V>(cap: usize) -> LruCache<K, V> {
    LruCache::new(NonZeroUsize::new(cap).unwrap_or(NonZeroUsize::MIN))
}

/// Severity of a signature's category before counting.
fn signature_severity(category: Category, hit: &SignatureHit) -> Severity {
    if hit.confidence < 0.5 {
        return Severity::Low;
    }
    match category {
        Category::Sqli
        | Category::CommandInjection
        | Category::TemplateInjection
        | Category::Ssrf => Severity::High,
        Category::PromptInjection => match hit.location.part {
            Part::ToolResult | Part::Retrieved | Part::McpResponse => Severity::High,
            _ => Severity::Medium,
        },
        Category::SensitiveDataLeak if hit.rule.starts_with("secret") => Severity::High,
        _ => Severity::Medium,
    }
}

impl Detection {
    /// `key_fingerprint` names the key actor ids are made with (see [`StateFile`]).
    pub fn new(rules: &Rules, clock: Clock, key_fingerprint: String) -> Self {
        let l = &rules.limits;
        Self {
            pagination: NameSet::new(enumeration::PAGINATION),
            not_enumerated: NameSet::new(&rules.enumeration.ignore_params),
            agents: scanner::AgentList::new(&rules.scanner),
            signatures: SignatureScanner::new(&rules.signatures),
            prompt: PromptScanner::new(&rules.prompt),
            actors: lru(l.max_actors),
            addresses: lru(l.max_addresses),
            fingerprints: lru(l.max_fingerprints),
            servers: lru(SERVERS),
            learned: Learned::new(rules.baseline, l.max_baselines),
            alerts: AlertBook::new(&rules.alerts),
            verdicts: Verdicts::new(l.max_sessions),
            known: lru(l.max_known_actors.max(1)),
            key_fingerprint,
            clock,
            counters: DetectionCounters::default(),
            hits: Vec::new(),
            findings: Vec::new(),
            ids: Vec::new(),
            rules: rules.clone(),
        }
    }

    /// Judges one transaction; the ids of the alerts it contributed to.
    pub fn observe(&mut self, s: &Sighting) -> Vec<String> {
        self.ids.clear();
        if self.other_end(s) {
            self.counters.other_end_skipped += 1;
            return Vec::new();
        }
        self.counters.transactions += 1;
        let now = s.ts_ns;
        self.findings.clear();
        self.signatures_of(s);

        let endpoint = match (s.label, s.service) {
            (Some(label), Some(service)) => {
                use std::hash::BuildHasher;
                foldhash::quality::FixedState::with_seed(7).hash_one((service, label))
            }
            (Some(label), None) => hash_of(label.as_bytes()),
            _ => 0,
        };
        let params = Params::of(s.path, s.template, s.query);
        if !self.actors.contains(&s.actor.id) && self.actors.len() == self.actors.cap().get() {
            self.counters.actors_evicted += 1;
        }
        let st = self
            .actors
            .get_or_insert_mut(s.actor.id, || ActorState::new(s.actor.kind));
        let quiet = st
            .quiet_until
            .iter()
            .enumerate()
            .filter(|(_, until)| now < **until)
            .fold(0u32, |mask, (i, _)| mask | 1 << i);
        let agent = s.user_agent.map_or(0, |ua| hash_of(ua.as_bytes()));
        let mut cx = Ctx {
            agent,
            quiet,
            s,
            now,
            kind: s.actor.kind,
            actor: s.actor.id.0,
            endpoint,
            label: s.label,
            params: &params,
            learning: now >= st.alerted_until,
            pagination: &self.pagination,
            not_enumerated: &self.not_enumerated,
            learned: &mut self.learned,
        };
        let r = &self.rules;
        let found = &mut self.findings;
        let injections = found
            .iter()
            .filter(|(f, _)| {
                !matches!(
                    f.category,
                    Category::PromptInjection | Category::SensitiveDataLeak
                )
            })
            .count() as u32;
        if r.rate_anomaly.enabled
            && let Some(f) = rate::observe(&r.rate_anomaly, &mut st.rate, &mut cx)
        {
            found.push((f, None));
        }
        if r.bot_cadence.enabled
            && let Some(f) = cadence::observe(&r.bot_cadence, &mut st.cadence, &cx)
        {
            found.push((f, None));
        }
        if r.enumeration.enabled && (!params.path().is_empty() || !params.query().is_empty()) {
            let e = st.enumeration.get_or_insert_with(Default::default);
            let before = e.dropped;
            if let Some(f) = enumeration::observe(&r.enumeration, e, &mut cx) {
                found.push((f, None));
            }
            self.counters.parameters_evicted += e.dropped - before;
        }
        if r.scraping.enabled && matches!(s.status, Some(200..=299)) && s.method == "GET" {
            let sc = st.scraping.get_or_insert_with(Default::default);
            if let Some(f) = scraping::observe(&r.scraping, sc, &mut cx) {
                found.push((f, None));
            }
        }
        let mut distinct_not_found = 0;
        if r.forced_browsing.enabled && (s.status == Some(404) || st.browsing.is_some()) {
            let b = st.browsing.get_or_insert_with(Default::default);
            if let Some(f) = browsing::observe(&r.forced_browsing, b, &cx) {
                found.push((f, None));
            }
            distinct_not_found = b.distinct_not_found(now, &r.forced_browsing);
        }
        if r.scanner.enabled {
            let signals = scanner::Signals {
                distinct_not_found,
                injections,
            };
            if let Some(f) =
                scanner::observe(&r.scanner, &self.agents, &mut st.scanner, &cx, signals)
            {
                found.push((f, None));
            }
        }
        if r.credentials.enabled
            && let Some(event) = login::event(s)
        {
            let mut out = Vec::new();
            let c = st.credentials.get_or_insert_with(Default::default);
            credentials::observe(&r.credentials, c, now, event, "actor", &mut out);
            let by_actor: Vec<Category> = out.iter().map(|f| f.category).collect();
            found.extend(out.drain(..).map(|f| (f, None)));
            if let Some(ip) = s.client_ip {
                if !self.addresses.contains(&ip)
                    && self.addresses.len() == self.addresses.cap().get()
                {
                    self.counters.addresses_evicted += 1;
                }
                let a = self.addresses.get_or_insert_mut(ip, AddressState::default);
                credentials::observe(
                    &r.credentials,
                    &mut a.credentials,
                    now,
                    event,
                    "address",
                    &mut out,
                );
                for f in out.drain(..) {
                    if by_actor.contains(&f.category) {
                        continue;
                    }
                    let actor = *a.alert_actor.get_or_insert(s.actor);
                    found.push((f, Some(actor)));
                }
            }
        }
        if r.account_takeover.enabled && s.actor.kind != ActorKind::Ip {
            let t = st.takeover.get_or_insert_with(Default::default);
            let known = self.known.peek(&s.actor.id);
            let known = takeover::Known {
                ips: known.map_or(&[][..], |k| &k.ips),
                agents: known.map_or(&[][..], |k| &k.agents),
            };
            if let Some(f) = takeover::observe(&r.account_takeover, t, &cx, known) {
                found.push((f, None));
            }
        }
        if r.ip_rotation.enabled {
            if s.actor.kind != ActorKind::Ip {
                let ro = st.rotation.get_or_insert_with(Default::default);
                if let Some(mut f) = rotation::observe(&r.ip_rotation, ro, &cx) {
                    f.addresses = ro.recent.clone();
                    found.push((f, None));
                }
            } else if let Some(fp) = rotation::fingerprint(&cx) {
                if !self.fingerprints.contains(&fp)
                    && self.fingerprints.len() == self.fingerprints.cap().get()
                {
                    self.counters.fingerprints_evicted += 1;
                }
                let fs = self.fingerprints.get_or_insert_mut(fp, Default::default);
                if let Some(mut f) = rotation::observe_fingerprint(&r.ip_rotation, fs, &cx) {
                    f.addresses = fs.recent.clone();
                    let group = Actor {
                        id: ActorId(fp.to_be_bytes()),
                        kind: ActorKind::Ip,
                    };
                    found.push((f, Some(group)));
                }
            }
        }
        if r.sensitive_data.enabled
            && let Some(f) = exposure::observe(&r.sensitive_data, &mut st.exposure, &mut cx)
        {
            found.push((f, None));
        }
        let endpoint_text = s.template.unwrap_or(s.path);
        st.walk
            .record(now, s.method, endpoint_text, s.status, s.client_ip);
        self.raise(s, endpoint_text);
        self.remember(s, agent);
        std::mem::take(&mut self.ids)
    }

    /// Whether `s` is the client's view of a connection whose server is observed too.
    fn other_end(&mut self, s: &Sighting) -> bool {
        let server = s
            .service
            .and_then(|svc| Some(SocketAddr::new(svc.address?, svc.port?)));
        let Some(server) = server else {
            return false;
        };
        match s.role {
            Role::Server => {
                // Only new servers are put: their order matters only for eviction.
                if !self.servers.contains(&server) {
                    self.servers.put(server, ());
                }
                false
            }
            Role::Client => self.servers.get(&server).is_some(),
            Role::Unknown => false,
        }
    }

    /// Injection and prompt signatures: one finding per category.
    fn signatures_of(&mut self, s: &Sighting) {
        self.hits.clear();
        let counts = self.signatures.scan(
            &RequestParts {
                method: s.method,
                path: s.path,
                query: s.query,
                headers: s.request_headers,
                content_type: s.request_type,
                body: s.request_body,
            },
            &mut self.hits,
        );
        self.counters.signature_values += u64::from(counts.values);
        self.counters.signature_values_skipped += u64::from(counts.skipped);
        self.counters.signature_errors += u64::from(counts.errors);
        if let Some(call) = s.ai {
            let counts = self.prompt.scan(
                &AiExchange {
                    call,
                    request_body: s.request_body,
                    request_type: s.request_type,
                    response_body: s.response_body,
                    response_type: s.response_type,
                },
                &mut self.hits,
            );
            self.counters.prompt_texts += counts.texts as u64;
            self.counters.prompt_bytes_skipped += counts.bytes_skipped as u64;
            self.counters.prompt_unparsed_bodies += counts.unparsed_bodies as u64;
        }
        for hit in self.hits.drain(..) {
            let category = hit.category;
            let severity = signature_severity(category, &hit);
            match self
                .findings
                .iter_mut()
                .find(|(f, _)| f.category == category)
            {
                Some((f, _)) => {
                    f.severity = f.severity.max(severity);
                    f.confidence = f.confidence.max(hit.confidence);
                    if f.evidence.signatures.len() < super::finding::MAX_SIGNATURES {
                        f.evidence.signatures.push(hit);
                    }
                }
                None => {
                    let mut f = Finding::new(category, severity, hit.confidence);
                    f.evidence.signatures.push(hit);
                    self.findings.push((f, None));
                }
            }
        }
        for (f, _) in &mut self.findings {
            let n = f.evidence.signatures.len() as f64;
            f.evidence.figures.insert("signatures_matched", n);
        }
    }

    /// Alerts for this transaction's findings.
    fn raise(&mut self, s: &Sighting, endpoint: &str) {
        let quiet = self.rules.alerts.quiet_secs.saturating_mul(1_000_000_000);
        let clock = self.clock;
        for (finding, actor) in self.findings.drain(..) {
            if !self.rules.enabled(finding.category)
                || finding.severity < self.rules.alerts.min_severity
            {
                self.counters.findings_suppressed += 1;
                continue;
            }
            let actor = actor.unwrap_or(s.actor);
            let score = finding.severity.weight() * finding.confidence;
            let category = finding.category;
            let c = Contribution {
                actor,
                session: s.session,
                client_ip: s.client_ip,
                user_agent: s.user_agent,
                service: s.service,
                method: s.method,
                endpoint,
                now: s.ts_ns,
            };
            let actors = &self.actors;
            let walk = || {
                actors
                    .peek(&s.actor.id)
                    .map(|st| {
                        st.walk
                            .steps()
                            .map(|step| WalkStep {
                                ts: rfc3339(clock.unix_ns(step.ts_ns)),
                                method: step.method.clone(),
                                endpoint: step.endpoint.clone(),
                                status: step.status,
                                client_ip: step.client_ip.map(|ip| ip.to_string()),
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (id, quiet_until) = self.alerts.raise(finding, &c, walk);
            if !self.ids.iter().any(|i| i == id) {
                self.ids.push(id.to_owned());
            }
            self.verdicts.add(s.session, category, score);
            if let Some(st) = self.actors.peek_mut(&s.actor.id) {
                st.alerted_until = s.ts_ns.saturating_add(quiet);
                if actor == s.actor {
                    st.quiet_until[category.index()] = quiet_until;
                }
            }
        }
    }

    /// What the state file keeps of the actor.
    fn remember(&mut self, s: &Sighting, agent: u64) {
        let k = self.known.get_or_insert_mut(s.actor.id, Known::default);
        let unix = self.clock.unix_ns(s.ts_ns);
        if k.kind.is_none() {
            k.kind = Some(s.actor.kind);
            k.first_unix_ns = unix;
        }
        k.last_unix_ns = k.last_unix_ns.max(unix);
        if let Some(ip) = s.client_ip
            && k.ips.len() < KNOWN_KEPT
            && !k.ips.contains(&ip)
        {
            k.ips.push(ip);
        }
        if s.user_agent.is_some() && k.agents.len() < KNOWN_KEPT && !k.agents.contains(&agent) {
            k.agents.push(agent);
        }
    }

    /// Alerts quiet at `now` end; grown ones are reported.
    pub fn tick(&mut self, now: u64) {
        self.alerts.tick(now);
    }

    /// Every open alert ends.
    pub fn shutdown(&mut self) {
        self.alerts.shutdown();
    }

    /// Alert reports since the last call, in order.
    pub fn take_reports(&mut self) -> std::vec::Drain<'_, AlertReport> {
        self.alerts.take_reports()
    }

    /// The session's verdict; `ended` forgets it after.
    pub fn verdict(&mut self, session: &SessionId, ended: bool) -> Option<Verdict> {
        let v = self.verdicts.get(session);
        if ended {
            self.verdicts.forget(session);
        }
        v
    }

    pub fn counters(&self) -> DetectionCounters {
        let mut c = self.counters.clone();
        let a = &self.alerts;
        c.alerts_raised = Category::ALL
            .into_iter()
            .filter(|cat| a.raised_by_category[cat.index()] > 0)
            .map(|cat| (cat.name(), a.raised_by_category[cat.index()]))
            .collect();
        c.alerts_open = a.open_count() as u64;
        c.alerts_ended = a.counters.ended;
        c.alerts_evicted = a.counters.evicted;
        c.actors_tracked = self.actors.len() as u64;
        c.baselines = self.learned.len() as u64;
        c.baselines_evicted = self.learned.evicted;
        c.verdicts_evicted = self.verdicts.evicted;
        c.known_actors = self.known.len() as u64;
        c
    }

    /// Writes what was learned to `dir`.
    pub fn save(&mut self, dir: &Path, unix_now_ns: u64) -> Result<(), StateError> {
        let actors = self
            .known
            .iter()
            .rev()
            .filter_map(|(id, k)| {
                Some(KnownActor {
                    id: id.to_string(),
                    kind: k.kind?,
                    first_seen_unix_ns: k.first_unix_ns,
                    last_seen_unix_ns: k.last_unix_ns,
                    ips: k.ips.clone(),
                    agents: k.agents.clone(),
                })
            })
            .collect();
        let file = StateFile {
            version: state::STATE_VERSION,
            key_fingerprint: self.key_fingerprint.clone(),
            saved_unix_ns: unix_now_ns,
            baselines: self.learned.save(),
            actors,
        };
        let done = state::save(dir, &file);
        match &done {
            Ok(()) => self.counters.state_saves += 1,
            Err(_) => self.counters.state_errors += 1,
        }
        done
    }

    /// Takes back what an earlier run saved; known actors only under the same key. A file
    /// that cannot be used is an error for the caller to warn about (detection starts fresh).
    pub fn restore(&mut self, dir: &Path) -> Result<(), StateError> {
        let Some(file) = state::load(dir)? else {
            return Ok(());
        };
        self.learned.restore(file.baselines);
        if file.key_fingerprint != self.key_fingerprint {
            log::info!(
                "detection state in {}: actors were identified under another key; only the baselines are kept",
                dir.display()
            );
            return Ok(());
        }
        for a in file.actors {
            let Some(id) = parse_id(&a.id) else { continue };
            self.known.push(
                id,
                Known {
                    kind: Some(a.kind),
                    first_unix_ns: a.first_seen_unix_ns,
                    last_unix_ns: a.last_seen_unix_ns,
                    ips: a.ips.into_iter().take(KNOWN_KEPT).collect(),
                    agents: a.agents.into_iter().take(KNOWN_KEPT).collect(),
                },
            );
        }
        Ok(())
    }
}

fn parse_id(hex: &str) -> Option<ActorId> {
    if hex.len() != 16 {
        return None;
    }
    let mut id = [0u8; 8];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(ActorId(id))
}

impl behaviour::scanner::AgentList {
    /// Whether the shipped list and the rules' extras are loaded (for `monitor rules`).
    pub fn describe(&self) -> String {
        format!("{} user agents (list version {})", self.len(), self.version)
    }
}
