//! `forced_browsing`: bursts of 404 answers on many distinct paths from one actor — directory
//! and file guessing (gobuster, dirb, ffuf) rather than a broken link.

use serde::{Deserialize, Serialize};

use super::{Ctx, SECOND, secs};
use crate::detection::{
    category::{Category, Severity},
    finding::Finding,
    window::{Buckets, DistinctWindow, hash_of},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrowsingRules {
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Distinct paths answered 404 in the window from which it is forced browsing...
    pub min_distinct_not_found: u32,
    /// ...when they are at least this share of the actor's requests in the window.
    pub min_share: f64,
    pub severity: Severity,
}

impl Default for BrowsingRules {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 60,
            min_distinct_not_found: 20,
            min_share: 0.5,
            severity: Severity::Medium,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct BrowsingState {
    requests: Buckets<6>,
    not_found: Buckets<6>,
    paths: DistinctWindow,
}

impl BrowsingState {
    /// Distinct paths answered 404 recently (for the scanner's behaviour signals).
    pub fn distinct_not_found(&mut self, now: u64, rules: &BrowsingRules) -> usize {
        self.paths
            .estimate(now, secs(rules.window_secs).max(SECOND))
    }
}

pub fn observe(rules: &BrowsingRules, st: &mut BrowsingState, cx: &Ctx) -> Option<Finding> {
    let window = secs(rules.window_secs).max(SECOND);
    let now = cx.now;
    st.requests.add(now, window / 6, 1);
    if cx.s.status != Some(404) {
        return None;
    }
    st.not_found.add(now, window / 6, 1);
    st.paths.insert(hash_of(cx.s.path.as_bytes()), now, window);
    if st.paths.upper_bound(now, window) < rules.min_distinct_not_found as usize {
        return None;
    }
    let distinct = st.paths.estimate(now, window);
    let requests = st.requests.total(now, window / 6);
    let not_found = st.not_found.total(now, window / 6);
    let share = f64::from(not_found) / f64::from(requests.max(1));
    (distinct >= rules.min_distinct_not_found as usize && share >= rules.min_share).then(|| {
        Finding::gated(
            cx.quiet,
            Category::ForcedBrowsing,
            if distinct >= 10 * rules.min_distinct_not_found as usize {
                rules.severity.raised()
            } else {
                rules.severity
            },
            (0.6 + share * 0.35).min(0.95),
        )
        .figure("distinct_not_found_paths", distinct as f64)
        .figure("not_found", f64::from(not_found))
        .figure("requests", f64::from(requests))
        .figure("share", share)
        .baseline(
            "min_distinct_not_found",
            f64::from(rules.min_distinct_not_found),
        )
        .baseline("min_share", rules.min_share)
        .baseline("window_secs", rules.window_secs as f64)
    })
}
