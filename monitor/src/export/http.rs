//! The `http` event: one transaction as a JSON line, with secrets redacted, bodies decoded for
//! inspection and shown as text or base64. Field names follow OpenTelemetry's HTTP conventions
//! where one exists (see the README's mapping).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    event::{Connection, Endpoint, Process},
    render::{connection, owner},
};
use crate::{
    clock::{Clock, rfc3339},
    conn::{ConnMeta, Role},
    transaction::{
        Body, EndReason, Flag, Flags, Headers, HttpTransaction, Outcome,
        body::{ContentRepr, render_body},
        redact::Redactor,
    },
};

/// Bumped when a field changes meaning or is removed; adding fields keeps it.
pub const HTTP_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct HttpEvent {
    pub schema_version: u32,
    /// First request byte (or first byte seen), RFC 3339.
    pub ts: String,
    pub ts_unix_ns: u64,
    /// Last response byte (or when the transaction was given up).
    pub end_ts: String,
    pub end_ts_unix_ns: u64,
    /// First request byte to last response byte, when both were seen.
    pub duration_ns: Option<u64>,
    pub process: Process,
    pub connection: HttpConnection,
    /// OpenTelemetry `server.*`: the side that answered.
    pub server: Option<Endpoint>,
    /// OpenTelemetry `client.*`: the side that asked.
    pub client: Option<Endpoint>,
    pub request: Option<RequestOut>,
    pub response: Option<ResponseOut>,
    pub outcome: Outcome,
    pub reason: Option<EndReason>,
    pub flags: Flags,
    /// Whether any flag means two parsers could frame this traffic differently.
    pub smuggling_risk: bool,
}

#[derive(Debug, Serialize)]
pub struct HttpConnection {
    #[serde(flatten)]
    pub connection: Connection,
    pub tls: bool,
    pub tls_library: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RequestOut {
    /// OpenTelemetry `http.request.method`.
    pub method: String,
    /// The request-target as sent, query redacted.
    pub target: String,
    /// OpenTelemetry `url.path` (absent for CONNECT's authority form).
    pub path: Option<String>,
    /// OpenTelemetry `url.query`, redacted.
    pub query: Option<String>,
    /// OpenTelemetry `network.protocol.version`.
    pub version: &'static str,
    /// Lowercase names; every value of repeated fields, in order. OpenTelemetry `http.request.header.*`.
    pub headers: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub trailers: BTreeMap<String, Vec<String>>,
    pub body: BodyOut,
}

#[derive(Debug, Serialize)]
pub struct ResponseOut {
    /// OpenTelemetry `http.response.status_code`.
    pub status_code: u16,
    pub reason: String,
    pub version: &'static str,
    pub headers: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub trailers: BTreeMap<String, Vec<String>>,
    pub body: BodyOut,
    /// 1xx responses received before this one.
    pub interim: Vec<u16>,
}

#[derive(Debug, Serialize)]
pub struct BodyOut {
    /// Bytes on the wire after de-chunking (OpenTelemetry `http.*.body.size`).
    pub size: u64,
    /// Bytes kept.
    pub captured: u64,
    /// `size` > `captured`: the capture limit cut it.
    pub truncated: bool,
    /// False when a gap or the end of the connection cut the body.
    pub complete: bool,
    pub content_encoding: Option<String>,
    /// `content` is the decoded form of a gzip/deflate/br body.
    pub decoded: bool,
    /// `text` or `base64`; absent without body bytes.
    pub encoding: Option<ContentRepr>,
    pub content: Option<String>,
}

pub struct HttpRenderer {
    clock: Clock,
    redactor: Redactor,
    max_decoded: usize,
}

impl HttpRenderer {
    pub fn new(clock: Clock, redactor: Redactor, max_decoded: usize) -> Self {
        Self {
            clock,
            redactor,
            max_decoded,
        }
    }

    pub fn render(&self, t: &HttpTransaction) -> HttpEvent {
        let mut flags = t.flags;
        let start = self.clock.unix_ns(t.start_ts_ns);
        let end = self.clock.unix_ns(t.end_ts_ns);
        let (server, client) = sides(&t.meta);
        let request = t.request.as_ref().map(|q| {
            let (path, query) = split_target(&q.target);
            let query = query.map(|s| self.redactor.query(s).into_owned());
            let target = match (&path, &query) {
                (Some(p), Some(qs)) if q.target.starts_with('/') => format!("{p}?{qs}"),
                _ => q.target.clone(),
            };
            RequestOut {
                method: q.method.clone(),
                target,
                path,
                query,
                version: q.version,
                headers: self.headers(&q.headers),
                trailers: self.headers(&q.trailers),
                body: self.body(&q.body, &q.headers, &mut flags),
            }
        });
        let response = t.response.as_ref().map(|r| ResponseOut {
            status_code: r.status,
            reason: r.reason.clone(),
            version: r.version,
            headers: self.headers(&r.headers),
            trailers: self.headers(&r.trailers),
            body: self.body(&r.body, &r.headers, &mut flags),
            interim: t.interim.clone(),
        });
        HttpEvent {
            schema_version: HTTP_SCHEMA_VERSION,
            ts: rfc3339(start),
            ts_unix_ns: start,
            end_ts: rfc3339(end),
            end_ts_unix_ns: end,
            duration_ns: t.latency_ns(),
            process: owner(&t.meta),
            connection: HttpConnection {
                connection: connection(&t.meta),
                tls: false,
                tls_library: None,
            },
            server,
            client,
            request,
            response,
            outcome: t.outcome,
            reason: t.reason,
            flags,
            smuggling_risk: flags.smuggling_risk(),
        }
    }

    fn headers(&self, headers: &Headers) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in headers.iter() {
            let value = String::from_utf8_lossy(value);
            let shown = self.redactor.header(name, &value).into_owned();
            out.entry(name.to_ascii_lowercase())
                .or_default()
                .push(shown);
        }
        out
    }

    fn body(&self, body: &Body, headers: &Headers, flags: &mut Flags) -> BodyOut {
        let mut out = BodyOut {
            size: body.size,
            captured: body.captured.len() as u64,
            truncated: body.truncated(),
            complete: !body.incomplete,
            content_encoding: headers
                .get_str("content-encoding")
                .map(|s| s.trim().to_ascii_lowercase()),
            decoded: false,
            encoding: None,
            content: None,
        };
        if body.captured.is_empty() {
            return out;
        }
        let content_type = headers.get_str("content-type");
        let view = render_body(
            &body.captured,
            content_type,
            headers.get_str("content-encoding"),
            self.max_decoded,
        );
        if view.decode_failed {
            flags.set(Flag::DecodeFailed);
        }
        if view.decode_truncated {
            flags.set(Flag::DecodeTruncated);
        }
        out.decoded = view.decoded;
        out.content = Some(match view.repr {
            ContentRepr::Text => self.redactor.body(content_type, &view.content).into_owned(),
            ContentRepr::Base64 => view.content,
        });
        out.encoding = Some(view.repr);
        out
    }
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
pub fn split_target(target: &str) -> (Option<String>, Option<&str>) {
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
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    let query = query.map(|q| q.split('#').next().unwrap_or(q));
    (Some(path.to_owned()), query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(split_target("/a/b?x=1"), (Some("/a/b".into()), Some("x=1")));
        assert_eq!(split_target("/a"), (Some("/a".into()), None));
        assert_eq!(
            split_target("http://h:8/p?q#f"),
            (Some("/p".into()), Some("q"))
        );
        assert_eq!(split_target("https://h"), (Some("/".into()), None));
        assert_eq!(split_target("example.com:443"), (None, None));
        assert_eq!(split_target("*"), (Some("*".into()), None));
    }
}
