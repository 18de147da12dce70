//! `account_takeover` by a session changing hands: a credential-bearing actor's session
//! suddenly comes from an address and a user agent it never used (in this session, nor as a
//! known actor from earlier runs), and then changes credentials (password, email, MFA, keys).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{Ctx, login};
use crate::{
    detection::{
        category::{Category, Severity},
        finding::Finding,
    },
    session::{actor::ActorKind, tracker::SessionId},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TakeoverRules {
    pub enabled: bool,
    /// Transactions a session must have made from its first address and user agent before a
    /// change of both counts as a change of hands.
    pub settled_transactions: u32,
    pub severity: Severity,
}

impl Default for TakeoverRules {
    fn default() -> Self {
        Self {
            enabled: true,
            settled_transactions: 3,
            severity: Severity::Critical,
        }
    }
}

/// Addresses and user agents remembered per session.
const KEPT: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct TakeoverState {
    session: Option<SessionId>,
    ips: Vec<IpAddr>,
    agents: Vec<u64>,
    transactions: u32,
    /// The (address, agent) that took over, once both changed on a settled session.
    newcomer: Option<(IpAddr, u64)>,
}

/// What earlier runs knew of this actor (from the state file).
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    pub ips: &'a [IpAddr],
    pub agents: &'a [u64],
}

pub fn observe(
    rules: &TakeoverRules,
    st: &mut TakeoverState,
    cx: &Ctx,
    known: Known,
) -> Option<Finding> {
    if cx.kind == ActorKind::Ip {
        // Address and agent are the identity itself: they cannot change.
        return None;
    }
    let s = cx.s;
    if st.session != Some(s.session) {
        *st = TakeoverState {
            session: Some(s.session),
            ..TakeoverState::default()
        };
    }
    st.transactions = st.transactions.saturating_add(1);
    let (Some(ip), Some(_)) = (s.client_ip, s.user_agent) else {
        return None;
    };
    let agent = cx.agent;
    let new_ip = !st.ips.contains(&ip) && !known.ips.contains(&ip);
    let new_agent = !st.agents.contains(&agent) && !known.agents.contains(&agent);
    if st.ips.is_empty() {
        st.ips.push(ip);
        st.agents.push(agent);
        return None;
    }
    if new_ip && new_agent && st.transactions > rules.settled_transactions && st.newcomer.is_none()
    {
        st.newcomer = Some((ip, agent));
    }
    if st.ips.len() < KEPT && !st.ips.contains(&ip) {
        st.ips.push(ip);
    }
    if st.agents.len() < KEPT && !st.agents.contains(&agent) {
        st.agents.push(agent);
    }
    let (taker_ip, taker_agent) = st.newcomer?;
    (taker_ip == ip && taker_agent == agent && login::touches_credentials(s)).then(|| {
        Finding::gated(cx.quiet, Category::AccountTakeover, rules.severity, 0.75)
            .figure("session_transactions", f64::from(st.transactions))
            .figure("session_addresses", st.ips.len() as f64)
            .figure("session_user_agents", st.agents.len() as f64)
            .note_with(|| format!(
                "session continued from a new address ({ip}) and user agent, then changed credentials"
            ))
    })
}
