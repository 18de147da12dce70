//! Socket tracepoints: which socket the current syscall touches (sock_*_length), what a TCP
//! socket's addresses and role are (inet_sock_set_state), and when it is gone (tcp_destroy_sock).

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_get_smp_processor_id, bpf_ktime_get_ns},
    macros::tracepoint,
    programs::TracePointContext,
};
use monitor_common::{
    CloseEvent, Counter, Tuple,
    event::Syscall,
    event::{AF_INET, AF_INET6, FLAG_ROLE_CLIENT, FLAG_ROLE_SERVER, FLAG_TUPLE_KNOWN, KIND_CLOSE},
    state::{ConnState, Inflight, SockInfo},
};

use crate::{
    ctx::{bytes, field},
    filter,
    maps::{CONNS, EVENTS, INFLIGHT, ROLE_HINTS, SOCKS, count},
};

const IPPROTO_TCP: u16 = 6;
const MSG_PEEK: i32 = 2;

const TCP_ESTABLISHED: i32 = 1;
const TCP_SYN_SENT: i32 = 2;
const TCP_SYN_RECV: i32 = 3;

#[tracepoint]
pub fn sock_send_length(ctx: TracePointContext) -> u32 {
    note_socket(&ctx, false);
    0
}

#[tracepoint]
pub fn sock_recv_length(ctx: TracePointContext) -> u32 {
    note_socket(&ctx, true);
    0
}

/// Ties the socket to the in-flight syscall of this thread. A syscall that entered before the
/// programs were attached has no entry: one is made so its exit still counts the bytes.
#[inline(always)]
fn note_socket(ctx: &TracePointContext, recv: bool) {
    let id = bpf_get_current_pid_tgid();
    let Some(inflight) = INFLIGHT.get_ptr_mut(&id) else {
        if filter::process_allowed((id >> 32) as u32) {
            let orphan = Inflight {
                syscall: if recv {
                    Syscall::InFlightRecv
                } else {
                    Syscall::InFlightSend
                } as u16,
                family: field::<u16>(ctx, 16),
                protocol: field::<u16>(ctx, 18),
                peek: (recv && field::<i32>(ctx, 24) & MSG_PEEK != 0) as u16,
                fd: -1,
                sk: field::<u64>(ctx, 8),
                ..Inflight::default()
            };
            const BPF_NOEXIST: u64 = 1;
            let _ = INFLIGHT.insert(&id, &orphan, BPF_NOEXIST);
        }
        return;
    };
    // SAFETY: map value pointer, valid for this program run; only this thread uses this key.
    let inflight = unsafe { &mut *inflight };
    if inflight.sk != 0 {
        return; // mmsg calls fire once per message: the first one names the socket
    }
    inflight.sk = field::<u64>(ctx, 8);
    inflight.family = field::<u16>(ctx, 16);
    inflight.protocol = field::<u16>(ctx, 18);
    if recv && field::<i32>(ctx, 24) & MSG_PEEK != 0 {
        inflight.peek = 1;
    }
}

#[tracepoint]
pub fn inet_sock_set_state(ctx: TracePointContext) -> u32 {
    if field::<u16>(&ctx, 30) != IPPROTO_TCP {
        return 0;
    }
    let sk = field::<u64>(&ctx, 8);
    let old = field::<i32>(&ctx, 16);
    let new = field::<i32>(&ctx, 20);
    let role = match new {
        TCP_SYN_SENT => FLAG_ROLE_CLIENT,
        TCP_SYN_RECV => FLAG_ROLE_SERVER,
        TCP_ESTABLISHED => {
            // SAFETY: plain value copy.
            let known = unsafe { SOCKS.get(&sk) }.map_or(0, |s| s.flags & ROLE_MASK);
            if known != 0 {
                known
            } else if old == TCP_SYN_SENT {
                FLAG_ROLE_CLIENT
            } else if old == TCP_SYN_RECV {
                FLAG_ROLE_SERVER
            } else {
                0
            }
        }
        _ => return 0,
    };
    let mut info = SockInfo {
        flags: role,
        ..SockInfo::default()
    };
    if new == TCP_ESTABLISHED {
        info.tuple = tuple_at(&ctx, 28, 24, 26, 32, 36, 40, 56);
        info.flags |= FLAG_TUPLE_KNOWN;
    }
    let _ = SOCKS.insert(&sk, &info, 0);
    0
}

const ROLE_MASK: u32 = FLAG_ROLE_CLIENT | FLAG_ROLE_SERVER;

/// Builds a tuple from a tracepoint's family/port/address fields at the given offsets.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tuple_at(
    ctx: &TracePointContext,
    family: usize,
    sport: usize,
    dport: usize,
    saddr: usize,
    daddr: usize,
    saddr6: usize,
    daddr6: usize,
) -> Tuple {
    let family_v = field::<u16>(ctx, family);
    let mut t = Tuple {
        family: family_v,
        lport: field::<u16>(ctx, sport),
        rport: field::<u16>(ctx, dport),
        ..Tuple::default()
    };
    if family_v == AF_INET6 {
        t.laddr = bytes::<16>(ctx, saddr6);
        t.raddr = bytes::<16>(ctx, daddr6);
    } else if family_v == AF_INET {
        let l = bytes::<4>(ctx, saddr);
        let r = bytes::<4>(ctx, daddr);
        t.laddr[..4].copy_from_slice(&l);
        t.raddr[..4].copy_from_slice(&r);
    }
    t
}

/// Fires inside every TCP receive that copied data, with the socket's addresses: this is how a
/// connection whose handshake predates the monitor gets its addresses in the kernel.
#[tracepoint]
pub fn tcp_rcv_space_adjust(ctx: TracePointContext) -> u32 {
    let sk = field::<u64>(&ctx, 8);
    // SAFETY: plain value copy.
    let known = unsafe { SOCKS.get(&sk) }.is_some_and(|s| s.flags & FLAG_TUPLE_KNOWN != 0);
    if !known {
        let info = SockInfo {
            flags: FLAG_TUPLE_KNOWN,
            _pad: 0,
            tuple: tuple_at(&ctx, 20, 16, 18, 22, 26, 30, 46),
        };
        let _ = SOCKS.insert(&sk, &info, 0);
    }
    0
}

#[tracepoint]
pub fn tcp_destroy_sock(ctx: TracePointContext) -> u32 {
    let sk = field::<u64>(&ctx, 8);
    let _ = SOCKS.remove(&sk);
    let Some(conn) = CONNS.get_ptr(&sk) else {
        return 0;
    };
    // SAFETY: map value pointer valid for this run; copied before the entry is removed.
    let conn = unsafe { *conn };
    let _ = CONNS.remove(&sk);
    count(Counter::ConnsClosed, 1);
    let mut flags = conn.flags;
    let mut tuple = conn.tuple;
    if flags & FLAG_TUPLE_KNOWN == 0 {
        tuple = tuple_at(&ctx, 20, 16, 18, 22, 26, 30, 46);
        flags |= FLAG_TUPLE_KNOWN;
    }
    let Some(mut entry) = EVENTS.reserve::<CloseEvent>(0) else {
        count(Counter::RingbufFullCloses, 1);
        return 0;
    };
    entry.write(CloseEvent {
        kind: KIND_CLOSE,
        _pad: 0,
        flags,
        // SAFETY: helper without preconditions.
        ts_ns: unsafe { bpf_ktime_get_ns() },
        conn_id: conn.conn_id,
        tx_bytes: conn.next_offset[0],
        rx_bytes: conn.next_offset[1],
        tx_lost: conn.lost[0],
        rx_lost: conn.lost[1],
        tuple,
    });
    entry.submit(0);
    0
}

/// The tracked connection behind socket `sk`, created on first sight. `None` when the port
/// filter excludes it or the table is full (counted).
#[inline(always)]
pub fn conn_for(sk: u64, tgid: u32, fd: i32) -> Option<&'static mut ConnState> {
    if let Some(conn) = CONNS.get_ptr_mut(&sk) {
        // SAFETY: map value pointer valid for this program run.
        let conn = unsafe { &mut *conn };
        if conn.flags & FLAG_TUPLE_KNOWN == 0 {
            learn_tuple(conn, sk);
        }
        return if conn.ignored != 0 { None } else { Some(conn) };
    }
    let mut conn = ConnState::default();
    learn_tuple(&mut conn, sk);
    if conn.flags & ROLE_MASK == 0 {
        let key = ((tgid as u64) << 32) | (fd as u32 as u64);
        // SAFETY: plain value copy.
        if let Some(role) = unsafe { ROLE_HINTS.get(&key) } {
            conn.flags |= *role & ROLE_MASK;
        }
    }
    if conn.flags & FLAG_TUPLE_KNOWN != 0 && !filter::ports_allowed(&conn.tuple) {
        conn.ignored = 1;
    }
    conn.conn_id = next_conn_id();
    const BPF_NOEXIST: u64 = 1;
    if CONNS.insert(&sk, &conn, BPF_NOEXIST).is_ok() {
        count(Counter::ConnsOpened, 1);
    }
    // Either inserted now, or by another CPU a moment ago; if neither, the table is full.
    let Some(conn) = CONNS.get_ptr_mut(&sk) else {
        count(Counter::ConnTableFull, 1);
        return None;
    };
    // SAFETY: map value pointer valid for this program run.
    let conn = unsafe { &mut *conn };
    if conn.ignored != 0 { None } else { Some(conn) }
}

#[inline(always)]
fn learn_tuple(conn: &mut ConnState, sk: u64) {
    // SAFETY: plain value copy.
    if let Some(info) = unsafe { SOCKS.get(&sk) } {
        conn.flags |= info.flags;
        if info.flags & FLAG_TUPLE_KNOWN != 0 {
            conn.tuple = info.tuple;
        }
    }
}

/// Unique without a shared counter (which would need an atomic fetch-add, see atomic.rs): one CPU
/// never creates two connections within the same nanosecond.
#[inline(always)]
fn next_conn_id() -> u64 {
    // SAFETY: helpers without preconditions.
    let (now, cpu) = unsafe { (bpf_ktime_get_ns(), bpf_get_smp_processor_id()) };
    (now << 8) | (cpu as u64 & 0xff)
}
