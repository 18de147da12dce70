//! Connections stage: turns decoded kernel events into per-connection, per-direction ordered
//! byte streams (reordering late records within a bounded window), attributes each connection to
//! its process and addresses, and bounds memory (connection cap, idle timeout, eviction).

pub mod model;
pub mod proc;
pub mod reorder;
pub mod table;

pub use model::{CloseReason, ConnMeta, Direction, GapCause, Role, StreamEvent};
pub use table::{ConnectionTable, StreamCounters};
