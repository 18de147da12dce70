//! What detection keeps per actor: each detector's state (the rarer ones only once needed) and
//! the actor's last transactions, so an alert can show what the session did before.

use std::net::IpAddr;

use super::behaviour::{
    browsing::BrowsingState, cadence::CadenceState, credentials::CredentialState,
    enumeration::EnumerationState, exposure::ExposureState, rate::RateState,
    rotation::RotationState, scanner::ScannerState, scraping::ScrapingState,
    takeover::TakeoverState,
};
use super::sighting::Sighting;
use crate::session::actor::ActorKind;

/// Earlier transactions kept per actor for the evidence.
pub const WALK: usize = 12;

#[derive(Debug, Clone, Default)]
pub struct Step {
    pub ts_ns: u64,
    pub method: String,
    pub endpoint: String,
    pub status: Option<u16>,
    pub client_ip: Option<IpAddr>,
}

/// A ring of the last [`WALK`] steps; the strings are reused, so recording a step does not
/// allocate once the ring is warm.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    steps: Vec<Step>,
    next: usize,
}

impl Walk {
    pub fn record(
        &mut self,
        ts_ns: u64,
        method: &str,
        endpoint: &str,
        status: Option<u16>,
        ip: Option<IpAddr>,
    ) {
        if self.steps.len() < WALK {
            self.steps.push(Step::default());
        }
        let i = self.next % self.steps.len().max(1);
        if let Some(step) = self.steps.get_mut(i) {
            step.ts_ns = ts_ns;
            step.method.clear();
            step.method.push_str(method);
            step.endpoint.clear();
            step.endpoint.push_str(super::hit::cut(endpoint, 128));
            step.status = status;
            step.client_ip = ip;
        }
        self.next = (i + 1) % WALK;
    }

    /// The steps, oldest first.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        let (newer, older) = self.steps.split_at(self.next.min(self.steps.len()));
        older.iter().chain(newer.iter())
    }
}

/// What the state file keeps of an actor: when it was first and last seen, and its first
/// addresses and user agents.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub kind: Option<ActorKind>,
    /// Wall-clock, so they mean the same in the next run.
    pub first_unix_ns: u64,
    pub last_unix_ns: u64,
    pub ips: Vec<IpAddr>,
    pub agents: Vec<u64>,
}

/// Addresses and user agents remembered per known actor.
pub const KNOWN_KEPT: usize = 4;
impl Known {
    /// What the state file keeps of the actor, after `s` (its wall-clock time `unix_ns`).
    pub fn remember(&mut self, s: &Sighting, agent: u64, unix_ns: u64) {
        if self.kind.is_none() {
            self.kind = Some(s.actor.kind);
            self.first_unix_ns = unix_ns;
        }
        self.last_unix_ns = self.last_unix_ns.max(unix_ns);
        if let Some(ip) = s.client_ip
            && self.ips.len() < KNOWN_KEPT
            && !self.ips.contains(&ip)
        {
            self.ips.push(ip);
        }
        if s.user_agent.is_some() && self.agents.len() < KNOWN_KEPT && !self.agents.contains(&agent)
        {
            self.agents.push(agent);
        }
    }
}

#[derive(Debug, Clone)]
pub struct ActorState {
    pub kind: ActorKind,
    /// Until when (monotonic ns) the actor counts as under alert: its samples teach no
    /// baseline.
    pub alerted_until: u64,
    /// Per category (`Category::index`): until when this actor's open alert needs no new
    /// evidence (it was just reported).
    pub quiet_until: [u64; crate::detection::category::Category::ALL.len()],
    pub rate: RateState,
    pub cadence: CadenceState,
    pub scanner: ScannerState,
    pub exposure: ExposureState,
    pub enumeration: Option<Box<EnumerationState>>,
    pub scraping: Option<Box<ScrapingState>>,
    pub browsing: Option<Box<BrowsingState>>,
    pub credentials: Option<Box<CredentialState>>,
    pub rotation: Option<Box<RotationState>>,
    pub takeover: Option<Box<TakeoverState>>,
    pub walk: Walk,
    /// Categories with an open alert, and what waits to be added to it.
    pub hot: Vec<super::hot::Hot>,
    /// What the state file keeps of the actor, here while it is tracked (no second lookup
    /// per transaction).
    pub known: Known,
}

impl ActorState {
    pub fn new(kind: ActorKind) -> Self {
        Self {
            kind,
            alerted_until: 0,
            quiet_until: [0; crate::detection::category::Category::ALL.len()],
            rate: RateState::default(),
            cadence: CadenceState::default(),
            scanner: ScannerState::default(),
            exposure: ExposureState::default(),
            enumeration: None,
            scraping: None,
            browsing: None,
            credentials: None,
            rotation: None,
            takeover: None,
            walk: Walk::default(),
            hot: Vec::new(),
            known: Known::default(),
        }
    }
}

/// What detection keeps per client address: logins and resets, whichever actor sent them.
#[derive(Debug, Clone, Default)]
pub struct AddressState {
    pub credentials: CredentialState,
    /// The actor whose alerts this address's findings go to, once one was raised: an attacker
    /// changing user agents (a new actor each time) stays one alert.
    pub alert_actor: Option<crate::session::actor::Actor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_keeps_the_last_steps_oldest_first() {
        let mut w = Walk::default();
        for i in 0..30u64 {
            w.record(i, "GET", &format!("/{i}"), Some(200), None);
        }
        let ts: Vec<u64> = w.steps().map(|s| s.ts_ns).collect();
        assert_eq!(ts, (18..30).collect::<Vec<_>>());
        let mut w = Walk::default();
        w.record(1, "GET", "/a", None, None);
        w.record(2, "GET", "/b", None, None);
        assert_eq!(w.steps().map(|s| s.ts_ns).collect::<Vec<_>>(), vec![1, 2]);
    }
}
