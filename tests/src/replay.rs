//! `monitor replay` through the real binary, as root or as an unprivileged user, and the parts
//! of its output the replay tests compare.

use std::{
    ffi::OsStr,
    process::{Command, Output},
};

use crate::{is_root, monitor_bin};

/// Runs `monitor replay ARGS` to completion. `RUST_LOG` is cleared so stderr holds only what
/// the monitor says by default.
pub fn replay<S: AsRef<OsStr>>(args: &[S]) -> Output {
    command(false)
        .args(args)
        .output()
        .expect("run monitor replay")
}

/// Like [`replay`], but as user and group nobody (65534) without capabilities when the test
/// runs as root: replay must not need privileges. Without root it is the same as [`replay`].
pub fn replay_unprivileged<S: AsRef<OsStr>>(args: &[S]) -> Output {
    command(true)
        .args(args)
        .output()
        .expect("run monitor replay")
}

fn command(drop_privileges: bool) -> Command {
    let mut cmd = if drop_privileges && is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(monitor_bin());
        c
    } else {
        Command::new(monitor_bin())
    };
    cmd.arg("replay").env_remove("RUST_LOG");
    cmd
}

/// Asserts that the command exited 0, showing its stderr otherwise.
pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} exited with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The lines of `text` whose `type` is `http`, as written.
pub fn http_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}"));
            v["type"] == "http"
        })
        .collect()
}
