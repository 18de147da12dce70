//! OpenAI's API and the many servers that imitate it (vLLM, LiteLLM, OpenRouter, Azure, ...):
//! chat completions, legacy completions, embeddings and the Responses API. The response's
//! `object` names the API outright; a request alone is claimed only when its shape leaves no
//! doubt, as `model`, `input` and `prompt` are common words.

use serde_json::Value;

use super::{
    AiApi, AiCall, is_conversation,
    prompt::PromptText,
    str_at, u64_at,
    view::{Response, View},
};

const CHAT_ROLES: &[&str] = &[
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];
/// Request members only the legacy completions API (among the ones taking `prompt`) has.
const COMPLETION_KEYS: &[&str] = &[
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "stream",
    "suffix",
    "echo",
    "best_of",
    "logprobs",
];
/// Request members of the Responses API that embeddings and moderations lack.
const RESPONSES_KEYS: &[&str] = &[
    "instructions",
    "previous_response_id",
    "max_output_tokens",
    "store",
    "tools",
    "reasoning",
    "text",
    "stream",
    "conversation",
];
const EMBEDDING_KEYS: &[&str] = &["encoding_format", "dimensions"];

pub fn recognise(v: &View<'_>) -> Option<AiCall> {
    let api = response_api(v).or_else(|| request_api(v))?;
    let mut call = AiCall::new(api);
    call.model = v.request_model().or_else(|| response_model(v));
    call.streaming = v.req("stream").and_then(Value::as_bool) == Some(true) || v.stream().is_some();
    let (input, output) = usage(v, api);
    call.take_usage(input, output);
    call.prompt_text = prompt_text(v, api);
    Some(call)
}

fn response_api(v: &View<'_>) -> Option<AiApi> {
    let first = match &v.response {
        Response::Json(value) => value,
        Response::Stream(s) => s.values().next()?,
        Response::Absent => return None,
    };
    match first.get("object").and_then(Value::as_str) {
        Some("chat.completion" | "chat.completion.chunk") => Some(AiApi::OpenaiChatCompletions),
        Some("text_completion") => Some(AiApi::OpenaiCompletions),
        Some("response") => Some(AiApi::OpenaiResponses),
        Some("list") if is_embedding_list(first) => Some(AiApi::OpenaiEmbeddings),
        _ => {
            // Streamed Responses API events: `{"type":"response.created","response":{..}}`.
            let kind = first.get("type").and_then(Value::as_str)?;
            (kind.starts_with("response.") && first.get("response").is_some())
                .then_some(AiApi::OpenaiResponses)
        }
    }
}

fn is_embedding_list(list: &Value) -> bool {
    list.pointer("/data/0").is_some_and(|d| {
        d.get("object").and_then(Value::as_str) == Some("embedding")
            || d.get("embedding")
                .is_some_and(|e| e.is_array() || e.is_string())
    })
}

fn request_api(v: &View<'_>) -> Option<AiApi> {
    let req = v.request.as_ref()?.as_object()?;
    let has = |k: &str| req.contains_key(k);
    let any = |keys: &[&str]| keys.iter().any(|k| req.contains_key(*k));
    // At the standard paths the body need only have the member that carries the input (Azure
    // names the model in the path, and a cut body may have lost the rest).
    if v.path_ends_with("/chat/completions") {
        return has("messages").then_some(AiApi::OpenaiChatCompletions);
    }
    if v.path_ends_with("/completions") {
        return has("prompt").then_some(AiApi::OpenaiCompletions);
    }
    if v.path_ends_with("/embeddings") {
        return has("input").then_some(AiApi::OpenaiEmbeddings);
    }
    if v.path_ends_with("/responses") {
        return (has("input") || has("model")).then_some(AiApi::OpenaiResponses);
    }
    // Elsewhere a model must be named, and the shape must be the API's own.
    let model = req.get("model")?.as_str()?;
    if is_conversation(req.get("messages"), CHAT_ROLES) {
        return Some(AiApi::OpenaiChatCompletions);
    }
    if is_prompt(req.get("prompt")) && any(COMPLETION_KEYS) {
        return Some(AiApi::OpenaiCompletions);
    }
    let input = req.get("input")?;
    if any(RESPONSES_KEYS) || is_item_list(input) {
        Some(AiApi::OpenaiResponses)
    } else if any(EMBEDDING_KEYS) || model.to_ascii_lowercase().contains("embed") {
        Some(AiApi::OpenaiEmbeddings)
    } else {
        // `{"model", "input"}` alone is as likely a moderation or some other API.
        None
    }
}

/// A completion prompt: text, or a list of texts or of token ids.
fn is_prompt(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => items
            .iter()
            .all(|i| i.is_string() || i.is_u64() || i.is_array()),
        _ => false,
    }
}

/// A Responses API input list: items with a role or a type (`message`, `function_call_output`).
fn is_item_list(input: &Value) -> bool {
    input.as_array().is_some_and(|items| {
        !items.is_empty()
            && items.iter().all(|i| {
                i.get("role").is_some_and(Value::is_string)
                    || i.get("type").is_some_and(Value::is_string)
            })
    })
}

fn response_model(v: &View<'_>) -> Option<String> {
    match &v.response {
        Response::Json(r) => str_at(r, "/model"),
        Response::Stream(s) => s
            .values()
            .find_map(|e| str_at(e, "/model").or_else(|| str_at(e, "/response/model"))),
        Response::Absent => None,
    }
}

/// Token counts of the response's usage object; when streamed, of the last event that has one
/// (the `include_usage` chunk, or `response.completed`).
fn usage(v: &View<'_>, api: AiApi) -> (Option<u64>, Option<u64>) {
    let usage = match &v.response {
        Response::Json(r) => r.get("usage"),
        Response::Stream(s) => s.values().rev().find_map(|e| {
            e.get("usage")
                .or_else(|| e.pointer("/response/usage"))
                .filter(|u| u.is_object())
        }),
        Response::Absent => None,
    };
    let Some(usage) = usage else {
        return (None, None);
    };
    match api {
        AiApi::OpenaiResponses => (
            u64_at(usage, "/input_tokens"),
            u64_at(usage, "/output_tokens"),
        ),
        _ => (
            u64_at(usage, "/prompt_tokens").or_else(|| u64_at(usage, "/input_tokens")),
            u64_at(usage, "/completion_tokens").or_else(|| u64_at(usage, "/output_tokens")),
        ),
    }
}

fn prompt_text(v: &View<'_>, api: AiApi) -> Option<String> {
    let mut text = PromptText::default();
    match api {
        AiApi::OpenaiChatCompletions => text.add_messages(v.req("messages"), "content"),
        AiApi::OpenaiCompletions => text.add(v.req("prompt")?),
        AiApi::OpenaiEmbeddings => text.add(v.req("input")?),
        _ => {
            if let Some(instructions) = v.req("instructions") {
                text.add(instructions);
            }
            if let Some(input) = v.req("input") {
                text.add(input);
            }
        }
    }
    text.finish()
}
