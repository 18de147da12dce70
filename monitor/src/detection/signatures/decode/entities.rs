//! HTML character references, as a browser reads them in an attribute or text: numeric ones
//! (`&#60;`, `&#x3c;`, with or without `;`, leading zeros allowed) and the named ones payloads
//! use (`&lt;`, `&colon;`, `&Tab;`...). Unknown names are left alone.

/// Named references worth knowing: the markup characters and those used to break up
/// `javascript:` or an event handler. Names are matched exactly, except the four legacy ones
/// browsers accept in any case (`lt`, `gt`, `amp`, `quot`).
const NAMED: &[(&str, char)] = &[
    ("lt", '<'),
    ("gt", '>'),
    ("amp", '&'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", ' '),
    ("Tab", '\t'),
    ("NewLine", '\n'),
    ("colon", ':'),
    ("semi", ';'),
    ("lpar", '('),
    ("rpar", ')'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("lbrace", '{'),
    ("rbrace", '}'),
    ("sol", '/'),
    ("bsol", '\\'),
    ("period", '.'),
    ("comma", ','),
    ("equals", '='),
    ("excl", '!'),
    ("quest", '?'),
    ("num", '#'),
    ("dollar", '$'),
    ("percnt", '%'),
    ("plus", '+'),
    ("grave", '`'),
    ("lowbar", '_'),
    ("verbar", '|'),
    ("ast", '*'),
];

/// Longest name in [`NAMED`], so a lookup reads a bounded run.
const MAX_NAME: usize = 7;

/// Digits read in a numeric reference (browsers read more, but all leading zeros beyond a few
/// only pad: `&#0000060;`).
const MAX_DIGITS: usize = 12;

/// `text` with its character references decoded, or `None` when it has none.
pub fn decode(text: &str) -> Option<String> {
    let first = memchr::memchr(b'&', text.as_bytes())?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    let mut at = first;
    loop {
        let (before, tail) = rest.split_at(at);
        out.push_str(before);
        // `tail` starts with '&', one byte.
        let after = tail.get(1..).unwrap_or_default();
        match reference(after) {
            Some((c, used)) => {
                out.push(c);
                changed = true;
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
        match memchr::memchr(b'&', rest.as_bytes()) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The character a reference after `&` stands for, and how many bytes of `s` it used.
fn reference(s: &str) -> Option<(char, usize)> {
    let bytes = s.as_bytes();
    if bytes.first() == Some(&b'#') {
        let (hex, start) = match bytes.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let digits = bytes
            .get(start..)?
            .iter()
            .take(MAX_DIGITS)
            .take_while(|b| {
                if hex {
                    b.is_ascii_hexdigit()
                } else {
                    b.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return None;
        }
        let text = s.get(start..start + digits)?;
        let code = u32::from_str_radix(text, if hex { 16 } else { 10 }).ok();
        // As browsers do: NUL, surrogates and out-of-range codes become U+FFFD.
        let c = code
            .filter(|&c| c != 0)
            .and_then(char::from_u32)
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut used = start + digits;
        if bytes.get(used) == Some(&b';') {
            used += 1;
        }
        return Some((c, used));
    }
    let len = bytes
        .iter()
        .take(MAX_NAME + 1)
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    if bytes.get(len) != Some(&b';') {
        return None;
    }
    let name = s.get(..len)?;
    NAMED
        .iter()
        .find(|(n, _)| {
            *n == name
                || (matches!(*n, "lt" | "gt" | "amp" | "quot") && n.eq_ignore_ascii_case(name))
        })
        .map(|&(_, c)| (c, len + 1))
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn numeric_and_named_references() {
        assert_eq!(decode("&lt;script&gt;").as_deref(), Some("<script>"));
        assert_eq!(decode("&#60;img&#x3E;").as_deref(), Some("<img>"));
        assert_eq!(decode("&#0000060&#X3c;").as_deref(), Some("<<"));
        assert_eq!(
            decode("java&Tab;script&colon;").as_deref(),
            Some("java\tscript:")
        );
        assert_eq!(decode("&LT;&AMP;").as_deref(), Some("<&"));
        assert_eq!(decode("&#97;&#108;ert").as_deref(), Some("alert"));
    }

    #[test]
    fn plain_ampersands_stay() {
        assert_eq!(decode("AT&T"), None);
        assert_eq!(decode("Ben & Jerry's"), None);
        assert_eq!(decode("a&b=c&d"), None);
        assert_eq!(decode("&unknown; &#; &#x; &"), None);
        assert_eq!(decode("no refs"), None);
        // `&Colon;` is not `&colon;`: names other than the legacy four are exact.
        assert_eq!(decode("&Colon;"), None);
    }

    #[test]
    fn hostile_references_do_not_panic() {
        assert_eq!(decode("&#0;").as_deref(), Some("\u{FFFD}"));
        assert_eq!(decode("&#xD800;").as_deref(), Some("\u{FFFD}"));
        assert_eq!(
            decode("&#99999999999999999999;").as_deref(),
            Some("\u{FFFD}99999999;")
        );
        assert_eq!(decode("é&#233;&").as_deref(), Some("éé&"));
    }
}
