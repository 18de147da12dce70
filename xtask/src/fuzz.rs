//! `cargo xtask fuzz`: checks the fuzz harness in monitor/fuzz (its own workspace), then runs a
//! cargo-fuzz target for a bounded time with the pinned nightly (cargo-fuzz needs nightly's
//! instrumentation flags), installing cargo-fuzz once. A crash is an error naming the saved input.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

use crate::{bootstrap, cargo, status};

const CARGO_FUZZ_VERSION: &str = "0.13";

/// The HTTP/1 stream parser's target (monitor/fuzz/fuzz_targets/http1_stream.rs).
pub const HTTP1_STREAM: &str = "http1_stream";

/// The injection signatures' target (monitor/fuzz/fuzz_targets/detection_signatures.rs).
pub const DETECTION_SIGNATURES: &str = "detection_signatures";

/// The HTTP/2 frame reader and HPACK decoder's target (monitor/fuzz/fuzz_targets/http2_frames.rs).
pub const HTTP2_FRAMES: &str = "http2_frames";

/// The gRPC framing, protobuf decoder and call summary's target
/// (monitor/fuzz/fuzz_targets/grpc_messages.rs).
pub const GRPC_MESSAGES: &str = "grpc_messages";

/// Seconds `cargo xtask test` fuzzes the HTTP/1 parser for: long enough to replay the seeds
/// and explore around them (a few hundred thousand inputs), short enough that CI (90 min on
/// 2 cores) stays near ten minutes with the fuzz build. Longer runs: `cargo xtask fuzz
/// --seconds N`.
pub const TEST_SECONDS: u64 = 60;

/// What `cargo xtask test` fuzzes, in order, and for how long: the signatures are pure
/// functions of short values, so half the time covers their seeds and surroundings (the fuzz
/// build is shared, so the second target adds little more than its run).
pub const TEST_TARGETS: [(&str, u64); 4] = [
    (HTTP1_STREAM, TEST_SECONDS),
    (DETECTION_SIGNATURES, 30),
    (HTTP2_FRAMES, 30),
    (GRPC_MESSAGES, 30),
];

/// The parser is safe Rust: its findings are panics (assertions, overflow and bounds checks,
/// on by default in cargo-fuzz builds), which need no sanitizer; without AddressSanitizer inputs
/// run about 7 times faster.
const SANITIZER: &str = "none";

/// Inputs longer than this are not generated: the fuzzed limits are ≤ 4 KiB, so longer inputs
/// only slow the search.
const MAX_INPUT_BYTES: u32 = 8192;

/// One input running longer than this is a finding (a parser loop that does not progress), not
/// a wait until the 20-minute libFuzzer default.
const INPUT_TIMEOUT_SECS: u32 = 10;

/// The harness is not in the main workspace, so `cargo xtask test`'s fmt and clippy skip it.
pub fn lint(root: &Path) -> Result<()> {
    let manifest = manifest(root);
    status(
        cargo(root)
            .args(["fmt", "--check", "--manifest-path"])
            .arg(&manifest),
    )?;
    status(
        cargo(root)
            .args(["clippy", "--all-targets", "--manifest-path"])
            .arg(&manifest)
            .args(["--", "-D", "warnings"]),
    )
}

/// The harness's own tests: the input format round-trips and the seed corpus is current.
pub fn harness_tests(root: &Path) -> Command {
    let mut cmd = cargo(root);
    cmd.args(["test", "--manifest-path"]).arg(manifest(root));
    cmd
}

fn manifest(root: &Path) -> PathBuf {
    root.join("monitor/fuzz/Cargo.toml")
}

/// `cargo xtask fuzz`: the harness's tests, then the fuzzer.
pub fn check_and_run(root: &Path, target: &str, seconds: u64) -> Result<()> {
    status(&mut harness_tests(root))?;
    run(root, target, seconds)
}

pub fn run(root: &Path, target: &str, seconds: u64) -> Result<()> {
    cargo_fuzz()?;
    let toolchain = bootstrap::pinned_toolchain(root)?;
    let fuzz_dir = root.join("monitor/fuzz");
    let seeds = fuzz_dir.join("corpus").join(target);
    // What libFuzzer adds goes here, so the committed seeds stay as written.
    let grown = fuzz_dir.join("target/corpus").join(target);
    fs::create_dir_all(&grown).with_context(|| format!("creating {}", grown.display()))?;
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let before = files(&artifacts);

    eprintln!("xtask: fuzzing {target} for {seconds} s with {toolchain}");
    let mut cmd = Command::new("cargo");
    cmd.arg(format!("+{toolchain}"))
        .args(["fuzz", "run", target])
        .args(["--sanitizer", SANITIZER])
        .arg(&grown)
        .arg(&seeds);
    // Inputs that once crashed it (kept, and replayed by the harness's tests); a target that
    // never crashed has none, and libFuzzer refuses a corpus directory that does not exist.
    let regressions = fuzz_dir.join("regressions").join(target);
    if regressions.is_dir() {
        cmd.arg(regressions);
    }
    cmd.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-rss_limit_mb=2048")
        .arg(format!("-max_len={MAX_INPUT_BYTES}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        .arg("-print_final_stats=1")
        // cargo fuzz finds fuzz/ from here; the monitor's build script finds bpf-linker in .tools.
        .current_dir(root.join("monitor"))
        .env("PATH", bootstrap::path_with_tools(root))
        // Set by the stable cargo running xtask; they would override `+toolchain` below.
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO");
    let st = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if st.success() {
        return Ok(());
    }
    let found: Vec<PathBuf> = files(&artifacts)
        .difference(&before)
        .map(|name| artifacts.join(name))
        .collect();
    if found.is_empty() {
        bail!("fuzzing {target} failed ({st}) without saving an input: see the output above");
    }
    for path in &found {
        eprintln!("xtask: {target} crashed on {}", path.display());
    }
    bail!(
        "fuzzing {target} found a crash; replay with `cargo +{toolchain} fuzz run --sanitizer {SANITIZER} {target} {}` in monitor/",
        found[0].display()
    )
}

/// File names in a directory (none when it does not exist).
fn files(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Installs cargo-fuzz into cargo's own bin directory, like any cargo subcommand, once.
fn cargo_fuzz() -> Result<()> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if installed {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz {CARGO_FUZZ_VERSION} (about a minute)");
    let st = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked", "--version"])
        .arg(format!("^{CARGO_FUZZ_VERSION}"))
        .status()
        .context("running cargo install cargo-fuzz")?;
    if !st.success() {
        bail!("installing cargo-fuzz failed");
    }
    Ok(())
}
