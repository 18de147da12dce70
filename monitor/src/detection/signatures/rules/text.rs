//! Small text helpers the rules share: ASCII case-insensitive search and word runs, without
//! allocating.

/// Where `needle` (lowercase ASCII) first occurs in `hay` at or after `from`, ignoring ASCII
/// case.
pub fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut at = from;
    while let Some(tail) = hay.get(at..) {
        let i = memchr::memchr2(first, first.to_ascii_uppercase(), tail)?;
        let start = at + i;
        let candidate = hay.get(start + 1..start + 1 + rest.len())?;
        if candidate.eq_ignore_ascii_case(rest) {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

/// Whether `needle` occurs in `hay`: a first-byte scan, cheaper than building a searcher for
/// the short needles and values the rules test.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    let at_first = |at: usize| hay.get(at..).is_some_and(|rest| rest.starts_with(needle));
    // memchr's setup costs more than a plain loop over a value this short (most are).
    if hay.len() < SHORT {
        return hay
            .iter()
            .enumerate()
            .any(|(at, &b)| b == first && at_first(at));
    }
    memchr::memchr_iter(first, hay).any(at_first)
}

/// Values shorter than this are searched by [`contains`] in a plain loop.
const SHORT: usize = 64;

pub fn starts_with_ci(hay: &[u8], prefix: &[u8]) -> bool {
    hay.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The runs of ASCII letters, digits and `_` in `text`, with their offsets.
pub fn words(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = text.get(at..)?;
        let start = at + rest.iter().position(|&b| is_word_byte(b))?;
        let len = text
            .get(start..)?
            .iter()
            .take_while(|&&b| is_word_byte(b))
            .count();
        at = start + len;
        Some((start, text.get(start..start + len)?))
    })
}

/// A word lowercased into a small buffer, to be matched against keyword tables; `None` when
/// longer than any keyword.
pub struct Lower<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Lower<N> {
    pub fn of(word: &[u8]) -> Option<Self> {
        if word.len() > N {
            return None;
        }
        let mut buf = [0u8; N];
        for (d, s) in buf.iter_mut().zip(word) {
            *d = s.to_ascii_lowercase();
        }
        Some(Lower {
            buf,
            len: word.len(),
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_search() {
        assert_eq!(find_ci(b"xxJaVaScript:", b"javascript:", 0), Some(2));
        assert_eq!(find_ci(b"abcabc", b"bc", 2), Some(4));
        assert_eq!(find_ci(b"ab", b"abc", 0), None);
        assert_eq!(find_ci(b"", b"a", 0), None);
        assert_eq!(find_ci(b"a", b"", 0), None);
        assert_eq!(find_ci(b"a", b"a", 5), None);
        assert!(starts_with_ci(b"SELECT x", b"select"));
        assert!(!starts_with_ci(b"SEL", b"select"));
        assert!(contains(b"a/../b", b".."));
        assert!(!contains(b"a/./b", b".."));
        assert!(contains(b"x", b""));
    }

    #[test]
    fn words_and_lowering() {
        let w: Vec<_> = words(b"1 UNION/**/select_x,(a)").collect();
        assert_eq!(
            w,
            [(0, &b"1"[..]), (2, b"UNION"), (11, b"select_x"), (21, b"a")]
        );
        assert_eq!(
            Lower::<8>::of(b"UnIoN").map(|l| l.as_bytes().to_vec()),
            Some(b"union".to_vec())
        );
        assert!(Lower::<3>::of(b"union").is_none());
    }
}
