//! The kinds of bytes a value holds, found in one pass: the cheap prefilter that lets each rule
//! skip a value that cannot match it (most values are letters and digits only).

/// A set of byte kinds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Classes(u32);

impl Classes {
    pub const SQUOTE: u32 = 1 << 0;
    pub const DQUOTE: u32 = 1 << 1;
    pub const BACKTICK: u32 = 1 << 2;
    pub const SEMI: u32 = 1 << 3;
    pub const PIPE: u32 = 1 << 4;
    pub const AMP: u32 = 1 << 5;
    pub const DOLLAR: u32 = 1 << 6;
    pub const LT: u32 = 1 << 7;
    pub const GT: u32 = 1 << 8;
    pub const PAREN: u32 = 1 << 9;
    pub const BRACE: u32 = 1 << 10;
    pub const SLASH: u32 = 1 << 11;
    pub const BACKSLASH: u32 = 1 << 12;
    pub const DOT: u32 = 1 << 13;
    pub const COLON: u32 = 1 << 14;
    pub const HASH: u32 = 1 << 15;
    pub const PERCENT: u32 = 1 << 16;
    pub const STAR: u32 = 1 << 17;
    pub const EQ: u32 = 1 << 18;
    pub const BANG: u32 = 1 << 19;
    pub const SPACE: u32 = 1 << 20;
    pub const NEWLINE: u32 = 1 << 21;
    pub const DASH: u32 = 1 << 22;
    pub const DIGIT: u32 = 1 << 23;
    /// An ASCII small letter.
    pub const LOWER: u32 = 1 << 24;
    pub const AT: u32 = 1 << 25;
    pub const QUESTION: u32 = 1 << 26;
    /// Anything else: other punctuation, controls, non-ASCII.
    pub const OTHER: u32 = 1 << 27;
    pub const PLUS: u32 = 1 << 28;
    pub const NUL: u32 = 1 << 29;
    /// Part of a character beyond ASCII (also counted in [`Classes::OTHER`]).
    pub const NON_ASCII: u32 = 1 << 30;
    /// An ASCII capital letter.
    pub const UPPER: u32 = 1 << 31;

    /// An ASCII letter of either case. Two kinds, not one, so that base64 (which has both)
    /// is told from ids and digests (which have one) without reading the value again.
    pub const LETTER: u32 = Self::LOWER | Self::UPPER;
    /// What identifiers, numbers and words are made of: values of only these bytes cannot
    /// hold a payload (except a bare address or base64, which their rules look for).
    pub const PLAIN: u32 = Self::LETTER | Self::DIGIT | Self::DASH;

    pub const QUOTES: u32 = Self::SQUOTE | Self::DQUOTE | Self::BACKTICK;

    /// The kinds of bytes in `text`.
    pub fn of(text: &str) -> Classes {
        // Four bytes a step into two sets: every value is classified, most are short, and
        // this is a good part of what an ordinary value costs.
        let kind = |b: u8| TABLE[usize::from(b)];
        let mut chunks = text.as_bytes().chunks_exact(4);
        let (mut a, mut b) = (0, 0);
        for chunk in &mut chunks {
            if let &[w, x, y, z] = chunk {
                a |= kind(w) | kind(x);
                b |= kind(y) | kind(z);
            }
        }
        for &c in chunks.remainder() {
            a |= kind(c);
        }
        Classes(a | b)
    }

    /// Whether every kind present is in `mask`.
    pub const fn only(self, mask: u32) -> bool {
        self.0 & !mask == 0
    }

    /// Whether any kind of `mask` is present.
    pub const fn any(self, mask: u32) -> bool {
        self.0 & mask != 0
    }

    /// Whether the value is prose-like (has whitespace), so rules that read tokens know that
    /// words around a match may be ordinary text.
    pub const fn has_space(self) -> bool {
        self.any(Self::SPACE | Self::NEWLINE)
    }
}

const TABLE: [u32; 256] = table();

const fn table() -> [u32; 256] {
    let mut t = [Classes::OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'\'' => Classes::SQUOTE,
            b'"' => Classes::DQUOTE,
            b'`' => Classes::BACKTICK,
            b';' => Classes::SEMI,
            b'|' => Classes::PIPE,
            b'&' => Classes::AMP,
            b'$' => Classes::DOLLAR,
            b'<' => Classes::LT,
            b'>' => Classes::GT,
            b'(' | b')' => Classes::PAREN,
            b'{' | b'}' => Classes::BRACE,
            b'/' => Classes::SLASH,
            b'\\' => Classes::BACKSLASH,
            b'.' => Classes::DOT,
            b':' => Classes::COLON,
            b'#' => Classes::HASH,
            b'%' => Classes::PERCENT,
            b'*' => Classes::STAR,
            b'=' => Classes::EQ,
            b'!' => Classes::BANG,
            b' ' | b'\t' => Classes::SPACE,
            b'\n' | b'\r' => Classes::NEWLINE,
            b'-' => Classes::DASH,
            b'@' => Classes::AT,
            b'?' => Classes::QUESTION,
            b'+' => Classes::PLUS,
            0 => Classes::NUL,
            b'0'..=b'9' => Classes::DIGIT,
            b'a'..=b'z' => Classes::LOWER,
            b'A'..=b'Z' => Classes::UPPER,
            0x80..=0xFF => Classes::OTHER | Classes::NON_ASCII,
            _ => Classes::OTHER,
        };
        b += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::Classes;

    #[test]
    fn kinds_of_bytes() {
        let c = Classes::of("abc123");
        assert!(c.any(Classes::LETTER) && c.any(Classes::DIGIT));
        assert!(!c.any(!(Classes::LETTER | Classes::DIGIT)));
        assert!(!c.has_space());
        let c = Classes::of("a'b;c\n{é}");
        for k in [
            Classes::SQUOTE,
            Classes::SEMI,
            Classes::NEWLINE,
            Classes::BRACE,
            Classes::OTHER,
        ] {
            assert!(c.any(k));
        }
        assert!(c.has_space());
        assert_eq!(Classes::of(""), Classes::default());
    }
}
