//! Generated traffic of a synthetic API whose true path templates are known, written as the
//! `--raw` JSON lines `monitor replay` reads (server side: requests read, responses written).
//! For the discovery tests: nested ids, literal siblings, versioned prefixes, ids that look
//! like words, several id types at one position.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use std::collections::BTreeSet;

use serde_json::{Value, json};

/// A route: method, template (`{}` marks a parameter), how values are made, relative weight.
pub struct Route {
    pub method: &'static str,
    pub template: &'static str,
    /// One generator per `{}`, in order.
    pub params: &'static [Id],
    pub weight: u32,
}

/// How a parameter's values look.
#[derive(Debug, Clone, Copy)]
pub enum Id {
    Int,
    Uuid,
    /// A word from a pool of this many pronounceable words (no digits).
    Word(usize),
    Hex24,
    Sha256,
    Date,
    Email,
    Token,
    /// An integer or a UUID, at random.
    IntOrUuid,
}

macro_rules! route {
    ($m:literal $t:literal [$($p:expr),*] $w:literal) => {
        Route { method: $m, template: $t, params: &[$($p),*], weight: $w }
    };
}

/// 44 routes.
pub const ROUTES: &[Route] = &[
    route!("GET" "/v1/users" [] 4),
    route!("GET" "/v1/users/me" [] 12),
    route!("GET" "/v1/users/{}" [Id::Int] 8),
    route!("PATCH" "/v1/users/{}" [Id::Int] 2),
    route!("GET" "/v1/users/{}/orders" [Id::Int] 5),
    route!("GET" "/v1/users/{}/orders/{}" [Id::Int, Id::Uuid] 4),
    route!("GET" "/v1/users/{}/orders/{}/items" [Id::Int, Id::Uuid] 3),
    route!("GET" "/v1/users/{}/orders/{}/items/{}" [Id::Int, Id::Uuid, Id::Int] 2),
    route!("GET" "/v1/orders/recent" [] 6),
    route!("GET" "/v1/orders/{}" [Id::Uuid] 5),
    route!("POST" "/v1/orders" [] 3),
    route!("DELETE" "/v1/orders/{}" [Id::Uuid] 1),
    route!("GET" "/v1/products" [] 4),
    route!("GET" "/v1/products/featured" [] 10),
    route!("GET" "/v1/products/{}" [Id::Word(300)] 8),
    route!("GET" "/v1/products/{}/reviews" [Id::Word(300)] 4),
    route!("GET" "/v1/products/{}/reviews/{}" [Id::Word(300), Id::Int] 2),
    route!("GET" "/v1/categories" [] 3),
    route!("GET" "/v1/categories/{}" [Id::Word(120)] 4),
    route!("GET" "/v2/users/{}" [Id::Uuid] 4),
    route!("GET" "/v2/users/{}/profile" [Id::Uuid] 3),
    route!("GET" "/v2/orders/{}" [Id::Hex24] 3),
    route!("GET" "/v2/search" [] 4),
    route!("GET" "/v1/files/{}" [Id::Sha256] 2),
    route!("GET" "/v1/files/{}/download" [Id::Sha256] 2),
    route!("GET" "/v1/reports/{}" [Id::Date] 2),
    route!("GET" "/v1/reports/{}/summary" [Id::Date] 2),
    route!("GET" "/v1/accounts/{}" [Id::Email] 2),
    route!("GET" "/v1/accounts/{}/settings" [Id::Email] 1),
    route!("GET" "/v1/tokens/{}" [Id::Token] 2),
    route!("GET" "/v1/teams" [] 3),
    route!("GET" "/v1/teams/{}/members" [Id::Word(150)] 4),
    route!("GET" "/v1/teams/{}/members/{}" [Id::Word(150), Id::Int] 2),
    route!("POST" "/v1/teams/{}/invites" [Id::Word(150)] 1),
    route!("GET" "/v1/items/{}" [Id::IntOrUuid] 4),
    route!("GET" "/health" [] 6),
    route!("GET" "/metrics" [] 3),
    route!("POST" "/auth/login" [] 2),
    route!("POST" "/auth/logout" [] 1),
    route!("POST" "/auth/refresh" [] 2),
    route!("GET" "/v1/settings" [] 2),
    route!("GET" "/v1/settings/notifications" [] 1),
    route!("GET" "/v1/admin/audit-log" [] 1),
    route!("GET" "/v1/admin/users/{}" [Id::Int] 1),
];

/// xorshift64*: deterministic, good enough for traffic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }
}

/// The `i`th pronounceable word: consonant-vowel syllables, no digits (`bakotu`).
pub fn word(i: usize) -> String {
    const C: &[u8] = b"bdfgklmnprstvz";
    const V: &[u8] = b"aeiou";
    let mut n = i + 1000;
    let mut w = String::new();
    for _ in 0..3 {
        w.push(char::from(C[n % C.len()]));
        n /= C.len();
        w.push(char::from(V[n % V.len()]));
        n /= V.len();
    }
    w
}

impl Id {
    pub fn value(self, rng: &mut Rng) -> String {
        match self {
            Id::Int => (rng.below(100_000) + 1).to_string(),
            Id::Uuid => format!(
                "{}-{}-4{}-a{}-{}",
                rng.hex(8),
                rng.hex(4),
                rng.hex(3),
                rng.hex(3),
                rng.hex(12)
            ),
            Id::Word(pool) => word(rng.below(pool as u64) as usize),
            Id::Hex24 => format!("6{}", rng.hex(23)),
            Id::Sha256 => format!("a{}", rng.hex(63)),
            Id::Date => format!("2025-{:02}-{:02}", rng.below(12) + 1, rng.below(28) + 1),
            Id::Email => format!(
                "{}.{}@example.com",
                word(rng.below(500) as usize),
                rng.below(99)
            ),
            Id::Token => {
                const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                let mut t: String = (0..22)
                    .map(|_| char::from(A[rng.below(A.len() as u64) as usize]))
                    .collect();
                t.push_str("Q7");
                t
            }
            Id::IntOrUuid => {
                if rng.below(2) == 0 {
                    Id::Int.value(rng)
                } else {
                    Id::Uuid.value(rng)
                }
            }
        }
    }
}

/// One request of the generated traffic.
pub struct Call {
    pub route: usize,
    pub method: &'static str,
    pub path: String,
    /// Extra request header lines (`Name: value`).
    pub headers: Vec<String>,
    pub client: (String, u16),
    /// A JSON request body instead of the default one (POST and PATCH get a small one).
    pub body: Option<String>,
    /// (content type, body) of the response instead of the default JSON one.
    pub response: Option<(String, String)>,
}

/// `n` calls over the routes by weight, by `actors` bearer-token users from a few addresses.
pub fn calls(n: usize, seed: u64, actors: usize) -> Vec<Call> {
    let mut rng = Rng::new(seed);
    let total: u32 = ROUTES.iter().map(|r| r.weight).sum();
    (0..n)
        .map(|i| {
            let mut pick = rng.below(u64::from(total)) as u32;
            let route = ROUTES
                .iter()
                .position(|r| {
                    if pick < r.weight {
                        true
                    } else {
                        pick -= r.weight;
                        false
                    }
                })
                .unwrap_or(0);
            let r = &ROUTES[route];
            let mut values = r.params.iter().map(|p| p.value(&mut rng));
            let mut path = String::new();
            for (k, piece) in r.template.split("{}").enumerate() {
                if k > 0 {
                    path.push_str(&values.next().unwrap_or_default());
                }
                path.push_str(piece);
            }
            let actor = rng.below(actors.max(1) as u64);
            let headers = vec![format!("Authorization: Bearer token-of-user-{actor}")];
            let client = (
                format!("10.1.{}.{}", actor % 4, 10 + actor),
                40_000 + (i % 20_000) as u16,
            );
            Call {
                route,
                method: r.method,
                path,
                headers,
                client,
                body: None,
                response: None,
            }
        })
        .collect()
}

/// The calls as `--raw` JSON lines: one connection per call to 10.0.0.2:8080, as the server
/// (pid 77, comm `api`) saw it, 1 ms apart.
pub fn raw_lines(calls: &[Call]) -> String {
    let mut out = String::new();
    let mut ts: u64 = 1_700_000_000_000_000_000;
    for (i, c) in calls.iter().enumerate() {
        let conn = json!({
            "id": format!("{:x}", 0x1000 + i),
            "local": {"address": "10.0.0.2", "port": 8080},
            "peer": {"address": c.client.0, "port": c.client.1},
            "network_type": "ipv4", "role": "server", "attribution": "kernel",
            "tls": false, "tls_library": null,
        });
        let process = json!({"pid": 77, "comm": "api"});
        let mut request = format!("{} {} HTTP/1.1\r\nHost: api.test\r\n", c.method, c.path);
        for h in &c.headers {
            request.push_str(h);
            request.push_str("\r\n");
        }
        let req_body = match &c.body {
            Some(body) => body.as_str(),
            None if c.method == "POST" || c.method == "PATCH" => r#"{"name":"x","quantity":2}"#,
            None => "",
        };
        if !req_body.is_empty() {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                req_body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(req_body);
        let (content_type, body) = match &c.response {
            Some((t, b)) => (t.clone(), b.clone()),
            None => (
                "application/json".to_owned(),
                format!(r#"{{"ok":true,"route":{},"id":{i}}}"#, c.route),
            ),
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let line = |v: serde_json::Value, out: &mut String| {
            out.push_str(&v.to_string());
            out.push('\n');
        };
        let stamp = |ts: u64| json!(ts);
        line(
            json!({"type": "conn_open", "ts_unix_ns": stamp(ts), "connection": conn,
                   "process": process, "fd": 9, "cgroup_id": 1}),
            &mut out,
        );
        for (k, (dir, syscall, bytes)) in [
            ("ingress", "read", request.as_bytes()),
            ("egress", "write", response.as_bytes()),
        ]
        .into_iter()
        .enumerate()
        {
            line(
                json!({"type": "data", "ts_unix_ns": stamp(ts + 100_000 * (k as u64 + 1)),
                       "connection": conn,
                       "process": {"pid": 77, "tid": 77, "comm": "api"}, "fd": 9,
                       "syscall": syscall, "direction": dir, "offset": 0, "len": bytes.len(),
                       "payload_b64": STANDARD.encode(bytes), "preview": ""}),
                &mut out,
            );
        }
        line(
            json!({"type": "conn_close", "ts_unix_ns": stamp(ts + 300_000), "connection": conn,
                   "process": process, "reason": "closed",
                   "egress": {"bytes": response.len(), "gap_bytes": 0},
                   "ingress": {"bytes": request.len(), "gap_bytes": 0}}),
            &mut out,
        );
        ts += 1_000_000;
    }
    out
}

/// `{anything}` → `{}`: templates compared by shape, not by parameter names.
pub fn normalize(template: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in template.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// (METHOD, template with `{}` parameters) of every operation in an OpenAPI document.
pub fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    let paths = doc["paths"]
        .as_object()
        .expect("an OpenAPI document has paths");
    for (path, item) in paths {
        for method in item.as_object().expect("a path item is an object").keys() {
            ops.insert((method.to_ascii_uppercase(), normalize(path)));
        }
    }
    ops
}
