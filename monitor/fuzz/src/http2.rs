//! The `http2_frames` target: one direction's bytes through the frame reader, header blocks
//! (HEADERS/PUSH_PROMISE + CONTINUATION) through the HPACK decoder.
//!
//! Input: byte 0 bits 0-1 the start (0 client preface, 1 frames, 2-3 unknown), bit 2 whether
//! the HPACK decoder starts exact or joined; byte 1 the chunk size (1 + b); the rest is the
//! stream. Panics when the reader holds more than its bound or a block grows past its limit.

use monitor::http2::{
    Frame, FrameReader, ReadEvent, Start,
    hpack::{Decoder, Limits as HpackLimits},
    reader::Limits,
};

const MAX_BLOCK: usize = 16 * 1024;

pub fn run(input: &[u8]) {
    let [mode, chunk, stream @ ..] = input else {
        return;
    };
    let start = match mode & 3 {
        0 => Start::ClientPreface,
        1 => Start::Frames,
        _ => Start::Unknown,
    };
    let limits = Limits {
        max_frame_size: 4096,
        max_buffered: 512,
        resync_max_stream: 1 << 24,
    };
    let hpack = HpackLimits {
        max_table: 1024,
        max_string: 1024,
        max_fields: 64,
    };
    let mut decoder = if mode & 4 == 0 {
        Decoder::new(hpack)
    } else {
        Decoder::joined(hpack)
    };
    let mut reader = FrameReader::new(start, limits);
    let mut block: Option<Vec<u8>> = None;
    let mut events = Vec::new();
    for piece in stream.chunks(usize::from(*chunk) + 1) {
        reader.push(piece, &mut events);
        assert!(reader.buffered() <= 2 * 9 + limits.max_buffered as usize);
        for e in events.drain(..) {
            let (fragment, end) = match e {
                ReadEvent::Frame(Frame::Headers {
                    fragment,
                    end_headers,
                    ..
                })
                | ReadEvent::Frame(Frame::PushPromise {
                    fragment,
                    end_headers,
                    ..
                }) => {
                    block = Some(Vec::new());
                    (fragment, end_headers)
                }
                ReadEvent::Frame(Frame::Continuation {
                    fragment,
                    end_headers,
                    ..
                }) => (fragment, end_headers),
                ReadEvent::Oversized(_) | ReadEvent::OutOfSync | ReadEvent::Resynced { .. } => {
                    block = None;
                    decoder.lost_block();
                    continue;
                }
                _ => continue,
            };
            let Some(b) = block.as_mut() else { continue };
            b.extend_from_slice(&fragment);
            if b.len() > MAX_BLOCK {
                block = None;
                decoder.lost_block();
                continue;
            }
            if end && let Some(b) = block.take() {
                if let Ok(out) = decoder.decode(&b) {
                    assert!(out.fields.len() <= hpack.max_fields);
                }
                assert!(decoder.table().size() <= hpack.max_table);
            }
        }
    }
}
