//! Live gRPC (issue 16): a Python grpcio server and client (PyPI, pinned, into a scratch
//! directory; messages encoded by hand, no generated stubs) make a unary, a server-streaming,
//! a client-streaming and a failing call over one plaintext HTTP/2 connection while `monitor
//! run` watches. Each call must appear, from both ends, as an `http` event with version "2",
//! its service and method, its grpc-status and its message counts. A Go program (net/http over
//! TLS, ALPN h2, built with the system `go`) makes a server-streaming call to itself: both its
//! ends must appear the same way, decrypted from crypto/tls.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use serde_json::Value;
use tests::{Monitor, Proc, fixture, require_root, scratch, tls::client::python_exe};

/// Messages of the server stream: enough for many DATA frames, and far past the body capture
/// bound set below, so the count can only come from the per-frame tally.
const STREAMED: u64 = 3_000;
/// Messages the client streams.
const COLLECTED: u64 = 25;
/// The capture bound of the run: a few hundred of the streamed messages fit.
const MAX_BODY: &str = "4096";

/// grpcio, pinned, once per test process into a directory of its own.
fn grpcio_path() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("grpcio");
        let out = Command::new(python_exe())
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&dir)
            .arg("grpcio==1.68.1")
            .output()
            .expect("run pip");
        assert!(
            out.status.success(),
            "cannot install grpcio from PyPI: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn python(script: &str) -> Command {
    let mut cmd = Command::new(python_exe());
    let path = format!("{}:{}", grpcio_path().display(), fixture("grpc").display());
    cmd.env("PYTHONPATH", path)
        .arg(fixture(&format!("grpc/{script}")));
    cmd
}

/// The `http` events process `pid` wrote for `method` of demo.Greeter.
fn calls<'a>(events: &'a [&'a Value], pid: u32, method: &str) -> Vec<&'a Value> {
    events
        .iter()
        .copied()
        .filter(|t| t["process"]["pid"] == pid && t["grpc"]["method"] == method)
        .collect()
}

#[test]
fn grpcio_calls_appear_with_their_service_method_status_and_counts() {
    require_root!();
    grpcio_path();
    let mut server = Proc::spawn(&mut python("server.py"));
    let port: u16 = server.line().parse().expect("port line");
    let monitor = Monitor::start_http(&["--port", &port.to_string(), "--max-body-size", MAX_BODY]);
    let client = Proc::spawn(python("client.py").args([
        &port.to_string(),
        &STREAMED.to_string(),
        &COLLECTED.to_string(),
    ]));
    let client_pid = client.pid();
    let summary = client.wait_success();
    let cap = monitor.stop();
    println!("client: {summary}");

    let http = cap.http();
    let expected: [(&str, &str, u64, u64, &str); 4] = [
        ("SayHello", "OK", 1, 1, "unary"),
        ("Count", "OK", 1, STREAMED, "server"),
        ("Collect", "OK", COLLECTED, 1, "client"),
        ("Missing", "NOT_FOUND", 1, 0, "unary"),
    ];
    for pid in [client_pid, server.pid()] {
        for (method, status, requests, responses, streaming) in expected {
            let found = calls(&http, pid, method);
            assert_eq!(
                found.len(),
                1,
                "pid {pid}: {method} seen {} times in {} http events",
                found.len(),
                http.len()
            );
            let t = found[0];
            let what = format!("pid {pid} {method}: {t}");
            assert_eq!(t["request"]["version"], "2", "{what}");
            assert_eq!(t["request"]["method"], "POST", "{what}");
            assert_eq!(
                t["request"]["path"],
                format!("/demo.Greeter/{method}"),
                "{what}"
            );
            assert_eq!(t["response"]["status_code"], 200, "{what}");
            let g = &t["grpc"];
            assert_eq!(g["service"], "demo.Greeter", "{what}");
            assert_eq!(g["status_name"], status, "{what}");
            assert_eq!(g["request_messages"], requests, "{what}");
            assert_eq!(g["response_messages"], responses, "{what}");
            assert_eq!(g["streaming"], streaming, "{what}");
            assert_eq!(
                t["path_template"],
                format!("/demo.Greeter/{method}"),
                "{what}"
            );
            // Under redaction the raw bodies are sizes only.
            assert_eq!(t["response"]["body"]["content"], Value::Null, "{what}");
            println!(
                "pid {pid} {method}: {} {} messages in, {} out, {} response bytes ({} kept)",
                g["status_name"],
                g["request_messages"],
                g["response_messages"],
                t["response"]["body"]["size"],
                t["response"]["body"]["captured"]
            );
        }
    }
    // The decoded messages, from the client's side.
    let hello = calls(&http, client_pid, "SayHello")[0];
    assert_eq!(
        hello["grpc"]["request_body"],
        serde_json::json!({"1": "alice"})
    );
    assert_eq!(
        hello["grpc"]["response_body"],
        serde_json::json!({"1": "hello alice"})
    );
    let count = calls(&http, client_pid, "Count")[0];
    assert_eq!(
        count["grpc"]["response_body"],
        serde_json::json!({"1": "bob", "2": 1})
    );
    let missing = calls(&http, client_pid, "Missing")[0];
    assert_eq!(missing["grpc"]["message"], "no such user");
    assert_eq!(missing["grpc"]["status"], 5);
}

/// Messages the Go server streams: past the capture bound, in many DATA frames.
const GO_STREAMED: u64 = 500;

/// tests/fixtures/grpc/goh2, built once with the system `go` (static, offline).
fn goh2() -> PathBuf {
    let dir = scratch("goh2");
    let out = dir.join("goh2");
    tests::tls::client::go_build("grpc/goh2", &dir, &out, "");
    out
}

#[test]
fn a_go_call_over_tls_h2_appears_from_both_ends() {
    require_root!();
    let binary = goh2();
    // Started before the monitor, which hooks running Go binaries as it starts.
    let mut go = Proc::spawn(Command::new(&binary).arg(GO_STREAMED.to_string()));
    let ready = go.line();
    let port = ready.strip_prefix("ready ").expect("ready PORT");
    let monitor = Monitor::start_http(&["--port", port, "--max-body-size", MAX_BODY]);
    go.send_line("go");
    let done = go.line();
    assert_eq!(done, format!("done HTTP/2.0 {GO_STREAMED} 0"));
    let pid = go.pid();
    let cap = monitor.stop();
    let http = cap.http();
    let found = calls(&http, pid, "Count");
    assert_eq!(
        found.len(),
        2,
        "the client's and the server's view, in {} http events",
        http.len()
    );
    let mut roles: Vec<&str> = Vec::new();
    for t in found {
        let what = format!("{t}");
        roles.push(t["connection"]["role"].as_str().unwrap_or(""));
        assert_eq!(t["connection"]["tls"], true, "{what}");
        assert_eq!(t["request"]["version"], "2", "{what}");
        assert_eq!(t["request"]["path"], "/demo.Greeter/Count", "{what}");
        let g = &t["grpc"];
        assert_eq!(g["service"], "demo.Greeter", "{what}");
        assert_eq!(g["status_name"], "OK", "{what}");
        assert_eq!(g["request_messages"], 1, "{what}");
        assert_eq!(g["response_messages"], GO_STREAMED, "{what}");
        assert_eq!(g["streaming"], "server", "{what}");
        assert_eq!(g["request_body"], serde_json::json!({"1": "bob"}), "{what}");
    }
    roles.sort_unstable();
    assert_eq!(roles, ["client", "server"]);
}
