//! Fuzzes the gRPC message framing, the schema-less protobuf decoder and the call summary with
//! one body; the input format and the invariants checked are in `src/grpc.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    monitor_fuzz::grpc::run(input);
});
