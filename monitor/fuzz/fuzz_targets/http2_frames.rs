//! Fuzzes the HTTP/2 frame reader and the HPACK decoder with one direction's bytes; the input
//! format and the invariants checked are in `src/http2.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    monitor_fuzz::http2::run(input);
});
