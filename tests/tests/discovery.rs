//! Discovery and sessions on replayed traffic (issue 5): a generated API of 44 routes whose
//! true templates are known goes through `monitor replay` / `monitor openapi --replay`, and the
//! learned inventory must match it exactly; actors and sessions follow tokens, not addresses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::Command,
};

use serde_json::Value;
use tests::{
    Capture,
    api_traffic::{Call, ROUTES, calls, normalize, operations, raw_lines},
    monitor_bin,
    replay::{assert_success, replay},
    scratch,
};

fn write_raw(tag: &str, calls: &[Call]) -> std::path::PathBuf {
    let file = scratch(tag).join("traffic.jsonl");
    std::fs::write(&file, raw_lines(calls)).unwrap();
    file
}

fn openapi(file: &Path, extra: &[&str]) -> Value {
    let out = Command::new(monitor_bin())
        .arg("openapi")
        .arg("--replay")
        .arg(file)
        .args(extra)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_success(&out, "monitor openapi --replay");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn truth() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.template.to_owned()))
        .collect()
}

#[test]
fn every_template_of_a_44_route_api_is_recovered_without_false_merges_or_splits() {
    let file = write_raw("discovery-44", &calls(8_000, 42, 30));
    let found = operations(&openapi(&file, &[]));
    let truth = truth();
    assert!(truth.len() >= 40, "{} routes", truth.len());
    let right = found.intersection(&truth).count();
    let precision = right as f64 / found.len() as f64;
    let recall = right as f64 / truth.len() as f64;
    println!(
        "templates: {} true, {} found, {right} right: precision {precision:.3}, recall {recall:.3}",
        truth.len(),
        found.len()
    );
    let wrong: Vec<_> = found.difference(&truth).collect();
    let missed: Vec<_> = truth.difference(&found).collect();
    assert!(
        wrong.is_empty() && missed.is_empty(),
        "found but not true (false splits/merges): {wrong:?}\ntrue but not found: {missed:?}"
    );
}

#[test]
fn templates_stay_the_same_as_traffic_grows() {
    let all = calls(12_000, 7, 30);
    let half = write_raw("discovery-half", &all[..4_000]);
    let full = write_raw("discovery-full", &all);
    assert_eq!(
        operations(&openapi(&half, &[])),
        operations(&openapi(&full, &[]))
    );
    assert_eq!(operations(&openapi(&full, &[])), truth());
}

#[test]
fn the_document_carries_parameters_schemas_and_auth() {
    let file = write_raw("discovery-doc", &calls(3_000, 3, 10));
    let doc = openapi(&file, &[]);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "http://api.test");
    let op = &doc["paths"]["/v1/users/{userId}/orders/{orderId}"]["get"];
    let params: Vec<(&str, &Value)> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), &p["schema"]))
        .collect();
    assert_eq!(
        params,
        vec![
            ("userId", &serde_json::json!({"type": "integer"})),
            (
                "orderId",
                &serde_json::json!({"type": "string", "format": "uuid"})
            ),
        ]
    );
    assert_eq!(op["security"], serde_json::json!([{ "bearer": [] }]));
    let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(schema["properties"]["ok"]["type"], "boolean");
    let post = &doc["paths"]["/v1/orders"]["post"];
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"]["properties"]["quantity"]["type"],
        "integer"
    );
    // --service keeps only matching services.
    let none = openapi(&file, &["--service", "no-such-host"]);
    assert!(none["paths"].as_object().unwrap().is_empty());
}

#[test]
fn endpoint_events_announce_new_and_re_templated_endpoints() {
    let file = write_raw("discovery-events", &calls(4_000, 11, 10));
    let out = scratch("discovery-events").join("out.jsonl");
    let res = replay(&[file.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert_success(&res, "monitor replay");
    let cap = Capture::parse(&std::fs::read_to_string(&out).unwrap());
    let events: Vec<&Value> = cap.of_type("endpoint").collect();
    let mut current: BTreeSet<(String, String)> = BTreeSet::new();
    for e in &events {
        let key = (
            e["method"].as_str().unwrap().to_owned(),
            e["path_template"].as_str().unwrap().to_owned(),
        );
        for old in e["replaces"].as_array().unwrap() {
            current.remove(&(key.0.clone(), old.as_str().unwrap().to_owned()));
        }
        current.insert(key);
    }
    // Replaying the events gives the final inventory.
    let normalized: BTreeSet<(String, String)> = current
        .into_iter()
        .map(|(m, t)| (m, normalize(&t)))
        .collect();
    assert_eq!(normalized, truth());
    assert!(events.iter().any(|e| e["change"] == "template_changed"));
    // Every http event after the last change names a template of the final inventory.
    let last = cap
        .events
        .iter()
        .rposition(|e| e["type"] == "endpoint")
        .unwrap();
    for t in cap.events[last..].iter().filter(|e| e["type"] == "http") {
        let m = t["request"]["method"].as_str().unwrap().to_owned();
        let p = normalize(t["path_template"].as_str().unwrap());
        assert!(truth().contains(&(m.clone(), p.clone())), "{m} {p}");
    }
    let stats = cap.last_stats();
    assert_eq!(stats["discovery"]["endpoints"], truth().len());
    assert_eq!(stats["discovery"]["services"], 1);
}

/// One call with these headers from this address.
fn call(path: &str, headers: &[&str], ip: &str) -> Call {
    Call {
        route: 0,
        method: "GET",
        path: path.into(),
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        client: (ip.into(), 50_000),
        body: None,
        response: None,
    }
}

#[test]
fn llm_and_mcp_calls_are_tagged_in_http_events_and_the_inventory() {
    let chat = r#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"my card is 4111 1111 1111 1111"}]}"#;
    let sse = concat!(
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":3,\"total_tokens\":24}}\n\n",
        "data: [DONE]\n\n"
    );
    let mcp = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search_docs","arguments":{"q":"x"}}}"#;
    let mcp_answer =
        r#"{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"ok"}]}}"#;
    let mut llm = call(
        "/proxy/llm",
        &["Authorization: Bearer sk-proj-abc"],
        "192.0.2.9",
    );
    llm.method = "POST";
    llm.body = Some(chat.into());
    llm.response = Some(("text/event-stream".into(), sse.into()));
    let mut tool = call("/mcp", &[], "192.0.2.9");
    tool.method = "POST";
    tool.body = Some(mcp.into());
    tool.response = Some(("application/json".into(), mcp_answer.into()));
    let plain = call("/v1/users/1", &[], "192.0.2.9");
    let file = write_raw("ai", &[llm, tool, plain]);
    let out = scratch("ai").join("out.jsonl");
    let res = replay(&[file.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert_success(&res, "monitor replay");
    let cap = Capture::parse(&std::fs::read_to_string(&out).unwrap());
    let http = cap.http();
    assert_eq!(
        http[0]["ai"],
        serde_json::json!({"api": "openai_chat_completions", "model": "gpt-4o-mini",
                           "streaming": true, "input_tokens": 21, "output_tokens": 3})
    );
    assert_eq!(
        http[0]["sensitive"]["request"],
        serde_json::json!(["credit_card"])
    );
    assert_eq!(http[1]["ai"]["api"], "mcp");
    assert_eq!(http[1]["ai"]["mcp"]["method"], "tools/call");
    assert_eq!(http[1]["ai"]["mcp"]["tool"], "search_docs");
    assert_eq!(http[2]["ai"], Value::Null);
    let endpoint = cap
        .of_type("endpoint")
        .find(|e| e["path_template"] == "/proxy/llm")
        .unwrap();
    assert_eq!(
        endpoint["ai"]["apis"],
        serde_json::json!(["openai_chat_completions"])
    );
    let doc = openapi(&file, &[]);
    let op = &doc["paths"]["/proxy/llm"]["post"];
    assert_eq!(op["x-ai"]["output_tokens"], 3);
    assert_eq!(op["x-ai"]["models"], serde_json::json!(["gpt-4o-mini"]));
}

#[test]
fn one_token_from_several_addresses_is_one_actor_and_two_users_behind_one_address_are_two() {
    let calls = vec![
        call("/a", &["Authorization: Bearer alice-token"], "198.51.100.1"),
        call("/b", &["Authorization: Bearer alice-token"], "198.51.100.2"),
        call("/c", &["Authorization: Bearer alice-token"], "203.0.113.9"),
        call("/a", &["X-Api-Key: bob-key"], "192.0.2.50"),
        call("/a", &["X-Api-Key: carol-key"], "192.0.2.50"),
        call("/b", &["X-Api-Key: bob-key"], "192.0.2.50"),
    ];
    let file = write_raw("sessions", &calls);
    let out = scratch("sessions").join("out.jsonl");
    let res = replay(&[file.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert_success(&res, "monitor replay");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("alice-token") && !text.contains("bob-key"),
        "a credential reached the output"
    );
    let cap = Capture::parse(&text);
    let http = cap.http();
    let actor = |i: usize| http[i]["actor"]["id"].as_str().unwrap().to_owned();
    let session = |i: usize| http[i]["session_id"].as_str().unwrap().to_owned();
    assert_eq!(http.len(), 6);
    assert_eq!((actor(0), actor(0)), (actor(1), actor(2)));
    assert_eq!((session(0), session(0)), (session(1), session(2)));
    assert_eq!(http[0]["actor"]["kind"], "bearer");
    assert_eq!(http[3]["actor"]["kind"], "api_key");
    assert_ne!(actor(3), actor(4), "two users behind one address");
    assert_eq!(actor(3), actor(5));
    assert_ne!(actor(0), actor(3));
    let sessions: BTreeMap<String, &Value> = cap
        .of_type("session")
        .map(|s| (s["session_id"].as_str().unwrap().to_owned(), s))
        .collect();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    let alice = sessions[&session(0)];
    assert_eq!(alice["transactions"], 3);
    assert_eq!(
        alice["client_ips"],
        serde_json::json!(["198.51.100.1", "198.51.100.2", "203.0.113.9"])
    );
    assert_eq!(
        alice["endpoints"],
        serde_json::json!({"GET /a": 1, "GET /b": 1, "GET /c": 1})
    );
    assert_eq!(alice["state"], "monitor_stopped");
    assert_eq!(sessions[&session(3)]["transactions"], 2);
    assert_eq!(cap.last_stats()["sessions"]["started"], 3);
}

#[test]
fn forwarded_addresses_count_only_from_trusted_proxies() {
    let calls = vec![
        call("/a", &["X-Forwarded-For: 198.51.100.7"], "10.9.0.1"),
        call("/a", &["X-Forwarded-For: 198.51.100.7"], "192.0.2.1"),
    ];
    let file = write_raw("forwarded", &calls);
    let out = scratch("forwarded").join("out.jsonl");
    let res = replay(&[
        file.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--trusted-proxy",
        "10.9.0.0/16",
    ]);
    assert_success(&res, "monitor replay");
    let cap = Capture::parse(&std::fs::read_to_string(&out).unwrap());
    let http = cap.http();
    assert_eq!(http[0]["client_ip"], "198.51.100.7");
    assert_eq!(http[1]["client_ip"], "192.0.2.1");
}

#[test]
fn idle_sessions_end_and_a_new_one_starts() {
    // 1 ms between calls in the generated file: a 0-second idle timeout is refused, so use
    // the generated spacing with many calls and a 1-second timeout across a gap.
    let mut calls_a: Vec<Call> = (0..3)
        .map(|_| call("/a", &["X-Api-Key: k"], "192.0.2.1"))
        .collect();
    let gap: Vec<Call> = (0..1_500)
        .map(|i| call("/b", &[&format!("X-Api-Key: other-{i}")], "192.0.2.2"))
        .collect();
    calls_a.extend(gap);
    calls_a.push(call("/a", &["X-Api-Key: k"], "192.0.2.1"));
    let file = write_raw("idle", &calls_a);
    let out = scratch("idle").join("out.jsonl");
    let res = replay(&[
        file.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--session-idle-timeout",
        "1",
    ]);
    assert_success(&res, "monitor replay");
    let cap = Capture::parse(&std::fs::read_to_string(&out).unwrap());
    let http = cap.http();
    let first = http[0]["session_id"].as_str().unwrap();
    let last = http.last().unwrap()["session_id"].as_str().unwrap();
    assert_eq!(http[0]["actor"], http.last().unwrap()["actor"]);
    assert_ne!(first, last, "a new session after the idle gap");
    let ended: Vec<&Value> = cap
        .of_type("session")
        .filter(|s| s["session_id"] == first)
        .collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0]["state"], "idle");
    assert_eq!(ended[0]["transactions"], 3);
}
