//! Body schema inference: what one endpoint's request (or response) bodies look like across
//! many observations, merged into one bounded model and written as an OpenAPI 3.1 schema.
//! Pure: bytes and a content type in, a model out.

mod form;
mod format;
mod media;
mod node;
mod openapi;
mod stream;
#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::{Map, Value, json};

pub use node::SchemaLimits;
pub use openapi::SensitiveField;

use crate::discovery::sensitive::{ClassSet, MAX_SCAN, scan_text};
use media::{Declared, KIND_FORM, KIND_JSON, KIND_OTHER, MediaTypes};
use node::{Merge, Node};

/// What one body turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    Empty,
    Json,
    Form,
    /// Declared JSON that ends early (cut by the capture limit): scanned as text, not merged.
    PartialJson,
    /// Declared JSON that is not JSON: scanned as text, not merged.
    InvalidJson,
    /// Anything else: the media type is recorded and text is scanned.
    Other,
}

/// What `observe` learned from one body, for the caller to tag the transaction with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Observed {
    pub kind: BodyKind,
    /// Sensitive data found in this body.
    pub classes: ClassSet,
}

/// Counters of a model: how many bodies of each kind, and what the limits dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BodyCounts {
    pub observations: u64,
    pub empty: u64,
    pub json: u64,
    pub form: u64,
    pub partial_json: u64,
    pub invalid_json: u64,
    pub other: u64,
    /// Values or keys not merged because of a depth, property, key-length or node limit.
    pub dropped: u64,
    /// Bodies whose media type was not recorded because the set was full.
    pub media_types_dropped: u64,
}

/// Media type recorded for a body sent without `Content-Type` that is clearly JSON.
const DEFAULT_JSON: &str = "application/json";
/// Media type recorded for other bodies sent without one (RFC 9110, 8.3).
const DEFAULT_OTHER: &str = "application/octet-stream";

/// What one endpoint has learned about one direction's bodies.
#[derive(Debug, Default)]
pub struct BodyModel {
    limits: SchemaLimits,
    counts: BodyCounts,
    media: MediaTypes,
    json: Option<Node>,
    form: Option<Node>,
    classes: ClassSet,
    /// Nodes held by `json` and `form`, against `limits.max_nodes`.
    nodes: usize,
}

impl BodyModel {
    pub fn new(limits: SchemaLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Learns from one body (already de-chunked and decoded, possibly cut short). Costs time
    /// linear in the body size; memory stays within the limits whatever the bodies.
    pub fn observe(&mut self, content_type: Option<&str>, body: &[u8]) -> Observed {
        self.counts.observations += 1;
        let essence = content_type.and_then(media::essence);
        let declared = essence.map_or(Declared::Other, media::declared);
        let field_numbers = essence.is_some_and(media::keys_are_field_numbers);
        if body.is_empty() {
            self.counts.empty += 1;
            return self.observed(BodyKind::Empty, ClassSet::empty());
        }
        let sniffed_json = declared != Declared::Json && looks_like_json(body);
        if declared == Declared::Json || sniffed_json {
            match stream::check(body) {
                Ok(()) => {
                    self.record_media(essence.unwrap_or(DEFAULT_JSON), KIND_JSON);
                    self.counts.json += 1;
                    // Checked above, the text cannot fail here; if it did, what merged stays.
                    let classes = self.merge(
                        |root, m| {
                            let _ = stream::merge(root, body, m);
                        },
                        true,
                        field_numbers,
                    );
                    return self.observed(BodyKind::Json, classes);
                }
                Err(e) if declared == Declared::Json => {
                    self.record_media(essence.unwrap_or(DEFAULT_JSON), KIND_JSON);
                    let kind = if e.is_eof() {
                        self.counts.partial_json += 1;
                        BodyKind::PartialJson
                    } else {
                        self.counts.invalid_json += 1;
                        BodyKind::InvalidJson
                    };
                    return self.observed(kind, scan_body(body));
                }
                // Sniffed but not JSON after all: an ordinary body of its declared type.
                Err(_) => {}
            }
        }
        if declared == Declared::Form {
            self.record_media(essence.unwrap_or(DEFAULT_OTHER), KIND_FORM);
            self.counts.form += 1;
            let classes = self.merge(|root, m| form::merge_form(root, body, m), false, false);
            return self.observed(BodyKind::Form, classes);
        }
        self.record_media(essence.unwrap_or(DEFAULT_OTHER), KIND_OTHER);
        self.counts.other += 1;
        let classes = if declared == Declared::Binary {
            ClassSet::empty()
        } else {
            scan_body(body)
        };
        self.observed(BodyKind::Other, classes)
    }

    fn observed(&mut self, kind: BodyKind, classes: ClassSet) -> Observed {
        self.classes |= classes;
        Observed { kind, classes }
    }

    fn record_media(&mut self, essence: &str, kind: u8) {
        if !self
            .media
            .record(essence, kind, self.limits.max_media_types)
        {
            self.counts.media_types_dropped += 1;
        }
    }

    /// Runs `f` on the JSON or form root with the model's budget; returns the classes found.
    /// `field_numbers`: the keys are a message's field numbers (decoded gRPC), never ids.
    fn merge(
        &mut self,
        f: impl FnOnce(&mut Node, &mut Merge),
        json: bool,
        field_numbers: bool,
    ) -> ClassSet {
        let root = if json { &mut self.json } else { &mut self.form };
        if root.is_none() {
            self.nodes += 1;
        }
        let root = root.get_or_insert_default();
        let mut m = Merge {
            limits: &self.limits,
            nodes: &mut self.nodes,
            dropped: &mut self.counts.dropped,
            found: ClassSet::empty(),
            recount: false,
            field_numbers,
        };
        f(root, &mut m);
        let (found, recount) = (m.found, m.recount);
        if recount {
            // Folding a map into one value schema freed nodes; count what is really held.
            self.nodes = [&self.json, &self.form]
                .iter()
                .filter_map(|r| r.as_ref())
                .map(Node::node_count)
                .sum();
        }
        found
    }

    /// The JSON Schema of the merged bodies: of the JSON bodies if any were seen, otherwise of
    /// the form bodies; `None` when neither was.
    pub fn openapi_schema(&self) -> Option<Value> {
        self.json
            .as_ref()
            .or(self.form.as_ref())
            .map(openapi::schema)
    }

    /// An OpenAPI 3.1 `content` object: each media type seen with the schema of the bodies
    /// sent under it (an empty media type object when they were neither JSON nor form).
    pub fn openapi_content(&self) -> Value {
        let json = self.json.as_ref().map(openapi::schema);
        let form = self.form.as_ref().map(openapi::schema);
        let content: Map<String, Value> = self
            .media
            .iter()
            .map(|(essence, kinds)| {
                let schema = match (kinds & KIND_JSON != 0, kinds & KIND_FORM != 0) {
                    (true, _) => json.clone(),
                    (false, true) => form.clone(),
                    (false, false) => None,
                };
                let media = match schema {
                    Some(schema) => json!({ "schema": schema }),
                    None => json!({}),
                };
                (essence.to_string(), media)
            })
            .collect();
        Value::Object(content)
    }

    /// Media types seen, lower-cased, in first-seen order.
    pub fn media_types(&self) -> impl Iterator<Item = &str> {
        self.media.iter().map(|(essence, _)| essence)
    }

    /// Fields that carried sensitive data, sorted by path (JSON and form fields together).
    pub fn sensitive_fields(&self) -> Vec<SensitiveField> {
        let mut out = Vec::new();
        for root in [&self.json, &self.form].into_iter().flatten() {
            openapi::sensitive_fields(root, &mut String::new(), &mut out);
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out.dedup_by(|later, earlier| {
            let same = later.path == earlier.path;
            if same {
                earlier.classes |= later.classes;
            }
            same
        });
        out
    }

    /// Every class seen in any body, structured or text.
    pub fn classes(&self) -> ClassSet {
        self.classes
    }

    pub fn counts(&self) -> BodyCounts {
        self.counts
    }

    /// Whether a limit dropped anything: the schema then describes only part of the bodies.
    pub fn truncated(&self) -> bool {
        self.counts.dropped > 0 || self.counts.media_types_dropped > 0
    }
}

/// A body with a missing or wrong content type is taken as JSON only when it starts like an
/// object or array and then parses in full.
fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Scans the text prefix of a body (up to the scan limit, cut at the first invalid UTF-8).
fn scan_body(body: &[u8]) -> ClassSet {
    let sample = &body[..body.len().min(MAX_SCAN)];
    let text = match std::str::from_utf8(sample) {
        Ok(text) => text,
        // `valid_up_to` is a char boundary by definition, so this cannot fail.
        Err(e) => std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or_default(),
    };
    scan_text(text)
}
