//! An HTTP transaction as the protocol parsers hand it to later stages: a request, its response,
//! when they happened, and what was odd about them. Protocol-neutral (HTTP/1 now, HTTP/2 later).

use std::{borrow::Cow, sync::Arc};

use crate::{conn::ConnMeta, grpc::GrpcCall};

use super::flags::Flags;

/// Header lines in the order they were sent; several lines of one name are kept. Names and
/// values share one buffer (two allocations per message, not two per field: this is on the hot
/// path of every transaction). Names are kept lowercase, the form they are written in: field
/// names are case-insensitive, so every lookup ignores case anyway, and lowering them once here
/// is cheaper than at every render.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    names: String,
    values: Vec<u8>,
    /// (name end, value end) offsets into `names` and `values`; each field starts where the
    /// previous one ended.
    ends: Vec<(u32, u32)>,
}

impl Headers {
    /// The fields of a parsed head, in order: sized once for all of them, names lowered in one
    /// go rather than field by field.
    pub fn from_fields<'a, I>(fields: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
        I::IntoIter: Clone,
    {
        let fields = fields.into_iter();
        let (count, names, values) = fields.clone().fold((0, 0, 0), |(c, n, v), (name, value)| {
            (c + 1, n + name.len(), v + value.len())
        });
        if names > u32::MAX as usize || values > u32::MAX as usize {
            // Beyond the offsets: `push` drops what does not fit.
            let mut out = Self::default();
            for (name, value) in fields {
                out.push(name, value);
            }
            return out;
        }
        let mut out = Self {
            names: String::with_capacity(names),
            values: Vec::with_capacity(values),
            ends: Vec::with_capacity(count),
        };
        for (name, value) in fields {
            out.names.push_str(name);
            out.values.extend_from_slice(value);
            out.ends
                .push((out.names.len() as u32, out.values.len() as u32));
        }
        out.names.make_ascii_lowercase();
        out
    }

    /// Adds a field. A field that would not fit the 4 GiB offsets is dropped (heads are limited
    /// to far less).
    pub fn push(&mut self, name: &str, value: &[u8]) {
        if self.names.len() + name.len() > u32::MAX as usize
            || self.values.len() + value.len() > u32::MAX as usize
        {
            return;
        }
        let start = self.names.len();
        self.names.push_str(name);
        self.names[start..].make_ascii_lowercase();
        self.values.extend_from_slice(value);
        self.ends
            .push((self.names.len() as u32, self.values.len() as u32));
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let (mut name_start, mut value_start) = (0usize, 0usize);
        self.ends.iter().map(move |&(name_end, value_end)| {
            let (n, v) = (name_end as usize, value_end as usize);
            // Offsets were taken at `push` from whole `&str`s, so they are char boundaries.
            let name = self.names.get(name_start..n).unwrap_or("");
            let value = self.values.get(value_start..v).unwrap_or(&[]);
            (name_start, value_start) = (n, v);
            (name, value)
        })
    }

    /// Every field with its value as text: borrowed when it is UTF-8, lossy otherwise. UTF-8
    /// is checked once for all values, not once per field.
    pub fn iter_text(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
        let all = std::str::from_utf8(&self.values).ok();
        let mut value_start = 0usize;
        self.iter().map(move |(name, value)| {
            let range = value_start..value_start + value.len();
            value_start = range.end;
            // A slice of UTF-8 text on character boundaries is UTF-8 itself; `get` is `None`
            // only for a character split between two values, each of which is then invalid.
            let text = match all.and_then(|all| all.get(range)) {
                Some(text) => Cow::Borrowed(text),
                None => String::from_utf8_lossy(value),
            };
            (name, text)
        })
    }

    /// Every name, then every value, each run end to end: what a writer checks once for all
    /// fields (whether any needs escaping, say) rather than field by field.
    pub fn text_runs(&self) -> (&str, &[u8]) {
        (&self.names, &self.values)
    }

    /// Whether some name comes on more than one line.
    pub fn has_repeated_names(&self) -> bool {
        // On the offsets: names of another length (most) are not even sliced.
        let names = self.names.as_bytes();
        let mut start = 0usize;
        for (i, &(end, _)) in self.ends.iter().enumerate() {
            let name = names.get(start..end as usize).unwrap_or(&[]);
            let mut other_start = 0usize;
            for &(other_end, _) in self.ends.iter().take(i) {
                let other_end = other_end as usize;
                if other_end - other_start == name.len()
                    && names.get(other_start..other_end) == Some(name)
                {
                    return true;
                }
                other_start = other_end;
            }
            start = end as usize;
        }
        false
    }

    /// Every value of `name` (case-insensitive), in order. On the offsets: fields whose name has
    /// another length (most) are skipped without slicing anything.
    pub fn get_all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        let names = self.names.as_bytes();
        let (mut name_start, mut value_start) = (0usize, 0usize);
        self.ends.iter().filter_map(move |&(name_end, value_end)| {
            let (n, v) = (name_end as usize, value_end as usize);
            let hit = n.wrapping_sub(name_start) == name.len()
                && names
                    .get(name_start..n)
                    .is_some_and(|this| this.eq_ignore_ascii_case(name.as_bytes()));
            let value = hit.then(|| self.values.get(value_start..v).unwrap_or(&[]));
            (name_start, value_start) = (n, v);
            value
        })
    }

    /// The first value of `name`, as text when it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get_all(name)
            .next()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get_all(name).next().is_some()
    }
}

/// A message body as far as it was captured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// Body bytes on the wire after de-chunking, including bytes lost in gaps.
    pub size: u64,
    /// The first bytes of the body, up to the capture limit.
    pub captured: Vec<u8>,
    /// A gap or the end of the connection cut the body.
    pub incomplete: bool,
}

impl Body {
    pub fn truncated(&self) -> bool {
        self.size > self.captured.len() as u64
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Static text for the registered methods (no allocation per request).
    pub method: Cow<'static, str>,
    /// The request-target exactly as sent.
    pub target: String,
    /// "1.0", "1.1", "2".
    pub version: &'static str,
    pub headers: Headers,
    pub body: Body,
    pub trailers: Headers,
    /// Monotonic ns of the first and last byte.
    pub first_ts_ns: u64,
    pub last_ts_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Static text for a status's standard phrase (no allocation per response).
    pub reason: Cow<'static, str>,
    pub version: &'static str,
    pub headers: Headers,
    pub body: Body,
    pub trailers: Headers,
    pub first_ts_ns: u64,
    pub last_ts_ns: u64,
}

/// How a transaction ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Request and final response both seen.
    Complete,
    /// A request without a response (see the reason).
    NoResponse,
    /// A response whose request was not captured (monitor attached mid-connection, or lost).
    RequestNotCaptured,
    /// 101 Switching Protocols: the connection left HTTP/1 (e.g. WebSocket).
    Upgraded,
    /// A successful CONNECT: the connection is now a tunnel.
    Tunnel,
    /// Bytes that could not be parsed as a message (see the flags).
    Malformed,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Complete,
        Outcome::NoResponse,
        Outcome::RequestNotCaptured,
        Outcome::Upgraded,
        Outcome::Tunnel,
        Outcome::Malformed,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::NoResponse => "no_response",
            Outcome::RequestNotCaptured => "request_not_captured",
            Outcome::Upgraded => "upgraded",
            Outcome::Tunnel => "tunnel",
            Outcome::Malformed => "malformed",
        }
    }
}

/// Why a transaction was emitted before it finished: without one of its halves, or with a body
/// cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// No response within the response timeout.
    ResponseTimeout,
    /// The connection closed (or went idle and was dropped) first.
    ConnectionClosed,
    /// The monitor stopped first.
    MonitorStopped,
    /// Parsing of the connection stopped (ambiguous framing, invalid chunk size...).
    ParseStopped,
    /// More pipelined requests waited than the monitor keeps per connection.
    PipelineOverflow,
}

impl EndReason {
    pub const ALL: [EndReason; 5] = [
        EndReason::ResponseTimeout,
        EndReason::ConnectionClosed,
        EndReason::MonitorStopped,
        EndReason::ParseStopped,
        EndReason::PipelineOverflow,
    ];

    /// The name written in JSON (as serde writes it).
    pub const fn name(self) -> &'static str {
        match self {
            EndReason::ResponseTimeout => "response_timeout",
            EndReason::ConnectionClosed => "connection_closed",
            EndReason::MonitorStopped => "monitor_stopped",
            EndReason::ParseStopped => "parse_stopped",
            EndReason::PipelineOverflow => "pipeline_overflow",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTransaction {
    pub meta: Arc<ConnMeta>,
    pub request: Option<HttpRequest>,
    pub response: Option<HttpResponse>,
    /// Status codes of 1xx responses received before the final one.
    pub interim: Vec<u16>,
    pub outcome: Outcome,
    pub reason: Option<EndReason>,
    pub flags: Flags,
    /// First request byte (or first byte seen) and last response byte (or emission time).
    pub start_ts_ns: u64,
    pub end_ts_ns: u64,
    /// The gRPC call an HTTP/2 stream carried (service, method, status, messages); None for
    /// anything else. Boxed, so a transaction that is no call pays one pointer.
    pub grpc: Option<Box<GrpcCall>>,
}

/// When a transaction of these messages starts and ends (see `start_ts_ns`, `end_ts_ns`), and
/// whether the end of the connection cut a message (no response, or a body left incomplete).
/// `seen` is when its first byte was seen if neither message was; `now` is emission time.
pub fn span(
    request: Option<&HttpRequest>,
    response: Option<&HttpResponse>,
    seen: u64,
    now: u64,
) -> (u64, u64, bool) {
    let start = request
        .map(|r| r.first_ts_ns)
        .or(response.map(|r| r.first_ts_ns))
        .unwrap_or(seen);
    let end = match (response, request) {
        (Some(r), _) => r.last_ts_ns,
        (None, Some(q)) => now.max(q.last_ts_ns),
        (None, None) => now.max(start),
    };
    let cut =
        response.is_none_or(|r| r.body.incomplete) || request.is_some_and(|r| r.body.incomplete);
    (start, end, cut)
}

impl HttpTransaction {
    /// First request byte → last response byte, when both were seen.
    pub fn latency_ns(&self) -> Option<u64> {
        match (&self.request, &self.response) {
            (Some(q), Some(r)) => Some(r.last_ts_ns.saturating_sub(q.first_ts_ns)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_fields_is_push_by_push() {
        let fields: [(&str, &[u8]); 4] = [
            ("Host", b"a"),
            ("X-\u{e9}T\u{c9}", b"v\xff"),
            ("", b""),
            ("host", b"B"),
        ];
        let mut pushed = Headers::default();
        for (n, v) in fields {
            pushed.push(n, v);
        }
        assert_eq!(Headers::from_fields(fields), pushed);
        assert_eq!(pushed.get_all("HOST").collect::<Vec<_>>(), [b"a", b"B"]);
    }

    #[test]
    fn text_of_values_is_checked_per_field() {
        let mut h = Headers::default();
        h.push("A", b"plain");
        h.push("b", b"caf\xc3");
        h.push("C", b"\xa9 split");
        h.push("a", "é ok".as_bytes());
        h.push("d", b"bad \xff");
        let text: Vec<(&str, String)> = h.iter_text().map(|(n, v)| (n, v.into_owned())).collect();
        let expected: Vec<(&str, String)> = h
            .iter()
            .map(|(n, v)| (n, String::from_utf8_lossy(v).into_owned()))
            .collect();
        assert_eq!(text, expected);
        assert_eq!(text[1].1, "caf\u{fffd}");
        assert!(h.has_repeated_names());
        h = Headers::default();
        h.push("a", b"1");
        h.push("b", b"2");
        assert!(!h.has_repeated_names());
    }
}
