//! Kernel timestamps are CLOCK_MONOTONIC nanoseconds; output wants wall-clock time.

use std::{
    cell::Cell,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

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

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: every time a u64 of nanoseconds can hold (years 1970 to
/// 2554) has this length.
const RFC3339_LEN: usize = 30;
/// The part before the nanoseconds, `.` included.
const SECONDS_LEN: usize = 20;

/// The RFC 3339 text of one instant, on the stack.
#[derive(Clone, Copy)]
pub struct Rfc3339Text([u8; RFC3339_LEN]);

impl Rfc3339Text {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever written (see `Rfc3339Cache::format`); the
        // fallback cannot happen.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The text's bytes, without `as_str`'s UTF-8 check (they are ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Rfc3339Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Renders RFC 3339 times as `rfc3339` does, remembering the date and time of the last second:
/// a transaction has two timestamps and neighbouring ones share their second, so only the
/// nanoseconds are written most of the time (the calendar arithmetic and `fmt` machinery were a
/// visible part of rendering each transaction).
#[derive(Debug, Default)]
pub struct Rfc3339Cache {
    /// (unix seconds, their text up to and including the `.`) of the last second formatted.
    last: Cell<Option<(u64, [u8; SECONDS_LEN])>>,
}

impl Rfc3339Cache {
    pub fn format(&self, unix_ns: u64) -> Rfc3339Text {
        let (secs, nanos) = (unix_ns / 1_000_000_000, unix_ns % 1_000_000_000);
        let head = match self.last.get() {
            Some((s, head)) if s == secs => head,
            _ => {
                let head = seconds_text(secs);
                self.last.set(Some((secs, head)));
                head
            }
        };
        let mut out = [0u8; RFC3339_LEN];
        out[..SECONDS_LEN].copy_from_slice(&head);
        let mut n = nanos;
        for slot in out[SECONDS_LEN..RFC3339_LEN - 1].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out[RFC3339_LEN - 1] = b'Z';
        Rfc3339Text(out)
    }
}

/// `YYYY-MM-DDTHH:MM:SS.` of a whole second, from the same formatter as `rfc3339`.
fn seconds_text(secs: u64) -> [u8; SECONDS_LEN] {
    let text =
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string();
    // `YYYY-MM-DDTHH:MM:SSZ`: the `Z` becomes the `.` before the nanoseconds.
    let mut head = [b'0'; SECONDS_LEN];
    for (slot, byte) in head.iter_mut().zip(text.bytes()) {
        *slot = byte;
    }
    head[SECONDS_LEN - 1] = b'.';
    head
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

    #[test]
    fn the_cache_formats_as_rfc3339_does() {
        let cache = Rfc3339Cache::default();
        for ns in [
            0,
            1,
            999_999_999,
            1_000_000_000,
            1_700_000_000_123_456_789,
            1_700_000_000_999_999_999,
            1_700_000_001_000_000_000,
            1_700_000_000_000_000_001,
            951_782_400_000_000_007,
            u64::MAX,
        ] {
            assert_eq!(cache.format(ns).as_str(), rfc3339(ns), "{ns}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_time_formats_as_rfc3339_does(ns: u64, step in 0u64..3_000_000_000) {
            let cache = Rfc3339Cache::default();
            let first = cache.format(ns);
            proptest::prop_assert_eq!(first.as_str(), rfc3339(ns));
            let next = ns.saturating_add(step);
            let second = cache.format(next);
            proptest::prop_assert_eq!(second.as_str(), rfc3339(next));
        }
    }
}
