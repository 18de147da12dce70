//! The HTTPS clients of the TLS tests. curl and wget run to completion; the scripted clients
//! (python, python driving OpenSSL 1.1 or BoringSSL through ctypes, node, Go: tests/fixtures/tls/)
//! print `ready` and wait for a line on stdin before their requests, so a test can first make
//! sure the monitor hooked them.

use std::{
    ffi::OsString,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Arc, Mutex, OnceLock,
        mpsc::{Receiver, RecvTimeoutError, channel},
    },
    time::{Duration, Instant},
};

use super::{Site, output_within, run_within};
use crate::{comm_of, fixture, scratch};

/// How long a client may take for anything (start, its requests, its exit).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client that ran to completion.
#[derive(Debug)]
pub struct Ran {
    pub pid: u32,
    pub stdout: String,
}

fn run_ok(cmd: &mut Command) -> Ran {
    let (pid, out) = run_within(cmd, CLIENT_TIMEOUT);
    assert!(
        out.status.success(),
        "{cmd:?} (pid {pid}) exited with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ran {
        pid,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// curl (libcurl with the host's shared OpenSSL): GET /get/NAME, then POST /post/NAME with the
/// POST body, on one keep-alive connection. Prints each transfer's local port.
pub fn curl(site: &Site, name: &str) -> Ran {
    let cafile = site.cert.display().to_string();
    let post = format!("@{}", site.post_file.display());
    run_ok(
        Command::new("curl")
            .args(["-sS", "--fail", "--max-time", "20", "--cacert", &cafile])
            .args(["-o", "/dev/null", "-w", "%{local_port}\\n"])
            .arg(site.url(&format!("/get/{name}")))
            .arg("--next")
            .args(["-sS", "--fail", "--max-time", "20", "--cacert", &cafile])
            .args(["-o", "/dev/null", "-w", "%{local_port}\\n"])
            .args([
                "-H",
                "Content-Type: application/octet-stream",
                "--data-binary",
            ])
            .arg(post)
            .arg(site.url(&format!("/post/{name}"))),
    )
}

/// wget (GnuTLS): one request per process, a POST when `post`.
pub fn wget(site: &Site, uri: &str, post: bool) -> Ran {
    let mut cmd = Command::new("wget");
    cmd.args(["-q", "-O", "/dev/null", "--tries=1", "--timeout=20"])
        .arg(format!("--ca-certificate={}", site.cert.display()));
    if post {
        cmd.arg("--header=Content-Type: application/octet-stream")
            .arg(format!("--post-file={}", site.post_file.display()));
    }
    run_ok(cmd.arg(site.url(uri)))
}

/// The python interpreter itself, not a pyenv shim, so the pid the test starts is python's.
pub fn python_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let out = output_within(
            Command::new("python3").args(["-c", "import sys; print(sys.executable)"]),
            CLIENT_TIMEOUT,
        );
        assert!(out.status.success(), "python3 does not run");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// tests/fixtures/tls/ctypes_client.py: python loading `libcrypto` and `libssl` with dlopen once
/// running, driving the OpenSSL API through ctypes.
fn ctypes_client(libcrypto: &Path, libssl: &Path, site: &Site, name: &str) -> Command {
    let mut cmd = Command::new(python_exe());
    cmd.arg(fixture("tls/ctypes_client.py"))
        .arg(libcrypto)
        .arg(libssl)
        .arg(site.port.to_string())
        .arg(name)
        .arg(&site.post_file);
    cmd
}

/// The OpenSSL 1.1 client: [`ctypes_client`] with the libraries of psycopg2-binary's wheel (it
/// bundles OpenSSL 1.1.1), fetched once per test process; the machine has only OpenSSL 3.
pub fn openssl11(site: &Site, name: &str) -> Command {
    static LIBS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    let (libcrypto, libssl) = LIBS.get_or_init(|| {
        let dir = crate::scratch("openssl11");
        let fetched = output_within(
            Command::new(python_exe())
                .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
                .args(["psycopg2-binary==2.9.9", "-d"])
                .arg(&dir),
            Duration::from_secs(180),
        );
        assert!(
            fetched.status.success(),
            "cannot download psycopg2-binary (for its OpenSSL 1.1): {}",
            String::from_utf8_lossy(&fetched.stderr)
        );
        let unpack = "import glob, sys, zipfile\n\
                      d = sys.argv[1]\n\
                      zipfile.ZipFile(glob.glob(d + '/*.whl')[0]).extractall(d)";
        let unpacked = output_within(
            Command::new(python_exe()).args(["-c", unpack]).arg(&dir),
            CLIENT_TIMEOUT,
        );
        assert!(unpacked.status.success(), "cannot unpack the wheel");
        let libs = dir.join("psycopg2_binary.libs");
        // The bundled copies are named libcrypto-HASH.so.1.1 and libssl-HASH.so.1.1.
        let find = |prefix: &str| {
            std::fs::read_dir(&libs)
                .expect("the wheel's psycopg2_binary.libs")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".so.1.1"))
                })
                .unwrap_or_else(|| panic!("no {prefix}*.so.1.1 in {}", libs.display()))
        };
        (find("libcrypto-"), find("libssl-"))
    });
    ctypes_client(libcrypto, libssl, site, name)
}

/// Where `cargo xtask bootstrap` builds BoringSSL's shared libssl and libcrypto (keep in step
/// with `DIR` in xtask/src/boringssl.rs).
pub const BORINGSSL_DIR: &str = "/var/cache/monitor-tests/boring-sys-5.4.0";

/// The BoringSSL client: [`ctypes_client`] with the shared BoringSSL that `cargo xtask bootstrap`
/// builds from source. Panics, saying how to build it, when it is missing.
pub fn boringssl(site: &Site, name: &str) -> Command {
    let dir = Path::new(BORINGSSL_DIR);
    let (libcrypto, libssl) = (dir.join("libcrypto.so"), dir.join("libssl.so"));
    assert!(
        libcrypto.is_file() && libssl.is_file(),
        "BoringSSL is not built: {} lacks libssl.so and libcrypto.so. Run `cargo xtask bootstrap` \
         as root (it builds them from source with cmake and ninja, about 3 minutes)",
        dir.display()
    );
    ctypes_client(&libcrypto, &libssl, site, name)
}

fn script_args(site: &Site, name: &str) -> Vec<OsString> {
    vec![
        site.base().into(),
        name.into(),
        site.post_file.clone().into(),
        site.cert.clone().into(),
    ]
}

/// tests/fixtures/tls/client.py in `mode` (`keepalive`, `hang-read`, `hang-write`).
pub fn python(site: &Site, mode: &str, name: &str) -> Command {
    let mut cmd = Command::new(python_exe());
    cmd.arg(fixture("tls/client.py"))
        .arg(mode)
        .args(script_args(site, name));
    cmd
}

/// tests/fixtures/tls/client.js under node (OpenSSL linked into the node binary).
pub fn node(site: &Site, name: &str) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(fixture("tls/client.js"))
        .args(script_args(site, name));
    cmd
}

/// A build of tests/fixtures/tls/goclient (crypto/tls).
pub fn go(site: &Site, binary: &Path, name: &str) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(script_args(site, name));
    cmd
}

/// The Go client, built once per test binary with the system `go`: with its symbols, and
/// stripped (`-ldflags=-s -w`), which the monitor cannot hook.
pub struct GoClient {
    pub plain: PathBuf,
    pub stripped: PathBuf,
}

/// Builds the Go program in `fixture` (a directory under tests/fixtures) into `out` with the
/// system `go`, offline, static (like most Go programs in containers), its caches in `dir`.
pub fn go_build(fixture_dir: &str, dir: &Path, out: &Path, ldflags: &str) {
    let mut cmd = Command::new("go");
    cmd.current_dir(fixture(fixture_dir))
        .env("HOME", dir)
        .env("GOCACHE", dir.join("cache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .args(["build", "-ldflags", ldflags, "-o"])
        .arg(out)
        .arg(".");
    let built = output_within(&mut cmd, Duration::from_secs(180));
    assert!(
        built.status.success(),
        "go build of {fixture_dir} failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
}

pub fn go_client() -> &'static GoClient {
    static BUILT: OnceLock<GoClient> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = scratch("go");
        let client = GoClient {
            plain: dir.join("goclient"),
            stripped: dir.join("goclient-stripped"),
        };
        go_build("tls/goclient", &dir, &client.plain, "");
        go_build("tls/goclient", &dir, &client.stripped, "-s -w");
        client
    })
}

/// One request's result as a scripted client printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub method: String,
    pub status: u16,
    pub local_port: u16,
}

/// A scripted client, killed when dropped.
pub struct Scripted {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// What the kernel calls the process (read once it is ready).
    pub comm: String,
    what: String,
}

impl Scripted {
    /// Starts `cmd` and waits for its `ready` line.
    pub fn start(what: &str, cmd: &mut Command) -> Scripted {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({cmd:?}): {e}"));
        let (tx, lines) = channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let stdin = child.stdin.take();
        let mut client = Scripted {
            child,
            stdin,
            lines,
            stderr,
            comm: String::new(),
            what: what.to_string(),
        };
        client.expect("ready");
        client.comm = comm_of(client.pid());
        client
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The next line it prints, within `CLIENT_TIMEOUT`.
    pub fn line(&mut self) -> String {
        match self.lines.recv_timeout(CLIENT_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!(
                "{} (pid {}) printed nothing for {CLIENT_TIMEOUT:?}; stderr:\n{}",
                self.what,
                self.pid(),
                self.stderr()
            ),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                panic!(
                    "{} (pid {}) exited ({status}); stderr:\n{}",
                    self.what,
                    self.pid(),
                    self.stderr()
                )
            }
        }
    }

    /// Reads the next line and asserts that its first word is `word`; returns the line.
    pub fn expect(&mut self, word: &str) -> String {
        let line = self.line();
        assert!(
            line.split(' ').next() == Some(word),
            "{} (pid {}) printed {line:?}, expected {word:?}",
            self.what,
            self.pid()
        );
        line
    }

    /// Lets it go on (the line it waits for).
    pub fn go_on(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "go").expect("write to the client");
        stdin.flush().expect("flush");
    }

    /// Lets it make its GET and POST and returns what it printed for them.
    pub fn requests(&mut self) -> Vec<Answer> {
        self.go_on();
        let mut answers = Vec::new();
        loop {
            let line = self.line();
            if line == "done" {
                return answers;
            }
            let f: Vec<&str> = line.split(' ').collect();
            let parsed = match f[..] {
                [m, s, p] => s
                    .parse()
                    .ok()
                    .zip(p.parse().ok())
                    .map(|(status, local_port)| Answer {
                        method: m.to_string(),
                        status,
                        local_port,
                    }),
                _ => None,
            };
            answers.push(parsed.unwrap_or_else(|| {
                panic!(
                    "{} printed {line:?}, expected METHOD STATUS PORT",
                    self.what
                )
            }));
        }
    }

    /// Lets it exit and asserts it exits 0 in time.
    pub fn finish(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + CLIENT_TIMEOUT;
        loop {
            if let Some(st) = self.child.try_wait().expect("wait client") {
                assert!(
                    st.success(),
                    "{} exited with {st}; stderr:\n{}",
                    self.what,
                    self.stderr()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} still running after {CLIENT_TIMEOUT:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as a crash would end it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.kill();
    }
}
