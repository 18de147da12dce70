//! Builds the BoringSSL the TLS tests load: shared libssl and libcrypto from the BoringSSL source
//! that the `boring-sys` crate carries (BoringSSL has no releases: a pinned crate version pins a
//! recent upstream tree), fetched with cargo, built with cmake and ninja, and kept in a fixed
//! directory so it is built once per machine.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{Context, Result, bail};

/// The crate whose `deps/boringssl` is built, and its exact version.
const CRATE: &str = "boring-sys";
const VERSION: &str = "5.4.0";

/// Where the libraries go. The tests read them there: keep in step with `BORINGSSL_DIR` in
/// tests/src/tls/client.rs.
pub const DIR: &str = "/var/cache/monitor-tests/boring-sys-5.4.0";

const LIBRARIES: [&str; 2] = ["libssl.so", "libcrypto.so"];

/// Builds it unless it is there. Needs root (the directory is under /var/cache), which the tests
/// using it need anyway.
pub fn ensure() -> Result<()> {
    let dir = Path::new(DIR);
    if LIBRARIES.iter().all(|l| dir.join(l).is_file()) {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("xtask: not root, so BoringSSL for the TLS tests is not built into {DIR}");
        return Ok(());
    }
    eprintln!(
        "xtask: building BoringSSL (from {CRATE} {VERSION}) as shared libraries into {DIR} \
         (about 3 minutes on 2 cores)"
    );
    let started = Instant::now();
    let work = std::env::temp_dir().join(format!("monitor-boringssl-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work)?;
    let built = build(&work, dir);
    let _ = fs::remove_dir_all(&work);
    built?;
    eprintln!(
        "xtask: BoringSSL built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn build(work: &Path, dir: &Path) -> Result<()> {
    let krate = fetch(work)?;
    crate::status(
        Command::new("tar")
            .arg("xzf")
            .arg(&krate)
            .arg("-C")
            .arg(work),
    )?;
    let source = work.join(format!("{CRATE}-{VERSION}/deps/boringssl"));
    let build = work.join("build");
    crate::status(
        Command::new("cmake")
            .arg("-GNinja")
            .arg("-S")
            .arg(&source)
            .arg("-B")
            .arg(&build)
            .args(["-DCMAKE_BUILD_TYPE=Release", "-DBUILD_SHARED_LIBS=1"])
            // libssl finds libcrypto beside it wherever the pair is copied, and names no path of
            // the build tree, which is deleted.
            .args([
                "-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON",
                "-DCMAKE_INSTALL_RPATH=$ORIGIN",
            ])
            // Its findings are noise here; errors go to stderr.
            .stdout(Stdio::null()),
    )?;
    // Only the libraries: the tests drive them from python, not through BoringSSL's tools.
    crate::status(
        Command::new("ninja")
            .arg("--quiet")
            .arg("-C")
            .arg(&build)
            .args(["ssl", "crypto"]),
    )?;
    // Filled beside the final directory and renamed into place, so a build stopped halfway is
    // never taken for a finished one.
    let partial = dir.with_extension("partial");
    let _ = fs::remove_dir_all(&partial);
    fs::create_dir_all(&partial)?;
    for lib in LIBRARIES {
        let to = partial.join(lib);
        fs::copy(build.join(lib), &to).with_context(|| format!("copying {lib}"))?;
        // BoringSSL always compiles with -ggdb; the symbol tables stay, the tests read them.
        crate::status(Command::new("strip").arg("--strip-debug").arg(&to))?;
    }
    fs::write(
        partial.join("SOURCE"),
        format!("deps/boringssl of the {CRATE} {VERSION} crate (crates.io), built by xtask\n"),
    )?;
    let _ = fs::remove_dir_all(dir);
    fs::rename(&partial, dir).with_context(|| format!("moving the build to {}", dir.display()))
}

/// Downloads the crate with cargo (through a throwaway manifest that depends on it) and returns
/// the `.crate` archive in cargo's cache.
fn fetch(work: &Path) -> Result<PathBuf> {
    let manifest = work.join("fetch/Cargo.toml");
    fs::create_dir_all(work.join("fetch/src"))?;
    fs::write(work.join("fetch/src/lib.rs"), "")?;
    fs::write(
        &manifest,
        format!(
            "[package]\nname = \"fetch-boringssl\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{CRATE} = \"={VERSION}\"\n\n[workspace]\n"
        ),
    )?;
    crate::status(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["fetch", "--quiet", "--manifest-path"])
            .arg(&manifest),
    )?;
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let cache = home.join("registry/cache");
    let name = format!("{CRATE}-{VERSION}.crate");
    for index in fs::read_dir(&cache).with_context(|| format!("reading {}", cache.display()))? {
        let path = index?.path().join(&name);
        if path.is_file() {
            return Ok(path);
        }
    }
    bail!(
        "cargo fetched {CRATE} {VERSION} but {name} is not under {}",
        cache.display()
    )
}
