//! A signature matched in one transaction (an injection payload, a prompt injection, a secret
//! sent to a model): which rule, where, and the offending value as it may be shown.

use schemars::JsonSchema;
use serde::Serialize;

use super::category::Category;

/// Offending values are cut to this many bytes (on a char boundary) before they are kept.
pub const MAX_SHOWN_VALUE: usize = 96;

/// Which part of a transaction a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Path,
    Query,
    Header,
    Cookie,
    Form,
    Json,
    /// A body that is neither JSON nor a form.
    Body,
    /// Text a user sends to a model (user messages, a prompt).
    PromptUser,
    /// The system prompt or instructions a client sends.
    PromptSystem,
    /// A tool or function result carried back to a model (indirect injection).
    ToolResult,
    /// Retrieved content or documents carried in a request to a model (indirect injection).
    Retrieved,
    /// What a model answered.
    ModelResponse,
    /// What an MCP server answered (tool results, resources, prompts).
    McpResponse,
    /// A response body of an ordinary endpoint.
    Response,
}

/// Where a value was found: the part, and the name inside it when it has one (a query
/// parameter, a header, a JSON pointer such as `/user/name`, `messages[2]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct Location {
    pub part: Part,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Location {
    pub fn new(part: Part, name: Option<&str>) -> Location {
        Location {
            part,
            name: name.map(|n| cut(n, MAX_SHOWN_VALUE).to_owned()),
        }
    }
}

/// One signature that matched.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SignatureHit {
    pub category: Category,
    /// The rule that matched, stable across versions (`libinjection_sqli`, `dotdot_sequence`,
    /// `instruction_override`...).
    pub rule: &'static str,
    pub location: Location,
    /// The offending value after decoding, cut to [`MAX_SHOWN_VALUE`] bytes, with secrets in it
    /// already masked: safe to write out.
    pub value: String,
    /// How sure the rule is that this is an attack and not ordinary content, 0..1.
    pub confidence: f64,
    /// A rule's own detail (libinjection's token fingerprint, the decoding that revealed it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `text` cut to at most `max` bytes on a char boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_stays_on_char_boundaries() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("abcdef", 3), "abc");
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut("", 0), "");
    }
}
