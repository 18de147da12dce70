//! Detectors of behaviour over time, one per module: each keeps a small state per actor (or
//! per client address) and says, for each transaction, whether the actor's recent behaviour
//! crossed its threshold.

pub mod browsing;
pub mod cadence;
pub mod credentials;
pub mod enumeration;
pub mod exposure;
pub mod login;
pub mod params;
pub mod rate;
pub mod rotation;
pub mod scanner;
pub mod scraping;
pub mod takeover;

use super::{learned::Learned, sighting::Sighting};
use crate::session::actor::ActorKind;

pub const SECOND: u64 = 1_000_000_000;

/// What every detector gets besides its own state.
pub struct Ctx<'a, 's> {
    pub s: &'a Sighting<'s>,
    /// The transaction's time, monotonic ns.
    pub now: u64,
    pub kind: ActorKind,
    /// The actor's id bytes (baselines count distinct contributors with it).
    pub actor: [u8; 8],
    /// The endpoint (service, method, template), hashed; 0 when unknown.
    pub endpoint: u64,
    /// `METHOD template` when known.
    pub label: Option<&'a str>,
    /// Path parameter values by position in the template, and the query's (name, value)
    /// pairs (raw, as sent), computed once for every detector.
    pub params: &'a params::Params<'s>,
    /// Whether this actor's samples may teach baselines: not while it has open alerts.
    pub learning: bool,
    /// Hash of the user agent ([`hash_of`](super::window::hash_of)), 0 without one: several
    /// detectors compare agents.
    pub agent: u64,
    /// Query parameters that page through lists, and those enumeration leaves alone.
    pub pagination: &'a params::NameSet,
    pub not_enumerated: &'a params::NameSet,
    /// Categories (bits of `Category::index`) whose evidence is not wanted now: the actor's
    /// alert was just reported.
    pub quiet: u32,
    pub learned: &'a mut Learned,
}

/// Seconds to ns, saturating.
pub fn secs(s: u64) -> u64 {
    s.saturating_mul(SECOND)
}
