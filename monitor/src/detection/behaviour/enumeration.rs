//! `enumeration` (BOLA, query abuse): one actor touching many distinct values of one path or
//! query parameter of an endpoint (sequential walks especially), far beyond what actors of its
//! kind touch; or a high share of 403/404 answers on object endpoints.

use serde::{Deserialize, Serialize};

use super::{Ctx, SECOND, params::as_int, secs};
use crate::detection::{
    category::{Category, Severity},
    finding::Finding,
    learned::{Key, Measure},
    window::{Buckets, DistinctWindow, hash_pair},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnumerationRules {
    pub enabled: bool,
    /// Window over which distinct values are counted, seconds.
    pub window_secs: u64,
    /// Distinct values of one parameter in a window from which an actor enumerates (unless
    /// its kind's baseline is higher).
    pub min_distinct: u32,
    /// The same when the values walk in sequence (ids +1, +2…).
    pub sequential_min_distinct: u32,
    /// Share of steps between successive integer values of at most ±2 that makes a walk.
    pub sequential_share: f64,
    /// Requests to object endpoints (templates with parameters) in a window before the share
    /// of 403/404 answers is judged...
    pub error_min_requests: u32,
    /// ...and the share from which it is probing.
    pub error_share: f64,
    /// Query parameters that page through lists (judged by `scraping`, not here).
    pub ignore_params: Vec<String>,
    pub severity: Severity,
}

impl Default for EnumerationRules {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 600,
            min_distinct: 50,
            sequential_min_distinct: 20,
            sequential_share: 0.7,
            error_min_requests: 20,
            error_share: 0.6,
            ignore_params: PAGINATION.iter().map(|s| (*s).to_owned()).collect(),
            severity: Severity::High,
        }
    }
}

/// Query parameters that page through lists.
pub const PAGINATION: &[&str] = &[
    "page",
    "p",
    "pg",
    "page_number",
    "pagenumber",
    "offset",
    "start",
    "skip",
    "cursor",
    "after",
    "before",
    "from",
    "next",
    "page_token",
    "pagetoken",
    "limit",
    "per_page",
    "perpage",
    "page_size",
    "pagesize",
    "size",
    "count",
    "_",
];

/// Parameters followed per actor; the least recently used is dropped (counted).
const KEYS: usize = 8;

#[derive(Debug, Clone)]
struct Param {
    scope: u64,
    /// Label for the baseline and the evidence (`GET /users/{id} {id}`).
    label: String,
    distinct: DistinctWindow,
    epoch: u64,
    last_distinct: usize,
    last_int: Option<i64>,
    steps: u16,
    sequential: u16,
}

#[derive(Debug, Clone, Default)]
pub struct EnumerationState {
    params: Vec<Param>,
    /// Requests to object endpoints and their 403/404 answers, in one-minute buckets.
    object_requests: Buckets<10>,
    object_errors: Buckets<10>,
    pub dropped: u64,
}

pub fn observe(
    rules: &EnumerationRules,
    st: &mut EnumerationState,
    cx: &mut Ctx,
) -> Option<Finding> {
    if cx.endpoint == 0 {
        return None;
    }
    let window = secs(rules.window_secs).max(SECOND);
    let mut best: Option<Finding> = None;
    // A copy of the reference: the parameters are read while `cx` is lent to `touch`.
    let params = cx.params;
    let path_values = params.path().iter().map(|(i, v)| (Name::Position(*i), *v));
    let query_values = params
        .query()
        .iter()
        .filter(|(n, _)| !cx.not_enumerated.contains(n))
        .map(|(n, v)| (Name::Query(n), *v));
    for (name, value) in path_values.chain(query_values) {
        if value.is_empty() {
            continue;
        }
        if let Some(f) = touch(rules, st, cx, name, value, window)
            && best.as_ref().is_none_or(|b| f.confidence > b.confidence)
        {
            best = Some(f);
        }
    }
    if best.is_some() {
        return best;
    }
    object_errors(rules, st, cx)
}

#[derive(Debug, Clone, Copy)]
enum Name<'a> {
    Position(u8),
    Query(&'a str),
}

fn touch(
    rules: &EnumerationRules,
    st: &mut EnumerationState,
    cx: &mut Ctx,
    name: Name,
    value: &str,
    window: u64,
) -> Option<Finding> {
    let scope = match name {
        Name::Position(i) => hash_pair(&cx.endpoint.to_le_bytes(), &[i]),
        Name::Query(n) => hash_pair(&cx.endpoint.to_le_bytes(), n.as_bytes()),
    };
    let now = cx.now;
    let epoch = now / window;
    let i = match st.params.iter().position(|p| p.scope == scope) {
        Some(i) => i,
        None => {
            if st.params.len() == KEYS {
                st.params.pop();
                st.dropped += 1;
            }
            let label = match name {
                Name::Position(i) => format!("{} #{i}", cx.label.unwrap_or_default()),
                Name::Query(n) => format!("{} ?{n}", cx.label.unwrap_or_default()),
            };
            st.params.insert(
                0,
                Param {
                    scope,
                    label,
                    distinct: DistinctWindow::default(),
                    epoch,
                    last_distinct: 0,
                    last_int: None,
                    steps: 0,
                    sequential: 0,
                },
            );
            0
        }
    };
    let p = &mut st.params[i];
    let key = Key {
        measure: Measure::DistinctValues,
        kind: cx.kind,
        scope,
    };
    if epoch != p.epoch {
        // The window that ended teaches the baseline what actors of this kind touch.
        if cx.learning && p.last_distinct > 0 {
            let label = p.label.clone();
            cx.learned
                .add(key, || label, p.last_distinct as f64, &cx.actor);
        }
        p.epoch = epoch;
        p.steps = 0;
        p.sequential = 0;
    }
    p.distinct.insert(
        hash_pair(&scope.to_le_bytes(), value.as_bytes()),
        now,
        window,
    );
    p.last_distinct = p.distinct.current(now, window);
    if let Some(n) = as_int(value) {
        if let Some(last) = p.last_int {
            let step = n.saturating_sub(last).unsigned_abs();
            if step != 0 {
                p.steps = p.steps.saturating_add(1);
                if step <= 2 {
                    p.sequential = p.sequential.saturating_add(1);
                }
            }
        }
        p.last_int = Some(n);
    }
    let sequential =
        p.steps >= 10 && f64::from(p.sequential) >= rules.sequential_share * f64::from(p.steps);
    let floor = f64::from(if sequential {
        rules.sequential_min_distinct
    } else {
        rules.min_distinct
    });
    if (p.distinct.upper_bound(now, window) as f64) < floor {
        return None;
    }
    let distinct = p.distinct.estimate(now, window) as f64;
    if distinct < floor {
        return None;
    }
    let (steps, seq) = (p.steps, p.sequential);
    let label = &p.label;
    let baseline = cx.learned.summary(&key);
    let threshold = baseline.map_or(floor, |b| {
        if sequential {
            (b.threshold / 2.0).max(floor)
        } else {
            b.threshold.max(floor)
        }
    });
    if distinct < threshold {
        return None;
    }
    let mut f = Finding::gated(
        cx.quiet,
        Category::Enumeration,
        rules.severity,
        if sequential { 0.9 } else { 0.75 },
    )
    .figure("distinct_values", distinct)
    .figure("window_secs", window as f64 / 1e9)
    .baseline("threshold", threshold)
    .note_with(|| format!("parameter: {label}"));
    if sequential {
        f = f
            .figure("sequential_steps", f64::from(seq))
            .figure("steps", f64::from(steps))
            .note("sequential id walk");
    }
    if let Some(b) = baseline {
        f = f
            .baseline("median", b.median)
            .baseline("p99", b.p99)
            .baseline("actors", b.actors as f64);
    }
    Some(f)
}

fn object_errors(rules: &EnumerationRules, st: &mut EnumerationState, cx: &Ctx) -> Option<Finding> {
    if cx.params.path().is_empty() {
        return None;
    }
    let bucket = (secs(rules.window_secs) / 10).max(SECOND);
    let now = cx.now;
    st.object_requests.add(now, bucket, 1);
    if matches!(cx.s.status, Some(403 | 404)) {
        st.object_errors.add(now, bucket, 1);
    }
    let requests = st.object_requests.total(now, bucket);
    let errors = st.object_errors.total(now, bucket);
    let share = f64::from(errors) / f64::from(requests.max(1));
    (requests >= rules.error_min_requests
        && share >= rules.error_share
        && matches!(cx.s.status, Some(403 | 404)))
    .then(|| {
        Finding::gated(cx.quiet, Category::Enumeration, rules.severity, 0.7)
            .figure("object_requests", f64::from(requests))
            .figure("forbidden_or_not_found", f64::from(errors))
            .figure("share", share)
            .baseline("error_share", rules.error_share)
            .baseline("error_min_requests", f64::from(rules.error_min_requests))
            .note("many 403/404 answers on object endpoints")
    })
}
