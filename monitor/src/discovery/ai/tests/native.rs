//! The providers' own APIs: Anthropic messages, Gemini generateContent, Ollama.

use super::*;

#[test]
fn anthropic_messages() {
    let case = Case {
        request_headers: &[
            ("host", "api.anthropic.com"),
            ("anthropic-version", "2023-06-01"),
        ],
        ..Case::new(
            "/v1/messages",
            fixture!("anthropic.req.json"),
            JSON,
            fixture!("anthropic.resp.json"),
        )
    };
    let want = with(
        call(
            AiApi::AnthropicMessages,
            "claude-sonnet-4-20250514",
            false,
            Some(2095),
            Some(503),
        ),
        Some(Provider::Anthropic),
        Some("You are a terse assistant.\nHello, Claude\nHello!\nCan you describe LLMs to me?"),
    );
    assert_eq!(case.recognise(), Some(want.clone()));
    // Without the header or the path, `system` beside `max_tokens` still tells it from OpenAI.
    let bare = Case {
        request_headers: &[],
        path: "/llm",
        ..case.request_only()
    };
    assert_eq!(
        bare.recognise(),
        Some(AiCall {
            provider: None,
            input_tokens: None,
            output_tokens: None,
            ..want
        })
    );
}

#[test]
fn anthropic_stream_counts_from_message_start_and_message_delta() {
    let case = Case {
        request_headers: &[("anthropic-version", "2023-06-01")],
        ..Case::new(
            "/v1/messages",
            fixture!("anthropic_stream.req.json"),
            SSE,
            fixture!("anthropic_stream.resp.sse"),
        )
    };
    let want = with(
        call(
            AiApi::AnthropicMessages,
            "claude-3-5-haiku-latest",
            true,
            Some(25),
            Some(15),
        ),
        None,
        Some("Hello"),
    );
    assert_eq!(case.recognise(), Some(want));
    let response_only = Case {
        path: "/any",
        ..case.response_only()
    };
    assert_eq!(
        response_only.recognise(),
        Some(call(
            AiApi::AnthropicMessages,
            "claude-3-5-haiku-20241022",
            true,
            Some(25),
            Some(15)
        ))
    );
}

#[test]
fn anthropic_token_counting_is_not_a_model_call() {
    let case = Case {
        request_headers: &[("anthropic-version", "2023-06-01")],
        ..Case::new(
            "/v1/messages/count_tokens",
            fixture!("anthropic.req.json"),
            JSON,
            br#"{"input_tokens":2095}"#,
        )
    };
    assert_eq!(case.recognise(), None);
}

#[test]
fn gemini_generate_content() {
    let case = Case {
        request_headers: &[("host", "generativelanguage.googleapis.com")],
        ..Case::new(
            "/v1beta/models/gemini-2.5-flash:generateContent",
            fixture!("gemini.req.json"),
            JSON,
            fixture!("gemini.resp.json"),
        )
    };
    let want = with(
        call(
            AiApi::GeminiGenerateContent,
            "gemini-2.5-flash",
            false,
            Some(28),
            Some(532),
        ),
        Some(Provider::Google),
        Some(
            "You are a cat. Your name is Neko.\nHello there\nMeow.\nExplain how AI works in a few words",
        ),
    );
    assert_eq!(case.recognise(), Some(want));
    let response_only = Case {
        path: "/proxy",
        request_headers: &[],
        ..case.response_only()
    };
    assert_eq!(
        response_only.recognise(),
        Some(with(
            call(
                AiApi::GeminiGenerateContent,
                "gemini-2.5-flash",
                false,
                Some(28),
                Some(532)
            ),
            Some(Provider::Google),
            None
        ))
    );
}

#[test]
fn gemini_streams_as_sse_or_as_a_json_array() {
    let path = "/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent";
    let sse = Case::new(
        path,
        fixture!("gemini.req.json"),
        SSE,
        fixture!("gemini_stream.resp.sse"),
    );
    let got = sse.recognise();
    assert_eq!(
        got.as_ref().map(|c| (
            c.api,
            c.model.as_deref(),
            c.streaming,
            c.input_tokens,
            c.output_tokens
        )),
        Some((
            AiApi::GeminiGenerateContent,
            Some("gemini-2.0-flash"),
            true,
            Some(9),
            Some(7)
        ))
    );
    let array = Case::new(
        "/v1beta/models/gemini-1.5-pro:streamGenerateContent",
        b"",
        JSON,
        fixture!("gemini_stream_array.resp.json"),
    );
    assert_eq!(
        array.recognise(),
        Some(with(
            call(
                AiApi::GeminiGenerateContent,
                "gemini-1.5-pro",
                true,
                Some(12),
                Some(4)
            ),
            Some(Provider::Google),
            None
        ))
    );
}

#[test]
fn ollama_chat_streams_ndjson_by_default() {
    let case = Case {
        request_headers: &[("host", "localhost:11434")],
        ..Case::new(
            "/api/chat",
            fixture!("ollama_chat.req.json"),
            NDJSON,
            fixture!("ollama_chat.resp.ndjson"),
        )
    };
    let want = with(
        call(AiApi::OllamaChat, "llama3.2", true, Some(26), Some(282)),
        Some(Provider::Ollama),
        Some("Be brief.\nwhy is the sky blue?"),
    );
    assert_eq!(case.recognise(), Some(want));
    // No content type, no request, another path: the lines still say it.
    let bare = Case {
        path: "/x",
        content_type: None,
        request_headers: &[],
        ..case.response_only()
    };
    assert_eq!(
        bare.recognise(),
        Some(with(
            call(AiApi::OllamaChat, "llama3.2", true, Some(26), Some(282)),
            Some(Provider::Ollama),
            None
        ))
    );
    // A request with Ollama's own members is Ollama's even at another path.
    assert_eq!(
        Case {
            path: "/x",
            ..case.request_only()
        }
        .recognise()
        .map(|c| c.api),
        Some(AiApi::OllamaChat)
    );
}

#[test]
fn ollama_generate_without_streaming() {
    let case = Case::new(
        "/api/generate",
        fixture!("ollama_generate.req.json"),
        JSON,
        fixture!("ollama_generate.resp.json"),
    );
    let want = with(
        call(
            AiApi::OllamaGenerate,
            "llama3.2",
            false,
            Some(26),
            Some(290),
        ),
        Some(Provider::Ollama),
        Some("Why is the sky blue?"),
    );
    assert_eq!(case.recognise(), Some(want));
}

#[test]
fn ollama_embed() {
    let case = Case::new(
        "/api/embed",
        fixture!("ollama_embed.req.json"),
        JSON,
        fixture!("ollama_embed.resp.json"),
    );
    let want = with(
        call(AiApi::OllamaEmbeddings, "all-minilm", false, Some(16), None),
        Some(Provider::Ollama),
        Some("Why is the sky blue?\nWhy is the grass green?"),
    );
    assert_eq!(case.recognise(), Some(want));
}
