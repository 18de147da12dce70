//! Other hosts on this machine: a network namespace joined to the host by a veth pair, with
//! an address on each end. Removed when dropped.

use std::process::Command;

pub struct NetNs {
    pub name: String,
    /// This host's end (what the namespace's clients connect to).
    pub host_ip: String,
    /// The namespace's own address (what the host sees as the client).
    pub ns_ip: String,
    host_if: String,
    /// IPv6 addresses of both ends, once `with_ipv6` added them.
    pub host_ip6: Option<String>,
    pub ns_ip6: Option<String>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl NetNs {
    /// Namespace number `n` (1..=250) of this test process: 10.(200 + pid % 50).n.0/24, the
    /// host at .1, the namespace at .2.
    pub fn new(n: u8) -> NetNs {
        let pid = std::process::id();
        let name = format!("mon{pid}n{n}");
        let host_if = format!("mh{}n{n}", pid % 100_000);
        let peer_if = format!("mp{}n{n}", pid % 100_000);
        let net = format!("10.{}.{n}", 200 + pid % 50);
        let host_ip = format!("{net}.1");
        let ns_ip = format!("{net}.2");
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let _ = Command::new("ip").args(["link", "del", &host_if]).output();
        ip(&["netns", "add", &name]);
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &peer_if,
        ]);
        ip(&["link", "set", &peer_if, "netns", &name]);
        ip(&["addr", "add", &format!("{host_ip}/24"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&[
            "-n",
            &name,
            "addr",
            "add",
            &format!("{ns_ip}/24"),
            "dev",
            &peer_if,
        ]);
        ip(&["-n", &name, "link", "set", &peer_if, "up"]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        NetNs {
            name,
            host_ip,
            ns_ip,
            host_if,
            host_ip6: None,
            ns_ip6: None,
        }
    }

    /// Adds fd00:PID:N::1 (host) and ::2 (namespace), usable at once (no duplicate address
    /// detection wait).
    pub fn with_ipv6(mut self) -> NetNs {
        let n = self
            .name
            .rsplit_once('n')
            .map_or("0", |(_, n)| n)
            .to_owned();
        let prefix = format!("fd00:{:x}:{n}", std::process::id() % 0xffff);
        let (host, ns) = (format!("{prefix}::1"), format!("{prefix}::2"));
        let peer_if = self.host_if.replacen("mh", "mp", 1);
        ip(&[
            "addr",
            "add",
            &format!("{host}/64"),
            "dev",
            &self.host_if,
            "nodad",
        ]);
        ip(&[
            "-n",
            &self.name,
            "addr",
            "add",
            &format!("{ns}/64"),
            "dev",
            &peer_if,
            "nodad",
        ]);
        self.host_ip6 = Some(host);
        self.ns_ip6 = Some(ns);
        self
    }

    /// `program` to run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
