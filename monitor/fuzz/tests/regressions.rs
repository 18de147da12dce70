//! Every input the fuzzer ever crashed on (saved under `regressions/<target>`) plays through
//! its harness without breaking an invariant, so a fixed crash stays fixed.

use std::fs;
use std::path::PathBuf;

/// The saved inputs of `target` (none when it never crashed).
fn saved(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(target);
    fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn saved_crashes_stay_fixed() {
    let paths = saved("http1_stream");
    assert!(!paths.is_empty(), "no saved inputs for http1_stream");
    for path in paths {
        eprintln!("replaying {}", path.display());
        monitor_fuzz::drive::run(&fs::read(&path).unwrap());
    }
}

#[test]
fn saved_signature_inputs_stay_fixed() {
    // None yet: the target has not crashed. The test replays any that is saved later.
    for path in saved("detection_signatures") {
        eprintln!("replaying {}", path.display());
        monitor_fuzz::signatures::run(&fs::read(&path).unwrap());
    }
}

#[test]
fn saved_grpc_inputs_stay_fixed() {
    // None yet: the target has not crashed. The test replays any that is saved later.
    for path in saved("grpc_messages") {
        eprintln!("replaying {}", path.display());
        monitor_fuzz::grpc::run(&fs::read(&path).unwrap());
    }
}
