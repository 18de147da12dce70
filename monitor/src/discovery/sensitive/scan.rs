//! Finds sensitive values inside free text (header values, query values, text bodies, long JSON
//! strings) in a few linear passes over a bounded prefix: tokens (emails, JWTs, vendor keys),
//! digit runs (cards, SSNs, phones), IBANs and PEM private-key headers.

use std::sync::LazyLock;

use memchr::memmem;

use super::{
    ClassSet, SensitiveClass,
    checks::{iban_length, iban_ok, is_card_digits, is_email, is_jwt, is_phone, ssn_parts_ok},
    keys::vendor_key,
};

/// Only this much of a text is scanned, so one huge body costs a bounded amount.
pub const MAX_SCAN: usize = 64 * 1024;

/// Longest IBAN (Saint Lucia, 32) plus room for the spaces of the printed form.
const IBAN_SPAN: usize = 48;

pub(crate) fn scan(text: &str) -> ClassSet {
    let mut end = text.len().min(MAX_SCAN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let bytes = &text.as_bytes()[..end];
    let mut found = ClassSet::empty();
    private_keys(bytes, &mut found);
    tokens(bytes, &mut found);
    digit_runs(bytes, &mut found);
    ibans(bytes, &mut found);
    found
}

/// The PEM header searcher, built once: every string value of every body is scanned, and
/// building a searcher per scan cost more than the search.
static PEM_BEGIN: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"-----BEGIN "));

/// `-----BEGIN <anything> PRIVATE KEY-----` (PKCS#1, PKCS#8, SEC1, OpenSSH, encrypted).
fn private_keys(bytes: &[u8], found: &mut ClassSet) {
    for start in PEM_BEGIN.find_iter(bytes) {
        let label = &bytes[start + 11..bytes.len().min(start + 11 + 48)];
        if let Some(end) = memmem::find(label, b"-----")
            && label[..end].ends_with(b"PRIVATE KEY")
        {
            found.insert(SensitiveClass::PrivateKey);
            return;
        }
    }
}

fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@' | b'+' | b'%')
}

/// Words of token characters: whole emails, JWTs and vendor keys.
fn tokens(bytes: &[u8], found: &mut ClassSet) {
    let mut i = 0;
    while i < bytes.len() {
        if !token_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && token_byte(bytes[i]) {
            i += 1;
        }
        // A sentence may end right after an address or a key.
        let mut token = &bytes[start..i];
        while let [rest @ .., b'.'] = token {
            token = rest;
        }
        while let [b'.', rest @ ..] = token {
            token = rest;
        }
        if token.len() < 6 {
            continue;
        }
        // Token bytes are ASCII, so this never fails.
        let Ok(token) = std::str::from_utf8(token) else {
            continue;
        };
        if token.contains('@') {
            if is_email(token) {
                found.insert(SensitiveClass::Email);
            }
        } else if token.starts_with("eyJ") {
            if is_jwt(token) {
                found.insert(SensitiveClass::Jwt);
            }
        } else if let Some(class) = vendor_key(token) {
            found.insert(class);
        }
    }
}

fn run_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')')
}

/// A byte that glues a digit run to a larger word (`ord-4111…`, `v1.2`, `a716-4466…`), in
/// which case the digits are part of an identifier, not a number of their own.
fn glued(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'@' | b'%' | b'#')
}

/// One group of digits in a run and the separator before it (0 for the first).
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    sep: u8,
}

/// Runs of digits and separators standing alone: phone numbers (the whole run), card numbers
/// and formatted SSNs (any window of groups in the run, so a card followed by an expiry date
/// is still found).
fn digit_runs(bytes: &[u8], found: &mut ClassSet) {
    let mut groups: Vec<Group> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if !(c.is_ascii_digit() || c == b'+' || c == b'(') {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < bytes.len() && run_byte(bytes[i]) {
            i += 1;
        }
        let mut stop = i;
        while stop > start && !bytes[stop - 1].is_ascii_digit() {
            stop -= 1;
        }
        let before_ok = start == 0 || !glued(bytes[start - 1]);
        let after_ok = match bytes.get(stop) {
            None => true,
            // The end of a sentence.
            Some(b'.') => bytes.get(stop + 1).is_none_or(|&b| !glued(b)),
            Some(&b) => !glued(b),
        };
        if !before_ok || !after_ok || stop == start {
            continue;
        }
        let run = &bytes[start..stop];
        if let Ok(text) = std::str::from_utf8(run)
            && is_phone(text)
        {
            found.insert(SensitiveClass::Phone);
        }
        split_groups(bytes, start, stop, &mut groups);
        if cards_in(bytes, &groups) {
            found.insert(SensitiveClass::CreditCard);
        }
        if ssns_in(bytes, &groups) {
            found.insert(SensitiveClass::Ssn);
        }
    }
}

fn split_groups(bytes: &[u8], start: usize, stop: usize, groups: &mut Vec<Group>) {
    groups.clear();
    let mut i = start;
    let mut sep = 0;
    while i < stop {
        if bytes[i].is_ascii_digit() {
            let g = i;
            while i < stop && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(Group {
                start: g,
                end: i,
                sep,
            });
            sep = 0;
        } else {
            // Two separators in a row (`) `, ` - `) count as one; a mix is marked as such.
            sep = if sep == 0 || sep == bytes[i] {
                bytes[i]
            } else {
                b'?'
            };
            i += 1;
        }
    }
}

/// Any window of groups that is a card number: one group of 13–19 digits, or groups of 3–6
/// digits after a first group of 4, all joined by the same single space or dash.
fn cards_in(bytes: &[u8], groups: &[Group]) -> bool {
    let mut digits = [0u8; 19];
    for s in 0..groups.len() {
        let mut n = 0;
        let mut joiner = 0;
        for (k, g) in groups[s..].iter().enumerate() {
            let len = g.end - g.start;
            if n + len > digits.len() {
                break;
            }
            if k > 0 {
                let first_len = groups[s].end - groups[s].start;
                let sep_ok = matches!(g.sep, b' ' | b'-') && (k == 1 || g.sep == joiner);
                if first_len != 4 || !(3..=6).contains(&len) || !sep_ok {
                    break;
                }
                joiner = g.sep;
            }
            digits[n..n + len].copy_from_slice(&bytes[g.start..g.end]);
            n += len;
            if n >= 13 && is_card_digits(&digits[..n]) {
                return true;
            }
        }
    }
    false
}

/// `NNN-NN-NNNN` not joined by a dash to more digits, with valid area, group and serial.
fn ssns_in(bytes: &[u8], groups: &[Group]) -> bool {
    groups.windows(3).enumerate().any(|(s, w)| {
        let dashed = w[1].sep == b'-' && w[2].sep == b'-';
        let alone = w[0].sep != b'-' && groups.get(s + 3).is_none_or(|g| g.sep != b'-');
        dashed
            && alone
            && ssn_parts_ok(
                &bytes[w[0].start..w[0].end],
                &bytes[w[1].start..w[1].end],
                &bytes[w[2].start..w[2].end],
            )
    })
}

/// IBANs, compact (`DE89370400440532013000`) or printed in groups of four separated by
/// single spaces; the country's registered length says where one ends.
fn ibans(bytes: &[u8], found: &mut ClassSet) {
    let mut compact = [0u8; IBAN_SPAN];
    for i in 0..bytes.len().saturating_sub(3) {
        let head = &bytes[i..i + 4];
        if !(head[0].is_ascii_uppercase()
            && head[1].is_ascii_uppercase()
            && head[2].is_ascii_digit()
            && head[3].is_ascii_digit())
            || (i > 0 && bytes[i - 1].is_ascii_alphanumeric())
        {
            continue;
        }
        let Some(want) = iban_length(&head[..2]) else {
            continue;
        };
        let mut n = 0;
        let mut j = i;
        while n < want && j < bytes.len() && j < i + IBAN_SPAN {
            let c = bytes[j];
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                compact[n] = c;
                n += 1;
            } else if !(c == b' ' && n.is_multiple_of(4) && n > 0) {
                break;
            }
            j += 1;
        }
        let boundary = bytes.get(j).is_none_or(|b| !b.is_ascii_alphanumeric());
        if n == want && boundary && iban_ok(&compact[..n]) {
            found.insert(SensitiveClass::Iban);
            return;
        }
    }
}
