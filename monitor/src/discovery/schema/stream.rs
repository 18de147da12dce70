//! JSON bodies merged straight from their text: no `serde_json::Value` is built, so a body costs
//! its parse and its merge, not an allocation per key, string and container (this runs on every
//! body of every transaction).
//!
//! A body is first read through once without keeping anything, exactly as a `Value` would be
//! parsed (the same numbers, strings and nesting limit), so text that is not JSON or ends early
//! is refused before it can leave half a merge behind. Objects are merged in their text's
//! order, as they are written.

use std::{borrow::Cow, fmt};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::node::{Merge, Node};

/// Whether `body` is one JSON value, as `serde_json::from_slice::<Value>` would decide; the
/// error says whether the text ended early.
pub(super) fn check(body: &[u8]) -> Result<(), serde_json::Error> {
    serde_json::from_slice::<Checked>(body).map(|_| ())
}

/// Merges the JSON text `body` (already [`check`]ed) into `root`.
pub(super) fn merge(root: &mut Node, body: &[u8], m: &mut Merge) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    Place {
        node: root,
        name: None,
        depth: 0,
        m,
    }
    .deserialize(&mut de)?;
    de.end()
}

/// A value read and let go; every part is visited as a `Value` parse would visit it.
struct Checked;

impl<'de> de::Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckVisitor)
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_key::<Checked>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

/// One place of the model and the value about to be merged there.
struct Place<'a, 'n, 'l> {
    node: &'a mut Node,
    /// The field the value is under (for arrays and maps, theirs).
    name: Option<&'n str>,
    depth: usize,
    m: &'a mut Merge<'l>,
}

impl<'de> DeserializeSeed<'de> for Place<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Place<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.node.merge_null();
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.node.merge_bool();
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.node.merge_integer(Some(v), self.name, self.m);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        // A `Value` holds a non-negative i64 as a u64.
        self.node
            .merge_integer(u64::try_from(v).ok(), self.name, self.m);
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.node.merge_float();
        Ok(())
    }
    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        self.node.merge_string(s, self.name, self.m);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Place {
            node,
            name,
            depth,
            m,
        } = self;
        let Some(items) = node.enter_array(depth, m) else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        loop {
            let place = Place {
                node: &mut *items,
                name,
                depth: depth + 1,
                m: &mut *m,
            };
            if seq.next_element_seed(place)?.is_none() {
                return Ok(());
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Place {
            node,
            name,
            depth,
            m,
        } = self;
        if !node.enter_object(depth, m) {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match node.child(&key, m) {
                Some((child, is_map)) => {
                    // Map values are named after the map: its keys are ids.
                    let name = if is_map { name } else { Some(&*key) };
                    map.next_value_seed(Place {
                        node: child,
                        name,
                        depth: depth + 1,
                        m: &mut *m,
                    })?;
                }
                None => {
                    node.truncated = true;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// An object key, borrowed from the body unless it had escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(s.to_owned())))
    }
}
