//! Tells the agent when a process may have new code to hook (see `ProcEvent`): it exec'd, or
//! mapped a file executable. The agent then looks at the process's mappings; nothing here
//! inspects files.

use aya_ebpf::{
    helpers::bpf_get_current_pid_tgid, macros::tracepoint, programs::TracePointContext,
};
use monitor_common::{
    Counter,
    event::{PROC_EXEC, PROC_MMAP_EXEC, ProcEvent},
};

use crate::{
    ctx::arg,
    filter,
    maps::{PROC_EVENTS, count},
};

const PROT_EXEC: u64 = 4;

#[tracepoint]
pub fn sched_process_exec(_ctx: TracePointContext) -> u32 {
    notify(PROC_EXEC);
    0
}

/// mmap(addr, len, prot, flags, fd, off): a file mapped executable.
#[tracepoint]
pub fn sys_enter_mmap(ctx: TracePointContext) -> u32 {
    let prot = arg(&ctx, 2);
    let fd = arg(&ctx, 4) as i64;
    if prot & PROT_EXEC != 0 && fd >= 0 {
        notify(PROC_MMAP_EXEC);
    }
    0
}

#[inline(always)]
fn notify(kind: u32) {
    let pid = (bpf_get_current_pid_tgid() >> 32) as u32;
    if !filter::process_allowed(pid) {
        return;
    }
    if PROC_EVENTS
        .output::<ProcEvent>(&ProcEvent { kind, pid }, 0)
        .is_err()
    {
        count(Counter::ProcEventsLost, 1);
    }
}
