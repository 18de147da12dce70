//! `monitor status`: the TLS coverage document a running monitor keeps in its `--status-file`,
//! read through the real command, and waiting for it to say something.

use std::{
    path::Path,
    process::{Command, Output},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::output_within;
use crate::monitor_bin;

/// How long the monitor may take to hook a process it has just seen.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// `monitor status --status-file FILE [--json]`, run to completion.
pub fn command(file: &Path, json: bool) -> Output {
    let mut cmd = Command::new(monitor_bin());
    cmd.arg("status").arg("--status-file").arg(file);
    if json {
        cmd.arg("--json");
    }
    output_within(&mut cmd, Duration::from_secs(10))
}

/// The status document, or why there is none.
pub fn query(file: &Path) -> Result<Value, String> {
    let out = command(file, true);
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "monitor status exited with {}: {}{text}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_str(&text)
        .map_err(|e| format!("monitor status printed bad JSON ({e}): {text}"))
}

/// Polls the status until `pred` holds; the error names `what` and shows the last document.
pub fn wait(
    file: &Path,
    what: &str,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = query(file);
        if let Ok(doc) = &last
            && pred(doc)
        {
            return Ok(doc.clone());
        }
        if Instant::now() > deadline {
            let shown = match last {
                Ok(doc) => format!("{doc:#}"),
                Err(e) => e,
            };
            return Err(format!(
                "after {timeout:?} the status does not show {what}; last status:\n{shown}"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The library entries of process `pid` (empty when it is not listed).
pub fn libraries(doc: &Value, pid: u32) -> Vec<Value> {
    doc["tls"]["processes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["pid"] == pid)
        .flat_map(|p| p["libraries"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Whether `pid` has a library of kind `library` in state `hooked`.
pub fn is_hooked(doc: &Value, pid: u32, library: &str) -> bool {
    libraries(doc, pid)
        .iter()
        .any(|l| l["state"] == "hooked" && l["library"] == library)
}

/// Waits until `pid` is hooked for `library`.
pub fn wait_hooked(file: &Path, pid: u32, library: &str) -> Result<Value, String> {
    wait(
        file,
        &format!("pid {pid} hooked for {library}"),
        HOOK_TIMEOUT,
        |doc| is_hooked(doc, pid, library),
    )
}

/// The `uncovered_traffic` entry of `pid`.
pub fn uncovered_traffic(doc: &Value, pid: u32) -> Option<Value> {
    doc["tls"]["uncovered_traffic"]
        .as_array()?
        .iter()
        .find(|u| u["pid"] == pid)
        .cloned()
}
