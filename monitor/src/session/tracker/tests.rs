use super::*;
use crate::session::actor::ActorKind;

const S: u64 = 1_000_000_000;

fn actor(n: u8) -> Actor {
    Actor {
        id: ActorId([n; 8]),
        kind: ActorKind::ApiKey,
    }
}

fn touch(a: u8, at_s: u64, ip: &str, endpoint: &'static str, status: u16) -> Touch<'static> {
    Touch {
        actor: actor(a),
        client_ip: ip.parse().ok(),
        user_agent: Some("ua"),
        endpoint: Some(endpoint),
        status: Some(status),
        request_bytes: 10,
        response_bytes: 100,
        start_ns: at_s * S,
        end_ns: at_s * S + 1_000,
    }
}

fn config(idle: u64, report: u64, max: usize) -> SessionConfig {
    SessionConfig {
        idle_timeout_secs: idle,
        report_interval_secs: report,
        max_actors: max,
    }
}

#[test]
fn one_actor_from_several_addresses_is_one_session() {
    let mut t = SessionTracker::new(&config(60, 0, 10));
    let mut out = Vec::new();
    let a = t.observe(&touch(1, 1, "10.0.0.1", "GET /a", 200), &mut out);
    let b = t.observe(&touch(1, 2, "10.0.0.2", "GET /b/{bId}", 404), &mut out);
    let c = t.observe(&touch(1, 3, "10.0.0.3", "GET /a", 500), &mut out);
    assert_eq!((a, b), (b, c));
    assert!(out.is_empty());
    t.shutdown(&mut out);
    let [s] = &out[..] else { panic!("{out:?}") };
    assert_eq!(s.state, SessionState::MonitorStopped);
    assert_eq!(s.transactions, 3);
    assert_eq!(s.client_ips.len(), 3);
    assert_eq!(
        s.endpoints,
        BTreeMap::from([("GET /a".into(), 2), ("GET /b/{bId}".into(), 1)])
    );
    assert_eq!(
        s.status,
        BTreeMap::from([("2xx", 1), ("4xx", 1), ("5xx", 1)])
    );
    assert_eq!((s.request_bytes, s.response_bytes), (30, 300));
    assert_eq!((s.first_ns, s.last_ns), (S, 3 * S + 1_000));
    assert_eq!(s.id.to_string(), format!("0101010101010101-{:x}", S));
}

#[test]
fn idle_sessions_end_on_tick_and_on_return() {
    let mut t = SessionTracker::new(&config(60, 0, 10));
    let mut out = Vec::new();
    let first = t.observe(&touch(1, 0, "10.0.0.1", "GET /a", 200), &mut out);
    t.observe(&touch(2, 30, "10.0.0.2", "GET /a", 200), &mut out);
    t.tick(59 * S, &mut out);
    assert!(out.is_empty());
    t.tick(61 * S, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].id, out[0].state), (first, SessionState::Idle));
    // Actor 2 returns after its idle time: the old session ends, a new one starts.
    out.clear();
    let again = t.observe(&touch(2, 200, "10.0.0.2", "GET /a", 200), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].state, SessionState::Idle);
    assert_ne!(out[0].id, again);
    assert_eq!(t.counters().started, 3);
    assert_eq!(t.counters().ended, 2);
}

#[test]
fn lasting_sessions_are_reported_periodically_when_active() {
    let mut t = SessionTracker::new(&config(600, 10, 10));
    let mut out = Vec::new();
    t.tick(0, &mut out);
    t.observe(&touch(1, 1, "10.0.0.1", "GET /a", 200), &mut out);
    t.tick(5 * S, &mut out);
    assert!(out.is_empty());
    t.tick(11 * S, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].state, SessionState::Active);
    // Nothing new: no second report.
    t.tick(22 * S, &mut out);
    assert_eq!(out.len(), 1);
    t.observe(&touch(1, 25, "10.0.0.1", "GET /a", 200), &mut out);
    t.tick(33 * S, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].transactions, 2);
}

#[test]
fn too_many_actors_end_the_least_recent_session_visibly() {
    let mut t = SessionTracker::new(&config(600, 0, 2));
    let mut out = Vec::new();
    for a in 1..=3 {
        t.observe(&touch(a, u64::from(a), "10.0.0.1", "GET /a", 200), &mut out);
    }
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].actor, out[0].state),
        (actor(1), SessionState::Evicted)
    );
    assert_eq!(t.counters().evicted, 1);
    assert_eq!(t.counters().active, 2);
}

#[test]
fn lists_inside_a_session_are_bounded_and_overflow_counted() {
    let mut t = SessionTracker::new(&config(600, 0, 2));
    let mut out = Vec::new();
    let endpoints: Vec<&'static str> = (0..100)
        .map(|i| &*Box::leak(format!("GET /e{i}").into_boxed_str()))
        .collect();
    for (i, e) in endpoints.iter().enumerate() {
        let ip = format!("10.0.{}.{}", i / 256, i % 256);
        let mut tc = touch(1, 1, "0.0.0.0", e, 200);
        tc.client_ip = ip.parse().ok();
        t.observe(&tc, &mut out);
    }
    t.shutdown(&mut out);
    let s = &out[0];
    assert_eq!(s.endpoints.len(), MAX_SESSION_ENDPOINTS);
    assert_eq!(s.endpoints_dropped, 100 - MAX_SESSION_ENDPOINTS as u64);
    assert_eq!(s.client_ips.len(), MAX_SESSION_IPS);
    assert_eq!(s.client_ips_dropped, 100 - MAX_SESSION_IPS as u64);
}
