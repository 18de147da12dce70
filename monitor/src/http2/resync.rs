//! Finding a frame boundary in bytes that follow a gap: a position is taken only when its frame
//! header is plausible (known type, only that type's flags, length within the limit and right
//! for the type, stream id allowed for the type) and so is the header right after that frame.

use super::frame::{FrameHeader, HEADER_LEN, flag, kind};

/// Whether `raw` (a frame header's octets) looks like a frame a conforming peer sends. Stricter
/// than what is legal where legal but useless frames look like runs of zeros or text: a set
/// reserved bit, an empty DATA frame that does not end its stream, an empty header fragment.
pub fn plausible(raw: &[u8; HEADER_LEN], b: Bounds) -> bool {
    let h = FrameHeader::parse(raw);
    if h.length > b.max_len || h.stream > b.max_stream || raw[5] & 0x80 != 0 {
        return false;
    }
    let empty = h.length == 0;
    if (h.kind == kind::DATA && empty && !h.has(flag::END_STREAM))
        || (matches!(h.kind, kind::HEADERS | kind::CONTINUATION) && empty)
    {
        return false;
    }
    let (flags, stream_zero, length_ok) = match h.kind {
        kind::DATA => (flag::END_STREAM | flag::PADDED, false, true),
        kind::HEADERS => (
            flag::END_STREAM | flag::END_HEADERS | flag::PADDED | flag::PRIORITY,
            false,
            true,
        ),
        kind::PRIORITY => (0, false, h.length == 5),
        kind::RST_STREAM => (0, false, h.length == 4),
        kind::SETTINGS => (
            flag::ACK,
            true,
            h.length.is_multiple_of(6) && (!h.has(flag::ACK) || h.length == 0),
        ),
        kind::PUSH_PROMISE => (flag::END_HEADERS | flag::PADDED, false, h.length >= 4),
        kind::PING => (flag::ACK, true, h.length == 8),
        kind::GOAWAY => (0, true, h.length >= 8),
        kind::WINDOW_UPDATE => (0, h.stream == 0, h.length == 4),
        kind::CONTINUATION => (flag::END_HEADERS, false, true),
        _ => return false,
    };
    h.flags & !flags == 0 && (h.stream == 0) == stream_zero && length_ok
}

/// What a plausible header stays within.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_len: u32,
    /// Stream ids above this are taken for noise: runs of zeros and small numbers otherwise
    /// read as empty frames on huge stream ids. A connection past it resynchronises only on
    /// connection-level frames (SETTINGS, PING, WINDOW_UPDATE on stream 0).
    pub max_stream: u32,
}

pub enum Scan {
    /// A boundary at this offset.
    Found(usize),
    /// No boundary before this offset; what follows may still hold one once more bytes come.
    NotBefore(usize),
}

/// Scans `buf` for the first offset where a plausible frame is followed by another plausible
/// frame header. An offset whose check needs bytes not yet in `buf` stops the scan there.
pub fn scan(buf: &[u8], b: Bounds) -> Scan {
    let mut at = 0;
    while at + HEADER_LEN <= buf.len() {
        let raw = header_at(buf, at);
        if plausible(&raw, b) {
            let next = at + HEADER_LEN + FrameHeader::parse(&raw).length as usize;
            if next + HEADER_LEN > buf.len() {
                return Scan::NotBefore(at);
            }
            if plausible(&header_at(buf, next), b) {
                return Scan::Found(at);
            }
        }
        at += 1;
    }
    Scan::NotBefore(at)
}

fn header_at(buf: &[u8], at: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(&buf[at..at + HEADER_LEN]);
    h
}
