//! The scanner end to end: the attack and benign corpora of `testdata/` (recall per category,
//! false-positive rate), the caps, secret masking, hostile input, and a timing to print.

use std::{collections::BTreeMap, time::Instant};

use proptest::prelude::*;

use super::{RequestParts, ScanCounts, SignatureRules, SignatureScanner};
use crate::{
    detection::{
        category::Category,
        hit::{MAX_SHOWN_VALUE, Part, SignatureHit},
    },
    transaction::Headers,
};

const ATTACKS: &str = include_str!("testdata/attacks.txt");
const BENIGN: &str = include_str!("testdata/benign.txt");

/// What a browser sends along, so every request carries the headers real ones do.
const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// A request owned, to lend as [`RequestParts`].
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    query: Option<String>,
    headers: Headers,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Request {
    fn get(path: &str) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            query: None,
            headers: Headers::default(),
            content_type: None,
            body: Vec::new(),
        }
    }

    fn post(content_type: &str, body: impl Into<Vec<u8>>) -> Request {
        Request {
            method: "POST".into(),
            content_type: Some(content_type.into()),
            body: body.into(),
            ..Request::get("/api/submit")
        }
    }

    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }

    fn scan_with(&self, rules: &SignatureRules) -> (Vec<SignatureHit>, ScanCounts) {
        let mut out = Vec::new();
        let counts = SignatureScanner::new(rules).scan(&self.parts(), &mut out);
        (out, counts)
    }

    fn scan(&self) -> Vec<SignatureHit> {
        self.scan_with(&SignatureRules::default()).0
    }
}

/// What a client escapes in a query or form value so that it stays one value.
fn escape(value: &str) -> String {
    value
        .replace(' ', "%20")
        .replace('&', "%26")
        .replace('#', "%23")
        .replace('\n', "%0A")
}

/// The corpus writes a newline in a body or field as `\n`.
fn newlines(payload: &str) -> String {
    payload.replace("\\n", "\n")
}

/// The request a corpus line describes (see the header of testdata/attacks.txt), and the part
/// its payload must be found in.
fn request(location: &str, payload: &str) -> (Request, Part) {
    let (kind, name) = location.split_once(':').unwrap_or((location, ""));
    let mut req = match kind {
        "path" => (Request::get(&payload.replace(' ', "%20")), Part::Path),
        "query" => {
            let mut r = Request::get("/search");
            r.query = Some(format!("{name}={}", escape(payload)));
            (r, Part::Query)
        }
        "querystring" => {
            let mut r = Request::get("/search");
            r.query = Some(payload.into());
            (r, Part::Query)
        }
        "form" => (
            Request::post(
                "application/x-www-form-urlencoded",
                format!("{name}={}", escape(&newlines(payload))),
            ),
            Part::Form,
        ),
        "json" => {
            let doc = serde_json::json!({ "id": 7, name: newlines(payload) });
            (
                Request::post("application/json", doc.to_string()),
                Part::Json,
            )
        }
        "jsonraw" => (
            Request::post("application/json; charset=utf-8", payload),
            Part::Json,
        ),
        "multipart" => {
            let body = format!(
                "--b0undary\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{}\r\n--b0undary--\r\n",
                newlines(payload)
            );
            (
                Request::post("multipart/form-data; boundary=b0undary", body),
                Part::Form,
            )
        }
        "header" => {
            let mut r = Request::get("/");
            r.headers.push(name, payload.as_bytes());
            (r, Part::Header)
        }
        "cookie" => {
            let mut r = Request::get("/");
            r.headers
                .push("cookie", format!("sid=abc123; {name}={payload}").as_bytes());
            (r, Part::Cookie)
        }
        "body" => (Request::post("text/plain", newlines(payload)), Part::Body),
        other => panic!("unknown location {other:?}"),
    };
    if !location.starts_with("header:user-agent") {
        req.0.headers.push("user-agent", USER_AGENT.as_bytes());
    }
    req.0.headers.push("accept", b"application/json");
    req
}

/// The lines of a corpus file, without comments and blanks.
fn lines(corpus: &str) -> impl Iterator<Item = &str> {
    corpus
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

struct Attack {
    category: Category,
    location: String,
    payload: String,
}

fn attacks() -> Vec<Attack> {
    lines(ATTACKS)
        .map(|l| {
            let mut f = l.splitn(3, ' ');
            let category = f.next().and_then(Category::from_name).unwrap();
            let location = f.next().unwrap().to_owned();
            let payload = f.next().unwrap().to_owned();
            Attack {
                category,
                location,
                payload,
            }
        })
        .collect()
}

fn benign() -> Vec<(String, String)> {
    lines(BENIGN)
        .map(|l| {
            let (loc, payload) = l.split_once(' ').unwrap();
            (loc.to_owned(), payload.to_owned())
        })
        .collect()
}

#[test]
fn corpus_recall_and_false_positives() {
    let attacks = attacks();
    assert!(attacks.len() >= 150, "{} attacks", attacks.len());
    let mut per: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    for a in &attacks {
        let (req, part) = request(&a.location, &a.payload);
        let hits = req.scan();
        let found = hits
            .iter()
            .any(|h| h.category == a.category && h.location.part == part);
        let e = per.entry(a.category.name()).or_default();
        e.1 += 1;
        if found {
            e.0 += 1;
        } else {
            misses.push(format!(
                "{} {} {}  -> {:?}",
                a.category.name(),
                a.location,
                a.payload,
                hits.iter()
                    .map(|h| (h.category.name(), h.rule))
                    .collect::<Vec<_>>()
            ));
        }
    }
    let benign = benign();
    assert!(benign.len() >= 400, "{} benign", benign.len());
    let mut false_positives = Vec::new();
    for (location, payload) in &benign {
        let (req, _) = request(location, payload);
        for h in req.scan() {
            false_positives.push(format!(
                "{location} {payload}  -> {} {} {:?}",
                h.category.name(),
                h.rule,
                h.detail
            ));
        }
    }
    let (found, total) = per.values().fold((0, 0), |(f, t), (a, b)| (f + a, t + b));
    println!("recall per category:");
    for (name, (f, t)) in &per {
        println!(
            "  {name:20} {f:3}/{t:3} = {:.3}",
            f64::from(*f) / f64::from(*t)
        );
    }
    let recall = f64::from(found) / f64::from(total);
    let fp_rate = false_positives.len() as f64 / benign.len() as f64;
    println!("overall recall {found}/{total} = {recall:.3}");
    println!(
        "false positives {}/{} = {:.2} %",
        false_positives.len(),
        benign.len(),
        fp_rate * 100.0
    );
    for m in &misses {
        println!("  missed: {m}");
    }
    for fp in &false_positives {
        println!("  false positive: {fp}");
    }
    assert!(recall >= 0.95, "recall {recall:.3}");
    for (name, (f, t)) in &per {
        assert!(
            f64::from(*f) / f64::from(*t) >= 0.9,
            "{name} recall {f}/{t}"
        );
    }
    assert!(fp_rate <= 0.005, "false-positive rate {fp_rate:.4}");
}

/// Every value is cut to what may be shown, and every hit of the corpus names its rule.
/// One scanner across many requests remembers the values it proved inert: it must find in
/// each request exactly what a fresh scanner finds, whatever came before (every benign and
/// attack line of the corpora, interleaved, twice over).
#[test]
fn remembered_inert_values_change_no_result() {
    let mut requests: Vec<Request> = Vec::new();
    for (a, (loc, payload)) in attacks().iter().zip(benign().iter().cycle()) {
        requests.push(request(loc, payload).0);
        requests.push(request(&a.location, &a.payload).0);
        // The attack's payload where a benign value was, and the benign value where it was.
        requests.push(request(&a.location, payload).0);
        requests.push(request(loc, &a.payload).0);
    }
    let rules = SignatureRules::default();
    let mut shared = SignatureScanner::new(&rules);
    let mut hits = 0;
    for round in 0..2 {
        for r in &requests {
            let mut out = Vec::new();
            let counts = shared.scan(&r.parts(), &mut out);
            let (fresh, fresh_counts) = r.scan_with(&rules);
            assert_eq!(out, fresh, "round {round}: {:?}", r.parts().path);
            assert_eq!(counts, fresh_counts);
            hits += out.len();
        }
    }
    assert!(hits > requests.len() / 2, "{hits} hits");
}

#[test]
fn hits_are_fit_to_show() {
    for a in attacks() {
        let (req, _) = request(&a.location, &a.payload);
        for h in req.scan() {
            assert!(h.value.len() <= MAX_SHOWN_VALUE, "{h:?}");
            assert!(!h.rule.is_empty());
            assert!((0.0..=1.0).contains(&h.confidence));
        }
    }
}

#[test]
fn one_hit_per_category_and_value_with_its_decoding() {
    let mut req = Request::get("/search");
    req.query = Some(
        "q=%253Cscript%253Ealert(1)%253C%252Fscript%253E&id=1%27%20OR%20%271%27%3D%271".into(),
    );
    let hits = req.scan();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(hits[0].category, Category::Xss);
    assert_eq!(hits[0].location.name.as_deref(), Some("q"));
    assert_eq!(hits[0].value, "<script>alert(1)</script>");
    assert_eq!(hits[0].detail.as_deref(), Some("percent×2"));
    assert_eq!(hits[1].category, Category::Sqli);
    assert_eq!(hits[1].value, "1' OR '1'='1");
    assert!(
        hits[1]
            .detail
            .as_deref()
            .unwrap()
            .starts_with("fingerprint ")
    );

    // A base64 value: the hit says so.
    req.query = Some("data=MScgT1IgJzEnPScx".into());
    let hits = req.scan();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].value, "1' OR '1'='1");
    assert!(hits[0].detail.as_deref().unwrap().ends_with("base64"));
}

#[test]
fn locations_name_where_the_value_was() {
    let req = Request::post(
        "application/json",
        r#"{"user":{"profiles":[{"bio":"<script>alert(1)</script>"}]}}"#,
    );
    let hits = req.scan();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].location.part, Part::Json);
    assert_eq!(
        hits[0].location.name.as_deref(),
        Some("/user/profiles/0/bio")
    );

    let mut req = Request::get("/");
    req.headers.push("Cookie", b"a=1; pref=x%3Bwhoami; lang=en");
    req.headers.push("X-Forwarded-For", b"${jndi:ldap://x/a}");
    let hits = req.scan();
    let got: Vec<_> = hits
        .iter()
        .map(|h| (h.location.part, h.location.name.as_deref(), h.category))
        .collect();
    assert_eq!(
        got,
        [
            (Part::Cookie, Some("pref"), Category::CommandInjection),
            (
                Part::Header,
                Some("x-forwarded-for"),
                Category::TemplateInjection
            ),
        ]
    );

    // An injection in a parameter's name.
    let mut req = Request::get("/");
    req.query = Some("%3Cscript%3Ealert(1)%3C%2Fscript%3E=1".into());
    let hits = req.scan();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].location.name.as_deref(),
        Some("<script>alert(1)</script>")
    );
}

#[test]
fn secrets_are_masked() {
    let req = Request::post(
        "application/x-www-form-urlencoded",
        "username=admin&password=%27%20OR%201%3D1%20LIMIT%201%20--%20-",
    );
    let hits = req.scan();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].category, Category::Sqli);
    assert_eq!(hits[0].value, "<masked: 21 bytes>");

    // A credential inside the payload masks it too, whatever the name.
    let mut req = Request::get("/");
    req.query = Some(
        "q=%3Cscript%3Ealert(1)%3C/script%3E%20ghp_abcdefghijklmnopqrstuvwxyz0123456789".into(),
    );
    let hits = req.scan();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].value.starts_with("<masked: "), "{hits:?}");
    assert!(!hits[0].value.contains("ghp_"));

    // An ordinary name shows the value.
    let mut req = Request::get("/");
    req.query = Some("user=admin%27--".into());
    assert_eq!(req.scan()[0].value, "admin'--");
}

#[test]
fn caps_are_kept_and_counted() {
    let mut req = Request::get("/a");
    req.query = Some(
        (0..10)
            .map(|i| format!("p{i}=v"))
            .collect::<Vec<_>>()
            .join("&"),
    );
    let rules = SignatureRules {
        max_values: 4,
        headers: Vec::new(),
        ..SignatureRules::default()
    };
    let (_, counts) = req.scan_with(&rules);
    // The whole path, its segment, then two parameters.
    assert_eq!(
        counts,
        ScanCounts {
            values: 4,
            skipped: 8,
            errors: 0
        }
    );

    // A value over the byte cap is read in its head only, and counted.
    let mut req = Request::get("/");
    req.query = Some(format!("q={}%27%20OR%201%3D1--", "a".repeat(5000)));
    let (hits, counts) = req.scan_with(&SignatureRules::default());
    assert!(hits.is_empty());
    assert_eq!(counts.skipped, 1);
    req.query = Some(format!("q=%27%20OR%201%3D1--{}", "a".repeat(5000)));
    let (hits, counts) = req.scan_with(&SignatureRules::default());
    assert_eq!((hits.len(), counts.skipped), (1, 1));

    // JSON past the depth cap.
    let deep = format!(
        "{}\"<script>alert(1)</script>\"{}",
        "[".repeat(40),
        "]".repeat(40)
    );
    let (hits, counts) =
        Request::post("application/json", deep).scan_with(&SignatureRules::default());
    assert!(hits.is_empty());
    assert_eq!(counts.skipped, 1);

    // Hits per request.
    let mut req = Request::get("/");
    req.query = Some(
        (0..40)
            .map(|i| format!("p{i}=%3Cscript%3Ex%3C/script%3E"))
            .collect::<Vec<_>>()
            .join("&"),
    );
    let (hits, counts) = req.scan_with(&SignatureRules::default());
    assert_eq!(hits.len(), 16);
    assert!(counts.values < 40);
}

/// A plain path is settled at once (scan.rs `plain_path`), but counted as value by value:
/// the same counts as a path a dot sends through every value.
#[test]
fn plain_paths_are_counted_as_their_values() {
    let rules = SignatureRules {
        max_values: 5,
        max_value_bytes: 32,
        headers: Vec::new(),
        ..SignatureRules::default()
    };
    let long = "a".repeat(40);
    let expected = ScanCounts {
        values: 5,
        // The whole path and the long segment cut; `y` and `z` past the cap.
        skipped: 4,
        errors: 0,
    };
    for path in [
        format!("/api/v1/{long}/x/y/z"),
        format!("/api/v1/{long}/x./y/z"),
    ] {
        let (hits, counts) = Request::get(&path).scan_with(&rules);
        assert!(hits.is_empty());
        assert_eq!(counts, expected, "{path}");
    }
    // Values past a plain path are read as ever.
    let mut req = Request::get("/api/v1/users/42/orders");
    req.query = Some("q=%3Cscript%3Ealert(1)%3C/script%3E".into());
    let (hits, counts) = req.scan_with(&SignatureRules::default());
    assert_eq!((hits.len(), counts.values), (1, 7));
}

#[test]
fn rules_table_round_trips_and_refuses_unknown_fields() {
    let rules: SignatureRules = toml::from_str("max_values = 10\nheaders = [\"X-Api\"]").unwrap();
    assert_eq!(rules.max_values, 10);
    assert_eq!(rules.max_hits, SignatureRules::default().max_hits);
    assert!(toml::from_str::<SignatureRules>("max_valus = 1").is_err());
    let text = toml::to_string(&SignatureRules::default()).unwrap();
    assert_eq!(
        toml::from_str::<SignatureRules>(&text).unwrap(),
        SignatureRules::default()
    );
    // Header names match in any case.
    let mut req = Request::get("/");
    req.headers.push("x-api", b"<script>alert(1)</script>");
    assert_eq!(req.scan_with(&rules).0.len(), 1);
}

#[test]
fn hostile_bodies_do_not_panic() {
    let rules = SignatureRules::default();
    let big = "x".repeat(1 << 20);
    let mut req = Request::get(&format!("/{big}"));
    req.query = Some(format!("a={big}&{big}"));
    req.headers.push("cookie", big.as_bytes());
    let (_, counts) = req.scan_with(&rules);
    assert!(counts.skipped >= 3);
    for (ct, body) in [
        ("application/json", "[".repeat(200_000).into_bytes()),
        ("application/json", "{\"a\":".repeat(100_000).into_bytes()),
        ("application/json", b"{\"a\":\"\xff\xfe\"}".to_vec()),
        ("text/plain", b"\xff\xfe<script>".to_vec()),
        ("application/octet-stream", vec![0u8; 10_000]),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\n\r\n--x--x--x\n\n".repeat(1000),
        ),
        (
            "application/x-www-form-urlencoded",
            b"%%%&&&===%zz%u12".repeat(1000),
        ),
        ("text/plain", "${".repeat(4000).into_bytes()),
        ("text/plain", "{{".repeat(4000).into_bytes()),
        ("text/plain", "$(".repeat(4000).into_bytes()),
        ("text/plain", "../".repeat(4000).into_bytes()),
        ("text/plain", "&#x".repeat(4000).into_bytes()),
    ] {
        let (_, counts) = Request::post(ct, body).scan_with(&rules);
        assert_eq!(counts.errors, 0);
    }
}

/// Values built to make a rule re-read them at every position (thousands of separators,
/// openers, tags) are read in linear time: with the byte cap lifted to 1 MiB, a quadratic
/// rule would take hours, a linear one well under a second each.
#[test]
fn hostile_shapes_stay_linear() {
    let rules = SignatureRules {
        max_value_bytes: 1 << 20,
        max_body_bytes: 1 << 21,
        ..SignatureRules::default()
    };
    let n = 1 << 18;
    for unit in [
        ";", "a;", "; ", "|", "&&", "\n", "`", "$(", "${", "{{", "{%", "<%", "#{", "*{", "@(",
        "<a", "<a on", "'", "'-", "=1", "1=1 ", "../", "..;/", "%25", "&#", "&lt", "on", ":-",
        "${${", "}}", "a b ", "--", "/*",
    ] {
        let value = unit.repeat(n / unit.len());
        let start = Instant::now();
        let (_, counts) = Request::post("text/plain", value).scan_with(&rules);
        let took = start.elapsed();
        assert_eq!(counts.errors, 0);
        assert!(took.as_secs() < 20, "{unit:?} took {took:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes, split into a request's parts, scan without a panic and within the caps.
    #[test]
    fn arbitrary_requests_never_panic(
        path in any::<Vec<u8>>(),
        query in any::<Vec<u8>>(),
        header in any::<Vec<u8>>(),
        body in any::<Vec<u8>>(),
        kind in 0usize..5,
    ) {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut req = Request::post(
            ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=a", "text/plain", ""][kind],
            body,
        );
        req.path = text(&path);
        req.query = Some(text(&query));
        req.headers.push("cookie", &header);
        req.headers.push("user-agent", &header);
        let rules = SignatureRules::default();
        let (hits, counts) = req.scan_with(&rules);
        prop_assert!(hits.len() <= rules.max_hits);
        prop_assert!(counts.values as usize <= rules.max_values);
        prop_assert_eq!(counts.errors, 0);
        for h in hits {
            prop_assert!(h.value.len() <= MAX_SHOWN_VALUE);
        }
    }

    /// Payload-shaped strings (the bytes attacks are made of) through every decoder and rule.
    #[test]
    fn payload_shaped_values_never_panic(s in "[%&#;:/\\\\.<>'\"`$(){}*=+ a-fA-F0-9xuIFSjndi\n-]{0,200}") {
        super::fuzzing::decoders(&s);
        let mut req = Request::get(&format!("/{s}"));
        req.query = Some(format!("url={s}&q={s}"));
        let _ = req.scan();
    }
}

/// Recall and false alarms on payload lists kept outside the repository (third-party word
/// lists the rules were not written against), to print: files `CATEGORY@LOCATION.txt` or
/// `benign@LOCATION.txt` in `$SIGNATURES_HELDOUT`, one raw payload a line.
#[test]
#[ignore]
fn held_out_lists() {
    let Some(dir) = std::env::var_os("SIGNATURES_HELDOUT") else {
        println!("SIGNATURES_HELDOUT not set");
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (what, location) = stem.split_once('@').unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let (mut flagged, mut total) = (0, 0);
        let mut odd = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            total += 1;
            let (req, part) = request(location, line);
            let hits = req.scan();
            let hit = match Category::from_name(what) {
                Some(c) => hits
                    .iter()
                    .any(|h| h.category == c && h.location.part == part),
                None => !hits.is_empty(),
            };
            if hit {
                flagged += 1;
            }
            // Misses of attacks, hits of benign lines.
            if hit == (what == "benign") {
                odd.push(format!(
                    "{line}  -> {:?}",
                    hits.iter().map(|h| h.rule).collect::<Vec<_>>()
                ));
            }
        }
        println!("{what} in {location}: {flagged}/{total} flagged");
        for o in odd {
            println!("    {o}");
        }
    }
}

/// CPU time of this thread: builds sharing the machine do not count against the scan (wall
/// time is printed too).
fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through the valid pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Runs `scan` over `requests` `rounds` times; (CPU, wall) nanoseconds per request.
fn per_request(requests: &[Request], rounds: u32) -> (f64, f64) {
    let mut scanner = SignatureScanner::new(&SignatureRules::default());
    let mut out = Vec::new();
    let (cpu, wall) = (thread_cpu_ns(), Instant::now());
    for _ in 0..rounds {
        for r in requests {
            out.clear();
            std::hint::black_box(scanner.scan(&r.parts(), &mut out));
        }
    }
    let n = f64::from(rounds) * requests.len() as f64;
    (
        (thread_cpu_ns() - cpu) / n,
        wall.elapsed().as_nanos() as f64 / n,
    )
}

/// Nanoseconds per request over the benign corpus and for a typical API call and its parts,
/// to print (run in release: `cargo test --release -p monitor --lib
/// signatures::tests::timing -- --ignored --nocapture`).
#[test]
#[ignore]
fn timing() {
    let corpus: Vec<Request> = benign().iter().map(|(l, p)| request(l, p).0).collect();
    let (cpu, wall) = per_request(&corpus, 200);
    println!(
        "benign corpus ({} requests): {cpu:.0} ns CPU, {wall:.0} ns wall per request",
        corpus.len()
    );
    let mut typical = Request::get("/api/v1/users/123/orders");
    typical.query = Some("page=2&per_page=20&sort=-created_at".into());
    typical.headers.push("user-agent", USER_AGENT.as_bytes());
    typical
        .headers
        .push("referer", b"https://app.example.com/orders?page=1");
    typical.headers.push(
        "cookie",
        b"session=9f86d081884c7d659a2feaa0c55ad015; theme=dark",
    );
    let mut parts = vec![("typical GET", typical.clone())];
    parts.push(("  path", Request::get("/api/v1/users/123/orders")));
    let mut r = Request::get("/");
    r.query = typical.query.clone();
    parts.push(("  query", r));
    for (name, value) in typical.headers.iter() {
        let mut r = Request::get("/");
        r.headers.push(name, value);
        parts.push((name, r));
    }
    for (name, req) in parts {
        let (cpu, wall) = per_request(std::slice::from_ref(&req), 100_000);
        println!("{name:14} {cpu:6.0} ns CPU, {wall:6.0} ns wall");
    }
}

/// Every hit and count of a large, fixed set of requests (the corpora in many places, and
/// pseudo-random payload-shaped and ordinary values under many names), one line each, written
/// to `$SIGNATURES_DUMP`: run before and after a change that must not change what is found,
/// and compare the files.
#[test]
#[ignore]
fn dump_for_equivalence() {
    use std::fmt::Write as _;
    let Some(path) = std::env::var_os("SIGNATURES_DUMP") else {
        println!("SIGNATURES_DUMP not set");
        return;
    };
    const LOCATIONS: [&str; 22] = [
        "path",
        "query:url",
        "query:q",
        "query:next",
        "query:id",
        "query:redirect_uri",
        "query:file",
        "query:api_base",
        "querystring",
        "form:host",
        "form:comment",
        "json:url",
        "json:name",
        "json:password",
        "jsonraw",
        "multipart:image_url",
        "header:user-agent",
        "header:referer",
        "header:x-forwarded-for",
        "cookie:session",
        "cookie:callback",
        "body",
    ];
    const TOKENS: [&str; 97] = [
        "select",
        "UNION",
        " ",
        "'",
        "\"",
        "`",
        ";",
        "|",
        "&",
        "$",
        "<",
        ">",
        "(",
        ")",
        "{",
        "}",
        "/",
        "\\",
        ".",
        ":",
        "#",
        "%",
        "*",
        "=",
        "!",
        "\n",
        "-",
        "0",
        "1",
        "7",
        "a",
        "Z",
        "@",
        "?",
        "+",
        "_",
        "~",
        "%2e",
        "%25",
        "%27",
        "%3C",
        "%u2215",
        "%c0%af",
        "%00",
        "&lt;",
        "&#x3c;",
        "&amp;",
        "localhost",
        "127.0.0.1",
        "0x7f000001",
        "2130706433",
        "http://",
        "gopher://",
        "file:///",
        "[::1]",
        "169.254.169.254",
        ".nip.io",
        "metadata",
        "../",
        "..;/",
        "etc/passwd",
        "win.ini",
        "<script>",
        "onerror=",
        "alert(1)",
        "javascript:",
        "${jndi:",
        "{{7*7}}",
        "${",
        "#{",
        "<%",
        "@(",
        "__class__",
        "or 1=1",
        "sleep(5)",
        "--",
        "/*",
        "whoami",
        "cat /etc/passwd",
        "$(id)",
        "${IFS}",
        "() {",
        "é",
        "．",
        "①",
        "MScgT1IgJzEnPScx",
        "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "eyJhbGciOiJIUzI1NiJ9",
        "550e8400-e29b-41d4-a716-446655440000",
        "2024-03-01T10:00:00Z",
        "alice@example.com",
        "Mozilla/5.0 (X11; Linux x86_64)",
        "users",
        "42",
        "api",
        "v1",
        "\t",
    ];
    const ORDINARY: [&str; 24] = [
        "42",
        "users",
        "v1",
        "alice",
        "550e8400-e29b-41d4-a716-446655440000",
        "2024-03-01",
        "2024-03-01T10:00:00Z",
        "alice@example.com",
        "alice%40example.com",
        "hello world",
        "hello+world",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
        "bench/1.0",
        "-created_at",
        "en-US,en;q=0.9",
        "https://app.example.com/orders?page=1",
        "application/json",
        "9f86d081884c7d659a2feaa0c55ad015",
        "SGVsbG8gV29ybGQgZnJvbSBiYXNlNjQ=",
        "UPPERCASEONLYVALUE",
        "MixedCaseIdentifierValue",
        "3.14",
        "~user",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut payloads: Vec<String> = attacks().into_iter().map(|a| a.payload).collect();
    payloads.extend(benign().into_iter().map(|(_, p)| p));
    payloads.extend(ORDINARY.iter().map(|s| (*s).to_owned()));
    for _ in 0..6000 {
        let n = 1 + next() % 8;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
        }
        payloads.push(s);
    }
    let small = SignatureRules {
        max_values: 6,
        max_value_bytes: 24,
        max_hits: 2,
        ..SignatureRules::default()
    };
    let default = SignatureRules::default();
    let mut out = String::new();
    let mut n = 0u64;
    for (i, p) in payloads.iter().enumerate() {
        for (j, location) in LOCATIONS.iter().enumerate() {
            // Every payload in a few places, the corpora in all.
            if i >= 900 && (i + j) % 5 != 0 {
                continue;
            }
            let (mut req, _) = request(location, p);
            if i % 3 == 0 {
                req.query = Some(match req.query {
                    Some(q) => format!("{q}&page=2&sort=-created_at"),
                    None => "page=2&limit=50".into(),
                });
            }
            let rules = if (i + j) % 11 == 0 { &small } else { &default };
            let (hits, counts) = req.scan_with(rules);
            writeln!(out, "{i} {location} {counts:?} {hits:?}").unwrap();
            n += 1;
        }
    }
    std::fs::write(path, out).unwrap();
    println!("{n} requests");
}
