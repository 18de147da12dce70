//! The HTTP/1 stage: one `Exchange` per connection, fed by the connection table's stream
//! events, with response timeouts, a global body budget and counters.

use std::collections::BTreeMap;

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};

use schemars::JsonSchema;
use serde::Serialize;

use super::{
    exchange::{Exchange, ExchangeConfig},
    reader::{Budget, Limits},
};
use crate::{
    config::HttpConfig,
    conn::{CloseReason, ConnMeta, StreamEvent},
    transaction::{EndReason, Flag, HttpTransaction, Outcome},
};

/// HTTP/1 parsing counters, reported in `stats` events.
#[derive(Debug, Clone, Default, Serialize, JsonSchema, PartialEq, Eq)]
pub struct HttpCounters {
    /// Transactions emitted.
    pub transactions: u64,
    /// Transactions emitted, by outcome.
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Transactions carrying each flag.
    pub flags: BTreeMap<&'static str, u64>,
    /// Transactions with a flag that means request smuggling risk.
    pub smuggling_risk: u64,
    /// Connections that carried HTTP/1.
    pub connections_http: u64,
    /// Connections whose bytes never looked like HTTP/1.
    pub connections_not_http: u64,
    /// Bytes skipped to find the next message start (joined mid-stream, gaps, garbage).
    pub resync_skipped_bytes: u64,
    /// Responses that came after their request was emitted as timed out.
    pub late_responses: u64,
    /// Requests emitted early because too many waited on one connection.
    pub pipeline_overflows: u64,
    /// Body bytes held right now for transactions in progress.
    pub body_bytes_held: u64,
}

pub struct HttpStage {
    conns: HashMap<u64, Exchange>,
    config: ExchangeConfig,
    budget: Budget,
    counters: HttpCounters,
    /// Per-outcome and per-flag counts, indexed like `Outcome::ALL` and `Flag::ALL`: counted
    /// for every transaction, so plain slots rather than map entries found by name; they go
    /// into `counters` when a stats event asks.
    outcomes: [u64; Outcome::ALL.len()],
    flags: [u64; Flag::ALL.len()],
}

impl HttpStage {
    pub fn new(config: &HttpConfig) -> Self {
        let mut counters = HttpCounters::default();
        for o in Outcome::ALL {
            counters.outcomes.insert(o.name(), 0);
        }
        for f in Flag::ALL {
            counters.flags.insert(f.name(), 0);
        }
        Self {
            conns: HashMap::new(),
            config: ExchangeConfig {
                limits: Limits {
                    max_head: config.max_head_bytes,
                    max_body: config.max_body_bytes,
                },
                response_timeout_ns: config.response_timeout_secs.saturating_mul(1_000_000_000),
                max_pipeline: config.max_pipeline,
            },
            budget: Budget {
                held: 0,
                cap: config.max_buffered_body_bytes,
            },
            counters,
            outcomes: [0; Outcome::ALL.len()],
            flags: [0; Flag::ALL.len()],
        }
    }

    pub fn counters(&self) -> HttpCounters {
        let mut c = self.counters.clone();
        for (o, n) in Outcome::ALL.iter().zip(self.outcomes) {
            c.outcomes.insert(o.name(), n);
        }
        for (f, n) in Flag::ALL.iter().zip(self.flags) {
            c.flags.insert(f.name(), n);
        }
        c.body_bytes_held = self.budget.held as u64;
        c
    }

    /// The body budget, shared with the other protocols' stages.
    pub fn budget_mut(&mut self) -> &mut Budget {
        &mut self.budget
    }

    /// Whether a message was parsed on connection `id`.
    pub fn saw_http(&self, id: u64) -> bool {
        self.conns.get(&id).is_some_and(|ex| ex.saw_http)
    }

    /// Connection `id` is not HTTP/1 after all (another protocol took it): its exchange is
    /// dropped without output, its budget released, and it is not counted as either.
    pub fn forget(&mut self, id: u64) {
        if let Some(mut ex) = self.conns.remove(&id) {
            let mut dropped = Vec::new();
            ex.close(
                0,
                EndReason::ConnectionClosed,
                &mut self.budget,
                &mut dropped,
            );
        }
    }

    /// What followed a 101 on connection `id`'s response side (h2c's first frames).
    pub fn take_upgrade_rest(&mut self, id: u64) -> Vec<u8> {
        self.conns
            .get_mut(&id)
            .map(Exchange::take_upgrade_rest)
            .unwrap_or_default()
    }

    pub fn on_event(&mut self, event: &StreamEvent, out: &mut Vec<HttpTransaction>) {
        let from = out.len();
        let config = self.config;
        match event {
            StreamEvent::Open { meta, ts_ns } => {
                // Ids are unique per connection; should one come again, the old exchange is
                // finished first so its requests are written and its bodies released.
                if let Some(mut old) = self
                    .conns
                    .insert(meta.id, Exchange::new(meta.clone(), config))
                {
                    old.close(*ts_ns, EndReason::ConnectionClosed, &mut self.budget, out);
                    self.retire(&old);
                }
            }
            StreamEvent::Data {
                meta,
                direction,
                ts_ns,
                bytes,
                ..
            } => {
                let ex = exchange(&mut self.conns, meta, config);
                ex.data(*direction, bytes, *ts_ns, &mut self.budget, out);
            }
            StreamEvent::Gap {
                meta,
                direction,
                len,
                ts_ns,
                ..
            } => {
                let ex = exchange(&mut self.conns, meta, config);
                ex.gap(*direction, *len, *ts_ns, &mut self.budget, out);
            }
            StreamEvent::Close {
                meta,
                ts_ns,
                reason,
                ..
            } => {
                if let Some(mut ex) = self.conns.remove(&meta.id) {
                    ex.set_meta(meta);
                    let reason = match reason {
                        CloseReason::Shutdown => EndReason::MonitorStopped,
                        _ => EndReason::ConnectionClosed,
                    };
                    ex.close(*ts_ns, reason, &mut self.budget, out);
                    self.retire(&ex);
                }
            }
        }
        self.count(&out[from..]);
    }

    /// Response timeouts.
    pub fn tick(&mut self, now_ns: u64, out: &mut Vec<HttpTransaction>) {
        let from = out.len();
        for ex in self.conns.values_mut() {
            ex.tick(now_ns, &mut self.budget, out);
        }
        self.count(&out[from..]);
    }

    /// The monitor stops: every connection still open is finished.
    pub fn shutdown(&mut self, now_ns: u64, out: &mut Vec<HttpTransaction>) {
        let from = out.len();
        let mut ids: Vec<u64> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(mut ex) = self.conns.remove(&id) {
                ex.close(now_ns, EndReason::MonitorStopped, &mut self.budget, out);
                self.retire(&ex);
            }
        }
        self.count(&out[from..]);
    }

    fn retire(&mut self, ex: &Exchange) {
        let c = &mut self.counters;
        if ex.saw_http {
            c.connections_http += 1;
        } else if ex.events.not_http || ex.skipped() > 0 {
            c.connections_not_http += 1;
        }
        c.resync_skipped_bytes += ex.skipped();
        c.late_responses += ex.events.late_responses;
        c.pipeline_overflows += ex.events.pipeline_overflows;
    }

    fn count(&mut self, emitted: &[HttpTransaction]) {
        let c = &mut self.counters;
        for t in emitted {
            c.transactions += 1;
            // `ALL` lists the variants in declaration order: the discriminant is the index.
            self.outcomes[t.outcome as usize] += 1;
            for f in t.flags.iter() {
                self.flags[f as usize] += 1;
            }
            if t.flags.smuggling_risk() {
                c.smuggling_risk += 1;
            }
        }
    }
}

/// The connection's exchange, created for data that comes without an open (a `--raw` file cut
/// mid-connection), with the latest metadata.
fn exchange<'a>(
    conns: &'a mut HashMap<u64, Exchange>,
    meta: &Arc<ConnMeta>,
    config: ExchangeConfig,
) -> &'a mut Exchange {
    let ex = conns
        .entry(meta.id)
        .or_insert_with(|| Exchange::new(meta.clone(), config));
    ex.set_meta(meta);
    ex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_flags_are_listed_in_declaration_order() {
        // `count` indexes its slots by discriminant.
        for (i, o) in Outcome::ALL.iter().enumerate() {
            assert_eq!(*o as usize, i);
        }
        for (i, f) in Flag::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
        }
    }
}
