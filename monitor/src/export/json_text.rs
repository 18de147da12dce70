//! JSON text written by hand into a byte buffer, for the one line written per transaction:
//! going through serde's data model cost about a third of the replay's time. Strings are
//! escaped and integers spelled exactly as serde_json does, so the text is the same.

/// Bytes that must be escaped in a JSON string: control characters, `"` and `\`.
const fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Appends `s` as a quoted JSON string, escaped as serde_json escapes (`\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00xx`).
pub fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if !has_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let first = next_escape(bytes, 0).unwrap_or(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let rest = &bytes[first..];
    if rest.len() <= DENSE {
        // Short text with escapes (a JSON body, say) has them close together: one pass byte by
        // byte costs less than a search and a copy between each two.
        escape_dense(out, rest);
    } else {
        let mut copied = first;
        while let Some(at) = next_escape(bytes, copied) {
            copy(out, &bytes[copied..at]);
            escape(out, bytes[at]);
            copied = at + 1;
        }
        copy(out, &bytes[copied..]);
    }
    out.push(b'"');
}

/// Whether no byte of `bytes` needs escaping: such text is written with `plain_string`.
#[inline]
pub fn is_plain(bytes: &[u8]) -> bool {
    !has_escape(bytes)
}

/// Whether any byte needs escaping. Most strings (header names and values, paths) need none,
/// and are short: asking only whether, not where, lets the words overlap and the loop run
/// without a branch per word.
#[inline]
fn has_escape(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        return bytes.iter().any(|&byte| needs_escape(byte));
    }
    let mut words = bytes.chunks_exact(8);
    let mut flagged = 0;
    for word in words.by_ref() {
        flagged |= escape_mask(word_at(word));
    }
    if !words.remainder().is_empty() {
        // The last eight bytes, overlapping some already checked.
        flagged |= escape_mask(word_at(&bytes[bytes.len() - 8..]));
    }
    // A flagged byte is never a false one unless a true one is below it (`escape_mask`).
    flagged != 0
}

/// Text left after its first escape up to which it is escaped byte by byte.
const DENSE: usize = 256;

/// Appends `text`, UTF-8 that needs no escaping (names of enum values, timestamps), quoted.
#[inline]
pub fn plain_string(out: &mut Vec<u8>, text: impl AsRef<[u8]>) {
    let text = text.as_ref();
    debug_assert!(std::str::from_utf8(text).is_ok() && !text.iter().any(|&b| needs_escape(b)));
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text);
    out.push(b'"');
}

/// Appends a run of bytes; short runs (between escapes in JSON text, say) byte by byte, which
/// costs less than a call to memcpy.
#[inline]
fn copy(out: &mut Vec<u8>, run: &[u8]) {
    if run.len() <= 8 {
        for &byte in run {
            out.push(byte);
        }
    } else {
        out.extend_from_slice(run);
    }
}

/// The index of the first byte at or after `from` that needs escaping. Eight bytes at a time
/// (most strings need no escaping at all); the last few in one more word overlapping bytes
/// already checked, or one by one when fewer than eight bytes are left to check.
#[inline]
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut words = bytes.get(from..)?.chunks_exact(8);
    let mut at = from;
    for word in words.by_ref() {
        let mask = escape_mask(word_at(word));
        if mask != 0 {
            // The lowest flagged byte is always a true one (see `escape_mask`).
            return Some(at + mask.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let tail = words.remainder();
    if tail.is_empty() {
        return None;
    }
    match bytes.len().checked_sub(8).filter(|&last| last >= from) {
        // The word's bytes before the tail were checked above and need no escaping, so none is
        // flagged and nothing above them falsely: the lowest flagged byte is exact.
        Some(last) => {
            let mask = escape_mask(word_at(&bytes[last..]));
            (mask != 0).then(|| last + mask.trailing_zeros() as usize / 8)
        }
        None => tail.iter().position(|&b| needs_escape(b)).map(|i| at + i),
    }
}

/// The first eight bytes of `bytes` (which has at least eight) as a little-endian word.
#[inline]
fn word_at(bytes: &[u8]) -> u64 {
    let mut chunk = [0u8; 8];
    chunk.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(chunk)
}

/// The high bit of each byte of `word` (little-endian) that needs escaping: below 0x20, `"` or
/// `\` (SWAR). A borrow can also flag a byte above a flagged one, never one below, so the
/// lowest flagged byte is exact.
fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_bytes(word ^ (ONES * u64::from(b'\\')));
    below_space | quote | backslash
}

/// What each byte that `needs_escape` becomes in a JSON string: `u` for `\u00xx`, any other
/// letter for a backslash and it.
const ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `text` escaped, into room made for the longest outcome (six bytes for each byte, and
/// a word more) and cut back after: no capacity check per byte. Eight bytes at a time: each word
/// is copied whole, and kept up to its first byte that needs escaping, which is escaped in place;
/// the next word starts after it.
fn escape_dense(out: &mut Vec<u8>, text: &[u8]) {
    let start = out.len();
    out.resize(start + text.len() * 6 + 8, 0);
    let room = &mut out[start..];
    // Always `len <= 6 * at`, so a word copied at `len` fits while `at + 8 <= text.len()`.
    let (mut len, mut at) = (0, 0);
    while let Some(word) = text.get(at..at + 8) {
        room[len..len + 8].copy_from_slice(word);
        let mask = escape_mask(word_at(word));
        if mask == 0 {
            len += 8;
            at += 8;
            continue;
        }
        // The lowest flagged byte is a true one (see `escape_mask`).
        let first = mask.trailing_zeros() as usize / 8;
        len += first + write_escape(&mut room[len + first..], text[at + first]);
        at += first + 1;
    }
    for &byte in &text[at..] {
        if needs_escape(byte) {
            len += write_escape(&mut room[len..], byte);
        } else {
            room[len] = byte;
            len += 1;
        }
    }
    out.truncate(start + len);
}

/// Writes the escape of `byte` (one that `needs_escape`) at the start of `room`, which has six
/// bytes at least; returns its length.
#[inline]
fn write_escape(room: &mut [u8], byte: u8) -> usize {
    match ESCAPES[usize::from(byte)] {
        b'u' => {
            room[..6].copy_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0x0f)],
            ]);
            6
        }
        short => {
            room[..2].copy_from_slice(&[b'\\', short]);
            2
        }
    }
}

fn escape(out: &mut Vec<u8>, byte: u8) {
    let mut buf = [0u8; 6];
    let len = write_escape(&mut buf, byte);
    out.extend_from_slice(&buf[..len]);
}

#[inline]
pub fn uint(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

#[inline]
pub fn boolean(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

#[inline]
pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"null");
}

/// A member name with its punctuation, `,"name":`, so that writing it is one copy of a
/// constant (there are some eighty per line). Made by `key!`.
#[derive(Debug, Clone, Copy)]
pub struct Key(&'static str);

impl Key {
    /// `run` is `,"name":` with a plain ASCII name; `key!` builds it.
    #[doc(hidden)]
    pub const fn from_run(run: &'static str) -> Self {
        Self(run)
    }
}

/// The `Key` of a member named `$name` (a string literal of plain ASCII).
macro_rules! key {
    ($name:literal) => {
        $crate::export::json_text::Key::from_run(concat!(",\"", $name, "\":"))
    };
}
pub(crate) use key;

/// An object being written: `begin`, then `key` before each value, then `end`.
///
/// Every member is written with a leading `,`; the first one's is overwritten with the `{`
/// (so a key stays one copy, without a branch on which of two runs to copy).
pub struct Object<'b> {
    out: &'b mut Vec<u8>,
    /// Where the object starts: the first member's `,` becomes the `{`.
    start: usize,
    empty: bool,
}

impl<'b> Object<'b> {
    #[inline(always)]
    pub fn begin(out: &'b mut Vec<u8>) -> Self {
        let start = out.len();
        Self {
            out,
            start,
            empty: true,
        }
    }

    /// Writes the name of the next member; its value is written to the buffer returned.
    #[inline(always)] // so that the key's length is known where it is copied
    pub fn key(&mut self, key: Key) -> &mut Vec<u8> {
        debug_assert!(
            key.0
                .strip_prefix(",\"")
                .and_then(|rest| rest.strip_suffix("\":"))
                .is_some_and(|name| !name.bytes().any(needs_escape))
        );
        self.out.extend_from_slice(key.0.as_bytes());
        self.opened();
        self.out
    }

    /// A member name that may need escaping (a header name as sent).
    #[inline]
    pub fn dynamic_key(&mut self, name: &str) -> &mut Vec<u8> {
        self.out.push(b',');
        self.opened();
        string(self.out, name);
        self.out.push(b':');
        self.out
    }

    #[inline(always)]
    pub fn str(&mut self, key: Key, value: &str) {
        string(self.key(key), value);
    }

    /// A value that needs no escaping (see `plain_string`).
    #[inline(always)]
    pub fn plain_str(&mut self, key: Key, value: impl AsRef<[u8]>) {
        plain_string(self.key(key), value);
    }

    #[inline(always)]
    pub fn opt_str(&mut self, key: Key, value: Option<&str>) {
        let out = self.key(key);
        match value {
            Some(value) => string(out, value),
            None => null(out),
        }
    }

    #[inline(always)]
    pub fn uint(&mut self, key: Key, value: impl itoa::Integer) {
        uint(self.key(key), value);
    }

    #[inline(always)]
    pub fn bool(&mut self, key: Key, value: bool) {
        boolean(self.key(key), value);
    }

    #[inline]
    pub fn end(self) {
        if self.empty {
            self.out.push(b'{');
        }
        self.out.push(b'}');
    }

    /// After a member's leading `,` is written: the first one's becomes the `{`.
    #[inline(always)]
    fn opened(&mut self) {
        if self.empty {
            if let Some(comma) = self.out.get_mut(self.start) {
                *comma = b'{';
            }
            self.empty = false;
        }
    }
}

/// An array being written: `[`, then `item` before each element, then `end`.
pub struct Array<'b> {
    out: &'b mut Vec<u8>,
    empty: bool,
}

impl<'b> Array<'b> {
    #[inline]
    pub fn begin(out: &'b mut Vec<u8>) -> Self {
        out.push(b'[');
        Self { out, empty: true }
    }

    /// The buffer the next element is written to.
    #[inline]
    pub fn item(&mut self) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out
    }

    #[inline]
    pub fn end(self) {
        self.out.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn quoted(s: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "",
            "plain ascii text, long enough for whole words",
            "\"quoted\" \\ back",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f} \u{7f}",
            "é ü 漢字 \u{1F600} \u{80}",
            "12345678\"12345678\\1234567\n",
        ] {
            assert_eq!(quoted(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn objects_and_arrays() {
        let mut out = Vec::new();
        let mut o = Object::begin(&mut out);
        o.str(key!("a"), "x");
        o.uint(key!("n"), u64::MAX);
        o.opt_str(key!("none"), None);
        o.bool(key!("t"), true);
        let mut a = Array::begin(o.key(key!("list")));
        uint(a.item(), 1u16);
        uint(a.item(), 2u16);
        a.end();
        string(o.dynamic_key("odd\"name"), "v");
        Object::begin(o.key(key!("empty"))).end();
        o.end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"x","n":18446744073709551615,"none":null,"t":true,"list":[1,2],"odd\"name":"v","empty":{}}"#
        );
        let mut out = Vec::new();
        let mut o = Object::begin(&mut out);
        string(o.dynamic_key("h"), "v");
        o.end();
        Object::begin(&mut out).end();
        assert_eq!(out, br#"{"h":"v"}{}"#);
    }

    proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in "(?s).{0,80}") {
            prop_assert_eq!(quoted(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn has_escape_is_any_byte_needing_it(text in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(has_escape(&text), text.iter().any(|&b| needs_escape(b)));
        }

        #[test]
        fn the_first_flagged_byte_is_exact(bytes in proptest::array::uniform8(any::<u8>())) {
            let mask = escape_mask(u64::from_le_bytes(bytes));
            let first = (mask != 0).then(|| mask.trailing_zeros() as usize / 8);
            prop_assert_eq!(first, bytes.iter().position(|&b| needs_escape(b)));
        }

        #[test]
        fn any_bytes_escape_like_serde_json(
            text in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..0x80], 0..40)
        ) {
            let s = String::from_utf8(text).unwrap();
            prop_assert_eq!(quoted(&s), serde_json::to_string(&s).unwrap());
        }

        /// Text around `DENSE` long, escapes sparse or packed: both ways of escaping.
        #[test]
        fn long_text_escapes_like_serde_json(
            text in proptest::collection::vec(
                prop_oneof![8 => 0x20u8..0x80, 1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20],
                0..600,
            )
        ) {
            let s = String::from_utf8(text).unwrap();
            prop_assert_eq!(quoted(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn escapes_anywhere_in_any_length_are_found(
            len in 0usize..40, at in 0usize..40, byte in prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20]
        ) {
            let mut text = vec![b'a'; len];
            if at < len {
                text[at] = byte;
            }
            let s = String::from_utf8(text).unwrap();
            prop_assert_eq!(quoted(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
