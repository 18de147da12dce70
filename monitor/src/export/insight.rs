//! The `endpoint` and `session` events: what discovery and session tracking report, with times
//! in wall-clock form and ids as text.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::{
    clock::{Clock, rfc3339},
    detection::{alerts::AlertId, category::Category, verdicts::Verdict},
    discovery::{
        ai::AiCall,
        grpc::GrpcSummary,
        inventory::{AiSummary, Endpoint, EndpointChange, ServiceKey},
        sensitive::ClassSet,
        template::SegmentKind,
    },
    session::{
        actor::{Actor, ActorKind, AuthScheme},
        tracker::{SessionId, SessionState, SessionSummary},
    },
};

/// An actor as events name it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ActorOut {
    /// Keyed hash (HMAC-SHA256 under the run's redaction key, 16 hex digits) of the identity:
    /// the same in every event of a run, never the credential itself.
    pub id: String,
    pub kind: ActorKind,
}

impl From<Actor> for ActorOut {
    fn from(a: Actor) -> Self {
        Self {
            id: {
                let mut id = String::with_capacity(16);
                a.id.push_hex(&mut id);
                id
            },
            kind: a.kind,
        }
    }
}

/// A path parameter of a template.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PathParam {
    pub name: String,
    /// The shapes its values took (`integer`, `uuid`, `date`, `email`, `hash`, `hex`, `token`,
    /// `word`).
    pub kinds: Vec<SegmentKind>,
}

/// An endpoint discovered, or re-templated.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EndpointEvent {
    /// RFC 3339, UTC, nanoseconds: when the change happened (the transaction's time).
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    pub ts_unix_ns: u64,
    pub change: EndpointChange,
    pub service: ServiceKey,
    pub method: String,
    /// The learned template, OpenAPI style (`/users/{userId}`).
    pub path_template: String,
    pub parameters: Vec<PathParam>,
    /// Templates this one replaces (`template_changed`), at most 16.
    pub replaces: Vec<String>,
    /// Calls counted so far.
    pub calls: u64,
    #[schemars(extend("format" = "date-time"))]
    pub first_seen: String,
    /// AI/LLM or MCP calls seen at this endpoint so far.
    pub ai: Option<AiSummary>,
    /// The gRPC service and method this endpoint is, and what its calls showed so far;
    /// absent for other endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcSummary>,
}

impl EndpointEvent {
    pub fn new(
        clock: &Clock,
        ts_ns: u64,
        change: EndpointChange,
        service: &ServiceKey,
        e: &Endpoint,
    ) -> Self {
        let ts_unix_ns = clock.unix_ns(ts_ns);
        Self {
            ts: rfc3339(ts_unix_ns),
            ts_unix_ns,
            change,
            service: service.clone(),
            method: e.method.clone(),
            path_template: e.template.text.clone(),
            parameters: e
                .parameters()
                .map(|(name, kinds)| PathParam {
                    name: name.to_owned(),
                    kinds,
                })
                .collect(),
            replaces: e.replaced.clone(),
            calls: e.calls,
            first_seen: rfc3339(clock.unix_ns(e.first_ns)),
            ai: e.ai.clone(),
            grpc: e.grpc.clone(),
        }
    }
}

/// A session: one actor's transactions without an idle gap.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SessionEvent {
    /// RFC 3339, UTC, nanoseconds: when this summary was made (the session's last activity).
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    pub ts_unix_ns: u64,
    /// The id `http` events of this session carry.
    pub session_id: String,
    pub actor: ActorOut,
    /// `active` (a periodic report) or why it ended.
    pub state: SessionState,
    #[schemars(extend("format" = "date-time"))]
    pub start_ts: String,
    #[schemars(extend("format" = "date-time"))]
    pub end_ts: String,
    pub duration_ns: u64,
    pub transactions: u64,
    /// `METHOD template` → calls (at most 64; the rest in `endpoints_dropped`).
    pub endpoints: BTreeMap<String, u64>,
    pub endpoints_dropped: u64,
    /// Status class (`2xx`…, `none` without a response) → transactions.
    pub status: BTreeMap<&'static str, u64>,
    /// Client addresses (after trusted proxies), at most 16.
    pub client_ips: Vec<String>,
    pub client_ips_dropped: u64,
    /// User agents (cut to 256 bytes), at most 8.
    pub user_agents: Vec<String>,
    pub user_agents_dropped: u64,
    /// Body bytes sent and received.
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// 0–100: how likely the session is abusive, from the alerts raised in it (0 without).
    pub risk: u8,
    /// Alert categories raised in this session so far.
    pub categories: Vec<Category>,
}

impl SessionEvent {
    /// `verdict`: what detection concluded of the session, if anything.
    pub fn new(clock: &Clock, s: SessionSummary, verdict: Option<Verdict>) -> Self {
        let (start, end) = (clock.unix_ns(s.first_ns), clock.unix_ns(s.last_ns));
        Self {
            ts: rfc3339(end),
            ts_unix_ns: end,
            session_id: session_text(s.id, clock),
            actor: s.actor.into(),
            state: s.state,
            start_ts: rfc3339(start),
            end_ts: rfc3339(end),
            duration_ns: s.last_ns.saturating_sub(s.first_ns),
            transactions: s.transactions,
            endpoints: s.endpoints,
            endpoints_dropped: s.endpoints_dropped,
            status: s.status,
            client_ips: s.client_ips.iter().map(|ip| ip.to_string()).collect(),
            client_ips_dropped: s.client_ips_dropped,
            user_agents: s.user_agents,
            user_agents_dropped: s.user_agents_dropped,
            request_bytes: s.request_bytes,
            response_bytes: s.response_bytes,
            risk: verdict.map_or(0, |v| v.risk()),
            categories: verdict.map(|v| v.categories()).unwrap_or_default(),
        }
    }
}

/// A session id as written: the actor's id and the session's start in Unix ns (hex), so a
/// recording and its raw JSON lines name sessions alike.
pub fn session_text(id: SessionId, clock: &Clock) -> String {
    // Once per transaction: pushed, not formatted (`format!` cost over 1k instructions here).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let start = clock.unix_ns(id.start_ns);
    let mut text = String::with_capacity(16 + 1 + 16);
    id.actor.push_hex(&mut text);
    text.push('-');
    let digits = (64 - start.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        text.push(char::from(HEX[((start >> (shift * 4)) & 0xf) as usize]));
    }
    text
}

/// What an `http` event says of its actor, session and endpoint (null members when unknown).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct HttpInsight {
    pub actor: Option<ActorOut>,
    /// The client's address after trusted proxies (X-Forwarded-For / Forwarded).
    pub client_ip: Option<String>,
    pub auth: Option<AuthScheme>,
    pub session_id: Option<String>,
    /// The learned template the request was counted under (`/users/{userId}`).
    pub path_template: Option<String>,
    /// Sensitive data classes found in the request (body, query) and the response body.
    pub sensitive: Option<SensitiveOut>,
    /// The AI/LLM or MCP call this is, recognised by the shape of its traffic.
    pub ai: Option<AiCall>,
    /// Ids of the alerts this transaction contributed to (`alert` events).
    pub alerts: Vec<AlertId>,
}

/// Sensitive data classes (`email`, `credit_card`, `jwt`, `password`…) found in a transaction.
#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema)]
pub struct SensitiveOut {
    pub request: ClassSet,
    pub response: ClassSet,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::actor::{ActorId, ActorKind};

    #[test]
    fn session_text_is_the_display_form() {
        for (actor, start) in [
            ([0u8; 8], 0u64),
            ([0xff; 8], u64::MAX),
            ([1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef], 0x10),
            ([9, 8, 7, 6, 5, 4, 3, 2], 1_700_000_000_123_456_789),
        ] {
            let id = SessionId {
                actor: ActorId(actor),
                start_ns: start,
            };
            let clock = Clock::with_offset(0);
            assert_eq!(session_text(id, &clock), id.to_string());
            assert_eq!(
                ActorOut::from(Actor {
                    id: ActorId(actor),
                    kind: ActorKind::Ip,
                })
                .id,
                id.actor.to_string()
            );
        }
    }
}
