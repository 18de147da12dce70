//! Fuzzing support for the monitor's parsers: the input format of the `http1_stream` target
//! (`script`), the harness that plays an input against the HTTP/1 stage and checks its
//! invariants (`drive`), and the seed corpus (`seeds`); the `detection_signatures` target's
//! format, harness and seeds (`signatures`); the `http2_frames` target's harness (`http2`);
//! the `grpc_messages` target's harness (`grpc`).

pub mod drive;
pub mod grpc;
pub mod http2;
pub mod script;
pub mod seeds;
pub mod signatures;
