use super::*;
use crate::{
    conn::Role,
    discovery::inventory::{DiscoveryConfig, Observation},
};

fn inventory() -> Inventory {
    let mut inv = Inventory::new(&DiscoveryConfig::default());
    let s = ServiceKey::new(Some("10.0.0.2:8080".parse().unwrap()), Some("shop.local"));
    let mut changes = Vec::new();
    for (method, path, body, auth) in [
        (
            "GET",
            "/api/v1/users/42",
            &br#"{"id":42,"email":"a@b.example"}"#[..],
            AuthScheme::Jwt,
        ),
        (
            "GET",
            "/api/v1/users/43",
            br#"{"id":43,"email":"c@d.example"}"#,
            AuthScheme::Jwt,
        ),
        ("GET", "/api/v1/users/me", br#"{"id":1}"#, AuthScheme::Jwt),
        ("POST", "/api/v1/orders", br#"{"id":7}"#, AuthScheme::None),
        ("GET", "/internal/debug", b"ok", AuthScheme::None),
    ] {
        let o = Observation {
            service: &s,
            method,
            path,
            query: Some("verbose=1"),
            status: Some(200),
            auth,
            latency_ns: Some(3_000_000),
            request_type: None,
            response_type: Some("application/json"),
            role: Role::Server,
            ts_ns: 5,
            request_body: b"",
            response_body: body,
            ai: None,
            grpc: None,
        };
        inv.observe(&o, &mut changes);
    }
    inv
}

#[test]
fn the_document_is_openapi_3_1_with_learned_paths() {
    let doc = document(&inventory(), &Clock::fixed(0), None);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"], json!([{ "url": "http://shop.local" }]));
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        [
            "/api/v1/orders",
            "/api/v1/users/me",
            "/api/v1/users/{userId}",
            "/internal/debug"
        ]
    );
    let get = &doc["paths"]["/api/v1/users/{userId}"]["get"];
    assert_eq!(
        get["parameters"][0],
        json!({"name": "userId", "in": "path", "required": true,
               "schema": {"type": "integer"}, "x-kinds": ["integer"]})
    );
    assert_eq!(get["parameters"][1]["name"], "verbose");
    assert_eq!(get["x-calls"], 2);
    assert_eq!(get["security"], json!([{ "jwt": [] }]));
    assert_eq!(get["x-sensitive"]["response"]["email"], json!(["email"]));
    let schema = &get["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(schema["properties"]["id"]["type"], "integer");
    assert_eq!(
        doc["components"]["securitySchemes"]["jwt"]["bearerFormat"],
        "JWT"
    );
    assert!(
        document(&inventory(), &Clock::fixed(0), Some("nothing"))
            .get("paths")
            .unwrap()
            .as_object()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn diff_lists_shadow_and_unused_operations_from_yaml_or_json() {
    let observed = document(&inventory(), &Clock::fixed(0), None);
    let yaml = r#"
openapi: 3.0.3
info: { title: shop, version: "1" }
servers:
  - url: https://shop.example.com/api/v1
paths:
  /users/{id}:
    get: { responses: { "200": { description: ok } } }
    delete: { responses: { "204": { description: gone } } }
  /orders:
    post: { responses: { "201": { description: made } } }
"#;
    let spec = parse_spec(yaml).unwrap();
    let d = diff(&observed, &spec);
    let op = |m: &str, p: &str| Operation {
        method: m.into(),
        path: p.into(),
    };
    assert_eq!(d.shadow, vec![op("GET", "/internal/debug")]);
    assert_eq!(d.unused, vec![op("DELETE", "/api/v1/users/{id}")]);
    // /users/me and /users/{userId} both match the spec's /users/{id}; /orders matches.
    assert_eq!(d.matched, 3);
    let as_json = serde_json::to_string(&spec).unwrap();
    assert_eq!(diff(&observed, &parse_spec(&as_json).unwrap()), d);
}

#[test]
fn bad_specs_are_refused_with_a_reason() {
    assert!(matches!(parse_spec("{"), Err(SpecError::Syntax(_))));
    assert!(matches!(parse_spec("a: [1"), Err(SpecError::Syntax(_))));
    assert!(matches!(
        parse_spec("openapi: 3.0.0\n"),
        Err(SpecError::NoPaths)
    ));
    assert!(matches!(parse_spec("[1, 2]"), Err(SpecError::NoPaths)));
}

#[test]
fn a_spec_parameter_matches_a_learned_literal_but_not_the_reverse() {
    assert!(path_matches("/users/me", "/users/{id}"));
    assert!(path_matches("/users/{userId}", "/users/{id}"));
    assert!(!path_matches("/users/{userId}", "/users/me"));
    assert!(!path_matches("/users/me/x", "/users/{id}"));
}
