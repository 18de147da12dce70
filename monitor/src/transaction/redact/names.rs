//! Name patterns for redaction (exact names and `*` globs), compiled once and matched without
//! allocating: lowercase, ignoring `-` and `_`.

/// How a name matched: exactly, or through a `*` pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strength {
    Exact,
    Broad,
}

/// Names longer than this are normalized on the heap; real header, parameter and field names fit
/// on the stack.
const NAME_BUF: usize = 128;

/// A compiled list of name patterns, normalized once so matching does not allocate.
#[derive(Debug, Default)]
pub(super) struct NameList {
    exact: Vec<Vec<u8>>,
    prefix: Vec<Vec<u8>>,
    suffix: Vec<Vec<u8>>,
    contains: Vec<Vec<u8>>,
    /// Names already matched: the same few header, parameter and field names come in every
    /// message, and matching against every pattern is a large part of rendering them.
    memo: std::cell::RefCell<foldhash::HashMap<Box<[u8]>, Option<Strength>>>,
    /// In front of `memo`: the last verdicts by a cheap hash of the name, found with one or two
    /// comparisons (hashing the whole name and probing the map cost more than the
    /// rest of a header's rendering).
    recent: std::cell::RefCell<Vec<Option<Verdict>>>,
}

/// A name and how it matched.
type Verdict = (Box<[u8]>, Option<Strength>);

/// Names a `NameList` remembers; beyond it the memo starts over.
const MEMO: usize = 1024;

/// Slots of `NameList::recent` (a power of two).
const RECENT: usize = 256;

/// A slot of `NameList::recent` for `name`: its length and five of its bytes, mixed.
fn recent_slot(name: &[u8]) -> usize {
    let byte = |i: usize| u64::from(name.get(i).copied().unwrap_or(0));
    let len = name.len();
    let key = len as u64
        | byte(0) << 8
        | byte(1) << 16
        | byte(len / 2) << 24
        | byte(len.wrapping_sub(2)) << 32
        | byte(len.wrapping_sub(1)) << 40;
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
}

impl NameList {
    pub(super) fn new(patterns: &[String]) -> Self {
        let mut list = Self {
            recent: std::cell::RefCell::new(vec![None; RECENT]),
            ..Self::default()
        };
        for pattern in patterns {
            let pattern = pattern.trim();
            let (leading, rest) = match pattern.strip_prefix('*') {
                Some(rest) => (true, rest),
                None => (false, pattern),
            };
            let (trailing, core) = match rest.strip_suffix('*') {
                Some(core) => (true, core),
                None => (false, rest),
            };
            let core: Vec<u8> = normalized(core.as_bytes()).collect();
            match (leading, trailing) {
                // An empty entry would otherwise match nameless parameters such as `=x`.
                (false, false) if core.is_empty() => {}
                (false, false) => list.exact.push(core),
                (false, true) => list.prefix.push(core),
                (true, false) => list.suffix.push(core),
                (true, true) => list.contains.push(core),
            }
        }
        list
    }

    pub(super) fn find(&self, name: &[u8]) -> Option<Strength> {
        // Two slots per name (a pair), so two names of one pair do not keep evicting each other.
        let slot = recent_slot(name);
        let pair = [slot, slot ^ 1];
        {
            let recent = self.recent.borrow();
            for at in pair {
                if let Some(Some((seen, hit))) = recent.get(at)
                    && **seen == *name
                {
                    return *hit;
                }
            }
        }
        let hit = self.find_memo(name);
        if name.len() <= NAME_BUF {
            let mut recent = self.recent.borrow_mut();
            let at = if matches!(recent.get(slot), Some(Some(_))) {
                slot ^ 1
            } else {
                slot
            };
            if let Some(entry) = recent.get_mut(at) {
                *entry = Some((name.into(), hit));
            }
        }
        hit
    }

    fn find_memo(&self, name: &[u8]) -> Option<Strength> {
        if let Some(hit) = self.memo.borrow().get(name) {
            return *hit;
        }
        let hit = self.find_uncached(name);
        if name.len() <= NAME_BUF {
            let mut memo = self.memo.borrow_mut();
            if memo.len() >= MEMO {
                memo.clear();
            }
            memo.insert(name.into(), hit);
        }
        hit
    }

    fn find_uncached(&self, name: &[u8]) -> Option<Strength> {
        let mut stack = [0u8; NAME_BUF];
        let heap: Vec<u8>;
        // Normalizing only drops bytes, so a name that fits before fits after.
        let name: &[u8] = if name.len() <= NAME_BUF {
            let mut len = 0;
            for (slot, byte) in stack.iter_mut().zip(normalized(name)) {
                *slot = byte;
                len += 1;
            }
            &stack[..len]
        } else {
            heap = normalized(name).collect();
            &heap
        };

        if self.exact.iter().any(|exact| exact == name) {
            return Some(Strength::Exact);
        }
        let broad = self.prefix.iter().any(|p| name.starts_with(p))
            || self.suffix.iter().any(|s| name.ends_with(s))
            // An empty core (a bare `*`) matches everything.
            || self
                .contains
                .iter()
                .any(|c| c.is_empty() || memchr::memmem::find(name, c).is_some());
        broad.then_some(Strength::Broad)
    }
}

/// Lowercase, without `-` and `_`.
fn normalized(name: &[u8]) -> impl Iterator<Item = u8> + '_ {
    name.iter()
        .filter(|byte| !matches!(byte, b'-' | b'_'))
        .map(u8::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(patterns: &[&str]) -> NameList {
        NameList::new(&patterns.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn exact_names_ignore_case_dashes_and_underscores() {
        let names = list(&["api_key"]);
        for name in ["api_key", "API-KEY", "apiKey", "apikey", "a_p_i_k_e_y"] {
            assert_eq!(names.find(name.as_bytes()), Some(Strength::Exact), "{name}");
        }
        for name in ["x-api-key", "api_keys", "key", ""] {
            assert_eq!(names.find(name.as_bytes()), None, "{name}");
        }
    }

    #[test]
    fn exact_key_is_not_a_substring_match() {
        let names = list(&["key"]);
        for name in ["monkey", "keys", "keyboard", "x-key"] {
            assert_eq!(names.find(name.as_bytes()), None, "{name}");
        }
    }

    #[test]
    fn star_patterns_are_broad() {
        let names = list(&["*token*", "x-*", "*pin"]);
        for name in [
            "token",
            "X-Auth-Token",
            "refresh_token",
            "tokenizer",
            "x-anything",
            "cardPin",
        ] {
            assert_eq!(names.find(name.as_bytes()), Some(Strength::Broad), "{name}");
        }
        for name in ["tok", "pinned", "y-x"] {
            assert_eq!(names.find(name.as_bytes()), None, "{name}");
        }
    }

    #[test]
    fn exact_wins_over_broad() {
        let names = list(&["*token*", "token"]);
        assert_eq!(names.find(b"Token"), Some(Strength::Exact));
        assert_eq!(names.find(b"max_tokens"), Some(Strength::Broad));
    }

    #[test]
    fn empty_entries_match_nothing_and_a_bare_star_everything() {
        let names = list(&["", " - ", "_"]);
        assert_eq!(names.find(b""), None);
        assert_eq!(names.find(b"-"), None);
        let names = list(&["*"]);
        assert_eq!(names.find(b"host"), Some(Strength::Broad));
        assert_eq!(names.find(b""), Some(Strength::Broad));
    }

    #[test]
    fn long_names_are_matched_too() {
        let names = list(&["*token", "x-token"]);
        let long = format!("x-{}-token", "a".repeat(300));
        assert_eq!(names.find(long.as_bytes()), Some(Strength::Broad));
        assert_eq!(names.find("b".repeat(300).as_bytes()), None);
        let exact_at_limit = format!("x{}token", "-".repeat(NAME_BUF));
        assert_eq!(names.find(exact_at_limit.as_bytes()), Some(Strength::Exact));
    }
}
