//! Groups each actor's transactions into sessions: a session ends after `idle_timeout_secs`
//! without a transaction; a summary is reported when it ends and every `report_interval_secs`
//! while it lasts. Bounded: at most `max_actors` sessions at once (the least recently active is
//! ended early, reported and counted) and bounded lists inside each.

use std::{collections::BTreeMap, net::IpAddr, num::NonZeroUsize};

use lru::LruCache;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::actor::{Actor, ActorId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// A session ends after this long without a transaction, seconds.
    pub idle_timeout_secs: u64,
    /// A lasting session is reported this often, seconds (0: only when it ends).
    pub report_interval_secs: u64,
    /// Sessions tracked at once; beyond it the least recently active one is ended early.
    pub max_actors: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 1800,
            report_interval_secs: 300,
            max_actors: 100_000,
        }
    }
}

/// Endpoints, addresses and user agents kept per session; more are counted, not kept.
pub const MAX_SESSION_ENDPOINTS: usize = 64;
pub const MAX_SESSION_IPS: usize = 16;
pub const MAX_SESSION_USER_AGENTS: usize = 8;

/// A session: its actor and when it started (monotonic ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId {
    pub actor: ActorId,
    pub start_ns: u64,
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:x}", self.actor, self.start_ns)
    }
}

/// One transaction as the tracker sees it.
#[derive(Debug, Clone, Copy)]
pub struct Touch<'a> {
    pub actor: Actor,
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    /// `METHOD template`, when the request was seen.
    pub endpoint: Option<&'a str>,
    pub status: Option<u16>,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub start_ns: u64,
    pub end_ns: u64,
}

/// Why a session summary was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Still going: a periodic report.
    Active,
    /// No transaction for the idle timeout.
    Idle,
    /// Ended early: more sessions than `max_actors` were active.
    Evicted,
    /// The monitor stopped.
    MonitorStopped,
}

/// What a session did so far.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    pub id: SessionId,
    pub actor: Actor,
    pub state: SessionState,
    pub first_ns: u64,
    pub last_ns: u64,
    pub transactions: u64,
    /// `METHOD template` → calls, at most `MAX_SESSION_ENDPOINTS`.
    pub endpoints: BTreeMap<String, u64>,
    /// Calls to endpoints beyond the cap.
    pub endpoints_dropped: u64,
    /// Status class (`2xx`… or `none`) → transactions.
    pub status: BTreeMap<&'static str, u64>,
    pub client_ips: Vec<IpAddr>,
    pub client_ips_dropped: u64,
    pub user_agents: Vec<String>,
    pub user_agents_dropped: u64,
    pub request_bytes: u64,
    pub response_bytes: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SessionCounters {
    pub started: u64,
    pub ended: u64,
    /// Sessions ended early because `max_actors` were active.
    pub evicted: u64,
    pub active: u64,
}

#[derive(Debug)]
struct Live {
    summary: SessionSummary,
    /// A transaction came since the last report.
    dirty: bool,
}

#[derive(Debug)]
pub struct SessionTracker {
    sessions: LruCache<ActorId, Live>,
    idle_ns: u64,
    report_ns: u64,
    next_report_ns: Option<u64>,
    counters: SessionCounters,
}

impl SessionTracker {
    pub fn new(config: &SessionConfig) -> Self {
        let cap = NonZeroUsize::new(config.max_actors).unwrap_or(NonZeroUsize::MIN);
        Self {
            sessions: LruCache::new(cap),
            idle_ns: config
                .idle_timeout_secs
                .saturating_mul(1_000_000_000)
                .max(1),
            report_ns: config.report_interval_secs.saturating_mul(1_000_000_000),
            next_report_ns: None,
            counters: SessionCounters::default(),
        }
    }

    /// Adds a transaction to its actor's session (starting one when there is none or the last
    /// one went idle); summaries of sessions this ends are pushed to `out`.
    pub fn observe(&mut self, touch: &Touch, out: &mut Vec<SessionSummary>) -> SessionId {
        let key = touch.actor.id;
        let expired = self
            .sessions
            .peek(&key)
            .is_some_and(|s| touch.start_ns.saturating_sub(s.summary.last_ns) >= self.idle_ns);
        if expired && let Some(live) = self.sessions.pop(&key) {
            self.end(live, SessionState::Idle, out);
        }
        if !self.sessions.contains(&key) {
            let live = Live {
                summary: SessionSummary::start(touch),
                dirty: true,
            };
            if let Some((_, evicted)) = self.sessions.push(key, live) {
                self.counters.evicted += 1;
                self.end(evicted, SessionState::Evicted, out);
            }
            self.counters.started += 1;
        }
        self.counters.active = self.sessions.len() as u64;
        match self.sessions.get_mut(&key) {
            Some(live) => {
                live.summary.add(touch);
                live.dirty = true;
                live.summary.id
            }
            // Just inserted above; unreachable, but a fresh id is the honest answer.
            None => SessionId {
                actor: key,
                start_ns: touch.start_ns,
            },
        }
    }

    /// Ends sessions idle at `now_ns`; reports the lasting ones when their interval is due.
    pub fn tick(&mut self, now_ns: u64, out: &mut Vec<SessionSummary>) {
        while let Some((_, live)) = self.sessions.peek_lru() {
            if now_ns.saturating_sub(live.summary.last_ns) < self.idle_ns {
                break;
            }
            if let Some((_, live)) = self.sessions.pop_lru() {
                self.end(live, SessionState::Idle, out);
            }
        }
        self.counters.active = self.sessions.len() as u64;
        if self.report_ns == 0 {
            return;
        }
        let due = *self.next_report_ns.get_or_insert(now_ns + self.report_ns);
        if now_ns < due {
            return;
        }
        self.next_report_ns = Some(now_ns + self.report_ns);
        for (_, live) in self.sessions.iter_mut() {
            if live.dirty {
                live.dirty = false;
                let mut summary = live.summary.clone();
                summary.state = SessionState::Active;
                out.push(summary);
            }
        }
    }

    /// Ends every session (the monitor stops).
    pub fn shutdown(&mut self, out: &mut Vec<SessionSummary>) {
        while let Some((_, live)) = self.sessions.pop_lru() {
            self.end(live, SessionState::MonitorStopped, out);
        }
        self.counters.active = 0;
    }

    pub fn counters(&self) -> SessionCounters {
        self.counters
    }

    fn end(&mut self, live: Live, state: SessionState, out: &mut Vec<SessionSummary>) {
        self.counters.ended += 1;
        let mut summary = live.summary;
        summary.state = state;
        out.push(summary);
    }
}

impl SessionSummary {
    fn start(touch: &Touch) -> Self {
        Self {
            id: SessionId {
                actor: touch.actor.id,
                start_ns: touch.start_ns,
            },
            actor: touch.actor,
            state: SessionState::Active,
            first_ns: touch.start_ns,
            last_ns: touch.start_ns,
            transactions: 0,
            endpoints: BTreeMap::new(),
            endpoints_dropped: 0,
            status: BTreeMap::new(),
            client_ips: Vec::new(),
            client_ips_dropped: 0,
            user_agents: Vec::new(),
            user_agents_dropped: 0,
            request_bytes: 0,
            response_bytes: 0,
        }
    }

    fn add(&mut self, t: &Touch) {
        self.transactions += 1;
        self.first_ns = self.first_ns.min(t.start_ns);
        self.last_ns = self.last_ns.max(t.end_ns).max(t.start_ns);
        if let Some(endpoint) = t.endpoint {
            let room = self.endpoints.len() < MAX_SESSION_ENDPOINTS;
            match self.endpoints.get_mut(endpoint) {
                Some(calls) => *calls += 1,
                None if room => {
                    self.endpoints.insert(endpoint.to_owned(), 1);
                }
                None => self.endpoints_dropped += 1,
            }
        }
        *self.status.entry(status_class(t.status)).or_default() += 1;
        if let Some(ip) = t.client_ip
            && !self.client_ips.contains(&ip)
        {
            if self.client_ips.len() < MAX_SESSION_IPS {
                self.client_ips.push(ip);
            } else {
                self.client_ips_dropped += 1;
            }
        }
        if let Some(ua) = t.user_agent
            && !self.user_agents.iter().any(|u| u == ua)
        {
            if self.user_agents.len() < MAX_SESSION_USER_AGENTS {
                self.user_agents.push(ua.to_owned());
            } else {
                self.user_agents_dropped += 1;
            }
        }
        self.request_bytes += t.request_bytes;
        self.response_bytes += t.response_bytes;
    }
}

fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(100..=199) => "1xx",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
        None => "none",
    }
}

#[cfg(test)]
mod tests;
