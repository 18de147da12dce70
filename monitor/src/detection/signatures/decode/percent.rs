//! Percent-decoding as lenient servers do it: `%XX`, IIS's `%uXXXX`, `+` as a space in forms,
//! and overlong UTF-8 (`%c0%af` for `/`), which old decoders turned into the ASCII it spells.

/// What one round of [`decode_round`] met.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Some `%XX` or `%uXXXX` was decoded.
    pub percent: bool,
    pub unicode: bool,
    pub plus: bool,
}

/// Decodes one round of `%XX` (and `%uXXXX`; `+` too when `plus_is_space`) from `input` into
/// `out`. Malformed escapes are kept as they are, as servers keep them.
pub fn decode_round(input: &[u8], plus_is_space: bool, out: &mut Vec<u8>) -> Round {
    let mut round = Round::default();
    out.clear();
    out.reserve(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'%' => {
                if let Some(byte) = hex2(input.get(i + 1..i + 3)) {
                    out.push(byte);
                    round.percent = true;
                    i += 3;
                    continue;
                }
                if matches!(input.get(i + 1), Some(b'u' | b'U'))
                    && let Some(code) = hex4(input.get(i + 2..i + 6))
                {
                    let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    round.unicode = true;
                    i += 6;
                    continue;
                }
                out.push(b);
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                round.plus = true;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    round
}

/// Replaces overlong UTF-8 encodings of ASCII (`C0 AF` for `/`, `E0 80 AE` for `.`) with the
/// ASCII they spell, in place; whether there were any. Real UTF-8 never contains them.
pub fn fold_overlong(bytes: &mut Vec<u8>) -> bool {
    if !bytes
        .iter()
        .any(|&b| matches!(b, 0xC0 | 0xC1 | 0xE0 | 0xF0))
    {
        return false;
    }
    let mut found = false;
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let cont = |k: usize| bytes.get(i + k).copied().filter(|c| c & 0xC0 == 0x80);
        let folded = match b {
            0xC0 | 0xC1 => cont(1).map(|c1| (2, (u32::from(b & 0x1F) << 6) | u32::from(c1 & 0x3F))),
            0xE0 => match (cont(1), cont(2)) {
                (Some(c1), Some(c2)) if c1 < 0xA0 => {
                    Some((3, (u32::from(c1 & 0x3F) << 6) | u32::from(c2 & 0x3F)))
                }
                _ => None,
            },
            0xF0 => match (cont(1), cont(2), cont(3)) {
                (Some(c1), Some(c2), Some(c3)) if c1 < 0x90 => Some((
                    4,
                    (u32::from(c1 & 0x3F) << 12)
                        | (u32::from(c2 & 0x3F) << 6)
                        | u32::from(c3 & 0x3F),
                )),
                _ => None,
            },
            _ => None,
        };
        match folded {
            // Only overlong forms of ASCII are folded; wider ones stay invalid (and lossy).
            Some((len, code)) if code < 0x80 => {
                out.push(code as u8);
                found = true;
                i += len;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    *bytes = out;
    found
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex2(pair: Option<&[u8]>) -> Option<u8> {
    match pair? {
        &[h, l] => Some(hex_digit(h)? << 4 | hex_digit(l)?),
        _ => None,
    }
}

fn hex4(quad: Option<&[u8]>) -> Option<u32> {
    quad?
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc << 4 | u32::from(hex_digit(b)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str, plus: bool) -> (String, Round) {
        let mut out = Vec::new();
        let r = decode_round(s.as_bytes(), plus, &mut out);
        (String::from_utf8_lossy(&out).into_owned(), r)
    }

    #[test]
    fn decodes_escapes_and_keeps_malformed_ones() {
        assert_eq!(round("a%20b%2Fc", false).0, "a b/c");
        assert_eq!(round("100%", false).0, "100%");
        assert_eq!(round("%zz%4", false).0, "%zz%4");
        assert_eq!(round("50% off", false).0, "50% off");
        assert_eq!(round("%252e", false).0, "%2e");
        assert!(round("%41", false).1.percent);
        assert!(!round("abc", false).1.percent);
    }

    #[test]
    fn plus_is_a_space_only_in_forms() {
        assert_eq!(round("a+b", true).0, "a b");
        assert_eq!(round("a+b", false).0, "a+b");
        assert!(round("a+b", true).1.plus);
    }

    #[test]
    fn iis_unicode_escapes() {
        let (s, r) = round("..%u2215etc%U002Fx%u12", false);
        assert_eq!(s, "..\u{2215}etc/x%u12");
        assert!(r.unicode);
        // A surrogate is not a char: it becomes U+FFFD rather than a panic.
        assert_eq!(round("%uD800", false).0, "\u{FFFD}");
    }

    #[test]
    fn overlong_ascii_is_folded() {
        let mut b = b"..\xC0\xAF..\xE0\x80\xAEx\xC1\x9C".to_vec();
        assert!(fold_overlong(&mut b));
        assert_eq!(b, b"../...x\\");
        // Real UTF-8 (é = C3 A9) and a lone C0 stay as they are.
        let mut b = "é/".as_bytes().to_vec();
        assert!(!fold_overlong(&mut b));
        assert_eq!(b, "é/".as_bytes());
        let mut b = vec![0xC0];
        assert!(!fold_overlong(&mut b));
        assert_eq!(b, [0xC0]);
    }
}
