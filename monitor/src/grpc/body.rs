//! One direction's body of a gRPC call: its messages counted, the first one decompressed and
//! decoded (protobuf without schema, or JSON) for discovery, what went wrong flagged.

use serde_json::Value;

use super::compression::{Decompressed, decompress};
use super::flags::{GrpcFlag, GrpcFlags};
use super::framing::{self, Framed, Message};
use super::path::ContentType;
use super::protobuf::{self, WireError};
use super::tally::Tally;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    pub framing: framing::Limits,
    /// Most octets a compressed message is decompressed to.
    pub max_decompressed: usize,
    pub protobuf: protobuf::Limits,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            framing: framing::Limits::default(),
            // As for HTTP bodies (`max_decoded`).
            max_decompressed: 256 * 1024,
            protobuf: protobuf::Limits::default(),
        }
    }
}

/// What one body held.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BodySummary {
    pub messages: u64,
    /// Some message had the compressed flag.
    pub compressed: bool,
    /// The first message, decoded.
    pub first: Option<Value>,
    /// Fields of grpc-web trailers frames (response bodies of grpc-web calls).
    pub web_trailers: Vec<(String, String)>,
}

/// Reads one direction's body: from its `tally` when the whole stream was counted, else from
/// the captured `body` (which a capture bound may have cut). `encoding` is that direction's
/// `grpc-encoding`. Only the first message is decoded: it is what schema inference needs, and
/// it bounds the work per call whatever a stream carries; the others are counted.
pub fn read_body(
    body: &[u8],
    tally: Option<&Tally>,
    kind: ContentType,
    encoding: Option<&str>,
    limits: &BodyLimits,
    flags: &mut GrpcFlags,
) -> BodySummary {
    let tallied = tally.filter(|t| t.counts() != framing::Counts::default());
    if body.is_empty() && tallied.is_none() {
        return BodySummary::default();
    }
    if kind == ContentType::WebText {
        // base64 of the framing, possibly padded per chunk: not read.
        flags.set(GrpcFlag::BodyNotDecoded);
        return BodySummary::default();
    }
    let read;
    let (frames, counts) = match tallied {
        Some(t) => (t.frames(), t.counts()),
        None => {
            let framing = framing::Limits {
                web: kind.is_web(),
                ..limits.framing
            };
            read = framing::read_all(body, framing);
            (&read.0[..], read.1)
        }
    };
    flags.set_if(GrpcFlag::TruncatedMessage, counts.truncated);
    flags.set_if(GrpcFlag::OversizedMessage, counts.oversized > 0);
    flags.set_if(GrpcFlag::InvalidMessageFlags, counts.invalid_flags > 0);
    let mut summary = BodySummary {
        messages: counts.messages,
        compressed: counts.compressed > 0,
        ..BodySummary::default()
    };
    for frame in frames {
        match frame {
            Framed::Message(m) if summary.first.is_none() => {
                summary.first = message(m, kind, encoding, limits, flags);
            }
            Framed::Message(_) => {}
            Framed::Trailers(block) => summary
                .web_trailers
                .extend(super::status::parse_web_trailers(block)),
        }
    }
    summary
}

fn message(
    m: &Message,
    kind: ContentType,
    encoding: Option<&str>,
    limits: &BodyLimits,
    flags: &mut GrpcFlags,
) -> Option<Value> {
    let decompressed;
    let bytes: &[u8] = if m.compressed {
        match decompress(encoding, &m.bytes, limits.max_decompressed) {
            Decompressed::Whole(out) => {
                decompressed = out;
                &decompressed
            }
            Decompressed::Cut(out) => {
                flags.set(GrpcFlag::DecompressTruncated);
                decompressed = out;
                &decompressed
            }
            Decompressed::Failed => {
                flags.set(GrpcFlag::DecompressFailed);
                return None;
            }
            Decompressed::Unsupported => {
                flags.set(GrpcFlag::CompressedNotDecoded);
                return None;
            }
        }
    } else {
        &m.bytes
    };
    if kind.is_proto() {
        let d = protobuf::decode(bytes, &limits.protobuf);
        match d.error {
            None => {}
            Some(WireError::Group) => {
                flags.set(GrpcFlag::UndecodableMessage);
                flags.set(GrpcFlag::ProtobufGroup);
            }
            Some(_) => flags.set(GrpcFlag::UndecodableMessage),
        }
        flags.set_if(
            GrpcFlag::DecodeLimited,
            d.dropped > 0 || d.depth_limited || d.cut_strings > 0,
        );
        // Nothing read before the wire broke: no message to show (`{}` would claim an empty
        // one, which is a valid message of every type).
        let nothing = d.value.as_object().is_some_and(|m| m.is_empty());
        (d.error.is_none() || !nothing).then_some(d.value)
    } else if kind.is_json() {
        match serde_json::from_slice(bytes) {
            Ok(v) => Some(v),
            Err(_) => {
                flags.set(GrpcFlag::InvalidJson);
                None
            }
        }
    } else {
        flags.set(GrpcFlag::BodyNotDecoded);
        None
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::{Compression, write::GzEncoder};
    use serde_json::json;

    use super::*;
    use crate::grpc::framing::encode;

    fn read(body: &[u8], kind: ContentType, encoding: Option<&str>) -> (BodySummary, GrpcFlags) {
        let mut flags = GrpcFlags::empty();
        let s = read_body(
            body,
            None,
            kind,
            encoding,
            &BodyLimits::default(),
            &mut flags,
        );
        (s, flags)
    }

    #[test]
    fn decodes_the_first_message_and_counts_all() {
        let mut body = Vec::new();
        encode(false, b"\x0a\x05alice", &mut body);
        encode(false, b"\x0a\x03bob", &mut body);
        let (s, flags) = read(&body, ContentType::Proto, None);
        assert_eq!(s.messages, 2);
        assert_eq!(s.first, Some(json!({"1": "alice"})));
        assert!(flags.is_empty());
    }

    #[test]
    fn gzip_messages_are_decoded_others_flagged() {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(b"\x08\x2a").unwrap();
        let mut body = Vec::new();
        encode(true, &e.finish().unwrap(), &mut body);
        let (s, flags) = read(&body, ContentType::Proto, Some("gzip"));
        assert_eq!((s.compressed, s.first), (true, Some(json!({"1": 42}))));
        assert!(flags.is_empty());
        let (s, flags) = read(&body, ContentType::Proto, Some("snappy"));
        assert_eq!((s.compressed, s.first), (true, None));
        assert!(flags.contains(GrpcFlag::CompressedNotDecoded));
        let (_, flags) = read(&body, ContentType::Proto, None);
        assert!(flags.contains(GrpcFlag::CompressedNotDecoded));
        let mut bad = Vec::new();
        encode(true, b"garbage", &mut bad);
        let (_, flags) = read(&bad, ContentType::Proto, Some("gzip"));
        assert!(flags.contains(GrpcFlag::DecompressFailed));
    }

    #[test]
    fn json_codec_and_other_codecs() {
        let mut body = Vec::new();
        encode(false, br#"{"name":"alice"}"#, &mut body);
        let (s, _) = read(&body, ContentType::Json, None);
        assert_eq!(s.first, Some(json!({"name": "alice"})));
        let mut bad = Vec::new();
        encode(false, b"{nope", &mut bad);
        let (s, flags) = read(&bad, ContentType::Json, None);
        assert_eq!(s.first, None);
        assert!(flags.contains(GrpcFlag::InvalidJson));
        let (s, flags) = read(&body, ContentType::OtherCodec, None);
        assert_eq!((s.messages, s.first), (1, None));
        assert!(flags.contains(GrpcFlag::BodyNotDecoded));
        let (s, flags) = read(b"AAAAAAI=", ContentType::WebText, None);
        assert_eq!(s.messages, 0);
        assert!(flags.contains(GrpcFlag::BodyNotDecoded));
    }

    #[test]
    fn undecodable_and_cut_bodies_are_flagged() {
        let mut body = Vec::new();
        encode(false, b"\x08\x01\x0b", &mut body);
        encode(false, b"\x08\x01", &mut body);
        body.pop();
        let (s, flags) = read(&body, ContentType::Proto, None);
        assert_eq!(s.first, Some(json!({"1": 1})));
        for f in [
            GrpcFlag::UndecodableMessage,
            GrpcFlag::ProtobufGroup,
            GrpcFlag::TruncatedMessage,
        ] {
            assert!(flags.contains(f), "{f:?}");
        }
    }

    #[test]
    fn grpc_web_trailers_come_out_of_the_body() {
        let mut body = Vec::new();
        encode(false, b"\x08\x01", &mut body);
        let t = b"grpc-status: 0\r\n";
        body.push(0x80);
        body.extend_from_slice(&(t.len() as u32).to_be_bytes());
        body.extend_from_slice(t);
        let (s, flags) = read(&body, ContentType::Web, None);
        assert_eq!(s.messages, 1);
        assert_eq!(s.web_trailers, [("grpc-status".to_owned(), "0".to_owned())]);
        assert!(flags.is_empty());
    }
}
