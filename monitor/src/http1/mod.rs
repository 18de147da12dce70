//! HTTP/1.x: connection byte streams in, transactions out. `start_line` tells a request-line by
//! its shape, `head` parses a start line and fields, `chunked` decodes the chunked coding (its
//! size lines checked by `chunk_line`),
//! `reader` frames one direction's messages (and knows from `persistence` when the last has
//! come), `exchange` pairs responses with requests on one connection, `stage` runs every
//! connection.

pub mod chunk_line;
pub mod chunked;
pub mod exchange;
pub mod head;
pub mod persistence;
pub mod reader;
pub mod stage;
pub mod start_line;

pub use stage::{HttpCounters, HttpStage};
#[cfg(test)]
pub(crate) mod tests;
