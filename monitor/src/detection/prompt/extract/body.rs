//! Bodies as they come off the wire: JSON that may be cut short (repaired to its complete
//! members, the cut tail kept as text), server-sent events, NDJSON lines, and the string
//! literals of a body that is not valid JSON at all. Bounded and panic-free on any bytes.

use std::borrow::Cow;

use serde_json::Value;

/// Containers nested deeper than this are not repaired (serde_json refuses past 128 anyway).
const MAX_DEPTH: usize = 128;
/// Events or lines read from one stream.
pub const MAX_EVENTS: usize = 4096;
/// String literals harvested from a body that is not JSON.
const MAX_STRINGS: usize = 512;

/// A body read as JSON.
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    /// The document, or its complete part when the body was cut.
    pub value: Option<Value>,
    /// Bytes the value does not cover: the cut tail, or the whole body when it is not JSON.
    pub rest: &'a [u8],
}

pub fn parse(bytes: &[u8]) -> Parsed<'_> {
    let trimmed = bytes.trim_ascii();
    if !matches!(trimmed.first(), Some(b'{' | b'[')) {
        return Parsed {
            value: None,
            rest: trimmed,
        };
    }
    match serde_json::from_slice::<Value>(trimmed) {
        Ok(value) => Parsed {
            value: Some(value),
            rest: &[],
        },
        Err(e) if e.is_eof() => match repair(trimmed) {
            Some((value, end)) => Parsed {
                value: Some(value),
                rest: trimmed.get(end..).unwrap_or(&[]),
            },
            None => Parsed {
                value: None,
                rest: trimmed,
            },
        },
        Err(_) => Parsed {
            value: None,
            rest: trimmed,
        },
    }
}

/// Cuts a truncated document after its last complete member or element and closes what is
/// open (as discovery does for the same bodies); also says where the cut was.
fn repair(bytes: &[u8]) -> Option<(Value, usize)> {
    let mut stack: Vec<u8> = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    let mut cut = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                if stack.len() == MAX_DEPTH {
                    return None;
                }
                stack.push(if b == b'{' { b'}' } else { b']' });
                cut = Some((i + 1, stack.len()));
            }
            b'}' | b']' => {
                stack.pop()?;
                cut = Some((i + 1, stack.len()));
            }
            b',' => cut = Some((i, stack.len())),
            _ => {}
        }
    }
    let (end, depth) = cut?;
    let mut text = Vec::with_capacity(end + depth);
    text.extend_from_slice(bytes.get(..end)?);
    text.extend(stack.get(..depth)?.iter().rev());
    serde_json::from_slice(&text).ok().map(|v| (v, end))
}

/// Whether a body is a stream of server-sent events.
pub fn is_sse(body: &[u8], content_type: Option<&str>) -> bool {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("event-stream") {
        return true;
    }
    let body = body.trim_ascii_start();
    !ct.contains("json")
        && [&b"data:"[..], b"event:", b"id:", b": "]
            .iter()
            .any(|p| body.starts_with(p))
}

/// Whether a body is NDJSON: said so, or several objects one per line.
pub fn is_ndjson(body: &[u8], content_type: Option<&str>) -> bool {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("ndjson") || ct.contains("jsonl") {
        return true;
    }
    let body = body.trim_ascii();
    body.first() == Some(&b'{')
        && memchr::memchr_iter(b'\n', body).take(MAX_EVENTS).any(|at| {
            let before = body.get(..at).unwrap_or(&[]);
            let before = before.strip_suffix(b"\r").unwrap_or(before);
            before.ends_with(b"}") && body.get(at + 1) == Some(&b'{')
        })
}

/// The data of each server-sent event (its `data:` lines joined by newlines), in order; a body
/// cut inside an event still yields what that event holds.
pub fn sse_data(body: &[u8]) -> Vec<Cow<'_, [u8]>> {
    let mut out = Vec::new();
    let mut data: Option<Cow<'_, [u8]>> = None;
    for line in body.split(|&b| b == b'\n').take(MAX_EVENTS * 4) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if let Some(d) = data.take() {
                out.push(d);
                if out.len() >= MAX_EVENTS {
                    return out;
                }
            }
            continue;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = line.get(i + 1..).unwrap_or(&[]);
                (
                    line.get(..i).unwrap_or(&[]),
                    v.strip_prefix(b" ").unwrap_or(v),
                )
            }
            None => (line, &[][..]),
        };
        if field != b"data" {
            continue;
        }
        match &mut data {
            None => data = Some(Cow::Borrowed(value)),
            Some(joined) => {
                let joined = joined.to_mut();
                joined.push(b'\n');
                joined.extend_from_slice(value);
            }
        }
    }
    out.extend(data);
    out
}

/// The non-blank lines of an NDJSON body.
pub fn ndjson_lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .take(MAX_EVENTS)
}

/// The string literals of something JSON-like that did not parse (a cut tail, a body with a
/// syntax error), unescaped leniently; an unterminated last string is kept. Object keys —
/// literals followed by `:` — are skipped. Text that is not JSON at all is returned whole.
pub fn harvest(bytes: &[u8]) -> Vec<String> {
    let looks_json = matches!(
        bytes.trim_ascii_start().first(),
        Some(b'{' | b'[' | b'"' | b',')
    ) || bytes.contains(&b'"') && bytes.contains(&b':');
    if !looks_json {
        let text = String::from_utf8_lossy(bytes);
        return if text.trim().is_empty() {
            Vec::new()
        } else {
            vec![text.into_owned()]
        };
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() && out.len() < MAX_STRINGS {
        if bytes.get(i) != Some(&b'"') {
            i += 1;
            continue;
        }
        let (text, end) = unescape(bytes, i + 1);
        i = end + 1;
        let after = bytes.get(i..).unwrap_or(&[]).trim_ascii_start();
        if after.first() == Some(&b':') {
            continue;
        }
        if !text.trim().is_empty() {
            out.push(text);
        }
    }
    out
}

/// The string starting at `from` (after its opening quote), and the index of its closing
/// quote (or the end).
fn unescape(bytes: &[u8], from: usize) -> (String, usize) {
    let mut out: Vec<u8> = Vec::new();
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => break,
            b'\\' => {
                let esc = bytes.get(i + 1).copied();
                i += 2;
                match esc {
                    Some(b'n') => out.push(b'\n'),
                    Some(b't') => out.push(b'\t'),
                    Some(b'r') => out.push(b'\r'),
                    Some(b'b' | b'f') => out.push(b' '),
                    Some(b'u') => {
                        let (c, used) = unicode_escape(bytes, i);
                        i += used;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    Some(other) => out.push(other),
                    None => {}
                }
                continue;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    (String::from_utf8_lossy(&out).into_owned(), i)
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = std::str::from_utf8(bytes.get(at..at + 4)?).ok()?;
    u32::from_str_radix(digits, 16).ok()
}

/// `\uXXXX` (with a surrogate pair's second half); the character and the bytes read after `u`.
fn unicode_escape(bytes: &[u8], at: usize) -> (char, usize) {
    let Some(first) = hex4(bytes, at) else {
        return ('\u{fffd}', 0);
    };
    if (0xD800..0xDC00).contains(&first)
        && bytes.get(at + 4..at + 6) == Some(b"\\u")
        && let Some(second) = hex4(bytes, at + 6)
        && (0xDC00..0xE000).contains(&second)
    {
        let cp = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
        return (char::from_u32(cp).unwrap_or('\u{fffd}'), 10);
    }
    (char::from_u32(first).unwrap_or('\u{fffd}'), 4)
}

/// Each event or line as JSON, when it is (a cut last one repaired), and the strings of what
/// did not parse (the cut tail of the last event, usually).
pub fn json_values<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> (Vec<Value>, Vec<String>) {
    let mut values = Vec::new();
    let mut tails = Vec::new();
    for chunk in chunks.take(MAX_EVENTS) {
        let parsed = parse(chunk);
        if let Some(v) = parsed.value {
            values.push(v);
            if !parsed.rest.trim_ascii().is_empty() {
                tails.extend(harvest(parsed.rest));
            }
        } else if matches!(chunk.trim_ascii().first(), Some(b'{' | b'[')) {
            tails.extend(harvest(chunk));
        }
        if tails.len() > MAX_STRINGS {
            tails.truncate(MAX_STRINGS);
        }
    }
    (values, tails)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cut_json_keeps_its_complete_part_and_its_tail() {
        let p = parse(b"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"user\",\"content\":\"ignore all prev");
        assert_eq!(
            p.value,
            Some(json!({"messages":[{"role":"user","content":"hi"},{"role":"user"}]}))
        );
        assert_eq!(harvest(p.rest), ["ignore all prev"]);
        let p = parse(b"not json at all");
        assert!(p.value.is_none());
        assert_eq!(harvest(p.rest), ["not json at all"]);
    }

    #[test]
    fn strings_are_unescaped_leniently() {
        assert_eq!(
            harvest(br#"{"a": "x\ny \"q\" \u00e9 \ud83d\ude00 \u200b", "b": 3, "c": "\uZZ"#),
            ["x\ny \"q\" é 😀 \u{200b}", "\u{fffd}ZZ"]
        );
    }

    #[test]
    fn sse_events_join_their_data_lines() {
        let body =
            b"event: message\ndata: {\"a\":1}\n\n: ping\ndata: one\ndata: two\n\ndata: {\"cut";
        let got: Vec<Vec<u8>> = sse_data(body).into_iter().map(Cow::into_owned).collect();
        assert_eq!(
            got,
            [
                b"{\"a\":1}".to_vec(),
                b"one\ntwo".to_vec(),
                b"{\"cut".to_vec()
            ]
        );
        assert!(is_sse(b"data: x", None));
        assert!(!is_sse(b"{}", Some("application/json")));
    }

    #[test]
    fn ndjson_is_recognised() {
        assert!(is_ndjson(b"{\"a\":1}\n{\"a\":2}", None));
        assert!(!is_ndjson(b"{\n \"a\": 1\n}", None));
        assert_eq!(ndjson_lines(b"{}\n\n {} \n").count(), 2);
    }
}
