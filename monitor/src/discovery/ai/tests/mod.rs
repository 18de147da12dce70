//! Recognition of each API from the wire format of the real services (fixtures under
//! `discovery/testdata/ai`), with one half missing or cut, and of look-alikes that are not AI.

use proptest::prelude::*;

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../testdata/ai/", $name)).as_slice()
    };
}

const JSON: Option<&str> = Some("application/json");
const SSE: Option<&str> = Some("text/event-stream");
const NDJSON: Option<&str> = Some("application/x-ndjson");

/// One exchange as a test writes it.
#[derive(Clone, Default)]
struct Case<'a> {
    path: &'a str,
    request_headers: &'a [(&'a str, &'a str)],
    request: &'a [u8],
    status: Option<u16>,
    content_type: Option<&'a str>,
    response_headers: &'a [(&'a str, &'a str)],
    response: &'a [u8],
}

impl<'a> Case<'a> {
    fn new(
        path: &'a str,
        request: &'a [u8],
        content_type: Option<&'a str>,
        response: &'a [u8],
    ) -> Self {
        let status = (!response.is_empty()).then_some(200);
        Case {
            path,
            request,
            status,
            content_type,
            response,
            ..Case::default()
        }
    }

    fn recognise(&self) -> Option<AiCall> {
        let headers = |fields: &[(&str, &str)]| {
            let mut h = Headers::default();
            fields.iter().for_each(|(n, v)| h.push(n, v.as_bytes()));
            h
        };
        let request_headers = headers(self.request_headers);
        let mut response_headers = headers(self.response_headers);
        if let Some(ct) = self.content_type {
            response_headers.push("Content-Type", ct.as_bytes());
        }
        recognise(&Exchange {
            path: self.path,
            request_headers: &request_headers,
            request_body: self.request,
            status: self.status,
            response_headers: &response_headers,
            response_body: self.response,
        })
    }

    fn request_only(&self) -> Self {
        Case {
            status: None,
            content_type: None,
            response: b"",
            ..self.clone()
        }
    }

    fn response_only(&self) -> Self {
        Case {
            request: b"",
            ..self.clone()
        }
    }
}

fn call(
    api: AiApi,
    model: &str,
    streaming: bool,
    input: Option<u64>,
    output: Option<u64>,
) -> AiCall {
    AiCall {
        model: Some(model.to_owned()),
        streaming,
        input_tokens: input,
        output_tokens: output,
        ..AiCall::new(api)
    }
}

fn with(mut c: AiCall, provider: Option<Provider>, prompt: Option<&str>) -> AiCall {
    c.provider = provider;
    c.prompt_text = prompt.map(str::to_owned);
    c
}

fn mcp(m: McpCall, streaming: bool) -> AiCall {
    AiCall {
        streaming,
        mcp: Some(m),
        ..AiCall::new(AiApi::Mcp)
    }
}

// The modules come after the harness: `fixture!` is only seen below its definition.
mod mcp;
mod native;
mod openai;

// ---- Not AI ----

#[test]
fn look_alikes_are_not_recognised() {
    let cases = [
        Case::new("/api/messages", fixture!("negative_messages.req.json"), None, b""),
        Case::new("/dealers/search", fixture!("negative_car.req.json"), JSON, fixture!("negative_car.resp.json")),
        Case::new("/", fixture!("negative_jsonrpc.req.json"), JSON, fixture!("negative_jsonrpc.resp.json")),
        // LSP's initialize has no protocolVersion.
        Case::new("/rpc", br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":1,"rootUri":null,"capabilities":{}}}"#, None, b""),
        // `{"model", "input"}` alone could be a moderation, or anything.
        Case::new("/check", br#"{"model":"omni-moderation-latest","input":"some text"}"#, None, b""),
        // An image generation request names a model and a prompt, but is no completion.
        Case::new("/gen", br#"{"model":"dall-e-3","prompt":"a cat","n":1,"size":"1024x1024"}"#, None, b""),
        // A chat app's own API: messages with roles but no model.
        Case::new("/api/conversations", br#"{"messages":[{"role":"user","content":"hi"}]}"#, None, b""),
        Case::new("/v1/chat/completions", b"", Some("text/html"), b"<html>not found</html>"),
        Case::new("/x", b"plain text", Some("text/plain"), b"data: not json\n\n"),
    ];
    for case in cases {
        assert_eq!(case.recognise(), None, "{}", case.path);
    }
}

#[test]
fn error_responses_do_not_decide_the_shape() {
    let case = Case {
        status: Some(429),
        ..Case::new(
            "/v1/chat/completions",
            fixture!("openai_chat.req.json"),
            JSON,
            br#"{"error":{"message":"Rate limit","type":"requests","code":"rate_limit_exceeded"}}"#,
        )
    };
    assert_eq!(
        case.recognise().map(|c| (c.api, c.input_tokens)),
        Some((AiApi::OpenaiChatCompletions, None))
    );
}

#[test]
fn calls_serialize_without_their_prompt_text() {
    let case = Case::new(
        "/mcp",
        fixture!("mcp_tools_call.req.json"),
        SSE,
        fixture!("mcp_tools_call.resp.sse"),
    );
    let json = serde_json::to_value(case.recognise()).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({"api":"mcp","streaming":true,"mcp":{"method":"tools/call","tool":"get_weather"}})
    );
    let case = Case::new(
        "/v1/chat/completions",
        fixture!("openai_chat_stream.req.json"),
        SSE,
        fixture!("openai_chat_stream.resp.sse"),
    );
    let json = serde_json::to_value(case.recognise()).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({"api":"openai_chat_completions","model":"gpt-4o-mini","streaming":true,"input_tokens":9,"output_tokens":2})
    );
}

// ---- Cut bodies ----

#[test]
fn cut_bodies_keep_what_they_hold() {
    // A request cut inside its first message at the standard path.
    let req = fixture!("anthropic.req.json");
    let cut = Case {
        request_headers: &[("anthropic-version", "2023-06-01")],
        ..Case::new("/v1/messages", &req[..120], None, b"")
    };
    assert_eq!(
        cut.recognise().map(|c| (c.api, c.model)),
        Some((
            AiApi::AnthropicMessages,
            Some("claude-sonnet-4-20250514".into())
        ))
    );
    // A stream cut before its usage chunk.
    let resp = fixture!("openai_chat_stream.resp.sse");
    let cut = Case::new("/v1/chat/completions", b"", SSE, &resp[..700]);
    assert_eq!(
        cut.recognise(),
        Some(call(
            AiApi::OpenaiChatCompletions,
            "gpt-4o-mini-2024-07-18",
            true,
            None,
            None
        ))
    );
}

#[test]
fn every_fixture_cut_anywhere_is_handled() {
    let fixtures: &[(&str, &[u8], &[u8])] = &[
        (
            "/v1/chat/completions",
            fixture!("openai_chat.req.json"),
            fixture!("openai_chat_stream.resp.sse"),
        ),
        (
            "/v1/responses",
            fixture!("openai_responses.req.json"),
            fixture!("openai_responses_stream.resp.sse"),
        ),
        (
            "/v1/messages",
            fixture!("anthropic.req.json"),
            fixture!("anthropic_stream.resp.sse"),
        ),
        (
            "/v1beta/models/g:generateContent",
            fixture!("gemini.req.json"),
            fixture!("gemini_stream_array.resp.json"),
        ),
        (
            "/api/chat",
            fixture!("ollama_chat.req.json"),
            fixture!("ollama_chat.resp.ndjson"),
        ),
        (
            "/mcp",
            fixture!("mcp_batch.req.json"),
            fixture!("mcp_legacy_sse.resp.sse"),
        ),
    ];
    for (path, req, resp) in fixtures {
        for cut in 0..=req.len().max(resp.len()) {
            let req = &req[..cut.min(req.len())];
            let resp = &resp[..cut.min(resp.len())];
            let _ = Case::new(path, req, None, resp).recognise();
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        req in proptest::collection::vec(any::<u8>(), 0..512),
        resp in proptest::collection::vec(any::<u8>(), 0..512),
        sse in any::<bool>(),
    ) {
        let ct = if sse { SSE } else { JSON };
        let _ = Case::new("/v1/chat/completions", &req, ct, &resp).recognise();
    }

    #[test]
    fn json_like_bytes_never_panic(text in r#"[\[\]{}",:a-z0-9\\ \n]{0,300}"#) {
        let _ = Case::new("/mcp", text.as_bytes(), None, text.as_bytes()).recognise();
        let _ = json::parse_prefix(text.as_bytes());
    }
}
