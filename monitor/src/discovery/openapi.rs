//! The inventory as an OpenAPI 3.1 document, and a comparison of it with a published spec
//! (OpenAPI 3.x, YAML or JSON): shadow endpoints (seen, not in the spec) and unused ones (in the
//! spec, never seen).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{
    inventory::{Endpoint, Inventory, ServiceKey},
    template::SegmentKind,
};
use crate::{clock::Clock, clock::rfc3339, session::actor::AuthScheme};

/// Methods OpenAPI names as path-item operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The OpenAPI 3.1 document of `inventory`, keeping services whose label contains `service`
/// (all when `None`).
pub fn document(inventory: &Inventory, clock: &Clock, service: Option<&str>) -> Value {
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut servers: BTreeSet<String> = BTreeSet::new();
    let mut schemes: BTreeSet<AuthScheme> = BTreeSet::new();
    for (key, e) in inventory.endpoints() {
        if service.is_some_and(|s| !key.label().contains(s)) {
            continue;
        }
        let method = e.method.to_ascii_lowercase();
        if !METHODS.contains(&method.as_str()) {
            continue;
        }
        servers.insert(server_url(key));
        schemes.extend(e.auth.iter().copied().filter(|a| *a != AuthScheme::None));
        let item = paths.entry(e.template.text.clone()).or_default();
        if item.contains_key(&method) {
            // The same operation on another service: note it once.
            continue;
        }
        item.insert(method, operation(e, key, clock));
    }
    let mut security_schemes = Map::new();
    for scheme in schemes {
        security_schemes.insert(scheme.name().to_owned(), security_scheme(scheme));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Discovered API",
            "version": "observed",
            "description": "Endpoints seen in traffic by the monitor; templates are learned, \
                            schemas inferred from observed bodies."
        },
        "servers": servers.into_iter().map(|url| json!({ "url": url })).collect::<Vec<_>>(),
        "paths": paths,
        "components": { "securitySchemes": security_schemes },
    })
}

fn server_url(key: &ServiceKey) -> String {
    let authority = match (&key.host, &key.address, key.port) {
        (Some(host), _, _) => host.clone(),
        (None, Some(a), Some(p)) if a.is_ipv6() => format!("[{a}]:{p}"),
        (None, Some(a), Some(p)) => format!("{a}:{p}"),
        _ => "unknown".to_owned(),
    };
    format!("http://{authority}")
}

fn operation(e: &Endpoint, key: &ServiceKey, clock: &Clock) -> Value {
    let mut parameters: Vec<Value> = e
        .parameters()
        .map(|(name, kinds)| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": param_schema(&kinds),
                "x-kinds": kinds,
            })
        })
        .collect();
    for (name, calls) in &e.query_params {
        let mut p = json!({
            "name": name,
            "in": "query",
            "required": *calls == e.calls,
            "schema": { "type": "string" },
        });
        if let Some(classes) = e.query_sensitive.get(name) {
            p["x-sensitive"] = json!(classes);
        }
        parameters.push(p);
    }
    let mut op = json!({
        "summary": format!("{} {}", e.method, e.template.text),
        "parameters": parameters,
        "responses": responses(e),
        "x-service": key.label(),
        "x-calls": e.calls,
        "x-first-seen": rfc3339(clock.unix_ns(e.first_ns)),
        "x-last-seen": rfc3339(clock.unix_ns(e.last_ns)),
        "x-auth": e.auth,
    });
    let latency: Map<String, Value> = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]
        .into_iter()
        .filter_map(|(name, q)| Some((name.to_owned(), json!(e.latency.quantile(q)? as f64 / 1e6))))
        .collect();
    if !latency.is_empty() {
        op["x-latency-ms"] = Value::Object(latency);
    }
    let request = e.request.openapi_content();
    if request.as_object().is_some_and(|m| !m.is_empty()) {
        op["requestBody"] = json!({ "content": request });
    }
    let security: Vec<Value> = e
        .auth
        .iter()
        .map(|a| match a {
            AuthScheme::None => json!({}),
            other => json!({ other.name(): [] }),
        })
        .collect();
    if e.auth.iter().any(|a| *a != AuthScheme::None) {
        op["security"] = json!(security);
    }
    let sensitive = sensitive(e);
    if !sensitive.is_empty() {
        op["x-sensitive"] = Value::Object(sensitive);
    }
    if let Some(ai) = &e.ai {
        op["x-ai"] = json!(ai);
    }
    if let Some(grpc) = &e.grpc {
        // The path is the method (`POST /package.Service/Method`): say it is one.
        op["summary"] = json!(format!("gRPC {}/{}", grpc.service, grpc.method));
        op["x-grpc"] = json!(grpc);
    }
    op
}

fn responses(e: &Endpoint) -> Value {
    let mut out = Map::new();
    let content = e.response.openapi_content();
    let success = e
        .status_codes
        .keys()
        .find(|s| (200..300).contains(*s))
        .copied();
    for (status, calls) in &e.status_codes {
        let mut r = json!({ "description": format!("Seen {calls} times") });
        if Some(*status) == success && content.as_object().is_some_and(|m| !m.is_empty()) {
            r["content"] = content.clone();
        }
        out.insert(status.to_string(), r);
    }
    if out.is_empty() {
        out.insert(
            "default".to_owned(),
            json!({ "description": "No response seen" }),
        );
    }
    Value::Object(out)
}

fn sensitive(e: &Endpoint) -> Map<String, Value> {
    let mut out = Map::new();
    for (side, model) in [("request", &e.request), ("response", &e.response)] {
        let fields: Map<String, Value> = model
            .sensitive_fields()
            .into_iter()
            .map(|f| {
                let path = if f.path.is_empty() {
                    "(body)".to_owned()
                } else {
                    f.path
                };
                (path, json!(f.classes))
            })
            .collect();
        if !fields.is_empty() {
            out.insert(side.to_owned(), Value::Object(fields));
        }
    }
    out
}

fn param_schema(kinds: &[SegmentKind]) -> Value {
    match kinds {
        [SegmentKind::Integer] => json!({ "type": "integer" }),
        [SegmentKind::Uuid] => json!({ "type": "string", "format": "uuid" }),
        [SegmentKind::Date] => json!({ "type": "string", "format": "date" }),
        [SegmentKind::Email] => json!({ "type": "string", "format": "email" }),
        _ => json!({ "type": "string" }),
    }
}

fn security_scheme(scheme: AuthScheme) -> Value {
    match scheme {
        AuthScheme::Basic => json!({ "type": "http", "scheme": "basic" }),
        AuthScheme::Bearer => json!({ "type": "http", "scheme": "bearer" }),
        AuthScheme::Jwt => json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT" }),
        AuthScheme::ApiKey => json!({ "type": "apiKey", "in": "header", "name": "X-API-Key",
            "description": "An API key (header, query parameter or Authorization scheme)" }),
        AuthScheme::Cookie => json!({ "type": "apiKey", "in": "cookie", "name": "session" }),
        AuthScheme::None => json!({}),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the spec is neither JSON nor YAML: {0}")]
    Syntax(String),
    #[error("the spec has no `paths` object (is it OpenAPI 3.x?)")]
    NoPaths,
}

/// Reads an OpenAPI 3.x spec, JSON or YAML.
pub fn parse_spec(text: &str) -> Result<Value, SpecError> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => serde_yaml_ng::from_str(text).map_err(|e| SpecError::Syntax(e.to_string()))?,
    };
    if !value.get("paths").is_some_and(Value::is_object) {
        return Err(SpecError::NoPaths);
    }
    Ok(value)
}

/// An operation: method (uppercase) and path template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Operation {
    pub method: String,
    pub path: String,
}

/// What the traffic and the spec disagree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecDiff {
    /// Seen in traffic, not in the spec.
    pub shadow: Vec<Operation>,
    /// In the spec, never seen.
    pub unused: Vec<Operation>,
    /// Seen operations the spec documents.
    pub matched: usize,
}

/// Compares the operations of two OpenAPI documents: `observed` (ours) against `spec`. A
/// parameter in the spec matches any segment; a parameter we learned matches only a spec
/// parameter. Spec paths are taken with each server's base path (`/api/v1`) too.
pub fn diff(observed: &Value, spec: &Value) -> SpecDiff {
    let ours = operations(observed, &[String::new()]);
    let bases = base_paths(spec);
    let theirs = operations(spec, &bases);
    let mut used = vec![false; theirs.len()];
    let mut shadow = Vec::new();
    let mut matched = 0;
    for op in &ours {
        let hit = theirs
            .iter()
            .enumerate()
            .filter(|(_, t)| t.method == op.method && path_matches(&op.path, &t.path))
            .map(|(i, _)| i)
            .collect::<Vec<_>>();
        if hit.is_empty() {
            shadow.push(op.clone());
        } else {
            matched += 1;
            for i in hit {
                used[i] = true;
            }
        }
    }
    let mut unused: Vec<Operation> = theirs
        .into_iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(op, _)| op)
        .collect();
    unused.sort();
    unused.dedup();
    shadow.sort();
    SpecDiff {
        shadow,
        unused,
        matched,
    }
}

fn base_paths(spec: &Value) -> Vec<String> {
    let mut bases: Vec<String> = spec
        .get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("url")?.as_str())
        .map(|url| {
            let rest = url.split_once("://").map_or(url, |(_, r)| r);
            let path = if url.contains("://") {
                rest.find('/').map_or("", |i| &rest[i..])
            } else {
                rest
            };
            path.trim_end_matches('/').to_owned()
        })
        .collect();
    if bases.is_empty() {
        bases.push(String::new());
    }
    bases.sort();
    bases.dedup();
    bases
}

fn operations(doc: &Value, bases: &[String]) -> Vec<Operation> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in METHODS {
            if item.contains_key(method) {
                for base in bases {
                    out.push(Operation {
                        method: method.to_ascii_uppercase(),
                        path: format!("{base}{path}"),
                    });
                }
            }
        }
    }
    out
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

fn path_matches(ours: &str, theirs: &str) -> bool {
    let a: Vec<&str> = ours.trim_end_matches('/').split('/').collect();
    let b: Vec<&str> = theirs.trim_end_matches('/').split('/').collect();
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            if is_param(y) {
                true
            } else {
                !is_param(x) && x == y
            }
        })
}

#[cfg(test)]
mod tests;
