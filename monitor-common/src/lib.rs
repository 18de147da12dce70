//! Types shared by the kernel programs (`monitor-ebpf`) and the userspace agent (`monitor`).
//!
//! Every struct here is `#[repr(C)]` with explicit integer fields and explicit padding, so the
//! kernel writes exactly the bytes userspace decodes. Userspace never transmutes these: it
//! decodes them field by field (see `monitor::capture::decode`).
#![no_std]

pub mod config;
pub mod counters;
pub mod enforce;
pub mod event;
pub mod state;

pub use config::Config;
pub use counters::Counter;
pub use event::{CloseEvent, DataHeader, Tuple};
