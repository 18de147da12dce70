//! Who serves a recognised call: many providers speak the OpenAI API, so the host and the
//! headers say more than the shape. A hint, not a proof (a gateway may forward anything).

use serde::Serialize;

use super::{AiApi, view::View};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Openai,
    AzureOpenai,
    Anthropic,
    Google,
    AwsBedrock,
    Ollama,
    Mistral,
    Groq,
    Openrouter,
    Deepseek,
    Together,
    Fireworks,
    Xai,
    Perplexity,
}

/// Hosts (exact, or a suffix when starting with a dot) of the public APIs.
const HOSTS: &[(&str, Provider)] = &[
    ("api.openai.com", Provider::Openai),
    (".openai.azure.com", Provider::AzureOpenai),
    (".cognitiveservices.azure.com", Provider::AzureOpenai),
    (".services.ai.azure.com", Provider::AzureOpenai),
    ("api.anthropic.com", Provider::Anthropic),
    ("generativelanguage.googleapis.com", Provider::Google),
    ("aiplatform.googleapis.com", Provider::Google),
    (".amazonaws.com", Provider::AwsBedrock),
    ("api.mistral.ai", Provider::Mistral),
    ("api.groq.com", Provider::Groq),
    ("openrouter.ai", Provider::Openrouter),
    ("api.deepseek.com", Provider::Deepseek),
    ("api.together.xyz", Provider::Together),
    ("api.together.ai", Provider::Together),
    ("api.fireworks.ai", Provider::Fireworks),
    ("api.x.ai", Provider::Xai),
    ("api.perplexity.ai", Provider::Perplexity),
];

/// Ollama's default port.
const OLLAMA_PORT: &str = "11434";

pub fn hint(v: &View<'_>, api: AiApi) -> Option<Provider> {
    if api == AiApi::Mcp {
        return None;
    }
    by_host(v).or_else(|| by_headers(v)).or(match api {
        // These shapes are spoken natively by their one provider.
        AiApi::GeminiGenerateContent => Some(Provider::Google),
        AiApi::OllamaChat | AiApi::OllamaGenerate | AiApi::OllamaEmbeddings => {
            Some(Provider::Ollama)
        }
        _ => None,
    })
}

fn by_host(v: &View<'_>) -> Option<Provider> {
    let authority = v.request_headers.get_str("host")?.trim();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p))
            if p.bytes().all(|b| b.is_ascii_digit()) && (!h.contains(':') || h.ends_with(']')) =>
        {
            (h, Some(p))
        }
        _ => (authority, None),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let found = HOSTS.iter().find(|(h, p)| {
        let matches = if h.starts_with('.') {
            host.ends_with(h)
        } else {
            host == *h
        };
        // Only Bedrock's runtime among Amazon's hosts serves models.
        matches && (*p != Provider::AwsBedrock || host.starts_with("bedrock-runtime."))
    });
    match found {
        Some((_, p)) => Some(*p),
        None => (port == Some(OLLAMA_PORT)).then_some(Provider::Ollama),
    }
}

fn by_headers(v: &View<'_>) -> Option<Provider> {
    if v.path.contains("/openai/deployments/") {
        Some(Provider::AzureOpenai)
    } else if v.response_headers.contains("openai-organization")
        || v.response_headers.contains("openai-processing-ms")
    {
        Some(Provider::Openai)
    } else if v.response_headers.contains("anthropic-organization-id") {
        Some(Provider::Anthropic)
    } else if v.request_headers.contains("x-goog-api-key") {
        Some(Provider::Google)
    } else {
        None
    }
}
