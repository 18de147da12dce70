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
    pub tuple: Tuple,
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all three are repr(C) with explicit padding fields and only integer members.
    unsafe impl aya::Pod for super::Inflight {}
    unsafe impl aya::Pod for super::SockInfo {}
    unsafe impl aya::Pod for super::ConnState {}
}
