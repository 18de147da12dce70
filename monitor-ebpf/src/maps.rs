//! The kernel programs' maps and load-time configuration.

use aya_ebpf::{
    macros::map,
    maps::{HashMap, LruHashMap, PerCpuArray, RingBuf},
};
use monitor_common::{
    Config, Counter,
    counters::COUNTER_SLOTS,
    state::{ConnState, GoCallKey, Inflight, SockInfo, TlsCall, TlsSession, TlsSessionKey},
};

/// Overwritten by userspace at load time (`EbpfLoader::override_global`).
#[unsafe(no_mangle)]
static MONITOR_CONFIG: Config = Config::DEFAULT;

#[inline(always)]
pub fn config() -> Config {
    // SAFETY: a read-only global; volatile so the compiler does not fold the default in.
    unsafe { core::ptr::read_volatile(&MONITOR_CONFIG) }
}

/// Payload and close records for userspace. Resized by userspace (`--ring-buffer-size`).
#[map]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(16 * 1024 * 1024, 0);

/// Processes that exec'd or mapped a file executable, for the TLS hook manager (`ProcEvent`).
#[map]
pub static PROC_EVENTS: RingBuf = RingBuf::with_byte_size(256 * 1024, 0);

/// Arguments of data syscalls between entry and exit, keyed by pid_tgid.
#[map]
pub static INFLIGHT: HashMap<u64, Inflight> = HashMap::with_max_entries(16384, 0);

/// Socket address → addresses and role, from sock:inet_sock_set_state. LRU: a socket whose
/// destruction we missed must not pin an entry forever.
#[map]
pub static SOCKS: LruHashMap<u64, SockInfo> = LruHashMap::with_max_entries(65536, 0);

/// Socket address → tracked connection (id, stream offsets, losses).
#[map]
pub static CONNS: HashMap<u64, ConnState> = HashMap::with_max_entries(65536, 0);

/// (tgid << 32 | fd) → role learnt from connect/accept, for sockets whose handshake we missed.
#[map]
pub static ROLE_HINTS: LruHashMap<u64, u32> = LruHashMap::with_max_entries(16384, 0);

/// pid_tgid → the TLS library call running on that thread (for Go: a marker naming the
/// session, consumed by the first socket syscall, see tls.rs).
#[map]
pub static TLS_CALLS: HashMap<u64, TlsCall> = HashMap::with_max_entries(16384, 0);

/// (tgid, goroutine) → the Go crypto/tls call in progress.
#[map]
pub static GO_CALLS: HashMap<GoCallKey, TlsCall> = HashMap::with_max_entries(16384, 0);

/// (tgid, TLS session handle) → the socket it was last seen using. LRU: sessions are not
/// reliably freed in our sight.
#[map]
pub static TLS_SESSIONS: LruHashMap<TlsSessionKey, TlsSession> =
    LruHashMap::with_max_entries(65536, 0);

/// pid_tgid → the socket that thread last moved TLS records on, outside any TLS call. Names
/// the connection of a library call that does no I/O itself: node (OpenSSL over memory BIOs)
/// encrypts and decrypts in SSL_write/SSL_read while libuv moves the records separately.
#[map]
pub static TLS_THREAD_SOCKS: LruHashMap<u64, TlsSession> = LruHashMap::with_max_entries(16384, 0);

#[map]
pub static PID_FILTER: HashMap<u32, u8> = HashMap::with_max_entries(1024, 0);

#[map]
pub static PORT_FILTER: HashMap<u16, u8> = HashMap::with_max_entries(1024, 0);

#[map]
pub static CGROUP_FILTER: HashMap<u64, u8> = HashMap::with_max_entries(1024, 0);

#[map]
pub static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(COUNTER_SLOTS, 0);

#[inline(always)]
pub fn count(counter: Counter, n: u64) {
    if let Some(slot) = COUNTERS.get_ptr_mut(counter as u32) {
        // SAFETY: per-CPU slot, programs do not nest on one CPU for these tracepoints.
        unsafe { *slot += n };
    }
}
