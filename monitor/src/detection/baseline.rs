//! A learned baseline of one measure (requests per minute of an actor on an endpoint, distinct
//! ids it touched...): a log-spaced histogram of the samples, decayed so recent traffic weighs
//! most, giving median, MAD and high percentiles in constant memory, and a threshold only once
//! enough samples from enough actors were seen (warm-up).

use serde::{Deserialize, Serialize};

use super::window::hash_of;

/// Buckets per doubling of the value: quantiles are within ~9 % of the true value.
const PER_OCTAVE: f64 = 4.0;
/// Values up to 2^24 (16 M) have their own bucket; larger ones share the last.
const BUCKETS: usize = 1 + 24 * PER_OCTAVE as usize;

/// How a baseline turns into a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineRules {
    /// Samples needed before the baseline is trusted.
    pub min_samples: u32,
    /// Distinct actors the samples must come from (one actor cannot make the norm).
    pub min_actors: u32,
    /// A value beyond median + `mad_factor` × 1.4826 × MAD is anomalous...
    pub mad_factor: f64,
    /// ...and beyond `percentile_factor` × the 99th percentile...
    pub percentile_factor: f64,
    /// Total sample weight kept; beyond it every weight is halved, so old traffic fades.
    pub max_weight: f64,
}

impl Default for BaselineRules {
    fn default() -> Self {
        Self {
            min_samples: 30,
            min_actors: 5,
            mad_factor: 8.0,
            percentile_factor: 3.0,
            max_weight: 5_000.0,
        }
    }
}

/// What a baseline says right now, for evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub mad: f64,
    pub p99: f64,
    pub samples: f64,
    pub actors: u64,
    /// median + k·MAD and factor × p99, whichever is larger (before any floor).
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Sample weight per bucket (`BUCKETS` long); saved as (bucket, weight) pairs of the
    /// buckets in use, so a state file of thousands of baselines stays small.
    #[serde(with = "sparse")]
    weights: Vec<f64>,
    total: f64,
    /// Distinct contributing actors (estimated from a small exact set, then kept as a count).
    actors: u64,
    /// Hashes of the latest contributors, to count distinct ones cheaply (bounded).
    #[serde(skip)]
    recent: Vec<u64>,
    #[serde(skip)]
    cached: Option<Summary>,
    #[serde(skip)]
    since_cache: u32,
}

/// Contributors remembered to tell a new actor from a repeat one; beyond it, repeats of old
/// contributors count as new (an overestimate that only matters below `min_actors`).
const RECENT_ACTORS: usize = 32;
/// Samples added before the summary is computed again (quantiles move slowly).
const RECOMPUTE_EVERY: u32 = 8;

impl Default for Baseline {
    fn default() -> Self {
        Self {
            weights: vec![0.0; BUCKETS],
            total: 0.0,
            actors: 0,
            recent: Vec::new(),
            cached: None,
            since_cache: 0,
        }
    }
}

fn bucket_of(value: f64) -> usize {
    if value.is_nan() || value < 1.0 {
        return 0;
    }
    let i = ((value.log2() * PER_OCTAVE) as usize).saturating_add(1);
    i.min(BUCKETS - 1)
}

/// Lower and upper value of a bucket.
fn bounds(i: usize) -> (f64, f64) {
    if i == 0 {
        return (0.0, 1.0);
    }
    let lo = ((i - 1) as f64 / PER_OCTAVE).exp2();
    (lo, (i as f64 / PER_OCTAVE).exp2())
}

impl Baseline {
    /// Adds one sample from `actor` (any stable bytes naming it).
    pub fn add(&mut self, value: f64, actor: &[u8], rules: &BaselineRules) {
        if self.weights.len() != BUCKETS {
            self.weights.resize(BUCKETS, 0.0);
        }
        self.weights[bucket_of(value)] += 1.0;
        self.total += 1.0;
        if self.total > rules.max_weight {
            for w in &mut self.weights {
                *w *= 0.5;
            }
            self.total *= 0.5;
        }
        let h = hash_of(actor);
        if !self.recent.contains(&h) {
            if self.recent.len() == RECENT_ACTORS {
                self.recent.remove(0);
            }
            self.recent.push(h);
            self.actors = self.actors.saturating_add(1);
        }
        self.since_cache += 1;
        if self.since_cache >= RECOMPUTE_EVERY {
            self.cached = None;
        }
    }

    /// The summary, or None while warming up.
    pub fn summary(&mut self, rules: &BaselineRules) -> Option<Summary> {
        if self.total < f64::from(rules.min_samples) || self.actors < u64::from(rules.min_actors) {
            return None;
        }
        if let Some(s) = self.cached {
            return Some(s);
        }
        let median = self.quantile(0.5);
        let p99 = self.quantile(0.99);
        let mad = self.mad(median);
        let threshold =
            (median + rules.mad_factor * 1.4826 * mad).max(rules.percentile_factor * p99);
        let s = Summary {
            median,
            mad,
            p99,
            samples: self.total,
            actors: self.actors,
            threshold,
        };
        self.cached = Some(s);
        self.since_cache = 0;
        Some(s)
    }

    /// The `q` quantile, interpolated inside its bucket.
    fn quantile(&self, q: f64) -> f64 {
        let target = q * self.total;
        let mut seen = 0.0;
        for (i, &w) in self.weights.iter().enumerate() {
            if w > 0.0 && seen + w >= target {
                let (lo, hi) = bounds(i);
                let frac = ((target - seen) / w).clamp(0.0, 1.0);
                return lo + (hi - lo) * frac;
            }
            seen += w;
        }
        bounds(BUCKETS - 1).1
    }

    /// Median absolute deviation from `median`, each bucket taken at its midpoint.
    fn mad(&self, median: f64) -> f64 {
        let mut devs: Vec<(f64, f64)> = self
            .weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0.0)
            .map(|(i, &w)| {
                let (lo, hi) = bounds(i);
                (((lo + hi) / 2.0 - median).abs(), w)
            })
            .collect();
        devs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let half = self.total / 2.0;
        let mut seen = 0.0;
        for (d, w) in devs {
            seen += w;
            if seen >= half {
                return d;
            }
        }
        0.0
    }

    /// Makes a baseline read from a file consistent: the total is what its buckets hold.
    pub fn repair(&mut self) {
        self.weights.resize(BUCKETS, 0.0);
        self.total = self.weights.iter().sum();
        self.cached = None;
    }

    pub fn samples(&self) -> f64 {
        self.total
    }
}

mod sparse {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::BUCKETS;

    pub fn serialize<S: Serializer>(weights: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(usize, f64)> = weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0.0)
            .map(|(i, w)| (i, (w * 1000.0).round() / 1000.0))
            .collect();
        pairs.serialize(s)
    }

    /// Buckets out of range and weights that are not finite positive numbers are dropped.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let pairs = Vec::<(usize, f64)>::deserialize(d)?;
        let mut weights = vec![0.0; BUCKETS];
        for (i, w) in pairs {
            if i < BUCKETS && w.is_finite() && w > 0.0 {
                weights[i] = w;
            }
        }
        Ok(weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> BaselineRules {
        BaselineRules::default()
    }

    #[test]
    fn warms_up_on_samples_and_actors() {
        let mut b = Baseline::default();
        for i in 0..100 {
            b.add(10.0, b"one actor", &rules());
            assert!(b.summary(&rules()).is_none(), "one actor at {i}");
        }
        for a in 0..4u8 {
            b.add(10.0, &[a], &rules());
        }
        assert!(b.summary(&rules()).is_some());
    }

    #[test]
    fn quantiles_follow_the_samples() {
        let mut b = Baseline::default();
        for i in 0..1000u32 {
            // Values 1..=20, uniform.
            b.add(f64::from(i % 20 + 1), &i.to_le_bytes(), &rules());
        }
        let s = b.summary(&rules()).unwrap();
        assert!((8.0..=13.0).contains(&s.median), "{s:?}");
        assert!((17.0..=24.0).contains(&s.p99), "{s:?}");
        assert!((3.0..=7.0).contains(&s.mad), "{s:?}");
        // 3 × p99 dominates: a value of 100 is far beyond, 30 is not.
        assert!(s.threshold > 40.0 && s.threshold < 100.0, "{s:?}");
    }

    #[test]
    fn old_samples_fade() {
        let mut r = rules();
        r.max_weight = 200.0;
        let mut b = Baseline::default();
        for i in 0..200u32 {
            b.add(100.0, &i.to_le_bytes(), &r);
        }
        for i in 0..2000u32 {
            b.add(5.0, &i.to_le_bytes(), &r);
        }
        let s = b.summary(&r).unwrap();
        assert!(s.median < 7.0, "{s:?}");
        assert!(b.samples() <= 200.0);
    }

    #[test]
    fn odd_values_stay_in_range() {
        let mut b = Baseline::default();
        for (i, v) in [f64::NAN, -3.0, 0.0, 1e30, f64::INFINITY]
            .into_iter()
            .cycle()
            .take(100)
            .enumerate()
        {
            b.add(v, &i.to_le_bytes(), &rules());
        }
        let s = b.summary(&rules()).unwrap();
        assert!(s.threshold.is_finite() && s.median.is_finite());
    }

    #[test]
    fn a_saved_baseline_reads_back() {
        let mut b = Baseline::default();
        for i in 0..50u32 {
            b.add(f64::from(i), &i.to_le_bytes(), &rules());
        }
        let text = serde_json::to_string(&b).unwrap();
        assert!(text.len() < 600, "{text}");
        let mut back: Baseline = serde_json::from_str(&text).unwrap();
        assert_eq!(back.summary(&rules()), b.summary(&rules()));
        // Hostile files: out-of-range buckets, negative weights.
        let odd = r#"{"weights":[[500,1.0],[3,-2.0],[4,5.0]],"total":5.0,"actors":9}"#;
        let mut odd: Baseline = serde_json::from_str(odd).unwrap();
        assert!(odd.summary(&rules()).is_none(), "5 samples, under warm-up");
    }
}
