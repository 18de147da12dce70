//! API discovery: what endpoints exist and what they carry.

pub mod inventory;
pub mod latency;
pub mod template;
