//! Writes a merged node as a JSON Schema (the OpenAPI 3.1 dialect, JSON Schema 2020-12), and
//! lists the paths of fields that carried sensitive data.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::node::{ARRAY, BOOLEAN, INTEGER, NULL, NUMBER, Node, OBJECT, STRING};
use crate::discovery::sensitive::ClassSet;

/// Type names in the order written.
const TYPE_NAMES: [(u8, &str); 7] = [
    (OBJECT, "object"),
    (ARRAY, "array"),
    (STRING, "string"),
    (INTEGER, "integer"),
    (NUMBER, "number"),
    (BOOLEAN, "boolean"),
    (NULL, "null"),
];

/// The schema of everything merged at `node`. Several types become a type array (`["string",
/// "null"]`); each type's keywords apply only to values of that type, so they coexist.
pub(super) fn schema(node: &Node) -> Value {
    let mut out = Map::new();
    let mut types = node.types;
    // Integers are numbers: a field seen as both is a number.
    if types & NUMBER != 0 {
        types &= !INTEGER;
    }
    let names: Vec<&str> = TYPE_NAMES
        .iter()
        .filter(|(bit, _)| types & bit != 0)
        .map(|&(_, name)| name)
        .collect();
    match names.as_slice() {
        [] => {}
        [one] => {
            out.insert("type".into(), json!(one));
        }
        many => {
            out.insert("type".into(), json!(many));
        }
    }
    if types & STRING != 0
        && let Some(format) = node.formats.format()
    {
        out.insert("format".into(), json!(format.name()));
    }
    if let Some(object) = node.object.as_deref() {
        if let Some(values) = object.map_values.as_deref() {
            out.insert("additionalProperties".into(), schema(values));
        } else if !object.properties.is_empty() {
            let properties: Map<String, Value> = object
                .properties
                .iter()
                .map(|(key, child)| (key.to_string(), schema(child)))
                .collect();
            let required: Vec<&str> = object
                .properties
                .iter()
                .filter(|(_, child)| child.seen >= object.count)
                .map(|(key, _)| &**key)
                .collect();
            out.insert("properties".into(), Value::Object(properties));
            if !required.is_empty() {
                out.insert("required".into(), json!(required));
            }
        }
    }
    if let Some(items) = node.items.as_deref() {
        out.insert("items".into(), schema(items));
    }
    if !node.classes.is_empty() {
        out.insert("x-sensitive".into(), json!(node.classes));
    }
    if node.truncated {
        out.insert("x-truncated".into(), json!(true));
    }
    Value::Object(out)
}

/// A field that carried sensitive data, by path: properties joined with `.`, array items as
/// `[]`, the values of an id-keyed map as `*` (`orders[].card`, `accounts.*.iban`); the body
/// itself is the empty path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SensitiveField {
    pub path: String,
    pub classes: ClassSet,
}

pub(super) fn sensitive_fields(node: &Node, path: &mut String, out: &mut Vec<SensitiveField>) {
    if !node.classes.is_empty() {
        out.push(SensitiveField {
            path: path.clone(),
            classes: node.classes,
        });
    }
    let len = path.len();
    if let Some(items) = node.items.as_deref() {
        path.push_str("[]");
        sensitive_fields(items, path, out);
        path.truncate(len);
    }
    if let Some(object) = node.object.as_deref() {
        let children = object
            .properties
            .iter()
            .map(|(key, child)| (&**key, child))
            .chain(object.map_values.as_deref().map(|v| ("*", v)));
        for (key, child) in children {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            sensitive_fields(child, path, out);
            path.truncate(len);
        }
    }
}
