//! MCP (JSON-RPC) messages: what a client passes to tools and prompts (its input), and what a
//! server answers, all of which is data to the model.
//!
//! Answers: tool results, structured content, resources, prompt messages, tool and prompt
//! descriptions (where tool poisoning hides), errors, and the requests a server makes of the
//! client's model (`sampling/createMessage`).

use serde_json::Value;

use super::{array, content};
use crate::detection::{hit::Part, prompt::texts::Texts};

/// Messages of one JSON-RPC batch read.
const MAX_BATCH: usize = 64;

fn messages(v: &Value) -> &[Value] {
    match v {
        Value::Array(batch) => batch.get(..batch.len().min(MAX_BATCH)).unwrap_or(&[]),
        one => std::slice::from_ref(one),
    }
}

pub fn request(t: &mut Texts, v: &Value) {
    for m in messages(v) {
        let method = m.get("method").and_then(Value::as_str);
        let Some(params) = m.get("params") else {
            continue;
        };
        match method {
            Some("tools/call" | "prompts/get") => {
                if let Some(args) = params.get("arguments") {
                    content::strings(t, args, Part::PromptUser, "params.arguments");
                }
            }
            Some("completion/complete") => {
                if let Some(Value::String(s)) = params.pointer("/argument/value") {
                    content::text(t, Part::PromptUser, "params.argument.value", s);
                }
            }
            _ => {}
        }
    }
}

pub fn response(t: &mut Texts, v: &Value) {
    for m in messages(v) {
        if let Some(result) = m.get("result") {
            result_texts(t, result);
        }
        if let Some(error) = m.get("error") {
            content::strings(t, error, Part::McpResponse, "error");
        }
        // Requests the server sends to the client, on the same stream.
        let Some(params) = m.get("params") else {
            continue;
        };
        match m.get("method").and_then(Value::as_str) {
            Some("sampling/createMessage") => {
                for (i, msg) in array(params, "messages")
                    .iter()
                    .enumerate()
                    .take(content::MAX_ITEMS)
                {
                    if let Some(c) = msg.get("content") {
                        content::content(
                            t,
                            c,
                            Part::McpResponse,
                            &format!("params.messages[{i}].content"),
                        );
                    }
                }
                if let Some(Value::String(s)) = params.get("systemPrompt") {
                    t.push(Part::McpResponse, || "params.systemPrompt".to_owned(), s);
                }
            }
            Some("elicitation/create") => {
                if let Some(Value::String(s)) = params.get("message") {
                    t.push(Part::McpResponse, || "params.message".to_owned(), s);
                }
            }
            _ => {}
        }
    }
}

fn result_texts(t: &mut Texts, result: &Value) {
    // tools/call
    for (i, block) in array(result, "content")
        .iter()
        .enumerate()
        .take(content::MAX_ITEMS)
    {
        content::content(t, block, Part::McpResponse, &format!("result.content[{i}]"));
    }
    if let Some(s) = result.get("structuredContent") {
        content::strings(t, s, Part::McpResponse, "result.structuredContent");
    }
    // resources/read
    for (i, c) in array(result, "contents")
        .iter()
        .enumerate()
        .take(content::MAX_ITEMS)
    {
        if let Some(Value::String(s)) = c.get("text") {
            t.push(
                Part::McpResponse,
                || format!("result.contents[{i}].text"),
                s,
            );
        }
    }
    // prompts/get
    for (i, msg) in array(result, "messages")
        .iter()
        .enumerate()
        .take(content::MAX_ITEMS)
    {
        if let Some(c) = msg.get("content") {
            content::content(
                t,
                c,
                Part::McpResponse,
                &format!("result.messages[{i}].content"),
            );
        }
    }
    if let Some(Value::String(s)) = result.get("description") {
        t.push(Part::McpResponse, || "result.description".to_owned(), s);
    }
    // tools/list, prompts/list, resources/list: descriptions are read by the model.
    for list in ["tools", "prompts", "resources", "resourceTemplates"] {
        for (i, item) in array(result, list)
            .iter()
            .enumerate()
            .take(content::MAX_ITEMS)
        {
            if let Some(Value::String(s)) = item.get("description") {
                t.push(
                    Part::McpResponse,
                    || format!("result.{list}[{i}].description"),
                    s,
                );
            }
            if let Some(schema) = item.get("inputSchema") {
                descriptions(t, schema, &format!("result.{list}[{i}].inputSchema"), 0);
            }
        }
    }
}

/// The `description` strings of a JSON schema (parameter descriptions are read by the model).
fn descriptions(t: &mut Texts, schema: &Value, name: &str, depth: usize) {
    if depth > content::MAX_DEPTH {
        return;
    }
    let Value::Object(members) = schema else {
        return;
    };
    for (k, v) in members.iter().take(content::MAX_ITEMS) {
        match (k.as_str(), v) {
            ("description" | "title", Value::String(s)) => {
                t.push(Part::McpResponse, || format!("{name}.{k}"), s);
            }
            (_, Value::Object(_)) => descriptions(t, v, &format!("{name}.{k}"), depth + 1),
            _ => {}
        }
    }
}
