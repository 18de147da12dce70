//! Attribution of connections the kernel programs saw no handshake for (opened before the
//! monitor started): /proc/PID/fd/N names the socket inode, /proc/PID/net/tcp{,6} its addresses.
//! A process is the server of a connection when it (or its network namespace) listens on the
//! connection's local port.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::PathBuf,
};

use super::model::Role;
use crate::capture::{Endpoints, decode::canonical};

/// Looks up a connection's addresses and role from its owner's pid and fd.
pub trait Resolve {
    fn resolve(&mut self, pid: u32, fd: i32) -> Option<(Endpoints, Role)>;

    /// The role of a connection whose addresses are known but whose handshake was not seen:
    /// server when the process's network namespace listens on the local port.
    fn role(&mut self, pid: u32, local: SocketAddr) -> Role;
}

/// Resolves nothing: for replay, where the processes are long gone.
pub struct NoResolve;

impl Resolve for NoResolve {
    fn resolve(&mut self, _pid: u32, _fd: i32) -> Option<(Endpoints, Role)> {
        None
    }

    fn role(&mut self, _pid: u32, _local: SocketAddr) -> Role {
        Role::Unknown
    }
}

pub struct ProcResolver {
    root: PathBuf,
}

impl ProcResolver {
    pub fn new() -> Self {
        Self::at("/proc")
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl Default for ProcResolver {
    fn default() -> Self {
        Self::new()
    }
}

impl Resolve for ProcResolver {
    fn resolve(&mut self, pid: u32, fd: i32) -> Option<(Endpoints, Role)> {
        let proc_dir = self.root.join(pid.to_string());
        let link = std::fs::read_link(proc_dir.join("fd").join(fd.to_string())).ok()?;
        let inode = socket_inode(link.to_str()?)?;
        let mut entries = Vec::new();
        for table in ["net/tcp", "net/tcp6"] {
            if let Ok(text) = std::fs::read_to_string(proc_dir.join(table)) {
                entries.extend(parse_tcp_table(&text));
            }
        }
        let entry = entries.iter().find(|e| e.inode == inode)?;
        let role = role_from(&entries, entry.local);
        Some((
            Endpoints {
                local: entry.local,
                remote: entry.remote,
            },
            role,
        ))
    }

    fn role(&mut self, pid: u32, local: SocketAddr) -> Role {
        // The process's own namespace first; if it is gone, the monitor's (usually the same).
        for dir in [self.root.join(pid.to_string()), self.root.join("self")] {
            let mut entries = Vec::new();
            for table in ["net/tcp", "net/tcp6"] {
                if let Ok(text) = std::fs::read_to_string(dir.join(table)) {
                    entries.extend(parse_tcp_table(&text));
                }
            }
            if !entries.is_empty() {
                return role_from(&entries, local);
            }
        }
        Role::Unknown
    }
}

fn role_from(entries: &[TcpEntry], local: SocketAddr) -> Role {
    let listening = entries.iter().any(|e| {
        e.state == TCP_LISTEN
            && e.local.port() == local.port()
            && (e.local.ip() == local.ip() || e.local.ip().is_unspecified())
    });
    if listening {
        Role::Server
    } else {
        Role::Client
    }
}

const TCP_LISTEN: u8 = 0x0A;

/// One line of /proc/net/tcp or tcp6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: u8,
    pub inode: u64,
}

/// "socket:[12345]" → 12345.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Parses /proc/net/tcp or /proc/net/tcp6 text; malformed lines are skipped.
pub fn parse_tcp_table(text: &str) -> Vec<TcpEntry> {
    text.lines().skip(1).filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<TcpEntry> {
    let mut fields = line.split_whitespace();
    let _slot = fields.next()?;
    let local = parse_addr(fields.next()?)?;
    let remote = parse_addr(fields.next()?)?;
    let state = u8::from_str_radix(fields.next()?, 16).ok()?;
    // tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    let inode = fields.nth(5)?.parse().ok()?;
    Some(TcpEntry {
        local,
        remote,
        state,
        inode,
    })
}

/// "0100007F:1F90" or a 32-hex-digit IPv6 address. The kernel prints each 32-bit word of the
/// address as a native-endian integer, so each word's bytes are recovered with to_ne_bytes.
fn parse_addr(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = addr.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            canonical(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded from this machine (/proc/net/tcp and tcp6) with a python server on 8000 and a
    // client connected to it.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F40 0100007F:B2A4 01 00000000:00000000 00:00000000 00000000     0        0 31338 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:B2A4 0100007F:1F40 01 00000000:00000000 00:00000000 00000000     0        0 31339 1 0000000000000000 20 4 30 10 -1
   garbage line
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F41 00000000000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 29 10 -1
   1: 0000000000000000FFFF00000100007F:1F42 0000000000000000FFFF00000200007F:D432 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 29 10 -1
";

    #[test]
    fn parses_ipv4_table() {
        let e = parse_tcp_table(TCP);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].state, TCP_LISTEN);
        assert_eq!(e[1].local.to_string(), "127.0.0.1:8000");
        assert_eq!(e[1].remote.to_string(), "127.0.0.1:45732");
        assert_eq!(e[2].inode, 31339);
    }

    #[test]
    fn parses_ipv6_table_with_mapped_addresses() {
        let e = parse_tcp_table(TCP6);
        assert_eq!(e[0].local.to_string(), "[::1]:8001");
        assert_eq!(e[0].remote.to_string(), "[::1]:54321");
        assert_eq!(e[1].local.to_string(), "127.0.0.1:8002");
        assert_eq!(e[1].remote.to_string(), "127.0.0.2:54322");
    }

    #[test]
    fn socket_links() {
        assert_eq!(socket_inode("socket:[31338]"), Some(31338));
        assert_eq!(socket_inode("pipe:[5]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn resolves_from_a_fake_proc_tree() {
        let dir = std::env::temp_dir().join(format!("monitor-proc-{}", std::process::id()));
        let pid_dir = dir.join("77");
        std::fs::create_dir_all(pid_dir.join("fd")).unwrap();
        std::fs::create_dir_all(pid_dir.join("net")).unwrap();
        std::fs::write(pid_dir.join("net/tcp"), TCP).unwrap();
        std::fs::write(pid_dir.join("net/tcp6"), TCP6).unwrap();
        let _ = std::fs::remove_file(pid_dir.join("fd/3"));
        let _ = std::fs::remove_file(pid_dir.join("fd/4"));
        std::os::unix::fs::symlink("socket:[31338]", pid_dir.join("fd/3")).unwrap();
        std::os::unix::fs::symlink("socket:[31339]", pid_dir.join("fd/4")).unwrap();
        let mut r = ProcResolver::at(&dir);
        let (ep, role) = r.resolve(77, 3).unwrap();
        assert_eq!(ep.local.to_string(), "127.0.0.1:8000");
        assert_eq!(role, Role::Server);
        let (ep, role) = r.resolve(77, 4).unwrap();
        assert_eq!(ep.remote.to_string(), "127.0.0.1:8000");
        assert_eq!(role, Role::Client);
        assert!(r.resolve(77, 9).is_none());
        assert!(r.resolve(78, 3).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
