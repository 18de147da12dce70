//! Every baseline detection learns, keyed by what it measures, the actors' kind and the
//! endpoint: bounded (the least recently used is dropped and counted) and saved with the state.

use std::num::NonZeroUsize;

use lru::LruCache;
use serde::{Deserialize, Serialize};

use super::baseline::{Baseline, BaselineRules, Summary};
use crate::session::actor::ActorKind;

/// What a baseline measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Requests per active minute of an actor, over all endpoints.
    Rate,
    /// Requests per active minute of an actor on one endpoint.
    EndpointRate,
    /// Distinct values of one parameter an actor touched per window.
    DistinctValues,
    /// Responses carrying personal data an actor received per active minute.
    SensitiveRecords,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub measure: Measure,
    pub kind: ActorKind,
    /// The endpoint (or endpoint and parameter) it is about; 0 for all endpoints.
    pub scope: u64,
}

/// A baseline as saved in the state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub key: Key,
    /// What `scope` is, for people reading the file (`GET /users/{id} :id`).
    pub label: String,
    pub baseline: Baseline,
}

#[derive(Debug)]
struct Entry {
    label: String,
    baseline: Baseline,
}

pub struct Learned {
    map: LruCache<Key, Entry>,
    rules: BaselineRules,
    pub evicted: u64,
}

impl std::fmt::Debug for Learned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learned")
            .field("baselines", &self.map.len())
            .finish_non_exhaustive()
    }
}

impl Learned {
    pub fn new(rules: BaselineRules, max: usize) -> Self {
        Self {
            map: LruCache::new(NonZeroUsize::new(max).unwrap_or(NonZeroUsize::MIN)),
            rules,
            evicted: 0,
        }
    }

    /// Adds a sample of `key` from `actor`; `label` names the scope when it is new.
    pub fn add(&mut self, key: Key, label: impl FnOnce() -> String, value: f64, actor: &[u8]) {
        if let Some(e) = self.map.get_mut(&key) {
            e.baseline.add(value, actor, &self.rules);
            return;
        }
        let mut baseline = Baseline::default();
        baseline.add(value, actor, &self.rules);
        let entry = Entry {
            label: label(),
            baseline,
        };
        if self.map.push(key, entry).is_some_and(|(k, _)| k != key) {
            self.evicted += 1;
        }
    }

    /// The baseline's summary, or None while it warms up (or was never seen).
    pub fn summary(&mut self, key: &Key) -> Option<Summary> {
        let rules = self.rules;
        self.map.get_mut(key)?.baseline.summary(&rules)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every baseline, least recently used first (so loading them back keeps the order).
    pub fn save(&self) -> Vec<Saved> {
        self.map
            .iter()
            .rev()
            .map(|(k, e)| Saved {
                key: *k,
                label: e.label.clone(),
                baseline: e.baseline.clone(),
            })
            .collect()
    }

    pub fn restore(&mut self, saved: Vec<Saved>) {
        for mut s in saved {
            s.baseline.repair();
            self.map.push(
                s.key,
                Entry {
                    label: s.label,
                    baseline: s.baseline,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_counted() {
        let mut l = Learned::new(BaselineRules::default(), 2);
        for scope in 0..5u64 {
            let key = Key {
                measure: Measure::Rate,
                kind: ActorKind::Ip,
                scope,
            };
            l.add(key, || format!("scope {scope}"), 1.0, b"a");
        }
        assert_eq!(l.len(), 2);
        assert_eq!(l.evicted, 3);
        let saved = l.save();
        assert_eq!(saved[0].key.scope, 3);
        let mut back = Learned::new(BaselineRules::default(), 2);
        back.restore(saved.clone());
        assert_eq!(back.save(), saved);
    }
}
