//! Injection payloads in one request: `sqli`, `xss`, `path_traversal`, `command_injection`,
//! `ssrf` and `template_injection` in the path, query, headers, form and JSON body values,
//! after decoding (percent, plus, HTML entities, JSON escapes, base64 where obvious).
//! Pure: a request's parts in, signature hits out.

mod classes;
mod decode;
mod inert;
mod rules;
mod scan;
#[cfg(test)]
mod tests;
mod values;

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
    /// Request headers whose values are inspected (besides the path, query and body), by
    /// name, any case. `cookie` is read a cookie at a time.
    pub headers: Vec<String>,
    /// Values (path segments, parameters, fields) inspected per request; the rest are skipped
    /// and counted.
    pub max_values: usize,
    /// Bytes of one value inspected; a longer value is inspected in its first this many
    /// bytes, and counted as skipped.
    pub max_value_bytes: usize,
    /// Bytes of a body read (JSON past them is read up to where it was cut).
    pub max_body_bytes: usize,
    /// JSON nesting read; deeper objects and arrays are skipped and counted.
    pub max_json_depth: usize,
    /// Hits kept per request; the scan stops at this many (a request with so many is an
    /// attack already).
    pub max_hits: usize,
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
            max_body_bytes: 64 * 1024,
            max_json_depth: 32,
            max_hits: 16,
        }
    }
}

/// What one scan read: values inspected, values skipped over the caps (past `max_values`,
/// cut at `max_value_bytes`, JSON past `max_json_depth`), and internal errors (a detector's
/// panic, caught).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScanCounts {
    pub values: u32,
    pub skipped: u32,
    pub errors: u32,
}

/// The compiled signatures.
#[derive(Debug)]
pub struct SignatureScanner {
    rules: SignatureRules,
    /// `rules.headers`, lowercase, as header names are kept.
    headers: values::HeaderNames,
    /// Values proved inert by earlier requests.
    inert: inert::InertCache,
}

impl SignatureScanner {
    pub fn new(rules: &SignatureRules) -> Self {
        Self {
            rules: rules.clone(),
            headers: values::HeaderNames::new(&rules.headers),
            inert: inert::InertCache::default(),
        }
    }

    /// Appends to `out` every signature that matches in `req` (at most one hit per category
    /// and value, at most `max_hits` in all), and says how much was read.
    pub fn scan(&mut self, req: &RequestParts<'_>, out: &mut Vec<SignatureHit>) -> ScanCounts {
        let mut scan = scan::Scan::new(&self.rules, out, &mut self.inert);
        let limits = values::Limits {
            max_body_bytes: self.rules.max_body_bytes,
            max_json_depth: self.rules.max_json_depth,
        };
        values::walk(req, &self.headers, limits, &mut scan);
        scan.counts
    }
}

/// The decoders and the scan on raw bytes, for the fuzz target: nothing here may panic.
#[doc(hidden)]
pub mod fuzzing {
    /// Runs every decoder on `text` (as a query value and as a header value) and base64.
    pub fn decoders(text: &str) {
        for plus in [false, true] {
            let d = super::decode::decode(text, plus);
            let _ = super::decode::base64(&d.text, d.steps.plus);
            let _ = super::classes::Classes::of(&d.text);
        }
    }
}
