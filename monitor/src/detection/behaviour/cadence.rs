//! `bot_cadence`: intervals between an actor's requests too regular for a person (a low
//! coefficient of variation over enough requests), or sustained zero think-time (no pause for
//! many seconds). Known benign automation (health checkers, metrics scrapers) is left alone.

use serde::{Deserialize, Serialize};

use super::{Ctx, SECOND};
use crate::detection::{
    category::{Category, Severity},
    finding::Finding,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CadenceRules {
    pub enabled: bool,
    /// Intervals looked at (at most 64).
    pub intervals: usize,
    /// Coefficient of variation (std / mean of the intervals) below which the cadence is a
    /// machine's.
    pub max_cv: f64,
    /// Regular intervals longer than this (seconds) are a scheduled job, not abuse.
    pub max_mean_secs: f64,
    /// A pause shorter than this (milliseconds) is no think-time.
    pub pause_ms: u64,
    /// Sustained requests without a pause for this long (seconds)...
    pub sustained_secs: u64,
    /// ...and at least this many of them.
    pub sustained_requests: u32,
    /// User agents (case-insensitive substrings) of benign automation never judged here.
    pub benign_agents: Vec<String>,
    pub severity: Severity,
}

impl Default for CadenceRules {
    fn default() -> Self {
        Self {
            enabled: true,
            intervals: 32,
            max_cv: 0.1,
            max_mean_secs: 30.0,
            pause_ms: 500,
            sustained_secs: 30,
            sustained_requests: 120,
            benign_agents: [
                "prometheus",
                "kube-probe",
                "elb-healthchecker",
                "googlehc",
                "consul health",
                "datadog agent",
                "blackbox-exporter",
                "uptimerobot",
                "pingdom",
                "grafana",
                "alertmanager",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            severity: Severity::Low,
        }
    }
}

const RING: usize = 64;

#[derive(Debug, Clone)]
pub struct CadenceState {
    last_ns: u64,
    /// Intervals in microseconds, a ring.
    ring: [u32; RING],
    len: u8,
    pos: u8,
    /// Start of the current run of requests without a pause, and its requests.
    run_start_ns: u64,
    run_requests: u32,
    /// None until the user agent was checked against the benign list.
    benign: Option<bool>,
}

impl Default for CadenceState {
    fn default() -> Self {
        Self {
            last_ns: 0,
            ring: [0; RING],
            len: 0,
            pos: 0,
            run_start_ns: 0,
            run_requests: 0,
            benign: None,
        }
    }
}

pub fn observe(rules: &CadenceRules, st: &mut CadenceState, cx: &Ctx) -> Option<Finding> {
    let benign = *st.benign.get_or_insert_with(|| {
        cx.s.user_agent.is_some_and(|ua| {
            let ua = ua.to_ascii_lowercase();
            rules
                .benign_agents
                .iter()
                .any(|b| !b.is_empty() && ua.contains(&b.to_ascii_lowercase()))
        })
    });
    let now = cx.now;
    let first = st.last_ns == 0;
    let gap = now.saturating_sub(st.last_ns);
    st.last_ns = st.last_ns.max(now);
    if first {
        st.run_start_ns = now;
        st.run_requests = 1;
        return None;
    }
    let want = rules.intervals.clamp(4, RING);
    st.ring[usize::from(st.pos)] = u32::try_from(gap / 1000).unwrap_or(u32::MAX);
    st.pos = ((usize::from(st.pos) + 1) % want) as u8;
    st.len = (usize::from(st.len) + 1).min(want) as u8;
    if gap > rules.pause_ms.saturating_mul(1_000_000) {
        st.run_start_ns = now;
        st.run_requests = 1;
    } else {
        st.run_requests = st.run_requests.saturating_add(1);
    }
    if benign {
        return None;
    }
    let run_ns = now.saturating_sub(st.run_start_ns);
    if run_ns >= rules.sustained_secs.saturating_mul(SECOND)
        && st.run_requests >= rules.sustained_requests
    {
        return Some(
            Finding::new(Category::BotCadence, rules.severity, 0.7)
                .figure("seconds_without_pause", run_ns as f64 / 1e9)
                .figure("requests_without_pause", f64::from(st.run_requests))
                .baseline("pause_ms", rules.pause_ms as f64)
                .baseline("sustained_secs", rules.sustained_secs as f64)
                .note("sustained zero think-time"),
        );
    }
    if usize::from(st.len) < want {
        return None;
    }
    let n = want as f64;
    let intervals = &st.ring[..want];
    let mean = intervals.iter().map(|&i| f64::from(i)).sum::<f64>() / n;
    if mean <= 0.0 || mean > rules.max_mean_secs * 1e6 {
        return None;
    }
    let var = intervals
        .iter()
        .map(|&i| (f64::from(i) - mean).powi(2))
        .sum::<f64>()
        / n;
    let cv = var.sqrt() / mean;
    (cv < rules.max_cv).then(|| {
        Finding::new(
            Category::BotCadence,
            rules.severity,
            (0.6 + (rules.max_cv - cv) / rules.max_cv * 0.35).min(0.95),
        )
        .figure("interval_cv", cv)
        .figure("mean_interval_ms", mean / 1000.0)
        .figure("intervals", n)
        .baseline("max_cv", rules.max_cv)
        .note("inter-request intervals too regular for a person")
    })
}
