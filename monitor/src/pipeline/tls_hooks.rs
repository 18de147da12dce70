//! The TLS hook manager's thread: it owns the probes (uprobes attach through them), scans
//! processes the kernel says exec'd or mapped new code, hears from the main loop which
//! processes sent TLS records nobody explained, and publishes the coverage picture (shared
//! with the stats event, and written to the status file).
//!
//! A thread, not a task: scanning reads /proc and ELF files, blocking work that must not stall
//! the ring-buffer loop.

use std::{
    collections::HashMap,
    os::fd::AsRawFd,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
        mpsc::{self, Receiver, Sender, SyncSender, TryRecvError, TrySendError},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use aya::maps::{MapData, RingBuf};
use monitor_common::event::{PROC_EVENT_LEN, PROC_EXEC, PROC_MMAP_EXEC, ProcEvent};

use crate::{
    capture::{
        loader::Probes,
        uprobes::{FileLinks, HookError, HookPlan},
    },
    clock::{rfc3339, unix_now_ns},
    tls::{
        coverage::{Coverage, HOST_LIBRARY_DIRS, Hooker},
        status::{self, StatusDocument, TlsCoverage},
    },
};

/// `ProcEvent` from its bytes: kind u32, pid u32 (native endian, as the kernel wrote them).
fn decode_proc_event(bytes: &[u8]) -> Option<ProcEvent> {
    if bytes.len() != PROC_EVENT_LEN {
        return None;
    }
    let word = |at: usize| Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let ev = ProcEvent {
        kind: word(0)?,
        pid: word(4)?,
    };
    (ev.kind == PROC_EXEC || ev.kind == PROC_MMAP_EXEC).then_some(ev)
}

/// A process is scanned this long after its last exec/mmap notice: the loader maps a burst of
/// libraries, one scan after the burst sees them all.
const SETTLE: Duration = Duration::from_millis(1);
const IDLE_POLL: Duration = Duration::from_millis(100);
/// Exited processes are dropped this often (and unused files released, see `LINGER_SWEEPS`).
const SWEEP_EVERY: Duration = Duration::from_secs(2);
/// A full rescan catches what notices missed (a full notice buffer, say).
const RESCAN_EVERY: Duration = Duration::from_secs(30);
const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// Notices from the main loop waiting for the thread; beyond, they are dropped and counted.
const NOTICE_QUEUE: usize = 4096;

enum Notice {
    TlsSeen { pid: u32, comm: String },
    TlsMissed { pid: u32, comm: String },
    Stop,
}

impl Hooker for Probes {
    fn hook(&mut self, path: &Path, plan: &HookPlan) -> Result<FileLinks, HookError> {
        Probes::hook(self, path, plan)
    }

    fn unhook(&mut self, links: FileLinks) {
        Probes::unhook(self, links)
    }
}

pub struct TlsHooks {
    notices: SyncSender<Notice>,
    /// Notices the full queue refused (the main loop never waits for the thread).
    dropped: Arc<AtomicU64>,
    shared: Arc<Mutex<TlsCoverage>>,
    thread: Option<JoinHandle<Probes>>,
}

pub struct Settings {
    /// Hook libraries at all (`--no-tls` turns it off; the thread then only holds the probes).
    pub enabled: bool,
    pub status_file: Option<PathBuf>,
    pub proc_root: PathBuf,
}

impl TlsHooks {
    /// Starts the thread; returns once the host's libraries and the running processes are
    /// hooked, so what starts after this is covered.
    pub fn start(
        probes: Probes,
        proc_events: RingBuf<MapData>,
        settings: Settings,
    ) -> std::io::Result<TlsHooks> {
        let (tx, rx) = mpsc::sync_channel(NOTICE_QUEUE);
        let (ready_tx, ready_rx) = mpsc::channel();
        let shared = Arc::new(Mutex::new(TlsCoverage::default()));
        let published = Arc::clone(&shared);
        let dropped = Arc::new(AtomicU64::new(0));
        let queue_drops = Arc::clone(&dropped);
        let thread = std::thread::Builder::new()
            .name("tls-hooks".into())
            .spawn(move || {
                let worker = Worker {
                    coverage: Coverage::new(settings.proc_root.clone(), probes),
                    ring: proc_events,
                    notices: rx,
                    shared: published,
                    settings,
                    pending: HashMap::new(),
                    undecodable: 0,
                    queue_drops,
                };
                worker.run(ready_tx)
            })?;
        // A thread that died before saying ready has its reason in the log already.
        let _ = ready_rx.recv();
        Ok(TlsHooks {
            notices: tx,
            dropped,
            shared,
            thread: Some(thread),
        })
    }

    pub fn tls_seen(&self, pid: u32, comm: &str) {
        self.notify(Notice::TlsSeen {
            pid,
            comm: comm.to_owned(),
        });
    }

    pub fn tls_missed(&self, pid: u32, comm: &str) {
        self.notify(Notice::TlsMissed {
            pid,
            comm: comm.to_owned(),
        });
    }

    fn notify(&self, notice: Notice) {
        if let Err(TrySendError::Full(_)) = self.notices.try_send(notice) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn coverage(&self) -> TlsCoverage {
        match self.shared.lock() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Stops the thread and hands the probes back (dropping them detaches everything).
    pub fn stop(mut self) -> Option<Probes> {
        // Blocking: the thread drains the queue, so Stop gets in.
        let _ = self.notices.send(Notice::Stop);
        self.thread.take()?.join().ok()
    }
}

struct Worker {
    coverage: Coverage<Probes>,
    ring: RingBuf<MapData>,
    notices: Receiver<Notice>,
    shared: Arc<Mutex<TlsCoverage>>,
    settings: Settings,
    /// pid → when to scan it (its last exec/mmap notice).
    pending: HashMap<u32, Instant>,
    /// Process notices of an unexpected shape (none expected: counted, not trusted).
    undecodable: u64,
    queue_drops: Arc<AtomicU64>,
}

impl Worker {
    fn run(mut self, ready: Sender<()>) -> Probes {
        if self.settings.enabled {
            self.coverage.pin_host_libraries(HOST_LIBRARY_DIRS);
            self.coverage.scan_all();
        }
        self.publish();
        let _ = ready.send(());
        let mut last_sweep = Instant::now();
        let mut last_rescan = Instant::now();
        let mut last_publish = Instant::now();
        loop {
            let timeout = if self.pending.is_empty() {
                IDLE_POLL
            } else {
                SETTLE
            };
            self.wait(timeout);
            self.take_proc_events();
            let mut changed = false;
            loop {
                match self.notices.try_recv() {
                    Ok(Notice::TlsSeen { pid, comm }) => {
                        if self.settings.enabled {
                            self.coverage.tls_seen(pid, &comm);
                            changed = true;
                        }
                    }
                    Ok(Notice::TlsMissed { pid, comm }) => {
                        self.coverage.tls_missed(pid, &comm);
                        changed = true;
                    }
                    Ok(Notice::Stop) | Err(TryRecvError::Disconnected) => {
                        // A status file outliving its monitor would only mislead.
                        if let Some(path) = &self.settings.status_file {
                            let _ = std::fs::remove_file(path);
                        }
                        return self.coverage.into_hooker();
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            let now = Instant::now();
            let settled: Vec<u32> = self
                .pending
                .iter()
                .filter(|(_, at)| now.duration_since(**at) >= SETTLE)
                .map(|(pid, _)| *pid)
                .collect();
            for pid in settled {
                self.pending.remove(&pid);
                self.coverage.scan_pid(pid);
                changed = true;
            }
            if now.duration_since(last_sweep) >= SWEEP_EVERY {
                self.coverage.sweep();
                last_sweep = now;
                changed = true;
            }
            if now.duration_since(last_rescan) >= RESCAN_EVERY {
                self.coverage.scan_all();
                last_rescan = now;
                changed = true;
            }
            if changed || now.duration_since(last_publish) >= PUBLISH_EVERY {
                self.publish();
                last_publish = now;
            }
        }
    }

    /// Sleeps until a process notice arrives or `timeout` passes.
    fn wait(&self, timeout: Duration) {
        let mut fd = libc::pollfd {
            fd: self.ring.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe { libc::poll(&mut fd, 1, ms) };
    }

    fn take_proc_events(&mut self) {
        let now = Instant::now();
        while let Some(item) = self.ring.next() {
            let Some(ev) = decode_proc_event(&item) else {
                self.undecodable += 1;
                continue;
            };
            if self.settings.enabled {
                // After exec the executable is mapped: a static binary (Go, node) can be hooked
                // at once, and every millisecond counts against its first TLS call.
                let due = if ev.kind == PROC_EXEC {
                    now.checked_sub(SETTLE).unwrap_or(now)
                } else {
                    now
                };
                let at = self.pending.entry(ev.pid).or_insert(due);
                *at = (*at).max(due);
            }
        }
    }

    fn publish(&mut self) {
        let mut snapshot = self.coverage.snapshot();
        snapshot.notices_dropped = self.undecodable + self.queue_drops.load(Ordering::Relaxed);
        if let Some(path) = &self.settings.status_file {
            let now = unix_now_ns();
            let doc = StatusDocument {
                monitor_pid: std::process::id(),
                ts: rfc3339(now),
                ts_unix_ns: now,
                tls: snapshot.clone(),
            };
            if let Err(e) = status::write(path, &doc) {
                log::warn!("cannot write the status file {}: {e}", path.display());
                // One warning per run: later writes to the same path would fail the same way.
                self.settings.status_file = None;
            }
        }
        match self.shared.lock() {
            Ok(mut c) => *c = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
    }
}
