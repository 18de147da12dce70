//! API discovery: what endpoints exist and what they carry.

pub mod ai;
pub mod grpc;
pub mod inventory;
pub mod latency;
pub mod openapi;
pub mod schema;
pub mod sensitive;
pub mod template;
