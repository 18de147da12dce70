//! Hooks TLS libraries: which kernel program goes on which function of a library file, and the
//! attaching and releasing of one file's probes. A probe is placed on the file (its inode), so
//! every process mapping that file is covered by one set of probes.

use std::path::Path;

use aya::{
    Ebpf,
    programs::{
        ProgramError, UProbe,
        uprobe::{UProbeAttachLocation, UProbeAttachPoint, UProbeLinkId, UProbeScope},
    },
};
use monitor_common::event::{LIB_BORINGSSL, LIB_GNUTLS, LIB_GO, LIB_OPENSSL};

/// The uprobe programs of monitor-ebpf/src/tls.rs.
pub const PROGRAMS: [&str; 8] = [
    "tls_write",
    "tls_read",
    "tls_write_ex",
    "tls_read_ex",
    "tls_return",
    "go_tls_write",
    "go_tls_read",
    "go_tls_return",
];

/// Where in a file a program goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A symbol of the file's .dynsym or .symtab (resolved by aya, like the kernel would).
    Symbol(String),
    /// A file offset (Go's return instructions).
    Offset(u64),
}

/// One program on one location; `required`: the file is not hooked without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub program: &'static str,
    pub location: Location,
    pub required: bool,
}

/// Everything to attach to one library file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookPlan {
    /// `LIB_*`, handed to the programs as the attach cookie.
    pub library: u32,
    pub hooks: Vec<Hook>,
}

fn sym(program: &'static str, name: &str, required: bool) -> Hook {
    Hook {
        program,
        location: Location::Symbol(name.to_owned()),
        required,
    }
}

impl HookPlan {
    /// OpenSSL 1.1/3 or BoringSSL, in a shared libssl or linked into an executable. The `_ex`
    /// functions are absent from OpenSSL 1.1.0 and BoringSSL, hence optional.
    pub fn openssl(boring: bool) -> HookPlan {
        HookPlan {
            library: if boring { LIB_BORINGSSL } else { LIB_OPENSSL },
            hooks: vec![
                sym("tls_write", "SSL_write", true),
                sym("tls_return", "SSL_write", true),
                sym("tls_read", "SSL_read", true),
                sym("tls_return", "SSL_read", true),
                sym("tls_write_ex", "SSL_write_ex", false),
                sym("tls_return", "SSL_write_ex", false),
                sym("tls_read_ex", "SSL_read_ex", false),
                sym("tls_return", "SSL_read_ex", false),
            ],
        }
    }

    /// The same hooks placed at the file offsets discovery found, rather than resolved by name
    /// again (aya's lookup may land on an imported symbol of the same name).
    pub fn at_offsets(mut self, offsets: impl Fn(&str) -> Option<u64>) -> HookPlan {
        for hook in &mut self.hooks {
            if let Location::Symbol(name) = &hook.location
                && let Some(at) = offsets(name)
            {
                hook.location = Location::Offset(at);
            }
        }
        self
    }

    pub fn gnutls() -> HookPlan {
        HookPlan {
            library: LIB_GNUTLS,
            hooks: vec![
                sym("tls_write", "gnutls_record_send", true),
                sym("tls_return", "gnutls_record_send", true),
                sym("tls_read", "gnutls_record_recv", true),
                sym("tls_return", "gnutls_record_recv", true),
            ],
        }
    }

    /// Go crypto/tls: entries of `(*Conn).Write` and `(*Conn).Read` and each of their return
    /// instructions (file offsets).
    pub fn go(write: u64, read: u64, returns: &[u64]) -> HookPlan {
        let mut hooks = vec![
            Hook {
                program: "go_tls_write",
                location: Location::Offset(write),
                required: true,
            },
            Hook {
                program: "go_tls_read",
                location: Location::Offset(read),
                required: true,
            },
        ];
        hooks.extend(returns.iter().map(|&at| Hook {
            program: "go_tls_return",
            location: Location::Offset(at),
            required: true,
        }));
        HookPlan {
            library: LIB_GO,
            hooks,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("the eBPF object has no program {0}")]
    MissingProgram(&'static str),
    #[error("cannot attach {program} at {location:?} of {path}: {source}")]
    Attach {
        program: &'static str,
        location: Location,
        path: String,
        source: Box<ProgramError>,
    },
}

/// The links of one hooked file; [`release`] detaches them.
#[derive(Debug, Default)]
pub struct FileLinks {
    links: Vec<(&'static str, UProbeLinkId)>,
    /// Optional hooks that could not be placed (e.g. SSL_write_ex in OpenSSL 1.1.0).
    pub skipped: Vec<String>,
}

impl FileLinks {
    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    pub(super) fn take(&mut self) -> Vec<(&'static str, UProbeLinkId)> {
        std::mem::take(&mut self.links)
    }
}

/// Loads the uprobe programs (once, at start).
pub fn load(ebpf: &mut Ebpf) -> Result<(), (&'static str, ProgramError)> {
    for name in PROGRAMS {
        let program: &mut UProbe = ebpf
            .program_mut(name)
            .ok_or((name, ProgramError::NotLoaded))?
            .try_into()
            .map_err(|e| (name, e))?;
        program.load().map_err(|e| (name, e))?;
    }
    Ok(())
}

fn program<'a>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<&'a mut UProbe, HookError> {
    ebpf.program_mut(name)
        .and_then(|p| <&mut UProbe>::try_from(p).ok())
        .ok_or(HookError::MissingProgram(name))
}

/// Attaches `plan` to the file at `path` (a path the monitor can open, e.g. through
/// /proc/PID/root). All or nothing for required hooks: on failure what was attached is released.
pub fn attach(ebpf: &mut Ebpf, path: &Path, plan: &HookPlan) -> Result<FileLinks, HookError> {
    let mut done = FileLinks::default();
    for hook in &plan.hooks {
        let location = match &hook.location {
            Location::Symbol(s) => UProbeAttachLocation::Symbol(s),
            Location::Offset(o) => UProbeAttachLocation::AbsoluteOffset(*o),
        };
        let point = UProbeAttachPoint {
            location,
            cookie: Some(plan.library as u64),
        };
        let result = program(ebpf, hook.program).and_then(|p| {
            p.attach(point, path, UProbeScope::AllProcesses)
                .map_err(|source| HookError::Attach {
                    program: hook.program,
                    location: hook.location.clone(),
                    path: path.display().to_string(),
                    source: Box::new(source),
                })
        });
        match result {
            Ok(id) => done.links.push((hook.program, id)),
            Err(_) if !hook.required => {
                if let Location::Symbol(s) = &hook.location
                    && !done.skipped.contains(s)
                {
                    done.skipped.push(s.clone());
                }
            }
            Err(e) => {
                release(ebpf, done);
                return Err(e);
            }
        }
    }
    Ok(done)
}

/// Detaches one file's probes.
pub fn release(ebpf: &mut Ebpf, mut links: FileLinks) {
    for (name, id) in links.take() {
        if let Ok(p) = program(ebpf, name) {
            let _ = p.detach(id);
        }
    }
}
