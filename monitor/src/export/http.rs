//! The `http` event: one transaction as a JSON line, with secrets redacted, bodies decoded for
//! inspection and shown as text or base64. Field names follow OpenTelemetry's HTTP conventions
//! where one exists (see the README's mapping).

use std::{borrow::Cow, sync::Arc};

use foldhash::{HashMap, HashMapExt};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, ser::SerializeMap, ser::SerializeSeq};

use super::{
    JsonLinesWriter,
    event::{Connection, Endpoint},
    grpc::{mask_status_header, redacted},
    insight::HttpInsight,
    prerendered::Prerendered,
    render::connection,
};
use crate::{
    clock::{Clock, Rfc3339Cache, Rfc3339Text},
    conn::{ConnMeta, Role},
    grpc::GrpcCall,
    transaction::{
        Body, EndReason, Flag, Flags, Headers, HttpTransaction, Outcome,
        body::{ContentRepr, render_body},
        redact::Redactor,
    },
};

/// Bumped when a field changes meaning or is removed; adding fields keeps it.
pub const HTTP_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize, JsonSchema)]
pub struct HttpEvent<'a> {
    /// The version of this event's schema (`HTTP_SCHEMA_VERSION`).
    #[schemars(extend("const" = HTTP_SCHEMA_VERSION))]
    pub schema_version: u32,
    /// First request byte (or first byte seen), RFC 3339.
    pub ts: Rfc3339,
    /// `ts` as nanoseconds since the Unix epoch.
    pub ts_unix_ns: u64,
    /// Last response byte (or when the transaction was given up), RFC 3339.
    pub end_ts: Rfc3339,
    /// `end_ts` as nanoseconds since the Unix epoch.
    pub end_ts_unix_ns: u64,
    /// First request byte to last response byte, when both were seen.
    pub duration_ns: Option<u64>,
    pub process: ProcessRef<'a>,
    pub connection: &'a Prerendered<HttpConnection>,
    /// OpenTelemetry `server.*`: the side that answered.
    pub server: Option<&'a Prerendered<Endpoint>>,
    /// OpenTelemetry `client.*`: the side that asked.
    pub client: Option<&'a Prerendered<Endpoint>>,
    /// Null when the request was not captured.
    pub request: Option<RequestOut<'a>>,
    /// Null when no response was seen.
    pub response: Option<ResponseOut<'a>>,
    pub outcome: Outcome,
    /// What ended the transaction before it finished (a half is missing or a body was cut);
    /// null when nothing did.
    pub reason: Option<EndReason>,
    pub flags: Flags,
    /// Whether any flag means two parsers could frame this traffic differently.
    pub smuggling_risk: bool,
    /// The gRPC call an HTTP/2 stream carried, its decoded messages and `message` redacted;
    /// absent for anything else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcCall>,
    /// Who sent it, in which session, to which endpoint (discovery; null members without it).
    #[serde(flatten)]
    pub insight: &'a HttpInsight,
}

/// The owner of the connection.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProcessRef<'a> {
    /// Process (thread-group) id.
    pub pid: u32,
    /// The kernel's short command name (at most 15 bytes).
    pub comm: &'a str,
}

/// A wall-clock time written as RFC 3339 with nanoseconds, rendered on the stack.
#[derive(Debug, Clone, Copy)]
pub struct Rfc3339(pub Rfc3339Text);

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

/// By hand, as `Serialize` is: a string in RFC 3339 `date-time` form.
impl JsonSchema for Rfc3339 {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Rfc3339".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "date-time" })
    }
}

/// The connection, and whether it was encrypted (`tls`, `tls_library`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HttpConnection {
    #[serde(flatten)]
    pub connection: Connection,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RequestOut<'a> {
    /// OpenTelemetry `http.request.method`.
    pub method: &'a str,
    /// The request-target as sent, query redacted.
    pub target: Cow<'a, str>,
    /// OpenTelemetry `url.path` (absent for CONNECT's authority form).
    pub path: Option<&'a str>,
    /// OpenTelemetry `url.query`, redacted.
    pub query: Option<Cow<'a, str>>,
    /// OpenTelemetry `network.protocol.version`.
    pub version: &'static str,
    /// Lowercase names in the order first sent; every value of repeated fields, in order.
    /// OpenTelemetry `http.request.header.*`.
    pub headers: HeaderView<'a>,
    /// Chunked trailer fields, as `headers`; absent when there were none.
    #[serde(skip_serializing_if = "HeaderView::is_empty")]
    pub trailers: HeaderView<'a>,
    pub body: BodyOut<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ResponseOut<'a> {
    /// OpenTelemetry `http.response.status_code`.
    pub status_code: u16,
    /// The reason phrase as sent (may be empty).
    pub reason: &'a str,
    /// OpenTelemetry `network.protocol.version`.
    pub version: &'static str,
    /// Lowercase names in the order first sent; every value of repeated fields, in order.
    /// OpenTelemetry `http.response.header.*`.
    pub headers: HeaderView<'a>,
    /// Chunked trailer fields, as `headers`; absent when there were none.
    #[serde(skip_serializing_if = "HeaderView::is_empty")]
    pub trailers: HeaderView<'a>,
    pub body: BodyOut<'a>,
    /// 1xx responses received before this one.
    pub interim: &'a [u16],
}

/// A message body: its size, how much was kept, and the kept bytes as text or base64.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BodyOut<'a> {
    /// Bytes on the wire after de-chunking (OpenTelemetry `http.*.body.size`).
    pub size: u64,
    /// Bytes kept.
    pub captured: u64,
    /// `size` > `captured`: the capture limit cut it.
    pub truncated: bool,
    /// False when a gap or the end of the connection cut the body.
    pub complete: bool,
    /// The Content-Encoding header, trimmed and lowercased.
    pub content_encoding: Option<Cow<'a, str>>,
    /// `content` is the decoded form of a gzip/deflate/br body.
    pub decoded: bool,
    /// `text` or `base64`; absent when `content` is.
    pub encoding: Option<ContentRepr>,
    /// The kept bytes (decoded when `decoded`) as `encoding` says, redacted; absent without
    /// body bytes, and for a gRPC call under redaction (its `grpc` messages are shown).
    pub content: Option<Cow<'a, str>>,
}

/// Header fields shown as an object of lowercase name → values, redacted while written.
#[derive(Clone, Copy)]
pub struct HeaderView<'a> {
    pub(super) headers: &'a Headers,
    pub(super) redactor: &'a Redactor,
    /// The message is a gRPC call: `grpc-message` is free text, masked by its value.
    pub(super) grpc: bool,
}

impl std::fmt::Debug for HeaderView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HeaderView({} fields)", self.headers.len())
    }
}

impl HeaderView<'_> {
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }
}

/// By hand, as `Serialize` is: lowercase name → every value, in order.
impl JsonSchema for HeaderView<'_> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "HeaderView".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<Vec<String>>(),
        })
    }
}

impl Serialize for HeaderView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (i, (name, _)) in self.headers.iter().enumerate() {
            // Each name once, at its first line; heads have few fields, so the scan is cheap.
            // Names are stored lowercase (`Headers::push`).
            if self.headers.iter().take(i).any(|(n, _)| n == name) {
                continue;
            }
            let values = Values {
                name,
                headers: self.headers,
                first: i,
                redactor: self.redactor,
                grpc: self.grpc,
            };
            map.serialize_entry(name, &values)?;
        }
        map.end()
    }
}

/// The values of one header name, in order, from its first line on.
struct Values<'a> {
    name: &'a str,
    headers: &'a Headers,
    first: usize,
    redactor: &'a Redactor,
    grpc: bool,
}

/// One header value as shown: redacted by its name, and for a gRPC call's `grpc-message` by
/// its value too (see `grpc::mask_status_header`).
pub(super) fn header_value<'v>(
    redactor: &Redactor,
    grpc: bool,
    name: &str,
    value: &'v str,
) -> Cow<'v, str> {
    if grpc && let Some(masked) = mask_status_header(name, value, redactor) {
        return Cow::Owned(masked);
    }
    redactor.header(name, value)
}

impl Serialize for Values<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for (n, v) in self.headers.iter().skip(self.first) {
            if n == self.name {
                // Values are almost always ASCII: check it the fast way before the lossy one.
                let text = match std::str::from_utf8(v) {
                    Ok(text) => Cow::Borrowed(text),
                    Err(_) => String::from_utf8_lossy(v),
                };
                seq.serialize_element(&header_value(self.redactor, self.grpc, self.name, &text))?;
            }
        }
        seq.end()
    }
}

/// What is rendered once per connection, not once per transaction.
struct ConnView {
    meta: Arc<ConnMeta>,
    connection: Prerendered<HttpConnection>,
    server: Option<Prerendered<Endpoint>>,
    client: Option<Prerendered<Endpoint>>,
}

/// Connections whose rendering is kept; beyond it the cache starts over.
const CONN_CACHE: usize = 4096;

pub struct HttpRenderer {
    clock: Clock,
    redactor: Redactor,
    max_decoded: usize,
    conns: HashMap<u64, ConnView>,
    times: Rfc3339Cache,
}

impl HttpRenderer {
    pub fn new(clock: Clock, redactor: Redactor, max_decoded: usize) -> Self {
        Self {
            clock,
            redactor,
            max_decoded,
            conns: HashMap::new(),
            times: Rfc3339Cache::default(),
        }
    }

    /// Writes `t` as one `http` JSON line, with what discovery said of it.
    pub fn write(
        &mut self,
        t: &HttpTransaction,
        insight: &HttpInsight,
        out: &mut JsonLinesWriter,
    ) -> std::io::Result<()> {
        self.prepare(&t.meta);
        let event = self.render(t, insight);
        out.write_line(|line| event.write_json(line))
    }

    /// The JSON value of `t` (tests, tools), read back from the text `write` writes. That text
    /// is written by hand; it is checked here against what serde writes for the same event,
    /// so every test and fuzz run that looks at a transaction also catches a drift between
    /// the two.
    pub fn to_value(&mut self, t: &HttpTransaction) -> serde_json::Result<serde_json::Value> {
        self.to_value_with(t, &HttpInsight::default())
    }

    /// `to_value` with what discovery said of `t`.
    pub fn to_value_with(
        &mut self,
        t: &HttpTransaction,
        insight: &HttpInsight,
    ) -> serde_json::Result<serde_json::Value> {
        self.prepare(&t.meta);
        let event = self.render(t, insight);
        let mut text = Vec::new();
        event.write_json(&mut text);
        let reference = serde_json::to_vec(&HttpLine::Http(event))?;
        if text != reference {
            return Err(<serde_json::Error as serde::ser::Error>::custom(format!(
                "hand-written line differs from serde's:\n{}\n{}",
                String::from_utf8_lossy(&text),
                String::from_utf8_lossy(&reference)
            )));
        }
        serde_json::from_slice(&text)
    }

    fn prepare(&mut self, meta: &Arc<ConnMeta>) {
        let fresh = self
            .conns
            .get(&meta.id)
            .is_some_and(|c| Arc::ptr_eq(&c.meta, meta) || *c.meta == **meta);
        if fresh {
            return;
        }
        if self.conns.len() >= CONN_CACHE {
            self.conns.clear();
        }
        let (server, client) = sides(meta);
        self.conns.insert(
            meta.id,
            ConnView {
                meta: meta.clone(),
                connection: Prerendered::new(HttpConnection {
                    connection: connection(meta),
                }),
                server: server.map(Prerendered::new),
                client: client.map(Prerendered::new),
            },
        );
    }

    /// Renders `t`; `prepare` must have run for its connection.
    fn render<'a>(&'a self, t: &'a HttpTransaction, insight: &'a HttpInsight) -> HttpEvent<'a> {
        static NO_CONN: std::sync::OnceLock<Prerendered<HttpConnection>> =
            std::sync::OnceLock::new();
        let view = self.conns.get(&t.meta.id);
        let mut flags = t.flags;
        // A gRPC call's raw bodies are framed protobuf, whose strings no body redaction rule
        // can find by name (and base64 would carry them past a look for values): the call's
        // decoded, redacted messages (`grpc`) are shown instead of them.
        let grpc = t.grpc.is_some();
        let withhold = grpc && self.redactor.enabled();
        let start = self.clock.unix_ns(t.start_ts_ns);
        let end = self.clock.unix_ns(t.end_ts_ns);
        let request = t.request.as_ref().map(|q| {
            let (path, query) = split_target(&q.target);
            let query = query.map(|s| self.redactor.query(s));
            let target = match (&query, path) {
                // The target as sent up to its query, then the redacted query: in absolute
                // form (`http://host/p?token=…`, proxies) the scheme and authority stay, and
                // the secret goes as it does from `query`. The authority cannot hold a `?`, so
                // the first one starts the query.
                (Some(Cow::Owned(qs)), Some(_)) => {
                    let before = q
                        .target
                        .split_once('?')
                        .map_or(q.target.as_str(), |(b, _)| b);
                    Cow::Owned(format!("{before}?{qs}"))
                }
                _ => Cow::Borrowed(q.target.as_str()),
            };
            RequestOut {
                method: &q.method,
                target,
                path,
                query,
                version: q.version,
                headers: self.view(&q.headers, grpc),
                trailers: self.view(&q.trailers, grpc),
                body: self.body(&q.body, &q.headers, withhold, &mut flags),
            }
        });
        let response = t.response.as_ref().map(|r| ResponseOut {
            status_code: r.status,
            reason: &r.reason,
            version: r.version,
            headers: self.view(&r.headers, grpc),
            trailers: self.view(&r.trailers, grpc),
            body: self.body(&r.body, &r.headers, withhold, &mut flags),
            interim: &t.interim,
        });
        HttpEvent {
            schema_version: HTTP_SCHEMA_VERSION,
            ts: Rfc3339(self.times.format(start)),
            ts_unix_ns: start,
            end_ts: Rfc3339(self.times.format(end)),
            end_ts_unix_ns: end,
            duration_ns: t.latency_ns(),
            process: ProcessRef {
                pid: t.meta.pid,
                comm: &t.meta.comm,
            },
            connection: match view {
                Some(v) => &v.connection,
                None => NO_CONN.get_or_init(|| {
                    Prerendered::new(HttpConnection {
                        connection: Connection {
                            id: String::new(),
                            local: None,
                            peer: None,
                            network_type: None,
                            role: Role::Unknown,
                            attribution: crate::conn::model::Attribution::Unresolved,
                            tls: false,
                            tls_library: None,
                        },
                    })
                }),
            },
            server: view.and_then(|v| v.server.as_ref()),
            client: view.and_then(|v| v.client.as_ref()),
            request,
            response,
            outcome: t.outcome,
            reason: t.reason,
            flags,
            smuggling_risk: flags.smuggling_risk(),
            grpc: t.grpc.as_deref().map(|c| redacted(c, &self.redactor)),
            insight,
        }
    }

    fn view<'a>(&'a self, headers: &'a Headers, grpc: bool) -> HeaderView<'a> {
        HeaderView {
            headers,
            redactor: &self.redactor,
            grpc,
        }
    }

    /// The body as shown; `withhold`: its sizes only, no content.
    fn body<'a>(
        &self,
        body: &'a Body,
        headers: &'a Headers,
        withhold: bool,
        flags: &mut Flags,
    ) -> BodyOut<'a> {
        let encoding = headers.get_str("content-encoding");
        let mut out = BodyOut {
            size: body.size,
            captured: body.captured.len() as u64,
            truncated: body.truncated(),
            complete: !body.incomplete,
            content_encoding: encoding.map(|s| {
                let s = s.trim();
                if s.bytes().any(|b| b.is_ascii_uppercase()) {
                    Cow::Owned(s.to_ascii_lowercase())
                } else {
                    Cow::Borrowed(s)
                }
            }),
            decoded: false,
            encoding: None,
            content: None,
        };
        if body.captured.is_empty() || withhold {
            return out;
        }
        let content_type = headers.get_str("content-type");
        let view = render_body(&body.captured, content_type, encoding, self.max_decoded);
        if view.decode_failed {
            flags.set(Flag::DecodeFailed);
        }
        if view.decode_truncated {
            flags.set(Flag::DecodeTruncated);
        }
        out.decoded = view.decoded;
        out.content = Some(match (view.repr, view.content) {
            (ContentRepr::Text, Cow::Borrowed(text)) => self.redactor.body(content_type, text),
            (ContentRepr::Text, Cow::Owned(text)) => {
                match self.redactor.body(content_type, &text) {
                    Cow::Borrowed(_) => Cow::Owned(text),
                    Cow::Owned(masked) => Cow::Owned(masked),
                }
            }
            (ContentRepr::Base64, content) => content,
        });
        out.encoding = Some(view.repr);
        out
    }
}

/// The line as written: the event tagged with its type.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum HttpLine<'a> {
    Http(HttpEvent<'a>),
}

/// (server, client) endpoints from the observed process's role.
fn sides(meta: &ConnMeta) -> (Option<Endpoint>, Option<Endpoint>) {
    let Some(ep) = meta.endpoints else {
        return (None, None);
    };
    let local = Endpoint {
        address: ep.local.ip().to_string(),
        port: ep.local.port(),
    };
    let peer = Endpoint {
        address: ep.remote.ip().to_string(),
        port: ep.remote.port(),
    };
    match meta.role {
        Role::Client => (Some(peer), Some(local)),
        Role::Server => (Some(local), Some(peer)),
        Role::Unknown => (None, None),
    }
}

/// (path, query) of a request-target in origin or absolute form; CONNECT's authority form has
/// no path.
pub fn split_target(target: &str) -> (Option<&str>, Option<&str>) {
    let rest = if target.starts_with('/') || target == "*" {
        target
    } else if let Some(after) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        match after.find(['/', '?']) {
            Some(i) => &after[i..],
            None => "/",
        }
    } else {
        return (None, None);
    };
    // Cut at ASCII bytes with memchr (the char searcher costs more on such short text).
    let (path, query) = match memchr::memchr(b'?', rest.as_bytes()) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    let query = query.map(|q| &q[..memchr::memchr(b'#', q.as_bytes()).unwrap_or(q.len())]);
    (Some(path), query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(split_target("/a/b?x=1"), (Some("/a/b"), Some("x=1")));
        assert_eq!(split_target("/a"), (Some("/a"), None));
        assert_eq!(split_target("http://h:8/p?q#f"), (Some("/p"), Some("q")));
        assert_eq!(split_target("https://h"), (Some("/"), None));
        assert_eq!(split_target("example.com:443"), (None, None));
        assert_eq!(split_target("*"), (Some("*"), None));
    }
}
