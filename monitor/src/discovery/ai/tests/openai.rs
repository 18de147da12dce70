//! OpenAI's API and its imitations: chat completions, completions, embeddings, responses.

use super::*;

#[test]
fn openai_chat_completion() {
    let case = Case {
        request_headers: &[("host", "api.openai.com")],
        ..Case::new(
            "/v1/chat/completions",
            fixture!("openai_chat.req.json"),
            JSON,
            fixture!("openai_chat.resp.json"),
        )
    };
    let want = with(
        call(
            AiApi::OpenaiChatCompletions,
            "gpt-4o",
            false,
            Some(1117),
            Some(11),
        ),
        Some(Provider::Openai),
        Some("You are a helpful assistant.\nWhat is in this image?"),
    );
    assert_eq!(case.recognise(), Some(want.clone()));
    // Either half alone still says what it is; the response names its own model snapshot.
    let want_request = AiCall {
        input_tokens: None,
        output_tokens: None,
        ..want.clone()
    };
    assert_eq!(case.request_only().recognise(), Some(want_request));
    let want_response = AiCall {
        model: Some("gpt-4o-2024-08-06".into()),
        prompt_text: None,
        ..want
    };
    assert_eq!(case.response_only().recognise(), Some(want_response));
}

#[test]
fn openai_chat_stream_takes_usage_from_the_include_usage_chunk() {
    let case = Case::new(
        "/v1/chat/completions",
        fixture!("openai_chat_stream.req.json"),
        SSE,
        fixture!("openai_chat_stream.resp.sse"),
    );
    let want = with(
        call(
            AiApi::OpenaiChatCompletions,
            "gpt-4o-mini",
            true,
            Some(9),
            Some(2),
        ),
        None,
        Some("Say hello"),
    );
    assert_eq!(case.recognise(), Some(want));
    // CRLF line endings and no content type: the same.
    let crlf = String::from_utf8_lossy(case.response).replace('\n', "\r\n");
    let crlf_case = Case {
        content_type: None,
        response: crlf.as_bytes(),
        ..case.clone()
    };
    assert_eq!(crlf_case.recognise(), case.recognise());
}

#[test]
fn openai_chat_at_a_proxy_path_is_known_by_its_body() {
    let case = Case::new(
        "/llm/chat",
        fixture!("openai_chat_stream.req.json"),
        None,
        b"",
    );
    let want = with(
        call(
            AiApi::OpenaiChatCompletions,
            "gpt-4o-mini",
            true,
            None,
            None,
        ),
        None,
        Some("Say hello"),
    );
    assert_eq!(case.recognise(), Some(want));
    let resp = Case::new(
        "/gateway/x",
        b"",
        SSE,
        fixture!("openai_chat_stream.resp.sse"),
    );
    assert_eq!(
        resp.recognise(),
        Some(call(
            AiApi::OpenaiChatCompletions,
            "gpt-4o-mini-2024-07-18",
            true,
            Some(9),
            Some(2)
        ))
    );
}

#[test]
fn openai_completions() {
    let case = Case::new(
        "/v1/completions",
        fixture!("openai_completions.req.json"),
        JSON,
        fixture!("openai_completions.resp.json"),
    );
    let want = with(
        call(
            AiApi::OpenaiCompletions,
            "gpt-3.5-turbo-instruct",
            false,
            Some(5),
            Some(7),
        ),
        None,
        Some("Say this is a test"),
    );
    assert_eq!(case.recognise(), Some(want.clone()));
    let elsewhere = Case::new(
        "/proxy/complete",
        fixture!("openai_completions.req.json"),
        None,
        b"",
    );
    assert_eq!(
        elsewhere.recognise(),
        Some(AiCall {
            input_tokens: None,
            output_tokens: None,
            ..want
        })
    );
}

#[test]
fn openai_embeddings() {
    let case = Case::new(
        "/v1/embeddings",
        fixture!("openai_embeddings.req.json"),
        JSON,
        fixture!("openai_embeddings.resp.json"),
    );
    let want = with(
        call(
            AiApi::OpenaiEmbeddings,
            "text-embedding-3-small",
            false,
            Some(12),
            None,
        ),
        None,
        Some("The food was delicious and the waiter...\nsecond text"),
    );
    assert_eq!(case.recognise(), Some(want.clone()));
    let elsewhere = Case {
        path: "/ai/vectors",
        ..case.request_only()
    };
    assert_eq!(
        elsewhere.recognise(),
        Some(AiCall {
            input_tokens: None,
            ..want
        })
    );
    let response_only = Case {
        path: "/ai/vectors",
        ..case.response_only()
    };
    assert_eq!(
        response_only.recognise().map(|c| c.api),
        Some(AiApi::OpenaiEmbeddings)
    );
}

#[test]
fn openai_responses() {
    let case = Case::new(
        "/v1/responses",
        fixture!("openai_responses.req.json"),
        JSON,
        fixture!("openai_responses.resp.json"),
    );
    let want = with(
        call(AiApi::OpenaiResponses, "gpt-4.1", false, Some(36), Some(87)),
        None,
        Some("Talk like a pirate.\nAre semicolons optional in JavaScript?"),
    );
    assert_eq!(case.recognise(), Some(want.clone()));
    assert_eq!(
        Case {
            path: "/llm",
            ..case.request_only()
        }
        .recognise(),
        Some(AiCall {
            input_tokens: None,
            output_tokens: None,
            ..want
        })
    );
}

#[test]
fn openai_responses_stream_takes_usage_from_response_completed() {
    let case = Case::new(
        "/v1/responses",
        b"",
        SSE,
        fixture!("openai_responses_stream.resp.sse"),
    );
    assert_eq!(
        case.recognise(),
        Some(call(
            AiApi::OpenaiResponses,
            "gpt-4.1-2025-04-14",
            true,
            Some(37),
            Some(11)
        ))
    );
}

#[test]
fn azure_names_the_model_in_the_path_not_the_body() {
    let case = Case {
        request_headers: &[("host", "myres.openai.azure.com")],
        ..Case::new(
            "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
            br#"{"messages":[{"role":"user","content":"hi"}]}"#,
            None,
            b"",
        )
    };
    let want = AiCall {
        provider: Some(Provider::AzureOpenai),
        prompt_text: Some("hi".into()),
        ..AiCall::new(AiApi::OpenaiChatCompletions)
    };
    assert_eq!(case.recognise(), Some(want));
}
