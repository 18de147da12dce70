//! HTTP transactions: the typed value the protocol parsers produce and later stages consume,
//! their flags, and how their bodies and secrets are shown.

pub mod body;
pub mod flags;
pub mod model;
pub mod redact;

pub use flags::{Flag, Flags};
pub use model::{
    Body, EndReason, Headers, HttpRequest, HttpResponse, HttpTransaction, Outcome, span,
};
