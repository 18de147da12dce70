//! The kernel side of blocking: attaches the cgroup_skb ingress program to the root of the
//! cgroup v2 hierarchy (every local socket's packets pass it, loopback and every interface
//! included) and keeps its source-prefix tries. The link is owned here and nowhere pinned:
//! dropping it, or the agent dying, detaches the program.

use std::{
    fs::File,
    net::IpAddr,
    path::{Path, PathBuf},
};

use aya::{
    Ebpf,
    maps::{
        MapData, PerCpuArray,
        lpm_trie::{Key, LpmTrie},
    },
    programs::{
        CgroupAttachMode, CgroupSkb, CgroupSkbAttachType, ProgramError, cgroup_skb::CgroupSkbLink,
    },
};
use ipnet::IpNet;
use monitor_common::enforce::{
    BLOCK_V4_MAP, BLOCK_V6_MAP, BlockValue, DROPPED_V4, DROPPED_V6, ENFORCE_COUNTERS_MAP,
    INGRESS_PROGRAM, UNPARSED,
};

use super::allow::canonical_net;

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("no cgroup v2 hierarchy is mounted and mounting one at {path} failed: {source}")]
    NoCgroup2 {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the cgroup {path}: {source}")]
    OpenCgroup {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the eBPF object has no {0}")]
    Missing(&'static str),
    #[error("the kernel refused the blocking program: {}", program_error(.0))]
    Program(Box<ProgramError>),
    #[error("blocklist map {name}: {source}")]
    Map {
        name: &'static str,
        source: Box<aya::maps::MapError>,
    },
}

/// The error with the system call's own reason (aya's message names only the call).
fn program_error(e: &ProgramError) -> String {
    match e {
        ProgramError::SyscallError(s) => format!("{e}: {}", s.io_error),
        ProgramError::LoadError { io_error, .. } => format!("{e}: {io_error}"),
        other => other.to_string(),
    }
}

/// Where this host's cgroup v2 hierarchy is mounted (unified or hybrid layout).
pub fn cgroup2_root() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mounts").ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(' ');
        let (_dev, dir, fstype) = (fields.next()?, fields.next()?, fields.next()?);
        (fstype == "cgroup2").then(|| PathBuf::from(dir.replace("\\040", " ")))
    })
}

/// A private mount point for cgroup v2 when the host has none mounted.
const OWN_CGROUP2: &str = "/run/monitor/cgroup2";

/// The cgroup v2 root, mounting one at `/run/monitor/cgroup2` if none is (as tracefs is).
pub fn ensure_cgroup2() -> Result<PathBuf, KernelError> {
    if let Some(p) = cgroup2_root() {
        return Ok(p);
    }
    let path = PathBuf::from(OWN_CGROUP2);
    mount_cgroup2(&path).map_err(|source| KernelError::NoCgroup2 {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

fn mount_cgroup2(target: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(target)?;
    crate::mount::mount(c"cgroup2", c"cgroup2", target)
}

/// Packets the program dropped (all CPUs), and those it could not read a source from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    pub v4: u64,
    pub v6: u64,
    pub unparsed: u64,
}

pub struct KernelBlocker {
    v4: LpmTrie<MapData, [u8; 4], BlockValue>,
    v6: LpmTrie<MapData, [u8; 16], BlockValue>,
    counters: PerCpuArray<MapData, u64>,
    /// Kept only to be dropped with us: that detaches the program.
    _link: CgroupSkbLink,
    pub cgroup: PathBuf,
}

impl KernelBlocker {
    /// Loads the ingress program from `ebpf`, attaches it to `cgroup` and takes its maps.
    pub fn attach(ebpf: &mut Ebpf, cgroup: &Path) -> Result<Self, KernelError> {
        let program: &mut CgroupSkb = ebpf
            .program_mut(INGRESS_PROGRAM)
            .ok_or(KernelError::Missing(INGRESS_PROGRAM))?
            .try_into()
            .map_err(|e| KernelError::Program(Box::new(e)))?;
        program
            .load()
            .map_err(|e| KernelError::Program(Box::new(e)))?;
        let file = File::open(cgroup).map_err(|source| KernelError::OpenCgroup {
            path: cgroup.to_owned(),
            source,
        })?;
        // A bpf_link (kernel >= 5.7) always sits beside other programs on the cgroup
        // (systemd's, say); it takes no flags: aya passes the mode as the link's flags, and
        // the kernel refuses BPF_F_ALLOW_MULTI there with EINVAL, so the mode is "single".
        let id = program
            .attach(
                &file,
                CgroupSkbAttachType::Ingress,
                CgroupAttachMode::Single,
            )
            .map_err(|e| KernelError::Program(Box::new(e)))?;
        let link = program
            .take_link(id)
            .map_err(|e| KernelError::Program(Box::new(e)))?;
        let v4 = take(ebpf, BLOCK_V4_MAP, LpmTrie::try_from)?;
        let v6 = take(ebpf, BLOCK_V6_MAP, LpmTrie::try_from)?;
        let counters = take(ebpf, ENFORCE_COUNTERS_MAP, PerCpuArray::try_from)?;
        Ok(Self {
            v4,
            v6,
            counters,
            _link: link,
            cgroup: cgroup.to_owned(),
        })
    }

    pub fn insert(&mut self, net: IpNet, decision: u32) -> Result<(), KernelError> {
        let value = BlockValue { decision, _pad: 0 };
        match canonical_net(net).trunc() {
            IpNet::V4(n) => self
                .v4
                .insert(
                    &Key::new(u32::from(n.prefix_len()), n.addr().octets()),
                    value,
                    0,
                )
                .map_err(|e| map_err(BLOCK_V4_MAP, e)),
            IpNet::V6(n) => self
                .v6
                .insert(
                    &Key::new(u32::from(n.prefix_len()), n.addr().octets()),
                    value,
                    0,
                )
                .map_err(|e| map_err(BLOCK_V6_MAP, e)),
        }
    }

    /// Takes `net` out; one that is not there is not an error.
    pub fn remove(&mut self, net: IpNet) -> Result<(), KernelError> {
        let result = match canonical_net(net).trunc() {
            IpNet::V4(n) => self
                .v4
                .remove(&Key::new(u32::from(n.prefix_len()), n.addr().octets())),
            IpNet::V6(n) => self
                .v6
                .remove(&Key::new(u32::from(n.prefix_len()), n.addr().octets())),
        };
        match result {
            Ok(()) | Err(aya::maps::MapError::KeyNotFound) => Ok(()),
            Err(e) => Err(map_err(
                if matches!(net.addr(), IpAddr::V4(_)) {
                    BLOCK_V4_MAP
                } else {
                    BLOCK_V6_MAP
                },
                e,
            )),
        }
    }

    pub fn drops(&self) -> Drops {
        let sum = |slot: u32| {
            self.counters
                .get(&slot, 0)
                .map(|per_cpu| per_cpu.iter().sum::<u64>())
                .unwrap_or(0)
        };
        Drops {
            v4: sum(DROPPED_V4),
            v6: sum(DROPPED_V6),
            unparsed: sum(UNPARSED),
        }
    }
}

fn take<M>(
    ebpf: &mut Ebpf,
    name: &'static str,
    convert: impl FnOnce(aya::maps::Map) -> Result<M, aya::maps::MapError>,
) -> Result<M, KernelError> {
    let map = ebpf.take_map(name).ok_or(KernelError::Missing(name))?;
    convert(map).map_err(|e| map_err(name, e))
}

fn map_err(name: &'static str, e: aya::maps::MapError) -> KernelError {
    KernelError::Map {
        name,
        source: Box::new(e),
    }
}
