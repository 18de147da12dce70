//! The text fields of a `multipart/form-data` body (file parts are skipped: their content is
//! a file, not a parameter).

use super::{Field, Sink};
use crate::detection::{hit::Part, signatures::rules::Role};

/// Longest boundary RFC 2046 allows.
const MAX_BOUNDARY: usize = 70;

pub fn fields(body: &[u8], content_type: &str, sink: &mut impl Sink) -> bool {
    let Some(boundary) = boundary(content_type) else {
        return true;
    };
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary.as_bytes());
    let finder = memchr::memmem::Finder::new(&delimiter);
    let mut at = match finder.find(body) {
        Some(i) => i + delimiter.len(),
        None => return true,
    };
    loop {
        let rest = body.get(at..).unwrap_or_default();
        if rest.starts_with(b"--") || rest.is_empty() {
            return true;
        }
        let end = finder.find(rest);
        let part = rest.get(..end.unwrap_or(rest.len())).unwrap_or_default();
        if !field(part, sink) {
            return false;
        }
        match end {
            Some(e) => at += e + delimiter.len(),
            None => return true,
        }
    }
}

fn boundary(content_type: &str) -> Option<&str> {
    let (_, rest) = content_type.split_once("boundary=")?;
    let b = rest.split(';').next()?.trim().trim_matches('"');
    (!b.is_empty() && b.len() <= MAX_BOUNDARY).then_some(b)
}

/// One part: its headers, a blank line, its content (up to the CRLF before the next
/// delimiter).
fn field(part: &[u8], sink: &mut impl Sink) -> bool {
    let part = part
        .strip_prefix(b"\r\n")
        .or_else(|| part.strip_prefix(b"\n"))
        .unwrap_or(part);
    let (head, content) = match memchr::memmem::find(part, b"\r\n\r\n") {
        Some(i) => (part.get(..i), part.get(i + 4..)),
        None => match memchr::memmem::find(part, b"\n\n") {
            Some(i) => (part.get(..i), part.get(i + 2..)),
            None => return true,
        },
    };
    let (Some(head), Some(content)) = (head, content) else {
        return true;
    };
    let content = content
        .strip_suffix(b"\r\n")
        .or_else(|| content.strip_suffix(b"\n"))
        .unwrap_or(content);
    let head = String::from_utf8_lossy(head);
    let mut name = None;
    for line in head.lines() {
        let Some((h, v)) = line.split_once(':') else {
            continue;
        };
        let h = h.trim();
        if h.eq_ignore_ascii_case("content-disposition") {
            if v.contains("filename=") || v.contains("filename*=") {
                return true;
            }
            name = param(v, "name");
        } else if h.eq_ignore_ascii_case("content-type")
            && !v.trim().to_ascii_lowercase().starts_with("text/")
        {
            return true;
        }
    }
    let Some(name) = name else {
        return true;
    };
    let Ok(text) = std::str::from_utf8(content) else {
        return true;
    };
    let field = Field {
        part: Part::Form,
        location: Some(name),
        key: Some(name),
        role: Role::Value,
    };
    sink.value(&field, text)
}

/// `name="x"` in a header's parameters.
fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    value.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Record(Vec<(String, String)>);

    impl Sink for Record {
        fn value(&mut self, f: &Field<'_>, raw: &str) -> bool {
            self.0
                .push((f.location.unwrap_or_default().to_owned(), raw.to_owned()));
            true
        }
        fn skipped(&mut self) {}
    }

    #[test]
    fn text_fields_only() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\nworld\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
                    Content-Type: image/png\r\n\r\n\x01\x02\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\nContent-Type: text/plain\r\n\r\n<b>x</b>\r\n\
                    --XyZ--\r\n";
        let mut r = Record(Vec::new());
        assert!(fields(
            body.as_bytes(),
            "multipart/form-data; boundary=\"XyZ\"",
            &mut r
        ));
        assert_eq!(
            r.0,
            [
                ("title".to_owned(), "Hello\r\nworld".to_owned()),
                ("note".to_owned(), "<b>x</b>".to_owned())
            ]
        );
    }

    #[test]
    fn broken_bodies() {
        let mut r = Record(Vec::new());
        for (body, ct) in [
            ("", "multipart/form-data; boundary=a"),
            ("--a", "multipart/form-data; boundary=a"),
            (
                "--a\r\nContent-Disposition: form-data; name=x",
                "multipart/form-data; boundary=a",
            ),
            (
                "--a\r\n\r\nno name\r\n--a--",
                "multipart/form-data; boundary=a",
            ),
            ("anything", "multipart/form-data"),
        ] {
            assert!(fields(body.as_bytes(), ct, &mut r));
        }
        assert!(r.0.is_empty());
    }
}
