//! The values of one request the rules read, in order: the path (whole, then each segment),
//! query parameters, the selected headers (a cookie per cookie), and the body's fields by its
//! type (form, multipart text fields, JSON strings and keys, or the body as one text).

mod form;
mod json;
mod multipart;

use std::borrow::Cow;

use super::{RequestParts, rules::Role};
use crate::detection::hit::Part;

/// One value's place in the request.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub part: Part,
    /// The name shown in an alert's location (a parameter, header, cookie, JSON pointer).
    pub location: Option<&'a str>,
    /// The name the rules and the secret check read: for JSON the last key.
    pub key: Option<&'a str>,
    pub role: Role,
}

impl Field<'_> {
    /// Query strings and forms write a space as `+`.
    pub fn plus_is_space(&self) -> bool {
        matches!(self.part, Part::Query | Part::Form) && self.role != Role::Text
    }
}

/// Where values go. `value` returns `false` once the scan wants no more (its hit budget is
/// spent), and walkers stop there.
pub trait Sink {
    fn value(&mut self, field: &Field<'_>, raw: &str) -> bool;
    /// A subtree not walked (JSON past the depth cap).
    fn skipped(&mut self);
    /// The request path: by default the whole path, then each segment, as values; a sink
    /// may settle them at once when it can tell from the whole path what each would be.
    fn path(&mut self, path: &str) -> bool {
        path_values(path, self)
    }
}

/// Body-reading limits, from the rules.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_json_depth: usize,
}

/// The names of the headers to read, lowercase as header names are kept, with the set of
/// their lengths: most headers of a request are passed over on their length alone.
#[derive(Debug, Clone, Default)]
pub struct HeaderNames {
    names: Vec<String>,
    /// Bit `n` for a name `n` bytes long (bit 63 for every longer one).
    lengths: u64,
}

impl HeaderNames {
    pub fn new(names: &[String]) -> Self {
        let names: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        let lengths = names.iter().fold(0, |acc, n| acc | length_bit(n));
        HeaderNames { names, lengths }
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn wants(&self, name: &str) -> bool {
        self.lengths & length_bit(name) != 0 && self.names.iter().any(|w| w == name)
    }
}

fn length_bit(name: &str) -> u64 {
    1 << name.len().min(63)
}

/// Feeds every value of `req` to `sink`, and of its headers those `headers` names.
pub fn walk(req: &RequestParts<'_>, headers: &HeaderNames, limits: Limits, sink: &mut impl Sink) {
    let _ = (sink.path(req.path)
        && req.query.is_none_or(|q| form::pairs(q, Part::Query, sink))
        && request_headers(req, headers, sink))
        && body(req, limits, sink);
}

/// The path as its values: the whole (for traversal), then each segment.
pub fn path_values<S: Sink + ?Sized>(path: &str, sink: &mut S) -> bool {
    let whole = Field {
        part: Part::Path,
        location: None,
        key: None,
        role: Role::WholePath,
    };
    if !sink.value(&whole, path) {
        return false;
    }
    let segment = Field {
        role: Role::Segment,
        ..whole
    };
    segments(path).all(|s| sink.value(&segment, s))
}

/// The segments of a path read as values: what lies between slashes, empty ones left out.
pub fn segments(path: &str) -> impl Iterator<Item = &str> {
    split(path, b'/').filter(|s| !s.is_empty())
}

/// The pieces of `text` between `sep` bytes, as `str::split` gives them, by a plain byte
/// loop: the values split here are short, and `split`'s searcher costs more to set up than
/// such a loop costs to run. `sep` is ASCII, so every piece starts and ends on a character
/// boundary.
pub fn split(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match t.bytes().position(|b| b == sep) {
            Some(i) => {
                rest = t.get(i + 1..);
                t.get(..i)
            }
            None => {
                rest = None;
                Some(t)
            }
        }
    })
}

/// `text.split_once(sep)` for an ASCII `sep`, by a plain byte loop (see [`split`]).
pub fn split_once(text: &str, sep: u8) -> Option<(&str, &str)> {
    let i = text.bytes().position(|b| b == sep)?;
    Some((text.get(..i)?, text.get(i + 1..)?))
}

fn request_headers(req: &RequestParts<'_>, wanted: &HeaderNames, sink: &mut impl Sink) -> bool {
    if wanted.is_empty() {
        return true;
    }
    for (name, value) in req.headers.iter() {
        if !wanted.wants(name) {
            continue;
        }
        // Only the wanted values as text: borrowed when UTF-8, lossy otherwise, as
        // `Headers::iter_text` gives them, without checking every other value too.
        let value = match std::str::from_utf8(value) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(value),
        };
        let more = if name == "cookie" {
            form::cookies(&value, sink)
        } else {
            let field = Field {
                part: Part::Header,
                location: Some(name),
                key: Some(name),
                role: Role::Value,
            };
            sink.value(&field, &value)
        };
        if !more {
            return false;
        }
    }
    true
}

/// Media types whose bodies are not text: skipped whole.
const BINARY: [&str; 9] = [
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/grpc",
    "application/x-protobuf",
];

fn body(req: &RequestParts<'_>, limits: Limits, sink: &mut impl Sink) -> bool {
    let body = req
        .body
        .get(..req.body.len().min(limits.max_body_bytes))
        .unwrap_or_default();
    if body.is_empty() {
        return true;
    }
    let essence = req
        .content_type
        .and_then(|ct| ct.split(';').next())
        .map(|e| e.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if BINARY.iter().any(|b| essence.starts_with(b)) {
        return true;
    }
    match essence.as_str() {
        "application/x-www-form-urlencoded" => {
            return form::pairs(&String::from_utf8_lossy(body), Part::Form, sink);
        }
        "multipart/form-data" => {
            return multipart::fields(body, req.content_type.unwrap_or_default(), sink);
        }
        _ => {}
    }
    let json_type = essence == "application/json" || essence.ends_with("+json");
    let looks_json = matches!(body.trim_ascii_start().first(), Some(b'{' | b'['));
    if json_type || (looks_json && !essence.contains("xml")) {
        match json::strings(body, limits.max_json_depth, sink) {
            json::Outcome::Walked => return true,
            json::Outcome::Stopped => return false,
            json::Outcome::NotJson => {}
        }
    }
    text_body(body, sink)
}

/// A body that is neither form nor JSON, as one text, unless it is binary (a NUL early on,
/// or not UTF-8).
fn text_body(body: &[u8], sink: &mut impl Sink) -> bool {
    if memchr::memchr(0, body.get(..body.len().min(1024)).unwrap_or_default()).is_some() {
        return true;
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        // Cut short by the capture inside a character: read what came before it.
        Err(e) if e.error_len().is_none() => {
            match body.get(..e.valid_up_to()).map(std::str::from_utf8) {
                Some(Ok(t)) => t,
                _ => return true,
            }
        }
        Err(_) => return true,
    };
    let field = Field {
        part: Part::Body,
        location: None,
        key: None,
        role: Role::Text,
    };
    sink.value(&field, text)
}
