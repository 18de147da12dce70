//! HTTP/2 (RFC 9113) from captured byte streams: `preface` recognises a connection's start,
//! `frame` parses one frame, `reader` cuts one direction's bytes into frames (resynchronising
//! after a gap with `resync`), `hpack` decodes header blocks, tolerant of a mid-stream join,
//! `stream` puts one stream's frames together into a request and its response, `grpc_tap`
//! counts and summarises the gRPC call a stream is, `connection` demultiplexes a connection's
//! frames into streams, `stage` runs every HTTP/2 connection.

pub mod connection;
pub mod frame;
pub mod grpc_tap;
pub mod hpack;
pub mod preface;
pub mod reader;
pub mod resync;
pub mod stage;
pub mod stream;

pub use frame::{Frame, FrameError, FrameHeader};
pub use reader::{FrameReader, ReadEvent, Start};

#[cfg(test)]
mod tests;
