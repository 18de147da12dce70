//! Mitigation: a cgroup_skb ingress program that drops packets whose source address is in the
//! blocklist the agent fills. It reads only the packet's own IP header (the program's data
//! starts at the network header), never a kernel struct. Detached when the agent's link fd
//! closes, so an agent that dies leaves nothing enforcing.

use aya_ebpf::{
    macros::{cgroup_skb, map},
    maps::{LpmTrie, PerCpuArray, lpm_trie::Key},
    programs::SkBuffContext,
};
use monitor_common::enforce::{
    BlockValue, DROPPED_V4, DROPPED_V6, ENFORCE_SLOTS, MAX_BLOCKED, UNPARSED,
};

#[map]
pub static BLOCK_V4: LpmTrie<[u8; 4], BlockValue> = LpmTrie::with_max_entries(MAX_BLOCKED, 0);

#[map]
pub static BLOCK_V6: LpmTrie<[u8; 16], BlockValue> = LpmTrie::with_max_entries(MAX_BLOCKED, 0);

#[map]
pub static ENFORCE_COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(ENFORCE_SLOTS, 0);

const PASS: i32 = 1;
const DROP: i32 = 0;

#[cgroup_skb]
pub fn block_ingress(ctx: SkBuffContext) -> i32 {
    try_block_ingress(&ctx).unwrap_or(PASS)
}

#[inline(always)]
fn try_block_ingress(ctx: &SkBuffContext) -> Result<i32, i64> {
    let Ok(first) = ctx.load::<u8>(0) else {
        bump(UNPARSED);
        return Ok(PASS);
    };
    match first >> 4 {
        4 => {
            let src: [u8; 4] = ctx.load(12).map_err(|_| bump(UNPARSED))?;
            if BLOCK_V4.get(Key::new(32, src)).is_some() {
                bump(DROPPED_V4);
                return Ok(DROP);
            }
        }
        6 => {
            let src: [u8; 16] = ctx.load(8).map_err(|_| bump(UNPARSED))?;
            if BLOCK_V6.get(Key::new(128, src)).is_some() {
                bump(DROPPED_V6);
                return Ok(DROP);
            }
        }
        _ => {
            bump(UNPARSED);
        }
    }
    Ok(PASS)
}

#[inline(always)]
fn bump(slot: u32) -> i64 {
    if let Some(n) = ENFORCE_COUNTERS.get_ptr_mut(slot) {
        // SAFETY: this CPU's slot; a cgroup_skb program does not nest on one CPU.
        unsafe { *n += 1 };
    }
    0
}
