//! Who made a request: the most specific identity it carries (a JWT's subject, a bearer token,
//! an API key, a session cookie, a Basic-auth user, else the client address and user agent),
//! reduced to a keyed hash so no secret or personal value reaches the output.

use std::net::IpAddr;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::transaction::{Headers, HttpRequest};

/// What the actor's identity was taken from, most specific first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A JWT's issuer and subject (or client id), decoded without verifying the signature.
    Jwt,
    /// An opaque bearer token.
    Bearer,
    /// An API key (header, query parameter, or another Authorization scheme).
    ApiKey,
    /// A session cookie.
    Cookie,
    /// A Basic-auth user name.
    Basic,
    /// The client address and user agent (no credential seen).
    Ip,
}

impl ActorKind {
    pub const fn name(self) -> &'static str {
        match self {
            ActorKind::Jwt => "jwt",
            ActorKind::Bearer => "bearer",
            ActorKind::ApiKey => "api_key",
            ActorKind::Cookie => "cookie",
            ActorKind::Basic => "basic",
            ActorKind::Ip => "ip",
        }
    }
}

/// How a request authenticated, for the endpoint inventory.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AuthScheme {
    None,
    Basic,
    Bearer,
    Jwt,
    ApiKey,
    Cookie,
}

impl AuthScheme {
    pub const fn name(self) -> &'static str {
        match self {
            AuthScheme::None => "none",
            AuthScheme::Basic => "basic",
            AuthScheme::Bearer => "bearer",
            AuthScheme::Jwt => "jwt",
            AuthScheme::ApiKey => "api_key",
            AuthScheme::Cookie => "cookie",
        }
    }
}

/// An actor: a keyed hash (16 hex digits) and what it was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Actor {
    pub id: ActorId,
    pub kind: ActorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActorId(pub [u8; 8]);

impl ActorId {
    /// The id as 16 lowercase hex digits (ASCII), without the formatting machinery: written
    /// into every transaction's actor and session ids.
    pub fn hex(&self) -> [u8; 16] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 16];
        for (i, b) in self.0.iter().enumerate() {
            text[2 * i] = HEX[usize::from(b >> 4)];
            text[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        text
    }

    /// Appends the id's hex digits to `out`.
    pub fn push_hex(&self, out: &mut String) {
        for &digit in &self.hex() {
            out.push(char::from(digit));
        }
    }
}

impl std::fmt::Display for ActorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = String::with_capacity(16);
        self.push_hex(&mut text);
        f.write_str(&text)
    }
}

/// Everything one request says about who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub actor: Actor,
    pub auth: AuthScheme,
    /// The client's address: the peer, or what trusted proxies forwarded.
    pub client_ip: Option<IpAddr>,
    /// The User-Agent, cut to `MAX_USER_AGENT` bytes.
    pub user_agent: Option<String>,
}

/// User agents longer than this are cut (they are attacker-controlled).
pub const MAX_USER_AGENT: usize = 256;

/// Where credentials are looked for, and whose forwarding headers are believed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActorConfig {
    /// Proxies (addresses or CIDR ranges) whose X-Forwarded-For / Forwarded headers name the
    /// client; from any other peer these headers are ignored (a client can forge them).
    pub trusted_proxies: Vec<IpNet>,
    /// Request headers carrying an API key (case-insensitive).
    pub api_key_headers: Vec<String>,
    /// Query parameters carrying an API key.
    pub api_key_params: Vec<String>,
    /// Cookies that identify a session (case-insensitive; any name containing `session` also does).
    pub session_cookies: Vec<String>,
}

impl Default for ActorConfig {
    fn default() -> Self {
        let owned = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        Self {
            trusted_proxies: Vec::new(),
            api_key_headers: owned(&[
                "x-api-key",
                "api-key",
                "apikey",
                "x-apikey",
                "x-auth-token",
                "x-access-token",
                "x-goog-api-key",
            ]),
            api_key_params: owned(&[
                "api_key",
                "apikey",
                "api-key",
                "key",
                "access_token",
                "token",
            ]),
            session_cookies: owned(&[
                "sid",
                "connect.sid",
                "jsessionid",
                "phpsessid",
                "_session_id",
            ]),
        }
    }
}

pub struct ActorResolver {
    config: ActorConfig,
    mac: Hmac<Sha256>,
    /// Ids of recent identities: a client sends the same credential with every request, and
    /// the keyed hash is the costliest step here. Bounded: starts over when full.
    memo: std::cell::RefCell<foldhash::HashMap<Box<[u8]>, ActorId>>,
}

/// Identities whose id is remembered.
const ACTOR_MEMO: usize = 4096;
/// Longer material is hashed every time.
const ACTOR_MEMO_MAX_LEN: usize = 512;

impl std::fmt::Debug for ActorResolver {
    // The keyed state stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorResolver").finish_non_exhaustive()
    }
}

/// A credential found in a request: the actor's kind, the auth scheme, the material hashed.
struct Credential<'a> {
    kind: ActorKind,
    auth: AuthScheme,
    material: std::borrow::Cow<'a, [u8]>,
}

impl ActorResolver {
    /// `key`: the run's redaction key; actor ids are HMAC-SHA256 under it, domain-separated.
    pub fn new(config: &ActorConfig, key: [u8; 32]) -> Self {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&key);
        Self {
            config: config.clone(),
            mac: <Hmac<Sha256> as KeyInit>::new(&block.into()),
            memo: Default::default(),
        }
    }

    /// Who sent `request`, which came from `peer` (the connection's client address).
    pub fn identify(&self, request: &HttpRequest, peer: Option<IpAddr>) -> Identity {
        let headers = &request.headers;
        let client_ip = peer.map(|p| self.client_ip(p, headers));
        let user_agent = headers
            .get_str("user-agent")
            .map(|ua| cut(ua, MAX_USER_AGENT));
        let (actor, auth) = match self.credential(request) {
            Some(c) => (
                Actor {
                    id: self.hash(c.kind, &c.material),
                    kind: c.kind,
                },
                c.auth,
            ),
            None => {
                let mut material = client_ip.map(|ip| ip.to_string()).unwrap_or_default();
                material.push('\0');
                material.push_str(user_agent.as_deref().unwrap_or(""));
                (
                    Actor {
                        id: self.hash(ActorKind::Ip, material.as_bytes()),
                        kind: ActorKind::Ip,
                    },
                    AuthScheme::None,
                )
            }
        };
        Identity {
            actor,
            auth,
            client_ip,
            user_agent,
        }
    }

    fn hash(&self, kind: ActorKind, material: &[u8]) -> ActorId {
        if material.len() > ACTOR_MEMO_MAX_LEN {
            return self.hash_uncached(kind, material);
        }
        let mut key = Vec::with_capacity(material.len() + 1);
        key.push(kind as u8);
        key.extend_from_slice(material);
        if let Some(id) = self.memo.borrow().get(key.as_slice()) {
            return *id;
        }
        let id = self.hash_uncached(kind, material);
        let mut memo = self.memo.borrow_mut();
        if memo.len() >= ACTOR_MEMO {
            memo.clear();
        }
        memo.insert(key.into_boxed_slice(), id);
        id
    }

    fn hash_uncached(&self, kind: ActorKind, material: &[u8]) -> ActorId {
        let mut mac = self.mac.clone();
        mac.update(b"actor/v1\0");
        mac.update(kind.name().as_bytes());
        mac.update(b"\0");
        mac.update(material);
        let tag = mac.finalize().into_bytes();
        let mut id = [0u8; 8];
        id.copy_from_slice(&tag[..8]);
        ActorId(id)
    }

    fn credential<'a>(&'a self, request: &'a HttpRequest) -> Option<Credential<'a>> {
        let headers = &request.headers;
        if let Some(value) = headers.get_str("authorization") {
            let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
            let rest = rest.trim();
            if !rest.is_empty() {
                if scheme.eq_ignore_ascii_case("bearer") {
                    return Some(match jwt_subject(rest) {
                        Some(subject) => Credential {
                            kind: ActorKind::Jwt,
                            auth: AuthScheme::Jwt,
                            material: subject.into_bytes().into(),
                        },
                        None => Credential {
                            kind: ActorKind::Bearer,
                            auth: AuthScheme::Bearer,
                            material: rest.as_bytes().into(),
                        },
                    });
                }
                if scheme.eq_ignore_ascii_case("basic") {
                    if let Some(user) = basic_user(rest) {
                        return Some(Credential {
                            kind: ActorKind::Basic,
                            auth: AuthScheme::Basic,
                            material: user.into_bytes().into(),
                        });
                    }
                } else {
                    // `Token …`, `ApiKey …`, `SSWS …`: a key under another name.
                    return Some(Credential {
                        kind: ActorKind::ApiKey,
                        auth: AuthScheme::ApiKey,
                        material: rest.as_bytes().into(),
                    });
                }
            }
        }
        for name in &self.config.api_key_headers {
            if let Some(value) = headers.get_all(name).find(|v| !v.is_empty()) {
                return Some(Credential {
                    kind: ActorKind::ApiKey,
                    auth: AuthScheme::ApiKey,
                    material: value.into(),
                });
            }
        }
        if let Some(key) = self.query_key(&request.target) {
            return Some(Credential {
                kind: ActorKind::ApiKey,
                auth: AuthScheme::ApiKey,
                material: key.into(),
            });
        }
        self.session_cookie(headers).map(|value| Credential {
            kind: ActorKind::Cookie,
            auth: AuthScheme::Cookie,
            material: value.into(),
        })
    }

    fn query_key<'a>(&self, target: &'a str) -> Option<&'a [u8]> {
        let (_, query) = target.split_once('?')?;
        let query = query.split('#').next().unwrap_or(query);
        query.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let wanted = self
                .config
                .api_key_params
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name));
            (wanted && !value.is_empty()).then_some(value.as_bytes())
        })
    }

    fn session_cookie<'a>(&'a self, headers: &'a Headers) -> Option<&'a [u8]> {
        headers.get_all("cookie").find_map(|line| {
            line.split(|b| *b == b';').find_map(|pair| {
                let eq = pair.iter().position(|b| *b == b'=')?;
                let name = std::str::from_utf8(&pair[..eq]).ok()?.trim();
                let value = trim_bytes(&pair[eq + 1..]);
                let lower = name.to_ascii_lowercase();
                let wanted = lower.contains("session")
                    || self
                        .config
                        .session_cookies
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(name));
                (wanted && !value.is_empty()).then_some(value)
            })
        })
    }

    /// The peer, or — when the peer is a trusted proxy — the nearest untrusted address its
    /// forwarding headers name (right to left: each proxy appends what it saw).
    fn client_ip(&self, peer: IpAddr, headers: &Headers) -> IpAddr {
        if !self.trusted(peer) {
            return peer;
        }
        let mut hops: Vec<IpAddr> = Vec::new();
        for line in headers.get_all("x-forwarded-for") {
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            hops.extend(line.split(',').filter_map(|h| parse_hop(h.trim())));
        }
        if hops.is_empty() {
            for line in headers.get_all("forwarded") {
                let Ok(line) = std::str::from_utf8(line) else {
                    continue;
                };
                for element in line.split(',') {
                    for pair in element.split(';') {
                        if let Some((k, v)) = pair.trim().split_once('=')
                            && k.trim().eq_ignore_ascii_case("for")
                        {
                            hops.extend(parse_hop(v.trim().trim_matches('"')));
                        }
                    }
                }
            }
        }
        hops.iter()
            .rev()
            .find(|ip| !self.trusted(**ip))
            .or(hops.first())
            .copied()
            .unwrap_or(peer)
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.config
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&ip))
    }
}

/// `1.2.3.4`, `1.2.3.4:80`, `[::1]`, `[::1]:80`, `::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    hop.rsplit_once(':')?.0.parse().ok()
}

fn trim_bytes(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// `iss\0sub` (or `iss\0client_id`/`azp`) of a JWT, decoded without verifying it; `None` when
/// `token` is not a JWT or names nobody.
pub fn jwt_subject(token: &str) -> Option<String> {
    let claims = jwt_claims(token)?;
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str());
    let who = text("sub")
        .or_else(|| text("client_id"))
        .or_else(|| text("azp"))?;
    Some(format!("{}\0{who}", text("iss").unwrap_or("")))
}

/// A JWT's claims object, when `token` is a JWS in compact form with a JSON header naming an
/// `alg`.
pub fn jwt_claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut parts = token.split('.');
    let (header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 16 * 1024 {
        return None;
    }
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()
    };
    let header: serde_json::Value = serde_json::from_slice(&decode(header)?).ok()?;
    header.get("alg")?;
    match serde_json::from_slice(&decode(payload)?).ok()? {
        serde_json::Value::Object(claims) => Some(claims),
        _ => None,
    }
}

fn basic_user(credentials: &str) -> Option<String> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, _password) = text.split_once(':')?;
    (!user.is_empty()).then(|| user.to_owned())
}

#[cfg(test)]
mod tests;
