//! The blocklist the agent fills and the ingress program consults: source prefixes (IPv4 and
//! IPv6 longest-prefix-match tries) and the per-CPU counts of what it dropped.

pub const BLOCK_V4_MAP: &str = "BLOCK_V4";
pub const BLOCK_V6_MAP: &str = "BLOCK_V6";
pub const ENFORCE_COUNTERS_MAP: &str = "ENFORCE_COUNTERS";
/// The cgroup_skb ingress program that drops packets from blocked sources.
pub const INGRESS_PROGRAM: &str = "block_ingress";

/// Most prefixes each trie holds (the agent's cap is at most this).
pub const MAX_BLOCKED: u32 = 65536;

/// Slots of `ENFORCE_COUNTERS`.
pub const DROPPED_V4: u32 = 0;
pub const DROPPED_V6: u32 = 1;
/// Packets that were not IP or too short to read a source from: passed, counted.
pub const UNPARSED: u32 = 2;
pub const ENFORCE_SLOTS: u32 = 3;

/// What a trie entry holds: the decision's id, so drops could be told apart later.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockValue {
    pub decision: u32,
    pub _pad: u32,
}

#[cfg(feature = "user")]
// SAFETY: repr(C), plain integers, no padding holes.
unsafe impl aya::Pod for BlockValue {}
