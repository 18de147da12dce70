//! One direction of a gRPC call counted as it streams by, fed every DATA payload: a long
//! streaming call is counted in full even when its captured body was cut at the capture bound.
//! Bounded: a prefix being read, the length left of the message being skipped, the first
//! message (when short enough to keep) and grpc-web trailers frames (a few KiB at most).

use super::body::BodyLimits;
use super::framing::{self, Counts, Framed, MessageReader};
use super::path::ContentType;

/// Octets of grpc-web trailers frames kept; more are dropped (a real block is a few lines).
pub const MAX_TRAILERS: usize = 8 * 1024;

/// The messages of one direction of one stream, counted incrementally.
#[derive(Debug, Clone)]
pub struct Tally {
    reader: MessageReader,
    /// The first message, when it was at most the bound, then trailers frames: all the
    /// summary decodes.
    frames: Vec<Framed>,
    trailers_len: usize,
    /// Trailers frames not kept because `MAX_TRAILERS` was reached.
    pub trailers_dropped: u64,
    /// The reader's output, emptied after every push (kept to reuse its allocation).
    scratch: Vec<Framed>,
}

impl Tally {
    /// A tally for a body of `kind`; `max_first` bounds the first message kept (the stream's
    /// body capture bound, say): a longer one is counted, not kept.
    pub fn new(kind: ContentType, limits: &BodyLimits, max_first: usize) -> Self {
        let framing = framing::Limits {
            web: kind.is_web(),
            ..limits.framing
        };
        Tally {
            reader: MessageReader::first_only(framing, max_first),
            frames: Vec::new(),
            trailers_len: 0,
            trailers_dropped: 0,
            scratch: Vec::new(),
        }
    }

    /// Reads one DATA payload (in stream order; any split of the body gives the same tally).
    pub fn push(&mut self, data: &[u8]) {
        self.reader.push(data, &mut self.scratch);
        for frame in self.scratch.drain(..) {
            match frame {
                Framed::Message(_) => self.frames.push(frame),
                Framed::Trailers(ref block) => {
                    if self.trailers_len + block.len() <= MAX_TRAILERS {
                        self.trailers_len += block.len();
                        self.frames.push(frame);
                    } else {
                        self.trailers_dropped += 1;
                    }
                }
            }
        }
    }

    /// What the body held so far, as if it ended here.
    pub fn counts(&self) -> Counts {
        self.reader.counts_at_end()
    }

    /// The first message (if kept) and the trailers frames, in body order.
    pub fn frames(&self) -> &[Framed] {
        &self.frames
    }

    /// Octets held: the reader's open frame and the frames kept.
    pub fn held(&self) -> usize {
        self.reader.buffered()
            + self
                .frames
                .iter()
                .map(|f| match f {
                    Framed::Message(m) => m.bytes.len(),
                    Framed::Trailers(t) => t.len(),
                })
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::grpc::framing::{Message, encode, read_all};

    fn tally_of(body: &[u8], cuts: &[usize], kind: ContentType, max_first: usize) -> Tally {
        let mut tally = Tally::new(kind, &BodyLimits::default(), max_first);
        let mut at = 0;
        for &cut in cuts {
            let cut = cut.clamp(at, body.len());
            tally.push(&body[at..cut]);
            at = cut;
        }
        tally.push(&body[at..]);
        tally
    }

    #[test]
    fn counts_a_long_stream_holding_only_the_first_message() {
        let mut body = Vec::new();
        for i in 0u32..10_000 {
            encode(i % 3 == 0, &i.to_be_bytes(), &mut body);
        }
        let mut tally = Tally::new(ContentType::Proto, &BodyLimits::default(), 64 * 1024);
        for piece in body.chunks(16_384) {
            tally.push(piece);
            assert!(tally.held() <= 64, "{}", tally.held());
        }
        let counts = tally.counts();
        assert_eq!((counts.messages, counts.compressed), (10_000, 3_334));
        assert!(!counts.truncated);
        assert_eq!(
            tally.frames(),
            [Framed::Message(Message {
                compressed: true,
                bytes: vec![0, 0, 0, 0]
            })]
        );
    }

    #[test]
    fn a_first_message_over_the_bound_is_counted_not_kept() {
        let mut body = Vec::new();
        encode(false, &[1; 100], &mut body);
        encode(false, b"", &mut body);
        let tally = tally_of(&body, &[], ContentType::Proto, 10);
        assert!(tally.frames().is_empty());
        let counts = tally.counts();
        assert_eq!((counts.messages, counts.oversized), (2, 0));
        assert!(!counts.truncated);
    }

    #[test]
    fn grpc_web_trailers_are_kept_within_their_bound() {
        let mut body = Vec::new();
        encode(false, b"\x08\x01", &mut body);
        let block = b"grpc-status: 0\r\n";
        for _ in 0..(MAX_TRAILERS / block.len() + 5) {
            body.push(0x80);
            body.extend_from_slice(&(block.len() as u32).to_be_bytes());
            body.extend_from_slice(block);
        }
        let tally = tally_of(&body, &[3, 70, 71], ContentType::Web, 1024);
        assert!(tally.held() <= MAX_TRAILERS + 2);
        assert_eq!(tally.trailers_dropped, 5);
        assert_eq!(tally.counts().messages, 1);
    }

    proptest! {
        /// Any chunking gives what the whole body read at once gives: the same counts, the
        /// same first message and trailers frames.
        #[test]
        fn any_split_tallies_the_same(
            msgs in prop::collection::vec(
                (0u8..4, prop::collection::vec(any::<u8>(), 0..40)), 0..12),
            tail in 0usize..6,
            mut cuts in prop::collection::vec(0usize..600, 0..16),
            max_first in 0usize..48,
            web in any::<bool>(),
        ) {
            let mut body = Vec::new();
            for (flags, m) in &msgs {
                encode(false, m, &mut body);
                // Some frames compressed, some grpc-web trailers (or invalid flags).
                let at = body.len() - m.len() - 5;
                body[at] = [0x00, 0x01, 0x80, 0x02][usize::from(*flags)];
            }
            body.truncate(body.len().saturating_sub(tail));
            cuts.sort_unstable();
            let kind = if web { ContentType::Web } else { ContentType::Proto };
            let whole = tally_of(&body, &[], kind, max_first);
            let split = tally_of(&body, &cuts, kind, max_first);
            prop_assert_eq!(whole.counts(), split.counts());
            prop_assert_eq!(whole.frames(), split.frames());
            let bytes = tally_of(&body, &(0..body.len()).collect::<Vec<_>>(), kind, max_first);
            prop_assert_eq!(whole.counts(), bytes.counts());
            // The counts are the full reader's; the first message too, when it fits.
            let limits = framing::Limits { web, ..framing::Limits::default() };
            let (frames, counts) = read_all(&body, limits);
            prop_assert_eq!(whole.counts(), counts);
            let first = frames.iter().find(|f| matches!(f, Framed::Message(_)));
            let kept = whole.frames().iter().find(|f| matches!(f, Framed::Message(_)));
            match first {
                Some(Framed::Message(m)) if m.bytes.len() <= max_first => {
                    prop_assert_eq!(kept, first);
                }
                _ => prop_assert!(kept.is_none()),
            }
        }
    }
}
