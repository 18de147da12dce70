//! gRPC calls read from one HTTP/2 stream, as pure logic (`http2::grpc_tap` feeds and calls it):
//! `path` recognises a call and names its service and method, `framing` cuts bodies into
//! length-prefixed messages, `compression` undoes gzip/deflate, `protobuf` decodes messages
//! without their schema, `status` reads `grpc-status`/`grpc-message`, `tally` counts one
//! direction DATA frame by DATA frame, `body` reads one direction, and `call` puts a stream
//! together into a [`GrpcCall`].

pub mod body;
pub mod call;
pub mod compression;
pub mod flags;
pub mod framing;
pub mod path;
pub mod protobuf;
pub mod status;
pub mod tally;

pub use body::BodyLimits;
pub use call::{Fields, GrpcCall, GrpcStream, Streaming, recognise, summarise};
pub use flags::{GrpcFlag, GrpcFlags};
pub use path::ContentType;
pub use tally::Tally;
