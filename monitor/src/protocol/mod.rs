//! Which protocol a connection speaks: `detect` tells HTTP/2 by its first bytes (the client
//! preface) or, on a connection joined mid-way, by a run of well-formed frames; `stage` routes
//! each connection's stream events to the HTTP/1 or the HTTP/2 stage (and follows h2c upgrades).

pub mod detect;
pub mod stage;

pub use stage::ProtocolStage;
