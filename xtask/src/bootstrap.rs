//! Installs what building and testing need, idempotently and quickly when already done:
//! the pinned nightly with rust-src (for the eBPF crate), bpf-linker built from crates.io against
//! that nightly's own libLLVM (so their LLVM versions always match), and Debian packages used by
//! the tests and benchmarks. (The tests' BoringSSL is built by boringssl.rs.)

use std::{
    ffi::OsString,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

const BPF_LINKER_VERSION: &str = "0.13";

/// Programs the tests and benchmarks drive, with the Debian package providing each.
const PACKAGES: &[(&str, &str)] = &[
    ("curl", "curl"),
    ("python3", "python3"),
    ("nginx", "nginx-light"),
    ("wrk", "wrk"),
    ("hey", "hey"),
    ("nc", "netcat-openbsd"),
    // The TLS tests: a GnuTLS client, their Go client's compiler, certificates, mount
    // namespaces. (node comes from the machine image, not Debian: see .ci/run.)
    ("wget", "wget"),
    ("go", "golang-go"),
    ("openssl", "openssl"),
    ("unshare", "util-linux"),
    // Build the BoringSSL the TLS tests load (see boringssl.rs).
    ("cmake", "cmake"),
    ("ninja", "ninja-build"),
    // The live detection tests' attack tools, Debian 12's versions and their user agents:
    // sqlmap 1.7.2 ("sqlmap/1.7.2#stable (https://sqlmap.org)"), hydra 9.4 ("Mozilla/5.0
    // (Hydra)"), gobuster 3.5 ("gobuster/3.5"). Their load tool, locust, and the live tests'
    // FastAPI are pip-installed, pinned, into scratch directories by the tests themselves.
    ("sqlmap", "sqlmap"),
    ("hydra", "hydra"),
    ("gobuster", "gobuster"),
    ("pip3", "python3-pip"),
    // The live enforcement tests put the attacker and a benign client in network namespaces
    // joined to the host by veth pairs.
    ("ip", "iproute2"),
    // The live HTTP/2 tests: an h2c server, and a client with concurrent streams.
    ("nghttpd", "nghttp2-server"),
    ("nghttp", "nghttp2-client"),
];

pub fn all(root: &Path, system_packages: bool) -> Result<()> {
    let toolchain = pinned_toolchain(root)?;
    nightly(&toolchain)?;
    bpf_linker(root, &toolchain)?;
    if system_packages {
        packages()?;
    }
    Ok(())
}

/// The channel in monitor-ebpf/rust-toolchain.toml (the one place it is written).
pub fn pinned_toolchain(root: &Path) -> Result<String> {
    let file = root.join("monitor-ebpf/rust-toolchain.toml");
    let text = fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("channel"))
        .filter_map(|r| r.trim().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"').to_string())
        .next()
        .with_context(|| format!("{} names no channel", file.display()))
}

fn sysroot(toolchain: &str) -> Option<PathBuf> {
    let out = Command::new("rustup")
        .args(["run", toolchain, "rustc", "--print", "sysroot"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn nightly(toolchain: &str) -> Result<()> {
    if let Some(root) = sysroot(toolchain)
        && root.join("lib/rustlib/src/rust/library/core").is_dir()
    {
        return Ok(());
    }
    eprintln!("xtask: installing {toolchain} with rust-src (eBPF toolchain)");
    let st = Command::new("rustup")
        .args([
            "toolchain",
            "install",
            toolchain,
            "--profile",
            "minimal",
            "-c",
            "rust-src",
        ])
        .status()
        .context("running rustup")?;
    if !st.success() {
        bail!("rustup could not install {toolchain}");
    }
    Ok(())
}

pub fn tools_dir(root: &Path) -> PathBuf {
    root.join(".tools")
}

pub fn path_with_tools(root: &Path) -> OsString {
    let mut dirs = vec![tools_dir(root).join("bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

fn bpf_linker(root: &Path, toolchain: &str) -> Result<()> {
    let tools = tools_dir(root);
    let linker = tools.join("bin/bpf-linker");
    let stamp = tools.join("bpf-linker.toolchain");
    let works = Command::new(&linker)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if works && fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == toolchain) {
        return Ok(());
    }
    let sysroot = sysroot(toolchain).context("the eBPF toolchain has no sysroot")?;
    let lib = sysroot.join("lib");
    let llvm = fs::read_dir(&lib)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("libLLVM.so."))
        .with_context(|| format!("no libLLVM.so.* in {}", lib.display()))?;
    // libLLVM.so.22.1-rust-1.97.0-nightly → 22
    let major = llvm
        .trim_start_matches("libLLVM.so.")
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    if major.parse::<u32>().is_err() {
        bail!("cannot read the LLVM version from {llvm}");
    }
    // A prefix whose lib/libLLVM.so is the nightly's own LLVM.
    let prefix = tools.join("llvm");
    fs::create_dir_all(prefix.join("lib"))?;
    let link = prefix.join("lib/libLLVM.so");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(lib.join(&llvm), &link)?;
    eprintln!("xtask: building bpf-linker {BPF_LINKER_VERSION} against {llvm} (about a minute)");
    let st = Command::new("cargo")
        .args(["install", "bpf-linker", "--version"])
        .arg(format!("^{BPF_LINKER_VERSION}"))
        .args(["--no-default-features", "--features"])
        .arg(format!("llvm-{major}"))
        .arg("--root")
        .arg(&tools)
        .arg("--force")
        .env("LLVM_PREFIX", &prefix)
        // Find the nightly's libLLVM at run time without LD_LIBRARY_PATH.
        .env(
            "RUSTFLAGS",
            format!("-C link-arg=-Wl,-rpath,{}", lib.display()),
        )
        .status()
        .context("running cargo install bpf-linker")?;
    if !st.success() {
        bail!("building bpf-linker failed");
    }
    fs::write(&stamp, toolchain)?;
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

fn packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(program, _)| !on_path(program))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !on_path("apt-get") {
        eprintln!(
            "xtask: missing test programs; install these Debian packages: {}",
            missing.join(" ")
        );
        return Ok(());
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let update = Command::new("apt-get").args(["update", "-qq"]).status()?;
    if !update.success() {
        bail!("apt-get update failed");
    }
    let st = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?;
    if !st.success() {
        bail!("apt-get install {} failed", missing.join(" "));
    }
    Ok(())
}
