//! What the monitor covers, as people and scripts read it: the `tls` object of the status
//! document (`monitor status`) and of the periodic `stats` event. Writing it atomically and
//! reading it back live here too.

use std::{
    fmt, fs, io,
    path::{Path, PathBuf},
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Per process, the TLS libraries found and whether they are hooked; the processes whose TLS
/// traffic is not covered, and why; the files carrying probes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TlsCoverage {
    /// Processes using a TLS library (supported or not), by pid.
    pub processes: Vec<ProcessCoverage>,
    /// Processes seen sending or receiving TLS records that no hook explained.
    pub uncovered_traffic: Vec<UncoveredTraffic>,
    /// Files with probes: one set per file (inode), shared by every process mapping it.
    pub files: Vec<HookedFile>,
    /// TLS connections closed without any plaintext captured, since start (processes that
    /// exited included).
    pub uncovered_connections_total: u64,
    /// Attach failures and files that could not be inspected, since start (each logged once).
    pub errors: u64,
    /// Notices about processes the hook manager could not take (queue full, undecodable).
    pub notices_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessCoverage {
    pub pid: u32,
    pub comm: String,
    /// The executable as the process sees it.
    pub exe: String,
    /// False for a process that exited recently (kept about half a minute).
    pub running: bool,
    pub libraries: Vec<LibraryCoverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LibraryCoverage {
    /// `openssl`, `boringssl`, `gnutls` or `go`; null for a library without probes (see
    /// `reason`).
    pub library: Option<String>,
    pub version: Option<String>,
    /// As the process sees it (inside its container, if any).
    pub path: String,
    pub state: HookState,
    /// Why not hooked, stable (`stripped_go`, `unknown_go_version`, `missing_symbols`,
    /// `unsupported_library`, `attach_failed`); null when hooked.
    pub reason_code: Option<String>,
    /// The same, as a sentence.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HookState {
    /// Probes are attached: this file's plaintext is captured.
    Hooked,
    /// The monitor cannot hook this file (see the reason).
    Uncovered,
    /// The file should be hookable but attaching failed.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UncoveredTraffic {
    pub pid: u32,
    pub comm: String,
    /// Connections whose TLS records were seen without plaintext.
    pub connections: u64,
    /// `no_known_library` (e.g. a TLS stack linked in without symbols the monitor knows),
    /// `not_yet_hooked` (the connection began before its library was hooked), or a library's
    /// `reason_code`.
    pub reason_code: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HookedFile {
    /// A path the file was found at.
    pub path: String,
    pub library: String,
    /// Live processes mapping it (0 for a host library hooked in advance).
    pub processes: usize,
    /// Probes attached to it.
    pub probes: usize,
}

/// The file `monitor status` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatusDocument {
    pub monitor_pid: u32,
    /// RFC 3339, UTC.
    pub ts: String,
    pub ts_unix_ns: u64,
    pub tls: TlsCoverage,
}

pub const DEFAULT_STATUS_FILE: &str = "/run/monitor/status.json";

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("no status file at {0}: is a monitor running (and writing there: --status-file)?")]
    Missing(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not a monitor status file: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the monitor that wrote {path} (pid {pid}) is no longer running")]
    Stale { path: PathBuf, pid: u32 },
}

/// Replaces `path` with `doc` in one rename, so a reader never sees half a document.
pub fn write(path: &Path, doc: &StatusDocument) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let text = serde_json::to_vec_pretty(doc).map_err(io::Error::other)?;
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}

/// Reads the document a running monitor keeps at `path`.
pub fn read(path: &Path) -> Result<StatusDocument, StatusError> {
    let text = fs::read(path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            StatusError::Missing(path.to_path_buf())
        } else {
            StatusError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    let doc: StatusDocument =
        serde_json::from_slice(&text).map_err(|source| StatusError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    if !Path::new("/proc")
        .join(doc.monitor_pid.to_string())
        .exists()
    {
        return Err(StatusError::Stale {
            path: path.to_path_buf(),
            pid: doc.monitor_pid,
        });
    }
    Ok(doc)
}

/// The human view: one line per (process, library), then uncovered traffic.
impl fmt::Display for StatusDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tls = &self.tls;
        writeln!(
            f,
            "monitor pid {} at {}: {} files hooked, {} processes with TLS libraries, {} TLS \
             connections closed uncovered, {} errors",
            self.monitor_pid,
            self.ts,
            tls.files.len(),
            tls.processes.len(),
            tls.uncovered_connections_total,
            tls.errors
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:>8}  {:<16} {:<10} {:<10} {:<10} PATH / REASON",
            "PID", "COMM", "LIBRARY", "VERSION", "STATE"
        )?;
        for p in &tls.processes {
            for l in &p.libraries {
                let state = match l.state {
                    HookState::Hooked => "hooked",
                    HookState::Uncovered => "uncovered",
                    HookState::Failed => "failed",
                };
                write!(
                    f,
                    "{:>8}  {:<16} {:<10} {:<10} {:<10} {}",
                    p.pid,
                    p.comm,
                    l.library.as_deref().unwrap_or("-"),
                    l.version.as_deref().unwrap_or("-"),
                    state,
                    l.path
                )?;
                if !p.running {
                    write!(f, " [exited]")?;
                }
                if let (Some(code), Some(reason)) = (&l.reason_code, &l.reason) {
                    write!(f, " ({code}: {reason})")?;
                }
                writeln!(f)?;
            }
        }
        if !tls.uncovered_traffic.is_empty() {
            writeln!(f)?;
            writeln!(f, "TLS traffic not covered:")?;
            for u in &tls.uncovered_traffic {
                writeln!(
                    f,
                    "{:>8}  {:<16} {} connections ({}: {})",
                    u.pid, u.comm, u.connections, u.reason_code, u.reason
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(pid: u32) -> StatusDocument {
        StatusDocument {
            monitor_pid: pid,
            ts: "2026-11-27T03:04:13Z".into(),
            ts_unix_ns: 1,
            tls: TlsCoverage {
                processes: vec![ProcessCoverage {
                    pid: 7742,
                    comm: "gostripped".into(),
                    exe: "/tmp/gostripped".into(),
                    running: false,
                    libraries: vec![LibraryCoverage {
                        library: Some("go".into()),
                        version: Some("go1.19.8".into()),
                        path: "/tmp/gostripped".into(),
                        state: HookState::Uncovered,
                        reason_code: Some("stripped_go".into()),
                        reason: Some("no symbol table".into()),
                    }],
                }],
                uncovered_traffic: vec![UncoveredTraffic {
                    pid: 7742,
                    comm: "gostripped".into(),
                    connections: 2,
                    reason_code: "stripped_go".into(),
                    reason: "no symbol table".into(),
                }],
                files: vec![],
                uncovered_connections_total: 2,
                errors: 0,
                notices_dropped: 0,
            },
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("status-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn written_documents_read_back_while_their_monitor_runs() {
        let path = scratch("nested/status.json");
        let d = doc(std::process::id());
        write(&path, &d).unwrap();
        assert_eq!(read(&path).unwrap(), d);
        let text = d.to_string();
        for needle in [
            "7742",
            "gostripped",
            "uncovered",
            "stripped_go",
            "[exited]",
            "2 connections",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }

    #[test]
    fn missing_stale_and_foreign_files_are_told_apart() {
        let missing = scratch("missing.json");
        assert!(matches!(read(&missing), Err(StatusError::Missing(_))));
        // No process has pid u32::MAX - 1 (above pid_max).
        let stale = scratch("stale.json");
        write(&stale, &doc(u32::MAX - 1)).unwrap();
        assert!(matches!(read(&stale), Err(StatusError::Stale { .. })));
        let foreign = scratch("foreign.json");
        fs::write(&foreign, "{\"hello\": 1}").unwrap();
        let err = read(&foreign).unwrap_err();
        assert!(matches!(err, StatusError::Parse { .. }), "{err}");
    }
}
