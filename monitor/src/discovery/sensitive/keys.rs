//! Vendor credentials recognised by their documented prefixes and shapes (AWS, GitHub, Slack,
//! Stripe, Google, OpenAI, Anthropic).

use super::{SensitiveClass, checks::looks_random};

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Random part of a key: enough characters of the right alphabet, and not a word or a run of
/// one character (`sk-learn-tutorial-examples` is not a key).
fn random_tail(tail: &str, min: usize, alphabet: fn(u8) -> bool) -> bool {
    tail.len() >= min && all(tail, alphabet) && mixed(tail)
}

/// At least two of lower case, upper case and digits.
fn mixed(s: &str) -> bool {
    let b = s.as_bytes();
    [
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_digit),
    ]
    .iter()
    .filter(|k| **k)
    .count()
        >= 2
}

/// The vendor whose credential this whole token is, if any.
pub(crate) fn vendor_key(token: &str) -> Option<SensitiveClass> {
    if token.len() < 20 {
        return None;
    }
    let upper_alnum = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    if let Some(tail) = token
        .strip_prefix("AKIA")
        .or_else(|| token.strip_prefix("ASIA"))
        && tail.len() == 16
        && all(tail, upper_alnum)
    {
        return Some(SensitiveClass::AwsAccessKey);
    }
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        if let Some(tail) = token.strip_prefix(prefix)
            && tail.len() >= 36
            && random_tail(tail, 36, alnum)
        {
            return Some(SensitiveClass::GithubToken);
        }
    }
    if let Some(tail) = token.strip_prefix("github_pat_")
        && random_tail(tail, 22, |b| alnum(b) || b == b'_')
    {
        return Some(SensitiveClass::GithubToken);
    }
    if let Some(rest) = token.strip_prefix("xox")
        && let [kind, b'-', ..] = rest.as_bytes()
        && b"baprs".contains(kind)
        && random_tail(&rest[2..], 10, |b| alnum(b) || b == b'-')
    {
        return Some(SensitiveClass::SlackToken);
    }
    if let Some(tail) = token
        .strip_prefix("sk_live_")
        .or_else(|| token.strip_prefix("rk_live_"))
        && random_tail(tail, 16, alnum)
    {
        return Some(SensitiveClass::StripeKey);
    }
    if let Some(tail) = token.strip_prefix("AIza")
        && tail.len() == 35
        && all(tail, b64url)
    {
        return Some(SensitiveClass::GoogleApiKey);
    }
    // Anthropic's prefix is longer than OpenAI's and starts the same way, so it goes first.
    if let Some(tail) = token.strip_prefix("sk-ant-")
        && random_tail(tail, 20, b64url)
    {
        return Some(SensitiveClass::AnthropicApiKey);
    }
    for prefix in ["sk-proj-", "sk-svcacct-", "sk-admin-"] {
        if let Some(tail) = token.strip_prefix(prefix)
            && random_tail(tail, 20, b64url)
        {
            return Some(SensitiveClass::OpenaiApiKey);
        }
    }
    // Legacy OpenAI keys: `sk-` and 48 alphanumerics, no dashes.
    if let Some(tail) = token.strip_prefix("sk-")
        && random_tail(tail, 32, alnum)
        && looks_random(tail)
    {
        return Some(SensitiveClass::OpenaiApiKey);
    }
    None
}
