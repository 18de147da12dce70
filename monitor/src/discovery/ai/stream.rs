//! A streamed response (SSE or NDJSON) reduced to what recognition reads: its first events say
//! what the stream is and which model answers, its last ones carry usage and the end; the
//! middle is text deltas. Only a bounded head and tail are parsed and kept.

use std::{borrow::Cow, collections::VecDeque};

use serde_json::Value;

use super::{json::parse_prefix, ndjson, sse};

/// Events kept from the start of a stream.
const HEAD: usize = 8;
/// Events kept from the end of a stream.
const TAIL: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Sse,
    Ndjson,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// The SSE `event:` name; NDJSON lines have none.
    pub name: Option<String>,
    /// The event's data as JSON, when it is JSON (possibly cut short).
    pub value: Option<Value>,
}

impl StreamEvent {
    pub fn is(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub kind: StreamKind,
    /// The first and the last events, in order; at most `HEAD + TAIL`.
    pub events: Vec<StreamEvent>,
    /// A `data: [DONE]` event was seen (OpenAI's end of stream).
    pub done_marker: bool,
}

impl Stream {
    pub fn sse(body: &[u8]) -> Stream {
        let mut done_marker = false;
        let events = sample(sse::events(body).filter_map(|e| {
            if e.data.trim_ascii() == b"[DONE]" {
                done_marker = true;
                return None;
            }
            Some((e.name, e.data))
        }));
        Stream {
            kind: StreamKind::Sse,
            events,
            done_marker,
        }
    }

    pub fn ndjson(body: &[u8]) -> Stream {
        let events = sample(ndjson::lines(body).map(|line| (None, Cow::Borrowed(line))));
        Stream {
            kind: StreamKind::Ndjson,
            events,
            done_marker: false,
        }
    }

    /// The JSON values of the events, in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> {
        self.events.iter().filter_map(|e| e.value.as_ref())
    }
}

type RawEvent<'a> = (Option<&'a [u8]>, Cow<'a, [u8]>);

fn sample<'a>(raw: impl Iterator<Item = RawEvent<'a>>) -> Vec<StreamEvent> {
    let mut head = Vec::with_capacity(HEAD);
    let mut tail: VecDeque<RawEvent<'a>> = VecDeque::with_capacity(TAIL);
    for event in raw {
        if head.len() < HEAD {
            head.push(parse(event));
        } else {
            if tail.len() == TAIL {
                tail.pop_front();
            }
            tail.push_back(event);
        }
    }
    head.extend(tail.into_iter().map(parse));
    head
}

fn parse((name, data): RawEvent<'_>) -> StreamEvent {
    StreamEvent {
        name: name.map(|n| String::from_utf8_lossy(n).into_owned()),
        value: parse_prefix(&data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_streams_keep_their_head_and_tail() {
        let body: String = (0..100)
            .map(|i| format!("data: {{\"i\":{i}}}\n\n"))
            .collect();
        let body = body + "data: [DONE]\n\n";
        let stream = Stream::sse(body.as_bytes());
        let seen: Vec<i64> = stream.values().filter_map(|v| v["i"].as_i64()).collect();
        let want: Vec<i64> = (0..8).chain(68..100).collect();
        assert_eq!(seen, want);
        assert!(stream.done_marker);
    }

    #[test]
    fn ndjson_lines_are_events_without_names() {
        let stream = Stream::ndjson(b"{\"a\":1}\nnot json\n{\"b\":");
        assert_eq!(stream.kind, StreamKind::Ndjson);
        assert_eq!(
            stream.events,
            [
                StreamEvent {
                    name: None,
                    value: Some(json!({"a":1}))
                },
                StreamEvent {
                    name: None,
                    value: None
                },
                StreamEvent {
                    name: None,
                    value: Some(json!({}))
                },
            ]
        );
    }
}
