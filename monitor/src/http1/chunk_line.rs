//! One chunk-size line (RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF) read the lenient way
//! peers read it, with every departure from the grammar flagged: parsers that read such a line
//! differently disagree on where the chunk ends, a known request-smuggling vector.
//!
//! ```text
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-name = token
//! chunk-ext-val  = token / quoted-string
//! ```

use super::start_line::is_tchar;
use crate::transaction::{Flag, Flags};

/// Hex digits of a chunk size kept: 15 fit a u64 with room, and no body is that long.
const MAX_SIZE_DIGITS: usize = 15;

/// The chunk size of `line` (without its LF), and what is irregular about the line; `None`
/// when no size can be read (no hex digits, too many, or something other than an extension
/// after them).
pub fn parse(line: &[u8]) -> Option<(u64, Flags)> {
    let mut flags = Flags::empty();
    let line = match line.strip_suffix(b"\r") {
        Some(l) => l,
        None => {
            flags.set(Flag::BareLf);
            line
        }
    };
    // A CR that does not end the line: some peers end the line there (RFC 9112 §2.2).
    if memchr::memchr(b'\r', line).is_some() {
        flags.set(Flag::BareCr);
    }
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > MAX_SIZE_DIGITS {
        return None;
    }
    // What peers have always accepted: optional whitespace, then nothing or an extension.
    let tail = &line[digits..];
    let rest = tail.trim_ascii_start();
    if !rest.is_empty() && rest[0] != b';' {
        return None;
    }
    let size = line[..digits]
        .iter()
        .try_fold(0u64, |n, &b| Some(n * 16 + u64::from(hex(b)?)))?;
    Some((size, flags.union(extension_flags(tail))))
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Walks the bytes after the size against the chunk-ext grammar: whitespace (BWS, which senders
/// must not generate: RFC 9110 §5.6.3; and after the size with no extension not even allowed)
/// and anything else out of the grammar are flagged. A CR is skipped here, being flagged already.
fn extension_flags(ext: &[u8]) -> Flags {
    let mut flags = Flags::empty();
    let mut at = 0;
    let skip_bws = |at: &mut usize, flags: &mut Flags| {
        while let Some(&b) = ext.get(*at) {
            match b {
                b' ' | b'\t' => flags.set(Flag::WhitespaceInChunkLine),
                b'\r' => {}
                _ => break,
            }
            *at += 1;
        }
    };
    loop {
        skip_bws(&mut at, &mut flags);
        match ext.get(at) {
            None => return flags,
            Some(b';') => at += 1,
            Some(_) => return flags.with(Flag::InvalidChunkExtension),
        }
        skip_bws(&mut at, &mut flags);
        let name = token(&ext[at..]);
        if name == 0 {
            // A bare ";", or a name that is not a token.
            return flags.with(Flag::InvalidChunkExtension);
        }
        at += name;
        skip_bws(&mut at, &mut flags);
        if ext.get(at) != Some(&b'=') {
            continue;
        }
        at += 1;
        skip_bws(&mut at, &mut flags);
        let value = match ext.get(at) {
            Some(b'"') => quoted_string(&ext[at..]),
            _ => Some(token(&ext[at..])).filter(|&n| n > 0),
        };
        match value {
            Some(n) => at += n,
            None => return flags.with(Flag::InvalidChunkExtension),
        }
    }
}

fn token(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|&&b| is_tchar(b)).count()
}

/// The length of the quoted-string at the start of `bytes` (RFC 9110 §5.6.4), quotes included;
/// `None` when it does not end (an unbalanced quote) or holds a byte it may not.
fn quoted_string(bytes: &[u8]) -> Option<usize> {
    let mut at = 1;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'"' => return Some(at + 1),
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            b'\\' => match bytes.get(at + 1) {
                Some(&n) if n == b'\t' || (n >= b' ' && n != 0x7f) => at += 2,
                _ => return None,
            },
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            b'\t' | b' '..=0x7e | 0x80..=0xff => at += 1,
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags_of(line: &[u8]) -> Vec<&'static str> {
        let (_, flags) = parse(line).unwrap_or_else(|| panic!("refused {line:?}"));
        flags.iter().map(Flag::name).collect()
    }

    #[test]
    fn grammatical_lines_are_clean() {
        for line in [
            &b"5\r"[..],
            b"1a\r",
            b"0\r",
            b"5;name\r",
            b"5;name=value\r",
            b"5;a=1;b;c=\"quoted; \\\"value\\\"\"\r",
            b"5;e=\"\"\r",
            b"5;x=\"caf\xc3\xa9\"\r",
        ] {
            assert_eq!(flags_of(line), Vec::<&str>::new(), "{line:?}");
        }
        assert_eq!(parse(b"1a\r").map(|p| p.0), Some(26));
        assert_eq!(
            parse(b"fffffffffffffff\r").map(|p| p.0),
            Some(0xfff_ffff_ffff_ffff)
        );
    }

    #[test]
    fn every_departure_is_flagged_and_the_size_still_read() {
        let cases: [(&[u8], &[&str]); 15] = [
            (b"5", &["bare_lf"]),
            (b"5;\r", &["invalid_chunk_extension"]),
            (b"5;;a\r", &["invalid_chunk_extension"]),
            (b"5;a=\r", &["invalid_chunk_extension"]),
            (b"5;a=\"b\r", &["invalid_chunk_extension"]),
            (b"5;a=\"b\\\r", &["invalid_chunk_extension"]),
            (b"5;a=b\"c\"\r", &["invalid_chunk_extension"]),
            (b"5;a(b)\r", &["invalid_chunk_extension"]),
            (b"5;a=\"\x01\"\r", &["invalid_chunk_extension"]),
            (b"5 \r", &["whitespace_in_chunk_line"]),
            (b"5\t\r", &["whitespace_in_chunk_line"]),
            (b"5 ;a\r", &["whitespace_in_chunk_line"]),
            (b"5; a = b\r", &["whitespace_in_chunk_line"]),
            (b"5\r;a\r", &["bare_cr"]),
            (b"5\r\r", &["bare_cr"]),
        ];
        for (line, want) in cases {
            assert_eq!(flags_of(line), want, "{line:?}");
            assert_eq!(parse(line).map(|p| p.0), Some(5), "{line:?}");
        }
    }

    #[test]
    fn no_size_is_no_size() {
        for line in [
            &b"\r"[..],
            b"zz\r",
            b"-1\r",
            b"1 2\r",
            b"0x5\r",
            b"ffffffffffffffff\r",
            b";a\r",
        ] {
            assert_eq!(parse(line), None, "{line:?}");
        }
    }
}
