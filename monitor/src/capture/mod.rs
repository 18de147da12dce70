//! Capture stage: loads the kernel programs, reads their ring buffer and counters, and decodes
//! records into typed events.

pub mod attach_points;
pub mod counters;
pub mod decode;
pub mod encode;
pub mod loader;
pub mod ringbuf;
pub mod tracefs;
pub mod uprobes;

pub use decode::{CloseRecord, DataEvent, DecodeError, Endpoints, RawEvent};
