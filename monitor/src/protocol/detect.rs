//! Telling HTTP/2 from HTTP/1 by bytes alone: a client's first bytes against the preface, a
//! server's first bytes against the frame it must send first (SETTINGS), and, for a connection
//! joined mid-way, frames read in both directions until enough in a row are well-formed.

use crate::{
    conn::Direction,
    http2::{
        FrameReader, ReadEvent, Start,
        frame::{FrameHeader, HEADER_LEN, kind},
        preface::{self, Preface},
        reader,
    },
};

/// What a connection's first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstBytes {
    Http2,
    /// Not HTTP/2 (HTTP/1 or anything else: the HTTP/1 stage decides).
    Other,
    /// Too few bytes yet.
    Undecided,
}

/// A client's first bytes.
pub fn client_start(bytes: &[u8]) -> FirstBytes {
    match preface::detect(bytes) {
        Preface::Complete => FirstBytes::Http2,
        Preface::Partial => FirstBytes::Undecided,
        Preface::Absent => FirstBytes::Other,
    }
}

/// A server's first bytes: an HTTP/2 server's are a SETTINGS frame (RFC 9113 §3.4), and it may
/// send them before the client's preface arrives, so they only make us wait for the client.
pub fn server_start(bytes: &[u8]) -> FirstBytes {
    let Some(head) = bytes.first_chunk::<HEADER_LEN>() else {
        // Nothing HTTP/1 starts with a zero octet: a frame length's first octet is one.
        return if bytes.first().is_none_or(|&b| b == 0) {
            FirstBytes::Undecided
        } else {
            FirstBytes::Other
        };
    };
    let h = FrameHeader::parse(head);
    if h.kind == kind::SETTINGS && h.stream == 0 && h.length.is_multiple_of(6) {
        FirstBytes::Undecided
    } else {
        FirstBytes::Other
    }
}

/// Frames in a row, after a boundary was found, that make a joined connection HTTP/2.
pub const JOINED_FRAMES: u32 = 4;
/// Octets a joined connection is read for before it is left to HTTP/1.
pub const JOINED_WINDOW: u64 = 64 * 1024;

/// Reads a joined connection's bytes as HTTP/2 frames, without decoding them.
#[derive(Debug)]
pub struct JoinedSniffer {
    readers: [FrameReader; 2],
    in_a_row: [u32; 2],
    seen: u64,
    events: Vec<ReadEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    Http2,
    NotHttp2,
    Undecided,
}

impl Default for JoinedSniffer {
    fn default() -> Self {
        // Only frames a peer could send on a real connection: within the default frame size.
        let limits = reader::Limits {
            max_frame_size: crate::http2::frame::DEFAULT_MAX_FRAME_SIZE,
            ..reader::Limits::default()
        };
        JoinedSniffer {
            readers: [
                FrameReader::new(Start::Unknown, limits),
                FrameReader::new(Start::Unknown, limits),
            ],
            in_a_row: [0; 2],
            seen: 0,
            events: Vec::new(),
        }
    }
}

impl JoinedSniffer {
    pub fn data(&mut self, dir: Direction, bytes: &[u8]) -> Sniff {
        self.seen += bytes.len() as u64;
        let i = dir.index();
        self.readers[i].push(bytes, &mut self.events);
        for ev in self.events.drain(..) {
            match ev {
                ReadEvent::Frame(_) => self.in_a_row[i] += 1,
                ReadEvent::Resynced { .. } => {}
                _ => self.in_a_row[i] = 0,
            }
        }
        if self.in_a_row[i] >= JOINED_FRAMES {
            Sniff::Http2
        } else if self.seen > JOINED_WINDOW {
            Sniff::NotHttp2
        } else {
            Sniff::Undecided
        }
    }

    pub fn gap(&mut self, dir: Direction, len: u64) {
        self.readers[dir.index()].gap(len);
        self.in_a_row[dir.index()] = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes() {
        assert_eq!(
            client_start(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            FirstBytes::Http2
        );
        assert_eq!(client_start(b"PRI * HT"), FirstBytes::Undecided);
        assert_eq!(client_start(b"GET / HTTP/1.1\r\n"), FirstBytes::Other);
        assert_eq!(
            server_start(b"\0\0\x06\x04\0\0\0\0\0"),
            FirstBytes::Undecided
        );
        assert_eq!(server_start(b"\0\0"), FirstBytes::Undecided);
        assert_eq!(server_start(b"HTTP/1.1 200 OK\r\n"), FirstBytes::Other);
        assert_eq!(server_start(b"220 smtp"), FirstBytes::Other);
    }

    #[test]
    fn text_is_never_taken_for_frames() {
        let mut s = JoinedSniffer::default();
        let text = b"GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n".repeat(2000);
        let mut last = Sniff::Undecided;
        for chunk in text.chunks(1000) {
            last = s.data(Direction::Egress, chunk);
            assert_ne!(last, Sniff::Http2);
        }
        assert_eq!(last, Sniff::NotHttp2);
    }

    #[test]
    fn frames_after_a_cut_are_found() {
        // The tail of a DATA frame, then PING, WINDOW_UPDATE, PING, PING, SETTINGS ack.
        let mut b = vec![7u8; 300];
        for _ in 0..3 {
            b.extend_from_slice(b"\0\0\x08\x06\0\0\0\0\0");
            b.extend_from_slice(&[1; 8]);
            b.extend_from_slice(b"\0\0\x04\x08\0\0\0\0\0\0\0\x01\0");
        }
        b.extend_from_slice(b"\0\0\0\x04\x01\0\0\0\0");
        let mut s = JoinedSniffer::default();
        assert_eq!(s.data(Direction::Ingress, &b), Sniff::Http2);
    }
}
