//! Media types: what a `Content-Type` says a body is, and the bounded set of types an endpoint
//! has used, each with the kinds of body seen under it.

/// What a declared media type says about parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Declared {
    Json,
    Form,
    /// Images, audio, video, fonts: never scanned as text.
    Binary,
    Other,
}

/// The kinds of body seen under one media type (bit set).
pub(super) const KIND_JSON: u8 = 1;
pub(super) const KIND_FORM: u8 = 1 << 1;
pub(super) const KIND_OTHER: u8 = 1 << 2;

/// Longer media types are not recorded (real ones are a few dozen bytes).
const MEDIA_TYPE_MAX: usize = 100;

/// The media type of a `Content-Type` value without parameters (`application/json; charset=…`
/// → `application/json`), if it is `type/subtype` made of token characters.
pub(super) fn essence(content_type: &str) -> Option<&str> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let (kind, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    (essence.len() <= MEDIA_TYPE_MAX && token(kind) && token(sub)).then_some(essence)
}

pub(super) fn declared(essence: &str) -> Declared {
    let (kind, sub) = essence.split_once('/').unwrap_or((essence, ""));
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let ends_with_json =
        sub.len() >= 5 && sub.as_bytes()[sub.len() - 5..].eq_ignore_ascii_case(b"+json");
    if ((is(kind, "application") || is(kind, "text")) && is(sub, "json")) || ends_with_json {
        Declared::Json
    } else if is(kind, "application") && is(sub, "x-www-form-urlencoded") {
        Declared::Form
    } else if ["image", "audio", "video", "font"]
        .iter()
        .any(|k| is(kind, k))
    {
        Declared::Binary
    } else {
        Declared::Other
    }
}

/// Whether bodies of this type are decoded gRPC messages, whose keys are field numbers: names
/// of the message's fields, not ids, however many there are.
pub(super) fn keys_are_field_numbers(essence: &str) -> bool {
    let prefix = "application/grpc";
    essence
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        && matches!(
            essence.as_bytes().get(prefix.len()),
            None | Some(b'+' | b'-')
        )
}

/// Media types in first-seen order, lower-cased, at most `cap` of them.
#[derive(Debug, Default)]
pub(super) struct MediaTypes {
    entries: Vec<(Box<str>, u8)>,
}

impl MediaTypes {
    /// Records `kind` under `essence`; false when the set is full and this type is new.
    pub(super) fn record(&mut self, essence: &str, kind: u8, cap: usize) -> bool {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|(e, _)| e.eq_ignore_ascii_case(essence))
        {
            entry.1 |= kind;
            return true;
        }
        if self.entries.len() >= cap {
            return false;
        }
        self.entries
            .push((essence.to_ascii_lowercase().into_boxed_str(), kind));
        true
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, u8)> {
        self.entries.iter().map(|(e, k)| (&**e, *k))
    }
}
