//! `application/x-www-form-urlencoded` bodies: `name=value` pairs, percent-decoded, merged as
//! the properties of one object.

use std::borrow::Cow;

use percent_encoding::percent_decode;

use super::node::{Merge, Node, OBJECT};

/// Merges one form body into `root`. Keys repeated within a body (`tag=a&tag=b`) are more
/// values of the same property, not an array: forms have no arrays of their own.
pub(super) fn merge_form(root: &mut Node, body: &[u8], m: &mut Merge) {
    root.seen += 1;
    root.types |= OBJECT;
    let object = root.object.get_or_insert_default();
    object.count += 1;
    for pair in body.split(|&b| b == b'&') {
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[..0]),
        };
        let key = decode(key);
        if key.is_empty() {
            continue;
        }
        let value = decode(value);
        match object.form_child(&key, m) {
            Some(child) => child.merge_form_value(&value, &key, m),
            None => root.truncated = true,
        }
    }
}

/// Percent-decoding with `+` as space; invalid UTF-8 is replaced rather than rejected.
fn decode(raw: &[u8]) -> Cow<'_, str> {
    if raw.contains(&b'+') {
        let spaced: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        Cow::Owned(percent_decode(&spaced).decode_utf8_lossy().into_owned())
    } else {
        percent_decode(raw).decode_utf8_lossy()
    }
}
