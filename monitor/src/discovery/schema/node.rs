//! The merged shape of all values seen at one place in a body: their JSON types, string
//! formats, sensitive classes, object properties and array items, within fixed bounds.

use std::collections::BTreeMap;

use super::format::Formats;
use crate::discovery::sensitive::{
    ClassSet, NameClue, classify_number_under, classify_under, is_uuid,
};

/// JSON types seen (bit set).
pub(super) const NULL: u8 = 1;
pub(super) const BOOLEAN: u8 = 1 << 1;
pub(super) const INTEGER: u8 = 1 << 2;
pub(super) const NUMBER: u8 = 1 << 3;
pub(super) const STRING: u8 = 1 << 4;
pub(super) const OBJECT: u8 = 1 << 5;
pub(super) const ARRAY: u8 = 1 << 6;

/// An object whose keys are all ids and that has this many distinct keys is a map (`{"<id>":
/// {...}}`), described by one value schema rather than one property per id.
const MAP_MIN_KEYS: usize = 8;

/// How far merging goes; beyond it values are counted as dropped and the place is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaLimits {
    /// Nesting depth of objects and arrays that are described (the body itself is depth 0).
    pub max_depth: usize,
    /// Properties kept per object; further new keys are dropped.
    pub max_properties: usize,
    /// Longer keys are dropped (they are data, not field names).
    pub max_key_len: usize,
    /// Nodes per body model (every property, array item and map value is one): the memory
    /// bound, whatever the shape of the bodies.
    pub max_nodes: usize,
    /// Media types remembered per body model.
    pub max_media_types: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_depth: 8,
            max_properties: 128,
            max_key_len: 128,
            max_nodes: 1024,
            max_media_types: 8,
        }
    }
}

/// State shared by one merge: the limits, the node budget of the whole model, and what this
/// body was found to carry.
pub(super) struct Merge<'a> {
    pub(super) limits: &'a SchemaLimits,
    pub(super) nodes: &'a mut usize,
    pub(super) dropped: &'a mut u64,
    pub(super) found: ClassSet,
    /// A place became a map: its nodes were folded, so the model recounts them afterwards.
    pub(super) recount: bool,
    /// Keys are a protobuf message's field numbers: all digits, yet names, so no number of
    /// them makes the object a map.
    pub(super) field_numbers: bool,
}

impl Merge<'_> {
    fn take_node(&mut self) -> bool {
        if *self.nodes >= self.limits.max_nodes {
            return false;
        }
        *self.nodes += 1;
        true
    }

    fn drop_one(&mut self) {
        *self.dropped += 1;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    /// Values merged here.
    pub(super) seen: u64,
    pub(super) types: u8,
    pub(super) formats: Formats,
    pub(super) classes: ClassSet,
    pub(super) object: Option<Box<ObjectShape>>,
    pub(super) items: Option<Box<Node>>,
    /// A limit stopped merging below this place.
    pub(super) truncated: bool,
    /// What the name of the values here says, read at the first value. A place always sees
    /// the same name (its key; for array items and map values, the name of the array or map),
    /// so it is read once, not once per value.
    clue: Option<NameClue>,
}

impl Default for Node {
    fn default() -> Self {
        Self {
            seen: 0,
            types: 0,
            formats: Formats::ANY,
            classes: ClassSet::empty(),
            object: None,
            items: None,
            truncated: false,
            clue: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ObjectShape {
    /// Objects merged here: a property seen this many times is required.
    pub(super) count: u64,
    pub(super) properties: BTreeMap<Box<str>, Node>,
    /// Set once the object reads as a map keyed by ids: the shape of every value.
    pub(super) map_values: Option<Box<Node>>,
    /// Keys in `properties` that do not look like ids.
    named_keys: usize,
}

impl Node {
    // One JSON value found under field `name` merged here, by kind (see `stream`).

    pub(super) fn merge_null(&mut self) {
        self.seen += 1;
        self.types |= NULL;
    }

    pub(super) fn merge_bool(&mut self) {
        self.seen += 1;
        self.types |= BOOLEAN;
    }

    /// An integer; `value` when it is not negative.
    pub(super) fn merge_integer(&mut self, value: Option<u64>, name: Option<&str>, m: &mut Merge) {
        self.seen += 1;
        self.types |= INTEGER;
        let clue = self.clue(name);
        if let Some(u) = value
            && clue.numbers_may_be_sensitive()
        {
            let mut buf = itoa::Buffer::new();
            self.add_classes(classify_number_under(clue, buf.format(u)), m);
        }
    }

    pub(super) fn merge_float(&mut self) {
        self.seen += 1;
        self.types |= NUMBER;
    }

    pub(super) fn merge_string(&mut self, s: &str, name: Option<&str>, m: &mut Merge) {
        self.seen += 1;
        self.types |= STRING;
        self.formats = self.formats.intersect(Formats::of(s));
        let clue = self.clue(name);
        self.add_classes(classify_under(clue, s), m);
    }

    /// An array at `depth`: the node its items merge into, or `None` when a limit stops
    /// merging here (the items are then skipped).
    pub(super) fn enter_array(&mut self, depth: usize, m: &mut Merge) -> Option<&mut Node> {
        self.seen += 1;
        self.types |= ARRAY;
        if depth >= m.limits.max_depth {
            self.truncate(m);
            return None;
        }
        if self.items.is_none() {
            if !m.take_node() {
                self.truncate(m);
                return None;
            }
            self.items = Some(Box::default());
        }
        self.items.as_deref_mut()
    }

    /// An object at `depth`: whether its members are merged (see [`Node::child`]); when a
    /// limit stops merging here they are skipped.
    pub(super) fn enter_object(&mut self, depth: usize, m: &mut Merge) -> bool {
        self.seen += 1;
        self.types |= OBJECT;
        if depth >= m.limits.max_depth {
            self.truncate(m);
            return false;
        }
        self.object.get_or_insert_default().count += 1;
        true
    }

    /// The node for member `key` of the object entered here, and whether it is a map value;
    /// `None` when a limit drops it (the caller marks this place truncated).
    pub(super) fn child(&mut self, key: &str, m: &mut Merge) -> Option<(&mut Node, bool)> {
        self.object.as_deref_mut()?.child(key, m)
    }

    /// Merges one form field value: form values are text, so the type is inferred from it.
    pub(super) fn merge_form_value(&mut self, value: &str, name: &str, m: &mut Merge) {
        self.seen += 1;
        self.types |= infer_scalar(value);
        if self.types & STRING != 0 {
            self.formats = self.formats.intersect(Formats::of(value));
        }
        // Classified as text whatever the inferred type: the sender typed it as text.
        let clue = self.clue(Some(name));
        self.add_classes(classify_under(clue, value), m);
    }

    fn clue(&mut self, name: Option<&str>) -> NameClue {
        *self.clue.get_or_insert_with(|| NameClue::of(name))
    }

    fn add_classes(&mut self, classes: ClassSet, m: &mut Merge) {
        self.classes |= classes;
        m.found |= classes;
    }

    fn truncate(&mut self, m: &mut Merge) {
        self.truncated = true;
        m.drop_one();
    }

    /// Folds another node's knowledge into this one (when an object turns into a map).
    fn absorb(&mut self, other: Node, m: &mut Merge) {
        self.seen += other.seen;
        self.types |= other.types;
        self.formats = self.formats.intersect(other.formats);
        self.classes |= other.classes;
        self.truncated |= other.truncated;
        match (&mut self.object, other.object) {
            (Some(mine), Some(theirs)) => mine.absorb(*theirs, m),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        match (&mut self.items, other.items) {
            (Some(mine), Some(theirs)) => mine.absorb(*theirs, m),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }

    /// Nodes in this subtree, itself included.
    pub(super) fn node_count(&self) -> usize {
        1 + self.items.as_ref().map_or(0, |n| n.node_count())
            + self.object.as_ref().map_or(0, |o| {
                o.properties.values().map(Node::node_count).sum::<usize>()
                    + o.map_values.as_ref().map_or(0, |n| n.node_count())
            })
    }
}

impl ObjectShape {
    /// The node for `key`, created if the limits allow, and whether it is a map value.
    fn child(&mut self, key: &str, m: &mut Merge) -> Option<(&mut Node, bool)> {
        if self.map_values.is_some() {
            return self.map_values.as_deref_mut().map(|n| (n, true));
        }
        if !self.properties.contains_key(key) {
            if self.properties.len() >= m.limits.max_properties
                || key.len() > m.limits.max_key_len
                || !m.take_node()
            {
                m.drop_one();
                return None;
            }
            if m.field_numbers || !looks_like_id(key) {
                self.named_keys += 1;
            }
            self.properties.insert(key.into(), Node::default());
            if self.named_keys == 0 && self.properties.len() >= MAP_MIN_KEYS {
                self.become_map(m);
                return self.map_values.as_deref_mut().map(|n| (n, true));
            }
        }
        self.properties.get_mut(key).map(|n| (n, false))
    }

    /// The node for a form field (forms are flat, so map values need no special naming).
    pub(super) fn form_child(&mut self, key: &str, m: &mut Merge) -> Option<&mut Node> {
        self.child(key, m).map(|(node, _)| node)
    }

    /// Folds every property into one value schema.
    fn become_map(&mut self, m: &mut Merge) {
        let mut values = Node::default();
        for (_, node) in std::mem::take(&mut self.properties) {
            values.absorb(node, m);
        }
        self.map_values = Some(Box::new(values));
        self.named_keys = 0;
        m.recount = true;
    }

    fn absorb(&mut self, other: ObjectShape, m: &mut Merge) {
        self.count += other.count;
        if other.map_values.is_some() && self.map_values.is_none() {
            self.become_map(m);
        }
        if let Some(values) = self.map_values.as_deref_mut() {
            for (_, node) in other.properties {
                values.absorb(node, m);
            }
            if let Some(theirs) = other.map_values {
                values.absorb(*theirs, m);
            }
            return;
        }
        for (key, node) in other.properties {
            if let Some(mine) = self.properties.get_mut(&key) {
                mine.absorb(node, m);
            } else if self.properties.len() < m.limits.max_properties {
                if m.field_numbers || !looks_like_id(&key) {
                    self.named_keys += 1;
                }
                self.properties.insert(key, node);
            } else {
                m.drop_one();
            }
        }
    }
}

/// Keys that are data rather than field names: numbers, UUIDs, and codes with at least three
/// digits (`user_12345`, `2024-01-15`, `a1b2c3d4`).
fn looks_like_id(key: &str) -> bool {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 64 {
        return false;
    }
    if b.iter().all(u8::is_ascii_digit) || is_uuid(key) {
        return true;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    digits >= 3
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.'))
}

/// The JSON type a form value reads as: `true`/`false`, an integer without leading zeros (a
/// zip code `02134` stays a string), a decimal number, or a string.
fn infer_scalar(value: &str) -> u8 {
    if value == "true" || value == "false" {
        return BOOLEAN;
    }
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let int_ok = digits(int) && (int == "0" || !int.starts_with('0')) && int.len() <= 18;
    match frac {
        None if int_ok => INTEGER,
        Some(f) if int_ok && digits(f) => NUMBER,
        _ => STRING,
    }
}
