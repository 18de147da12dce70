//! Discovery of TLS libraries in running processes, for the uprobes that capture plaintext:
//! which library each process uses ([`scan`]), where its functions are ([`elf`]), and what the
//! monitor cannot cover ([`verdict`]).

pub mod cache;
pub mod elf;
pub mod library;
pub mod maps;
pub mod scan;
pub mod verdict;
