//! Kernel timestamps are CLOCK_MONOTONIC nanoseconds; output wants wall-clock time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns, measured once.
    offset_ns: i128,
}

fn read(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; both clocks always exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

impl Clock {
    pub fn system() -> Self {
        Self {
            offset_ns: read(libc::CLOCK_REALTIME) - read(libc::CLOCK_MONOTONIC),
        }
    }

    /// A clock whose monotonic zero is `unix_ns` (tests, replay).
    pub fn fixed(unix_ns: u64) -> Self {
        Self {
            offset_ns: unix_ns as i128,
        }
    }

    /// A clock with a known CLOCK_REALTIME − CLOCK_MONOTONIC offset (replay of a recording).
    pub fn with_offset(offset_ns: i128) -> Self {
        Self { offset_ns }
    }

    pub fn offset_ns(&self) -> i128 {
        self.offset_ns
    }

    /// CLOCK_MONOTONIC now, the kernel programs' time base.
    pub fn monotonic_now_ns() -> u64 {
        read(libc::CLOCK_MONOTONIC).max(0) as u64
    }

    pub fn unix_ns(&self, monotonic_ns: u64) -> u64 {
        (monotonic_ns as i128 + self.offset_ns).max(0) as u64
    }
}

/// RFC 3339 UTC with nanoseconds.
pub fn rfc3339(unix_ns: u64) -> String {
    let t = UNIX_EPOCH + Duration::from_nanos(unix_ns);
    humantime::format_rfc3339_nanos(t).to_string()
}

/// Wall-clock now in unix ns.
pub fn unix_now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(
            rfc3339(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(Clock::fixed(1_000).unix_ns(5), 1_005);
    }
}
