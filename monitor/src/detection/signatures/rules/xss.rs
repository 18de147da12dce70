//! Cross-site scripting: libinjection's HTML5 tokenizer (tags and attributes in the contexts a
//! value may land in), confirmed by something that runs script, plus `javascript:`-style URLs
//! as whole values (redirect and link parameters).

use std::panic;

use super::{Finding, Panicked, Value, text};
use crate::detection::{category::Category, signatures::classes::Classes};

/// Whether the value's byte kinds allow any of [`check`]'s rules: a scheme's colon, a quote
/// and a call's parenthesis, a tag's `<` or an attribute's `=`.
pub fn may_match(v: &Value<'_>) -> bool {
    let c = v.classes;
    c.any(Classes::COLON | Classes::LT | Classes::EQ)
        || (c.any(Classes::QUOTES) && c.any(Classes::PAREN))
}

pub fn check(v: &Value<'_>) -> Result<Option<Finding>, Panicked> {
    if v.classes.any(Classes::COLON)
        && let Some(scheme) = script_url(v.text.as_bytes())
    {
        let mut f = Finding::new(Category::Xss, "script_url", 0.8);
        f.detail = Some(format!("{scheme} url"));
        return Ok(Some(f));
    }
    let b = v.text.as_bytes();
    if v.classes.any(Classes::QUOTES) && v.classes.any(Classes::PAREN) && script_breakout(b) {
        return Ok(Some(Finding::new(Category::Xss, "script_breakout", 0.75)));
    }
    let worth = v.classes.any(Classes::LT) || (v.classes.any(Classes::EQ) && has_handler(b));
    if !worth {
        return Ok(None);
    }
    // The port may index out of bounds on odd input (its README says so): caught, counted.
    let injection = panic::catch_unwind(|| libinjectionrs::detect_xss(b).is_injection())
        .map_err(|_| Panicked)?;
    // libinjection also flags markup that only styles or names things (`style=`, `xmlns=`),
    // which rich-text editors and SVG icons send all day: keep what runs script.
    if injection && runs_script(b) {
        return Ok(Some(Finding::new(Category::Xss, "libinjection_xss", 0.9)));
    }
    if v.classes.any(Classes::LT) && handler_in_tag(b) {
        return Ok(Some(Finding::new(Category::Xss, "event_handler", 0.8)));
    }
    if nested_script_tag(b) {
        return Ok(Some(Finding::new(Category::Xss, "nested_script_tag", 0.85)));
    }
    Ok(None)
}

/// A tag with an event handler (`<x onxxx=1`, `<X/OnLoad=…`) that libinjection passed, mostly
/// because the tag is not one it knows: the probes that map which characters a filter keeps.
fn handler_in_tag(b: &[u8]) -> bool {
    // From the first tag on, one pass: a handler after any later tag is after this one too.
    let first_tag = memchr::memchr_iter(b'<', b)
        .find(|&at| b.get(at + 1).is_some_and(|c| c.is_ascii_alphabetic()));
    first_tag.is_some_and(|at| has_handler(b.get(at + 1..).unwrap_or_default()))
}

/// A quote closing a script string, then an operator and a dialog call (`'-alert(1)-'`,
/// `";confirm(1)//`): XSS into a JavaScript string, where no tag is needed.
fn script_breakout(b: &[u8]) -> bool {
    memchr::memchr3_iter(b'\'', b'"', b'`', b).any(|at| {
        let rest = b.get(at + 1..).unwrap_or_default();
        let ops = rest
            .iter()
            .take_while(|c| {
                matches!(
                    c,
                    b'-' | b'+' | b';' | b')' | b'*' | b'|' | b'&' | b' ' | b','
                )
            })
            .count();
        if ops == 0 {
            return false;
        }
        let call = rest.get(ops..).unwrap_or_default();
        ["alert", "prompt", "confirm"].iter().any(|f| {
            text::starts_with_ci(call, f.as_bytes())
                && matches!(call.get(f.len()), Some(b'(' | b'`'))
        })
    })
}

/// `<scr<script>ipt>`: written for a filter that deletes `<script>` tags once, leaving one
/// behind. libinjection reads the outer tag's name as `scr<script` and lets it pass.
fn nested_script_tag(b: &[u8]) -> bool {
    let Some(first) = text::find_ci(b, b"<script", 0) else {
        return false;
    };
    if text::find_ci(b, b"<script", first + 1).is_none()
        && text::find_ci(b, b"</script", 0).is_none()
    {
        return false;
    }
    // One pass, as such a filter does: what its deletions join up is left behind.
    let mut stripped = b.to_ascii_lowercase();
    for tag in [&b"<script>"[..], b"</script>"] {
        let mut kept = Vec::with_capacity(stripped.len());
        let mut rest = &stripped[..];
        while let Some(at) = memchr::memmem::find(rest, tag) {
            kept.extend_from_slice(rest.get(..at).unwrap_or_default());
            rest = rest.get(at + tag.len()..).unwrap_or_default();
        }
        kept.extend_from_slice(rest);
        stripped = kept;
    }
    memchr::memmem::find(&stripped, b"<script").is_some()
}

/// URL schemes that run script where a link or redirect target lands.
const SCRIPT_SCHEMES: [&str; 3] = ["javascript", "vbscript", "livescript"];

/// Media types of `data:` URLs a browser renders as a document.
const DOCUMENT_TYPES: [&str; 4] = [
    "text/html",
    "application/xhtml",
    "image/svg+xml",
    "text/xml",
];

/// The scheme when the value is a URL that runs script (`javascript:alert(1)`, with the tabs
/// and newlines browsers strip from a scheme, or a `data:text/html` document).
fn script_url(b: &[u8]) -> Option<&'static str> {
    // Leading controls and spaces are stripped by URL parsers.
    let start = b.iter().position(|&c| c > b' ')?;
    let mut scheme = [0u8; 12];
    let mut len = 0;
    let mut at = start;
    while let Some(&c) = b.get(at) {
        at += 1;
        match c {
            b'\t' | b'\n' | b'\r' => continue,
            b':' => break,
            c if c.is_ascii_alphabetic() && len < scheme.len() => {
                scheme[len] = c.to_ascii_lowercase();
                len += 1;
            }
            _ => return None,
        }
    }
    let scheme = scheme.get(..len)?;
    if let Some(s) = SCRIPT_SCHEMES.iter().find(|s| s.as_bytes() == scheme) {
        return Some(s);
    }
    if scheme == b"data" {
        let rest = b.get(at..)?;
        let rest = rest.get(rest.iter().position(|c| !c.is_ascii_whitespace())?..)?;
        if DOCUMENT_TYPES
            .iter()
            .any(|t| text::starts_with_ci(rest, t.as_bytes()))
        {
            return Some("data");
        }
    }
    None
}

/// Whether an event handler attribute (`onerror=`, ` onmouseover =`) is in `b`.
fn has_handler(b: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = text::find_ci(b, b"on", from) {
        from = at + 2;
        let boundary = at == 0 || b.get(at - 1).is_some_and(|&c| !c.is_ascii_alphanumeric());
        if !boundary {
            continue;
        }
        let name_len = b
            .get(at + 2..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        if name_len < 3 {
            continue;
        }
        let after = b.get(at + 2 + name_len..).unwrap_or_default();
        if after.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'=') {
            return true;
        }
    }
    false
}

/// Tags that run or load script by themselves.
const SCRIPT_TAGS: [&str; 10] = [
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "isindex", "xss",
];

/// What runs script in markup: a script-running tag, an event handler, a script URL anywhere
/// (`href=javascript:`), or the CSS that runs code (`expression(`, bindings, `@import`).
fn runs_script(b: &[u8]) -> bool {
    if has_handler(b) {
        return true;
    }
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'<', b.get(from..).unwrap_or_default()) {
        let at = from + i + 1;
        from = at;
        let rest = b.get(at..).unwrap_or_default();
        let name_len = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let name = rest.get(..name_len).unwrap_or_default();
        if SCRIPT_TAGS
            .iter()
            .any(|t| name.eq_ignore_ascii_case(t.as_bytes()))
        {
            return true;
        }
    }
    let squeezed: Vec<u8> = b
        .iter()
        .copied()
        .filter(|c| !matches!(c, b'\t' | b'\n' | b'\r'))
        .collect();
    [
        "javascript:",
        "vbscript:",
        "livescript:",
        "data:text/html",
        "expression(",
        "-moz-binding",
        "behavior:",
        "@import",
        "srcdoc",
    ]
    .iter()
    .any(|n| text::find_ci(&squeezed, n.as_bytes(), 0).is_some())
}

#[cfg(test)]
mod tests {
    use super::super::testing::rule;
    use super::*;

    fn xss(raw: &str) -> Option<&'static str> {
        rule(Category::Xss, "q", raw)
    }

    #[test]
    fn payloads() {
        for p in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<svg/onload=alert(1)>",
            "\" onmouseover=\"alert(1)",
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<iframe src=\"javascript:alert(1)\">",
        ] {
            assert_eq!(xss(p), Some("libinjection_xss"), "{p}");
        }
        assert_eq!(xss("javascript:alert(1)"), Some("script_url"));
        assert_eq!(xss("  JaVa%09Script:alert(1)"), Some("script_url"));
        assert_eq!(
            xss("data:text/html;base64,PHNjcmlwdD4="),
            Some("script_url")
        );
        assert_eq!(
            xss("<scr<script>ipt>alert(1)</scr</script>ipt>"),
            Some("nested_script_tag")
        );
        assert_eq!(xss("<x onxxx=1"), Some("event_handler"));
        assert_eq!(xss("%3CX%09OnXxx=1"), Some("event_handler"));
        assert_eq!(xss("';alert(1)//"), Some("script_breakout"));
        assert_eq!(xss("\\'-alert(1)//"), Some("script_breakout"));
    }

    #[test]
    fn markup_that_runs_nothing_passes() {
        for p in [
            "<p>Hello <b>world</b></p>",
            "<p style=\"text-align:center\">Centered</p>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M1 1\"/></svg>",
            "<a href=\"https://example.com\">link</a>",
            "a < b",
            "I <3 this",
            "on=1&x=2",
            "it's -alerting (1) that",
            "<3 online=yes",
            "'- print this page -'",
            "data:image/png;base64,iVBORw0KGgo=",
            "https://example.com/javascript:x",
        ] {
            assert_eq!(xss(p), None, "{p}");
        }
    }

    #[test]
    fn handler_attributes() {
        assert!(has_handler(b"x onerror=1"));
        assert!(has_handler(b"'onfocus = 1"));
        assert!(!has_handler(b"salon=1"));
        assert!(!has_handler(b"on=1"));
        assert!(!has_handler(b"online"));
    }
}
