//! Each API shape read as discovery recognises it: which texts come out, with which part and
//! name, and the budget that bounds them.

use serde_json::json;

use super::Wire;
use crate::detection::{
    hit::Part,
    prompt::{AiExchange, PromptRules, extract, texts::Text},
};

/// The texts extracted from an exchange, as (part, name, body).
fn texts(wire: &Wire<'_>) -> Vec<(Part, String, String)> {
    texts_within(wire, 64 * 1024).0
}

fn texts_within(wire: &Wire<'_>, max: usize) -> (Vec<(Part, String, String)>, usize) {
    let call = wire.recognise().expect("recognised");
    let x = AiExchange {
        call: &call,
        request_body: wire.request,
        request_type: Some("application/json"),
        response_body: wire.response,
        response_type: wire.response_type,
    };
    let (items, counts) = extract::texts(&x, max, 256);
    let out = items
        .into_iter()
        .map(
            |Text {
                 part, name, body, ..
             }| (part, name, body),
        )
        .collect();
    (out, counts.skipped_bytes)
}

fn t(part: Part, name: &str, body: &str) -> (Part, String, String) {
    (part, name.to_owned(), body.to_owned())
}

fn wire<'a>(
    path: &'a str,
    request: &'a [u8],
    response_type: Option<&'a str>,
    response: &'a [u8],
) -> Wire<'a> {
    Wire {
        path,
        request,
        response_type,
        response,
        ..Wire::default()
    }
}

#[test]
fn openai_chat_roles_and_parts() {
    let req = json!({"model": "gpt-4o", "messages": [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:x"}}]},
        {"role": "assistant", "content": "earlier answer"},
        {"role": "tool", "tool_call_id": "c", "content": "tool says"},
    ]})
    .to_string();
    let resp = json!({"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "answer",
        "tool_calls": [{"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{\"q\":1}"}}]}}]})
    .to_string();
    let got = texts(&wire(
        "/v1/chat/completions",
        req.as_bytes(),
        Some("application/json"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(Part::ToolResult, "messages[3].content", "tool says"),
            t(Part::PromptUser, "messages[1].content[0].text", "look"),
            t(Part::PromptSystem, "messages[0].content", "sys"),
            t(Part::ModelResponse, "choices[0].message.content", "answer"),
            t(
                Part::ModelResponse,
                "choices[0].message.tool_calls[0]",
                "{\"q\":1}"
            ),
        ]
    );
}

#[test]
fn openai_chat_stream_deltas_are_joined() {
    let req =
        json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
            .to_string();
    let resp = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n\
                data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\ndata: [DONE]\n\n";
    let got = texts(&wire(
        "/v1/chat/completions",
        req.as_bytes(),
        Some("text/event-stream"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(Part::PromptUser, "messages[0].content", "hi"),
            t(Part::ModelResponse, "choices[0].delta", "Hello"),
        ]
    );
}

#[test]
fn openai_responses_instructions_items_and_output() {
    let req = json!({"model": "gpt-4.1", "instructions": "be brief", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "q"}]},
        {"type": "function_call", "call_id": "f", "name": "n", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "f", "output": "result"},
    ]})
    .to_string();
    let resp = json!({"object": "response", "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a"}]}]}).to_string();
    let got = texts(&wire(
        "/v1/responses",
        req.as_bytes(),
        Some("application/json"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(Part::ToolResult, "input[2].output", "result"),
            t(Part::PromptUser, "input[0].content[0].text", "q"),
            t(Part::PromptSystem, "instructions", "be brief"),
            t(Part::ModelResponse, "output[0].content[0].text", "a"),
        ]
    );
}

#[test]
fn legacy_completions_and_embeddings() {
    let req = json!({"model": "gpt-3.5-turbo-instruct", "prompt": ["one", "two"], "max_tokens": 5})
        .to_string();
    let resp = json!({"object": "text_completion", "choices": [{"text": "three", "index": 0}]})
        .to_string();
    let got = texts(&wire(
        "/v1/completions",
        req.as_bytes(),
        Some("application/json"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(Part::PromptUser, "prompt[0]", "one"),
            t(Part::PromptUser, "prompt[1]", "two"),
            t(Part::ModelResponse, "choices[0].text", "three"),
        ]
    );
    let req = json!({"model": "text-embedding-3-small", "input": "a document"}).to_string();
    let got = texts(&wire("/v1/embeddings", req.as_bytes(), None, b""));
    assert_eq!(got, [t(Part::Retrieved, "input", "a document")]);
}

#[test]
fn anthropic_system_tool_results_and_documents() {
    let req = json!({"model": "claude-sonnet-4-20250514", "max_tokens": 10,
        "system": [{"type": "text", "text": "sys"}],
        "messages": [
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "tool out"}]},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc body"}, "title": "T"},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}},
                {"type": "text", "text": "question"},
            ]},
            {"role": "assistant", "content": "before"},
        ]})
    .to_string();
    let resp = json!({"type": "message", "role": "assistant", "content": [{"type": "text", "text": "answer"}], "stop_reason": "end_turn"}).to_string();
    let got = texts(&wire(
        "/v1/messages",
        req.as_bytes(),
        Some("application/json"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(
                Part::ToolResult,
                "messages[0].content[0].content[0].text",
                "tool out"
            ),
            t(Part::Retrieved, "messages[0].content[1].title", "T"),
            t(
                Part::Retrieved,
                "messages[0].content[1].source.data",
                "doc body"
            ),
            t(Part::PromptUser, "messages[0].content[3].text", "question"),
            t(Part::PromptSystem, "system[0].text", "sys"),
            t(Part::ModelResponse, "content[0].text", "answer"),
        ]
    );
}

#[test]
fn anthropic_stream_deltas_are_joined() {
    let req = json!({"model": "claude-3-5-haiku-20241022", "max_tokens": 5, "stream": true, "messages": [{"role": "user", "content": "hi"}]}).to_string();
    let resp = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[]}}\n\n\
                event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Bon\"}}\n\n\
                event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"jour\"}}\n\n";
    let got = texts(&wire(
        "/v1/messages",
        req.as_bytes(),
        Some("text/event-stream"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got.last(),
        Some(&t(Part::ModelResponse, "content_block_delta", "Bonjour"))
    );
}

#[test]
fn gemini_system_contents_and_function_responses() {
    let req = json!({
        "systemInstruction": {"parts": [{"text": "sys"}]},
        "contents": [
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [{"text": "earlier"}]},
            {"role": "function", "parts": [{"functionResponse": {"name": "f", "response": {"out": "tool out"}}}]},
        ]})
    .to_string();
    let resp = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "a"}]}}]})
        .to_string();
    let got = texts(&wire(
        "/v1beta/models/gemini-2.0-flash:generateContent",
        req.as_bytes(),
        Some("application/json"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(
                Part::ToolResult,
                "contents[2].parts[0].functionResponse.out",
                "tool out"
            ),
            t(Part::PromptUser, "contents[0].parts[0].text", "q"),
            t(Part::PromptSystem, "systemInstruction.parts[0].text", "sys"),
            t(
                Part::ModelResponse,
                "candidates[0].content.parts[0].text",
                "a"
            ),
        ]
    );
}

#[test]
fn ollama_chat_generate_and_ndjson() {
    let req = json!({"model": "llama3.2", "messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "tool out"}]}).to_string();
    let resp = "{\"model\":\"llama3.2\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"A\"},\"done\":false}\n\
                {\"model\":\"llama3.2\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"B\"},\"done\":true}\n";
    let got = texts(&wire(
        "/api/chat",
        req.as_bytes(),
        Some("application/x-ndjson"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(Part::ToolResult, "messages[1].content", "tool out"),
            t(Part::PromptUser, "messages[0].content", "q"),
            t(Part::ModelResponse, "message.content", "AB"),
        ]
    );
    let req =
        json!({"model": "llama3.2", "system": "sys", "prompt": "q", "stream": false}).to_string();
    let resp =
        json!({"model": "llama3.2", "created_at": "x", "response": "a", "done": true}).to_string();
    let got = texts(&wire(
        "/api/generate",
        req.as_bytes(),
        Some("application/json"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(Part::PromptUser, "prompt", "q"),
            t(Part::PromptSystem, "system", "sys"),
            t(Part::ModelResponse, "response", "a"),
        ]
    );
}

#[test]
fn mcp_requests_results_and_descriptions() {
    let req = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "login", "arguments": {"user": "al", "password": "Xy7!kq2Lp#"}}}).to_string();
    let resp = json!({"jsonrpc": "2.0", "id": 1, "result": {
        "content": [{"type": "text", "text": "done"}, {"type": "resource", "resource": {"uri": "file:///a", "text": "file body"}}],
        "structuredContent": {"ok": "yes"}}})
    .to_string();
    let call = wire(
        "/mcp",
        req.as_bytes(),
        Some("application/json"),
        resp.as_bytes(),
    );
    assert_eq!(
        texts(&call),
        [
            // serde_json's maps are sorted by key.
            t(Part::PromptUser, "params.arguments.password", "Xy7!kq2Lp#"),
            t(Part::PromptUser, "params.arguments.user", "al"),
            t(Part::McpResponse, "result.content[0].text", "done"),
            t(
                Part::McpResponse,
                "result.content[1].resource.text",
                "file body"
            ),
            t(Part::McpResponse, "result.structuredContent.ok", "yes"),
        ]
    );
    let req = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
    let resp = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"t\",\"description\":\"does t\",\"inputSchema\":{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"string\",\"description\":\"the p\"}}}}]}}\n\n";
    let got = texts(&wire(
        "/mcp",
        req.as_bytes(),
        Some("text/event-stream"),
        resp.as_bytes(),
    ));
    assert_eq!(
        got,
        [
            t(Part::McpResponse, "result.tools[0].description", "does t"),
            t(
                Part::McpResponse,
                "result.tools[0].inputSchema.properties.p.description",
                "the p"
            ),
        ]
    );
}

#[test]
fn retrieved_documents_are_taken_out_of_messages() {
    let req = json!({"model": "gpt-4o", "messages": [
        {"role": "system", "content": "Answer from the context.\n<context>retrieved text</context>"},
        {"role": "user", "content": "question"},
    ]})
    .to_string();
    let got = texts(&wire("/v1/chat/completions", req.as_bytes(), None, b""));
    assert_eq!(
        got,
        [
            t(Part::PromptUser, "messages[1].content", "question"),
            t(
                Part::PromptSystem,
                "messages[0].content",
                "Answer from the context.\n\n"
            ),
            t(
                Part::Retrieved,
                "messages[0].content.document[0]",
                "retrieved text"
            ),
        ]
    );
}

#[test]
fn the_budget_keeps_the_latest_messages_and_room_for_the_response() {
    let old = "o".repeat(600);
    let req = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": old}, {"role": "user", "content": "latest"}]}).to_string();
    let resp = json!({"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "the answer"}}]}).to_string();
    let (got, skipped) = texts_within(
        &wire(
            "/v1/chat/completions",
            req.as_bytes(),
            Some("application/json"),
            resp.as_bytes(),
        ),
        200,
    );
    assert_eq!(got[0], t(Part::PromptUser, "messages[1].content", "latest"));
    assert_eq!(
        got.last(),
        Some(&t(
            Part::ModelResponse,
            "choices[0].message.content",
            "the answer"
        ))
    );
    let inspected: usize = got.iter().map(|(_, _, b)| b.len()).sum();
    assert!(inspected <= 200);
    assert_eq!(
        inspected + skipped,
        600 + "latest".len() + "the answer".len()
    );
}

#[test]
fn scan_counts_say_what_was_read_and_left_out() {
    let rules = PromptRules {
        max_text_bytes: 100,
        ..PromptRules::default()
    };
    let body =
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x".repeat(300)}]})
            .to_string();
    let (_, counts) = Wire {
        path: "/v1/chat/completions",
        request: body.as_bytes(),
        ..Wire::default()
    }
    .scan_with(&crate::detection::prompt::PromptScanner::new(&rules))
    .unwrap();
    assert_eq!(
        (counts.texts, counts.bytes, counts.bytes_skipped),
        (1, 100, 200)
    );
}
