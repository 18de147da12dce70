//! Recognises sensitive data (personal data, payment data, credentials) in field values and free
//! text, so discovery can say which endpoints carry what. Checksums and shapes, never guesses
//! from digits alone: a card passes Luhn and has a real issuer prefix, an IBAN passes mod 97.

mod checks;
mod class;
mod clues;
mod keys;
mod names;
mod scan;
#[cfg(test)]
mod tests;

pub use class::{ClassSet, SensitiveClass};
pub use clues::NameClues;
pub use scan::MAX_SCAN;

pub(crate) use checks::{is_email, is_uuid};

use checks::{is_card_digits, is_uuid as uuid, looks_random, ssn_digits_ok};
use names::NameHints;

/// Sensitive values in free text: header values, query values, bodies that are not JSON or
/// form data. Only the first [`MAX_SCAN`] bytes are read.
pub fn scan_text(text: &str) -> ClassSet {
    scan::scan(text)
}

/// What a field's name says about its values, read once: a body model keeps it per field so
/// that each value under the name is classified without reading the name again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameClue(NameHints);

impl NameClue {
    /// The clue of `name`; a value without a name (the body itself) has none.
    pub fn of(name: Option<&str>) -> Self {
        Self(name.map(NameHints::of).unwrap_or_default())
    }

    /// Whether a number under this name could be sensitive, so callers can skip formatting
    /// numbers that [`classify_number_under`] would pass over anyway.
    pub fn numbers_may_be_sensitive(self) -> bool {
        [
            NameHints::CARD,
            NameHints::SSN,
            NameHints::PHONE,
            NameHints::PASSWORD,
        ]
        .iter()
        .any(|&bit| self.0.has(bit))
    }
}

/// Sensitive values in one string field, using its name when known: a name can make a value
/// sensitive (`password`, a random `api_key`, nine digits under `ssn`, digits under `phone`) or
/// clear it (digits under `order_id` are an id, not a card, unless the name also says card).
pub fn classify_field(name: Option<&str>, value: &str) -> ClassSet {
    classify_under(NameClue::of(name), value)
}

/// [`classify_field`] with the name already read.
pub fn classify_under(clue: NameClue, value: &str) -> ClassSet {
    let hints = clue.0;
    let mut found = scan::scan(value);
    let value = value.trim();
    let digits_only = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if hints.has(NameHints::SSN) && digits_only && ssn_digits_ok(value.as_bytes()) {
        found.insert(SensitiveClass::Ssn);
    }
    if hints.has(NameHints::PHONE) && digits_only && (7..=15).contains(&value.len()) {
        found.insert(SensitiveClass::Phone);
    }
    if hints.has(NameHints::ID) && !hints.has(NameHints::CARD) {
        found.remove(SensitiveClass::CreditCard);
    }
    if hints.has(NameHints::KEY) && !found.has_credential() {
        // `Authorization: Bearer <key>`: the scheme is not part of the secret.
        let secret = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.bytes().all(|b| b.is_ascii_alphabetic()) => rest.trim(),
            _ => value,
        };
        if looks_random(secret) && !uuid(secret) {
            found.insert(SensitiveClass::ApiKey);
        }
    }
    // A `client_secret` is both key-like and password-like; a random one is reported as a key.
    if hints.has(NameHints::PASSWORD) && !value.is_empty() && !found.has_credential() {
        found.insert(SensitiveClass::Password);
    }
    found
}

/// Sensitive values in one number field (a JSON number, given as its decimal text). Numbers
/// are counts, amounts, ids and timestamps far more often than anything else, so only the name
/// can make one sensitive: a card under a card-like name, an SSN under `ssn`, a phone under
/// `phone`, anything under a password-like name.
pub fn classify_number(name: Option<&str>, number: &str) -> ClassSet {
    classify_number_under(NameClue::of(name), number)
}

/// [`classify_number`] with the name already read (no name: nothing is sensitive).
pub fn classify_number_under(clue: NameClue, number: &str) -> ClassSet {
    let hints = clue.0;
    let mut found = ClassSet::empty();
    let digits = number.as_bytes();
    let digits_only = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    if hints.has(NameHints::CARD) && is_card_digits(digits) {
        found.insert(SensitiveClass::CreditCard);
    }
    if hints.has(NameHints::SSN) && ssn_digits_ok(digits) {
        found.insert(SensitiveClass::Ssn);
    }
    if hints.has(NameHints::PHONE) && digits_only && (7..=15).contains(&digits.len()) {
        found.insert(SensitiveClass::Phone);
    }
    if hints.has(NameHints::PASSWORD) && !digits.is_empty() {
        found.insert(SensitiveClass::Password);
    }
    found
}

/// Whether a number field's name could make it sensitive, so callers can skip formatting
/// numbers that [`classify_number`] would pass over anyway.
pub fn number_may_be_sensitive(name: &str) -> bool {
    NameClue::of(Some(name)).numbers_may_be_sensitive()
}
