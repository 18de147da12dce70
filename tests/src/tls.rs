//! Harness for the TLS tests: nginx serving HTTPS with a certificate made at test time, the
//! HTTPS clients ([`client`]: curl, wget, python, node, Go) and `monitor status` ([`status`]).
//! nginx logs each request's client port, so a test knows every client connection's 5-tuple
//! without asking the monitor.

pub mod client;
pub mod status;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::{fixture, free_port, nginx::Nginx, scratch, text_payload};

/// Size of every POST body the clients send.
pub const POST_BYTES: usize = 256 * 1024;

/// nginx answering HTTPS on `port` (its upstream answers `ok METHOD URI body=LENGTH`), the
/// certificate clients trust, and the POST body file.
pub struct Site {
    pub nginx: Nginx,
    pub port: u16,
    /// The self-signed certificate (also the CA file clients verify against).
    pub cert: PathBuf,
    /// `POST_BYTES` of text, the body of every POST.
    pub post_file: PathBuf,
    /// The upstream of `/hang/`: accepts (in the kernel) and never answers.
    _hang: TcpListener,
}

/// One line of the access log: a request nginx answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub client_port: u16,
    pub method: String,
    pub uri: String,
    pub status: u16,
}

impl Site {
    pub fn start() -> Site {
        let dir = scratch("tls-site");
        let (cert, key) = self_signed(&dir);
        let post_file = dir.join("post.txt");
        std::fs::write(&post_file, text_payload(POST_BYTES)).expect("write POST body");
        let hang = TcpListener::bind("127.0.0.1:0").expect("bind the hang listener");
        let hang_port = hang.local_addr().expect("hang address").port();
        let port = free_port();
        let nginx = Nginx::start_with(
            &fixture("tls/nginx.conf"),
            port,
            &[
                ("@BACKEND_PORT@", free_port().to_string()),
                ("@HANG_PORT@", hang_port.to_string()),
                ("@CERT@", cert.display().to_string()),
                ("@KEY@", key.display().to_string()),
            ],
            &[],
        );
        Site {
            nginx,
            port,
            cert,
            post_file,
            _hang: hang,
        }
    }

    /// `https://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, uri: &str) -> String {
        format!("{}{uri}", self.base())
    }

    /// What the upstream answers to `method uri` (bodies: see `Site`).
    pub fn answer(method: &str, uri: &str) -> String {
        let length = if method == "POST" {
            POST_BYTES.to_string()
        } else {
            String::new()
        };
        format!("ok {method} {uri} body={length}\n")
    }

    pub fn access_log(&self) -> Vec<Access> {
        let text = std::fs::read_to_string(self.nginx.dir.join("access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                Some(Access {
                    client_port: f.first()?.parse().ok()?,
                    method: (*f.get(1)?).to_string(),
                    uri: (*f.get(2)?).to_string(),
                    status: f.get(3)?.parse().ok()?,
                })
            })
            .collect()
    }

    /// The one request nginx answered for `uri`, waiting up to 5 s for its log line.
    pub fn access(&self, uri: &str) -> Access {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.access_log();
            let hits: Vec<&Access> = log.iter().filter(|a| a.uri == uri).collect();
            match hits[..] {
                [one] => return one.clone(),
                [] if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                _ => panic!("nginx answered {uri} {} times: {log:?}", hits.len()),
            }
        }
    }
}

/// A throwaway certificate for 127.0.0.1 and its key, made with the openssl CLI.
pub fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut cmd = Command::new("openssl");
    cmd.args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert);
    let out = output_within(&mut cmd, Duration::from_secs(20));
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// Runs `cmd` to completion with its output captured; panics if it outlives `timeout`.
pub fn output_within(cmd: &mut Command, timeout: Duration) -> Output {
    run_within(cmd, timeout).1
}

/// Like [`output_within`], also returning the pid the command ran as.
pub fn run_within(cmd: &mut Command, timeout: Duration) -> (u32, Output) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id();
    let deadline = Instant::now() + timeout;
    // Reading both pipes in other threads keeps a chatty child from blocking on a full pipe.
    let stdout = child.stdout.take().map(read_in_background);
    let stderr = child.stderr.take().map(read_in_background);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} (pid {pid}) still running after {timeout:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.map(|h| h.join().unwrap_or_default()).unwrap_or_default()
    };
    let out = Output {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    };
    (pid, out)
}

fn read_in_background(
    mut r: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}
