//! The run loop: ring buffer → decode → connection table → render → JSON lines, plus periodic
//! timeouts and stats, until a signal, the duration, or a closed output stops it.

use std::{
    io,
    time::{Duration, Instant},
};

use tokio::{
    signal::unix::{SignalKind, signal},
    time::{MissedTickBehavior, interval, sleep_until},
};

use crate::{
    capture::{
        RawEvent, counters::KernelCounters, loader::LoadError, loader::Probes,
        ringbuf::RingBufReader,
    },
    clock::{Clock, rfc3339, unix_now_ns},
    config::Config,
    conn::{ConnectionTable, StreamEvent, proc::ProcResolver},
    export::{
        JsonLinesWriter, OutputEvent, Renderer,
        event::{AgentStats, Stats},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot read the ring buffer: {0}")]
    RingBuf(io::Error),
    #[error("cannot write output: {0}")]
    Output(io::Error),
    #[error("cannot install signal handlers: {0}")]
    Signal(io::Error),
}

/// Records handed over per wake-up, so timers and signals are served under load.
const READ_BUDGET: usize = 8192;
const TICK: Duration = Duration::from_millis(100);

pub struct Run {
    config: Config,
    duration: Option<Duration>,
}

impl Run {
    pub fn new(config: Config, duration: Option<Duration>) -> Self {
        Self { config, duration }
    }

    /// Loads the probes, then calls `open_output` (so nothing is created when loading fails) and
    /// captures until stopped.
    pub async fn run(
        self,
        open_output: impl FnOnce() -> io::Result<Box<dyn io::Write + Send>>,
    ) -> Result<(), RunError> {
        let mut probes = Probes::load(&self.config, std::process::id())?;
        let mut reader = RingBufReader::new(probes.take_events()?).map_err(RunError::RingBuf)?;
        let kernel = KernelCounters::new(probes.take_counters()?);
        let mut writer = JsonLinesWriter::new(open_output().map_err(RunError::Output)?);
        log::info!(
            "ready: {} tracepoints attached, writing JSON lines",
            probes.attached
        );

        let started = Instant::now();
        let mut table = ConnectionTable::new(
            self.config.streams.clone(),
            self.config.filters.ports.clone(),
            Box::new(ProcResolver::new()),
        );
        let renderer = Renderer::new(Clock::system(), self.config.output.preview_bytes);
        let mut agent = AgentStats::default();
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

        let mut batch: Vec<RawEvent> = Vec::with_capacity(READ_BUDGET);
        let mut events: Vec<StreamEvent> = Vec::new();
        let mut output_closed = false;
        loop {
            tokio::select! {
                read = reader.read(READ_BUDGET, |rec| decode_into(rec, &mut batch, &mut agent)) => {
                    read.map_err(RunError::RingBuf)?;
                    let now = Clock::monotonic_now_ns();
                    for ev in batch.drain(..) {
                        table.ingest(ev, now, &mut events);
                    }
                }
                _ = tick.tick() => table.tick(Clock::monotonic_now_ns(), &mut events),
                _ = stats_tick.tick(), if periodic_stats => {
                    let s = stats(&kernel, &agent, &table, started, false);
                    if write_all(&mut writer, &renderer, &mut events, &mut agent, Some(s)).is_err() {
                        output_closed = true;
                    }
                }
                _ = sigint.recv() => break,
                _ = sigterm.recv() => break,
                _ = sleep_until(deadline), if timed => break,
            }
            if output_closed
                || write_all(&mut writer, &renderer, &mut events, &mut agent, None).is_err()
            {
                output_closed = true;
                break;
            }
        }
        if output_closed {
            log::warn!("output closed; stopping");
            return Ok(());
        }

        // Stop: take what is still in the ring buffer, close every stream, last stats.
        reader.drain_now(|rec| decode_into(rec, &mut batch, &mut agent));
        let now = Clock::monotonic_now_ns();
        for ev in batch.drain(..) {
            table.ingest(ev, now, &mut events);
        }
        table.shutdown(now, &mut events);
        let s = stats(&kernel, &agent, &table, started, true);
        write_all(&mut writer, &renderer, &mut events, &mut agent, Some(s))
            .map_err(RunError::Output)?;
        // The output is complete; detaching (in Probes' drop) takes about a second more.
        drop(probes);
        Ok(())
    }
}

fn decode_into(rec: &[u8], batch: &mut Vec<RawEvent>, agent: &mut AgentStats) {
    agent.records_read += 1;
    match RawEvent::try_from(rec) {
        Ok(ev) => batch.push(ev),
        Err(err) => {
            agent.decode_errors += 1;
            log::debug!("undecodable record: {err}");
        }
    }
}

fn write_all(
    writer: &mut JsonLinesWriter,
    renderer: &Renderer,
    events: &mut Vec<StreamEvent>,
    agent: &mut AgentStats,
    stats: Option<Stats>,
) -> io::Result<()> {
    for ev in events.drain(..) {
        writer.write(&renderer.render(&ev))?;
    }
    if let Some(mut s) = stats {
        s.agent.events_written = writer.written + 1;
        writer.write(&OutputEvent::Stats(s))?;
    }
    agent.events_written = writer.written;
    writer.flush()
}

fn stats(
    kernel: &KernelCounters,
    agent: &AgentStats,
    table: &ConnectionTable,
    started: Instant,
    last: bool,
) -> Stats {
    let now = unix_now_ns();
    Stats {
        ts: rfc3339(now),
        ts_unix_ns: now,
        uptime_secs: started.elapsed().as_secs_f64(),
        last,
        kernel: kernel.read(),
        agent: agent.clone(),
        streams: table.counters(),
    }
}
