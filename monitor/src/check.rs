//! `monitor check`: what this kernel and this process offer, and whether the monitor can run.
//! The same checks guard `monitor run`, so it fails with one sentence instead of a load error.

use std::{fmt, path::Path};

use crate::capture::{attach_points, tracefs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub name: String,
    pub status: Status,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    fn add(&mut self, name: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.findings.push(Finding {
            name: name.into(),
            status,
            detail: detail.into(),
        });
    }

    /// The first reason the monitor cannot run here, as one sentence.
    pub fn blocker(&self) -> Option<String> {
        self.findings
            .iter()
            .find(|f| f.status == Status::Fail)
            .map(|f| format!("cannot run here: {} ({})", f.detail, f.name))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .findings
            .iter()
            .map(|x| x.name.len())
            .max()
            .unwrap_or(0);
        for x in &self.findings {
            let tag = match x.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            writeln!(f, "{tag}  {:width$}  {}", x.name, x.detail)?;
        }
        Ok(())
    }
}

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Effective capabilities from /proc/self/status.
pub fn effective_caps() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_cap_eff(&status)
}

pub fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line.trim_start_matches("CapEff:").trim(), 16).ok()
}

/// Runs every check. `mount_tracefs`: whether mounting tracefs may be attempted.
pub fn inspect(mount_tracefs: bool) -> Report {
    let mut r = Report::default();

    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    match kernel_version(release) {
        Some(v) if v >= (5, 17) => r.add("kernel", Status::Ok, release),
        Some(_) => r.add(
            "kernel",
            Status::Fail,
            format!("kernel {release} is older than 5.17 (bpf_loop, ring buffer)"),
        ),
        None => r.add(
            "kernel",
            Status::Warn,
            format!("unrecognised release '{release}'"),
        ),
    }

    match effective_caps() {
        Some(caps) => {
            let has = |c: u32| caps & (1 << c) != 0;
            if has(CAP_BPF) && has(CAP_PERFMON) && has(CAP_SYS_ADMIN) {
                r.add(
                    "capabilities",
                    Status::Ok,
                    "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN are effective",
                );
            } else {
                r.add(
                    "capabilities",
                    Status::Fail,
                    "the monitor needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)",
                );
            }
        }
        None => r.add(
            "capabilities",
            Status::Warn,
            "cannot read CapEff from /proc/self/status",
        ),
    }

    if Path::new("/sys/kernel/btf/vmlinux").exists() {
        r.add("btf", Status::Ok, "/sys/kernel/btf/vmlinux present");
    } else {
        r.add(
            "btf",
            Status::Warn,
            "no kernel BTF (not needed: the programs read no kernel structs)",
        );
    }

    let lockdown = std::fs::read_to_string("/sys/kernel/security/lockdown").ok();
    match lockdown.as_deref().and_then(active_lockdown) {
        Some("confidentiality") => r.add(
            "lockdown",
            Status::Fail,
            "lockdown=confidentiality forbids eBPF reads of memory",
        ),
        Some(mode) => r.add("lockdown", Status::Ok, format!("lockdown={mode}")),
        None => r.add("lockdown", Status::Warn, "unknown (securityfs not mounted)"),
    }

    match aya::sys::is_map_supported(aya::maps::MapType::RingBuf) {
        Ok(true) => r.add("ring buffer", Status::Ok, "BPF_MAP_TYPE_RINGBUF supported"),
        Ok(false) => r.add(
            "ring buffer",
            Status::Fail,
            "BPF ring buffers are not supported by this kernel",
        ),
        Err(e) => r.add(
            "ring buffer",
            Status::Fail,
            format!("cannot probe BPF ring buffer support: {e}"),
        ),
    }

    let tracefs = if mount_tracefs {
        tracefs::ensure().ok()
    } else {
        tracefs::find()
    };
    match &tracefs {
        Some(dir) => r.add("tracefs", Status::Ok, dir.display().to_string()),
        None => r.add(
            "tracefs",
            Status::Fail,
            "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)",
        ),
    }
    if let Some(dir) = tracefs {
        for (category, name) in attach_points::tracepoints() {
            let id = dir.join("events").join(category).join(name).join("id");
            let label = format!("tracepoint {category}/{name}");
            if id.exists() {
                r.add(label, Status::Ok, "available");
            } else {
                r.add(label, Status::Fail, "missing from this kernel");
            }
        }
    }

    if Path::new("/sys/bus/event_source/devices/uprobe/type").exists() {
        r.add("uprobes", Status::Ok, "available (for TLS libraries)");
    } else {
        r.add(
            "uprobes",
            Status::Warn,
            "not available: TLS plaintext capture will not work",
        );
    }
    if Path::new("/sys/bus/event_source/devices/kprobe/type").exists() {
        r.add("kprobes", Status::Ok, "available (not used)");
    } else {
        r.add("kprobes", Status::Ok, "not available (not needed)");
    }
    r
}

fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// "none [integrity] confidentiality" → "integrity".
fn active_lockdown(text: &str) -> Option<&str> {
    let start = text.find('[')?;
    let end = text[start..].find(']')? + start;
    Some(&text[start + 1..end])
}

/// What `--enforce on` would use here, tried for real (as root): the blocking program loaded
/// and attached to the cgroup v2 root then detached, and a sock_diag SOCK_DESTROY probe.
/// Warnings only: capture runs without them.
pub fn inspect_enforcement(r: &mut Report) {
    use crate::enforce::{kernel, reset::Resetter};
    const NAME_BLOCK: &str = "enforce: block";
    const NAME_RESET: &str = "enforce: reset";
    match kernel::cgroup2_root() {
        Some(root) => match crate::capture::loader::Probes::load(
            &crate::config::Config::default(),
            std::process::id(),
        ) {
            Ok(mut probes) => match kernel::KernelBlocker::attach(probes.ebpf_mut(), &root) {
                Ok(_) => r.add(
                    NAME_BLOCK,
                    Status::Ok,
                    format!(
                        "cgroup_skb ingress attaches to the cgroup v2 root {}: source addresses \
                         (IPv4, IPv6) can be dropped for every local socket",
                        root.display()
                    ),
                ),
                Err(err) => r.add(NAME_BLOCK, Status::Warn, err.to_string()),
            },
            Err(err) => r.add(
                NAME_BLOCK,
                Status::Warn,
                format!("cannot load the programs to try: {err}"),
            ),
        },
        None => r.add(
            NAME_BLOCK,
            Status::Warn,
            format!(
                "no cgroup v2 hierarchy is mounted; --enforce on mounts one at {}",
                "/run/monitor/cgroup2"
            ),
        ),
    }
    match Resetter::new().and_then(|mut rs| rs.supported()) {
        Ok(true) => r.add(
            NAME_RESET,
            Status::Ok,
            "sock_diag SOCK_DESTROY resets live TCP connections (IPv4, IPv6)",
        ),
        Ok(false) => r.add(
            NAME_RESET,
            Status::Warn,
            "this kernel cannot destroy sockets (CONFIG_INET_DIAG_DESTROY is off): blocks \
             drop new packets only, live connections are not reset",
        ),
        Err(err) => r.add(NAME_RESET, Status::Warn, err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_facts() {
        assert_eq!(kernel_version("6.18.44-fc-v657"), Some((6, 18)));
        assert_eq!(
            active_lockdown("none [integrity] confidentiality\n"),
            Some("integrity")
        );
        let status = "Name:\tx\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_cap_eff(status), Some(0x1ff_ffff_ffff));
    }

    #[test]
    fn blocker_names_the_first_failure() {
        let mut r = Report::default();
        r.add("a", Status::Ok, "fine");
        r.add("b", Status::Fail, "broken thing");
        assert_eq!(
            r.blocker().as_deref(),
            Some("cannot run here: broken thing (b)")
        );
    }
}
