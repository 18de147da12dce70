//! Record and replay, live: curl talks to the python fixture server on one keep-alive
//! connection while the monitor records; `monitor replay` (as nobody when the test runs as root)
//! must then give the transactions curl made, and the very lines the live run wrote.
//!
//! With `MONITOR_UPDATE_FIXTURES=1`, `run_record_replays_to_the_live_output_without_root`
//! also rewrites the committed recording and its expected output (tests/fixtures/recordings).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{path::Path, process::Command, time::Duration};

use serde_json::Value;
use tests::{
    Capture, Monitor, Proc, fixture, is_root, python_server,
    replay::{assert_success, http_lines, replay, replay_unprivileged},
    require_root, scratch, text_payload,
};

/// The bearer token and password curl sends: they must never be in the JSON output.
const TOKEN: &str = "fixture-token-7Qk";
const PASSWORD: &str = "fixture-pw-9Zr";

/// One request curl makes, and what the fixture server answers.
struct Request {
    method: &'static str,
    target: String,
    header: Option<String>,
    body: Option<String>,
}

impl Request {
    /// GET /?size=N: N bytes back.
    fn get(size: usize) -> Request {
        Request {
            method: "GET",
            target: format!("/?size={size}"),
            header: None,
            body: None,
        }
    }

    /// POST / with `body`: the fixture answers "<length> <sha256 hex>\n".
    fn post(body: String) -> Request {
        Request {
            method: "POST",
            target: "/".into(),
            header: None,
            body: Some(body),
        }
    }

    fn with_header(mut self, header: String) -> Request {
        self.header = Some(header);
        self
    }

    /// (method, target, request body size, status, response body size) as the monitor must
    /// show it.
    fn expected(&self) -> (String, String, u64, u64, u64) {
        let (sent, answer) = match &self.body {
            Some(b) => (b.len(), format!("{} ", b.len()).len() + 64 + 1),
            None => (0, self.target["/?size=".len()..].parse().unwrap()),
        };
        (
            self.method.into(),
            self.target.clone(),
            sent as u64,
            200,
            answer as u64,
        )
    }
}

/// What the monitor showed of one transaction, in the shape of [`Request::expected`].
fn summary(tx: &Value) -> (String, String, u64, u64, u64) {
    (
        tx["request"]["method"].as_str().unwrap().into(),
        tx["request"]["target"].as_str().unwrap().into(),
        tx["request"]["body"]["size"].as_u64().unwrap(),
        tx["response"]["status_code"].as_u64().unwrap(),
        tx["response"]["body"]["size"].as_u64().unwrap(),
    )
}

/// Small requests on one keep-alive connection: two GETs (one with an Authorization header)
/// and a form POST with a password field. Small, so the committed recording stays a few KB.
fn small_requests() -> Vec<Request> {
    vec![
        Request::get(10),
        Request::get(100).with_header(format!("Authorization: Bearer {TOKEN}")),
        Request::post(format!("user=alice&password={PASSWORD}")),
    ]
}

/// Larger bodies, so streams span several kernel records.
fn large_requests() -> Vec<Request> {
    vec![
        Request::get(40_000),
        Request::post(text_payload(20_000)),
        Request::get(1),
    ]
}

/// Runs curl (which must succeed) with one `--next` segment per request, on one connection;
/// returns curl's pid and the connection's local port.
fn curl(port: u16, requests: &[Request]) -> (u32, u16) {
    let mut cmd = Command::new("curl");
    for (i, r) in requests.iter().enumerate() {
        if i > 0 {
            cmd.arg("--next");
        }
        cmd.args(["-sS", "--fail", "-w", "%{local_port}\\n", "-o", "/dev/null"]);
        if let Some(h) = &r.header {
            cmd.args(["-H", h]);
        }
        if let Some(b) = &r.body {
            cmd.args(["--data-binary", b]);
        }
        cmd.arg(format!("http://127.0.0.1:{port}{}", r.target));
    }
    let p = Proc::spawn(&mut cmd);
    let pid = p.pid();
    let out = p.wait_success();
    let ports: Vec<u16> = out
        .lines()
        .map(|l| l.parse().unwrap_or_else(|_| panic!("curl printed {out:?}")))
        .collect();
    assert!(
        ports.len() == requests.len() && ports.iter().all(|p| *p == ports[0]),
        "curl's transfers did not share one connection: local ports {ports:?}"
    );
    (pid, ports[0])
}

/// Asserts that curl (`client`) and the server each show exactly `requests`, in order, on the
/// connection whose client end is `client_port`, and that there is no other transaction.
fn assert_transactions(
    cap: &Capture,
    client: u32,
    server: u32,
    client_port: u16,
    requests: &[Request],
) {
    let expected: Vec<_> = requests.iter().map(Request::expected).collect();
    assert_eq!(
        cap.http().len(),
        2 * requests.len(),
        "expected {} transactions from each side; all http events:\n{}",
        requests.len(),
        cap.http_dump()
    );
    for (side, pid) in [("client", client), ("server", server)] {
        let seen: Vec<_> = cap
            .http_conn(pid, client_port)
            .iter()
            .map(summary)
            .collect();
        assert_eq!(seen, expected, "{side} side (pid {pid})");
    }
}

/// Asserts that nothing the monitor wrote contains a secret curl sent.
fn assert_no_secrets(text: &str, what: &str) {
    for secret in [TOKEN, PASSWORD] {
        assert!(!text.contains(secret), "{what} contains {secret:?}");
    }
}

/// A scratch directory user nobody can write, with a copy of the fixture's redaction key.
fn shared_scratch(tag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = scratch(tag);
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let key = dir.join("redaction.key");
    std::fs::copy(fixture("recordings/keepalive.key"), &key).unwrap();
    (dir, key)
}

/// Replays `args` (as nobody when root) into `output` and returns what it wrote.
fn replay_to(output: &Path, args: &[&str]) -> String {
    let input = Path::new(args[0]);
    if input.extension().is_some_and(|e| e == "rec") && is_root() {
        // Recordings hold unredacted payloads: the monitor makes them private to their owner,
        // and whoever replays them must be given them.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(input).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "recording {} is mode {mode:o}",
            input.display()
        );
        std::os::unix::fs::chown(input, Some(65534), Some(65534)).unwrap();
    }
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--output", output.to_str().unwrap()]);
    let out = replay_unprivileged(&all);
    assert_success(&out, "monitor replay");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("no end record"),
        "the recording was not ended cleanly: {stderr}"
    );
    std::fs::read_to_string(output).expect("replay output")
}

/// The final stats event without what only a live run knows (kernel counters) or what depends
/// on when the run stopped rather than on the records (time, uptime).
fn stats_from_records(cap: &Capture) -> Value {
    let mut s = cap.last_stats().clone();
    let obj = s.as_object_mut().unwrap();
    // TLS coverage describes the live host's processes, not the recorded traffic.
    for k in ["kernel", "tls", "ts", "ts_unix_ns", "uptime_secs"] {
        obj.remove(k);
    }
    s
}

#[test]
fn run_record_replays_to_the_live_output_without_root() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let (dir, key) = shared_scratch("replay-run");
    let rec = dir.join("keepalive.rec");
    let (rec_arg, key_arg) = (rec.to_str().unwrap(), key.to_str().unwrap());
    let monitor = Monitor::start_http(&[
        "--port",
        &port.to_string(),
        "--record",
        rec_arg,
        "--redaction-key-file",
        key_arg,
    ]);
    let requests = small_requests();
    let (curl_pid, client_port) = curl(port, &requests);
    let live = monitor.stop();
    assert_transactions(&live, curl_pid, server.pid(), client_port, &requests);
    assert_no_secrets(&live.text, "the live output");

    // The recording is readable by anyone (0644 under the usual umask): nobody replays it.
    let first = replay_to(
        &dir.join("replay.jsonl"),
        &[rec_arg, "--redaction-key-file", key_arg],
    );
    let replayed = Capture::parse(&first);
    assert_transactions(&replayed, curl_pid, server.pid(), client_port, &requests);
    assert_no_secrets(&first, "the replay output");

    let (live_http, replay_http) = (http_lines(&live.text), http_lines(&first));
    assert_eq!(live_http.len(), replay_http.len());
    for (i, (l, r)) in live_http.iter().zip(&replay_http).enumerate() {
        let (l, r): (Value, Value) = (
            serde_json::from_str(l).unwrap(),
            serde_json::from_str(r).unwrap(),
        );
        assert_eq!(r, l, "http line {} differs between replay and live", i + 1);
    }
    assert_eq!(
        replay_http, live_http,
        "http lines equal as JSON but not byte for byte"
    );
    assert_eq!(
        stats_from_records(&replayed),
        stats_from_records(&live),
        "the final stats of replay and live differ beyond kernel counters and time"
    );
    assert_eq!(replayed.last_stats()["kernel"], serde_json::json!({}));

    // Deterministic: again, now as root and to stdout, the very same bytes.
    let again = replay(&[rec_arg, "--redaction-key-file", key_arg]);
    assert_success(&again, "monitor replay (second run)");
    assert!(
        again.stdout == first.as_bytes(),
        "a second replay wrote different bytes"
    );

    if std::env::var_os("MONITOR_UPDATE_FIXTURES").is_some() {
        std::fs::copy(&rec, fixture("recordings/keepalive.rec")).unwrap();
        std::fs::write(fixture("recordings/keepalive.expected.jsonl"), &first).unwrap();
        eprintln!("updated tests/fixtures/recordings/keepalive.{{rec,expected.jsonl}}");
    }
}

#[test]
fn record_then_replay_gives_what_curl_did() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let (dir, _) = shared_scratch("replay-record");
    let rec = dir.join("capture.rec");
    // Stops by itself: the deadline starts once the probes are attached, and curl takes
    // milliseconds.
    let monitor = Monitor::start_record(&rec, &["--port", &port.to_string(), "--duration", "3"]);
    let requests = large_requests();
    let (curl_pid, client_port) = curl(port, &requests);
    monitor.wait_exit(Duration::from_secs(30));

    let text = replay_to(&dir.join("replay.jsonl"), &[rec.to_str().unwrap()]);
    let replayed = Capture::parse(&text);
    assert_transactions(&replayed, curl_pid, server.pid(), client_port, &requests);
    // The bodies themselves, not only their sizes.
    let client = replayed.http_conn(curl_pid, client_port);
    assert_eq!(
        tests::http::body_bytes(&client[0]["response"]["body"]),
        tests::http_payload(40_000)
    );
    assert_eq!(
        client[1]["request"]["body"]["content"],
        Value::from(text_payload(20_000))
    );
}

#[test]
fn raw_json_lines_replay_to_the_transactions_of_the_recording() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let (dir, key) = shared_scratch("replay-raw");
    let rec = dir.join("raw-run.rec");
    let (rec_arg, key_arg) = (rec.to_str().unwrap(), key.to_str().unwrap());
    // One run, two records of it: raw JSON lines, and a recording.
    let monitor = Monitor::start(&["--port", &port.to_string(), "--record", rec_arg]);
    let requests = small_requests();
    let (curl_pid, client_port) = curl(port, &requests);
    let raw = monitor.stop();
    let raw_file = dir.join("raw.jsonl");
    std::fs::write(&raw_file, &raw.text).unwrap();

    let from_raw = replay_to(
        &dir.join("from-raw.jsonl"),
        &[raw_file.to_str().unwrap(), "--redaction-key-file", key_arg],
    );
    let from_raw_cap = Capture::parse(&from_raw);
    assert_transactions(
        &from_raw_cap,
        curl_pid,
        server.pid(),
        client_port,
        &requests,
    );
    assert_no_secrets(&from_raw, "the replay of raw JSON lines");

    // The recording of the same run gives the same transactions, byte for byte...
    let from_rec = replay_to(
        &dir.join("from-rec.jsonl"),
        &[rec_arg, "--redaction-key-file", key_arg],
    );
    assert_eq!(http_lines(&from_rec), http_lines(&from_raw));
    // ...and, replayed with --raw, the raw lines the live run wrote (all but its stats).
    let raw_again = replay_to(&dir.join("raw-again.jsonl"), &[rec_arg, "--raw"]);
    let not_stats = |text: &str| -> Vec<String> {
        Capture::parse(text)
            .events
            .iter()
            .zip(text.lines())
            .filter(|(e, _)| e["type"] != "stats")
            .map(|(_, l)| l.to_string())
            .collect()
    };
    assert_eq!(not_stats(&raw_again), not_stats(&raw.text));
}
