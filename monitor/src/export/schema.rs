//! The JSON Schema of one output line, derived from the output types so the published schema
//! (docs/schema/) cannot drift from what the monitor writes.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::{OutputEvent, http::HTTP_SCHEMA_VERSION};

/// Where the schema is published in the repository, relative to its root.
pub fn schema_path() -> String {
    format!("docs/schema/events.v{HTTP_SCHEMA_VERSION}.schema.json")
}

/// The schema of one JSON line (`OutputEvent`), JSON Schema 2020-12.
pub fn output_schema() -> Value {
    // Serialize contract: describes what is written, so an `Option` field that is always
    // written (as null) is required, and only `skip_serializing_if` fields are optional.
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<OutputEvent>();
    schema.insert(
        "$id".into(),
        format!("urn:monitor:schema:events:v{HTTP_SCHEMA_VERSION}").into(),
    );
    schema.insert(
        "title".into(),
        format!("monitor output event, schema version {HTTP_SCHEMA_VERSION}").into(),
    );
    schema.insert(
        "description".into(),
        "One JSON line written by the monitor; `type` says which event it is. The version is \
         `schema_version` of `http` events: bumped when a field changes meaning or is removed, \
         kept when fields are added, so consumers should ignore unknown fields."
            .into(),
    );
    let mut value = schema.to_value();
    reflow_descriptions(&mut value);
    value
}

/// Doc comments are wrapped at 100 columns; the schema's readers (editors, doc generators) wrap
/// for themselves, so only paragraph breaks are kept.
fn reflow_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(text) if key == "description" => {
                        *text = text
                            .split("\n\n")
                            .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
                            .collect::<Vec<_>>()
                            .join("\n\n");
                    }
                    _ => reflow_descriptions(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(reflow_descriptions),
        _ => {}
    }
}

/// The schema as published: pretty-printed, with a trailing newline.
pub fn output_schema_text() -> serde_json::Result<String> {
    serde_json::to_string_pretty(&output_schema()).map(|text| text + "\n")
}
