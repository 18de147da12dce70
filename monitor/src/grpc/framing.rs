//! gRPC's length-prefixed messages (1-byte flags, 4-byte big-endian length, the message) cut
//! out of one direction's body, incrementally: DATA frames may split a message anywhere.
//! Bounded: a message over the cap is counted and skipped, never buffered.

/// Flag bit 0: the message is compressed with the stream's `grpc-encoding`.
const COMPRESSED: u8 = 0x01;
/// Flag bit 7 (grpc-web only): the frame carries the trailers, not a message.
const TRAILERS: u8 = 0x80;
/// Octets before each message.
pub const PREFIX_LEN: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest message kept; longer ones are counted in `oversized` and skipped.
    pub max_message: usize,
    /// Whether a flags byte with bit 7 set is a grpc-web trailers frame.
    pub web: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 1 << 20,
            web: false,
        }
    }
}

/// One whole message as sent (still compressed when `compressed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub compressed: bool,
    pub bytes: Vec<u8>,
}

/// What a reader produces, in body order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    Message(Message),
    /// A grpc-web trailers frame's payload (HTTP/1-style `name: value` lines).
    Trailers(Vec<u8>),
}

/// What a body held, for counters and flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Messages whose prefix was read in full, kept or skipped (grpc-web trailers excluded).
    pub messages: u64,
    /// Of those, messages with the compressed flag.
    pub compressed: u64,
    /// Messages (or trailers frames) longer than `max_message`: skipped.
    pub oversized: u64,
    /// Prefixes whose flags byte has bits no gRPC sender sets (read as bit 0 says).
    pub invalid_flags: u64,
    /// grpc-web trailers frames.
    pub trailers: u64,
    /// The body ended inside a prefix or a message (`finish` was called mid-message).
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading a prefix: `have` octets of it so far.
    Prefix {
        prefix: [u8; PREFIX_LEN],
        have: usize,
    },
    /// Collecting a kept frame; `remaining` octets still to come.
    Body {
        flags: u8,
        bytes: Vec<u8>,
        remaining: usize,
    },
    /// Skipping an oversized frame.
    Skip { remaining: usize },
}

/// Cuts one direction's body into messages; feed it every DATA payload in order.
#[derive(Debug, Clone)]
pub struct MessageReader {
    limits: Limits,
    state: State,
    counts: Counts,
    /// Messages handed out whole (`u64::MAX`: all); later ones are counted and skipped.
    keep_messages: u64,
    /// Longest frame handed out (`max_message`, or less for a tally).
    max_kept: usize,
}

impl MessageReader {
    pub fn new(limits: Limits) -> Self {
        MessageReader {
            limits,
            state: State::Prefix {
                prefix: [0; PREFIX_LEN],
                have: 0,
            },
            counts: Counts::default(),
            keep_messages: u64::MAX,
            max_kept: limits.max_message,
        }
    }

    /// A reader that hands out only the first message (when it is at most `max_kept` octets)
    /// and grpc-web trailers frames (as long); every other message is counted and skipped, so
    /// it holds at most `max_kept` octets whatever the stream carries. What a tally of a
    /// whole stream uses.
    pub fn first_only(limits: Limits, max_kept: usize) -> Self {
        MessageReader {
            keep_messages: 1,
            max_kept: max_kept.min(limits.max_message),
            ..Self::new(limits)
        }
    }

    /// Reads `chunk`, appending every frame it completes to `out`. Holds at most one
    /// prefix or one message of at most `max_message` octets between calls.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<Framed>) {
        while !chunk.is_empty() {
            match &mut self.state {
                State::Prefix { prefix, have } => {
                    let take = (PREFIX_LEN - *have).min(chunk.len());
                    prefix[*have..*have + take].copy_from_slice(&chunk[..take]);
                    *have += take;
                    chunk = &chunk[take..];
                    if *have == PREFIX_LEN {
                        let prefix = *prefix;
                        self.start(prefix, out);
                    }
                }
                State::Body {
                    bytes, remaining, ..
                } => {
                    let take = (*remaining).min(chunk.len());
                    bytes.extend_from_slice(&chunk[..take]);
                    *remaining -= take;
                    chunk = &chunk[take..];
                    if *remaining == 0 {
                        self.complete(out);
                    }
                }
                State::Skip { remaining } => {
                    let take = (*remaining).min(chunk.len());
                    *remaining -= take;
                    chunk = &chunk[take..];
                    if *remaining == 0 {
                        self.state = Self::prefix();
                    }
                }
            }
        }
    }

    /// The body ended: what it held. A message still open is dropped and flagged truncated.
    pub fn finish(self) -> Counts {
        self.counts_at_end()
    }

    /// What `finish` would say if the body ended here.
    pub fn counts_at_end(&self) -> Counts {
        let open = match &self.state {
            State::Prefix { have, .. } => *have > 0,
            State::Body { .. } | State::Skip { .. } => true,
        };
        Counts {
            truncated: self.counts.truncated || open,
            ..self.counts
        }
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Octets held for an incomplete frame (at most `max_message`).
    pub fn buffered(&self) -> usize {
        match &self.state {
            State::Prefix { have, .. } => *have,
            State::Body { bytes, .. } => bytes.len(),
            State::Skip { .. } => 0,
        }
    }

    fn prefix() -> State {
        State::Prefix {
            prefix: [0; PREFIX_LEN],
            have: 0,
        }
    }

    fn start(&mut self, prefix: [u8; PREFIX_LEN], out: &mut Vec<Framed>) {
        let flags = prefix[0];
        // A u32 always fits a usize on the 32- and 64-bit targets this agent runs on; if it did
        // not, the frame is too big to keep anyway.
        let len = usize::try_from(u32::from_be_bytes([
            prefix[1], prefix[2], prefix[3], prefix[4],
        ]))
        .unwrap_or(usize::MAX);
        let trailers = self.limits.web && flags & TRAILERS != 0;
        let known = if self.limits.web {
            COMPRESSED | TRAILERS
        } else {
            COMPRESSED
        };
        if flags & !known != 0 {
            self.counts.invalid_flags += 1;
        }
        if trailers {
            self.counts.trailers += 1;
        } else {
            self.counts.messages += 1;
            if flags & COMPRESSED != 0 {
                self.counts.compressed += 1;
            }
        }
        if len > self.limits.max_message {
            self.counts.oversized += 1;
            self.state = State::Skip { remaining: len };
            return;
        }
        let wanted = trailers || self.counts.messages <= self.keep_messages;
        if !wanted || len > self.max_kept {
            // An empty message skipped is done with: a `Skip` of nothing would read as open.
            self.state = if len == 0 {
                Self::prefix()
            } else {
                State::Skip { remaining: len }
            };
            return;
        }
        self.state = State::Body {
            flags,
            bytes: Vec::with_capacity(len.min(64 * 1024)),
            remaining: len,
        };
        if len == 0 {
            self.complete(out);
        }
    }

    fn complete(&mut self, out: &mut Vec<Framed>) {
        if let State::Body { flags, bytes, .. } = std::mem::replace(&mut self.state, Self::prefix())
        {
            if self.limits.web && flags & TRAILERS != 0 {
                out.push(Framed::Trailers(bytes));
            } else {
                out.push(Framed::Message(Message {
                    compressed: flags & COMPRESSED != 0,
                    bytes,
                }));
            }
        }
    }
}

/// Reads a whole body at once: its frames and counts.
pub fn read_all(body: &[u8], limits: Limits) -> (Vec<Framed>, Counts) {
    let mut reader = MessageReader::new(limits);
    let mut out = Vec::new();
    reader.push(body, &mut out);
    (out, reader.finish())
}

/// Frames `message` as a sender does (for tests and fuzz seeds).
pub fn encode(compressed: bool, message: &[u8], out: &mut Vec<u8>) {
    out.push(u8::from(compressed));
    // Test inputs are far below 4 GiB; a longer one is framed with its length cut, which a
    // reader then reads as a shorter message.
    out.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(max_message: usize) -> Limits {
        Limits {
            max_message,
            web: false,
        }
    }

    fn messages(frames: &[Framed]) -> Vec<&[u8]> {
        frames
            .iter()
            .filter_map(|f| match f {
                Framed::Message(m) => Some(m.bytes.as_slice()),
                Framed::Trailers(_) => None,
            })
            .collect()
    }

    #[test]
    fn reads_messages_and_their_flags() {
        let mut body = Vec::new();
        encode(false, b"hello", &mut body);
        encode(true, b"zipped", &mut body);
        encode(false, b"", &mut body);
        let (frames, counts) = read_all(&body, Limits::default());
        assert_eq!(messages(&frames), [&b"hello"[..], b"zipped", b""]);
        let compressed: Vec<bool> = frames
            .iter()
            .map(|f| matches!(f, Framed::Message(m) if m.compressed))
            .collect();
        assert_eq!(compressed, [false, true, false]);
        assert_eq!(counts.messages, 3);
        assert_eq!(counts.compressed, 1);
        assert!(!counts.truncated);
    }

    #[test]
    fn oversized_messages_are_skipped_not_held() {
        let mut body = Vec::new();
        encode(false, &[7; 100], &mut body);
        encode(false, b"ok", &mut body);
        let mut reader = MessageReader::new(limits(10));
        let mut out = Vec::new();
        for piece in body.chunks(3) {
            reader.push(piece, &mut out);
            assert!(reader.buffered() <= 10);
        }
        let counts = reader.finish();
        assert_eq!(messages(&out), [&b"ok"[..]]);
        assert_eq!((counts.messages, counts.oversized), (2, 1));
    }

    #[test]
    fn a_huge_declared_length_costs_nothing() {
        let mut out = Vec::new();
        let mut reader = MessageReader::new(Limits::default());
        reader.push(&[0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3], &mut out);
        assert!(out.is_empty());
        assert_eq!(reader.buffered(), 0);
        let counts = reader.finish();
        assert_eq!(counts.oversized, 1);
        assert!(counts.truncated);
    }

    #[test]
    fn a_body_ending_mid_message_is_truncated() {
        let mut body = Vec::new();
        encode(false, b"whole", &mut body);
        encode(false, b"cut short", &mut body);
        body.truncate(body.len() - 3);
        let (frames, counts) = read_all(&body, Limits::default());
        assert_eq!(messages(&frames), [&b"whole"[..]]);
        assert_eq!(counts.messages, 2);
        assert!(counts.truncated);
        // Inside a prefix too.
        let (_, counts) = read_all(&[0, 0, 0], Limits::default());
        assert!(counts.truncated);
        assert_eq!(counts.messages, 0);
        // An empty body is not truncated.
        assert_eq!(read_all(&[], Limits::default()).1, Counts::default());
    }

    #[test]
    fn odd_flag_bits_are_counted() {
        let body = [0x02, 0, 0, 0, 1, b'x', 0x80, 0, 0, 0, 0];
        let (frames, counts) = read_all(&body, Limits::default());
        assert_eq!(frames.len(), 2);
        assert_eq!(counts.invalid_flags, 2);
        assert_eq!(counts.trailers, 0);
    }

    #[test]
    fn grpc_web_trailers_frames_are_separate() {
        let mut body = Vec::new();
        encode(false, b"reply", &mut body);
        let trailer = b"grpc-status: 0\r\n";
        body.push(0x80);
        body.extend_from_slice(&(trailer.len() as u32).to_be_bytes());
        body.extend_from_slice(trailer);
        let web = Limits {
            web: true,
            ..Limits::default()
        };
        let (frames, counts) = read_all(&body, web);
        assert_eq!(
            frames[1..],
            [Framed::Trailers(trailer.to_vec())],
            "{frames:?}"
        );
        assert_eq!(
            (counts.messages, counts.trailers, counts.invalid_flags),
            (1, 1, 0)
        );
    }

    fn split_read(body: &[u8], cuts: &[usize], limits: Limits) -> (Vec<Framed>, Counts) {
        let mut reader = MessageReader::new(limits);
        let mut out = Vec::new();
        let mut at = 0;
        for &cut in cuts {
            let cut = cut.min(body.len()).max(at);
            reader.push(&body[at..cut], &mut out);
            at = cut;
        }
        reader.push(&body[at..], &mut out);
        (out, reader.finish())
    }

    proptest! {
        #[test]
        fn any_split_reads_the_same(
            msgs in prop::collection::vec(
                (any::<bool>(), prop::collection::vec(any::<u8>(), 0..40)), 0..8),
            tail in 0usize..6,
            mut cuts in prop::collection::vec(0usize..400, 0..12),
            max in 0usize..48,
            web in any::<bool>(),
        ) {
            let mut body = Vec::new();
            for (compressed, m) in &msgs {
                encode(*compressed, m, &mut body);
            }
            // Sometimes a cut-off tail, sometimes stray bytes (possibly a trailers flag).
            body.truncate(body.len().saturating_sub(tail));
            cuts.sort_unstable();
            let limits = Limits { max_message: max, web };
            let whole = read_all(&body, limits);
            let split = split_read(&body, &cuts, limits);
            prop_assert_eq!(&whole, &split);
            let byte_by_byte = split_read(&body, &(0..body.len()).collect::<Vec<_>>(), limits);
            prop_assert_eq!(&whole, &byte_by_byte);
        }

        #[test]
        fn never_holds_more_than_the_cap(
            body in prop::collection::vec(any::<u8>(), 0..600),
            chunk in 1usize..50,
            max in 0usize..64,
        ) {
            let mut reader = MessageReader::new(limits(max));
            let mut out = Vec::new();
            for piece in body.chunks(chunk) {
                reader.push(piece, &mut out);
                prop_assert!(reader.buffered() <= max.max(PREFIX_LEN));
            }
            for f in &out {
                if let Framed::Message(m) = f {
                    prop_assert!(m.bytes.len() <= max);
                }
            }
        }
    }
}
