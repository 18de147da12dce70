//! A value serialised once and copied into every line that repeats it: a connection's
//! addresses and identity are the same in each of its transactions, and writing them field by
//! field was a large part of rendering one.

use std::{borrow::Cow, marker::PhantomData};

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

/// `T` as JSON text that sonic-rs writes as it is; serde_json (tests, `to_value`) and any other
/// serialiser see an opaque struct, so lines with it are written through sonic-rs only.
pub struct Prerendered<T> {
    json: Json<T>,
}

enum Json<T> {
    /// Written verbatim by sonic-rs.
    Raw(sonic_rs::OwnedLazyValue, PhantomData<T>),
    /// Serialising failed (it does not for the types used here): written field by field.
    Plain(T),
}

impl<T: Serialize> Prerendered<T> {
    pub fn new(value: T) -> Self {
        let raw = sonic_rs::to_string(&value).and_then(|text| sonic_rs::from_str(&text));
        Self {
            json: match raw {
                Ok(raw) => Json::Raw(raw, PhantomData),
                Err(_) => Json::Plain(value),
            },
        }
    }
}

impl<T: Serialize> Serialize for Prerendered<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.json {
            Json::Raw(raw, _) => raw.serialize(s),
            Json::Plain(value) => value.serialize(s),
        }
    }
}

impl<T> std::fmt::Debug for Prerendered<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.json {
            Json::Raw(raw, _) => write!(f, "Prerendered({raw:?})"),
            Json::Plain(_) => f.write_str("Prerendered(..)"),
        }
    }
}

/// The schema of `T`, which is what is written.
impl<T: JsonSchema> JsonSchema for Prerendered<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Point {
        x: u32,
        name: &'static str,
    }

    #[test]
    fn sonic_writes_the_same_text() {
        let value = Point {
            x: 7,
            name: "a \"quoted\" é",
        };
        let direct = sonic_rs::to_string(&[&value]).unwrap();
        let pre = Prerendered::new(Point {
            x: 7,
            name: "a \"quoted\" é",
        });
        assert!(matches!(pre.json, Json::Raw(..)));
        assert_eq!(sonic_rs::to_string(&[&pre]).unwrap(), direct);
    }
}
