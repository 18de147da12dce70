//! Plays a script against an `HttpStage` the way the connection table would (one connection,
//! monotonic time, per-direction offsets that add up), renders what it emits as `http` events,
//! and panics when an invariant breaks: a panic is what the fuzzer reports.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
};

use bytes::Bytes;
use monitor::{
    capture::Endpoints,
    clock::Clock,
    config::{HttpConfig, RedactionConfig},
    conn::{
        CloseReason, ConnMeta, Direction, StreamEvent,
        model::{DirectionTotals, Origin},
    },
    export::http::HttpRenderer,
    http1::HttpStage,
    transaction::{HttpTransaction, redact::Redactor},
};
use monitor_common::event::Syscall;

use crate::script::{self, Kind, STEP_NS};

/// Limits small enough that short inputs reach every limit path (head too large, body cut,
/// budget exhausted, response timeout).
pub fn config() -> HttpConfig {
    HttpConfig {
        max_head_bytes: 1024,
        max_body_bytes: 256,
        max_buffered_body_bytes: 4096,
        response_timeout_secs: 1,
        max_pipeline: 4,
        max_decoded_bytes: 4096,
    }
}

/// The exporter the pipeline puts after the stage, with redaction on (its default).
fn renderer(config: &HttpConfig) -> HttpRenderer {
    let redactor = Redactor::new(&RedactionConfig::default(), [7; 32]);
    HttpRenderer::new(
        Clock::fixed(1_700_000_000_000_000_000),
        redactor,
        config.max_decoded_bytes,
    )
}

/// Runs one input; returns every transaction emitted (for the seed tests).
pub fn run(input: &[u8]) -> Vec<HttpTransaction> {
    let Some((header, rest)) = script::header(input) else {
        return Vec::new();
    };
    let config = config();
    let mut stage = HttpStage::new(&config);
    let mut render = renderer(&config);
    let meta = Arc::new(ConnMeta {
        id: 1,
        pid: 100,
        comm: "fuzz".into(),
        fd: 3,
        cgroup_id: 1,
        endpoints: header.endpoints.then(|| Endpoints {
            local: SocketAddr::from((Ipv4Addr::LOCALHOST, 40000)),
            remote: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
        }),
        role: header.role,
        attribution: header.attribution,
        tls_library: None,
    });
    let mut ts = 1_000;
    let mut totals = [DirectionTotals::default(); 2];
    let mut out = Vec::new();
    let mut checked = 0;
    stage.on_event(
        &StreamEvent::Open {
            meta: meta.clone(),
            ts_ns: ts,
        },
        &mut out,
    );
    let mut closed = false;
    for op in script::Ops::new(rest) {
        // Strictly increasing, as events of one connection are.
        ts += 1 + u64::from(op.wait) * STEP_NS;
        match op.kind {
            Kind::Data(direction) => {
                if op.bytes.is_empty() {
                    continue; // the connection table never hands over empty chunks
                }
                let t = &mut totals[direction.index()];
                let offset = t.bytes;
                t.bytes += op.bytes.len() as u64;
                let event = StreamEvent::Data {
                    meta: meta.clone(),
                    direction,
                    offset,
                    ts_ns: ts,
                    origin: origin(direction),
                    bytes: Bytes::copy_from_slice(op.bytes),
                };
                stage.on_event(&event, &mut out);
            }
            Kind::Gap(direction) => {
                if op.gap_len == 0 {
                    continue;
                }
                let t = &mut totals[direction.index()];
                let offset = t.bytes;
                t.bytes += op.gap_len;
                t.gap_bytes += op.gap_len;
                let event = StreamEvent::Gap {
                    meta: meta.clone(),
                    direction,
                    offset,
                    len: op.gap_len,
                    cause: monitor::conn::GapCause::Lost,
                    ts_ns: ts,
                };
                stage.on_event(&event, &mut out);
            }
            Kind::Tick => stage.tick(ts, &mut out),
            Kind::Close { shutdown_reason } => {
                let reason = if shutdown_reason {
                    CloseReason::Shutdown
                } else {
                    CloseReason::Closed
                };
                let event = StreamEvent::Close {
                    meta: meta.clone(),
                    ts_ns: ts,
                    reason,
                    egress: totals[Direction::Egress.index()],
                    ingress: totals[Direction::Ingress.index()],
                };
                stage.on_event(&event, &mut out);
                closed = true;
            }
        }
        check_step(&stage, &mut render, &config, &out[checked..]);
        checked = out.len();
        if closed {
            break; // nothing follows a close on one connection
        }
    }
    if !closed {
        stage.shutdown(ts + 1, &mut out);
        check_step(&stage, &mut render, &config, &out[checked..]);
    }
    let held = stage.counters().body_bytes_held;
    assert_eq!(
        held, 0,
        "body bytes still held after the only connection ended"
    );
    out
}

fn origin(direction: Direction) -> Origin {
    Origin {
        pid: 100,
        tid: 100,
        comm: "fuzz".into(),
        syscall: match direction {
            Direction::Egress => Syscall::Write,
            Direction::Ingress => Syscall::Read,
        },
    }
}

/// Invariants after every event: the global budget holds, and what was emitted is bounded,
/// ordered in time and renders.
fn check_step(
    stage: &HttpStage,
    render: &mut HttpRenderer,
    config: &HttpConfig,
    emitted: &[HttpTransaction],
) {
    let held = stage.counters().body_bytes_held;
    assert!(
        held <= config.max_buffered_body_bytes as u64,
        "{held} body bytes held, over the budget of {}",
        config.max_buffered_body_bytes
    );
    for t in emitted {
        check_transaction(t, config);
        if let Err(err) = render.to_value(t) {
            panic!("rendering failed: {err}");
        }
    }
}

fn check_transaction(t: &HttpTransaction, config: &HttpConfig) {
    let max = config.max_body_bytes;
    if let Some(r) = &t.request {
        let n = r.body.captured.len();
        assert!(n <= max, "request body captured {n} bytes, over {max}");
        assert!(
            r.first_ts_ns <= r.last_ts_ns,
            "request ends ({}) before it starts ({})",
            r.last_ts_ns,
            r.first_ts_ns
        );
    }
    if let Some(r) = &t.response {
        let n = r.body.captured.len();
        assert!(n <= max, "response body captured {n} bytes, over {max}");
        assert!(
            r.first_ts_ns <= r.last_ts_ns,
            "response ends ({}) before it starts ({})",
            r.last_ts_ns,
            r.first_ts_ns
        );
    }
    assert!(
        t.start_ts_ns <= t.end_ts_ns,
        "transaction ends ({}) before it starts ({})",
        t.end_ts_ns,
        t.start_ts_ns
    );
}
