//! The chunked transfer coding (RFC 9112 §7.1) as an incremental decoder with bounded state:
//! size lines and trailers are capped, chunk data is streamed out and never buffered here.

use super::{chunk_line, start_line};
use crate::transaction::{Flag, Flags, Headers};

/// Longest chunk-size line kept (size, extensions); longer is invalid.
const MAX_SIZE_LINE: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Size,
    Data {
        remaining: u64,
    },
    /// After chunk data: expecting CRLF; `cr` once the CR was read.
    DataEnd {
        cr: bool,
    },
    Trailers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    NeedMore,
    /// The last chunk and trailers were read.
    Done(Headers),
    /// The framing is broken: the message's end cannot be known.
    Invalid(Flag),
}

#[derive(Debug, Clone)]
pub struct Chunked {
    state: State,
    /// Partial size line or trailer section.
    line: Vec<u8>,
    max_trailers: usize,
    pub flags: Flags,
}

impl Chunked {
    pub fn new(max_trailers: usize) -> Self {
        Self {
            state: State::Size,
            line: Vec::new(),
            max_trailers,
            flags: Flags::empty(),
        }
    }

    /// Bytes of chunk data still expected in the current chunk.
    pub fn data_remaining(&self) -> Option<u64> {
        match self.state {
            State::Data { remaining } => Some(remaining),
            _ => None,
        }
    }

    /// Skips `n` bytes of chunk data (a gap); only valid within `data_remaining`.
    pub fn skip_data(&mut self, n: u64) {
        if let State::Data { remaining } = &mut self.state {
            *remaining = remaining.saturating_sub(n);
            if *remaining == 0 {
                self.state = State::DataEnd { cr: false };
            }
        }
    }

    /// Decodes from `input`, handing chunk data to `body`. Returns the bytes consumed; on
    /// `Done` and `Invalid` the bytes after the message (or the bad byte) are not consumed.
    pub fn feed(&mut self, input: &[u8], body: &mut impl FnMut(&[u8])) -> (usize, Status) {
        let mut at = 0;
        while at < input.len() {
            let rest = &input[at..];
            match self.state {
                State::Size => match memchr::memchr(b'\n', rest) {
                    None => {
                        if self.line.len() + rest.len() > MAX_SIZE_LINE {
                            return (at, Status::Invalid(Flag::InvalidChunkSize));
                        }
                        self.line.extend_from_slice(rest);
                        at = input.len();
                    }
                    Some(i) => {
                        if self.line.len() + i > MAX_SIZE_LINE {
                            return (at, Status::Invalid(Flag::InvalidChunkSize));
                        }
                        self.line.extend_from_slice(&rest[..i]);
                        at += i + 1;
                        let Some(size) = self.size_line() else {
                            return (at, Status::Invalid(Flag::InvalidChunkSize));
                        };
                        self.line.clear();
                        self.state = if size == 0 {
                            State::Trailers
                        } else {
                            State::Data { remaining: size }
                        };
                    }
                },
                State::Data { remaining } => {
                    let n = (remaining.min(rest.len() as u64)) as usize;
                    body(&rest[..n]);
                    at += n;
                    self.skip_data(n as u64);
                }
                State::DataEnd { cr } => match rest[0] {
                    b'\r' if !cr => {
                        at += 1;
                        self.state = State::DataEnd { cr: true };
                    }
                    b'\n' => {
                        if !cr {
                            self.flags.set(Flag::BareLf);
                        }
                        at += 1;
                        self.state = State::Size;
                    }
                    _ => return (at, Status::Invalid(Flag::InvalidChunkSize)),
                },
                State::Trailers => {
                    let Some(i) = memchr::memchr(b'\n', rest) else {
                        if self.line.len() + rest.len() > self.max_trailers {
                            return (at, Status::Invalid(Flag::HeaderTooLarge));
                        }
                        self.line.extend_from_slice(rest);
                        return (input.len(), Status::NeedMore);
                    };
                    if self.line.len() + i > self.max_trailers {
                        return (at, Status::Invalid(Flag::HeaderTooLarge));
                    }
                    self.line.extend_from_slice(&rest[..=i]);
                    at += i + 1;
                    if let Some(trailers) = self.trailers_done() {
                        return (at, Status::Done(trailers));
                    }
                }
            }
        }
        (at, Status::NeedMore)
    }

    /// Parses the size line in `self.line` (without its '\n'), keeping what is irregular.
    fn size_line(&mut self) -> Option<u64> {
        let (size, flags) = chunk_line::parse(&self.line)?;
        self.flags = self.flags.union(flags);
        Some(size)
    }

    /// When the trailer section in `self.line` ends with an empty line, its fields.
    fn trailers_done(&mut self) -> Option<Headers> {
        let text = &self.line;
        let ended = text == b"\r\n"
            || text == b"\n"
            || text.ends_with(b"\n\r\n")
            || text.ends_with(b"\n\n");
        if !ended {
            return None;
        }
        let mut headers = Headers::default();
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', text) {
            let line = &text[start..nl];
            start = nl + 1;
            let line = match line.strip_suffix(b"\r") {
                Some(l) => l,
                None => {
                    self.flags.set(Flag::BareLf);
                    line
                }
            };
            if line.is_empty() {
                continue;
            }
            self.flags = self.flags.union(trailer_line_flags(line));
            if let Some(colon) = memchr::memchr(b':', line)
                && let Ok(name) = std::str::from_utf8(line[..colon].trim_ascii())
            {
                headers.push(name, line[colon + 1..].trim_ascii());
            }
        }
        self.line.clear();
        Some(headers)
    }
}

/// What is irregular about one trailer line (without its line end), as for a head's field
/// lines (RFC 9112 §5): such lines are still read the lenient way (a line that is no field is
/// dropped), and flagged.
fn trailer_line_flags(line: &[u8]) -> Flags {
    let mut flags = Flags::empty();
    if memchr::memchr(b'\r', line).is_some() {
        flags.set(Flag::BareCr);
    }
    if matches!(line[0], b' ' | b'\t') {
        return flags.with(Flag::ObsFold);
    }
    let Some(colon) = memchr::memchr(b':', line) else {
        return flags.with(Flag::InvalidTrailer);
    };
    let name = &line[..colon];
    let trimmed = name.trim_ascii_end();
    if trimmed.len() < name.len() {
        flags.set(Flag::WhitespaceBeforeColon);
    }
    if trimmed.is_empty() || !trimmed.iter().all(|&b| start_line::is_tchar(b)) {
        flags.set(Flag::InvalidTrailer);
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8]) -> (Vec<u8>, usize, Status) {
        let mut c = Chunked::new(1024);
        let mut body = Vec::new();
        let (n, s) = c.feed(input, &mut |d| body.extend_from_slice(d));
        (body, n, s)
    }

    #[test]
    fn decodes_chunks_and_trailers() {
        let input = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
        let (body, n, s) = decode(input);
        assert_eq!(body, b"hello world");
        assert_eq!(&input[n..], b"NEXT");
        let Status::Done(t) = s else { panic!("{s:?}") };
        assert_eq!(t.get_str("x-sum"), Some("1"));
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"a\r\n0123456789\r\n0\r\n\r\n";
        let mut c = Chunked::new(1024);
        let mut body = Vec::new();
        let mut done = false;
        for b in input.iter() {
            let (n, s) = c.feed(std::slice::from_ref(b), &mut |d| body.extend_from_slice(d));
            assert_eq!(n, 1);
            done = matches!(s, Status::Done(_));
        }
        assert!(done);
        assert_eq!(body, b"0123456789");
    }

    #[test]
    fn rejects_bad_sizes() {
        for bad in [
            &b"zz\r\n"[..],
            b"-1\r\n",
            b"1 2\r\n",
            b"ffffffffffffffffff\r\n",
            b"\r\n",
        ] {
            assert_eq!(
                decode(bad).2,
                Status::Invalid(Flag::InvalidChunkSize),
                "{bad:?}"
            );
        }
        assert_eq!(
            decode(b"1\r\nxy").2,
            Status::Invalid(Flag::InvalidChunkSize)
        );
        let long = vec![b'1'; MAX_SIZE_LINE + 10];
        assert_eq!(decode(&long).2, Status::Invalid(Flag::InvalidChunkSize));
    }

    #[test]
    fn irregular_trailers_are_read_and_flagged() {
        let mut c = Chunked::new(1024);
        let input = b"0\r\nX-A : 1\nnot a field\r\n folded\r\nB(: 2\r\nX-C: 3\r4\r\n\r\n";
        let (n, s) = c.feed(input, &mut |_| {});
        assert_eq!(n, input.len());
        let Status::Done(t) = s else { panic!("{s:?}") };
        assert_eq!(t.get_str("x-a"), Some("1"));
        assert_eq!(t.get_str("x-c"), Some("3\r4"));
        let names: Vec<&str> = c.flags.iter().map(Flag::name).collect();
        assert_eq!(
            names,
            [
                "whitespace_before_colon",
                "obs_fold",
                "bare_lf",
                "bare_cr",
                "invalid_trailer"
            ]
        );
    }

    #[test]
    fn endless_chunk_streams_without_buffering() {
        let mut c = Chunked::new(1024);
        let mut seen = 0usize;
        let (n, s) = c.feed(b"fffffffffff\r\n", &mut |_| {});
        assert_eq!((n, s), (13, Status::NeedMore));
        let block = vec![0u8; 65536];
        for _ in 0..64 {
            let (n, s) = c.feed(&block, &mut |d| seen += d.len());
            assert_eq!((n, s), (block.len(), Status::NeedMore));
        }
        assert_eq!(seen, 64 * 65536);
        assert_eq!(c.line.capacity(), c.line.capacity().min(MAX_SIZE_LINE + 64));
    }
}
