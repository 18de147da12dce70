//! `cargo xtask bench capture`: a local HTTP load's throughput with and without the monitor,
//! measured in one run and printed as a ratio, and the monitor's CPU seconds per 10k requests.
//! `cargo xtask bench replay`: see `replay.rs`. `cargo xtask bench tls`: see `tls.rs`.
//! `cargo xtask bench http2`: see `http2.rs`.

mod http2;
mod replay;
mod tls;

use std::{
    fs,
    path::Path,
    process::{Child, Command, Stdio},
    thread::sleep,
    time::Duration,
};

use anyhow::{Context, Result, bail};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Bench {
    /// Capture overhead on a local nginx under wrk.
    Capture {
        /// Seconds per load phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 50)]
        connections: u32,
    },
    /// Transactions per second per core replaying a large generated recording, and peak memory.
    Replay {
        /// Transactions in the generated recording.
        #[arg(long, default_value_t = 400_000)]
        transactions: u64,
        /// Keep-alive connections they are spread over.
        #[arg(long, default_value_t = 256)]
        connections: u64,
        /// Replays per mode, alternating modes; the best and the median are printed (a shared
        /// machine's neighbours only ever slow a run down).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
        runs: u32,
    },
    /// HTTP/2 (h2c) capture overhead on a local nginx under h2load, and replay speed of a
    /// recording of that load.
    Http2 {
        /// Requests per load phase.
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
        /// Concurrent connections (h2load -c).
        #[arg(long, default_value_t = 10)]
        clients: u32,
        /// Concurrent streams per connection (h2load -m).
        #[arg(long, default_value_t = 10)]
        streams: u32,
        /// Replays of the recording; the best is printed.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
        runs: u32,
    },
    /// TLS capture overhead (uprobes on OpenSSL) on a local HTTPS nginx under wrk.
    Tls {
        /// Seconds per load phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 50)]
        connections: u32,
    },
}

pub fn run(root: &Path, which: Bench) -> Result<()> {
    match which {
        Bench::Capture {
            seconds,
            connections,
        } => capture(root, seconds, connections),
        Bench::Replay {
            transactions,
            connections,
            runs,
        } => replay::run(root, transactions, connections, runs),
        Bench::Tls {
            seconds,
            connections,
        } => tls::run(root, seconds, connections),
        Bench::Http2 {
            requests,
            clients,
            streams,
            runs,
        } => http2::run(root, requests, clients, streams, runs),
    }
}

const PORT: u16 = 18_080;

fn capture(root: &Path, seconds: u64, connections: u32) -> Result<()> {
    let dir = std::env::temp_dir().join("monitor-bench-capture");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let mut nginx = Nginx::start(
        &dir,
        PORT,
        &format!(
            "listen 127.0.0.1:{PORT}; location / {{ return 200 'hello from the capture benchmark\\n'; }}"
        ),
    )?;
    let url = format!("http://127.0.0.1:{PORT}/");

    let base1 = wrk(&url, seconds, connections)?;
    // Probes attached but a port filter that matches nothing: the cost of the hooks alone.
    let (hooks, hooks_cpu) = with_monitor(
        root,
        &dir,
        &["--raw", "--port", "1"],
        &url,
        seconds,
        connections,
    )?;
    // Capturing this traffic and writing every chunk as a raw JSON line.
    let port = PORT.to_string();
    let (with, cpu) = with_monitor(
        root,
        &dir,
        &["--raw", "--port", &port],
        &url,
        seconds,
        connections,
    )?;
    // The same with enforcement on: the ingress program sees every packet, its tries hold
    // 10k idle decisions (restored from the state directory), none matching this traffic.
    let state = dir.join("state");
    write_idle_blocklist(&state, IDLE_BLOCKS)?;
    let socket = dir.join("control.sock");
    let (enforced, enforced_cpu) = with_monitor(
        root,
        &dir,
        &[
            "--raw",
            "--port",
            &port,
            "--enforce",
            "on",
            "--state-dir",
            state.to_str().unwrap_or_default(),
            "--control-socket",
            socket.to_str().unwrap_or_default(),
        ],
        &url,
        seconds,
        connections,
    )?;
    let restored = fs::read_to_string(dir.join("monitor.jsonl"))
        .map(|s| s.matches("\"type\":\"block\"").count())
        .unwrap_or(0);
    let base2 = wrk(&url, seconds, connections)?;
    nginx.stop();

    let base = (base1.requests_per_sec + base2.requests_per_sec) / 2.0;
    let per_10k = |cpu: f64, r: &WrkResult| cpu * 10_000.0 / r.requests.max(1) as f64;
    println!(
        "capture benchmark: nginx on 127.0.0.1:{PORT}, wrk -c{connections} -t2 -d{seconds}s, {} cores",
        nproc()
    );
    println!(
        "  without monitor:            {:.0} req/s (before), {:.0} req/s (after)",
        base1.requests_per_sec, base2.requests_per_sec
    );
    println!(
        "  hooks only (nothing kept):  {:.0} req/s  ratio {:.3}  monitor CPU {:.3} s per 10k requests",
        hooks.requests_per_sec,
        hooks.requests_per_sec / base,
        per_10k(hooks_cpu, &hooks)
    );
    println!(
        "  capturing, raw JSON lines:  {:.0} req/s  ratio {:.3}  monitor CPU {:.3} s per 10k requests",
        with.requests_per_sec,
        with.requests_per_sec / base,
        per_10k(cpu, &with)
    );
    println!(
        "  capturing + --enforce on, {IDLE_BLOCKS} idle blocks ({restored} restored): {:.0} req/s  ratio {:.3} ({:.3} of capturing alone)  monitor CPU {:.3} s per 10k requests",
        enforced.requests_per_sec,
        enforced.requests_per_sec / base,
        enforced.requests_per_sec / with.requests_per_sec.max(1.0),
        per_10k(enforced_cpu, &enforced)
    );
    Ok(())
}

/// Decisions in the enforcement benchmark's idle blocklist.
const IDLE_BLOCKS: u32 = 10_000;

/// An enforcement state of `n` operator blocks of 198.18.0.0/15 addresses (the benchmarking
/// range: nothing here talks from them), an hour long, for the monitor to restore.
fn write_idle_blocklist(dir: &Path, n: u32) -> Result<()> {
    fs::create_dir_all(dir)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;
    let mut text = String::from("{\"version\":1,\"next_id\":");
    text.push_str(&(n + 1).to_string());
    text.push_str(",\"decisions\":[");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        let ip = format!("198.{}.{}.{}", 18 + (i >> 16), (i >> 8) & 0xff, i & 0xff);
        text.push_str(&format!(
            "{{\"id\":{},\"target\":{{\"ip\":\"{ip}/32\"}},\"origin\":\"operator\",\"reason\":\"bench\",\"since_unix_ns\":{now},\"expires_unix_ns\":{}}}",
            i + 1,
            now + 3_600_000_000_000
        ));
    }
    text.push_str("]}");
    fs::write(dir.join("enforcement-state.json"), text)?;
    Ok(())
}

/// Runs the load with `monitor run ARGS` writing to DIR/monitor.jsonl; returns the load's
/// result and the monitor's CPU seconds (user + system) during it.
fn with_monitor(
    root: &Path,
    dir: &Path,
    args: &[&str],
    url: &str,
    seconds: u64,
    connections: u32,
) -> Result<(WrkResult, f64)> {
    let mut monitor = Command::new(crate::monitor_binary(root))
        .args(["run", "--stats-interval", "0"])
        .args(args)
        .arg("--output")
        .arg(dir.join("monitor.jsonl"))
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the monitor")?;
    wait_ready(&mut monitor)?;
    let before = cpu_seconds(monitor.id())?;
    let result = wrk(url, seconds, connections)?;
    let cpu = cpu_seconds(monitor.id())? - before;
    stop(&mut monitor)?;
    Ok((result, cpu))
}

fn nproc() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

struct WrkResult {
    requests: u64,
    requests_per_sec: f64,
}

fn wrk(url: &str, seconds: u64, connections: u32) -> Result<WrkResult> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            url,
        ])
        .output()
        .context("running wrk")?;
    if !out.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .context("wrk printed no Requests/sec")?;
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("wrk printed no request count")?;
    Ok(WrkResult {
        requests,
        requests_per_sec: rps,
    })
}

fn wait_ready(child: &mut Child) -> Result<()> {
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take().context("monitor stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let line = line?;
        if line.contains("ready:") {
            std::thread::spawn(move || for _ in lines {});
            return Ok(());
        }
        eprintln!("{line}");
    }
    bail!("the monitor exited before it was ready")
}

fn stop(child: &mut Child) -> Result<()> {
    // SAFETY: plain signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let st = child.wait()?;
    if !st.success() {
        bail!("the monitor exited with {st}");
    }
    Ok(())
}

/// utime + stime of a process, seconds.
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').map(|(_, r)| r).context("bad stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(ticks / hz)
}

struct Nginx {
    child: Child,
}

impl Nginx {
    /// nginx with one worker and one server block (`server`: its directives) on `port`.
    fn start(dir: &Path, port: u16, server: &str) -> Result<Self> {
        let conf = dir.join("nginx.conf");
        fs::write(
            &conf,
            format!(
                "daemon off; worker_processes 1; pid {dir}/nginx.pid; error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir}; uwsgi_temp_path {dir}; scgi_temp_path {dir};
  server {{ {server} }} }}\n",
                dir = dir.display()
            ),
        )?;
        let child = Command::new("nginx")
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir)
            .spawn()
            .context("starting nginx")?;
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { child });
            }
            sleep(Duration::from_millis(100));
        }
        bail!("nginx did not start listening on {port}")
    }

    fn stop(&mut self) {
        // SAFETY: plain signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGQUIT) };
        let _ = self.child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
