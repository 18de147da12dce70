//! Bad input and host checks through the real binary: one sentence on stderr, exit code 2,
//! nothing half-written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::process::{Command, Output};

use tests::{is_root, monitor_bin, require_root, scratch};

fn monitor(args: &[&str]) -> Output {
    Command::new(monitor_bin())
        .args(args)
        .output()
        .expect("run monitor")
}

fn one_sentence(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        err.lines().count(),
        1,
        "expected one line on stderr, got:\n{err}"
    );
    assert!(err.starts_with("monitor: "), "{err}");
    err
}

#[test]
fn unknown_flag_is_one_sentence_and_exit_2() {
    let out = monitor(&["run", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let err = one_sentence(&out);
    assert!(err.contains("--bogus"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_command_and_bad_values_are_one_sentence_and_exit_2() {
    for args in [
        &[][..],
        &["run", "--port", "70000"][..],
        &["run", "--ring-buffer-size", "12Q"][..],
        &["run", "--ring-buffer-size", "5000"][..],
        &["run", "--chunk-size", "0"][..],
    ] {
        let out = monitor(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        one_sentence(&out);
    }
}

#[test]
fn help_and_version_succeed() {
    let out = monitor(&["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("run"));
    assert!(monitor(&["--version"]).status.success());
}

#[test]
fn unwritable_output_is_refused_before_anything_is_created() {
    let dir = scratch("cli-out");
    let missing = dir.join("no/such/dir/out.jsonl");
    let out = monitor(&[
        "run",
        "--output",
        missing.to_str().unwrap(),
        "--duration",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = one_sentence(&out);
    assert!(err.contains("does not exist"), "{err}");
    let out = monitor(&["run", "--output", dir.to_str().unwrap(), "--duration", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_sentence(&out).contains("is a directory"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn without_privileges_run_and_check_say_so_and_write_nothing() {
    // As root, drop to nobody to see what an unprivileged user sees.
    let dir = scratch("cli-priv");
    let target = dir.join("out.jsonl");
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ]);
        c.arg(monitor_bin());
        c
    } else {
        Command::new(monitor_bin())
    };
    // nobody must be able to write the directory for the output check to pass first.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = cmd
        .args([
            "run",
            "--output",
            target.to_str().unwrap(),
            "--duration",
            "1",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = one_sentence(&out);
    assert!(err.contains("needs root"), "{err}");
    assert!(
        !target.exists(),
        "output created although the monitor could not start"
    );
}

#[test]
fn check_reports_every_tracepoint_as_root() {
    require_root!();
    let out = monitor(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for tp in [
        "syscalls/sys_exit_recvmmsg",
        "sock/inet_sock_set_state",
        "tcp/tcp_destroy_sock",
    ] {
        assert!(
            text.contains(&format!("tracepoint {tp}")),
            "{tp} missing:\n{text}"
        );
    }
    assert!(text.contains("ring buffer"));
    assert!(text.contains("the monitor can run on this host"));
}

#[test]
fn duration_stops_the_monitor_by_itself_with_a_final_stats_line() {
    require_root!();
    let dir = scratch("cli-duration");
    let target = dir.join("out.jsonl");
    let started = std::time::Instant::now();
    let out = monitor(&[
        "run",
        "--raw",
        "--port",
        "1",
        "--duration",
        "1",
        "--output",
        target.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed().as_secs() < 15);
    let text = std::fs::read_to_string(&target).unwrap();
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).unwrap();
    assert_eq!(last["type"], "stats");
    assert_eq!(last["last"], true);
}
