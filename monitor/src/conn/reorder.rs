//! One direction of one connection: puts chunks back in stream order. Records from different
//! CPUs can arrive out of order; a hole waits within a bounded window and timeout, and is given
//! up as a gap immediately when the kernel's loss counter already accounts for it. Pure: no I/O,
//! time comes in as arguments.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::model::{GapCause, Origin};

/// A piece of stream as captured: payload at `offset`, then `uncaptured` bytes not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u64,
    pub ts_ns: u64,
    pub payload: Bytes,
    pub uncaptured: u64,
    pub uncaptured_cause: GapCause,
    /// The kernel's cumulative count of bytes of this direction lost when it emitted this chunk.
    pub lost_total: u64,
    pub origin: Origin,
}

impl Chunk {
    fn end(&self) -> u64 {
        self.offset + self.payload.len() as u64 + self.uncaptured
    }
}

/// Ordered output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Data {
        offset: u64,
        ts_ns: u64,
        origin: Origin,
        bytes: Bytes,
    },
    Gap {
        offset: u64,
        len: u64,
        cause: GapCause,
        ts_ns: u64,
    },
}

#[derive(Debug, Default)]
pub struct DirectionStream {
    /// Offset of the next byte to deliver.
    next: u64,
    pending: BTreeMap<u64, Chunk>,
    pending_bytes: usize,
    /// When the current hole started waiting (monotonic ns).
    waiting_since: Option<u64>,
    /// Highest loss count the kernel reported for this direction.
    lost_seen: u64,
    /// Part of `lost_seen` already turned into gaps.
    lost_explained: u64,
    /// Totals, for close events and stats.
    pub gap_bytes: u64,
    pub duplicate_bytes: u64,
    pub overlap_bytes: u64,
}

impl DirectionStream {
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn unexplained_loss(&self) -> u64 {
        self.lost_seen.saturating_sub(self.lost_explained)
    }

    /// Accepts a chunk; delivers what is now in order. If more than `window` bytes wait behind a
    /// hole, the hole is given up (`ReorderOverflow`).
    pub fn push(&mut self, chunk: Chunk, now_ns: u64, window: usize, out: &mut Vec<Piece>) {
        self.lost_seen = self.lost_seen.max(chunk.lost_total);
        if chunk.end() <= self.next {
            self.duplicate_bytes += chunk.end() - chunk.offset;
            return;
        }
        if chunk.offset > self.next {
            let hole = chunk.offset - self.next;
            if self.unexplained_loss() >= hole {
                self.gap(hole, GapCause::Lost, chunk.ts_ns, out);
                self.lost_explained += hole;
            } else {
                self.park(chunk, now_ns);
                while self.pending_bytes > window && self.has_pending() {
                    self.release_first_hole(GapCause::ReorderOverflow, now_ns, out);
                }
                return;
            }
        }
        self.deliver(chunk, out);
        self.drain_ready(out);
    }

    /// Gives up holes that have waited longer than `timeout_ns`.
    pub fn expire(&mut self, now_ns: u64, timeout_ns: u64, out: &mut Vec<Piece>) {
        while let Some(since) = self.waiting_since {
            if now_ns.saturating_sub(since) < timeout_ns {
                break;
            }
            self.release_first_hole(GapCause::ReorderTimeout, now_ns, out);
        }
    }

    /// Delivers everything still waiting, holes as gaps.
    pub fn flush(&mut self, cause: GapCause, now_ns: u64, out: &mut Vec<Piece>) {
        while self.has_pending() {
            self.release_first_hole(cause, now_ns, out);
        }
    }

    /// Ends the stream at `final_len` bytes, with the kernel's final loss count: releases what
    /// waits and reports any tail that never arrived.
    pub fn finish(&mut self, final_len: u64, final_lost: u64, ts_ns: u64, out: &mut Vec<Piece>) {
        self.lost_seen = self.lost_seen.max(final_lost);
        self.flush(GapCause::Unaccounted, ts_ns, out);
        if final_len > self.next {
            let tail = final_len - self.next;
            if self.unexplained_loss() >= tail {
                self.lost_explained += tail;
                self.gap(tail, GapCause::Lost, ts_ns, out);
            } else {
                self.gap(tail, GapCause::Unaccounted, ts_ns, out);
            }
        }
    }

    fn park(&mut self, mut chunk: Chunk, now_ns: u64) {
        if self.pending.contains_key(&chunk.offset) {
            self.duplicate_bytes += chunk.end() - chunk.offset;
            return;
        }
        // Its own copy: a parked chunk can wait for the whole timeout, and its payload may be a
        // slice of a much larger buffer (a replayed recording's read block) that it would keep
        // alive; the window bounds the bytes parked, not the buffers behind them.
        chunk.payload = Bytes::copy_from_slice(&chunk.payload);
        self.pending_bytes += chunk.payload.len();
        self.pending.insert(chunk.offset, chunk);
        self.waiting_since.get_or_insert(now_ns);
    }

    fn release_first_hole(&mut self, cause: GapCause, now_ns: u64, out: &mut Vec<Piece>) {
        let Some((&first, _)) = self.pending.first_key_value() else {
            self.waiting_since = None;
            return;
        };
        if first > self.next {
            let hole = first - self.next;
            if self.unexplained_loss() >= hole {
                self.lost_explained += hole;
                self.gap(hole, GapCause::Lost, now_ns, out);
            } else {
                self.gap(hole, cause, now_ns, out);
            }
        }
        self.drain_ready(out);
        self.waiting_since = if self.has_pending() {
            Some(now_ns)
        } else {
            None
        };
    }

    /// Delivers parked chunks that are now in order, and holes the kernel says are lost.
    fn drain_ready(&mut self, out: &mut Vec<Piece>) {
        while let Some((&first, _)) = self.pending.first_key_value() {
            if first > self.next {
                let hole = first - self.next;
                if self.unexplained_loss() < hole {
                    return;
                }
                self.lost_explained += hole;
                let ts = self.pending.get(&first).map_or(0, |c| c.ts_ns);
                self.gap(hole, GapCause::Lost, ts, out);
            }
            if let Some(chunk) = self.pending.remove(&first) {
                self.pending_bytes -= chunk.payload.len();
                self.deliver(chunk, out);
            }
        }
        self.waiting_since = None;
    }

    /// Delivers a chunk that starts at or before `next`, trimming what was already delivered.
    fn deliver(&mut self, mut chunk: Chunk, out: &mut Vec<Piece>) {
        let end = chunk.end();
        if end <= self.next {
            self.duplicate_bytes += end - chunk.offset;
            return;
        }
        if chunk.offset < self.next {
            let skip = self.next - chunk.offset;
            self.overlap_bytes += skip;
            let plen = chunk.payload.len() as u64;
            if skip < plen {
                chunk.payload = chunk.payload.slice(skip as usize..);
            } else {
                chunk.uncaptured -= skip - plen;
                chunk.payload = Bytes::new();
            }
            chunk.offset = self.next;
        }
        if !chunk.payload.is_empty() {
            let len = chunk.payload.len() as u64;
            out.push(Piece::Data {
                offset: chunk.offset,
                ts_ns: chunk.ts_ns,
                origin: chunk.origin,
                bytes: chunk.payload,
            });
            self.next += len;
        }
        if chunk.uncaptured > 0 {
            self.gap(chunk.uncaptured, chunk.uncaptured_cause, chunk.ts_ns, out);
        }
    }

    fn gap(&mut self, len: u64, cause: GapCause, ts_ns: u64, out: &mut Vec<Piece>) {
        out.push(Piece::Gap {
            offset: self.next,
            len,
            cause,
            ts_ns,
        });
        self.next += len;
        self.gap_bytes += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use monitor_common::event::Syscall;
    use proptest::prelude::*;

    fn origin() -> Origin {
        Origin {
            pid: 1,
            tid: 1,
            comm: "t".into(),
            syscall: Syscall::Read,
        }
    }

    fn chunk(offset: u64, data: &[u8], lost_total: u64) -> Chunk {
        Chunk {
            offset,
            ts_ns: offset,
            payload: Bytes::copy_from_slice(data),
            uncaptured: 0,
            uncaptured_cause: GapCause::Truncated,
            lost_total,
            origin: origin(),
        }
    }

    /// Concatenates delivered bytes, with gaps as '#'.
    fn render(pieces: &[Piece]) -> Vec<u8> {
        let mut v = Vec::new();
        for p in pieces {
            match p {
                Piece::Data { bytes, .. } => v.extend_from_slice(bytes),
                Piece::Gap { len, .. } => v.extend(std::iter::repeat_n(b'#', *len as usize)),
            }
        }
        v
    }

    #[test]
    fn in_order_passes_through() {
        let mut s = DirectionStream::default();
        let mut out = vec![];
        s.push(chunk(0, b"abc", 0), 0, 100, &mut out);
        s.push(chunk(3, b"def", 0), 0, 100, &mut out);
        assert_eq!(render(&out), b"abcdef");
        assert_eq!(s.next_offset(), 6);
    }

    #[test]
    fn late_chunk_is_reordered() {
        let mut s = DirectionStream::default();
        let mut out = vec![];
        s.push(chunk(3, b"def", 0), 0, 100, &mut out);
        assert!(out.is_empty());
        assert_eq!(s.pending_bytes(), 3);
        s.push(chunk(0, b"abc", 0), 0, 100, &mut out);
        assert_eq!(render(&out), b"abcdef");
        assert_eq!(s.pending_bytes(), 0);
    }

    #[test]
    fn kernel_confirmed_loss_becomes_gap_at_once() {
        let mut s = DirectionStream::default();
        let mut out = vec![];
        s.push(chunk(0, b"ab", 0), 0, 100, &mut out);
        // Bytes 2..5 were dropped in the kernel; the next record says so.
        s.push(chunk(5, b"fg", 3), 0, 100, &mut out);
        assert_eq!(render(&out), b"ab###fg");
        assert!(matches!(
            out[1],
            Piece::Gap {
                offset: 2,
                len: 3,
                cause: GapCause::Lost,
                ..
            }
        ));
        assert!(!s.has_pending());
    }

    #[test]
    fn unexplained_hole_times_out() {
        let mut s = DirectionStream::default();
        let mut out = vec![];
        s.push(chunk(4, b"xy", 0), 10, 100, &mut out);
        s.expire(50, 100, &mut out);
        assert!(out.is_empty());
        s.expire(110, 100, &mut out);
        assert_eq!(render(&out), b"####xy");
        assert!(matches!(
            out[0],
            Piece::Gap {
                cause: GapCause::ReorderTimeout,
                ..
            }
        ));
    }

    #[test]
    fn window_overflow_gives_up_the_hole() {
        let mut s = DirectionStream::default();
        let mut out = vec![];
        s.push(chunk(10, b"0123456789", 0), 0, 15, &mut out);
        assert!(out.is_empty());
        s.push(chunk(20, b"abcdefghij", 0), 0, 15, &mut out);
        assert_eq!(render(&out), b"##########0123456789abcdefghij");
        assert!(matches!(
            out[0],
            Piece::Gap {
                cause: GapCause::ReorderOverflow,
                ..
            }
        ));
        assert_eq!(s.pending_bytes(), 0);
    }

    #[test]
    fn duplicates_and_overlaps_are_trimmed_and_counted() {
        let mut s = DirectionStream::default();
        let mut out = vec![];
        s.push(chunk(0, b"abcd", 0), 0, 100, &mut out);
        s.push(chunk(0, b"abcd", 0), 0, 100, &mut out);
        s.push(chunk(2, b"cdef", 0), 0, 100, &mut out);
        assert_eq!(render(&out), b"abcdef");
        assert_eq!(s.duplicate_bytes, 4);
        assert_eq!(s.overlap_bytes, 2);
    }

    #[test]
    fn uncaptured_bytes_become_gaps_with_their_cause() {
        let mut s = DirectionStream::default();
        let mut out = vec![];
        let mut c = chunk(0, b"", 0);
        c.uncaptured = 100;
        c.uncaptured_cause = GapCause::Uncapturable;
        s.push(c, 0, 100, &mut out);
        s.push(chunk(100, b"z", 0), 0, 100, &mut out);
        assert!(matches!(
            out[0],
            Piece::Gap {
                len: 100,
                cause: GapCause::Uncapturable,
                ..
            }
        ));
        assert_eq!(s.next_offset(), 101);
        assert_eq!(s.gap_bytes, 100);
    }

    #[test]
    fn finish_reports_lost_and_unaccounted_tails() {
        let mut s = DirectionStream::default();
        let mut out = vec![];
        s.push(chunk(0, b"ab", 0), 0, 100, &mut out);
        s.finish(5, 3, 0, &mut out);
        assert!(matches!(
            out.last(),
            Some(Piece::Gap {
                len: 3,
                cause: GapCause::Lost,
                ..
            })
        ));
        let mut s = DirectionStream::default();
        let mut out = vec![];
        s.push(chunk(0, b"ab", 0), 0, 100, &mut out);
        s.finish(5, 0, 0, &mut out);
        assert!(matches!(
            out.last(),
            Some(Piece::Gap {
                len: 3,
                cause: GapCause::Unaccounted,
                ..
            })
        ));
    }

    proptest! {
        /// Any arrival order within the window gives the same stream as in-order arrival.
        #[test]
        fn any_order_within_window_reassembles(
            data in proptest::collection::vec(any::<u8>(), 1..2000),
            cuts in proptest::collection::vec(1usize..300, 1..30),
            seed in any::<u64>(),
        ) {
            let mut chunks = vec![];
            let mut at = 0usize;
            for c in cuts.iter().cycle() {
                if at >= data.len() { break; }
                let end = (at + c).min(data.len());
                chunks.push(chunk(at as u64, &data[at..end], 0));
                at = end;
            }
            // Deterministic shuffle from the seed.
            let mut rng = seed;
            for i in (1..chunks.len()).rev() {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                chunks.swap(i, (rng >> 33) as usize % (i + 1));
            }
            let mut s = DirectionStream::default();
            let mut out = vec![];
            for c in chunks {
                s.push(c, 0, usize::MAX, &mut out);
            }
            prop_assert_eq!(render(&out), data);
            prop_assert_eq!(s.pending_bytes(), 0);
        }
    }
}
