//! The value an injection hit shows: the matched words and a little after them, taken from the
//! folded text and masked, so that a secret written next to an injection (a key, a card, a
//! password) is never copied into an alert.

use crate::detection::hit::{MAX_SHOWN_VALUE, cut};

/// Words after which the next word is a secret.
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passcode",
    "passphrase",
    "pin",
    "key",
    "token",
    "secret",
    "otp",
    "code",
    "cvv",
    "ssn",
];

/// Words between a secret's name and the secret.
const FILLERS: &[&str] = &[
    "is", "was", "are", "be", "to", "my", "the", "a", "set", "equals", "of",
];

/// Words that could be (part of) a secret: long with letters and digits mixed, or four digits
/// or more (cards and SSNs are split into such groups by folding).
fn risky(word: &str) -> bool {
    let digits = word.bytes().filter(u8::is_ascii_digit).count();
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    (digits >= 4) || (word.len() >= 12 && digits > 0 && letters > 0) || word.len() >= 32
}

/// `text` with risky words masked, cut to what a hit may show.
pub fn masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_SHOWN_VALUE + 8));
    let mut after_name = false;
    for word in text.split(' ') {
        if out.len() >= MAX_SHOWN_VALUE {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let filler = FILLERS.contains(&word);
        if (after_name && !filler) || risky(word) {
            out.push('…');
        } else {
            out.push_str(word);
        }
        // `password is hunter2`: the secret comes after the filler words.
        after_name = SECRET_NAMES.contains(&word) || (after_name && filler);
    }
    cut(&out, MAX_SHOWN_VALUE).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_beside_words_are_masked() {
        assert_eq!(
            masked("ignore previous instructions"),
            "ignore previous instructions"
        );
        assert_eq!(
            masked("my password is hunter2 and card 4111 1111 1111 1111"),
            "my password is … and card … … … …"
        );
        assert_eq!(masked("password hunter2 ok"), "password … ok");
        assert_eq!(masked("key sk proj abcdefgh1234ijkl"), "key … proj …");
        assert!(masked(&"word ".repeat(100)).len() <= MAX_SHOWN_VALUE);
    }
}
