//! Parser behaviour on hand-written conversations (golden JSON tests live in tests/golden).

use std::sync::Arc;

use super::stage::HttpStage;
use crate::{
    config::HttpConfig,
    conn::{
        ConnMeta, Direction, Role, StreamEvent,
        model::{Attribution, CloseReason, DirectionTotals, Origin},
    },
    transaction::{Flag, HttpTransaction, Outcome},
};
use monitor_common::event::Syscall;

pub fn meta(role: Role, attribution: Attribution) -> Arc<ConnMeta> {
    Arc::new(ConnMeta {
        id: 7,
        pid: 42,
        comm: "curl".into(),
        fd: 3,
        cgroup_id: 1,
        endpoints: None,
        role,
        attribution,
        tls_library: None,
    })
}

/// Client-side view: `>` is what the client wrote (egress), `<` what it read.
pub fn events(meta: &Arc<ConnMeta>, script: &[(char, &[u8])]) -> Vec<StreamEvent> {
    let mut offs = [0u64; 2];
    let mut out = vec![StreamEvent::Open {
        meta: meta.clone(),
        ts_ns: 1,
    }];
    for (i, (d, bytes)) in script.iter().enumerate() {
        let direction = if *d == '>' {
            Direction::Egress
        } else {
            Direction::Ingress
        };
        let ts_ns = 10 + i as u64 * 10;
        let offset = offs[direction.index()];
        offs[direction.index()] += bytes.len() as u64;
        if *d == 'g' || *d == 'G' {
            // 'g' = gap of len bytes on egress, 'G' on ingress
            let direction = if *d == 'g' {
                Direction::Egress
            } else {
                Direction::Ingress
            };
            out.push(StreamEvent::Gap {
                meta: meta.clone(),
                direction,
                offset,
                len: bytes.len() as u64,
                cause: crate::conn::GapCause::Lost,
                ts_ns,
            });
            continue;
        }
        out.push(StreamEvent::Data {
            meta: meta.clone(),
            direction,
            offset,
            ts_ns,
            origin: Origin {
                pid: 42,
                tid: 42,
                comm: "curl".into(),
                syscall: Syscall::Write,
            },
            bytes: bytes::Bytes::copy_from_slice(bytes),
        });
    }
    out.push(StreamEvent::Close {
        meta: meta.clone(),
        ts_ns: 10_000,
        reason: CloseReason::Closed,
        egress: DirectionTotals::default(),
        ingress: DirectionTotals::default(),
    });
    out
}

pub fn run_events(events: &[StreamEvent]) -> Vec<HttpTransaction> {
    let mut stage = HttpStage::new(&HttpConfig::default());
    let mut out = Vec::new();
    for e in events {
        stage.on_event(e, &mut out);
    }
    out
}

fn run(script: &[(char, &[u8])]) -> Vec<HttpTransaction> {
    run_events(&events(&meta(Role::Client, Attribution::Kernel), script))
}

fn summary(t: &HttpTransaction) -> String {
    let q = t
        .request
        .as_ref()
        .map(|r| {
            format!(
                "{} {} [{}]",
                r.method,
                r.target,
                String::from_utf8_lossy(&r.body.captured)
            )
        })
        .unwrap_or_else(|| "-".into());
    let r = t
        .response
        .as_ref()
        .map(|r| {
            format!(
                "{} [{}]",
                r.status,
                String::from_utf8_lossy(&r.body.captured)
            )
        })
        .unwrap_or_else(|| "-".into());
    format!("{q} => {r} {:?}", t.outcome)
}

fn summaries(ts: &[HttpTransaction]) -> Vec<String> {
    ts.iter().map(summary).collect()
}

#[test]
fn keep_alive_and_pipelining() {
    let out = run(&[
        ('>', b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"),
        ('>', b"POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"),
        ('<', b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
    ]);
    assert_eq!(
        summaries(&out),
        [
            "GET /a [] => 200 [a] Complete",
            "GET /b [] => 200 [b] Complete",
            "POST /c [xyz] => 201 [ok] Complete"
        ]
    );
    assert!(out.iter().all(|t| t.flags.is_empty()));
}

#[test]
fn head_204_304_and_interim() {
    let out = run(&[
        ('>', b"HEAD / HTTP/1.1\r\n\r\n"),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
        ('>', b"GET /n HTTP/1.1\r\n\r\n"),
        (
            '<',
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        ),
        (
            '>',
            b"PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
        ),
        ('<', b"HTTP/1.1 100 Continue\r\n\r\n"),
        ('>', b"hi"),
        ('<', b"HTTP/1.1 204 No Content\r\n\r\n"),
    ]);
    assert_eq!(
        summaries(&out),
        [
            "HEAD / [] => 200 [] Complete",
            "GET /n [] => 304 [] Complete",
            "PUT /u [hi] => 204 [] Complete"
        ]
    );
    assert_eq!(out[2].interim, vec![100]);
}

#[test]
fn close_delimited_upgrade_and_connect() {
    let out = run(&[
        ('>', b"GET /old HTTP/1.0\r\n\r\n"),
        ('<', b"HTTP/1.0 200 OK\r\n\r\nall of it"),
    ]);
    assert_eq!(summaries(&out), ["GET /old [] => 200 [all of it] Complete"]);

    let out = run(&[
        (
            '>',
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        ),
        (
            '<',
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        ),
        ('>', b"\x81\x85garbage"),
    ]);
    assert_eq!(summaries(&out), ["GET /ws [] => 101 [] Upgraded"]);

    let out = run(&[
        ('>', b"CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
        (
            '<',
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01",
        ),
        ('>', b"\x16\x03\x01\x02\x00"),
    ]);
    assert_eq!(
        summaries(&out),
        ["CONNECT example.com:443 [] => 200 [] Tunnel"]
    );
}

#[test]
fn smuggling_flags() {
    let out = run(&[
        ('>', b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(summaries(&out), ["POST / [x] => 200 [] Complete"]);
    assert!(
        out[0]
            .flags
            .contains(Flag::ContentLengthWithTransferEncoding)
    );
    assert!(out[0].flags.smuggling_risk());

    // Two lengths: the request's end is unknown; parsing of requests stops cleanly.
    let out = run(&[
        ('>', b"POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcdeGET /x HTTP/1.1\r\n\r\n"),
        ('<', b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    ]);
    assert_eq!(summaries(&out), ["POST / [] => 400 [] Complete"]);
    assert!(out[0].flags.contains(Flag::ConflictingContentLength));
}

#[test]
fn bad_chunk_size_stops_and_is_flagged() {
    let out = run(&[
        ('>', b"GET / HTTP/1.1\r\n\r\n"),
        (
            '<',
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\nmore",
        ),
    ]);
    assert_eq!(summaries(&out), ["GET / [] => 200 [abc] Complete"]);
    assert!(out[0].flags.contains(Flag::InvalidChunkSize));
    assert!(out[0].response.as_ref().unwrap().body.incomplete);
}

#[test]
fn no_response_on_close_and_garbage_between_messages() {
    let out = run(&[
        ('>', b"GET /1 HTTP/1.1\r\n\r\n"),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ('>', b"\x00\x01binary noise\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ('>', b"GET /3 HTTP/1.1\r\n\r\n"),
    ]);
    assert_eq!(
        summaries(&out),
        [
            "GET /1 [] => 200 [] Complete",
            "- => - Malformed",
            "GET /2 [] => 200 [] Complete",
            "GET /3 [] => - NoResponse"
        ]
    );
    assert!(out[1].flags.contains(Flag::InvalidHead));
    assert!(out[2].flags.contains(Flag::Resynced));
}

#[test]
fn joined_mid_stream_resyncs() {
    let m = meta(Role::Client, Attribution::Proc);
    let out = run_events(&events(
        &m,
        &[
            ('>', b"ly the tail of a body\r\n"),
            (
                '<',
                b"tail of a response\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ),
            ('>', b"GET /next HTTP/1.1\r\n\r\n"),
            ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ],
    ));
    assert_eq!(
        summaries(&out),
        [
            "- => 200 [ok] RequestNotCaptured",
            "GET /next [] => 200 [ok] Complete"
        ]
    );
}

#[test]
fn gap_inside_a_body_keeps_sync() {
    let out = run(&[
        ('>', b"GET / HTTP/1.1\r\n\r\n"),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"),
        ('G', b"cdefgh"),
        ('<', b"ij"),
        ('>', b"GET /2 HTTP/1.1\r\n\r\n"),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(
        summaries(&out),
        [
            "GET / [] => 200 [abij] Complete",
            "GET /2 [] => 200 [] Complete"
        ]
    );
    let body = &out[0].response.as_ref().unwrap().body;
    assert_eq!(body.size, 10);
    assert!(body.incomplete && out[0].flags.contains(Flag::BodyGap));
}

#[test]
fn huge_head_is_flagged_and_bounded() {
    let mut req = b"GET / HTTP/1.1\r\n".to_vec();
    for _ in 0..5000 {
        req.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaa\r\n");
    }
    let out = run(&[
        ('>', &req[..]),
        ('>', b"\r\nGET /ok HTTP/1.1\r\n\r\n"),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(
        summaries(&out),
        ["- => - Malformed", "GET /ok [] => 200 [] Complete"]
    );
    assert!(out[0].flags.contains(Flag::HeaderTooLarge));
}

#[test]
fn not_http_is_ignored() {
    let tls = [0x16u8, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc];
    let out = run(&[('>', &tls[..]), ('<', &[0x16, 0x03, 0x03, 0x00, 0x7a][..])]);
    assert!(out.is_empty(), "{:?}", summaries(&out));
    let _ = Outcome::Complete;
}

#[test]
fn text_protocols_with_token_space_lines_are_not_http() {
    // Lines that start with a token and a space, but are not request-lines (no HTTP-version).
    let out = run(&[
        ('<', b"220 mail.example.com ESMTP\r\n"),
        ('>', b"EHLO client.example.com\r\n"),
        ('<', b"250 OK\r\n"),
        ('>', b"SET key value\r\nM-SEARCH key\r\n"),
    ]);
    assert!(out.is_empty(), "{:?}", summaries(&out));
}

#[test]
fn the_tail_of_a_bad_start_line_is_not_a_request() {
    // "ET /\xff HTTP/1.1" has the shape of a request-line; it is only the rest of this one.
    let out = run(&[
        ('>', b"GET /a\x01b HTTP/1.1\r\n\r\n"),
        (
            '<',
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        ),
    ]);
    assert_eq!(
        summaries(&out),
        ["- => - Malformed", "- => 400 [] RequestNotCaptured"]
    );
}

/// A conversation as turns: (direction, bytes, the turn that must be complete before this one
/// starts: its causal dependency).
type Turn = (char, &'static [u8], Option<usize>);

const CONVERSATIONS: &[&[Turn]] = &[
    // Keep-alive with a chunked response and trailers.
    &[
        ('>', b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", None),
        ('<', b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;e=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\n", Some(0)),
        ('>', b"POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", Some(1)),
        ('<', b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", Some(2)),
    ],
    // Pipelining: responses depend only on their own request.
    &[
        ('>', b"GET /1 HTTP/1.1\r\n\r\n", None),
        ('>', b"HEAD /2 HTTP/1.1\r\n\r\n", None),
        ('>', b"GET /3 HTTP/1.1\r\n\r\n", None),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none", Some(0)),
        ('<', b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", Some(1)),
        ('<', b"HTTP/1.1 304 Not Modified\r\n\r\n", Some(2)),
    ],
    // 100-continue: the body follows the interim response.
    &[
        ('>', b"PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n", None),
        ('<', b"HTTP/1.1 100 Continue\r\n\r\n", Some(0)),
        ('>', b"data", Some(1)),
        ('<', b"HTTP/1.1 204 No Content\r\n\r\n", Some(2)),
        ('>', b"GET /after HTTP/1.1\r\n\r\n", Some(3)),
        ('<', b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", Some(4)),
    ],
    // Empty lines before start lines (ignored, RFC 9112 §2.2), split anywhere.
    &[
        ('>', b"\r\nPOST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\n\r\n", None),
        ('<', b"\r\nHTTP/1.1 304 Not Modified\r\n\r\n\r\n", Some(0)),
        ('>', b"GET /b HTTP/1.1\r\n\r\n\n", Some(1)),
        ('<', b"\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb\r\n", Some(2)),
    ],
];

// Deterministic choices from one seed (proptest shrinks the seed and chunk size).
use crate::test_rng::Rng;

/// Splits every turn into chunks of 1..=max_chunk bytes and merges the two directions in a
/// random order that respects each turn's dependency.
fn interleave(conv: &[Turn], seed: u64, max_chunk: usize) -> Vec<(char, Vec<u8>)> {
    let mut rng = Rng(seed | 1);
    let mut queues: [Vec<(Vec<u8>, u64)>; 2] = [Vec::new(), Vec::new()];
    for (d, bytes, after) in conv {
        // Bytes of the other direction up to the end of the turn this one waits for.
        let dep: u64 = after.map_or(0, |j| {
            conv[..=j]
                .iter()
                .filter(|t| t.0 != *d)
                .map(|t| t.1.len() as u64)
                .sum()
        });
        let q = &mut queues[usize::from(*d == '<')];
        let mut rest = *bytes;
        while !rest.is_empty() {
            let n = 1 + (rng.next() as usize % max_chunk).min(rest.len() - 1);
            q.push((rest[..n].to_vec(), dep));
            rest = &rest[n..];
        }
    }
    let mut sent = [0u64; 2];
    let mut next = [0usize; 2];
    let mut out = Vec::new();
    while next[0] < queues[0].len() || next[1] < queues[1].len() {
        let ready: Vec<usize> = (0..2)
            .filter(|&d| next[d] < queues[d].len() && queues[d][next[d]].1 <= sent[1 - d])
            .collect();
        assert!(
            !ready.is_empty(),
            "conversation dependencies are inconsistent"
        );
        let d = ready[rng.next() as usize % ready.len()];
        let (bytes, _) = queues[d][next[d]].clone();
        next[d] += 1;
        sent[d] += bytes.len() as u64;
        out.push((if d == 0 { '>' } else { '<' }, bytes));
    }
    out
}

/// Transactions without timestamps (they move with the chunking).
fn timeless(ts: Vec<HttpTransaction>) -> Vec<HttpTransaction> {
    ts.into_iter()
        .map(|mut t| {
            t.start_ts_ns = 0;
            t.end_ts_ns = 0;
            if let Some(r) = &mut t.request {
                r.first_ts_ns = 0;
                r.last_ts_ns = 0;
            }
            if let Some(r) = &mut t.response {
                r.first_ts_ns = 0;
                r.last_ts_ns = 0;
            }
            t
        })
        .collect()
}

fn run_owned(script: &[(char, Vec<u8>)]) -> Vec<HttpTransaction> {
    let borrowed: Vec<(char, &[u8])> = script.iter().map(|(d, b)| (*d, &b[..])).collect();
    timeless(run(&borrowed))
}

#[test]
fn conversations_are_consistent() {
    for conv in CONVERSATIONS {
        let whole: Vec<(char, Vec<u8>)> = conv.iter().map(|(d, b, _)| (*d, b.to_vec())).collect();
        let out = run_owned(&whole);
        assert!(!out.is_empty());
        assert!(
            out.iter()
                .all(|t| t.outcome == Outcome::Complete && t.flags.is_empty()),
            "{:?}",
            summaries(&out)
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
    #[test]
    fn any_split_and_causal_interleaving_gives_the_same_transactions(
        which in 0..CONVERSATIONS.len(),
        seed in proptest::prelude::any::<u64>(),
        max_chunk in 1usize..48,
    ) {
        let conv = CONVERSATIONS[which];
        let whole: Vec<(char, Vec<u8>)> = conv.iter().map(|(d, b, _)| (*d, b.to_vec())).collect();
        let expected = run_owned(&whole);
        let got = run_owned(&interleave(conv, seed, max_chunk));
        proptest::prop_assert_eq!(got, expected);
    }
}
