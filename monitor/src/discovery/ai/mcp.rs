//! The Model Context Protocol over HTTP: JSON-RPC 2.0 messages POSTed (Streamable HTTP, or the
//! older HTTP+SSE transport's `/messages`), answered as JSON or as an event stream, and the
//! event streams a client opens with GET. JSON-RPC whose methods are not MCP's is not MCP.

use serde_json::Value;

use super::{
    AiApi, AiCall, McpCall, str_at,
    view::{Response, View},
};

/// Methods only MCP uses.
const METHODS: &[&str] = &[
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "sampling/createMessage",
    "roots/list",
    "elicitation/create",
    "tasks/get",
    "tasks/result",
    "tasks/list",
    "tasks/cancel",
];
const NOTIFICATIONS: &str = "notifications/";
/// MCP methods other JSON-RPC protocols have too.
const SHARED: &[&str] = &["initialize", "ping"];

pub fn recognise(v: &View<'_>) -> Option<AiCall> {
    let requests = messages(v.request.as_ref());
    let responses: Vec<&Value> = match &v.response {
        Response::Json(r) => messages(Some(r)),
        Response::Stream(s) => s.values().flat_map(|e| messages(Some(e))).collect(),
        Response::Absent => Vec::new(),
    };
    // The legacy transport's GET stream first tells the client where to POST.
    let endpoint_event = v
        .stream()
        .is_some_and(|s| s.events.first().is_some_and(|e| e.is("endpoint")));
    let all = || requests.iter().chain(&responses);
    // Another protocol's method rules MCP out, even at an MCP-looking endpoint.
    if all()
        .filter_map(|m| method(m))
        .any(|m| !is_mcp_method(m) && !SHARED.contains(&m))
    {
        return None;
    }
    let speaks_mcp = endpoint_event
        || all().any(|m| method(m).is_some_and(is_mcp_method))
        || all().any(|m| is_initialize(m))
        || (all().next().is_some() && has_mcp_context(v));
    if !speaks_mcp {
        return None;
    }
    let mut mcp = McpCall {
        batch_size: match v.request.as_ref() {
            Some(Value::Array(batch)) => Some(batch.len()),
            _ => None,
        },
        ..McpCall::default()
    };
    let first = requests
        .iter()
        .find(|m| method(m).is_some())
        .or_else(|| responses.iter().find(|m| method(m).is_some()));
    if let Some(first) = first {
        read_request(&mut mcp, first);
    }
    for response in responses.iter().filter(|m| method(m).is_none()) {
        read_response(&mut mcp, response);
    }
    if mcp.protocol_version.is_none() {
        mcp.protocol_version = v
            .request_headers
            .get_str("mcp-protocol-version")
            .map(str::to_owned);
    }
    let mut call = AiCall::new(AiApi::Mcp);
    call.streaming = v.stream().is_some();
    call.mcp = Some(mcp);
    Some(call)
}

/// The JSON-RPC 2.0 messages of a body: one object, or the objects of a batch.
fn messages(body: Option<&Value>) -> Vec<&Value> {
    let is_rpc = |m: &&Value| m.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    match body {
        Some(Value::Array(batch)) => batch.iter().filter(is_rpc).collect(),
        Some(one) if is_rpc(&one) => vec![one],
        _ => Vec::new(),
    }
}

fn method(m: &Value) -> Option<&str> {
    m.get("method").and_then(Value::as_str)
}

fn is_mcp_method(name: &str) -> bool {
    METHODS.contains(&name) || name.starts_with(NOTIFICATIONS)
}

/// An `initialize` request or result carries a `protocolVersion`; LSP's does not.
fn is_initialize(m: &Value) -> bool {
    let request = method(m) == Some("initialize") && m.pointer("/params/protocolVersion").is_some();
    let result =
        m.pointer("/result/protocolVersion").is_some() && m.pointer("/result/serverInfo").is_some();
    request || result
}

/// JSON-RPC at an MCP endpoint, or with MCP's headers: `ping` and bare results count then.
fn has_mcp_context(v: &View<'_>) -> bool {
    ["mcp-session-id", "mcp-protocol-version"]
        .iter()
        .any(|h| v.request_headers.contains(h) || v.response_headers.contains(h))
        || v.path_ends_with("/mcp")
}

fn read_request(mcp: &mut McpCall, m: &Value) {
    let name = method(m).map(str::to_owned);
    match name.as_deref() {
        Some("tools/call") => mcp.tool = str_at(m, "/params/name"),
        Some("resources/read") => mcp.resource = str_at(m, "/params/uri"),
        Some("prompts/get") => mcp.prompt = str_at(m, "/params/name"),
        Some("initialize") => {
            mcp.protocol_version = str_at(m, "/params/protocolVersion");
            mcp.client_name = str_at(m, "/params/clientInfo/name");
        }
        _ => {}
    }
    mcp.method = name;
}

fn read_response(mcp: &mut McpCall, m: &Value) {
    if let Some(code) = m.pointer("/error/code").and_then(Value::as_i64) {
        mcp.error_code.get_or_insert(code);
    }
    let Some(result) = m.get("result") else {
        return;
    };
    if let Some(version) = str_at(result, "/protocolVersion") {
        // The server's answer is the version in use.
        mcp.protocol_version = Some(version);
        mcp.server_name = str_at(result, "/serverInfo/name");
        mcp.server_version = str_at(result, "/serverInfo/version");
    }
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        mcp.tool_error = true;
    }
}
