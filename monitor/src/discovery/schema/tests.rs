use serde_json::json;

use super::*;
use crate::discovery::sensitive::SensitiveClass::{self, *};

fn set(classes: &[SensitiveClass]) -> ClassSet {
    classes.iter().copied().collect()
}

fn observe_all(model: &mut BodyModel, content_type: Option<&str>, bodies: &[serde_json::Value]) {
    for body in bodies {
        let bytes = serde_json::to_vec(body).unwrap();
        assert_eq!(model.observe(content_type, &bytes).kind, BodyKind::Json);
    }
}

fn field(path: &str, classes: &[SensitiveClass]) -> SensitiveField {
    SensitiveField {
        path: path.into(),
        classes: set(classes),
    }
}

#[test]
fn user_profiles_merge_types_required_and_formats() {
    let mut model = BodyModel::default();
    observe_all(
        &mut model,
        Some("application/json; charset=utf-8"),
        &[
            json!({
                "id": "550e8400-e29b-41d4-a716-446655440000",
                "email": "jane@example.com",
                "name": "Jane",
                "age": 34,
                "score": 4.5,
                "created_at": "2024-01-15T10:30:00Z",
                "birthday": "1990-02-28",
                "website": "https://jane.example.com/",
                "last_ip": "203.0.113.7",
                "nickname": null,
                "tags": ["admin", "beta"],
                "address": {"city": "Berlin", "zip": "10115"}
            }),
            json!({
                "id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                "email": "bob@example.org",
                "name": "Bob",
                "age": 41,
                "score": 3,
                "created_at": "2024-02-01T08:00:00.123+01:00",
                "birthday": "not telling",
                "website": "http://bob.example.org",
                "last_ip": "2001:db8::1",
                "nickname": "bobby",
                "tags": [],
                "address": {"city": "Paris"}
            }),
        ],
    );
    let expected = json!({
        "type": "object",
        "properties": {
            "address": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "zip": {"type": "string"}
                },
                "required": ["city"]
            },
            "age": {"type": "integer"},
            "birthday": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "email": {"type": "string", "format": "email", "x-sensitive": ["email"]},
            "id": {"type": "string", "format": "uuid"},
            "last_ip": {"type": "string"},
            "name": {"type": "string"},
            "nickname": {"type": ["string", "null"]},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "website": {"type": "string", "format": "uri"}
        },
        "required": [
            "address", "age", "birthday", "created_at", "email", "id", "last_ip", "name",
            "nickname", "score", "tags", "website"
        ]
    });
    assert_eq!(model.openapi_schema().unwrap(), expected);
    assert_eq!(
        model.media_types().collect::<Vec<_>>(),
        ["application/json"]
    );
    assert_eq!(
        model.openapi_content(),
        json!({"application/json": {"schema": expected}})
    );
    assert_eq!(model.sensitive_fields(), [field("email", &[Email])]);
    assert_eq!(model.classes(), set(&[Email]));
    assert!(!model.truncated());
}

#[test]
fn formats_detected_per_value() {
    let one = |s: &str| {
        let mut model = BodyModel::default();
        observe_all(&mut model, Some("application/json"), &[json!({ "v": s })]);
        model.openapi_schema().unwrap()["properties"]["v"]["format"].clone()
    };
    assert_eq!(one("2024-02-29"), json!("date"));
    assert_eq!(one("2023-02-29"), json!(null));
    assert_eq!(one("2024-01-15T10:30:00Z"), json!("date-time"));
    assert_eq!(one("2024-01-15t10:30:60.5-05:30"), json!("date-time"));
    assert_eq!(one("2024-01-15T24:00:00Z"), json!(null));
    assert_eq!(one("2024-01-15 10:30:00"), json!(null));
    assert_eq!(one("HTTPS://example.com?q=1"), json!("uri"));
    assert_eq!(one("ftp://example.com"), json!(null));
    assert_eq!(one("https://"), json!(null));
    assert_eq!(one("10.0.0.1"), json!("ipv4"));
    assert_eq!(one("010.0.0.1"), json!(null));
    assert_eq!(one("fe80::1"), json!("ipv6"));
    assert_eq!(one("550E8400-E29B-41D4-A716-446655440000"), json!("uuid"));
    assert_eq!(one("ops@example.com"), json!("email"));
    assert_eq!(one("hello"), json!(null));
    assert_eq!(one(""), json!(null));
}

#[test]
fn payment_request_marks_sensitive_fields() {
    let mut model = BodyModel::default();
    observe_all(
        &mut model,
        Some("application/json"),
        &[json!({
            "order_id": "4111111111111111",
            "amount": 1999,
            "currency": "EUR",
            "card": {
                "number": "4111 1111 1111 1111",
                "holder": "Jane Doe",
                "cvc": "123"
            },
            "payer": {"email": "jane@example.com", "phone": "+49 30 1234567", "iban": "DE89370400440532013000"},
            "api_key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
        })],
    );
    let obs = model.observe(
        Some("application/json"),
        br#"{"order_id":"5555555555554444","amount":5,"currency":"USD","card":{"number":"5555555555554444","holder":"Bob","cvc":"999"},"payer":{"email":"bob@example.org"},"api_key":"sk_live_4eC39HqLyjWDarjtT1zdp7dc"}"#,
    );
    assert_eq!(
        obs,
        Observed {
            kind: BodyKind::Json,
            classes: set(&[CreditCard, Email, StripeKey]),
        }
    );
    assert_eq!(
        model.sensitive_fields(),
        [
            field("api_key", &[StripeKey]),
            field("card.number", &[CreditCard]),
            field("payer.email", &[Email]),
            field("payer.iban", &[Iban]),
            field("payer.phone", &[Phone]),
        ]
    );
    let schema = model.openapi_schema().unwrap();
    assert_eq!(schema["properties"]["order_id"], json!({"type": "string"}));
    assert_eq!(
        schema["properties"]["card"]["properties"]["number"],
        json!({"type": "string", "x-sensitive": ["credit_card"]})
    );
    assert_eq!(schema["properties"]["payer"]["required"], json!(["email"]));
    assert_eq!(
        model.classes(),
        set(&[CreditCard, Email, Iban, Phone, StripeKey])
    );
}

#[test]
fn list_of_orders_merges_array_items() {
    let mut model = BodyModel::default();
    let body = json!([
        {"id": 1, "total": 10.5, "status": "paid", "items": [{"sku": "A-1", "qty": 2}], "customer": {"email": "a@example.com"}},
        {"id": 2, "total": 7, "status": "open", "items": [{"sku": "B-2", "qty": 1, "note": "gift"}], "customer": {"email": "b@example.com"}},
        {"id": 3, "total": 3, "status": "open", "items": [], "coupon": "SPRING"}
    ]);
    observe_all(&mut model, Some("application/vnd.shop+json"), &[body]);
    let expected = json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "coupon": {"type": "string"},
                "customer": {
                    "type": "object",
                    "properties": {"email": {"type": "string", "format": "email", "x-sensitive": ["email"]}},
                    "required": ["email"]
                },
                "id": {"type": "integer"},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "note": {"type": "string"},
                            "qty": {"type": "integer"},
                            "sku": {"type": "string"}
                        },
                        "required": ["qty", "sku"]
                    }
                },
                "status": {"type": "string"},
                "total": {"type": "number"}
            },
            "required": ["id", "items", "status", "total"]
        }
    });
    assert_eq!(model.openapi_schema().unwrap(), expected);
    assert_eq!(
        model.sensitive_fields(),
        [field("[].customer.email", &[Email])]
    );
    assert_eq!(
        model.media_types().collect::<Vec<_>>(),
        ["application/vnd.shop+json"]
    );
}

#[test]
fn a_field_with_several_types_and_a_root_with_several_shapes() {
    let mut model = BodyModel::default();
    observe_all(
        &mut model,
        Some("application/json"),
        &[
            json!({"v": 1, "w": "x"}),
            json!({"v": "one", "w": "y"}),
            json!({"v": true, "w": "z"}),
            json!([{"w": "q"}]),
        ],
    );
    assert_eq!(
        model.openapi_schema().unwrap(),
        json!({
            "type": ["object", "array"],
            "properties": {
                "v": {"type": ["string", "integer", "boolean"]},
                "w": {"type": "string"}
            },
            "required": ["v", "w"],
            "items": {
                "type": "object",
                "properties": {"w": {"type": "string"}},
                "required": ["w"]
            }
        })
    );
}

#[test]
fn form_bodies_infer_scalars() {
    let mut model = BodyModel::default();
    let ct = Some("application/x-www-form-urlencoded");
    let obs = model.observe(
        ct,
        b"username=jane&password=hunter2&remember=true&age=34&ratio=0.5&zip=02134&email=jane%40example.com&note=hello+world&card=4111111111111111&order_no=5555555555554444",
    );
    assert_eq!(
        obs,
        Observed {
            kind: BodyKind::Form,
            classes: set(&[Password, Email, CreditCard]),
        }
    );
    model.observe(
        ct,
        b"username=bob&password=&remember=false&age=x&ratio=1&zip=&email=bob%40example.org",
    );
    assert_eq!(
        model.openapi_schema().unwrap(),
        json!({
            "type": "object",
            "properties": {
                "age": {"type": ["string", "integer"]},
                "card": {"type": "integer", "x-sensitive": ["credit_card"]},
                "email": {"type": "string", "format": "email", "x-sensitive": ["email"]},
                "note": {"type": "string"},
                "order_no": {"type": "integer"},
                "password": {"type": "string", "x-sensitive": ["password"]},
                "ratio": {"type": "number"},
                "remember": {"type": "boolean"},
                "username": {"type": "string"},
                "zip": {"type": "string"}
            },
            "required": ["age", "email", "password", "ratio", "remember", "username", "zip"]
        })
    );
    assert_eq!(model.counts().form, 2);
    assert_eq!(
        model.openapi_content(),
        json!({"application/x-www-form-urlencoded": {"schema": model.openapi_schema().unwrap()}})
    );
}

#[test]
fn truncated_and_invalid_json_are_counted_and_scanned() {
    let mut model = BodyModel::default();
    let cut = br#"{"user": {"email": "jane@example.com", "name": "Ja"#;
    assert_eq!(
        model.observe(Some("application/json"), cut),
        Observed {
            kind: BodyKind::PartialJson,
            classes: set(&[Email]),
        }
    );
    assert_eq!(
        model.observe(Some("application/json"), b"{\"a\": nope}"),
        Observed {
            kind: BodyKind::InvalidJson,
            classes: ClassSet::empty(),
        }
    );
    // Every prefix of a real body is handled without panicking.
    let full = br#"{"a":[1,2.5,"x",{"b":null}],"c":"4111111111111111"}"#;
    for end in 0..full.len() {
        model.observe(Some("application/json"), &full[..end]);
    }
    let counts = model.counts();
    assert_eq!(counts.partial_json, full.len() as u64); // 1 + every non-empty strict prefix
    assert_eq!(counts.invalid_json, 1);
    assert_eq!(counts.empty, 1);
    assert_eq!(counts.json, 0);
    assert_eq!(model.openapi_schema(), None);
    assert_eq!(model.sensitive_fields(), []);
    assert_eq!(model.classes(), set(&[Email, CreditCard]));
    assert_eq!(model.openapi_content(), json!({"application/json": {}}));
}

#[test]
fn json_is_sniffed_when_the_content_type_is_missing_or_wrong() {
    let mut model = BodyModel::default();
    assert_eq!(model.observe(None, b" {\"a\": 1}").kind, BodyKind::Json);
    assert_eq!(
        model.observe(Some("text/plain"), b"[{\"a\": 2}]").kind,
        BodyKind::Json
    );
    assert_eq!(
        model
            .observe(Some("application/x-www-form-urlencoded"), b"{\"a\": 3}")
            .kind,
        BodyKind::Json
    );
    // Starts like JSON but is not: an ordinary text body.
    assert_eq!(
        model.observe(Some("text/plain"), b"{not json").kind,
        BodyKind::Other
    );
    // A bare scalar is not taken as JSON without a JSON content type.
    assert_eq!(model.observe(None, b"42").kind, BodyKind::Other);
    assert_eq!(
        model.observe(Some("application/json"), b"42").kind,
        BodyKind::Json
    );
    assert_eq!(
        model.media_types().collect::<Vec<_>>(),
        [
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/octet-stream"
        ]
    );
    let schema = json!({
        "type": ["object", "array", "integer"],
        "properties": {"a": {"type": "integer"}},
        "required": ["a"],
        "items": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    });
    assert_eq!(model.openapi_schema().unwrap(), schema);
    assert_eq!(
        model.openapi_content(),
        json!({
            "application/json": {"schema": schema},
            "text/plain": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": schema},
            "application/octet-stream": {}
        })
    );
}

#[test]
fn other_bodies_record_the_media_type_and_scan_text() {
    let mut model = BodyModel::default();
    let obs = model.observe(
        Some("Text/HTML; charset=utf-8"),
        b"<p>Contact jane@example.com</p>",
    );
    assert_eq!(
        obs,
        Observed {
            kind: BodyKind::Other,
            classes: set(&[Email])
        }
    );
    // Images are not scanned, whatever bytes they hold.
    let obs = model.observe(Some("image/png"), b"\x89PNG jane@example.com");
    assert_eq!(
        obs,
        Observed {
            kind: BodyKind::Other,
            classes: ClassSet::empty()
        }
    );
    // Binary bodies are scanned up to their first invalid UTF-8 byte.
    let obs = model.observe(None, b"key=AKIAIOSFODNN7EXAMPLE\xff\xfe jane@example.com");
    assert_eq!(obs.classes, set(&[AwsAccessKey]));
    assert_eq!(model.observe(Some("text/plain"), b"").kind, BodyKind::Empty);
    assert_eq!(
        model.media_types().collect::<Vec<_>>(),
        ["text/html", "image/png", "application/octet-stream"]
    );
    assert_eq!(model.openapi_schema(), None);
    assert_eq!(model.counts().other, 3);
    assert_eq!(model.counts().observations, 4);
}

#[test]
fn media_types_are_bounded() {
    let mut model = BodyModel::new(SchemaLimits {
        max_media_types: 2,
        ..SchemaLimits::default()
    });
    for ct in ["text/a", "text/b", "text/c", "TEXT/A", "not a type"] {
        model.observe(Some(ct), b"x");
    }
    assert_eq!(
        model.media_types().collect::<Vec<_>>(),
        ["text/a", "text/b"]
    );
    // "text/c" and the invalid type (recorded as the default) did not fit.
    assert_eq!(model.counts().media_types_dropped, 2);
    assert!(model.truncated());
}

/// `{"a": {"a": ... {"a": "leaf"}}}` with `levels` objects.
fn nested(levels: usize) -> String {
    let mut s = String::new();
    for _ in 0..levels {
        s.push_str("{\"a\":");
    }
    s.push_str("\"leaf\"");
    s.push_str(&"}".repeat(levels));
    s
}

#[test]
fn deep_nesting_stops_at_the_depth_limit() {
    let mut model = BodyModel::default();
    let obs = model.observe(Some("application/json"), nested(20).as_bytes());
    assert_eq!(obs.kind, BodyKind::Json);
    // Depths 0..=7 are described; the object at depth 8 is only typed and marked.
    let mut expected = json!({"type": "object", "x-truncated": true});
    for _ in 0..8 {
        expected = json!({"type": "object", "properties": {"a": expected}, "required": ["a"]});
    }
    assert_eq!(model.openapi_schema().unwrap(), expected);
    assert_eq!(model.counts().dropped, 1);
    assert!(model.truncated());

    // Deeper than the JSON parser's own recursion limit: invalid, counted, no panic.
    let mut model = BodyModel::default();
    let obs = model.observe(Some("application/json"), nested(10_000).as_bytes());
    assert_eq!(obs.kind, BodyKind::InvalidJson);
    assert_eq!(model.counts().invalid_json, 1);
}

#[test]
fn maps_keyed_by_ids_become_additional_properties() {
    let mut model = BodyModel::default();
    let mut users = serde_json::Map::new();
    for i in 0..5000 {
        users.insert(
            format!("{}", 100_000 + i),
            json!({"name": "n", "email": format!("u{i}@example.com")}),
        );
    }
    let mut by_uuid = serde_json::Map::new();
    for i in 0..10 {
        by_uuid.insert(
            format!("550e8400-e29b-41d4-a716-4466554400{i:02}"),
            json!(i),
        );
    }
    observe_all(
        &mut model,
        Some("application/json"),
        &[json!({"users": users, "by_uuid": by_uuid, "small": {"1": true, "2": false}})],
    );
    assert_eq!(
        model.openapi_schema().unwrap(),
        json!({
            "type": "object",
            "properties": {
                "by_uuid": {"type": "object", "additionalProperties": {"type": "integer"}},
                // Too few keys to call it a map.
                "small": {
                    "type": "object",
                    "properties": {"1": {"type": "boolean"}, "2": {"type": "boolean"}},
                    "required": ["1", "2"]
                },
                "users": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "email": {"type": "string", "format": "email", "x-sensitive": ["email"]},
                            "name": {"type": "string"}
                        },
                        "required": ["email", "name"]
                    }
                }
            },
            "required": ["by_uuid", "small", "users"]
        })
    );
    assert_eq!(model.sensitive_fields(), [field("users.*.email", &[Email])]);
    assert!(!model.truncated());
    // The folded property nodes were given back: root, 3 properties, 2 map values, their
    // 2 properties, and the 2 small ones.
    assert_eq!(model.nodes, 1 + 3 + 2 + 2 + 2);
}

#[test]
fn many_named_keys_are_capped() {
    let mut model = BodyModel::default();
    let mut config = serde_json::Map::new();
    for i in 0..200 {
        config.insert(
            format!(
                "setting_{}",
                char::from(b'a' + (i % 26) as u8)
                    .to_string()
                    .repeat(i / 26 + 1)
            ),
            json!(i),
        );
    }
    observe_all(&mut model, Some("application/json"), &[json!(config)]);
    let schema = model.openapi_schema().unwrap();
    assert_eq!(schema["properties"].as_object().unwrap().len(), 128);
    assert_eq!(schema["x-truncated"], json!(true));
    assert_eq!(model.counts().dropped, 200 - 128);
    assert!(model.truncated());
}

#[test]
fn the_node_budget_bounds_the_model() {
    let mut model = BodyModel::new(SchemaLimits {
        max_nodes: 10,
        ..SchemaLimits::default()
    });
    for i in 0..50 {
        let body = json!({ format!("field_{i}"): {"x": [1]} });
        model.observe(
            Some("application/json"),
            &serde_json::to_vec(&body).unwrap(),
        );
    }
    assert!(model.nodes <= 10);
    assert_eq!(model.nodes, 10);
    let schema = model.openapi_schema().unwrap();
    assert_eq!(schema["x-truncated"], json!(true));
    assert!(model.truncated());
}

#[test]
fn integers_and_numbers_merge_to_number_and_nulls_stay_optional() {
    let mut model = BodyModel::default();
    observe_all(
        &mut model,
        Some("application/json"),
        &[
            json!({"n": 1, "m": null}),
            json!({"n": 1.5}),
            json!({"n": -3}),
        ],
    );
    assert_eq!(
        model.openapi_schema().unwrap(),
        json!({
            "type": "object",
            "properties": {"m": {"type": "null"}, "n": {"type": "number"}},
            "required": ["n"]
        })
    );
}

#[test]
fn numbers_are_sensitive_only_by_name() {
    let mut model = BodyModel::default();
    let obs = model.observe(
        Some("application/json"),
        br#"{"order_id": 4111111111111111, "card_number": 4111111111111111, "ts": 1705314600123, "phone": 4155552671, "count": 4155552671}"#,
    );
    assert_eq!(obs.classes, set(&[CreditCard, Phone]));
    assert_eq!(
        model.sensitive_fields(),
        [
            field("card_number", &[CreditCard]),
            field("phone", &[Phone])
        ]
    );
}
