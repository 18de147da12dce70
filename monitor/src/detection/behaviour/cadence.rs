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
    /// Sum and sum of squares of the intervals in the ring, kept as they enter and leave, so
    /// the mean and variance cost nothing per request.
    sum: u64,
    sum_sq: u128,
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
            sum: 0,
            sum_sq: 0,
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
    let slot = usize::from(st.pos);
    let interval = u32::try_from(gap / 1000).unwrap_or(u32::MAX);
    if usize::from(st.len) == want {
        let old = st.ring[slot];
        st.sum -= u64::from(old);
        st.sum_sq -= u128::from(old) * u128::from(old);
    }
    st.ring[slot] = interval;
    st.sum += u64::from(interval);
    st.sum_sq += u128::from(interval) * u128::from(interval);
    st.pos = ((slot + 1) % want) as u8;
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
            Finding::gated(cx.quiet, Category::BotCadence, rules.severity, 0.7)
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
    let mean = st.sum as f64 / n;
    if mean <= 0.0 || mean > rules.max_mean_secs * 1e6 {
        return None;
    }
    // n² × variance, exactly, in integers (no cancellation for very regular intervals).
    let spread = (want as u128 * st.sum_sq).saturating_sub(u128::from(st.sum).pow(2));
    let var = spread as f64 / (n * n);
    let cv = var.sqrt() / mean;
    (cv < rules.max_cv).then(|| {
        Finding::gated(
            cx.quiet,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::{
        baseline::BaselineRules, behaviour::params::Params, learned::Learned, testkit::sighting,
    };

    /// Feeds requests at `gaps` (ms) and returns the first finding's note.
    fn run(
        rules: &CadenceRules,
        gaps: impl Iterator<Item = u64>,
        ua: &'static str,
    ) -> Option<Finding> {
        let mut st = CadenceState::default();
        let mut learned = Learned::new(BaselineRules::default(), 4);
        let params = Params::of("/", None, None);
        let names = crate::detection::behaviour::params::NameSet::default();
        let mut s = sighting("GET", "/");
        s.user_agent = Some(ua);
        let mut now = SECOND;
        let mut found = None;
        for gap in gaps {
            now += gap * 1_000_000;
            s.ts_ns = now;
            let cx = Ctx {
                s: &s,
                now,
                kind: s.actor.kind,
                actor: [1; 8],
                endpoint: 0,
                label: None,
                params: &params,
                learning: true,
                agent: 0,
                pagination: &names,
                not_enumerated: &names,
                quiet: 0,
                learned: &mut learned,
            };
            if let Some(f) = observe(rules, &mut st, &cx) {
                found.get_or_insert(f);
            }
        }
        found
    }

    #[test]
    fn a_metronome_is_a_bot_and_a_person_is_not() {
        let rules = CadenceRules::default();
        let f = run(&rules, std::iter::repeat_n(2_000, 40), "poller/1").unwrap();
        assert!(f.evidence().figures["interval_cv"] < 0.01, "{f:?}");
        // Human think time: 2–20 s, irregular.
        let mut x = 7u64;
        let human = (0..200).map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            2_000 + (x >> 33) % 18_000
        });
        assert!(run(&rules, human, "Mozilla/5.0").is_none());
        // The same metronome from a metrics scraper is left alone.
        assert!(run(&rules, std::iter::repeat_n(2_000, 40), "Prometheus/2.45.0").is_none());
    }

    #[test]
    fn sustained_zero_think_time_is_a_bot() {
        let rules = CadenceRules::default();
        // Irregular but never pausing: 50–250 ms for 40 s.
        let mut x = 3u64;
        let busy = (0..300).map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            50 + (x >> 33) % 200
        });
        let f = run(&rules, busy, "python-requests/2.31").unwrap();
        assert!(
            f.evidence()
                .notes
                .iter()
                .any(|n| n.contains("zero think-time")),
            "{f:?}"
        );
    }
}
