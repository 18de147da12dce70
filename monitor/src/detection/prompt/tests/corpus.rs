//! The fixture corpus (`testdata/*.yaml`): every attack found, no benign exchange flagged,
//! recall and false-positive rate per category and per direct/indirect part, and no hit
//! showing any of the fixtures' secrets.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::Wire;
use crate::detection::{
    hit::{Part, SignatureHit},
    prompt::{PromptRules, PromptScanner},
};
use crate::discovery::sensitive::{SensitiveClass, scan_text};

const FILES: &[(&str, &str)] = &[
    ("openai_chat", include_str!("../testdata/openai_chat.yaml")),
    (
        "openai_other",
        include_str!("../testdata/openai_other.yaml"),
    ),
    ("anthropic", include_str!("../testdata/anthropic.yaml")),
    ("gemini", include_str!("../testdata/gemini.yaml")),
    ("ollama", include_str!("../testdata/ollama.yaml")),
    ("mcp", include_str!("../testdata/mcp.yaml")),
    (
        "cut_and_invalid",
        include_str!("../testdata/cut_and_invalid.yaml"),
    ),
    ("holdout", include_str!("../testdata/holdout.yaml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<String>,
    pub path: String,
    #[serde(default)]
    pub request_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub request: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub response_type: Option<String>,
    #[serde(default)]
    pub response: Option<serde_yaml_ng::Value>,
}

/// A body as bytes: a string as it is, anything else as compact JSON.
fn bytes(v: &Option<serde_yaml_ng::Value>) -> Vec<u8> {
    match v {
        None => Vec::new(),
        Some(serde_yaml_ng::Value::String(s)) => s.clone().into_bytes(),
        Some(other) => serde_json::to_vec(other).unwrap(),
    }
}

pub struct Loaded {
    pub file: &'static str,
    pub case: Case,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
    pub response_type: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl Loaded {
    fn wire<'a>(&'a self, headers: &'a [(&'a str, &'a str)]) -> Wire<'a> {
        Wire {
            path: &self.case.path,
            request_headers: headers,
            request: &self.request,
            status: self.case.status,
            response_type: self.response_type.as_deref(),
            response: &self.response,
        }
    }

    fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    pub fn scan(&self, scanner: &PromptScanner) -> Option<Vec<SignatureHit>> {
        let headers = self.header_pairs();
        self.wire(&headers).scan_with(scanner).map(|(h, _)| h)
    }

    /// What discovery makes of the whole exchange.
    pub fn call(&self) -> Option<crate::discovery::ai::AiCall> {
        let headers = self.header_pairs();
        self.wire(&headers).recognise()
    }
}

pub fn load() -> Vec<Loaded> {
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    for (file, text) in FILES {
        let cases: Vec<Case> =
            serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("testdata/{file}.yaml: {e}"));
        for case in cases {
            assert!(ids.insert(case.id.clone()), "duplicate id {}", case.id);
            let response_type = case.response_type.clone().or_else(|| {
                matches!(
                    case.response,
                    Some(serde_yaml_ng::Value::Mapping(_) | serde_yaml_ng::Value::Sequence(_))
                )
                .then(|| "application/json".to_owned())
            });
            out.push(Loaded {
                file,
                request: bytes(&case.request),
                response: bytes(&case.response),
                response_type,
                headers: case.request_headers.clone().into_iter().collect(),
                case,
            });
        }
    }
    out
}

const CATEGORIES: [&str; 2] = ["prompt_injection", "sensitive_data_leak"];

fn is_direct(part: Part) -> bool {
    matches!(part, Part::PromptUser | Part::PromptSystem)
}

fn side(part: Part) -> &'static str {
    if is_direct(part) {
        "direct"
    } else {
        "indirect"
    }
}

#[derive(Default)]
struct Tally {
    attacks: usize,
    found: usize,
    benign: usize,
    flagged: usize,
}

impl Tally {
    fn recall(&self) -> f64 {
        if self.attacks == 0 {
            1.0
        } else {
            self.found as f64 / self.attacks as f64
        }
    }
    fn fpr(&self) -> f64 {
        if self.benign == 0 {
            0.0
        } else {
            self.flagged as f64 / self.benign as f64
        }
    }
}

#[test]
fn recall_and_false_positive_rate_per_category_and_part() {
    let scanner = PromptScanner::new(&PromptRules::default());
    let cases = load();
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut false_positives = Vec::new();
    let (mut attacks, mut benign) = (0, 0);
    for loaded in &cases {
        let case = &loaded.case;
        let hits = loaded
            .scan(&scanner)
            .unwrap_or_else(|| panic!("{}: discovery does not recognise the exchange", case.id));
        if case.expect.is_empty() {
            benign += 1;
        } else {
            attacks += 1;
        }
        for rule in &case.rules {
            if !hits.iter().any(|h| h.rule == rule) {
                misses.push(format!(
                    "{}: no {rule} hit; got {:?}",
                    case.id,
                    rules_of(&hits)
                ));
            }
        }
        for category in CATEGORIES {
            let expected: Vec<&str> = case
                .expect
                .iter()
                .filter_map(|e| e.strip_prefix(category).and_then(|r| r.strip_prefix('/')))
                .collect();
            for part in ["direct", "indirect"] {
                let got = hits
                    .iter()
                    .any(|h| h.category.name() == category && side(h.location.part) == part);
                let t = tallies
                    .entry((category.to_owned(), part.to_owned()))
                    .or_default();
                if expected.contains(&part) {
                    t.attacks += 1;
                    if got {
                        t.found += 1;
                    } else {
                        misses.push(format!(
                            "{}: missed {category}/{part}; got {:?} ({})",
                            case.id,
                            rules_of(&hits),
                            case.note.as_deref().unwrap_or("")
                        ));
                    }
                } else if expected.is_empty() {
                    t.benign += 1;
                    if got {
                        t.flagged += 1;
                        false_positives.push(format!(
                            "{}: {category}/{part} {:?}",
                            case.id,
                            describe(&hits)
                        ));
                    }
                }
            }
        }
    }
    println!(
        "corpus: {} exchanges, {attacks} with attacks or leaks, {benign} benign",
        cases.len()
    );
    println!(
        "{:<22} {:<9} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7}",
        "category", "part", "attacks", "found", "recall", "benign", "flagged", "fpr"
    );
    let mut per_category: BTreeMap<String, Tally> = BTreeMap::new();
    for ((category, part), t) in &tallies {
        println!(
            "{category:<22} {part:<9} {:>7} {:>7} {:>8.3} {:>7} {:>7} {:>6.2}%",
            t.attacks,
            t.found,
            t.recall(),
            t.benign,
            t.flagged,
            100.0 * t.fpr()
        );
        let c = per_category.entry(category.clone()).or_default();
        c.attacks += t.attacks;
        c.found += t.found;
    }
    // A benign exchange is a false positive for a category once, whichever part was flagged.
    for category in CATEGORIES {
        let c = per_category.entry(category.to_owned()).or_default();
        for loaded in &cases {
            if loaded.case.expect.iter().any(|e| e.starts_with(category)) {
                continue;
            }
            c.benign += 1;
            let flagged = false_positives
                .iter()
                .any(|f| f.starts_with(&format!("{}: {category}/", loaded.case.id)));
            c.flagged += usize::from(flagged);
        }
    }
    for (category, t) in &per_category {
        println!(
            "{category:<22} {:<9} {:>7} {:>7} {:>8.3} {:>7} {:>7} {:>6.2}%",
            "all",
            t.attacks,
            t.found,
            t.recall(),
            t.benign,
            t.flagged,
            100.0 * t.fpr()
        );
    }
    for m in &misses {
        println!("MISS {m}");
    }
    for f in &false_positives {
        println!("FP   {f}");
    }
    assert!(
        attacks >= 60 && benign >= 100,
        "{attacks} attacks, {benign} benign"
    );
    for (category, t) in &per_category {
        assert!(t.recall() >= 0.9, "{category}: recall {:.3}", t.recall());
        assert!(
            t.fpr() <= 0.02,
            "{category}: false-positive rate {:.3}",
            t.fpr()
        );
    }
}

fn rules_of(hits: &[SignatureHit]) -> Vec<String> {
    hits.iter()
        .map(|h| format!("{}@{:?}", h.rule, h.location.part))
        .collect()
}

fn describe(hits: &[SignatureHit]) -> Vec<String> {
    hits.iter()
        .map(|h| {
            format!(
                "{} {:?} {:?} {:.2} [{}] {}",
                h.rule,
                h.location.part,
                h.location.name,
                h.confidence,
                h.value,
                h.detail.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn every_case_states_a_valid_expectation() {
    for loaded in load() {
        for e in &loaded.case.expect {
            let ok = CATEGORIES.iter().any(|c| {
                e.strip_prefix(c)
                    .is_some_and(|r| r == "/direct" || r == "/indirect")
            });
            assert!(
                ok,
                "{} ({}): bad expectation {e}",
                loaded.case.id, loaded.file
            );
        }
    }
}

/// Prefixes vendors publish for their credentials, longest first.
const PUBLIC_PREFIXES: &[&str] = &[
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
    "sk-ant-api03-",
    "sk_live_",
    "sk-proj-",
    "xoxb-",
    "ghp_",
    "AKIA",
    "AIza",
];

#[test]
fn no_hit_shows_secret_material() {
    let scanner = PromptScanner::new(&PromptRules::default());
    for loaded in load() {
        let Some(hits) = loaded.scan(&scanner) else {
            continue;
        };
        for h in &hits {
            let shown = format!("{} {}", h.value, h.detail.clone().unwrap_or_default());
            for secret in &loaded.case.secrets {
                // Not the secret, nor any eight characters of it past the vendor's public
                // prefix (which hints show by design).
                let secret = PUBLIC_PREFIXES
                    .iter()
                    .find_map(|p| secret.strip_prefix(p))
                    .unwrap_or(secret);
                let chars: Vec<char> = secret.chars().collect();
                for w in chars.windows(8.min(chars.len())) {
                    let piece: String = w.iter().collect();
                    assert!(
                        !shown.contains(&piece),
                        "{}: {} shows {piece:?} of a secret: {shown}",
                        loaded.case.id,
                        h.rule
                    );
                }
            }
            // Whatever the fixture declares, nothing shown reads as a secret or a card.
            let classes = scan_text(&shown);
            let leaked: Vec<SensitiveClass> = classes
                .iter()
                .filter(|c| {
                    c.is_credential()
                        || matches!(
                            c,
                            SensitiveClass::CreditCard | SensitiveClass::Ssn | SensitiveClass::Iban
                        )
                })
                .collect();
            assert!(
                leaked.is_empty(),
                "{}: {} shows {leaked:?}: {shown}",
                loaded.case.id,
                h.rule
            );
        }
    }
}

#[test]
fn hits_are_bounded_and_well_formed() {
    let rules = PromptRules::default();
    let scanner = PromptScanner::new(&rules);
    for loaded in load() {
        let Some(hits) = loaded.scan(&scanner) else {
            continue;
        };
        assert!(hits.len() <= rules.max_hits, "{}", loaded.case.id);
        for h in &hits {
            assert!(
                (0.0..=1.0).contains(&h.confidence),
                "{}: {h:?}",
                loaded.case.id
            );
            assert!(
                h.value.len() <= crate::detection::hit::MAX_SHOWN_VALUE,
                "{}: {h:?}",
                loaded.case.id
            );
            assert!(h.location.name.is_some(), "{}: {h:?}", loaded.case.id);
        }
    }
}

/// Microseconds per exchange over the corpus, with and without discovery's recognition;
/// meaningful in release builds
/// (`cargo test --release -p monitor --lib detection::prompt::tests::corpus::speed -- --nocapture`).
#[test]
fn speed() {
    let scanner = PromptScanner::new(&PromptRules::default());
    let cases = load();
    let rounds = if cfg!(debug_assertions) { 3 } else { 200 };
    let mode = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let start = std::time::Instant::now();
    let mut n = 0usize;
    for _ in 0..rounds {
        for loaded in &cases {
            n += loaded.scan(&scanner).map_or(0, |h| h.len()).min(1);
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / (rounds * cases.len()) as f64;
    println!(
        "{per:.1} µs per exchange ({mode}, recognition included, {} exchanges x {rounds}, {n} with hits)",
        cases.len()
    );
    // The scanner alone, on calls recognised beforehand.
    let calls: Vec<_> = cases
        .iter()
        .filter_map(|l| l.call().map(|c| (l, c)))
        .collect();
    let mut out = Vec::new();
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for (loaded, call) in &calls {
            out.clear();
            scanner.scan(
                &crate::detection::prompt::AiExchange {
                    call,
                    request_body: &loaded.request,
                    request_type: Some("application/json"),
                    response_body: &loaded.response,
                    response_type: loaded.response_type.as_deref(),
                },
                &mut out,
            );
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / (rounds * calls.len()) as f64;
    println!("{per:.1} µs per exchange ({mode}, scanner only)");
}
