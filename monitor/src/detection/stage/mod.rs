//! The detection stage: runs every detector on each sighting, turns findings into alerts (one
//! per actor and category while it lasts), keeps session verdicts; `hits` turns signature
//! matches into findings, `known` keeps what the state file saves.

mod counters;
mod hits;
mod known;

pub use counters::DetectionCounters;
pub use hits::Screened;

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroUsize,
};

use lru::LruCache;

use super::{
    actors::{ActorState, AddressState, Known},
    alerts::{AlertBook, AlertId, AlertReport, Contribution},
    behaviour::{
        Ctx, browsing, cadence, credentials, enumeration, exposure, login,
        params::{NameSet, Params},
        rate, rotation, scanner, scraping, takeover,
    },
    category::Category,
    finding::{Finding, WalkStep},
    hot,
    learned::Learned,
    prompt::PromptScanner,
    rules::Rules,
    sighting::Sighting,
    signatures::SignatureScanner,
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
    /// What the state file keeps of actors not tracked in `actors` (theirs is in their state).
    known: LruCache<ActorId, Known>,
    /// Fingerprint of the key actor ids are made with (known actors are only kept under it).
    key_fingerprint: String,
    clock: Clock,
    counters: DetectionCounters,
    findings: Vec<(Finding, Option<Actor>)>,
    ids: Vec<AlertId>,
    /// Actors and categories with contributions waiting (see [`hot::Hot`]), for the next tick.
    queued: Vec<(ActorId, Category)>,
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

/// What `s` gives the alerts it contributes to (`endpoint`: its template, else its path).
fn contribution<'a>(s: &Sighting<'a>, endpoint: &'a str) -> Contribution<'a> {
    Contribution {
        actor: s.actor,
        session: s.session,
        client_ip: s.client_ip,
        user_agent: s.user_agent,
        service: s.service,
        method: s.method,
        endpoint,
        now: s.ts_ns,
    }
}

/// Where a deferred finding goes: the actors and categories waiting for the next fold, the
/// transaction's alert ids, the session verdicts.
struct Waiting<'a> {
    queued: &'a mut Vec<(ActorId, Category)>,
    ids: &'a mut Vec<AlertId>,
    verdicts: &'a mut Verdicts,
}

/// Whether `finding` of the transaction's own actor (`st`) waits on it for its open alert
/// (see [`hot::Hot`]); `key` is the transaction's [`Contribution::key`]. What waits is listed
/// for the next fold; the alert's id joins the transaction's; a higher score goes to the
/// session's verdict at once, as a raise would give it.
fn defer(
    st: &mut ActorState,
    s: &Sighting,
    finding: &Finding,
    key: u64,
    quiet: u64,
    w: Waiting,
) -> bool {
    let Waiting {
        queued,
        ids,
        verdicts,
    } = w;
    let score = finding.severity.weight() * finding.confidence;
    let Some(h) = hot::find(&mut st.hot, finding.category) else {
        return false;
    };
    if !h.defers(finding, key, s.ts_ns) {
        return false;
    }
    if h.rises(score) {
        verdicts.add(s.session, finding.category, score);
    }
    h.pending.add(s.ts_ns, finding.confidence);
    if !h.queued {
        h.queued = true;
        queued.push((s.actor.id, finding.category));
    }
    if !ids.contains(&h.id) {
        ids.push(h.id);
    }
    st.alerted_until = s.ts_ns.saturating_add(quiet);
    true
}

/// Whether putting `key` into `cache` pushes another entry out (counted as evicted). The
/// length first: the lookup is needed only once the cache is full.
fn would_evict<K: std::hash::Hash + Eq, V>(cache: &LruCache<K, V>, key: &K) -> bool {
    cache.len() == cache.cap().get() && !cache.contains(key)
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
            findings: Vec::new(),
            ids: Vec::new(),
            queued: Vec::new(),
            rules: rules.clone(),
        }
    }

    /// Screens and judges one transaction; the ids of the alerts it contributed to.
    pub fn observe(&mut self, s: &Sighting) -> Vec<AlertId> {
        let screened = self.screen(s);
        self.judge(s, screened)
    }

    /// Judges a transaction [`screen`](Self::screen)ed before: the ids of the alerts it
    /// contributed to. Transactions are judged in the order they were screened.
    pub fn judge(&mut self, s: &Sighting, screened: Screened) -> Vec<AlertId> {
        self.ids.clear();
        if screened.other_end {
            self.counters.other_end_skipped += 1;
            return Vec::new();
        }
        self.counters.transactions += 1;
        let now = s.ts_ns;
        self.findings.clear();
        self.signature_findings(screened.hits);

        let endpoint = match (s.label, s.service) {
            (Some(label), Some(service)) => {
                use std::hash::BuildHasher;
                foldhash::quality::FixedState::with_seed(7).hash_one((service, label))
            }
            (Some(label), None) => hash_of(label.as_bytes()),
            _ => 0,
        };
        let params = Params::of(s.path, s.template, s.query);
        if would_evict(&self.actors, &s.actor.id) {
            self.counters.actors_evicted += 1;
            if let Some((id, mut st)) = self.actors.pop_lru() {
                self.fold_actor(&st, id);
                self.known.push(id, std::mem::take(&mut st.known));
            }
        }
        // A new actor takes what an earlier run, or its own earlier tracking, left in `known`.
        let known = &mut self.known;
        let st = self.actors.get_or_insert_mut(s.actor.id, || {
            let mut st = ActorState::new(s.actor.kind);
            st.known = known.pop(&s.actor.id).unwrap_or_default();
            st
        });
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
                if would_evict(&self.addresses, &ip) {
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
        // What the state file keeps of the actor: read by takeover as it was before this
        // transaction, then updated with it.
        if r.account_takeover.enabled && s.actor.kind != ActorKind::Ip {
            let t = st.takeover.get_or_insert_with(Default::default);
            let before = takeover::Known {
                ips: &st.known.ips,
                agents: &st.known.agents,
            };
            if let Some(f) = takeover::observe(&r.account_takeover, t, &cx, before) {
                found.push((f, None));
            }
        }
        st.known.remember(s, agent, self.clock.unix_ns(now));
        if r.ip_rotation.enabled {
            if s.actor.kind != ActorKind::Ip {
                let ro = st.rotation.get_or_insert_with(Default::default);
                if let Some(mut f) = rotation::observe(&r.ip_rotation, ro, &cx) {
                    f.addresses = ro.recent.clone();
                    found.push((f, None));
                }
            } else if let Some(fp) = rotation::fingerprint(&cx) {
                if would_evict(&self.fingerprints, &fp) {
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
        if !found.is_empty() {
            // An ongoing attack's findings wait on the actor, found without another lookup.
            let key = contribution(s, endpoint_text).key();
            let quiet = r.alerts.quiet_secs.saturating_mul(1_000_000_000);
            found.retain(|(finding, actor)| {
                !(actor.is_none()
                    && r.admits(finding)
                    && defer(
                        st,
                        s,
                        finding,
                        key,
                        quiet,
                        Waiting {
                            queued: &mut self.queued,
                            ids: &mut self.ids,
                            verdicts: &mut self.verdicts,
                        },
                    ))
            });
            if !found.is_empty() {
                self.raise(s, endpoint_text, key, quiet);
            }
        }
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

    /// Alerts for this transaction's findings. A finding that would change nothing its alert
    /// lists waits on the actor (see [`hot::Hot`]) rather than being added at once. `key` is
    /// the transaction's [`Contribution::key`], `quiet` the alerts' quiet period (ns).
    fn raise(&mut self, s: &Sighting, endpoint: &str, key: u64, quiet: u64) {
        let clock = self.clock;
        let mut findings = std::mem::take(&mut self.findings);
        let c = contribution(s, endpoint);
        for (finding, actor) in findings.drain(..) {
            if !self.rules.admits(&finding) {
                self.counters.findings_suppressed += 1;
                continue;
            }
            let score = finding.severity.weight() * finding.confidence;
            let category = finding.category;
            if actor.is_none()
                && let Some(st) = self.actors.peek_mut(&s.actor.id)
                && defer(
                    st,
                    s,
                    &finding,
                    key,
                    quiet,
                    Waiting {
                        queued: &mut self.queued,
                        ids: &mut self.ids,
                        verdicts: &mut self.verdicts,
                    },
                )
            {
                continue;
            }
            let c = Contribution {
                actor: actor.unwrap_or(s.actor),
                ..c
            };
            self.fold(c.actor.id, category);
            if let Some((actor, category)) = self.alerts.victim(c.actor.id, category) {
                self.fold(actor, category);
                if let Some(h) = self
                    .actors
                    .peek_mut(&actor)
                    .and_then(|st| hot::find(&mut st.hot, category))
                {
                    h.invalidate();
                }
            }
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
            let raised = self.alerts.raise(finding, &c, walk);
            if !self.ids.contains(&raised.id) {
                self.ids.push(raised.id);
            }
            self.verdicts.add(s.session, category, score);
            if let Some(st) = self.actors.peek_mut(&s.actor.id) {
                st.alerted_until = s.ts_ns.saturating_add(quiet);
                if c.actor == s.actor {
                    st.quiet_until[category.index()] = raised.quiet_until;
                    hot::entry(&mut st.hot, category, &raised)
                        .taken(&raised, &c, key, score, quiet);
                }
            }
        }
        self.findings = findings;
    }

    /// What waits on `actor` for its alert of `category` is added to it.
    fn fold(&mut self, actor: ActorId, category: Category) {
        let Some(h) = self
            .actors
            .peek_mut(&actor)
            .and_then(|st| hot::find(&mut st.hot, category))
        else {
            return;
        };
        let pending = h.take();
        if pending.transactions > 0 {
            self.alerts.absorb(actor, category, pending);
        }
    }

    /// Everything that waits on any actor is added to its alert: before alerts can end.
    fn fold_all(&mut self) {
        let mut queued = std::mem::take(&mut self.queued);
        for (actor, category) in queued.drain(..) {
            if let Some(h) = self
                .actors
                .peek_mut(&actor)
                .and_then(|st| hot::find(&mut st.hot, category))
            {
                h.queued = false;
            }
            self.fold(actor, category);
        }
        self.queued = queued;
    }

    /// The actor leaves the cache: what waits on it is added to its alerts first.
    fn fold_actor(&mut self, st: &ActorState, actor: ActorId) {
        for h in &st.hot {
            if h.pending.transactions > 0 {
                self.alerts.absorb(actor, h.category, h.pending);
            }
        }
    }

    /// Alerts quiet at `now` end; grown ones are reported.
    pub fn tick(&mut self, now: u64) {
        self.fold_all();
        self.alerts.tick(now);
    }

    /// Every open alert ends.
    pub fn shutdown(&mut self) {
        self.fold_all();
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
        c.known_actors = (self.known.len() + self.actors.len()).min(self.known.cap().get()) as u64;
        c
    }
}
