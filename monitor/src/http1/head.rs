//! One message head (start line and header fields): where it ends, what is irregular about it,
//! and its parsed form. Irregular syntax is flagged, normalised, then parsed with httparse.

use std::borrow::Cow;

use super::start_line;
use crate::transaction::{Flag, Flags, Headers};

/// Header lines httparse may return for one head.
const MAX_HEADERS: usize = 256;

/// Where the head starting at `buf[0]` ends (exclusive), searching from `scan_from`.
/// Accepts "\r\n\r\n" and the bare-LF forms a lenient peer may send.
pub fn find_end(buf: &[u8], scan_from: usize) -> Option<usize> {
    let mut at = scan_from.saturating_sub(3);
    while let Some(i) = memchr::memchr(b'\n', buf.get(at..)?) {
        let nl = at + i;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            Some(_) => at = nl + 1,
            None => return None,
        }
    }
    None
}

/// Irregularities of a complete head, found before parsing: each makes parsers disagree.
pub fn anomalies(head: &[u8], request: bool) -> Flags {
    let mut flags = Flags::empty();
    let mut line_start = 0;
    let mut start_seen = false;
    for nl in memchr::memchr_iter(b'\n', head) {
        if nl == 0 || head[nl - 1] != b'\r' {
            flags.set(Flag::BareLf);
        }
        let line = &head[line_start..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // The start line (the first that is not empty) is not a field line.
        if !start_seen && !line.is_empty() {
            start_seen = true;
            flags = flags.union(start_line::anomalies(line, request));
        } else if line_start > 0 && !line.is_empty() {
            if matches!(line[0], b' ' | b'\t') {
                flags.set(Flag::ObsFold);
            } else if let Some(colon) = memchr::memchr(b':', line)
                && colon > 0
                && matches!(line[colon - 1], b' ' | b'\t')
            {
                flags.set(Flag::WhitespaceBeforeColon);
            }
        }
        line_start = nl + 1;
    }
    flags
}

/// The head rewritten the way a lenient recipient reads it: CRLF line ends, folded lines joined
/// with one space, whitespace before colons removed, the start line as `start_line` reads it.
fn normalise(head: &[u8], request: bool) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(head.len() + 16);
    let mut first = true;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if !first && matches!(line[0], b' ' | b'\t') {
            // obs-fold: continue the previous line (drop its CRLF).
            out.truncate(out.len().saturating_sub(2));
            out.push(b' ');
            out.extend_from_slice(line.trim_ascii_start());
        } else if !first && let Some(colon) = memchr::memchr(b':', line) {
            out.extend_from_slice(line[..colon].trim_ascii_end());
            out.extend_from_slice(&line[colon..]);
        } else if first {
            out.extend_from_slice(&start_line::normalise(line, request));
        } else {
            out.extend_from_slice(line);
        }
        out.extend_from_slice(b"\r\n");
        first = false;
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Cow<'static, str>,
    pub target: String,
    pub version: &'static str,
    pub headers: Headers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: Cow<'static, str>,
    pub version: &'static str,
    pub headers: Headers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    Request(RequestHead),
    Response(ResponseHead),
}

impl Head {
    pub fn headers(&self) -> &Headers {
        match self {
            Head::Request(h) => &h.headers,
            Head::Response(h) => &h.headers,
        }
    }
}

fn version(minor: Option<u8>) -> &'static str {
    match minor {
        Some(0) => "1.0",
        _ => "1.1",
    }
}

fn fields<'h>(
    headers: &'h [httparse::Header<'_>],
) -> impl Iterator<Item = (&'h str, &'h [u8])> + Clone {
    headers.iter().map(|h| (h.name, h.value))
}

fn collect(headers: &[httparse::Header<'_>]) -> Headers {
    Headers::from_fields(fields(headers))
}

/// A parsed head, what is irregular about it (its framing's flags included), and the body
/// framing its fields declare.
pub type Parsed = (Head, Flags, BodyFraming);

/// Parses a complete head (`head` ends with the blank line). Returns the flags found too.
pub fn parse(head: &[u8], request: bool) -> Result<Parsed, Flags> {
    // The usual head: CRLF everywhere, no leading empty line, and httparse (strict by default)
    // accepts it as it is. Then `anomalies` has nothing to find: httparse refuses folded lines
    // and whitespace before a colon, which are all it looks for besides bare LFs. Anything else
    // takes the full path below, which gives the same answer for these heads, in two passes.
    if !matches!(head.first(), Some(b'\r' | b'\n'))
        && let Ok(parsed) = parse_normal(head, request, Flags::empty(), true)
    {
        return Ok(parsed);
    }
    parse_irregular(head, request)
}

/// `parse` for any head: irregularities flagged, then the head normalised and parsed.
fn parse_irregular(head: &[u8], request: bool) -> Result<Parsed, Flags> {
    let flags = anomalies(head, request);
    let bytes: Cow<'_, [u8]> = if flags.is_empty() {
        Cow::Borrowed(head)
    } else {
        Cow::Owned(normalise(head, request))
    };
    // Leading empty lines before a request-line are allowed (RFC 9112 §2.2).
    let start = bytes
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(0);
    parse_normal(&bytes[start..], request, flags, false)
}

/// Parses a head with CRLF line ends and no leading empty line; `flags` are those found so far.
/// `check_crlf`: the line ends are not known to be CRLF; a head with another is refused
/// (an `Err` without meaning: the caller takes the full path).
fn parse_normal(
    bytes: &[u8],
    request: bool,
    flags: Flags,
    check_crlf: bool,
) -> Result<Parsed, Flags> {
    let invalid = flags.with(Flag::InvalidHead);
    if request {
        // Left uninitialised: httparse fills what it returns (requests have this entry point).
        let mut storage = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        match req.parse_with_uninit_headers(bytes, &mut storage) {
            Ok(httparse::Status::Complete(n))
                if !check_crlf || crlf_lines(bytes, n, req.headers) => {}
            Ok(httparse::Status::Complete(_)) => return Err(flags),
            Err(httparse::Error::TooManyHeaders) => return Err(flags.with(Flag::HeaderTooLarge)),
            _ => return Err(invalid),
        }
        let (Some(method), Some(target)) = (req.method, req.path) else {
            return Err(invalid);
        };
        let (framing, mut framing_flags) = declared_framing(fields(req.headers), true);
        // httparse takes a target of any UTF-8 text: raw non-ASCII is a strict parser's error.
        if !target.is_ascii() {
            framing_flags.set(Flag::NonAsciiTarget);
        }
        Ok((
            Head::Request(RequestHead {
                method: method_text(method),
                target: target.to_owned(),
                version: version(req.version),
                headers: collect(req.headers),
            }),
            flags.union(framing_flags),
            framing,
        ))
    } else {
        // Left uninitialised too (through the config: `Response` has no such entry point).
        let mut storage = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut res = httparse::Response::new(&mut []);
        match httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut res,
            bytes,
            &mut storage,
        ) {
            Ok(httparse::Status::Complete(n))
                if !check_crlf || crlf_lines(bytes, n, res.headers) => {}
            Ok(httparse::Status::Complete(_)) => return Err(flags),
            Err(httparse::Error::TooManyHeaders) => return Err(flags.with(Flag::HeaderTooLarge)),
            _ => return Err(invalid),
        }
        let Some(status) = res.code else {
            return Err(invalid);
        };
        let (framing, framing_flags) = declared_framing(fields(res.headers), false);
        Ok((
            Head::Response(ResponseHead {
                status,
                reason: reason_text(status, res.reason.unwrap_or("")),
                version: version(res.version),
                headers: collect(res.headers),
            }),
            flags.union(framing_flags),
            framing,
        ))
    }
}

/// A method as text: the registered ones (nearly every request) as static text, so a request
/// costs no allocation for its method; any other token is copied.
pub(crate) fn method_text(method: &str) -> Cow<'static, str> {
    const KNOWN: [&str; 20] = [
        "GET",
        "POST",
        "PUT",
        "DELETE",
        "HEAD",
        "OPTIONS",
        "PATCH",
        "CONNECT",
        "TRACE",
        "PROPFIND",
        "PROPPATCH",
        "MKCOL",
        "COPY",
        "MOVE",
        "LOCK",
        "UNLOCK",
        "REPORT",
        "SEARCH",
        "PURGE",
        "QUERY",
    ];
    // Methods are case-sensitive: only an exact match is the static one.
    match KNOWN.iter().find(|known| **known == method) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(method.to_owned()),
    }
}

/// A reason phrase as text: the standard phrase of its status (what nearly every response
/// sends) as static text, so a response costs no allocation for it; any other is copied.
pub(crate) fn reason_text(status: u16, reason: &str) -> Cow<'static, str> {
    let standard = standard_reason(status);
    if reason == standard {
        Cow::Borrowed(standard)
    } else {
        Cow::Owned(reason.to_owned())
    }
}

/// The standard reason phrase of a status, or empty text for a status without one here.
pub(crate) fn standard_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Whether a head httparse read whole (`parsed` bytes of `bytes`) ends every line with CRLF.
/// Every LF in such a head ends a line (httparse takes no LF inside a start line or a value), and
/// its lines are the start line, one per field (starting at the field's name: no folds), and the
/// blank line; so it is enough to look for the CR before each field line's LF, and at the end.
fn crlf_lines(bytes: &[u8], parsed: usize, fields: &[httparse::Header<'_>]) -> bool {
    let base = bytes.as_ptr() as usize;
    let cr_before = |line_start: usize| {
        line_start >= 2 && bytes.get(line_start - 2..line_start) == Some(b"\r\n")
    };
    parsed == bytes.len()
        && bytes.ends_with(b"\r\n")
        && cr_before(bytes.len() - 2)
        // A name is a slice of `bytes`: its address less the head's is where its line starts.
        && fields
            .iter()
            .all(|f| cr_before((f.name.as_ptr() as usize).wrapping_sub(base)))
}

/// How a message's body is delimited, from its own header fields (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
    /// The framing cannot be known: parsing this direction must stop after the head.
    Ambiguous,
}

/// The framing a message declares, with the flags for what is ambiguous about it, from its
/// fields (names in any case). `request`: requests without a length have no body; responses run
/// until close. Taken from the parser's fields, before they are copied: a second walk over the
/// copied ones cost more than this one.
pub fn declared_framing<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    request: bool,
) -> (BodyFraming, Flags) {
    let mut flags = Flags::empty();
    // One pass over the fields: this runs for every message. Most names are of another length
    // than both, and are not compared at all.
    let mut last_te = None;
    let mut cl = ContentLength::Absent;
    for (name, value) in fields {
        let name = name.as_bytes();
        if name.len() == 17 && name.eq_ignore_ascii_case(b"transfer-encoding") {
            last_te = Some(value);
        } else if name.len() == 14 && name.eq_ignore_ascii_case(b"content-length") {
            cl.add(value);
        }
    }
    let cl = match cl {
        ContentLength::Absent => None,
        ContentLength::Value(n) => Some(n),
        ContentLength::Refused(flag) => {
            flags.set(flag);
            None
        }
    };
    if let Some(last_te) = last_te {
        if cl.is_some() || flags.contains(Flag::ConflictingContentLength) {
            flags.set(Flag::ContentLengthWithTransferEncoding);
        }
        // The last coding of the last field must be chunked for the length to be known.
        let last = last_te
            .rsplit(|&b| b == b',')
            .next()
            .map(|c| c.trim_ascii())
            .unwrap_or(b"");
        if last.eq_ignore_ascii_case(b"chunked") {
            return (BodyFraming::Chunked, flags);
        }
        if request {
            flags.set(Flag::UnsupportedTransferEncoding);
            return (BodyFraming::Ambiguous, flags);
        }
        return (BodyFraming::UntilClose, flags);
    }
    match cl {
        Some(n) => (BodyFraming::Length(n), flags),
        None if flags.contains(Flag::ConflictingContentLength)
            || flags.contains(Flag::InvalidContentLength) =>
        {
            (BodyFraming::Ambiguous, flags)
        }
        None if request => (BodyFraming::None, flags),
        None => (BodyFraming::UntilClose, flags),
    }
}

/// The Content-Length fields seen so far: the one value every field (and list member) agrees
/// on, or why there is none. The first refusal stands: later fields are not looked at.
enum ContentLength {
    Absent,
    Value(u64),
    Refused(Flag),
}

impl ContentLength {
    fn add(&mut self, field: &[u8]) {
        for member in field.split(|&b| b == b',') {
            let n = match (digits(member.trim_ascii()), &*self) {
                (_, ContentLength::Refused(_)) => return,
                (None, _) => {
                    *self = ContentLength::Refused(Flag::InvalidContentLength);
                    return;
                }
                (Some(n), ContentLength::Value(v)) if n != *v => {
                    *self = ContentLength::Refused(Flag::ConflictingContentLength);
                    return;
                }
                (Some(n), _) => n,
            };
            *self = ContentLength::Value(n);
        }
    }
}

/// 1 to 19 ASCII digits (so it fits a u64) as a number.
fn digits(member: &[u8]) -> Option<u64> {
    if member.is_empty() || member.len() > 19 {
        return None;
    }
    member.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end() {
        assert_eq!(find_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest", 0), Some(24));
        assert_eq!(find_end(b"GET / HTTP/1.1\nA: b\n\nrest", 0), Some(21));
        assert_eq!(find_end(b"GET / HTTP/1.1\r\nA: b\r\n", 0), None);
        assert_eq!(find_end(b"GET / HTTP/1.1\r\nA: b\r\n\r", 0), None);
        // Resuming the scan near the end still finds a terminator split across pushes.
        assert_eq!(find_end(b"GET / HTTP/1.1\r\n\r\n", 16), Some(18));
    }

    #[test]
    fn flags_irregular_syntax_and_still_parses() {
        let head = b"GET / HTTP/1.1\nHost : a\r\nX: 1\r\n  2\r\n\r\n";
        let (h, flags, _) = parse(head, true).unwrap();
        assert!(flags.contains(Flag::BareLf));
        assert!(flags.contains(Flag::WhitespaceBeforeColon));
        assert!(flags.contains(Flag::ObsFold));
        assert_eq!(h.headers().get_str("host"), Some("a"));
        assert_eq!(h.headers().get_str("x"), Some("1 2"));
    }

    #[test]
    fn heads_with_many_lines_parse_up_to_the_limit() {
        for request in [true, false] {
            let start = if request {
                "GET / HTTP/1.1\r\n"
            } else {
                "HTTP/1.1 200 OK\r\n"
            };
            let head = |lines: usize| {
                let mut head = String::from(start);
                for i in 0..lines {
                    head.push_str(&format!("X-{i}: {i}\r\n"));
                }
                head + "\r\n"
            };
            let (h, flags, _) = parse(head(MAX_HEADERS).as_bytes(), request).unwrap();
            assert!(flags.is_empty(), "{flags:?}");
            assert_eq!(h.headers().len(), MAX_HEADERS);
            assert_eq!(h.headers().get_str("x-255"), Some("255"));
            let flags = parse(head(MAX_HEADERS + 1).as_bytes(), request).unwrap_err();
            assert!(flags.contains(Flag::HeaderTooLarge), "{flags:?}");
        }
    }

    proptest::proptest! {
        /// The shortcut for regular heads gives what the full path gives, for heads mixing
        /// regular and irregular lines.
        #[test]
        fn regular_heads_parse_as_the_full_path_parses_them(
            request in proptest::bool::ANY,
            lines in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Host: a", "X-Y: 1, 2", "A:b", "Empty:", "B: c ", "  folded", "\tfolded",
                    "Sp : x", "Bad\u{1}: x", "NoColon", "X: a:b", "",
                ]),
                0..6,
            ),
            ends in proptest::collection::vec(
                proptest::sample::select(vec!["\r\n", "\n", "\r\r\n"]),
                8,
            ),
            leading in proptest::sample::select(vec!["", "\r\n", "\n"]),
            odd_start in proptest::bool::ANY,
        ) {
            let start = match (request, odd_start) {
                (true, false) => "GET /p?q HTTP/1.1",
                (true, true) => "GET /caf\u{e9}?q HTTP/1.2",
                (false, false) => "HTTP/1.1 200 OK",
                (false, true) => "HTTP/1 200 \u{e9}",
            };
            let mut head = String::from(leading);
            for (i, line) in std::iter::once(&start).chain(&lines).enumerate() {
                head.push_str(line);
                head.push_str(ends[i % ends.len()]);
            }
            head.push_str(ends[7]);
            let head = head.as_bytes();
            // Only complete heads reach `parse`: cut at the end the reader would find.
            let head = &head[..find_end(head, 0).unwrap_or(head.len())];
            proptest::prop_assert_eq!(parse(head, request), parse_irregular(head, request));
        }
    }

    #[test]
    fn framing_rules() {
        let mut h = Headers::default();
        h.push("Content-Length", b"5");
        h.push("Transfer-Encoding", b"chunked");
        let (f, flags) = declared_framing(h.iter(), true);
        assert_eq!(f, BodyFraming::Chunked);
        assert!(flags.contains(Flag::ContentLengthWithTransferEncoding));

        let mut h = Headers::default();
        h.push("Content-Length", b"5");
        h.push("content-length", b"6");
        let (f, flags) = declared_framing(h.iter(), true);
        assert_eq!(f, BodyFraming::Ambiguous);
        assert!(flags.contains(Flag::ConflictingContentLength));

        let mut h = Headers::default();
        h.push("Content-Length", b"5, 5");
        assert_eq!(declared_framing(h.iter(), true).0, BodyFraming::Length(5));

        let mut h = Headers::default();
        h.push("Content-Length", b"-1");
        let (f, flags) = declared_framing(h.iter(), false);
        assert_eq!(f, BodyFraming::Ambiguous);
        assert!(flags.contains(Flag::InvalidContentLength));

        let mut h = Headers::default();
        h.push("Transfer-Encoding", b"gzip");
        assert_eq!(declared_framing(h.iter(), true).0, BodyFraming::Ambiguous);
        assert_eq!(declared_framing(h.iter(), false).0, BodyFraming::UntilClose);
        assert_eq!(
            declared_framing(Headers::default().iter(), true).0,
            BodyFraming::None
        );
        assert_eq!(
            declared_framing(Headers::default().iter(), false).0,
            BodyFraming::UntilClose
        );
    }
}
