//! Atomic add on map memory, for values several CPUs bump at once. The BPF target is built for
//! the generic CPU (v1), where an atomic add cannot return the previous value, so this returns
//! nothing.

use core::intrinsics::{AtomicOrdering, atomic_xadd};

/// Adds `n` to `*slot` atomically.
#[inline(always)]
pub fn add(slot: &mut u64, n: u64) {
    // SAFETY: `slot` is a valid, aligned u64 in map memory.
    let _ = unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::Relaxed }>(slot, n) };
}
