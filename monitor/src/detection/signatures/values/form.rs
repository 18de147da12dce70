//! `name=value&…` pairs (query strings and url-encoded forms) and `name=value; …` cookies.

use std::borrow::Cow;

use super::{Field, Sink, split, split_once};
use crate::detection::{hit::Part, signatures::decode, signatures::rules::Role};

/// Feeds each pair's value, and its name when the name is more than a plain identifier (an
/// injection in a parameter name), to `sink`.
pub fn pairs(text: &str, part: Part, sink: &mut impl Sink) -> bool {
    for pair in split(text, b'&').filter(|p| !p.is_empty()) {
        let (raw_name, value) = split_once(pair, b'=').unwrap_or((pair, ""));
        // A plain name has nothing to decode (no `%`, `+` or `&`): most names.
        let plain = plain_name(raw_name);
        let name: Cow<'_, str> = if plain {
            Cow::Borrowed(raw_name)
        } else {
            decode::decode(raw_name, true).text
        };
        if !plain && !plain_name(&name) {
            let field = Field {
                part,
                location: Some(&name),
                key: None,
                role: Role::Key,
            };
            if !sink.value(&field, raw_name) {
                return false;
            }
        }
        let field = Field {
            part,
            location: Some(&name),
            key: Some(&name),
            role: Role::Value,
        };
        if !value.is_empty() && !sink.value(&field, value) {
            return false;
        }
    }
    true
}

/// Names made of identifier characters (`page`, `filter[status]`, `utm.source`) carry nothing
/// to inspect.
pub fn plain_name(name: &str) -> bool {
    name.bytes().all(|b| NAME_BYTE[usize::from(b)])
}

/// The bytes of a plain name, as a table: every name of every request is read through it.
const NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']' | b' ');
        b += 1;
    }
    t
};

/// Each cookie of a `Cookie` header as its own value, named by the cookie.
pub fn cookies(header: &str, sink: &mut impl Sink) -> bool {
    for cookie in split(header, b';') {
        let cookie = cookie.trim();
        // A fragment without `=` (a value that held a `;`) is read too, without a name.
        let (name, value) = match split_once(cookie, b'=') {
            Some((name, value)) => (Some(name), value),
            None => (None, cookie),
        };
        let field = Field {
            part: Part::Cookie,
            location: name,
            key: name,
            role: Role::Value,
        };
        if !value.is_empty() && !sink.value(&field, value) {
            return false;
        }
    }
    true
}
