//! Builds the kernel programs (monitor-ebpf) for the BPF target with the pinned nightly and
//! bpf-linker that `cargo xtask` installs, and fails with one sentence when they are missing.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let ebpf_dir = root.join("monitor-ebpf");
    let toolchain = match pinned_toolchain(&ebpf_dir.join("rust-toolchain.toml")) {
        Some(t) => t,
        None => fail("monitor-ebpf/rust-toolchain.toml does not name a toolchain channel"),
    };

    // Tools installed by `cargo xtask` live in <workspace>/.tools/bin.
    let tools = root.join(".tools").join("bin");
    let path = env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![tools];
    dirs.extend(env::split_paths(&path));
    let joined = env::join_paths(dirs).unwrap_or(path);
    // SAFETY: build scripts are single-threaded at this point.
    unsafe { env::set_var("PATH", &joined) };
    println!("cargo:rerun-if-env-changed=PATH");

    let linker_ok = Command::new("bpf-linker")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let nightly_ok = Command::new("rustup")
        .args(["run", &toolchain, "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !linker_ok || !nightly_ok {
        fail(&format!(
            "the eBPF toolchain ({toolchain} and bpf-linker) is not installed: run `cargo xtask build` once, which installs it"
        ));
    }

    let package = aya_build::Package {
        name: "monitor-ebpf",
        root_dir: ebpf_dir.to_str().unwrap_or_default(),
        ..Default::default()
    };
    if let Err(err) = aya_build::build_ebpf([package], aya_build::Toolchain::Custom(&toolchain)) {
        fail(&format!("building the eBPF programs failed: {err:#}"));
    }
}

fn pinned_toolchain(file: &Path) -> Option<String> {
    println!("cargo:rerun-if-changed={}", file.display());
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("channel"))
        .filter_map(|rest| rest.trim().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"').to_string())
        .next()
}

fn fail(sentence: &str) -> ! {
    println!("cargo::error={sentence}");
    std::process::exit(1);
}
