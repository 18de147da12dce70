//! Google's Gemini `generateContent` / `streamGenerateContent` (AI Studio and Vertex AI): the
//! model is in the path (`models/{model}:generateContent`), contents are made of `parts`, and a
//! stream is SSE (`?alt=sse`) or one JSON array growing chunk by chunk.

use serde_json::Value;

use super::{
    AiApi, AiCall,
    prompt::PromptText,
    str_at, u64_at,
    view::{Response, View},
};

pub fn recognise(v: &View<'_>) -> Option<AiCall> {
    let verb = path_verb(v.path);
    let claimed = matches!(verb, Some("generateContent" | "streamGenerateContent"))
        || request_has_contents(v)
        || chunks(v).take(2).any(is_response_chunk);
    if !claimed {
        return None;
    }
    let mut call = AiCall::new(AiApi::GeminiGenerateContent);
    call.model = path_model(v.path)
        .or_else(|| v.request_model())
        .or_else(|| chunks(v).find_map(|c| str_at(c, "/modelVersion")));
    call.streaming = verb == Some("streamGenerateContent") || v.stream().is_some();
    // Every streamed chunk may carry usage so far; the last one has the totals.
    if let Some(usage) = chunks(v).rev().find_map(|c| c.get("usageMetadata")) {
        let output = match (
            u64_at(usage, "/candidatesTokenCount"),
            u64_at(usage, "/thoughtsTokenCount"),
        ) {
            // Thinking is billed as output.
            (Some(c), Some(t)) => Some(c.saturating_add(t)),
            (c, t) => c.or(t),
        };
        call.take_usage(u64_at(usage, "/promptTokenCount"), output);
    }
    let mut text = PromptText::default();
    if let Some(system) = v
        .req("systemInstruction")
        .or_else(|| v.req("system_instruction"))
    {
        text.add(system.get("parts").unwrap_or(system));
    }
    text.add_messages(v.req("contents"), "parts");
    call.prompt_text = text.finish();
    Some(call)
}

/// What follows the last `:` of the last path segment (`generateContent`).
fn path_verb(path: &str) -> Option<&str> {
    let last = path.rsplit('/').next()?;
    last.rsplit_once(':').map(|(_, verb)| verb)
}

/// `gemini-2.0-flash` of `/v1beta/models/gemini-2.0-flash:generateContent`.
fn path_model(path: &str) -> Option<String> {
    let (_, rest) = path.rsplit_once("/models/")?;
    let model = rest.split([':', '/']).next()?;
    (!model.is_empty()).then(|| model.to_owned())
}

fn request_has_contents(v: &View<'_>) -> bool {
    v.req("contents")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            !c.is_empty()
                && c.iter()
                    .all(|m| m.get("parts").is_some_and(Value::is_array))
        })
}

/// The response's chunks: the one object, the elements of a JSON array, or the stream events.
fn chunks<'v>(v: &'v View<'_>) -> Box<dyn DoubleEndedIterator<Item = &'v Value> + 'v> {
    match &v.response {
        Response::Json(Value::Array(items)) => Box::new(items.iter()),
        Response::Json(one) => Box::new(std::iter::once(one)),
        Response::Stream(s) => Box::new(s.values()),
        Response::Absent => Box::new(std::iter::empty()),
    }
}

fn is_response_chunk(c: &Value) -> bool {
    c.pointer("/candidates/0/content/parts")
        .is_some_and(Value::is_array)
        || (c.get("candidates").is_some_and(Value::is_array)
            && c.pointer("/usageMetadata/promptTokenCount").is_some())
}
