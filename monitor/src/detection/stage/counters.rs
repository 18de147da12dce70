//! The counters detection writes in `stats.detection`.

use schemars::JsonSchema;
use serde::Serialize;

/// What detection did, in `stats.detection`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct DetectionCounters {
    /// Transactions judged.
    pub transactions: u64,
    /// Transactions skipped because the other end of the same connection is observed too
    /// (a local client of a local server): each exchange is judged once, on the server side.
    pub other_end_skipped: u64,
    /// Alerts raised, by category.
    pub alerts_raised: std::collections::BTreeMap<&'static str, u64>,
    pub alerts_open: u64,
    pub alerts_ended: u64,
    /// Alerts ended early because too many were open.
    pub alerts_evicted: u64,
    /// Findings that raised no alert: their category is disabled or below `min_severity`.
    pub findings_suppressed: u64,
    pub actors_tracked: u64,
    /// Actors forgotten because `limits.max_actors` were followed (their state starts over).
    pub actors_evicted: u64,
    pub addresses_evicted: u64,
    pub fingerprints_evicted: u64,
    /// Parameters of an actor no longer followed for enumeration (more than 8 at once).
    pub parameters_evicted: u64,
    pub baselines: u64,
    pub baselines_evicted: u64,
    pub verdicts_evicted: u64,
    pub known_actors: u64,
    /// Values inspected by the injection signatures, skipped over their caps, and internal
    /// errors of a signature (caught, the value is skipped).
    pub signature_values: u64,
    pub signature_values_skipped: u64,
    pub signature_errors: u64,
    /// Texts of AI/MCP exchanges inspected by the prompt rules, text bytes left over the cap,
    /// and bodies that could not be read as their API's shape (scanned as plain text).
    pub prompt_texts: u64,
    pub prompt_bytes_skipped: u64,
    pub prompt_unparsed_bodies: u64,
    pub state_saves: u64,
    pub state_errors: u64,
}
