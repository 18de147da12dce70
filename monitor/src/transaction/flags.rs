//! What was odd about a transaction: framing ambiguity that enables request smuggling, malformed
//! syntax, and capture problems. A small bit set, shown as a sorted list of names.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer, ser::SerializeSeq};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Flag {
    // Request smuggling risk: two parsers may frame this message differently.
    ContentLengthWithTransferEncoding,
    ConflictingContentLength,
    UnsupportedTransferEncoding,
    WhitespaceBeforeColon,
    ObsFold,
    BareLf,
    BareCr,
    WhitespaceInChunkLine,
    InvalidChunkExtension,
    AfterAmbiguity,
    DataAfterClose,
    // Malformed.
    InvalidContentLength,
    InvalidChunkSize,
    HeaderTooLarge,
    InvalidHead,
    InvalidTrailer,
    InvalidVersion,
    NonAsciiTarget,
    ManyEmptyLines,
    // Capture.
    BodyGap,
    Resynced,
    CaptureBudgetExhausted,
    DecodeFailed,
    DecodeTruncated,
    // HTTP/2.
    /// The stream was reset (RST_STREAM) before it ended.
    StreamReset,
    /// A GOAWAY said the server never processed this stream.
    GoawayUnanswered,
    /// Some header fields referenced HPACK table entries never seen (joined mid-stream): they
    /// are reported unknown, never guessed.
    HpackUnknown,
    /// Too many streams were open on the connection: this one was emitted early.
    StreamEvicted,
}

impl Flag {
    pub const ALL: [Flag; 28] = [
        Flag::ContentLengthWithTransferEncoding,
        Flag::ConflictingContentLength,
        Flag::UnsupportedTransferEncoding,
        Flag::WhitespaceBeforeColon,
        Flag::ObsFold,
        Flag::BareLf,
        Flag::BareCr,
        Flag::WhitespaceInChunkLine,
        Flag::InvalidChunkExtension,
        Flag::AfterAmbiguity,
        Flag::DataAfterClose,
        Flag::InvalidContentLength,
        Flag::InvalidChunkSize,
        Flag::HeaderTooLarge,
        Flag::InvalidHead,
        Flag::InvalidTrailer,
        Flag::InvalidVersion,
        Flag::NonAsciiTarget,
        Flag::ManyEmptyLines,
        Flag::BodyGap,
        Flag::Resynced,
        Flag::CaptureBudgetExhausted,
        Flag::DecodeFailed,
        Flag::DecodeTruncated,
        Flag::StreamReset,
        Flag::GoawayUnanswered,
        Flag::HpackUnknown,
        Flag::StreamEvicted,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Flag::ContentLengthWithTransferEncoding => "content_length_with_transfer_encoding",
            Flag::ConflictingContentLength => "conflicting_content_length",
            Flag::UnsupportedTransferEncoding => "unsupported_transfer_encoding",
            Flag::WhitespaceBeforeColon => "whitespace_before_colon",
            Flag::ObsFold => "obs_fold",
            Flag::BareLf => "bare_lf",
            Flag::BareCr => "bare_cr",
            Flag::WhitespaceInChunkLine => "whitespace_in_chunk_line",
            Flag::InvalidChunkExtension => "invalid_chunk_extension",
            Flag::AfterAmbiguity => "after_ambiguity",
            Flag::DataAfterClose => "data_after_close",
            Flag::InvalidContentLength => "invalid_content_length",
            Flag::InvalidChunkSize => "invalid_chunk_size",
            Flag::HeaderTooLarge => "header_too_large",
            Flag::InvalidHead => "invalid_head",
            Flag::InvalidTrailer => "invalid_trailer",
            Flag::InvalidVersion => "invalid_version",
            Flag::NonAsciiTarget => "non_ascii_target",
            Flag::ManyEmptyLines => "many_empty_lines",
            Flag::BodyGap => "body_gap",
            Flag::Resynced => "resynced",
            Flag::CaptureBudgetExhausted => "capture_budget_exhausted",
            Flag::DecodeFailed => "decode_failed",
            Flag::DecodeTruncated => "decode_truncated",
            Flag::StreamReset => "stream_reset",
            Flag::GoawayUnanswered => "goaway_unanswered",
            Flag::HpackUnknown => "hpack_unknown",
            Flag::StreamEvicted => "stream_evicted",
        }
    }

    /// Whether front-end and back-end parsers could disagree on where this message ends.
    pub const fn smuggling_risk(self) -> bool {
        matches!(
            self,
            Flag::ContentLengthWithTransferEncoding
                | Flag::ConflictingContentLength
                | Flag::UnsupportedTransferEncoding
                | Flag::WhitespaceBeforeColon
                | Flag::ObsFold
                | Flag::BareLf
                | Flag::BareCr
                | Flag::WhitespaceInChunkLine
                | Flag::InvalidChunkExtension
                | Flag::AfterAmbiguity
                | Flag::DataAfterClose
        )
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u32);

impl Flags {
    pub const fn empty() -> Self {
        Flags(0)
    }

    pub fn set(&mut self, flag: Flag) {
        self.0 |= 1 << flag as u8;
    }

    pub fn with(mut self, flag: Flag) -> Self {
        self.set(flag);
        self
    }

    pub fn contains(self, flag: Flag) -> bool {
        self.0 & (1 << flag as u8) != 0
    }

    pub fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.contains(*f))
    }

    pub fn smuggling_risk(self) -> bool {
        self.iter().any(Flag::smuggling_risk)
    }
}

impl Serialize for Flags {
    /// Names sorted alphabetically, so output is stable whatever the enum order.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<&str> = self.iter().map(Flag::name).collect();
        names.sort_unstable();
        let mut seq = s.serialize_seq(Some(names.len()))?;
        for n in names {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

/// Written by hand to match the hand-written `Serialize`: names come from `Flag::ALL`, so a new
/// flag reaches the schema without being typed twice.
impl JsonSchema for Flags {
    fn schema_name() -> Cow<'static, str> {
        "Flags".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let sorted_names = |only_risky: bool| {
            let mut names: Vec<&str> = Flag::ALL
                .into_iter()
                .filter(|f| !only_risky || f.smuggling_risk())
                .map(Flag::name)
                .collect();
            names.sort_unstable();
            names
        };
        let (names, risky) = (sorted_names(false), sorted_names(true));
        let description = format!(
            "What was odd about the transaction: flag names, sorted, each at most once. \
             These mean request smuggling risk: {}.",
            risky.join(", ")
        );
        json_schema!({
            "description": description,
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
    fn set_and_list() {
        let f = Flags::empty().with(Flag::BareLf).with(Flag::BodyGap);
        assert!(f.contains(Flag::BareLf) && !f.contains(Flag::ObsFold));
        assert!(f.smuggling_risk());
        assert!(!Flags::empty().with(Flag::BodyGap).smuggling_risk());
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"["bare_lf","body_gap"]"#
        );
    }
}
