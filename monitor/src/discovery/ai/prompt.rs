//! The text a request sends to a model, gathered for later detection stages (prompt injection,
//! data leaking toward an LLM). Bounded: a long conversation keeps its first `PROMPT_TEXT_MAX`
//! bytes.

use serde_json::Value;

/// Most bytes of prompt text kept per call.
pub const PROMPT_TEXT_MAX: usize = 16 * 1024;
/// Content nests (tool results inside messages inside arrays); deeper text is not looked for.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Default)]
pub struct PromptText {
    text: String,
    truncated: bool,
}

impl PromptText {
    /// Adds the text of a content value: a string, an array of strings or of parts, a part
    /// `{"text": ..}` (any provider's text part), or a block holding `content` (tool results).
    pub fn add(&mut self, content: &Value) {
        self.add_at(content, 0);
    }

    fn add_at(&mut self, content: &Value, depth: usize) {
        if depth > MAX_DEPTH || self.truncated {
            return;
        }
        match content {
            Value::String(s) => self.push(s),
            Value::Array(items) => items.iter().for_each(|i| self.add_at(i, depth + 1)),
            Value::Object(part) => {
                if let Some(Value::String(s)) = part.get("text") {
                    self.push(s);
                }
                if let Some(inner) = part.get("content") {
                    self.add_at(inner, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// Adds the content of every message of an array of `{role, content}` (or `parts`) objects.
    pub fn add_messages(&mut self, messages: Option<&Value>, content_key: &str) {
        for message in messages.and_then(Value::as_array).into_iter().flatten() {
            if let Some(content) = message.get(content_key) {
                self.add(content);
            }
        }
    }

    fn push(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let sep = usize::from(!self.text.is_empty());
        let room = PROMPT_TEXT_MAX.saturating_sub(self.text.len() + sep);
        if sep == 1 && room > 0 {
            self.text.push('\n');
        }
        if s.len() <= room {
            self.text.push_str(s);
            return;
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(s.get(..end).unwrap_or(""));
        self.truncated = true;
    }

    pub fn finish(self) -> Option<String> {
        (!self.text.is_empty()).then_some(self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_parts_and_tool_results_are_joined_by_newlines() {
        let mut p = PromptText::default();
        p.add(&json!("system rules"));
        p.add_messages(
            Some(&json!([
                {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:..."}}]},
                {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"42"}]}]},
                {"role":"assistant","content":""}
            ])),
            "content",
        );
        assert_eq!(p.finish().as_deref(), Some("system rules\nhi\n42"));
    }

    #[test]
    fn text_is_bounded_on_a_character_boundary() {
        let mut p = PromptText::default();
        p.add(&json!("é".repeat(PROMPT_TEXT_MAX)));
        p.add(&json!("more"));
        let text = p.finish().unwrap_or_default();
        assert_eq!(text.len(), PROMPT_TEXT_MAX);
        assert!(text.chars().all(|c| c == 'é'));
    }

    #[test]
    fn no_text_is_none() {
        assert_eq!(PromptText::default().finish(), None);
    }
}
