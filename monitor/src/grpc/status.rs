//! A call's outcome: `grpc-status` (a canonical code) and `grpc-message` (percent-encoded
//! UTF-8), read from the trailers or, for a trailers-only response, from the headers.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use thiserror::Error;

/// The canonical status codes (grpc/doc/statuscodes.md), indexed by value.
const NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Longest `grpc-message` kept, in bytes after decoding; the rest is cut (at a character
/// boundary) and flagged.
pub const MAX_MESSAGE: usize = 1024;

/// The canonical name of a status code, `None` for values outside 0..=16.
pub fn code_name(code: u32) -> Option<&'static str> {
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum StatusError {
    #[error("grpc-status is not a decimal number")]
    NotANumber,
}

/// `grpc-status`: ASCII digits only (no sign, no spaces; a number too large for a u32 is no
/// status either). A value outside 0..=16 is still returned; [`code_name`] tells it is unknown.
pub fn parse_code(value: &str) -> Result<u32, StatusError> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StatusError::NotANumber);
    }
    value.parse().map_err(|_| StatusError::NotANumber)
}

/// A decoded `grpc-message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub text: String,
    /// The value was not valid percent-encoded UTF-8: `text` is the value as sent (the spec
    /// asks receivers to keep the raw form rather than drop the message).
    pub invalid: bool,
    /// Longer than [`MAX_MESSAGE`]: cut.
    pub cut: bool,
}

/// Percent-decodes `grpc-message` (gRPC over HTTP/2: `Percent-Byte-Encoded → "%" 2HEXDIGIT`,
/// the result UTF-8). A `%` without two hex digits, or bytes that are not UTF-8, keep the
/// whole value as sent and set `invalid`.
pub fn decode_message(value: &str) -> StatusMessage {
    let well_formed = {
        let b = value.as_bytes();
        let mut i = 0;
        let mut ok = true;
        while i < b.len() {
            if b[i] == b'%' {
                let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    ok = false;
                    break;
                }
                i += 3;
            } else {
                i += 1;
            }
        }
        ok
    };
    let decoded = if well_formed {
        percent_decode_str(value).decode_utf8().ok()
    } else {
        None
    };
    let invalid = decoded.is_none();
    let text = decoded.unwrap_or(Cow::Borrowed(value));
    let (text, cut) = cut_at(&text, MAX_MESSAGE);
    StatusMessage {
        text: text.to_owned(),
        invalid,
        cut,
    }
}

/// The longest prefix of `text` of at most `max` bytes ending at a character boundary.
fn cut_at(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// Where a status was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Trailers,
    /// A trailers-only response: the status came with the response headers.
    Headers,
}

/// A call's status, as the peer sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `None` when `grpc-status` was there but no number.
    pub code: Option<u32>,
    pub message: Option<StatusMessage>,
    pub source: Source,
    /// `grpc-status` was sent more than once (the first is used).
    pub repeated: bool,
}

impl Status {
    /// The canonical name, `None` for an unknown or invalid code.
    pub fn name(&self) -> Option<&'static str> {
        self.code.and_then(code_name)
    }
}

/// The status in `trailers`, else in the response `headers` (trailers-only); `None` when
/// neither holds `grpc-status`. Field names are matched case-insensitively.
pub fn find_status(headers: &[(&str, &str)], trailers: &[(&str, &str)]) -> Option<Status> {
    read_status(trailers, Source::Trailers).or_else(|| read_status(headers, Source::Headers))
}

fn read_status(fields: &[(&str, &str)], source: Source) -> Option<Status> {
    let mut codes = fields
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("grpc-status"));
    let (_, code) = codes.next()?;
    let repeated = codes.next().is_some();
    let message = fields
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("grpc-message"))
        .map(|(_, value)| decode_message(value));
    Some(Status {
        code: parse_code(code).ok(),
        message,
        source,
        repeated,
    })
}

/// Most trailer fields read from one grpc-web trailers frame.
pub const MAX_WEB_TRAILERS: usize = 64;

/// A grpc-web trailers frame (`name: value` lines, CRLF or LF): fields with names lowercased,
/// at most [`MAX_WEB_TRAILERS`]; lines that are no field, or not UTF-8, are skipped.
pub fn parse_web_trailers(block: &[u8]) -> Vec<(String, String)> {
    block
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let line = std::str::from_utf8(line).ok()?;
            let (name, value) = line.trim_end_matches('\r').split_once(':')?;
            let name = name.trim();
            (!name.is_empty()).then(|| (name.to_ascii_lowercase(), value.trim().to_owned()))
        })
        .take(MAX_WEB_TRAILERS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_canonical_code() {
        assert_eq!(code_name(0), Some("OK"));
        assert_eq!(code_name(1), Some("CANCELLED"));
        assert_eq!(code_name(5), Some("NOT_FOUND"));
        assert_eq!(code_name(14), Some("UNAVAILABLE"));
        assert_eq!(code_name(16), Some("UNAUTHENTICATED"));
        assert_eq!(code_name(17), None);
        assert_eq!(code_name(u32::MAX), None);
    }

    #[test]
    fn parses_only_plain_decimal_codes() {
        assert_eq!(parse_code("0"), Ok(0));
        assert_eq!(parse_code("16"), Ok(16));
        assert_eq!(parse_code("017"), Ok(17));
        assert_eq!(parse_code("4294967295"), Ok(u32::MAX));
        for bad in [
            "",
            " 0",
            "0 ",
            "+1",
            "-1",
            "1.0",
            "OK",
            "4294967296",
            "99999999999",
        ] {
            assert_eq!(parse_code(bad), Err(StatusError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn percent_decodes_messages() {
        let m = decode_message("no%20such%20user%3A%20%E2%82%AC");
        assert_eq!(m.text, "no such user: €");
        assert!(!m.invalid && !m.cut);
        assert_eq!(decode_message("plain").text, "plain");
        assert_eq!(decode_message("").text, "");
    }

    #[test]
    fn keeps_bad_encodings_as_sent() {
        for raw in ["100%", "%4", "%zz", "bad %C3%28 utf8", "%FF"] {
            let m = decode_message(raw);
            assert_eq!(m.text, raw);
            assert!(m.invalid, "{raw:?}");
        }
    }

    #[test]
    fn cuts_long_messages_at_a_character() {
        let long = "é".repeat(MAX_MESSAGE);
        let m = decode_message(&long);
        assert!(m.cut);
        assert!(m.text.len() <= MAX_MESSAGE);
        assert!(m.text.chars().all(|c| c == 'é'));
    }

    #[test]
    fn trailers_win_over_headers() {
        let headers = [("grpc-status", "5"), ("grpc-message", "from headers")];
        let trailers = [("Grpc-Status", "0")];
        let s = find_status(&headers, &trailers).unwrap();
        assert_eq!(
            (s.code, s.source, s.name()),
            (Some(0), Source::Trailers, Some("OK"))
        );
        assert_eq!(s.message, None);
        let s = find_status(&headers, &[]).unwrap();
        assert_eq!((s.code, s.source), (Some(5), Source::Headers));
        assert_eq!(s.message.unwrap().text, "from headers");
        assert_eq!(
            find_status(&[("content-type", "application/grpc")], &[]),
            None
        );
    }

    #[test]
    fn invalid_and_unknown_codes_are_reported_not_trusted() {
        let s = find_status(&[], &[("grpc-status", "abc")]).unwrap();
        assert_eq!((s.code, s.name()), (None, None));
        let s = find_status(&[], &[("grpc-status", "42"), ("grpc-status", "0")]).unwrap();
        assert_eq!((s.code, s.name(), s.repeated), (Some(42), None, true));
    }

    #[test]
    fn reads_grpc_web_trailers() {
        let fields = parse_web_trailers(
            b"grpc-status: 3\r\nGrpc-Message: bad%20id\r\nno colon\r\n\xff: x\n",
        );
        assert_eq!(
            fields,
            [
                ("grpc-status".to_owned(), "3".to_owned()),
                ("grpc-message".to_owned(), "bad%20id".to_owned()),
            ]
        );
        let many = "a: 1\n".repeat(1000);
        assert_eq!(parse_web_trailers(many.as_bytes()).len(), MAX_WEB_TRAILERS);
    }
}
