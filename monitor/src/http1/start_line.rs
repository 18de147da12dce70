//! What a request-line looks like (RFC 9112 §3: method SP request-target SP HTTP-version), told
//! from its first bytes: how a reader knows a request starts here whatever its method is.

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

#[cfg(test)]
mod tests {
    use super::*;

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
