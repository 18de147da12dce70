//! Live detection: real attack tools and a real load tool against a real FastAPI shop
//! (tests/fixtures/detection/app.py) while `monitor run` watches it. Each attack must raise its
//! alert for the attacker's own actor and session, first seen within 10 s of the tool's start,
//! and named in the attacker's `http` events; an ordinary load of shoppers must raise none.
//!
//! The tools are Debian 12 packages (.ci/run and `cargo xtask test` install them), each run
//! with its default user agent:
//!
//! | tool | Debian version | user agent |
//! | --- | --- | --- |
//! | sqlmap | 1.7.2-1 | `sqlmap/1.7.2#stable (https://sqlmap.org)` |
//! | hydra | 9.4-1 | `Mozilla/5.0 (Hydra)` |
//! | gobuster | 3.5.0-1+b1 | `gobuster/3.5` |
//!
//! locust (the load) and FastAPI/uvicorn come from PyPI, pinned, into scratch directories.
//! Tests are named `attack_*` and `benign_*`: run one at a time, in name order, the benign load
//! comes after the attacks, and the locust install the first test starts in the background is
//! done by then. `checks_*` try the alert checks on a capture shaped as the contract says.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{
    collections::BTreeMap,
    io::Read,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    sync::{LazyLock, Mutex, OnceLock},
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;
use tests::{
    Capture, Monitor, Proc,
    alerts::{Alert, Client, brief, lists, user_agent},
    fixture, free_port, require_root, scratch,
    tls::client::python_exe,
};

/// How long after a tool's start the alert's first transaction may be.
const ALERT_WITHIN: Duration = Duration::from_secs(10);
/// Clock slack: the monitor's timestamps and ours come from different reads of the clock.
const CLOCK_SLACK: Duration = Duration::from_secs(1);

/// `pip install --target` into a scratch directory of its own; nothing is installed
/// system-wide.
fn pip_install(tag: &str, args: &[&str]) -> PathBuf {
    let dir = scratch(tag);
    let mut cmd = Command::new(python_exe());
    cmd.args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .arg("--target")
        .arg(&dir)
        .args(args);
    // SAFETY: prctl is async-signal-safe. The install dies with the thread that waits for it,
    // so a background install does not outlive a test process that ends first.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let out = cmd.output().expect("run pip");
    assert!(
        out.status.success(),
        "pip install {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// FastAPI and uvicorn, the versions discovery_live.rs pins, once per test process.
fn fastapi_path() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| pip_install("fastapi", &["fastapi==0.115.6", "uvicorn==0.32.1"]))
}

/// locust and its dependencies, every version pinned (about 50 MB: 30 s to download on a fresh
/// machine), installed in the background from the first time any test starts the shop.
static LOCUST: LazyLock<Mutex<Option<JoinHandle<PathBuf>>>> = LazyLock::new(|| {
    let requirements = fixture("detection/locust-requirements.txt");
    Mutex::new(Some(std::thread::spawn(move || {
        pip_install("locust", &["-r", requirements.to_str().unwrap()])
    })))
});

fn locust_path() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let install = LOCUST
            .lock()
            .unwrap()
            .take()
            .expect("locust installed once");
        install
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

fn now_unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A tool that ran: when it started (Unix ns, read just before it was spawned), whether it had
/// to be killed at its time limit, what it printed.
struct ToolRun {
    name: &'static str,
    start_unix_ns: u128,
    killed: bool,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl ToolRun {
    fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` in a process group of its own for at most `limit`, then kills the whole group
/// (hydra forks its workers), whether it finished or not.
fn run_tool(name: &'static str, cmd: &mut Command, limit: Duration) -> ToolRun {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start_unix_ns = now_unix_ns();
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
    let group = child.id() as i32;
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let mut killed = false;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if started.elapsed() > limit {
            killed = true;
            // SAFETY: a signal to the process group we created.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    // SAFETY: as above; whatever of the group is left (ESRCH when nothing is).
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let run = ToolRun {
        name,
        start_unix_ns,
        killed,
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    println!(
        "{name}: ran {:.1} s{}, {}",
        elapsed.as_secs_f64(),
        if killed { " (killed at its limit)" } else { "" },
        status
    );
    run
}

/// The seeded account `i` of accounts.py (0…48 are user01…user49, 49 is admin):
/// (username, password).
fn account(i: usize) -> (String, String) {
    let out = Command::new(python_exe())
        .env("PYTHONPATH", fixture("detection"))
        .args([
            "-c",
            "import sys, accounts; u, p, _ = accounts.ACCOUNTS[int(sys.argv[1])]; print(u); print(p)",
        ])
        .arg(i.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines().map(str::to_string);
    (lines.next().unwrap(), lines.next().unwrap())
}

/// The shop (app.py under uvicorn), serving on a port of its own.
struct Shop {
    app: Proc,
    port: u16,
    dir: PathBuf,
    tag: &'static str,
    started: Instant,
}

impl Drop for Shop {
    fn drop(&mut self) {
        println!(
            "{}: the test took {:.1} s",
            self.tag,
            self.started.elapsed().as_secs_f64()
        );
    }
}

impl Shop {
    fn start(tag: &'static str) -> Shop {
        let started = Instant::now();
        // Any test that runs starts the locust download, so the benign test finds it done.
        LazyLock::force(&LOCUST);
        let port = free_port();
        let mut app = Proc::spawn(
            Command::new(python_exe())
                .env("PYTHONPATH", fastapi_path())
                .arg(fixture("detection/app.py"))
                .arg(port.to_string()),
        );
        assert_eq!(app.line(), "ready");
        Shop {
            app,
            port,
            dir: scratch(tag),
            tag,
            started,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Signs in as `username` (JSON, with curl) and returns the bearer token.
    fn login(&self, username: &str, password: &str) -> String {
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        let out = Command::new("curl")
            .args(["-sf", "-H", "content-type: application/json", "-d", &body])
            .arg(self.url("/login"))
            .output()
            .unwrap();
        assert!(out.status.success(), "login as {username} failed");
        let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
        reply["token"].as_str().unwrap().to_string()
    }

    /// `monitor run` on the shop's port, its files in the test's scratch directory.
    fn watch(&self) -> Monitor {
        let openapi = self.dir.join("openapi.json");
        let status = self.dir.join("status.json");
        Monitor::start_http(&[
            "--port",
            &self.port.to_string(),
            "--openapi-file",
            openapi.to_str().unwrap(),
            "--status-file",
            status.to_str().unwrap(),
        ])
    }
}

/// Counts of `events` by status code.
fn statuses(events: &[&Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for t in events {
        *counts
            .entry(t["response"]["status_code"].to_string())
            .or_default() += 1;
    }
    counts
}

/// What the monitor saw of `client`, printed for the record.
fn describe(tool: &ToolRun, client: &Client, app_pid: u32) {
    let server = client
        .events
        .iter()
        .filter(|t| t["process"]["pid"] == app_pid)
        .count();
    let kinds: Vec<&str> = client
        .events
        .iter()
        .filter_map(|t| t["actor"]["kind"].as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    println!(
        "{}: the monitor saw {} http events of it ({} server side, {} client side), user agents {:?}, \
         actors {:?} ({kinds:?}), sessions {}, statuses {:?}",
        tool.name,
        client.events.len(),
        server,
        client.events.len() - server,
        client
            .events
            .iter()
            .map(|t| user_agent(t))
            .collect::<std::collections::BTreeSet<_>>(),
        client.actors,
        client.sessions.len(),
        statuses(&client.events)
    );
}

/// The `category` alert raised for `client` — its one actor, one of its sessions — first seen
/// within [`ALERT_WITHIN`] of the tool's start, listed in the `alerts` of the client's `http`
/// events and of no one else's. Panics, saying what the monitor did see, otherwise.
fn expect_alert<'a>(
    cap: &'a Capture,
    category: &str,
    client: &Client<'a>,
    tool: &ToolRun,
) -> Alert<'a> {
    let seen = || {
        format!(
            "alerts seen:\n{}\nhttp events by user agent, actor and status:\n{}\nthe first of {}'s:\n{}",
            cap.alert_summary(),
            cap.http_overview(),
            tool.name,
            brief(&client.events, 8)
        )
    };
    assert!(
        !client.events.is_empty(),
        "the monitor saw no http event from {}; {}\n{} said:\n{}",
        tool.name,
        seen(),
        tool.name,
        tool.output()
    );
    assert_eq!(
        client.actors.len(),
        1,
        "{}'s requests should be one actor; {}",
        tool.name,
        seen()
    );
    let actor = *client.actors.first().unwrap();
    let alert = cap
        .alerts()
        .into_iter()
        .filter(|a| a.category() == category && a.actor_id() == actor)
        .min_by_key(|a| a.first()["first_ts_unix_ns"].as_u64().unwrap_or(u64::MAX))
        .unwrap_or_else(|| {
            panic!(
                "no {category} alert for {}'s actor {actor} ({} of its http events seen); {}",
                tool.name,
                client.events.len(),
                seen()
            )
        });
    let (first, last) = (alert.first(), alert.last());
    assert_eq!(
        first["state"], "new",
        "{}: first event not new: {first}",
        alert.id
    );

    let first_ts = u128::from(
        first["first_ts_unix_ns"]
            .as_u64()
            .expect("first_ts_unix_ns"),
    );
    let delay = first_ts as f64 / 1e9 - tool.start_unix_ns as f64 / 1e9;
    println!(
        "{}: {category} alert {} ({} severity, confidence {}) first seen {delay:.2} s after the tool's start, \
         {} transactions at the last of its {} events {:?}",
        tool.name,
        alert.id,
        last["severity"],
        last["confidence"],
        last["transactions"],
        alert.events.len(),
        alert.states()
    );
    assert!(
        first_ts + CLOCK_SLACK.as_nanos() >= tool.start_unix_ns
            && first_ts <= tool.start_unix_ns + ALERT_WITHIN.as_nanos(),
        "{category} alert {} first seen {delay:.2} s after {} started (allowed: 0 to {:?})",
        alert.id,
        tool.name,
        ALERT_WITHIN
    );

    let session = last["session_id"].as_str().unwrap_or("?");
    assert!(
        client.sessions.contains(session),
        "{category} alert {} names session {session}; {}'s sessions are {:?}",
        alert.id,
        tool.name,
        client.sessions
    );
    let ua = user_agent(client.events[0]);
    assert!(
        last["user_agents"]
            .as_array()
            .is_some_and(|a| a.iter().any(|u| u == ua)),
        "{category} alert {} lists user agents {}, not {}'s {ua:?}",
        alert.id,
        last["user_agents"],
        tool.name
    );

    let listing = client.listing(alert.id);
    println!(
        "{}: {listing} of its {} http events list alert {}",
        tool.name,
        client.events.len(),
        alert.id
    );
    assert!(
        listing > 0,
        "none of {}'s http events lists its {category} alert {} in `alerts`; the first:\n{}",
        tool.name,
        alert.id,
        brief(&client.events, 8)
    );
    let strangers: Vec<&Value> = cap
        .http()
        .into_iter()
        .filter(|t| lists(t, alert.id) && t["actor"]["id"] != actor)
        .collect();
    assert!(
        strangers.is_empty(),
        "http events of other actors list {}'s alert {}:\n{}",
        tool.name,
        alert.id,
        brief(&strangers, 8)
    );
    alert
}

#[test]
fn attack_sqlmap_on_search_is_sqli() {
    require_root!();
    let shop = Shop::start("sqlmap");
    let (username, password) = account(6);
    let token = shop.login(&username, &password);
    let monitor = shop.watch();
    let run = run_tool(
        "sqlmap",
        Command::new("sqlmap")
            .arg("-u")
            .arg(shop.url("/api/search?q=test"))
            .args(["--headers", &format!("Authorization: Bearer {token}")])
            .args(["--batch", "--level", "1", "--risk", "1", "--timeout", "5"])
            .args(["--retries", "0", "--disable-coloring", "--output-dir"])
            .arg(shop.dir.join("sqlmap")),
        Duration::from_secs(20),
    );
    let cap = monitor.stop();
    // It tested the parameter to the end (the query is parameterised: nothing injectable).
    assert!(
        run.killed || run.output().contains("does not seem to be injectable"),
        "sqlmap did not test q:\n{}",
        run.output()
    );
    let sqlmap = Client::pick(&cap, |t| user_agent(t).starts_with("sqlmap/"));
    describe(&run, &sqlmap, shop.app.pid());
    assert!(
        sqlmap.events.iter().all(|t| t["actor"]["kind"] == "bearer"),
        "sqlmap sent its bearer header with every request:\n{}",
        brief(&sqlmap.events, 8)
    );
    expect_alert(&cap, "sqli", &sqlmap, &run);
}

/// hydra's http-post-form attack on the shop's login form; a login counts as failed when the
/// answer says "invalid" (app.py re-renders the form with "invalid credentials").
fn hydra(shop: &Shop, credentials: &[&str]) -> Command {
    let mut cmd = Command::new("hydra");
    // -I: no waiting on a restore file of an earlier run (hydra writes one in its directory).
    cmd.current_dir(&shop.dir)
        .arg("-I")
        .args(credentials)
        .args(["-t", "4", "-s", &shop.port.to_string(), "127.0.0.1"])
        .args([
            "http-post-form",
            "/login:username=^USER^&password=^PASS^:F=invalid",
        ]);
    cmd
}

#[test]
fn attack_hydra_on_one_login_is_brute_force() {
    require_root!();
    let shop = Shop::start("hydra-brute");
    let monitor = shop.watch();
    let passwords = fixture("detection/passwords.txt");
    let run = run_tool(
        "hydra",
        &mut hydra(&shop, &["-l", "admin", "-P", passwords.to_str().unwrap()]),
        Duration::from_secs(20),
    );
    let cap = monitor.stop();
    // admin's password is the list's last entry: hydra tried them all, and its answer parsed.
    assert!(
        run.output().contains("1 valid password found"),
        "hydra did not find admin's password:\n{}",
        run.output()
    );
    let hydra = Client::pick(&cap, |t| user_agent(t).contains("Hydra"));
    describe(&run, &hydra, shop.app.pid());
    expect_alert(&cap, "brute_force", &hydra, &run);
    // Many passwords against one account is not stuffing (which spreads over many accounts).
    let stuffing: Vec<&str> = cap
        .alerts()
        .iter()
        .filter(|a| a.category() == "credential_stuffing")
        .map(|a| a.id)
        .collect();
    assert!(
        stuffing.is_empty(),
        "credential_stuffing raised against one account: {stuffing:?}\n{}",
        cap.alert_summary()
    );
}

#[test]
fn attack_hydra_across_accounts_is_credential_stuffing() {
    require_root!();
    let shop = Shop::start("hydra-stuffing");
    let monitor = shop.watch();
    // 60 leaked username:password pairs, 49 of the shop's users and 11 unknown names; 4 right.
    let combos = fixture("detection/combos.txt");
    let run = run_tool(
        "hydra",
        &mut hydra(&shop, &["-C", combos.to_str().unwrap()]),
        Duration::from_secs(20),
    );
    let cap = monitor.stop();
    assert!(
        run.output().contains("4 valid passwords found"),
        "hydra did not find the 4 reused passwords:\n{}",
        run.output()
    );
    let hydra = Client::pick(&cap, |t| user_agent(t).contains("Hydra"));
    describe(&run, &hydra, shop.app.pid());
    expect_alert(&cap, "credential_stuffing", &hydra, &run);
}

#[test]
fn attack_gobuster_dir_scan_is_a_scanner() {
    require_root!();
    let shop = Shop::start("gobuster");
    let monitor = shop.watch();
    let run = run_tool(
        "gobuster",
        Command::new("gobuster")
            .args(["dir", "-u", &shop.url(""), "-w"])
            .arg(fixture("detection/paths.txt"))
            .args(["-t", "10", "-q", "-z", "--timeout", "5s"]),
        Duration::from_secs(20),
    );
    let cap = monitor.stop();
    assert!(
        run.status.success() && run.stdout.contains("/login"),
        "gobuster did not find /login:\n{}",
        run.output()
    );
    let gobuster = Client::pick(&cap, |t| user_agent(t).starts_with("gobuster/"));
    describe(&run, &gobuster, shop.app.pid());
    let actor = gobuster.actors.first().copied().unwrap_or("-");
    let raised: Vec<&str> = cap
        .alerts()
        .iter()
        .filter(|a| a.actor_id() == actor)
        .map(|a| a.category())
        .filter(|c| ["forced_browsing", "scanner"].contains(c))
        .collect();
    println!("gobuster: raised {raised:?}");
    assert!(
        !raised.is_empty(),
        "neither forced_browsing nor scanner for gobuster's actor {actor}; alerts seen:\n{}\n{}",
        cap.alert_summary(),
        cap.http_overview()
    );
    // It ran with its own user agent, so the scanner is named as such.
    expect_alert(&cap, "scanner", &gobuster, &run);
    if raised.contains(&"forced_browsing") {
        expect_alert(&cap, "forced_browsing", &gobuster, &run);
    }
}

#[test]
fn attack_one_token_from_many_addresses_is_ip_rotation() {
    require_root!();
    let shop = Shop::start("ip-rotation");
    let monitor = shop.watch();
    let (username, password) = account(11);
    let run = run_tool(
        "rotate_ips.py",
        Command::new(python_exe())
            .arg(fixture("detection/rotate_ips.py"))
            .args([&shop.port.to_string(), &username, &password, "30"]),
        Duration::from_secs(20),
    );
    let cap = monitor.stop();
    assert!(
        run.status.success(),
        "the rotating client failed:\n{}",
        run.output()
    );
    let summary: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        summary["statuses"],
        serde_json::json!({"200": 87}),
        "{summary}"
    );
    // Its requests with the token: everything it sent from other addresses than 127.0.0.1.
    let rotator = Client::pick(&cap, |t| {
        t["client_ip"].as_str().is_some_and(|ip| ip != "127.0.0.1")
    });
    describe(&run, &rotator, shop.app.pid());
    let addresses: std::collections::BTreeSet<&str> = rotator
        .events
        .iter()
        .filter_map(|t| t["client_ip"].as_str())
        .collect();
    println!(
        "rotate_ips.py: the monitor saw it from {} addresses",
        addresses.len()
    );
    let alert = expect_alert(&cap, "ip_rotation", &rotator, &run);
    let named: Vec<&str> = alert.last()["client_ips"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        named.len() >= 5
            && named
                .iter()
                .all(|ip| addresses.contains(ip) || *ip == "127.0.0.1"),
        "ip_rotation alert {} names client_ips {named:?}; the client used {addresses:?}",
        alert.id
    );
}

#[test]
fn benign_locust_shoppers_raise_no_alert() {
    require_root!();
    let locust = locust_path();
    let shop = Shop::start("locust");
    let monitor = shop.watch();
    let run = run_tool(
        "locust",
        Command::new(python_exe())
            .env("PYTHONPATH", locust)
            .current_dir(&shop.dir)
            .args(["-m", "locust", "-f"])
            .arg(fixture("detection/locustfile.py"))
            .args(["--headless", "-u", "16", "-r", "4", "-t", "30s"])
            .args(["--host", &shop.url(""), "--json", "--skip-log"]),
        Duration::from_secs(45),
    );
    let cap = monitor.stop();
    assert!(
        run.status.success() && !run.killed,
        "locust failed:\n{}",
        run.output()
    );
    let stats: Value = serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
        panic!("locust's --json output: {e}:\n{}", run.output());
    });
    let sent: u64 = stats
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["num_requests"].as_u64().unwrap())
        .sum();
    let failed: u64 = stats
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["num_failures"].as_u64().unwrap())
        .sum();
    assert_eq!(failed, 0, "{stats}");

    let server: Vec<&Value> = cap
        .http()
        .into_iter()
        .filter(|t| t["process"]["pid"] == shop.app.pid())
        .collect();
    let shoppers = Client::pick(&cap, |t| t["process"]["pid"] == shop.app.pid());
    println!(
        "locust: sent {sent} requests; the monitor saw {} http events, {} on the server side, \
         from {} actors in {} sessions, statuses {:?}",
        cap.http().len(),
        server.len(),
        shoppers.actors.len(),
        shoppers.sessions.len(),
        statuses(&server)
    );
    assert!(
        server.len() > 200,
        "the monitor saw {} of locust's {sent} transactions on the server side",
        server.len()
    );
    assert!(
        cap.alerts().is_empty(),
        "alerts on benign traffic:\n{}\n{}",
        cap.alert_summary(),
        cap.http_overview()
    );
    let listing: Vec<&Value> = cap
        .http()
        .into_iter()
        .filter(|t| t["alerts"].as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    assert!(
        listing.is_empty(),
        "http events list alerts that were never written:\n{}",
        brief(&listing, 8)
    );
}

/// A capture shaped as the alert contract describes: sqlmap's transaction seen from both ends,
/// listing alert 00…01 (whose events say `session`), and a stranger's transaction.
fn contract_capture(session: &str) -> (Capture, ToolRun) {
    let start = 1_800_000_000_000_000_000_u64;
    let http = |comm: &str, ua: &str, actor: &str, alerts: &[&str]| {
        serde_json::json!({"type": "http", "ts_unix_ns": start + 1_000_000, "process": {"pid": 7, "comm": comm},
            "request": {"method": "GET", "target": "/api/search?q=1%27", "headers": {"user-agent": [ua]}},
            "response": {"status_code": 200}, "actor": {"id": actor, "kind": "bearer"},
            "client_ip": "127.0.0.1", "session_id": format!("{actor}-s1"), "alerts": alerts})
    };
    let sqlmap = "sqlmap/1.7.2#stable (https://sqlmap.org)";
    let alert = |state: &str, transactions: u64| {
        serde_json::json!({"type": "alert", "schema_version": 1, "ts_unix_ns": start + 3_000_000_000_u64,
            "alert_id": "0000000000000001", "state": state, "category": "sqli", "severity": "high",
            "confidence": 0.9, "actor": {"id": "aaaaaaaaaaaaaaaa", "kind": "bearer"},
            "session_id": format!("aaaaaaaaaaaaaaaa-{session}"), "client_ips": ["127.0.0.1"],
            "user_agents": [sqlmap], "endpoints": [{"method": "GET", "template": "/api/search"}],
            "first_ts_unix_ns": start + 1_000_000, "last_ts_unix_ns": start + 2_000_000_000_u64,
            "transactions": transactions, "evidence": {}, "action": "observed"})
    };
    let lines = [
        http("sqlmap", sqlmap, "aaaaaaaaaaaaaaaa", &[]),
        http("python3", sqlmap, "aaaaaaaaaaaaaaaa", &["0000000000000001"]),
        http("curl", "curl/7.88.1", "bbbbbbbbbbbbbbbb", &[]),
        alert("new", 4),
        alert("ended", 12),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let tool = ToolRun {
        name: "sqlmap",
        start_unix_ns: u128::from(start),
        killed: false,
        status: std::os::unix::process::ExitStatusExt::from_raw(0),
        stdout: String::new(),
        stderr: String::new(),
    };
    (Capture::parse(&text), tool)
}

/// The checks of [`expect_alert`] themselves, without root or tools: they accept an alert as
/// the contract describes it…
#[test]
fn checks_accept_an_alert_as_the_contract_describes() {
    let (cap, tool) = contract_capture("s1");
    let client = Client::pick(&cap, |t| user_agent(t).starts_with("sqlmap/"));
    let alert = expect_alert(&cap, "sqli", &client, &tool);
    assert_eq!(alert.states(), ["new", "ended"]);
    assert_eq!(alert.last()["transactions"], 12);
}

/// …and refuse one that names a session the attacker's transactions are not in.
#[test]
#[should_panic(expected = "names session")]
fn checks_refuse_an_alert_of_another_session() {
    let (cap, tool) = contract_capture("s2");
    let client = Client::pick(&cap, |t| user_agent(t).starts_with("sqlmap/"));
    expect_alert(&cap, "sqli", &client, &tool);
}
