//! Reading tracepoint fields. Tracepoint programs may load their context directly, which is
//! cheaper than a probe_read helper; offsets come from the tracepoints' `format` files, which
//! are stable ABI (unlike kernel structs).

use aya_ebpf::{EbpfContext, programs::TracePointContext};

/// Loads a naturally aligned field at `offset`.
#[inline(always)]
pub fn field<T: Copy>(ctx: &TracePointContext, offset: usize) -> T {
    // SAFETY: the verifier bounds-checks context loads; offsets are from the tracepoint format.
    unsafe { core::ptr::read(ctx.as_ptr().cast::<u8>().add(offset).cast::<T>()) }
}

/// Loads a byte array at `offset` one byte at a time (the field may not be aligned).
#[inline(always)]
pub fn bytes<const N: usize>(ctx: &TracePointContext, offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    let base = ctx.as_ptr().cast::<u8>();
    let mut i = 0;
    while i < N {
        // SAFETY: as in `field`; byte loads are always aligned.
        out[i] = unsafe { core::ptr::read_volatile(base.add(offset + i)) };
        i += 1;
    }
    out
}

/// Syscall argument `n` (0-based) of a `syscalls:sys_enter_*` tracepoint.
#[inline(always)]
pub fn arg(ctx: &TracePointContext, n: usize) -> u64 {
    field::<u64>(ctx, 16 + 8 * n)
}

/// Return value of a `syscalls:sys_exit_*` tracepoint.
#[inline(always)]
pub fn ret(ctx: &TracePointContext) -> i64 {
    field::<i64>(ctx, 16)
}
