//! The `block` event: one enforcement decision made, refused, ended, or acted on (a connection
//! reset), with the policy's reason.

use schemars::JsonSchema;
use serde::Serialize;

use crate::{
    clock::rfc3339,
    detection::category::{Category, Severity},
    enforce::decisions::{Cause, Decision, Origin, Target},
};

/// Bumped when a field of `block` events changes meaning or disappears.
pub const BLOCK_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlockAction {
    /// In force: packets from the addresses are dropped, the actor's connections reset.
    Block,
    /// `--enforce dry-run`: what `on` would have blocked; nothing was.
    WouldBlock,
    /// Ended by `monitor unblock`.
    Unblock,
    /// Ended by its TTL.
    Expire,
    /// Not blocked: the address is allowlisted, or the cap is reached (see `refused`).
    Refuse,
    /// A blocked actor's credential showed up on a connection, which was reset.
    Reset,
    /// `--enforce dry-run`: that connection would have been reset.
    WouldReset,
}

/// A TCP connection as this host sees it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlockConnection {
    pub client: String,
    pub server: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlockEvent {
    #[schemars(extend("const" = BLOCK_SCHEMA_VERSION))]
    pub schema_version: u32,
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    pub ts_unix_ns: u64,
    pub action: BlockAction,
    /// `on` or `dry-run`.
    pub mode: &'static str,
    pub target: Target,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_unix_ns: Option<u64>,
    /// Live connections reset by this action.
    pub connections_reset: u64,
    /// Why it was not blocked: `host_address`, `loopback`, `allowlist`, `trusted_proxy`,
    /// `cap` (enforcement.max_blocked reached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<&'static str>,
    /// The connection a `reset`/`would_reset` cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<BlockConnection>,
    /// What failed while acting on it (the kernel refused an entry, a reset failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl BlockEvent {
    /// An event about `target` with nothing but the action.
    pub fn bare(action: BlockAction, mode: &'static str, target: Target, now_ns: u64) -> Self {
        Self {
            schema_version: BLOCK_SCHEMA_VERSION,
            ts: rfc3339(now_ns),
            ts_unix_ns: now_ns,
            action,
            mode,
            target,
            decision_id: None,
            origin: None,
            reason: String::new(),
            alert_id: None,
            category: None,
            severity: None,
            expires_at: None,
            expires_unix_ns: None,
            connections_reset: 0,
            refused: None,
            connection: None,
            error: None,
        }
    }

    /// With the reason and alert of `cause` (not who decided: nothing was, for a refusal).
    pub fn because(self, cause: &Cause) -> Self {
        Self {
            reason: cause.reason.clone(),
            alert_id: cause.alert_id.clone(),
            category: cause.category,
            severity: cause.severity,
            ..self
        }
    }

    /// An event about decision `d`.
    pub fn of(action: BlockAction, mode: &'static str, d: &Decision, now_ns: u64) -> Self {
        Self {
            decision_id: Some(d.id),
            origin: Some(d.cause.origin),
            expires_at: Some(rfc3339(d.expires_unix_ns)),
            expires_unix_ns: Some(d.expires_unix_ns),
            ..Self::bare(action, mode, d.target.clone(), now_ns).because(&d.cause)
        }
    }
}
