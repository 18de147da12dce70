//! Frame layer behaviour: each frame type, padding, limits, resynchronisation after a gap, and
//! the property that any chunking of a stream yields the same events.

use proptest::prelude::*;

use super::{
    frame::{self, FrameHeader, Priority, flag, kind},
    preface::CLIENT_PREFACE,
    reader::{FrameReader, Limits, ReadEvent, Start},
    *,
};

fn raw(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let h = FrameHeader {
        length: payload.len() as u32,
        kind,
        flags,
        stream,
    };
    let mut v = frame::header_bytes(&h).to_vec();
    v.extend_from_slice(payload);
    v
}

fn read_all(start: Start, limits: Limits, bytes: &[u8]) -> Vec<ReadEvent> {
    let mut r = FrameReader::new(start, limits);
    let mut out = vec![];
    r.push(bytes, &mut out);
    out
}

fn frames(events: &[ReadEvent]) -> Vec<Frame> {
    events
        .iter()
        .filter_map(|e| match e {
            ReadEvent::Frame(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn client_stream_with_every_frame_type() {
    let mut s = CLIENT_PREFACE.to_vec();
    s.extend(raw(
        kind::SETTINGS,
        0,
        0,
        &[0, 1, 0, 0, 0x10, 0, 0, 5, 0, 0, 0x40, 0],
    ));
    s.extend(raw(kind::SETTINGS, flag::ACK, 0, &[]));
    // HEADERS, padded (2 octets) and with priority fields.
    let mut p = vec![2, 0x80, 0, 0, 3, 15];
    p.extend(b"\x82\x86");
    p.extend([0, 0]);
    s.extend(raw(kind::HEADERS, flag::PADDED | flag::PRIORITY, 1, &p));
    s.extend(raw(kind::CONTINUATION, flag::END_HEADERS, 1, b"\x84"));
    s.extend(raw(
        kind::DATA,
        flag::PADDED | flag::END_STREAM,
        1,
        &[3, b'h', b'i', 0, 0, 0],
    ));
    s.extend(raw(kind::PRIORITY, 0, 3, &[0, 0, 0, 1, 7]));
    s.extend(raw(kind::RST_STREAM, 0, 3, &[0, 0, 0, 8]));
    s.extend(raw(
        kind::PUSH_PROMISE,
        flag::END_HEADERS,
        1,
        &[0, 0, 0, 2, 0x82],
    ));
    s.extend(raw(kind::PING, 0, 0, &[1, 2, 3, 4, 5, 6, 7, 8]));
    s.extend(raw(kind::WINDOW_UPDATE, 0, 0, &[0x80, 0, 1, 0]));
    s.extend(raw(0xfa, 0xff, 5, b"ignored"));
    s.extend(raw(
        kind::GOAWAY,
        0,
        0,
        &[0, 0, 0, 1, 0, 0, 0, 0, b'b', b'y', b'e'],
    ));
    let events = read_all(Start::ClientPreface, Limits::default(), &s);
    assert_eq!(events[0], ReadEvent::Preface);
    assert_eq!(
        frames(&events),
        vec![
            Frame::Settings {
                ack: false,
                params: vec![(1, 0x1000), (5, 0x4000)]
            },
            Frame::Settings {
                ack: true,
                params: vec![]
            },
            Frame::Headers {
                stream: 1,
                end_stream: false,
                end_headers: false,
                priority: Some(Priority {
                    exclusive: true,
                    depends_on: 3,
                    weight: 15
                }),
                fragment: b"\x82\x86".to_vec(),
            },
            Frame::Continuation {
                stream: 1,
                end_headers: true,
                fragment: b"\x84".to_vec()
            },
            Frame::Data {
                stream: 1,
                end_stream: true,
                data: b"hi".to_vec()
            },
            Frame::Priority {
                stream: 3,
                priority: Priority {
                    exclusive: false,
                    depends_on: 1,
                    weight: 7
                }
            },
            Frame::RstStream { stream: 3, code: 8 },
            Frame::PushPromise {
                stream: 1,
                end_headers: true,
                promised: 2,
                fragment: vec![0x82]
            },
            Frame::Ping {
                ack: false,
                data: [1, 2, 3, 4, 5, 6, 7, 8]
            },
            Frame::WindowUpdate {
                stream: 0,
                increment: 256
            },
            Frame::Unknown {
                kind: 0xfa,
                stream: 5,
                length: 7
            },
            Frame::GoAway {
                last_stream: 1,
                code: 0,
                debug: b"bye".to_vec()
            },
        ]
    );
    assert_eq!(events.len(), 13);
}

#[test]
fn bad_padding_and_lengths_lose_only_their_frame() {
    let mut s = raw(kind::DATA, flag::PADDED, 1, &[9, b'x']);
    s.extend(raw(kind::PING, 0, 0, &[1, 2, 3]));
    s.extend(raw(kind::SETTINGS, 0, 1, &[]));
    s.extend(raw(kind::DATA, 0, 1, b"ok"));
    let events = read_all(Start::Frames, Limits::default(), &s);
    let errors: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ReadEvent::Malformed { error, .. } => Some(*error),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            FrameError::Padding { kind: kind::DATA },
            FrameError::Length {
                kind: kind::PING,
                length: 3
            },
            FrameError::Stream {
                kind: kind::SETTINGS,
                stream: 1
            },
        ]
    );
    assert_eq!(frames(&events).len(), 1);
}

#[test]
fn oversized_frame_is_skipped_and_the_next_one_read() {
    let limits = Limits {
        max_frame_size: 1 << 20,
        max_buffered: 16,
        resync_max_stream: 1 << 24,
    };
    let mut s = raw(kind::DATA, 0, 1, &[7; 100]);
    s.extend(raw(kind::DATA, 0, 1, b"after"));
    let mut r = FrameReader::new(Start::Frames, limits);
    let mut out = vec![];
    for b in s.chunks(3) {
        r.push(b, &mut out);
        assert!(r.buffered() <= 2 * 9 + 16);
    }
    assert!(matches!(out[0], ReadEvent::Oversized(h) if h.length == 100));
    assert_eq!(
        frames(&out)[0],
        Frame::Data {
            stream: 1,
            end_stream: false,
            data: b"after".to_vec()
        }
    );
    assert_eq!(r.counters().oversized, 1);
}

#[test]
fn impossible_length_loses_sync_then_resyncs() {
    let limits = Limits {
        max_frame_size: 16384,
        max_buffered: 16384,
        resync_max_stream: 1 << 24,
    };
    let mut s = vec![0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1];
    s.extend(raw(kind::DATA, 0, 1, b"one"));
    s.extend(raw(kind::DATA, 0, 1, b"two"));
    let events = read_all(Start::Frames, limits, &s);
    assert_eq!(events[0], ReadEvent::OutOfSync);
    assert_eq!(events[1], ReadEvent::Resynced { skipped: 9 });
    assert_eq!(frames(&events).len(), 2);
}

#[test]
fn missing_preface_loses_sync() {
    let events = read_all(
        Start::ClientPreface,
        Limits::default(),
        b"GET / HTTP/1.1\r\n\r\n",
    );
    assert_eq!(events, vec![ReadEvent::OutOfSync]);
}

#[test]
fn after_a_gap_resync_needs_two_plausible_headers() {
    let limits = Limits {
        max_frame_size: 16384,
        max_buffered: 16384,
        resync_max_stream: 1 << 24,
    };
    let mut r = FrameReader::new(Start::Frames, limits);
    let mut out = vec![];
    let a = raw(kind::DATA, 0, 1, b"lost in the middle");
    r.push(&a[..12], &mut out);
    r.gap(5);
    // The tail of the lost frame, then real frames.
    let mut rest = a[17..].to_vec();
    rest.extend(raw(kind::HEADERS, flag::END_HEADERS, 3, b"\x82"));
    rest.extend(raw(kind::DATA, flag::END_STREAM, 3, b""));
    rest.extend(raw(kind::PING, 0, 0, &[0; 8]));
    r.push(&rest, &mut out);
    // Lost: the 12 octets held when the gap came (the incomplete frame) and the tail after it.
    let tail = a.len() - 17;
    assert_eq!(
        out[0],
        ReadEvent::Resynced {
            skipped: 12 + tail as u64
        }
    );
    assert_eq!(frames(&out).len(), 3);
    assert_eq!(r.counters().gaps, 1);
}

#[test]
fn joined_mid_frame_skips_to_the_next_boundary() {
    let mut s = raw(kind::DATA, 0, 1, &[0u8; 40]);
    s.extend(raw(kind::HEADERS, flag::END_HEADERS, 1, b"\x88"));
    s.extend(raw(kind::WINDOW_UPDATE, 0, 1, &[0, 0, 0, 9]));
    // Zero bytes look like headers of empty DATA frames on stream 0, which the stream id rule
    // refuses: the first plausible boundary is the HEADERS frame.
    let events = read_all(Start::Unknown, Limits::default(), &s[20..]);
    assert_eq!(
        events[0],
        ReadEvent::Resynced {
            skipped: (49 - 20) as u64
        }
    );
    assert_eq!(frames(&events).len(), 2);
}

fn arb_frame() -> impl Strategy<Value = Vec<u8>> {
    let payload = proptest::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        (payload.clone(), 1u32..9, any::<bool>()).prop_map(|(p, s, e)| raw(
            kind::DATA,
            if e { flag::END_STREAM } else { 0 },
            s,
            &p
        )),
        (payload.clone(), 0u8..4, 1u32..9).prop_map(|(mut p, pad, s)| {
            let mut v = vec![pad];
            v.append(&mut p);
            v.extend(std::iter::repeat_n(0, usize::from(pad)));
            raw(kind::HEADERS, flag::PADDED | flag::END_HEADERS, s, &v)
        }),
        payload
            .clone()
            .prop_map(|p| raw(kind::CONTINUATION, 0, 1, &p)),
        any::<[u8; 8]>().prop_map(|p| raw(kind::PING, 0, 0, &p)),
        any::<[u8; 4]>().prop_map(|p| raw(kind::WINDOW_UPDATE, 0, 0, &p)),
        payload.prop_map(|p| raw(0x20, 0, 0, &p)),
        // Garbage, so losing sync and resynchronising are split too.
        proptest::collection::vec(any::<u8>(), 1..30),
    ]
}

proptest! {
    #[test]
    fn any_chunking_yields_the_same_events(
        parts in proptest::collection::vec(arb_frame(), 1..20),
        cuts in proptest::collection::vec(1usize..50, 1..40),
        start in prop_oneof![Just(Start::ClientPreface), Just(Start::Frames), Just(Start::Unknown)],
        small in any::<bool>(),
    ) {
        let limits = Limits {
            max_frame_size: if small { 48 } else { 16384 },
            max_buffered: if small { 24 } else { 16384 }, resync_max_stream: 1 << 24,
        };
        let mut stream = if start == Start::ClientPreface { CLIENT_PREFACE.to_vec() } else { vec![] };
        for p in &parts {
            stream.extend(p);
        }
        let whole = read_all(start, limits, &stream);
        let mut r = FrameReader::new(start, limits);
        let mut split = vec![];
        let mut rest = &stream[..];
        for c in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let n = (*c).min(rest.len());
            r.push(&rest[..n], &mut split);
            rest = &rest[n..];
            prop_assert!(r.buffered() <= 2 * 9 + limits.max_buffered as usize);
        }
        prop_assert_eq!(whole, split);
    }
}
