//! Clues of names read again and again (query parameter names: the same few on every call of
//! an endpoint), each read once while the memo has room.

use foldhash::{HashMap, HashMapExt};

use super::NameClue;

/// Names remembered before the memo starts over: a bound on memory, whatever the traffic.
const MAX_NAMES: usize = 1_024;

#[derive(Debug)]
pub struct NameClues {
    read: HashMap<Box<str>, NameClue>,
}

impl Default for NameClues {
    fn default() -> Self {
        Self {
            read: HashMap::new(),
        }
    }
}

impl NameClues {
    /// [`NameClue::of`] `name`.
    pub fn of(&mut self, name: &str) -> NameClue {
        if let Some(clue) = self.read.get(name) {
            return *clue;
        }
        let clue = NameClue::of(Some(name));
        if self.read.len() >= MAX_NAMES {
            self.read.clear();
        }
        self.read.insert(name.into(), clue);
        clue
    }
}
