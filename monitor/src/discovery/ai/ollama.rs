//! Ollama's native API: `/api/chat`, `/api/generate`, `/api/embed` and the older
//! `/api/embeddings`. Answers stream as NDJSON unless the request says `stream: false`; the
//! last line (`done: true`) holds the counts.

use serde_json::Value;

use super::{
    AiApi, AiCall, is_conversation,
    prompt::PromptText,
    str_at, u64_at,
    view::{Response, View},
};

const ROLES: &[&str] = &["system", "user", "assistant", "tool"];
/// Request members of Ollama's own that OpenAI-style requests lack.
const OLLAMA_KEYS: &[&str] = &["options", "keep_alive", "format", "think"];

pub fn recognise(v: &View<'_>) -> Option<AiCall> {
    let api = by_path(v)
        .or_else(|| by_response(v))
        .or_else(|| by_request(v))?;
    let mut call = AiCall::new(api);
    call.model = v
        .request_model()
        .or_else(|| lines(v).find_map(|l| str_at(l, "/model")));
    call.streaming = match (api, v.req("stream").and_then(Value::as_bool)) {
        (AiApi::OllamaEmbeddings, _) => false,
        (_, Some(stream)) => stream,
        // Streaming is the default: a request without `stream` gets NDJSON.
        (_, None) if v.request.is_some() => true,
        (_, None) => v.stream().is_some(),
    };
    // The counts are only in the final object (`done: true`).
    if let Some(last) = lines(v)
        .rev()
        .find(|l| l.get("prompt_eval_count").is_some())
    {
        call.take_usage(
            u64_at(last, "/prompt_eval_count"),
            u64_at(last, "/eval_count"),
        );
    }
    let mut text = PromptText::default();
    if let Some(system) = v.req("system") {
        text.add(system);
    }
    match api {
        AiApi::OllamaChat => text.add_messages(v.req("messages"), "content"),
        _ => {
            for key in ["prompt", "input"] {
                if let Some(value) = v.req(key) {
                    text.add(value);
                }
            }
        }
    }
    call.prompt_text = text.finish();
    Some(call)
}

fn by_path(v: &View<'_>) -> Option<AiApi> {
    let (key, api) = if v.path_ends_with("/api/chat") {
        ("messages", AiApi::OllamaChat)
    } else if v.path_ends_with("/api/generate") {
        ("prompt", AiApi::OllamaGenerate)
    } else if v.path_ends_with("/api/embed") {
        ("input", AiApi::OllamaEmbeddings)
    } else if v.path_ends_with("/api/embeddings") {
        ("prompt", AiApi::OllamaEmbeddings)
    } else {
        return None;
    };
    // The path is common enough that the body must agree: the request's member, or the
    // response's shape when only that was captured.
    (v.req(key).is_some() || (v.request.is_none() && by_response(v).is_some())).then_some(api)
}

/// Streamed or not, every answer object has `model`, `created_at` and `done`.
fn by_response(v: &View<'_>) -> Option<AiApi> {
    let first = lines(v).next()?;
    if first.get("embeddings").is_some_and(Value::is_array) && first.get("total_duration").is_some()
    {
        return Some(AiApi::OllamaEmbeddings);
    }
    let answer = first.get("created_at").is_some_and(Value::is_string)
        && first.get("done").is_some_and(Value::is_boolean)
        && first.get("model").is_some_and(Value::is_string);
    if !answer {
        return None;
    }
    if first.get("message").is_some_and(Value::is_object) {
        Some(AiApi::OllamaChat)
    } else if first.get("response").is_some_and(Value::is_string) {
        Some(AiApi::OllamaGenerate)
    } else {
        None
    }
}

fn by_request(v: &View<'_>) -> Option<AiApi> {
    let req = v.request.as_ref()?.as_object()?;
    req.get("model")?.as_str()?;
    if !OLLAMA_KEYS.iter().any(|k| req.contains_key(*k)) {
        return None;
    }
    if is_conversation(req.get("messages"), ROLES) {
        Some(AiApi::OllamaChat)
    } else if req.get("prompt").is_some_and(Value::is_string) {
        Some(AiApi::OllamaGenerate)
    } else if req.contains_key("input") {
        Some(AiApi::OllamaEmbeddings)
    } else {
        None
    }
}

/// The response's objects: the NDJSON lines, or the one JSON object.
fn lines<'v>(v: &'v View<'_>) -> Box<dyn DoubleEndedIterator<Item = &'v Value> + 'v> {
    match &v.response {
        Response::Json(one) => Box::new(std::iter::once(one)),
        Response::Stream(s) => Box::new(s.values()),
        Response::Absent => Box::new(std::iter::empty()),
    }
}
