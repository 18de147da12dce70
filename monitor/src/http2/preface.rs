//! The client connection preface (RFC 9113 §3.4): how an HTTP/2 connection's first bytes look.

/// What every HTTP/2 client sends first, before its SETTINGS frame.
pub const CLIENT_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preface {
    /// The whole preface is there.
    Complete,
    /// What is there is a prefix of it: more bytes decide.
    Partial,
    /// Not an HTTP/2 client's start.
    Absent,
}

/// Whether `bytes`, a client's first bytes, start with the preface.
pub fn detect(bytes: &[u8]) -> Preface {
    let n = bytes.len().min(CLIENT_PREFACE.len());
    if bytes[..n] != CLIENT_PREFACE[..n] {
        Preface::Absent
    } else if n == CLIENT_PREFACE.len() {
        Preface::Complete
    } else {
        Preface::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_preface() {
        assert_eq!(detect(CLIENT_PREFACE), Preface::Complete);
        assert_eq!(
            detect(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04"),
            Preface::Complete
        );
        assert_eq!(detect(b"PRI * HT"), Preface::Partial);
        assert_eq!(detect(b""), Preface::Partial);
        assert_eq!(detect(b"GET / HTTP/1.1\r\n"), Preface::Absent);
    }
}
