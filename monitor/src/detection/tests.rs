//! The stage as a whole on hand-made sightings: bounds hold under floods of actors, addresses
//! and values, and each exchange is judged once when both of its ends are observed.

use std::net::{IpAddr, Ipv4Addr};

use super::{
    Detection,
    rules::Rules,
    testkit::{headers, sighting},
};
use crate::{
    clock::Clock,
    conn::Role,
    discovery::inventory::ServiceKey,
    session::{
        actor::{Actor, ActorId, ActorKind},
        tracker::SessionId,
    },
};

fn detection(rules: &Rules) -> Detection {
    Detection::new(rules, Clock::with_offset(0), "test".into())
}

#[test]
fn a_flood_of_actors_keeps_the_actor_table_bounded_and_counts_what_it_drops() {
    let mut rules = Rules::default();
    rules.limits.max_actors = 100;
    rules.limits.max_known_actors = 50;
    rules.limits.max_addresses = 10;
    let mut d = detection(&rules);
    let mut s = sighting("POST", "/login");
    s.request_type = Some("application/json");
    s.request_body = br#"{"username":"a","password":"b"}"#;
    s.status = Some(401);
    for i in 0..10_000u32 {
        let id = ActorId([i as u8, (i >> 8) as u8, (i >> 16) as u8, 0, 0, 0, 0, 9]);
        s.actor = Actor {
            id,
            kind: ActorKind::Ip,
        };
        s.session = SessionId {
            actor: id,
            start_ns: 0,
        };
        s.client_ip = Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)));
        s.ts_ns = 1_000_000_000 + u64::from(i) * 1_000_000;
        d.observe(&s);
    }
    let c = d.counters();
    assert_eq!(c.transactions, 10_000);
    assert_eq!(c.actors_tracked, 100);
    assert_eq!(c.actors_evicted, 9_900);
    assert_eq!(c.known_actors, 50);
    assert_eq!(c.addresses_evicted, 9_990);
}

#[test]
fn known_actors_are_saved_oldest_first_whether_tracked_or_evicted_and_capped() {
    let id = |n: u8| ActorId([n; 8]);
    let saved = |max_known: usize| {
        let mut rules = Rules::default();
        rules.limits.max_actors = 2;
        rules.limits.max_known_actors = max_known;
        let mut d = detection(&rules);
        let mut s = sighting("GET", "/");
        // Actor 1 twice (its second address kept), then 2 and 3: 1 leaves the actor table.
        for (n, (actor, ip)) in [(1, 1), (1, 2), (2, 3), (3, 4)].into_iter().enumerate() {
            s.actor = Actor {
                id: id(actor),
                kind: ActorKind::Bearer,
            };
            s.client_ip = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, ip)));
            s.ts_ns = 1_000_000_000 * (n as u64 + 1);
            d.observe(&s);
        }
        let dir = tempfile::tempdir().expect("temporary directory");
        d.save(dir.path(), 0).expect("state saved");
        let file = super::state::load(dir.path())
            .expect("state read")
            .expect("state written");
        let known_actors = d.counters().known_actors;
        // A restarted monitor tracks actor 1 again with what was saved.
        let mut again = detection(&rules);
        again.restore(dir.path()).expect("state restored");
        s.actor.id = id(1);
        again.observe(&s);
        let resaved = tempfile::tempdir().expect("temporary directory");
        again.save(resaved.path(), 0).expect("state saved");
        let first = super::state::load(resaved.path())
            .expect("state read")
            .expect("state written")
            .actors
            .into_iter()
            .find(|a| a.id == id(1).to_string())
            .map(|a| a.ips.len());
        (file.actors, known_actors, first)
    };
    let (actors, known, first_ips) = saved(10);
    let ids: Vec<String> = actors.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, [id(1), id(2), id(3)].map(|i| i.to_string()));
    assert_eq!(actors[0].ips.len(), 2, "both of actor 1's addresses");
    assert_eq!(known, 3);
    assert_eq!(first_ips, Some(3), "restored, then one more address");
    let (actors, known, _) = saved(2);
    let ids: Vec<String> = actors.iter().map(|a| a.id.clone()).collect();
    assert_eq!(
        ids,
        [id(2), id(3)].map(|i| i.to_string()),
        "the most recent"
    );
    assert_eq!(known, 2);
}

#[test]
fn the_client_end_of_an_observed_server_is_judged_once() {
    let mut d = detection(&Rules::default());
    let service = Box::leak(Box::new(ServiceKey::new(
        "10.0.0.2:8080".parse().ok(),
        Some("shop.test"),
    )));
    let mut s = sighting("GET", "/x/1");
    s.service = Some(service);
    s.user_agent = Some("sqlmap/1.7.2#stable (https://sqlmap.org)");
    s.role = Role::Server;
    let server_view = d.observe(&s);
    assert_eq!(server_view.len(), 1, "the scanner is raised once");
    s.role = Role::Client;
    assert!(
        d.observe(&s).is_empty(),
        "the client's view of the same exchange"
    );
    let c = d.counters();
    assert_eq!((c.transactions, c.other_end_skipped), (1, 1));
    // A client whose server is not observed is judged.
    let other = Box::leak(Box::new(ServiceKey::new(
        "192.0.2.9:443".parse().ok(),
        None,
    )));
    s.service = Some(other);
    assert_eq!(d.observe(&s).len(), 1);
}

#[test]
fn alerts_name_the_session_and_end_on_the_tick() {
    let mut d = detection(&Rules::default());
    let mut s = sighting("GET", "/");
    s.request_headers = headers(&[("user-agent", "Nikto/2.1.6")]);
    s.user_agent = Some("Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)");
    let ids = d.observe(&s);
    assert_eq!(ids.len(), 1);
    let reports: Vec<_> = d.take_reports().collect();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].session, s.session);
    let v = d.verdict(&s.session, false).unwrap();
    assert!(v.risk() > 0 && v.categories().len() == 1);
    d.tick(s.ts_ns + 200_000_000_000);
    let ended: Vec<_> = d.take_reports().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].state, super::alerts::AlertState::Ended);
    assert!(d.verdict(&s.session, true).is_some());
    assert!(
        d.verdict(&s.session, false).is_none(),
        "forgotten once the session ended"
    );
}

#[test]
fn disabled_categories_and_low_severities_are_suppressed_and_counted() {
    let mut rules = Rules::default();
    rules.alerts.disabled = vec![super::category::Category::Scanner];
    let mut d = detection(&rules);
    let mut s = sighting("GET", "/");
    s.user_agent = Some("sqlmap/1.7");
    assert!(d.observe(&s).is_empty());
    assert_eq!(d.counters().findings_suppressed, 1);
}

#[test]
fn a_score_that_rises_while_its_alert_waits_reaches_the_session_verdict() {
    // Enumeration only: a walk of random ids raises it at 0.75 confidence, then a sequential
    // walk in the same window lifts it to 0.9 while the alert is open and quiet, so those
    // findings wait on the actor rather than being raised one by one (all of it within the
    // alert's first 10 s, before its next report is due).
    let mut rules = Rules::default();
    rules.alerts.disabled = super::category::Category::ALL
        .into_iter()
        .filter(|c| *c != super::category::Category::Enumeration)
        .collect();
    let mut d = detection(&rules);
    let mut s = sighting("GET", "/items/1");
    s.template = Some("/items/{id}");
    s.label = Some("GET /items/{id}");
    let random = (0..60u64).map(|i| i * 7_919 % 100_003 + 200_000);
    let sequential = 1_000..1_250u64;
    for (n, id) in random.chain(sequential).enumerate() {
        s.path = Box::leak(format!("/items/{id}").into_boxed_str());
        s.ts_ns = 1_000_000_000 + n as u64 * 20_000_000 + (n as u64 % 7) * 3_000_000;
        d.observe(&s);
    }
    d.shutdown();
    let reports: Vec<_> = d.take_reports().collect();
    let last = reports.last().expect("enumeration was raised");
    assert_eq!(last.category, super::category::Category::Enumeration);
    assert_eq!(last.confidence, 0.9, "the sequential walk was seen");
    let risk = d.verdict(&s.session, false).map(|v| v.risk());
    // High severity (0.75) × 0.9 = 0.675: 68, where the first findings alone gave 56.
    assert_eq!(risk, Some(68));
}

mod determinism {
    use proptest::prelude::*;

    use super::*;
    use crate::detection::alerts::AlertReport;

    const PATHS: [&str; 6] = ["/login", "/api/items", "/admin", "/x/1", "/api/me", "/nope"];
    const AGENTS: [&str; 3] = ["Mozilla/5.0", "sqlmap/1.7", "python-requests/2.31"];

    /// Every report of a run over `steps` (actor, path, status, gap in ms, agent).
    fn reports(steps: &[(u8, usize, u16, u64, usize)]) -> Vec<AlertReport> {
        let mut d = detection(&Rules::default());
        let mut out = Vec::new();
        let mut s = sighting("POST", "/login");
        s.request_type = Some("application/json");
        s.request_body = br#"{"username":"u","password":"p"}"#;
        let mut now = 1_000_000_000u64;
        for &(actor, path, status, gap, agent) in steps {
            now += gap * 1_000_000;
            let id = ActorId([actor % 4; 8]);
            s.actor = Actor {
                id,
                kind: if actor % 2 == 0 {
                    ActorKind::Ip
                } else {
                    ActorKind::Bearer
                },
            };
            s.session = SessionId {
                actor: id,
                start_ns: 0,
            };
            s.client_ip = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, actor)));
            s.path = PATHS[path % PATHS.len()];
            s.user_agent = Some(AGENTS[agent % AGENTS.len()]);
            s.status = Some(status);
            s.ts_ns = now;
            d.observe(&s);
            if gap > 500 {
                d.tick(now);
            }
            out.extend(d.take_reports());
        }
        d.shutdown();
        out.extend(d.take_reports());
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The same transactions give the same alerts, in the same order: detection keeps no
        /// hidden clock and no randomness.
        #[test]
        fn the_same_transactions_give_the_same_alerts(
            steps in proptest::collection::vec(
                (0u8..8, 0usize..6, prop_oneof![Just(200u16), Just(401), Just(404)], 0u64..2_000, 0usize..3),
                1..400,
            )
        ) {
            let a = reports(&steps);
            let b = reports(&steps);
            prop_assert_eq!(a, b);
        }
    }
}

mod deferred {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;
    use crate::detection::alerts::{AlertId, AlertState};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Contributions that wait on the actor (an ongoing attack's findings) are all in the
        /// alert's last report, whatever ends it: the tick, the shutdown, another alert taking
        /// its place, or its actor leaving the cache. Steps: (actor, address, gap in ms).
        #[test]
        fn every_contribution_is_in_its_alert(
            steps in proptest::collection::vec((0u8..6, 0u8..3, 0u64..3_000), 1..300),
            max_open in 1usize..4,
            max_actors in 1usize..5,
        ) {
            let mut rules = Rules::default();
            rules.alerts.max_open = max_open;
            rules.limits.max_actors = max_actors;
            let mut d = detection(&rules);
            let mut s = sighting("GET", "/x");
            s.user_agent = Some("sqlmap/1.7.2#stable (https://sqlmap.org)");
            let mut contributed: HashMap<AlertId, u64> = HashMap::new();
            let mut last: HashMap<AlertId, (AlertState, u64)> = HashMap::new();
            let mut now = 1_000_000_000u64;
            for &(actor, address, gap) in &steps {
                now += gap * 1_000_000;
                let id = ActorId([actor; 8]);
                s.actor = Actor { id, kind: ActorKind::Ip };
                s.session = SessionId { actor: id, start_ns: 0 };
                s.client_ip = Some(IpAddr::V4(Ipv4Addr::new(10, 0, actor, address)));
                s.ts_ns = now;
                for alert in d.observe(&s) {
                    *contributed.entry(alert).or_default() += 1;
                }
                if gap > 2_000 {
                    d.tick(now);
                }
                for r in d.take_reports() {
                    last.insert(r.id, (r.state, r.transactions));
                }
            }
            d.shutdown();
            for r in d.take_reports() {
                last.insert(r.id, (r.state, r.transactions));
            }
            prop_assert_eq!(contributed.len(), last.len());
            for (id, n) in contributed {
                prop_assert_eq!(last.get(&id).copied(), Some((AlertState::Ended, n)));
            }
        }
    }
}
