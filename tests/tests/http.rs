//! Live HTTP/1 tests: real clients and servers on loopback, the monitor in its default mode, and
//! the exact `http` transactions each side must show (see the `http` event contract). Each test
//! filters on its own server's port, so concurrent tests and other traffic do not mix in.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::process::Command;

use serde_json::{Value, json};
use tests::{
    Monitor, Proc, comm_of, free_port,
    http::{assert_fields, binary_body, body_bytes, no_body, text_body},
    http_payload,
    nginx::Nginx,
    python_server, require_root, scratch, text_payload,
};

/// One process's side of a connection.
struct Side {
    pid: u32,
    comm: String,
    role: &'static str,
}

impl Side {
    fn client(pid: u32, comm: &str) -> Side {
        Side {
            pid,
            comm: comm.into(),
            role: "client",
        }
    }

    fn server(pid: u32) -> Side {
        Side {
            pid,
            comm: comm_of(pid),
            role: "server",
        }
    }
}

/// Asserts one transaction: who saw it and on which connection, that it is complete and clean,
/// and the fields of `exchange` (`request`, `response`).
fn assert_tx(tx: &Value, side: &Side, client_port: u16, server_port: u16, exchange: &Value) {
    let client = json!({"address": "127.0.0.1", "port": client_port});
    let server = json!({"address": "127.0.0.1", "port": server_port});
    let (local, peer) = match side.role {
        "client" => (&client, &server),
        _ => (&server, &client),
    };
    assert_fields(
        tx,
        &json!({
            "type": "http",
            "schema_version": 1,
            "process": {"pid": side.pid, "comm": side.comm},
            "connection": {"local": local, "peer": peer, "network_type": "ipv4",
                           "role": side.role, "attribution": "kernel", "tls": false},
            "server": server,
            "client": client,
            "outcome": "complete",
            "reason": null,
            "flags": [],
            "smuggling_risk": false,
        }),
    );
    assert_fields(tx, exchange);
    let (start, end) = (
        tx["ts_unix_ns"].as_u64().expect("ts_unix_ns"),
        tx["end_ts_unix_ns"].as_u64().expect("end_ts_unix_ns"),
    );
    assert!(start <= end, "ends before it starts: {tx}");
    assert!(tx["duration_ns"].is_u64(), "no latency: {tx}");
}

/// Asserts that the client and the server each show exactly `expected`, in order, on one
/// connection each, and that nothing else was written.
fn assert_both_sides(
    cap: &tests::Capture,
    client: &Side,
    server: &Side,
    client_port: u16,
    server_port: u16,
    expected: &[Value],
) -> (Vec<Value>, Vec<Value>) {
    let all = cap.http().len();
    assert_eq!(
        all,
        2 * expected.len(),
        "expected {} transactions from each side; all http events:\n{}",
        expected.len(),
        cap.http_dump()
    );
    let mut views = Vec::new();
    for side in [client, server] {
        let txs = cap.http_conn(side.pid, client_port);
        assert_eq!(
            txs.len(),
            expected.len(),
            "{} side (pid {}); all http events:\n{}",
            side.role,
            side.pid,
            cap.http_dump()
        );
        for (tx, exchange) in txs.iter().zip(expected) {
            assert_tx(tx, side, client_port, server_port, exchange);
        }
        views.push(txs);
    }
    let server_view = views.pop().unwrap_or_default();
    let client_view = views.pop().unwrap_or_default();
    (client_view, server_view)
}

/// Runs curl (which must succeed) over `segments` joined with `--next`; each segment's transfers
/// print their local port. Returns curl's pid and those ports.
fn curl(segments: &[&[&str]]) -> (u32, Vec<u16>) {
    let mut cmd = Command::new("curl");
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            cmd.arg("--next");
        }
        cmd.args(["-sS", "--fail", "-w", "%{local_port}\\n"])
            .args(*seg);
    }
    let p = Proc::spawn(&mut cmd);
    let pid = p.pid();
    let out = p.wait_success();
    let ports = out
        .lines()
        .map(|l| l.parse().unwrap_or_else(|_| panic!("curl printed {out:?}")))
        .collect();
    (pid, ports)
}

/// The one port all of curl's transfers used: they shared a connection.
fn one_port(ports: &[u16]) -> u16 {
    assert!(
        !ports.is_empty() && ports.iter().all(|p| *p == ports[0]),
        "curl's transfers did not share one connection: local ports {ports:?}"
    );
    ports[0]
}

fn get(target: &str, port: u16) -> Value {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Value::from(q)),
        None => (target, Value::Null),
    };
    json!({"method": "GET", "target": target, "path": path, "query": query, "version": "1.1",
           "headers": {"host": [format!("127.0.0.1:{port}")]}, "body": no_body()})
}

fn ok(headers: Value, body: Value) -> Value {
    json!({"status_code": 200, "reason": "OK", "version": "1.1", "headers": headers,
           "body": body, "interim": []})
}

#[test]
fn keepalive_requests_on_one_connection_from_both_sides() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let dir = scratch("keepalive");
    let sizes = [10, 2000, 30_000];
    let mut args = Vec::new();
    for n in sizes {
        args.push("-o".to_string());
        args.push(dir.join(format!("{n}.out")).display().to_string());
        args.push(format!("http://127.0.0.1:{port}/?size={n}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (curl_pid, ports) = curl(&[&args]);
    let client_port = one_port(&ports);
    let cap = monitor.stop();

    let expected: Vec<Value> = sizes
        .iter()
        .map(|n| {
            json!({
                "request": get(&format!("/?size={n}"), port),
                "response": ok(
                    json!({"content-length": [n.to_string()],
                           "content-type": ["application/octet-stream"]}),
                    binary_body(&http_payload(*n)),
                ),
            })
        })
        .collect();
    let (client, srv) = assert_both_sides(
        &cap,
        &Side::client(curl_pid, "curl"),
        &Side::server(server.pid()),
        client_port,
        port,
        &expected,
    );
    for view in [&client, &srv] {
        assert_eq!(
            body_bytes(&view[2]["response"]["body"]),
            http_payload(30_000)
        );
    }
    // Two sockets, one connection each: the ids differ between the sides.
    assert_ne!(client[0]["connection"]["id"], srv[0]["connection"]["id"]);
}

#[test]
fn pipelined_requests_pair_in_order_from_both_sides() {
    require_root!();
    let port = free_port();
    let files: [(&str, &[u8]); 3] = [("a", b"alpha\n"), ("b", b"bravo\n"), ("c", b"charlie\n")];
    let nginx = Nginx::start(port, &files);
    let worker = nginx.worker_pid();
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let client_port = free_port();
    let mut nc = Proc::spawn(Command::new("nc").args([
        "-w",
        "5",
        "-p",
        &client_port.to_string(),
        "127.0.0.1",
        &port.to_string(),
    ]));
    let nc_pid = nc.pid();
    std::io::Write::write_all(
        nc.stdin(),
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    drop(nc.child.stdin.take());
    let replies = nc.wait_success();
    assert_eq!(
        replies.matches("HTTP/1.1 200 OK\r\n").count(),
        3,
        "{replies}"
    );
    let cap = monitor.stop();

    let expected: Vec<Value> = files
        .iter()
        .map(|(name, content)| {
            let content = std::str::from_utf8(content).unwrap();
            let mut request = json!({"method": "GET", "target": format!("/{name}"),
                "path": format!("/{name}"), "query": null, "version": "1.1",
                "headers": {"host": ["x"]}, "body": no_body()});
            let mut headers = json!({"content-length": [content.len().to_string()],
                                     "content-type": ["application/octet-stream"]});
            if *name == "c" {
                request["headers"]["connection"] = json!(["close"]);
                headers["connection"] = json!(["close"]);
            }
            // An octet-stream body is shown as base64, even when its bytes are text.
            json!({"request": request, "response": ok(headers, binary_body(content.as_bytes()))})
        })
        .collect();
    assert_both_sides(
        &cap,
        &Side::client(nc_pid, "nc"),
        &Side::server(worker),
        client_port,
        port,
        &expected,
    );
}

#[test]
fn chunked_responses_are_dechunked() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let dir = scratch("chunked");
    // Several chunks, an empty body (only the last chunk), chunks smaller than a line.
    let cases = [(5000, 1000), (0, 1000), (777, 100)];
    let mut args = Vec::new();
    for (i, (size, chunk)) in cases.iter().enumerate() {
        args.push("-o".to_string());
        args.push(dir.join(format!("{i}.out")).display().to_string());
        args.push(format!(
            "http://127.0.0.1:{port}/chunked?size={size}&chunk={chunk}"
        ));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (curl_pid, ports) = curl(&[&args]);
    let client_port = one_port(&ports);
    for (i, (size, _)) in cases.iter().enumerate() {
        let got = std::fs::read_to_string(dir.join(format!("{i}.out"))).unwrap();
        assert_eq!(got, text_payload(*size), "what curl received");
    }
    let cap = monitor.stop();

    let expected: Vec<Value> = cases
        .iter()
        .map(|(size, chunk)| {
            let body = match size {
                0 => no_body(),
                _ => text_body(&text_payload(*size)),
            };
            json!({
                "request": get(&format!("/chunked?size={size}&chunk={chunk}"), port),
                "response": ok(json!({"transfer-encoding": ["chunked"],
                                      "content-type": ["text/plain"]}), body),
            })
        })
        .collect();
    let (client, srv) = assert_both_sides(
        &cap,
        &Side::client(curl_pid, "curl"),
        &Side::server(server.pid()),
        client_port,
        port,
        &expected,
    );
    for tx in client.iter().chain(&srv) {
        assert!(
            tx["response"]["headers"].get("content-length").is_none(),
            "{tx}"
        );
    }
}

#[test]
fn head_response_has_no_body_and_the_next_request_still_parses() {
    require_root!();
    let port = free_port();
    let content = "hello, world\n";
    let nginx = Nginx::start(port, &[("hello.txt", content.as_bytes())]);
    let worker = nginx.worker_pid();
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let url = format!("http://127.0.0.1:{port}/hello.txt");
    let dir = scratch("head");
    let out = dir.join("get.out");
    let (curl_pid, ports) = curl(&[
        &["-I", "-o", "/dev/null", &url],
        &["-o", out.to_str().unwrap(), &url],
    ]);
    let client_port = one_port(&ports);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), content);
    let cap = monitor.stop();

    let headers = json!({"content-length": [content.len().to_string()],
                         "content-type": ["text/plain"]});
    let mut head = get("/hello.txt", port);
    head["method"] = json!("HEAD");
    let expected = [
        json!({"request": head, "response": ok(headers.clone(), no_body())}),
        json!({"request": get("/hello.txt", port), "response": ok(headers, text_body(content))}),
    ];
    assert_both_sides(
        &cap,
        &Side::client(curl_pid, "curl"),
        &Side::server(worker),
        client_port,
        port,
        &expected,
    );
}

#[test]
fn expect_100_continue_shows_the_interim_response() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let dir = scratch("continue");
    let upload = dir.join("upload.txt");
    let sent = text_payload(3000);
    std::fs::write(&upload, &sent).unwrap();
    let out = dir.join("reply.out");
    let data = format!("@{}", upload.display());
    let (curl_pid, ports) = curl(&[&[
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        &data,
        "-o",
        out.to_str().unwrap(),
        &format!("http://127.0.0.1:{port}/"),
    ]]);
    let client_port = one_port(&ports);
    // The fixture answers "<length> <sha256>\n" of what it received.
    let reply = std::fs::read_to_string(&out).unwrap();
    assert!(reply.starts_with("3000 "), "{reply}");
    let cap = monitor.stop();

    let expected = [json!({
        "request": {"method": "POST", "target": "/", "path": "/", "query": null,
                    "version": "1.1",
                    "headers": {"host": [format!("127.0.0.1:{port}")],
                                "expect": ["100-continue"],
                                "content-length": ["3000"],
                                "content-type": ["application/x-www-form-urlencoded"]},
                    "body": text_body(&sent)},
        "response": {"status_code": 200, "reason": "OK", "version": "1.1",
                     "headers": {"content-length": [reply.len().to_string()],
                                 "content-type": ["application/octet-stream"]},
                     "body": binary_body(reply.as_bytes()), "interim": [100]},
    })];
    assert_both_sides(
        &cap,
        &Side::client(curl_pid, "curl"),
        &Side::server(server.pid()),
        client_port,
        port,
        &expected,
    );
}

/// The value of header `name` in a curl `-D -` dump.
fn header_value(dump: &str, name: &str) -> String {
    dump.lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in {dump}"))
}

#[test]
fn not_modified_has_no_body_and_keeps_the_connection_parsed() {
    require_root!();
    let port = free_port();
    let content = "a page that does not change\n";
    let nginx = Nginx::start(port, &[("page.txt", content.as_bytes())]);
    let worker = nginx.worker_pid();
    let url = format!("http://127.0.0.1:{port}/page.txt");
    // Learn the ETag before the monitor starts.
    let dump = Proc::spawn(Command::new("curl").args([
        "-sS",
        "--fail",
        "-D",
        "-",
        "-o",
        "/dev/null",
        &url,
    ]))
    .wait_success();
    let etag = header_value(&dump, "etag");
    let if_none_match = format!("If-None-Match: {etag}");

    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let (curl_pid, ports) = curl(&[
        &["-o", "/dev/null", &url],
        &["-H", &if_none_match, "-o", "/dev/null", &url],
        &["-o", "/dev/null", &url],
    ]);
    let client_port = one_port(&ports);
    let cap = monitor.stop();

    let full = json!({
        "request": get("/page.txt", port),
        "response": ok(json!({"etag": [etag], "content-length": [content.len().to_string()]}),
                       text_body(content)),
    });
    let mut conditional = get("/page.txt", port);
    conditional["headers"]["if-none-match"] = json!([etag]);
    let not_modified = json!({
        "request": conditional,
        "response": {"status_code": 304, "reason": "Not Modified", "version": "1.1",
                     "headers": {"etag": [etag]}, "body": no_body(), "interim": []},
    });
    assert_both_sides(
        &cap,
        &Side::client(curl_pid, "curl"),
        &Side::server(worker),
        client_port,
        port,
        &[full.clone(), not_modified, full],
    );
}

#[test]
fn gzip_response_is_decoded() {
    require_root!();
    let port = free_port();
    let original = text_payload(20_000);
    let nginx = Nginx::start(port, &[("big.txt", original.as_bytes())]);
    let worker = nginx.worker_pid();
    let url = format!("http://127.0.0.1:{port}/big.txt");
    // The compressed bytes nginx sends, fetched before the monitor starts (nginx compresses the
    // same file the same way every time).
    let dir = scratch("gzip");
    let raw = dir.join("raw.gz");
    Proc::spawn(Command::new("curl").args([
        "-sS",
        "--fail",
        "-H",
        "Accept-Encoding: gzip",
        "-o",
        raw.to_str().unwrap(),
        &url,
    ]))
    .wait_success();
    let compressed = std::fs::read(&raw).unwrap();
    assert!(compressed.starts_with(&[0x1f, 0x8b]), "nginx did not gzip");
    assert!(compressed.len() < original.len() / 10);

    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    let out = dir.join("big.out");
    let (curl_pid, ports) = curl(&[&["--compressed", "-o", out.to_str().unwrap(), &url]]);
    let client_port = one_port(&ports);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), original);
    let cap = monitor.stop();

    let expected = [json!({
        "request": get("/big.txt", port),
        "response": ok(
            json!({"content-encoding": ["gzip"], "transfer-encoding": ["chunked"],
                   "content-type": ["text/plain"]}),
            json!({"size": compressed.len(), "captured": compressed.len(), "truncated": false,
                   "complete": true, "content_encoding": "gzip", "decoded": true,
                   "encoding": "text", "content": original}),
        ),
    })];
    let (client, srv) = assert_both_sides(
        &cap,
        &Side::client(curl_pid, "curl"),
        &Side::server(worker),
        client_port,
        port,
        &expected,
    );
    for tx in [&client[0], &srv[0]] {
        let accept = &tx["request"]["headers"]["accept-encoding"];
        assert!(
            accept[0].as_str().is_some_and(|v| v.contains("gzip")),
            "accept-encoding {accept}"
        );
    }
}

// Secret values chosen so that they cannot occur by chance in hex ids, ETags or timestamps.
const TOKEN: &str = "s3cret";
const COOKIE: &str = "abc-7Qk";
const API_KEY: &str = "XYZ";

/// The `<redacted:...>` fingerprint in `value`.
fn fingerprint(value: &Value) -> String {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not text: {value}"));
    let start = s
        .find("<redacted:")
        .unwrap_or_else(|| panic!("no fingerprint in {s:?}"));
    let len = s[start..].find('>').expect("fingerprint end") + 1;
    s[start..start + len].to_string()
}

/// The fingerprints of the token, the cookie and the api key in one request.
fn fingerprints(tx: &Value) -> [String; 3] {
    let q = &tx["request"];
    assert_eq!(
        q["target"],
        format!("/hello.txt?{}", q["query"].as_str().unwrap())
    );
    assert_eq!(fingerprint(&q["target"]), fingerprint(&q["query"]));
    [
        fingerprint(&q["headers"]["authorization"][0]),
        fingerprint(&q["headers"]["cookie"][0]),
        fingerprint(&q["query"]),
    ]
}

#[test]
fn secrets_are_redacted_by_default_with_stable_fingerprints() {
    require_root!();
    let port = free_port();
    let nginx = Nginx::start(port, &[("hello.txt", b"hello\n")]);
    let worker = nginx.worker_pid();
    let secret_url = format!("http://127.0.0.1:{port}/hello.txt?api_key={API_KEY}");
    let other_url = format!("http://127.0.0.1:{port}/hello.txt?api_key=0ther");
    let auth = format!("Authorization: Bearer {TOKEN}");
    let cookie = format!("Cookie: sid={COOKIE}");

    let monitor = Monitor::start_http(&["--port", &port.to_string()]);
    // Twice the same secrets, then different ones, on one connection.
    let (curl_pid, ports) = curl(&[
        &[
            "-H",
            &auth,
            "-H",
            &cookie,
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            &secret_url,
            &secret_url,
        ],
        &[
            "-H",
            "Authorization: Bearer 0ther",
            "-H",
            "Cookie: sid=0ther",
            "-o",
            "/dev/null",
            &other_url,
        ],
    ]);
    let client_port = one_port(&ports);
    let cap = monitor.stop();

    for secret in [TOKEN, COOKIE, API_KEY] {
        assert!(
            !cap.text.contains(secret),
            "the output contains {secret:?}:\n{}",
            cap.text
        );
    }
    let expected = vec![json!({"response": {"status_code": 200, "body": text_body("hello\n")}}); 3];
    let (client, srv) = assert_both_sides(
        &cap,
        &Side::client(curl_pid, "curl"),
        &Side::server(worker),
        client_port,
        port,
        &expected,
    );
    for view in [&client, &srv] {
        for tx in view {
            let q = &tx["request"];
            assert_eq!(q["path"], "/hello.txt");
            assert!(q["query"].as_str().unwrap().starts_with("api_key="), "{q}");
            assert!(
                q["headers"]["authorization"][0]
                    .as_str()
                    .unwrap()
                    .contains("<redacted:"),
                "{q}"
            );
        }
        let [first, second, other] = [0, 1, 2].map(|i| fingerprints(&view[i]));
        assert_eq!(first, second, "equal secrets, different fingerprints");
        for i in 0..3 {
            assert_ne!(first[i], other[i], "different secrets, equal fingerprints");
        }
    }
    // Both sides saw the same secrets.
    assert_eq!(fingerprints(&client[0]), fingerprints(&srv[0]));
}

#[test]
fn no_redact_shows_the_secrets() {
    require_root!();
    let port = free_port();
    let nginx = Nginx::start(port, &[("hello.txt", b"hello\n")]);
    let worker = nginx.worker_pid();
    let monitor = Monitor::start_http(&["--port", &port.to_string(), "--no-redact"]);
    let (curl_pid, ports) = curl(&[&[
        "-H",
        &format!("Authorization: Bearer {TOKEN}"),
        "-H",
        &format!("Cookie: sid={COOKIE}"),
        "-o",
        "/dev/null",
        &format!("http://127.0.0.1:{port}/hello.txt?api_key={API_KEY}"),
    ]]);
    let client_port = one_port(&ports);
    let cap = monitor.stop();

    let mut request = get(&format!("/hello.txt?api_key={API_KEY}"), port);
    request["headers"]["authorization"] = json!([format!("Bearer {TOKEN}")]);
    request["headers"]["cookie"] = json!([format!("sid={COOKIE}")]);
    let expected = [json!({"request": request,
                           "response": {"status_code": 200, "body": text_body("hello\n")}})];
    assert_both_sides(
        &cap,
        &Side::client(curl_pid, "curl"),
        &Side::server(worker),
        client_port,
        port,
        &expected,
    );
    assert!(!cap.text.contains("<redacted:"), "{}", cap.http_dump());
}
