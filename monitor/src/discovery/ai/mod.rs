//! Recognises calls to AI models (OpenAI-compatible, Anthropic, Gemini, Ollama) and to agent
//! tool servers (MCP) by the shape of their traffic — bodies, event streams, headers — not only
//! by their path, so that proxies and self-hosted gateways at any path are seen too.
//!
//! Pure: one HTTP exchange in, an [`AiCall`] or nothing out. Bodies may be cut anywhere.

mod anthropic;
mod gemini;
mod json;
mod mcp;
mod ndjson;
mod ollama;
mod openai;
mod prompt;
mod provider;
mod sse;
mod stream;
mod view;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::Value;

use crate::transaction::Headers;
pub use prompt::PROMPT_TEXT_MAX;
pub use provider::Provider;

/// What the caller has of one HTTP transaction.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The request path; a query left on it is ignored.
    pub path: &'a str,
    pub request_headers: &'a Headers,
    /// De-chunked and decompressed; maybe cut short.
    pub request_body: &'a [u8],
    /// `None` when the response was not captured.
    pub status: Option<u16>,
    /// Its `content-type` says whether the body is a stream.
    pub response_headers: &'a Headers,
    /// De-chunked and decompressed; maybe cut short.
    pub response_body: &'a [u8],
}

/// Which API an exchange speaks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AiApi {
    OpenaiChatCompletions,
    OpenaiCompletions,
    OpenaiEmbeddings,
    OpenaiResponses,
    AnthropicMessages,
    GeminiGenerateContent,
    OllamaChat,
    OllamaGenerate,
    OllamaEmbeddings,
    Mcp,
}

/// One recognised call.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AiCall {
    pub api: AiApi,
    /// Who serves it, when the host, headers or the API itself say so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// The request's model, else the response's (Gemini: the one in the path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The request asked for a stream, or the response is one.
    pub streaming: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpCall>,
    /// The text the request sends to the model (system, messages, prompt, input), joined by
    /// newlines, at most [`PROMPT_TEXT_MAX`] bytes. For detection stages only: never written
    /// out, as it would bypass the redaction of bodies.
    #[serde(skip)]
    pub prompt_text: Option<String>,
}

/// What an MCP (Model Context Protocol) exchange does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct McpCall {
    /// The JSON-RPC method of the request (the first of a batch); for an event stream the
    /// client opened with GET, the first method the server sent, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Messages in a JSON-RPC batch; `None` for a single message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// The tool of `tools/call`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The URI of `resources/read`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The prompt of `prompts/get`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// From `initialize` (result, else params) or the `mcp-protocol-version` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// `clientInfo.name` of `initialize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `serverInfo` of the `initialize` result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The JSON-RPC error code of the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// A `tools/call` result that says the tool failed (`isError: true`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tool_error: bool,
}

/// Endpoints beside the model calls, with the same request bodies.
const NOT_MODEL_CALLS: &[&str] = &["/count_tokens", ":countTokens", "/messages/batches"];

/// What `x` calls, if it is an AI model or MCP call.
pub fn recognise(x: &Exchange<'_>) -> Option<AiCall> {
    let view = view::View::new(x);
    if view.request.is_none() && matches!(view.response, view::Response::Absent) {
        return None;
    }
    // Token counting and batches take the same bodies as model calls but run no model.
    if NOT_MODEL_CALLS.iter().any(|p| view::has(view.path, p)) {
        return None;
    }
    // MCP first: its JSON-RPC envelope is unmistakable. Then the native APIs whose shapes are
    // their own, before OpenAI's, which many servers imitate and which is the fallback.
    let mut call = mcp::recognise(&view)
        .or_else(|| gemini::recognise(&view))
        .or_else(|| anthropic::recognise(&view))
        .or_else(|| ollama::recognise(&view))
        .or_else(|| openai::recognise(&view))?;
    call.provider = provider::hint(&view, call.api);
    Some(call)
}

impl AiCall {
    fn new(api: AiApi) -> AiCall {
        AiCall {
            api,
            provider: None,
            model: None,
            streaming: false,
            input_tokens: None,
            output_tokens: None,
            mcp: None,
            prompt_text: None,
        }
    }

    /// Takes the counts of a usage object, keeping earlier ones the object does not have.
    fn take_usage(&mut self, input: Option<u64>, output: Option<u64>) {
        self.input_tokens = input.or(self.input_tokens);
        self.output_tokens = output.or(self.output_tokens);
    }
}

/// Text at `pointer` (RFC 6901) in `v`.
fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)?.as_str().map(str::to_owned)
}

fn u64_at(v: &Value, pointer: &str) -> Option<u64> {
    v.pointer(pointer)?.as_u64()
}

/// Whether `v` is a non-empty array of objects whose `role` is one of `roles`: a conversation.
fn is_conversation(v: Option<&Value>, roles: &[&str]) -> bool {
    match v.and_then(Value::as_array) {
        Some(items) if !items.is_empty() => items.iter().all(|m| {
            m.get("role")
                .and_then(Value::as_str)
                .is_some_and(|r| roles.contains(&r))
        }),
        _ => false,
    }
}
