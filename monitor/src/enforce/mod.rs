//! Mitigation without a proxy: alerts that the `[enforcement]` policy names become decisions
//! (block a source address, reset an actor's connections), carried out by the kernel's
//! cgroup_skb ingress program and sock_diag resets, bounded, expiring, never against an
//! allowlisted address, and gone with the agent (nothing is pinned).

pub mod allow;
pub mod control;
pub mod counters;
pub mod decisions;
pub mod kernel;
pub mod policy;
pub mod reset;

use std::{net::IpAddr, num::NonZeroUsize, path::PathBuf};

use ipnet::IpNet;
use lru::LruCache;

use crate::{
    conn::{ConnMeta, Role},
    export::{
        alert::{AlertAction, AlertEvent},
        block::{BlockAction, BlockConnection, BlockEvent},
    },
    session::actor::ActorKind,
};
use allow::{Allowlist, canonical};
use counters::EnforcementCounters;
use decisions::{Blocklist, Cause, Decision, Origin, Outcome, Request, Target};
use kernel::KernelBlocker;
use policy::{BlockKey, EnforcementPolicy, Mode};
use reset::{Resetter, Tcp4Tuple};

/// Actors whose recent connections are remembered, and connections per actor.
const FOLLOWED_ACTORS: usize = 16_384;
const CONNS_PER_ACTOR: usize = 8;
/// Connections already reset, so one is not reset (and reported) twice.
const RESET_MEMORY: usize = 4_096;
/// How often the host's own addresses are read again (they are never blocked).
const HOST_REFRESH_NS: u64 = 10_000_000_000;
const NS_PER_SEC: u64 = 1_000_000_000;

/// `--enforce` and where its pieces live.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnforceConfig {
    pub mode: Mode,
    /// The Unix socket `monitor block|unblock|blocks` talk to.
    pub control_socket: PathBuf,
    /// The cgroup v2 directory whose sockets are protected; none: the hierarchy's root.
    pub cgroup: Option<PathBuf>,
}

pub const DEFAULT_CONTROL_SOCKET: &str = "/run/monitor/control.sock";

impl Default for EnforceConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Off,
            control_socket: PathBuf::from(DEFAULT_CONTROL_SOCKET),
            cgroup: None,
        }
    }
}

/// The kernel mechanisms, present with `--enforce on`.
pub struct Mechanisms {
    pub blocker: KernelBlocker,
    pub resetter: Resetter,
}

pub struct Enforcer {
    mode: Mode,
    policy: EnforcementPolicy,
    allow: Allowlist,
    list: Blocklist,
    mechanisms: Option<Mechanisms>,
    /// Actor id → its recent server-side connections.
    followed: LruCache<String, Vec<Tcp4Tuple>>,
    reset_done: LruCache<Tcp4Tuple, ()>,
    host_read_ns: u64,
    /// Whether the host's addresses could be read: if not, nothing is blocked by address.
    host_known: bool,
    state_dir: Option<PathBuf>,
    counters: EnforcementCounters,
    events: Vec<BlockEvent>,
}

impl Enforcer {
    /// `mechanisms` must be given with `Mode::On` (dry-run and replay have none).
    pub fn new(
        mode: Mode,
        policy: EnforcementPolicy,
        mechanisms: Option<Mechanisms>,
        state_dir: Option<PathBuf>,
    ) -> Self {
        let (host, host_known) = match allow::host_addresses() {
            Ok(h) => (h, true),
            Err(err) => {
                log::warn!("cannot read this host's addresses ({err}); no address will be blocked");
                (Vec::new(), false)
            }
        };
        Self {
            mode,
            allow: Allowlist::new(&policy, host),
            list: Blocklist::new(policy.max_blocked),
            policy,
            mechanisms,
            followed: LruCache::new(nonzero(FOLLOWED_ACTORS)),
            reset_done: LruCache::new(nonzero(RESET_MEMORY)),
            host_read_ns: 0,
            host_known,
            state_dir,
            counters: EnforcementCounters {
                mode: mode.name(),
                ..Default::default()
            },
            events: Vec::new(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Takes back the decisions saved in the state directory that are still in force.
    pub fn restore(&mut self, now_ns: u64) {
        let Some(dir) = self.state_dir.clone() else {
            return;
        };
        let saved = match decisions::load(&dir) {
            Ok(Some(saved)) => saved,
            Ok(None) => return,
            Err(err) => {
                self.counters.state_errors += 1;
                log::warn!("{err}; enforcement starts with no decision");
                return;
            }
        };
        for d in self.list.restore(saved, now_ns) {
            let refused = match &d.target {
                Target::Ip(net) => self.allow.overlaps(*net),
                Target::Actor(_) => None,
            };
            if let Some(why) = refused {
                // The allowlist changed since: it wins.
                self.list.remove(&d.target);
                self.counters.refused_allowlisted += 1;
                let mut e = BlockEvent::of(BlockAction::Refuse, self.mode.name(), &d, now_ns);
                e.refused = Some(why.name());
                self.events.push(e);
                continue;
            }
            self.apply(&d, now_ns);
        }
        self.save();
    }

    /// Acts on an alert the policy names; marks what was done in its `action`.
    pub fn on_alert(&mut self, alert: &mut AlertEvent, now_ns: u64) {
        use crate::detection::alerts::AlertState;
        if self.mode == Mode::Off
            || alert.state == AlertState::Ended
            || !self.policy.blocks(alert.category, alert.severity)
        {
            return;
        }
        let first = alert.state == AlertState::New;
        let cause = Cause {
            origin: Origin::Alert,
            reason: format!(
                "{} alert, severity {}",
                alert.category.name(),
                alert.severity.name()
            ),
            alert_id: Some(alert.alert_id.clone()),
            category: Some(alert.category),
            severity: Some(alert.severity),
        };
        let ips: Vec<IpAddr> = alert
            .client_ips
            .iter()
            .filter_map(|ip| ip.parse().ok())
            .map(canonical)
            .collect();
        let mut in_force = false;
        let mut changed = false;
        let by_ip = self.policy.keys.contains(&BlockKey::Ip);
        if by_ip {
            for ip in ips.iter().take(self.policy.max_ips_per_alert) {
                let target = Target::Ip(IpNet::from(*ip));
                if let Some(why) = self.refusal(*ip) {
                    self.counters.refused_allowlisted += 1;
                    if first {
                        self.refuse(target, why, &cause, now_ns);
                    }
                    continue;
                }
                let (acted, new) = self.decide(self.request(target, &cause), now_ns);
                in_force |= acted;
                changed |= new;
            }
        }
        let anonymous = alert.actor.kind == ActorKind::Ip;
        if self.policy.keys.contains(&BlockKey::Actor) && !(anonymous && by_ip) {
            let target = Target::Actor(alert.actor.id.clone());
            // An actor seen only from allowlisted addresses is theirs to keep.
            let allowed = ips.iter().all(|ip| self.refusal(*ip).is_some());
            match ips.first().and_then(|ip| self.refusal(*ip)) {
                Some(why) if allowed => {
                    self.counters.refused_allowlisted += 1;
                    if first {
                        self.refuse(target, why, &cause, now_ns);
                    }
                }
                _ => {
                    let (acted, new) = self.decide(self.request(target, &cause), now_ns);
                    in_force |= acted;
                    changed |= new;
                }
            }
        }
        if in_force {
            alert.action = match self.mode {
                Mode::On => AlertAction::Blocked,
                _ => AlertAction::WouldBlock,
            };
        }
        if changed {
            self.save();
        }
    }

    /// Follows which connections an actor uses; resets one a blocked actor shows up on.
    pub fn on_transaction(&mut self, actor: Option<&str>, meta: &ConnMeta, now_ns: u64) {
        if self.mode == Mode::Off {
            return;
        }
        // The traffic's own clock: in a replay, ticks may be seconds apart.
        self.expire(now_ns);
        if meta.role != Role::Server {
            return;
        }
        let (Some(actor), Some(ep)) = (actor, meta.endpoints) else {
            return;
        };
        let conn = Tcp4Tuple {
            local: ep.local,
            remote: ep.remote,
        };
        if self.list.contains_actor(actor) {
            if self.reset_done.contains(&conn) {
                return;
            }
            self.reset_done.put(conn, ());
            if self.refusal(ep.remote.ip()).is_some() {
                self.counters.resets_skipped_allowlisted += 1;
                return;
            }
            let Some(d) = self.list.actor(actor).cloned() else {
                return;
            };
            let action = if self.mode == Mode::On {
                BlockAction::Reset
            } else {
                self.counters.would_reset += 1;
                BlockAction::WouldReset
            };
            let mut e = BlockEvent::of(action, self.mode.name(), &d, now_ns);
            e.connection = Some(BlockConnection {
                client: ep.remote.to_string(),
                server: ep.local.to_string(),
            });
            if let Some(m) = &mut self.mechanisms {
                match m.resetter.destroy(conn) {
                    Ok(true) => {
                        self.counters.connections_reset += 1;
                        e.connections_reset = 1;
                    }
                    Ok(false) => {}
                    Err(err) => {
                        self.counters.reset_errors += 1;
                        e.error = Some(err.to_string());
                    }
                }
            }
            self.events.push(e);
            return;
        }
        match self.followed.get_mut(actor) {
            Some(conns) => {
                if !conns.contains(&conn) {
                    if conns.len() >= CONNS_PER_ACTOR {
                        conns.remove(0);
                    }
                    conns.push(conn);
                }
            }
            None => {
                if self.followed.len() == self.followed.cap().get() {
                    self.counters.actors_evicted += 1;
                }
                self.followed.put(actor.to_owned(), vec![conn]);
            }
        }
    }

    /// Expires decisions whose TTL ran out; rereads the host's addresses now and then.
    pub fn tick(&mut self, now_ns: u64) {
        if now_ns.saturating_sub(self.host_read_ns) >= HOST_REFRESH_NS {
            self.host_read_ns = now_ns;
            if let Ok(h) = allow::host_addresses() {
                self.allow.set_host_addresses(h);
                self.host_known = true;
            }
        }
        self.expire(now_ns);
    }

    /// Lifts the decisions whose TTL ran out at `now_ns` (one comparison when none did).
    fn expire(&mut self, now_ns: u64) {
        let expired = self.list.expire(now_ns);
        if expired.is_empty() {
            return;
        }
        for d in &expired {
            self.lift(d);
            self.counters.expired += 1;
            self.events.push(BlockEvent::of(
                BlockAction::Expire,
                self.mode.name(),
                d,
                now_ns,
            ));
        }
        self.save();
    }

    /// `monitor block`: a decision by an operator (allowlisted addresses refused all the same).
    pub fn operator_block(
        &mut self,
        target: Target,
        ttl_secs: Option<u64>,
        reason: Option<String>,
        now_ns: u64,
    ) -> Result<Decision, String> {
        if self.mode == Mode::Off {
            return Err(
                "enforcement is off (start the monitor with --enforce on or dry-run)".into(),
            );
        }
        if let Target::Ip(net) = &target
            && let Some(why) = self.net_refusal(*net)
        {
            self.counters.refused_allowlisted += 1;
            return Err(format!(
                "{net} is never blocked: it holds {} (see README, Enforcement)",
                match why {
                    allow::Allowed::HostAddress => "one of this host's own addresses",
                    allow::Allowed::Loopback => "loopback (enforcement.allow_loopback)",
                    allow::Allowed::Configured => "an allowlisted range (enforcement.allow)",
                    allow::Allowed::TrustedProxy => "a trusted proxy (enforcement.trusted_proxies)",
                }
            ));
        }
        if ttl_secs == Some(0) {
            return Err("the TTL must be greater than zero".into());
        }
        let ttl = ttl_secs.unwrap_or(self.policy.ttl_secs);
        let request = Request {
            target,
            cause: Cause {
                origin: Origin::Operator,
                reason: reason.unwrap_or_else(|| "blocked by an operator".into()),
                alert_id: None,
                category: None,
                severity: None,
            },
            ttl_ns: ttl.saturating_mul(NS_PER_SEC),
        };
        let target = request.target.clone();
        let _ = self.decide(request, now_ns);
        self.save();
        match self.list.get(&target) {
            Some(d) => Ok(d.clone()),
            None => Err(format!(
                "the blocklist is full ({} decisions, enforcement.max_blocked)",
                self.list.len()
            )),
        }
    }

    /// `monitor unblock`.
    pub fn operator_unblock(&mut self, target: &Target, now_ns: u64) -> Result<Decision, String> {
        let Some(d) = self.list.remove(target) else {
            return Err(format!("{target} is not blocked"));
        };
        self.lift(&d);
        self.counters.unblocked += 1;
        self.events.push(BlockEvent::of(
            BlockAction::Unblock,
            self.mode.name(),
            &d,
            now_ns,
        ));
        self.save();
        Ok(d)
    }

    /// `monitor blocks`.
    pub fn decisions(&self) -> Vec<Decision> {
        self.list.list()
    }

    /// One `monitor block|unblock|blocks` request was served.
    pub fn count_control_request(&mut self) {
        self.counters.control_requests += 1;
    }

    pub fn take_events(&mut self) -> std::vec::Drain<'_, BlockEvent> {
        self.events.drain(..)
    }

    pub fn counters(&self) -> EnforcementCounters {
        let mut c = self.counters.clone();
        let (ips, actors) = self.list.counts();
        c.blocked_ips = ips as u64;
        c.blocked_actors = actors as u64;
        c.actors_followed = self.followed.len() as u64;
        if let Some(m) = &self.mechanisms {
            let drops = m.blocker.drops();
            c.packets_dropped_v4 = drops.v4;
            c.packets_dropped_v6 = drops.v6;
            c.packets_unparsed = drops.unparsed;
        }
        c
    }

    fn request(&self, target: Target, cause: &Cause) -> Request {
        Request {
            target,
            cause: cause.clone(),
            ttl_ns: self.policy.ttl_secs.saturating_mul(NS_PER_SEC),
        }
    }

    /// (whether the target is now blocked, whether the decision is new).
    fn decide(&mut self, request: Request, now_ns: u64) -> (bool, bool) {
        let target = request.target.clone();
        let alert_id = request.cause.alert_id.clone();
        match self.list.decide(request, now_ns) {
            Outcome::New(d) => {
                self.counters.decisions += 1;
                self.apply(&d, now_ns);
                (true, true)
            }
            Outcome::Extended(_) => {
                self.counters.extended += 1;
                (true, false)
            }
            Outcome::Full => {
                self.counters.refused_cap += 1;
                let mut e = BlockEvent::bare(BlockAction::Refuse, self.mode.name(), target, now_ns);
                e.alert_id = alert_id;
                e.refused = Some("cap");
                self.events.push(e);
                (false, false)
            }
        }
    }

    /// Carries a new (or restored) decision out, and says so.
    fn apply(&mut self, d: &Decision, now_ns: u64) {
        let mode = self.mode.name();
        let Some(m) = &mut self.mechanisms else {
            self.counters.would_block += 1;
            self.events
                .push(BlockEvent::of(BlockAction::WouldBlock, mode, d, now_ns));
            return;
        };
        let mut e = BlockEvent::of(BlockAction::Block, mode, d, now_ns);
        let mut errors = Vec::new();
        let reset = match &d.target {
            Target::Ip(net) => {
                if let Err(err) = m.blocker.insert(*net, d.id) {
                    self.counters.kernel_errors += 1;
                    errors.push(err.to_string());
                }
                let net = allow::canonical_net(*net);
                m.resetter
                    .destroy_where(|c| net.contains(&canonical(c.remote.ip())))
            }
            Target::Actor(id) => {
                let conns = self.followed.pop(id).unwrap_or_default();
                let mut n = 0;
                let mut failed = None;
                for conn in conns {
                    self.reset_done.put(conn, ());
                    if self.allow.allows(conn.remote.ip()).is_some() {
                        self.counters.resets_skipped_allowlisted += 1;
                        continue;
                    }
                    match m.resetter.destroy(conn) {
                        Ok(true) => n += 1,
                        Ok(false) => {}
                        Err(err) => failed = Some(err),
                    }
                }
                failed.map_or(Ok(n), Err)
            }
        };
        match reset {
            Ok(n) => {
                self.counters.connections_reset += n as u64;
                e.connections_reset = n as u64;
            }
            Err(err) => {
                self.counters.reset_errors += 1;
                errors.push(err.to_string());
            }
        }
        if !errors.is_empty() {
            e.error = Some(errors.join("; "));
        }
        self.events.push(e);
    }

    /// Takes an ended decision out of the kernel.
    fn lift(&mut self, d: &Decision) {
        if let (Some(m), Target::Ip(net)) = (&mut self.mechanisms, &d.target)
            && let Err(err) = m.blocker.remove(*net)
        {
            self.counters.kernel_errors += 1;
            log::warn!("cannot lift the block of {net}: {err}");
        }
    }

    fn refuse(&mut self, target: Target, why: allow::Allowed, cause: &Cause, now_ns: u64) {
        let mut e =
            BlockEvent::bare(BlockAction::Refuse, self.mode.name(), target, now_ns).because(cause);
        e.refused = Some(why.name());
        self.events.push(e);
    }

    /// Why `ip` must not be blocked; everything must not when the host's addresses are unknown.
    fn refusal(&self, ip: IpAddr) -> Option<allow::Allowed> {
        if !self.host_known {
            return Some(allow::Allowed::HostAddress);
        }
        self.allow.allows(ip)
    }

    fn net_refusal(&self, net: IpNet) -> Option<allow::Allowed> {
        if !self.host_known {
            return Some(allow::Allowed::HostAddress);
        }
        self.allow.overlaps(net)
    }

    fn save(&mut self) {
        if let Some(dir) = &self.state_dir
            && let Err(err) = decisions::save(dir, &self.list.saved())
        {
            self.counters.state_errors += 1;
            log::warn!("{err}");
        }
    }
}

fn nonzero(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}
