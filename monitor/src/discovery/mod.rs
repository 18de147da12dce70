//! API discovery: what endpoints exist and what they carry.

pub mod sensitive;
