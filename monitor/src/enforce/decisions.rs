//! The decisions in force: what is blocked, why, until when. Pure bookkeeping (time is given,
//! never read): capped, expiring, saved to and restored from the state directory.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    path::{Path, PathBuf},
};

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::detection::category::{Category, Severity};

/// What one decision blocks.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Source addresses (a /32 or /128 for one address).
    Ip(#[schemars(with = "String")] IpNet),
    /// An actor id as `http` and `alert` events name it.
    Actor(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Ip(net) => write!(f, "ip {net}"),
            Target::Actor(id) => write!(f, "actor {id}"),
        }
    }
}

/// Who decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A blocking alert, under the rules' `[enforcement]` policy.
    Alert,
    /// `monitor block`.
    Operator,
}

impl Origin {
    pub const fn name(self) -> &'static str {
        match self {
            Origin::Alert => "alert",
            Origin::Operator => "operator",
        }
    }
}

/// Why a decision was made: who, in one line, and the alert behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cause {
    pub origin: Origin,
    /// One line: the alert's category and severity, or the operator's words.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// Unique in this state directory; also the value the kernel's blocklist holds.
    pub id: u32,
    pub target: Target,
    #[serde(flatten)]
    pub cause: Cause,
    pub since_unix_ns: u64,
    pub expires_unix_ns: u64,
}

/// What asking for a block came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    New(Decision),
    /// Already in force: its expiry moved later (or stayed, if it was later already).
    Extended(Decision),
    /// The cap is reached; nothing changed.
    Full,
}

/// A request to block, before it has an id.
#[derive(Debug, Clone)]
pub struct Request {
    pub target: Target,
    pub cause: Cause,
    pub ttl_ns: u64,
}

/// Decisions by address and by actor, apart: an actor is looked up on every transaction by
/// the id the `http` event carries, without building a `Target` for it.
#[derive(Debug, Default)]
pub struct Blocklist {
    ips: BTreeMap<IpNet, Decision>,
    actors: HashMap<String, Decision>,
    max: usize,
    next_id: u32,
    /// No decision expires before this (it may be earlier than the true soonest: an
    /// extension only moves expiries later), so `expire` is one comparison when nothing is due.
    soonest_ns: u64,
}

impl Blocklist {
    pub fn new(max: usize) -> Self {
        Self {
            ips: BTreeMap::new(),
            actors: HashMap::new(),
            max,
            next_id: 1,
            soonest_ns: u64::MAX,
        }
    }

    pub fn len(&self) -> usize {
        self.ips.len() + self.actors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decisions in force by address and by actor.
    pub fn counts(&self) -> (usize, usize) {
        (self.ips.len(), self.actors.len())
    }

    pub fn get(&self, target: &Target) -> Option<&Decision> {
        match target {
            Target::Ip(net) => self.ips.get(net),
            Target::Actor(id) => self.actors.get(id),
        }
    }

    pub fn actor(&self, id: &str) -> Option<&Decision> {
        self.actors.get(id)
    }

    pub fn contains_actor(&self, id: &str) -> bool {
        self.actors.contains_key(id)
    }

    fn get_mut(&mut self, target: &Target) -> Option<&mut Decision> {
        match target {
            Target::Ip(net) => self.ips.get_mut(net),
            Target::Actor(id) => self.actors.get_mut(id),
        }
    }

    fn insert(&mut self, d: Decision) {
        self.soonest_ns = self.soonest_ns.min(d.expires_unix_ns);
        match &d.target {
            Target::Ip(net) => {
                self.ips.insert(*net, d);
            }
            Target::Actor(id) => {
                self.actors.insert(id.clone(), d);
            }
        }
    }

    fn values(&self) -> impl Iterator<Item = &Decision> {
        self.ips.values().chain(self.actors.values())
    }

    pub fn decide(&mut self, r: Request, now_ns: u64) -> Outcome {
        let expires = now_ns.saturating_add(r.ttl_ns);
        if let Some(d) = self.get_mut(&r.target) {
            d.expires_unix_ns = d.expires_unix_ns.max(expires);
            return Outcome::Extended(d.clone());
        }
        if self.len() >= self.max {
            return Outcome::Full;
        }
        let d = Decision {
            id: self.take_id(),
            target: r.target,
            cause: r.cause,
            since_unix_ns: now_ns,
            expires_unix_ns: expires,
        };
        self.insert(d.clone());
        Outcome::New(d)
    }

    pub fn remove(&mut self, target: &Target) -> Option<Decision> {
        match target {
            Target::Ip(net) => self.ips.remove(net),
            Target::Actor(id) => self.actors.remove(id),
        }
    }

    /// Takes out every decision expired at `now_ns`.
    pub fn expire(&mut self, now_ns: u64) -> Vec<Decision> {
        if now_ns < self.soonest_ns {
            return Vec::new();
        }
        let due: Vec<Target> = self
            .values()
            .filter(|d| d.expires_unix_ns <= now_ns)
            .map(|d| d.target.clone())
            .collect();
        let gone = due.iter().filter_map(|t| self.remove(t)).collect();
        self.soonest_ns = self
            .values()
            .map(|d| d.expires_unix_ns)
            .min()
            .unwrap_or(u64::MAX);
        gone
    }

    /// Every decision, soonest expiry first.
    pub fn list(&self) -> Vec<Decision> {
        let mut all: Vec<Decision> = self.values().cloned().collect();
        all.sort_by_key(|d| (d.expires_unix_ns, d.id));
        all
    }

    fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    /// The saved form.
    pub fn saved(&self) -> SavedDecisions {
        SavedDecisions {
            version: SAVED_VERSION,
            next_id: self.next_id,
            decisions: self.list(),
        }
    }

    /// Takes back saved decisions still in force at `now_ns` (up to the cap); returns them.
    pub fn restore(&mut self, saved: SavedDecisions, now_ns: u64) -> Vec<Decision> {
        self.next_id = self.next_id.max(saved.next_id).max(1);
        let mut taken = Vec::new();
        for d in saved.decisions {
            if d.expires_unix_ns <= now_ns || self.len() >= self.max {
                continue;
            }
            self.next_id = self.next_id.max(d.id.saturating_add(1));
            self.insert(d.clone());
            taken.push(d);
        }
        taken
    }
}

pub const SAVED_VERSION: u32 = 1;
pub const STATE_FILE: &str = "enforcement-state.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedDecisions {
    pub version: u32,
    pub next_id: u32,
    pub decisions: Vec<Decision>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the enforcement state {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the enforcement state {path} is unreadable ({message})")]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot write the enforcement state {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads `dir`'s saved decisions; Ok(None) when there are none yet.
pub fn load(dir: &Path) -> Result<Option<SavedDecisions>, StateError> {
    let path = dir.join(STATE_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StateError::Read { path, source }),
    };
    let saved: SavedDecisions = serde_json::from_slice(&text).map_err(|e| StateError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if saved.version != SAVED_VERSION {
        return Err(StateError::Corrupt {
            path,
            message: format!("version {} is not {SAVED_VERSION}", saved.version),
        });
    }
    Ok(Some(saved))
}

/// Writes the decisions to `dir` in one rename (readable by the owner only).
pub fn save(dir: &Path, saved: &SavedDecisions) -> Result<(), StateError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(STATE_FILE);
    let tmp = dir.join(format!("{STATE_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let text = serde_json::to_vec_pretty(saved).map_err(std::io::Error::other)?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|source| StateError::Write {
        path: path.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn ip(net: &str) -> Request {
        Request {
            target: Target::Ip(net.parse().unwrap()),
            cause: Cause {
                origin: Origin::Alert,
                reason: "sqli high".into(),
                alert_id: Some("a1".into()),
                category: Some(Category::Sqli),
                severity: Some(Severity::High),
            },
            ttl_ns: 60 * S,
        }
    }

    #[test]
    fn a_decision_is_made_once_extended_after_and_expires() {
        let mut b = Blocklist::new(10);
        let Outcome::New(d) = b.decide(ip("10.0.0.2/32"), 100 * S) else {
            panic!("first decision is new")
        };
        assert_eq!((d.id, d.expires_unix_ns), (1, 160 * S));
        let Outcome::Extended(d) = b.decide(ip("10.0.0.2/32"), 130 * S) else {
            panic!("second is an extension")
        };
        assert_eq!((d.id, d.expires_unix_ns), (1, 190 * S));
        assert!(b.expire(189 * S).is_empty());
        let gone = b.expire(190 * S);
        assert_eq!(gone.len(), 1);
        assert!(b.is_empty());
    }

    #[test]
    fn the_cap_refuses_new_targets_but_extends_old_ones() {
        let mut b = Blocklist::new(2);
        assert!(matches!(b.decide(ip("10.0.0.1/32"), 0), Outcome::New(_)));
        assert!(matches!(b.decide(ip("10.0.0.2/32"), 0), Outcome::New(_)));
        assert_eq!(b.decide(ip("10.0.0.3/32"), 0), Outcome::Full);
        assert!(matches!(
            b.decide(ip("10.0.0.1/32"), 0),
            Outcome::Extended(_)
        ));
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn saved_decisions_come_back_without_the_expired_and_ids_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Blocklist::new(10);
        b.decide(ip("10.0.0.1/32"), 0);
        let mut short = ip("2001:db8::/64");
        short.ttl_ns = 5 * S;
        b.decide(short, 0);
        b.decide(
            Request {
                target: Target::Actor("00aa11bb22cc33dd".into()),
                cause: Cause {
                    origin: Origin::Operator,
                    ..ip("10.0.0.9/32").cause
                },
                ..ip("10.0.0.9/32")
            },
            0,
        );
        save(dir.path(), &b.saved()).unwrap();
        let mut again = Blocklist::new(10);
        let taken = again.restore(load(dir.path()).unwrap().unwrap(), 10 * S);
        assert_eq!(taken.len(), 2, "the 5 s decision expired meanwhile");
        assert!(again.contains_actor("00aa11bb22cc33dd"));
        let Outcome::New(d) = again.decide(ip("10.0.0.7/32"), 10 * S) else {
            panic!()
        };
        assert_eq!(d.id, 4, "ids are never reused across a restart");
    }

    #[test]
    fn a_corrupt_or_foreign_state_is_an_error_that_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        std::fs::write(dir.path().join(STATE_FILE), b"{not json").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains(STATE_FILE), "{err}");
        std::fs::write(
            dir.path().join(STATE_FILE),
            br#"{"version":99,"next_id":1,"decisions":[]}"#,
        )
        .unwrap();
        assert!(
            load(dir.path())
                .unwrap_err()
                .to_string()
                .contains("version 99")
        );
    }
}
