//! Discovery of TLS libraries in running processes, for the uprobes that capture plaintext:
//! which libraries exist ([`library`]), where their functions are ([`elf`]), and which files a
//! process maps ([`maps`]).

pub mod elf;
pub mod library;
pub mod maps;
