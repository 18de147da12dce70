//! Pulls the texts out of one AI exchange by the API's shape: who wrote each (the user, the
//! application's system prompt, a tool, a retrieval step, the model, an MCP server) and where.
//!
//! Latest messages first, so a budget spent on a long history loses the oldest turns; part of
//! the budget is kept for the response. Bodies that do not parse are still read as text.

mod anthropic;
mod body;
mod content;
mod gemini;
mod mcp;
mod ollama;
mod openai;
mod rag;

use serde_json::Value;

use super::{
    AiExchange,
    texts::{Text, Texts, append_bounded},
};
use crate::{detection::hit::Part, discovery::ai::AiApi};

/// Messages of one conversation read, latest first.
const MAX_MESSAGES: usize = 512;

/// What extraction read and left out.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Extracted {
    /// Bytes of text left out for want of room.
    pub skipped_bytes: usize,
    /// Bodies (or cut tails of bodies) read as plain text because they were not JSON.
    pub unparsed: usize,
}

pub fn texts(x: &AiExchange<'_>, max_bytes: usize, max_texts: usize) -> (Vec<Text>, Extracted) {
    let api = x.call.api;
    // Keep room for the response: a long prompt must not hide what the model or server said.
    let reserve = if x.response_body.is_empty() {
        0
    } else {
        x.response_body.len().min(max_bytes / 2)
    };
    let mut t = Texts::new(max_bytes - reserve, max_texts);
    let mut unparsed = 0;
    let request = body::parse(x.request_body);
    if let Some(v) = &request.value {
        self::request(&mut t, api, v);
    }
    unparsed += leftovers(
        &mut t,
        request.rest,
        Part::PromptUser,
        request.value.is_some(),
    );
    t.give_back(reserve);
    unparsed += response(&mut t, x, api);
    let skipped_bytes = t.skipped_bytes;
    (
        t.into_items(),
        Extracted {
            skipped_bytes,
            unparsed,
        },
    )
}

fn request(t: &mut Texts, api: AiApi, v: &Value) {
    match api {
        AiApi::OpenaiChatCompletions => openai::chat_request(t, v),
        AiApi::OpenaiCompletions => openai::completions_request(t, v),
        AiApi::OpenaiEmbeddings | AiApi::OllamaEmbeddings => openai::embeddings_request(t, v),
        AiApi::OpenaiResponses => openai::responses_request(t, v),
        AiApi::AnthropicMessages => anthropic::request(t, v),
        AiApi::GeminiGenerateContent => gemini::request(t, v),
        AiApi::OllamaChat | AiApi::OllamaGenerate => ollama::request(t, v),
        AiApi::Mcp => mcp::request(t, v),
    }
}

/// Reads what JSON parsing left (a cut tail, or a body that is not JSON) as text.
fn leftovers(t: &mut Texts, rest: &[u8], part: Part, cut: bool) -> usize {
    if rest.trim_ascii().is_empty() {
        return 0;
    }
    let name = if cut { "body(cut)" } else { "body" };
    for s in body::harvest(rest) {
        if t.is_full() {
            break;
        }
        content::text(t, part, name, &s);
    }
    1
}

fn response(t: &mut Texts, x: &AiExchange<'_>, api: AiApi) -> usize {
    let bytes = x.response_body;
    if bytes.trim_ascii().is_empty() {
        return 0;
    }
    let part = if api == AiApi::Mcp {
        Part::McpResponse
    } else {
        Part::ModelResponse
    };
    let streamed = if body::is_sse(bytes, x.response_type) {
        let events = body::sse_data(bytes);
        Some(body::json_values(events.iter().map(|e| e.as_ref())))
    } else if body::is_ndjson(bytes, x.response_type) {
        Some(body::json_values(body::ndjson_lines(bytes)))
    } else {
        None
    };
    if let Some((values, tails)) = streamed {
        stream(t, api, &values);
        // A stream cut inside an event: its text is read on its own.
        for s in &tails {
            content::text(t, part, "body(cut)", s);
        }
        return usize::from(!tails.is_empty());
    }
    let parsed = body::parse(bytes);
    match (&parsed.value, api) {
        // Gemini streams without SSE as one JSON array of chunks.
        (Some(Value::Array(chunks)), AiApi::GeminiGenerateContent) => stream(t, api, chunks),
        (Some(v), _) => self::response_value(t, api, v),
        (None, _) => {}
    }
    leftovers(t, parsed.rest, part, parsed.value.is_some())
}

fn response_value(t: &mut Texts, api: AiApi, v: &Value) {
    match api {
        AiApi::OpenaiChatCompletions | AiApi::OpenaiCompletions => openai::choices_response(t, v),
        AiApi::OpenaiResponses => openai::responses_response(t, v),
        AiApi::AnthropicMessages => anthropic::response(t, v),
        AiApi::GeminiGenerateContent => gemini::response(t, v),
        AiApi::OllamaChat | AiApi::OllamaGenerate => ollama::response(t, v),
        AiApi::Mcp => mcp::response(t, v),
        AiApi::OpenaiEmbeddings | AiApi::OllamaEmbeddings => {}
    }
}

/// A streamed answer: the text deltas of all events joined into one text (named by where
/// the deltas sit); an MCP stream's events are messages of their own.
fn stream(t: &mut Texts, api: AiApi, events: &[Value]) {
    if api == AiApi::Mcp {
        for v in events {
            mcp::response(t, v);
        }
        return;
    }
    let (delta, name): (Delta, &str) = match api {
        AiApi::OpenaiChatCompletions => (openai::chat_delta, "choices[0].delta"),
        AiApi::OpenaiCompletions => (openai::completions_delta, "choices[0].text"),
        AiApi::OpenaiResponses => (openai::responses_delta, "output_text.delta"),
        AiApi::AnthropicMessages => (anthropic::delta, "content_block_delta"),
        AiApi::GeminiGenerateContent => (gemini::delta, "candidates[0].content"),
        AiApi::OllamaChat | AiApi::OllamaGenerate => (ollama::delta, "message.content"),
        AiApi::OpenaiEmbeddings | AiApi::OllamaEmbeddings | AiApi::Mcp => return,
    };
    let room = t.room();
    let mut joined = String::new();
    let mut lost = 0usize;
    for v in events {
        delta(v, &mut |piece| {
            lost = lost.saturating_add(append_bounded(&mut joined, piece, room))
        });
    }
    t.skipped_bytes = t.skipped_bytes.saturating_add(lost);
    t.push(Part::ModelResponse, || name.to_owned(), &joined);
}

/// Reads the text deltas of one stream event.
type Delta = fn(&Value, &mut dyn FnMut(&str));

/// `v[key]` as an array, or nothing.
fn array<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The part a chat role's message plays; `None` for the model's own earlier turns, which are
/// history the client replays, not new input (a forged history is the client's own words, and
/// its user turns are read anyway).
fn role_part(role: Option<&str>) -> Option<Part> {
    match role.unwrap_or("user") {
        "system" | "developer" => Some(Part::PromptSystem),
        "tool" | "function" | "ipython" | "tool_result" => Some(Part::ToolResult),
        "assistant" | "model" | "bot" | "ai" => None,
        _ => Some(Part::PromptUser),
    }
}

/// The messages of a chat (`messages`, `input`, `contents`), latest first, with their index.
fn latest_first(items: &[Value]) -> impl Iterator<Item = (usize, &Value)> {
    items.iter().enumerate().rev().take(MAX_MESSAGES)
}
