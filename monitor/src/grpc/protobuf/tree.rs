//! One protobuf message decoded without its schema into a JSON tree keyed by field number,
//! deciding for each length-delimited value whether it is a message, text or bytes.

use serde_json::{Map, Value};

use super::wire::{self, Raw, WireError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nesting levels decoded below the top message; deeper messages are shown as bytes.
    pub max_depth: usize,
    /// Values kept in the whole tree; later fields are read (to check the message) but dropped.
    pub max_fields: usize,
    /// Longest string kept, in bytes; longer ones are cut at a character boundary.
    pub max_string: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_fields: 1024,
            max_string: 4096,
        }
    }
}

/// The tree and what the limits or the wire did to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// An object: field number → value, or an array of values for a repeated field.
    pub value: Value,
    /// The top message stopped being readable here: `value` holds the fields before it.
    pub error: Option<WireError>,
    /// Fields not kept because `max_fields` was reached.
    pub dropped: u64,
    /// A nested message below `max_depth` was shown as bytes.
    pub depth_limited: bool,
    /// Strings cut to `max_string`.
    pub cut_strings: u64,
}

/// Decodes one message. Never fails and never panics: what cannot be read is reported in the
/// result. Work is linear in the message size times the depth, memory bounded by the limits.
///
/// A length-delimited value (wire type 2) becomes, in this order:
/// - `""` when empty;
/// - a string when it is printable UTF-8 (no control characters but tab, LF, CR) not starting
///   with tab, LF or CR;
/// - a nested object when it reads as a message to its last octet: every field number in
///   1..=2^29-1 and not reserved, only wire types 0, 1, 2 and 5 (no groups), every length in
///   bounds (a message starting with tab, LF or CR is field 1 of wire type 1, 2 or 5, the usual
///   start of a message, so it is not taken for text);
/// - a string when it is printable UTF-8 after all;
/// - else `"<bytes:N>"`: its length only, never its content.
///
/// Varints, fixed64 and fixed32 are unsigned numbers (the schema alone says whether they are
/// signed, zigzag, floating point or booleans). Packed repeated scalars are length-delimited,
/// so they appear as the rule above reads them.
pub fn decode(bytes: &[u8], limits: &Limits) -> Decoded {
    let mut d = Decoder {
        limits,
        counters: Counters::default(),
    };
    let (map, error) = d.message(bytes, 0);
    Decoded {
        value: Value::Object(map),
        error,
        dropped: d.counters.dropped,
        depth_limited: d.counters.depth_limited,
        cut_strings: d.counters.cut_strings,
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    kept: usize,
    dropped: u64,
    depth_limited: bool,
    cut_strings: u64,
}

struct Decoder<'l> {
    limits: &'l Limits,
    counters: Counters,
}

impl Decoder<'_> {
    /// The fields of `bytes` (a message at `depth`), and the error that stopped them, if any.
    fn message(
        &mut self,
        mut bytes: &[u8],
        depth: usize,
    ) -> (Map<String, Value>, Option<WireError>) {
        let mut map = Map::new();
        while !bytes.is_empty() {
            let field = match wire::read_field(&mut bytes) {
                Ok(field) => field,
                Err(e) => return (map, Some(e)),
            };
            if self.counters.kept >= self.limits.max_fields {
                self.counters.dropped += 1;
                continue;
            }
            self.counters.kept += 1;
            let value = match field.value {
                Raw::Varint(v) | Raw::I64(v) => Value::from(v),
                Raw::I32(v) => Value::from(v),
                Raw::Len(payload) => self.len(payload, depth),
            };
            insert(&mut map, field.number, value);
        }
        (map, None)
    }

    /// A length-delimited value inside a message at `depth`.
    fn len(&mut self, payload: &[u8], depth: usize) -> Value {
        if payload.is_empty() {
            return Value::String(String::new());
        }
        let text = printable(payload);
        if let Some(text) = text
            && !text.starts_with(['\t', '\n', '\r'])
        {
            return self.string(text);
        }
        if depth + 1 > self.limits.max_depth {
            if wire::is_well_formed(payload) {
                self.counters.depth_limited = true;
                return bytes_marker(payload);
            }
        } else {
            // All or nothing: what a failed attempt counted is undone.
            let before = self.counters;
            match self.message(payload, depth + 1) {
                (map, None) => return Value::Object(map),
                (_, Some(_)) => self.counters = before,
            }
        }
        match text {
            Some(text) => self.string(text),
            None => bytes_marker(payload),
        }
    }

    fn string(&mut self, text: &str) -> Value {
        let max = self.limits.max_string;
        if text.len() <= max {
            return Value::String(text.to_owned());
        }
        self.counters.cut_strings += 1;
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Value::String(text[..end].to_owned())
    }
}

/// `bytes` as text when it is UTF-8 with no control character but tab, LF and CR.
fn printable(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .then_some(text)
}

fn bytes_marker(payload: &[u8]) -> Value {
    Value::String(format!("<bytes:{}>", payload.len()))
}

/// A field seen again becomes an array of its values, in wire order. Nothing else the decoder
/// makes is an array, so an array under the key can only be the repetition.
fn insert(map: &mut Map<String, Value>, number: u32, value: Value) {
    let key = number.to_string();
    match map.get_mut(&key) {
        None => {
            map.insert(key, value);
        }
        Some(Value::Array(values)) => values.push(value),
        Some(first) => {
            let earlier = first.take();
            *first = Value::Array(vec![earlier, value]);
        }
    }
}
