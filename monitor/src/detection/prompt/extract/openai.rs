//! OpenAI's request and response shapes (and those of the many servers imitating them): chat
//! messages by role, legacy completion prompts, embedding inputs, the Responses API's
//! instructions and input items, and the answers and stream deltas of each.

use serde_json::Value;

use super::{array, content, latest_first, role_part};
use crate::detection::{hit::Part, prompt::texts::Texts};

pub fn chat_request(t: &mut Texts, v: &Value) {
    messages(t, array(v, "messages"), "messages");
}

/// Chat messages (also Ollama's): each by its role.
pub fn messages(t: &mut Texts, items: &[Value], list: &str) {
    for (i, m) in latest_first(items) {
        let Some(part) = role_part(m.get("role").and_then(Value::as_str)) else {
            continue;
        };
        if let Some(c) = m.get("content") {
            content::content(t, c, part, &format!("{list}[{i}].content"));
        }
    }
}

pub fn completions_request(t: &mut Texts, v: &Value) {
    if let Some(p) = v.get("prompt") {
        content::content(t, p, Part::PromptUser, "prompt");
    }
}

/// Texts sent to be embedded are documents on their way into an index: what a poisoned one
/// says is an indirect injection waiting to be retrieved.
pub fn embeddings_request(t: &mut Texts, v: &Value) {
    for key in ["input", "prompt"] {
        if let Some(x) = v.get(key) {
            content::content(t, x, Part::Retrieved, key);
        }
    }
}

pub fn responses_request(t: &mut Texts, v: &Value) {
    match v.get("input") {
        Some(Value::String(s)) => content::text(t, Part::PromptUser, "input", s),
        Some(Value::Array(items)) => {
            for (i, item) in latest_first(items) {
                let name = format!("input[{i}]");
                match item.get("role").and_then(Value::as_str) {
                    Some(role) => {
                        if let (Some(part), Some(c)) = (role_part(Some(role)), item.get("content"))
                        {
                            content::content(t, c, part, &format!("{name}.content"));
                        }
                    }
                    // Typed items: `function_call_output` and the like.
                    None => content::content(t, item, Part::PromptUser, &name),
                }
            }
        }
        _ => {}
    }
    if let Some(Value::String(s)) = v.get("instructions") {
        content::text(t, Part::PromptSystem, "instructions", s);
    }
}

/// `choices[]` of chat and legacy completions: message content, text, tool-call arguments.
pub fn choices_response(t: &mut Texts, v: &Value) {
    for (i, choice) in array(v, "choices")
        .iter()
        .enumerate()
        .take(content::MAX_ITEMS)
    {
        if let Some(Value::String(s)) = choice.get("text") {
            t.push(Part::ModelResponse, || format!("choices[{i}].text"), s);
        }
        let Some(message) = choice.get("message") else {
            continue;
        };
        if let Some(c) = message.get("content") {
            content::content(
                t,
                c,
                Part::ModelResponse,
                &format!("choices[{i}].message.content"),
            );
        }
        for (j, call) in array(message, "tool_calls")
            .iter()
            .enumerate()
            .take(content::MAX_ITEMS)
        {
            if let Some(Value::String(args)) = call.pointer("/function/arguments") {
                t.push(
                    Part::ModelResponse,
                    || format!("choices[{i}].message.tool_calls[{j}]"),
                    args,
                );
            }
        }
    }
}

/// The Responses API's `output[]`: messages' text parts and function-call arguments.
pub fn responses_response(t: &mut Texts, v: &Value) {
    let v = v.get("response").unwrap_or(v);
    for (i, item) in array(v, "output")
        .iter()
        .enumerate()
        .take(content::MAX_ITEMS)
    {
        let name = format!("output[{i}]");
        match item.get("type").and_then(Value::as_str) {
            Some("function_call") => {
                if let Some(Value::String(args)) = item.get("arguments") {
                    t.push(Part::ModelResponse, || name.clone(), args);
                }
            }
            Some("reasoning") => {}
            _ => {
                if let Some(c) = item.get("content") {
                    content::content(t, c, Part::ModelResponse, &format!("{name}.content"));
                }
            }
        }
    }
}

pub fn chat_delta(v: &Value, out: &mut dyn FnMut(&str)) {
    for choice in array(v, "choices").iter().take(content::MAX_ITEMS) {
        if let Some(Value::String(s)) = choice.pointer("/delta/content") {
            out(s);
        }
        for call in choice
            .pointer("/delta/tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(content::MAX_ITEMS)
        {
            if let Some(Value::String(s)) = call.pointer("/function/arguments") {
                out(s);
            }
        }
    }
}

pub fn completions_delta(v: &Value, out: &mut dyn FnMut(&str)) {
    for choice in array(v, "choices").iter().take(content::MAX_ITEMS) {
        if let Some(Value::String(s)) = choice.get("text") {
            out(s);
        }
    }
}

pub fn responses_delta(v: &Value, out: &mut dyn FnMut(&str)) {
    let kind = v.get("type").and_then(Value::as_str);
    if matches!(
        kind,
        Some("response.output_text.delta" | "response.function_call_arguments.delta")
    ) && let Some(Value::String(s)) = v.get("delta")
    {
        out(s);
    }
}
