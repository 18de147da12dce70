//! Writes an `http` event as its JSON line by hand, member for member in the order of the types
//! in `http.rs` (whose derived `Serialize` and schema stay the reference: `HttpRenderer::to_value`
//! checks that both give the same text).

use super::{
    http::{BodyOut, HeaderView, HttpEvent, RequestOut, ResponseOut, header_value},
    json_text::{self, Array, Object, key},
};
use crate::transaction::{Flag, Flags};

impl HttpEvent<'_> {
    /// Appends the event as it is written, tagged `"type":"http"`, without the newline.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::begin(out);
        o.plain_str(key!("type"), "http");
        o.uint(key!("schema_version"), self.schema_version);
        o.plain_str(key!("ts"), self.ts.0.as_bytes());
        o.uint(key!("ts_unix_ns"), self.ts_unix_ns);
        o.plain_str(key!("end_ts"), self.end_ts.0.as_bytes());
        o.uint(key!("end_ts_unix_ns"), self.end_ts_unix_ns);
        match self.duration_ns {
            Some(ns) => o.uint(key!("duration_ns"), ns),
            None => json_text::null(o.key(key!("duration_ns"))),
        }
        let mut process = Object::begin(o.key(key!("process")));
        process.uint(key!("pid"), self.process.pid);
        process.str(key!("comm"), self.process.comm);
        process.end();
        o.key(key!("connection"))
            .extend_from_slice(self.connection.json().as_bytes());
        for (key, side) in [(key!("server"), self.server), (key!("client"), self.client)] {
            let out = o.key(key);
            match side {
                Some(side) => out.extend_from_slice(side.json().as_bytes()),
                None => json_text::null(out),
            }
        }
        match &self.request {
            Some(request) => request.write_json(o.key(key!("request"))),
            None => json_text::null(o.key(key!("request"))),
        }
        match &self.response {
            Some(response) => response.write_json(o.key(key!("response"))),
            None => json_text::null(o.key(key!("response"))),
        }
        o.plain_str(key!("outcome"), self.outcome.name());
        o.opt_str(key!("reason"), self.reason.map(|r| r.name()));
        write_flags(o.key(key!("flags")), self.flags);
        o.bool(key!("smuggling_risk"), self.smuggling_risk);
        if let Some(grpc) = &self.grpc {
            // Rare next to HTTP/1 and holding decoded trees: serde writes it.
            raw_or_null(o.key(key!("grpc")), Some(grpc));
        }
        let insight = self.insight;
        match &insight.actor {
            Some(actor) => {
                let mut a = Object::begin(o.key(key!("actor")));
                a.str(key!("id"), &actor.id);
                a.str(key!("kind"), actor.kind.name());
                a.end();
            }
            None => json_text::null(o.key(key!("actor"))),
        }
        o.opt_str(key!("client_ip"), insight.client_ip.as_deref());
        o.opt_str(key!("auth"), insight.auth.map(|a| a.name()));
        o.opt_str(key!("session_id"), insight.session_id.as_deref());
        o.opt_str(key!("path_template"), insight.path_template.as_deref());
        // Rare and small (a few names): serde writes them, as the reference does.
        raw_or_null(o.key(key!("sensitive")), insight.sensitive.as_ref());
        raw_or_null(o.key(key!("ai")), insight.ai.as_ref());
        let mut alerts = Array::begin(o.key(key!("alerts")));
        for id in &insight.alerts {
            // Ids are hex digits: nothing to escape.
            json_text::plain_string(alerts.item(), id.hex());
        }
        alerts.end();
        o.end();
    }
}

impl RequestOut<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::begin(out);
        o.str(key!("method"), self.method);
        o.str(key!("target"), &self.target);
        o.opt_str(key!("path"), self.path);
        o.opt_str(key!("query"), self.query.as_deref());
        o.plain_str(key!("version"), self.version);
        self.headers.write_json(o.key(key!("headers")));
        if !self.trailers.is_empty() {
            self.trailers.write_json(o.key(key!("trailers")));
        }
        self.body.write_json(o.key(key!("body")));
        o.end();
    }
}

impl ResponseOut<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::begin(out);
        o.uint(key!("status_code"), self.status_code);
        o.str(key!("reason"), self.reason);
        o.plain_str(key!("version"), self.version);
        self.headers.write_json(o.key(key!("headers")));
        if !self.trailers.is_empty() {
            self.trailers.write_json(o.key(key!("trailers")));
        }
        self.body.write_json(o.key(key!("body")));
        let mut interim = Array::begin(o.key(key!("interim")));
        for status in self.interim {
            json_text::uint(interim.item(), *status);
        }
        interim.end();
        o.end();
    }
}

impl BodyOut<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::begin(out);
        o.uint(key!("size"), self.size);
        o.uint(key!("captured"), self.captured);
        o.bool(key!("truncated"), self.truncated);
        o.bool(key!("complete"), self.complete);
        o.opt_str(key!("content_encoding"), self.content_encoding.as_deref());
        o.bool(key!("decoded"), self.decoded);
        o.opt_str(key!("encoding"), self.encoding.map(|e| e.name()));
        o.opt_str(key!("content"), self.content.as_deref());
        o.end();
    }
}

impl HeaderView<'_> {
    /// As its `Serialize`: each lowercase name once, at its first line, with every value of it
    /// in order, redacted.
    fn write_json(&self, out: &mut Vec<u8>) {
        let repeated = self.headers.has_repeated_names();
        let (names, values) = self.headers.text_runs();
        if !repeated
            && !self.grpc
            && json_text::is_plain(names.as_bytes())
            && json_text::is_plain(values)
        {
            self.write_plain(out);
            return;
        }
        let mut o = Object::begin(out);
        if !repeated {
            for (name, value) in self.headers.iter_text() {
                let mut values = Array::begin(o.dynamic_key(name));
                json_text::string(
                    values.item(),
                    &header_value(self.redactor, self.grpc, name, &value),
                );
                values.end();
            }
        } else {
            for (i, (name, _)) in self.headers.iter().enumerate() {
                if self.headers.iter().take(i).any(|(n, _)| n == name) {
                    continue;
                }
                let mut values = Array::begin(o.dynamic_key(name));
                for (n, value) in self.headers.iter_text().skip(i) {
                    if n == name {
                        json_text::string(
                            values.item(),
                            &header_value(self.redactor, self.grpc, name, &value),
                        );
                    }
                }
                values.end();
            }
        }
        o.end();
    }

    /// The usual head: one line per name, and no name or value that needs escaping (which one
    /// look at all of them told). A redacted value is made of its value's bytes and a
    /// fingerprint's, so it needs none either: each field is `"name":["value"]` copied as is.
    fn write_plain(&self, out: &mut Vec<u8>) {
        let (names, values) = self.headers.text_runs();
        // The punctuation of each field is 8 bytes; fingerprints may add some more.
        out.reserve(names.len() + values.len() + 8 * self.headers.len() + 2);
        out.push(b'{');
        for (i, (name, value)) in self.headers.iter_text().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":[\"");
            self.redactor.write_header(name, &value, out);
            out.extend_from_slice(b"\"]");
        }
        out.push(b'}');
    }
}

/// `value` as serde writes it, or null when absent (or, impossibly, unserializable).
fn raw_or_null<T: serde::Serialize>(out: &mut Vec<u8>, value: Option<&T>) {
    match value.map(serde_json::to_vec) {
        Some(Ok(bytes)) => out.extend_from_slice(&bytes),
        _ => json_text::null(out),
    }
}

/// As `Flags`' `Serialize`: the names, sorted.
fn write_flags(out: &mut Vec<u8>, flags: Flags) {
    let mut names = [""; Flag::ALL.len()];
    let mut len = 0;
    for (slot, flag) in names.iter_mut().zip(flags.iter()) {
        *slot = flag.name();
        len += 1;
    }
    let names = &mut names[..len];
    names.sort_unstable();
    let mut array = Array::begin(out);
    for name in names.iter() {
        json_text::plain_string(array.item(), name);
    }
    array.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::{EndReason, Outcome, body::ContentRepr};

    #[test]
    fn names_are_what_serde_writes() {
        let serde_name = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        for outcome in Outcome::ALL {
            assert_eq!(
                outcome.name(),
                serde_name(serde_json::to_value(outcome).unwrap())
            );
        }
        for reason in EndReason::ALL {
            assert_eq!(
                reason.name(),
                serde_name(serde_json::to_value(reason).unwrap())
            );
        }
        for repr in [ContentRepr::Text, ContentRepr::Base64] {
            assert_eq!(repr.name(), serde_name(serde_json::to_value(repr).unwrap()));
        }
    }

    proptest::proptest! {
        /// Heads with and without fields that need escaping, repeated names and secrets: the
        /// fast paths write what serde writes.
        #[test]
        fn headers_are_written_as_serde_writes_them(
            fields in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        proptest::strategy::Just("Host"),
                        proptest::strategy::Just("authorization"),
                        proptest::strategy::Just("Cookie"),
                        proptest::strategy::Just("x-api-key"),
                        proptest::strategy::Just("x-\"q\""),
                        proptest::strategy::Just("a\\b"),
                        proptest::strategy::Just("accept"),
                    ],
                    proptest::collection::vec(
                        proptest::prop_oneof![
                            proptest::strategy::Just(b'"'),
                            proptest::strategy::Just(b'\\'),
                            proptest::strategy::Just(b'\t'),
                            proptest::strategy::Just(0xffu8),
                            proptest::strategy::Just(b'='),
                            proptest::strategy::Just(b';'),
                            proptest::strategy::Just(b' '),
                            b'a'..=b'z',
                        ],
                        0..12,
                    ),
                ),
                0..6,
            )
        ) {
            let redactor = crate::transaction::redact::Redactor::new(&Default::default(), [3; 32]);
            let headers = crate::transaction::Headers::from_fields(
                fields.iter().map(|(name, value)| (*name, value.as_slice())),
            );
            let view = HeaderView { headers: &headers, redactor: &redactor, grpc: false };
            let mut out = Vec::new();
            view.write_json(&mut out);
            let reference = serde_json::to_vec(&view).unwrap();
            proptest::prop_assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&reference)
            );
        }
    }

    #[test]
    fn flags_are_sorted_like_serde() {
        let mut flags = Flags::empty();
        for flag in Flag::ALL.iter().rev().step_by(2) {
            flags.set(*flag);
        }
        for flags in [Flags::empty(), flags] {
            let mut out = Vec::new();
            write_flags(&mut out, flags);
            assert_eq!(out, serde_json::to_vec(&flags).unwrap());
        }
    }
}
