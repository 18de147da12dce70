//! Server-sent events (text/event-stream) as the WHATWG parsing rules read them: `data:` lines
//! joined with newlines, `event:` names, comments skipped, any of CRLF, LF or CR ending a line.
//! A body cut mid-event still yields what it holds; nothing is buffered beyond one event.

use std::borrow::Cow;

/// One dispatched event. `data` borrows the body unless several `data:` lines were joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event:` field; `None` means the default type, "message".
    pub name: Option<&'a [u8]>,
    pub data: Cow<'a, [u8]>,
}

/// The events of `body`, in order.
pub fn events(body: &[u8]) -> SseEvents<'_> {
    SseEvents { rest: body }
}

pub struct SseEvents<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SseEvents<'a> {
    type Item = SseEvent<'a>;

    fn next(&mut self) -> Option<SseEvent<'a>> {
        let mut name = None;
        let mut data: Option<Cow<'a, [u8]>> = None;
        while !self.rest.is_empty() {
            let line = self.take_line();
            if line.is_empty() {
                // A blank line dispatches; an event without data is not dispatched.
                if let Some(data) = data.take() {
                    return Some(SseEvent { name, data });
                }
                name = None;
                continue;
            }
            let (field, value) = split_field(line);
            match field {
                b"data" => match &mut data {
                    None => data = Some(Cow::Borrowed(value)),
                    Some(joined) => {
                        let joined = joined.to_mut();
                        joined.push(b'\n');
                        joined.extend_from_slice(value);
                    }
                },
                b"event" => name = Some(value),
                // Comments (empty field name), `id`, `retry` and unknown fields say nothing
                // about what the stream carries.
                _ => {}
            }
        }
        // The body ended inside an event: keep what it says, the capture was cut, not the event.
        data.map(|data| SseEvent { name, data })
    }
}

impl<'a> SseEvents<'a> {
    /// The next line without its terminator.
    fn take_line(&mut self) -> &'a [u8] {
        let rest = self.rest;
        match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) => {
                let skip = if rest.get(i..i + 2) == Some(b"\r\n") {
                    2
                } else {
                    1
                };
                self.rest = rest.get(i + skip..).unwrap_or(&[]);
                rest.get(..i).unwrap_or(rest)
            }
            None => {
                self.rest = &[];
                rest
            }
        }
    }
}

/// `field: value` with one leading space of the value dropped; a line without a colon is a
/// field with an empty value.
fn split_field(line: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b':', line) {
        Some(i) => {
            let value = line.get(i + 1..).unwrap_or(&[]);
            let value = value.strip_prefix(b" ").unwrap_or(value);
            (line.get(..i).unwrap_or(line), value)
        }
        None => (line, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(body: &[u8]) -> Vec<(Option<String>, String)> {
        events(body)
            .map(|e| {
                let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                (e.name.map(text), text(&e.data))
            })
            .collect()
    }

    fn ev(name: Option<&str>, data: &str) -> (Option<String>, String) {
        (name.map(str::to_owned), data.to_owned())
    }

    #[test]
    fn events_are_named_and_their_data_lines_joined() {
        let body = b": keep-alive\n\nevent: message_start\ndata: {\"a\":1}\n\ndata: one\ndata:two\nid: 7\n\n";
        assert_eq!(
            all(body),
            [ev(Some("message_start"), "{\"a\":1}"), ev(None, "one\ntwo")]
        );
    }

    #[test]
    fn any_line_ending_ends_a_line() {
        assert_eq!(
            all(b"event: x\r\ndata: 1\r\n\r\ndata: 2\r\rdata: 3\n\n"),
            [ev(Some("x"), "1"), ev(None, "2"), ev(None, "3")]
        );
    }

    #[test]
    fn a_cut_body_yields_its_last_partial_event_and_drops_dataless_ones() {
        assert_eq!(
            all(b"data: 1\n\ndata: {\"par"),
            [ev(None, "1"), ev(None, "{\"par")]
        );
        assert_eq!(all(b"event: ping\n\nevent: endpoint\n"), []);
        assert_eq!(all(b""), []);
    }

    #[test]
    fn the_name_of_a_dataless_event_does_not_leak_into_the_next() {
        assert_eq!(all(b"event: a\n\ndata: x\n\n"), [ev(None, "x")]);
    }
}
