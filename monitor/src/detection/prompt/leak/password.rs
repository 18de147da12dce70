//! Passwords written out in free text (`my password is hunter2`, `"password": "s3cret!"`,
//! `PASSWORD=Winter2024!`), which the shape-based scanners cannot see: a password has no shape,
//! only a name before it. Placeholders and words (`password: required`) are not passwords.

/// Names a password is written after.
const NAMES: &[&str] = &["password", "passwd", "passphrase", "passcode", "pwd"];
/// Occurrences of a name looked at per text.
const MAX_LOOKS: usize = 32;

/// Values that stand for a password rather than being one.
const PLACEHOLDERS: &[&str] = &[
    "your",
    "example",
    "redacted",
    "hidden",
    "changeme",
    "placeholder",
    "secret123",
    "xxx",
    "***",
    "...",
    "<",
    ">",
    "{",
    "}",
    "$",
    "%s",
    "null",
    "none",
    "password",
    "p@ssw0rd",
    "passw0rd",
    "12345678",
    "123456",
    "hunter2_example",
];

/// Whether `text` holds a password after a password-like name.
pub fn has_password(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut looks = 0;
    for name in NAMES {
        let mut from = 0;
        while let Some(at) = lower.get(from..).and_then(|r| r.find(name)) {
            let at = from + at;
            from = at + name.len();
            looks += 1;
            if looks > MAX_LOOKS {
                return false;
            }
            // A name inside a longer word (`passwordless`, `pwd_hash`, `mypwd`) is not one.
            let before_ok =
                at == 0 || !bytes.get(at - 1).is_some_and(|b| b.is_ascii_alphanumeric());
            let after = bytes.get(from).copied().unwrap_or(b' ');
            if !before_ok || after.is_ascii_alphanumeric() || after == b'_' {
                continue;
            }
            if let Some(value) = value_after(text, from)
                && looks_like_password(value)
            {
                return true;
            }
        }
    }
    false
}

/// The value written after a name: `: v`, `= v`, `" : "v"`, ` is v`, ` was v`.
fn value_after(text: &str, from: usize) -> Option<&str> {
    let rest = text.get(from..)?;
    let rest = rest.trim_start_matches(['"', '\'']);
    let trimmed = rest.trim_start();
    let rest = if let Some(r) = trimmed.strip_prefix([':', '=']) {
        r
    } else {
        let lower = trimmed.get(..4.min(trimmed.len()))?.to_ascii_lowercase();
        if lower.starts_with("is ") {
            trimmed.get(3..)?
        } else if lower.starts_with("was ") {
            trimmed.get(4..)?
        } else {
            return None;
        }
    };
    let rest = rest.trim_start().trim_start_matches(['"', '\'', '`']);
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | ';' | ')' | '<'))
        .unwrap_or(rest.len());
    let value = rest.get(..end)?;
    // A sentence may end right after it.
    Some(
        value
            .trim_end_matches(['.', '!', '?'])
            .trim_end_matches('}'),
    )
}

fn looks_like_password(value: &str) -> bool {
    let len = value.chars().count();
    if !(6..=64).contains(&len) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return false;
    }
    let digit = value.bytes().any(|b| b.is_ascii_digit());
    let symbol = value.bytes().any(|b| b.is_ascii_punctuation());
    let letter = value.chars().any(char::is_alphabetic);
    // A password mixes kinds; a word alone (`required`, `incorrect`) or a bare number does not.
    letter && (digit || symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_after_their_name_are_found() {
        for text in [
            "my password is hunter2 ok",
            "{\"username\":\"bob\",\"password\":\"Tr0ub4dor&3\"}",
            "DB_PASSWORD=Winter2024!",
            "pwd: s3cr3t-pass",
            "The Password was Summer#22.",
        ] {
            assert!(has_password(text), "{text}");
        }
    }

    #[test]
    fn words_placeholders_and_other_uses_are_not() {
        for text in [
            "I forgot my password, how do I reset it?",
            "password: required",
            "the password is incorrect",
            "password=${DB_PASS}",
            "password: ********",
            "passwordless login with passkeys",
            "set pwd_hash = sha256(x)",
            "\"password\": \"<your password>\"",
            "password is 12345678",
        ] {
            assert!(!has_password(text), "{text}");
        }
    }
}
