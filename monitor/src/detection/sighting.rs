//! One transaction as detection sees it: who (actor, session, client address, user agent),
//! what (service, method, path, template, bodies, AI tag, sensitive classes) and how it went
//! (status, latency), at the transaction's own time.

use std::net::IpAddr;

use crate::{
    conn::Role,
    discovery::{ai::AiCall, inventory::ServiceKey, sensitive::ClassSet},
    session::{
        actor::{Actor, AuthScheme},
        tracker::SessionId,
    },
    transaction::Headers,
};

#[derive(Debug, Clone, Copy)]
pub struct Sighting<'a> {
    /// Monotonic ns of the first request byte.
    pub ts_ns: u64,
    pub actor: Actor,
    pub session: SessionId,
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub auth: AuthScheme,
    /// The server's address and Host.
    pub service: Option<&'a ServiceKey>,
    /// Which side of the connection the observed process was.
    pub role: Role,
    pub method: &'a str,
    /// The path as sent (percent-encoded), starting with `/` for origin-form targets.
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// The endpoint's learned template (`/users/{userId}`), when discovery counted it.
    pub template: Option<&'a str>,
    /// `METHOD template`, with the template.
    pub label: Option<&'a str>,
    pub request_headers: &'a Headers,
    pub request_type: Option<&'a str>,
    /// Decoded (content-encoding undone), maybe cut short.
    pub request_body: &'a [u8],
    /// None without a response.
    pub status: Option<u16>,
    pub response_headers: Option<&'a Headers>,
    pub response_type: Option<&'a str>,
    pub response_body: &'a [u8],
    pub latency_ns: Option<u64>,
    pub ai: Option<&'a AiCall>,
    pub request_classes: ClassSet,
    pub response_classes: ClassSet,
}
