//! `cargo xtask bench replay`: generates a recording of N keep-alive API transactions, replays
//! it with JSON written to /dev/null, and prints transactions per second per core (the child's
//! user + system CPU time) and its peak resident memory, against the 300k/s/core target.
//! The monitor measured is built with the `release-lto` profile (fat LTO, one codegen unit):
//! about 6% fewer instructions per transaction than `release`, too slow to build for tests.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{Context, Result, bail};

use crate::{cargo, status};

/// Transactions per second per core the replay pipeline should sustain (issue target).
const TARGET_PER_CORE: f64 = 300_000.0;

/// The Cargo profile the measured monitor is built with (see the workspace Cargo.toml).
const LTO_PROFILE: &str = "release-lto";

pub fn run(root: &Path, transactions: u64, connections: u64) -> Result<()> {
    status(cargo(root).args([
        "build",
        "--release",
        "--package",
        "monitor",
        "--example",
        "gen_recording",
    ]))?;
    status(cargo(root).args([
        "build",
        "--profile",
        LTO_PROFILE,
        "--package",
        "monitor",
        "--bin",
        "monitor",
    ]))?;
    let dir = std::env::temp_dir().join("monitor-bench-replay");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("bench.rec");
    status(
        Command::new(root.join("target/release/examples/gen_recording"))
            .arg(&file)
            .arg(transactions.to_string())
            .arg(connections.to_string()),
    )?;
    let size = std::fs::metadata(&file)?.len();

    println!(
        "replay: {transactions} transactions over {connections} connections, recording {:.0} MiB",
        size as f64 / (1 << 20) as f64
    );
    // The HTTP/1 pipeline alone (the target's scope), then with sessions and discovery (the
    // default), so what discovery costs is measured in the same run.
    let http_only = measure(
        root,
        &file,
        transactions,
        &["--no-discovery"],
        "http only (--no-discovery)",
    )?;
    let full = measure(
        root,
        &file,
        transactions,
        &[],
        "with sessions and discovery (default)",
    )?;
    let _ = std::fs::remove_file(&file);
    println!(
        "  discovery costs {:.2}x the CPU of the HTTP/1 pipeline alone",
        http_only / full
    );
    Ok(())
}

/// Replays `file` with `extra` flags; prints and returns transactions per second per core.
fn measure(
    root: &Path,
    file: &Path,
    transactions: u64,
    extra: &[&str],
    label: &str,
) -> Result<f64> {
    let started = Instant::now();
    let child = Command::new(root.join("target").join(LTO_PROFILE).join("monitor"))
        .args(["replay", "--output", "/dev/null", "--stats-interval", "0"])
        .args(extra)
        .arg(file)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start monitor replay")?;
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.context("no stderr")?;
    let mut log = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut log)?;
    let (code, usage) = wait4(pid)?;
    let wall = started.elapsed().as_secs_f64();
    if code != 0 {
        bail!("monitor replay failed ({code}): {log}");
    }
    // The replay's own count, so a pipeline that drops transactions cannot look fast.
    let replayed = log
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[1].trim_end_matches([',', ';']) == "transactions")
        .and_then(|w| w[0].parse::<u64>().ok())
        .context("monitor replay did not report its transaction count")?;
    if replayed != transactions {
        bail!("replay wrote {replayed} transactions, expected {transactions}");
    }

    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    let per_core = transactions as f64 / cpu;
    let peak_mib = usage.ru_maxrss as f64 / 1024.0;
    println!("  {label}:");
    println!("    wall {wall:.2} s, CPU {cpu:.2} s (user + system), peak RSS {peak_mib:.1} MiB");
    println!(
        "    {per_core:.0} transactions/s per core; {:.0} transactions/s wall",
        transactions as f64 / wall
    );
    println!(
        "    ratio to the {:.0}k/s/core target: {:.2}",
        TARGET_PER_CORE / 1000.0,
        per_core / TARGET_PER_CORE
    );
    Ok(per_core)
}

fn tv(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// Waits for `pid` and returns its exit code and resource usage (CPU time, peak RSS).
fn wait4(pid: libc::pid_t) -> Result<(i32, libc::rusage)> {
    let mut st = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child; both pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut st, 0, &mut usage) };
    if r < 0 {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(st) {
        libc::WEXITSTATUS(st)
    } else {
        -1
    };
    Ok((code, usage))
}
