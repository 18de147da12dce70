//! Header names found in nearly every message, told apart with a `match` rather than a search of
//! the patterns: whether each one is secret is decided once per `Redactor`, in `new`.

use super::names::NameList;

/// Writes the list of common names once: `NAMES` (lowercase, as `Headers` stores them; the order
/// is the bit order of `CommonHeaders`) and `index`, a `match` on them, so the compiler compares
/// against constants (by length first) instead of looping over the list.
macro_rules! common_names {
    ($($bit:literal => $name:literal,)*) => {
        const NAMES: [&str; 32] = [$($name),*];

        /// The index of `name` in `NAMES`.
        fn index(name: &str) -> Option<u32> {
            match name {
                $($name => Some($bit),)*
                _ => None,
            }
        }
    };
}

common_names! {
    0 => "host",
    1 => "user-agent",
    2 => "accept",
    3 => "accept-encoding",
    4 => "accept-language",
    5 => "content-type",
    6 => "content-length",
    7 => "content-encoding",
    8 => "cache-control",
    9 => "connection",
    10 => "date",
    11 => "server",
    12 => "vary",
    13 => "etag",
    14 => "last-modified",
    15 => "transfer-encoding",
    16 => "keep-alive",
    17 => "pragma",
    18 => "origin",
    19 => "referer",
    20 => "location",
    21 => "expires",
    22 => "age",
    23 => "x-request-id",
    24 => "x-forwarded-for",
    25 => "x-forwarded-proto",
    26 => "x-real-ip",
    27 => "access-control-allow-origin",
    28 => "strict-transport-security",
    29 => "authorization",
    30 => "cookie",
    31 => "set-cookie",
}

/// Which of the common header names the configured patterns match.
#[derive(Debug, Clone, Copy)]
pub(super) struct CommonHeaders {
    secret: u32,
}

impl CommonHeaders {
    pub(super) fn new(patterns: &NameList) -> Self {
        let mut secret = 0;
        for (bit, name) in NAMES.iter().enumerate() {
            if patterns.find(name.as_bytes()).is_some() {
                secret |= 1 << bit;
            }
        }
        Self { secret }
    }

    /// Whether `name` is secret, when it is a common name; `None` for any other.
    #[inline]
    pub(super) fn is_secret(&self, name: &str) -> Option<bool> {
        index(name).map(|bit| self.secret & (1 << bit) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_its_own_bit() {
        for (bit, name) in NAMES.iter().enumerate() {
            assert_eq!(index(name), Some(bit as u32), "{name}");
        }
        assert_eq!(index("Host"), None);
        assert_eq!(index("x-api-key"), None);
    }

    #[test]
    fn verdicts_are_the_patterns_verdicts() {
        let patterns = NameList::new(&["authorization".to_owned(), "*agent*".to_owned()]);
        let common = CommonHeaders::new(&patterns);
        for name in NAMES {
            assert_eq!(
                common.is_secret(name),
                Some(patterns.find(name.as_bytes()).is_some()),
                "{name}"
            );
        }
        assert_eq!(common.is_secret("x-api-key"), None);
    }
}
