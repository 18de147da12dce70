//! Generated traffic with a known truth for the detection tests: a population of benign users
//! (their own bearer tokens, human think-time, logins, lists, details, searches) and anonymous
//! visitors, to which one labelled attacker per scenario is added. Written as the `--raw` JSON
//! lines `monitor replay` reads, one connection per request, as the server saw it.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::json;

use crate::api_traffic::{Rng, word};

/// One request and the answer it got.
#[derive(Debug, Clone)]
pub struct Req {
    pub ts_ns: u64,
    pub ip: String,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// (content type, body).
    pub body: Option<(String, String)>,
    pub status: u16,
    pub response: (String, String),
    /// Whether the labelled attacker sent it.
    pub attacker: bool,
}

pub const SECOND: u64 = 1_000_000_000;
/// Where generated time starts (2023-11-14T22:13:20Z).
pub const T0: u64 = 1_700_000_000_000_000_000;
/// Benign traffic lasts this long; attackers start at [`ATTACK_START`].
pub const DURATION: u64 = 20 * 60 * SECOND;
pub const ATTACK_START: u64 = 12 * 60 * SECOND;

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "MyShopApp/4.2.1 (Android 14; Pixel 8)",
];

/// A harmless word list for searches and names.
const WORDS: &[&str] = &[
    "lamp",
    "chair",
    "desk",
    "blue",
    "garden",
    "kettle",
    "running shoes",
    "o'neill",
    "drop shipping",
    "select a plan",
    "union station",
    "order by price",
    "coffee & tea",
    "50% off",
    "c++ book",
    "kid's bike",
    "rock 'n' roll",
    "100% cotton",
    "a+b",
    "usb-c cable",
];

pub struct Traffic {
    pub reqs: Vec<Req>,
    rng: Rng,
}

impl Req {
    fn new(ts_ns: u64, ip: &str, method: &str, target: &str, ua: &str) -> Req {
        Req {
            ts_ns,
            ip: ip.to_owned(),
            method: method.to_owned(),
            target: target.to_owned(),
            headers: vec![("User-Agent".into(), ua.to_owned())],
            body: None,
            status: 200,
            response: ("application/json".into(), r#"{"ok":true}"#.into()),
            attacker: false,
        }
    }

    pub fn bearer(mut self, token: &str) -> Req {
        self.headers
            .push(("Authorization".into(), format!("Bearer {token}")));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(mut self, body: &str) -> Req {
        self.body = Some(("application/json".into(), body.to_owned()));
        self
    }

    pub fn form(mut self, body: &str) -> Req {
        self.body = Some(("application/x-www-form-urlencoded".into(), body.to_owned()));
        self
    }

    pub fn answer(mut self, status: u16, body: &str) -> Req {
        self.status = status;
        self.response = ("application/json".into(), body.to_owned());
        self
    }

    pub fn html(mut self, status: u16, body: &str) -> Req {
        self.status = status;
        self.response = ("text/html".into(), body.to_owned());
        self
    }
}

/// A request of the attacker (see [`Traffic::attack`]).
pub fn req(ts_ns: u64, ip: &str, method: &str, target: &str, ua: &str) -> Req {
    Req::new(ts_ns, ip, method, target, ua)
}

fn user_record(id: u64) -> String {
    format!(
        r#"{{"id":{id},"name":"{}","email":"{}.{id}@example.com","phone":"+1 415 555 {:04}"}}"#,
        word(id as usize),
        word(id as usize),
        id % 10_000
    )
}

impl Traffic {
    /// `users` benign users and `visitors` anonymous ones over [`DURATION`].
    pub fn benign(seed: u64, users: u64, visitors: u64) -> Traffic {
        let mut t = Traffic {
            reqs: Vec::new(),
            rng: Rng::new(seed),
        };
        for u in 0..users {
            t.user(u);
        }
        for v in 0..visitors {
            t.visitor(v);
        }
        t
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.below(items.len() as u64) as usize]
    }

    /// Seconds between `lo` and `hi`, in ns, uniformly.
    fn think(&mut self, lo: u64, hi: u64) -> u64 {
        lo * SECOND + self.rng.below((hi - lo) * SECOND)
    }

    fn user(&mut self, u: u64) {
        let ip = format!("198.51.{}.{}", 100 + u / 200, 10 + u % 200);
        let ua = self.pick(BROWSERS);
        let token = format!("tok-user-{u}-{}", self.rng.below(1 << 30));
        let interests: Vec<u64> = (0..12).map(|_| 1 + self.rng.below(500)).collect();
        let mut ts = self.rng.below(120 * SECOND);
        while ts < DURATION {
            // A session: log in, then 8–25 requests with think time.
            let name = format!("user{u}");
            if self.rng.below(20) == 0 {
                self.reqs.push(
                    Req::new(ts, &ip, "POST", "/login", ua)
                        .json(&format!(r#"{{"username":"{name}","password":"typo"}}"#))
                        .answer(401, r#"{"error":"invalid credentials"}"#),
                );
                ts += self.think(3, 10);
            }
            self.reqs.push(
                Req::new(ts, &ip, "POST", "/login", ua)
                    .json(&format!(r#"{{"username":"{name}","password":"pw-{u}"}}"#))
                    .answer(200, &format!(r#"{{"token":"{token}"}}"#)),
            );
            let n = 8 + self.rng.below(18);
            for _ in 0..n {
                ts += self.think(2, 25);
                let r = match self.rng.below(10) {
                    0 | 1 => {
                        let page = 1 + self.rng.below(4);
                        Req::new(
                            ts,
                            &ip,
                            "GET",
                            &format!("/api/items?page={page}&per_page=20"),
                            ua,
                        )
                        .answer(200, r#"{"items":[{"id":1},{"id":2}],"page":1}"#)
                    }
                    2..=4 => {
                        let id = interests[self.rng.below(interests.len() as u64) as usize];
                        let missing = self.rng.below(40) == 0;
                        Req::new(ts, &ip, "GET", &format!("/api/items/{id}"), ua).answer(
                            if missing { 404 } else { 200 },
                            &format!(
                                r#"{{"id":{id},"title":"{}","price":12.5}}"#,
                                word(id as usize)
                            ),
                        )
                    }
                    5 => Req::new(ts, &ip, "GET", &format!("/api/users/{}", 1000 + u), ua)
                        .answer(200, &user_record(1000 + u)),
                    6 => {
                        Req::new(ts, &ip, "GET", "/api/me", ua).answer(200, &user_record(1000 + u))
                    }
                    7 => {
                        let w = self.pick(WORDS);
                        let q: String = w
                            .bytes()
                            .map(|b| match b {
                                b' ' => "+".to_owned(),
                                b'\'' | b'&' | b'%' | b'+' => format!("%{b:02X}"),
                                _ => char::from(b).to_string(),
                            })
                            .collect();
                        Req::new(ts, &ip, "GET", &format!("/api/search?q={q}"), ua)
                            .answer(200, r#"{"results":[]}"#)
                    }
                    8 => {
                        let id = interests[self.rng.below(interests.len() as u64) as usize];
                        let note = self.pick(WORDS);
                        Req::new(ts, &ip, "POST", "/api/cart", ua)
                            .json(&format!(r#"{{"item":{id},"qty":1,"note":"{note}"}}"#))
                            .answer(201, r#"{"ok":true}"#)
                    }
                    _ => Req::new(ts, &ip, "GET", "/api/cart", ua).answer(200, r#"{"items":[]}"#),
                };
                self.reqs.push(r.bearer(&token));
            }
            ts += self.think(120, 400);
        }
    }

    fn visitor(&mut self, v: u64) {
        let ip = format!("192.0.2.{}", 10 + v % 240);
        let ua = self.pick(BROWSERS);
        let mut ts = self.rng.below(DURATION);
        for path in [
            "/",
            "/static/app.js",
            "/api/items?page=1&per_page=20",
            "/favicon.ico",
        ] {
            let r = Req::new(ts, &ip, "GET", path, ua);
            self.reqs.push(if path == "/favicon.ico" {
                r.html(404, "not found")
            } else {
                r.html(200, "<html>shop</html>")
            });
            ts += self.think(1, 6);
        }
    }

    /// Adds the attacker's requests (marked as such).
    pub fn attack(&mut self, reqs: impl IntoIterator<Item = Req>) -> &mut Self {
        self.reqs.extend(reqs.into_iter().map(|mut r| {
            r.attacker = true;
            r
        }));
        self
    }

    /// The requests in time order as `--raw` JSON lines.
    pub fn raw_lines(&mut self) -> String {
        self.reqs.sort_by_key(|r| r.ts_ns);
        let mut out = String::new();
        for (i, r) in self.reqs.iter().enumerate() {
            exchange(&mut out, i, r);
        }
        out
    }
}

fn exchange(out: &mut String, i: usize, r: &Req) {
    let ts = T0 + r.ts_ns;
    let conn = json!({
        "id": format!("{:x}", 0x10_0000 + i),
        "local": {"address": "10.0.0.2", "port": 8080},
        "peer": {"address": r.ip, "port": 20_000 + (i % 40_000) as u16},
        "network_type": if r.ip.contains(':') { "ipv6" } else { "ipv4" },
        "role": "server", "attribution": "kernel", "tls": false, "tls_library": null,
    });
    let process = json!({"pid": 77, "comm": "shop"});
    let mut request = format!("{} {} HTTP/1.1\r\nHost: shop.test\r\n", r.method, r.target);
    for (n, v) in &r.headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some((ct, body)) = &r.body {
        request.push_str(&format!(
            "Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        request.push_str("\r\n");
    }
    let (ct, body) = &r.response;
    let response = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n{body}",
        r.status,
        body.len()
    );
    let mut line = |v: serde_json::Value| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    line(
        json!({"type": "conn_open", "ts_unix_ns": ts, "connection": conn,
                "process": process, "fd": 9, "cgroup_id": 1}),
    );
    for (k, (dir, syscall, bytes)) in [
        ("ingress", "read", request.as_bytes()),
        ("egress", "write", response.as_bytes()),
    ]
    .into_iter()
    .enumerate()
    {
        line(
            json!({"type": "data", "ts_unix_ns": ts + 100_000 * (k as u64 + 1),
                    "connection": conn, "process": {"pid": 77, "tid": 77, "comm": "shop"},
                    "fd": 9, "syscall": syscall, "direction": dir, "offset": 0,
                    "len": bytes.len(), "payload_b64": STANDARD.encode(bytes), "preview": ""}),
        );
    }
    line(
        json!({"type": "conn_close", "ts_unix_ns": ts + 300_000, "connection": conn,
                "process": process, "reason": "closed",
                "egress": {"bytes": response.len(), "gap_bytes": 0},
                "ingress": {"bytes": request.len(), "gap_bytes": 0}}),
    );
}
