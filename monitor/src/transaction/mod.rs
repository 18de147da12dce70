//! Transactions: an HTTP request with its response, and how their contents are shown.

pub mod body;
pub mod redact;
