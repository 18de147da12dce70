//! HTTP/2 bounds through the router: the open-stream cap evicts the oldest stream (counted,
//! flagged), a request without a response times out once, and its late response is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use monitor::{
    config::HttpConfig,
    conn::{Direction, model::Attribution},
    transaction::{EndReason, Flag, Outcome},
};

mod h2gen;

use h2gen::{Conversation, feed::Feed};

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
    let mut c = Feed::open(&HttpConfig::default(), Attribution::Kernel);
    c.send(
        Direction::Egress,
        &[h2gen::PREFACE.to_vec(), h2gen::settings(&[])].concat(),
        10,
    );
    for i in 0..300u32 {
        let f = conv.request(2 * i + 1, &get(&format!("/{i}")), true);
        c.send(Direction::Egress, &f, 20 + u64::from(i));
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
    let mut c = Feed::open(&config, Attribution::Kernel);
    let mut first = [h2gen::PREFACE.to_vec(), h2gen::settings(&[])].concat();
    first.extend(conv.request(1, &get("/slow"), true));
    c.send(Direction::Egress, &first, 10);
    c.stage.tick(500_000_000, &mut c.out);
    assert!(c.out.is_empty());
    c.stage.tick(2_000_000_000, &mut c.out);
    assert_eq!(c.out.len(), 1);
    assert_eq!(c.out[0].outcome, Outcome::NoResponse);
    assert_eq!(c.out[0].reason, Some(EndReason::ResponseTimeout));
    let mut late = h2gen::settings(&[]);
    late.extend(conv.response(1, &[(":status", "200")], false));
    late.extend(Conversation::data(1, b"late", true));
    c.send(Direction::Ingress, &late, 3_000_000_000);
    c.close(4_000_000_000);
    assert_eq!(c.out.len(), 1, "{:?}", c.out);
    assert_eq!(c.stage.http2_counters().unwrap().late_frames, 2);
    assert_eq!(c.stage.counters().body_bytes_held, 0);
}
