//! Finds where a class found in a text sits, to write a masked hint of it and to leave out the
//! well-known example values of documentation and test suites, which are not leaks.
//!
//! A hint is the class and a part that gives nothing away: a vendor's public prefix, a card's
//! last four digits, an IBAN's country. Examples: `4242 4242 4242 4242`,
//! `AKIAIOSFODNN7EXAMPLE`, jwt.io's token.

use crate::discovery::sensitive::{SensitiveClass, scan_text};

/// Test card numbers published by payment processors.
const TEST_CARDS: &[&str] = &[
    "4242424242424242",
    "4111111111111111",
    "4000056655665556",
    "5555555555554444",
    "5105105105105100",
    "2223003122003222",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "6011000990139424",
    "3056930009020004",
    "36227206271667",
    "3566002020360505",
    "6200000000000005",
    "4012888888881881",
    "4000000000000002",
    "4000000000009995",
];
/// SSNs used in examples (the Woolworth card, advertising, sequences).
const EXAMPLE_SSNS: &[&str] = &["078-05-1120", "219-09-9999", "123-45-6789", "111-11-1111"];
/// IBANs of the standard's and banks' documentation.
const EXAMPLE_IBANS: &[&str] = &[
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "GB29NWBK60161331926819",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "ES9121000418450200051332",
    "CH9300762011623852957",
];
/// The payload of jwt.io's example token (`{"sub":"1234567890","name":"John Doe",...}`).
const EXAMPLE_JWT_PAYLOAD: &str =
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ";

/// Occurrences of one prefix looked at per text.
const MAX_LOOKS: usize = 16;

/// What was found of one class: a hint to show, or only example values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    Hint(String),
    OnlyExamples,
}

/// Public prefixes of vendor credentials, and the hint written for each.
const PREFIXES: &[(SensitiveClass, &[&str], &str)] = &[
    (
        SensitiveClass::AwsAccessKey,
        &["AKIA", "ASIA"],
        "aws_access_key AKIA…",
    ),
    (
        SensitiveClass::GithubToken,
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        "github_token ghp_…",
    ),
    (
        SensitiveClass::SlackToken,
        &["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
        "slack_token xox…",
    ),
    (
        SensitiveClass::StripeKey,
        &["sk_live_", "rk_live_"],
        "stripe_key sk_live_…",
    ),
    (
        SensitiveClass::GoogleApiKey,
        &["AIza"],
        "google_api_key AIza…",
    ),
    (
        SensitiveClass::AnthropicApiKey,
        &["sk-ant-"],
        "anthropic_api_key sk-ant-…",
    ),
    (
        SensitiveClass::OpenaiApiKey,
        &["sk-proj-", "sk-svcacct-", "sk-admin-", "sk-"],
        "openai_api_key sk-…",
    ),
    (SensitiveClass::Jwt, &["eyJ"], "jwt eyJ…"),
];

fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// The token of `text` that starts at `at`.
fn token_at(text: &str, at: usize) -> &str {
    let bytes = text.as_bytes();
    let mut end = at;
    while end < bytes.len() && token_byte(bytes[end]) {
        end += 1;
    }
    text.get(at..end).unwrap_or("").trim_end_matches('.')
}

pub fn locate(text: &str, class: SensitiveClass, skip_examples: bool) -> Located {
    match class {
        SensitiveClass::CreditCard => card(text, skip_examples),
        SensitiveClass::Ssn => ssn(text, skip_examples),
        SensitiveClass::Iban => iban(text, skip_examples),
        SensitiveClass::PrivateKey => private_key(text, skip_examples),
        SensitiveClass::Password => Located::Hint("password ********".to_owned()),
        SensitiveClass::ApiKey => Located::Hint("api_key ********".to_owned()),
        SensitiveClass::Email => Located::Hint("email ****@…".to_owned()),
        SensitiveClass::Phone => Located::Hint("phone ****".to_owned()),
        _ => vendor(text, class, skip_examples),
    }
}

fn vendor(text: &str, class: SensitiveClass, skip_examples: bool) -> Located {
    let Some(&(_, prefixes, hint)) = PREFIXES.iter().find(|(c, _, _)| *c == class) else {
        return Located::Hint(class.name().to_owned());
    };
    let mut seen_example = false;
    for prefix in prefixes {
        for (at, _) in text.match_indices(prefix).take(MAX_LOOKS) {
            // A key starts a token.
            if at > 0 && text.as_bytes().get(at - 1).is_some_and(|&b| token_byte(b)) {
                continue;
            }
            let token = token_at(text, at);
            if !scan_text(token).contains(class) {
                continue;
            }
            if skip_examples && is_example_token(token) {
                seen_example = true;
                continue;
            }
            return Located::Hint(hint.to_owned());
        }
    }
    if seen_example {
        Located::OnlyExamples
    } else {
        Located::Hint(hint.to_owned())
    }
}

fn is_example_token(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    lower.contains("example")
        || lower.contains("xxxx")
        || lower.contains("your")
        || lower.contains("dummy")
        || lower.contains("fake")
        || token.split('.').nth(1) == Some(EXAMPLE_JWT_PAYLOAD)
}

/// Runs of digits with spaces or dashes of 13 or more digits, as (text, digits).
fn digit_runs(text: &str) -> impl Iterator<Item = (&str, String)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len()
                && i - start < 40
                && (bytes[i].is_ascii_digit() || matches!(bytes[i], b' ' | b'-'))
            {
                i += 1;
            }
            let run = text
                .get(start..i)
                .unwrap_or("")
                .trim_end_matches([' ', '-']);
            let digits: String = run.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 13 {
                return Some((run, digits));
            }
        }
        None
    })
    .take(64)
}

fn card(text: &str, skip_examples: bool) -> Located {
    let mut seen_example = false;
    for (run, digits) in digit_runs(text) {
        if !scan_text(run).contains(SensitiveClass::CreditCard) {
            continue;
        }
        if skip_examples && TEST_CARDS.iter().any(|c| digits.starts_with(c)) {
            seen_example = true;
            continue;
        }
        let hint = match digits.len() {
            13..=19 => format!(
                "credit_card ****{}",
                digits.get(digits.len() - 4..).unwrap_or("")
            ),
            _ => "credit_card ****".to_owned(),
        };
        return Located::Hint(hint);
    }
    if seen_example {
        Located::OnlyExamples
    } else {
        Located::Hint("credit_card ****".to_owned())
    }
}

fn ssn(text: &str, skip_examples: bool) -> Located {
    let hint = Located::Hint("ssn ***-**-****".to_owned());
    if !skip_examples {
        return hint;
    }
    // SSNs are found in the `NNN-NN-NNNN` form: all of them examples means none is real.
    let bytes = text.as_bytes();
    let mut any = false;
    for i in 0..bytes.len().saturating_sub(10) {
        let Some(w) = text.get(i..i + 11) else {
            continue;
        };
        let shape = w.bytes().enumerate().all(|(k, b)| match k {
            3 | 6 => b == b'-',
            _ => b.is_ascii_digit(),
        });
        if !shape {
            continue;
        }
        if !EXAMPLE_SSNS.contains(&w) {
            return hint;
        }
        any = true;
    }
    if any { Located::OnlyExamples } else { hint }
}

fn iban(text: &str, skip_examples: bool) -> Located {
    let bytes = text.as_bytes();
    let mut seen_example = false;
    for i in 0..bytes.len().saturating_sub(3) {
        let head = &bytes[i..i + 4];
        let starts = head[0].is_ascii_uppercase()
            && head[1].is_ascii_uppercase()
            && head[2].is_ascii_digit()
            && head[3].is_ascii_digit()
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        if !starts {
            continue;
        }
        let run: String = text
            .get(i..(i + 42).min(text.len()))
            .unwrap_or("")
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == ' ')
            .filter(|c| *c != ' ')
            .collect();
        if !scan_text(&run).contains(SensitiveClass::Iban) {
            continue;
        }
        if skip_examples && EXAMPLE_IBANS.iter().any(|e| run.starts_with(e)) {
            seen_example = true;
            continue;
        }
        let country = text.get(i..i + 2).unwrap_or("");
        return Located::Hint(format!("iban {country}** …"));
    }
    if seen_example {
        Located::OnlyExamples
    } else {
        Located::Hint("iban ** …".to_owned())
    }
}

/// A PEM private key with a body; `-----BEGIN PRIVATE KEY-----\n...` in a how-to is not one.
fn private_key(text: &str, skip_examples: bool) -> Located {
    let hint = Located::Hint("private_key BEGIN … PRIVATE KEY".to_owned());
    if !skip_examples {
        return hint;
    }
    for (at, _) in text.match_indices("PRIVATE KEY-----").take(MAX_LOOKS) {
        let body = text.get(at + 16..).unwrap_or("");
        let body = body
            .get(..body.find("-----").unwrap_or(body.len()))
            .unwrap_or("");
        let base64 = body
            .bytes()
            .take(400)
            .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
            .count();
        if base64 >= 40 {
            return hint;
        }
    }
    Located::OnlyExamples
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(text: &str, class: SensitiveClass) -> Located {
        locate(text, class, true)
    }

    #[test]
    fn hints_give_nothing_away() {
        assert_eq!(
            hint(
                "card 4539 1488 0343 6467 exp 12/27",
                SensitiveClass::CreditCard
            ),
            Located::Hint("credit_card ****6467".into())
        );
        assert_eq!(
            hint("key AKIAZ7Q2M4N6P8R1T3V5 ok", SensitiveClass::AwsAccessKey),
            Located::Hint("aws_access_key AKIA…".into())
        );
        assert_eq!(
            hint(
                "IBAN: FR76 3000 6000 0112 3456 7890 189",
                SensitiveClass::Iban
            ),
            Located::Hint("iban FR** …".into())
        );
    }

    #[test]
    fn documented_examples_are_not_leaks() {
        assert_eq!(
            hint("use 4242 4242 4242 4242", SensitiveClass::CreditCard),
            Located::OnlyExamples
        );
        assert_eq!(
            hint("AKIAIOSFODNN7EXAMPLE", SensitiveClass::AwsAccessKey),
            Located::OnlyExamples
        );
        assert_eq!(
            hint("e.g. 078-05-1120", SensitiveClass::Ssn),
            Located::OnlyExamples
        );
        assert_eq!(
            hint("DE89 3704 0044 0532 0130 00", SensitiveClass::Iban),
            Located::OnlyExamples
        );
        assert_eq!(
            hint(
                "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
                SensitiveClass::PrivateKey
            ),
            Located::OnlyExamples
        );
    }
}
