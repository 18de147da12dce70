//! Values of the kernel programs' own maps. Userspace only sizes these maps and, for the filter
//! maps, fills them; the layouts live here so both sides agree on sizes.

use crate::event::Tuple;

pub const INFLIGHT_MAP: &str = "INFLIGHT";
pub const SOCKS_MAP: &str = "SOCKS";
pub const CONNS_MAP: &str = "CONNS";
pub const ROLE_HINTS_MAP: &str = "ROLE_HINTS";
pub const PID_FILTER_MAP: &str = "PID_FILTER";
pub const PORT_FILTER_MAP: &str = "PORT_FILTER";
pub const CGROUP_FILTER_MAP: &str = "CGROUP_FILTER";
pub const TLS_CALLS_MAP: &str = "TLS_CALLS";
pub const GO_CALLS_MAP: &str = "GO_CALLS";
pub const TLS_SESSIONS_MAP: &str = "TLS_SESSIONS";

/// `ConnState::tls`: what the connection's first bytes and the TLS hooks said.
pub const TLS_UNKNOWN: u32 = 0;
/// The first bytes were not a TLS record: plaintext on the wire.
pub const TLS_NO: u32 = 1;
/// TLS records on the wire, no hook has explained them (yet).
pub const TLS_UNCOVERED: u32 = 2;
/// A TLS library hook captured this connection's plaintext.
pub const TLS_HOOKED: u32 = 3;

/// Arguments of a data syscall between its entry and exit, keyed by pid_tgid.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Inflight {
    /// `Syscall` as u16.
    pub syscall: u16,
    pub family: u16,
    pub protocol: u16,
    /// 1 when the receive only peeked (MSG_PEEK): nothing is consumed, nothing is captured.
    pub peek: u16,
    pub fd: i32,
    pub _pad: u32,
    /// Buffer, iovec array, msghdr or mmsghdr array, depending on the syscall.
    pub ptr: u64,
    /// Buffer length, iovec count or message count.
    pub count: u64,
    /// The socket behind the call, from sock:sock_{send,recv}_length; 0 if none fired.
    pub sk: u64,
}

/// What `sock:inet_sock_set_state` taught us about a TCP socket, keyed by its address.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SockInfo {
    /// FLAG_ROLE_* and FLAG_TUPLE_KNOWN.
    pub flags: u32,
    pub _pad: u32,
    pub tuple: Tuple,
}

/// A tracked connection, keyed by socket address.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnState {
    pub conn_id: u64,
    /// Next stream offset per direction: [egress, ingress].
    pub next_offset: [u64; 2],
    /// Bytes lost per direction: [egress, ingress].
    pub lost: [u64; 2],
    /// FLAG_ROLE_* and FLAG_TUPLE_KNOWN.
    pub flags: u32,
    /// 1 when a port filter excludes this connection.
    pub ignored: u32,
    /// `TLS_*` above.
    pub tls: u32,
    /// `LIB_*` of the hook that captured its plaintext (with `TLS_HOOKED`).
    pub library: u32,
    pub tuple: Tuple,
}

/// A TLS library call in progress on one thread (or, for Go, one goroutine).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TlsCall {
    /// The library's session handle: SSL*, gnutls_session_t, Go's *tls.Conn.
    pub session: u64,
    /// Plaintext buffer and its length at entry.
    pub buf: u64,
    pub len: u64,
    /// SSL_read_ex/SSL_write_ex: where the byte count is written; 0 otherwise.
    pub out_len_ptr: u64,
    /// Socket a syscall made during the call touched; 0 if none yet.
    pub sk: u64,
    /// `LIB_*`.
    pub library: u32,
    pub fd: i32,
    /// 1: the call sends (write), 0: it receives (read).
    pub egress: u32,
    /// 1 once a send's plaintext was emitted (at its first socket write, see tls.rs).
    pub emitted: u32,
    /// Go: the goroutine running the call (keys its `GO_CALLS` entry); 0 otherwise.
    pub goroutine: u64,
}

/// Key of the TLS session → socket cache: a read served from the library's buffer makes no
/// syscall, so the socket learnt on an earlier call of the same session is used.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsSessionKey {
    pub tgid: u32,
    pub _pad: u32,
    pub session: u64,
}

/// Key of a Go call in progress: goroutines move between threads, so the goroutine (`g`, held
/// in R14 by Go's register ABI) identifies the call from entry to return.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GoCallKey {
    pub tgid: u32,
    pub _pad: u32,
    pub goroutine: u64,
}

/// The socket a TLS session was last seen using, and the send that must be retried on it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TlsSession {
    pub sk: u64,
    pub fd: i32,
    pub _pad: u32,
    /// Plaintext bytes emitted for this session's sends beyond what the library has accepted
    /// so far: a send is emitted at its first socket write, in full, before the library says
    /// how much it took (a partial write, or a want-write failure, is continued by the next
    /// call with the remaining bytes, which must not be emitted twice).
    pub ahead: u64,
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all are repr(C) with explicit padding fields and only integer members.
    unsafe impl aya::Pod for super::Inflight {}
    unsafe impl aya::Pod for super::SockInfo {}
    unsafe impl aya::Pod for super::ConnState {}
    unsafe impl aya::Pod for super::TlsCall {}
    unsafe impl aya::Pod for super::TlsSessionKey {}
    unsafe impl aya::Pod for super::TlsSession {}
    unsafe impl aya::Pod for super::GoCallKey {}
}
