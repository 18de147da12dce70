//! The `detection_signatures` target: an input split into a request's parts, scanned by the
//! injection signatures (after every decoder has had the raw parts), with the scanner's
//! promises checked: bounded hits and values, short shown values, no internal error.
//!
//! Input format (`seeds.rs` writes the seed corpus with [`encode`]):
//!
//! - byte 0: bits 0-2 the body's content type ([`CONTENT_TYPES`]), bit 3 small caps (so short
//!   inputs reach the value, byte, depth and hit limits).
//! - then the parts, separated by 0xFF (never in UTF-8 text, so text parts need no escaping):
//!   method, path, query, `Cookie`, `User-Agent`, `Referer`, `X-Forwarded-For`, and the body,
//!   which is everything after the seventh separator (0xFF included).
//!
//! Missing parts are empty; parts that are not UTF-8 are read lossily, as the HTTP stage's
//! header text is.

pub mod seeds;

use monitor::{
    detection::{
        hit::MAX_SHOWN_VALUE,
        signatures::{RequestParts, SignatureRules, SignatureScanner, fuzzing},
    },
    transaction::Headers,
};

/// Separates the parts of an input.
pub const SEPARATOR: u8 = 0xFF;

/// Content types of the body, by the low bits of the first byte.
pub const CONTENT_TYPES: [&str; 8] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "text/plain",
    "",
    "application/xml",
    "application/octet-stream",
    "application/vnd.api+json; charset=utf-8",
];

/// Header names of parts 3 to 6.
const HEADERS: [&str; 4] = ["cookie", "user-agent", "referer", "x-forwarded-for"];

/// The limits bit 3 selects: small enough that a few hundred bytes reach each of them.
pub fn small_rules() -> SignatureRules {
    SignatureRules {
        max_values: 8,
        max_value_bytes: 64,
        max_body_bytes: 512,
        max_json_depth: 4,
        max_hits: 2,
        ..SignatureRules::default()
    }
}

/// Builds an input from its parts (for the seeds).
pub fn encode(content_type: u8, small: bool, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![(content_type & 7) | if small { 8 } else { 0 }];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        out.extend_from_slice(part);
    }
    out
}

/// Runs one input; panics when the scanner breaks a promise. Returns the rules that matched,
/// for the seed tests.
pub fn run(input: &[u8]) -> Vec<&'static str> {
    let Some((&flags, rest)) = input.split_first() else {
        return Vec::new();
    };
    let mut parts = rest.splitn(8, |&b| b == SEPARATOR);
    let mut next = || parts.next().unwrap_or_default();
    let method = String::from_utf8_lossy(next()).into_owned();
    let path = String::from_utf8_lossy(next()).into_owned();
    let query = String::from_utf8_lossy(next()).into_owned();
    let mut headers = Headers::default();
    for name in HEADERS {
        let value = next();
        if !value.is_empty() {
            headers.push(name, value);
        }
    }
    let body = next();
    for text in [&method, &path, &query] {
        fuzzing::decoders(text);
    }
    for (_, value) in headers.iter_text() {
        fuzzing::decoders(&value);
    }
    fuzzing::decoders(&String::from_utf8_lossy(body));

    let rules = if flags & 8 != 0 {
        small_rules()
    } else {
        SignatureRules::default()
    };
    let content_type = CONTENT_TYPES[usize::from(flags & 7)];
    let req = RequestParts {
        method: &method,
        path: &path,
        query: (!query.is_empty()).then_some(query.as_str()),
        headers: &headers,
        content_type: (!content_type.is_empty()).then_some(content_type),
        body,
    };
    let mut out = Vec::new();
    let counts = SignatureScanner::new(&rules).scan(&req, &mut out);
    assert!(out.len() <= rules.max_hits, "{} hits", out.len());
    assert!(counts.values as usize <= rules.max_values, "{counts:?}");
    assert_eq!(counts.errors, 0, "a detector panicked: {counts:?}");
    for hit in &out {
        assert!(hit.value.len() <= MAX_SHOWN_VALUE, "{hit:?}");
        assert!((0.0..=1.0).contains(&hit.confidence), "{hit:?}");
    }
    out.into_iter().map(|h| h.rule).collect()
}
