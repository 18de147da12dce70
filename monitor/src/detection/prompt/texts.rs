//! The texts pulled out of one exchange, each with the part it plays (what a user wrote, a tool
//! result, a retrieved document, an answer) and where it was, under a byte and count budget:
//! what does not fit is counted, never read.

use crate::{detection::hit::Part, discovery::sensitive::ClassSet};

/// One text to inspect.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub part: Part,
    /// A JSON-pointer-ish path: `messages[3]`, `result.content[0]`.
    pub name: String,
    pub body: String,
    /// Classes a field's name made sensitive (a `password` argument), which reading the text
    /// alone cannot see.
    pub named: ClassSet,
}

/// Texts gathered under a budget.
#[derive(Debug)]
pub struct Texts {
    items: Vec<Text>,
    /// Bytes still allowed.
    room: usize,
    max_items: usize,
    /// Bytes of text left out for want of room.
    pub skipped_bytes: usize,
}

impl Texts {
    pub fn new(max_bytes: usize, max_items: usize) -> Texts {
        Texts {
            items: Vec::new(),
            room: max_bytes,
            max_items,
            skipped_bytes: 0,
        }
    }

    pub fn room(&self) -> usize {
        self.room
    }

    /// Adds room (what was kept aside for the response).
    pub fn give_back(&mut self, bytes: usize) {
        self.room = self.room.saturating_add(bytes);
    }

    pub fn is_full(&self) -> bool {
        self.room == 0 || self.items.len() >= self.max_items
    }

    /// Adds `body` as far as the budget allows; `name` is only built for a text that is kept.
    pub fn push(&mut self, part: Part, name: impl FnOnce() -> String, body: &str) {
        self.push_named(part, name, body, ClassSet::empty());
    }

    pub fn push_named(
        &mut self,
        part: Part,
        name: impl FnOnce() -> String,
        body: &str,
        named: ClassSet,
    ) {
        if body.trim().is_empty() && named.is_empty() {
            return;
        }
        if self.is_full() {
            self.skipped_bytes = self.skipped_bytes.saturating_add(body.len());
            return;
        }
        let kept = crate::detection::hit::cut(body, self.room);
        self.skipped_bytes = self.skipped_bytes.saturating_add(body.len() - kept.len());
        self.room -= kept.len();
        self.items.push(Text {
            part,
            name: name(),
            body: kept.to_owned(),
            named,
        });
    }

    pub fn into_items(self) -> Vec<Text> {
        self.items
    }
}

/// Appends to a text being built from pieces (stream deltas) within `max` bytes.
pub fn append_bounded(into: &mut String, piece: &str, max: usize) -> usize {
    let room = max.saturating_sub(into.len());
    let kept = crate::detection::hit::cut(piece, room);
    into.push_str(kept);
    piece.len() - kept.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_cuts_and_counts() {
        let mut t = Texts::new(10, 2);
        t.push(Part::PromptUser, || "a".into(), "hello");
        t.push(Part::PromptUser, || "b".into(), "   ");
        t.push(Part::PromptUser, || "c".into(), "wonderful");
        t.push(Part::PromptUser, || "d".into(), "more");
        assert_eq!(t.skipped_bytes, 4 + 4);
        let items = t.into_items();
        let bodies: Vec<&str> = items.iter().map(|i| i.body.as_str()).collect();
        assert_eq!(bodies, ["hello", "wonde"]);
    }

    #[test]
    fn pieces_are_appended_within_bounds() {
        let mut s = String::new();
        assert_eq!(append_bounded(&mut s, "abc", 4), 0);
        assert_eq!(append_bounded(&mut s, "déf", 4), 3);
        assert_eq!(s, "abcd");
    }
}
