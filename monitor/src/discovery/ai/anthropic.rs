//! Anthropic's Messages API (also behind Bedrock and Vertex, which put the model in the path
//! and `anthropic_version` in the body). Its request looks much like an OpenAI chat, so a body
//! alone is claimed only with a member OpenAI lacks; its responses are unmistakable.

use serde_json::Value;

use super::{
    AiApi, AiCall, is_conversation,
    prompt::PromptText,
    str_at, u64_at,
    view::{Response, View},
};

const ROLES: &[&str] = &["user", "assistant"];

pub fn recognise(v: &View<'_>) -> Option<AiCall> {
    if !(response_is_message(v) || request_is_message(v)) {
        return None;
    }
    let mut call = AiCall::new(AiApi::AnthropicMessages);
    call.model = v.request_model().or_else(|| match &v.response {
        Response::Json(r) => str_at(r, "/model"),
        Response::Stream(s) => s.values().find_map(|e| str_at(e, "/message/model")),
        Response::Absent => None,
    });
    call.streaming = v.req("stream").and_then(Value::as_bool) == Some(true) || v.stream().is_some();
    match &v.response {
        Response::Json(r) => call.take_usage(
            u64_at(r, "/usage/input_tokens"),
            u64_at(r, "/usage/output_tokens"),
        ),
        // `message_start` holds the input count and a first output count; each
        // `message_delta` holds the output count so far (and, lately, the input count again).
        Response::Stream(s) => {
            for event in s.values() {
                let usage = match event.get("type").and_then(Value::as_str) {
                    Some("message_start") => event.pointer("/message/usage"),
                    Some("message_delta") => event.get("usage"),
                    _ => None,
                };
                if let Some(u) = usage {
                    call.take_usage(u64_at(u, "/input_tokens"), u64_at(u, "/output_tokens"));
                }
            }
        }
        Response::Absent => {}
    }
    let mut text = PromptText::default();
    if let Some(system) = v.req("system") {
        text.add(system);
    }
    text.add_messages(v.req("messages"), "content");
    call.prompt_text = text.finish();
    Some(call)
}

fn response_is_message(v: &View<'_>) -> bool {
    match &v.response {
        Response::Json(r) => {
            r.get("type").and_then(Value::as_str) == Some("message")
                && r.get("role").and_then(Value::as_str) == Some("assistant")
                && r.get("content").is_some_and(Value::is_array)
        }
        Response::Stream(s) => s.events.iter().take(4).any(|e| {
            e.is("message_start")
                || e.value.as_ref().is_some_and(|d| {
                    d.get("type").and_then(Value::as_str) == Some("message_start")
                        && d.get("message").is_some()
                })
        }),
        Response::Absent => false,
    }
}

fn request_is_message(v: &View<'_>) -> bool {
    let Some(req) = v.request.as_ref().and_then(Value::as_object) else {
        return false;
    };
    let says_anthropic = v.request_headers.contains("anthropic-version")
        || req.contains_key("anthropic_version")
        || (v.path_ends_with("/v1/messages") && req.contains_key("max_tokens"));
    if says_anthropic {
        // A cut body may hold no whole message; the envelope has spoken.
        return req.contains_key("messages") || req.contains_key("model");
    }
    // Otherwise a top-level `system` beside `max_tokens` is Anthropic's alone.
    req.contains_key("max_tokens")
        && req.contains_key("system")
        && is_conversation(req.get("messages"), ROLES)
}
