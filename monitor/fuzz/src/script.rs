//! The fuzz input format (documented at the top of `fuzz_targets/http1_stream.rs`): decoding
//! bytes into a connection script, and encoding scripts for the seed corpus.

use monitor::conn::{Direction, Role, model::Attribution};

/// Time added per step of an op's time bits: 31 steps ≈ 1.5 s, past the fuzzed 1 s response
/// timeout, so a few ops are enough to reach timeouts.
pub const STEP_NS: u64 = 50_000_000;

/// Longest length a record can carry (15 bits).
pub const MAX_LEN: usize = 0x7fff;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub role: Role,
    pub attribution: Attribution,
    /// The connection's addresses are known (renderers show client and server).
    pub endpoints: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Data(Direction),
    Gap(Direction),
    Tick,
    Close { shutdown_reason: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op<'a> {
    /// Time steps (of `STEP_NS`) before this op happens.
    pub wait: u8,
    pub kind: Kind,
    /// Payload of a data op (may be shorter than asked when the input ends).
    pub bytes: &'a [u8],
    /// Length of a gap op.
    pub gap_len: u64,
}

/// Reads the header byte; None for an empty input.
pub fn header(input: &[u8]) -> Option<(Header, &[u8])> {
    let (&first, rest) = input.split_first()?;
    let role = match first & 0b11 {
        0 => Role::Client,
        1 => Role::Server,
        _ => Role::Unknown,
    };
    let attribution = match (first >> 2) & 0b11 {
        0 => Attribution::Kernel,
        1 => Attribution::Proc,
        _ => Attribution::Unresolved,
    };
    let endpoints = first & 0b1_0000 != 0;
    Some((
        Header {
            role,
            attribution,
            endpoints,
        },
        rest,
    ))
}

/// Iterates over the ops after the header; stops at the end of the input.
pub struct Ops<'a> {
    rest: &'a [u8],
}

impl<'a> Ops<'a> {
    pub fn new(rest: &'a [u8]) -> Self {
        Self { rest }
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    /// One byte below 0x80 is the length; otherwise its low 7 bits and the next byte are.
    fn len(&mut self) -> usize {
        let Some(first) = self.byte() else { return 0 };
        if first & 0x80 == 0 {
            return usize::from(first);
        }
        let low = self.byte().unwrap_or(0);
        usize::from(first & 0x7f) << 8 | usize::from(low)
    }
}

impl<'a> Iterator for Ops<'a> {
    type Item = Op<'a>;

    fn next(&mut self) -> Option<Op<'a>> {
        let op = self.byte()?;
        let wait = op >> 3;
        let dir = if op & 1 == 0 {
            Direction::Egress
        } else {
            Direction::Ingress
        };
        let mut out = Op {
            wait,
            kind: Kind::Tick,
            bytes: &[],
            gap_len: 0,
        };
        match op & 0b111 {
            0 | 1 | 6 | 7 => {
                let n = self.len().min(self.rest.len());
                let (bytes, rest) = self.rest.split_at(n);
                self.rest = rest;
                out.kind = Kind::Data(dir);
                out.bytes = bytes;
            }
            2 | 3 => {
                out.kind = Kind::Gap(dir);
                out.gap_len = self.len() as u64;
            }
            4 => {}
            _ => {
                out.kind = Kind::Close {
                    shutdown_reason: wait & 1 == 1,
                }
            }
        }
        Some(out)
    }
}

/// Builds inputs in this format (the seed corpus).
pub struct Encoder {
    out: Vec<u8>,
    wait: u8,
}

impl Encoder {
    pub fn new(header: Header) -> Self {
        let role = match header.role {
            Role::Client => 0,
            Role::Server => 1,
            Role::Unknown => 2,
        };
        let attribution = match header.attribution {
            Attribution::Kernel => 0,
            Attribution::Proc => 1,
            Attribution::Unresolved => 2,
        };
        let endpoints = if header.endpoints { 0b1_0000 } else { 0 };
        Self {
            out: vec![role | attribution << 2 | endpoints],
            wait: 0,
        }
    }

    /// The next op happens `steps` × `STEP_NS` later (at most 31).
    pub fn wait(mut self, steps: u8) -> Self {
        self.wait = steps.min(31);
        self
    }

    fn op(&mut self, code: u8) {
        self.out.push(self.wait << 3 | code);
        self.wait = 0;
    }

    fn len(&mut self, n: usize) {
        if n < 0x80 {
            self.out.push(n as u8);
        } else {
            self.out.push(0x80 | (n >> 8) as u8);
            self.out.push(n as u8);
        }
    }

    /// Bytes moved in one direction, as one data record per `MAX_LEN` bytes.
    pub fn data(mut self, dir: Direction, bytes: &[u8]) -> Self {
        for part in bytes.chunks(MAX_LEN) {
            self.op(dir_bit(dir));
            self.len(part.len());
            self.out.extend_from_slice(part);
        }
        self
    }

    /// Bytes written by the observed process.
    pub fn egress(self, bytes: &[u8]) -> Self {
        self.data(Direction::Egress, bytes)
    }

    /// Bytes read by the observed process.
    pub fn ingress(self, bytes: &[u8]) -> Self {
        self.data(Direction::Ingress, bytes)
    }

    pub fn gap(mut self, dir: Direction, len: usize) -> Self {
        self.op(2 | dir_bit(dir));
        self.len(len.min(MAX_LEN));
        self
    }

    pub fn tick(mut self) -> Self {
        self.op(4);
        self
    }

    /// Ends the script with a close event (otherwise the stage is shut down).
    pub fn close(mut self, shutdown_reason: bool) -> Vec<u8> {
        // The reason rides on the lowest time bit.
        self.wait = (self.wait & !1) | u8::from(shutdown_reason);
        self.op(5);
        self.out
    }

    /// Ends the script without a close: the stage is shut down.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

fn dir_bit(dir: Direction) -> u8 {
    match dir {
        Direction::Egress => 0,
        Direction::Ingress => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        let big = vec![b'x'; MAX_LEN + 10];
        let h = Header {
            role: Role::Server,
            attribution: Attribution::Proc,
            endpoints: true,
        };
        let input = Encoder::new(h)
            .ingress(b"GET / HTTP/1.1\r\n\r\n")
            .wait(21)
            .tick()
            .gap(Direction::Egress, 300)
            .egress(&big)
            .wait(3)
            .close(false);
        let (got, rest) = header(&input).unwrap();
        assert_eq!(got, h);
        let ops: Vec<Op> = Ops::new(rest).collect();
        let kinds: Vec<Kind> = ops.iter().map(|o| o.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Data(Direction::Ingress),
                Kind::Tick,
                Kind::Gap(Direction::Egress),
                Kind::Data(Direction::Egress),
                Kind::Data(Direction::Egress),
                Kind::Close {
                    shutdown_reason: false
                },
            ]
        );
        assert_eq!(ops[0].bytes, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(ops[1].wait, 21);
        assert_eq!(ops[2].gap_len, 300);
        assert_eq!(ops[3].bytes.len() + ops[4].bytes.len(), big.len());
        assert_eq!(ops[5].wait, 2);
    }
}
