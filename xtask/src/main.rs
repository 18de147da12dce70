//! Developer tasks: `cargo xtask run | test | build | bootstrap | bench capture | fuzz`.
//! Everything a fresh machine lacks is installed by `bootstrap`, which the others call first.

mod bench;
mod bootstrap;
mod boringssl;
mod fuzz;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install the eBPF toolchain (pinned nightly + rust-src, bpf-linker) and test packages, and
    /// build the BoringSSL the TLS tests load (as root, once).
    Bootstrap,
    /// Bootstrap, then build the monitor (release).
    Build,
    /// Bootstrap, build, and run the monitor on this host: JSON lines on stdout.
    Run {
        /// Arguments for `monitor run` (e.g. --port 8080, --raw).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Bootstrap, build, lint, and run every test (eBPF tests need root).
    Test,
    /// Benchmarks that print ratios measured in one run.
    Bench {
        #[command(subcommand)]
        which: bench::Bench,
    },
    /// Bootstrap, then fuzz a parser for a bounded time (installs cargo-fuzz once).
    Fuzz {
        /// How long to fuzz.
        #[arg(long, default_value_t = fuzz::TEST_SECONDS)]
        seconds: u64,
        /// Which target of monitor/fuzz/fuzz_targets.
        #[arg(long, default_value = fuzz::HTTP1_STREAM)]
        target: String,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    match cli.task {
        Task::Bootstrap => {
            bootstrap::all(&root, true)?;
            boringssl::ensure()
        }
        Task::Build => {
            bootstrap::all(&root, false)?;
            build(&root)
        }
        Task::Run { args } => {
            bootstrap::all(&root, false)?;
            build(&root)?;
            run(&root, args)
        }
        Task::Test => {
            bootstrap::all(&root, true)?;
            boringssl::ensure()?;
            test(&root)
        }
        Task::Bench { which } => {
            bootstrap::all(&root, true)?;
            build(&root)?;
            bench::run(&root, which)
        }
        Task::Fuzz { seconds, target } => {
            bootstrap::all(&root, false)?;
            fuzz::check_and_run(&root, &target, seconds)
        }
    }
}

fn workspace_root() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent()
        .map(Path::to_path_buf)
        .context("xtask is not inside the workspace")
}

/// A cargo command with the installed tools first on PATH.
pub(crate) fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root);
    cmd.env("PATH", bootstrap::path_with_tools(root));
    cmd
}

pub(crate) fn status(cmd: &mut Command) -> Result<()> {
    let st = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !st.success() {
        bail!("{cmd:?} failed: {st}");
    }
    Ok(())
}

fn build(root: &Path) -> Result<()> {
    status(cargo(root).args(["build", "--release", "--package", "monitor"]))
}

pub fn monitor_binary(root: &Path) -> PathBuf {
    root.join("target/release/monitor")
}

fn run(root: &Path, args: Vec<String>) -> Result<()> {
    let bin = monitor_binary(root);
    // SAFETY: geteuid has no preconditions.
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
        Command::new(&bin)
    } else {
        eprintln!("xtask: the monitor needs root; running it with sudo");
        let mut c = Command::new("sudo");
        c.arg(&bin);
        c
    };
    cmd.arg("run").args(args);
    status(&mut cmd)
}

fn test(root: &Path) -> Result<()> {
    status(cargo(root).args(["fmt", "--all", "--check"]))?;
    status(cargo(root).args([
        "clippy",
        "--workspace",
        "--exclude",
        "monitor-ebpf",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    fuzz::lint(root)?;
    // The eBPF tests run the release binary, as users do.
    build(root)?;
    let mut cmd = cargo(root);
    cmd.args([
        "test",
        "--workspace",
        "--exclude",
        "monitor-ebpf",
        "--release",
    ])
    .env("MONITOR_BIN", monitor_binary(root))
    .args(["--", "--test-threads=1"]);
    let mut tally = Tally::default();
    let mut ok = tally.cargo_test(&mut cmd)?;
    ok &= tally.cargo_test(&mut fuzz::harness_tests(root))?;
    // Each bounded fuzz run counts as one test.
    for (target, seconds) in fuzz::TEST_TARGETS {
        let name = format!("fuzz {target} {seconds}s");
        match fuzz::run(root, target, seconds) {
            Ok(()) => {
                println!("test {name} ... ok");
                tally.passed += 1;
            }
            Err(err) => {
                println!("test {name} ... FAILED: {err:#}");
                tally.failed += 1;
                ok = false;
            }
        }
    }
    // One closing line over every test binary, so CI reads the whole run, not the last binary.
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if !ok {
        bail!("tests failed");
    }
    Ok(())
}

/// Tests counted over several runs.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Runs a `cargo test` command, echoing and counting its results; whether it succeeded.
    fn cargo_test(&mut self, cmd: &mut Command) -> Result<bool> {
        cmd.stdout(std::process::Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {cmd:?}"))?;
        if let Some(out) = child.stdout.take() {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines() {
                let line = line?;
                println!("{line}");
                if let Some((p, f)) = test_counts(&line) {
                    self.passed += p;
                    self.failed += f;
                }
            }
        }
        Ok(child.wait()?.success())
    }
}

/// "test result: ok. 33 passed; 0 failed; ..." → (33, 0).
fn test_counts(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("test result: ")?;
    let mut passed = None;
    let mut failed = None;
    for part in rest.split([';', '.']) {
        let mut words = part.split_whitespace();
        if let (Some(n), Some(what)) = (words.next(), words.next()) {
            match what {
                "passed" => passed = n.parse().ok(),
                "failed" => failed = n.parse().ok(),
                _ => {}
            }
        }
    }
    Some((passed?, failed?))
}
