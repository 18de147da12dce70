//! Undoes the encodings payloads are wrapped in before the rules read a value: percent
//! (repeated, for double encoding; IIS `%uXXXX`; overlong UTF-8), `+` in forms, null bytes and
//! HTML character references; base64 when the whole value obviously is some.

mod base64;
mod entities;
mod percent;

use std::borrow::Cow;

use super::classes::Classes;

/// Percent-decoding rounds: twice covers double encoding, a third triple; more is noise.
pub const MAX_PERCENT_ROUNDS: u8 = 3;

/// HTML decoding rounds (`&amp;lt;` is `&lt;` once, `<` twice).
const MAX_HTML_ROUNDS: u8 = 2;

/// The decodings that changed a value, for an alert's detail.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    /// Percent-decoding rounds that changed something.
    pub percent: u8,
    pub unicode: bool,
    pub overlong: bool,
    pub plus: bool,
    pub nul: bool,
    pub html: bool,
    pub base64: bool,
}

impl Steps {
    /// Decodings that ordinary clients never need: encoding a value twice, IIS escapes,
    /// overlong UTF-8, null bytes. They show an attempt to slip past a filter.
    pub fn evasive(&self) -> bool {
        self.percent >= 2 || self.unicode || self.overlong || self.nul
    }

    /// `percent×2, html`: what revealed the payload (`+` alone is not worth telling).
    pub fn describe(&self) -> Option<String> {
        let mut parts: Vec<Cow<'static, str>> = Vec::new();
        match self.percent {
            0 => {}
            1 => parts.push("percent".into()),
            n => parts.push(format!("percent×{n}").into()),
        }
        for (on, name) in [
            (self.unicode, "%u"),
            (self.overlong, "overlong utf-8"),
            (self.nul, "null byte"),
            (self.html, "html entities"),
            (self.base64, "base64"),
        ] {
            if on {
                parts.push(name.into());
            }
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// A value after decoding, and how it got there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub steps: Steps,
}

/// `raw` with percent, plus (when `plus_is_space`: query and form values), overlong UTF-8,
/// null bytes and HTML references undone. Borrows when there was nothing to undo, which is
/// what most values cost.
pub fn decode(raw: &str, plus_is_space: bool) -> Decoded<'_> {
    decode_classified(raw, plus_is_space, Classes::of(raw))
}

/// Whether a value of these byte kinds has something to undo: a `%`, a `&` (a character
/// reference), a NUL, or a `+` where it means a space. When not, [`decode`] gives the value
/// back as it is.
pub fn needed(classes: Classes, plus_is_space: bool) -> bool {
    classes.any(Classes::PERCENT | Classes::NUL | Classes::AMP)
        || (plus_is_space && classes.any(Classes::PLUS))
}

/// [`decode`] with the byte kinds of `raw` already known (they say which decodings apply).
pub fn decode_classified(raw: &str, plus_is_space: bool, classes: Classes) -> Decoded<'_> {
    let mut steps = Steps::default();
    let bytes = raw.as_bytes();
    let percent = classes.any(Classes::PERCENT);
    let plus = classes.any(Classes::PLUS);
    let nul = classes.any(Classes::NUL);
    let amp = classes.any(Classes::AMP);
    if !needed(classes, plus_is_space) {
        return Decoded {
            text: Cow::Borrowed(raw),
            steps,
        };
    }
    let needs_percent = percent || plus && plus_is_space;
    let mut text: Cow<'_, str> = Cow::Borrowed(raw);
    if needs_percent {
        let mut current = bytes.to_vec();
        let mut next = Vec::new();
        for round in 0..MAX_PERCENT_ROUNDS {
            if memchr::memchr(b'%', &current).is_none() && !(round == 0 && plus_is_space) {
                break;
            }
            let r = percent::decode_round(&current, plus_is_space && round == 0, &mut next);
            steps.plus |= r.plus;
            steps.unicode |= r.unicode;
            if !(r.percent || r.unicode || r.plus) {
                break;
            }
            if r.percent || r.unicode {
                steps.percent += 1;
            }
            std::mem::swap(&mut current, &mut next);
        }
        steps.overlong = percent::fold_overlong(&mut current);
        text = Cow::Owned(match String::from_utf8(current) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        });
    }
    if (nul || needs_percent) && memchr::memchr(0, text.as_bytes()).is_some() {
        steps.nul = true;
        text = Cow::Owned(text.replace('\0', ""));
    }
    // References can only come from a `&` sent or one decoded from `%26`.
    for _ in 0..if amp || needs_percent {
        MAX_HTML_ROUNDS
    } else {
        0
    } {
        match entities::decode(&text) {
            Some(decoded) => {
                steps.html = true;
                text = Cow::Owned(decoded);
            }
            None => break,
        }
    }
    Decoded { text, steps }
}

/// Values shorter than this are never read as base64.
pub const MIN_BASE64: usize = base64::MIN_LEN;

/// Whether [`base64`] could find a payload in a decoded value of these byte kinds: long
/// enough, nothing but the alphabet (`_` is among [`Classes::OTHER`], a `+` read as a space
/// among [`Classes::SPACE`]), and both cases of letters, as base64 of text has.
pub fn may_be_base64(text: &str, classes: Classes) -> bool {
    let alphabet = Classes::LETTER
        | Classes::DIGIT
        | Classes::SLASH
        | Classes::DASH
        | Classes::EQ
        | Classes::PLUS
        | Classes::OTHER
        | Classes::SPACE;
    text.len() >= MIN_BASE64
        && classes.only(alphabet)
        && classes.any(Classes::UPPER)
        && classes.any(Classes::LOWER)
}

/// The text a decoded value is the base64 of, when it obviously is one. `plus_was_space`: the
/// value came from a form, where a base64 `+` sent unescaped was read as a space.
pub fn base64(text: &str, plus_was_space: bool) -> Option<String> {
    if text.len() < base64::MIN_LEN {
        return None;
    }
    if plus_was_space && text.contains(' ') {
        return base64::decode(&text.replace(' ', "+"));
    }
    base64::decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(raw: &str, plus: bool) -> (String, Steps) {
        let d = decode(raw, plus);
        (d.text.into_owned(), d.steps)
    }

    #[test]
    fn plain_values_are_borrowed() {
        let d = decode("hello world", true);
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!(d.steps, Steps::default());
        assert_eq!(d.steps.describe(), None);
    }

    #[test]
    fn double_and_triple_percent_encoding() {
        let (t, s) = dec("%252e%252e%252f", false);
        assert_eq!(t, "../");
        assert_eq!(s.percent, 2);
        assert!(s.evasive());
        assert_eq!(s.describe().as_deref(), Some("percent×2"));
        let (t, s) = dec("%25252e", false);
        assert_eq!((t.as_str(), s.percent), (".", 3));
        // A fourth round is not done.
        let (t, _) = dec("%2525252e", false);
        assert_eq!(t, "%2e");
    }

    #[test]
    fn plus_only_in_the_first_round() {
        let (t, s) = dec("a+b%252B", true);
        assert_eq!(t, "a b+");
        assert!(s.plus);
        assert_eq!(dec("a+b", false).0, "a+b");
    }

    #[test]
    fn overlong_nul_and_html() {
        let (t, s) = dec("..%c0%af..%c0%afetc", false);
        assert_eq!(t, "../../etc");
        assert!(s.overlong);
        let (t, s) = dec("passwd%00.jpg", false);
        assert_eq!(t, "passwd.jpg");
        assert!(s.nul);
        let (t, s) = dec("%26lt%3Bscript%26gt%3B", false);
        assert_eq!(t, "<script>");
        assert!(s.html);
        assert_eq!(dec("&amp;lt;b&amp;gt;", false).0, "<b>");
        assert_eq!(s.describe().as_deref(), Some("percent, html entities"));
    }

    #[test]
    fn invalid_utf8_after_decoding_is_lossy() {
        let (t, _) = dec("%ff%fe<", false);
        assert_eq!(t, "\u{FFFD}\u{FFFD}<");
    }

    #[test]
    fn base64_with_spaces_from_a_form() {
        // `>>>` is `Pj4+`: a form that sent the `+` unescaped turned it into a space.
        assert_eq!(
            base64("Pj4+Pj4+Pj4+Pj4+Pj4+", false).as_deref(),
            Some(">>>>>>>>>>>>>>>")
        );
        assert_eq!(
            base64("Pj4 Pj4 Pj4 Pj4 Pj4 ", true).as_deref(),
            Some(">>>>>>>>>>>>>>>")
        );
        assert_eq!(base64("Pj4 Pj4 Pj4 Pj4 Pj4 ", false), None);
    }
}
