//! Wires the stages: raw capture events → connection table → protocol router (HTTP/1, HTTP/2)
//! → JSON lines.
//! `live` feeds them from the kernel, `replay` from a file; both go through `Stages`, so replay
//! exercises exactly the code that runs live.

pub mod insight;
pub mod live;
pub mod recording;
pub mod replay;
pub mod tls_hooks;
pub mod tls_watch;

use std::{collections::BTreeMap, io};

use crate::{
    capture::RawEvent,
    clock::{Clock, rfc3339},
    config::Config,
    conn::{ConnectionTable, StreamEvent, proc::Resolve},
    enforce::Enforcer,
    export::{
        JsonLinesWriter, OutputEvent, Renderer,
        event::{AgentStats, Stats},
        http::HttpRenderer,
        insight::HttpInsight,
    },
    protocol::ProtocolStage,
    tls::status::TlsCoverage,
    transaction::{HttpTransaction, redact::Redactor},
};

pub use live::{Run, RunError};

/// Writes insight's queued events (see [`write_events`]).
fn write_insight_events(
    insight: &mut insight::Insight,
    enforcer: &mut Option<Enforcer>,
    writer: &mut JsonLinesWriter,
) -> io::Result<()> {
    write_events(insight.take_events(), enforcer, writer)
}

/// Writes `events`; each alert first goes past the enforcer, which marks its action and
/// queues its `block` events, written right after it.
fn write_events(
    events: impl IntoIterator<Item = OutputEvent>,
    enforcer: &mut Option<Enforcer>,
    writer: &mut JsonLinesWriter,
) -> io::Result<()> {
    for mut event in events {
        if let (OutputEvent::Alert(alert), Some(enforcer)) = (&mut event, enforcer.as_mut()) {
            let ts = alert.ts_unix_ns;
            enforcer.on_alert(alert, ts);
            writer.write(&event)?;
            for e in enforcer.take_events() {
                writer.write(&OutputEvent::Block(Box::new(e)))?;
            }
            continue;
        }
        writer.write(&event)?;
    }
    Ok(())
}

/// Detection's state is saved with the stats at most this often (and with the last ones).
const STATE_SAVE_NS: u64 = 60_000_000_000;

/// Everything between a raw capture event and a written JSON line.
pub struct Stages {
    table: ConnectionTable,
    /// None with `--raw`: stream events are written as they are.
    http: Option<ProtocolStage>,
    raw: Renderer,
    http_render: HttpRenderer,
    writer: JsonLinesWriter,
    /// Sessions and discovery; None with `--raw` or `--no-discovery`.
    insight: Option<insight::Insight>,
    /// `shutdown` ran: sessions end once the last transactions are written.
    stopping: bool,
    openapi_file: Option<std::path::PathBuf>,
    /// Where detection keeps what it learned, and when it last did (Unix ns).
    state_dir: Option<std::path::PathBuf>,
    state_saved_unix_ns: u64,
    pub agent: AgentStats,
    /// Mitigation; None unless `--enforce dry-run|on`.
    enforcer: Option<Enforcer>,
    clock: Clock,
    events: Vec<StreamEvent>,
    transactions: Vec<HttpTransaction>,
    /// What insight said of each transaction of a batch (reused).
    said: Vec<(HttpInsight, Vec<OutputEvent>)>,
}

impl Stages {
    pub fn new(
        config: &Config,
        resolver: Box<dyn Resolve + Send>,
        clock: Clock,
        redaction_key: [u8; 32],
        out: Box<dyn io::Write + Send>,
    ) -> Self {
        Self {
            table: ConnectionTable::new(
                config.streams.clone(),
                config.filters.ports.clone(),
                resolver,
            ),
            http: (!config.output.raw).then(|| ProtocolStage::new(&config.http)),
            raw: Renderer::new(clock, config.output.preview_bytes),
            http_render: HttpRenderer::new(
                clock,
                Redactor::new(&config.redaction, redaction_key),
                config.http.max_decoded_bytes,
            ),
            writer: JsonLinesWriter::new(out),
            insight: (!config.output.raw && config.discovery.enabled)
                .then(|| insight::Insight::new(config, redaction_key, clock)),
            stopping: false,
            openapi_file: config.discovery.openapi_file.clone(),
            state_dir: config
                .detection
                .state_dir
                .clone()
                .filter(|_| config.detection.enabled),
            state_saved_unix_ns: 0,
            agent: AgentStats::default(),
            enforcer: None,
            clock,
            events: Vec::new(),
            transactions: Vec::new(),
            said: Vec::new(),
        }
    }

    /// Acts on alerts and on blocked actors' connections from now on (`--enforce`).
    pub fn set_enforcer(&mut self, mut enforcer: Enforcer, now_unix_ns: u64) {
        enforcer.restore(now_unix_ns);
        self.enforcer = Some(enforcer);
    }

    pub fn enforcer_mut(&mut self) -> Option<&mut Enforcer> {
        self.enforcer.as_mut()
    }

    /// One decoded kernel record, ingested at monotonic time `now_ns`.
    pub fn ingest(&mut self, event: RawEvent, now_ns: u64) {
        self.table.ingest(event, now_ns, &mut self.events);
    }

    /// A stream event that bypasses the connection table (replay of `--raw` JSON lines).
    pub fn ingest_stream(&mut self, event: StreamEvent) {
        self.events.push(event);
    }

    /// Timers: reorder holes, idle connections, response timeouts.
    pub fn tick(&mut self, now_ns: u64) {
        self.table.tick(now_ns, &mut self.events);
        if let Some(http) = &mut self.http {
            http.tick(now_ns, &mut self.transactions);
        }
        if let Some(insight) = &mut self.insight {
            insight.tick(now_ns);
        }
        if let Some(enforcer) = &mut self.enforcer {
            enforcer.tick(self.clock.unix_ns(now_ns));
        }
    }

    /// The end: every connection is closed and every waiting request emitted.
    pub fn shutdown(&mut self, now_ns: u64) {
        self.table.shutdown(now_ns, &mut self.events);
        self.pump();
        if let Some(http) = &mut self.http {
            http.shutdown(now_ns, &mut self.transactions);
        }
        self.stopping = true;
    }

    /// Moves stream events through the HTTP stage (unless raw).
    fn pump(&mut self) {
        if let Some(http) = &mut self.http {
            // Read in place, then cleared: draining moved every event out first.
            for ev in &self.events {
                http.on_event(ev, &mut self.transactions);
            }
            self.events.clear();
        }
    }

    /// Moves what was ingested through the HTTP stage; the transactions waiting to be written.
    pub fn pending(&mut self) -> usize {
        self.pump();
        self.transactions.len() + self.events.len()
    }

    /// Writes everything produced so far.
    pub fn write(&mut self) -> io::Result<()> {
        self.pump();
        for ev in self.events.drain(..) {
            self.writer.write(&self.raw.render(&ev))?;
        }
        let mut written = Ok(());
        match &mut self.insight {
            Some(insight) => {
                // What ticks queued comes first: they happened before these transactions.
                written = write_insight_events(insight, &mut self.enforcer, &mut self.writer);
                let mut said = std::mem::take(&mut self.said);
                insight.observe_batch(&self.transactions, &mut said);
                for (t, (said, events)) in self.transactions.iter().zip(said.iter_mut()) {
                    if written.is_err() {
                        break;
                    }
                    if let Some(enforcer) = &mut self.enforcer {
                        let actor = said.actor.as_ref().map(|a| a.id.as_str());
                        enforcer.on_transaction(actor, &t.meta, self.clock.unix_ns(t.end_ts_ns));
                    }
                    written = self
                        .http_render
                        .write(t, said, &mut self.writer)
                        .and_then(|()| {
                            write_events(events.drain(..), &mut self.enforcer, &mut self.writer)
                        });
                }
                said.clear();
                self.said = said;
            }
            None => {
                let none = HttpInsight::default();
                for t in &self.transactions {
                    written = self.http_render.write(t, &none, &mut self.writer);
                    if written.is_err() {
                        break;
                    }
                }
            }
        }
        // Rendered in place and cleared after (also on an error, as draining did): moving each
        // transaction (several hundred bytes) out first cost more than rendering some parts.
        self.transactions.clear();
        written?;
        if let Some(insight) = &mut self.insight {
            if self.stopping {
                insight.shutdown();
            }
            write_insight_events(insight, &mut self.enforcer, &mut self.writer)?;
        }
        if let Some(enforcer) = &mut self.enforcer {
            for e in enforcer.take_events() {
                self.writer.write(&OutputEvent::Block(Box::new(e)))?;
            }
        }
        self.agent.events_written = self.writer.written;
        Ok(())
    }

    /// HTTP transactions produced so far.
    pub fn transactions_written(&self) -> u64 {
        self.http.as_ref().map_or(0, ProtocolStage::transactions)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Writes a `stats` event (after what is pending).
    pub fn write_stats(
        &mut self,
        kernel: BTreeMap<&'static str, u64>,
        tls: Option<TlsCoverage>,
        unix_ns: u64,
        uptime_secs: f64,
        last: bool,
    ) -> io::Result<()> {
        self.write()?;
        // Saved first, so these stats count the save.
        let save_due = unix_ns.saturating_sub(self.state_saved_unix_ns) >= STATE_SAVE_NS;
        if let (Some(insight), Some(dir)) = (&mut self.insight, &self.state_dir)
            && (last || save_due)
        {
            insight.save_detection_state(dir, unix_ns);
            self.state_saved_unix_ns = unix_ns;
        }
        let mut agent = self.agent.clone();
        agent.events_written = self.writer.written + 1;
        let stats = Stats {
            ts: rfc3339(unix_ns),
            ts_unix_ns: unix_ns,
            uptime_secs,
            last,
            kernel,
            agent,
            streams: self.table.counters(),
            http: self.http.as_ref().map(ProtocolStage::counters),
            http2: self
                .http
                .as_ref()
                .and_then(ProtocolStage::http2_counters)
                .map(Box::new),
            tls,
            discovery: self.insight.as_ref().map(|i| i.counters().0),
            sessions: self.insight.as_ref().map(|i| i.counters().1),
            detection: self
                .insight
                .as_ref()
                .and_then(|i| i.detection_counters())
                .map(Box::new),
            enforcement: self.enforcer.as_ref().map(|e| Box::new(e.counters())),
        };
        self.writer.write(&OutputEvent::Stats(stats))?;
        self.agent.events_written = self.writer.written;
        if let (Some(insight), Some(path)) = (&self.insight, &self.openapi_file)
            && let Err(err) = insight.write_openapi(path)
        {
            // The JSON lines go on; the file is a convenience for `monitor openapi`.
            log::warn!(
                "cannot write the OpenAPI document {}: {err}",
                path.display()
            );
        }
        self.writer.flush()
    }

    /// The endpoint inventory as OpenAPI 3.1 (None with `--raw` or `--no-discovery`).
    pub fn openapi(&self, service: Option<&str>) -> Option<serde_json::Value> {
        self.insight.as_ref().map(|i| i.openapi(service))
    }
}
