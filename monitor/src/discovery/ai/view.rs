//! One exchange parsed once for every shape to look at: the request's JSON, the response as one
//! JSON value or as a stream of events. Bodies that cannot be AI traffic are not parsed at all:
//! this runs on every transaction.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use serde_json::Value;

use super::{Exchange, json::parse_prefix, ndjson, stream::Stream};
use crate::transaction::Headers;

pub struct View<'a> {
    /// The path without its query.
    pub path: &'a str,
    pub request_headers: &'a Headers,
    pub response_headers: &'a Headers,
    pub request: Option<Value>,
    pub response: Response,
}

pub enum Response {
    Absent,
    Json(Value),
    Stream(Stream),
}

/// Keys at least one of which every recognised request body holds.
const REQUEST_KEYS: &[&[u8]] = &[
    b"\"model\"",
    b"\"messages\"",
    b"\"contents\"",
    b"\"jsonrpc\"",
    b"\"prompt\"",
    b"\"input\"",
];
/// Text at least one piece of which every recognised single-document response holds. Narrower
/// than the keys read later: `"type"`, `"object"` and `"model"` are in countless other APIs,
/// and most JSON responses are not worth parsing here.
const RESPONSE_KEYS: &[&[u8]] = &[
    b"\"chat.completion",
    b"\"text_completion\"",
    b"\"embedding",
    b"\"output\"",
    b"\"stop_reason\"",
    // Anthropic's message ids; `stop_reason` comes after the content, which a cut may lose.
    b"\"msg_",
    b"\"candidates\"",
    b"\"jsonrpc\"",
    b"\"created_at\"",
];

/// The key lists as automatons, built once: one pass over a body finds any of them (a
/// searcher per key and call cost more than the rest of the recognition).
static REQUEST_FINDER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| AhoCorasick::new(REQUEST_KEYS).ok());
static RESPONSE_FINDER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| AhoCorasick::new(RESPONSE_KEYS).ok());

impl<'a> View<'a> {
    pub fn new(x: &Exchange<'a>) -> View<'a> {
        let path = x.path.split(['?', '#']).next().unwrap_or(x.path);
        View {
            path,
            request_headers: x.request_headers,
            response_headers: x.response_headers,
            request: json_with_any(x.request_body, &REQUEST_FINDER),
            response: response(x),
        }
    }

    pub fn path_ends_with(&self, suffix: &str) -> bool {
        self.path.trim_end_matches('/').ends_with(suffix)
    }

    /// The request's top-level member `key`.
    pub fn req(&self, key: &str) -> Option<&Value> {
        self.request.as_ref()?.get(key)
    }

    /// The request's `model`, when it is text.
    pub fn request_model(&self) -> Option<String> {
        self.req("model")?.as_str().map(str::to_owned)
    }

    pub fn stream(&self) -> Option<&Stream> {
        match &self.response {
            Response::Stream(s) => Some(s),
            _ => None,
        }
    }
}

fn json_with_any(body: &[u8], keys: &Option<AhoCorasick>) -> Option<Value> {
    let start = body.trim_ascii_start();
    if !matches!(start.first(), Some(b'{' | b'[')) {
        return None;
    }
    // Built from constant patterns, the automaton cannot fail; if it did, every body is parsed.
    if keys.as_ref().is_some_and(|k| !k.is_match(start)) {
        return None;
    }
    parse_prefix(start)
}

fn response(x: &Exchange<'_>) -> Response {
    // An error status carries an error document, which says nothing about the API's shape.
    if x.status.is_some_and(|s| !(200..300).contains(&s)) {
        return Response::Absent;
    }
    let body = x.response_body.trim_ascii_start();
    if body.is_empty() {
        return Response::Absent;
    }
    let ct = x
        .response_headers
        .get_str("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let sse_start = [&b"data:"[..], b"event:", b"id:", b":"]
        .iter()
        .any(|p| body.starts_with(p));
    if has(&ct, "event-stream") || (!has(&ct, "json") && sse_start) {
        return Response::Stream(Stream::sse(body));
    }
    if has(&ct, "ndjson") || has(&ct, "jsonl") || ndjson::looks_like_ndjson(body) {
        return Response::Stream(Stream::ndjson(body));
    }
    match json_with_any(body, &RESPONSE_FINDER) {
        Some(v) => Response::Json(v),
        None => Response::Absent,
    }
}

/// Whether `needle` occurs in the short text `haystack` (a path, a media type): compared window
/// by window, which for a few dozen bytes costs less than the searcher `str::contains` builds
/// on each call (this runs several times on every transaction).
pub fn has(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
