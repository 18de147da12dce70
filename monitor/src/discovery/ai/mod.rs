//! Recognises calls to AI models and to agent tool servers (MCP) by the shape of their traffic.
//! So far: the readers of the bodies such traffic has, which may be cut anywhere.

mod json;
mod ndjson;
mod sse;
mod stream;
