//! Gemini's `generateContent`: the system instruction, `contents[].parts[]` by role, function
//! responses carried back to the model (tool results), and the candidates of the answer.

use serde_json::Value;

use super::{array, content, latest_first};
use crate::detection::{hit::Part, prompt::texts::Texts};

pub fn request(t: &mut Texts, v: &Value) {
    for (i, turn) in latest_first(array(v, "contents")) {
        let role = turn.get("role").and_then(Value::as_str).unwrap_or("user");
        if role == "model" {
            continue;
        }
        let part = if matches!(role, "function" | "tool") {
            Part::ToolResult
        } else {
            Part::PromptUser
        };
        parts(t, array(turn, "parts"), part, &format!("contents[{i}]"));
    }
    if let Some(system) = v
        .get("systemInstruction")
        .or_else(|| v.get("system_instruction"))
    {
        match system.get("parts").and_then(Value::as_array) {
            Some(p) => parts(t, p, Part::PromptSystem, "systemInstruction"),
            None => content::content(t, system, Part::PromptSystem, "systemInstruction"),
        }
    }
}

fn parts(t: &mut Texts, items: &[Value], part: Part, name: &str) {
    for (j, p) in items.iter().enumerate().take(content::MAX_ITEMS) {
        let name = format!("{name}.parts[{j}]");
        if let Some(Value::String(s)) = p.get("text") {
            content::text(t, part, &format!("{name}.text"), s);
        }
        let response = p
            .get("functionResponse")
            .or_else(|| p.get("function_response"));
        if let Some(r) = response {
            let inner = r.get("response").unwrap_or(r);
            content::strings(
                t,
                inner,
                Part::ToolResult,
                &format!("{name}.functionResponse"),
            );
        }
    }
}

pub fn response(t: &mut Texts, v: &Value) {
    for (i, c) in array(v, "candidates")
        .iter()
        .enumerate()
        .take(content::MAX_ITEMS)
    {
        let Some(turn) = c.get("content") else {
            continue;
        };
        for (j, p) in array(turn, "parts")
            .iter()
            .enumerate()
            .take(content::MAX_ITEMS)
        {
            if p.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(Value::String(s)) = p.get("text") {
                t.push(
                    Part::ModelResponse,
                    || format!("candidates[{i}].content.parts[{j}].text"),
                    s,
                );
            }
            if let Some(args) = p.pointer("/functionCall/args") {
                content::strings(
                    t,
                    args,
                    Part::ModelResponse,
                    &format!("candidates[{i}].content.parts[{j}].functionCall"),
                );
            }
        }
    }
}

pub fn delta(v: &Value, out: &mut dyn FnMut(&str)) {
    for c in array(v, "candidates").iter().take(content::MAX_ITEMS) {
        let parts = c
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for p in parts.iter().take(content::MAX_ITEMS) {
            if p.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(Value::String(s)) = p.get("text") {
                out(s);
            }
        }
    }
}
