//! Reading `alert` events back from the monitor's output: each alert with its re-emissions, the
//! `http` events of one client picked out by what it sent, and summaries of both for failure
//! messages (a detection test that fails should say what the monitor did see).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::Capture;

/// One alert: every event emitted under its `alert_id` (`new`, then `ongoing`…, `ended`), in
/// output order.
#[derive(Debug)]
pub struct Alert<'a> {
    pub id: &'a str,
    pub events: Vec<&'a Value>,
}

impl<'a> Alert<'a> {
    /// The first event written for it.
    pub fn first(&self) -> &'a Value {
        self.events[0]
    }

    /// The latest event written for it (its final picture).
    pub fn last(&self) -> &'a Value {
        self.events[self.events.len() - 1]
    }

    pub fn category(&self) -> &'a str {
        self.first()["category"].as_str().unwrap_or("?")
    }

    pub fn actor_id(&self) -> &'a str {
        self.first()["actor"]["id"].as_str().unwrap_or("?")
    }

    pub fn states(&self) -> Vec<&'a str> {
        self.events
            .iter()
            .map(|e| e["state"].as_str().unwrap_or("?"))
            .collect()
    }
}

impl Capture {
    /// Each alert once, in the order of its first event.
    pub fn alerts(&self) -> Vec<Alert<'_>> {
        let mut alerts: Vec<Alert<'_>> = Vec::new();
        for e in self.of_type("alert") {
            let id = e["alert_id"].as_str().unwrap_or("?");
            match alerts.iter_mut().find(|a| a.id == id) {
                Some(a) => a.events.push(e),
                None => alerts.push(Alert {
                    id,
                    events: vec![e],
                }),
            }
        }
        alerts
    }

    /// One line per alert: category, severity, actor, transactions, states.
    pub fn alert_summary(&self) -> String {
        let alerts = self.alerts();
        if alerts.is_empty() {
            return "no alert events".into();
        }
        alerts
            .iter()
            .map(|a| {
                let last = a.last();
                format!(
                    "{} {} {} actor {} ({}) session {} transactions {} client_ips {} user_agents {} states {:?}",
                    a.id,
                    a.category(),
                    last["severity"].as_str().unwrap_or("?"),
                    a.actor_id(),
                    last["actor"]["kind"].as_str().unwrap_or("?"),
                    last["session_id"].as_str().unwrap_or("?"),
                    last["transactions"],
                    last["client_ips"],
                    last["user_agents"],
                    a.states()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// How many `http` events there are per (user agent, actor, status class), for failure
    /// messages.
    pub fn http_overview(&self) -> String {
        let mut groups: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for t in self.of_type("http") {
            let status = t["response"]["status_code"]
                .as_u64()
                .map_or("none".to_string(), |s| format!("{}xx", s / 100));
            let actor = format!(
                "{} {}",
                t["actor"]["kind"].as_str().unwrap_or("-"),
                t["actor"]["id"].as_str().unwrap_or("-")
            );
            *groups
                .entry((user_agent(t).to_string(), actor, status))
                .or_default() += 1;
        }
        groups
            .iter()
            .map(|((ua, actor, status), n)| format!("{n:5} × {status} actor {actor} ua {ua:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The request's User-Agent, or "" without one.
pub fn user_agent(t: &Value) -> &str {
    t["request"]["headers"]["user-agent"][0]
        .as_str()
        .unwrap_or("")
}

/// The first `n` of `events`, one short line each: method, target, status, UA, actor, session,
/// alerts.
pub fn brief(events: &[&Value], n: usize) -> String {
    events
        .iter()
        .take(n)
        .map(|t| {
            format!(
                "{} {} {} → {} ua {:?} actor {} session {} alerts {}",
                t["process"]["comm"].as_str().unwrap_or("?"),
                t["request"]["method"].as_str().unwrap_or("?"),
                t["request"]["target"].as_str().unwrap_or("?"),
                t["response"]["status_code"],
                user_agent(t),
                t["actor"]["id"].as_str().unwrap_or("-"),
                t["session_id"].as_str().unwrap_or("-"),
                t["alerts"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `http` events of one client, picked out by what it sent (its user agent, its source
/// addresses), with the identity the monitor gave it.
pub struct Client<'a> {
    pub events: Vec<&'a Value>,
    pub actors: BTreeSet<&'a str>,
    pub sessions: BTreeSet<&'a str>,
}

impl<'a> Client<'a> {
    pub fn pick(cap: &'a Capture, is_client: impl Fn(&Value) -> bool) -> Client<'a> {
        let events: Vec<&Value> = cap.of_type("http").filter(|t| is_client(t)).collect();
        let actors = events
            .iter()
            .filter_map(|t| t["actor"]["id"].as_str())
            .collect();
        let sessions = events
            .iter()
            .filter_map(|t| t["session_id"].as_str())
            .collect();
        Client {
            events,
            actors,
            sessions,
        }
    }

    /// How many of its events list `alert_id` in their `alerts`.
    pub fn listing(&self, alert_id: &str) -> usize {
        self.events.iter().filter(|t| lists(t, alert_id)).count()
    }
}

/// Whether an `http` event lists `alert_id` in its `alerts` array.
pub fn lists(t: &Value, alert_id: &str) -> bool {
    t["alerts"]
        .as_array()
        .is_some_and(|a| a.iter().any(|id| id == alert_id))
}
