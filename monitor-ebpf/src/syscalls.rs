//! Syscall tracepoints. Entry handlers remember the arguments of data syscalls per thread; the
//! shared exit handler captures the bytes that really moved, if the socket tracepoints saw a TCP
//! socket during the call. connect/accept leave role hints; close forgets them.

use aya_ebpf::{
    helpers::bpf_get_current_pid_tgid, macros::tracepoint, programs::TracePointContext,
};
use monitor_common::{
    Counter,
    event::{AF_INET, AF_INET6, FLAG_ROLE_CLIENT, FLAG_ROLE_SERVER, Syscall},
    state::Inflight,
};

use crate::{
    ctx::{arg, ret},
    emit::{self, CpuSlot},
    filter,
    maps::{INFLIGHT, ROLE_HINTS, TLS_CALLS, TLS_THREAD_SOCKS, count},
    sockets::conn_for,
    tls,
};

const IPPROTO_TCP: u16 = 6;

/// Defines the entry handler of a data syscall whose first three arguments are
/// (fd, buffer/iovec/msghdr pointer, length/count).
macro_rules! data_enter {
    ($name:ident, $syscall:expr) => {
        #[tracepoint]
        pub fn $name(ctx: TracePointContext) -> u32 {
            enter(&ctx, $syscall, arg(&ctx, 0), arg(&ctx, 1), arg(&ctx, 2));
            0
        }
    };
}

data_enter!(sys_enter_read, Syscall::Read);
data_enter!(sys_enter_write, Syscall::Write);
data_enter!(sys_enter_readv, Syscall::Readv);
data_enter!(sys_enter_writev, Syscall::Writev);
data_enter!(sys_enter_sendto, Syscall::Sendto);
data_enter!(sys_enter_recvfrom, Syscall::Recvfrom);
data_enter!(sys_enter_sendmsg, Syscall::Sendmsg);
data_enter!(sys_enter_recvmsg, Syscall::Recvmsg);
data_enter!(sys_enter_sendmmsg, Syscall::Sendmmsg);
data_enter!(sys_enter_recvmmsg, Syscall::Recvmmsg);

/// sendfile64(out_fd, in_fd, offset, count): the bytes never pass through user memory.
#[tracepoint]
pub fn sys_enter_sendfile64(ctx: TracePointContext) -> u32 {
    enter(&ctx, Syscall::Sendfile, arg(&ctx, 0), 0, arg(&ctx, 3));
    0
}

#[inline(always)]
fn enter(_ctx: &TracePointContext, syscall: Syscall, fd: u64, ptr: u64, len: u64) {
    let id = bpf_get_current_pid_tgid();
    if !filter::process_allowed((id >> 32) as u32) {
        return;
    }
    let inflight = Inflight {
        syscall: syscall as u16,
        fd: fd as i32,
        ptr,
        count: len,
        ..Inflight::default()
    };
    if INFLIGHT.insert(&id, &inflight, 0).is_err() {
        count(Counter::InflightFull, 1);
    }
}

/// Attached to the exit tracepoint of every data syscall above.
#[tracepoint]
pub fn sys_exit_data(ctx: TracePointContext) -> u32 {
    let id = bpf_get_current_pid_tgid();
    let Some(inflight) = INFLIGHT.get_ptr(&id) else {
        return 0;
    };
    // SAFETY: map value pointer valid for this run; copied before the entry is removed.
    let inflight = unsafe { *inflight };
    let _ = INFLIGHT.remove(&id);
    if inflight.sk == 0
        || inflight.protocol != IPPROTO_TCP
        || (inflight.family != AF_INET && inflight.family != AF_INET6)
    {
        return 0;
    }
    let moved = ret(&ctx);
    // Inside a TLS library call, the socket carries ciphertext: it names the call's connection
    // (even a read that found nothing yet), and is never parsed.
    if tls::in_call(id, &inflight, moved) {
        return 0;
    }
    if moved <= 0 || inflight.peek != 0 {
        return 0;
    }
    let Some(syscall) = Syscall::from_u16(inflight.syscall) else {
        return 0;
    };
    let Some(conn) = conn_for(inflight.sk, (id >> 32) as u32, inflight.fd) else {
        return 0;
    };
    if tls::is_ciphertext(conn, &inflight, syscall, moved as u64, id) {
        return 0;
    }
    emit::capture::<CpuSlot>(conn, &inflight, syscall, moved as u64, id, 0);
    0
}

#[tracepoint]
pub fn sys_enter_connect(ctx: TracePointContext) -> u32 {
    hint(arg(&ctx, 0) as i64, FLAG_ROLE_CLIENT);
    0
}

/// Attached to the exits of accept and accept4: the returned fd is the server side.
#[tracepoint]
pub fn sys_exit_accept(ctx: TracePointContext) -> u32 {
    hint(ret(&ctx), FLAG_ROLE_SERVER);
    0
}

#[inline(always)]
fn hint(fd: i64, role: u32) {
    let tgid = (bpf_get_current_pid_tgid() >> 32) as u32;
    if fd < 0 || !filter::process_allowed(tgid) {
        return;
    }
    let key = ((tgid as u64) << 32) | (fd as u32 as u64);
    let _ = ROLE_HINTS.insert(&key, &role, 0);
}

#[tracepoint]
pub fn sys_enter_close(ctx: TracePointContext) -> u32 {
    let tgid = (bpf_get_current_pid_tgid() >> 32) as u32;
    let key = ((tgid as u64) << 32) | (arg(&ctx, 0) as u32 as u64);
    let _ = ROLE_HINTS.remove(&key);
    0
}

/// A thread that exits inside a syscall never reaches the exit tracepoint.
#[tracepoint]
pub fn sched_process_exit(_ctx: TracePointContext) -> u32 {
    let id = bpf_get_current_pid_tgid();
    let _ = INFLIGHT.remove(&id);
    let _ = TLS_CALLS.remove(&id);
    let _ = TLS_THREAD_SOCKS.remove(&id);
    0
}
