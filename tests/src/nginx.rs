//! nginx as a test server: a foreground child on a free port, with its own prefix, config
//! (tests/fixtures/nginx.conf), logs and document root in a scratch directory.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use crate::{Proc, fixture, scratch};

pub struct Nginx {
    master: Proc,
    pub port: u16,
    /// Prefix directory: config, logs, pid file and `www/`.
    pub dir: PathBuf,
}

impl Nginx {
    /// Starts nginx on `port` serving the files `files` (name, content) from its root, and waits
    /// until it accepts connections.
    pub fn start(port: u16, files: &[(&str, &[u8])]) -> Nginx {
        Nginx::start_with(&fixture("nginx.conf"), port, &[], files)
    }

    /// Starts nginx from the config `template`, in which `@PREFIX@`, `@PORT@` and each
    /// `(placeholder, value)` of `vars` are filled in.
    pub fn start_with(
        template: &Path,
        port: u16,
        vars: &[(&str, String)],
        files: &[(&str, &[u8])],
    ) -> Nginx {
        let dir = scratch("nginx");
        let www = dir.join("www");
        std::fs::create_dir_all(&www).expect("www dir");
        for (name, content) in files {
            std::fs::write(www.join(name), content).expect("write www file");
        }
        let mut text = std::fs::read_to_string(template)
            .unwrap_or_else(|e| panic!("nginx config {}: {e}", template.display()))
            .replace("@PREFIX@", &dir.display().to_string())
            .replace("@PORT@", &port.to_string());
        for (name, value) in vars {
            text = text.replace(name, value);
        }
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, text).expect("write nginx.conf");
        let master = Proc::spawn(
            Command::new("nginx")
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(&conf)
                .arg("-e")
                .arg(dir.join("error.log"))
                .args(["-g", "daemon off;"]),
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {port}; error log:\n{}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { master, port, dir }
    }

    /// The path of a file in the document root.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join("www").join(name)
    }

    /// The single worker process (the one that reads and writes client connections).
    pub fn worker_pid(&self) -> u32 {
        let pid = self.master.pid();
        let children = Path::new("/proc")
            .join(pid.to_string())
            .join("task")
            .join(pid.to_string())
            .join("children");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&children).unwrap_or_default();
            let pids: Vec<u32> = text
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            if let [worker] = pids[..] {
                return worker;
            }
            assert!(
                Instant::now() < deadline,
                "nginx {pid} has workers {pids:?}, expected one"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    /// A fast shutdown through the master, so the worker does not outlive the test.
    fn drop(&mut self) {
        // SAFETY: plain signal to our own child.
        unsafe { libc::kill(self.master.pid() as i32, libc::SIGTERM) };
        let _ = self.master.child.wait();
    }
}
