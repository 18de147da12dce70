//! Scans real child processes through /proc: no stand-ins for what is being tested.

use std::{os::unix::fs::MetadataExt, process::Command};

use super::*;
use crate::tls::elf;
use crate::tls::test_child::Running;

const PROC: &str = "/proc";
const LIBSSL: &str = "/usr/lib/x86_64-linux-gnu/libssl.so.3";

fn python_with_ssl() -> Running {
    Running::start(Command::new("python3").args([
        "-c",
        "import ssl, time; print('ready', flush=True); time.sleep(30)",
    ]))
}

fn scan(pid: u32, cache: &mut FileCache) -> ProcessTls {
    scan_process(Path::new(PROC), pid, cache).unwrap()
}

#[test]
fn python_maps_shared_libssl() {
    let child = python_with_ssl();
    let mut cache = FileCache::default();
    let p = scan(child.pid(), &mut cache);
    assert!(p.file_errors.is_empty(), "{:?}", p.file_errors);
    assert_eq!(p.findings.len(), 1, "{:#?}", p.findings);
    let f = &p.findings[0];
    assert_eq!(f.library, Some(TlsLibrary::OpenSsl));
    assert_eq!(f.version.as_deref(), Some("3"));
    assert_eq!(f.coverage, Coverage::Hookable);
    assert!(f.path.ends_with("/libssl.so.3"), "{}", f.path);
    let root = format!("/proc/{}/root/", child.pid());
    assert!(f.host_path.starts_with(&root), "{}", f.host_path.display());
    // The host path opens, and is the same inode as the library on this host.
    let host = fs::metadata(&f.host_path).unwrap();
    let lib = fs::metadata(LIBSSL).unwrap();
    assert_eq!((host.dev(), host.ino()), (lib.dev(), lib.ino()));
    assert_eq!(
        f.file,
        FileId {
            dev: lib.dev(),
            ino: lib.ino()
        }
    );
    let direct = elf::inspect(Path::new(LIBSSL)).unwrap();
    for (name, loc) in &f.symbols {
        assert_eq!(direct.symbols[name], *loc, "{name}");
    }
    assert_eq!(f.symbols.len(), 7);
}

#[test]
fn second_scan_reads_nothing() {
    let child = python_with_ssl();
    let mut cache = FileCache::default();
    let first = scan(child.pid(), &mut cache);
    let misses = cache.stats().misses;
    let second = scan(child.pid(), &mut cache);
    assert_eq!(cache.stats().misses, misses);
    assert!(cache.stats().hits >= 2, "{:?}", cache.stats()); // exe and libssl
    assert_eq!(first.findings.len(), second.findings.len());
}

/// This machine's node is the nodejs.org build with OpenSSL linked in statically (ldd lists no
/// libssl): the finding is the executable itself, opened through /proc/PID/exe.
#[test]
fn node_carries_its_own_openssl() {
    let child = Running::start(
        Command::new("node").args(["-e", "console.log('ready'); setTimeout(() => {}, 30000)"]),
    );
    let mut cache = FileCache::default();
    let p = scan(child.pid(), &mut cache);
    assert_eq!(p.exe, "/usr/bin/node");
    assert_eq!(p.findings.len(), 1, "{:#?}", p.findings);
    let f = &p.findings[0];
    assert_eq!(f.path, "/usr/bin/node");
    assert_eq!(
        f.host_path,
        Path::new(PROC).join(child.pid().to_string()).join("exe")
    );
    assert_eq!(f.library, Some(TlsLibrary::OpenSsl));
    assert_eq!(f.coverage, Coverage::Hookable);
    let node = fs::metadata("/usr/bin/node").unwrap();
    assert_eq!(
        f.file,
        FileId {
            dev: node.dev(),
            ino: node.ino()
        }
    );
    let out = Command::new("node")
        .args(["-p", "process.versions.openssl"])
        .output()
        .unwrap();
    assert_eq!(
        f.version.as_deref(),
        Some(String::from_utf8(out.stdout).unwrap().trim())
    );
}

#[test]
fn sleep_has_no_tls() {
    let child = Running::start(Command::new("sh").args(["-c", "echo ready; exec sleep 30"]));
    let mut cache = FileCache::default();
    // `exec` replaces the shell; wait until the pid runs sleep.
    let pid = child.pid();
    let mut p = scan(pid, &mut cache);
    for _ in 0..100 {
        if p.comm == "sleep" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        p = scan(pid, &mut cache);
    }
    assert_eq!(p.comm, "sleep");
    assert!(p.findings.is_empty(), "{:#?}", p.findings);
    assert!(p.file_errors.is_empty());
}

#[test]
fn exited_process_is_vanished() {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let err = scan_process(Path::new(PROC), pid, &mut FileCache::default()).unwrap_err();
    assert!(
        matches!(err, ScanError::Vanished { pid: p } if p == pid),
        "{err}"
    );
}

/// Reading another process's maps takes ptrace-read access, which root may lack too (in a
/// container without CAP_SYS_PTRACE, as here for pid 1). The scan must agree with the kernel:
/// a refusal is a permission error naming pid and path, never "vanished".
#[test]
fn permission_errors_follow_the_kernel() {
    let direct = fs::read_to_string("/proc/1/maps");
    let result = scan_process(Path::new(PROC), 1, &mut FileCache::default());
    match direct {
        Ok(_) => assert!(result.is_ok(), "{:?}", result.err()),
        Err(e) => {
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
            let err = result.unwrap_err();
            assert!(
                matches!(&err, ScanError::PermissionDenied { pid: 1, path } if path == Path::new("/proc/1/maps")),
                "{err}"
            );
            assert!(err.to_string().contains("/proc/1/maps of process 1"));
        }
    }
}

#[test]
fn scan_all_sees_the_child() {
    let child = python_with_ssl();
    let mut cache = FileCache::default();
    let report = scan_all(Path::new(PROC), &mut cache).unwrap();
    assert!(report.scanned > 1);
    let me = std::process::id();
    assert!(report.errors.iter().all(|(pid, _)| *pid != me));
    assert!(report.errors.iter().all(|(pid, _)| *pid != child.pid()));
    let p = report
        .processes
        .iter()
        .find(|p| p.pid == child.pid())
        .unwrap();
    assert_eq!(p.findings[0].library, Some(TlsLibrary::OpenSsl));
    // Each distinct file was read once however many processes map it.
    assert_eq!(cache.stats().misses as usize, cache.len());
    eprintln!(
        "scanned {} vanished {} errors {} with findings {}",
        report.scanned,
        report.vanished,
        report.errors.len(),
        report.processes.len()
    );
    serde_json::to_string(&report).unwrap();
}

#[test]
fn errors_are_one_sentence_naming_pid_and_path() {
    let e = ScanError::from_io(
        7,
        PathBuf::from("/proc/7/maps"),
        io::Error::from(io::ErrorKind::PermissionDenied),
    );
    assert_eq!(
        e.to_string(),
        "no permission to read /proc/7/maps of process 7 (the monitor needs root)"
    );
    let e = ScanError::from_io(
        7,
        PathBuf::from("/proc/7/maps"),
        io::Error::from_raw_os_error(libc::ESRCH),
    );
    assert!(matches!(e, ScanError::Vanished { pid: 7 }));
}
