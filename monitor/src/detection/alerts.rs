//! Open alerts: one per actor and category while findings keep coming, growing with each
//! transaction that contributes, reported when new, when it grows (at most every few seconds)
//! and when it ends (no finding for the quiet period). Bounded; what is pushed out is counted.

use std::{net::IpAddr, num::NonZeroUsize};

use lru::LruCache;
use serde::{Deserialize, Serialize};

use super::{
    category::{Category, Severity},
    finding::{Evidence, Finding},
    hit::cut,
    window::hash_of,
};
use crate::{
    discovery::inventory::ServiceKey,
    session::{actor::Actor, actor::ActorId, tracker::SessionId},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertRules {
    /// An alert ends after this long without a finding, seconds.
    pub quiet_secs: u64,
    /// A growing alert is reported again at most this often, seconds.
    pub update_secs: u64,
    /// Alerts open at once; beyond it the least recently raised one is ended early (counted).
    pub max_open: usize,
    /// Findings below this severity raise no alert.
    pub min_severity: Severity,
    /// Categories that raise no alert.
    pub disabled: Vec<Category>,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self {
            quiet_secs: 120,
            update_secs: 10,
            max_open: 10_000,
            min_severity: Severity::Low,
            disabled: Vec::new(),
        }
    }
}

/// Listed per alert; more are counted in `transactions` only.
pub const MAX_IPS: usize = 16;
pub const MAX_AGENTS: usize = 8;
pub const MAX_ENDPOINTS: usize = 16;

/// An alert's id: 16 hex digits in `alert` events and in the `http` events that contributed.
/// Copied, not allocated, for every contributing transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertId(pub [u8; 8]);

impl AlertId {
    /// The id as 16 lowercase hex digits (ASCII).
    pub fn hex(&self) -> [u8; 16] {
        ActorId(self.0).hex()
    }
}

impl std::fmt::Display for AlertId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        ActorId(self.0).fmt(f)
    }
}

impl Serialize for AlertId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for AlertId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AlertId".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(g)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Raised by this transaction.
    New,
    /// Still going: more transactions, or a higher severity, since the last report.
    Ongoing,
    /// No finding for the quiet period (or the monitor stopped, or too many were open).
    Ended,
}

/// An alert as reported (times monotonic; export gives them wall-clock form).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertReport {
    pub id: AlertId,
    pub state: AlertState,
    pub category: Category,
    pub severity: Severity,
    pub confidence: f64,
    pub actor: Actor,
    pub session: SessionId,
    pub client_ips: Vec<IpAddr>,
    pub user_agents: Vec<String>,
    pub service: Option<ServiceKey>,
    /// (method, template or path).
    pub endpoints: Vec<(String, String)>,
    pub first_ns: u64,
    pub last_ns: u64,
    pub transactions: u64,
    pub evidence: Evidence,
}

#[derive(Debug)]
struct Open {
    report: AlertReport,
    reported_ns: u64,
    reported_transactions: u64,
    reported_severity: Severity,
}

/// What one contributing transaction adds.
#[derive(Debug, Clone, Copy)]
pub struct Contribution<'a> {
    pub actor: Actor,
    pub session: SessionId,
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub service: Option<&'a ServiceKey>,
    pub method: &'a str,
    /// The template when known, else the path.
    pub endpoint: &'a str,
    pub now: u64,
}

impl Contribution<'_> {
    /// A hash of what the alert lists from this contribution (its session, address, user
    /// agent and endpoint): two contributions with the same key differ, to an open alert,
    /// only in their time.
    pub fn key(&self) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = foldhash::quality::FixedState::with_seed(11).build_hasher();
        self.session.hash(&mut h);
        self.client_ip.hash(&mut h);
        self.user_agent
            .map(|ua| cut(ua, crate::session::actor::MAX_USER_AGENT))
            .hash(&mut h);
        self.method.hash(&mut h);
        cut(self.endpoint, 256).hash(&mut h);
        h.finish()
    }
}

/// Contributions to an open alert that changed nothing it lists (see [`Contribution::key`]):
/// added to it in one go by [`AlertBook::absorb`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pending {
    pub transactions: u64,
    pub last_ns: u64,
    pub confidence: f64,
}

impl Pending {
    pub fn add(&mut self, now: u64, confidence: f64) {
        self.transactions += 1;
        self.last_ns = self.last_ns.max(now);
        self.confidence = self.confidence.max(confidence);
    }
}

/// What [`AlertBook::raise`] did: the alert's id, until when (ns) evidence of further
/// findings would not be reported, and the severity last reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    pub id: AlertId,
    pub quiet_until: u64,
    pub reported_severity: Severity,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertCounters {
    pub raised: u64,
    pub ended: u64,
    /// Ended early because `max_open` were open.
    pub evicted: u64,
}

pub struct AlertBook {
    open: LruCache<(ActorId, Category), Open>,
    quiet_ns: u64,
    update_ns: u64,
    reports: Vec<AlertReport>,
    pub counters: AlertCounters,
    /// Alerts raised per category (`Category::index`).
    pub raised_by_category: [u64; Category::ALL.len()],
}

impl std::fmt::Debug for AlertBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertBook")
            .field("open", &self.open.len())
            .finish_non_exhaustive()
    }
}

impl AlertBook {
    pub fn new(rules: &AlertRules) -> Self {
        Self {
            open: LruCache::new(NonZeroUsize::new(rules.max_open).unwrap_or(NonZeroUsize::MIN)),
            quiet_ns: rules.quiet_secs.saturating_mul(1_000_000_000).max(1),
            update_ns: rules.update_secs.saturating_mul(1_000_000_000),
            reports: Vec::new(),
            counters: AlertCounters::default(),
            raised_by_category: [0; Category::ALL.len()],
        }
    }

    /// Adds `finding` from `c` to its actor's alert of that category (raising one when none is
    /// open); `walk` gives the actor's earlier transactions for a new alert.
    pub fn raise(
        &mut self,
        mut finding: Finding,
        c: &Contribution,
        walk: impl FnOnce() -> Vec<super::finding::WalkStep>,
    ) -> Raised {
        let key = (c.actor.id, finding.category);
        let addresses = std::mem::take(&mut finding.addresses);
        // One lookup for the common case, an alert already open (an ongoing attack).
        if let Some(open) = self.open.get_mut(&key) {
            let r = &mut open.report;
            add(r, c);
            add_addresses(r, &addresses);
            r.severity = r.severity.max(finding.severity);
            r.confidence = r.confidence.max(finding.confidence);
            r.session = c.session;
            r.evidence.merge(finding.take_evidence());
            let due = c.now.saturating_sub(open.reported_ns) >= self.update_ns;
            if r.severity > open.reported_severity || due {
                r.state = AlertState::Ongoing;
                open.reported_ns = c.now;
                open.reported_transactions = r.transactions;
                open.reported_severity = r.severity;
                self.reports.push(r.clone());
            }
            return Raised {
                id: open.report.id,
                quiet_until: open.reported_ns.saturating_add(self.update_ns),
                reported_severity: open.reported_severity,
            };
        }
        let mut evidence = finding.take_evidence();
        evidence.session_walk = walk();
        let report = AlertReport {
            id: alert_id(c.actor.id, finding.category, c.now),
            state: AlertState::New,
            category: finding.category,
            severity: finding.severity,
            confidence: finding.confidence,
            actor: c.actor,
            session: c.session,
            client_ips: Vec::new(),
            user_agents: Vec::new(),
            service: c.service.cloned(),
            endpoints: Vec::new(),
            first_ns: c.now,
            last_ns: c.now,
            transactions: 0,
            evidence,
        };
        let (id, severity) = (report.id, report.severity);
        let mut open = Open {
            reported_severity: report.severity,
            report,
            reported_ns: c.now,
            reported_transactions: 1,
        };
        add(&mut open.report, c);
        add_addresses(&mut open.report, &addresses);
        self.reports.push(open.report.clone());
        self.counters.raised += 1;
        self.raised_by_category[finding.category.index()] += 1;
        if let Some((old_key, mut old)) = self.open.push(key, open)
            && old_key != key
        {
            old.report.state = AlertState::Ended;
            self.reports.push(old.report);
            self.counters.evicted += 1;
            self.counters.ended += 1;
        }
        Raised {
            id,
            quiet_until: c.now.saturating_add(self.update_ns),
            reported_severity: severity,
        }
    }

    /// Adds `pending` contributions to the actor's open alert of `category`, without
    /// reporting it (its next report or end carries them); false when no such alert is open.
    /// The alert's place in the eviction order stays where its last [`Self::raise`] put it.
    pub fn absorb(&mut self, actor: ActorId, category: Category, pending: Pending) -> bool {
        let Some(open) = self.open.peek_mut(&(actor, category)) else {
            return false;
        };
        let r = &mut open.report;
        r.transactions += pending.transactions;
        r.last_ns = r.last_ns.max(pending.last_ns);
        r.confidence = r.confidence.max(pending.confidence);
        true
    }

    /// The alert a raise for (`actor`, `category`) would end early to make room, if any.
    pub fn victim(&self, actor: ActorId, category: Category) -> Option<(ActorId, Category)> {
        let key = (actor, category);
        (self.open.len() == self.open.cap().get() && !self.open.contains(&key))
            .then(|| self.open.peek_lru().map(|(k, _)| *k))
            .flatten()
    }

    /// Whether `actor` has an open alert.
    pub fn is_open(&self, actor: ActorId, category: Category) -> bool {
        self.open.contains(&(actor, category))
    }

    /// Alerts quiet at `now` end; grown ones are reported when due.
    pub fn tick(&mut self, now: u64) {
        let mut ended = Vec::new();
        for (key, open) in self.open.iter_mut() {
            let r = &mut open.report;
            if now.saturating_sub(r.last_ns) >= self.quiet_ns {
                ended.push(*key);
            } else if r.transactions > open.reported_transactions
                && now.saturating_sub(open.reported_ns) >= self.update_ns
            {
                r.state = AlertState::Ongoing;
                open.reported_ns = now;
                open.reported_transactions = r.transactions;
                open.reported_severity = r.severity;
                self.reports.push(r.clone());
            }
        }
        // Reported in the order they were raised, whatever the cache's order.
        ended.sort_by_key(|k| self.open.peek(k).map_or(0, |o| o.report.first_ns));
        for key in ended {
            if let Some(mut open) = self.open.pop(&key) {
                open.report.state = AlertState::Ended;
                self.reports.push(open.report);
                self.counters.ended += 1;
            }
        }
    }

    /// Every open alert ends (the monitor stops).
    pub fn shutdown(&mut self) {
        let mut all: Vec<Open> = Vec::with_capacity(self.open.len());
        while let Some((_, open)) = self.open.pop_lru() {
            all.push(open);
        }
        all.sort_by_key(|o| o.report.first_ns);
        for mut open in all {
            open.report.state = AlertState::Ended;
            self.reports.push(open.report);
            self.counters.ended += 1;
        }
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    pub fn take_reports(&mut self) -> std::vec::Drain<'_, AlertReport> {
        self.reports.drain(..)
    }
}

fn add(r: &mut AlertReport, c: &Contribution) {
    r.transactions += 1;
    r.last_ns = r.last_ns.max(c.now);
    if let Some(ip) = c.client_ip
        && !r.client_ips.contains(&ip)
        && r.client_ips.len() < MAX_IPS
    {
        r.client_ips.push(ip);
    }
    if let Some(ua) = c.user_agent {
        let ua = cut(ua, crate::session::actor::MAX_USER_AGENT);
        if r.user_agents.len() < MAX_AGENTS && !r.user_agents.iter().any(|u| u == ua) {
            r.user_agents.push(ua.to_owned());
        }
    }
    if r.endpoints.len() < MAX_ENDPOINTS
        && !r
            .endpoints
            .iter()
            .any(|(m, e)| m == c.method && e == c.endpoint)
    {
        r.endpoints
            .push((c.method.to_owned(), cut(c.endpoint, 256).to_owned()));
    }
}

fn add_addresses(r: &mut AlertReport, addresses: &[IpAddr]) {
    for ip in addresses {
        if r.client_ips.len() < MAX_IPS && !r.client_ips.contains(ip) {
            r.client_ips.push(*ip);
        }
    }
}

/// 16 hex digits naming an alert: its actor, category and start.
fn alert_id(actor: ActorId, category: Category, first_ns: u64) -> AlertId {
    let mut material = [0u8; 8 + 1 + 8];
    material[..8].copy_from_slice(&actor.0);
    material[8] = category.index() as u8;
    material[9..].copy_from_slice(&first_ns.to_le_bytes());
    AlertId(hash_of(&material).to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::actor::ActorKind;

    const S: u64 = 1_000_000_000;

    fn c(now: u64, ip: &str) -> Contribution<'static> {
        let actor = Actor {
            id: ActorId([7; 8]),
            kind: ActorKind::Bearer,
        };
        Contribution {
            actor,
            session: SessionId {
                actor: actor.id,
                start_ns: 0,
            },
            client_ip: ip.parse().ok(),
            user_agent: Some("ua"),
            service: None,
            method: "GET",
            endpoint: "/x/{id}",
            now,
        }
    }

    fn finding(sev: Severity) -> Finding {
        Finding::new(Category::Enumeration, sev, 0.5).figure("distinct_values", 3.0)
    }

    #[test]
    fn one_alert_per_actor_and_category_new_ongoing_ended() {
        let mut book = AlertBook::new(&AlertRules::default());
        let id = book
            .raise(finding(Severity::Medium), &c(0, "10.0.0.1"), Vec::new)
            .id;
        for i in 1..50 {
            let got = book.raise(
                finding(Severity::Medium),
                &c(i * S / 10, "10.0.0.2"),
                Vec::new,
            );
            assert_eq!(
                (got.id, got.quiet_until),
                (id, 10 * S),
                "quiet until the update is due"
            );
        }
        let r: Vec<AlertReport> = book.take_reports().collect();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].state, AlertState::New);
        // A higher severity is reported at once.
        book.raise(finding(Severity::High), &c(5 * S, "10.0.0.2"), Vec::new);
        let r: Vec<AlertReport> = book.take_reports().collect();
        assert_eq!((r.len(), r[0].state), (1, AlertState::Ongoing));
        assert_eq!(r[0].transactions, 51);
        assert_eq!(r[0].client_ips.len(), 2);
        // Growth is reported by the tick once due; quiet ends it.
        book.raise(finding(Severity::High), &c(6 * S, "10.0.0.2"), Vec::new);
        book.tick(16 * S);
        let r: Vec<AlertReport> = book.take_reports().collect();
        assert_eq!(
            (r.len(), r[0].state, r[0].transactions),
            (1, AlertState::Ongoing, 52)
        );
        book.tick(6 * S + 120 * S);
        let r: Vec<AlertReport> = book.take_reports().collect();
        assert_eq!((r.len(), r[0].state), (1, AlertState::Ended));
        assert_eq!(book.open_count(), 0);
        // Later activity is a new alert with a new id.
        let again = book.raise(finding(Severity::Medium), &c(500 * S, "10.0.0.1"), Vec::new);
        assert_ne!(again.id, id);
    }

    #[test]
    fn bounded_and_counted() {
        let rules = AlertRules {
            max_open: 2,
            ..AlertRules::default()
        };
        let mut book = AlertBook::new(&rules);
        for cat in [Category::Sqli, Category::Xss, Category::Ssrf] {
            let f = Finding::new(cat, Severity::High, 0.9);
            book.raise(f, &c(0, "10.0.0.1"), Vec::new);
        }
        assert_eq!(book.open_count(), 2);
        assert_eq!(book.counters.evicted, 1);
        book.shutdown();
        let states: Vec<AlertState> = book.take_reports().map(|r| r.state).collect();
        assert_eq!(
            states.iter().filter(|s| **s == AlertState::Ended).count(),
            3
        );
    }
}
