//! Detection: abuse and attacks judged per actor and per session, after sessions and
//! discovery. Pure logic on [`Sighting`]s with bounded state and time from the events, so a
//! replay gives the same alerts every time.

pub mod category;
pub mod hit;
pub mod prompt;
pub mod signatures;
