//! The live loop: ring buffer → decode → `Stages`, plus periodic timers and stats, until a
//! signal, the duration, or a closed output stops it. Optionally records what it ingests.

use std::{
    io,
    path::PathBuf,
    time::{Duration, Instant},
};

use tokio::{
    signal::unix::{SignalKind, signal},
    time::{MissedTickBehavior, interval, sleep_until},
};

use super::{
    Stages,
    recording::Recorder,
    tls_hooks::{Settings, TlsHooks},
    tls_watch::TlsWatch,
};
use crate::{
    capture::{
        RawEvent, counters::KernelCounters, loader::LoadError, loader::Probes,
        ringbuf::RingBufReader,
    },
    clock::{Clock, unix_now_ns},
    config::Config,
    conn::proc::{ProcResolver, Resolve},
    enforce::{
        Enforcer, Mechanisms,
        control::{self, ControlError},
        kernel::{self, KernelBlocker},
        policy::Mode,
        reset::Resetter,
    },
    export::event::AgentStats,
};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot read the ring buffer: {0}")]
    RingBuf(io::Error),
    #[error("cannot write output: {0}")]
    Output(io::Error),
    #[error("cannot write the recording: {0}")]
    Record(io::Error),
    #[error("cannot install signal handlers: {0}")]
    Signal(io::Error),
    #[error("cannot start the TLS hook thread: {0}")]
    TlsThread(io::Error),
    #[error("--enforce on: {0}")]
    Enforce(String),
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// Records handed over per wake-up, so timers and signals are served under load.
const READ_BUDGET: usize = 8192;
const TICK: Duration = Duration::from_millis(100);

pub struct Run {
    config: Config,
    duration: Option<Duration>,
    redaction_key: [u8; 32],
}

/// Where a run writes: JSON lines, a recording, or both.
pub struct Outputs {
    pub json: Box<dyn io::Write + Send>,
    pub recording: Option<Box<dyn io::Write + Send>>,
}

impl Run {
    pub fn new(config: Config, duration: Option<Duration>, redaction_key: [u8; 32]) -> Self {
        Self {
            config,
            duration,
            redaction_key,
        }
    }

    /// Loads the probes, then calls `open` (so nothing is created when loading fails) and
    /// captures until stopped.
    pub async fn run(self, open: impl FnOnce() -> io::Result<Outputs>) -> Result<(), RunError> {
        let mut probes = Probes::load(&self.config, std::process::id())?;
        // Before anything is written: a host that cannot enforce stops the run here.
        let mechanisms = match self.config.enforcement.mode {
            Mode::On => Some(mechanisms(&self.config, &mut probes)?),
            _ => None,
        };
        let mut reader = RingBufReader::new(probes.take_events()?).map_err(RunError::RingBuf)?;
        let kernel = KernelCounters::new(probes.take_counters()?);
        let proc_events = probes.take_proc_events()?;
        let attached = probes.attached;
        let hooks = TlsHooks::start(
            probes,
            proc_events,
            Settings {
                enabled: self.config.tls.enabled,
                status_file: self.config.tls.status_file.clone(),
                proc_root: PathBuf::from("/proc"),
            },
        )
        .map_err(RunError::TlsThread)?;
        let outputs = open().map_err(RunError::Output)?;
        let clock = Clock::system();
        let mut recorder = match outputs.recording {
            Some(w) => Some(Recorder::new(w, clock).map_err(RunError::Record)?),
            None => None,
        };
        let resolver: Box<dyn Resolve + Send> = match &mut recorder {
            Some(r) => Box::new(r.resolver(ProcResolver::new())),
            None => Box::new(ProcResolver::new()),
        };
        let mut stages = Stages::new(
            &self.config,
            resolver,
            clock,
            self.redaction_key,
            outputs.json,
        );
        let mode = self.config.enforcement.mode;
        let mut control = None;
        if mode != Mode::Off {
            let (socket, requests) = control::listen(&self.config.enforcement.control_socket)?;
            if let Some(m) = &mechanisms {
                log::info!(
                    "enforcement on: blocking in cgroup {}, control socket {}",
                    m.blocker.cgroup.display(),
                    self.config.enforcement.control_socket.display()
                );
            }
            stages.set_enforcer(
                Enforcer::new(
                    mode,
                    self.config.detection.rules.enforcement.clone(),
                    mechanisms,
                    self.config.detection.state_dir.clone(),
                ),
                unix_now_ns(),
            );
            control = Some((socket, requests));
        }
        log::info!("ready: {attached} tracepoints attached, writing JSON lines");

        let started = Instant::now();
        let mut sigint = signal(SignalKind::interrupt()).map_err(RunError::Signal)?;
        let mut sigterm = signal(SignalKind::terminate()).map_err(RunError::Signal)?;
        // Without --duration the deadline branch is disabled, not a far-future timer.
        let timed = self.duration.is_some();
        let deadline = tokio::time::Instant::now() + self.duration.unwrap_or_default();
        let mut tick = interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let stats_every = Duration::from_secs(self.config.output.stats_interval_secs.max(1));
        let mut stats_tick = interval(stats_every);
        stats_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        stats_tick.tick().await; // the first tick is immediate
        let periodic_stats = self.config.output.stats_interval_secs > 0;

        let mut batch: Vec<(RawEvent, Option<Vec<u8>>)> = Vec::with_capacity(READ_BUDGET);
        let mut watch = TlsWatch::default();
        let keep_bytes = recorder.is_some();
        let mut output_closed = false;
        loop {
            tokio::select! {
                read = reader.read(READ_BUDGET, |rec| decode_into(rec, keep_bytes, &mut batch, &mut stages.agent)) => {
                    read.map_err(RunError::RingBuf)?;
                    let now = Clock::monotonic_now_ns();
                    ingest(&mut stages, &mut recorder, &mut batch, &hooks, &mut watch, now)?;
                }
                _ = tick.tick() => {
                    let now = Clock::monotonic_now_ns();
                    if let Some(r) = &mut recorder {
                        r.tick(now).map_err(RunError::Record)?;
                    }
                    stages.tick(now);
                }
                _ = stats_tick.tick(), if periodic_stats => {
                    let uptime = started.elapsed().as_secs_f64();
                    let tls = Some(hooks.coverage());
                    if stages.write_stats(kernel.read(), tls, unix_now_ns(), uptime, false).is_err() {
                        output_closed = true;
                    }
                }
                Some((request, reply)) = next_request(&mut control) => {
                    if let Some(enforcer) = stages.enforcer_mut() {
                        let _ = reply.send(control::serve(enforcer, request, unix_now_ns()));
                    }
                }
                _ = sigint.recv() => break,
                _ = sigterm.recv() => break,
                _ = sleep_until(deadline), if timed => break,
            }
            if output_closed || stages.write().and_then(|()| stages.flush()).is_err() {
                output_closed = true;
                break;
            }
        }
        if output_closed {
            log::warn!("output closed; stopping");
            return Ok(());
        }

        // Stop: take what is still in the ring buffer, close every stream, last stats.
        reader.drain_now(|rec| decode_into(rec, keep_bytes, &mut batch, &mut stages.agent));
        let now = Clock::monotonic_now_ns();
        ingest(
            &mut stages,
            &mut recorder,
            &mut batch,
            &hooks,
            &mut watch,
            now,
        )?;
        if let Some(r) = recorder.take() {
            let records = r.records + 1;
            r.finish(now).map_err(RunError::Record)?;
            log::info!("recorded {records} records");
        }
        stages.shutdown(now);
        let uptime = started.elapsed().as_secs_f64();
        let tls = Some(hooks.coverage());
        stages
            .write_stats(kernel.read(), tls, unix_now_ns(), uptime, true)
            .map_err(RunError::Output)?;
        // The output is complete; detaching (in Probes' drop) takes about a second more.
        drop(hooks.stop());
        Ok(())
    }
}

/// The kernel mechanisms `--enforce on` needs; any missing one is an error, not a quiet
/// degradation (the operator asked to block).
fn mechanisms(config: &Config, probes: &mut Probes) -> Result<Mechanisms, RunError> {
    let cgroup = match &config.enforcement.cgroup {
        Some(dir) => dir.clone(),
        None => kernel::ensure_cgroup2().map_err(|e| RunError::Enforce(e.to_string()))?,
    };
    let blocker = KernelBlocker::attach(probes.ebpf_mut(), &cgroup)
        .map_err(|e| RunError::Enforce(e.to_string()))?;
    let resetter = Resetter::new().map_err(|e| RunError::Enforce(e.to_string()))?;
    Ok(Mechanisms { blocker, resetter })
}

/// The next control request, or never when there is no control socket.
async fn next_request(
    control: &mut Option<(
        control::ControlSocket,
        tokio::sync::mpsc::Receiver<control::Pending>,
    )>,
) -> Option<control::Pending> {
    match control {
        Some((_, rx)) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn ingest(
    stages: &mut Stages,
    recorder: &mut Option<Recorder>,
    batch: &mut Vec<(RawEvent, Option<Vec<u8>>)>,
    hooks: &TlsHooks,
    watch: &mut TlsWatch,
    now: u64,
) -> Result<(), RunError> {
    for (ev, bytes) in batch.drain(..) {
        if let RawEvent::TlsSeen(seen) = &ev {
            hooks.tls_seen(seen.pid, &seen.comm);
        }
        if let Some(missed) = watch.observe(&ev) {
            hooks.tls_missed(missed.pid, &missed.comm);
        }
        stages.ingest(ev, now);
        if let (Some(r), Some(bytes)) = (recorder.as_mut(), bytes) {
            // After ingest: the resolver's answers for this record precede it in the file.
            r.kernel(now, bytes).map_err(RunError::Record)?;
        }
    }
    Ok(())
}

fn decode_into(
    rec: &[u8],
    keep_bytes: bool,
    batch: &mut Vec<(RawEvent, Option<Vec<u8>>)>,
    agent: &mut AgentStats,
) {
    agent.records_read += 1;
    match RawEvent::try_from(rec) {
        Ok(ev) => batch.push((ev, keep_bytes.then(|| rec.to_vec()))),
        Err(err) => {
            agent.decode_errors += 1;
            log::debug!("undecodable record: {err}");
        }
    }
}
