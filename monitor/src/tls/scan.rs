//! Scans processes through `/proc`: which TLS libraries each one uses (mapped, or inside its
//! executable), where to hook them, and what cannot be covered.

use std::{
    collections::BTreeMap,
    fs, io,
    path::{Path, PathBuf},
};

use serde::Serialize;

use super::{
    cache::{FileCache, FileId},
    elf::{ElfError, ElfInfo, SymbolLocation},
    library::{NamedLibrary, TlsLibrary, classify_basename},
    maps::{self, MappedFile},
    verdict::{self, Coverage, Verdict},
};

/// The TLS picture of one process.
#[derive(Debug, Serialize)]
pub struct ProcessTls {
    pub pid: u32,
    pub comm: String,
    /// The executable as the process sees it; empty for kernel threads and zombies.
    pub exe: String,
    pub findings: Vec<Finding>,
    /// Files that looked relevant but could not be inspected (the rest of the scan went on).
    #[serde(serialize_with = "display_all")]
    pub file_errors: Vec<ScanError>,
}

/// One file in a process that matters for TLS capture.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `None` for a library the monitor does not support (named in `coverage`).
    pub library: Option<TlsLibrary>,
    pub version: Option<String>,
    /// As the process sees it.
    pub path: String,
    /// Where the monitor opens it (through the process's root, or `/proc/PID/exe`).
    pub host_path: PathBuf,
    /// From `stat` of `host_path`: one probe per file, whatever the path.
    pub file: FileId,
    /// Hook function → file offset and size.
    pub symbols: BTreeMap<&'static str, SymbolLocation>,
    pub coverage: Coverage,
}

#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    /// Processes with at least one finding or file error.
    pub processes: Vec<ProcessTls>,
    #[serde(serialize_with = "display_pairs")]
    pub errors: Vec<(u32, ScanError)>,
    /// Processes scanned to the end, with or without findings.
    pub scanned: usize,
    /// Processes that exited while being scanned: normal churn, only counted.
    pub vanished: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("process {pid} exited during the scan")]
    Vanished { pid: u32 },
    #[error("no permission to read {path} of process {pid} (the monitor needs root)")]
    PermissionDenied { pid: u32, path: PathBuf },
    #[error("cannot read {path} of process {pid}: {source}")]
    Io {
        pid: u32,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot inspect {display_path}, mapped by process {pid}: {source}")]
    File {
        pid: u32,
        display_path: String,
        source: ElfError,
    },
    #[error("cannot list processes in {path}: {source}")]
    ListProcesses { path: PathBuf, source: io::Error },
}

impl ScanError {
    fn from_io(pid: u32, path: PathBuf, source: io::Error) -> Self {
        if is_gone(&source) {
            Self::Vanished { pid }
        } else if source.kind() == io::ErrorKind::PermissionDenied {
            Self::PermissionDenied { pid, path }
        } else {
            Self::Io { pid, path, source }
        }
    }
}

fn is_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH)
}

/// Scans one process. Files read go through `cache`.
pub fn scan_process(
    proc_root: &Path,
    pid: u32,
    cache: &mut FileCache,
) -> Result<ProcessTls, ScanError> {
    let dir = proc_root.join(pid.to_string());
    let read = |name: &str| {
        let path = dir.join(name);
        fs::read_to_string(&path).map_err(|e| ScanError::from_io(pid, path, e))
    };
    let comm = read("comm")?.trim_end_matches('\n').to_owned();
    let mapped = maps::parse_maps(&read("maps")?);
    let mut process = ProcessTls {
        pid,
        comm,
        exe: String::new(),
        findings: Vec::new(),
        file_errors: Vec::new(),
    };
    // Kernel threads and zombies map nothing and have no readable exe.
    if mapped.is_empty() {
        return Ok(process);
    }
    let exe_link = dir.join("exe");
    let exe = fs::read_link(&exe_link).map_err(|e| ScanError::from_io(pid, exe_link.clone(), e))?;
    let exe = exe.to_string_lossy();
    process.exe = exe.strip_suffix(" (deleted)").unwrap_or(&exe).to_owned();

    let exe_path = process.exe.clone();

    // The exe link opens the very file the process runs, even if deleted or in a container.
    let exe_finding = inspect(cache, &exe_link, verdict::executable);
    collect(&mut process, &dir, &exe_path, exe_link, exe_finding)?;

    for file in mapped.iter().filter(|f| f.path != exe_path) {
        let Some(named) = classify_basename(file.basename()) else {
            continue;
        };
        let host = mapped_host_path(proc_root, pid, file);
        let finding = match named {
            NamedLibrary::LibSsl => inspect(cache, &host, |info| Some(verdict::libssl(info))),
            NamedLibrary::GnuTls => inspect(cache, &host, |info| Some(verdict::gnutls(info))),
            NamedLibrary::Unsupported(lib) => stat_only(&host, verdict::unsupported(lib)),
        };
        collect(&mut process, &dir, &file.path, host, finding)?;
    }
    Ok(process)
}

/// Where the monitor opens a mapped file: through the process's root, or, once the file was
/// deleted and its path names nothing (or something newer), through `map_files`.
fn mapped_host_path(proc_root: &Path, pid: u32, file: &MappedFile) -> PathBuf {
    if file.deleted {
        maps::map_files_path(proc_root, pid, file.range)
    } else {
        maps::host_path(proc_root, pid, &file.path)
    }
}

type Inspected = Result<Option<(FileId, Verdict)>, ElfError>;

fn inspect(
    cache: &mut FileCache,
    host: &Path,
    decide: impl FnOnce(&ElfInfo) -> Option<Verdict>,
) -> Inspected {
    let (key, info) = cache.inspect(host)?;
    Ok(decide(&info).map(|v| (key.id, v)))
}

fn stat_only(host: &Path, verdict: Verdict) -> Inspected {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(host).map_err(|source| ElfError::Open {
        path: host.to_path_buf(),
        source,
    })?;
    let id = FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    };
    Ok(Some((id, verdict)))
}

/// Records a finding, or the error of one file; a file missing because the whole process is
/// gone ends the scan of that process as vanished.
fn collect(
    process: &mut ProcessTls,
    dir: &Path,
    display_path: &str,
    host_path: PathBuf,
    inspected: Inspected,
) -> Result<(), ScanError> {
    match inspected {
        Ok(None) => {}
        Ok(Some((file, v))) => process.findings.push(Finding {
            library: v.library,
            version: v.version,
            path: display_path.to_owned(),
            host_path,
            file,
            symbols: v.symbols,
            coverage: v.coverage,
        }),
        Err(e) if e.io_error().is_some_and(is_gone) && !dir.exists() => {
            return Err(ScanError::Vanished { pid: process.pid });
        }
        Err(source) => process.file_errors.push(ScanError::File {
            pid: process.pid,
            display_path: display_path.to_owned(),
            source,
        }),
    }
    Ok(())
}

/// Scans every process under `proc_root` (numeric entries), in pid order.
pub fn scan_all(proc_root: &Path, cache: &mut FileCache) -> Result<ScanReport, ScanError> {
    let list_error = |source| ScanError::ListProcesses {
        path: proc_root.to_path_buf(),
        source,
    };
    let mut pids: Vec<u32> = fs::read_dir(proc_root)
        .map_err(list_error)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    let mut report = ScanReport::default();
    for pid in pids {
        match scan_process(proc_root, pid, cache) {
            Ok(p) => {
                report.scanned += 1;
                if !p.findings.is_empty() || !p.file_errors.is_empty() {
                    report.processes.push(p);
                }
            }
            Err(ScanError::Vanished { .. }) => report.vanished += 1,
            Err(e) => report.errors.push((pid, e)),
        }
    }
    Ok(report)
}

fn display_all<S: serde::Serializer>(errors: &[ScanError], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(errors.iter().map(ToString::to_string))
}

fn display_pairs<S: serde::Serializer>(
    errors: &[(u32, ScanError)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(errors.iter().map(|(pid, e)| (pid, e.to_string())))
}

#[cfg(test)]
mod tests;
