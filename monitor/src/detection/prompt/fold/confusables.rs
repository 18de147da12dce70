//! Characters that look like Latin letters (Cyrillic and Greek homoglyphs, fullwidth and
//! mathematical alphanumerics, accented letters), folded to the ASCII letter a reader sees, so
//! `іgnоrе` with Cyrillic `і`, `о`, `е` reads as `ignore`.

/// What one character folds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// An ASCII letter or digit, already lower case.
    Ascii(u8),
    /// A character of another script that looks like this ASCII letter.
    Lookalike(u8),
    /// A letter or digit of another script, lower-cased.
    Other(char),
    /// Anything else: spaces, punctuation, symbols.
    Separator,
}

/// Cyrillic and Greek letters that are drawn like a Latin letter in common fonts.
const LOOKALIKES: &[(char, u8)] = &[
    ('а', b'a'),
    ('А', b'a'),
    ('в', b'b'),
    ('В', b'b'),
    ('с', b'c'),
    ('С', b'c'),
    ('ԁ', b'd'),
    ('е', b'e'),
    ('Е', b'e'),
    ('ё', b'e'),
    ('һ', b'h'),
    ('Н', b'h'),
    ('і', b'i'),
    ('І', b'i'),
    ('ї', b'i'),
    ('ј', b'j'),
    ('Ј', b'j'),
    ('к', b'k'),
    ('К', b'k'),
    ('ӏ', b'l'),
    ('м', b'm'),
    ('М', b'm'),
    ('п', b'n'),
    ('о', b'o'),
    ('О', b'o'),
    ('р', b'p'),
    ('Р', b'p'),
    ('ԛ', b'q'),
    ('г', b'r'),
    ('ѕ', b's'),
    ('Ѕ', b's'),
    ('т', b't'),
    ('Т', b't'),
    ('и', b'u'),
    ('ѵ', b'v'),
    ('ԝ', b'w'),
    ('х', b'x'),
    ('Х', b'x'),
    ('у', b'y'),
    ('У', b'y'),
    ('α', b'a'),
    ('Α', b'a'),
    ('β', b'b'),
    ('Β', b'b'),
    ('ε', b'e'),
    ('Ε', b'e'),
    ('Η', b'h'),
    ('ι', b'i'),
    ('Ι', b'i'),
    ('κ', b'k'),
    ('Κ', b'k'),
    ('Μ', b'm'),
    ('η', b'n'),
    ('Ν', b'n'),
    ('ο', b'o'),
    ('Ο', b'o'),
    ('ρ', b'p'),
    ('Ρ', b'p'),
    ('τ', b't'),
    ('Τ', b't'),
    ('υ', b'u'),
    ('ν', b'v'),
    ('χ', b'x'),
    ('Χ', b'x'),
    ('γ', b'y'),
    ('Υ', b'y'),
    ('Ζ', b'z'),
    ('ɡ', b'g'),
    ('ı', b'i'),
];

/// Latin-1 and Latin Extended-A letters with diacritics, by their base letter: `é` is `e`
/// (French and Spanish injections, and accents sprinkled to dodge filters).
const ACCENTED: &[(&str, u8)] = &[
    ("àáâãäåāăą", b'a'),
    ("çćĉċč", b'c'),
    ("ďđ", b'd'),
    ("èéêëēĕėęě", b'e'),
    ("ĝğġģ", b'g'),
    ("ĥħ", b'h'),
    ("ìíîïĩīĭįı", b'i'),
    ("ĵ", b'j'),
    ("ķ", b'k'),
    ("ĺļľŀł", b'l'),
    ("ñńņňŉ", b'n'),
    ("òóôõöøōŏő", b'o'),
    ("ŕŗř", b'r'),
    ("śŝşšß", b's'),
    ("ţťŧ", b't'),
    ("ùúûüũūŭůűų", b'u'),
    ("ŵ", b'w'),
    ("ýÿŷ", b'y'),
    ("źżž", b'z'),
];

pub fn fold(c: char) -> Fold {
    if c.is_ascii_alphanumeric() {
        return Fold::Ascii(c.to_ascii_lowercase() as u8);
    }
    if c.is_ascii() {
        return Fold::Separator;
    }
    let cp = c as u32;
    // Fullwidth ASCII (U+FF01..U+FF5E) mirrors ASCII 0x21..0x7E.
    if (0xFF01..=0xFF5E).contains(&cp) {
        let a = (cp - 0xFF01 + 0x21) as u8;
        return if a.is_ascii_alphanumeric() {
            Fold::Lookalike(a.to_ascii_lowercase())
        } else {
            Fold::Separator
        };
    }
    // Mathematical alphanumerics: 13 styles of A-Z a-z from U+1D400, then digits from U+1D7CE.
    if (0x1D400..=0x1D6A3).contains(&cp) {
        let k = ((cp - 0x1D400) % 52) as u8;
        return Fold::Lookalike(if k < 26 { b'a' + k } else { b'a' + k - 26 });
    }
    if (0x1D7CE..=0x1D7FF).contains(&cp) {
        return Fold::Lookalike(b'0' + ((cp - 0x1D7CE) % 10) as u8);
    }
    // Circled and parenthesised letters (ⓘⓖⓝⓞⓡⓔ).
    if (0x24B6..=0x24CF).contains(&cp) {
        return Fold::Lookalike(b'a' + (cp - 0x24B6) as u8);
    }
    if (0x24D0..=0x24E9).contains(&cp) {
        return Fold::Lookalike(b'a' + (cp - 0x24D0) as u8);
    }
    if let Some(&(_, a)) = LOOKALIKES.iter().find(|(l, _)| *l == c) {
        return Fold::Lookalike(a);
    }
    if c.is_alphanumeric() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        if let Some(&(_, a)) = ACCENTED.iter().find(|(set, _)| set.contains(lower)) {
            // An accent is ordinary in many languages: not a sign of obfuscation.
            return Fold::Ascii(a);
        }
        return Fold::Other(lower);
    }
    Fold::Separator
}

/// Characters that draw nothing: zero-width spaces and joiners, the word joiner, the BOM, soft
/// hyphens, variation selectors, bidi controls and Unicode tag characters. They are dropped
/// before matching (without breaking a word, which is how they are used to split keywords).
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE007F | 0xE0100..=0xE01EF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_fold_to_the_letter_they_show() {
        assert_eq!(fold('і'), Fold::Lookalike(b'i'));
        assert_eq!(fold('ο'), Fold::Lookalike(b'o'));
        assert_eq!(fold('Ｉ'), Fold::Lookalike(b'i'));
        assert_eq!(fold('𝐢'), Fold::Lookalike(b'i'));
        assert_eq!(fold('𝟘'), Fold::Lookalike(b'0'));
        assert_eq!(fold('ⓘ'), Fold::Lookalike(b'i'));
        assert_eq!(fold('é'), Fold::Ascii(b'e'));
        assert_eq!(fold('I'), Fold::Ascii(b'i'));
        assert_eq!(fold('ж'), Fold::Other('ж'));
        assert_eq!(fold('日'), Fold::Other('日'));
        assert_eq!(fold('-'), Fold::Separator);
        assert_eq!(fold('→'), Fold::Separator);
    }

    #[test]
    fn invisible_characters_are_known() {
        for c in [
            '\u{200b}',
            '\u{200d}',
            '\u{feff}',
            '\u{202e}',
            '\u{e0041}',
            '\u{ad}',
        ] {
            assert!(is_invisible(c), "{:x}", c as u32);
        }
        assert!(!is_invisible('a'));
        assert!(!is_invisible(' '));
    }
}
