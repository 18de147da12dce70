//! Export stage: renders stream events and stats as JSON lines.

pub mod alert;
pub mod block;
pub mod event;
pub mod grpc;
pub mod http;
mod http_line;
pub mod insight;
mod json_text;
pub mod prerendered;
pub mod render;
pub mod schema;
pub mod writer;

pub use event::OutputEvent;
pub use render::Renderer;
pub use writer::JsonLinesWriter;
