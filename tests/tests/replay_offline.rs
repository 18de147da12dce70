//! Replay without root: a recording made on a real host (tests/fixtures/recordings, see its
//! README) replays to exactly the committed output, every time; damaged or foreign inputs are
//! one sentence on stderr and exit code 2, and never output that looks complete.
//!
//! The golden output includes the final `stats` line: in a replay it is as deterministic as the
//! transactions (its time is the recording's End record, its kernel counters are empty), and
//! it checks the record and connection counters too.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::{
    ops::Range,
    path::{Path, PathBuf},
    process::Output,
};

use serde_json::Value;
use tests::{
    Capture, fixture,
    replay::{assert_success, http_lines, replay},
    scratch,
};

fn recording() -> PathBuf {
    fixture("recordings/keepalive.rec")
}

fn key() -> PathBuf {
    fixture("recordings/keepalive.key")
}

fn expected() -> String {
    std::fs::read_to_string(fixture("recordings/keepalive.expected.jsonl")).unwrap()
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Replays `file` with the fixture's key into `output`; returns the process result and what
/// was written (`None` when the output file was not created).
fn replay_into(file: &Path, output: &Path, extra: &[&str]) -> (Output, Option<String>) {
    let key = key();
    let mut args = vec![arg(file), "--redaction-key-file", arg(&key)];
    args.extend(["--output", arg(output)]);
    args.extend(extra);
    let out = replay(&args);
    let written = output
        .exists()
        .then(|| std::fs::read_to_string(output).unwrap());
    (out, written)
}

/// Asserts exit code 2 and a single `monitor: ` sentence on stderr; returns it.
fn refused(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{what}: stderr {err}");
    assert_eq!(
        err.lines().count(),
        1,
        "{what}: expected one line on stderr, got:\n{err}"
    );
    assert!(err.starts_with("monitor: "), "{what}: {err}");
    err
}

/// Asserts that what a failed replay wrote is the start of the full replay's output, cut
/// before its final stats line: correct as far as it goes, and not looking complete.
fn assert_partial(written: Option<&str>, what: &str) {
    let written = written.unwrap_or_default();
    let full = expected();
    let full_lines: Vec<&str> = full.lines().collect();
    let lines: Vec<&str> = written.lines().collect();
    assert!(
        lines.len() < full_lines.len() && full_lines.starts_with(&lines),
        "{what}: the output is not a prefix of the full replay's transactions:\n{written}"
    );
    assert!(
        written.is_empty() || written.ends_with('\n'),
        "{what}: a half-written line"
    );
    assert!(
        !written.contains(r#""type":"stats""#),
        "{what}: a stats line, as if the replay had completed"
    );
}

/// Byte ranges of the records after the file header (layout: docs/record-format.md).
fn records(file: &[u8]) -> Vec<Range<usize>> {
    let le32 = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    let mut at = 14 + le32(10) + 4;
    let mut out = Vec::new();
    while at < file.len() {
        let end = at + 5 + le32(at + 1) + 4;
        out.push(at..end);
        at = end;
    }
    assert_eq!(
        at,
        file.len(),
        "the fixture's records do not end at its end"
    );
    out
}

/// The kernel record (kind 1) in the middle of the recording, and the whole file.
fn middle_kernel_record() -> (Range<usize>, Vec<u8>) {
    let file = std::fs::read(recording()).unwrap();
    let kernel: Vec<Range<usize>> = records(&file)
        .into_iter()
        .filter(|r| file[r.start] == 1)
        .collect();
    assert!(kernel.len() >= 10, "the fixture has few kernel records");
    (kernel[kernel.len() / 2].clone(), file)
}

#[test]
fn the_committed_recording_replays_to_the_committed_output_twice() {
    let expected = expected();
    let cap = Capture::parse(&expected);
    // What the fixture holds: curl and the python server each see three transactions.
    let http = cap.http();
    assert_eq!(http.len(), 6, "{}", cap.http_dump());
    let targets: Vec<(&str, &str)> = http
        .iter()
        .map(|t| {
            (
                t["request"]["method"].as_str().unwrap(),
                t["request"]["target"].as_str().unwrap(),
            )
        })
        .collect();
    for pair in [("GET", "/?size=10"), ("GET", "/?size=100"), ("POST", "/")] {
        assert_eq!(
            targets.iter().filter(|t| **t == pair).count(),
            2,
            "{pair:?}"
        );
    }
    let last = cap.events.last().unwrap();
    assert_eq!(
        (&last["type"], &last["last"]),
        (&"stats".into(), &true.into())
    );
    assert!(!expected.contains("fixture-token-7Qk") && !expected.contains("fixture-pw-9Zr"));

    let dir = scratch("replay-golden");
    let (out, written) = replay_into(&recording(), &dir.join("first.jsonl"), &[]);
    assert_success(&out, "monitor replay");
    // Every record read, every transaction written, none undecodable, the End record seen.
    let n = records(&std::fs::read(recording()).unwrap()).len();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!("[INFO ] replayed {n} records, {} transactions", http.len())
    );
    assert!(
        written.as_deref() == Some(expected.as_str()),
        "the replay differs from tests/fixtures/recordings/keepalive.expected.jsonl:\n{}",
        written.unwrap_or_default()
    );
    // Again, to standard output this time: the same bytes.
    let again = replay(&[arg(&recording()), "--redaction-key-file", arg(&key())]);
    assert_success(&again, "monitor replay (second run)");
    assert!(
        again.stdout == expected.as_bytes(),
        "the second replay differs"
    );
}

#[test]
fn the_raw_lines_of_the_recording_replay_to_the_same_transactions() {
    let dir = scratch("replay-golden-raw");
    let raw = dir.join("raw.jsonl");
    let (out, _) = replay_into(&recording(), &raw, &["--raw"]);
    assert_success(&out, "monitor replay --raw");
    let (out, written) = replay_into(&raw, &dir.join("http.jsonl"), &[]);
    assert_success(&out, "monitor replay of raw JSON lines");
    let expected = expected();
    assert_eq!(http_lines(&written.unwrap()), http_lines(&expected));
}

#[test]
fn a_recording_cut_inside_a_record_is_refused_naming_the_offset() {
    let (record, file) = middle_kernel_record();
    let cut = record.start + record.len() / 2;
    let dir = scratch("replay-truncated");
    let damaged = dir.join("truncated.rec");
    std::fs::write(&damaged, &file[..cut]).unwrap();
    let (out, written) = replay_into(&damaged, &dir.join("out.jsonl"), &[]);
    let err = refused(&out, "truncated recording");
    assert!(err.contains(arg(&damaged)), "{err}");
    assert!(
        err.contains(&format!(
            "truncated at byte offset {cut}, inside the record that starts at byte {}",
            record.start
        )),
        "{err}"
    );
    assert_partial(written.as_deref(), "truncated recording");
}

#[test]
fn a_recording_with_a_flipped_byte_is_refused_as_corrupt() {
    let (record, mut file) = middle_kernel_record();
    // In the payload, away from the kind and length: only the checksum can notice.
    let at = record.start + 5 + (record.len() - 9) / 2;
    file[at] ^= 0x01;
    let dir = scratch("replay-flipped");
    let damaged = dir.join("flipped.rec");
    std::fs::write(&damaged, &file).unwrap();
    let (out, written) = replay_into(&damaged, &dir.join("out.jsonl"), &[]);
    let err = refused(&out, "flipped byte");
    assert!(
        err.contains(&format!(
            "corrupt at byte offset {}: the record's checksum does not match",
            record.start
        )),
        "{err}"
    );
    assert_partial(written.as_deref(), "flipped byte");
}

#[test]
fn a_recording_of_version_99_is_refused() {
    let mut file = std::fs::read(recording()).unwrap();
    assert_eq!(&file[..10], b"APIMREC\0\x01\x00");
    file[8..10].copy_from_slice(&99u16.to_le_bytes());
    let dir = scratch("replay-version");
    let damaged = dir.join("v99.rec");
    std::fs::write(&damaged, &file).unwrap();
    // An output file from before: a refused input must leave it as it was.
    let output = dir.join("out.jsonl");
    std::fs::write(&output, "an earlier replay\n").unwrap();
    let (out, written) = replay_into(&damaged, &output, &[]);
    let err = refused(&out, "version 99");
    assert!(
        err.contains("unsupported recording version 99: this monitor reads version 1"),
        "{err}"
    );
    assert_eq!(
        written.as_deref(),
        Some("an earlier replay\n"),
        "the existing output was changed"
    );
}

#[test]
fn random_bytes_are_not_a_recording() {
    // xorshift64: the same "random" file every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    // Neither the magic's first byte nor JSON's (nor blank).
    assert!(!b"A{ \t\r\n".contains(&bytes[0]), "first byte {}", bytes[0]);
    let dir = scratch("replay-random");
    let file = dir.join("random.bin");
    std::fs::write(&file, &bytes).unwrap();
    let (out, written) = replay_into(&file, &dir.join("out.jsonl"), &[]);
    let err = refused(&out, "random bytes");
    assert!(err.contains("not a recording"), "{err}");
    assert!(written.is_none(), "output created for random bytes");
}

#[test]
fn a_missing_file_is_refused_before_any_output() {
    let dir = scratch("replay-missing");
    let missing = dir.join("no-such.rec");
    let output = dir.join("out.jsonl");
    let (out, written) = replay_into(&missing, &output, &[]);
    let err = refused(&out, "missing file");
    assert!(
        err.contains(&format!("cannot open {}", arg(&missing))),
        "{err}"
    );
    assert!(written.is_none(), "output created for a missing input");
}

/// An empty file (typically a capture that died before writing anything) is refused.
#[test]
fn an_empty_file_is_refused() {
    let dir = scratch("replay-empty");
    let empty = dir.join("empty");
    std::fs::write(&empty, b"").unwrap();
    let (out, written) = replay_into(&empty, &dir.join("out.jsonl"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("monitor: ") && err.contains("empty"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(written.is_none(), "output created for an empty input");
}

#[test]
fn a_broken_json_line_is_refused_naming_its_number() {
    let dir = scratch("replay-broken-json");
    let raw = dir.join("raw.jsonl");
    let (out, _) = replay_into(&recording(), &raw, &["--raw"]);
    assert_success(&out, "monitor replay --raw");
    let text = std::fs::read_to_string(&raw).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // A data line in the middle, cut in half as a killed writer would leave it.
    let n = lines.len() / 2;
    let v: Value = serde_json::from_str(&lines[n]).unwrap();
    assert_eq!(v["type"], "data", "line {}", n + 1);
    let half = lines[n].len() / 2;
    lines[n].truncate(half);
    let broken = dir.join("broken.jsonl");
    std::fs::write(&broken, lines.join("\n") + "\n").unwrap();

    let (out, written) = replay_into(&broken, &dir.join("out.jsonl"), &[]);
    let err = refused(&out, "broken JSON line");
    assert!(err.contains(arg(&broken)), "{err}");
    assert!(
        err.contains(&format!("line {} is not JSON", n + 1)),
        "{err}"
    );
    assert_partial(written.as_deref(), "broken JSON line");
}
