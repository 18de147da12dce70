//! The dynamic table (RFC 7541 §2.3.2, §4) as far as this decoder can know it: exact when the
//! connection was seen from its start, and after a mid-stream join a known prefix (the entries
//! inserted since) followed by a tail that is unknown until it provably cannot exist any more.
//!
//! Why the known prefix stays exact, whatever we missed:
//! - HPACK indexes the dynamic table from the newest entry (index 62 is the last inserted) and
//!   evicts from the oldest end. Entries we never saw are all older than the ones we saw being
//!   inserted, so they sit behind ours, and evicting them never shifts an index we know.
//! - Invariant: for every index that both the real (encoder's) table and ours hold, the two
//!   entries are the same. An insert adds the same entry at the front of both; an eviction
//!   shortens one of them at the old end; emptying either leaves nothing to compare. None of
//!   these breaks the invariant, so our eviction may lag or lead the real one (we may not know
//!   the real maximum size) without ever making a known index wrong: a valid reference past
//!   our length is reported unknown, and one to an entry the encoder already evicted is never
//!   made by a correct encoder.
//! - Every insert must be mirrored, even one whose name or value we could not know, or all
//!   later indexes would be off by one: such an entry is kept as a placeholder with unknown
//!   parts. Losing a whole block (a gap, a block we failed to decode) loses the count of
//!   inserts, so then the table is forgotten and we are joined again.
//! - The unknown tail is gone when the entries we know fill the encoder's maximum size so that
//!   not even the smallest entry (32 octets, empty name and value) fits behind them: the real
//!   table then holds only entries we know. The maximum is known from a size update seen since
//!   the join, or bounded by the SETTINGS_HEADER_TABLE_SIZE the decoding peer announced.

use std::collections::VecDeque;

/// A name or value: the octets, or unknown because it came from a table entry we never saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Known(Vec<u8>),
    Unknown,
}

impl Part {
    pub fn known(&self) -> Option<&[u8]> {
        match self {
            Part::Known(v) => Some(v),
            Part::Unknown => None,
        }
    }
}

/// Per-entry overhead (§4.1).
pub const ENTRY_OVERHEAD: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: Part,
    pub value: Part,
    /// §4.1 size when both parts are known; a lower bound (unknown parts counted as empty)
    /// otherwise, which only ever makes us evict less than the encoder, never more.
    size: usize,
}

impl Entry {
    pub fn new(name: Part, value: Part) -> Self {
        let len = |p: &Part| p.known().map_or(0, <[u8]>::len);
        let size = len(&name) + len(&value) + ENTRY_OVERHEAD;
        Entry { name, value, size }
    }
}

/// What a dynamic index refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    Entry(&'a Entry),
    /// Past the entries we know, in the tail we never saw.
    Unknown,
    /// Past the end of a table we know completely: the block is wrong or misaligned.
    Invalid,
}

#[derive(Debug, Clone)]
pub struct DynamicTable {
    /// Newest first: `entries[0]` is index 62.
    entries: VecDeque<Entry>,
    /// Sum of the entries' (lower-bound) sizes.
    size: usize,
    /// The encoder's maximum table size, when known (from the start, or a size update seen).
    max_size: Option<usize>,
    /// Upper bound on any maximum the encoder may use: the decoding peer's
    /// SETTINGS_HEADER_TABLE_SIZE, when seen.
    settings_bound: Option<usize>,
    /// Memory we hold at most, whatever the peers announce.
    cap: usize,
    /// The real table may hold entries older than all of ours.
    tail_unknown: bool,
}

/// The initial SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_SIZE: usize = 4096;

impl DynamicTable {
    /// From a connection's start: empty, maximum 4096, nothing unknown.
    pub fn exact(cap: usize) -> Self {
        let mut t = Self::joined(cap);
        t.max_size = Some(DEFAULT_MAX_SIZE);
        t.tail_unknown = false;
        t.evict();
        t
    }

    /// Joined mid-stream (or after losing a block): neither the entries nor the size known.
    pub fn joined(cap: usize) -> Self {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size: None,
            settings_bound: None,
            cap,
            tail_unknown: true,
        }
    }

    /// Forgets everything but the settings bound, which still holds.
    pub fn forget(&mut self) {
        let bound = self.settings_bound;
        *self = Self::joined(self.cap);
        self.settings_bound = bound;
    }

    pub fn is_exact(&self) -> bool {
        !self.tail_unknown
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Size of the entries held (§4.1), exact when every part is known.
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn max_size(&self) -> Option<usize> {
        self.max_size
    }

    /// Newest first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// `index` counts from 1 = the newest entry (HPACK index minus 61).
    pub fn get(&self, index: usize) -> Lookup<'_> {
        match index.checked_sub(1).and_then(|i| self.entries.get(i)) {
            Some(e) => Lookup::Entry(e),
            None if self.tail_unknown => Lookup::Unknown,
            None => Lookup::Invalid,
        }
    }

    /// SETTINGS_HEADER_TABLE_SIZE announced by the peer that decodes this direction.
    pub fn set_settings_bound(&mut self, bound: usize) {
        self.settings_bound = Some(bound);
        self.check_tail();
    }

    /// A dynamic table size update (§6.3).
    pub fn set_max_size(&mut self, max: usize) {
        self.max_size = Some(max);
        self.evict();
    }

    pub fn insert(&mut self, entry: Entry) {
        // §4.4: an entry larger than the maximum empties the table and is not added. With a
        // lower-bound size we may add one the encoder did not; the invariant (module docs)
        // keeps that harmless.
        if entry.size > self.upper_bound() {
            self.entries.clear();
            self.size = 0;
            self.tail_unknown = false;
            return;
        }
        self.size += entry.size;
        self.entries.push_front(entry);
        self.evict();
    }

    /// The most the encoder's table can hold: its maximum if known, within the settings bound.
    fn upper_bound(&self) -> usize {
        let max = self.max_size.unwrap_or(usize::MAX);
        max.min(self.settings_bound.unwrap_or(usize::MAX))
    }

    fn evict(&mut self) {
        let upper = self.upper_bound();
        while self.size > upper.min(self.cap) {
            let before = self.size;
            let Some(old) = self.entries.pop_back() else {
                break;
            };
            self.size -= old.size;
            // The encoder holds at least what we hold (our sizes are lower bounds), so past
            // its maximum it evicted this entry too; below it we evicted for our memory only,
            // the encoder may still hold the entry and indexes past ours are unknown again.
            if before <= upper {
                self.tail_unknown = true;
            }
        }
        self.check_tail();
    }

    /// The encoder's table holds at most `upper_bound` octets, our entries first: if not even
    /// an empty entry (32) fits behind them, it holds nothing we do not know.
    fn check_tail(&mut self) {
        let upper = self.upper_bound();
        if upper != usize::MAX && self.size + ENTRY_OVERHEAD > upper {
            self.tail_unknown = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, value: &str) -> Entry {
        Entry::new(
            Part::Known(name.as_bytes().to_vec()),
            Part::Known(value.as_bytes().to_vec()),
        )
    }

    #[test]
    fn joined_table_knows_only_what_it_saw() {
        let mut t = DynamicTable::joined(1 << 16);
        assert_eq!(t.get(1), Lookup::Unknown);
        t.insert(entry("a", "1"));
        assert_eq!(t.get(1), Lookup::Entry(&entry("a", "1")));
        assert_eq!(t.get(2), Lookup::Unknown);
        assert!(!t.is_exact());
    }

    #[test]
    fn size_update_then_fill_makes_it_exact() {
        let mut t = DynamicTable::joined(1 << 16);
        t.set_max_size(100);
        assert!(!t.is_exact());
        t.insert(entry("aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb")); // 72
        assert!(t.is_exact(), "72 + 32 > 100: nothing unseen fits behind");
        assert_eq!(t.get(2), Lookup::Invalid);
    }

    #[test]
    fn size_update_to_zero_empties_and_is_exact() {
        let mut t = DynamicTable::joined(1 << 16);
        t.insert(entry("a", "1"));
        t.set_max_size(0);
        assert!(t.is_exact());
        assert!(t.is_empty());
    }

    #[test]
    fn settings_bound_proves_the_tail_gone() {
        let mut t = DynamicTable::joined(1 << 16);
        t.set_settings_bound(64);
        t.insert(entry("name", "value")); // 41
        assert!(t.is_exact());
    }

    #[test]
    fn memory_cap_eviction_makes_the_tail_unknown() {
        let mut t = DynamicTable::exact(100);
        t.set_max_size(1000);
        t.insert(entry("aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"));
        assert!(t.is_exact());
        t.insert(entry("cccccccccccccccccccc", "dddddddddddddddddddd"));
        assert_eq!(t.len(), 1);
        assert!(!t.is_exact(), "the encoder still holds what we dropped");
        assert_eq!(t.get(2), Lookup::Unknown);
    }

    #[test]
    fn exact_eviction_follows_the_rfc() {
        let mut t = DynamicTable::exact(1 << 16);
        t.set_max_size(80);
        t.insert(entry("a", "1")); // 34
        t.insert(entry("b", "2")); // 68
        t.insert(entry("c", "3")); // evicts "a"
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(2), Lookup::Entry(&entry("b", "2")));
        assert!(t.is_exact());
        t.insert(Entry::new(Part::Known(vec![b'x'; 60]), Part::Known(vec![])));
        assert!(
            t.is_empty(),
            "an entry larger than the maximum empties the table"
        );
    }
}
