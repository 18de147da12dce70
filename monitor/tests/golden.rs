//! Golden tests: raw HTTP/1 and HTTP/2 conversations in (tests/golden/http{1,2}/*.http), through
//! the protocol router, the exact `http` JSON events out (the .json next to each). `UPDATE_GOLDEN=1 cargo test --test golden`
//! rewrites the expected files; review the diff before committing it.
//!
//! Script format, one item per line:
//!   `> bytes` / `< bytes`  data written / read by the observed process (one event per line;
//!                          escapes: \r \n \t \\ \xNN; a trailing space is kept)
//!   `@role client|server|unknown`, `@attribution kernel|proc` (before the first data line)
//!   `@gap > N` / `@gap < N`  N bytes of that direction not captured
//!   `@wait SECS`           time passes (timers run)
//!   `@config key=value`    max_body_bytes, max_head_bytes, response_timeout_secs
//!   `@end open`            leave the connection open (the monitor stops instead of a close)
//!   `# ...`                comment
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use bytes::Bytes;
use monitor::{
    capture::Endpoints,
    clock::Clock,
    config::HttpConfig,
    conn::{
        ConnMeta, Direction, GapCause, Role, StreamEvent,
        model::{Attribution, CloseReason, DirectionTotals, Origin},
    },
    export::http::HttpRenderer,
    protocol::ProtocolStage,
    transaction::redact::{RedactionConfig, Redactor},
};
use monitor_common::event::Syscall;

mod grpcgen;
mod h2gen;

/// The fixed wall clock of golden output: monotonic 0 is 2023-11-14T22:13:20Z.
const EPOCH: u64 = 1_700_000_000_000_000_000;
const KEY: [u8; 32] = [7; 32];

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                other => panic!("unknown escape \\{}", other as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn run(script: &str) -> Vec<serde_json::Value> {
    let mut role = Role::Client;
    let mut attribution = Attribution::Kernel;
    let mut config = HttpConfig::default();
    let mut meta: Option<Arc<ConnMeta>> = None;
    let mut stage: Option<ProtocolStage> = None;
    let mut offs = [0u64; 2];
    let mut now = 1_000u64;
    let mut out = Vec::new();
    let mut close = true;
    let endpoints = Endpoints {
        local: "10.0.0.1:40000".parse::<SocketAddr>().unwrap(),
        remote: "10.0.0.2:8080".parse::<SocketAddr>().unwrap(),
    };
    for line in script.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (head, rest) = line.split_at(1);
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        if head == "@" {
            let (cmd, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            match cmd {
                "role" => {
                    role = match arg {
                        "client" => Role::Client,
                        "server" => Role::Server,
                        _ => Role::Unknown,
                    }
                }
                "attribution" => {
                    attribution = if arg == "proc" {
                        Attribution::Proc
                    } else {
                        Attribution::Kernel
                    }
                }
                "config" => {
                    let (k, v) = arg.split_once('=').unwrap();
                    let v: u64 = v.parse().unwrap();
                    match k {
                        "max_body_bytes" => config.max_body_bytes = v as usize,
                        "max_head_bytes" => config.max_head_bytes = v as usize,
                        "response_timeout_secs" => config.response_timeout_secs = v,
                        _ => panic!("unknown config {k}"),
                    }
                }
                "end" => close = arg != "open",
                "gap" | "wait" => {}
                _ => panic!("unknown command @{cmd}"),
            }
            if cmd != "gap" && cmd != "wait" {
                continue;
            }
        }
        let m = meta
            .get_or_insert_with(|| {
                Arc::new(ConnMeta {
                    id: 0xabc,
                    pid: 4242,
                    comm: "client".into(),
                    fd: 5,
                    cgroup_id: 1,
                    endpoints: Some(endpoints),
                    role,
                    attribution,
                    tls_library: None,
                })
            })
            .clone();
        let st = stage.get_or_insert_with(|| {
            let mut s = ProtocolStage::new(&config);
            s.on_event(
                &StreamEvent::Open {
                    meta: m.clone(),
                    ts_ns: now,
                },
                &mut out,
            );
            s
        });
        now += 1_000;
        let dir = |c: &str| {
            if c.starts_with('>') {
                Direction::Egress
            } else {
                Direction::Ingress
            }
        };
        match head {
            ">" | "<" => {
                let bytes = unescape(rest);
                let d = dir(head);
                let offset = offs[d.index()];
                offs[d.index()] += bytes.len() as u64;
                st.on_event(
                    &StreamEvent::Data {
                        meta: m.clone(),
                        direction: d,
                        offset,
                        ts_ns: now,
                        origin: Origin {
                            pid: 4242,
                            tid: 4243,
                            comm: "client".into(),
                            syscall: Syscall::Write,
                        },
                        bytes: Bytes::from(bytes),
                    },
                    &mut out,
                );
            }
            "@" if rest.starts_with("gap ") => {
                let mut it = rest.split(' ').skip(1);
                let d = dir(it.next().unwrap());
                let len: u64 = it.next().unwrap().parse().unwrap();
                let offset = offs[d.index()];
                offs[d.index()] += len;
                st.on_event(
                    &StreamEvent::Gap {
                        meta: m.clone(),
                        direction: d,
                        offset,
                        len,
                        cause: GapCause::Lost,
                        ts_ns: now,
                    },
                    &mut out,
                );
            }
            "@" if rest.starts_with("wait ") => {
                let secs: u64 = rest[5..].parse().unwrap();
                for _ in 0..secs * 10 {
                    now += 100_000_000;
                    st.tick(now, &mut out);
                }
            }
            _ => {}
        }
    }
    let (Some(m), Some(mut st)) = (meta, stage) else {
        return Vec::new();
    };
    now += 1_000;
    if close {
        st.on_event(
            &StreamEvent::Close {
                meta: m,
                ts_ns: now,
                reason: CloseReason::Closed,
                egress: DirectionTotals::default(),
                ingress: DirectionTotals::default(),
            },
            &mut out,
        );
    } else {
        st.shutdown(now, &mut out);
    }
    let mut renderer = HttpRenderer::new(
        Clock::fixed(EPOCH),
        Redactor::new(&RedactionConfig::default(), KEY),
        config.max_decoded_bytes,
    );
    out.iter().map(|t| renderer.to_value(t).unwrap()).collect()
}

fn check_dir(sub: &str, min: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(sub);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "http").then_some(p)
        })
        .collect();
    names.sort();
    assert!(
        names.len() >= min,
        "golden cases missing in {}",
        dir.display()
    );
    let mut failed = Vec::new();
    for script in &names {
        let got = run(&std::fs::read_to_string(script).unwrap());
        let expected_path = script.with_extension("json");
        let got_text = serde_json::to_string_pretty(&got).unwrap() + "\n";
        if update {
            std::fs::write(&expected_path, &got_text).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != got_text {
            failed.push(script.file_name().unwrap().to_string_lossy().into_owned());
            eprintln!("--- {} differs; got:\n{got_text}", expected_path.display());
        }
    }
    assert!(failed.is_empty(), "golden cases differ: {failed:?}");
}

#[test]
fn golden_http1() {
    check_dir("http1", 20);
}

/// Writes the scripts `generator` makes into tests/golden/`sub` (UPDATE_GOLDEN=1), or asserts
/// the committed ones are what it makes; the directory.
fn generated(sub: &str, generator: &str, goldens: Vec<(&str, h2gen::Conversation)>) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(sub);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (name, conv) in goldens {
        let path = dir.join(format!("{name}.http"));
        let script = conv.script();
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &script).unwrap();
        } else {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                committed,
                script,
                "{} is not what {generator} writes",
                path.display()
            );
        }
    }
    dir
}

/// The HTTP/2 scripts are written by `h2gen` (UPDATE_GOLDEN=1 rewrites them); the committed
/// ones must be what it writes, so the generator and the goldens cannot drift apart.
#[test]
fn golden_http2() {
    generated("http2", "h2gen", h2gen::goldens());
    check_dir("http2", 11);
}

/// gRPC calls over HTTP/2, written by `grpcgen` (messages by prost) as the HTTP/2 scripts are
/// by `h2gen`: unary with a credential in its message, server and client streaming.
#[test]
fn golden_grpc() {
    let dir = generated("grpc", "grpcgen", grpcgen::goldens());
    check_dir("grpc", 3);
    // What the goldens are for, said here too so a regenerated file cannot quietly lose it.
    let read = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
        let mut events: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(events.len(), 1, "{name}");
        events.remove(0)
    };
    let unary = read("unary_jwt");
    let token = &unary["grpc"]["request_body"]["2"];
    assert!(token.as_str().unwrap().starts_with("<redacted:"), "{token}");
    assert!(
        !serde_json::to_string(&unary)
            .unwrap()
            .contains(grpcgen::JWT)
    );
    // Nor as base64 of the raw body: gRPC bodies are shown by their redacted messages only.
    assert_eq!(unary["request"]["body"]["content"], serde_json::Value::Null);
    assert_eq!(unary["request"]["body"]["captured"], 170);
    let message = unary["grpc"]["message"].as_str().unwrap();
    assert!(message.starts_with("accepted <redacted:"), "{message}");
    let trailer = &unary["response"]["trailers"]["grpc-message"][0];
    assert!(
        trailer.as_str().unwrap().starts_with("<redacted:"),
        "{trailer}"
    );
    let server = read("server_streaming");
    assert_eq!(server["grpc"]["status_name"], "NOT_FOUND");
    assert_eq!(server["grpc"]["response_messages"], 4);
    assert_eq!(server["response"]["body"]["truncated"], true);
    let client = read("client_streaming");
    assert_eq!(client["grpc"]["request_messages"], 3);
    assert_eq!(client["grpc"]["streaming"], "client");
}

/// Joined mid-way: every header value reported is one the client really sent on that stream
/// (or `<unknown>`), and some are unknown, so the join was really blind.
#[test]
fn joined_http2_reports_no_wrong_value() {
    let (conv, truth) = h2gen::joined_midway();
    let events = run(&conv.script());
    let (mut known, mut unknown, mut unknown_targets) = (0, 0, 0);
    assert!(events.len() >= 14, "{} transactions", events.len());
    for e in &events {
        if e["request"].is_null() {
            // A stream whose request went by before the join.
            assert_eq!(e["outcome"], "request_not_captured");
            continue;
        }
        assert_eq!(e["request"]["version"], "2");
        let unknown_before = unknown;
        let target = e["request"]["target"].as_str().unwrap();
        let sent: Vec<(String, String)> = match truth.get(target) {
            Some(fields) => fields.clone(),
            None => {
                assert_eq!(target, "<unknown>");
                unknown_targets += 1;
                truth.values().flatten().cloned().collect()
            }
        };
        for (name, values) in e["request"]["headers"].as_object().unwrap() {
            for v in values.as_array().unwrap() {
                let v = v.as_str().unwrap();
                if v == "<unknown>" {
                    unknown += 1;
                    continue;
                }
                let n = if name == "host" { ":authority" } else { name };
                assert!(
                    sent.iter().any(|(sn, sv)| sn == n && sv == v),
                    "{name}: {v} was never sent for {target}"
                );
                known += 1;
            }
        }
        let flagged = e["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "hpack_unknown");
        if unknown > unknown_before {
            assert!(flagged, "unknown fields unflagged in {target}");
        }
    }
    assert!(
        known > 0 && unknown + unknown_targets > 0,
        "{known} {unknown}"
    );
}
