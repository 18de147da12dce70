//! Capturing TLS plaintext with uprobes on the libraries and runtimes that encrypt it.

pub mod go;
