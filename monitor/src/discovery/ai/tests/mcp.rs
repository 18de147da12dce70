//! MCP over Streamable HTTP and the legacy HTTP+SSE transport.

use super::*;

#[test]
fn mcp_initialize_answered_as_an_event_stream() {
    let case = Case {
        request_headers: &[("accept", "application/json, text/event-stream")],
        ..Case::new(
            "/mcp",
            fixture!("mcp_initialize.req.json"),
            SSE,
            fixture!("mcp_initialize.resp.sse"),
        )
    };
    let want = McpCall {
        method: Some("initialize".into()),
        protocol_version: Some("2025-06-18".into()),
        client_name: Some("claude-code".into()),
        server_name: Some("weather-server".into()),
        server_version: Some("1.2.0".into()),
        ..McpCall::default()
    };
    assert_eq!(case.recognise(), Some(mcp(want, true)));
}

#[test]
fn mcp_tools_call() {
    let case = Case {
        request_headers: &[
            ("mcp-session-id", "1868a90c"),
            ("mcp-protocol-version", "2025-06-18"),
        ],
        ..Case::new(
            "/mcp",
            fixture!("mcp_tools_call.req.json"),
            SSE,
            fixture!("mcp_tools_call.resp.sse"),
        )
    };
    let want = McpCall {
        method: Some("tools/call".into()),
        tool: Some("get_weather".into()),
        protocol_version: Some("2025-06-18".into()),
        ..McpCall::default()
    };
    assert_eq!(case.recognise(), Some(mcp(want, true)));
    let failed = Case {
        request_headers: &[],
        ..Case::new(
            "/tools",
            fixture!("mcp_tools_call.req.json"),
            JSON,
            fixture!("mcp_tools_call_error.resp.json"),
        )
    };
    let want = McpCall {
        method: Some("tools/call".into()),
        tool: Some("get_weather".into()),
        tool_error: true,
        ..McpCall::default()
    };
    assert_eq!(failed.recognise(), Some(mcp(want, false)));
}

#[test]
fn mcp_batch_and_jsonrpc_errors() {
    let batch = Case::new(
        "/messages?sessionId=7b2d",
        fixture!("mcp_batch.req.json"),
        None,
        b"",
    );
    let want = McpCall {
        method: Some("notifications/initialized".into()),
        batch_size: Some(3),
        ..McpCall::default()
    };
    assert_eq!(batch.recognise(), Some(mcp(want, false)));
    let error = Case::new(
        "/mcp",
        br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"nope"}}"#,
        JSON,
        br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"Unknown tool: nope"}}"#,
    );
    let want = McpCall {
        method: Some("tools/call".into()),
        tool: Some("nope".into()),
        error_code: Some(-32602),
        ..McpCall::default()
    };
    assert_eq!(error.recognise(), Some(mcp(want, false)));
}

#[test]
fn mcp_legacy_sse_stream_opened_with_get() {
    let case = Case::new("/sse", b"", SSE, fixture!("mcp_legacy_sse.resp.sse"));
    let want = McpCall {
        protocol_version: Some("2024-11-05".into()),
        server_name: Some("filesystem".into()),
        server_version: Some("0.6.2".into()),
        ..McpCall::default()
    };
    assert_eq!(case.recognise(), Some(mcp(want, true)));
}

#[test]
fn mcp_ping_counts_only_at_an_mcp_endpoint() {
    let ping = br#"{"jsonrpc":"2.0","id":"123","method":"ping"}"#;
    let at_mcp = Case::new(
        "/mcp",
        ping,
        JSON,
        br#"{"jsonrpc":"2.0","id":"123","result":{}}"#,
    );
    let want = McpCall {
        method: Some("ping".into()),
        ..McpCall::default()
    };
    assert_eq!(at_mcp.recognise(), Some(mcp(want, false)));
    assert_eq!(
        Case {
            path: "/rpc",
            ..at_mcp
        }
        .recognise(),
        None
    );
}

#[test]
fn other_json_rpc_at_an_mcp_path_is_not_mcp() {
    let case = Case {
        request_headers: &[("mcp-session-id", "1868a90c")],
        ..Case::new(
            "/mcp",
            fixture!("negative_jsonrpc.req.json"),
            JSON,
            fixture!("negative_jsonrpc.resp.json"),
        )
    };
    assert_eq!(case.recognise(), None);
}
