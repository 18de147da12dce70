//! Live capture tests: real kernel programs, real clients and servers on loopback. Each test
//! filters on its own server's port so concurrent tests and other traffic do not mix in.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{collections::HashMap, process::Command};

use tests::{
    Conn, Monitor, Proc, count, find, fixture, free_port, http_payload, nginx::Nginx,
    python_server, require_root, scratch,
};

/// The single connection of `pid`, and the server-side connection whose peer is its local end.
fn pair(conns: &HashMap<String, Conn>, client_pid: u32, server_pid: u32) -> (Conn, Conn) {
    let mine: Vec<&Conn> = conns
        .values()
        .filter(|c| c.pid == client_pid as u64)
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "expected one connection of pid {client_pid}; all: {:#?}",
        conns
            .values()
            .map(|c| format!(
                "{} pid={} {} {}->{} {} {} eg={} in={} gaps={:?}/{:?}",
                c.id,
                c.pid,
                c.comm,
                c.local,
                c.peer,
                c.role,
                c.attribution,
                c.egress.bytes.len(),
                c.ingress.bytes.len(),
                c.egress.gaps,
                c.ingress.gaps
            ))
            .collect::<Vec<_>>()
    );
    let client = mine[0].clone();
    let server = conns
        .values()
        .find(|c| c.pid == server_pid as u64 && c.peer == client.local)
        .unwrap_or_else(|| panic!("no server-side connection with peer {}", client.local))
        .clone();
    (client, server)
}

fn assert_mirrored(client: &Conn, server: &Conn) {
    for (side, s) in [
        ("client egress", &client.egress),
        ("client ingress", &client.ingress),
        ("server egress", &server.egress),
        ("server ingress", &server.ingress),
    ] {
        assert_eq!(s.gap_bytes, 0, "{side} gaps {:?}", s.gaps);
    }
    assert!(
        client.egress.bytes == server.ingress.bytes,
        "request bytes differ between the two sides"
    );
    assert!(
        client.ingress.bytes == server.egress.bytes,
        "response bytes differ between the two sides"
    );
    assert_eq!(client.role, "client");
    assert_eq!(server.role, "server");
    assert_eq!(client.local, server.peer);
    assert_eq!(client.peer, server.local);
}

fn curl(args: &[&str]) -> Proc {
    Proc::spawn(Command::new("curl").args(["-s", "-S", "--fail"]).args(args))
}

fn sha256_hex(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_string()
}

#[test]
fn curl_get_and_1mib_post_to_python_are_captured_byte_for_byte() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let monitor = Monitor::start(&["--port", &port.to_string()]);
    let dir = scratch("curl");

    let get_out = dir.join("get.out");
    let get = curl(&[
        "-o",
        get_out.to_str().unwrap(),
        &format!("http://127.0.0.1:{port}/?size=200000"),
    ]);
    let get_pid = get.pid();
    get.wait_success();

    let body: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let body_file = dir.join("body.bin");
    std::fs::write(&body_file, &body).unwrap();
    let post_out = dir.join("post.out");
    let post = curl(&[
        "-o",
        post_out.to_str().unwrap(),
        "-H",
        "Expect:",
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        &format!("@{}", body_file.display()),
        &format!("http://127.0.0.1:{port}/upload"),
    ]);
    let post_pid = post.pid();
    post.wait_success();
    let cap = monitor.stop();
    let conns = cap.conns();

    // GET: both directions, both sides, byte for byte.
    let (client, srv) = pair(&conns, get_pid, server.pid());
    assert_mirrored(&client, &srv);
    assert_eq!(client.comm, "curl");
    assert_eq!(client.peer, format!("127.0.0.1:{port}"));
    assert!(client.local.starts_with("127.0.0.1:"));
    assert_eq!(srv.local, format!("127.0.0.1:{port}"));
    assert!(
        client
            .egress
            .bytes
            .starts_with(b"GET /?size=200000 HTTP/1.1\r\n")
    );
    assert!(client.egress.bytes.ends_with(b"\r\n\r\n"));
    let served = std::fs::read(&get_out).unwrap();
    assert_eq!(served, http_payload(200_000));
    assert!(
        client.ingress.bytes.starts_with(b"HTTP/1.0 200 OK\r\n")
            || client.ingress.bytes.starts_with(b"HTTP/1.1 200 OK\r\n")
    );
    assert!(
        client.ingress.bytes.ends_with(&served),
        "response body differs from what curl saved"
    );
    assert_eq!(client.ingress.pids, vec![get_pid as u64]);
    assert_eq!(srv.ingress.pids, vec![server.pid() as u64]);

    // POST: the 1 MiB body exactly once, after the headers; the server's digest of what it read.
    let (client, srv) = pair(&conns, post_pid, server.pid());
    assert_mirrored(&client, &srv);
    let head_end = find(&client.egress.bytes, b"\r\n\r\n").expect("request headers") + 4;
    assert!(
        client
            .egress
            .bytes
            .starts_with(b"POST /upload HTTP/1.1\r\n")
    );
    assert_eq!(client.egress.bytes.len(), head_end + body.len());
    assert!(
        client.egress.bytes[head_end..] == body[..],
        "captured POST body differs"
    );
    let answer = std::fs::read_to_string(&post_out).unwrap();
    assert_eq!(answer, format!("1048576 {}\n", sha256_hex(&body_file)));
    assert!(client.ingress.bytes.ends_with(answer.as_bytes()));
    assert_eq!(cap.kernel("ringbuf_full_events"), 0);
}

#[test]
fn ipv6_null_accept_server_and_a_connection_opened_before_the_monitor() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "::1", "--null-accept"]);
    // A keep-alive connection that exists before the monitor starts.
    let mut early = Proc::spawn(
        Command::new("python3")
            .arg(fixture("keepalive_client.py"))
            .args(["::1", &port.to_string(), "50000"]),
    );
    let ready = early.line();
    let early_port: u16 = ready
        .strip_prefix("ready ")
        .expect("ready line")
        .parse()
        .unwrap();

    let monitor = Monitor::start(&["--port", &port.to_string()]);
    let dir = scratch("v6");
    let out = dir.join("get.out");
    let get = curl(&[
        "-g",
        "-o",
        out.to_str().unwrap(),
        &format!("http://[::1]:{port}/?size=3000"),
    ]);
    let get_pid = get.pid();
    get.wait_success();
    early.send_line("go");
    assert_eq!(early.line(), "done 50000");
    let early_pid = early.pid();
    early.wait_success();
    let cap = monitor.stop();
    let conns = cap.conns();

    // New IPv6 connection, accepted with a NULL address: attributed by the kernel programs.
    let (client, srv) = pair(&conns, get_pid, server.pid());
    assert_mirrored(&client, &srv);
    assert_eq!(client.peer, format!("[::1]:{port}"));
    assert_eq!(srv.local, format!("[::1]:{port}"));
    assert_eq!(
        (client.attribution.as_str(), srv.attribution.as_str()),
        ("kernel", "kernel")
    );
    assert!(client.ingress.bytes.ends_with(&http_payload(3000)));

    // The older connection: seen from its second request on, attributed through /proc. The
    // server was most likely already blocked in recv when the monitor attached: that call's bytes
    // cannot be copied, and must show as a gap with that cause rather than vanish.
    let (client, mut srv) = pair(&conns, early_pid, server.pid());
    let in_flight = srv.ingress.gaps.remove("in_flight_at_start").unwrap_or(0);
    assert!(
        srv.ingress.gaps.is_empty(),
        "server ingress gaps {:?}",
        srv.ingress.gaps
    );
    assert_eq!(
        srv.ingress.bytes.len() as u64 + in_flight,
        client.egress.bytes.len() as u64
    );
    assert!(client.egress.bytes.ends_with(&srv.ingress.bytes));
    srv.ingress.bytes = client.egress.bytes.clone();
    srv.ingress.gap_bytes = 0;
    assert_mirrored(&client, &srv);
    assert_eq!(client.local, format!("[::1]:{early_port}"));
    assert_eq!(client.peer, format!("[::1]:{port}"));
    // Addresses from /proc, or from the kernel's receive path (tcp_rcv_space_adjust); the role
    // from whether the process listens on the local port.
    for c in [&client, &srv] {
        assert!(
            ["proc", "kernel"].contains(&c.attribution.as_str()),
            "{c:?}"
        );
    }
    assert!(
        client
            .egress
            .bytes
            .starts_with(b"GET /?size=50000 HTTP/1.1\r\n")
    );
    assert!(client.ingress.bytes.ends_with(&http_payload(50_000)));
    assert_eq!(
        count(&client.egress.bytes, b"GET /"),
        1,
        "the first request predates the monitor"
    );
}

#[test]
fn two_hundred_keepalive_connections_every_request_seen_exactly_once() {
    require_root!();
    let port = free_port();
    let _nginx = Nginx::start(port, &[]);
    let monitor = Monitor::start(&["--port", &port.to_string()]);
    let out = Command::new("hey")
        .args(["-n", "10000", "-c", "200", "-disable-compression"])
        .arg(format!("http://127.0.0.1:{port}/pong"))
        .output()
        .expect("hey");
    assert!(out.status.success());
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("[200]\t10000 responses"),
        "hey report:\n{report}"
    );
    let cap = monitor.stop();
    let conns = cap.conns();

    let (mut requests_out, mut requests_in, mut responses_out, mut responses_in) = (0, 0, 0, 0);
    let mut clients = 0;
    for c in conns.values() {
        for s in [&c.egress, &c.ingress] {
            assert_eq!(s.gap_bytes, 0, "gaps in {}: {:?}", c.id, s.gaps);
        }
        if c.comm == "hey" {
            clients += 1;
            assert_eq!(c.role, "client");
            requests_out += count(&c.egress.bytes, b"GET /pong HTTP/1.1\r\n");
            responses_in += count(&c.ingress.bytes, b"HTTP/1.1 200 OK\r\n");
        } else if c.comm == "nginx" {
            assert_eq!(c.role, "server");
            requests_in += count(&c.ingress.bytes, b"GET /pong HTTP/1.1\r\n");
            responses_out += count(&c.egress.bytes, b"HTTP/1.1 200 OK\r\n");
        }
    }
    eprintln!("hey used {clients} connections");
    assert!(clients >= 200, "hey used {clients} connections");
    assert_eq!(requests_out, 10_000, "requests seen leaving hey");
    assert_eq!(requests_in, 10_000, "requests seen reaching nginx");
    assert_eq!(responses_out, 10_000, "responses seen leaving nginx");
    assert_eq!(responses_in, 10_000, "responses seen reaching hey");
    for counter in [
        "ringbuf_full_events",
        "ringbuf_full_bytes",
        "read_failed_bytes",
        "truncated_bytes",
        "conn_table_full",
        "inflight_table_full",
    ] {
        assert_eq!(cap.kernel(counter), 0, "kernel counter {counter}");
    }
    let streams = &cap.last_stats()["streams"];
    assert_eq!(streams["conns_evicted"], 0);
    assert_eq!(cap.last_stats()["agent"]["decode_errors"], 0);
}

#[test]
fn with_a_tiny_ring_buffer_the_loss_counters_account_for_every_missing_byte() {
    require_root!();
    const CONNS: u64 = 5;
    const SEND: u64 = 300_000;
    const REPLY: u64 = 200_000;
    let (server, port) = python_server("bulk.py", &["server", "127.0.0.1", &REPLY.to_string()]);
    let monitor = Monitor::start(&["--port", &port.to_string(), "--ring-buffer-size", "8K"]);
    let client = Proc::spawn(Command::new("python3").arg(fixture("bulk.py")).args([
        "client",
        "127.0.0.1",
        &port.to_string(),
        &CONNS.to_string(),
        &SEND.to_string(),
    ]));
    let client_pid = client.pid();
    let report = client.wait_success();
    assert_eq!(
        report.trim(),
        format!("sent {} received {}", CONNS * SEND, CONNS * REPLY)
    );
    let cap = monitor.stop();

    // Every byte moved, on both sides: what the processes really sent and received.
    let truth = 2 * CONNS * (SEND + REPLY);
    let mut captured = 0u64;
    let mut lost_gaps = 0u64;
    for c in cap.conns().values() {
        assert!(c.pid == client_pid as u64 || c.pid == server.pid() as u64);
        for s in [&c.egress, &c.ingress] {
            captured += s.bytes.len() as u64;
            lost_gaps += s.gaps.get("lost").copied().unwrap_or(0);
        }
    }
    let missing = truth - captured;
    let counted = cap.kernel("ringbuf_full_bytes") + cap.kernel("read_failed_bytes");
    eprintln!(
        "truth {truth} captured {captured} missing {missing} counted {counted} lost-gaps {lost_gaps}"
    );
    assert!(
        missing > 0,
        "an 8 KiB ring buffer should not hold this load"
    );
    assert_eq!(
        missing, counted,
        "missing bytes must equal the kernel's loss counters"
    );
    assert!(lost_gaps <= missing);
    assert!(cap.kernel("ringbuf_full_events") > 0);
    // No stream is longer than what its side moved.
    for c in cap.conns().values() {
        assert!(c.egress.bytes.len() as u64 + c.egress.gap_bytes <= SEND.max(REPLY));
    }
}

/// The cgroup v2 mount (/sys/fs/cgroup or /sys/fs/cgroup/unified on hybrid hosts).
fn cgroup2_root() -> std::path::PathBuf {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2] == "cgroup2")
        .map(|f| std::path::PathBuf::from(f[1]))
        .expect("no cgroup2 mount")
}

#[test]
fn file_and_pipe_io_produce_no_events() {
    require_root!();
    let (_server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let cgroup = cgroup2_root().join(format!("monitor-test-{}", std::process::id()));
    std::fs::create_dir_all(&cgroup).unwrap();
    let monitor = Monitor::start(&["--cgroup", cgroup.to_str().unwrap()]);
    let dir = scratch("files");
    let script = format!(
        "echo $$ > {cg}/cgroup.procs && head -c 64M /dev/urandom > {d}/big && cat {d}/big > /dev/null \
         && yes | head -c 100M > /dev/null && curl -s -o /dev/null http://127.0.0.1:{port}/?size=1000",
        cg = cgroup.display(),
        d = dir.display()
    );
    let st = Command::new("sh").arg("-c").arg(&script).status().unwrap();
    assert!(st.success());
    let cap = monitor.stop();
    let _ = std::fs::remove_dir(&cgroup);

    let comms: Vec<String> = cap
        .of_type("data")
        .map(|e| e["process"]["comm"].as_str().unwrap_or("").to_string())
        .collect();
    // The curl request in the same cgroup proves the filter matched these processes.
    assert!(
        comms.iter().any(|c| c == "curl"),
        "the curl request was not captured"
    );
    assert!(
        comms.iter().all(|c| c == "curl"),
        "non-socket I/O was captured: {comms:?}"
    );
    let curl_bytes: u64 = cap
        .of_type("data")
        .map(|e| e["len"].as_u64().unwrap())
        .sum();
    assert_eq!(
        cap.kernel("bytes_emitted"),
        curl_bytes,
        "the kernel emitted bytes besides curl's"
    );
}

#[test]
fn pid_filter_keeps_only_the_named_process() {
    require_root!();
    let (server, port) = python_server("http_server.py", &["--host", "127.0.0.1"]);
    let monitor = Monitor::start(&["--pid", &server.pid().to_string()]);
    let get = curl(&[
        "-o",
        "/dev/null",
        &format!("http://127.0.0.1:{port}/?size=5000"),
    ]);
    let curl_pid = get.pid();
    get.wait_success();
    let cap = monitor.stop();
    let conns = cap.conns();
    assert!(!conns.is_empty(), "the server's side was not captured");
    for c in conns.values() {
        assert_eq!(
            c.pid,
            server.pid() as u64,
            "captured another process: {c:?}"
        );
        assert_ne!(c.pid, curl_pid as u64);
    }
    let srv = conns.values().next().unwrap();
    assert_eq!(srv.role, "server");
    assert!(srv.egress.bytes.ends_with(&http_payload(5000)));
}
