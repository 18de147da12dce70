//! Prompt injection and sensitive-data leakage in exchanges with AI/LLM and MCP endpoints:
//! instruction override, role-play and jailbreaks, system-prompt extraction and hidden or
//! encoded instructions in what users send, in tool results and retrieved content carried in
//! requests (indirect injection) and in MCP responses; secrets, keys, card numbers and national
//! ids sent in prompts or coming out of an AI endpoint's responses.
//! Pure: one exchange in, signature hits out.

use serde::{Deserialize, Serialize};

use super::hit::SignatureHit;
use crate::discovery::ai::AiCall;

/// One exchange with an endpoint discovery tagged as AI/LLM or MCP.
#[derive(Debug, Clone, Copy)]
pub struct AiExchange<'a> {
    pub call: &'a AiCall,
    /// The request body after content-encoding was undone; maybe cut short.
    pub request_body: &'a [u8],
    pub request_type: Option<&'a str>,
    /// The response body (JSON, SSE or NDJSON) after content-encoding was undone.
    pub response_body: &'a [u8],
    pub response_type: Option<&'a str>,
}

/// Settings of the prompt rules (the `[prompt]` table of the rules file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptRules {
    /// Score (sum of the matched rules' weights) from which text is a prompt injection.
    pub injection_threshold: f64,
    /// Bytes of text inspected per exchange.
    pub max_text_bytes: usize,
}

impl Default for PromptRules {
    fn default() -> Self {
        Self {
            injection_threshold: 1.0,
            max_text_bytes: 64 * 1024,
        }
    }
}

/// The compiled prompt rules.
#[derive(Debug)]
pub struct PromptScanner {
    rules: PromptRules,
}

impl PromptScanner {
    pub fn new(rules: &PromptRules) -> Self {
        Self {
            rules: rules.clone(),
        }
    }

    /// Appends to `out` the prompt injections and sensitive data found in `x`.
    pub fn scan(&self, x: &AiExchange<'_>, out: &mut Vec<SignatureHit>) {
        let _ = (&self.rules, x, out);
    }
}
