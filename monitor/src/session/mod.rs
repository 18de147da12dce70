//! Sessions: who sent each transaction (`actor`) and which of their visits it belongs to
//! (`tracker`).

pub mod actor;
pub mod tracker;
