//! How a captured HTTP body is shown: its content codings (gzip, deflate, br) undone within a
//! size budget, then as text when it reads as text and as base64 otherwise.

use std::{
    borrow::Cow,
    io::{ErrorKind, Read},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};
use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};
use serde::Serialize;

/// More stacked codings than this is not something a real server sends; each layer costs up to
/// `max_decoded` of work, so the chain is bounded rather than trusted.
const MAX_CODINGS: usize = 4;

/// Decoder output is produced in pieces of this size, so a stream that inflates enormously never
/// gets more than this past the budget check.
const CHUNK: usize = 16 * 1024;

/// How a body's `content` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentRepr {
    /// UTF-8 text with a textual content type (or none and no control characters).
    Text,
    /// Anything else, base64 (standard alphabet, padded).
    Base64,
}

impl ContentRepr {
    /// The name written in JSON (as serde writes it).
    pub const fn name(self) -> &'static str {
        match self {
            ContentRepr::Text => "text",
            ContentRepr::Base64 => "base64",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyView<'a> {
    pub repr: ContentRepr,
    /// The text, or the base64 of the bytes; borrowed from the captured bytes when they are
    /// shown as they are (most bodies: a copy per body was a measurable part of rendering).
    pub content: Cow<'a, str>,
    /// The Content-Encoding value as sent, trimmed and lowercased (e.g. "gzip", "gzip, br").
    pub content_encoding: Option<String>,
    /// `content` is the decoded (decompressed) form.
    pub decoded: bool,
    /// Decoding stopped early: the output reached `max_decoded`, or the captured bytes ended
    /// before the compressed stream did (a body cut by the capture limit). `content` is the
    /// decoded prefix.
    pub decode_truncated: bool,
    /// The coding is known but the data is corrupt; `content` shows the raw captured bytes.
    pub decode_failed: bool,
}

/// Shows a captured body. Decoded output never exceeds `max_decoded` bytes, whatever the
/// compressed data claims: decoders fill a capped buffer piece by piece.
///
/// Unknown codings (e.g. zstd, compress) are shown raw with `decoded: false`. The body is
/// decoded only when every listed coding is known; "identity" is skipped.
pub fn render_body<'a>(
    captured: &'a [u8],
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    max_decoded: usize,
) -> BodyView<'a> {
    let content_encoding = content_encoding
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty());

    // An empty body (HEAD, 304) with a Content-Encoding header is not a failed decode.
    let outcome = match content_encoding.as_deref() {
        Some(codings) if !captured.is_empty() => decode(codings, captured, max_decoded),
        _ => Outcome::NotDecoded,
    };
    let (bytes, decoded, decode_truncated, decode_failed) = match outcome {
        Outcome::NotDecoded => (Cow::Borrowed(captured), false, false, false),
        Outcome::Failed => (Cow::Borrowed(captured), false, false, true),
        Outcome::Decoded { bytes, truncated } => (Cow::Owned(bytes), true, truncated, false),
    };

    let (repr, content) = match &bytes {
        Cow::Borrowed(raw) => match as_text(content_type, raw) {
            Some(text) => (ContentRepr::Text, Cow::Borrowed(text)),
            None => (ContentRepr::Base64, Cow::Owned(STANDARD.encode(raw))),
        },
        Cow::Owned(decoded) => match as_text(content_type, decoded) {
            Some(text) => (ContentRepr::Text, Cow::Owned(text.to_owned())),
            None => (ContentRepr::Base64, Cow::Owned(STANDARD.encode(decoded))),
        },
    };
    BodyView {
        repr,
        content,
        content_encoding,
        decoded,
        decode_truncated,
        decode_failed,
    }
}

/// The captured body decoded (gzip, deflate, br; at most `max_decoded` bytes), or as captured
/// when it has no known coding or does not decode: what inspection (discovery) reads.
pub fn decoded<'a>(
    captured: &'a [u8],
    content_encoding: Option<&str>,
    max_decoded: usize,
) -> Cow<'a, [u8]> {
    let codings = content_encoding
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty());
    match codings {
        Some(codings) if !captured.is_empty() => match decode(&codings, captured, max_decoded) {
            Outcome::Decoded { bytes, .. } => Cow::Owned(bytes),
            Outcome::NotDecoded | Outcome::Failed => Cow::Borrowed(captured),
        },
        _ => Cow::Borrowed(captured),
    }
}

/// Whether `bytes` are shown as text: a textual content type and valid UTF-8, or no content type
/// and valid UTF-8 without control characters other than tab, CR and LF. A UTF-8 sequence cut at
/// the very end (the capture limit fell inside a character) still counts as text.
pub fn is_textual(content_type: Option<&str>, bytes: &[u8]) -> bool {
    as_text(content_type, bytes).is_some()
}

/// The text to show for `bytes`, without an incomplete final UTF-8 sequence.
fn as_text<'a>(content_type: Option<&str>, bytes: &'a [u8]) -> Option<&'a str> {
    let text = utf8_prefix(bytes)?;
    match content_type.map(str::trim).filter(|ct| !ct.is_empty()) {
        Some(content_type) => is_textual_type(content_type).then_some(text),
        None => {
            let plain = !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'));
            plain.then_some(text)
        }
    }
}

/// Valid UTF-8, allowing the last character to be cut short; the cut tail is dropped.
fn utf8_prefix(bytes: &[u8]) -> Option<&str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text),
        // error_len() == None: the input ended inside a sequence that was valid so far.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

fn is_textual_type(content_type: &str) -> bool {
    // Cut at ASCII bytes with memchr (the char searcher costs more on such short text).
    let media = content_type
        [..memchr::memchr(b';', content_type.as_bytes()).unwrap_or(content_type.len())]
        .trim();
    let Some(slash) = memchr::memchr(b'/', media.as_bytes()) else {
        return false;
    };
    let (kind, subtype) = (&media[..slash], &media[slash + 1..]);
    if kind.eq_ignore_ascii_case("text") {
        return true;
    }
    let sub = subtype.as_bytes();
    if ends_with_ignore_case(sub, b"+json") || ends_with_ignore_case(sub, b"+xml") {
        return true;
    }
    kind.eq_ignore_ascii_case("application")
        && [
            "json",
            "xml",
            "x-www-form-urlencoded",
            "javascript",
            "x-javascript",
            "ecmascript",
            "graphql",
            "x-ndjson",
            "yaml",
            "x-yaml",
        ]
        .iter()
        .any(|known| subtype.eq_ignore_ascii_case(known))
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

impl Coding {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "gzip" | "x-gzip" => Some(Self::Gzip),
            "deflate" => Some(Self::Deflate),
            "br" => Some(Self::Brotli),
            _ => None,
        }
    }
}

enum Outcome {
    NotDecoded,
    Failed,
    Decoded { bytes: Vec<u8>, truncated: bool },
}

/// What one decoder made of its input.
enum Stage {
    Complete(Vec<u8>),
    /// Stopped at the budget, or the input ended mid-stream; holds what was decoded.
    Truncated(Vec<u8>),
    Corrupt,
}

/// `codings` is the lowercased header value: codings in the order they were applied.
fn decode(codings: &str, captured: &[u8], max_decoded: usize) -> Outcome {
    let mut chain = Vec::new();
    for name in codings.split(',').map(str::trim) {
        if name.is_empty() || name == "identity" {
            continue;
        }
        match Coding::parse(name) {
            Some(coding) if chain.len() < MAX_CODINGS => chain.push(coding),
            _ => return Outcome::NotDecoded,
        }
    }
    if chain.is_empty() {
        return Outcome::NotDecoded;
    }

    let mut current = Cow::Borrowed(captured);
    let mut truncated = false;
    // The last coding applied is the first to undo.
    for coding in chain.into_iter().rev() {
        current = Cow::Owned(match decode_stage(coding, &current, max_decoded) {
            Stage::Complete(bytes) => bytes,
            Stage::Truncated(bytes) => {
                truncated = true;
                bytes
            }
            Stage::Corrupt => return Outcome::Failed,
        });
    }
    Outcome::Decoded {
        bytes: current.into_owned(),
        truncated,
    }
}

fn decode_stage(coding: Coding, input: &[u8], cap: usize) -> Stage {
    match coding {
        Coding::Gzip => read_capped(GzDecoder::new(input), cap),
        // RFC 9110 says "deflate" is zlib-wrapped, but some servers send raw deflate: try the
        // wrapper when the header checks out, and raw deflate when it does not or fails.
        Coding::Deflate if has_zlib_header(input) => {
            match read_capped(ZlibDecoder::new(input), cap) {
                Stage::Corrupt => read_capped(DeflateDecoder::new(input), cap),
                stage => stage,
            }
        }
        Coding::Deflate => read_capped(DeflateDecoder::new(input), cap),
        Coding::Brotli => brotli_capped(input, cap),
    }
}

/// RFC 1950: compression method 8 (deflate) and a header check that makes the first two bytes,
/// read as a big-endian number, a multiple of 31.
fn has_zlib_header(input: &[u8]) -> bool {
    match input {
        [cmf, flg, ..] => cmf & 0x0f == 8 && ((u16::from(*cmf) << 8) | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Reads at most `cap` bytes of decoded output. flate2 reports an input that ends mid-stream as
/// `UnexpectedEof` and anything else wrong as another error kind.
fn read_capped(mut reader: impl Read, cap: usize) -> Stage {
    let mut out = Vec::with_capacity(cap.min(CHUNK));
    let mut chunk = [0u8; CHUNK];
    loop {
        let room = cap - out.len();
        if room == 0 {
            // At the budget: one more byte tells whether the stream really ended here.
            let mut probe = [0u8; 1];
            return match reader.read(&mut probe) {
                Ok(0) => Stage::Complete(out),
                Ok(_) => Stage::Truncated(out),
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => Stage::Truncated(out),
                Err(_) => Stage::Corrupt,
            };
        }
        let want = room.min(CHUNK);
        match reader.read(&mut chunk[..want]) {
            Ok(0) => return Stage::Complete(out),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Stage::Truncated(out),
            Err(_) => return Stage::Corrupt,
        }
    }
}

/// Brotli through the streaming API rather than its `Read` adapter, because the adapter reports
/// a cut input and corrupt data as the same error.
///
/// `new_strict` refuses the non-standard large-window streams, which keeps the decoder's own
/// window at most 16 MiB (RFC 7932); it grows only as far as the stream needs.
fn brotli_capped(input: &[u8], cap: usize) -> Stage {
    let mut state = BrotliState::new_strict(
        StandardAlloc::default(),
        StandardAlloc::default(),
        StandardAlloc::default(),
    );
    let mut out = Vec::with_capacity(cap.min(CHUNK));
    let mut chunk = [0u8; CHUNK];
    let mut available_in = input.len();
    let mut input_offset = 0;
    let mut total_out = 0;
    loop {
        let room = cap - out.len();
        // With no room left, a one-byte window tells whether more output follows.
        let want = room.clamp(1, CHUNK);
        let mut available_out = want;
        let mut output_offset = 0;
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            input,
            &mut available_out,
            &mut output_offset,
            &mut chunk[..want],
            &mut total_out,
            &mut state,
        );
        if room == 0 {
            return match (result, output_offset) {
                (BrotliResult::ResultSuccess, 0) => Stage::Complete(out),
                (BrotliResult::ResultFailure, _) => Stage::Corrupt,
                _ => Stage::Truncated(out),
            };
        }
        out.extend_from_slice(&chunk[..output_offset]);
        match result {
            BrotliResult::ResultSuccess => return Stage::Complete(out),
            BrotliResult::NeedsMoreOutput => {}
            // All the input was given at once, so needing more means the capture cut it.
            BrotliResult::NeedsMoreInput => return Stage::Truncated(out),
            BrotliResult::ResultFailure => return Stage::Corrupt,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::{
        Compression,
        write::{DeflateEncoder, GzEncoder, ZlibEncoder},
    };

    use super::*;

    const JSON: &str = r#"{"user":"ana","items":[1,2,3],"note":"héllo wörld"}"#;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn brotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = ::brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            enc.write_all(data).unwrap();
        }
        out
    }

    fn base64_decoded(view: &BodyView<'_>) -> Vec<u8> {
        assert_eq!(view.repr, ContentRepr::Base64);
        STANDARD.decode(view.content.as_bytes()).unwrap()
    }

    fn json_view<'a>(captured: &'a [u8], encoding: &str) -> BodyView<'a> {
        render_body(captured, Some("application/json"), Some(encoding), 1 << 20)
    }

    fn assert_decoded_json(view: &BodyView<'_>) {
        assert_eq!(view.repr, ContentRepr::Text);
        assert_eq!(view.content, JSON);
        assert!(view.decoded);
        assert!(!view.decode_truncated);
        assert!(!view.decode_failed);
    }

    #[test]
    fn plain_json_is_text() {
        let view = render_body(JSON.as_bytes(), Some("application/json"), None, 1024);
        assert_eq!(view.repr, ContentRepr::Text);
        assert_eq!(view.content, JSON);
        assert_eq!(view.content_encoding, None);
        assert!(!view.decoded && !view.decode_truncated && !view.decode_failed);
    }

    #[test]
    fn gzip_round_trip() {
        let wire = gzip(JSON.as_bytes());
        let view = json_view(&wire, "gzip");
        assert_decoded_json(&view);
        assert_eq!(view.content_encoding.as_deref(), Some("gzip"));
    }

    #[test]
    fn x_gzip_and_header_case() {
        let wire = gzip(JSON.as_bytes());
        let view = json_view(&wire, " X-GZip ");
        assert_decoded_json(&view);
        assert_eq!(view.content_encoding.as_deref(), Some("x-gzip"));
    }

    #[test]
    fn deflate_zlib_wrapped() {
        assert_decoded_json(&json_view(&zlib(JSON.as_bytes()), "deflate"));
    }

    #[test]
    fn deflate_raw_fallback() {
        assert_decoded_json(&json_view(&raw_deflate(JSON.as_bytes()), "deflate"));
    }

    #[test]
    fn brotli_round_trip() {
        assert_decoded_json(&json_view(&brotli(JSON.as_bytes()), "br"));
    }

    #[test]
    fn stacked_codings_are_undone_in_reverse() {
        // "gzip, br": gzip applied first, then br.
        let wire = brotli(&gzip(JSON.as_bytes()));
        let view = json_view(&wire, "gzip, br");
        assert_decoded_json(&view);
        assert_eq!(view.content_encoding.as_deref(), Some("gzip, br"));

        let wire = gzip(&zlib(JSON.as_bytes()));
        assert_decoded_json(&json_view(&wire, "deflate,identity, gzip"));
    }

    #[test]
    fn stacked_codings_in_the_wrong_order_fail() {
        let wire = brotli(&gzip(JSON.as_bytes()));
        let view = json_view(&wire, "br, gzip");
        assert!(view.decode_failed);
        assert!(!view.decoded);
        assert_eq!(base64_decoded(&view), wire);
    }

    #[test]
    fn too_many_stacked_codings_are_shown_raw() {
        let mut wire = JSON.as_bytes().to_vec();
        for _ in 0..=MAX_CODINGS {
            wire = gzip(&wire);
        }
        let view = json_view(&wire, "gzip, gzip, gzip, gzip, gzip");
        assert!(!view.decoded && !view.decode_failed);
        assert_eq!(base64_decoded(&view), wire);
    }

    #[test]
    fn identity_and_unknown_codings_are_shown_raw() {
        let view = json_view(JSON.as_bytes(), "identity");
        assert_eq!(view.content, JSON);
        assert!(!view.decoded && !view.decode_failed);
        assert_eq!(view.content_encoding.as_deref(), Some("identity"));

        let wire = gzip(JSON.as_bytes());
        for encoding in ["zstd", "compress", "gzip, zstd"] {
            let view = json_view(&wire, encoding);
            assert!(!view.decoded && !view.decode_failed, "{encoding}");
            assert_eq!(base64_decoded(&view), wire);
        }
    }

    #[test]
    fn empty_body_with_encoding_is_not_a_failure() {
        let view = json_view(b"", "gzip");
        assert_eq!(view.repr, ContentRepr::Text);
        assert_eq!(view.content, "");
        assert!(!view.decoded && !view.decode_failed && !view.decode_truncated);
    }

    #[test]
    fn gzip_bomb_costs_at_most_the_budget() {
        // 100 MB of zeros, compressed without ever holding them in memory.
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..100 {
            enc.write_all(&zeros).unwrap();
        }
        let bomb = enc.finish().unwrap();
        assert!(bomb.len() < 1 << 20);

        let max = 64 * 1024 + 7;
        let view = render_body(&bomb, None, Some("gzip"), max);
        assert!(view.decoded && view.decode_truncated && !view.decode_failed);
        assert_eq!(base64_decoded(&view), vec![0u8; max]);
    }

    #[test]
    fn brotli_bomb_costs_at_most_the_budget() {
        let mut out = Vec::new();
        {
            let mut enc = ::brotli::CompressorWriter::new(&mut out, 1 << 16, 1, 22);
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..100 {
                enc.write_all(&zeros).unwrap();
            }
        }
        let view = render_body(&out, Some("text/plain"), Some("br"), 10_000);
        assert!(view.decoded && view.decode_truncated && !view.decode_failed);
        assert_eq!(view.content.len(), 10_000);
    }

    #[test]
    fn stacked_bomb_is_bounded_at_every_layer() {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..50 {
            enc.write_all(&zeros).unwrap();
        }
        let wire = gzip(&enc.finish().unwrap());
        let view = render_body(&wire, None, Some("gzip, gzip"), 4096);
        assert!(view.decoded && view.decode_truncated);
        assert_eq!(base64_decoded(&view), vec![0u8; 4096]);
    }

    #[test]
    fn output_exactly_at_the_budget_is_complete() {
        for (wire, encoding) in [
            (gzip(JSON.as_bytes()), "gzip"),
            (zlib(JSON.as_bytes()), "deflate"),
            (brotli(JSON.as_bytes()), "br"),
        ] {
            let view = render_body(&wire, Some("application/json"), Some(encoding), JSON.len());
            assert_decoded_json(&view);

            let view = render_body(&wire, Some("application/json"), Some(encoding), 10);
            assert!(view.decode_truncated, "{encoding}");
            assert_eq!(view.content, &JSON[..10]);
        }
    }

    #[test]
    fn cut_input_gives_the_decoded_prefix() {
        let body = "line of text that repeats with a counter\n".repeat(200)
            + &(0..2000).map(|i| i.to_string()).collect::<String>();
        for (wire, encoding) in [
            (gzip(body.as_bytes()), "gzip"),
            (zlib(body.as_bytes()), "deflate"),
            (brotli(body.as_bytes()), "br"),
        ] {
            let cut = &wire[..wire.len() * 3 / 4];
            let view = render_body(cut, Some("text/plain"), Some(encoding), 1 << 20);
            assert!(view.decoded, "{encoding}");
            assert!(view.decode_truncated, "{encoding}");
            assert!(!view.decode_failed, "{encoding}");
            assert!(body.starts_with(&*view.content), "{encoding}");
            assert!(view.content.len() < body.len(), "{encoding}");
        }
    }

    #[test]
    fn gzip_cut_inside_the_trailer_is_truncated() {
        let wire = gzip(JSON.as_bytes());
        let view = json_view(&wire[..wire.len() - 3], "gzip");
        assert!(view.decoded && view.decode_truncated && !view.decode_failed);
        assert_eq!(view.content, JSON);
    }

    #[test]
    fn corrupt_gzip_shows_raw_bytes() {
        let mut wire = gzip(JSON.as_bytes());
        // Garbage where the deflate data starts.
        for byte in &mut wire[10..20] {
            *byte = 0xff;
        }
        let view = json_view(&wire, "gzip");
        assert!(view.decode_failed && !view.decoded && !view.decode_truncated);
        assert_eq!(base64_decoded(&view), wire);
    }

    #[test]
    fn gzip_with_a_wrong_checksum_fails() {
        let mut wire = gzip(JSON.as_bytes());
        let crc_at = wire.len() - 8;
        wire[crc_at] ^= 0x01;
        let view = json_view(&wire, "gzip");
        assert!(view.decode_failed);
        assert_eq!(base64_decoded(&view), wire);
    }

    #[test]
    fn not_compressed_at_all_fails() {
        for encoding in ["gzip", "deflate", "br"] {
            let view = json_view(b"\xff\xfe\xfd garbage that is not compressed", encoding);
            assert!(view.decode_failed, "{encoding}");
        }
        // Plain text sent with a false header stays readable as the raw bytes.
        let view = json_view(JSON.as_bytes(), "gzip");
        assert!(view.decode_failed);
        assert_eq!(view.content, JSON);
    }

    #[test]
    fn utf8_cut_mid_sequence_is_text_without_the_tail() {
        let text = "prix: 5€";
        let bytes = text.as_bytes();
        let cut = &bytes[..bytes.len() - 1];
        assert!(is_textual(Some("text/plain"), cut));
        assert!(is_textual(None, cut));
        let view = render_body(cut, Some("text/plain; charset=utf-8"), None, 1024);
        assert_eq!(view.repr, ContentRepr::Text);
        assert_eq!(view.content, "prix: 5");
    }

    #[test]
    fn invalid_utf8_in_the_middle_is_base64() {
        let bytes = b"abc\xffdef";
        assert!(!is_textual(Some("text/plain"), bytes));
        let view = render_body(bytes, Some("text/plain"), None, 1024);
        assert_eq!(base64_decoded(&view), bytes);
    }

    #[test]
    fn binary_is_base64() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let view = render_body(png, Some("image/png"), None, 1024);
        assert_eq!(base64_decoded(&view), png);
        assert!(!is_textual(None, png));
    }

    #[test]
    fn textual_content_types() {
        for ct in [
            "text/html; charset=utf-8",
            "TEXT/PLAIN",
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/problem+json",
            "application/vnd.api+json",
            "application/xml",
            "image/svg+xml",
            "application/x-www-form-urlencoded",
            "application/javascript",
            "application/graphql",
            "application/x-ndjson",
            "text/event-stream",
        ] {
            assert!(is_textual(Some(ct), b"{}"), "{ct}");
        }
        for ct in [
            "application/octet-stream",
            "image/png",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "json",
        ] {
            assert!(!is_textual(Some(ct), b"{}"), "{ct}");
        }
    }

    #[test]
    fn without_content_type_control_characters_mean_binary() {
        assert!(is_textual(None, b"a\tb\r\nc"));
        assert!(is_textual(None, b""));
        assert!(is_textual(Some("  "), b"plain"));
        assert!(!is_textual(None, b"a\x00b"));
        assert!(!is_textual(None, b"a\x1bb"));
        // A declared text type is trusted with control characters.
        assert!(is_textual(Some("text/plain"), b"a\x00b"));
    }

    #[test]
    fn decoded_binary_is_base64_of_the_decoded_bytes() {
        let payload: Vec<u8> = (0..=255).collect();
        let wire = gzip(&payload);
        let view = render_body(&wire, None, Some("gzip"), 1024);
        assert!(view.decoded);
        assert_eq!(base64_decoded(&view), payload);
    }

    #[test]
    fn zero_budget_decodes_nothing() {
        let wire = gzip(JSON.as_bytes());
        let view = render_body(&wire, None, Some("gzip"), 0);
        assert!(view.decoded && view.decode_truncated);
        assert_eq!(view.content, "");
    }
}
