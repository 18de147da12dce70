//! Values already proved inert. Header and parameter values repeat from request to request
//! (the same Host, User-Agent, Accept and token on every request of a client), and proving a
//! value inert again costs every rule's first tests; looking its hash up costs one pass over
//! its bytes. A direct-mapped table of hashes, fixed in size: a value whose slot another took
//! is only checked again. The hash is keyed per process, so no one can aim a payload at the
//! hash of a value they saw cached.

use std::hash::BuildHasher;

use super::values::Field;

/// Slots in the table (a power of two): 8 KiB.
const SLOTS: usize = 1024;

pub struct InertCache {
    /// A value's hash, or 0 for an empty slot.
    slots: Box<[u64]>,
    hasher: foldhash::quality::RandomState,
}

impl Default for InertCache {
    fn default() -> Self {
        Self {
            slots: vec![0; SLOTS].into_boxed_slice(),
            hasher: foldhash::quality::RandomState::default(),
        }
    }
}

impl std::fmt::Debug for InertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.slots.iter().filter(|&&h| h != 0).count();
        f.debug_struct("InertCache").field("held", &held).finish()
    }
}

/// A value as the rules read it: what they are given of its field, and its text.
#[derive(Clone, Copy)]
pub struct Key(u64);

impl InertCache {
    /// The key of `raw` read as a value of `field`: everything the rules read of it (its
    /// part, name and role, and its bytes); not where it is shown.
    pub fn key(&self, field: &Field<'_>, raw: &str) -> Key {
        let h = self
            .hasher
            .hash_one((field.part as u8, field.key, field.role as u8, raw));
        // 0 marks an empty slot.
        Key(h.max(1))
    }

    /// Whether the value of `key` was proved inert.
    pub fn holds(&self, key: Key) -> bool {
        self.slots[slot(key)] == key.0
    }

    /// The value of `key` was proved inert.
    pub fn put(&mut self, key: Key) {
        self.slots[slot(key)] = key.0;
    }
}

fn slot(key: Key) -> usize {
    // The high bits: foldhash mixes them best.
    (key.0 >> 54) as usize & (SLOTS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::{hit::Part, signatures::rules::Role};

    fn field(part: Part, key: Option<&'static str>, role: Role) -> Field<'static> {
        Field {
            part,
            location: key,
            key,
            role,
        }
    }

    #[test]
    fn a_value_is_held_only_as_read_where_it_was_proved_inert() {
        let mut cache = InertCache::default();
        let header = field(Part::Header, Some("user-agent"), Role::Value);
        let k = cache.key(&header, "curl/8.0");
        assert!(!cache.holds(k));
        cache.put(k);
        assert!(cache.holds(cache.key(&header, "curl/8.0")));
        // The same bytes elsewhere, or under another name, are other values to the rules.
        let query = field(Part::Query, Some("user-agent"), Role::Value);
        assert!(!cache.holds(cache.key(&query, "curl/8.0")));
        let named = field(Part::Header, Some("referer"), Role::Value);
        assert!(!cache.holds(cache.key(&named, "curl/8.0")));
        let key_role = field(Part::Header, Some("user-agent"), Role::Key);
        assert!(!cache.holds(cache.key(&key_role, "curl/8.0")));
        assert!(!cache.holds(cache.key(&header, "curl/8.1")));
    }

    #[test]
    fn two_caches_hash_alike_values_apart() {
        let (a, b) = (InertCache::default(), InertCache::default());
        let f = field(Part::Query, Some("q"), Role::Value);
        assert_ne!(a.key(&f, "x.y").0, b.key(&f, "x.y").0);
    }

    #[test]
    fn a_slot_holds_the_last_value_put_in_it() {
        let mut cache = InertCache::default();
        let f = field(Part::Query, Some("q"), Role::Value);
        // Far more values than slots: each is held right after it is put, and the table
        // never grows.
        let mut held_after = 0;
        let keys: Vec<Key> = (0..SLOTS * 4)
            .map(|i| cache.key(&f, &format!("v.{i}")))
            .collect();
        for k in &keys {
            cache.put(*k);
            assert!(cache.holds(*k));
        }
        for k in &keys {
            held_after += usize::from(cache.holds(*k));
        }
        assert!(held_after <= SLOTS, "{held_after}");
        assert_eq!(cache.slots.len(), SLOTS);
    }
}
