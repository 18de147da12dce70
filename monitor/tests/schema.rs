//! The published JSON Schema (docs/schema/events.vN.schema.json) is what the types derive, and
//! what the monitor writes validates against it. `UPDATE_SCHEMA=1 cargo test --test schema`
//! rewrites the file after a type change; review the diff, and bump `HTTP_SCHEMA_VERSION` if a
//! field was removed or changed meaning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use bytes::Bytes;
use jsonschema::Validator;
use monitor::{
    capture::Endpoints,
    clock::Clock,
    config::HttpConfig,
    conn::{
        CloseReason, ConnMeta, Direction, GapCause, Role, StreamCounters, StreamEvent,
        model::{Attribution, DirectionTotals, Origin},
    },
    export::{
        OutputEvent, Renderer,
        event::{AgentStats, Stats},
        schema::{output_schema, output_schema_text, schema_path},
    },
    http1::HttpStage,
    tls::status::{
        HookState, HookedFile, LibraryCoverage, ProcessCoverage, TlsCoverage, UncoveredTraffic,
    },
    transaction::{Flag, Flags},
};
use monitor_common::event::Syscall;
use serde_json::{Value, json};

fn committed_path() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).join(schema_path())
}

fn committed() -> Value {
    let path = committed_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A validator for the committed schema that also checks formats (`date-time`), so timestamps
/// are held to RFC 3339.
fn validator() -> Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&committed())
        .unwrap()
}

fn errors(v: &Validator, event: &Value) -> Vec<String> {
    v.iter_errors(event)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn golden_events() -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = ["http1", "http2", "grpc"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let events: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        out.extend(
            events
                .into_iter()
                .enumerate()
                .map(|(i, e)| (format!("{name}[{i}]"), e)),
        );
    }
    out
}

#[test]
fn committed_schema_matches_types() {
    let path = committed_path();
    let text = output_schema_text().unwrap();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "{} differs from the schema the types derive; run `UPDATE_SCHEMA=1 cargo test -p monitor \
         --test schema`, review the diff, and bump HTTP_SCHEMA_VERSION if a field was removed or \
         changed meaning",
        path.display()
    );
}

#[test]
fn schema_names_its_version_and_is_valid_2020_12() {
    let schema = output_schema();
    jsonschema::meta::validate(&schema).unwrap();
    let version = monitor::export::http::HTTP_SCHEMA_VERSION;
    assert!(schema_path().ends_with(&format!("events.v{version}.schema.json")));
    assert!(
        schema["$id"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":v{version}"))
    );
    assert!(
        schema["title"]
            .as_str()
            .unwrap()
            .ends_with(&version.to_string())
    );
    assert_eq!(
        schema["$defs"]["HttpEvent"]["properties"]["schema_version"]["const"],
        json!(version)
    );
}

#[test]
fn schema_command_prints_the_schema() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_monitor"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        output_schema_text().unwrap()
    );
}

#[test]
fn golden_http_events_validate() {
    let v = validator();
    let events = golden_events();
    assert!(
        events.len() >= 40,
        "golden events missing: {}",
        events.len()
    );
    let mut failed = Vec::new();
    for (name, event) in &events {
        assert_eq!(event["type"], "http", "{name}");
        let errs = errors(&v, event);
        if !errs.is_empty() {
            failed.push(format!("{name}: {errs:?}"));
        }
    }
    assert!(
        failed.is_empty(),
        "events violate the schema:\n{}",
        failed.join("\n")
    );
}

/// Breaks one thing in a valid event.
type Break = fn(&mut Value);

/// A complete transaction from the golden files, to break one field at a time.
fn sample_http() -> Value {
    golden_events()
        .into_iter()
        .map(|(_, e)| e)
        .find(|e| {
            e["outcome"] == "complete" && e["request"].is_object() && e["response"].is_object()
        })
        .unwrap()
}

#[test]
fn schema_rejects_broken_http_events() {
    let v = validator();
    let good = sample_http();
    assert!(errors(&v, &good).is_empty());
    let breaks: [(&str, Break); 12] = [
        ("unknown outcome", |e| e["outcome"] = json!("bogus")),
        ("missing request", |e| {
            e.as_object_mut().unwrap().remove("request");
        }),
        ("missing type", |e| {
            e.as_object_mut().unwrap().remove("type");
        }),
        ("unknown type", |e| e["type"] = json!("bogus")),
        ("unknown flag", |e| e["flags"] = json!(["not_a_flag"])),
        ("repeated flag", |e| {
            e["flags"] = json!(["bare_lf", "bare_lf"])
        }),
        ("flags as a string", |e| e["flags"] = json!("bare_lf")),
        ("other schema version", |e| e["schema_version"] = json!(2)),
        ("timestamp not RFC 3339", |e| e["ts"] = json!("yesterday")),
        ("header value not a list", |e| {
            e["request"]["headers"]["host"] = json!("x")
        }),
        ("status out of range", |e| {
            e["response"]["status_code"] = json!(70_000)
        }),
        ("unknown body encoding", |e| {
            e["response"]["body"]["encoding"] = json!("hex")
        }),
    ];
    for (what, break_it) in breaks {
        let mut bad = good.clone();
        break_it(&mut bad);
        assert!(!v.is_valid(&bad), "schema accepted an event with {what}");
    }
}

#[test]
fn every_flag_name_validates() {
    let v = validator();
    let all = Flag::ALL
        .into_iter()
        .fold(Flags::empty(), |f, flag| f.with(flag));
    let mut event = sample_http();
    event["flags"] = serde_json::to_value(all).unwrap();
    assert_eq!(event["flags"].as_array().unwrap().len(), Flag::ALL.len());
    assert_eq!(errors(&v, &event), Vec::<String>::new());
}

fn meta() -> Arc<ConnMeta> {
    Arc::new(ConnMeta {
        id: 0xabc,
        pid: 4242,
        comm: "client".into(),
        fd: 5,
        cgroup_id: 1,
        endpoints: Some(Endpoints {
            local: "[::1]:40000".parse().unwrap(),
            remote: "[::1]:8080".parse().unwrap(),
        }),
        role: Role::Server,
        attribution: Attribution::Proc,
        tls_library: None,
    })
}

/// One event of every other kind, rendered by the monitor's own code.
fn raw_and_stats_events() -> Vec<Value> {
    let renderer = Renderer::new(Clock::fixed(1_700_000_000_000_000_000), 16);
    let m = meta();
    let stream = [
        StreamEvent::Open {
            meta: m.clone(),
            ts_ns: 1,
        },
        StreamEvent::Data {
            meta: m.clone(),
            direction: Direction::Ingress,
            offset: 0,
            ts_ns: 2,
            origin: Origin {
                pid: 4242,
                tid: 4243,
                comm: "client".into(),
                syscall: Syscall::InFlightRecv,
            },
            bytes: Bytes::from_static(b"GET / HTTP/1.1\r\n\x00"),
        },
        StreamEvent::Gap {
            meta: m.clone(),
            direction: Direction::Egress,
            offset: 0,
            len: 10,
            cause: GapCause::InFlightAtStart,
            ts_ns: 3,
        },
        StreamEvent::Close {
            meta: m,
            ts_ns: 4,
            reason: CloseReason::Evicted,
            egress: DirectionTotals {
                bytes: 10,
                gap_bytes: 10,
            },
            ingress: DirectionTotals::default(),
        },
    ];
    let mut out: Vec<Value> = stream
        .iter()
        .map(|e| serde_json::to_value(renderer.render(e)).unwrap())
        .collect();
    let mut streams = StreamCounters::default();
    streams.gap_bytes.insert(GapCause::Lost.name(), 3);
    let stats = |http: Option<_>| Stats {
        tls: http.is_some().then(tls_coverage),
        ts: "2023-11-14T22:13:20.000000001Z".into(),
        ts_unix_ns: 1_700_000_000_000_000_001,
        uptime_secs: 1.5,
        last: true,
        kernel: BTreeMap::from([("ringbuf_full", 2)]),
        agent: AgentStats::default(),
        streams: streams.clone(),
        discovery: http.is_some().then(Default::default),
        sessions: http.is_some().then(Default::default),
        detection: http.is_some().then(Default::default),
        http2: http.is_some().then(Default::default),
        enforcement: http.is_some().then(|| {
            Box::new(monitor::enforce::counters::EnforcementCounters {
                mode: "on",
                ..Default::default()
            })
        }),
        http,
    };
    let http = HttpStage::new(&HttpConfig::default()).counters();
    for s in [stats(Some(http)), stats(None)] {
        out.push(serde_json::to_value(OutputEvent::Stats(s)).unwrap());
    }
    out
}

/// Every part of the TLS coverage object: a hooked, an uncovered and a failed library, and
/// uncovered traffic.
fn tls_coverage() -> TlsCoverage {
    let lib = |library: Option<&str>, state, code: Option<&str>| LibraryCoverage {
        library: library.map(str::to_owned),
        version: Some("3.0.11".into()),
        path: "/usr/lib/x86_64-linux-gnu/libssl.so.3".into(),
        state,
        reason_code: code.map(str::to_owned),
        reason: code.map(|c| format!("because {c}")),
    };
    TlsCoverage {
        processes: vec![ProcessCoverage {
            pid: 42,
            comm: "curl".into(),
            exe: "/usr/bin/curl".into(),
            running: true,
            libraries: vec![
                lib(Some("openssl"), HookState::Hooked, None),
                lib(None, HookState::Uncovered, Some("unsupported_library")),
                lib(Some("gnutls"), HookState::Failed, Some("attach_failed")),
            ],
        }],
        uncovered_traffic: vec![UncoveredTraffic {
            pid: 43,
            comm: "app".into(),
            connections: 2,
            reason_code: "stripped_go".into(),
            reason: "stripped".into(),
        }],
        files: vec![HookedFile {
            path: "/usr/lib/x86_64-linux-gnu/libssl.so.3".into(),
            library: "openssl".into(),
            processes: 1,
            probes: 8,
        }],
        uncovered_connections_total: 3,
        errors: 0,
        notices_dropped: 0,
    }
}

#[test]
fn raw_and_stats_events_validate() {
    let v = validator();
    let events = raw_and_stats_events();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["conn_open", "data", "gap", "conn_close", "stats", "stats"]
    );
    for e in &events {
        assert_eq!(errors(&v, e), Vec::<String>::new(), "{e}");
    }
}

#[test]
fn schema_rejects_broken_raw_and_stats_events() {
    let v = validator();
    let events = raw_and_stats_events();
    let [open, data, gap, close, stats, _] = &events[..] else {
        panic!("unexpected events")
    };
    let cases: [(&str, &Value, Break); 7] = [
        ("open without connection", open, |e| {
            e.as_object_mut().unwrap().remove("connection");
        }),
        ("unknown role", open, |e| {
            e["connection"]["role"] = json!("peer")
        }),
        ("unknown syscall", data, |e| e["syscall"] = json!("splice")),
        ("unknown gap cause", gap, |e| e["cause"] = json!("bogus")),
        ("negative total", close, |e| {
            e["egress"]["bytes"] = json!(-1)
        }),
        ("counter as a string", stats, |e| {
            e["kernel"]["ringbuf_full"] = json!("2")
        }),
        ("flag counter as a float", stats, |e| {
            e["http"]["flags"]["bare_lf"] = json!(0.5)
        }),
    ];
    for (what, good, break_it) in cases {
        let mut bad = good.clone();
        break_it(&mut bad);
        assert!(!v.is_valid(&bad), "schema accepted an event with {what}");
    }
}

/// The committed replay output holds every line type a default run writes (`http` with its
/// actor, session and endpoint; `endpoint`; `session`; `stats` with discovery counters): all
/// of it validates.
#[test]
fn a_replay_output_with_discovery_validates() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = manifest
        .parent()
        .unwrap()
        .join("tests/fixtures/recordings/keepalive.expected.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let v = validator();
    let mut types = std::collections::BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let event: Value = serde_json::from_str(line).unwrap();
        types.insert(event["type"].as_str().unwrap().to_owned());
        let errs = errors(&v, &event);
        assert!(errs.is_empty(), "line {}: {errs:?}", i + 1);
    }
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        ["endpoint", "http", "session", "stats"]
    );
    assert!(text.contains(r#""actor":{"id":"#));
}

/// Every `block` action, with and without its optional parts.
#[test]
fn block_events_validate_and_broken_ones_do_not() {
    use monitor::{
        detection::category::{Category, Severity},
        enforce::decisions::{Cause, Decision, Origin, Target},
        export::block::{BlockAction, BlockConnection, BlockEvent},
    };
    let v = validator();
    let d = Decision {
        id: 7,
        target: Target::Ip("203.0.113.7/32".parse().unwrap()),
        cause: Cause {
            origin: Origin::Alert,
            reason: "sqli alert, severity high".into(),
            alert_id: Some("3f4c0e1b9a2d7765".into()),
            category: Some(Category::Sqli),
            severity: Some(Severity::High),
        },
        since_unix_ns: 1_700_000_000_000_000_000,
        expires_unix_ns: 1_700_000_600_000_000_000,
    };
    let now = 1_700_000_000_500_000_000;
    let mut events = Vec::new();
    for action in [
        BlockAction::Block,
        BlockAction::WouldBlock,
        BlockAction::Unblock,
        BlockAction::Expire,
    ] {
        events.push(BlockEvent::of(action, "on", &d, now));
    }
    let mut refused = BlockEvent::bare(
        BlockAction::Refuse,
        "dry-run",
        Target::Actor("5d572e2a34f297fd".into()),
        now,
    );
    refused.refused = Some("allowlist");
    events.push(refused);
    let mut reset = BlockEvent::of(BlockAction::Reset, "on", &d, now);
    reset.connection = Some(BlockConnection {
        client: "203.0.113.7:40000".into(),
        server: "10.0.0.1:443".into(),
    });
    reset.connections_reset = 1;
    reset.error = Some("a reset failed".into());
    events.push(reset);
    for e in events {
        let value = serde_json::to_value(OutputEvent::Block(Box::new(e))).unwrap();
        assert_eq!(errors(&v, &value), Vec::<String>::new(), "{value}");
    }
    let good = serde_json::to_value(OutputEvent::Block(Box::new(BlockEvent::of(
        BlockAction::Block,
        "on",
        &d,
        now,
    ))))
    .unwrap();
    for (field, bad) in [
        ("action", json!("nuke")),
        ("target", json!({"host": "x"})),
        ("schema_version", json!(2)),
    ] {
        let mut e = good.clone();
        e[field] = bad;
        assert!(!errors(&v, &e).is_empty(), "{field} accepted: {e}");
    }
}
