//! Recognises logins, their outcome and the account they named; password-reset requests and
//! the account they are for; and requests that change credentials. By path words and body
//! fields (JSON or form), so any framework's login is seen. Accounts are hashed at once: no
//! user name is kept.

use serde_json::Value;

use super::super::{sighting::Sighting, window::hash_of};

/// Path words of login endpoints (a whole segment, case-insensitive, `-`/`_` ignored).
const LOGIN_WORDS: &[&str] = &[
    "login",
    "signin",
    "logon",
    "authenticate",
    "auth",
    "session",
    "sessions",
    "token",
    "jsecuritycheck",
    "wplogin.php",
    "login.php",
];
const RESET_WORDS: &[&str] = &[
    "reset",
    "forgot",
    "forgotpassword",
    "passwordreset",
    "resetpassword",
    "recover",
    "recovery",
    "lostpassword",
];
/// Path words of requests that change credentials or recovery settings.
const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "changepassword",
    "email",
    "mfa",
    "2fa",
    "totp",
    "otp",
    "credentials",
    "apikeys",
    "apikey",
    "tokens",
    "security",
    "recovery",
    "phone",
];
const ACCOUNT_FIELDS: &[&str] = &[
    "username",
    "user",
    "email",
    "login",
    "account",
    "userid",
    "name",
    "log",
    "uname",
    "usr",
    "mail",
    "emailaddress",
    "phone",
];
const PASSWORD_FIELDS: &[&str] = &["password", "passwd", "pwd", "pass", "secret", "passcode"];
/// Words of failure in a login answer that came back 200 (many forms answer so).
const FAILURE_WORDS: &[&[u8]] = &[
    b"invalid",
    b"incorrect",
    b"failed",
    b"failure",
    b"wrong",
    b"denied",
    b"unauthorized",
    b"not match",
    b"try again",
];

/// Bytes of a body looked at for fields and failure words.
const MAX_BODY: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    /// No response, or one that says neither.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Hash of the account named (lowercased), when the request named one.
    pub account: Option<u64>,
    pub outcome: Outcome,
}

/// A login or a password reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Attempt(Attempt),
    /// The account the reset is for, when named.
    Reset(Option<u64>),
}

/// What `s` is, if a login or a reset.
pub fn event(s: &Sighting) -> Option<Event> {
    reset_request(s)
        .map(Event::Reset)
        .or_else(|| attempt(s).map(Event::Attempt))
}

/// A segment reduced for comparison: lowercase, without `-` and `_`.
fn norm(seg: &str) -> String {
    seg.bytes()
        .filter(|b| !matches!(b, b'-' | b'_'))
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect()
}

fn path_has(path: &str, words: &[&str]) -> bool {
    path.split('/')
        .filter(|s| !s.is_empty() && s.len() <= 40)
        .any(|s| {
            let n = norm(s);
            words.iter().any(|w| n == *w)
        })
}

fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH")
}

/// The body's fields (JSON object members or form pairs), lowercased names; at most 64.
fn fields(s: &Sighting) -> Vec<(String, String)> {
    let body = &s.request_body[..s.request_body.len().min(MAX_BODY)];
    let ty = s.request_type.unwrap_or_default().to_ascii_lowercase();
    let mut out = Vec::new();
    let json = ty.contains("json") || body.first().is_some_and(|b| *b == b'{');
    if json {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            for (k, v) in map.iter().take(64) {
                let text = match v {
                    Value::String(t) => t.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => continue,
                };
                out.push((norm(k), text));
            }
        }
        return out;
    }
    if ty.contains("x-www-form-urlencoded") || (ty.is_empty() && body.contains(&b'=')) {
        for pair in body.split(|b| *b == b'&').take(64) {
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            out.push((norm(&decode(k)), decode(v)));
        }
    }
    out
}

/// A form component, `+` and percent-decoded (lossy).
fn decode(raw: &[u8]) -> String {
    let plus: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

fn account_in(fields: &[(String, String)]) -> Option<u64> {
    ACCOUNT_FIELDS.iter().find_map(|want| {
        fields
            .iter()
            .find(|(k, v)| k == want && !v.trim().is_empty())
            .map(|(_, v)| hash_of(v.trim().to_lowercase().as_bytes()))
    })
}

/// A login attempt, when `s` is one.
pub fn attempt(s: &Sighting) -> Option<Attempt> {
    // Basic auth refused: a login attempt on any endpoint.
    if s.status == Some(401)
        && let Some(user) = basic_user(s)
    {
        return Some(Attempt {
            account: Some(hash_of(user.to_lowercase().as_bytes())),
            outcome: Outcome::Failure,
        });
    }
    if !is_write(s.method) {
        return None;
    }
    let by_path = path_has(s.path, LOGIN_WORDS) && !path_has(s.path, RESET_WORDS);
    let fields = if by_path || !s.request_body.is_empty() {
        fields(s)
    } else {
        Vec::new()
    };
    let has_password = fields
        .iter()
        .any(|(k, v)| PASSWORD_FIELDS.contains(&k.as_str()) && !v.is_empty());
    if !by_path && !has_password {
        return None;
    }
    if !has_password && !path_has(s.path, &["login", "signin", "logon"]) {
        // `/token` or `/session` without a password: a refresh, not a login.
        return None;
    }
    Some(Attempt {
        account: account_in(&fields),
        outcome: outcome(s),
    })
}

fn outcome(s: &Sighting) -> Outcome {
    let Some(status) = s.status else {
        return Outcome::Unknown;
    };
    match status {
        401 | 403 | 422 | 429 => Outcome::Failure,
        400 => Outcome::Failure,
        301..=303 | 307 | 308 => {
            let location = s
                .response_headers
                .and_then(|h| h.get_str("location"))
                .unwrap_or_default()
                .to_ascii_lowercase();
            if ["login", "signin", "error", "fail", "denied"]
                .iter()
                .any(|w| location.contains(w))
            {
                Outcome::Failure
            } else {
                Outcome::Success
            }
        }
        200..=299 => {
            let body = &s.response_body[..s.response_body.len().min(MAX_BODY)];
            let lower = body.to_ascii_lowercase();
            let failed = FAILURE_WORDS
                .iter()
                .any(|w| memchr::memmem::find(&lower, w).is_some());
            // A credential handed out: a token member, or a session cookie.
            let token = [
                &b"token\":"[..],
                b"token\" :",
                b"\"session",
                b"success\":true",
            ]
            .iter()
            .any(|w| memchr::memmem::find(&lower, w).is_some())
                || s.response_headers.is_some_and(|h| h.contains("set-cookie"));
            if failed && !token {
                Outcome::Failure
            } else {
                Outcome::Success
            }
        }
        _ => Outcome::Unknown,
    }
}

fn basic_user(s: &Sighting) -> Option<String> {
    use base64::Engine as _;
    let value = s.request_headers.get_str("authorization")?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8_lossy(&raw);
    Some(text.split(':').next().unwrap_or_default().to_owned())
}

/// A password-reset request: Some(account hash, when named).
pub fn reset_request(s: &Sighting) -> Option<Option<u64>> {
    if !is_write(s.method) || !path_has(s.path, RESET_WORDS) {
        return None;
    }
    let mut account = account_in(&fields(s));
    if account.is_none()
        && let Some(q) = s.query
    {
        let pairs: Vec<(String, String)> = q
            .split('&')
            .take(64)
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (norm(&decode(k.as_bytes())), decode(v.as_bytes())))
            .collect();
        account = account_in(&pairs);
    }
    Some(account)
}

/// A request that changes credentials or recovery settings (not a login, not a reset).
pub fn touches_credentials(s: &Sighting) -> bool {
    matches!(s.method, "POST" | "PUT" | "PATCH" | "DELETE")
        && path_has(s.path, CREDENTIAL_WORDS)
        && !path_has(s.path, LOGIN_WORDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::testkit::sighting;

    #[test]
    fn json_and_form_logins_and_their_outcomes() {
        let mut s = sighting("POST", "/api/login");
        s.request_type = Some("application/json");
        s.request_body = br#"{"username":"Alice","password":"x"}"#;
        s.status = Some(401);
        let a = attempt(&s).unwrap();
        assert_eq!(a.outcome, Outcome::Failure);
        assert_eq!(a.account, Some(hash_of(b"alice")));
        s.status = Some(200);
        s.response_body = br#"{"token":"abc"}"#;
        assert_eq!(attempt(&s).unwrap().outcome, Outcome::Success);

        // A form posted anywhere, failure said in a 200 page.
        let mut f = sighting("POST", "/index.php");
        f.request_type = Some("application/x-www-form-urlencoded");
        f.request_body = b"log=admin&pwd=hunter2&wp-submit=Log+In";
        f.status = Some(200);
        f.response_body = b"<p>Error: the password you entered is incorrect.</p>";
        let a = attempt(&f).unwrap();
        assert_eq!(a.outcome, Outcome::Failure);
        assert_eq!(a.account, Some(hash_of(b"admin")));
    }

    #[test]
    fn not_logins() {
        let mut s = sighting("GET", "/login");
        s.status = Some(200);
        assert!(attempt(&s).is_none(), "the login page itself");
        let mut s = sighting("POST", "/oauth/token");
        s.request_body = b"grant_type=refresh_token&refresh_token=x";
        s.request_type = Some("application/x-www-form-urlencoded");
        assert!(attempt(&s).is_none(), "a token refresh");
        let mut s = sighting("POST", "/api/orders");
        s.request_body = br#"{"item":"x"}"#;
        assert!(attempt(&s).is_none());
    }

    #[test]
    fn resets_and_credential_changes() {
        let mut s = sighting("POST", "/password-reset");
        s.request_body = br#"{"email":"a@example.com"}"#;
        s.request_type = Some("application/json");
        assert_eq!(reset_request(&s), Some(Some(hash_of(b"a@example.com"))));
        assert!(reset_request(&sighting("GET", "/password-reset")).is_none());
        assert!(touches_credentials(&sighting("POST", "/api/me/password")));
        assert!(touches_credentials(&sighting("PUT", "/v1/account/mfa")));
        assert!(!touches_credentials(&sighting("GET", "/api/me/password")));
        assert!(!touches_credentials(&sighting("POST", "/api/orders")));
    }
}
