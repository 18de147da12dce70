//! `cargo xtask bench http2`: h2c (prior knowledge) throughput of a local nginx under h2load,
//! without the monitor and with it turning every stream into an `http` event, printed as a
//! ratio measured in one run with the monitor's CPU seconds per 10k requests and how many of
//! the requests it showed; then the same load captured with `monitor record`, and that
//! recording replayed to give HTTP/2 transactions per second per core.

use std::{
    fs,
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};

use super::{Nginx, cpu_seconds, nproc, stop, wait_ready};

const PORT: u16 = 18_082;

pub fn run(root: &Path, requests: u64, clients: u32, streams: u32, runs: u32) -> Result<()> {
    let dir = std::env::temp_dir().join("monitor-bench-http2");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let mut nginx = Nginx::start(
        &dir,
        PORT,
        &format!(
            "listen 127.0.0.1:{PORT} http2; keepalive_requests 100000000; location / {{ return 200 'hello from the http2 benchmark\\n'; }}"
        ),
    )?;
    let url = format!("http://127.0.0.1:{PORT}/api/items");
    let load = Load {
        url: &url,
        requests,
        clients,
        streams,
    };

    let base1 = load.run()?;
    let port = PORT.to_string();
    let out = dir.join("monitor.jsonl");
    let (with, cpu) = with_monitor(
        root,
        &[
            "run",
            "--stats-interval",
            "0",
            "--port",
            &port,
            "--output",
            path(&out)?,
        ],
        &load,
    )?;
    let base2 = load.run()?;
    let seen = seen(&out)?;
    let recording = dir.join("h2.rec");
    let (recorded, _) = with_monitor(
        root,
        &["record", "--port", &port, "--out", path(&recording)?],
        &load,
    )?;
    nginx.stop();
    let _ = fs::remove_file(&out);

    let base = (base1.per_sec + base2.per_sec) / 2.0;
    let per_10k = |cpu: f64, r: &H2Result| cpu * 10_000.0 / r.succeeded.max(1) as f64;
    println!(
        "http2 benchmark: nginx h2c (prior knowledge) on 127.0.0.1:{PORT}, h2load -n{requests} -c{clients} -m{streams}, {} cores",
        nproc()
    );
    println!(
        "  without monitor:            {:.0} req/s (before), {:.0} req/s (after)",
        base1.per_sec, base2.per_sec
    );
    println!(
        "  with monitor (http events): {:.0} req/s  ratio {:.3}  monitor CPU {:.3} s per 10k requests",
        with.per_sec,
        with.per_sec / base,
        per_10k(cpu, &with)
    );
    println!(
        "  requests shown: {} of {} as HTTP/2 server transactions ({} client transactions, {} streams reset)",
        seen.server, with.succeeded, seen.client, seen.reset
    );
    if seen.server < with.succeeded {
        println!(
            "  ({} requests not shown: see the monitor's stats, e.g. ring-buffer losses under load)",
            with.succeeded - seen.server
        );
    }
    println!(
        "  recording the same load: {:.0} req/s, {:.1} MiB recorded",
        recorded.per_sec,
        fs::metadata(&recording).map_or(0.0, |m| m.len() as f64 / (1 << 20) as f64)
    );
    replay(root, &recording, runs)?;
    let _ = fs::remove_file(&recording);
    Ok(())
}

/// Replays the recording `runs` times; prints the best run's HTTP/2 transactions per second
/// per core (user + system CPU of the replay).
fn replay(root: &Path, recording: &Path, runs: u32) -> Result<()> {
    let mut best: Option<(f64, u64)> = None;
    for _ in 0..runs {
        let child = Command::new(crate::monitor_binary(root))
            .args(["replay", "--output", "/dev/stdout", "--stats-interval", "0"])
            .arg(recording)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting monitor replay")?;
        let pid = child.id();
        let stdout = child.stdout.context("replay stdout")?;
        let mut transactions = 0u64;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if line.contains("\"type\":\"http\"") && line.contains("\"version\":\"2\"") {
                transactions += 1;
            }
        }
        let cpu = child_cpu(pid)?;
        if best.is_none_or(|(b, _)| cpu < b) {
            best = Some((cpu, transactions));
        }
    }
    let (cpu, transactions) = best.context("no replay ran")?;
    if transactions == 0 {
        bail!(
            "the replay of {} showed no HTTP/2 transaction",
            recording.display()
        );
    }
    println!(
        "  replay of the recording: {transactions} HTTP/2 transactions, {:.0} per second per core (best of {runs}, JSON to a pipe)",
        transactions as f64 / cpu.max(1e-9)
    );
    Ok(())
}

/// Waits for the child and returns its user + system CPU seconds.
fn child_cpu(pid: u32) -> Result<f64> {
    let (code, usage) = super::replay::wait4(pid as libc::pid_t)?;
    if code != 0 {
        bail!("monitor replay failed ({code})");
    }
    Ok(super::replay::tv(usage.ru_utime) + super::replay::tv(usage.ru_stime))
}

fn path(p: &Path) -> Result<&str> {
    p.to_str().context("a temporary path is not UTF-8")
}

/// Runs the load with the monitor started with `args`; the load's result and the monitor's
/// CPU seconds during it.
fn with_monitor(root: &Path, args: &[&str], load: &Load) -> Result<(H2Result, f64)> {
    let mut monitor = Command::new(crate::monitor_binary(root))
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the monitor")?;
    wait_ready(&mut monitor)?;
    let before = cpu_seconds(monitor.id())?;
    let result = load.run();
    let cpu = cpu_seconds(monitor.id())? - before;
    stop(&mut monitor)?;
    Ok((result?, cpu))
}

struct Load<'a> {
    url: &'a str,
    requests: u64,
    clients: u32,
    streams: u32,
}

struct H2Result {
    succeeded: u64,
    per_sec: f64,
}

impl Load<'_> {
    fn run(&self) -> Result<H2Result> {
        let out = Command::new("h2load")
            .args([
                "-n",
                &self.requests.to_string(),
                "-c",
                &self.clients.to_string(),
                "-m",
                &self.streams.to_string(),
                self.url,
            ])
            .output()
            .context("running h2load (Debian package nghttp2-client)")?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "h2load failed: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let r =
            parse_h2load(&text).with_context(|| format!("h2load printed no summary:\n{text}"))?;
        if r.succeeded != self.requests {
            bail!(
                "h2load: {} of {} requests succeeded:\n{text}",
                r.succeeded,
                self.requests
            );
        }
        Ok(r)
    }
}

/// From h2load's summary: `finished in 1.02s, 9803.92 req/s, ...` and
/// `requests: 10000 total, 10000 started, 10000 done, 10000 succeeded, ...`.
fn parse_h2load(text: &str) -> Option<H2Result> {
    let per_sec = text
        .lines()
        .find_map(|l| l.strip_prefix("finished in "))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|r| r.strip_suffix(" req/s"))
        .and_then(|r| r.parse().ok())?;
    let succeeded = text
        .lines()
        .find_map(|l| l.strip_prefix("requests: "))
        .and_then(|l| l.split(", ").find_map(|p| p.strip_suffix(" succeeded")))
        .and_then(|n| n.parse().ok())?;
    Some(H2Result { succeeded, per_sec })
}

#[derive(Default)]
struct Seen {
    server: u64,
    client: u64,
    reset: u64,
}

/// The HTTP/2 transactions in the monitor's output, by the side of the connection they were
/// seen on.
fn seen(file: &Path) -> Result<Seen> {
    let mut seen = Seen::default();
    let f = fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
    for line in BufReader::new(f).lines() {
        let line = line?;
        if !line.contains("\"type\":\"http\"") || !line.contains("\"version\":\"2\"") {
            continue;
        }
        if line.contains("\"role\":\"server\"") {
            seen.server += 1;
        } else {
            seen.client += 1;
        }
        if line.contains("stream_reset") {
            seen.reset += 1;
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::parse_h2load;

    #[test]
    fn reads_h2loads_summary() {
        let text = "finished in 1.02s, 9803.92 req/s, 1.2MB/s\n\
                    requests: 10000 total, 10000 started, 10000 done, 9990 succeeded, 10 failed, 0 errored, 0 timeout\n";
        let r = parse_h2load(text).unwrap();
        assert_eq!(r.succeeded, 9990);
        assert!((r.per_sec - 9803.92).abs() < 1e-6);
        assert!(parse_h2load("no summary").is_none());
    }
}
