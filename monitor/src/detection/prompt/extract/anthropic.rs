//! Anthropic's Messages API: the `system` prompt (text or blocks), user turns whose blocks may
//! be tool results and documents, and the answer's text blocks and stream deltas.

use serde_json::Value;

use super::{array, content, latest_first};
use crate::detection::{hit::Part, prompt::texts::Texts};

pub fn request(t: &mut Texts, v: &Value) {
    for (i, m) in latest_first(array(v, "messages")) {
        // The assistant's turns are history; tool results and documents come in user turns.
        if m.get("role").and_then(Value::as_str) == Some("assistant") {
            continue;
        }
        if let Some(c) = m.get("content") {
            content::content(t, c, Part::PromptUser, &format!("messages[{i}].content"));
        }
    }
    if let Some(system) = v.get("system") {
        content::content(t, system, Part::PromptSystem, "system");
    }
}

pub fn response(t: &mut Texts, v: &Value) {
    for (i, block) in array(v, "content")
        .iter()
        .enumerate()
        .take(content::MAX_ITEMS)
    {
        let name = format!("content[{i}]");
        match block.get("type").and_then(Value::as_str) {
            Some("tool_use") => {
                if let Some(input) = block.get("input") {
                    content::strings(t, input, Part::ModelResponse, &format!("{name}.input"));
                }
            }
            Some("thinking" | "redacted_thinking") => {}
            _ => content::content(t, block, Part::ModelResponse, &name),
        }
    }
}

pub fn delta(v: &Value, out: &mut dyn FnMut(&str)) {
    if v.get("type").and_then(Value::as_str) != Some("content_block_delta") {
        return;
    }
    let Some(d) = v.get("delta") else {
        return;
    };
    for key in ["text", "partial_json"] {
        if let Some(Value::String(s)) = d.get(key) {
            out(s);
        }
    }
}
