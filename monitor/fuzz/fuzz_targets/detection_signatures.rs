//! Fuzzes the injection signatures with one request built from the input: its parts split at
//! 0xFF bytes (method, path, query, four headers, body), every decoder run on them, then
//! `SignatureScanner::scan`. The format is documented in `src/signatures/mod.rs`; a broken
//! promise of the scanner (too many hits or values, a shown value too long, a detector's
//! caught panic) panics there.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    monitor_fuzz::signatures::run(input);
});
