//! Reading `http` events back from the monitor's output: the transactions of one connection as
//! one process saw them, and matching them against the expected JSON field by field.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::Capture;

impl Capture {
    /// The `http` events, in output order.
    pub fn http(&self) -> Vec<&Value> {
        self.of_type("http").collect()
    }

    /// The transactions process `pid` made or served on the connection whose client end is
    /// `client_port`, in output order. Panics unless they all share one connection id.
    pub fn http_conn(&self, pid: u32, client_port: u16) -> Vec<Value> {
        let txs: Vec<Value> = self
            .of_type("http")
            .filter(|t| t["process"]["pid"] == pid && t["client"]["port"] == client_port)
            .cloned()
            .collect();
        let ids: Vec<&Value> = txs.iter().map(|t| &t["connection"]["id"]).collect();
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "transactions of pid {pid} with client port {client_port} span connections {ids:?}"
        );
        txs
    }

    /// Every `http` event, one line each, for failure messages.
    pub fn http_dump(&self) -> String {
        self.of_type("http")
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A body object as the contract describes it: `content` is text, or base64 for bytes that are
/// not UTF-8, or null when there is no body.
pub fn body_bytes(body: &Value) -> Vec<u8> {
    match (body["encoding"].as_str(), body["content"].as_str()) {
        (Some("text"), Some(s)) => s.as_bytes().to_vec(),
        (Some("base64"), Some(s)) => STANDARD.decode(s).expect("base64 body content"),
        (None, None) => Vec::new(),
        _ => panic!("body with inconsistent encoding/content: {body}"),
    }
}

/// The body object of an absent or empty body.
pub fn no_body() -> Value {
    json!({"size": 0, "captured": 0, "truncated": false, "complete": true,
           "content_encoding": null, "decoded": false, "encoding": null, "content": null})
}

/// The body object of a complete, uncompressed text body.
pub fn text_body(text: &str) -> Value {
    json!({"size": text.len(), "captured": text.len(), "truncated": false, "complete": true,
           "content_encoding": null, "decoded": false, "encoding": "text", "content": text})
}

/// The body object of a complete, uncompressed body that is not UTF-8.
pub fn binary_body(bytes: &[u8]) -> Value {
    json!({"size": bytes.len(), "captured": bytes.len(), "truncated": false, "complete": true,
           "content_encoding": null, "decoded": false, "encoding": "base64",
           "content": STANDARD.encode(bytes)})
}

/// Asserts that every field of `expected` is in `actual` with that value; objects are compared
/// key by key (fields `expected` leaves out are not checked), everything else exactly.
pub fn assert_fields(actual: &Value, expected: &Value) {
    if let Err(e) = compare(actual, expected, "$") {
        panic!(
            "{e}\nexpected (fields checked): {expected:#}\nactual: {:#}",
            actual
        );
    }
}

/// [`assert_fields`] as a value: the first difference, for tests that collect them.
pub fn check_fields(actual: &Value, expected: &Value) -> Result<(), String> {
    compare(actual, expected, "$")
}

fn compare(actual: &Value, expected: &Value, at: &str) -> Result<(), String> {
    match expected {
        Value::Object(fields) => {
            let Some(obj) = actual.as_object() else {
                return Err(format!("{at}: expected an object, got {actual}"));
            };
            for (k, v) in fields {
                let path = format!("{at}.{k}");
                match obj.get(k) {
                    Some(a) => compare(a, v, &path)?,
                    None => return Err(format!("{path}: missing (expected {v})")),
                }
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(format!("{at}: expected {expected}, got {actual}")),
    }
}
