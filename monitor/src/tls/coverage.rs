//! Decides which files carry TLS probes and keeps the coverage picture: hooks every hookable
//! library a process maps (one probe set per file, shared by all its users), hooks the host's
//! own libssl and libgnutls in advance so short-lived processes are covered from their first
//! call, releases a file once no process uses it, and explains what it cannot cover.
//!
//! Attaching goes through [`Hooker`], so this bookkeeping is the same whatever holds the probes.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    fs,
    os::fd::AsRawFd,
    path::{Path, PathBuf},
};

use super::{
    cache::{FileCache, FileId},
    go,
    library::{NamedLibrary, TlsLibrary, classify_basename},
    scan::{self, Finding, ProcessTls, ScanError},
    status::{
        HookState, HookedFile, LibraryCoverage, ProcessCoverage, TlsCoverage, UncoveredTraffic,
    },
    verdict::{self, Coverage as Verdict},
};
use crate::capture::uprobes::{FileLinks, HookError, HookPlan};

/// Places and removes one file's probes.
pub trait Hooker {
    fn hook(&mut self, path: &Path, plan: &HookPlan) -> Result<FileLinks, HookError>;
    fn unhook(&mut self, links: FileLinks);
}

/// Where a host keeps its shared libraries: their libssl and libgnutls are hooked at start.
pub const HOST_LIBRARY_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
];

/// Sweeps a file stays hooked without users: a program run again and again (a CLI, a cron job)
/// keeps its probes, and is covered from its first call instead of racing the scan each time.
pub const LINGER_SWEEPS: u32 = 15;

/// Processes with uncovered TLS traffic kept at once; more are counted in `errors`' log only.
const MAX_TRAFFIC_PIDS: usize = 4096;

struct HookedState {
    path: String,
    library: TlsLibrary,
    links: FileLinks,
    users: BTreeSet<u32>,
    /// A host library hooked in advance: kept while the monitor runs.
    pinned: bool,
    /// Consecutive sweeps that found no user.
    idle_sweeps: u32,
}

/// A process that exited, kept a while so its coverage (and its traffic's) stays visible.
struct Exited {
    process: ProcessTls,
    sweeps: u32,
}

/// Exited processes kept at once.
const MAX_EXITED: usize = 4096;

struct Traffic {
    comm: String,
    /// Connections seen carrying TLS records outside any hooked call.
    seen: u64,
    /// Of those, connections that closed without any plaintext captured.
    missed: u64,
}

pub struct Coverage<H: Hooker> {
    proc_root: PathBuf,
    cache: FileCache,
    hooker: H,
    hooked: HashMap<FileId, HookedState>,
    /// Files whose hooking failed, with why; not retried (the failure is logged once).
    failed: HashMap<FileId, String>,
    processes: BTreeMap<u32, ProcessTls>,
    exited: BTreeMap<u32, Exited>,
    traffic: BTreeMap<u32, Traffic>,
    missed_total: u64,
    errors: u64,
    /// Scan errors already logged (by text), so a recurring one is logged once.
    logged: HashSet<String>,
}

impl<H: Hooker> Coverage<H> {
    pub fn new(proc_root: impl Into<PathBuf>, hooker: H) -> Self {
        Self {
            proc_root: proc_root.into(),
            cache: FileCache::new(FileCache::DEFAULT_CAPACITY),
            hooker,
            hooked: HashMap::new(),
            failed: HashMap::new(),
            processes: BTreeMap::new(),
            exited: BTreeMap::new(),
            traffic: BTreeMap::new(),
            missed_total: 0,
            errors: 0,
            logged: HashSet::new(),
        }
    }

    /// Gives the hooker back (to drop the probes at a chosen moment).
    pub fn into_hooker(mut self) -> H {
        for (_, state) in self.hooked.drain() {
            self.hooker.unhook(state.links);
        }
        self.hooker
    }

    /// Hooks the libssl and libgnutls files found directly in `dirs`.
    pub fn pin_host_libraries(&mut self, dirs: &[&str]) {
        for dir in dirs {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let decide = match classify_basename(name) {
                    Some(NamedLibrary::LibSsl) => verdict::libssl,
                    Some(NamedLibrary::GnuTls) => verdict::gnutls,
                    _ => continue,
                };
                // Development symlinks (libssl.so) and versioned names reach the same inode.
                let Ok((key, info)) = self.cache.inspect(&path) else {
                    continue;
                };
                let v = decide(&info);
                let (Some(library), Verdict::Hookable) = (v.library, &v.coverage) else {
                    continue;
                };
                let finding = Finding {
                    library: Some(library),
                    version: v.version,
                    path: path.display().to_string(),
                    host_path: path.clone(),
                    file: key.id,
                    symbols: v.symbols,
                    coverage: v.coverage,
                };
                if self.ensure_hooked(&finding)
                    && let Some(state) = self.hooked.get_mut(&key.id)
                {
                    state.pinned = true;
                }
            }
        }
    }

    /// Scans every process (at start, and as a periodic safety net).
    pub fn scan_all(&mut self) {
        let report = match scan::scan_all(&self.proc_root, &mut self.cache) {
            Ok(r) => r,
            Err(e) => {
                self.log_once(e.to_string());
                return;
            }
        };
        for (_, e) in report.errors {
            self.log_once(e.to_string());
        }
        let seen: BTreeSet<u32> = report.processes.iter().map(|p| p.pid).collect();
        for p in report.processes {
            self.adopt(p);
        }
        // Processes that lost their TLS library (or exited) since the last full scan.
        let gone: Vec<u32> = self
            .processes
            .keys()
            .copied()
            .filter(|pid| !seen.contains(pid))
            .collect();
        for pid in gone {
            if self.is_alive(pid) {
                self.forget(pid);
            } else {
                self.retire(pid);
            }
        }
    }

    /// Scans one process (it exec'd or mapped new code).
    pub fn scan_pid(&mut self, pid: u32) {
        match scan::scan_process(&self.proc_root, pid, &mut self.cache) {
            Ok(p) if p.findings.is_empty() => {
                for e in &p.file_errors {
                    self.log_once(e.to_string());
                }
                self.forget(pid);
            }
            Ok(p) => self.adopt(p),
            Err(ScanError::Vanished { .. }) => self.retire(pid),
            Err(e) => self.log_once(e.to_string()),
        }
    }

    /// A connection of `pid` carried TLS records outside any hooked call. (A hooked library's
    /// handshake does too: only `tls_missed` says plaintext was lost.)
    pub fn tls_seen(&mut self, pid: u32, comm: &str) {
        if !self.processes.contains_key(&pid) {
            self.scan_pid(pid);
        }
        if let Some(t) = self.traffic_entry(pid, comm) {
            t.seen += 1;
        }
    }

    /// A connection of `pid` that carried TLS records closed without any plaintext captured.
    pub fn tls_missed(&mut self, pid: u32, comm: &str) {
        self.missed_total += 1;
        if let Some(t) = self.traffic_entry(pid, comm) {
            t.missed += 1;
        }
    }

    fn traffic_entry(&mut self, pid: u32, comm: &str) -> Option<&mut Traffic> {
        if !self.traffic.contains_key(&pid) && self.traffic.len() >= MAX_TRAFFIC_PIDS {
            return None;
        }
        Some(self.traffic.entry(pid).or_insert_with(|| Traffic {
            comm: comm.to_owned(),
            seen: 0,
            missed: 0,
        }))
    }

    /// Drops exited processes and releases the files nobody used for [`LINGER_SWEEPS`] sweeps.
    pub fn sweep(&mut self) {
        let dead: Vec<u32> = self
            .processes
            .keys()
            .copied()
            .filter(|pid| !self.is_alive(*pid))
            .collect();
        for pid in dead {
            self.retire(pid);
        }
        let mut expired = Vec::new();
        for (pid, e) in &mut self.exited {
            e.sweeps += 1;
            if e.sweeps > LINGER_SWEEPS {
                expired.push(*pid);
            }
        }
        for pid in expired {
            self.exited.remove(&pid);
        }
        // Traffic of processes gone and no longer remembered.
        let orphans: Vec<u32> = self
            .traffic
            .keys()
            .copied()
            .filter(|pid| {
                !self.processes.contains_key(pid)
                    && !self.exited.contains_key(pid)
                    && !self.is_alive(*pid)
            })
            .collect();
        for pid in orphans {
            self.traffic.remove(&pid);
        }
        self.release_unused();
    }

    fn is_alive(&self, pid: u32) -> bool {
        self.proc_root.join(pid.to_string()).exists()
    }

    fn adopt(&mut self, process: ProcessTls) {
        for e in &process.file_errors {
            self.log_once(e.to_string());
        }
        let pid = process.pid;
        for state in self.hooked.values_mut() {
            state.users.remove(&pid);
        }
        for finding in &process.findings {
            if self.ensure_hooked(finding)
                && let Some(state) = self.hooked.get_mut(&finding.file)
            {
                state.users.insert(pid);
            }
        }
        self.exited.remove(&pid);
        self.processes.insert(pid, process);
    }

    /// `pid` exited: its files lose a user, its picture is kept a while.
    fn retire(&mut self, pid: u32) {
        if let Some(process) = self.processes.remove(&pid)
            && self.exited.len() < MAX_EXITED
        {
            self.exited.insert(pid, Exited { process, sweeps: 0 });
        }
        self.forget(pid);
    }

    fn forget(&mut self, pid: u32) {
        self.processes.remove(&pid);
        for state in self.hooked.values_mut() {
            state.users.remove(&pid);
        }
    }

    fn release_unused(&mut self) {
        let mut unused = Vec::new();
        for (id, state) in &mut self.hooked {
            if !state.users.is_empty() || state.pinned {
                state.idle_sweeps = 0;
                continue;
            }
            state.idle_sweeps += 1;
            if state.idle_sweeps > LINGER_SWEEPS {
                unused.push(*id);
            }
        }
        for id in unused {
            if let Some(state) = self.hooked.remove(&id) {
                log::info!(
                    "released the {} probes on {}: no process used it for {LINGER_SWEEPS} sweeps",
                    state.library.name(),
                    state.path
                );
                self.hooker.unhook(state.links);
            }
        }
    }

    /// Whether `finding`'s file carries probes now (hooking it if it can).
    fn ensure_hooked(&mut self, finding: &Finding) -> bool {
        if self.hooked.contains_key(&finding.file) {
            return true;
        }
        let (Some(library), Verdict::Hookable) = (finding.library, &finding.coverage) else {
            return false;
        };
        if self.failed.contains_key(&finding.file) {
            return false;
        }
        // Opened first, attached through the descriptor: the probes land on this very file
        // even if its process exits meanwhile (/proc/PID/exe, /proc/PID/root/... vanish with
        // it) or the path is replaced.
        let started = std::time::Instant::now();
        let file = match fs::File::open(&finding.host_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // The process left before we got to it: nothing to cover, nothing failed.
                return false;
            }
            Err(e) => {
                let reason = format!("cannot open {}: {e}", finding.host_path.display());
                return self.fail(library, finding, reason);
            }
        };
        let fd_path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let hooked = plan(library, finding, &fd_path)
            .and_then(|plan| self.hooker.hook(&fd_path, &plan).map_err(|e| e.to_string()));
        drop(file);
        match hooked {
            Ok(links) => {
                log::info!(
                    "hooked {} {} in {} ({} probes in {} ms{})",
                    library.name(),
                    finding.version.as_deref().unwrap_or(""),
                    finding.path,
                    links.len(),
                    started.elapsed().as_millis(),
                    if links.skipped.is_empty() {
                        String::new()
                    } else {
                        format!("; absent: {}", links.skipped.join(", "))
                    }
                );
                self.hooked.insert(
                    finding.file,
                    HookedState {
                        path: finding.path.clone(),
                        library,
                        links,
                        users: BTreeSet::new(),
                        pinned: false,
                        idle_sweeps: 0,
                    },
                );
                true
            }
            Err(reason) => self.fail(library, finding, reason),
        }
    }

    /// Remembers (and logs, once per file) that `finding` cannot be hooked.
    fn fail(&mut self, library: TlsLibrary, finding: &Finding, reason: String) -> bool {
        log::warn!(
            "cannot hook {} in {}: {reason}",
            library.name(),
            finding.path
        );
        self.errors += 1;
        self.failed.insert(finding.file, reason);
        false
    }

    fn log_once(&mut self, text: String) {
        if self.logged.len() < 4096 && self.logged.insert(text.clone()) {
            self.errors += 1;
            log::warn!("TLS discovery: {text}");
        }
    }

    /// The picture for `monitor status` and the stats event.
    pub fn snapshot(&self) -> TlsCoverage {
        let running = self.processes.values().map(|p| (p, true));
        let exited = self.exited.values().map(|e| (&e.process, false));
        let mut processes: Vec<ProcessCoverage> = running
            .chain(exited)
            .map(|(p, running)| ProcessCoverage {
                pid: p.pid,
                comm: p.comm.clone(),
                exe: p.exe.clone(),
                running,
                libraries: p
                    .findings
                    .iter()
                    .map(|f| self.library_coverage(f))
                    .collect(),
            })
            .collect();
        processes.sort_by_key(|p| p.pid);
        let uncovered_traffic = self
            .traffic
            .iter()
            .filter_map(|(pid, t)| {
                let (code, reason, connections) = match self.traffic_reason(*pid) {
                    Some((code, reason)) => (code, reason, t.seen.max(t.missed)),
                    // Hooked: only connections that began before the hook went unseen.
                    None if t.missed > 0 => (
                        "not_yet_hooked",
                        "the connection began before its library was hooked".to_owned(),
                        t.missed,
                    ),
                    None => return None,
                };
                Some(UncoveredTraffic {
                    pid: *pid,
                    comm: t.comm.clone(),
                    connections,
                    reason_code: code.to_owned(),
                    reason,
                })
            })
            .collect();
        let mut files: Vec<HookedFile> = self
            .hooked
            .values()
            .map(|s| HookedFile {
                path: s.path.clone(),
                library: s.library.name().to_owned(),
                processes: s.users.len(),
                probes: s.links.len(),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        TlsCoverage {
            processes,
            uncovered_traffic,
            files,
            uncovered_connections_total: self.missed_total,
            errors: self.errors,
            notices_dropped: 0,
        }
    }

    fn library_coverage(&self, f: &Finding) -> LibraryCoverage {
        let (state, code, reason) = match &f.coverage {
            Verdict::NotCoverable(why) => (
                HookState::Uncovered,
                Some(why.name().to_owned()),
                Some(why.to_string()),
            ),
            Verdict::Hookable if self.hooked.contains_key(&f.file) => {
                (HookState::Hooked, None, None)
            }
            Verdict::Hookable => (
                HookState::Failed,
                Some("attach_failed".to_owned()),
                Some(
                    self.failed
                        .get(&f.file)
                        .cloned()
                        .unwrap_or_else(|| "not hooked yet".to_owned()),
                ),
            ),
        };
        LibraryCoverage {
            library: f.library.map(|l| l.name().to_owned()),
            version: f.version.clone(),
            path: f.path.clone(),
            state,
            reason_code: code,
            reason,
        }
    }

    /// Why `pid`'s TLS traffic went unseen; `None` when its library is hooked (the records
    /// seen were its handshake, which happens outside the hooked calls).
    fn traffic_reason(&self, pid: u32) -> Option<(&'static str, String)> {
        let no_known = || {
            (
                "no_known_library",
                "no TLS library the monitor knows is mapped (e.g. a TLS stack linked in \
                 without symbols)"
                    .to_owned(),
            )
        };
        let known = self.processes.get(&pid);
        let Some(p) = known.or_else(|| self.exited.get(&pid).map(|e| &e.process)) else {
            return Some(no_known());
        };
        if p.findings.iter().any(|f| self.hooked.contains_key(&f.file)) {
            return None;
        }
        let why = p.findings.first().map(|f| match &f.coverage {
            Verdict::NotCoverable(why) => (why.name(), why.to_string()),
            Verdict::Hookable => match self.failed.get(&f.file) {
                Some(reason) => ("attach_failed", reason.clone()),
                None => (
                    "not_yet_hooked",
                    "its library was not hooked yet when the connection began".to_owned(),
                ),
            },
        });
        Some(why.unwrap_or_else(no_known))
    }
}

/// The probes for one file.
fn plan(library: TlsLibrary, finding: &Finding, path: &Path) -> Result<HookPlan, String> {
    let offset = |name: &str| finding.symbols.get(name).map(|l| l.offset);
    match library {
        TlsLibrary::OpenSsl => Ok(HookPlan::openssl(false).at_offsets(offset)),
        TlsLibrary::BoringSsl => Ok(HookPlan::openssl(true).at_offsets(offset)),
        TlsLibrary::GnuTls => Ok(HookPlan::gnutls().at_offsets(offset)),
        TlsLibrary::Go => {
            let tls = go::analyze(path).map_err(|e| e.to_string())?;
            if tls.arch != go::GoArch::X86_64 {
                return Err(format!(
                    "Go probes read x86-64 registers; {} is {:?}",
                    finding.path, tls.arch
                ));
            }
            let returns: Vec<u64> = tls
                .write
                .return_offsets
                .iter()
                .chain(&tls.read.return_offsets)
                .copied()
                .collect();
            Ok(HookPlan::go(
                tls.write.entry_offset,
                tls.read.entry_offset,
                &returns,
            ))
        }
    }
}

#[cfg(test)]
mod tests;
