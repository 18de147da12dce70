//! Base64 where it is obvious: a value that is nothing but base64 (standard or URL-safe), long
//! enough not to be a word, and decodes to text. Payloads are wrapped so to slip past filters
//! that only read the plain value.

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

/// Shorter values are words, ids and codes far more often than base64 of anything.
pub const MIN_LEN: usize = 16;

/// Share of the decoded characters that must be printable for it to count as text: binary
/// (images, hashes, random tokens) decodes to mostly unprintable bytes.
const MIN_PRINTABLE: f64 = 0.9;

/// Bytes decoded first to judge whether the rest is worth decoding (a multiple of 4).
const PEEK: usize = 64;

const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

/// The text `value` is the base64 of, when it obviously is one.
pub fn decode(value: &str) -> Option<String> {
    let value = value.trim_end_matches('=');
    if value.len() < MIN_LEN {
        return None;
    }
    let (mut url_safe, mut standard) = (false, false);
    let (mut upper, mut lower) = (false, false);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' => lower = true,
            b'0'..=b'9' => {}
            b'+' | b'/' => standard = true,
            b'-' | b'_' => url_safe = true,
            _ => return None,
        }
    }
    // Base64 of text has both cases; hex digests, UUIDs and lowercase words do not.
    if !(upper && lower) || (standard && url_safe) {
        return None;
    }
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    let peek = value.get(..PEEK.min(value.len() / 4 * 4))?;
    if !is_text(&engine.decode(peek).ok()?, false) {
        return None;
    }
    let bytes = engine.decode(value).ok()?;
    if !is_text(&bytes, true) {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// Whether `bytes` read as text: UTF-8 (a prefix may end mid-character), mostly printable,
/// no NUL.
fn is_text(bytes: &[u8], whole: bool) -> bool {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) if !whole && e.error_len().is_none() => {
            // Cut inside a character: judge what came before it.
            match bytes.get(..e.valid_up_to()).map(std::str::from_utf8) {
                Some(Ok(text)) => text,
                _ => return false,
            }
        }
        Err(_) => return false,
    };
    let (mut total, mut printable) = (0usize, 0usize);
    for c in text.chars() {
        if c == '\0' {
            return false;
        }
        total += 1;
        if !c.is_control() || matches!(c, '\t' | '\n' | '\r') {
            printable += 1;
        }
    }
    total > 0 && printable as f64 >= MIN_PRINTABLE * total as f64
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_text() {
        assert_eq!(decode("MScgT1IgJzEnPScx").as_deref(), Some("1' OR '1'='1"));
        assert_eq!(
            decode("PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==").as_deref(),
            Some("<script>alert(1)</script>")
        );
        // URL-safe and unpadded.
        assert_eq!(
            decode("eyJ1c2VyIjoiYm9iIiwicm9sZSI6ImFkbWluIn0").as_deref(),
            Some(r#"{"user":"bob","role":"admin"}"#)
        );
    }

    #[test]
    fn leaves_what_is_not_obviously_base64() {
        // Too short, one case only, not the alphabet, binary.
        assert_eq!(decode("e3s3Kjd9fQ=="), None);
        assert_eq!(decode("123e4567-e89b-12d3-a456-426614174000"), None);
        assert_eq!(
            decode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            None
        );
        assert_eq!(decode("internationalization"), None);
        assert_eq!(decode("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.sig"), None);
        assert_eq!(
            decode(
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
            ),
            None
        );
        assert_eq!(decode("getUserProfileSettingsForAccount"), None);
        assert_eq!(decode("a+b/c-d_eFGHIJKLMNOP"), None);
    }
}
