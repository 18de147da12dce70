//! Copies the bytes a syscall moved into ring-buffer records: at most `chunk_size` bytes per
//! record, at most `max_call_bytes` per call, walking a flat buffer, an iovec array, a msghdr or
//! an mmsghdr array with one bounded `bpf_loop`. Whatever is not copied is counted and reported
//! in-band (`uncaptured_len`), so userspace can account for every byte.

use aya_ebpf::{
    helpers::{
        bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_get_current_pid_tgid,
        bpf_ktime_get_ns, bpf_probe_read_user_buf,
        generated::{bpf_loop, bpf_probe_read_user as probe_read_user_raw},
    },
    macros::map,
    maps::{HashMap, PerCpuArray},
};
use monitor_common::{
    Counter, DataHeader,
    config::{MAX_CHUNK, MAX_MMSG, MAX_STEPS},
    event::{
        FLAG_EGRESS, FLAG_IN_FLIGHT, FLAG_STEPS_EXHAUSTED, FLAG_TLS, FLAG_TRUNCATED,
        FLAG_UNCAPTURABLE, KIND_DATA, KIND_TLS_SEEN, Syscall, TlsSeenEvent,
    },
    state::{ConnState, Inflight},
};

use crate::{
    atomic,
    maps::{EVENTS, config, count},
};

/// Layout of `struct iovec`, `struct msghdr` and `struct mmsghdr` on 64-bit Linux (user ABI).
const IOVEC_LEN: u64 = 16;
const MSGHDR_IOV: u64 = 16;
const MSGHDR_IOVLEN: u64 = 24;
const MMSGHDR_LEN: u64 = 64;
const MMSGHDR_MSG_LEN: u64 = 56;

/// One call's capture state. It lives in a map, not on the stack: values the loop step reloads
/// from map memory are unknown to the verifier, so every iteration verifies as the same state.
/// (On the stack, the verifier tracks each counter's exact range, and no two iterations look
/// alike.) Syscall tracepoint programs run with preemption disabled, so one CPU never runs two
/// of their captures at once: they use a per-CPU slot ([`CpuSlot`]). Uprobe programs can be
/// preempted, so theirs is keyed by thread ([`ThreadSlot`]).
#[repr(C)]
pub struct CaptureLoop {
    header: DataHeader,
    /// Current user-memory segment: address and bytes left in it.
    seg_ptr: u64,
    seg_left: u64,
    /// Next iovec of the current message, and how many are left.
    iov_ptr: u64,
    iov_left: u64,
    /// Bytes left in the current message (the whole call, except for mmsg).
    msg_left: u64,
    /// Next mmsghdr, and how many are left.
    mmsg_ptr: u64,
    mmsg_left: u64,
    /// Stream offset of the next byte to capture.
    pos: u64,
    /// Stream offset where capture stops for this call (end of call or per-call cap).
    cap_end: u64,
    chunk: u64,
    /// This direction's loss count before the call, and bytes lost during it.
    lost_before: u64,
    lost: u64,
}

#[map]
static CAPTURE: PerCpuArray<CaptureLoop> = PerCpuArray::with_max_entries(1, 0);

/// Capture state of uprobe programs, per thread (pid_tgid), only while one capture runs.
#[map]
static THREAD_CAPTURE: HashMap<u64, CaptureLoop> = HashMap::with_max_entries(4096, 0);

/// Where a capture keeps its state for the loop.
pub trait Slot {
    fn get() -> Option<*mut CaptureLoop>;
}

/// Per-CPU: syscall tracepoints.
pub struct CpuSlot;

impl Slot for CpuSlot {
    #[inline(always)]
    fn get() -> Option<*mut CaptureLoop> {
        CAPTURE.get_ptr_mut(0)
    }
}

/// Per-thread: uprobes. [`ThreadSlot::open`] makes the entry, [`ThreadSlot::close`] drops it.
pub struct ThreadSlot;

impl Slot for ThreadSlot {
    #[inline(always)]
    fn get() -> Option<*mut CaptureLoop> {
        THREAD_CAPTURE.get_ptr_mut(&bpf_get_current_pid_tgid())
    }
}

impl ThreadSlot {
    /// Makes this thread's entry (its content is overwritten by `capture`).
    #[inline(always)]
    pub fn open() -> bool {
        let Some(template) = CAPTURE.get_ptr(0) else {
            return false;
        };
        // SAFETY: a map value pointer, only read (as the initial value) by the helper.
        let template = unsafe { &*template };
        THREAD_CAPTURE
            .insert(&bpf_get_current_pid_tgid(), template, 0)
            .is_ok()
    }

    #[inline(always)]
    pub fn close() {
        let _ = THREAD_CAPTURE.remove(&bpf_get_current_pid_tgid());
    }
}

#[repr(C)]
struct Record<const N: usize> {
    header: DataHeader,
    payload: [u8; N],
}

/// A user-space `u64`, 0 if unreadable. Filled into a zeroed array rather than returned as an
/// `Option`: LLVM may leave an `Option`'s failure value undefined, pick any register for it (a map
/// pointer, say), and the verifier then rejects the arithmetic that follows.
#[inline(always)]
pub fn user_u64(addr: u64) -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: bpf_probe_read_user tolerates any address; failure is an error, not a fault.
    match unsafe { bpf_probe_read_user_buf(addr as *const u8, &mut buf) } {
        Ok(()) => u64::from_ne_bytes(buf),
        Err(_) => 0,
    }
}

/// A user-space `u32`, 0 if unreadable (see `user_u64`).
#[inline(always)]
pub fn user_u32(addr: u64) -> u32 {
    let mut buf = [0u8; 4];
    // SAFETY: as in `user_u64`.
    match unsafe { bpf_probe_read_user_buf(addr as *const u8, &mut buf) } {
        Ok(()) => u32::from_ne_bytes(buf),
        Err(_) => 0,
    }
}

/// Emits what a call moved. `library`: the `LIB_*` whose hook saw this plaintext, else 0.
#[inline(always)]
pub fn capture<S: Slot>(
    conn: &mut ConnState,
    inflight: &Inflight,
    syscall: Syscall,
    ret: u64,
    id: u64,
    library: u32,
) {
    let Some(st) = S::get() else {
        return;
    };
    // SAFETY: this CPU's or this thread's slot; see CaptureLoop for why nothing else uses it.
    let st = unsafe { &mut *st };
    let cfg = config();
    let egress = syscall.is_egress();
    let dir = if egress { 0 } else { 1 };

    st.seg_ptr = 0;
    st.seg_left = 0;
    st.iov_ptr = 0;
    st.iov_left = 0;
    st.msg_left = ret;
    st.mmsg_ptr = 0;
    st.mmsg_left = 0;
    let mut total = ret;
    match syscall {
        Syscall::Read
        | Syscall::Write
        | Syscall::Sendto
        | Syscall::Recvfrom
        | Syscall::TlsWrite
        | Syscall::TlsRead => {
            st.seg_ptr = inflight.ptr;
            st.seg_left = ret;
        }
        Syscall::Readv | Syscall::Writev => {
            st.iov_ptr = inflight.ptr;
            st.iov_left = inflight.count;
        }
        Syscall::Sendmsg | Syscall::Recvmsg => {
            st.iov_ptr = user_u64(inflight.ptr + MSGHDR_IOV);
            st.iov_left = user_u64(inflight.ptr + MSGHDR_IOVLEN);
        }
        Syscall::Sendmmsg | Syscall::Recvmmsg => {
            // `ret` counts messages; their byte counts were written into the mmsghdr array.
            let msgs = if ret > MAX_MMSG as u64 {
                count(Counter::MmsgDropped, ret - MAX_MMSG as u64);
                MAX_MMSG as u64
            } else {
                ret
            };
            total = 0;
            for i in 0..MAX_MMSG as u64 {
                if i >= msgs {
                    break;
                }
                let at = inflight.ptr + i * MMSGHDR_LEN + MMSGHDR_MSG_LEN;
                total += user_u32(at) as u64;
            }
            st.msg_left = 0;
            st.mmsg_ptr = inflight.ptr;
            st.mmsg_left = msgs;
        }
        Syscall::Sendfile | Syscall::InFlightSend | Syscall::InFlightRecv => {}
    }
    if total == 0 {
        return;
    }

    // Not atomic (see atomic.rs): two threads moving bytes the same way on one socket at the
    // same instant can get overlapping offsets, which userspace reports as an overlap.
    let start = conn.next_offset[dir];
    conn.next_offset[dir] = start + total;

    let (tgid, tid) = ((id >> 32) as u32, id as u32);
    st.header = DataHeader {
        kind: KIND_DATA,
        syscall: syscall as u16,
        flags: conn.flags
            | if egress { FLAG_EGRESS } else { 0 }
            | if library != 0 { FLAG_TLS } else { 0 },
        // SAFETY: helpers without preconditions.
        ts_ns: unsafe { bpf_ktime_get_ns() },
        conn_id: conn.conn_id,
        offset: start,
        lost_total: conn.lost[dir],
        pid: tgid,
        tid,
        fd: inflight.fd,
        captured_len: 0,
        uncaptured_len: 0,
        library,
        cgroup_id: unsafe { bpf_get_current_cgroup_id() },
        comm: bpf_get_current_comm().unwrap_or([0; 16]),
        tuple: conn.tuple,
    };

    match syscall {
        Syscall::Sendfile => {
            st.header.flags |= FLAG_UNCAPTURABLE;
            count(Counter::UncapturableBytes, total);
            emit_marker(&mut st.header, start, total);
            return;
        }
        Syscall::InFlightSend | Syscall::InFlightRecv => {
            st.header.flags |= FLAG_IN_FLIGHT;
            count(Counter::InFlightAtStartBytes, total);
            emit_marker(&mut st.header, start, total);
            return;
        }
        _ => {}
    }

    let cap = cfg.max_call_bytes as u64;
    st.pos = start;
    st.cap_end = start + if total < cap { total } else { cap };
    st.chunk = if cfg.chunk_size == 0 || cfg.chunk_size > MAX_CHUNK {
        MAX_CHUNK as u64
    } else {
        cfg.chunk_size as u64
    };
    st.lost_before = conn.lost[dir];
    st.lost = 0;

    // bpf_loop verifies the step once instead of once per iteration.
    let step_fn = step::<S> as extern "C" fn(u64, *mut core::ffi::c_void) -> i64;
    // SAFETY: the callback must reach bpf_loop as a function reference (BPF_PSEUDO_FUNC), hence
    // the transmute rather than a cast through an integer.
    unsafe {
        let callback = core::mem::transmute::<
            extern "C" fn(u64, *mut core::ffi::c_void) -> i64,
            *mut core::ffi::c_void,
        >(step_fn);
        bpf_loop(MAX_STEPS, callback, core::ptr::null_mut(), 0)
    };

    if st.lost != 0 {
        atomic::add(&mut conn.lost[dir], st.lost);
    }
    let end = start + total;
    if st.pos < end {
        let left = end - st.pos;
        let (cause, flag) = if st.cap_end < end {
            (Counter::TruncatedBytes, FLAG_TRUNCATED)
        } else {
            (Counter::StepsExhaustedBytes, FLAG_STEPS_EXHAUSTED)
        };
        count(cause, left);
        st.header.flags |= flag;
        st.header.lost_total = conn.lost[dir];
        let pos = st.pos;
        emit_marker(&mut st.header, pos, left);
    }
}

const CONTINUE: i64 = 0;
const BREAK: i64 = 1;

/// One step: load the next iovec or message, or emit one chunk.
#[inline(never)]
extern "C" fn step<S: Slot>(_index: u64, _ctx: *mut core::ffi::c_void) -> i64 {
    let Some(st) = S::get() else {
        return BREAK;
    };
    // SAFETY: this CPU's or thread's slot, filled by `capture` just before bpf_loop.
    let st = unsafe { &mut *st };
    if st.pos >= st.cap_end {
        return BREAK;
    }
    if st.seg_left == 0 {
        if st.msg_left == 0 {
            if st.mmsg_left == 0 {
                return BREAK;
            }
            let msg = st.mmsg_ptr;
            st.iov_ptr = user_u64(msg + MSGHDR_IOV);
            st.iov_left = user_u64(msg + MSGHDR_IOVLEN);
            st.msg_left = user_u32(msg + MMSGHDR_MSG_LEN) as u64;
            st.mmsg_ptr = msg + MMSGHDR_LEN;
            st.mmsg_left -= 1;
            return CONTINUE;
        }
        if st.iov_left == 0 {
            return BREAK;
        }
        let base = user_u64(st.iov_ptr);
        let len = user_u64(st.iov_ptr + 8);
        st.iov_ptr += IOVEC_LEN;
        st.iov_left -= 1;
        st.seg_ptr = base;
        st.seg_left = if len < st.msg_left { len } else { st.msg_left };
        return CONTINUE;
    }
    let mut n = st.seg_left;
    if n > st.chunk {
        n = st.chunk;
    }
    if n > st.cap_end - st.pos {
        n = st.cap_end - st.pos;
    }
    st.header.offset = st.pos;
    st.header.lost_total = st.lost_before + st.lost;
    match emit_chunk(&st.header, st.seg_ptr, n) {
        Ok(()) => {
            count(Counter::EventsEmitted, 1);
            count(Counter::BytesEmitted, n);
        }
        Err(Loss::RingFull) => {
            count(Counter::RingbufFullEvents, 1);
            count(Counter::RingbufFullBytes, n);
            st.lost += n;
        }
        Err(Loss::Unreadable) => {
            count(Counter::ReadFailedBytes, n);
            st.lost += n;
        }
    }
    st.seg_ptr += n;
    st.seg_left -= n;
    st.msg_left -= n;
    st.pos += n;
    CONTINUE
}

/// Why a chunk did not reach the ring buffer.
enum Loss {
    RingFull,
    Unreadable,
}

/// Emits `n` bytes at user address `src`, in the smallest record class that holds them.
#[inline(always)]
fn emit_chunk(header: &DataHeader, src: u64, n: u64) -> Result<(), Loss> {
    if n <= 256 {
        emit_class::<256>(header, src, n)
    } else if n <= 1024 {
        emit_class::<1024>(header, src, n)
    } else if n <= 4096 {
        emit_class::<4096>(header, src, n)
    } else {
        emit_class::<{ MAX_CHUNK as usize }>(header, src, n)
    }
}

#[inline(always)]
fn emit_class<const N: usize>(header: &DataHeader, src: u64, n: u64) -> Result<(), Loss> {
    let Some(mut entry) = EVENTS.reserve::<Record<N>>(0) else {
        return Err(Loss::RingFull);
    };
    let record = entry.as_mut_ptr();
    // SAFETY: `record` points at a reserved, writable ring buffer slot of size_of::<Record<N>>().
    let rc = unsafe {
        (*record).header = *header;
        (*record).header.captured_len = n as u32;
        // Checked on the full-width value that is passed on, so the verifier sees 1..=N.
        if n == 0 || n > N as u64 {
            -1
        } else {
            probe_read_user_raw(
                (*record).payload.as_mut_ptr().cast(),
                n as u32,
                src as *const core::ffi::c_void,
            )
        }
    };
    if rc != 0 {
        entry.discard(0);
        return Err(Loss::Unreadable);
    }
    entry.submit(0);
    Ok(())
}

/// A record without payload saying that `left` bytes starting at `offset` were not captured.
#[inline(always)]
fn emit_marker(header: &mut DataHeader, offset: u64, left: u64) {
    header.offset = offset;
    header.captured_len = 0;
    header.uncaptured_len = left as u32;
    let Some(mut entry) = EVENTS.reserve::<DataHeader>(0) else {
        count(Counter::RingbufFullEvents, 1);
        return;
    };
    entry.write(*header);
    entry.submit(0);
}

/// Address of the first byte a data syscall moved, for sniffing; 0 when unknown (mmsg, sendfile).
#[inline(always)]
pub fn first_byte_addr(inflight: &Inflight, syscall: Syscall) -> u64 {
    match syscall {
        Syscall::Read | Syscall::Write | Syscall::Sendto | Syscall::Recvfrom => inflight.ptr,
        Syscall::Readv | Syscall::Writev => user_u64(inflight.ptr),
        Syscall::Sendmsg | Syscall::Recvmsg => {
            let iov = user_u64(inflight.ptr + MSGHDR_IOV);
            if iov == 0 { 0 } else { user_u64(iov) }
        }
        _ => 0,
    }
}

/// Says once that a connection carries TLS records no hook explained (see `TlsSeenEvent`).
#[inline(always)]
pub fn tls_seen(conn: &ConnState, egress: bool, id: u64) {
    let Some(mut entry) = EVENTS.reserve::<TlsSeenEvent>(0) else {
        count(Counter::RingbufFullEvents, 1);
        return;
    };
    entry.write(TlsSeenEvent {
        kind: KIND_TLS_SEEN,
        _pad: 0,
        flags: conn.flags | if egress { FLAG_EGRESS } else { 0 },
        // SAFETY: helpers without preconditions.
        ts_ns: unsafe { bpf_ktime_get_ns() },
        conn_id: conn.conn_id,
        pid: (id >> 32) as u32,
        tid: id as u32,
        cgroup_id: unsafe { bpf_get_current_cgroup_id() },
        comm: bpf_get_current_comm().unwrap_or([0; 16]),
        tuple: conn.tuple,
    });
    entry.submit(0);
}
