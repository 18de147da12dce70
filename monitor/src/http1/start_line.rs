//! Start lines. What a request-line looks like (RFC 9112 §3: method SP request-target SP
//! HTTP-version), told from its first bytes: how a reader knows a request starts here whatever
//! its method is; and what is irregular about a whole start line (its HTTP-version, raw
//! non-ASCII bytes in its target), with the line rewritten the way a lenient peer reads it.

use std::borrow::Cow;

use crate::transaction::{Flag, Flags};

/// Whether `b` may be part of a token (RFC 9110 §5.6.2), which is what a method is (§9.1).
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What the bytes at hand say about a request-line starting at their first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A token, a space, a target, a space and "HTTP/": a request-line (its version and target
    /// are checked when the head is parsed).
    RequestLine,
    /// Not a request-line.
    Other,
    /// A prefix of one: more bytes are needed to tell.
    Partial,
}

/// Whether `bytes` start with the shape of a request-line. The target is anything up to the
/// next space but a line end (the head parser judges its bytes); the version's name is matched
/// without regard to case, as lenient peers do (the head parser flags it).
pub fn request_line(bytes: &[u8]) -> Shape {
    let method = bytes.iter().take_while(|&&b| is_tchar(b)).count();
    match bytes.get(method) {
        None => return Shape::Partial,
        Some(b' ') if method > 0 => {}
        Some(_) => return Shape::Other,
    }
    let rest = &bytes[method + 1..];
    let target = rest
        .iter()
        .take_while(|&&b| !matches!(b, b' ' | b'\r' | b'\n'))
        .count();
    match rest.get(target) {
        None => return Shape::Partial,
        Some(b' ') if target > 0 => {}
        Some(_) => return Shape::Other,
    }
    let version = &rest[target + 1..];
    let n = version.len().min(5);
    if !version[..n].eq_ignore_ascii_case(&b"HTTP/"[..n]) {
        Shape::Other
    } else if n < 5 {
        Shape::Partial
    } else {
        Shape::RequestLine
    }
}

/// The parts of a start line (without its line end): a request-line's target and version
/// (method SP target SP version; the target is what lies between the first and the last space),
/// or a status-line's version (up to its first space).
struct Parts<'a> {
    target: Option<&'a [u8]>,
    version: &'a [u8],
}

fn parts(line: &[u8], request: bool) -> Option<Parts<'_>> {
    if request {
        let first = memchr::memchr(b' ', line)?;
        let last = memchr::memrchr(b' ', line)?;
        (last > first).then(|| Parts {
            target: Some(&line[first + 1..last]),
            version: &line[last + 1..],
        })
    } else {
        let end = memchr::memchr(b' ', line).unwrap_or(line.len());
        Some(Parts {
            target: None,
            version: &line[..end],
        })
    }
}

/// How an HTTP-version is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// "HTTP/1.0" or "HTTP/1.1" exactly.
    Valid,
    /// Not one of those, but HTTP/1 by its name and major version ("HTTP/1.2", "HTTP/1",
    /// "http/1.1", "HTTP/1.10"): read as this one, and flagged. A higher minor version is read
    /// as 1.1, what RFC 9110 §2.5 asks of a recipient.
    Lenient(&'static [u8]),
    /// Another major version or no version at all: not an HTTP/1 message, left to be refused.
    Other,
}

fn version(v: &[u8]) -> Version {
    if v == b"HTTP/1.0" || v == b"HTTP/1.1" {
        return Version::Valid;
    }
    let major_one = v.len() >= 6
        && v[..5].eq_ignore_ascii_case(b"HTTP/")
        && v[5] == b'1'
        && v.get(6).is_none_or(|&b| b == b'.');
    if !major_one {
        Version::Other
    } else if v[5..] == *b"1.0" {
        Version::Lenient(b"HTTP/1.0")
    } else {
        Version::Lenient(b"HTTP/1.1")
    }
}

/// What is irregular about a start line (without its line end): `invalid_version` (RFC 9112
/// §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, and only 1.0 and 1.1 are HTTP/1),
/// `non_ascii_target` (RFC 9112 §3.2: a request-target is ASCII; raw bytes above 0x7F are sent
/// by lenient clients and refused by strict servers).
pub fn anomalies(line: &[u8], request: bool) -> Flags {
    let mut flags = Flags::empty();
    let Some(p) = parts(line, request) else {
        return flags;
    };
    if matches!(version(p.version), Version::Lenient(_)) {
        flags.set(Flag::InvalidVersion);
    }
    if p.target.is_some_and(|t| !t.is_ascii()) {
        flags.set(Flag::NonAsciiTarget);
    }
    flags
}

/// The start line as a lenient peer reads it: an HTTP/1 version that is not written as one
/// rewritten as the one it is read as, and bytes of the target that are not UTF-8
/// percent-encoded (the target is text from here on; valid UTF-8 stays as it was sent).
pub fn normalise(line: &[u8], request: bool) -> Cow<'_, [u8]> {
    let Some(p) = parts(line, request) else {
        return Cow::Borrowed(line);
    };
    let new_version = match version(p.version) {
        Version::Lenient(v) => Some(v),
        _ => None,
    };
    let bad_target = p.target.filter(|t| std::str::from_utf8(t).is_err());
    if new_version.is_none() && bad_target.is_none() {
        return Cow::Borrowed(line);
    }
    // Offsets of the parts in `line`: both are slices of it.
    let offset = |part: &[u8]| part.as_ptr() as usize - line.as_ptr() as usize;
    let version_at = offset(p.version);
    let mut out = Vec::with_capacity(line.len() + 16);
    match bad_target {
        Some(target) => {
            let at = offset(target);
            out.extend_from_slice(&line[..at]);
            for chunk in target.utf8_chunks() {
                out.extend_from_slice(chunk.valid().as_bytes());
                for &b in chunk.invalid() {
                    out.extend_from_slice(format!("%{b:02X}").as_bytes());
                }
            }
            out.extend_from_slice(&line[at + target.len()..version_at]);
        }
        None => out.extend_from_slice(&line[..version_at]),
    }
    out.extend_from_slice(new_version.unwrap_or(p.version));
    out.extend_from_slice(&line[version_at + p.version.len()..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let flags = |l: &[u8], req| anomalies(l, req).iter().map(Flag::name).collect::<Vec<_>>();
        for (line, req, flagged, read) in [
            (&b"GET / HTTP/1.1"[..], true, false, &b"GET / HTTP/1.1"[..]),
            (b"GET / HTTP/1.2", true, true, b"GET / HTTP/1.1"),
            (b"GET / HTTP/1.10", true, true, b"GET / HTTP/1.1"),
            (b"GET / HTTP/1", true, true, b"GET / HTTP/1.1"),
            (b"GET / http/1.0", true, true, b"GET / HTTP/1.0"),
            (b"GET / HTTP/2.0", true, false, b"GET / HTTP/2.0"),
            (b"GET / HTTP/10.0", true, false, b"GET / HTTP/10.0"),
            (b"GET / FTP/1.1", true, false, b"GET / FTP/1.1"),
            (b"HTTP/1.2 200 OK", false, true, b"HTTP/1.1 200 OK"),
            (b"HTTP/1 200 OK", false, true, b"HTTP/1.1 200 OK"),
            (b"HTTP/1.0 200 OK", false, false, b"HTTP/1.0 200 OK"),
        ] {
            let want: &[&str] = if flagged { &["invalid_version"] } else { &[] };
            assert_eq!(flags(line, req), want, "{line:?}");
            assert_eq!(&normalise(line, req)[..], read, "{line:?}");
        }
    }

    #[test]
    fn non_ascii_targets() {
        let line = b"GET /caf\xc3\xa9?q=\xe9\xff HTTP/1.2";
        assert_eq!(
            anomalies(line, true),
            Flags::empty()
                .with(Flag::NonAsciiTarget)
                .with(Flag::InvalidVersion)
        );
        assert_eq!(
            &normalise(line, true)[..],
            "GET /caf\u{e9}?q=%E9%FF HTTP/1.1".as_bytes()
        );
        assert!(matches!(
            normalise(b"GET /caf\xc3\xa9 HTTP/1.1", true),
            Cow::Borrowed(_)
        ));
        // A status-line's reason phrase may hold any byte: it is no target.
        assert!(anomalies(b"HTTP/1.1 200 \xe9t\xe9", false).is_empty());
    }

    #[test]
    fn any_token_is_a_method() {
        for line in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"M-SEARCH * HTTP/1.1\r\n",
            b"LINK /x HTTP/1.1",
            b"UNLINK /x HTTP/1.1",
            b"SOURCE /stream HTTP/1.0",
            b"X-CUSTOM.v2~ /a?b HTTP/1.1",
            b"get /lowercase http/1.1",
            b"GET /caf\xc3\xa9 HTTP/1.1",
        ] {
            assert_eq!(request_line(line), Shape::RequestLine, "{line:?}");
        }
    }

    #[test]
    fn other_lines_are_not_request_lines() {
        for line in [
            &b"HTTP/1.1 200 OK\r\n"[..],
            b"GET\r\n",
            b"GET /\r\n",
            b" GET / HTTP/1.1",
            b"GE(T / HTTP/1.1",
            b"GET  / HTTP/1.1",
            b"EHLO mail.example.com\r\n",
            b"SET key value\r\n",
            b"\x16\x03\x01\x02\x00",
            b"GET / FTP/1.1",
        ] {
            assert_eq!(request_line(line), Shape::Other, "{line:?}");
        }
    }

    #[test]
    fn prefixes_need_more() {
        let line = b"M-SEARCH * HTTP/1.1";
        for n in 0..16 {
            assert_eq!(request_line(&line[..n]), Shape::Partial, "{n}");
        }
        assert_eq!(request_line(&line[..16]), Shape::RequestLine);
    }
}
