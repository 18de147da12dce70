//! Finding (and if needed mounting) tracefs, where tracepoint ids live.

use std::path::{Path, PathBuf};

const CANDIDATES: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// The tracefs directory holding `events/`, if one is mounted.
pub fn find() -> Option<PathBuf> {
    CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("events").is_dir())
}

/// Finds tracefs, mounting it at /sys/kernel/tracing when it is not mounted yet (as perf and
/// bpftool do). Returns the error of the mount attempt if that fails.
pub fn ensure() -> std::io::Result<PathBuf> {
    if let Some(p) = find() {
        return Ok(p);
    }
    let target = Path::new(CANDIDATES[0]);
    crate::mount::mount(c"nodev", c"tracefs", target)?;
    Ok(target.to_path_buf())
}
