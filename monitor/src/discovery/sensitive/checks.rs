//! Checks for single candidate values: the checksums and shapes that tell a real card number,
//! IBAN, SSN, phone number or token from digits and letters that merely look alike.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// Luhn checksum over ASCII digits.
pub(crate) fn luhn_ok(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Issuer prefix ranges of the major networks: (low, high, prefix digits, allowed lengths as a
/// bit mask). A number outside these is not a payment card whatever its checksum, which keeps
/// random Luhn-valid ids (one in ten is) out.
const NETWORKS: &[(u32, u32, usize, u32)] = &[
    (4, 4, 1, 1 << 13 | 1 << 16 | 1 << 19), // Visa
    (51, 55, 2, 1 << 16),                   // Mastercard
    (2221, 2720, 4, 1 << 16),               // Mastercard 2-series
    (34, 34, 2, 1 << 15),                   // American Express
    (37, 37, 2, 1 << 15),                   // American Express
    (6011, 6011, 4, LEN_16_19),             // Discover
    (644, 649, 3, LEN_16_19),               // Discover
    (65, 65, 2, LEN_16_19),                 // Discover
    (3528, 3589, 4, LEN_16_19),             // JCB
    (300, 305, 3, 1 << 14 | LEN_16_19),     // Diners Club
    (36, 36, 2, 1 << 14 | LEN_16_19),       // Diners Club
    (38, 39, 2, LEN_16_19),                 // Diners Club
    (62, 62, 2, LEN_16_19),                 // UnionPay
    (50, 50, 2, LEN_13_19),                 // Maestro
    (56, 58, 2, LEN_13_19),                 // Maestro
    (63, 63, 2, LEN_13_19),                 // Maestro
    (67, 67, 2, LEN_13_19),                 // Maestro
];
const LEN_16_19: u32 = 1 << 16 | 1 << 17 | 1 << 18 | 1 << 19;
const LEN_13_19: u32 = 1 << 13 | 1 << 14 | 1 << 15 | LEN_16_19;

/// A card number: 13–19 ASCII digits with a known issuer prefix and length, passing Luhn.
pub(crate) fn is_card_digits(digits: &[u8]) -> bool {
    let len = digits.len();
    if !(13..=19).contains(&len) || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let network = NETWORKS.iter().any(|&(low, high, width, lengths)| {
        let prefix = digits[..width]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        (low..=high).contains(&prefix) && lengths & (1 << len) != 0
    });
    network && luhn_ok(digits)
}

/// IBAN length by country (ISO 13616 registry), for the countries that use IBANs most.
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AT", 20), (b"AZ", 28), (b"BA", 20), (b"BE", 16),
    (b"BG", 22), (b"BH", 22), (b"BR", 29), (b"CH", 21), (b"CR", 22), (b"CY", 28), (b"CZ", 24),
    (b"DE", 22), (b"DK", 18), (b"DO", 28), (b"EE", 20), (b"EG", 29), (b"ES", 24), (b"FI", 18),
    (b"FO", 18), (b"FR", 27), (b"GB", 22), (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GR", 27),
    (b"GT", 28), (b"HR", 21), (b"HU", 28), (b"IE", 22), (b"IL", 23), (b"IS", 26), (b"IT", 27),
    (b"JO", 30), (b"KW", 30), (b"KZ", 20), (b"LB", 28), (b"LI", 21), (b"LT", 20), (b"LU", 20),
    (b"LV", 21), (b"MC", 27), (b"MD", 24), (b"ME", 22), (b"MK", 19), (b"MR", 27), (b"MT", 31),
    (b"MU", 30), (b"NL", 18), (b"NO", 15), (b"PK", 24), (b"PL", 28), (b"PS", 29), (b"PT", 25),
    (b"QA", 29), (b"RO", 24), (b"RS", 22), (b"SA", 24), (b"SE", 24), (b"SI", 19), (b"SK", 24),
    (b"SM", 27), (b"TN", 24), (b"TR", 26), (b"UA", 29), (b"VG", 24), (b"XK", 20),
];

pub(crate) fn iban_length(country: &[u8]) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| c.as_slice() == country)
        .map(|&(_, len)| len)
}

/// A compact IBAN (no spaces): known country, its exact length, check digits 02–98, upper-case
/// letters and digits only, and the mod-97 check equal to 1.
pub(crate) fn iban_ok(iban: &[u8]) -> bool {
    if iban.len() < 4 || iban_length(&iban[..2]) != Some(iban.len()) {
        return false;
    }
    if !iban[2].is_ascii_digit() || !iban[3].is_ascii_digit() {
        return false;
    }
    let check = (iban[2] - b'0') * 10 + (iban[3] - b'0');
    if !(2..=98).contains(&check) {
        return false;
    }
    // The first four characters move to the end; letters count as 10..35 (two digits).
    let mut rem = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        rem = match c {
            b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// US SSN parts (3, 2 and 4 ASCII digits): area not 000, 666 or 9xx; group not 00; serial not
/// 0000. Those are never issued, so they also rule out many accidental digit groups.
pub(crate) fn ssn_parts_ok(area: &[u8], group: &[u8], serial: &[u8]) -> bool {
    let digits = |s: &[u8], n: usize| s.len() == n && s.iter().all(u8::is_ascii_digit);
    digits(area, 3)
        && digits(group, 2)
        && digits(serial, 4)
        && area != b"000"
        && area != b"666"
        && area[0] != b'9'
        && group != b"00"
        && serial != b"0000"
}

/// Nine digits read as an SSN (only used when the field name says SSN).
pub(crate) fn ssn_digits_ok(digits: &[u8]) -> bool {
    digits.len() == 9 && ssn_parts_ok(&digits[..3], &digits[3..5], &digits[5..])
}

/// Headers larger than this are not decoded: real JWT headers are a few dozen bytes.
const JWT_HEADER_MAX: usize = 2048;

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A JWS compact token: three base64url parts, the first decoding to a JSON object with `alg`
/// and the second to a JSON object (starts `eyJ`, the encoding of `{"`). The signature may be
/// empty (`alg: none`), which is still a token worth flagging.
pub(crate) fn is_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if !header.starts_with("eyJ")
        || !payload.starts_with("eyJ")
        || header.len() > JWT_HEADER_MAX
        || !is_base64url(header)
        || !is_base64url(payload)
        || !is_base64url(signature)
    {
        return false;
    }
    let Ok(decoded) = URL_SAFE_NO_PAD.decode(header) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&decoded)
        .is_ok_and(|h| h.contains_key("alg"))
}

/// An email address of the usual shape: `local@domain.tld`, with a dotted domain of valid
/// labels and an alphabetic top-level domain.
pub(crate) fn is_email(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    if !local_ok {
        return false;
    }
    let mut labels = 0;
    let mut tld = "";
    for label in domain.split('.') {
        let ok = (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return false;
        }
        labels += 1;
        tld = label;
    }
    labels >= 2 && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

/// `8-4-4-4-12` hex digits, any case.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether a value looks like a random secret rather than a word, a name or a number: 16–512
/// printable ASCII without spaces, at least two of lower/upper/digit, and at least 3 bits of
/// entropy per character (English words and repeated characters stay below).
pub(crate) fn looks_random(s: &str) -> bool {
    let b = s.as_bytes();
    if !(16..=512).contains(&b.len()) || !b.iter().all(u8::is_ascii_graphic) {
        return false;
    }
    let kinds = [
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_digit),
    ];
    if kinds.iter().filter(|k| **k).count() < 2 {
        return false;
    }
    let mut counts = [0u16; 128];
    for &c in b {
        counts[usize::from(c & 0x7f)] += 1;
    }
    let len = b.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.0
}

/// A phone number: `+` and 8–15 digits (E.164) with optional separators, or a common national
/// format with separators: North American `(555) 123-4567` / `555-123-4567` (optionally after a
/// `1`), or a trunk-prefixed `020 7946 0958` / `06 12 34 56 78` (9–11 digits). Plain digit
/// strings, dates (`2024-01-15`), SSNs (`123-45-6789`) and IP addresses are not.
pub(crate) fn is_phone(s: &str) -> bool {
    let s = s.trim().as_bytes();
    if s.is_empty() || s.len() > 32 {
        return false;
    }
    let (plus, body) = match s.split_first() {
        Some((b'+', rest)) => (true, rest),
        _ => (false, s),
    };
    let mut groups = [0usize; 8];
    let mut count = 0;
    let (mut current, mut digits, mut separators, mut open, mut close) = (0, 0, 0, 0, 0);
    for &c in body {
        match c {
            b'0'..=b'9' => {
                current += 1;
                digits += 1;
                continue;
            }
            b'(' => open += 1,
            b')' => close += 1,
            b' ' | b'-' | b'.' => {}
            _ => return false,
        }
        separators += 1;
        if current > 0 {
            if count == groups.len() {
                return false;
            }
            groups[count] = current;
            count += 1;
            current = 0;
        }
    }
    if current > 0 {
        if count == groups.len() {
            return false;
        }
        groups[count] = current;
        count += 1;
    }
    if open != close || open > 1 || count == 0 {
        return false;
    }
    let first_digit = body.iter().find(|c| c.is_ascii_digit()).copied();
    if plus {
        return (8..=15).contains(&digits) && first_digit != Some(b'0');
    }
    if separators == 0 {
        return false;
    }
    let groups = &groups[..count];
    let north_american =
        groups == [3, 3, 4] || (groups == [1, 3, 3, 4] && first_digit == Some(b'1'));
    let trunk = first_digit == Some(b'0')
        && (9..=11).contains(&digits)
        && count >= 2
        && (2..=5).contains(&groups[0])
        && groups != [3, 2, 4];
    north_american || trunk
}
