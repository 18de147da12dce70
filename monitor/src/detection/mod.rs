//! Detection: abuse and attacks judged per actor and per session, after sessions and
//! discovery. Pure logic on [`Sighting`]s with bounded state and time from the events, so a
//! replay gives the same alerts every time.
//!
//! [`stage::Detection`] runs the detectors: `behaviour` (rates, cadence, enumeration,
//! scraping, forced browsing, scanners, logins, rotation, volume of personal data),
//! `signatures` (injection payloads) and `prompt` (prompt injection and leakage toward AI
//! endpoints); [`alerts`] turns their findings into alerts, [`verdicts`] into session risk;
//! [`state`] keeps what was learned across restarts.

pub mod actors;
pub mod alerts;
pub mod baseline;
pub mod behaviour;
pub mod category;
pub mod finding;
pub mod hit;
pub mod hot;
pub mod learned;
pub mod prompt;
pub mod rules;
pub mod sighting;
pub mod signatures;
pub mod stage;
pub mod state;
pub mod verdicts;
pub mod window;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

pub use sighting::Sighting;
pub use stage::{Detection, DetectionCounters, Screened};
