//! Userspace agent of the API traffic monitor. The data path, one module per stage:
//!
//! kernel (monitor-ebpf) → [`capture`] (ring buffer, decode) → [`conn`] (reorder, reassemble,
//! attribute) → [`protocol`] (which one) → [`http1`] | [`http2`] → [`export`] (JSON lines). [`pipeline`] wires them; [`check`] inspects the host;
//! [`tls`] finds the TLS libraries in processes, for the uprobes that capture plaintext;
//! [`grpc`] reads gRPC calls out of HTTP/2 streams (not yet wired into the pipeline).

pub mod capture;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conn;
pub mod detection;
pub mod discovery;
pub mod enforce;
pub mod export;
pub mod grpc;
pub mod http1;
pub mod http2;
pub mod mount;
pub mod pipeline;
pub mod protocol;
pub mod record;
pub mod session;
#[cfg(test)]
mod test_rng;
pub mod tls;
pub mod transaction;
