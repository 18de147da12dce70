//! gRPC calls read from one HTTP/2 stream, as pure logic (not yet wired into the pipeline).

pub mod framing;
pub mod path;
pub mod protobuf;
pub mod status;
