//! What one path segment looks like: an identifier of a known shape (number, UUID, date, email,
//! hash, hex or opaque token) or a word. Typed identifiers become parameters at once; words only
//! when a position has many of them (see `trie`).

use serde::Serialize;

/// The shape of an identifier found in a path segment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    Integer,
    Uuid,
    Date,
    Email,
    /// Hex of an MD5/SHA-1/SHA-256/SHA-512 digest's length.
    Hash,
    /// Other hex of 8+ digits with at least one digit (e.g. a 24-digit object id).
    Hex,
    /// An opaque id: 16+ characters of a base64/base64url alphabet mixing letters and digits.
    Token,
    /// A value with none of the shapes above, at a position that holds many distinct values.
    Word,
}

impl SegmentKind {
    pub const ALL: [SegmentKind; 8] = [
        SegmentKind::Integer,
        SegmentKind::Uuid,
        SegmentKind::Date,
        SegmentKind::Email,
        SegmentKind::Hash,
        SegmentKind::Hex,
        SegmentKind::Token,
        SegmentKind::Word,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            SegmentKind::Integer => "integer",
            SegmentKind::Uuid => "uuid",
            SegmentKind::Date => "date",
            SegmentKind::Email => "email",
            SegmentKind::Hash => "hash",
            SegmentKind::Hex => "hex",
            SegmentKind::Token => "token",
            SegmentKind::Word => "word",
        }
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of segment kinds (the shapes one parameter has taken).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KindSet(u8);

impl KindSet {
    pub fn insert(&mut self, kind: SegmentKind) {
        self.0 |= kind.bit();
    }

    pub fn union(self, other: KindSet) -> KindSet {
        KindSet(self.0 | other.0)
    }

    pub fn contains(self, kind: SegmentKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = SegmentKind> {
        SegmentKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }

    /// The one kind, when there is exactly one.
    pub fn single(self) -> Option<SegmentKind> {
        let mut kinds = self.iter();
        match (kinds.next(), kinds.next()) {
            (Some(kind), None) => Some(kind),
            _ => None,
        }
    }
}

impl Serialize for KindSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The identifier shape of `segment` (as it appears in the path, percent-encoded), if any.
pub fn classify(segment: &str) -> Option<SegmentKind> {
    let b = segment.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b.len() <= 20 && b.iter().all(u8::is_ascii_digit) {
        return Some(SegmentKind::Integer);
    }
    if is_uuid(b) {
        return Some(SegmentKind::Uuid);
    }
    if is_date(b) {
        return Some(SegmentKind::Date);
    }
    if is_email(segment) {
        return Some(SegmentKind::Email);
    }
    if b.iter().all(u8::is_ascii_hexdigit) && b.iter().any(u8::is_ascii_digit) {
        if matches!(b.len(), 32 | 40 | 64 | 128) {
            return Some(SegmentKind::Hash);
        }
        // Eight hex digits with a digit among them: "deadbeef" and "facade" stay words.
        if b.len() >= 8 {
            return Some(SegmentKind::Hex);
        }
    }
    if is_token(b) {
        return Some(SegmentKind::Token);
    }
    None
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DD`, optionally followed by a `T` time (an RFC 3339 date-time).
fn is_date(b: &[u8]) -> bool {
    if b.len() < 10 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10)) {
        return false;
    }
    let num = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let (month, day) = (num(5), num(8));
    (1..=12).contains(&month) && (1..=31).contains(&day) && (b.len() == 10 || b[10] == b'T')
}

fn is_email(s: &str) -> bool {
    // Nearly every segment has neither, and is no address: it is not copied (this runs on
    // every segment of every path).
    if !s.bytes().any(|b| b == b'@' || b == b'%') {
        return false;
    }
    let s = s.replace("%40", "@");
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && local
            .bytes()
            .chain(domain.bytes())
            .all(|c| c.is_ascii_alphanumeric() || b"._%+-".contains(&c))
}

/// 16+ characters of base64url (or base64 with `%2B`/`%2F` left as is), letters and digits
/// mixed: upper and lower case both, or at least a quarter digits. Slugs of words
/// (`my-first-post-2023`) are not tokens.
fn is_token(b: &[u8]) -> bool {
    if b.len() < 16 || b.len() > 512 {
        return false;
    }
    let body = b
        .strip_suffix(b"==")
        .or_else(|| b.strip_suffix(b"="))
        .unwrap_or(b);
    if !body
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    {
        return false;
    }
    let digits = body.iter().filter(|c| c.is_ascii_digit()).count();
    let upper = body.iter().any(u8::is_ascii_uppercase);
    let lower = body.iter().any(u8::is_ascii_lowercase);
    let letters = upper || lower;
    let separators = body.iter().filter(|c| **c == b'-').count();
    letters && digits > 0 && separators < 2 && ((upper && lower) || digits * 4 >= body.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use SegmentKind::*;

    #[test]
    fn typed_identifiers() {
        for (segment, kind) in [
            ("42", Integer),
            ("0", Integer),
            ("123e4567-e89b-12d3-a456-426614174000", Uuid),
            ("2024-02-29", Date),
            ("2024-02-29T10:00:00Z", Date),
            ("jane.doe@example.com", Email),
            ("jane%40example.com", Email),
            ("d41d8cd98f00b204e9800998ecf8427e", Hash),
            ("da39a3ee5e6b4b0d3255bfef95601890afd80709", Hash),
            ("507f1f77bcf86cd799439011", Hex),
            ("a1b2c3d4", Hex),
            ("cus_NffrFeUfNV2Hib", Token),
            ("dGhpcyBpcyBhIHRva2VuMTI=", Token),
            ("AbCdEfGhIjKlMnOp1", Token),
        ] {
            assert_eq!(classify(segment), Some(kind), "{segment}");
        }
    }

    #[test]
    fn words_are_not_identifiers() {
        for segment in [
            "users",
            "me",
            "v1",
            "v2beta",
            "deadbeef",
            "cafe",
            "2024-13-01",
            "my-first-post-2023",
            "search",
            "oauth2",
            "@home",
            "a@b",
            "",
            "pull-requests",
            "openapi.json",
        ] {
            assert_eq!(classify(segment), None, "{segment}");
        }
    }

    #[test]
    fn kind_sets() {
        let mut set = KindSet::default();
        assert!(set.is_empty());
        set.insert(Uuid);
        assert_eq!(set.single(), Some(Uuid));
        set.insert(Integer);
        assert_eq!(set.single(), None);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![Integer, Uuid]);
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"["integer","uuid"]"#
        );
    }
}
