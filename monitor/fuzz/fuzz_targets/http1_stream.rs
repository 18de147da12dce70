//! Fuzzes the HTTP/1 stage with one connection's stream events, built from the input as a script.
//!
//! Input format (`src/script.rs` decodes it, `src/seeds.rs` writes the seed corpus with it):
//!
//! - byte 0, the connection: bits 0-1 role (0 client, 1 server, 2-3 unknown), bits 2-3
//!   attribution (0 kernel, 1 proc, 2-3 unresolved; only kernel with a known role starts at a
//!   message boundary, the rest start by resynchronising), bit 4 addresses known.
//! - then records until the input ends. One op byte: bits 3-7 wait W (time advances by 1 ns +
//!   W × 50 ms before the op), bits 0-2 kind:
//!   - 0, 6 data egress / 1, 7 data ingress: a length L, then L payload bytes (fewer if the
//!     input ends first). Offsets follow each direction's stream.
//!   - 2 gap egress / 3 gap ingress: a length L (no payload), a lost range of L bytes.
//!   - 4 tick: `HttpStage::tick` at the current time (response timeouts are 1 s).
//!   - 5 close: a Close event (reason `shutdown` when W is odd, else `closed`); the script ends.
//!   - A length is one byte below 0x80, or two bytes `1hhhhhhh llllllll` (up to 32767).
//! - An input that ends without a close ends with `HttpStage::shutdown`.
//!
//! The stage runs with small limits (`drive::config`); `drive::run` panics when the body budget
//! is exceeded, body bytes stay held after the connection ended, a captured body is over its
//! limit, or a message or transaction ends before it starts.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    monitor_fuzz::drive::run(input);
});
