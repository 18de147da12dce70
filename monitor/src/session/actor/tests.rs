use base64::Engine as _;

use super::*;

const KEY: [u8; 32] = [7; 32];

fn request(target: &str, headers: &[(&str, &str)]) -> HttpRequest {
    let mut h = Headers::default();
    for (n, v) in headers {
        h.push(n, v.as_bytes());
    }
    HttpRequest {
        method: "GET".into(),
        target: target.into(),
        version: "1.1",
        headers: h,
        body: Default::default(),
        trailers: Default::default(),
        first_ts_ns: 0,
        last_ts_ns: 0,
    }
}

fn jwt(claims: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.sig",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(claims)
    )
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

#[test]
fn a_jwt_subject_is_one_actor_across_tokens_and_addresses() {
    let r = ActorResolver::new(&ActorConfig::default(), KEY);
    let t1 = jwt(r#"{"iss":"https://idp","sub":"alice","iat":1}"#);
    let t2 = jwt(r#"{"iss":"https://idp","sub":"alice","iat":2}"#);
    let a = r.identify(
        &request("/x", &[("Authorization", &format!("Bearer {t1}"))]),
        ip("10.0.0.1"),
    );
    let b = r.identify(
        &request("/y", &[("authorization", &format!("bearer {t2}"))]),
        ip("10.9.9.9"),
    );
    assert_eq!(a.actor, b.actor);
    assert_eq!(a.actor.kind, ActorKind::Jwt);
    assert_eq!(a.auth, AuthScheme::Jwt);
    let bob = jwt(r#"{"iss":"https://idp","sub":"bob"}"#);
    let c = r.identify(
        &request("/x", &[("Authorization", &format!("Bearer {bob}"))]),
        ip("10.0.0.1"),
    );
    assert_ne!(a.actor.id, c.actor.id);
    // Another key gives other ids: ids are keyed.
    let other = ActorResolver::new(&ActorConfig::default(), [8; 32]);
    let d = other.identify(
        &request("/x", &[("Authorization", &format!("Bearer {t1}"))]),
        None,
    );
    assert_ne!(a.actor.id, d.actor.id);
    assert_eq!(a.actor.id.to_string().len(), 16);
}

#[test]
fn credentials_in_order_of_specificity() {
    let r = ActorResolver::new(&ActorConfig::default(), KEY);
    let basic = base64::engine::general_purpose::STANDARD.encode("carol:secret");
    let cases: Vec<(HttpRequest, ActorKind, AuthScheme)> = vec![
        (
            request("/", &[("Authorization", "Bearer opaque-token-1")]),
            ActorKind::Bearer,
            AuthScheme::Bearer,
        ),
        (
            request("/", &[("Authorization", &format!("Basic {basic}"))]),
            ActorKind::Basic,
            AuthScheme::Basic,
        ),
        (
            request("/", &[("Authorization", "Token abc123")]),
            ActorKind::ApiKey,
            AuthScheme::ApiKey,
        ),
        (
            request("/", &[("X-API-Key", "k-1")]),
            ActorKind::ApiKey,
            AuthScheme::ApiKey,
        ),
        (
            request("/p?x=1&api_key=k-2", &[]),
            ActorKind::ApiKey,
            AuthScheme::ApiKey,
        ),
        (
            request("/", &[("Cookie", "theme=dark; SESSIONID=s-1")]),
            ActorKind::Cookie,
            AuthScheme::Cookie,
        ),
        (
            request("/", &[("Cookie", "connect.sid=s-2")]),
            ActorKind::Cookie,
            AuthScheme::Cookie,
        ),
        (
            request("/", &[("Cookie", "theme=dark")]),
            ActorKind::Ip,
            AuthScheme::None,
        ),
        (request("/?key=", &[]), ActorKind::Ip, AuthScheme::None),
        // A bearer JWT wins over a cookie and a key.
        (
            request(
                "/?api_key=k",
                &[
                    ("Cookie", "sid=1"),
                    (
                        "Authorization",
                        &format!("Bearer {}", jwt(r#"{"sub":"x"}"#)),
                    ),
                ],
            ),
            ActorKind::Jwt,
            AuthScheme::Jwt,
        ),
    ];
    for (req, kind, auth) in cases {
        let id = r.identify(&req, ip("10.0.0.1"));
        assert_eq!(
            (id.actor.kind, id.auth),
            (kind, auth),
            "{:?} {:?}",
            req.target,
            req.headers
        );
    }
}

#[test]
fn two_users_behind_one_address_are_two_actors_and_one_token_is_one() {
    let r = ActorResolver::new(&ActorConfig::default(), KEY);
    let nat = ip("203.0.113.7");
    let u1 = r.identify(&request("/", &[("X-Api-Key", "key-one")]), nat);
    let u2 = r.identify(&request("/", &[("X-Api-Key", "key-two")]), nat);
    assert_ne!(u1.actor, u2.actor);
    let moved = r.identify(
        &request("/", &[("X-Api-Key", "key-one")]),
        ip("198.51.100.1"),
    );
    assert_eq!(u1.actor, moved.actor);
    // Without credentials, the user agent tells two browsers behind one address apart.
    let a = r.identify(&request("/", &[("User-Agent", "A")]), nat);
    let b = r.identify(&request("/", &[("User-Agent", "B")]), nat);
    assert_ne!(a.actor, b.actor);
    assert_eq!(a.actor.kind, ActorKind::Ip);
}

#[test]
fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let config = ActorConfig {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        ..ActorConfig::default()
    };
    let r = ActorResolver::new(&config, KEY);
    let xff = |v: &str| request("/", &[("X-Forwarded-For", v)]);
    // From a proxy: the nearest untrusted hop, right to left.
    assert_eq!(
        r.identify(&xff("198.51.100.9, 10.1.1.1"), ip("10.0.0.2"))
            .client_ip,
        ip("198.51.100.9")
    );
    assert_eq!(
        r.identify(&xff("6.6.6.6, 198.51.100.9"), ip("10.0.0.2"))
            .client_ip,
        ip("198.51.100.9")
    );
    assert_eq!(
        r.identify(&xff("198.51.100.9"), ip("::1")).client_ip,
        ip("198.51.100.9")
    );
    // From anyone else: forged, ignored.
    assert_eq!(
        r.identify(&xff("198.51.100.9"), ip("192.0.2.1")).client_ip,
        ip("192.0.2.1")
    );
    // Garbage is skipped.
    assert_eq!(
        r.identify(&xff("not-an-ip, "), ip("10.0.0.2")).client_ip,
        ip("10.0.0.2")
    );
    let fwd = request(
        "/",
        &[(
            "Forwarded",
            r#"for="[2001:db8::1]:4711";proto=https, for=10.0.0.5"#,
        )],
    );
    assert_eq!(
        r.identify(&fwd, ip("10.0.0.2")).client_ip,
        ip("2001:db8::1")
    );
    let mapped = r.identify(&xff("198.51.100.9"), ip("::ffff:10.0.0.3"));
    assert_eq!(mapped.client_ip, ip("198.51.100.9"));
}

#[test]
fn hostile_values_do_not_break_identification() {
    let r = ActorResolver::new(&ActorConfig::default(), KEY);
    let long_ua = "x".repeat(10_000);
    for req in [
        request("/", &[("Authorization", "Bearer a.b.c")]),
        request("/", &[("Authorization", "Bearer ..")]),
        request("/", &[("Authorization", "Basic !!!")]),
        request("/", &[("Authorization", "Bearer")]),
        request("/", &[("Cookie", ";;==;session=")]),
        request("/", &[("User-Agent", &long_ua)]),
    ] {
        let id = r.identify(&req, None);
        assert!(
            id.user_agent
                .as_ref()
                .is_none_or(|u| u.len() <= MAX_USER_AGENT)
        );
    }
    assert_eq!(jwt_subject(&jwt("[1,2]")), None);
    assert_eq!(jwt_subject(&jwt(r#"{"iss":"x"}"#)), None);
}
