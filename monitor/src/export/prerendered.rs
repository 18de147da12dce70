//! A value serialised once and copied into every line that repeats it: a connection's
//! addresses and identity are the same in each of its transactions, and writing them field by
//! field was a large part of rendering one.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

/// `T` with its JSON text, rendered once: the hand-written line writer copies the text, any
/// serde serialiser (tests, `--raw` tools) sees `T` itself.
pub struct Prerendered<T> {
    value: T,
    json: Box<str>,
}

impl<T: Serialize> Prerendered<T> {
    pub fn new(value: T) -> Self {
        // The types used here have string keys and no floats: serialising cannot fail. Should
        // it, `null` keeps the line valid JSON, and the check in `HttpRenderer::to_value`
        // (which compares with serde's text) would report it.
        let json = serde_json::to_string(&value).unwrap_or_else(|_| "null".to_owned());
        Self {
            value,
            json: json.into_boxed_str(),
        }
    }

    /// The JSON text of the value.
    pub fn json(&self) -> &str {
        &self.json
    }
}

impl<T: Serialize> Serialize for Prerendered<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T> std::fmt::Debug for Prerendered<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prerendered({})", self.json)
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
    fn text_is_what_serde_writes() {
        let value = Point {
            x: 7,
            name: "a \"quoted\" é",
        };
        let direct = serde_json::to_string(&value).unwrap();
        let pre = Prerendered::new(value);
        assert_eq!(pre.json(), direct);
        assert_eq!(serde_json::to_string(&pre).unwrap(), direct);
    }
}
