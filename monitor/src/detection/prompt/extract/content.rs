//! Message content as every API writes it — strings, arrays of parts, typed blocks — each
//! mapped to the part it plays.
//!
//! Blocks: `text`, `input_text`, Anthropic's `tool_result` and `document`, the Responses API's
//! `function_call_output`, MCP's embedded `resource`. Images, audio and the model's own tool
//! calls carry no text to inspect.

use serde_json::Value;

use super::{super::texts::Texts, rag};
use crate::{
    detection::hit::Part,
    discovery::sensitive::{ClassSet, classify_field},
};

/// Content nests (tool results inside messages inside arrays); deeper text is not looked for.
pub const MAX_DEPTH: usize = 8;
/// Array items and object members read per container.
pub const MAX_ITEMS: usize = 256;

/// Block types whose text is not an instruction to anyone: media and the model's own calls.
const NO_TEXT: &[&str] = &[
    "image",
    "image_url",
    "input_image",
    "input_audio",
    "audio",
    "file",
    "input_file",
    "tool_use",
    "function_call",
    "server_tool_use",
    "thinking",
    "redacted_thinking",
    "reasoning",
];

/// Adds the text of `content` as `part`; `name` is the path of `content` itself
/// (`messages[2].content`), and what is inside it is named by its own path under it.
pub fn content(t: &mut Texts, v: &Value, part: Part, name: &str) {
    content_at(t, v, part, name, 0);
}

fn content_at(t: &mut Texts, v: &Value, part: Part, name: &str, depth: usize) {
    if depth > MAX_DEPTH || t.is_full() {
        return;
    }
    match v {
        Value::String(s) => text(t, part, name, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().take(MAX_ITEMS) {
                content_at(t, item, part, &format!("{name}[{i}]"), depth + 1);
            }
        }
        Value::Object(block) => {
            let kind = block.get("type").and_then(Value::as_str);
            match kind {
                Some(k) if NO_TEXT.contains(&k) => {}
                Some("tool_result" | "function_result" | "tool_response") => {
                    let inner = [
                        ("content", block.get("content")),
                        ("output", block.get("output")),
                    ]
                    .into_iter()
                    .find_map(|(k, v)| v.map(|v| (k, v)));
                    if let Some((key, inner)) = inner {
                        content_at(
                            t,
                            inner,
                            Part::ToolResult,
                            &format!("{name}.{key}"),
                            depth + 1,
                        );
                    }
                }
                Some("function_call_output" | "custom_tool_call_output" | "mcp_call_output") => {
                    if let Some(inner) = block.get("output") {
                        content_at(
                            t,
                            inner,
                            Part::ToolResult,
                            &format!("{name}.output"),
                            depth + 1,
                        );
                    }
                }
                Some("document" | "search_result" | "web_search_result" | "retrieved") => {
                    document(t, block, name, depth);
                }
                Some("resource") => {
                    if let Some(r) = block.get("resource") {
                        content_at(t, r, part, &format!("{name}.resource"), depth + 1);
                    }
                }
                _ => {
                    if let Some(Value::String(s)) = block.get("text") {
                        text(t, part, &format!("{name}.text"), s);
                    }
                    if let Some(inner) = block.get("content") {
                        content_at(t, inner, part, &format!("{name}.content"), depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}

/// A document block: its source text (`text` or `content` sources), title and context.
fn document(t: &mut Texts, block: &serde_json::Map<String, Value>, name: &str, depth: usize) {
    for key in ["title", "context"] {
        if let Some(Value::String(s)) = block.get(key) {
            t.push(Part::Retrieved, || format!("{name}.{key}"), s);
        }
    }
    if let Some(source) = block.get("source") {
        match source.get("type").and_then(Value::as_str) {
            // PDFs and images arrive as base64 or URLs: nothing to read here.
            Some("base64" | "url" | "file") => {}
            _ => {
                if let Some(Value::String(s)) = source.get("data") {
                    t.push(Part::Retrieved, || format!("{name}.source.data"), s);
                }
                if let Some(inner) = source.get("content") {
                    content_at(
                        t,
                        inner,
                        Part::Retrieved,
                        &format!("{name}.source.content"),
                        depth + 1,
                    );
                }
            }
        }
    }
    if let Some(inner) = block.get("content") {
        content_at(
            t,
            inner,
            Part::Retrieved,
            &format!("{name}.content"),
            depth + 1,
        );
    }
    if let Some(Value::String(s)) = block.get("text") {
        t.push(Part::Retrieved, || format!("{name}.text"), s);
    }
}

/// Adds a text; what a user or a system prompt holds is first split into its own words and the
/// retrieved documents pasted into it.
pub fn text(t: &mut Texts, part: Part, name: &str, s: &str) {
    if !matches!(part, Part::PromptUser | Part::PromptSystem) {
        t.push(part, || name.to_owned(), s);
        return;
    }
    let split = rag::split(s);
    if split.documents.is_empty() {
        t.push(part, || name.to_owned(), s);
        return;
    }
    t.push(part, || name.to_owned(), &split.rest);
    for (i, doc) in split.documents.iter().enumerate() {
        t.push(Part::Retrieved, || format!("{name}.document[{i}]"), doc);
    }
}

/// Adds every string under `v` as `part`, named by its path; field names that make a value
/// sensitive (`password`, `api_key`) are kept with it.
pub fn strings(t: &mut Texts, v: &Value, part: Part, name: &str) {
    strings_at(t, v, part, name, None, 0);
}

fn strings_at(t: &mut Texts, v: &Value, part: Part, name: &str, key: Option<&str>, depth: usize) {
    if depth > MAX_DEPTH || t.is_full() {
        return;
    }
    match v {
        Value::String(s) => {
            // A name only says something about a short value (a password, a key).
            let named = if s.len() <= 512 {
                classify_field(key, s)
            } else {
                ClassSet::empty()
            };
            // Only what the name adds: free text is scanned later anyway.
            let by_name = named
                .iter()
                .filter(|c| c.is_credential())
                .collect::<ClassSet>();
            t.push_named(part, || name.to_owned(), s, by_name);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().take(MAX_ITEMS) {
                strings_at(t, item, part, &format!("{name}[{i}]"), key, depth + 1);
            }
        }
        Value::Object(members) => {
            for (k, item) in members.iter().take(MAX_ITEMS) {
                strings_at(t, item, part, &format!("{name}.{k}"), Some(k), depth + 1);
            }
        }
        _ => {}
    }
}
