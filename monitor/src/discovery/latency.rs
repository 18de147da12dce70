//! Latency percentiles per endpoint in a fixed, small histogram: buckets a quarter of a power of
//! two wide (≤ 19% error), from 1 µs to about 70 minutes, so memory per endpoint is constant.

/// Buckets: 4 per doubling over 32 doublings above 1 µs.
const BUCKETS: usize = 128;
const BASE_NS: f64 = 1_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct LatencyHistogram {
    counts: Box<[u32; BUCKETS]>,
    total: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            total: 0,
        }
    }
}

impl LatencyHistogram {
    pub fn record(&mut self, ns: u64) {
        let i = bucket(ns);
        self.counts[i] = self.counts[i].saturating_add(1);
        self.total += 1;
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The `q` quantile (0..=1), as its bucket's upper bound in ns; `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= rank {
                return Some(upper_bound(i));
            }
        }
        Some(upper_bound(BUCKETS - 1))
    }
}

fn bucket(ns: u64) -> usize {
    if (ns as f64) <= BASE_NS {
        return 0;
    }
    let i = ((ns as f64 / BASE_NS).log2() * 4.0).ceil() as usize;
    i.min(BUCKETS - 1)
}

fn upper_bound(i: usize) -> u64 {
    (BASE_NS * 2f64.powf(i as f64 / 4.0)).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_a_bucket() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        for ms in 1..=100u64 {
            h.record(ms * 1_000_000);
        }
        for (q, exact) in [(0.5, 50e6), (0.9, 90e6), (0.99, 99e6)] {
            let got = h.quantile(q).unwrap() as f64;
            assert!(
                got >= exact && got <= exact * 1.19,
                "q{q}: {got} vs {exact}"
            );
        }
        let mut other = LatencyHistogram::default();
        other.record(0);
        other.record(u64::MAX);
        h.merge(&other);
        assert_eq!(h.count(), 102);
        assert_eq!(h.quantile(0.0), Some(1_000));
        assert!(h.quantile(1.0).unwrap() > 1_000_000_000_000);
    }
}
