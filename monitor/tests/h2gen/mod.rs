//! Test-only generator of HTTP/2 conversations: frames built by hand, header blocks by a
//! maintained HPACK encoder (loona-hpack), written as golden scripts (`> bytes` / `< bytes`)
//! or handed to tests as (direction, bytes) items. `UPDATE_GOLDEN=1` rewrites the scripts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

pub mod feed;

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub mod kind {
    pub const DATA: u8 = 0;
    pub const HEADERS: u8 = 1;
    pub const RST_STREAM: u8 = 3;
    pub const SETTINGS: u8 = 4;
    pub const PUSH_PROMISE: u8 = 5;
    pub const PING: u8 = 6;
    pub const GOAWAY: u8 = 7;
    pub const WINDOW_UPDATE: u8 = 8;
    pub const CONTINUATION: u8 = 9;
}

pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY: u8 = 0x20;

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let l = (payload.len() as u32).to_be_bytes();
    let s = stream.to_be_bytes();
    let mut f = vec![l[1], l[2], l[3], kind, flags, s[0], s[1], s[2], s[3]];
    f.extend_from_slice(payload);
    f
}

pub fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in params {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(kind::SETTINGS, 0, 0, &p)
}

/// One item of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Written by the observed process (the client here).
    Out(Vec<u8>),
    /// Read by it.
    In(Vec<u8>),
    Comment(String),
    /// Script directives (`@attribution proc`...).
    Directive(String),
}

/// A conversation being written: one encoder per direction, as two real peers have.
pub struct Conversation {
    pub client: loona_hpack::Encoder<'static>,
    pub server: loona_hpack::Encoder<'static>,
    pub items: Vec<Item>,
    /// What each request header block really said, by `:path` (for the join test).
    pub truth: BTreeMap<String, Vec<(String, String)>>,
}

pub type Fields<'a> = &'a [(&'a str, &'a str)];

impl Default for Conversation {
    fn default() -> Self {
        Self::new()
    }
}

impl Conversation {
    pub fn new() -> Self {
        Conversation {
            client: loona_hpack::Encoder::new(),
            server: loona_hpack::Encoder::new(),
            items: Vec::new(),
            truth: BTreeMap::new(),
        }
    }

    pub fn comment(&mut self, c: &str) {
        self.items.push(Item::Comment(c.to_owned()));
    }

    pub fn directive(&mut self, d: &str) {
        self.items.push(Item::Directive(d.to_owned()));
    }

    pub fn out(&mut self, b: Vec<u8>) {
        self.items.push(Item::Out(b));
    }

    pub fn inb(&mut self, b: Vec<u8>) {
        self.items.push(Item::In(b));
    }

    /// The usual start: preface and SETTINGS each way, and their ACKs.
    pub fn start(&mut self) {
        let mut c = PREFACE.to_vec();
        c.extend(settings(&[(3, 100), (4, 65535)]));
        self.out(c);
        let mut s = settings(&[(3, 128)]);
        s.extend(frame(kind::SETTINGS, 1, 0, &[]));
        self.inb(s);
        self.out(frame(kind::SETTINGS, 1, 0, &[]));
    }

    pub fn request_block(&mut self, fields: Fields<'_>) -> Vec<u8> {
        if let Some((_, p)) = fields.iter().find(|(n, _)| *n == ":path") {
            self.truth.insert(
                (*p).to_owned(),
                fields
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
            );
        }
        encode(&mut self.client, fields)
    }

    pub fn response_block(&mut self, fields: Fields<'_>) -> Vec<u8> {
        encode(&mut self.server, fields)
    }

    /// A HEADERS frame from the client, ending its headers.
    pub fn request(&mut self, stream: u32, fields: Fields<'_>, end_stream: bool) -> Vec<u8> {
        let block = self.request_block(fields);
        let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
        frame(kind::HEADERS, flags, stream, &block)
    }

    pub fn response(&mut self, stream: u32, fields: Fields<'_>, end_stream: bool) -> Vec<u8> {
        let block = self.response_block(fields);
        let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
        frame(kind::HEADERS, flags, stream, &block)
    }

    pub fn data(stream: u32, body: &[u8], end_stream: bool) -> Vec<u8> {
        frame(
            kind::DATA,
            if end_stream { END_STREAM } else { 0 },
            stream,
            body,
        )
    }

    /// The golden script.
    pub fn script(&self) -> String {
        let mut s = String::new();
        for item in &self.items {
            match item {
                Item::Comment(c) => s += &format!("# {c}\n"),
                Item::Directive(d) => s += &format!("@{d}\n"),
                Item::Out(b) => s += &format!("> {}\n", escape(b)),
                Item::In(b) => s += &format!("< {}\n", escape(b)),
            }
        }
        s
    }
}

pub fn encode(enc: &mut loona_hpack::Encoder<'static>, fields: Fields<'_>) -> Vec<u8> {
    enc.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

/// A dynamic table size update (RFC 7541 §6.3), to put before a block.
pub fn size_update(size: usize) -> Vec<u8> {
    let mut b = loona_hpack::encoder::encode_integer(size, 5);
    b[0] |= 0x20;
    b
}

/// Script escaping: printable ASCII as is (but `\`), everything else `\xNN`.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    // A trailing space would be kept by the reader, but an editor may strip it.
    if s.ends_with(' ') {
        s.pop();
        s.push_str("\\x20");
    }
    s
}

const GET: &str = "GET";

fn req<'a>(method: &'a str, path: &'a str, extra: Fields<'a>) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        (":method", method),
        (":scheme", "http"),
        (":authority", "api.example"),
        (":path", path),
    ];
    f.extend_from_slice(extra);
    f
}

/// Every golden conversation, by file name.
pub fn goldens() -> Vec<(&'static str, Conversation)> {
    vec![
        ("multiplexed", multiplexed()),
        ("continuation", continuation()),
        ("padding", padding()),
        ("table_eviction", table_eviction()),
        ("table_size_update", table_size_update()),
        ("trailers", trailers()),
        ("rst_stream", rst_stream()),
        ("goaway", goaway()),
        ("push_promise", push_promise()),
        ("joined_midway", joined_midway().0),
        ("h2c_upgrade", h2c_upgrade()),
    ]
}

pub fn multiplexed() -> Conversation {
    let mut c = Conversation::new();
    c.comment("Three streams interleaved; responses come out of order; a POST body in two frames.");
    c.start();
    let a = c.request(1, &req(GET, "/a", &[("accept", "*/*")]), true);
    let b = c.request(
        3,
        &req("POST", "/b", &[("content-type", "application/json")]),
        false,
    );
    let mut both = a;
    both.extend(b);
    c.out(both);
    c.out(Conversation::data(3, b"{\"x\":", false));
    let d = c.request(5, &req(GET, "/c?q=1", &[("accept", "*/*")]), true);
    c.out(d);
    c.out(Conversation::data(3, b"1}", true));
    let r5 = c.response(5, &[(":status", "404"), ("content-length", "0")], true);
    c.inb(r5);
    let r1 = c.response(
        1,
        &[(":status", "200"), ("content-type", "text/plain")],
        false,
    );
    let mut r1 = r1;
    r1.extend(Conversation::data(1, b"hello ", false));
    let r3 = c.response(
        3,
        &[(":status", "201"), ("content-type", "text/plain")],
        false,
    );
    r1.extend(r3);
    r1.extend(Conversation::data(1, b"world", true));
    r1.extend(Conversation::data(3, b"made", true));
    c.inb(r1);
    c
}

pub fn continuation() -> Conversation {
    let mut c = Conversation::new();
    c.comment("A request's header block in HEADERS and two CONTINUATIONs, the response's in two.");
    c.start();
    let long = "v".repeat(300);
    let block = c.request_block(&req(
        GET,
        "/long",
        &[("x-long", &long), ("x-other", "o"), ("accept", "*/*")],
    ));
    let (p1, rest) = block.split_at(20);
    let (p2, p3) = rest.split_at(150);
    let mut b = frame(kind::HEADERS, END_STREAM, 1, p1);
    b.extend(frame(kind::CONTINUATION, 0, 1, p2));
    b.extend(frame(kind::CONTINUATION, END_HEADERS, 1, p3));
    c.out(b);
    let block = c.response_block(&[(":status", "200"), ("x-served-by", "golden")]);
    let (p1, p2) = block.split_at(3);
    let mut b = frame(kind::HEADERS, 0, 1, p1);
    b.extend(frame(kind::CONTINUATION, END_HEADERS, 1, p2));
    b.extend(Conversation::data(1, b"ok", true));
    c.inb(b);
    c
}

pub fn padding() -> Conversation {
    let mut c = Conversation::new();
    c.comment("Padded HEADERS with priority, padded DATA: the padding is not body.");
    c.start();
    let block = c.request_block(&req("PUT", "/pad", &[]));
    let mut payload = vec![5u8];
    payload.extend_from_slice(&[0, 0, 0, 0, 15]);
    payload.extend_from_slice(&block);
    payload.extend_from_slice(&[0; 5]);
    c.out(frame(
        kind::HEADERS,
        PADDED | PRIORITY | END_HEADERS,
        1,
        &payload,
    ));
    let mut d = vec![10u8];
    d.extend_from_slice(b"body!");
    d.extend_from_slice(&[0; 10]);
    c.out(frame(kind::DATA, PADDED | END_STREAM, 1, &d));
    let r = c.response(1, &[(":status", "204")], true);
    c.inb(r);
    c
}

pub fn table_eviction() -> Conversation {
    let mut c = Conversation::new();
    c.comment("A 256-octet table (SETTINGS_HEADER_TABLE_SIZE): distinct headers evict older ones,");
    c.comment("repeated ones are sent as indexes while they last.");
    let mut b = PREFACE.to_vec();
    b.extend(settings(&[(1, 256)]));
    c.out(b);
    let mut s = settings(&[(1, 256)]);
    s.extend(frame(kind::SETTINGS, 1, 0, &[]));
    c.inb(s);
    c.server.set_max_table_size(256);
    for i in 0..6u32 {
        let stream = 2 * i + 1;
        let path = format!("/e/{i}");
        let tag = format!("tag-{i}-{}", "x".repeat(40));
        let extra = [("x-tag", tag.as_str()), ("x-shared", "same-every-time")];
        let r = c.request(stream, &req(GET, &path, &extra), true);
        c.out(r);
        let mut block = if i == 0 { size_update(256) } else { Vec::new() };
        let etag = format!("\"{}-{i}\"", "e".repeat(60));
        block.extend(c.response_block(&[
            (":status", "200"),
            ("etag", &etag),
            ("server", "golden"),
        ]));
        let mut f = frame(kind::HEADERS, END_HEADERS, stream, &block);
        f.extend(Conversation::data(stream, format!("r{i}").as_bytes(), true));
        c.inb(f);
    }
    c
}

pub fn table_size_update() -> Conversation {
    let mut c = Conversation::new();
    c.comment("The server's encoder shrinks its table to 0 (evicting everything), then grows it.");
    c.start();
    for (i, size) in [None, Some(0usize), Some(4096)].into_iter().enumerate() {
        let stream = 2 * i as u32 + 1;
        let path = format!("/s/{i}");
        let r = c.request(stream, &req(GET, &path, &[]), true);
        c.out(r);
        let mut block = Vec::new();
        if let Some(size) = size {
            c.server.set_max_table_size(size);
            block.extend(size_update(size));
        }
        block.extend(c.response_block(&[(":status", "200"), ("x-table", "kept")]));
        let mut f = frame(kind::HEADERS, END_HEADERS, stream, &block);
        f.extend(Conversation::data(stream, b"x", true));
        c.inb(f);
    }
    c
}

pub fn trailers() -> Conversation {
    let mut c = Conversation::new();
    c.comment("A gRPC-style call: request and response bodies, status in the response trailers.");
    c.start();
    let r = c.request(
        1,
        &req(
            "POST",
            "/pkg.Svc/Call",
            &[("content-type", "application/grpc"), ("te", "trailers")],
        ),
        false,
    );
    c.out(r);
    c.out(Conversation::data(1, b"\0\0\0\0\x02\x08\x01", true));
    let mut b = c.response(
        1,
        &[(":status", "200"), ("content-type", "application/grpc")],
        false,
    );
    b.extend(Conversation::data(1, b"\0\0\0\0\x02\x08\x02", false));
    let t = c.response_block(&[("grpc-status", "0"), ("grpc-message", "ok")]);
    b.extend(frame(kind::HEADERS, END_HEADERS | END_STREAM, 1, &t));
    c.inb(b);
    c
}

pub fn rst_stream() -> Conversation {
    let mut c = Conversation::new();
    c.comment("The client resets stream 1 mid-response (CANCEL); stream 3 goes on.");
    c.start();
    let r1 = c.request(1, &req(GET, "/big", &[]), true);
    let r3 = c.request(3, &req(GET, "/small", &[]), true);
    let mut b = r1;
    b.extend(r3);
    c.out(b);
    let mut b = c.response(1, &[(":status", "200")], false);
    b.extend(Conversation::data(1, &[b'z'; 100], false));
    c.inb(b);
    c.out(frame(kind::RST_STREAM, 0, 1, &8u32.to_be_bytes()));
    let mut b = c.response(3, &[(":status", "200")], false);
    b.extend(Conversation::data(3, b"s", true));
    c.inb(b);
    c
}

pub fn goaway() -> Conversation {
    let mut c = Conversation::new();
    c.comment("The server answers stream 1 and sends GOAWAY with last-stream-id 1: 3 and 5 were");
    c.comment("never processed.");
    c.start();
    let mut b = Vec::new();
    for (s, p) in [(1, "/one"), (3, "/three"), (5, "/five")] {
        b.extend(c.request(s, &req(GET, p, &[]), true));
    }
    c.out(b);
    let mut b = c.response(1, &[(":status", "200")], false);
    b.extend(Conversation::data(1, b"1", true));
    let mut g = 1u32.to_be_bytes().to_vec();
    g.extend_from_slice(&0u32.to_be_bytes());
    g.extend_from_slice(b"bye");
    b.extend(frame(kind::GOAWAY, 0, 0, &g));
    c.inb(b);
    c
}

pub fn push_promise() -> Conversation {
    let mut c = Conversation::new();
    c.comment("The server promises /style.css on stream 2 and pushes it: counted, not reported;");
    c.comment("the promise's header block still updates the server's HPACK table.");
    c.start();
    let r = c.request(1, &req(GET, "/page", &[]), true);
    c.out(r);
    let promised = c.response_block(&req(GET, "/style.css", &[]));
    let mut p = 2u32.to_be_bytes().to_vec();
    p.extend(promised);
    let mut b = frame(kind::PUSH_PROMISE, END_HEADERS, 1, &p);
    b.extend(c.response(
        1,
        &[(":status", "200"), ("content-type", "text/html")],
        false,
    ));
    b.extend(Conversation::data(1, b"<html>", true));
    b.extend(c.response(
        2,
        &[(":status", "200"), ("content-type", "text/css")],
        false,
    ));
    b.extend(Conversation::data(2, b"p{}", true));
    // After the push, the server's table holds the promise's entries: indexes must line up.
    let r = c.request(3, &req(GET, "/next", &[]), true);
    c.out(r);
    b.extend(c.response(3, &[(":status", "200"), ("content-type", "text/css")], true));
    c.inb(b);
    c
}

/// A long conversation whose first part the monitor never saw: the script starts inside a
/// frame in each direction. Returns the truth of every request block sent.
pub fn joined_midway() -> (Conversation, BTreeMap<String, Vec<(String, String)>>) {
    let mut full = Conversation::new();
    full.start();
    let mut cut_at = (0usize, 0usize);
    let mut sent = (0usize, 0usize);
    let mut items = Vec::new();
    for i in 0..24u32 {
        let stream = 2 * i + 1;
        let path = format!("/item/{i}");
        let user = format!("user-{}", i % 3);
        let r = full.request(
            stream,
            &req(
                GET,
                &path,
                &[
                    ("x-user", user.as_str()),
                    ("x-client", "golden-client/1.0"),
                    ("accept", "application/json"),
                ],
            ),
            true,
        );
        let kind_v = format!("k{}", i % 4);
        let mut b = full.response(
            stream,
            &[
                (":status", "200"),
                ("content-type", "application/json"),
                ("x-kind", kind_v.as_str()),
            ],
            false,
        );
        b.extend(Conversation::data(
            stream,
            format!("{{\"id\":{i},\"pad\":\"{}\"}}", "p".repeat(30)).as_bytes(),
            true,
        ));
        b.extend(frame(kind::PING, 0, 0, &[i as u8; 8]));
        b.extend(frame(kind::WINDOW_UPDATE, 0, 0, &1000u32.to_be_bytes()));
        if i == 8 {
            // The monitor attaches here, 5 octets into each direction's next frame.
            cut_at = (sent.0 + 5, sent.1 + 5);
        }
        sent.0 += r.len();
        sent.1 += b.len();
        items.push(Item::Out(r));
        items.push(Item::In(b));
    }
    // Bytes of each direction before the cut are dropped.
    let mut c = Conversation::new();
    c.comment("Joined mid-way (attached to a running connection): both directions start inside a");
    c.comment("frame; header fields that index entries never seen are unknown, none is wrong.");
    c.directive("attribution proc");
    let mut pos = (0usize, 0usize);
    for item in items {
        let (is_out, b) = match item {
            Item::Out(b) => (true, b),
            Item::In(b) => (false, b),
            _ => continue,
        };
        let (at, cut) = if is_out {
            (&mut pos.0, cut_at.0)
        } else {
            (&mut pos.1, cut_at.1)
        };
        let start = *at;
        *at += b.len();
        if *at <= cut {
            continue;
        }
        let b = b[cut.saturating_sub(start)..].to_vec();
        c.items
            .push(if is_out { Item::Out(b) } else { Item::In(b) });
    }
    let truth = full.truth.clone();
    c.truth = truth.clone();
    (c, truth)
}

pub fn h2c_upgrade() -> Conversation {
    let mut c = Conversation::new();
    c.comment("HTTP/1.1 Upgrade: h2c answered 101: the request is stream 1 (emitted once, its");
    c.comment("response from HTTP/2 frames that follow the 101 in the same read), then stream 3.");
    c.out(
        b"GET /up HTTP/1.1\r\nHost: api.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
            .to_vec(),
    );
    let mut b =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".to_vec();
    b.extend(settings(&[(3, 100)]));
    b.extend(c.response(
        1,
        &[(":status", "200"), ("content-type", "text/plain")],
        false,
    ));
    b.extend(Conversation::data(1, b"upgraded", true));
    c.inb(b);
    let mut p = PREFACE.to_vec();
    p.extend(settings(&[]));
    p.extend(frame(kind::SETTINGS, 1, 0, &[]));
    c.out(p);
    let r = c.request(3, &req(GET, "/after", &[]), true);
    c.out(r);
    let mut b = c.response(3, &[(":status", "200")], false);
    b.extend(Conversation::data(3, b"2", true));
    c.inb(b);
    c
}
