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
