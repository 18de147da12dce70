//! API discovery: what endpoints exist and what they carry.

pub mod schema;
pub mod sensitive;
