//! Masks the values of secret keys in JSON text in a single forward pass, keeping everything
//! else byte for byte; works on bodies cut by the capture limit and on any nesting depth.

use std::borrow::Cow;

use super::names::{NameList, Strength};

/// Masks the values of keys in `fields` with `fingerprint`; borrowed when nothing matched.
pub(super) fn mask<'a>(
    text: &'a str,
    fields: &NameList,
    fingerprint: &dyn Fn(&[u8], &mut String),
) -> Cow<'a, str> {
    JsonMasker::new(text, fields, fingerprint).run()
}

/// Array nesting tracked for "strings of an array under a matching key"; keys themselves are
/// matched at any depth.
const MAX_ARRAY_DEPTH: usize = 128;

/// A single forward pass over JSON text, masking in place rather than parsing and
/// re-serializing: the output keeps the original formatting, key order and number spelling,
/// a body cut by the capture limit (not parseable) is still masked up to the cut, and nesting
/// costs no recursion.
///
/// A string followed by `:` is a key; the next value belongs to it. Invalid JSON is scanned the
/// same way and never panics.
struct JsonMasker<'r, 'a> {
    fields: &'r NameList,
    fingerprint: &'r dyn Fn(&[u8], &mut String),
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    out: Option<String>,
    copied: usize,
    /// Set between a key's `:` and its value: how the key matched.
    key: Option<Option<Strength>>,
    /// For each open container, how the key owning it matched when it is an array under a
    /// matching key (or inside one); `None` for objects and other arrays.
    containers: [Option<Strength>; MAX_ARRAY_DEPTH],
    depth: usize,
}

impl<'r, 'a> JsonMasker<'r, 'a> {
    fn new(
        text: &'a str,
        fields: &'r NameList,
        fingerprint: &'r dyn Fn(&[u8], &mut String),
    ) -> Self {
        Self {
            fields,
            fingerprint,
            text,
            bytes: text.as_bytes(),
            pos: 0,
            out: None,
            copied: 0,
            key: None,
            containers: [None; MAX_ARRAY_DEPTH],
            depth: 0,
        }
    }

    fn run(mut self) -> Cow<'a, str> {
        while let Some(&byte) = self.bytes.get(self.pos) {
            match byte {
                b'"' => self.string(),
                b'{' => self.open(None),
                b'[' => {
                    let owner = self.value_context();
                    self.open(owner);
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.key = None;
                    self.pos += 1;
                }
                b'-' | b'0'..=b'9' => self.number(),
                // Whitespace, separators, literals and stray bytes.
                _ => {
                    if byte.is_ascii_alphabetic() || byte == b',' {
                        self.key = None;
                    }
                    self.pos += 1;
                }
            }
        }
        match self.out {
            Some(mut out) => {
                out.push_str(&self.text[self.copied..]);
                Cow::Owned(out)
            }
            None => Cow::Borrowed(self.text),
        }
    }

    /// How the value starting here is to be masked, consuming the pending key.
    fn value_context(&mut self) -> Option<Strength> {
        match self.key.take() {
            Some(key) => key,
            None => match self.depth {
                1..=MAX_ARRAY_DEPTH => self.containers[self.depth - 1],
                _ => None,
            },
        }
    }

    fn open(&mut self, owner: Option<Strength>) {
        if let Some(slot) = self.containers.get_mut(self.depth) {
            *slot = owner;
        }
        self.depth += 1;
        self.key = None;
        self.pos += 1;
    }

    fn string(&mut self) {
        let start = self.pos;
        let mut i = start + 1;
        let mut closed = false;
        let mut escaped = false;
        while let Some(&byte) = self.bytes.get(i) {
            match byte {
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                b'"' => {
                    closed = true;
                    break;
                }
                _ => i += 1,
            }
        }
        // `i` is the closing quote, or past the end when the text was cut inside the string.
        let end = if closed { i + 1 } else { self.bytes.len() };
        let content_end = if closed { i } else { self.bytes.len() };
        self.pos = end;

        let mut next = end;
        while self.bytes.get(next).is_some_and(u8::is_ascii_whitespace) {
            next += 1;
        }
        if self.bytes.get(next) == Some(&b':') {
            let name = self.unescaped(start, end, content_end, escaped, closed);
            self.key = Some(self.fields.find(&name));
            self.pos = next + 1;
            return;
        }

        // An empty string hides nothing, as with empty header and query values.
        let empty = content_end == start + 1;
        if self.value_context().is_some() && !empty {
            let secret = self.unescaped(start, end, content_end, escaped, closed);
            let mut masked = String::with_capacity(25);
            masked.push('"');
            (self.fingerprint)(&secret, &mut masked);
            // A string cut by the capture limit stays visibly unterminated.
            if closed {
                masked.push('"');
            }
            self.replace(start, end, &masked);
        }
    }

    /// The decoded content of the string at `start..end`; escapes are rare, so decoding them
    /// allocates only when present. A string that is cut or invalid is taken as written.
    fn unescaped(
        &self,
        start: usize,
        end: usize,
        content_end: usize,
        escaped: bool,
        closed: bool,
    ) -> Cow<'a, [u8]> {
        let text = self.text;
        if escaped
            && closed
            && let Ok(decoded) = serde_json::from_str::<String>(&text[start..end])
        {
            return Cow::Owned(decoded.into_bytes());
        }
        Cow::Borrowed(&text.as_bytes()[start + 1..content_end])
    }

    fn number(&mut self) {
        let start = self.pos;
        let mut end = start + 1;
        while self
            .bytes
            .get(end)
            .is_some_and(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            end += 1;
        }
        self.pos = end;
        // Numbers only under exact names: `*token*` must not hide `max_tokens: 100`.
        if self.value_context() == Some(Strength::Exact) {
            let mut masked = String::with_capacity(25);
            masked.push('"');
            (self.fingerprint)(&self.bytes[start..end], &mut masked);
            masked.push('"');
            self.replace(start, end, &masked);
        }
    }

    /// Replaces `start..end` of the text. Both ends are at ASCII bytes (quotes, digits) or the
    /// end of the text, so they are char boundaries.
    fn replace(&mut self, start: usize, end: usize, with: &str) {
        let text = self.text;
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(text.len() + 64));
        out.push_str(&text[self.copied..start]);
        out.push_str(with);
        self.copied = end;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::transaction::redact::{RedactionConfig, Redactor};

    fn redactor() -> Redactor {
        Redactor::new(&RedactionConfig::default(), [7; 32])
    }

    fn fp(secret: &str) -> String {
        redactor().fingerprint(secret.as_bytes())
    }

    fn is_borrowed(cow: Cow<'_, str>) -> bool {
        matches!(cow, Cow::Borrowed(_))
    }

    #[test]
    fn json_bodies_mask_nested_keys_and_arrays() {
        let r = redactor();
        let body = r#"{
  "user": "ana",
  "Password": "hunter2",
  "profile": {"apiKey": "k1", "card_number": 4111111111111111, "age": 30},
  "tokens": ["t1", {"id": "x"}, ["t2"], 7],
  "max_tokens": 100,
  "ok": true,
  "refresh_token": null
}"#;
        let masked = r.body(Some("application/json; charset=utf-8"), body);
        let expected = format!(
            r#"{{
  "user": "ana",
  "Password": "{}",
  "profile": {{"apiKey": "{}", "card_number": "{}", "age": 30}},
  "tokens": ["{}", {{"id": "x"}}, ["{}"], 7],
  "max_tokens": 100,
  "ok": true,
  "refresh_token": null
}}"#,
            fp("hunter2"),
            fp("k1"),
            fp("4111111111111111"),
            fp("t1"),
            fp("t2"),
        );
        assert_eq!(masked, expected);
        // Still valid JSON.
        serde_json::from_str::<Value>(&masked).unwrap();
    }

    #[test]
    fn json_escapes_are_decoded_before_matching_and_fingerprinting() {
        let r = redactor();
        let masked = r.body(None, r#"{"pass\u0077ord":"a\/b"}"#);
        assert_eq!(masked, format!(r#"{{"pass\u0077ord":"{}"}}"#, fp("a/b")));
    }

    #[test]
    fn json_cut_by_the_capture_limit_is_still_masked() {
        let r = redactor();
        let masked = r.body(Some("application/json"), r#"{"a":1,"token":"abcd"#);
        assert_eq!(masked, format!(r#"{{"a":1,"token":"{}"#, fp("abcd")));
        let masked = r.body(Some("application/json"), r#"{"password": 12"#);
        assert_eq!(masked, format!(r#"{{"password": "{}""#, fp("12")));
    }

    #[test]
    fn deep_json_is_walked_without_recursion() {
        let r = redactor();
        let depth = 100_000;
        let body = format!(
            r#"{}{{"token":"deep"}}{}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let masked = r.body(None, &body);
        assert!(masked.contains(&fp("deep")));
        assert!(!masked.contains("\"deep\""));
    }

    #[test]
    fn non_matching_json_is_borrowed() {
        let r = redactor();
        for body in [
            r#"{"user":"ana","items":[1,2,{"n":"x"}],"max_tokens":5}"#,
            r#"{"password":"","token":null,"secret":true}"#,
            "[]",
            "{",
            r#"{"token"#,
        ] {
            assert!(
                is_borrowed(r.body(Some("application/json"), body)),
                "{body}"
            );
        }
    }

    /// The masking rules applied to a parsed value, for comparison with the text scanner.
    fn reference(r: &Redactor, value: &Value, owner: Option<Strength>) -> Value {
        let masked = |text: &str| Value::String(r.fingerprint(text.as_bytes()));
        match value {
            Value::String(s) if owner.is_some() && !s.is_empty() => masked(s),
            Value::Number(n) if owner == Some(Strength::Exact) => masked(&n.to_string()),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| reference(r, v, owner)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let owner = r.body_fields.find(k.as_bytes());
                        (k.clone(), reference(r, v, owner))
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("password".to_owned()),
            Just("Access-Token".to_owned()),
            Just("max_tokens".to_owned()),
            Just("cvv".to_owned()),
            Just("name".to_owned()),
            Just("items".to_owned()),
            "[a-z\"\\\\]{0,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            // Quarters print and parse back exactly, unlike arbitrary floats.
            (-4000i32..4000).prop_map(|n| json!(f64::from(n) / 4.0)),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// JSON-ish text whose keys are often secret names, written with separators, odd case,
    /// escapes and percent signs.
    fn arb_json_text() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("password"),
            Just("PASS-word"),
            Just("p_a_s_s_w_o_r_d"),
            Just("pass\\u0077ord"),
            Just("\\u0070assword"),
            Just("tok\\u0065n"),
            Just("x%74oken"),
            Just("Access-Token"),
            Just("max_tokens"),
            Just("cvv"),
            Just("cv-v"),
            Just("user"),
            Just("s\\\"sn"),
            Just("id"),
        ];
        let value = prop_oneof![
            Just("\"v\"".to_owned()),
            Just("12".to_owned()),
            Just("[\"a\",3]".to_owned()),
            Just("{\"ssn\":\"x\"}".to_owned()),
            Just("null".to_owned()),
            "[a-z0-9 ]{0,6}".prop_map(|s| format!("\"{s}\"")),
        ];
        prop::collection::vec((key, value, any::<bool>()), 0..6).prop_map(|members| {
            let body: Vec<String> = members
                .into_iter()
                .map(|(k, v, spaced)| {
                    if spaced {
                        format!("\"{k}\" : {v}")
                    } else {
                        format!("\"{k}\":{v}")
                    }
                })
                .collect();
            format!("{{{}}}", body.join(","))
        })
    }

    proptest! {
        /// The prefilter in `Redactor::body` (one search for any core of the list) only skips
        /// bodies the full scan leaves unchanged.
        #[test]
        fn prefiltered_masking_is_full_masking(
            text in prop_oneof![
                arb_json_text(),
                "[\\[\\]{}\":,\\\\0-9a-zA-Z_% -]{0,64}",
                "(?s).{0,48}",
            ],
            cut in 0usize..80,
        ) {
            let r = redactor();
            let fingerprint = |secret: &[u8], out: &mut String| r.fingerprint_into(secret, out);
            for text in [text.as_str(), text.get(..cut).unwrap_or(&text)] {
                let full = mask(text, &r.body_fields, &fingerprint);
                let filtered = r.body(Some("application/json"), text);
                prop_assert_eq!(&filtered, &full);
                prop_assert_eq!(matches!(filtered, Cow::Borrowed(_)), matches!(full, Cow::Borrowed(_)));
            }
        }

        /// The same prefilter for query strings.
        #[test]
        fn prefiltered_queries_are_fully_masked(
            query in "([a-zA-Z_%0-9-]{0,12}(=[a-z0-9%]{0,4})?&){0,4}",
            secret in prop_oneof![Just(""), Just("api_key=1"), Just("X-Amz-Signature=s"), Just("c%6Fde=2"), Just("my-Token=3"), Just("sig=")],
        ) {
            let r = redactor();
            let query = format!("{query}{secret}");
            let full = r.mask_pairs(&query, |name| r.query_params.find(name).is_some());
            prop_assert_eq!(r.query(&query), full);
        }

        #[test]
        fn scanner_agrees_with_a_parsed_walk(value in arb_json(), pretty in any::<bool>()) {
            let r = redactor();
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            let masked = r.body(Some("application/json"), &text);
            let parsed: Value = serde_json::from_str(&masked).unwrap();
            let expected = reference(&r, &value, None);
            prop_assert_eq!(&parsed, &expected);
            prop_assert_eq!(matches!(masked, Cow::Borrowed(_)), expected == value);
        }

    }
}
