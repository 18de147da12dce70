//! HTTP/2 bounds through the router: the open-stream cap evicts the oldest stream (counted,
//! flagged), a request without a response times out once, and its late response is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, sync::Arc};

use bytes::Bytes;
use monitor::{
    capture::Endpoints,
    config::HttpConfig,
    conn::{
        ConnMeta, Direction, Role, StreamEvent,
        model::{Attribution, CloseReason, DirectionTotals, Origin},
    },
    protocol::ProtocolStage,
    transaction::{EndReason, Flag, HttpTransaction, Outcome},
};
use monitor_common::event::Syscall;

mod h2gen;

use h2gen::Conversation;

struct Conn {
    meta: Arc<ConnMeta>,
    stage: ProtocolStage,
    offs: [u64; 2],
    out: Vec<HttpTransaction>,
}

impl Conn {
    fn new(config: &HttpConfig) -> Conn {
        let meta = Arc::new(ConnMeta {
            id: 9,
            pid: 1,
            comm: "c".into(),
            fd: 3,
            cgroup_id: 0,
            endpoints: Some(Endpoints {
                local: "10.0.0.1:40000".parse::<SocketAddr>().unwrap(),
                remote: "10.0.0.2:8080".parse::<SocketAddr>().unwrap(),
            }),
            role: Role::Client,
            attribution: Attribution::Kernel,
            tls_library: None,
        });
        let mut c = Conn {
            meta: meta.clone(),
            stage: ProtocolStage::new(config),
            offs: [0; 2],
            out: Vec::new(),
        };
        c.stage
            .on_event(&StreamEvent::Open { meta, ts_ns: 1 }, &mut c.out);
        c
    }

    fn send(&mut self, dir: Direction, bytes: Vec<u8>, ts: u64) {
        let n = bytes.len() as u64;
        self.stage.on_event(
            &StreamEvent::Data {
                meta: self.meta.clone(),
                direction: dir,
                offset: self.offs[dir.index()],
                ts_ns: ts,
                origin: Origin {
                    pid: 1,
                    tid: 1,
                    comm: "c".into(),
                    syscall: Syscall::Write,
                },
                bytes: Bytes::from(bytes),
            },
            &mut self.out,
        );
        self.offs[dir.index()] += n;
    }

    fn close(&mut self, ts: u64) {
        self.stage.on_event(
            &StreamEvent::Close {
                meta: self.meta.clone(),
                ts_ns: ts,
                reason: CloseReason::Closed,
                egress: DirectionTotals::default(),
                ingress: DirectionTotals::default(),
            },
            &mut self.out,
        );
    }
}

fn get(path: &str) -> Vec<(&str, &str)> {
    vec![
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "x"),
        (":path", path),
    ]
}

#[test]
fn the_oldest_streams_are_evicted_beyond_256() {
    let mut conv = Conversation::new();
    let mut c = Conn::new(&HttpConfig::default());
    c.send(
        Direction::Egress,
        [h2gen::PREFACE.to_vec(), h2gen::settings(&[])].concat(),
        10,
    );
    for i in 0..300u32 {
        let f = conv.request(2 * i + 1, &get(&format!("/{i}")), true);
        c.send(Direction::Egress, f, 20 + u64::from(i));
    }
    assert_eq!(c.out.len(), 44);
    for (t, i) in c.out.iter().zip(0..) {
        assert!(t.flags.contains(Flag::StreamEvicted));
        assert_eq!(t.request.as_ref().unwrap().target, format!("/{i}"));
        assert_eq!(t.reason, Some(EndReason::PipelineOverflow));
    }
    let h2 = c.stage.http2_counters().unwrap();
    assert_eq!((h2.evictions, h2.open_streams), (44, 256));
    c.close(10_000);
    assert_eq!(c.out.len(), 300);
    assert_eq!(c.stage.counters().body_bytes_held, 0);
}

#[test]
fn a_request_times_out_once_and_its_late_response_is_dropped() {
    let config = HttpConfig {
        response_timeout_secs: 1,
        ..HttpConfig::default()
    };
    let mut conv = Conversation::new();
    let mut c = Conn::new(&config);
    let mut first = [h2gen::PREFACE.to_vec(), h2gen::settings(&[])].concat();
    first.extend(conv.request(1, &get("/slow"), true));
    c.send(Direction::Egress, first, 10);
    c.stage.tick(500_000_000, &mut c.out);
    assert!(c.out.is_empty());
    c.stage.tick(2_000_000_000, &mut c.out);
    assert_eq!(c.out.len(), 1);
    assert_eq!(c.out[0].outcome, Outcome::NoResponse);
    assert_eq!(c.out[0].reason, Some(EndReason::ResponseTimeout));
    let mut late = h2gen::settings(&[]);
    late.extend(conv.response(1, &[(":status", "200")], false));
    late.extend(Conversation::data(1, b"late", true));
    c.send(Direction::Ingress, late, 3_000_000_000);
    c.close(4_000_000_000);
    assert_eq!(c.out.len(), 1, "{:?}", c.out);
    assert_eq!(c.stage.http2_counters().unwrap().late_frames, 2);
    assert_eq!(c.stage.counters().body_bytes_held, 0);
}
