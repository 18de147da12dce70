//! JSON from bodies that may have been cut short: a capture limit or a gap ends a body anywhere,
//! and the fields that say what an exchange is (model, usage) are still worth reading.

use serde_json::Value;

/// Containers nested deeper than this are not repaired (serde_json refuses past 128 anyway).
const MAX_DEPTH: usize = 128;

/// The JSON value `bytes` holds; when the text ends early, the value made of every member and
/// element that was complete, with the open containers closed. `None` for anything that is not
/// an object or an array, and for text that is wrong before it ends.
pub fn parse_prefix(bytes: &[u8]) -> Option<Value> {
    let bytes = bytes.trim_ascii();
    if !matches!(bytes.first(), Some(b'{' | b'[')) {
        return None;
    }
    match serde_json::from_slice(bytes) {
        Ok(value) => Some(value),
        Err(e) if e.is_eof() => repair(bytes),
        Err(_) => None,
    }
}

/// Cuts a truncated document after its last complete member or element and closes what is
/// open. A cut is taken after `{`, `[`, `}` and `]`, and before `,`: there the text so far in
/// the innermost container is whole, and scalars before a `,` cannot have lost digits. Every
/// push and pop of the container stack takes a cut, so the stack at the end is the stack at
/// the last cut.
fn repair(bytes: &[u8]) -> Option<Value> {
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
    serde_json::from_slice(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_documents_parse_as_they_are() {
        assert_eq!(parse_prefix(b" {\"a\":[1,2]} \n"), Some(json!({"a":[1,2]})));
        assert_eq!(parse_prefix(b"[]"), Some(json!([])));
    }

    #[test]
    fn cut_documents_keep_their_complete_members() {
        let cases: &[(&[u8], Value)] = &[
            (
                b"{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hel",
                json!({"model":"gpt-4o","messages":[{"role":"user"}]}),
            ),
            (b"{\"a\":12", json!({})),
            (b"{\"a\":12,", json!({"a":12})),
            (b"{\"a\":{\"b\":[1,2,3", json!({"a":{"b":[1,2]}})),
            (b"{\"a\":\"x,}]\\\"y", json!({})),
            (b"[{\"x\":1},{\"y\":", json!([{"x":1},{}])),
            (b"{", json!({})),
            (b"{\"k\"", json!({})),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_prefix(text).as_ref(),
                Some(want),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn what_is_not_json_is_refused() {
        assert_eq!(parse_prefix(b"hello"), None);
        assert_eq!(parse_prefix(b"\"str\""), None);
        assert_eq!(parse_prefix(b"{\"a\":1}}"), None);
        assert_eq!(parse_prefix(b"{\"a\" 1,"), None);
        assert_eq!(parse_prefix(b""), None);
    }
}
