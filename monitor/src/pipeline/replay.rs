//! `monitor replay`: a recording or a `--raw` JSON-lines file through the same `Stages` as a
//! live run, deterministically (time comes from the file) and as fast as possible.

use std::{collections::BTreeMap, fmt, io};

use super::Stages;
use crate::{
    capture::RawEvent,
    clock::Clock,
    config::Config,
    enforce::{Enforcer, policy::Mode},
    record::{RawJsonError, Record, RecordError, ReplayInput, ReplayResolver},
};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Recording(#[from] RecordError),
    #[error(transparent)]
    RawJson(#[from] RawJsonError),
    #[error("cannot write output: {0}")]
    Output(io::Error),
}

/// What a replay went through.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    pub records: u64,
    /// HTTP transactions written (0 with `--raw`).
    pub transactions: u64,
    pub undecodable: u64,
    /// False for a recording without its end record (a capture that was killed).
    pub complete: bool,
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replayed {} records, {} transactions",
            self.records, self.transactions
        )?;
        if self.undecodable > 0 {
            write!(f, ", {} undecodable", self.undecodable)?;
        }
        if !self.complete {
            write!(
                f,
                "; the recording has no end record (the capture was killed)"
            )?;
        }
        Ok(())
    }
}

/// Event time between synthetic timer ticks when the input has none (JSON lines).
const TICK_NS: u64 = 100_000_000;

/// Replays `input`. `open` gives the output; it is called only once the input is known to be a
/// recording with a valid header, or JSON lines, so a refused input leaves an existing output
/// file as it was.
pub fn replay(
    input: impl io::Read,
    config: &Config,
    redaction_key: [u8; 32],
    open: impl FnOnce() -> io::Result<Box<dyn io::Write + Send>>,
) -> Result<ReplaySummary, ReplayError> {
    replay_then(input, config, redaction_key, open, |_| {})
}

/// `replay`, then the endpoint inventory as OpenAPI 3.1 (services whose label contains
/// `service`); the JSON lines go to `sink`.
pub fn replay_openapi(
    input: impl io::Read,
    config: &Config,
    redaction_key: [u8; 32],
    service: Option<&str>,
) -> Result<(ReplaySummary, Option<serde_json::Value>), ReplayError> {
    let mut doc = None;
    let summary = replay_then(
        input,
        config,
        redaction_key,
        || Ok(Box::new(io::sink())),
        |stages| doc = stages.openapi(service),
    )?;
    Ok((summary, doc))
}

/// `replay`, handing the stages to `at_end` once everything is written.
fn replay_then(
    input: impl io::Read,
    config: &Config,
    redaction_key: [u8; 32],
    open: impl FnOnce() -> io::Result<Box<dyn io::Write + Send>>,
    at_end: impl FnOnce(&Stages),
) -> Result<ReplaySummary, ReplayError> {
    let mut at_end = Some(at_end);
    let mut summary = ReplaySummary::default();
    let input = ReplayInput::open(input)?;
    let out = open().map_err(ReplayError::Output)?;
    match input {
        ReplayInput::Recording { mut reader, header } => {
            let resolver = ReplayResolver::new();
            let clock = Clock::with_offset(i128::from(header.clock_offset_ns));
            let mut stages = Stages::new(
                config,
                Box::new(resolver.clone()),
                clock,
                redaction_key,
                out,
            );
            dry_run(config, &mut stages);
            let (mut first, mut now) = (None, 0u64);
            while let Some(record) = reader.next()? {
                summary.records += 1;
                match record {
                    Record::Kernel { now_ns, bytes } => {
                        now = now_ns;
                        first.get_or_insert(now_ns);
                        match RawEvent::decode_owned(bytes) {
                            Ok(ev) => stages.ingest(ev, now_ns),
                            Err(_) => {
                                summary.undecodable += 1;
                                stages.agent.decode_errors += 1;
                            }
                        }
                        stages.agent.records_read += 1;
                    }
                    Record::Tick { now_ns } => {
                        now = now_ns;
                        stages.write().map_err(ReplayError::Output)?;
                        stages.tick(now_ns);
                    }
                    Record::End { now_ns } => {
                        now = now_ns;
                        summary.complete = true;
                    }
                    answer @ (Record::Resolved { .. } | Record::RoleAnswer { .. }) => {
                        resolver.learn(&answer);
                    }
                }
                if stages.pending() >= BATCH {
                    stages.write().map_err(ReplayError::Output)?;
                }
            }
            finish(&mut stages, &clock, first.unwrap_or(now), now, &mut summary)?;
            if let Some(f) = at_end.take() {
                f(&stages);
            }
        }
        ReplayInput::RawJson(mut reader) => {
            summary.complete = true;
            let clock = Clock::fixed(0);
            let mut stages = Stages::new(
                config,
                Box::new(ReplayResolver::new()),
                clock,
                redaction_key,
                out,
            );
            dry_run(config, &mut stages);
            let (mut first, mut now, mut next_tick) = (None, 0u64, 0u64);
            while let Some(ev) = reader.next()? {
                summary.records += 1;
                now = now.max(ev.ts_ns());
                first.get_or_insert(now);
                if now >= next_tick {
                    stages.tick(now);
                    next_tick = now.saturating_add(TICK_NS);
                }
                stages.ingest_stream(ev);
                stages.write().map_err(ReplayError::Output)?;
            }
            finish(&mut stages, &clock, first.unwrap_or(now), now, &mut summary)?;
            if let Some(f) = at_end.take() {
                f(&stages);
            }
        }
    }
    Ok(summary)
}

/// Transactions written together: each stage's code and tables stay in the CPU's caches
/// across a batch instead of being evicted by the next record's parsing.
const BATCH: usize = 64;

fn finish(
    stages: &mut Stages,
    clock: &Clock,
    first: u64,
    now: u64,
    summary: &mut ReplaySummary,
) -> Result<(), ReplayError> {
    stages.write().map_err(ReplayError::Output)?;
    stages.shutdown(now);
    stages.write().map_err(ReplayError::Output)?;
    summary.transactions = stages.transactions_written();
    let uptime = now.saturating_sub(first) as f64 / 1e9;
    stages
        .write_stats(BTreeMap::new(), None, clock.unix_ns(now), uptime, true)
        .map_err(ReplayError::Output)
}

/// `--enforce dry-run`: decisions on the recorded traffic, in its own time, kept nowhere.
fn dry_run(config: &Config, stages: &mut Stages) {
    if config.enforcement.mode != Mode::Off {
        let policy = config.detection.rules.enforcement.clone();
        stages.set_enforcer(Enforcer::new(Mode::DryRun, policy, None, None), 0);
    }
}
