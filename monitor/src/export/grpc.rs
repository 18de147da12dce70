//! The `grpc` member of an `http` event: the call an HTTP/2 stream carried, redacted as bodies
//! are. A decoded message's keys are field numbers, so secrets in it are found by their value
//! (JWTs, vendor keys, private keys) as well as by the body-field names (which `+json`
//! messages have); `grpc-message` is free text, masked word by word.

use std::borrow::Cow;

use serde_json::Value;

use crate::{
    discovery::sensitive::classify_field,
    grpc::{GrpcCall, protobuf::mask_strings},
    transaction::redact::Redactor,
};

/// `call` as written: a copy whose credential-looking strings are the redactor's fingerprints.
/// Only gRPC transactions pay for it.
pub fn redacted(call: &GrpcCall, redactor: &Redactor) -> GrpcCall {
    let mut out = call.clone();
    if !redactor.enabled() {
        return out;
    }
    for body in [&mut out.request_body, &mut out.response_body]
        .into_iter()
        .flatten()
    {
        mask_body(body, redactor);
    }
    if let Some(message) = &mut out.message
        && let Cow::Owned(masked) = mask_text(message, redactor)
    {
        *message = masked;
    }
    out
}

/// Masks one decoded message in place: by value, then by name as a JSON body is.
fn mask_body(body: &mut Value, redactor: &Redactor) {
    mask_strings(body, &mut |s| {
        is_credential(s).then(|| redactor.fingerprint(s.as_bytes()))
    });
    let Ok(text) = serde_json::to_string(body) else {
        return;
    };
    if let Cow::Owned(masked) = redactor.body(Some("application/json"), &text) {
        // Masking swaps values for fingerprint strings, so the text stays JSON; were it not,
        // the value-masked tree is kept rather than the message dropped.
        if let Ok(value) = serde_json::from_str(&masked) {
            *body = value;
        }
    }
}

/// A gRPC call's `grpc-message` header or trailer as sent (percent-encoded), when it holds a
/// credential: its fingerprint, whole (the decoded `message` member is masked word by word).
/// None for any other field, or a message without one.
pub fn mask_status_header(name: &str, value: &str, redactor: &Redactor) -> Option<String> {
    if !redactor.enabled() || !name.eq_ignore_ascii_case("grpc-message") {
        return None;
    }
    let text = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
    is_credential(&text).then(|| redactor.fingerprint(value.as_bytes()))
}

fn is_credential(s: &str) -> bool {
    classify_field(None, s).has_credential()
}

/// Free text with every whitespace-separated word that reads as a credential fingerprinted;
/// a credential no single word holds (a PEM key over lines) masks the whole text.
fn mask_text<'a>(text: &'a str, redactor: &Redactor) -> Cow<'a, str> {
    if !is_credential(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut masked = false;
    for piece in text.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end_matches(char::is_whitespace);
        if !word.is_empty() && is_credential(word) {
            out.push_str(&redactor.fingerprint(word.as_bytes()));
            masked = true;
        } else {
            out.push_str(word);
        }
        out.push_str(&piece[word.len()..]);
    }
    if !masked {
        return Cow::Owned(redactor.fingerprint(text.as_bytes()));
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{
        grpc::{GrpcFlags, Streaming},
        transaction::redact::RedactionConfig,
    };

    /// A JWT as issued (header, payload, signature; the checker reads its header).
    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
                       eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.\
                       SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    fn call() -> GrpcCall {
        GrpcCall {
            service: Some("auth.Tokens".into()),
            method: Some("Check".into()),
            status: Some(16),
            status_name: Some("UNAUTHENTICATED"),
            message: Some(format!("token {JWT} expired")),
            request_messages: 1,
            response_messages: 0,
            compressed: false,
            streaming: Streaming::Unary,
            request_body: Some(json!({"1": "alice", "2": JWT, "3": [{"1": JWT}], "4": 7})),
            response_body: None,
            flags: GrpcFlags::empty(),
        }
    }

    #[test]
    fn credentials_in_messages_and_status_are_fingerprinted() {
        let redactor = Redactor::new(&RedactionConfig::default(), [7; 32]);
        let fp = redactor.fingerprint(JWT.as_bytes());
        let out = redacted(&call(), &redactor);
        assert_eq!(
            out.request_body,
            Some(json!({"1": "alice", "2": fp, "3": [{"1": fp}], "4": 7}))
        );
        assert_eq!(out.message, Some(format!("token {fp} expired")));
        assert_eq!(out.service, call().service);
        // Without redaction, the call as decoded.
        let off = RedactionConfig {
            enabled: false,
            ..RedactionConfig::default()
        };
        assert_eq!(redacted(&call(), &Redactor::new(&off, [7; 32])), call());
    }

    #[test]
    fn json_codec_fields_are_masked_by_name_as_bodies_are() {
        let redactor = Redactor::new(&RedactionConfig::default(), [7; 32]);
        let mut c = call();
        c.request_body = Some(json!({"user": "alice", "password": "hunter2"}));
        c.message = Some("no such user".into());
        let out = redacted(&c, &redactor);
        let body = out.request_body.unwrap();
        assert_eq!(body["user"], "alice");
        assert_eq!(body["password"], redactor.fingerprint(b"hunter2"));
        assert_eq!(out.message.as_deref(), Some("no such user"));
    }

    #[test]
    fn a_grpc_message_field_with_a_credential_is_fingerprinted_whole() {
        let redactor = Redactor::new(&RedactionConfig::default(), [7; 32]);
        let sent = format!("token%20{JWT}%20expired");
        assert_eq!(
            mask_status_header("grpc-message", &sent, &redactor),
            Some(redactor.fingerprint(sent.as_bytes()))
        );
        assert_eq!(
            mask_status_header("grpc-message", "no%20such%20user", &redactor),
            None
        );
        assert_eq!(mask_status_header("x-token", &sent, &redactor), None);
    }

    #[test]
    fn a_key_over_lines_masks_the_whole_message() {
        let redactor = Redactor::new(&RedactionConfig::default(), [7; 32]);
        let text = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----";
        assert_eq!(
            mask_text(text, &redactor),
            redactor.fingerprint(text.as_bytes())
        );
    }
}
