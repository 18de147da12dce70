//! `rate_anomaly`: an actor's requests in the last minute, overall and on one endpoint, far
//! above what actors of the same kind do there. Each actor's active minutes teach the
//! baselines (not while it has open alerts); a floor keeps tiny baselines from alerting.

use serde::{Deserialize, Serialize};

use super::{Ctx, SECOND};
use crate::detection::{
    category::{Category, Severity},
    finding::Finding,
    learned::{Key, Measure},
    window::Buckets,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateRules {
    pub enabled: bool,
    /// Requests per minute (all endpoints) below which no actor is anomalous.
    pub floor_per_minute: f64,
    /// The same, on one endpoint.
    pub endpoint_floor_per_minute: f64,
    /// While a baseline warms up: requests per minute that are anomalous anyway (0: none).
    pub cold_start_per_minute: f64,
    pub severity: Severity,
}

impl Default for RateRules {
    fn default() -> Self {
        Self {
            enabled: true,
            floor_per_minute: 120.0,
            endpoint_floor_per_minute: 60.0,
            cold_start_per_minute: 1200.0,
            severity: Severity::Medium,
        }
    }
}

const BUCKET_NS: u64 = 10 * SECOND;
const MINUTE_NS: u64 = 60 * SECOND;
/// Endpoints an actor's minute is counted on (the rest count only overall).
const ENDPOINTS: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct RateState {
    overall: Buckets<6>,
    /// (endpoint, requests in the trailing minute), most recent first.
    endpoints: Vec<(u64, Buckets<6>)>,
    minute_start: u64,
    minute_total: u32,
    /// (endpoint, label, requests) in the current tumbling minute, for the baselines.
    minute_endpoints: Vec<(u64, String, u32)>,
}

pub fn observe(rules: &RateRules, st: &mut RateState, cx: &mut Ctx) -> Option<Finding> {
    let now = cx.now;
    if now >= st.minute_start.saturating_add(MINUTE_NS) {
        close_minute(st, cx);
        st.minute_start = now;
    }
    st.minute_total = st.minute_total.saturating_add(1);
    st.overall.add(now, BUCKET_NS, 1);
    let overall = f64::from(st.overall.total(now, BUCKET_NS));
    let mut endpoint_rate = None;
    if cx.endpoint != 0 {
        let i = match st.endpoints.iter().position(|(e, _)| *e == cx.endpoint) {
            Some(i) => i,
            None => {
                if st.endpoints.len() == ENDPOINTS {
                    st.endpoints.pop();
                }
                st.endpoints.insert(0, (cx.endpoint, Buckets::default()));
                0
            }
        };
        st.endpoints[i].1.add(now, BUCKET_NS, 1);
        endpoint_rate = Some(f64::from(st.endpoints[i].1.total(now, BUCKET_NS)));
        let room = st.minute_endpoints.len() < 2 * ENDPOINTS;
        match st
            .minute_endpoints
            .iter_mut()
            .find(|(e, _, _)| *e == cx.endpoint)
        {
            Some(m) => m.2 = m.2.saturating_add(1),
            None if room => {
                st.minute_endpoints
                    .push((cx.endpoint, cx.label.unwrap_or_default().to_owned(), 1))
            }
            None => {}
        }
    }
    let overall_key = Key {
        measure: Measure::Rate,
        kind: cx.kind,
        scope: 0,
    };
    if let Some(f) = judge(
        rules,
        cx,
        overall_key,
        overall,
        rules.floor_per_minute,
        "all",
    ) {
        return Some(f);
    }
    let rate = endpoint_rate?;
    let key = Key {
        measure: Measure::EndpointRate,
        kind: cx.kind,
        scope: cx.endpoint,
    };
    judge(
        rules,
        cx,
        key,
        rate,
        rules.endpoint_floor_per_minute,
        "endpoint",
    )
}

fn judge(
    rules: &RateRules,
    cx: &mut Ctx,
    key: Key,
    rate: f64,
    floor: f64,
    scope: &'static str,
) -> Option<Finding> {
    if rate <= floor {
        return None;
    }
    let finding = |threshold: f64| {
        let excess = rate / threshold.max(1.0);
        Finding::gated(
            cx.quiet,
            Category::RateAnomaly,
            if excess >= 10.0 {
                rules.severity.raised()
            } else {
                rules.severity
            },
            (0.5 + 0.1 * excess).min(0.99),
        )
        .figure("requests_per_minute", rate)
        .note_with(|| format!("scope: {scope}"))
    };
    match cx.learned.summary(&key) {
        Some(s) => {
            let threshold = s.threshold.max(floor);
            (rate > threshold).then(|| {
                finding(threshold)
                    .baseline("median", s.median)
                    .baseline("mad", s.mad)
                    .baseline("p99", s.p99)
                    .baseline("threshold", threshold)
                    .baseline("samples", s.samples)
                    .baseline("actors", s.actors as f64)
            })
        }
        None => {
            let cold = rules.cold_start_per_minute;
            (cold > 0.0 && rate > cold.max(floor)).then(|| {
                finding(cold)
                    .baseline("threshold", cold.max(floor))
                    .note("baseline still warming up: cold-start threshold")
            })
        }
    }
}

/// The minute that ended teaches the baselines (unless the actor is under alert).
fn close_minute(st: &mut RateState, cx: &mut Ctx) {
    let total = std::mem::take(&mut st.minute_total);
    let endpoints = std::mem::take(&mut st.minute_endpoints);
    if total == 0 || !cx.learning {
        return;
    }
    let key = Key {
        measure: Measure::Rate,
        kind: cx.kind,
        scope: 0,
    };
    cx.learned.add(
        key,
        || "all endpoints".to_owned(),
        f64::from(total),
        &cx.actor,
    );
    for (scope, label, n) in endpoints {
        let key = Key {
            measure: Measure::EndpointRate,
            kind: cx.kind,
            scope,
        };
        cx.learned.add(key, || label, f64::from(n), &cx.actor);
    }
}
