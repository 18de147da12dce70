//! `ip_rotation`: one credential-bearing actor (token, API key, cookie) from many client
//! addresses in a short window; or many addresses sharing one fingerprint (user agent and
//! endpoint), each making only a few failing requests, that act as one.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{Ctx, SECOND, secs};
use crate::{
    detection::{
        category::{Category, Severity},
        finding::Finding,
        window::{Buckets, DistinctWindow, hash_of},
    },
    session::actor::ActorKind,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotationRules {
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Distinct client addresses of one credential in the window.
    pub min_addresses: u32,
    /// Distinct addresses sharing one fingerprint (anonymous actors) in the window...
    pub fingerprint_min_addresses: u32,
    /// ...each making at most this many requests on average...
    pub fingerprint_max_per_address: f64,
    /// ...and at least this share of them failing (4xx).
    pub fingerprint_min_failure_share: f64,
    pub severity: Severity,
}

impl Default for RotationRules {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 300,
            min_addresses: 5,
            fingerprint_min_addresses: 20,
            fingerprint_max_per_address: 3.0,
            fingerprint_min_failure_share: 0.5,
            severity: Severity::Medium,
        }
    }
}

/// Addresses listed in the evidence.
pub const LISTED: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct RotationState {
    addresses: DistinctWindow,
    /// The last address inserted and its window: the same address again (the usual case) is
    /// not inserted again.
    last: Option<(IpAddr, u64)>,
    /// The latest distinct addresses, most recent last.
    pub recent: Vec<IpAddr>,
}

pub fn observe(rules: &RotationRules, st: &mut RotationState, cx: &Ctx) -> Option<Finding> {
    if cx.kind == ActorKind::Ip {
        return None;
    }
    let ip = cx.s.client_ip?;
    let window = secs(rules.window_secs).max(SECOND);
    let epoch = cx.now / window;
    if st.last == Some((ip, epoch)) {
        // Nothing new: the count cannot have grown.
        return None;
    }
    st.last = Some((ip, epoch));
    st.addresses.insert(hash_of(&ip_bytes(ip)), cx.now, window);
    if !st.recent.contains(&ip) {
        if st.recent.len() == LISTED {
            st.recent.remove(0);
        }
        st.recent.push(ip);
    }
    if st.addresses.upper_bound(cx.now, window) < rules.min_addresses as usize {
        return None;
    }
    let n = st.addresses.estimate(cx.now, window);
    (n >= rules.min_addresses as usize).then(|| {
        Finding::gated(
            cx.quiet,
            Category::IpRotation,
            if n >= 4 * rules.min_addresses as usize {
                rules.severity.raised()
            } else {
                rules.severity
            },
            (0.6 + 0.05 * n as f64).min(0.95),
        )
        .figure("distinct_addresses", n as f64)
        .figure("window_secs", rules.window_secs as f64)
        .baseline("min_addresses", f64::from(rules.min_addresses))
        .note_with(|| format!("one {} credential from many addresses", cx.kind.name()))
    })
}

pub fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Anonymous requests grouped by user agent and endpoint.
#[derive(Debug, Clone, Default)]
pub struct FingerprintState {
    addresses: DistinctWindow,
    requests: Buckets<5>,
    failures: Buckets<5>,
    pub recent: Vec<IpAddr>,
}

/// The fingerprint of an anonymous request, when it has one worth following.
pub fn fingerprint(cx: &Ctx) -> Option<u64> {
    if cx.kind != ActorKind::Ip || cx.endpoint == 0 {
        return None;
    }
    let ua = cx.s.user_agent.unwrap_or_default();
    Some(crate::detection::window::hash_pair(
        ua.as_bytes(),
        &cx.endpoint.to_le_bytes(),
    ))
}

pub fn observe_fingerprint(
    rules: &RotationRules,
    st: &mut FingerprintState,
    cx: &Ctx,
) -> Option<Finding> {
    let ip = cx.s.client_ip?;
    let window = secs(rules.window_secs).max(SECOND);
    let now = cx.now;
    st.addresses.insert(hash_of(&ip_bytes(ip)), now, window);
    st.requests.add(now, window / 5, 1);
    let failed = matches!(cx.s.status, Some(400..=499));
    if failed {
        st.failures.add(now, window / 5, 1);
    }
    if !st.recent.contains(&ip) {
        if st.recent.len() == LISTED {
            st.recent.remove(0);
        }
        st.recent.push(ip);
    }
    if !failed || st.addresses.upper_bound(now, window) < rules.fingerprint_min_addresses as usize {
        return None;
    }
    let n = st.addresses.estimate(now, window);
    let requests = st.requests.total(now, window / 5);
    let failures = st.failures.total(now, window / 5);
    let per_address = f64::from(requests) / n.max(1) as f64;
    let share = f64::from(failures) / f64::from(requests.max(1));
    (n >= rules.fingerprint_min_addresses as usize
        && per_address <= rules.fingerprint_max_per_address
        && share >= rules.fingerprint_min_failure_share)
        .then(|| {
            Finding::gated(cx.quiet, Category::IpRotation, rules.severity, 0.7)
                .figure("distinct_addresses", n as f64)
                .figure("requests_per_address", per_address)
                .figure("failure_share", share)
                .baseline(
                    "fingerprint_min_addresses",
                    f64::from(rules.fingerprint_min_addresses),
                )
                .baseline(
                    "fingerprint_max_per_address",
                    rules.fingerprint_max_per_address,
                )
                .note(
                    "many addresses with one user agent on one endpoint, each failing a few times",
                )
        })
}
