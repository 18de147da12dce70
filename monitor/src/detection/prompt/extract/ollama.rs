//! Ollama's native API: chat messages (as OpenAI's), or a `prompt` with its `system`; the
//! answer's `message.content` or `response`, one NDJSON line per delta when streamed.

use serde_json::Value;

use super::{array, content, openai};
use crate::detection::{hit::Part, prompt::texts::Texts};

pub fn request(t: &mut Texts, v: &Value) {
    openai::messages(t, array(v, "messages"), "messages");
    if let Some(Value::String(s)) = v.get("prompt") {
        content::text(t, Part::PromptUser, "prompt", s);
    }
    if let Some(Value::String(s)) = v.get("system") {
        content::text(t, Part::PromptSystem, "system", s);
    }
}

pub fn response(t: &mut Texts, v: &Value) {
    if let Some(Value::String(s)) = v.pointer("/message/content") {
        t.push(Part::ModelResponse, || "message.content".to_owned(), s);
    }
    if let Some(Value::String(s)) = v.get("response") {
        t.push(Part::ModelResponse, || "response".to_owned(), s);
    }
}

pub fn delta(v: &Value, out: &mut dyn FnMut(&str)) {
    if let Some(Value::String(s)) = v.pointer("/message/content") {
        out(s);
    }
    if let Some(Value::String(s)) = v.get("response") {
        out(s);
    }
}
