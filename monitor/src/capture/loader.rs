//! Loads the kernel programs with this run's configuration, fills the filter maps and attaches
//! every program to its tracepoints. The returned `Probes` keeps them attached until dropped.

use std::{os::unix::fs::MetadataExt, path::PathBuf};

use aya::{
    Ebpf, EbpfLoader,
    maps::{HashMap as BpfHashMap, MapData, PerCpuArray, RingBuf},
    programs::{ProgramError, TracePoint, trace_point::TracePointLinkId},
};
use monitor_common::{
    config::{CONFIG_GLOBAL, FILTER_CGROUP, FILTER_PID, FILTER_PORT},
    counters::COUNTERS_MAP,
    event::{EVENTS_MAP, PROC_EVENTS_MAP},
    state::{CGROUP_FILTER_MAP, PID_FILTER_MAP, PORT_FILTER_MAP},
};

use super::attach_points::ATTACH_POINTS;
use crate::config::Config;

/// The eBPF object built by build.rs from monitor-ebpf.
static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/monitor"));

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("tracefs is not mounted and mounting it failed: {0}")]
    Tracefs(std::io::Error),
    #[error("cgroup filter {path}: {source}")]
    Cgroup {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the kernel refused the eBPF object: {0}")]
    Object(Box<aya::EbpfError>),
    #[error("the eBPF object has no program {0}")]
    MissingProgram(&'static str),
    #[error("the kernel refused program {name}: {source}")]
    Program {
        name: &'static str,
        source: Box<ProgramError>,
    },
    #[error("cannot attach {name} to tracepoint {category}/{tracepoint}: {source}")]
    Attach {
        name: &'static str,
        category: &'static str,
        tracepoint: &'static str,
        source: Box<ProgramError>,
    },
    #[error("the kernel refused TLS program {name}: {source}")]
    TlsProgram {
        name: &'static str,
        source: Box<ProgramError>,
    },
    #[error("map {name}: {source}")]
    Map {
        name: &'static str,
        source: aya::maps::MapError,
    },
}

impl LoadError {
    /// The verifier's log, when the kernel rejected a program (for `--log debug`).
    pub fn verifier_log(&self) -> Option<String> {
        match self {
            LoadError::Program { source, .. } | LoadError::TlsProgram { source, .. } => {
                match source.as_ref() {
                    ProgramError::LoadError { verifier_log, .. } => Some(verifier_log.to_string()),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Attached kernel programs. Dropping this detaches them.
pub struct Probes {
    ebpf: Ebpf,
    links: Vec<(&'static str, TracePointLinkId)>,
    pub attached: usize,
}

impl Drop for Probes {
    /// Detaches all links at once: each detach waits for an RCU grace period (~75 ms here), so
    /// doing them one after another made every stop take seconds.
    fn drop(&mut self) {
        let mut owned = Vec::new();
        for (name, id) in self.links.drain(..) {
            let program: Option<&mut TracePoint> =
                self.ebpf.program_mut(name).and_then(|p| p.try_into().ok());
            if let Some(link) = program.and_then(|p| p.take_link(id).ok()) {
                owned.push(link);
            }
        }
        std::thread::scope(|scope| {
            for link in owned {
                scope.spawn(move || drop(link));
            }
        });
    }
}

impl Probes {
    pub fn load(config: &Config, self_pid: u32) -> Result<Probes, LoadError> {
        super::tracefs::ensure().map_err(LoadError::Tracefs)?;
        let cgroup_ids = config
            .filters
            .cgroups
            .iter()
            .map(cgroup_id)
            .collect::<Result<Vec<_>, _>>()?;

        let mut filters = 0;
        if !config.filters.pids.is_empty() {
            filters |= FILTER_PID;
        }
        if !config.filters.ports.is_empty() {
            filters |= FILTER_PORT;
        }
        if !cgroup_ids.is_empty() {
            filters |= FILTER_CGROUP;
        }
        let kernel_config = monitor_common::Config {
            self_tgid: self_pid,
            chunk_size: config.capture.chunk_bytes,
            max_call_bytes: config.capture.max_call_bytes,
            filters,
        };
        let mut ebpf = EbpfLoader::new()
            .override_global(CONFIG_GLOBAL, &kernel_config, true)
            .map_max_entries(EVENTS_MAP, config.capture.ring_buffer_bytes)
            .load(OBJECT)
            .map_err(|e| LoadError::Object(Box::new(e)))?;

        fill_filter(&mut ebpf, PID_FILTER_MAP, &config.filters.pids)?;
        fill_filter(&mut ebpf, PORT_FILTER_MAP, &config.filters.ports)?;
        fill_filter(&mut ebpf, CGROUP_FILTER_MAP, &cgroup_ids)?;

        let mut links = Vec::new();
        for (name, tracepoints) in ATTACH_POINTS {
            let program: &mut TracePoint = ebpf
                .program_mut(name)
                .ok_or(LoadError::MissingProgram(name))?
                .try_into()
                .map_err(|source| LoadError::Program {
                    name,
                    source: Box::new(source),
                })?;
            program.load().map_err(|source| LoadError::Program {
                name,
                source: Box::new(source),
            })?;
            for (category, tracepoint) in tracepoints.iter() {
                let link =
                    program
                        .attach(category, tracepoint)
                        .map_err(|source| LoadError::Attach {
                            name,
                            category,
                            tracepoint,
                            source: Box::new(source),
                        })?;
                links.push((*name, link));
            }
        }
        super::uprobes::load(&mut ebpf).map_err(|(name, source)| LoadError::TlsProgram {
            name,
            source: Box::new(source),
        })?;
        let attached = links.len();
        Ok(Probes {
            ebpf,
            links,
            attached,
        })
    }

    /// The loaded object, for the enforcement program and maps (`enforce::kernel`).
    pub fn ebpf_mut(&mut self) -> &mut Ebpf {
        &mut self.ebpf
    }

    /// Hooks one TLS library file (see `uprobes::attach`).
    pub fn hook(
        &mut self,
        path: &std::path::Path,
        plan: &super::uprobes::HookPlan,
    ) -> Result<super::uprobes::FileLinks, super::uprobes::HookError> {
        super::uprobes::attach(&mut self.ebpf, path, plan)
    }

    /// Releases one file's hooks.
    pub fn unhook(&mut self, links: super::uprobes::FileLinks) {
        super::uprobes::release(&mut self.ebpf, links)
    }

    /// Takes the ring buffer map out (once) for the reader.
    pub fn take_events(&mut self) -> Result<RingBuf<MapData>, LoadError> {
        self.take_ring(EVENTS_MAP)
    }

    /// Takes the process-event ring buffer out (once) for the TLS hook manager.
    pub fn take_proc_events(&mut self) -> Result<RingBuf<MapData>, LoadError> {
        self.take_ring(PROC_EVENTS_MAP)
    }

    fn take_ring(&mut self, name: &'static str) -> Result<RingBuf<MapData>, LoadError> {
        let map = self.ebpf.take_map(name).ok_or(LoadError::Map {
            name,
            source: aya::maps::MapError::InvalidName { name: name.into() },
        })?;
        RingBuf::try_from(map).map_err(|source| LoadError::Map { name, source })
    }

    /// Takes the counters map out (once) for the stats reader.
    pub fn take_counters(&mut self) -> Result<PerCpuArray<MapData, u64>, LoadError> {
        let map = self.ebpf.take_map(COUNTERS_MAP).ok_or(LoadError::Map {
            name: COUNTERS_MAP,
            source: aya::maps::MapError::InvalidName {
                name: COUNTERS_MAP.into(),
            },
        })?;
        PerCpuArray::try_from(map).map_err(|source| LoadError::Map {
            name: COUNTERS_MAP,
            source,
        })
    }
}

fn fill_filter<K: aya::Pod>(
    ebpf: &mut Ebpf,
    name: &'static str,
    keys: &[K],
) -> Result<(), LoadError> {
    if keys.is_empty() {
        return Ok(());
    }
    let map_err = |source| LoadError::Map { name, source };
    let map = ebpf.map_mut(name).ok_or(LoadError::Map {
        name,
        source: aya::maps::MapError::InvalidName { name: name.into() },
    })?;
    let mut map: BpfHashMap<_, K, u8> = BpfHashMap::try_from(map).map_err(map_err)?;
    for key in keys {
        map.insert(key, 1, 0).map_err(map_err)?;
    }
    Ok(())
}

/// The id `bpf_get_current_cgroup_id` returns for processes in this cgroup v2 directory: the
/// directory's inode number.
fn cgroup_id(path: &PathBuf) -> Result<u64, LoadError> {
    std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|source| LoadError::Cgroup {
            path: path.clone(),
            source,
        })
}
