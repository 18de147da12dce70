//! Live discovery (issue 5): a real FastAPI application (installed from PyPI) serves its own
//! routes under uvicorn; a python client drives traffic at it while the monitor runs; the API
//! the monitor discovers must be the framework's own OpenAPI document — same operations, no
//! shadow and no unused endpoint in `monitor openapi --diff`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use serde_json::Value;
use tests::{
    Monitor, Proc, api_traffic::operations, fixture, free_port, monitor_bin, require_root, scratch,
    tls::client::python_exe,
};

/// FastAPI and uvicorn, installed once per test process into a directory of their own (pinned
/// versions; nothing is installed system-wide).
fn fastapi_path() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("fastapi");
        let out = Command::new(python_exe())
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&dir)
            .args(["fastapi==0.115.6", "uvicorn==0.32.1"])
            .output()
            .expect("run pip");
        assert!(
            out.status.success(),
            "cannot install fastapi and uvicorn from PyPI: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn python(script: &str) -> Command {
    let mut cmd = Command::new(python_exe());
    cmd.env("PYTHONPATH", fastapi_path())
        .arg(fixture(&format!("discovery/{script}")));
    cmd
}

fn get(port: u16, path: &str) -> Value {
    let out = Command::new("curl")
        .args(["-sf", &format!("http://127.0.0.1:{port}{path}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "GET {path} failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_api_discovered_from_a_fastapi_server_is_its_own_openapi_document() {
    require_root!();
    let port = free_port();
    let mut app = Proc::spawn(python("fastapi_app.py").arg(port.to_string()));
    assert_eq!(app.line(), "ready");
    // The framework's own route list, fetched before the monitor watches.
    let spec = get(port, "/openapi.json");
    let dir = scratch("discovery-live");
    let spec_file = dir.join("spec.json");
    std::fs::write(&spec_file, spec.to_string()).unwrap();
    let openapi_file = dir.join("openapi.json");
    let monitor = Monitor::start_http(&[
        "--port",
        &port.to_string(),
        "--openapi-file",
        openapi_file.to_str().unwrap(),
    ]);
    let driver = Proc::spawn(python("drive_api.py").args([&port.to_string(), "600"]));
    let summary = driver.wait_success();
    assert!(summary.contains("\"failures\": 0"), "{summary}");
    let cap = monitor.stop();

    // The server's transactions carry their template, actor and session.
    let server: Vec<&Value> = cap
        .http()
        .into_iter()
        .filter(|t| t["process"]["pid"] == app.pid())
        .collect();
    assert!(
        server.len() >= 590,
        "{} server-side transactions of 600",
        server.len()
    );
    assert!(server.iter().all(|t| t["actor"]["kind"] == "bearer"));
    let actors: BTreeSet<&str> = server
        .iter()
        .map(|t| t["actor"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(actors.len(), 7, "seven bearer tokens, seven actors");

    // What `monitor openapi` reads from the running monitor's file.
    let ours = Command::new(monitor_bin())
        .args(["openapi", "--file"])
        .arg(&openapi_file)
        .output()
        .unwrap();
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let ours: Value = serde_json::from_slice(&ours.stdout).unwrap();
    let expected = operations(&spec);
    let found = operations(&ours);
    let right = found.intersection(&expected).count();
    println!(
        "fastapi: {} operations in its document, {} discovered, {right} right: precision {:.3}, recall {:.3}",
        expected.len(),
        found.len(),
        right as f64 / found.len().max(1) as f64,
        right as f64 / expected.len() as f64
    );
    assert_eq!(found, expected);

    let diff = Command::new(monitor_bin())
        .args(["openapi", "--file"])
        .arg(&openapi_file)
        .arg("--diff")
        .arg(&spec_file)
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(diff["shadow"], serde_json::json!([]), "{diff}");
    assert_eq!(diff["unused"], serde_json::json!([]), "{diff}");
    assert_eq!(diff["matched"], expected.len());

    // Schemas were inferred from the bodies: the POST's request and the user's response.
    let post = &ours["paths"]["/v1/orders"]["post"];
    let props = &post["requestBody"]["content"]["application/json"]["schema"]["properties"];
    assert_eq!(props["quantity"]["type"], "integer");
    assert_eq!(props["email"]["format"], "email");
    let user = &ours["paths"]["/v1/users/{userId}"]["get"];
    assert_eq!(
        user["x-sensitive"]["response"]["email"],
        serde_json::json!(["email"])
    );
}
