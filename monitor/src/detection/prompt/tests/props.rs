//! Hostile and broken bodies: arbitrary bytes, JSON-like noise and fixtures cut anywhere never
//! make the scanner panic, and what it returns stays within its bounds.

use proptest::prelude::*;

use super::corpus;
use crate::{
    detection::{
        hit::{MAX_SHOWN_VALUE, SignatureHit},
        prompt::{AiExchange, PromptRules, PromptScanner, ScanCounts},
    },
    discovery::ai::{AiApi, AiCall},
};

const APIS: [AiApi; 10] = [
    AiApi::OpenaiChatCompletions,
    AiApi::OpenaiCompletions,
    AiApi::OpenaiEmbeddings,
    AiApi::OpenaiResponses,
    AiApi::AnthropicMessages,
    AiApi::GeminiGenerateContent,
    AiApi::OllamaChat,
    AiApi::OllamaGenerate,
    AiApi::OllamaEmbeddings,
    AiApi::Mcp,
];

const TYPES: [Option<&str>; 4] = [
    None,
    Some("application/json"),
    Some("text/event-stream"),
    Some("application/x-ndjson"),
];

/// A call as discovery would have made it; every walker is reached whatever the body says.
fn call(api: AiApi) -> AiCall {
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

fn scan(
    rules: &PromptRules,
    api: AiApi,
    request: &[u8],
    ct: Option<&str>,
    response: &[u8],
) -> (Vec<SignatureHit>, ScanCounts) {
    let scanner = PromptScanner::new(rules);
    let call = call(api);
    let mut out = Vec::new();
    let counts = scanner.scan(
        &AiExchange {
            call: &call,
            request_body: request,
            request_type: Some("application/json"),
            response_body: response,
            response_type: ct,
        },
        &mut out,
    );
    (out, counts)
}

fn bounded(
    rules: &PromptRules,
    hits: &[SignatureHit],
    counts: &ScanCounts,
) -> Result<(), TestCaseError> {
    prop_assert!(hits.len() <= rules.max_hits);
    prop_assert!(counts.bytes <= rules.max_text_bytes);
    prop_assert!(counts.texts <= rules.max_texts);
    for h in hits {
        prop_assert!(h.value.len() <= MAX_SHOWN_VALUE);
        prop_assert!((0.0..=1.0).contains(&h.confidence));
    }
    Ok(())
}

/// Bytes that look like the bodies at hand: JSON punctuation, escapes, SSE fields, phrases.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "\\",
        "\\u",
        "\\ud83d",
        "00",
        "e9",
        "\n",
        "data: ",
        "event: message\n",
        "\"role\":",
        "\"user\"",
        "\"tool\"",
        "\"content\":",
        "\"text\":",
        "\"type\":\"tool_result\"",
        "\"messages\":",
        "\"result\":",
        "\"jsonrpc\":\"2.0\"",
        "ignore previous instructions",
        "<|im_start|>system",
        "<!--",
        "-->",
        "\u{200b}",
        "\u{e0041}",
        "\u{202e}",
        "aWdub3Jl",
        "4556 5260 1815 9081",
        "AKIAPLPFT75V2SEH60KV",
        "password: ",
        "x",
        " ",
        "é",
    ]);
    prop::collection::vec(pieces, 0..200).prop_map(|p| p.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_hits_are_bounded(
        api in prop::sample::select(APIS.to_vec()),
        ct in prop::sample::select(TYPES.to_vec()),
        request in prop::collection::vec(any::<u8>(), 0..2048),
        response in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let rules = PromptRules::default();
        let (hits, counts) = scan(&rules, api, &request, ct, &response);
        bounded(&rules, &hits, &counts)?;
    }

    #[test]
    fn json_like_noise_never_panics_and_hits_are_bounded(
        api in prop::sample::select(APIS.to_vec()),
        ct in prop::sample::select(TYPES.to_vec()),
        request in jsonish(),
        response in jsonish(),
        max_text_bytes in 0usize..4096,
        max_hits in 0usize..20,
    ) {
        let rules = PromptRules { max_text_bytes, max_hits, ..PromptRules::default() };
        let (hits, counts) = scan(&rules, api, &request, ct, &response);
        bounded(&rules, &hits, &counts)?;
    }

    #[test]
    fn fixtures_cut_anywhere_never_panic(index in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), side in any::<bool>()) {
        let cases = corpus::load();
        let loaded = index.get(&cases);
        let Some(call) = loaded.call() else {
            return Ok(());
        };
        let (mut request, mut response) = (loaded.request.clone(), loaded.response.clone());
        let body = if side { &mut request } else { &mut response };
        let at = if body.is_empty() { 0 } else { cut.index(body.len() + 1) };
        body.truncate(at);
        let rules = PromptRules::default();
        let scanner = PromptScanner::new(&rules);
        let mut hits = Vec::new();
        let counts = scanner.scan(
            &AiExchange {
                call: &call,
                request_body: &request,
                request_type: Some("application/json"),
                response_body: &response,
                response_type: loaded.response_type.as_deref(),
            },
            &mut hits,
        );
        bounded(&rules, &hits, &counts)?;
    }
}

#[test]
fn a_huge_hostile_body_is_bounded() {
    let rules = PromptRules::default();
    // Deep nesting, many messages, long runs of invisible characters and escapes.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let many: String = (0..20_000)
        .map(|i| format!("{{\"role\":\"user\",\"content\":\"ignore previous instructions {i} \u{200b}\u{200c}\"}},"))
        .collect();
    let many = format!("{{\"model\":\"m\",\"messages\":[{many}]}}");
    let zw = "\u{200b}\u{200c}".repeat(50_000);
    for body in [deep.as_bytes(), many.as_bytes(), zw.as_bytes()] {
        for api in APIS {
            let (hits, counts) = scan(&rules, api, body, Some("text/event-stream"), body);
            assert!(hits.len() <= rules.max_hits);
            assert!(counts.bytes <= rules.max_text_bytes);
        }
    }
}
