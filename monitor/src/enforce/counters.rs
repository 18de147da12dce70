//! `stats.enforcement`: what mitigation decided and did.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct EnforcementCounters {
    /// `on` or `dry-run`.
    pub mode: &'static str,
    /// Decisions in force now (by address and by actor).
    pub blocked_ips: u64,
    pub blocked_actors: u64,
    /// Decisions made (alerts and operators), and those refused: allowlisted or over the cap.
    pub decisions: u64,
    pub extended: u64,
    pub refused_allowlisted: u64,
    pub refused_cap: u64,
    pub unblocked: u64,
    pub expired: u64,
    /// Packets the kernel dropped from blocked sources (IPv4, IPv6).
    pub packets_dropped_v4: u64,
    pub packets_dropped_v6: u64,
    /// Packets the ingress program passed unread (not IP, or too short).
    pub packets_unparsed: u64,
    /// Live connections reset (when a decision was made, and later when a blocked actor's
    /// credential showed up on one).
    pub connections_reset: u64,
    /// Connections of a blocked actor left alone because their peer is allowlisted.
    pub resets_skipped_allowlisted: u64,
    pub reset_errors: u64,
    /// Blocklist entries the kernel refused.
    pub kernel_errors: u64,
    /// dry-run: decisions and resets that `on` would have made.
    pub would_block: u64,
    pub would_reset: u64,
    /// `monitor block|unblock|blocks` requests served.
    pub control_requests: u64,
    pub state_errors: u64,
    /// Actors whose connections are followed (for resets), and those forgotten for room.
    pub actors_followed: u64,
    pub actors_evicted: u64,
}
