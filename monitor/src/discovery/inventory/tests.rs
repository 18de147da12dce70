use super::*;

fn service() -> ServiceKey {
    ServiceKey::new(
        Some("10.0.0.2:8080".parse().unwrap()),
        Some("API.example:8080"),
    )
}

fn obs<'a>(s: &'a ServiceKey, method: &'a str, path: &'a str, ts: u64) -> Observation<'a> {
    Observation {
        service: s,
        method,
        path,
        query: Some("page=2&limit=5"),
        status: Some(200),
        auth: AuthScheme::Bearer,
        latency_ns: Some(2_000_000),
        request_type: None,
        response_type: Some("application/json; charset=utf-8"),
        role: Role::Server,
        ts_ns: ts,
        request_body: b"",
        response_body: br#"{"id":1,"email":"ann@example.com"}"#,
        ai: None,
        grpc: None,
    }
}

#[test]
fn endpoints_are_reported_once_and_merged_when_a_position_generalizes() {
    let s = service();
    assert_eq!(s.label(), "api.example:8080 (10.0.0.2:8080)");
    let mut inv = Inventory::new(&DiscoveryConfig {
        param_threshold: 4,
        ..DiscoveryConfig::default()
    });
    let mut changes = Vec::new();
    let r = inv
        .observe(&obs(&s, "GET", "/users/42", 1), &mut changes)
        .unwrap();
    assert_eq!(r.template, "/users/{userId}");
    inv.observe(&obs(&s, "GET", "/users/43", 2), &mut changes);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].3, EndpointChange::New);
    for (i, name) in ["ann", "bob", "cid", "dan"].iter().enumerate() {
        inv.observe(
            &obs(&s, "GET", &format!("/teams/{name}"), 10 + i as u64),
            &mut changes,
        );
    }
    let templates: Vec<(String, EndpointChange)> =
        changes.iter().map(|c| (c.2.clone(), c.3)).collect();
    assert_eq!(
        templates,
        vec![
            ("/users/{userId}".into(), EndpointChange::New),
            ("/teams/ann".into(), EndpointChange::New),
            ("/teams/bob".into(), EndpointChange::New),
            ("/teams/cid".into(), EndpointChange::New),
            ("/teams/{teamId}".into(), EndpointChange::TemplateChanged),
        ]
    );
    let e = inv.endpoint(&s, "GET", "/teams/{teamId}").unwrap();
    assert_eq!(e.calls, 4);
    assert_eq!(e.replaced, vec!["/teams/ann", "/teams/bob", "/teams/cid"]);
    assert_eq!(e.first_ns, 10);
    assert_eq!(
        e.response_types,
        BTreeSet::from(["application/json".to_owned()])
    );
    assert_eq!(
        e.query_params,
        BTreeMap::from([("limit".into(), 4), ("page".into(), 4)])
    );
    assert_eq!(e.status_codes, BTreeMap::from([(200, 4)]));
    assert_eq!(e.latency.count(), 4);
    let fields: Vec<String> = e
        .response
        .sensitive_fields()
        .iter()
        .map(|f| format!("{} {:?}", f.path, f.classes.names()))
        .collect();
    assert_eq!(fields, vec![r#"email ["email"]"#]);
    assert_eq!(inv.endpoints().len(), 2);
    assert_eq!(inv.counters().generalizations, 1);
}

#[test]
fn caps_count_what_they_drop() {
    let mut inv = Inventory::new(&DiscoveryConfig {
        max_services: 1,
        max_endpoints_per_service: 2,
        ..DiscoveryConfig::default()
    });
    let a = service();
    let b = ServiceKey::new(None, Some("other"));
    let mut changes = Vec::new();
    assert!(
        inv.observe(&obs(&a, "GET", "/a", 1), &mut changes)
            .is_some()
    );
    assert!(
        inv.observe(&obs(&a, "GET", "/b", 1), &mut changes)
            .is_some()
    );
    assert!(
        inv.observe(&obs(&a, "GET", "/c", 1), &mut changes)
            .is_none()
    );
    assert!(
        inv.observe(&obs(&b, "GET", "/a", 1), &mut changes)
            .is_none()
    );
    let c = inv.counters();
    assert_eq!(
        (
            c.services,
            c.endpoints,
            c.services_dropped,
            c.endpoints_dropped
        ),
        (1, 2, 1, 1)
    );
}

/// A gRPC call of `method` on `path` (the kind of call its counts say).
fn grpc_call(service: &str, method: &str, responses: u64, status: &'static str) -> GrpcCall {
    GrpcCall {
        service: Some(service.into()),
        method: Some(method.into()),
        status: Some(if status == "OK" { 0 } else { 5 }),
        status_name: Some(status),
        message: None,
        request_messages: 1,
        response_messages: responses,
        compressed: false,
        streaming: crate::grpc::Streaming::from_counts(1, responses),
        request_body: None,
        response_body: None,
        flags: crate::grpc::GrpcFlags::empty(),
    }
}

#[test]
fn grpc_methods_are_endpoints_of_their_own_never_templated() {
    let s = service();
    let mut inv = Inventory::new(&DiscoveryConfig {
        param_threshold: 4,
        ..DiscoveryConfig::default()
    });
    let mut changes = Vec::new();
    // Method names that as HTTP paths would read as ids (digits) or, many of them, as words
    // that keep coming: each is still its own endpoint under its own path.
    let methods: Vec<String> = (0..12).map(|i| format!("Get{}", 100_000 + i)).collect();
    for (i, m) in methods.iter().enumerate() {
        let path = format!("/shop.v1.Catalog/{m}");
        let call = grpc_call("shop.v1.Catalog", m, 3, "OK");
        let o = Observation {
            grpc: Some(&call),
            request_type: Some("application/grpc"),
            response_type: Some("application/grpc"),
            ..obs(&s, "POST", &path, i as u64)
        };
        let r = inv.observe(&o, &mut changes).unwrap();
        assert_eq!(r.template, path);
    }
    // The same paths as plain HTTP, on another service, become one templated endpoint: the
    // method position generalizes (`/shop.v1.Catalog/{shopV1CatalogId}`).
    let other = ServiceKey::new(Some("10.0.0.3:8080".parse().unwrap()), None);
    let mut last = String::new();
    for (i, m) in methods.iter().enumerate() {
        let path = format!("/shop.v1.Catalog/{m}");
        last = inv
            .observe(&obs(&other, "POST", &path, 30 + i as u64), &mut changes)
            .unwrap()
            .template;
    }
    assert!(last.starts_with("/shop.v1.Catalog/{"), "{last}");
    // Nor did the gRPC paths teach this service's tree anything.
    let plain = inv
        .observe(
            &obs(&s, "POST", "/shop.v1.Catalog/Get100000", 50),
            &mut changes,
        )
        .unwrap();
    assert_eq!(plain.template, "/shop.v1.Catalog/Get100000");
    let http = inv
        .observe(&obs(&s, "GET", "/users/12345", 51), &mut changes)
        .unwrap();
    assert_eq!(http.template, "/users/{userId}");
    let call = grpc_call("shop.v1.Catalog", "Get100000", 0, "NOT_FOUND");
    inv.observe(
        &Observation {
            grpc: Some(&call),
            ..obs(&s, "POST", "/shop.v1.Catalog/Get100000", 52)
        },
        &mut changes,
    );
    let e = inv
        .endpoint(&s, "POST", "/shop.v1.Catalog/Get100000")
        .unwrap();
    let g = e.grpc.as_ref().unwrap();
    assert_eq!(
        (g.service.as_str(), g.method.as_str()),
        ("shop.v1.Catalog", "Get100000")
    );
    assert_eq!((g.calls, g.response_messages), (2, 3));
    assert_eq!(g.statuses.get("NOT_FOUND"), Some(&1));
    assert_eq!(
        g.streaming.iter().copied().collect::<Vec<_>>(),
        [
            crate::grpc::Streaming::Unary,
            crate::grpc::Streaming::Server
        ]
    );
    assert_eq!(
        inv.endpoints()
            .iter()
            .filter(|(_, e)| e.grpc.is_some())
            .count(),
        12
    );
    let doc = crate::discovery::openapi::document(&inv, &crate::clock::Clock::fixed(0), None);
    let op = &doc["paths"]["/shop.v1.Catalog/Get100001"]["post"];
    assert_eq!(op["summary"], "gRPC shop.v1.Catalog/Get100001");
    assert_eq!(op["x-grpc"]["service"], "shop.v1.Catalog");
    assert_eq!(op["x-grpc"]["streaming"], serde_json::json!(["server"]));
}
