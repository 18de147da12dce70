//! Newline-delimited JSON (application/x-ndjson, Ollama's streaming format): one document per
//! line. Splitting only; each line is parsed by whoever reads it.

/// The non-blank lines of `body`, trimmed; the last one may be cut short.
pub fn lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|line| !line.is_empty())
}

/// Whether a body that starts like one JSON object holds several, one per line: `}` ending a
/// line and `{` starting the next is what separates documents. A pretty-printed single object
/// never puts `{` first on a line after a `}` that ends one.
pub fn looks_like_ndjson(body: &[u8]) -> bool {
    let body = body.trim_ascii();
    // `}\n{` or `}\r\n{`, found from the newlines: a compact JSON body has none, and one
    // memchr pass costs less than building two substring searchers on every response.
    body.first() == Some(&b'{')
        && memchr::memchr_iter(b'\n', body).any(|at| {
            let before = &body[..at];
            let before = before.strip_suffix(b"\r").unwrap_or(before);
            before.ends_with(b"}") && body.get(at + 1) == Some(&b'{')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_and_blank_ones_skipped() {
        let got: Vec<&[u8]> = lines(b"{\"a\":1}\r\n\n  {\"b\":2}\n{\"c\"").collect();
        assert_eq!(got, [&b"{\"a\":1}"[..], b"{\"b\":2}", b"{\"c\""]);
    }

    #[test]
    fn several_objects_on_lines_are_ndjson_one_pretty_object_is_not() {
        assert!(looks_like_ndjson(b"{\"a\":1}\n{\"a\":2}\n"));
        assert!(looks_like_ndjson(b"{\"a\":1}\r\n{\"a\":"));
        assert!(!looks_like_ndjson(b"{\n  \"a\": {\n    \"b\": 1\n  }\n}\n"));
        assert!(!looks_like_ndjson(b"[{\"a\":1}\n{\"a\":2}]"));
        assert!(looks_like_ndjson(b"{\"a\":1}\r\n{\"a\":2}"));
        assert!(!looks_like_ndjson(b"{\"a\":1}\r\r\n{\"a\":2}"));
        assert!(!looks_like_ndjson(b"{\"a\":1}\n {\"a\":2}"));
        assert!(!looks_like_ndjson(b"{\"a\":\"}\n\"}"));
        assert!(!looks_like_ndjson(b"{\n{"));
    }
}
