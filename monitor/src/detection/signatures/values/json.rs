//! Every string of a JSON body (values, and keys that are more than identifiers) by JSON
//! pointer, read off the parser without building the document; deeper than the cap is skipped
//! and counted, a body cut short is read up to where it stops.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Field, Sink, form::plain_name};
use crate::detection::{hit::Part, signatures::rules::Role};

pub enum Outcome {
    /// Read (perhaps only up to where it was cut short or broken).
    Walked,
    /// The sink wanted no more.
    Stopped,
    /// Not JSON at all: nothing was read.
    NotJson,
}

pub fn strings(body: &[u8], max_depth: usize, sink: &mut impl Sink) -> Outcome {
    let mut walk = Walk {
        sink,
        pointer: String::new(),
        keys: Vec::new(),
        depth: 0,
        max_depth,
        seen: false,
        stopped: false,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = Node(&mut walk).deserialize(&mut de);
    if walk.stopped {
        Outcome::Stopped
    } else if walk.seen {
        Outcome::Walked
    } else {
        Outcome::NotJson
    }
}

struct Walk<'s, S> {
    sink: &'s mut S,
    /// The JSON pointer of the current node.
    pointer: String,
    /// Where each enclosing object key sits in `pointer`, innermost last: a value's name
    /// without reading the pointer again (its keys may be long).
    keys: Vec<(usize, usize)>,
    depth: usize,
    max_depth: usize,
    /// Some token was read: the body is JSON, even if it breaks off later.
    seen: bool,
    stopped: bool,
}

impl<S: Sink> Walk<'_, S> {
    fn string<E: de::Error>(&mut self, text: &str, role: Role) -> Result<(), E> {
        let location = (!self.pointer.is_empty()).then_some(self.pointer.as_str());
        let field = Field {
            part: Part::Json,
            location,
            key: self
                .keys
                .last()
                .and_then(|&(start, end)| self.pointer.get(start..end)),
            role,
        };
        if self.sink.value(&field, text) {
            Ok(())
        } else {
            self.stopped = true;
            Err(E::custom("enough"))
        }
    }

    /// Appends `/segment` to the pointer, escaped as RFC 6901 says.
    fn push(&mut self, segment: &str) -> usize {
        let len = self.pointer.len();
        self.pointer.push('/');
        for c in segment.chars() {
            match c {
                '~' => self.pointer.push_str("~0"),
                '/' => self.pointer.push_str("~1"),
                c => self.pointer.push(c),
            }
        }
        len
    }
}

struct Node<'w, 's, S>(&'w mut Walk<'s, S>);

impl<'de, S: Sink> DeserializeSeed<'de> for Node<'_, '_, S> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for Node<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.seen = true;
        self.0.string(v, Role::Value)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.seen = true;
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.seen = true;
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.seen = true;
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.seen = true;
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.seen = true;
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let w = self.0;
        w.seen = true;
        if w.depth >= w.max_depth {
            w.sink.skipped();
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        w.depth += 1;
        let mut index = 0usize;
        loop {
            let len = w.push(itoa::Buffer::new().format(index));
            let more = seq.next_element_seed(Node(&mut *w))?;
            w.pointer.truncate(len);
            if more.is_none() {
                break;
            }
            index += 1;
        }
        w.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let w = self.0;
        w.seen = true;
        if w.depth >= w.max_depth {
            w.sink.skipped();
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        w.depth += 1;
        loop {
            let len = w.pointer.len();
            if map.next_key_seed(Key(&mut *w))?.is_none() {
                break;
            }
            map.next_value_seed(Node(&mut *w))?;
            w.pointer.truncate(len);
            w.keys.pop();
        }
        w.depth -= 1;
        Ok(())
    }
}

/// An object key: appended to the pointer, and inspected when it is not a plain identifier.
struct Key<'w, 's, S>(&'w mut Walk<'s, S>);

impl<'de, S: Sink> DeserializeSeed<'de> for Key<'_, '_, S> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for Key<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let start = self.0.push(v) + 1;
        let end = self.0.pointer.len();
        self.0.keys.push((start, end));
        if plain_name(v) {
            return Ok(());
        }
        self.0.string(v, Role::Key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what it is fed.
    #[derive(Default)]
    struct Record {
        seen: Vec<(Option<String>, Option<String>, String)>,
        skipped: usize,
        stop_after: Option<usize>,
    }

    impl Sink for Record {
        fn value(&mut self, f: &Field<'_>, raw: &str) -> bool {
            self.seen.push((
                f.location.map(str::to_owned),
                f.key.map(str::to_owned),
                raw.to_owned(),
            ));
            self.stop_after.is_none_or(|n| self.seen.len() < n)
        }
        fn skipped(&mut self) {
            self.skipped += 1;
        }
    }

    fn walk(body: &str, depth: usize) -> (Record, &'static str) {
        let mut r = Record::default();
        let o = match strings(body.as_bytes(), depth, &mut r) {
            Outcome::Walked => "walked",
            Outcome::Stopped => "stopped",
            Outcome::NotJson => "not json",
        };
        (r, o)
    }

    #[test]
    fn strings_with_pointers_and_keys() {
        let (r, o) = walk(
            r#"{"user":{"name":"O'Brien","tags":["a","b\"c"],"n":1},"a/b~":"x","<k>":null}"#,
            8,
        );
        assert_eq!(o, "walked");
        let seen: Vec<_> = r
            .seen
            .iter()
            .map(|(l, k, v)| (l.as_deref(), k.as_deref(), v.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (Some("/user/name"), Some("name"), "O'Brien"),
                (Some("/user/tags/0"), Some("tags"), "a"),
                (Some("/user/tags/1"), Some("tags"), "b\"c"),
                // A key that is not a plain name is read as a value too.
                (Some("/a~1b~0"), Some("a~1b~0"), "a/b~"),
                (Some("/a~1b~0"), Some("a~1b~0"), "x"),
                (Some("/<k>"), Some("<k>"), "<k>"),
            ]
        );
    }

    #[test]
    fn depth_cap_truncation_and_not_json() {
        let (r, _) = walk(r#"{"a":{"b":{"c":"deep"}},"d":"shallow"}"#, 2);
        assert_eq!(r.skipped, 1);
        assert_eq!(r.seen.len(), 1);
        let (r, o) = walk(r#"{"a":"one","b":"tw"#, 8);
        assert_eq!((r.seen.len(), o), (1, "walked"));
        let (r, o) = walk("not json", 8);
        assert_eq!((r.seen.len(), o), (0, "not json"));
        let (_, o) = walk("42", 8);
        assert_eq!(o, "walked");
        let deep = "[".repeat(100_000);
        let (r, o) = walk(&deep, 32);
        assert_eq!((r.skipped, o), (1, "walked"));
    }

    #[test]
    fn stops_when_the_sink_is_done() {
        let mut r = Record {
            stop_after: Some(2),
            ..Record::default()
        };
        let body = br#"["a","b","c","d"]"#;
        assert!(matches!(strings(body, 8, &mut r), Outcome::Stopped));
        assert_eq!(r.seen.len(), 2);
    }
}
