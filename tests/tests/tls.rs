//! Live TLS tests (issue 4): real HTTPS clients — curl (shared OpenSSL), wget (GnuTLS),
//! python (ssl module; OpenSSL 1.1 and BoringSSL through ctypes), node (OpenSSL linked in), Go
//! (crypto/tls) — make a GET and a 256 KiB POST to nginx over TLS, and the monitor must show both
//! ends of each in plaintext, with the library, the process and the connection's 5-tuple;
//! `monitor status` must say which processes are covered and which are not, and why. Clients
//! print `ready` and wait until the status shows them hooked before they send anything (static
//! binaries are hooked after they start).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use serde_json::{Value, json};
use tests::{
    Capture, Monitor, comm_of,
    http::{body_bytes, check_fields, text_body},
    is_root, require_root, scratch, text_payload,
    tls::{
        POST_BYTES, Site,
        client::{self, Answer, Scripted},
        output_within,
        status::{self, is_hooked, libraries, uncovered_traffic},
    },
};

/// A process whose transactions the monitor must show, and with which TLS library.
struct Who {
    pid: u32,
    comm: String,
    library: &'static str,
}

impl Who {
    fn new(pid: u32, comm: &str, library: &'static str) -> Who {
        Who {
            pid,
            comm: comm.into(),
            library,
        }
    }
}

/// `monitor run` on the site's port, keeping its status in a file of its own.
fn start_monitor(site: &Site) -> (Monitor, PathBuf) {
    let file = scratch("status").join("status.json");
    let monitor = Monitor::start_http(&[
        "--port",
        &site.port.to_string(),
        "--status-file",
        file.to_str().expect("utf-8 path"),
    ]);
    (monitor, file)
}

/// The `http` lines of these processes and the final stats' `tls`, for failure messages.
fn dump(cap: &Capture, pids: &[u32]) -> String {
    let mut lines: Vec<String> = cap
        .http()
        .into_iter()
        .filter(|t| pids.iter().any(|p| t["process"]["pid"] == *p))
        .map(Value::to_string)
        .collect();
    if lines.is_empty() {
        lines.push(format!(
            "(no http lines of pids {pids:?}; {} http lines in all)",
            cap.http().len()
        ));
    }
    if let Some(stats) = cap.of_type("stats").last() {
        lines.push(format!("final stats.tls: {}", stats["tls"]));
        lines.push(format!("final stats.kernel: {}", stats["kernel"]));
    }
    lines.join("\n")
}

/// Checks the one transaction `who` shows for `uri`, from the `role` side.
fn check_side(
    cap: &Capture,
    site: &Site,
    who: &Who,
    role: &str,
    method: &str,
    uri: &str,
) -> Result<(), String> {
    let txs: Vec<&Value> = cap
        .http()
        .into_iter()
        .filter(|t| t["process"]["pid"] == who.pid && t["request"]["path"] == uri)
        .collect();
    let [tx] = txs[..] else {
        return Err(format!(
            "{role} {} (pid {}): {} transactions for {method} {uri}, expected 1",
            who.comm,
            who.pid,
            txs.len()
        ));
    };
    let client_port = site.access(uri).client_port;
    let client = json!({"address": "127.0.0.1", "port": client_port});
    let server = json!({"address": "127.0.0.1", "port": site.port});
    let (local, peer) = match role {
        "client" => (&client, &server),
        _ => (&server, &client),
    };
    let request_body = match method {
        "POST" => json!({"size": POST_BYTES, "complete": true}),
        _ => json!({"size": 0}),
    };
    let expected = json!({
        "type": "http",
        "process": {"pid": who.pid, "comm": who.comm},
        "connection": {"local": local, "peer": peer, "role": role,
                       "tls": true, "tls_library": who.library},
        "server": server,
        "client": client,
        "request": {"method": method, "target": uri, "path": uri, "body": request_body},
        "response": {"status_code": 200, "body": text_body(&Site::answer(method, uri))},
        "outcome": "complete",
    });
    let at = format!("{role} {} (pid {}) {method} {uri}", who.comm, who.pid);
    check_fields(tx, &expected).map_err(|e| format!("{at}: {e}"))?;
    if method == "POST" {
        // The body's captured prefix is the bytes sent, in plaintext (shown as base64: the
        // clients send it as application/octet-stream).
        let body = &tx["request"]["body"];
        let captured = body["captured"].as_u64().unwrap_or(0) as usize;
        check_fields(body, &json!({"truncated": captured < POST_BYTES}))
            .map_err(|e| format!("{at} request body: {e}"))?;
        let payload = text_payload(POST_BYTES);
        let bytes = body_bytes(body);
        if captured == 0 || bytes.len() != captured || !payload.as_bytes().starts_with(&bytes) {
            return Err(format!(
                "{at}: the request body's {} captured bytes (captured: {captured}) are not the \
                 start of the {POST_BYTES} bytes sent",
                bytes.len()
            ));
        }
    }
    Ok(())
}

/// Asserts each request (`who`, method, URI) from the client's side and from nginx's, and the
/// `problems` found before; every failure is listed with the relevant JSON lines.
fn assert_seen(cap: &Capture, site: &Site, requests: &[(&Who, &str, &str)], problems: Vec<String>) {
    let worker = site.nginx.worker_pid();
    let nginx = Who::new(worker, &comm_of(worker), "openssl");
    let mut problems = problems;
    for (who, method, uri) in requests {
        let access = site.access(uri);
        assert_eq!(
            (access.method.as_str(), access.status),
            (*method, 200),
            "nginx log for {uri}"
        );
        for (side, role) in [(*who, "client"), (&nginx, "server")] {
            if let Err(e) = check_side(cap, site, side, role, method, uri) {
                problems.push(e);
            }
        }
    }
    let mut pids: Vec<u32> = requests.iter().map(|(w, _, _)| w.pid).collect();
    pids.push(worker);
    assert!(
        problems.is_empty(),
        "{}\n--- http lines of pids {pids:?} and final stats:\n{}",
        problems.join("\n"),
        dump(cap, &pids)
    );
}

/// The client's own view of its requests agrees with nginx's log: both 200, same local port.
fn assert_answers(site: &Site, answers: &[Answer], name: &str) {
    let expected: Vec<Answer> = [("GET", "get"), ("POST", "post")]
        .iter()
        .map(|(method, path)| Answer {
            method: method.to_string(),
            status: 200,
            local_port: site.access(&format!("/{path}/{name}")).client_port,
        })
        .collect();
    assert_eq!(answers, expected, "{name}'s requests");
}

fn get_and_post(name: &str) -> Vec<(String, String)> {
    vec![
        ("GET".into(), format!("/get/{name}")),
        ("POST".into(), format!("/post/{name}")),
    ]
}

/// A scripted client's whole run: wait until the status shows it hooked for `library` (a
/// failure to be reported, the requests are still made), make the requests, exit.
fn scripted_run(
    status_file: &Path,
    mut c: Scripted,
    name: &str,
    library: &'static str,
    site: &Site,
) -> (Who, Vec<String>) {
    let mut problems = Vec::new();
    if let Err(e) = status::wait_hooked(status_file, c.pid(), library) {
        problems.push(e);
    }
    let answers = c.requests();
    assert_answers(site, &answers, name);
    let who = Who::new(c.pid(), &c.comm, library);
    c.finish();
    (who, problems)
}

fn assert_scripted(cap: &Capture, site: &Site, who: &Who, name: &str, problems: Vec<String>) {
    let reqs = get_and_post(name);
    let requests: Vec<(&Who, &str, &str)> = reqs
        .iter()
        .map(|(m, u)| (who, m.as_str(), u.as_str()))
        .collect();
    assert_seen(cap, site, &requests, problems);
}

#[test]
fn curl_with_shared_openssl_seen_from_both_sides() {
    require_root!();
    let site = Site::start();
    let (monitor, _) = start_monitor(&site);
    let ran = client::curl(&site, "curl");
    let cap = monitor.stop();
    let ports: Vec<u16> = ran.stdout.lines().filter_map(|l| l.parse().ok()).collect();
    assert_eq!(
        ports,
        [
            site.access("/get/curl").client_port,
            site.access("/post/curl").client_port
        ],
        "curl's local ports against nginx's log"
    );
    let who = Who::new(ran.pid, "curl", "openssl");
    assert_seen(
        &cap,
        &site,
        &[(&who, "GET", "/get/curl"), (&who, "POST", "/post/curl")],
        Vec::new(),
    );
}

#[test]
fn wget_with_gnutls_seen_from_both_sides() {
    require_root!();
    let site = Site::start();
    let (monitor, _) = start_monitor(&site);
    let get = client::wget(&site, "/get/wget", false);
    let post = client::wget(&site, "/post/wget", true);
    let cap = monitor.stop();
    let (get, post) = (
        Who::new(get.pid, "wget", "gnutls"),
        Who::new(post.pid, "wget", "gnutls"),
    );
    assert_seen(
        &cap,
        &site,
        &[(&get, "GET", "/get/wget"), (&post, "POST", "/post/wget")],
        Vec::new(),
    );
}

#[test]
fn python_started_after_the_monitor_is_covered() {
    require_root!();
    let site = Site::start();
    let (monitor, file) = start_monitor(&site);
    // Started once the monitor is ready: it maps the host's libssl after the monitor's start.
    let py = Scripted::start("python", &mut client::python(&site, "keepalive", "python"));
    let (who, problems) = scripted_run(&file, py, "python", "openssl", &site);
    let cap = monitor.stop();
    assert_scripted(&cap, &site, &who, "python", problems);
}

/// OpenSSL 1.1 (the machine has 3), loaded by dlopen while the process runs: hooked on the
/// kernel's mmap notice, at a path of its own.
#[test]
fn openssl_1_1_loaded_with_dlopen_seen_from_both_sides() {
    require_root!();
    let site = Site::start();
    let (monitor, file) = start_monitor(&site);
    let c = Scripted::start("openssl11", &mut client::openssl11(&site, "openssl11"));
    let doc = status::wait_hooked(&file, c.pid(), "openssl");
    let libs = doc
        .as_ref()
        .map(|d| libraries(d, c.pid()))
        .unwrap_or_default();
    let (who, problems) = scripted_run(&file, c, "openssl11", "openssl", &site);
    let cap = monitor.stop();
    assert!(
        libs.iter().any(|l| l["state"] == "hooked"
            && l["version"]
                .as_str()
                .is_some_and(|v| v.starts_with("1.1.1"))
            && l["path"].as_str().is_some_and(|p| p.contains("libssl-"))),
        "the status should show the bundled OpenSSL 1.1.1 hooked: {libs:#?} ({doc:?})"
    );
    assert_scripted(&cap, &site, &who, "openssl11", problems);
}

/// BoringSSL (a shared build from source, see xtask/src/boringssl.rs), loaded by dlopen: told
/// from OpenSSL by its own symbols, hooked through the same OpenSSL API, and named `boringssl`
/// in the output and the status.
#[test]
fn boringssl_loaded_with_dlopen_seen_from_both_sides() {
    require_root!();
    let site = Site::start();
    let (monitor, file) = start_monitor(&site);
    let c = Scripted::start("boringssl", &mut client::boringssl(&site, "boringssl"));
    let doc = status::wait_hooked(&file, c.pid(), "boringssl");
    let libs = doc
        .as_ref()
        .map(|d| libraries(d, c.pid()))
        .unwrap_or_default();
    let (who, problems) = scripted_run(&file, c, "boringssl", "boringssl", &site);
    let cap = monitor.stop();
    let libssl = Path::new(client::BORINGSSL_DIR).join("libssl.so");
    assert!(
        libs.iter().any(|l| l["state"] == "hooked"
            && l["library"] == "boringssl"
            && l["path"] == libssl.to_str().expect("utf-8 path")),
        "the status should show {} hooked as boringssl: {libs:#?} ({doc:?})",
        libssl.display()
    );
    assert_scripted(&cap, &site, &who, "boringssl", problems);
}

#[test]
fn node_with_openssl_linked_in_seen_from_both_sides() {
    require_root!();
    let site = Site::start();
    let (monitor, file) = start_monitor(&site);
    let node = Scripted::start("node", &mut client::node(&site, "node"));
    let (who, problems) = scripted_run(&file, node, "node", "openssl", &site);
    let cap = monitor.stop();
    assert_scripted(&cap, &site, &who, "node", problems);
}

#[test]
fn go_crypto_tls_seen_from_both_sides() {
    require_root!();
    let go = client::go_client();
    let site = Site::start();
    let (monitor, file) = start_monitor(&site);
    let c = Scripted::start("go", &mut client::go(&site, &go.plain, "go"));
    let (who, problems) = scripted_run(&file, c, "go", "go", &site);
    let cap = monitor.stop();
    assert_scripted(&cap, &site, &who, "go", problems);
}

#[test]
fn go_client_running_before_the_monitor_is_hooked() {
    require_root!();
    let go = client::go_client();
    let site = Site::start();
    let c = Scripted::start("go", &mut client::go(&site, &go.plain, "go-early"));
    // The monitor finds it among the running processes when it starts.
    let (monitor, file) = start_monitor(&site);
    let (who, problems) = scripted_run(&file, c, "go-early", "go", &site);
    let cap = monitor.stop();
    assert_scripted(&cap, &site, &who, "go-early", problems);
}

/// The host's libssl as python maps it (real path, symlinks resolved).
fn host_libssl() -> PathBuf {
    let out = output_within(
        Command::new(client::python_exe())
            .args(["-c", "import ssl; print(open('/proc/self/maps').read())"]),
        client::CLIENT_TIMEOUT,
    );
    let maps = String::from_utf8_lossy(&out.stdout);
    let path = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("/libssl.so"))
        .unwrap_or_else(|| panic!("python maps no libssl:\n{maps}"));
    std::fs::canonicalize(path).expect("canonical libssl path")
}

/// `inner` run in a new mount namespace where `source` is bind-mounted on `target`.
fn in_mount_namespace(source: &Path, target: &Path, inner: &Command) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        r#"mount --bind "$1" "$2" && shift 2 && exec "$@""#,
        "sh",
    ])
    .arg(source)
    .arg(target)
    .arg(inner.get_program())
    .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd
}

/// The inodes of the libssl files process `pid` maps.
fn mapped_libssl_inodes(pid: u32) -> Vec<u64> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let mut inodes: Vec<u64> = maps
        .lines()
        .filter(|l| l.contains("/libssl.so"))
        .filter_map(|l| l.split_whitespace().nth(4)?.parse().ok())
        .collect();
    inodes.dedup();
    inodes
}

#[test]
fn own_mount_namespace_with_its_own_copy_of_libssl() {
    require_root!();
    let site = Site::start();
    let dir = scratch("mntns");
    let host = host_libssl();
    let host_inode = std::fs::metadata(&host).expect("host libssl").ino();
    // Two copies (new inodes): one at a path that exists only inside the client's namespace
    // (found through LD_LIBRARY_PATH), one mounted over the host's own libssl path.
    let (private_dir, inside) = (dir.join("private"), dir.join("inside"));
    let over = dir.join("over/libssl.so.3");
    for d in [&private_dir, &inside, &dir.join("over")] {
        std::fs::create_dir_all(d).unwrap();
    }
    let private = private_dir.join(host.file_name().expect("file name"));
    std::fs::copy(&host, &private).unwrap();
    std::fs::copy(&host, &over).unwrap();
    let (monitor, file) = start_monitor(&site);

    let mut inner = client::python(&site, "keepalive", "ns-private");
    inner.env("LD_LIBRARY_PATH", &inside);
    let a = Scripted::start(
        "python in a mount namespace, libssl at a private path",
        &mut in_mount_namespace(&private_dir, &inside, &inner),
    );
    let b = Scripted::start(
        "python in a mount namespace, a libssl copy over the host's path",
        &mut in_mount_namespace(&over, &host, &client::python(&site, "keepalive", "ns-over")),
    );
    // The test's own premise: each maps its copy, not the host's file.
    for (c, copy) in [(&a, &private), (&b, &over)] {
        let copy_inode = std::fs::metadata(copy).unwrap().ino();
        assert_eq!(
            mapped_libssl_inodes(c.pid()),
            [copy_inode],
            "pid {} should map only its copy (host libssl inode {host_inode})",
            c.pid()
        );
    }
    let mut problems = Vec::new();
    // The copy at the private path is listed under the path the process sees.
    let private_seen = inside.join(private.file_name().unwrap());
    if let Err(e) = status::wait(
        &file,
        &format!("{} hooked for pid {}", private_seen.display(), a.pid()),
        status::HOOK_TIMEOUT,
        |doc| {
            libraries(doc, a.pid()).iter().any(|l| {
                l["state"] == "hooked"
                    && l["library"] == "openssl"
                    && l["path"] == private_seen.to_str().unwrap()
            })
        },
    ) {
        problems.push(e);
    }
    let (who_a, p) = scripted_run(&file, a, "ns-private", "openssl", &site);
    problems.extend(p);
    let (who_b, p) = scripted_run(&file, b, "ns-over", "openssl", &site);
    problems.extend(p);
    let cap = monitor.stop();
    let requests = [
        (&who_a, "GET", "/get/ns-private"),
        (&who_a, "POST", "/post/ns-private"),
        (&who_b, "GET", "/get/ns-over"),
        (&who_b, "POST", "/post/ns-over"),
    ];
    assert_seen(&cap, &site, &requests, problems);
}

#[test]
fn status_shows_covered_and_uncovered_processes() {
    require_root!();
    let go = client::go_client();
    let site = Site::start();
    let (mut monitor, file) = start_monitor(&site);
    let mut py = Scripted::start("python", &mut client::python(&site, "keepalive", "covered"));
    let mut stripped = Scripted::start(
        "stripped go",
        &mut client::go(&site, &go.stripped, "stripped"),
    );
    let (py_pid, go_pid) = (py.pid(), stripped.pid());
    let mut problems = Vec::new();
    if let Err(e) = status::wait_hooked(&file, py_pid, "openssl") {
        problems.push(e);
    }
    // python keeps its connection open after its requests, waiting for its last line.
    assert_answers(&site, &py.requests(), "covered");
    let stripped_listed = |doc: &Value| {
        libraries(doc, go_pid)
            .iter()
            .any(|l| l["state"] == "uncovered" && l["reason_code"] == "stripped_go")
    };
    if let Err(e) = status::wait(
        &file,
        "the stripped Go binary uncovered (stripped_go)",
        status::HOOK_TIMEOUT,
        stripped_listed,
    ) {
        problems.push(e);
    }
    assert_answers(&site, &stripped.requests(), "stripped");
    let doc = status::wait(
        &file,
        "the stripped Go binary's TLS traffic as uncovered",
        status::HOOK_TIMEOUT,
        |doc| {
            uncovered_traffic(doc, go_pid).is_some_and(|u| {
                u["reason_code"] == "stripped_go" && u["connections"].as_u64() >= Some(1)
            }) && is_hooked(doc, py_pid, "openssl")
                && stripped_listed(doc)
        },
    );
    match &doc {
        Ok(doc) => {
            let expected = json!({"monitor_pid": monitor.pid()});
            if let Err(e) = check_fields(doc, &expected) {
                problems.push(format!("status document: {e}"));
            }
            if !doc["ts"].is_string() {
                problems.push(format!("status document without ts: {doc}"));
            }
            let files = doc["tls"]["files"].as_array().cloned().unwrap_or_default();
            if !files
                .iter()
                .any(|f| f["library"] == "openssl" && f["processes"].as_u64() >= Some(1))
            {
                problems.push(format!("no hooked openssl file in files: {files:?}"));
            }
        }
        Err(e) => problems.push(e.clone()),
    }
    // The human table names both processes and why the Go one is not covered.
    let table = status::command(&file, false);
    let text = String::from_utf8_lossy(&table.stdout).to_string();
    let reason = doc
        .as_ref()
        .ok()
        .and_then(|d| uncovered_traffic(d, go_pid))
        .and_then(|u| u["reason"].as_str().map(str::to_string))
        .unwrap_or_else(|| "stripped_go".into());
    let mentions = |s: &str| text.contains(s);
    if !table.status.success()
        || !mentions(&go_pid.to_string())
        || !mentions(&py_pid.to_string())
        || !(mentions("stripped_go") || mentions(&reason))
    {
        problems.push(format!(
            "monitor status (table) exited {} and should name pids {py_pid} and {go_pid} and \
             the reason ({reason:?} or stripped_go):\n{text}{}",
            table.status,
            String::from_utf8_lossy(&table.stderr)
        ));
    }
    assert!(monitor.is_running(), "the monitor exited");
    let py_comm = py.comm.clone();
    py.finish();
    stripped.finish();
    let cap = monitor.stop();

    // Its plaintext was never seen, so it has no transactions; the stats carry the status.
    let go_txs = cap
        .http()
        .into_iter()
        .filter(|t| t["process"]["pid"] == go_pid)
        .count();
    if go_txs != 0 {
        problems.push(format!("{go_txs} transactions of the stripped Go binary"));
    }
    let stats_tls = &cap.last_stats()["tls"];
    for list in ["processes", "uncovered_traffic", "files"] {
        if !stats_tls[list].is_array() {
            problems.push(format!(
                "final stats event: tls.{list} missing: {stats_tls}"
            ));
        }
    }
    let after = status::command(&file, true);
    if after.status.code() != Some(1) || String::from_utf8_lossy(&after.stderr).lines().count() != 1
    {
        problems.push(format!(
            "monitor status after the monitor stopped: exit {}, stderr {:?}, stdout {:?}",
            after.status,
            String::from_utf8_lossy(&after.stderr),
            String::from_utf8_lossy(&after.stdout)
        ));
    }
    let who = Who::new(py_pid, &py_comm, "openssl");
    assert_scripted(&cap, &site, &who, "covered", problems);
}

#[test]
fn status_without_a_running_monitor_is_one_sentence_and_exit_1() {
    let file = scratch("no-monitor").join("status.json");
    let out = status::command(&file, false);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "expected one sentence, got {err:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    if !is_root() {
        eprintln!("(the rest of the TLS tests load eBPF programs and need root)");
    }
}

#[test]
fn crashing_clients_and_deleted_files_do_not_stop_the_monitor() {
    require_root!();
    let go = client::go_client();
    let site = Site::start();
    let dir = scratch("bad");
    let (mut monitor, file) = start_monitor(&site);

    // Killed while blocked inside SSL_read, and in the middle of SSL_write.
    for mode in ["hang-read", "hang-write"] {
        let mut c = Scripted::start(mode, &mut client::python(&site, mode, mode));
        c.go_on();
        c.expect("calling");
        std::thread::sleep(Duration::from_millis(500));
        c.kill();
    }
    // A Go binary deleted right after it starts.
    let gone = dir.join("goclient");
    std::fs::copy(&go.plain, &gone).unwrap();
    let mut g = Scripted::start("deleted go binary", &mut client::go(&site, &gone, "gone"));
    std::fs::remove_file(&gone).unwrap();
    let seen = status::wait_hooked(&file, g.pid(), "go");
    eprintln!("status of the deleted Go binary: {seen:?}");
    assert_answers(&site, &g.requests(), "gone");
    g.finish();
    // A libssl copy deleted right after the process loaded it.
    let libdir = dir.join("lib");
    std::fs::create_dir_all(&libdir).unwrap();
    let host = host_libssl();
    let copy = libdir.join(host.file_name().unwrap());
    std::fs::copy(&host, &copy).unwrap();
    let mut cmd = client::python(&site, "keepalive", "gone-lib");
    cmd.env("LD_LIBRARY_PATH", &libdir);
    let mut p = Scripted::start("python with a deleted libssl", &mut cmd);
    std::fs::remove_file(&copy).unwrap();
    assert_answers(&site, &p.requests(), "gone-lib");
    p.finish();
    // Processes that map libssl and exit at once.
    for _ in 0..10 {
        let out = output_within(
            Command::new(client::python_exe()).args(["-c", "import ssl"]),
            client::CLIENT_TIMEOUT,
        );
        assert!(out.status.success());
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        monitor.is_running(),
        "the monitor exited after crashing clients and deleted files"
    );
    // It still captures.
    let ran = client::curl(&site, "after");
    let cap = monitor.stop();
    let who = Who::new(ran.pid, "curl", "openssl");
    assert_seen(
        &cap,
        &site,
        &[(&who, "GET", "/get/after"), (&who, "POST", "/post/after")],
        Vec::new(),
    );
}

#[test]
fn concurrent_new_connections_every_request_seen_from_both_sides() {
    require_root!();
    let site = Site::start();
    let (monitor, _) = start_monitor(&site);
    // 100 transfers, 50 at a time, each on its own new connection: TLS handshakes overlap.
    let n = 100;
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "--fail",
        "--max-time",
        "30",
        "--parallel",
        "--parallel-max",
        "50",
    ])
    .args([
        "--parallel-immediate",
        "--no-keepalive",
        "-H",
        "Connection: close",
    ])
    .arg("--cacert")
    .arg(&site.cert)
    .args(["-o", "/dev/null"]);
    for i in 0..n {
        cmd.arg(site.url(&format!("/par/{i}")));
    }
    let (pid, out) = tests::tls::run_within(&mut cmd, client::CLIENT_TIMEOUT);
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cap = monitor.stop();
    let worker = site.nginx.worker_pid();
    let mut problems = Vec::new();
    for i in 0..n {
        let uri = format!("/par/{i}");
        for p in [pid, worker] {
            let seen = cap
                .http()
                .into_iter()
                .filter(|t| t["process"]["pid"] == p && t["request"]["path"] == uri.as_str())
                .count();
            if seen != 1 {
                problems.push(format!("pid {p}: {uri} seen {seen} times"));
            }
        }
    }
    let odd: Vec<String> = cap
        .http()
        .into_iter()
        .filter(|t| t["outcome"] != "complete")
        .map(Value::to_string)
        .collect();
    assert!(
        problems.is_empty() && odd.is_empty(),
        "{}\n--- transactions not complete:\n{}\n--- final stats: {}",
        problems.join("\n"),
        odd.join("\n"),
        cap.last_stats()
    );
}

#[test]
fn connection_churn_under_load_loses_nothing_silently() {
    require_root!();
    let site = Site::start();
    let (monitor, _) = start_monitor(&site);
    // wrk at full speed on 50 connections that nginx ends every 20 requests.
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c50", "-d3s"])
        .arg(site.url("/churn/wrk"));
    let (wrk, out) = tests::tls::run_within(&mut cmd, client::CLIENT_TIMEOUT);
    assert!(out.status.success(), "wrk: {out:?}");
    let cap = monitor.stop();
    let worker = site.nginx.worker_pid();
    let answered = site
        .access_log()
        .iter()
        .filter(|a| a.uri == "/churn/wrk" && a.status == 200)
        .count();
    let stats = cap.last_stats();
    let lost = stats["kernel"]["ringbuf_full_events"] != 0
        || stats["streams"]["gap_bytes"]
            .as_object()
            .is_some_and(|g| !g.is_empty());
    let mut problems = Vec::new();
    let mut wrong = Vec::new();
    let mut tally = std::collections::BTreeMap::<String, u64>::new();
    for t in cap.http() {
        let (pid, role) = (&t["process"]["pid"], t["connection"]["role"].as_str());
        let expected = if *pid == worker {
            "server"
        } else if *pid == wrk {
            "client"
        } else {
            continue;
        };
        let key = format!(
            "{} {} {} {}",
            t["process"]["comm"].as_str().unwrap_or("?"),
            role.unwrap_or("?"),
            t["outcome"].as_str().unwrap_or("?"),
            t["flags"]
        );
        *tally.entry(key).or_default() += 1;
        if role != Some(expected) || t["connection"]["tls"] != true {
            wrong.push(format!("should be tls, role {expected}: {t}"));
        }
    }
    if !wrong.is_empty() {
        problems.push(format!(
            "{} transactions with the wrong role or not tls, the first ones:\n{}",
            wrong.len(),
            wrong[..wrong.len().min(3)].join("\n")
        ));
    }
    let complete = |pid: u32| {
        cap.http()
            .into_iter()
            .filter(|t| t["process"]["pid"] == pid && t["outcome"] == "complete")
            .filter(|t| t["flags"].as_array().is_some_and(Vec::is_empty))
            .count()
    };
    // Without loss in the kernel, nginx's view holds every request it answered.
    if !lost && complete(worker) != answered {
        problems.push(format!(
            "nginx answered {answered} requests, the monitor shows {} of them complete from nginx",
            complete(worker)
        ));
    }
    assert!(
        problems.is_empty(),
        "{}\n--- transactions by comm, role, outcome, flags: {tally:#?}\n--- final stats: {stats}",
        problems.join("\n")
    );
}
