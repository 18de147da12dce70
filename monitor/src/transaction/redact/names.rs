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
    /// Every pattern's core, to tell at once that no name in a text can match (see
    /// `may_match_in`); `None` when some core is empty (it matches anything) or the
    /// automaton could not be built: then every text may hold a match.
    cores: Option<CoreTable>,
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
        list.cores = list.automaton();
        list
    }

    /// An automaton over every non-empty core, ignoring ASCII case as names do; `None` when
    /// an empty prefix, suffix or substring core matches every name.
    fn automaton(&self) -> Option<CoreTable> {
        let broad = || self.prefix.iter().chain(&self.suffix).chain(&self.contains);
        if broad().any(Vec::is_empty) {
            return None;
        }
        let dfa = aho_corasick::dfa::DFA::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .ascii_case_insensitive(true)
            .prefilter(false)
            .start_kind(aho_corasick::StartKind::Unanchored)
            .build(self.exact.iter().chain(broad()))
            .ok()?;
        // A byte in no core (in either case) leads from any state back to the start: only the
        // others need asking the automaton.
        let mut in_cores = [false; 256];
        for &byte in self.exact.iter().chain(broad()).flatten() {
            for byte in [byte, byte.to_ascii_lowercase(), byte.to_ascii_uppercase()] {
                in_cores[usize::from(byte)] = true;
            }
        }
        CoreTable::new(&dfa, &in_cores)
    }

    /// False only when no name written in `text` can match: every pattern matches a name
    /// only if the normalized name contains the pattern's core, and a name written plainly
    /// in `text` normalizes to a substring of the normalized text. A name written with an
    /// escape (`\u0070assword` in JSON) or percent-encoded (`p%61ssword` in a query) is
    /// matched after decoding, which this cannot see: any `\` or `%` in `text` answers true.
    pub(super) fn may_match_in(&self, text: &[u8]) -> bool {
        match &self.cores {
            Some(cores) => cores.may_match_in(text),
            None => true,
        }
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

/// The cores' automaton as one dense table of transitions (state × byte), with `-` and `_`
/// leading back to the same state (normalizing the text as it is walked) and `\\`, `%` and
/// every match leading to `HIT`: a step is one load, where the automaton's own walk took a
/// byte-class lookup and tests for special states.
#[derive(Debug)]
struct CoreTable {
    next: Vec<u16>,
}

/// The state a match (or an escape) leads to; it is never left.
const HIT: u16 = 0;
/// Where a walk starts.
const START: u16 = 1;
/// Beyond this many states the table (512 bytes a state) is not built, and every text is
/// scanned in full; the default lists need about a hundred.
const MAX_CORE_STATES: usize = 2048;

impl CoreTable {
    /// `in_cores` marks the bytes of the cores, in both cases.
    fn new(dfa: &aho_corasick::dfa::DFA, in_cores: &[bool; 256]) -> Option<Self> {
        use aho_corasick::{Anchored, automaton::Automaton};
        let start = dfa.start_state(Anchored::No).ok()?;
        // Row `HIT` is all `HIT`; row `START` onwards are the automaton's states in the order
        // first reached.
        let mut next = vec![HIT; 256];
        let mut states = vec![start];
        // By the automaton's state id (a small offset into its own table), as a hash map
        // took longer to build than a long run's searches.
        let mut index: Vec<u16> = Vec::new();
        fn remember(index: &mut Vec<u16>, state: aho_corasick::automaton::StateID, id: u16) {
            let at = state.as_usize();
            if index.len() <= at {
                index.resize(at + 1, HIT);
            }
            if let Some(slot) = index.get_mut(at) {
                *slot = id;
            }
        }
        remember(&mut index, start, START);
        let mut row = 0;
        while let Some(&state) = states.get(row) {
            let this = u16::try_from(row + 1).ok()?;
            for byte in 0..=u8::MAX {
                let to = match byte {
                    b'-' | b'_' => this,
                    b'\\' | b'%' => HIT,
                    _ if !in_cores[usize::from(byte)] => START,
                    _ => {
                        let to = dfa.next_state(Anchored::No, state, byte);
                        if dfa.is_match(to) || dfa.is_dead(to) {
                            HIT
                        } else {
                            match index.get(to.as_usize()) {
                                Some(&known) if known != HIT => known,
                                _ => {
                                    states.push(to);
                                    if states.len() > MAX_CORE_STATES {
                                        return None;
                                    }
                                    let id = u16::try_from(states.len()).ok()?;
                                    remember(&mut index, to, id);
                                    id
                                }
                            }
                        }
                    }
                };
                next.push(to);
            }
            row += 1;
        }
        Some(Self { next })
    }

    /// Two walks at once, one over each half of `text`, so that a step of one need not wait
    /// for the other's load (each step loads from where the last one led). The second walk
    /// starts afresh at the middle, so it finds every core written after it; the first goes on
    /// past the middle until it is back at `START`, which means nothing it began can still
    /// match, and a core cannot span that place: between them the two walks see every core.
    fn may_match_in(&self, text: &[u8]) -> bool {
        let (head, tail) = text.split_at(text.len() / 2);
        let (mut first, mut second) = (START, START);
        for (&a, &b) in head.iter().zip(tail) {
            first = self.step(first, a);
            second = self.step(second, b);
            if first == HIT || second == HIT {
                return true;
            }
        }
        // `tail` is as long as `head` or one byte longer.
        for &b in &tail[head.len()..] {
            second = self.step(second, b);
        }
        if second == HIT {
            return true;
        }
        for &a in tail {
            if first == START {
                break;
            }
            first = self.step(first, a);
        }
        first == HIT
    }

    /// Where `byte` leads from `state`; `HIT` is never left, and a state outside the table
    /// (never made) counts as one.
    #[inline(always)]
    fn step(&self, state: u16, byte: u8) -> u16 {
        match self.next.get(usize::from(state) << 8 | usize::from(byte)) {
            Some(&to) => to,
            None => HIT,
        }
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

    proptest::proptest! {
        /// The two walks answer as one walk over the whole text does, wherever a name (or a
        /// part of one, or a dash within one) falls relative to the middle.
        #[test]
        fn two_walks_answer_as_one(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "pass", "word", "password", "PassWord", "pass-word", "p_a_s_s", "token",
                    "tok", "en", "api", "key", "api_key", "-", "_", "\\", "%", "x", " ",
                    "\"", ":", "secret", "sec", "ret", "aaaa", "t",
                ]),
                0..24,
            )
        ) {
            let names = list(&["password", "*token*", "api_key", "secret"]);
            let Some(cores) = names.cores.as_ref() else {
                return Err(proptest::test_runner::TestCaseError::fail("no table built"));
            };
            let text = parts.concat();
            let mut state = START;
            for &byte in text.as_bytes() {
                state = cores.step(state, byte);
            }
            proptest::prop_assert_eq!(cores.may_match_in(text.as_bytes()), state == HIT, "{}", text);
        }
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
