//! What was odd about a gRPC call: its path, status, framing or messages. A small bit set,
//! shown as a sorted list of names like a transaction's `flags`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer, ser::SerializeSeq};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum GrpcFlag {
    /// `:path` missing or not `/Service/Method`: `service` and `method` are null.
    InvalidPath,
    /// No `grpc-status` in the trailers or the response headers.
    MissingStatus,
    /// The status came with the response headers (a trailers-only response).
    TrailersOnly,
    /// `grpc-status` is not a decimal number.
    InvalidStatus,
    /// `grpc-status` is a number outside the canonical 0..=16.
    UnknownStatus,
    /// `grpc-status` sent more than once (the first is used).
    RepeatedStatus,
    /// `grpc-message` is not percent-encoded UTF-8: shown as sent.
    InvalidStatusMessage,
    /// `grpc-message` cut to its bound.
    StatusMessageCut,
    /// A body ended inside a message prefix or a message.
    TruncatedMessage,
    /// A message longer than the bound: counted, skipped, not decoded.
    OversizedMessage,
    /// A message prefix whose flags byte has bits no sender sets.
    InvalidMessageFlags,
    /// A compressed message whose `grpc-encoding` is not decoded here (or is missing).
    CompressedNotDecoded,
    /// A compressed message that did not decompress.
    DecompressFailed,
    /// A message that decompressed past the bound: its prefix was decoded.
    DecompressTruncated,
    /// A protobuf message that stopped being readable (bad varint, field, wire type, or cut):
    /// the fields before that point are shown.
    UndecodableMessage,
    /// A protobuf group (wire types 3 and 4), which cannot be read without a schema.
    ProtobufGroup,
    /// The decoded tree hit a depth, field-count or string-length bound.
    DecodeLimited,
    /// A `+json` message that is not JSON.
    InvalidJson,
    /// Messages of a codec not decoded here (`+thrift`, grpc-web-text): counted, not shown.
    BodyNotDecoded,
    /// The response's `:status` is not 200: the call failed at the HTTP level (a proxy, a
    /// server that is no gRPC server), whatever `grpc-status` says.
    HttpStatusNot200,
}

impl GrpcFlag {
    pub const ALL: [GrpcFlag; 20] = [
        GrpcFlag::InvalidPath,
        GrpcFlag::MissingStatus,
        GrpcFlag::TrailersOnly,
        GrpcFlag::InvalidStatus,
        GrpcFlag::UnknownStatus,
        GrpcFlag::RepeatedStatus,
        GrpcFlag::InvalidStatusMessage,
        GrpcFlag::StatusMessageCut,
        GrpcFlag::TruncatedMessage,
        GrpcFlag::OversizedMessage,
        GrpcFlag::InvalidMessageFlags,
        GrpcFlag::CompressedNotDecoded,
        GrpcFlag::DecompressFailed,
        GrpcFlag::DecompressTruncated,
        GrpcFlag::UndecodableMessage,
        GrpcFlag::ProtobufGroup,
        GrpcFlag::DecodeLimited,
        GrpcFlag::InvalidJson,
        GrpcFlag::BodyNotDecoded,
        GrpcFlag::HttpStatusNot200,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            GrpcFlag::InvalidPath => "invalid_path",
            GrpcFlag::MissingStatus => "missing_status",
            GrpcFlag::TrailersOnly => "trailers_only",
            GrpcFlag::InvalidStatus => "invalid_status",
            GrpcFlag::UnknownStatus => "unknown_status",
            GrpcFlag::RepeatedStatus => "repeated_status",
            GrpcFlag::InvalidStatusMessage => "invalid_status_message",
            GrpcFlag::StatusMessageCut => "status_message_cut",
            GrpcFlag::TruncatedMessage => "truncated_message",
            GrpcFlag::OversizedMessage => "oversized_message",
            GrpcFlag::InvalidMessageFlags => "invalid_message_flags",
            GrpcFlag::CompressedNotDecoded => "compressed_not_decoded",
            GrpcFlag::DecompressFailed => "decompress_failed",
            GrpcFlag::DecompressTruncated => "decompress_truncated",
            GrpcFlag::UndecodableMessage => "undecodable_message",
            GrpcFlag::ProtobufGroup => "protobuf_group",
            GrpcFlag::DecodeLimited => "decode_limited",
            GrpcFlag::InvalidJson => "invalid_json",
            GrpcFlag::BodyNotDecoded => "body_not_decoded",
            GrpcFlag::HttpStatusNot200 => "http_status_not_200",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GrpcFlags(u32);

impl GrpcFlags {
    pub const fn empty() -> Self {
        GrpcFlags(0)
    }

    pub fn set(&mut self, flag: GrpcFlag) {
        self.0 |= 1 << flag as u8;
    }

    /// Sets `flag` when `on`.
    pub fn set_if(&mut self, flag: GrpcFlag, on: bool) {
        if on {
            self.set(flag);
        }
    }

    pub fn contains(self, flag: GrpcFlag) -> bool {
        self.0 & (1 << flag as u8) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = GrpcFlag> {
        GrpcFlag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl Serialize for GrpcFlags {
    /// Names sorted alphabetically, so output is stable whatever the enum order.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<&str> = self.iter().map(GrpcFlag::name).collect();
        names.sort_unstable();
        let mut seq = s.serialize_seq(Some(names.len()))?;
        for n in names {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

/// Written by hand to match the hand-written `Serialize`, names from `GrpcFlag::ALL`.
impl JsonSchema for GrpcFlags {
    fn schema_name() -> Cow<'static, str> {
        "GrpcFlags".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut names: Vec<&str> = GrpcFlag::ALL.into_iter().map(GrpcFlag::name).collect();
        names.sort_unstable();
        json_schema!({
            "description": "What was odd about the gRPC call: flag names, sorted, each at most once.",
            "type": "array",
            "uniqueItems": true,
            "items": { "type": "string", "enum": names },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_fits_and_is_named_once() {
        assert!(GrpcFlag::ALL.len() <= 32);
        let mut names: Vec<&str> = GrpcFlag::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), GrpcFlag::ALL.len());
        for (i, f) in GrpcFlag::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i, "ALL is in declaration order");
        }
    }

    #[test]
    fn serializes_sorted_names() {
        let mut flags = GrpcFlags::empty();
        flags.set(GrpcFlag::TruncatedMessage);
        flags.set(GrpcFlag::InvalidPath);
        flags.set_if(GrpcFlag::DecodeLimited, false);
        assert_eq!(
            serde_json::to_string(&flags).unwrap(),
            r#"["invalid_path","truncated_message"]"#
        );
    }
}
