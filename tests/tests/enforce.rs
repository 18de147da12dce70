//! Enforcement decisions on replayed traffic (issue 15), no root: `--enforce dry-run` says
//! what `on` would block for a labelled attacker among benign users, refuses allowlisted
//! addresses, expires decisions by their TTL in the traffic's own time, and blocks nothing on
//! benign traffic alone.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use serde_json::Value;
use tests::{
    Capture,
    abuse_traffic::{ATTACK_START, Req, SECOND, Traffic, req},
    replay::{assert_success, replay},
    scratch,
};

const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const ATTACKER: &str = "203.0.113.70";

fn injector() -> Vec<Req> {
    [
        "1%27%20OR%20%271%27%3D%271%27%20--%20",
        "1%20UNION%20SELECT%20username%2Cpassword%20FROM%20users--",
    ]
    .iter()
    .enumerate()
    .map(|(i, q)| {
        req(
            ATTACK_START + i as u64 * 2 * SECOND,
            ATTACKER,
            "GET",
            &format!("/api/search?q={q}"),
            CHROME,
        )
        .bearer("tok-injector")
    })
    .collect()
}

fn run(traffic: &mut Traffic, rules: &str, extra: &[&str]) -> Capture {
    let dir = scratch("enforce");
    let file = dir.join("traffic.jsonl");
    std::fs::write(&file, traffic.raw_lines()).unwrap();
    let rules_file = dir.join("rules.toml");
    std::fs::write(&rules_file, rules).unwrap();
    let mut args = vec![
        file.to_str().unwrap().to_owned(),
        "--rules".into(),
        rules_file.to_str().unwrap().to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let out = replay(&args);
    assert_success(&out, "monitor replay");
    Capture::parse(&String::from_utf8(out.stdout).unwrap())
}

fn blocks(cap: &Capture) -> Vec<&Value> {
    cap.of_type("block").collect()
}

#[test]
fn dry_run_says_it_would_block_the_attackers_address_and_actor_only() {
    let mut t = Traffic::benign(40, 40, 30);
    t.attack(injector());
    let cap = run(&mut t, "", &["--enforce", "dry-run"]);
    let blocks = blocks(&cap);
    let would: Vec<&&Value> = blocks
        .iter()
        .filter(|b| b["action"] == "would_block")
        .collect();
    assert_eq!(would.len(), 2, "one address and one actor: {blocks:#?}");
    let ip = would
        .iter()
        .find(|b| b["target"]["ip"].is_string())
        .unwrap();
    assert_eq!(ip["target"]["ip"], format!("{ATTACKER}/32"));
    assert_eq!(ip["mode"], "dry-run");
    assert_eq!(ip["category"], "sqli");
    assert_eq!(ip["origin"], "alert");
    assert_eq!(ip["connections_reset"], 0);
    let alert = cap
        .of_type("alert")
        .find(|a| a["alert_id"] == ip["alert_id"])
        .expect("the decision names its alert");
    assert_eq!(alert["action"], "would_block");
    assert_eq!(alert["client_ips"][0], ATTACKER);
    let actor = would
        .iter()
        .find(|b| b["target"]["actor"].is_string())
        .unwrap();
    assert_eq!(actor["target"]["actor"], alert["actor"]["id"]);
    // Decisions last 600 s by default: ten minutes of traffic end before the first expires.
    let expires = ip["expires_unix_ns"].as_u64().unwrap();
    assert_eq!(expires - ip["ts_unix_ns"].as_u64().unwrap(), 600 * SECOND);
    // Every other alert of the benign crowd (if any) stays observed.
    for a in cap.of_type("alert") {
        if a["client_ips"][0] != ATTACKER {
            assert_eq!(a["action"], "observed", "{a}");
        }
    }
    let last = cap.of_type("stats").last().unwrap();
    assert_eq!(last["enforcement"]["would_block"], 2, "{last}");
    assert_eq!(last["enforcement"]["mode"], "dry-run");
}

#[test]
fn benign_traffic_alone_blocks_nothing() {
    for seed in [40, 41] {
        let mut t = Traffic::benign(seed, 40, 30);
        let cap = run(&mut t, "", &["--enforce", "dry-run"]);
        assert!(blocks(&cap).is_empty(), "seed {seed}: {:#?}", blocks(&cap));
        assert!(cap.of_type("http").next().is_some());
    }
}

#[test]
fn an_allowlisted_address_is_refused_not_blocked() {
    let mut t = Traffic::benign(40, 40, 30);
    t.attack(injector());
    let cap = run(
        &mut t,
        "[enforcement]\nallow = [\"203.0.113.0/24\"]\n",
        &["--enforce", "dry-run"],
    );
    let blocks = blocks(&cap);
    assert!(
        blocks.iter().all(|b| b["action"] == "refuse"),
        "{blocks:#?}"
    );
    assert!(
        blocks
            .iter()
            .any(|b| b["target"]["ip"] == format!("{ATTACKER}/32") && b["refused"] == "allowlist"),
        "{blocks:#?}"
    );
    assert!(
        blocks.iter().any(|b| b["target"]["actor"].is_string()),
        "an actor seen only from allowlisted addresses is refused too: {blocks:#?}"
    );
    let alert = cap
        .of_type("alert")
        .find(|a| a["category"] == "sqli")
        .unwrap();
    assert_eq!(alert["action"], "observed");
}

#[test]
fn decisions_expire_after_their_ttl_in_the_traffics_time() {
    let mut t = Traffic::benign(40, 40, 30);
    t.attack(injector());
    let cap = run(
        &mut t,
        "[enforcement]\nttl_secs = 30\nkeys = [\"ip\"]\n",
        &["--enforce", "dry-run"],
    );
    let blocks = blocks(&cap);
    let made = blocks
        .iter()
        .find(|b| b["action"] == "would_block")
        .unwrap();
    let ended = blocks
        .iter()
        .find(|b| b["action"] == "expire")
        .expect("expired");
    assert_eq!(made["decision_id"], ended["decision_id"]);
    let late = ended["ts_unix_ns"].as_u64().unwrap() - made["expires_unix_ns"].as_u64().unwrap();
    // A replay has no clock of its own: expiry happens at the first transaction or tick past
    // the TTL (live, a tick comes every 100 ms).
    assert!(late <= 5 * SECOND, "expired {late} ns after its TTL");
    assert_eq!(
        blocks.len(),
        2,
        "keys = [\"ip\"]: no actor decision: {blocks:#?}"
    );
}

#[test]
fn policies_that_block_nothing_sensible_are_refused_and_on_is_refused_in_replay() {
    let dir = scratch("enforce-cli");
    let file = dir.join("empty.jsonl");
    std::fs::write(&file, "").unwrap();
    let out = replay(&[file.to_str().unwrap(), "--enforce", "on"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dry-run"));
    for (rules, needle) in [
        ("[enforcement]\nttl_secs = 0\n", "ttl_secs"),
        ("[enforcement]\nkeys = []\n", "keys"),
        ("[enforcement]\nmax_blocked = 100000000\n", "max_blocked"),
        ("[enforcement]\ncategories = [\"nonsense\"]\n", "nonsense"),
    ] {
        let r = dir.join("r.toml");
        std::fs::write(&r, rules).unwrap();
        let out = replay(&[file.to_str().unwrap(), "--rules", r.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{rules}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(needle) && err.contains("r.toml"),
            "{rules}: {err}"
        );
    }
}
