//! Harness for end-to-end tests: starts the real monitor binary, real servers and clients, and
//! reads back what the monitor wrote. eBPF tests need root: without it they print why and return.
// A harness for tests: a failed expectation here is a test failure, so panicking is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, HashMap},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

pub mod abuse_traffic;
pub mod alerts;
pub mod api_traffic;
pub mod http;
pub mod netns;
pub mod nginx;
pub mod replay;
pub mod tls;

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Returns early from a test, with the reason printed, when not root.
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::is_root() {
            eprintln!("skipping: this test loads eBPF programs and needs root");
            return;
        }
    };
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub fn monitor_bin() -> PathBuf {
    std::env::var_os("MONITOR_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/release/monitor"))
}

pub fn fixture(name: &str) -> PathBuf {
    workspace().join("tests/fixtures").join(name)
}

/// A scratch directory unique to this test process and call.
pub fn scratch(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "monitor-test-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A child process killed when dropped.
pub struct Proc {
    pub child: Child,
    stdout: Option<BufReader<ChildStdout>>,
}

impl Proc {
    pub fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take().map(BufReader::new);
        Proc { child, stdout }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Next line of standard output (panics at EOF).
    pub fn line(&mut self) -> String {
        let mut s = String::new();
        let n = self
            .stdout
            .as_mut()
            .expect("stdout")
            .read_line(&mut s)
            .expect("read line");
        assert!(n > 0, "process {} closed its output", self.pid());
        s.trim_end().to_string()
    }

    pub fn stdin(&mut self) -> &mut ChildStdin {
        self.child.stdin.as_mut().expect("stdin")
    }

    pub fn send_line(&mut self, line: &str) {
        writeln!(self.stdin(), "{line}").expect("write stdin");
    }

    pub fn wait_success(mut self) -> String {
        let mut rest = String::new();
        if let Some(out) = self.stdout.as_mut() {
            std::io::Read::read_to_string(out, &mut rest).expect("read stdout");
        }
        let st = self.child.wait().expect("wait");
        assert!(st.success(), "process exited with {st}");
        rest
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A python fixture that prints its listening port first.
pub fn python_server(script: &str, args: &[&str]) -> (Proc, u16) {
    let mut p = Proc::spawn(Command::new("python3").arg(fixture(script)).args(args));
    let port = p.line().parse().expect("port line");
    (p, port)
}

/// The monitor, writing JSON lines to a file (`run`) or only a recording (`record`).
pub struct Monitor {
    child: Child,
    output: Option<PathBuf>,
}

impl Monitor {
    /// Starts `monitor run --raw` with `args` and waits until its probes are attached.
    pub fn start(args: &[&str]) -> Monitor {
        Monitor::spawn(&["--raw"], args)
    }

    /// Starts `monitor run` in its default mode (`http` events) with `args`.
    pub fn start_http(args: &[&str]) -> Monitor {
        Monitor::spawn(&[], args)
    }

    /// Starts `monitor record --out FILE` with `args` and waits until its probes are attached.
    pub fn start_record(file: &Path, args: &[&str]) -> Monitor {
        let mut cmd = Command::new(monitor_bin());
        cmd.arg("record").arg("--out").arg(file).args(args);
        Monitor::launch(cmd, None)
    }

    fn spawn(mode: &[&str], args: &[&str]) -> Monitor {
        let dir = scratch("monitor");
        let output = dir.join("out.jsonl");
        let mut cmd = Command::new(monitor_bin());
        cmd.arg("run")
            .args(mode)
            .args(["--stats-interval", "0", "--output"])
            .arg(&output)
            .args(args);
        Monitor::launch(cmd, Some(output))
    }

    fn launch(mut cmd: Command, output: Option<PathBuf>) -> Monitor {
        let mut child = cmd
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", monitor_bin().display()));
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "monitor not ready in 30 s");
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("monitor exited before it was ready"))
                .expect("stderr line");
            eprintln!("monitor: {line}");
            if line.contains("ready:") {
                break;
            }
        }
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("monitor: {line}");
            }
        });
        Monitor { child, output }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running (it was not stopped and did not exit or crash).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the monitor with SIGTERM (it must exit 0) and reads what it wrote.
    pub fn stop(mut self) -> Capture {
        // Let the last records of the traffic reach the ring buffer reader.
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: plain signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let st = self.child.wait().expect("wait monitor");
        assert!(st.success(), "monitor exited with {st}");
        let output = self
            .output
            .as_ref()
            .expect("a monitor that writes JSON lines");
        let text = std::fs::read_to_string(output).expect("monitor output");
        Capture::parse(&text)
    }

    /// What it has written so far (it flushes after every batch).
    pub fn so_far(&self) -> Capture {
        let output = self
            .output
            .as_ref()
            .expect("a monitor that writes JSON lines");
        let text = std::fs::read_to_string(output).unwrap_or_default();
        // A line being written is not read yet.
        let complete = text.rfind('\n').map_or("", |end| &text[..=end]);
        Capture::parse(complete)
    }

    /// Waits up to `timeout` for a line `pick` accepts in what it has written; returns it.
    pub fn wait_for(&self, timeout: Duration, pick: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = self.so_far().events.iter().find(|v| pick(v)) {
                return Some(v.clone());
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no cleanup of its own can run.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for a monitor started with `--duration` to stop by itself; it must exit 0.
    pub fn wait_exit(mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("wait monitor") {
                assert!(st.success(), "monitor exited with {st}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "monitor still running after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One direction of one connection, rebuilt from data and gap events.
#[derive(Debug, Default, Clone)]
pub struct Stream {
    pub bytes: Vec<u8>,
    pub gap_bytes: u64,
    /// Gap bytes by cause.
    pub gaps: BTreeMap<String, u64>,
    /// Pids that moved bytes of this stream.
    pub pids: Vec<u64>,
}

#[derive(Debug, Clone)]
pub struct Conn {
    pub id: String,
    pub pid: u64,
    pub comm: String,
    pub local: String,
    pub peer: String,
    pub role: String,
    pub attribution: String,
    pub egress: Stream,
    pub ingress: Stream,
    pub closed: Option<Value>,
}

pub struct Capture {
    pub events: Vec<Value>,
    /// The output file as written.
    pub text: String,
}

fn endpoint(v: &Value) -> String {
    match (v["address"].as_str(), v["port"].as_u64()) {
        (Some(a), Some(p)) if a.contains(':') => format!("[{a}]:{p}"),
        (Some(a), Some(p)) => format!("{a}:{p}"),
        _ => "?".into(),
    }
}

impl Capture {
    pub fn parse(text: &str) -> Capture {
        let events = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
            .collect();
        Capture {
            events,
            text: text.to_string(),
        }
    }

    pub fn of_type<'a>(&'a self, t: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events.iter().filter(move |e| e["type"] == t)
    }

    /// The final stats event.
    pub fn last_stats(&self) -> &Value {
        self.of_type("stats")
            .last()
            .expect("the monitor wrote no stats event")
    }

    pub fn kernel(&self, counter: &str) -> u64 {
        self.last_stats()["kernel"][counter]
            .as_u64()
            .unwrap_or_else(|| panic!("no kernel counter {counter}"))
    }

    /// Every connection, its streams rebuilt. Asserts that each stream's data and gaps are
    /// contiguous from offset 0, in order, with no overlap.
    pub fn conns(&self) -> HashMap<String, Conn> {
        let mut conns: HashMap<String, Conn> = HashMap::new();
        for e in &self.events {
            let Some(id) = e["connection"]["id"].as_str() else {
                continue;
            };
            match e["type"].as_str() {
                Some("conn_open") => {
                    let c = &e["connection"];
                    let prev = conns.insert(
                        id.to_string(),
                        Conn {
                            id: id.to_string(),
                            pid: e["process"]["pid"].as_u64().unwrap_or(0),
                            comm: e["process"]["comm"].as_str().unwrap_or("").into(),
                            local: endpoint(&c["local"]),
                            peer: endpoint(&c["peer"]),
                            role: c["role"].as_str().unwrap_or("").into(),
                            attribution: c["attribution"].as_str().unwrap_or("").into(),
                            egress: Stream::default(),
                            ingress: Stream::default(),
                            closed: None,
                        },
                    );
                    assert!(prev.is_none(), "connection {id} opened twice");
                }
                Some(t @ ("data" | "gap")) => {
                    let conn = conns
                        .get_mut(id)
                        .unwrap_or_else(|| panic!("{t} before conn_open for {id}"));
                    // Addresses may be learnt after open; keep the latest.
                    conn.local = endpoint(&e["connection"]["local"]);
                    conn.peer = endpoint(&e["connection"]["peer"]);
                    let stream = match e["direction"].as_str() {
                        Some("egress") => &mut conn.egress,
                        _ => &mut conn.ingress,
                    };
                    let offset = e["offset"].as_u64().expect("offset");
                    let expected = stream.bytes.len() as u64 + stream.gap_bytes;
                    assert_eq!(offset, expected, "{t} out of order in {id}");
                    if t == "data" {
                        let b = STANDARD
                            .decode(e["payload_b64"].as_str().expect("payload"))
                            .expect("base64");
                        assert_eq!(b.len() as u64, e["len"].as_u64().expect("len"));
                        stream.bytes.extend_from_slice(&b);
                        let pid = e["process"]["pid"].as_u64().unwrap_or(0);
                        if !stream.pids.contains(&pid) {
                            stream.pids.push(pid);
                        }
                    } else {
                        let len = e["len"].as_u64().expect("len");
                        stream.gap_bytes += len;
                        *stream
                            .gaps
                            .entry(e["cause"].as_str().unwrap_or("?").to_string())
                            .or_default() += len;
                    }
                }
                Some("conn_close") => {
                    if let Some(c) = conns.get_mut(id) {
                        c.closed = Some(e.clone());
                    }
                }
                _ => {}
            }
        }
        conns
    }

    /// Connections of process `pid`.
    pub fn conns_of(&self, pid: u32) -> Vec<Conn> {
        let mut v: Vec<Conn> = self
            .conns()
            .into_values()
            .filter(|c| c.pid == pid as u64)
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}

/// Byte i is i % 251: what the HTTP fixture serves for GET /?size=N.
pub fn http_payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// `n` bytes of text: the fixture's line "the quick brown fox jumps over the lazy dog" repeated.
pub fn text_payload(n: usize) -> String {
    let line = "the quick brown fox jumps over the lazy dog\n";
    line.repeat(n / line.len() + 1)[..n].to_string()
}

/// A TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// The command name the kernel reports for `pid`.
pub fn comm_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_else(|e| panic!("comm of {pid}: {e}"))
        .trim_end()
        .to_string()
}

/// Index of the first occurrence of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Occurrences of `needle` in `hay`.
pub fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}
