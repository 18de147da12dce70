//! Live HTTP/2 tests (root): nghttpd and nginx as servers, curl, nghttp and a raw-frame python
//! client, the monitor in its default mode filtering on each test's server port; every request
//! must appear as an `http` event with version "2", its method, path, status and sizes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use tests::{
    Capture, Monitor, Proc, fixture, free_port, nginx::Nginx, require_root, scratch, text_payload,
};

/// Returns early, saying why, when a tool the test drives is missing.
macro_rules! require_tool {
    ($tool:expr) => {
        if Command::new("sh")
            .args(["-c", &format!("command -v {}", $tool)])
            .stdout(Stdio::null())
            .status()
            .map_or(true, |s| !s.success())
        {
            eprintln!(
                "skipping: {} is not installed (apt-get install nghttp2-client nghttp2-server)",
                $tool
            );
            return;
        }
    };
}

/// nghttpd serving `files` over h2c (no TLS) on a free port.
fn nghttpd(files: &[(&str, &[u8])]) -> (Proc, u16) {
    let dir = scratch("nghttpd");
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let port = free_port();
    let p = Proc::spawn(
        Command::new("nghttpd")
            .arg("--no-tls")
            .arg("-d")
            .arg(&dir)
            .arg(port.to_string()),
    );
    wait_listening(port);
    (p, port)
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` to completion (it must succeed); its pid and stdout.
fn run(cmd: &mut Command) -> (u32, String) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (pid, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `http` events process `pid` wrote.
fn of_pid(cap: &Capture, pid: u32) -> Vec<Value> {
    cap.http()
        .into_iter()
        .filter(|t| t["process"]["pid"] == pid)
        .cloned()
        .collect()
}

/// One HTTP/2 transaction: complete, its method, path, status and body sizes.
fn assert_h2(t: &Value, method: &str, path: &str, status: u64, req_size: u64, resp_size: u64) {
    let what = format!("{method} {path}: {t}");
    assert_eq!(t["outcome"], "complete", "{what}");
    assert_eq!(t["request"]["version"], "2", "{what}");
    assert_eq!(t["response"]["version"], "2", "{what}");
    assert_eq!(t["request"]["method"], method, "{what}");
    assert_eq!(t["request"]["target"], path, "{what}");
    assert_eq!(t["response"]["status_code"], status, "{what}");
    assert_eq!(t["request"]["body"]["size"], req_size, "{what}");
    assert_eq!(t["response"]["body"]["size"], resp_size, "{what}");
}

fn stats_http2(cap: &Capture) -> Value {
    cap.last_stats()["http2"].clone()
}

#[test]
fn curl_prior_knowledge_against_nghttpd() {
    require_root!();
    require_tool!("nghttpd");
    let page = text_payload(3000);
    let (server, port) = nghttpd(&[("page.txt", page.as_bytes())]);
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let url = format!("http://127.0.0.1:{port}/page.txt");
    let (get, _) =
        run(Command::new("curl").args(["-sS", "--http2-prior-knowledge", "-o", "/dev/null", &url]));
    let body = "b".repeat(1000);
    let (post, code) = run(Command::new("curl").args([
        "-sS",
        "--http2-prior-knowledge",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download}",
        "--data-binary",
        &body,
        &url,
    ]));
    let cap = monitor.stop();
    let (code, size) = code.split_once(' ').unwrap();
    let got = of_pid(&cap, get);
    assert_eq!(got.len(), 1, "{}", cap.http_dump());
    assert_h2(&got[0], "GET", "/page.txt", 200, 0, 3000);
    assert_eq!(
        got[0]["request"]["headers"]["host"][0],
        format!("127.0.0.1:{port}")
    );
    let posted = of_pid(&cap, post);
    assert_eq!(posted.len(), 1, "{}", cap.http_dump());
    assert_h2(
        &posted[0],
        "POST",
        "/page.txt",
        code.parse().unwrap(),
        1000,
        size.parse().unwrap(),
    );
    // The server saw the same two.
    let served = of_pid(&cap, server.pid());
    assert_eq!(served.len(), 2, "{}", cap.http_dump());
    let h2 = stats_http2(&cap);
    assert!(h2["connections_preface"].as_u64() >= Some(4), "{h2}");
    assert_eq!(h2["frame_errors"], 0, "{h2}");
}

#[test]
fn nghttp_concurrent_streams_on_one_connection() {
    require_root!();
    require_tool!("nghttp");
    let page = text_payload(20_000);
    let (_server, port) = nghttpd(&[("big.txt", page.as_bytes())]);
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let url = format!("http://127.0.0.1:{port}/big.txt");
    let (pid, _) = run(Command::new("nghttp").args(["-n", "-m", "5", &url]));
    let cap = monitor.stop();
    let got = of_pid(&cap, pid);
    assert_eq!(got.len(), 5, "{}", cap.http_dump());
    let conn = &got[0]["connection"]["id"];
    for t in &got {
        assert_h2(t, "GET", "/big.txt", 200, 0, 20_000);
        assert_eq!(&t["connection"]["id"], conn, "one connection: {t}");
    }
    assert!(stats_http2(&cap)["streams"].as_u64() >= Some(10));
}

#[test]
fn h2load_many_clients_and_streams_are_all_shown() {
    require_root!();
    require_tool!("h2load");
    let page = text_payload(1500);
    let (server, port) = nghttpd(&[("item.json", page.as_bytes())]);
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let url = format!("http://127.0.0.1:{port}/item.json");
    // 4 connections, up to 10 concurrent streams each: interleaved DATA and HEADERS frames.
    let (pid, out) = run(Command::new("h2load").args(["-n", "400", "-c", "4", "-m", "10", &url]));
    assert!(
        out.contains("400 succeeded"),
        "h2load did not finish every request: {out}"
    );
    let cap = monitor.stop();
    let got = of_pid(&cap, pid);
    assert_eq!(got.len(), 400, "h2load's side: {}", cap.http_dump());
    let mut connections = std::collections::HashSet::new();
    for t in &got {
        assert_h2(t, "GET", "/item.json", 200, 0, 1500);
        connections.insert(t["connection"]["id"].to_string());
    }
    assert_eq!(connections.len(), 4, "one connection per h2load client");
    let served = of_pid(&cap, server.pid());
    assert_eq!(served.len(), 400, "nghttpd's side: {}", cap.http_dump());
    let h2 = stats_http2(&cap);
    assert_eq!(h2["frame_errors"], 0, "{h2}");
}

#[test]
fn curl_over_tls_with_alpn_h2_against_nginx() {
    require_root!();
    require_tool!("nginx");
    let dir = scratch("h2tls");
    let (cert, key) = tests::tls::self_signed(&dir);
    let port = free_port();
    let page = text_payload(5000);
    let nginx = Nginx::start_with(
        &fixture("h2/nginx_tls.conf"),
        port,
        &[
            ("@CERT@", cert.display().to_string()),
            ("@KEY@", key.display().to_string()),
        ],
        &[("tls.txt", page.as_bytes())],
    );
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let url = format!("https://127.0.0.1:{port}/tls.txt");
    let (pid, version) = run(Command::new("curl")
        .args(["-sS", "--http2", "--cacert"])
        .arg(&cert)
        .args(["-o", "/dev/null", "-w", "%{http_version}", &url]));
    assert_eq!(version, "2", "curl did not negotiate h2");
    let cap = monitor.stop();
    let got = of_pid(&cap, pid);
    assert_eq!(got.len(), 1, "{}", cap.http_dump());
    assert_h2(&got[0], "GET", "/tls.txt", 200, 0, 5000);
    assert_eq!(got[0]["connection"]["tls"], true, "{}", got[0]);
    let served = of_pid(&cap, nginx.worker_pid());
    assert_eq!(served.len(), 1, "nginx's side: {}", cap.http_dump());
    assert_h2(&served[0], "GET", "/tls.txt", 200, 0, 5000);
}

#[test]
fn connection_opened_before_the_monitor_is_joined() {
    require_root!();
    require_tool!("nghttpd");
    let files: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("f{i}.txt"), text_payload(100 + 10 * i).into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let (_server, port) = nghttpd(&refs);
    let paths: Vec<String> = (0..5).map(|i| format!("/f{i}.txt")).collect();
    let mut client = Proc::spawn(
        Command::new("python3")
            .arg(fixture("h2/joined_client.py"))
            .arg(port.to_string())
            .args(&paths),
    );
    assert_eq!(client.line(), "ready");
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    client.send_line("go");
    assert_eq!(client.line(), "done");
    std::thread::sleep(Duration::from_millis(300));
    let cap = monitor.stop();
    client.send_line("bye");
    let got = of_pid(&cap, client.pid());
    assert_eq!(got.len(), 4, "{}", cap.http_dump());
    for (t, i) in got.iter().zip(1..) {
        assert_h2(t, "GET", &paths[i], 200, 0, 100 + 10 * i as u64);
        // x-joined came by index into a table entry made before the monitor started.
        let flags = t["flags"].as_array().unwrap();
        assert!(flags.iter().any(|f| f == "hpack_unknown"), "{t}");
        assert_eq!(t["request"]["headers"]["<unknown>"][0], "<unknown>", "{t}");
        assert!(t["request"]["headers"]["x-joined"].is_null(), "{t}");
    }
    assert_eq!(stats_http2(&cap)["connections_joined"], 1);
}
