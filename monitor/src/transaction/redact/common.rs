//! Header names found in nearly every message, told apart with a `match` rather than a search of
//! the patterns: whether each one is secret is decided once per `Redactor`, in `new`.

use super::names::NameList;

/// Lowercase, as `Headers` stores names. Order is the bit order of `CommonHeaders`.
const NAMES: [&str; 32] = [
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "content-type",
    "content-length",
    "content-encoding",
    "cache-control",
    "connection",
    "date",
    "server",
    "vary",
    "etag",
    "last-modified",
    "transfer-encoding",
    "keep-alive",
    "pragma",
    "origin",
    "referer",
    "location",
    "expires",
    "age",
    "x-request-id",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-real-ip",
    "access-control-allow-origin",
    "strict-transport-security",
    "authorization",
    "cookie",
    "set-cookie",
];

/// The index of `name` in `NAMES`. A `match`, so the compiler compares against constants
/// (by length first) instead of looping over the list.
fn index(name: &str) -> Option<u32> {
    let i = match name {
        "host" => 0,
        "user-agent" => 1,
        "accept" => 2,
        "accept-encoding" => 3,
        "accept-language" => 4,
        "content-type" => 5,
        "content-length" => 6,
        "content-encoding" => 7,
        "cache-control" => 8,
        "connection" => 9,
        "date" => 10,
        "server" => 11,
        "vary" => 12,
        "etag" => 13,
        "last-modified" => 14,
        "transfer-encoding" => 15,
        "keep-alive" => 16,
        "pragma" => 17,
        "origin" => 18,
        "referer" => 19,
        "location" => 20,
        "expires" => 21,
        "age" => 22,
        "x-request-id" => 23,
        "x-forwarded-for" => 24,
        "x-forwarded-proto" => 25,
        "x-real-ip" => 26,
        "access-control-allow-origin" => 27,
        "strict-transport-security" => 28,
        "authorization" => 29,
        "cookie" => 30,
        "set-cookie" => 31,
        _ => return None,
    };
    Some(i)
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
