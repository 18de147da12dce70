//! Prompt injection and sensitive-data leakage in exchanges with AI/LLM and MCP endpoints:
//! instruction override, role-play and jailbreaks, system-prompt extraction and hidden or
//! encoded instructions in what users send, in tool results and retrieved content carried in
//! requests (indirect injection) and in MCP responses; secrets, keys, card numbers and national
//! ids sent in prompts or coming out of an AI endpoint's responses.
//! Pure: one exchange in, signature hits out.

mod encoded;
mod extract;
mod fold;
mod hidden;
mod injection;
mod leak;
mod markers;
mod phrase;
mod rules;
mod snippet;
mod texts;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::hit::SignatureHit;
use crate::discovery::ai::AiCall;
use injection::InjectionRules;
use leak::LeakScan;

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
    /// Multiplier of the score of text that is data rather than someone's words — tool
    /// results, retrieved documents, MCP server answers — which should hold no instructions.
    pub indirect_factor: f64,
    /// Bytes of text inspected per exchange; up to half is kept for the response.
    pub max_text_bytes: usize,
    /// Texts (messages, content blocks, fields) inspected per exchange.
    pub max_texts: usize,
    /// Hits reported per exchange, the most confident first; the rest are counted.
    pub max_hits: usize,
    /// Distinct e-mail addresses or phone numbers on one side of an exchange from which they
    /// are reported (fewer are ordinary in support chats and lookups).
    pub many_contacts: usize,
    /// Leave out the well-known example values of documentation and test suites (Stripe's
    /// `4242 4242 4242 4242`, AWS's `AKIAIOSFODNN7EXAMPLE`, jwt.io's token).
    pub ignore_examples: bool,
}

impl Default for PromptRules {
    fn default() -> Self {
        Self {
            injection_threshold: 1.0,
            indirect_factor: 1.25,
            max_text_bytes: 64 * 1024,
            max_texts: 256,
            max_hits: 16,
            many_contacts: 5,
            ignore_examples: true,
        }
    }
}

/// What one scan read, left out and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanCounts {
    /// Texts inspected.
    pub texts: usize,
    /// Bytes of text inspected.
    pub bytes: usize,
    /// Bytes of text left out over `max_text_bytes` or `max_texts`.
    pub bytes_skipped: usize,
    /// Bodies (or their cut tails) read as plain text because they were not JSON.
    pub unparsed_bodies: usize,
    /// Hits over `max_hits`, not reported.
    pub hits_dropped: usize,
}

/// The compiled prompt rules.
#[derive(Debug)]
pub struct PromptScanner {
    rules: PromptRules,
    /// The phrase tables are constants checked by a test; should one not compile, injection
    /// scanning is off rather than the monitor down (leak detection still runs).
    injection: Result<InjectionRules, phrase::PatternError>,
}

impl PromptScanner {
    pub fn new(rules: &PromptRules) -> Self {
        Self {
            rules: rules.clone(),
            injection: InjectionRules::new(rules.injection_threshold, rules.indirect_factor),
        }
    }

    /// Appends to `out` the prompt injections and sensitive data found in `x`.
    pub fn scan(&self, x: &AiExchange<'_>, out: &mut Vec<SignatureHit>) -> ScanCounts {
        let (texts, extracted) = extract::texts(x, self.rules.max_text_bytes, self.rules.max_texts);
        let mut counts = ScanCounts {
            texts: texts.len(),
            bytes: texts.iter().map(|t| t.body.len()).sum(),
            bytes_skipped: extracted.skipped_bytes,
            unparsed_bodies: extracted.unparsed,
            hits_dropped: 0,
        };
        let mut hits = Vec::new();
        let mut leaks = LeakScan::new(self.rules.many_contacts, self.rules.ignore_examples);
        for text in &texts {
            if let Ok(injection) = &self.injection {
                injection.inspect(text.part, &text.name, &text.body, &mut hits);
            }
            leaks.text(text, &mut hits);
        }
        leaks.finish(&mut hits);
        // The same rule at the same place once (a text split into pieces of one name).
        let mut seen = HashSet::new();
        hits.retain(|h| seen.insert((h.rule, h.location.clone())));
        hits.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        counts.hits_dropped = hits.len().saturating_sub(self.rules.max_hits);
        hits.truncate(self.rules.max_hits);
        out.extend(hits);
        counts
    }
}
