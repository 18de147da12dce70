//! `scraping`: high-volume successful reads of list and detail endpoints, walking pages of a
//! list and covering many ids, beyond what actors of the same kind read.

use serde::{Deserialize, Serialize};

use super::{Ctx, SECOND, secs};
use crate::detection::{
    category::{Category, Severity},
    finding::Finding,
    learned::{Key, Measure},
    window::{Buckets, DistinctWindow, hash_pair},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapingRules {
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Successful reads (GET/HEAD, 2xx) in the window from which an actor may be scraping...
    pub min_reads: u32,
    /// ...when it also walked this many distinct pages of lists...
    pub min_pages: u32,
    /// ...or read this many distinct objects (path ids) of detail endpoints.
    pub min_ids: u32,
    /// Reads must also exceed this many times the baseline of requests per minute (× the
    /// window's minutes) of actors of its kind, once that baseline is learned.
    pub baseline_factor: f64,
    pub severity: Severity,
}

impl Default for ScrapingRules {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 300,
            min_reads: 300,
            min_pages: 25,
            min_ids: 150,
            baseline_factor: 3.0,
            severity: Severity::Medium,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ScrapingState {
    reads: Buckets<10>,
    pages: DistinctWindow,
    ids: DistinctWindow,
}

pub fn observe(rules: &ScrapingRules, st: &mut ScrapingState, cx: &mut Ctx) -> Option<Finding> {
    let s = cx.s;
    if !matches!(s.method, "GET" | "HEAD") || !matches!(s.status, Some(200..=299)) {
        return None;
    }
    let window = secs(rules.window_secs).max(SECOND);
    let now = cx.now;
    st.reads.add(now, window / 10, 1);
    let scope = cx.endpoint.to_le_bytes();
    for (name, value) in cx.params.query() {
        if !value.is_empty() && cx.pagination.contains(name) {
            st.pages
                .insert(hash_pair(&scope, value.as_bytes()), now, window);
        }
    }
    for (_, value) in cx.params.path() {
        st.ids
            .insert(hash_pair(&scope, value.as_bytes()), now, window);
    }
    let reads = st.reads.total(now, window / 10);
    if reads < rules.min_reads {
        return None;
    }
    let pages = st.pages.estimate(now, window);
    let ids = st.ids.estimate(now, window);
    if pages < rules.min_pages as usize && ids < rules.min_ids as usize {
        return None;
    }
    let minutes = window as f64 / (60.0 * 1e9);
    let key = Key {
        measure: Measure::Rate,
        kind: cx.kind,
        scope: 0,
    };
    let baseline = cx.learned.summary(&key);
    let needed = baseline.map_or(0.0, |b| b.median * minutes * rules.baseline_factor);
    if f64::from(reads) <= needed {
        return None;
    }
    let mut f = Finding::gated(cx.quiet, Category::Scraping, rules.severity, 0.75)
        .figure("reads", f64::from(reads))
        .figure("distinct_pages", pages as f64)
        .figure("distinct_ids", ids as f64)
        .figure("window_secs", minutes * 60.0)
        .baseline("min_reads", f64::from(rules.min_reads))
        .baseline("min_pages", f64::from(rules.min_pages))
        .baseline("min_ids", f64::from(rules.min_ids));
    if let Some(b) = baseline {
        f = f
            .baseline("median_requests_per_minute", b.median)
            .baseline("reads_needed", needed);
    }
    Some(f)
}
