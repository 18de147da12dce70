//! Masks secrets in headers, query strings and bodies before anything is written. Each mask
//! carries a short keyed fingerprint, so equal secrets can be matched without being revealed.

use std::borrow::Cow;

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::percent_decode;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use common::CommonHeaders;
use names::NameList;

mod common;
mod json;
mod names;

/// What is masked. Names are matched case-insensitively and ignoring `-` and `_`, so `apiKey`,
/// `api_key` and `API-KEY` are the same name. A pattern is an exact name, or has a `*` at its
/// start and/or end for a suffix, prefix or substring match (`*token*`: any name containing
/// "token"). Exact names mask any value; `*` patterns leave JSON numbers alone, so counts such
/// as `max_tokens: 100` stay visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactionConfig {
    pub enabled: bool,
    /// Header names whose values are masked. Authorization keeps its scheme, Cookie and
    /// Set-Cookie keep cookie names and attributes.
    pub headers: Vec<String>,
    /// Query parameter names (percent-decoded before matching) whose values are masked.
    pub query_params: Vec<String>,
    /// JSON object keys whose string and number values are masked (and the strings and numbers
    /// of an array under such a key). Form bodies use these and `query_params`.
    pub body_fields: Vec<String>,
}

const DEFAULT_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "openai-api-key",
    "ocp-apim-subscription-key",
    "x-functions-key",
    "*token*",
    "*secret*",
    "*api-key*",
    "*password*",
    "*session*",
];

const DEFAULT_QUERY_PARAMS: &[&str] = &[
    "api_key",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "signature",
    "sig",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "session",
    "sessionid",
    "code",
    "*token*",
    "*secret*",
    "*password*",
];

const DEFAULT_BODY_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "private_key",
    "credit_card",
    "card_number",
    "cvv",
    "ssn",
    "*password*",
    "*secret*",
    "*token*",
];

impl Default for RedactionConfig {
    fn default() -> Self {
        let owned = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        Self {
            enabled: true,
            headers: owned(DEFAULT_HEADERS),
            query_params: owned(DEFAULT_QUERY_PARAMS),
            body_fields: owned(DEFAULT_BODY_FIELDS),
        }
    }
}
pub struct Redactor {
    enabled: bool,
    headers: NameList,
    /// `headers`' verdicts on the names of nearly every message, found without a search.
    common_headers: CommonHeaders,
    query_params: NameList,
    body_fields: NameList,
    /// Keyed once; each fingerprint starts from a clone.
    mac: Hmac<Sha256>,
    /// Fingerprints of recent secrets: a client sends the same token with every request, and
    /// the keyed hash is the costliest step of redaction.
    fingerprints: std::cell::RefCell<foldhash::HashMap<Box<[u8]>, String>>,
}

/// Secrets whose fingerprint a `Redactor` remembers; beyond it the memo starts over.
const FINGERPRINT_MEMO: usize = 4096;
/// `<redacted:` + 12 hex digits + `>`.
const FINGERPRINT_LEN: usize = 23;
/// Longer secrets are hashed every time (remembering them would cost more memory than time).
const FINGERPRINT_MEMO_MAX_LEN: usize = 512;

impl std::fmt::Debug for Redactor {
    // The keyed state stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// `key` keeps fingerprints from being reversed by hashing guesses; a per-run random key
    /// makes them comparable within one run only.
    pub fn new(config: &RedactionConfig, key: [u8; 32]) -> Self {
        // HMAC zero-pads keys shorter than its 64-byte block (RFC 2104), so padding here gives the
        // same MAC as the 32-byte key, through the constructor that cannot fail.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&key);
        let headers = NameList::new(&config.headers);
        Self {
            enabled: config.enabled,
            common_headers: CommonHeaders::new(&headers),
            headers,
            query_params: NameList::new(&config.query_params),
            body_fields: NameList::new(&config.body_fields),
            mac: <Hmac<Sha256> as KeyInit>::new(&block.into()),
            fingerprints: Default::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `<redacted:` + the first 12 hex digits of HMAC-SHA256(key, secret) + `>`.
    pub fn fingerprint(&self, secret: &[u8]) -> String {
        let mut out = String::with_capacity(FINGERPRINT_LEN);
        self.fingerprint_into(secret, &mut out);
        out
    }

    /// Appends the fingerprint of `secret` to `out`.
    fn fingerprint_into(&self, secret: &[u8], out: &mut String) {
        self.with_fingerprint(secret, |f| out.push_str(f));
    }

    /// Hands the fingerprint of `secret` to `use_it`: from the memo when it is there, with no
    /// copy of its own.
    fn with_fingerprint<R>(&self, secret: &[u8], use_it: impl FnOnce(&str) -> R) -> R {
        if secret.len() > FINGERPRINT_MEMO_MAX_LEN {
            return use_it(&self.fingerprint_uncached(secret));
        }
        if let Some(f) = self.fingerprints.borrow().get(secret) {
            return use_it(f);
        }
        let f = self.fingerprint_uncached(secret);
        let used = use_it(&f);
        let mut memo = self.fingerprints.borrow_mut();
        if memo.len() >= FINGERPRINT_MEMO {
            memo.clear();
        }
        memo.insert(secret.into(), f);
        used
    }

    fn fingerprint_uncached(&self, secret: &[u8]) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut mac = self.mac.clone();
        mac.update(secret);
        let tag = mac.finalize().into_bytes();
        let mut out = String::with_capacity(FINGERPRINT_LEN);
        out.push_str("<redacted:");
        for byte in tag.iter().take(6) {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        out.push('>');
        out
    }

    /// One header value. Authorization and Proxy-Authorization keep their scheme
    /// (`Bearer <redacted:…>`), Cookie keeps cookie names, Set-Cookie keeps its attributes.
    pub fn header<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        // The name first: most headers are not secret, and their values need no trimming.
        if !self.enabled || !self.is_secret_header(name) {
            return Cow::Borrowed(value);
        }
        self.mask_header(name, value)
    }

    /// Appends `header(name, value)` to `out`; credentials are masked straight into it.
    #[inline]
    pub fn write_header(&self, name: &str, value: &str, out: &mut Vec<u8>) {
        if !self.enabled || !self.is_secret_header(name) {
            out.extend_from_slice(value.as_bytes());
        } else if is_credentials_header(name) && !value.trim_ascii().is_empty() {
            let (kept, secret) = split_credentials(value);
            out.extend_from_slice(kept.as_bytes());
            self.with_fingerprint(secret.as_bytes(), |f| out.extend_from_slice(f.as_bytes()));
        } else {
            out.extend_from_slice(self.mask_header(name, value).as_bytes());
        }
    }

    /// The value of a header whose name is secret: a blank one stays as it is.
    fn mask_header<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if value.trim_ascii().is_empty() {
            return Cow::Borrowed(value);
        }
        if is_credentials_header(name) {
            self.mask_credentials(value)
        } else if name.eq_ignore_ascii_case("cookie") {
            self.mask_cookies(value)
        } else if name.eq_ignore_ascii_case("set-cookie") {
            self.mask_set_cookie(value)
        } else {
            Cow::Owned(self.fingerprint(value.trim_ascii().as_bytes()))
        }
    }

    fn is_secret_header(&self, name: &str) -> bool {
        match self.common_headers.is_secret(name) {
            Some(secret) => secret,
            None => self.headers.find(name.as_bytes()).is_some(),
        }
    }

    /// A query string (the part after `?`). Only the values of matching parameters change;
    /// everything else stays byte for byte, including order, encoding and parameters without
    /// `=`.
    pub fn query<'a>(&self, query: &'a str) -> Cow<'a, str> {
        // Most queries name no secret parameter: one search tells, without splitting them.
        if !self.enabled || !self.query_params.may_match_in(query.as_bytes()) {
            return Cow::Borrowed(query);
        }
        self.mask_pairs(query, |name| self.query_params.find(name).is_some())
    }

    /// A body shown as text. JSON (a json content type, or a body starting with `{` or `[`) has
    /// the values of matching keys masked; form bodies are masked like a query string; anything
    /// else is unchanged.
    pub fn body<'a>(&self, content_type: Option<&str>, text: &'a str) -> Cow<'a, str> {
        if !self.enabled || text.is_empty() {
            return Cow::Borrowed(text);
        }
        match body_kind(content_type, text) {
            BodyKind::Json => self.mask_json(text),
            BodyKind::Form
                if !self.body_fields.may_match_in(text.as_bytes())
                    && !self.query_params.may_match_in(text.as_bytes()) =>
            {
                Cow::Borrowed(text)
            }
            BodyKind::Form => self.mask_pairs(text, |name| {
                self.body_fields.find(name).is_some() || self.query_params.find(name).is_some()
            }),
            BodyKind::Other => Cow::Borrowed(text),
        }
    }

    /// `Scheme credentials` keeps the scheme; a single word may be a bare token and is masked
    /// whole.
    fn mask_credentials<'a>(&self, value: &'a str) -> Cow<'a, str> {
        let (kept, secret) = split_credentials(value);
        let mut out = String::with_capacity(kept.len() + FINGERPRINT_LEN);
        out.push_str(kept);
        self.fingerprint_into(secret.as_bytes(), &mut out);
        Cow::Owned(out)
    }

    /// `a=1; b=2` → `a=<redacted:…>; b=<redacted:…>`.
    fn mask_cookies<'a>(&self, value: &'a str) -> Cow<'a, str> {
        let mut out = String::with_capacity(value.len() + 32);
        let mut changed = false;
        for (i, pair) in value.split(';').enumerate() {
            if i > 0 {
                out.push(';');
            }
            let masked = self.mask_cookie_pair(pair, &mut out);
            changed |= masked;
        }
        if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(value)
        }
    }

    /// `sid=abc; Path=/; HttpOnly` → `sid=<redacted:…>; Path=/; HttpOnly`.
    fn mask_set_cookie<'a>(&self, value: &'a str) -> Cow<'a, str> {
        let (pair, attributes) = value.split_at(value.find(';').unwrap_or(value.len()));
        let mut out = String::with_capacity(value.len() + 32);
        if self.mask_cookie_pair(pair, &mut out) {
            out.push_str(attributes);
            Cow::Owned(out)
        } else {
            Cow::Borrowed(value)
        }
    }

    /// Appends `pair` to `out` with its value masked; false when there was nothing to mask.
    fn mask_cookie_pair(&self, pair: &str, out: &mut String) -> bool {
        let (kept, secret) = match pair.find('=') {
            Some(eq) => pair.split_at(eq + 1),
            // A cookie without a name: the whole pair is the value.
            None => pair.split_at(pair.len() - pair.trim_start().len()),
        };
        let secret = secret.trim();
        if secret.is_empty() {
            out.push_str(pair);
            return false;
        }
        out.push_str(kept);
        self.fingerprint_into(secret.as_bytes(), out);
        true
    }

    /// `name=value&…` pairs, as in query strings and form bodies. Copies the input only once a
    /// value is masked, and only the untouched stretches between masks.
    fn mask_pairs<'a>(&self, input: &'a str, is_secret: impl Fn(&[u8]) -> bool) -> Cow<'a, str> {
        let mut out: Option<String> = None;
        let mut copied = 0;
        let mut start = 0;
        // On bytes, with memchr: `&`, `=` and `%` are ASCII, so every cut is a char boundary.
        for pair in input.as_bytes().split(|&b| b == b'&') {
            let pair_start = start;
            start += pair.len() + 1;
            // No `=` or an empty value: nothing to hide.
            let Some(eq) = memchr::memchr(b'=', pair) else {
                continue;
            };
            let (name, value) = (&pair[..eq], &pair[eq + 1..]);
            if value.is_empty() {
                continue;
            }
            let name: Cow<[u8]> = if memchr::memchr(b'%', name).is_none() {
                Cow::Borrowed(name)
            } else {
                percent_decode(name).into()
            };
            if !is_secret(&name) {
                continue;
            }
            let value_start = pair_start + pair.len() - value.len();
            let decoded: Cow<[u8]> = percent_decode(value).into();
            let out = out.get_or_insert_with(|| String::with_capacity(input.len() + 32));
            out.push_str(&input[copied..value_start]);
            self.fingerprint_into(&decoded, out);
            copied = pair_start + pair.len();
        }
        match out {
            Some(mut out) => {
                out.push_str(&input[copied..]);
                Cow::Owned(out)
            }
            None => Cow::Borrowed(input),
        }
    }

    fn mask_json<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // Most bodies hold no secret key: one search of the text tells, and costs less than
        // the scan that finds every key and matches each against the list.
        if !self.body_fields.may_match_in(text.as_bytes()) {
            return Cow::Borrowed(text);
        }
        json::mask(text, &self.body_fields, &|secret, out| {
            self.fingerprint_into(secret, out)
        })
    }
}

/// Authorization and Proxy-Authorization: `Scheme credentials`.
fn is_credentials_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("proxy-authorization")
}

/// A credentials value (not blank) as (what is kept, the secret): `Bearer abc` keeps `Bearer `
/// (with any whitespace around it) and hides `abc`; a single word is a bare token, hidden whole
/// (without the whitespace around it). Whitespace is HTTP's, ASCII: a field value cannot start
/// or end with any other.
fn split_credentials(value: &str) -> (&str, &str) {
    let trimmed = value.trim_ascii();
    let Some(scheme_len) = memchr::memchr2(b' ', b'\t', trimmed.as_bytes()) else {
        return ("", trimmed);
    };
    // Not empty: `trimmed` has no trailing whitespace.
    let credentials = trimmed[scheme_len..].trim_ascii_start();
    let leading = value.len() - value.trim_ascii_start().len();
    let credentials_at = leading + trimmed.len() - credentials.len();
    (&value[..credentials_at], credentials)
}

enum BodyKind {
    Json,
    Form,
    Other,
}

fn body_kind(content_type: Option<&str>, text: &str) -> BodyKind {
    // Cut at ASCII bytes with memchr (the char searcher costs more on such short text).
    let media = content_type
        .map(|ct| ct[..memchr::memchr(b';', ct.as_bytes()).unwrap_or(ct.len())].trim())
        .unwrap_or_default();
    let subtype = memchr::memchr(b'/', media.as_bytes())
        .map(|slash| &media[slash + 1..])
        .unwrap_or_default();
    // json, +json, x-ndjson.
    let json_type =
        subtype.len() >= 4 && subtype.as_bytes()[subtype.len() - 4..].eq_ignore_ascii_case(b"json");
    if json_type {
        BodyKind::Json
    } else if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else if text.trim_start().starts_with(['{', '[']) {
        BodyKind::Json
    } else {
        BodyKind::Other
    }
}
#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn redactor() -> Redactor {
        Redactor::new(&RedactionConfig::default(), KEY)
    }

    fn fp(secret: &str) -> String {
        redactor().fingerprint(secret.as_bytes())
    }

    fn is_borrowed(cow: Cow<'_, str>) -> bool {
        matches!(cow, Cow::Borrowed(_))
    }

    #[test]
    fn written_headers_are_the_masked_values() {
        let r = redactor();
        let disabled = Redactor::new(
            &RedactionConfig {
                enabled: false,
                ..RedactionConfig::default()
            },
            KEY,
        );
        for name in [
            "authorization",
            "Proxy-Authorization",
            "cookie",
            "x-api-key",
            "accept",
        ] {
            for value in [
                "Bearer abc",
                "  Bearer \t abc  ",
                "Basic\tdXNlcjpwdw==",
                "bare-token",
                " ",
                "",
                "a=1; b=2",
                "\u{a0}Bearer x\u{a0}",
            ] {
                for r in [&r, &disabled] {
                    let mut out = Vec::new();
                    r.write_header(name, value, &mut out);
                    assert_eq!(
                        String::from_utf8(out).unwrap(),
                        r.header(name, value),
                        "{name}: {value:?}"
                    );
                }
            }
        }
        assert_eq!(
            r.header("authorization", "Bearer abc"),
            format!("Bearer {}", fp("abc"))
        );
        assert_eq!(r.header("authorization", " tok "), fp("tok"));
    }

    #[test]
    fn fingerprint_is_a_truncated_hmac_sha256() {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&KEY).unwrap();
        mac.update(b"hunter2");
        let tag = mac.finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(fp("hunter2"), format!("<redacted:{}>", &hex[..12]));
    }

    #[test]
    fn fingerprints_tell_secrets_apart_but_not_equal_ones() {
        let r = redactor();
        assert_eq!(r.fingerprint(b"abc"), r.fingerprint(b"abc"));
        assert_ne!(r.fingerprint(b"abc"), r.fingerprint(b"abd"));
        let other = Redactor::new(&RedactionConfig::default(), [8; 32]);
        assert_ne!(r.fingerprint(b"abc"), other.fingerprint(b"abc"));
        assert_eq!(r.fingerprint(b"abc").len(), "<redacted:>".len() + 12);
    }

    #[test]
    fn authorization_keeps_the_scheme() {
        let r = redactor();
        assert_eq!(
            r.header("Authorization", "Bearer eyJhbGciOi.x.y"),
            format!("Bearer {}", fp("eyJhbGciOi.x.y"))
        );
        assert_eq!(
            r.header("proxy-authorization", "Basic dXNlcjpwYXNz"),
            format!("Basic {}", fp("dXNlcjpwYXNz"))
        );
        // Digest credentials hold spaces; all of them are one secret.
        assert_eq!(
            r.header("authorization", r#"Digest username="a", response="b""#),
            format!("Digest {}", fp(r#"username="a", response="b""#))
        );
        // A bare token has no scheme to keep.
        assert_eq!(r.header("authorization", "sk-abc123"), fp("sk-abc123"));
        // Trailing whitespace does not make a bare token look like a scheme.
        assert_eq!(r.header("authorization", " sk-abc123 "), fp("sk-abc123"));
        assert_eq!(
            r.header("authorization", "Bearer  tok "),
            format!("Bearer  {}", fp("tok"))
        );
        assert!(is_borrowed(r.header("authorization", "")));
    }

    #[test]
    fn the_same_token_has_the_same_fingerprint_in_header_and_body() {
        let r = redactor();
        let header = r.header("authorization", "Bearer tok-1");
        let body = r.body(Some("application/json"), r#"{"access_token":"tok-1"}"#);
        assert_eq!(header, format!("Bearer {}", fp("tok-1")));
        assert_eq!(body, format!(r#"{{"access_token":"{}"}}"#, fp("tok-1")));
    }

    #[test]
    fn cookie_keeps_names() {
        let r = redactor();
        assert_eq!(
            r.header("Cookie", "sid=abc; theme=dark"),
            format!("sid={}; theme={}", fp("abc"), fp("dark"))
        );
        assert_eq!(
            r.header("cookie", "a=; lone; b=2;"),
            format!("a=; {}; b={};", fp("lone"), fp("2"))
        );
        assert!(is_borrowed(r.header("cookie", "a=; b= ")));
    }

    #[test]
    fn set_cookie_keeps_attributes() {
        let r = redactor();
        assert_eq!(
            r.header("Set-Cookie", "sid=abc; Path=/; HttpOnly"),
            format!("sid={}; Path=/; HttpOnly", fp("abc"))
        );
        assert_eq!(
            r.header("set-cookie", "sid=abc"),
            format!("sid={}", fp("abc"))
        );
        assert!(is_borrowed(r.header("set-cookie", "sid=; Max-Age=0")));
    }

    #[test]
    fn listed_and_pattern_headers_are_masked_whole() {
        let r = redactor();
        for name in [
            "X-API-Key",
            "api-key",
            "apikey",
            "x-goog-api-key",
            "OpenAI-Api-Key",
            "x-auth-token",
            "X-CSRF-Token",
            "x-amz-security-token",
            "x-client-secret",
            "x-db-password",
            "x-session-id",
            "x-my_api_key",
        ] {
            assert_eq!(r.header(name, " s3cr3t "), fp("s3cr3t"), "{name}");
        }
    }

    #[test]
    fn other_headers_pass_through_borrowed() {
        let r = redactor();
        for name in [
            "host",
            "content-type",
            "x-request-id",
            "accept",
            "x-keyboard",
        ] {
            assert!(is_borrowed(r.header(name, "value")), "{name}");
        }
    }

    #[test]
    fn query_masks_matching_values_only() {
        let r = redactor();
        assert_eq!(
            r.query("q=rust&api_key=abc&page=2"),
            format!("q=rust&api_key={}&page=2", fp("abc"))
        );
        // Repeated parameters are masked each time; the values are percent-decoded first.
        assert_eq!(
            r.query("token=a%2Fb&token=c"),
            format!("token={}&token={}", fp("a/b"), fp("c"))
        );
        // Names are percent-decoded and compared without case, `-` or `_`.
        assert_eq!(r.query("api%5Fkey=abc"), format!("api%5Fkey={}", fp("abc")));
        assert_eq!(r.query("ApiKey=abc"), format!("ApiKey={}", fp("abc")));
        assert_eq!(
            r.query("X-Amz-Signature=f00&X-Amz-Date=1"),
            format!("X-Amz-Signature={}&X-Amz-Date=1", fp("f00"))
        );
        // Pattern names.
        assert_eq!(
            r.query("my_reset_token=z"),
            format!("my_reset_token={}", fp("z"))
        );
    }

    #[test]
    fn query_edge_cases_are_kept_byte_for_byte() {
        let r = redactor();
        for query in [
            "",
            "a&b",
            "token",
            "token=",
            "&&",
            "=x",
            "a=1&b=%20&c",
            "monkey=1&keys=2&keyboard=3",
            "q=a+b&x=%ZZ",
        ] {
            assert!(is_borrowed(r.query(query)), "{query}");
        }
        assert_eq!(r.query("a&key=v&&b=&c"), format!("a&key={}&&b=&c", fp("v")));
        // Only the first `=` splits; the rest belongs to the value.
        assert_eq!(r.query("sig=a=b"), format!("sig={}", fp("a=b")));
    }

    #[test]
    fn json_is_recognized_without_a_json_content_type() {
        let r = redactor();
        let body = r#" [{"secret":"s"}]"#;
        let expected = format!(r#" [{{"secret":"{}"}}]"#, fp("s"));
        assert_eq!(r.body(None, body), expected);
        assert_eq!(r.body(Some("text/plain"), body), expected);
        assert_eq!(
            r.body(Some("application/vnd.api+json"), r#"{"token":"t"}"#),
            format!(r#"{{"token":"{}"}}"#, fp("t"))
        );
    }

    #[test]
    fn form_bodies_use_body_and_query_names() {
        let r = redactor();
        let body = "username=ana&password=p%40ss&code=xyz&cvv=123&remember=1";
        assert_eq!(
            r.body(Some("application/x-www-form-urlencoded"), body),
            format!(
                "username=ana&password={}&code={}&cvv={}&remember=1",
                fp("p@ss"),
                fp("xyz"),
                fp("123")
            )
        );
        assert!(is_borrowed(r.body(None, body)));
    }

    #[test]
    fn other_bodies_pass_through() {
        let r = redactor();
        for (ct, body) in [
            (Some("text/plain"), "password=hunter2"),
            (Some("text/html"), "<p>token: abc</p>"),
            (None, ""),
        ] {
            assert!(is_borrowed(r.body(ct, body)), "{body}");
        }
    }

    #[test]
    fn disabled_passes_everything_through() {
        let config = RedactionConfig {
            enabled: false,
            ..RedactionConfig::default()
        };
        let r = Redactor::new(&config, KEY);
        assert!(!r.enabled());
        assert!(is_borrowed(r.header("authorization", "Bearer x")));
        assert!(is_borrowed(r.header("cookie", "a=b")));
        assert!(is_borrowed(r.query("token=x")));
        assert!(is_borrowed(
            r.body(Some("application/json"), r#"{"password":"x"}"#)
        ));
        assert!(is_borrowed(
            r.body(Some("application/x-www-form-urlencoded"), "password=x")
        ));
    }

    #[test]
    fn custom_lists_replace_the_defaults() {
        let config = RedactionConfig {
            headers: vec!["X-Internal".into()],
            query_params: vec!["t*".into()],
            body_fields: vec!["*pin".into()],
            ..RedactionConfig::default()
        };
        let r = Redactor::new(&config, KEY);
        assert!(is_borrowed(r.header("authorization", "Bearer x")));
        assert_eq!(r.header("x_internal", "v"), fp("v"));
        assert_eq!(r.query("tab=1&ab=2"), format!("tab={}&ab=2", fp("1")));
        // Broad patterns leave numbers alone, exact ones do not.
        assert_eq!(
            r.body(None, r#"{"userPin":"1","cardPin":2}"#),
            format!(r#"{{"userPin":"{}","cardPin":2}}"#, fp("1"))
        );
    }

    #[test]
    fn config_defaults_and_unknown_fields() {
        let config: RedactionConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(config, RedactionConfig::default());
        assert!(config.enabled);
        let config: RedactionConfig = serde_json::from_str(r#"{"enabled":false}"#).unwrap();
        assert!(!config.enabled);
        assert_eq!(config.headers, RedactionConfig::default().headers);
        assert!(serde_json::from_str::<RedactionConfig>(r#"{"header":[]}"#).is_err());
    }

    #[test]
    fn empty_entries_match_nothing() {
        let config = RedactionConfig {
            query_params: vec![String::new(), " - ".into()],
            ..RedactionConfig::default()
        };
        let r = Redactor::new(&config, KEY);
        assert!(is_borrowed(r.query("=x&-=y")));
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(text in "(?s).{0,64}|[\\[\\]{}\":,\\\\0-9a-z ]{0,64}") {
            let r = redactor();
            let _ = r.body(Some("application/json"), &text);
            let _ = r.body(Some("application/x-www-form-urlencoded"), &text);
            let _ = r.query(&text);
            for name in ["authorization", "cookie", "set-cookie", "x-api-key"] {
                let _ = r.header(name, &text);
            }
        }
    }
}
