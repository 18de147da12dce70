//! The path templater: a tree of path segments per service, learned from traffic. Typed
//! identifiers (see `segment`) become a parameter at once; a position holding many distinct
//! words, each seen rarely, becomes one too, keeping its frequent words (`/users/me`) literal.
//! Decisions are never undone, so templates stay stable as traffic grows, and they are taken
//! per position, so siblings under different literal prefixes are never merged.

use foldhash::HashMap;

use super::segment::{KindSet, SegmentKind, classify};

/// How eagerly words become parameters, and how much a service's tree may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplaterLimits {
    /// Distinct words at one position from which it may become a parameter.
    pub param_threshold: usize,
    /// Tree nodes per service; beyond it, unseen segments become parameters (counted).
    pub max_nodes: usize,
}

impl Default for TemplaterLimits {
    fn default() -> Self {
        Self {
            param_threshold: 16,
            max_nodes: 20_000,
        }
    }
}

/// A position of words becomes a parameter at `param_threshold` distinct words when new words
/// keep coming: at least one call in `NEW_WORD_RATE` brought a word not seen before (ids do;
/// a fixed set of resources stops bringing new ones after a few calls each). Frequent words are
/// left out of that count, and keep their literal. At `FORCED_FACTOR` times the threshold the
/// position becomes a parameter regardless (memory is bounded).
const NEW_WORD_RATE: usize = 2;
const FORCED_FACTOR: usize = 4;
/// A word keeps its own literal when it has at least this many calls and this many times the
/// median of its siblings.
const KEEP_MIN_CALLS: u64 = 5;
const KEEP_MEDIAN_FACTOR: u64 = 3;

#[derive(Debug, Default)]
struct Node {
    calls: u64,
    literals: HashMap<Box<str>, Node>,
    param: Option<Box<Param>>,
    /// Words here are parameter values (decided once).
    words_are_params: bool,
}

#[derive(Debug, Default)]
struct Param {
    kinds: KindSet,
    node: Node,
}

/// One segment of a template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Part {
    Literal(String),
    Param(KindSet),
}

/// What the templater learned from one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    pub parts: Vec<Part>,
    /// A position became a parameter: templates learned before may have changed.
    pub generalized: bool,
}

#[derive(Debug, Default)]
pub struct PathTemplater {
    root: Node,
    nodes: usize,
    limits: TemplaterLimits,
    /// Segments made parameters because the tree was full.
    pub capped: u64,
    /// Positions that became parameters because of their many words.
    pub generalizations: u64,
}

impl PathTemplater {
    pub fn new(limits: TemplaterLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Learns from `path` (without query) and gives its template as of now.
    pub fn learn(&mut self, path: &str) -> Learned {
        let mut parts = Vec::new();
        let mut generalized = false;
        let limits = self.limits;
        let mut nodes = self.nodes;
        let mut capped = 0u64;
        let mut node = &mut self.root;
        node.calls += 1;
        for segment in segments(path) {
            let kind = classify(segment);
            if kind.is_none() && node.literals.contains_key(segment) {
                parts.push(Part::Literal(segment.to_owned()));
                node = descend_literal(node, segment);
                node.calls += 1;
                continue;
            }
            let as_param = match kind {
                Some(kind) => Some(kind),
                None if node.words_are_params => Some(SegmentKind::Word),
                None if nodes >= limits.max_nodes => {
                    capped += 1;
                    Some(SegmentKind::Word)
                }
                None => None,
            };
            if let Some(kind) = as_param {
                let param = node.param.get_or_insert_with(|| {
                    nodes += 1;
                    Box::default()
                });
                param.kinds.insert(kind);
                parts.push(Part::Param(param.kinds));
                node = &mut param.node;
                node.calls += 1;
                continue;
            }
            node.literals.insert(segment.into(), Node::default());
            nodes += 1;
            if should_generalize(node, limits) {
                generalize(node, limits);
                generalized = true;
            }
            // The segment is now a literal child or a word of the parameter.
            if node.literals.contains_key(segment) {
                parts.push(Part::Literal(segment.to_owned()));
                node = descend_literal(node, segment);
            } else {
                let param = node.param.get_or_insert_with(Box::default);
                param.kinds.insert(SegmentKind::Word);
                parts.push(Part::Param(param.kinds));
                node = &mut param.node;
            }
            node.calls += 1;
        }
        if generalized {
            self.generalizations += 1;
            nodes = count(&self.root) - 1;
        }
        self.nodes = nodes;
        self.capped += capped;
        Learned { parts, generalized }
    }

    /// The template `path` has now, without learning from it.
    pub fn template(&self, path: &str) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut node = Some(&self.root);
        for segment in segments(path) {
            let kind = classify(segment);
            let next = node.and_then(|n| {
                let literal = kind.is_none().then(|| n.literals.get(segment)).flatten();
                match literal {
                    Some(child) => Some((Part::Literal(segment.to_owned()), Some(child))),
                    None if kind.is_some() || n.words_are_params => n
                        .param
                        .as_ref()
                        .map(|p| (Part::Param(p.kinds), Some(&p.node))),
                    None => None,
                }
            });
            match next {
                Some((part, child)) => {
                    parts.push(part);
                    node = child;
                }
                None => {
                    parts.push(match kind {
                        Some(kind) => {
                            let mut kinds = KindSet::default();
                            kinds.insert(kind);
                            Part::Param(kinds)
                        }
                        None => Part::Literal(segment.to_owned()),
                    });
                    node = None;
                }
            }
        }
        parts
    }

    /// Tree nodes held (the root not counted).
    pub fn nodes(&self) -> usize {
        self.nodes
    }
}

/// `/a/b/` → `a`, `b`, ``; `/` → nothing.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    path.split('/')
        .take(if path.is_empty() { 0 } else { usize::MAX })
}

fn descend_literal<'a>(node: &'a mut Node, segment: &str) -> &'a mut Node {
    // The caller checked the key; the entry API keeps this total without an unwrap.
    node.literals.entry(segment.into()).or_default()
}

fn median_calls(node: &Node) -> u64 {
    let mut calls: Vec<u64> = node.literals.values().map(|n| n.calls).collect();
    calls.sort_unstable();
    calls.get(calls.len() / 2).copied().unwrap_or(0)
}

/// Words with at least this many calls keep their literal when the position generalizes.
fn keep_from(node: &Node) -> u64 {
    KEEP_MIN_CALLS.max(median_calls(node).saturating_mul(KEEP_MEDIAN_FACTOR))
}

fn should_generalize(node: &Node, limits: TemplaterLimits) -> bool {
    let threshold = limits.param_threshold.max(2);
    if node.words_are_params || node.literals.len() < threshold {
        return false;
    }
    if node.literals.len() >= threshold.saturating_mul(FORCED_FACTOR) {
        return true;
    }
    let keep = keep_from(node);
    let (words, calls) = node
        .literals
        .values()
        .filter(|n| n.calls < keep)
        .fold((0usize, 0u64), |(w, c), n| (w + 1, c + n.calls.max(1)));
    words >= threshold && (words as u64).saturating_mul(NEW_WORD_RATE as u64) >= calls
}

/// Makes `node`'s words parameter values, merging their subtrees into the parameter's; frequent
/// words keep their literal. Subtrees merged may have to generalize in turn.
fn generalize(node: &mut Node, limits: TemplaterLimits) {
    let keep = keep_from(node);
    node.words_are_params = true;
    let words: Vec<Box<str>> = node
        .literals
        .iter()
        .filter(|(_, n)| n.calls < keep)
        .map(|(w, _)| w.clone())
        .collect();
    if words.is_empty() {
        return;
    }
    let param = node.param.get_or_insert_with(Box::default);
    param.kinds.insert(SegmentKind::Word);
    for word in words {
        if let Some(child) = node.literals.remove(&word) {
            merge(&mut param.node, child);
        }
    }
    settle(&mut param.node, limits);
}

fn merge(into: &mut Node, from: Node) {
    into.calls += from.calls;
    into.words_are_params |= from.words_are_params;
    for (word, child) in from.literals {
        match into.literals.get_mut(&word) {
            Some(existing) => merge(existing, child),
            None => {
                into.literals.insert(word, child);
            }
        }
    }
    if let Some(from_param) = from.param {
        let param = into.param.get_or_insert_with(Box::default);
        param.kinds = param.kinds.union(from_param.kinds);
        merge(&mut param.node, from_param.node);
    }
}

/// After a merge: words that are parameter values here move into the parameter, and any
/// position that now holds many rare words generalizes.
fn settle(node: &mut Node, limits: TemplaterLimits) {
    if node.words_are_params && !node.literals.is_empty() {
        // Merged in from a sibling that still had these as literals: keep only frequent ones.
        node.words_are_params = false;
        generalize(node, limits);
    } else if should_generalize(node, limits) {
        generalize(node, limits);
    }
    for child in node.literals.values_mut() {
        settle(child, limits);
    }
    if let Some(param) = &mut node.param {
        settle(&mut param.node, limits);
    }
}

fn count(node: &Node) -> usize {
    1 + node.literals.values().map(count).sum::<usize>()
        + node.param.as_ref().map_or(0, |p| count(&p.node))
}

#[cfg(test)]
mod tests;
