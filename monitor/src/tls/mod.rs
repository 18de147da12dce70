//! Capturing TLS plaintext with uprobes: which library each process uses ([`scan`]), where
//! its functions are ([`elf`], [`go`] for Go's crypto/tls), and what the monitor cannot cover
//! ([`verdict`]).

pub mod cache;
pub mod coverage;
pub mod elf;
pub mod go;
pub mod library;
pub mod maps;
pub mod scan;
pub mod status;
#[cfg(test)]
mod test_child;
pub mod verdict;
