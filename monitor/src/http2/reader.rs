//! One direction of an HTTP/2 connection: bytes in any chunking, frames out. Memory is bounded
//! by one buffered frame; larger frames are skipped by length (still on boundaries), and after
//! a gap or an impossible header the reader resynchronises with `resync` instead of guessing.

use super::{
    frame::{self, Frame, FrameError, FrameHeader, HEADER_LEN},
    preface::{self, CLIENT_PREFACE, Preface},
    resync::{self, Scan},
};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest frame length accepted as in sync (the peers' SETTINGS_MAX_FRAME_SIZE, or the
    /// protocol's ceiling when unknown); a longer one means we lost the boundaries.
    pub max_frame_size: u32,
    /// Largest payload buffered and parsed; longer frames are skipped and reported.
    pub max_buffered: u32,
    /// Highest stream id resynchronisation accepts (see `resync::Bounds`).
    pub resync_max_stream: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: frame::MAX_FRAME_SIZE_LIMIT,
            max_buffered: 64 * 1024,
            resync_max_stream: 1 << 24,
        }
    }
}

/// Where a direction's bytes start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// A client's first byte: the preface comes first.
    ClientPreface,
    /// A server's first byte: frames from here.
    Frames,
    /// Somewhere inside the stream: find a boundary first.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEvent {
    Preface,
    Frame(Frame),
    /// The frame was delimited but its payload is malformed: it is lost, the boundaries are not.
    Malformed {
        header: FrameHeader,
        error: FrameError,
    },
    /// Longer than `max_buffered`: its payload is skipped unread. A HEADERS or CONTINUATION
    /// lost this way leaves the HPACK table unknown.
    Oversized(FrameHeader),
    /// The boundaries are lost: the client's first bytes were not the preface, or a header
    /// claimed an impossible length. Resynchronising follows.
    OutOfSync,
    /// A boundary was found again after `skipped` octets.
    Resynced {
        skipped: u64,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub frames: u64,
    pub malformed: u64,
    pub oversized: u64,
    pub out_of_sync: u64,
    pub gaps: u64,
    pub resyncs: u64,
    pub skipped_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preface,
    Frames,
    /// Payload octets of an oversized frame still to pass over.
    Skip(u64),
    Resync {
        skipped: u64,
    },
}

#[derive(Debug, Clone)]
pub struct FrameReader {
    buf: Vec<u8>,
    state: State,
    limits: Limits,
    counters: Counters,
}

impl FrameReader {
    pub fn new(start: Start, limits: Limits) -> Self {
        let state = match start {
            Start::ClientPreface => State::Preface,
            Start::Frames => State::Frames,
            Start::Unknown => State::Resync { skipped: 0 },
        };
        FrameReader {
            buf: Vec::new(),
            state,
            limits,
            counters: Counters::default(),
        }
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Octets held: never more than two frame headers and one buffered payload.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn cap(&self) -> usize {
        2 * HEADER_LEN + self.limits.max_buffered as usize
    }

    /// Reads `bytes`, appending what they complete to `out`. The events depend only on the
    /// bytes, not on how they were split: input is taken in no more than the buffer holds,
    /// and every decision waits for the bytes it needs.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<ReadEvent>) {
        loop {
            if let State::Skip(left) = self.state {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                bytes = &bytes[n..];
                let left = left - n as u64;
                self.state = if left == 0 {
                    State::Frames
                } else {
                    State::Skip(left)
                };
                if left > 0 {
                    return;
                }
            }
            let take = (self.cap() - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            self.process(out);
            if bytes.is_empty() {
                return;
            }
        }
    }

    /// `len` octets of this direction were lost.
    pub fn gap(&mut self, len: u64) {
        self.counters.gaps += 1;
        // Inside a skipped payload a gap changes nothing: the next boundary is still known.
        if let State::Skip(left) = self.state
            && len < left
        {
            self.state = State::Skip(left - len);
            return;
        }
        let skipped = self.buf.len() as u64;
        self.buf.clear();
        self.state = State::Resync { skipped };
    }

    /// Handles what the buffer holds until it needs more bytes.
    fn process(&mut self, out: &mut Vec<ReadEvent>) {
        let mut at = 0;
        loop {
            let rest = &self.buf[at..];
            match self.state {
                State::Skip(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    at += n;
                    let left = left - n as u64;
                    if left > 0 {
                        self.state = State::Skip(left);
                        break;
                    }
                    self.state = State::Frames;
                }
                State::Preface => match preface::detect(rest) {
                    Preface::Complete => {
                        at += CLIENT_PREFACE.len();
                        out.push(ReadEvent::Preface);
                        self.state = State::Frames;
                    }
                    Preface::Partial => break,
                    Preface::Absent => self.lose_sync(out),
                },
                State::Resync { skipped } => {
                    let bounds = resync::Bounds {
                        max_len: self.limits.max_frame_size.min(self.limits.max_buffered),
                        max_stream: self.limits.resync_max_stream,
                    };
                    match resync::scan(rest, bounds) {
                        Scan::Found(n) => {
                            at += n;
                            let skipped = skipped + n as u64;
                            self.counters.resyncs += 1;
                            self.counters.skipped_bytes += skipped;
                            out.push(ReadEvent::Resynced { skipped });
                            self.state = State::Frames;
                        }
                        Scan::NotBefore(n) => {
                            at += n;
                            self.state = State::Resync {
                                skipped: skipped + n as u64,
                            };
                            break;
                        }
                    }
                }
                State::Frames => {
                    let Some(head) = rest.first_chunk::<HEADER_LEN>() else {
                        break;
                    };
                    let h = FrameHeader::parse(head);
                    if h.length > self.limits.max_frame_size {
                        self.lose_sync(out);
                        continue;
                    }
                    if h.length > self.limits.max_buffered {
                        at += HEADER_LEN;
                        self.counters.oversized += 1;
                        out.push(ReadEvent::Oversized(h));
                        self.state = State::Skip(u64::from(h.length));
                        continue;
                    }
                    let end = HEADER_LEN + h.length as usize;
                    let Some(payload) = rest.get(HEADER_LEN..end) else {
                        break;
                    };
                    match frame::parse(&h, payload) {
                        Ok(f) => {
                            self.counters.frames += 1;
                            out.push(ReadEvent::Frame(f));
                        }
                        Err(error) => {
                            self.counters.malformed += 1;
                            out.push(ReadEvent::Malformed { header: h, error });
                        }
                    }
                    at += end;
                }
            }
        }
        self.buf.drain(..at);
    }

    fn lose_sync(&mut self, out: &mut Vec<ReadEvent>) {
        self.counters.out_of_sync += 1;
        out.push(ReadEvent::OutOfSync);
        self.state = State::Resync { skipped: 0 };
    }
}
