//! One HTTP/2 frame (RFC 9113 §4.1, §6): the 9-octet header and each type's payload, with
//! padding removed and fixed lengths checked. Unknown types are kept as such (§4.1: ignored).

/// Octets in a frame header.
pub const HEADER_LEN: usize = 9;
/// The protocol's ceiling on SETTINGS_MAX_FRAME_SIZE (§6.5.2): 2^24 - 1.
pub const MAX_FRAME_SIZE_LIMIT: u32 = (1 << 24) - 1;
/// The initial SETTINGS_MAX_FRAME_SIZE.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;

pub mod kind {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const PRIORITY: u8 = 0x2;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PUSH_PROMISE: u8 = 0x5;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const WINDOW_UPDATE: u8 = 0x8;
    pub const CONTINUATION: u8 = 0x9;
}

pub mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// SETTINGS identifiers this monitor uses (§6.5.2).
pub mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub length: u32,
    pub kind: u8,
    pub flags: u8,
    /// The reserved bit is dropped (§4.1: ignored on receipt).
    pub stream: u32,
}

impl FrameHeader {
    pub fn parse(b: &[u8; HEADER_LEN]) -> Self {
        FrameHeader {
            length: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    pub exclusive: bool,
    pub depends_on: u32,
    /// As sent: the weight is this plus one.
    pub weight: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Data {
        stream: u32,
        end_stream: bool,
        data: Vec<u8>,
    },
    Headers {
        stream: u32,
        end_stream: bool,
        end_headers: bool,
        priority: Option<Priority>,
        fragment: Vec<u8>,
    },
    Priority {
        stream: u32,
        priority: Priority,
    },
    RstStream {
        stream: u32,
        code: u32,
    },
    Settings {
        ack: bool,
        params: Vec<(u16, u32)>,
    },
    PushPromise {
        stream: u32,
        end_headers: bool,
        promised: u32,
        fragment: Vec<u8>,
    },
    Ping {
        ack: bool,
        data: [u8; 8],
    },
    GoAway {
        last_stream: u32,
        code: u32,
        debug: Vec<u8>,
    },
    WindowUpdate {
        stream: u32,
        increment: u32,
    },
    Continuation {
        stream: u32,
        end_headers: bool,
        fragment: Vec<u8>,
    },
    /// A type this monitor does not know: skipped, as §4.1 requires.
    Unknown {
        kind: u8,
        stream: u32,
        length: u32,
    },
}

/// Why a frame's payload is malformed. The frame's length was honoured, so the reader stays
/// on frame boundaries: only this frame is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("padding longer than the payload (type {kind})")]
    Padding { kind: u8 },
    #[error("type {kind} with a payload of {length} octets, which it cannot have")]
    Length { kind: u8, length: u32 },
    #[error("type {kind} on stream {stream}, where it cannot be")]
    Stream { kind: u8, stream: u32 },
}

/// Parses a payload of `header.length` octets.
pub fn parse(header: &FrameHeader, payload: &[u8]) -> Result<Frame, FrameError> {
    let h = header;
    let bad_len = FrameError::Length {
        kind: h.kind,
        length: h.length,
    };
    let bad_stream = FrameError::Stream {
        kind: h.kind,
        stream: h.stream,
    };
    let needs_stream = |f: Frame| {
        if h.stream == 0 {
            Err(bad_stream)
        } else {
            Ok(f)
        }
    };
    let on_zero = |f: Frame| {
        if h.stream != 0 {
            Err(bad_stream)
        } else {
            Ok(f)
        }
    };
    match h.kind {
        kind::DATA => {
            let data = unpad(h, payload)?;
            needs_stream(Frame::Data {
                stream: h.stream,
                end_stream: h.has(flag::END_STREAM),
                data: data.to_vec(),
            })
        }
        kind::HEADERS => {
            let mut rest = unpad(h, payload)?;
            let priority = if h.has(flag::PRIORITY) {
                let (p, r) = rest.split_at_checked(5).ok_or(bad_len)?;
                rest = r;
                Some(priority(p))
            } else {
                None
            };
            needs_stream(Frame::Headers {
                stream: h.stream,
                end_stream: h.has(flag::END_STREAM),
                end_headers: h.has(flag::END_HEADERS),
                priority,
                fragment: rest.to_vec(),
            })
        }
        kind::PRIORITY => {
            if payload.len() != 5 {
                return Err(bad_len);
            }
            needs_stream(Frame::Priority {
                stream: h.stream,
                priority: priority(payload),
            })
        }
        kind::RST_STREAM => {
            let code = u32_at(payload, 0)
                .filter(|_| payload.len() == 4)
                .ok_or(bad_len)?;
            needs_stream(Frame::RstStream {
                stream: h.stream,
                code,
            })
        }
        kind::SETTINGS => {
            let ack = h.has(flag::ACK);
            if !payload.len().is_multiple_of(6) || (ack && !payload.is_empty()) {
                return Err(bad_len);
            }
            let params = payload
                .chunks_exact(6)
                .map(|c| {
                    (
                        u16::from_be_bytes([c[0], c[1]]),
                        u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                    )
                })
                .collect();
            on_zero(Frame::Settings { ack, params })
        }
        kind::PUSH_PROMISE => {
            let rest = unpad(h, payload)?;
            let promised = u32_at(rest, 0).ok_or(bad_len)? & 0x7fff_ffff;
            needs_stream(Frame::PushPromise {
                stream: h.stream,
                end_headers: h.has(flag::END_HEADERS),
                promised,
                fragment: rest.get(4..).unwrap_or_default().to_vec(),
            })
        }
        kind::PING => {
            let data: [u8; 8] = payload.try_into().map_err(|_| bad_len)?;
            on_zero(Frame::Ping {
                ack: h.has(flag::ACK),
                data,
            })
        }
        kind::GOAWAY => {
            let last_stream = u32_at(payload, 0).ok_or(bad_len)? & 0x7fff_ffff;
            let code = u32_at(payload, 4).ok_or(bad_len)?;
            on_zero(Frame::GoAway {
                last_stream,
                code,
                debug: payload.get(8..).unwrap_or_default().to_vec(),
            })
        }
        kind::WINDOW_UPDATE => {
            let increment = u32_at(payload, 0)
                .filter(|_| payload.len() == 4)
                .ok_or(bad_len)?
                & 0x7fff_ffff;
            Ok(Frame::WindowUpdate {
                stream: h.stream,
                increment,
            })
        }
        kind::CONTINUATION => needs_stream(Frame::Continuation {
            stream: h.stream,
            end_headers: h.has(flag::END_HEADERS),
            fragment: payload.to_vec(),
        }),
        other => Ok(Frame::Unknown {
            kind: other,
            stream: h.stream,
            length: h.length,
        }),
    }
}

/// Strips the Pad Length octet and the padding (§6.1) when PADDED is set.
fn unpad<'a>(h: &FrameHeader, payload: &'a [u8]) -> Result<&'a [u8], FrameError> {
    if !h.has(flag::PADDED) {
        return Ok(payload);
    }
    let bad = FrameError::Padding { kind: h.kind };
    let (&pad, rest) = payload.split_first().ok_or(bad)?;
    let keep = rest.len().checked_sub(usize::from(pad)).ok_or(bad)?;
    Ok(&rest[..keep])
}

fn priority(p: &[u8]) -> Priority {
    let dep = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    Priority {
        exclusive: dep & 0x8000_0000 != 0,
        depends_on: dep & 0x7fff_ffff,
        weight: p[4],
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Serialises a frame header, for tests and seeds.
pub fn header_bytes(h: &FrameHeader) -> [u8; HEADER_LEN] {
    let l = h.length.to_be_bytes();
    let s = h.stream.to_be_bytes();
    [l[1], l[2], l[3], h.kind, h.flags, s[0], s[1], s[2], s[3]]
}
