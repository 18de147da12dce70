//! The bookkeeping of hooks over real processes (children scanned through /proc); the hooker
//! records what would be attached, since attaching itself needs root and is tested live.

use std::{cell::RefCell, rc::Rc};

use super::*;
use crate::tls::test_child::Running;

#[derive(Default)]
struct Calls {
    hooked: Vec<(PathBuf, u32)>,
    unhooked: usize,
}

/// Records calls; fails every hook when `fail` is set.
struct Recorder {
    calls: Rc<RefCell<Calls>>,
    fail: bool,
}

impl Hooker for Recorder {
    fn hook(&mut self, path: &Path, plan: &HookPlan) -> Result<FileLinks, HookError> {
        if self.fail {
            return Err(HookError::MissingProgram("tls_write"));
        }
        self.calls
            .borrow_mut()
            .hooked
            .push((path.to_path_buf(), plan.library));
        Ok(FileLinks::default())
    }

    fn unhook(&mut self, _links: FileLinks) {
        self.calls.borrow_mut().unhooked += 1;
    }
}

fn coverage(fail: bool) -> (Coverage<Recorder>, Rc<RefCell<Calls>>) {
    let calls = Rc::new(RefCell::new(Calls::default()));
    let hooker = Recorder {
        calls: Rc::clone(&calls),
        fail,
    };
    (Coverage::new("/proc", hooker), calls)
}

fn process(c: &TlsCoverage, pid: u32) -> &ProcessCoverage {
    c.processes
        .iter()
        .find(|p| p.pid == pid)
        .unwrap_or_else(|| panic!("pid {pid} not in {c:#?}"))
}

#[test]
fn one_probe_set_per_file_shared_by_its_processes_and_released_after_the_linger() {
    let (mut cov, calls) = coverage(false);
    let (a, b) = (Running::python("ssl"), Running::python("ssl"));
    cov.scan_pid(a.pid());
    cov.scan_pid(b.pid());
    assert_eq!(calls.borrow().hooked.len(), 1, "one file, one hook");
    assert_eq!(
        calls.borrow().hooked[0].1,
        monitor_common::event::LIB_OPENSSL
    );
    let snap = cov.snapshot();
    assert_eq!(snap.files.len(), 1);
    assert_eq!(snap.files[0].processes, 2);
    for pid in [a.pid(), b.pid()] {
        let p = process(&snap, pid);
        assert!(p.running);
        assert_eq!(p.libraries[0].state, HookState::Hooked);
        assert_eq!(p.libraries[0].library.as_deref(), Some("openssl"));
    }

    a.stop();
    cov.sweep();
    let snap = cov.snapshot();
    assert_eq!(snap.files[0].processes, 1);
    assert!(!process(&snap, a_pid_of(&snap, "python3", false)).running);

    b.stop();
    for _ in 0..LINGER_SWEEPS {
        cov.sweep();
    }
    assert_eq!(calls.borrow().unhooked, 0, "kept while lingering");
    cov.sweep();
    assert_eq!(
        calls.borrow().unhooked,
        1,
        "released once unused past the linger"
    );
    assert!(cov.snapshot().files.is_empty());
    assert!(
        cov.snapshot().processes.is_empty(),
        "exited processes are forgotten after the linger"
    );
}

/// The pid of the first process named `comm` in the given running state.
fn a_pid_of(c: &TlsCoverage, comm: &str, running: bool) -> u32 {
    c.processes
        .iter()
        .find(|p| p.comm == comm && p.running == running)
        .map(|p| p.pid)
        .unwrap_or_else(|| panic!("no {comm} (running: {running}) in {c:#?}"))
}

#[test]
fn host_libraries_are_hooked_once_and_kept_without_users() {
    let (mut cov, calls) = coverage(false);
    cov.pin_host_libraries(HOST_LIBRARY_DIRS);
    let hooked = calls.borrow().hooked.len();
    assert!(hooked >= 1, "this host has a libssl");
    // /lib and /usr/lib often name the same files: still one hook per file.
    cov.pin_host_libraries(HOST_LIBRARY_DIRS);
    assert_eq!(calls.borrow().hooked.len(), hooked);
    let child = Running::python("ssl");
    cov.scan_pid(child.pid());
    assert_eq!(
        calls.borrow().hooked.len(),
        hooked,
        "python's libssl was pinned"
    );
    child.stop();
    for _ in 0..=LINGER_SWEEPS + 1 {
        cov.sweep();
    }
    assert_eq!(calls.borrow().unhooked, 0);
    assert_eq!(cov.snapshot().files.len(), hooked);
}

#[test]
fn a_failed_attach_is_reported_and_not_retried() {
    let (mut cov, _) = coverage(true);
    let child = Running::python("ssl");
    cov.scan_pid(child.pid());
    cov.scan_pid(child.pid());
    let snap = cov.snapshot();
    assert_eq!(snap.errors, 1, "logged and counted once");
    let lib = &process(&snap, child.pid()).libraries[0];
    assert_eq!(lib.state, HookState::Failed);
    assert_eq!(lib.reason_code.as_deref(), Some("attach_failed"));
    assert!(lib.reason.as_deref().unwrap_or("").contains("tls_write"));
    cov.tls_seen(child.pid(), "python3");
    let t = &cov.snapshot().uncovered_traffic;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].reason_code, "attach_failed");
}

#[test]
fn uncovered_traffic_says_why() {
    let (mut cov, _) = coverage(false);
    // No TLS library at all: a TLS stack the monitor cannot see.
    let plain = Running::python("time");
    cov.tls_seen(plain.pid(), "python3");
    // Hooked: its handshake is not uncovered traffic, a connection closed without plaintext is.
    let hooked = Running::python("ssl");
    cov.tls_seen(hooked.pid(), "python3");
    let snap = cov.snapshot();
    assert_eq!(snap.uncovered_traffic.len(), 1, "{snap:#?}");
    assert_eq!(snap.uncovered_traffic[0].pid, plain.pid());
    assert_eq!(snap.uncovered_traffic[0].reason_code, "no_known_library");
    cov.tls_missed(hooked.pid(), "python3");
    let snap = cov.snapshot();
    let late = snap
        .uncovered_traffic
        .iter()
        .find(|t| t.pid == hooked.pid())
        .unwrap();
    assert_eq!(late.reason_code, "not_yet_hooked");
    assert_eq!(late.connections, 1);
    assert_eq!(snap.uncovered_connections_total, 1);
}

#[test]
fn a_process_gone_before_its_scan_is_no_error() {
    let (mut cov, calls) = coverage(false);
    let child = Running::python("ssl");
    let pid = child.pid();
    child.stop();
    cov.scan_pid(pid);
    cov.tls_seen(pid, "python3");
    cov.sweep();
    let snap = cov.snapshot();
    assert_eq!(snap.errors, 0, "{snap:#?}");
    assert!(calls.borrow().hooked.is_empty());
}
