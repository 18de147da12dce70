//! `cargo xtask bench tls`: HTTPS throughput of a local nginx under wrk (keep-alive, both using
//! the host's shared OpenSSL, so both ends are hooked) without the monitor, with its uprobes
//! firing but nothing kept, and capturing every transaction as a JSON line; printed as ratios
//! measured in one run, with the monitor's CPU seconds per 10k requests and how many of the
//! requests it showed in plaintext.

use std::{
    fs,
    io::{BufRead, BufReader},
    path::Path,
    process::Command,
};

use anyhow::{Context, Result, bail};

use super::{Nginx, WrkResult, nproc, with_monitor, wrk};

const PORT: u16 = 18_443;

pub fn run(root: &Path, seconds: u64, connections: u32) -> Result<()> {
    let dir = std::env::temp_dir().join("monitor-bench-tls");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let (cert, key) = self_signed(&dir)?;
    let mut nginx = Nginx::start(
        &dir,
        PORT,
        &format!(
            "listen 127.0.0.1:{PORT} ssl; ssl_certificate {}; ssl_certificate_key {};
             location / {{ return 200 'hello from the tls benchmark\\n'; }}",
            cert.display(),
            key.display()
        ),
    )?;
    let url = format!("https://127.0.0.1:{PORT}/");

    let base1 = wrk(&url, seconds, connections)?;
    // Uprobes on SSL_read/SSL_write fire for every call, but a port filter that matches
    // nothing keeps no byte: the cost of the hooks alone.
    let (hooks, hooks_cpu) =
        with_monitor(root, &dir, &["--port", "1"], &url, seconds, connections)?;
    // Plaintext of both ends parsed into http transactions, one JSON line each.
    let port = PORT.to_string();
    let (with, cpu) = with_monitor(root, &dir, &["--port", &port], &url, seconds, connections)?;
    let base2 = wrk(&url, seconds, connections)?;
    nginx.stop();
    let seen = Seen::read(&dir.join("monitor.jsonl"))?;
    let _ = fs::remove_file(dir.join("monitor.jsonl"));

    let base = (base1.requests_per_sec + base2.requests_per_sec) / 2.0;
    let per_10k = |cpu: f64, r: &WrkResult| cpu * 10_000.0 / r.requests.max(1) as f64;
    println!(
        "tls benchmark: nginx HTTPS (OpenSSL) on 127.0.0.1:{PORT}, wrk -c{connections} -t2 -d{seconds}s keep-alive, {} cores",
        nproc()
    );
    println!(
        "  without monitor:            {:.0} req/s (before), {:.0} req/s (after)",
        base1.requests_per_sec, base2.requests_per_sec
    );
    println!(
        "  uprobes only (nothing kept): {:.0} req/s  ratio {:.3}  monitor CPU {:.3} s per 10k requests",
        hooks.requests_per_sec,
        hooks.requests_per_sec / base,
        per_10k(hooks_cpu, &hooks)
    );
    println!(
        "  capturing TLS plaintext:     {:.0} req/s  ratio {:.3}  monitor CPU {:.3} s per 10k requests",
        with.requests_per_sec,
        with.requests_per_sec / base,
        per_10k(cpu, &with)
    );
    // wrk counts only completed requests; each is one client and one server transaction.
    println!(
        "  the capturing run wrote {} tls http transactions (client {}, server {}) for {} wrk requests; \
         {} other http lines; ring buffer full events {}",
        seen.client + seen.server,
        seen.client,
        seen.server,
        with.requests,
        seen.other,
        seen.ringbuf_full
    );
    println!(
        "  its final stats: outcomes {}; kernel {}",
        seen.outcomes,
        seen.tls_counters.join(" ")
    );
    Ok(())
}

/// What the capturing run wrote.
#[derive(Default)]
struct Seen {
    client: u64,
    server: u64,
    other: u64,
    ringbuf_full: u64,
    /// From the last stats line: `http.outcomes` and the kernel's `tls_*` counters, as written.
    outcomes: String,
    tls_counters: Vec<String>,
}

impl Seen {
    fn read(file: &Path) -> Result<Seen> {
        let mut seen = Seen::default();
        let f = fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
        for line in BufReader::new(f).lines() {
            let line = line?;
            // The output's own layout: cheap substring checks instead of parsing every line.
            if line.starts_with(r#"{"type":"http""#) {
                match (
                    line.contains(r#""tls":true"#),
                    line.contains(r#""role":"client""#),
                ) {
                    (true, true) => seen.client += 1,
                    (true, false) => seen.server += 1,
                    (false, _) => seen.other += 1,
                }
            } else if line.starts_with(r#"{"type":"stats""#) {
                seen.ringbuf_full = line
                    .split(r#""ringbuf_full_events":"#)
                    .nth(1)
                    .and_then(|r| r.split([',', '}']).next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(seen.ringbuf_full);
                if let Some(rest) = line.split(r#""outcomes":"#).nth(1)
                    && let Some(end) = rest.find('}')
                {
                    seen.outcomes = rest[..=end].to_string();
                }
                seen.tls_counters = line
                    .split([',', '{'])
                    .filter(|f| f.starts_with(r#""tls_"#) && !f.ends_with(':'))
                    .map(|f| f.replace('"', ""))
                    .collect();
            }
        }
        Ok(seen)
    }
}

/// A throwaway certificate for 127.0.0.1, made with the openssl CLI.
fn self_signed(dir: &Path) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .context("running openssl req")?;
    if !out.status.success() {
        bail!(
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((cert, key))
}
