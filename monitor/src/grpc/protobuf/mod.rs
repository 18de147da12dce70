//! Protobuf messages read without their `.proto`: `wire` reads fields, `tree` turns a message
//! into a JSON value keyed by field number (`{"1": "alice", "2": 42, "3": {"1": 7}}`), which
//! discovery's schema inference and the sensitive-data classifier read like a JSON body.

mod tree;
pub mod wire;

#[cfg(test)]
mod tests;

pub use tree::{Decoded, Limits, decode};
pub use wire::WireError;

use serde_json::Value;

/// Replaces every string in `value` for which `mask` returns a replacement; how many were.
///
/// Redaction of JSON bodies goes by key name, and a decoded message's keys are field numbers,
/// so the default names never match (`--redact-body-field 3` would mask field 3 everywhere).
/// Secrets are found by their value instead: the caller passes, e.g.,
/// `|s| classify_field(None, s).has_credential().then(|| redactor.fingerprint(s.as_bytes()))`
/// (`discovery::sensitive`, `transaction::redact::Redactor`). Walks without recursion.
pub fn mask_strings(value: &mut Value, mask: &mut dyn FnMut(&str) -> Option<String>) -> usize {
    let mut masked = 0;
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        match v {
            Value::String(s) => {
                if let Some(replacement) = mask(s) {
                    *s = replacement;
                    masked += 1;
                }
            }
            Value::Array(items) => pending.extend(items.iter_mut()),
            Value::Object(map) => pending.extend(map.values_mut()),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    masked
}
