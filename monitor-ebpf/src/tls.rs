//! TLS plaintext from library hooks, tied to its connection without reading library structs.
//!
//! A hooked call (SSL_write, gnutls_record_recv, Go's `(*Conn).Read`…) is remembered for its
//! thread; a socket syscall made by that thread meanwhile is the library moving ciphertext,
//! which names the connection (remembered per TLS session too, for reads served from the
//! library's buffer) and is never parsed. When the call returns with n > 0 bytes, n plaintext
//! bytes of the caller's buffer are emitted on that connection. A read returning ≤ 0 exports
//! nothing. Connections whose first bytes are TLS records with no hook running are reported
//! once (`TlsSeenEvent`) and their ciphertext is only counted.
//!
//! Go: goroutines move between threads and stacks, so calls are keyed by goroutine (R14 in the
//! register ABI) and returns are caught by uprobes on the function's return instructions
//! (userspace finds them), never by uretprobes. The per-thread marker a Go call leaves for the
//! syscall is consumed by the first socket syscall, so another goroutine later scheduled on the
//! thread is not mistaken for it.

use aya_ebpf::{
    EbpfContext,
    helpers::{
        bpf_get_current_pid_tgid, bpf_probe_read_user_buf, generated::bpf_get_attach_cookie,
    },
    macros::{uprobe, uretprobe},
    programs::{ProbeContext, RetProbeContext},
};
use monitor_common::{
    Counter,
    event::{LIB_GNUTLS, LIB_GO, Syscall},
    state::{
        CALL_HANDSHAKE, CALL_READ, CALL_WRITE, ConnState, GoCallKey, Inflight, TLS_HOOKED, TLS_NO,
        TLS_UNCOVERED, TLS_UNKNOWN, TlsCall, TlsSession, TlsSessionKey,
    },
};

use crate::{
    emit::{self, ThreadSlot, first_byte_addr, tls_seen, user_u64},
    filter,
    maps::{CONNS, GO_CALLS, TLS_CALLS, TLS_SESSIONS, TLS_THREAD_SOCKS, count},
    sockets::conn_for,
};

// OpenSSL/BoringSSL SSL_{write,read}(ssl, buf, num) and GnuTLS gnutls_record_{send,recv}
// (session, data, size) return the byte count; SSL_{write,read}_ex(ssl, buf, num, *done) return
// 1 and write the count to *done. The attach cookie is the library (`LIB_*`).

/// SSL_do_handshake/SSL_connect/SSL_accept(ssl), gnutls_handshake(session).
#[uprobe]
pub fn tls_handshake(ctx: ProbeContext) -> u32 {
    enter(&ctx, CALL_HANDSHAKE, false);
    0
}

#[uprobe]
pub fn tls_write(ctx: ProbeContext) -> u32 {
    enter(&ctx, CALL_WRITE, false);
    0
}

#[uprobe]
pub fn tls_read(ctx: ProbeContext) -> u32 {
    enter(&ctx, CALL_READ, false);
    0
}

#[uprobe]
pub fn tls_write_ex(ctx: ProbeContext) -> u32 {
    enter(&ctx, CALL_WRITE, true);
    0
}

#[uprobe]
pub fn tls_read_ex(ctx: ProbeContext) -> u32 {
    enter(&ctx, CALL_READ, true);
    0
}

#[inline(always)]
fn enter(ctx: &ProbeContext, op: u32, ex: bool) {
    let id = bpf_get_current_pid_tgid();
    if !filter::process_allowed((id >> 32) as u32) {
        return;
    }
    let call = TlsCall {
        session: ctx.arg::<u64>(0).unwrap_or(0),
        buf: if op == CALL_HANDSHAKE {
            0
        } else {
            ctx.arg::<u64>(1).unwrap_or(0)
        },
        len: if op == CALL_HANDSHAKE {
            0
        } else {
            ctx.arg::<u64>(2).unwrap_or(0)
        },
        out_len_ptr: if ex {
            ctx.arg::<u64>(3).unwrap_or(0)
        } else {
            0
        },
        sk: 0,
        // SAFETY: the context is this program's own.
        library: unsafe { bpf_get_attach_cookie(ctx.as_ptr()) } as u32,
        fd: -1,
        op,
        emitted: 0,
        goroutine: 0,
    };
    if TLS_CALLS.insert(&id, &call, 0).is_err() {
        count(Counter::TlsCallTableFull, 1);
    }
}

/// Shared by the four functions above (the call remembers which it was).
#[uretprobe]
pub fn tls_return(ctx: RetProbeContext) -> u32 {
    let id = bpf_get_current_pid_tgid();
    let Some(call) = TLS_CALLS.get_ptr(&id) else {
        return 0;
    };
    // SAFETY: map value pointer valid for this run; copied before the entry is removed.
    let call = unsafe { *call };
    let _ = TLS_CALLS.remove(&id);
    // SSL_* return an int: its upper half of RAX is undefined (often zero, so -1 would read as
    // 4294967295); gnutls_record_* return an ssize_t.
    let rc: i64 = if call.library == LIB_GNUTLS {
        ctx.ret::<i64>()
    } else {
        ctx.ret::<i32>() as i64
    };
    let n = if call.out_len_ptr != 0 {
        if rc == 1 {
            user_u64(call.out_len_ptr)
        } else {
            0
        }
    } else if rc > 0 {
        rc as u64
    } else {
        0
    };
    match call.op {
        CALL_WRITE => finish_send(id, &call, n),
        CALL_READ if n > 0 => deliver(id, &call, n),
        _ => {}
    }
    0
}

/// A send returned, the library having accepted `n` bytes: emits them now unless its first
/// socket write already did (see `TlsSession::ahead`).
#[inline(always)]
fn finish_send(id: u64, call: &TlsCall, n: u64) {
    let key = session_key(id, call);
    let ahead = match TLS_SESSIONS.get_ptr_mut(&key) {
        // SAFETY: map value pointer valid for this run.
        Some(s) => unsafe { &mut (*s).ahead },
        None => {
            if call.emitted == 0 {
                deliver(id, call, n);
            }
            return;
        }
    };
    if call.emitted != 0 {
        *ahead = ahead.saturating_sub(n);
        return;
    }
    // Emitted here: only what no earlier call emitted ahead of the library.
    let skip = if *ahead < n { *ahead } else { n };
    *ahead -= skip;
    if n > skip {
        let mut rest = *call;
        rest.buf += skip;
        rest.len = call.len.saturating_sub(skip);
        deliver(id, &rest, n - skip);
    }
}

/// Whether socket `sk` still holds connection `conn_id` (it was not freed and reused).
#[inline(always)]
fn still_connection(sk: u64, conn_id: u64) -> bool {
    // SAFETY: plain value read.
    unsafe { CONNS.get(&sk) }.is_some_and(|c| c.conn_id == conn_id)
}

#[inline(always)]
fn session_key(id: u64, call: &TlsCall) -> TlsSessionKey {
    TlsSessionKey {
        tgid: (id >> 32) as u32,
        _pad: 0,
        session: call.session,
    }
}

/// Go `crypto/tls.(*Conn).Write` / `Read` entry: RAX = *Conn, RBX/RCX = the slice's pointer
/// and length, R14 = the goroutine.
#[uprobe]
pub fn go_tls_write(ctx: ProbeContext) -> u32 {
    go_enter(&ctx, true);
    0
}

#[uprobe]
pub fn go_tls_read(ctx: ProbeContext) -> u32 {
    go_enter(&ctx, false);
    0
}

#[inline(always)]
fn go_enter(ctx: &ProbeContext, egress: bool) {
    let id = bpf_get_current_pid_tgid();
    let tgid = (id >> 32) as u32;
    if !filter::process_allowed(tgid) {
        return;
    }
    // SAFETY: a uprobe's context is the user registers at the probe; the verifier checks loads.
    let (conn, buf, len, g) = unsafe {
        let r = &*ctx.regs;
        (r.rax, r.rbx, r.rcx, r.r14)
    };
    let call = TlsCall {
        session: conn,
        buf,
        len,
        out_len_ptr: 0,
        sk: 0,
        library: LIB_GO,
        fd: -1,
        op: if egress { CALL_WRITE } else { CALL_READ },
        emitted: 0,
        goroutine: g,
    };
    let key = GoCallKey {
        tgid,
        _pad: 0,
        goroutine: g,
    };
    if GO_CALLS.insert(&key, &call, 0).is_err() || TLS_CALLS.insert(&id, &call, 0).is_err() {
        count(Counter::TlsCallTableFull, 1);
    }
}

/// At each return instruction of Write and Read: RAX = n.
#[uprobe]
pub fn go_tls_return(ctx: ProbeContext) -> u32 {
    let id = bpf_get_current_pid_tgid();
    // SAFETY: as in go_enter.
    let (n, g) = unsafe {
        let r = &*ctx.regs;
        (r.rax as i64, r.r14)
    };
    let key = GoCallKey {
        tgid: (id >> 32) as u32,
        _pad: 0,
        goroutine: g,
    };
    let Some(call) = GO_CALLS.get_ptr(&key) else {
        return 0;
    };
    // SAFETY: map value pointer valid for this run; copied before the entry is removed.
    let call = unsafe { *call };
    let _ = GO_CALLS.remove(&key);
    // A marker no syscall consumed (a read served from Go's buffer) must not outlive the call.
    // SAFETY: plain value copy.
    if unsafe { TLS_CALLS.get(&id) }
        .is_some_and(|m| m.library == LIB_GO && m.session == call.session)
    {
        let _ = TLS_CALLS.remove(&id);
    }
    let n = if n > 0 { n as u64 } else { 0 };
    if call.op == CALL_WRITE {
        finish_send(id, &call, n);
    } else if n > 0 {
        deliver(id, &call, n);
    }
    0
}

/// Emits `n` plaintext bytes of a finished call on its connection.
#[inline(always)]
fn deliver(id: u64, call: &TlsCall, n: u64) {
    // gnutls_record_send retries may pass NULL, 0 ("the same data as before").
    if n == 0 || call.buf == 0 {
        return;
    }
    // A library never moves more than the caller's buffer holds.
    let n = if n > call.len { call.len } else { n };
    let tgid = (id >> 32) as u32;
    let (sk, fd, conn_id) = if call.sk != 0 {
        (call.sk, call.fd, 0)
    } else {
        let key = session_key(id, call);
        // SAFETY: plain values copied out.
        match unsafe { TLS_SESSIONS.get(&key) } {
            Some(s) => (s.sk, s.fd, s.conn_id),
            // A session never seen doing I/O in a call: the socket this thread last moved
            // records on (memory-BIO users such as node), remembered for the session.
            None => match unsafe { TLS_THREAD_SOCKS.get(&id) } {
                Some(s) => {
                    let session = *s;
                    let _ = TLS_SESSIONS.insert(&key, &session, 0);
                    (session.sk, session.fd, session.conn_id)
                }
                None => {
                    count(Counter::TlsUnattributedBytes, n);
                    return;
                }
            },
        }
    };
    if conn_id != 0 && !still_connection(sk, conn_id) {
        count(Counter::TlsUnattributedBytes, n);
        return;
    }
    let Some(conn) = conn_for(sk, tgid, fd) else {
        return;
    };
    conn.tls = TLS_HOOKED;
    conn.library = call.library;
    let syscall = if call.op == CALL_WRITE {
        Syscall::TlsWrite
    } else {
        Syscall::TlsRead
    };
    let inflight = Inflight {
        syscall: syscall as u16,
        fd,
        ptr: call.buf,
        count: n,
        ..Inflight::default()
    };
    if !ThreadSlot::open() {
        count(Counter::TlsCaptureStateFull, 1);
        return;
    }
    emit::capture::<ThreadSlot>(conn, &inflight, syscall, n, id, call.library);
    ThreadSlot::close();
}

/// A socket syscall made while this thread runs a TLS call: ties the call (and its session) to
/// the socket and marks the connection as TLS. True when a call is running (the bytes are
/// ciphertext, never parsed).
#[inline(always)]
pub fn in_call(id: u64, inflight: &Inflight, moved: i64) -> bool {
    let Some(call_ptr) = TLS_CALLS.get_ptr_mut(&id) else {
        return false;
    };
    // SAFETY: map value pointer valid for this run; only this thread uses this key.
    let call = unsafe { &mut *call_ptr };
    let tgid = (id >> 32) as u32;
    call.sk = inflight.sk;
    call.fd = inflight.fd;
    let key = session_key(id, call);
    // The send's plaintext goes out with its first ciphertext, not at the call's return: a
    // reader thread may get the peer's answer and return first (Go's client always reads on
    // another goroutine), and the request must precede its response.
    let send_now = call.op == CALL_WRITE && call.emitted == 0 && moved > 0;
    if send_now {
        call.emitted = 1;
    }
    let snapshot = *call;
    let conn_id = match conn_for(inflight.sk, tgid, inflight.fd) {
        Some(conn) => {
            conn.tls = TLS_HOOKED;
            conn.library = snapshot.library;
            conn.conn_id
        }
        None => 0,
    };
    let ahead = note_session(&key, inflight, conn_id);
    if snapshot.library == LIB_GO {
        let _ = TLS_CALLS.remove(&id);
        if send_now {
            let go_key = GoCallKey {
                tgid,
                _pad: 0,
                goroutine: snapshot.goroutine,
            };
            if let Some(go_call) = GO_CALLS.get_ptr_mut(&go_key) {
                // SAFETY: map value pointer valid for this run.
                unsafe { (*go_call).emitted = 1 };
            }
        }
    }
    if moved > 0 {
        count(Counter::TlsCiphertextBytes, moved as u64);
    }
    if send_now {
        // The call's bytes continue the session's stream where the library stopped
        // accepting; what earlier calls emitted ahead of that is not emitted again.
        let skip = if ahead < snapshot.len {
            ahead
        } else {
            snapshot.len
        };
        set_ahead(
            &key,
            if ahead > snapshot.len {
                ahead
            } else {
                snapshot.len
            },
        );
        if snapshot.len > skip {
            let mut rest = snapshot;
            rest.buf += skip;
            rest.len -= skip;
            deliver(id, &rest, rest.len);
        }
    }
    true
}

/// Records the socket `key`'s session uses; returns its `ahead` count.
#[inline(always)]
fn note_session(key: &TlsSessionKey, inflight: &Inflight, conn_id: u64) -> u64 {
    if let Some(s) = TLS_SESSIONS.get_ptr_mut(key) {
        // SAFETY: map value pointer valid for this run.
        let s = unsafe { &mut *s };
        if s.conn_id != conn_id {
            // A new connection behind a reused session handle: nothing is ahead on it.
            s.ahead = 0;
        }
        s.sk = inflight.sk;
        s.fd = inflight.fd;
        s.conn_id = conn_id;
        return s.ahead;
    }
    let session = TlsSession {
        sk: inflight.sk,
        fd: inflight.fd,
        _pad: 0,
        ahead: 0,
        conn_id,
    };
    let _ = TLS_SESSIONS.insert(key, &session, 0);
    0
}

#[inline(always)]
fn set_ahead(key: &TlsSessionKey, ahead: u64) {
    if let Some(s) = TLS_SESSIONS.get_ptr_mut(key) {
        // SAFETY: map value pointer valid for this run.
        unsafe { (*s).ahead = ahead };
    }
}

#[inline(always)]
fn note_thread_socket(id: u64, inflight: &Inflight, conn_id: u64) {
    let sock = TlsSession {
        sk: inflight.sk,
        fd: inflight.fd,
        _pad: 0,
        ahead: 0,
        conn_id,
    };
    let _ = TLS_THREAD_SOCKS.insert(&id, &sock, 0);
}

/// Whether a syscall's bytes, with no TLS call running, are TLS records: known from the
/// connection's earlier bytes, else sniffed from these (a TLS record header: content type
/// 20..=23, version 3.0..=3.4). The first sniff that finds TLS reports the connection once.
#[inline(always)]
pub fn is_ciphertext(
    conn: &mut ConnState,
    inflight: &Inflight,
    syscall: Syscall,
    moved: u64,
    id: u64,
) -> bool {
    match conn.tls {
        TLS_NO => return false,
        TLS_UNCOVERED | TLS_HOOKED => {
            count(Counter::TlsCiphertextBytes, moved);
            note_thread_socket(id, inflight, conn.conn_id);
            return true;
        }
        _ => {}
    }
    if conn.tls != TLS_UNKNOWN || moved < 3 {
        return false;
    }
    let addr = first_byte_addr(inflight, syscall);
    // A plain array filled in place: an `Option<[u8; 3]>` lets LLVM leave the failure path's
    // value undefined, and the verifier then rejects the register it picks.
    let mut head = [0u8; 3];
    // SAFETY: bpf_probe_read_user tolerates any address; failure is an error, not a fault.
    let read =
        addr != 0 && unsafe { bpf_probe_read_user_buf(addr as *const u8, &mut head) }.is_ok();
    if !read {
        conn.tls = TLS_NO;
        return false;
    }
    if (20..=23).contains(&head[0]) && head[1] == 3 && head[2] <= 4 {
        conn.tls = TLS_UNCOVERED;
        note_thread_socket(id, inflight, conn.conn_id);
        tls_seen(conn, syscall.is_egress(), id);
        count(Counter::TlsCiphertextBytes, moved);
        return true;
    }
    conn.tls = TLS_NO;
    false
}
