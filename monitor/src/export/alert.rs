//! The `alert` event: what detection reports of one actor's abuse in one category, with times in
//! wall-clock form and ids as text.

use schemars::JsonSchema;
use serde::Serialize;

use super::insight::{ActorOut, session_text};
use crate::{
    clock::{Clock, rfc3339},
    detection::{
        alerts::{AlertReport, AlertState},
        category::{Category, Severity},
        finding::Evidence,
    },
    discovery::inventory::ServiceKey,
};

/// Bumped when a field of `alert` events changes meaning or disappears.
pub const ALERT_SCHEMA_VERSION: u32 = 1;

/// An endpoint an alert's transactions went to.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AlertEndpoint {
    pub method: String,
    /// The learned template (`/users/{userId}`), or the path when discovery had none.
    pub template: String,
}

/// What the monitor did about it.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Reported only.
    Observed,
    /// `--enforce on`: its addresses and/or actor are blocked (see the `block` events).
    Blocked,
    /// `--enforce dry-run`: `on` would have blocked them.
    WouldBlock,
}

/// One actor's abuse in one category: raised (`new`), grown (`ongoing`) or over (`ended`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AlertEvent {
    #[schemars(extend("const" = ALERT_SCHEMA_VERSION))]
    pub schema_version: u32,
    /// RFC 3339, UTC, nanoseconds: the alert's latest activity.
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    pub ts_unix_ns: u64,
    /// 16 hex digits; the same in every report of this alert, and in the `alerts` of the `http`
    /// events that contributed to it.
    pub alert_id: String,
    pub state: AlertState,
    pub category: Category,
    pub severity: Severity,
    /// 0..1: how sure the detectors are.
    pub confidence: f64,
    pub actor: ActorOut,
    /// The session of the latest contributing transaction.
    pub session_id: String,
    /// Client addresses of the contributing transactions (at most 16).
    pub client_ips: Vec<String>,
    /// User agents of the contributing transactions (cut to 256 bytes, at most 8).
    pub user_agents: Vec<String>,
    /// The service of the first contributing transaction.
    pub service: Option<ServiceKey>,
    /// Endpoints of the contributing transactions (at most 16).
    pub endpoints: Vec<AlertEndpoint>,
    #[schemars(extend("format" = "date-time"))]
    pub first_ts: String,
    pub first_ts_unix_ns: u64,
    #[schemars(extend("format" = "date-time"))]
    pub last_ts: String,
    pub last_ts_unix_ns: u64,
    /// Transactions that contributed so far.
    pub transactions: u64,
    pub evidence: Evidence,
    pub action: AlertAction,
}

impl AlertEvent {
    pub fn new(clock: &Clock, r: AlertReport) -> Self {
        let (first, last) = (clock.unix_ns(r.first_ns), clock.unix_ns(r.last_ns));
        Self {
            schema_version: ALERT_SCHEMA_VERSION,
            ts: rfc3339(last),
            ts_unix_ns: last,
            alert_id: r.id.to_string(),
            state: r.state,
            category: r.category,
            severity: r.severity,
            confidence: (r.confidence * 1000.0).round() / 1000.0,
            actor: r.actor.into(),
            session_id: session_text(r.session, clock),
            client_ips: r.client_ips.iter().map(|ip| ip.to_string()).collect(),
            user_agents: r.user_agents,
            service: r.service,
            endpoints: r
                .endpoints
                .into_iter()
                .map(|(method, template)| AlertEndpoint { method, template })
                .collect(),
            first_ts: rfc3339(first),
            first_ts_unix_ns: first,
            last_ts: rfc3339(last),
            last_ts_unix_ns: last,
            transactions: r.transactions,
            evidence: r.evidence,
            action: AlertAction::Observed,
        }
    }
}
