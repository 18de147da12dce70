//! Sliding windows over event time: counts in fixed buckets, and distinct values in two
//! generations of HyperLogLog++ sketches, both a few bytes when idle. Time is whatever the
//! caller passes (the transactions' own clock), so replays count alike.

use cardinality_estimator::CardinalityEstimator;

/// Precision of the distinct sketches: 2^8 registers (about 6.5 % standard error beyond the
/// exact range, 192 bytes at most); below 128 values they count exactly.
type Sketch = CardinalityEstimator<u64, wyhash::WyHash, 8, 6>;

/// Counts over the last `BUCKETS` buckets of `bucket_ns` each (the same `bucket_ns` in every
/// call).
#[derive(Debug, Clone)]
pub struct Buckets<const BUCKETS: usize> {
    counts: [u32; BUCKETS],
    /// Index of the bucket holding `head_ns` (bucket number since time 0).
    head: u64,
    /// Where the bucket after `head` starts (ns): before it, time needs no division.
    next_ns: u64,
}

impl<const BUCKETS: usize> Default for Buckets<BUCKETS> {
    fn default() -> Self {
        Self {
            counts: [0; BUCKETS],
            head: 0,
            next_ns: 0,
        }
    }
}

impl<const BUCKETS: usize> Buckets<BUCKETS> {
    /// Adds `n` at `now_ns`.
    pub fn add(&mut self, now_ns: u64, bucket_ns: u64, n: u32) {
        self.advance(now_ns, bucket_ns);
        let slot = (self.head % BUCKETS as u64) as usize;
        self.counts[slot] = self.counts[slot].saturating_add(n);
    }

    /// The total over the window ending at `now_ns`.
    pub fn total(&mut self, now_ns: u64, bucket_ns: u64) -> u32 {
        self.advance(now_ns, bucket_ns);
        self.counts.iter().fold(0u32, |a, &c| a.saturating_add(c))
    }

    /// Moves the head to `now_ns`'s bucket, clearing the buckets it passes. Time going
    /// backwards (transactions finish out of order) counts into the current bucket.
    #[inline]
    fn advance(&mut self, now_ns: u64, bucket_ns: u64) {
        if now_ns >= self.next_ns {
            self.advance_to(now_ns, bucket_ns.max(1));
        }
    }

    fn advance_to(&mut self, now_ns: u64, bucket_ns: u64) {
        let bucket = now_ns / bucket_ns;
        if bucket > self.head {
            let steps = (bucket - self.head).min(BUCKETS as u64);
            for i in 1..=steps {
                self.counts[((self.head + i) % BUCKETS as u64) as usize] = 0;
            }
            self.head = bucket;
        }
        self.next_ns = self.head.saturating_add(1).saturating_mul(bucket_ns);
    }
}

/// Distinct values seen in the current and the previous window of `window_ns` (the same in
/// every call): the estimate covers between one and two windows back, never less than one.
#[derive(Debug, Clone, Default)]
pub struct DistinctWindow {
    current: Sketch,
    previous: Sketch,
    /// `previous`'s estimate, fixed once it is the previous window.
    previous_count: usize,
    /// The last union estimate and `current`'s count when it was made: merging costs a copy of
    /// the sketch, so it is redone only when `current` grew by a sixteenth.
    union: Option<(usize, usize)>,
    /// `current`'s estimate since the last insert: a detector asks for the count, its bound
    /// and the union in a row, and the sketch's estimate is the costly part of each.
    current_count: Option<usize>,
    /// Window number of `current`.
    epoch: u64,
    /// Where the window after `epoch` starts (ns): before it, time needs no division.
    next_ns: u64,
}

impl DistinctWindow {
    /// Adds a value (by its hash) at `now_ns`; whether it is new to the current window is not
    /// known (the sketch does not say), so callers count distinct values, not arrivals.
    pub fn insert(&mut self, hash: u64, now_ns: u64, window_ns: u64) {
        self.rotate(now_ns, window_ns);
        self.current.insert_hash(hash);
        self.current_count = None;
    }

    /// `current`'s estimate, made once per insert.
    fn current_count(&mut self) -> usize {
        match self.current_count {
            Some(n) => n,
            None => {
                let n = self.current.estimate();
                self.current_count = Some(n);
                n
            }
        }
    }

    /// Distinct values over the current and the previous window.
    pub fn estimate(&mut self, now_ns: u64, window_ns: u64) -> usize {
        self.rotate(now_ns, window_ns);
        let current = self.current_count();
        if self.previous_count == 0 {
            return current;
        }
        if let Some((at, union)) = self.union
            && current.saturating_sub(at) <= at / 16
        {
            return union + (current - at.min(current));
        }
        let mut both = self.previous.clone();
        both.merge(&self.current);
        let union = both.estimate();
        self.union = Some((current, union));
        union
    }

    /// At least [`estimate`](Self::estimate), without merging: callers comparing with a
    /// threshold skip the merge while this stays below it.
    pub fn upper_bound(&mut self, now_ns: u64, window_ns: u64) -> usize {
        self.rotate(now_ns, window_ns);
        self.current_count() + self.previous_count
    }

    /// Distinct values in the current window only (cheap: no merge).
    pub fn current(&mut self, now_ns: u64, window_ns: u64) -> usize {
        self.rotate(now_ns, window_ns);
        self.current_count()
    }

    #[inline]
    fn rotate(&mut self, now_ns: u64, window_ns: u64) {
        if now_ns >= self.next_ns {
            self.rotate_to(now_ns, window_ns.max(1));
        }
    }

    fn rotate_to(&mut self, now_ns: u64, window_ns: u64) {
        let epoch = now_ns / window_ns;
        if epoch > self.epoch {
            self.start(epoch);
        }
        self.next_ns = self.epoch.saturating_add(1).saturating_mul(window_ns);
    }

    /// `epoch` begins: the current window becomes the previous one when they are adjacent.
    fn start(&mut self, epoch: u64) {
        self.previous = if epoch == self.epoch + 1 {
            std::mem::take(&mut self.current)
        } else {
            self.current = Sketch::new();
            Sketch::new()
        };
        self.previous_count = self.previous.estimate();
        self.current_count = None;
        self.union = None;
        self.epoch = epoch;
    }
}

/// A 64-bit hash of a value, the same in every run (sketches and per-actor maps key on it;
/// nothing here is written out, so no key is needed).
pub fn hash_of(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x6d6f_6e69_746f_7221).hash_one(bytes)
}

/// [`hash_of`] for two parts, as if separated.
pub fn hash_pair(a: &[u8], b: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x6d6f_6e69_746f_7221).hash_one((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn a_remembered_count_is_the_sketch_s_own_after_every_insert() {
        let mut w = DistinctWindow::default();
        let mut sketch = Sketch::new();
        for v in 0..1_000u64 {
            // Values repeat: the sketch often does not change, the count must still follow it.
            let h = hash_of(&(v % 700).to_le_bytes());
            w.insert(h, 5 * S, 60 * S);
            sketch.insert_hash(h);
            let expected = sketch.estimate();
            assert_eq!(w.current(5 * S, 60 * S), expected);
            assert_eq!(w.upper_bound(5 * S, 60 * S), expected);
            assert_eq!(w.estimate(5 * S, 60 * S), expected);
        }
        // The next window: what was current is now the previous one, and counts from zero.
        w.insert(hash_of(b"x"), 65 * S, 60 * S);
        assert_eq!(w.current(65 * S, 60 * S), 1);
        assert_eq!(w.upper_bound(65 * S, 60 * S), 1 + sketch.estimate());
    }

    #[test]
    fn buckets_forget_what_left_the_window() {
        let mut b = Buckets::<6>::default();
        for t in 0..60 {
            b.add(t * S, 10 * S, 1);
        }
        assert_eq!(b.total(59 * S, 10 * S), 60);
        // 25 s later three buckets (30 values) have left.
        assert_eq!(b.total(85 * S, 10 * S), 30);
        assert_eq!(b.total(1000 * S, 10 * S), 0);
        // Late arrivals count into the current bucket.
        b.add(10 * S, 10 * S, 5);
        assert_eq!(b.total(1000 * S, 10 * S), 5);
    }

    #[test]
    fn distinct_window_counts_exactly_when_small_and_forgets() {
        let mut d = DistinctWindow::default();
        let w = 60 * S;
        for i in 0..100u64 {
            d.insert(hash_of(&i.to_le_bytes()), i * S / 10, w);
            d.insert(hash_of(&i.to_le_bytes()), i * S / 10, w);
        }
        assert_eq!(d.estimate(10 * S, w), 100);
        // Next window: the previous one still counts.
        d.insert(hash_of(b"new"), 70 * S, w);
        assert_eq!(d.estimate(70 * S, w), 101);
        assert_eq!(d.current(70 * S, w), 1);
        // Two windows on: only the new one.
        assert_eq!(d.estimate(130 * S, w), 1);
        assert_eq!(d.estimate(300 * S, w), 0);
    }

    #[test]
    fn distinct_window_estimates_large_sets_within_a_few_percent() {
        let mut d = DistinctWindow::default();
        for i in 0..10_000u64 {
            d.insert(hash_of(&i.to_le_bytes()), 0, 60 * S);
        }
        let e = d.estimate(0, 60 * S) as f64;
        assert!((e - 10_000.0).abs() / 10_000.0 < 0.2, "{e}");
    }
}
