//! Every input the fuzzer ever crashed on (saved under `regressions/http1_stream`) plays through
//! the harness without breaking an invariant, so a fixed crash stays fixed.

use std::fs;
use std::path::PathBuf;

#[test]
fn saved_crashes_stay_fixed() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("regressions/http1_stream");
    let mut played = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let input = fs::read(&path).unwrap();
        eprintln!("replaying {}", path.display());
        monitor_fuzz::drive::run(&input);
        played += 1;
    }
    assert!(played > 0, "no saved inputs in {}", dir.display());
}
