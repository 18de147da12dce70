//! Sightings for unit tests: a plain anonymous GET, changed field by field by each test.

use super::sighting::Sighting;
use crate::{
    conn::Role,
    discovery::sensitive::ClassSet,
    session::{
        actor::{Actor, ActorId, ActorKind, AuthScheme},
        tracker::SessionId,
    },
    transaction::Headers,
};

/// Headers that live for the whole test run.
pub fn headers(fields: &[(&str, &str)]) -> &'static Headers {
    let mut h = Headers::default();
    for (n, v) in fields {
        h.push(n, v.as_bytes());
    }
    Box::leak(Box::new(h))
}

pub fn sighting(method: &'static str, path: &'static str) -> Sighting<'static> {
    let actor = Actor {
        id: ActorId([1; 8]),
        kind: ActorKind::Ip,
    };
    Sighting {
        ts_ns: 1_000_000_000,
        actor,
        session: SessionId {
            actor: actor.id,
            start_ns: 0,
        },
        client_ip: "192.0.2.1".parse().ok(),
        user_agent: Some("test-agent/1.0"),
        auth: AuthScheme::None,
        service: None,
        role: Role::Server,
        method,
        path,
        query: None,
        template: None,
        label: None,
        request_headers: headers(&[]),
        request_type: None,
        request_body: b"",
        status: Some(200),
        response_headers: None,
        response_type: None,
        response_body: b"",
        latency_ns: Some(1_000_000),
        ai: None,
        request_classes: ClassSet::empty(),
        response_classes: ClassSet::empty(),
    }
}
