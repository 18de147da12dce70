//! Load-time configuration of the kernel programs, written by userspace into a global before
//! the programs are verified, so the verifier sees its values as constants.

/// Largest payload one data event can carry. The chunk size chosen by the user is at most this.
pub const MAX_CHUNK: u32 = 16 * 1024;

/// Upper bound of the capture loop in one syscall exit: each step either loads the next iovec
/// or emits one chunk. Bytes a call moves beyond what these steps cover are counted as truncated.
pub const MAX_STEPS: u32 = 256;

/// Most messages of one `sendmmsg`/`recvmmsg` call that are captured; the rest are counted.
pub const MAX_MMSG: u32 = 16;

/// Filter switches in [`Config::filters`].
pub const FILTER_PID: u32 = 1 << 0;
pub const FILTER_PORT: u32 = 1 << 1;
pub const FILTER_CGROUP: u32 = 1 << 2;

/// Name of the global holding [`Config`] in the eBPF object.
pub const CONFIG_GLOBAL: &str = "MONITOR_CONFIG";

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Thread-group id of the agent itself: never captured.
    pub self_tgid: u32,
    /// Payload bytes per data event (1..=MAX_CHUNK).
    pub chunk_size: u32,
    /// Payload bytes captured per syscall; the rest of the call is counted, not copied.
    pub max_call_bytes: u32,
    /// Bitset of `FILTER_*`: which filter maps are consulted.
    pub filters: u32,
}

impl Config {
    pub const DEFAULT: Config = Config {
        self_tgid: 0,
        chunk_size: MAX_CHUNK,
        max_call_bytes: 1024 * 1024,
        filters: 0,
    };
}

#[cfg(feature = "user")]
// SAFETY: repr(C), only u32 fields, no padding.
unsafe impl aya::Pod for Config {}
