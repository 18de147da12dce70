//! What a field name says about its value (a password, a key, a card number, an id...), read
//! without allocating: the name split into lowercase words at `_`, `-`, `.` and camelCase.

/// Only this much of a name is read; longer names are not real field names.
const NAME_MAX: usize = 64;
/// Longer words are cut; none of the words looked for is this long.
const WORD_MAX: usize = 24;

/// Hints taken from a field name: a small bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NameHints(u8);

impl NameHints {
    pub(crate) const PASSWORD: u8 = 1;
    /// A credential-like name: a random-looking value is a generic API key.
    pub(crate) const KEY: u8 = 1 << 1;
    pub(crate) const CARD: u8 = 1 << 2;
    /// An identifier or reference number: digits in it are not a card number.
    pub(crate) const ID: u8 = 1 << 3;
    pub(crate) const SSN: u8 = 1 << 4;
    pub(crate) const PHONE: u8 = 1 << 5;

    pub(crate) const fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    pub(crate) fn of(name: &str) -> Self {
        let mut norm = [0u8; NAME_MAX];
        let mut n = 0;
        for &b in name.as_bytes().iter().take(NAME_MAX) {
            if b.is_ascii_alphanumeric() {
                norm[n] = b.to_ascii_lowercase();
                n += 1;
            }
        }
        let norm = &norm[..n];
        let mut bits = 0;
        let mut last_word = Word::default();
        let mut pager = false;
        let mut words = 0;
        for_each_word(
            name,
            |w| {
                words += 1;
                let w = w.as_str();
                bits |= match w {
                    "pwd" => Self::PASSWORD,
                    "token" => Self::KEY,
                    "card" | "pan" | "cc" | "ccn" | "ccnum" | "cardno" | "cardnum"
                    | "cardnumber" | "creditcard" => Self::CARD,
                    "ssn" => Self::SSN,
                    "phone" | "tel" | "telephone" | "mobile" | "cell" | "cellphone" | "fax"
                    | "msisdn" => Self::PHONE,
                    _ => 0,
                };
                // Paging cursors are random-looking tokens that grant nothing.
                pager |= matches!(w, "page" | "cursor" | "next" | "continuation");
            },
            &mut last_word,
        );

        let has = |s: &[u8]| norm.windows(s.len()).any(|w| w == s);
        if has(b"password") || has(b"passwd") || has(b"passphrase") || has(b"passcode") {
            bits |= Self::PASSWORD;
        }
        if norm.ends_with(b"secret") {
            bits |= Self::PASSWORD | Self::KEY;
        }
        let key_suffixes: [&[u8]; 8] = [
            b"apikey",
            b"accesskey",
            b"secretkey",
            b"authkey",
            b"privatekey",
            b"subscriptionkey",
            b"token",
            b"authorization",
        ];
        if norm == b"key" || key_suffixes.iter().any(|s| norm.ends_with(s)) || has(b"secret") {
            bits |= Self::KEY;
        }
        if pager {
            bits &= !Self::KEY;
        }
        if has(b"creditcard") || has(b"cardnumber") || has(b"cardnum") {
            bits |= Self::CARD;
        }
        if has(b"socialsecurity") {
            bits |= Self::SSN;
        }
        if has(b"phone") {
            bits |= Self::PHONE;
        }
        let last = last_word.as_str();
        // A bare `number` is neutral (`card.number` is a card); `order_number` is an id.
        let id_word = matches!(last, "id" | "ids" | "uuid" | "guid" | "ref" | "reference")
            || (words >= 2 && matches!(last, "number" | "num" | "no"));
        if id_word || (norm.len() > 2 && norm.ends_with(b"id")) {
            bits |= Self::ID;
        }
        NameHints(bits)
    }
}

/// One lowercase word of a name, on the stack.
#[derive(Default)]
struct Word {
    buf: [u8; WORD_MAX],
    len: usize,
}

impl Word {
    fn push(&mut self, b: u8) {
        if self.len < WORD_MAX {
            self.buf[self.len] = b.to_ascii_lowercase();
            self.len += 1;
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII alphanumerics are pushed, so this is always UTF-8.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// Calls `f` with each word of `name` and leaves the last one in `last`. Words break at
/// non-alphanumerics, at a lower-to-upper change (`apiKey`) and before the last capital of a
/// run followed by a lowercase letter (`APIKey` → `api`, `key`).
fn for_each_word(name: &str, mut f: impl FnMut(&Word), last: &mut Word) {
    let bytes = &name.as_bytes()[..name.len().min(NAME_MAX)];
    let mut word = Word::default();
    for (i, &b) in bytes.iter().enumerate() {
        if !b.is_ascii_alphanumeric() {
            if word.len > 0 {
                f(&word);
                *last = std::mem::take(&mut word);
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| bytes.get(p)).copied();
        let next = bytes.get(i + 1).copied();
        let boundary = b.is_ascii_uppercase()
            && match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
        if boundary && word.len > 0 {
            f(&word);
            *last = std::mem::take(&mut word);
        }
        word.push(b);
    }
    if word.len > 0 {
        f(&word);
        *last = word;
    }
}
