//! Developer tasks: `cargo xtask run | test | build | bootstrap | bench capture`.
//! Everything a fresh machine lacks is installed by `bootstrap`, which the others call first.

mod bench;
mod bootstrap;

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
    /// Install the eBPF toolchain (pinned nightly + rust-src, bpf-linker) and test packages.
    Bootstrap,
    /// Bootstrap, then build the monitor (release).
    Build,
    /// Bootstrap, build, and run the monitor on this host: JSON lines on stdout.
    Run {
        /// Arguments for `monitor run` (default: --raw).
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
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    match cli.task {
        Task::Bootstrap => bootstrap::all(&root, true),
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
            test(&root)
        }
        Task::Bench { which } => {
            bootstrap::all(&root, true)?;
            build(&root)?;
            bench::run(&root, which)
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
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root);
    cmd.env("PATH", bootstrap::path_with_tools(root));
    cmd
}

fn status(cmd: &mut Command) -> Result<()> {
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
    let args = if args.is_empty() {
        vec!["--raw".to_string()]
    } else {
        args
    };
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
    // The eBPF tests run the release binary, as users do.
    build(root)?;
    status(
        cargo(root)
            .args([
                "test",
                "--workspace",
                "--exclude",
                "monitor-ebpf",
                "--release",
            ])
            .env("MONITOR_BIN", monitor_binary(root))
            .args(["--", "--test-threads=1"]),
    )
}
