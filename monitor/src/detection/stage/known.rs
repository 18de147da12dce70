//! The actors detection knows (their addresses and user agents) and what it saves to and
//! restores from the state file.

use std::{net::IpAddr, path::Path};

use super::Detection;
use crate::{
    detection::{
        sighting::Sighting,
        state::{self, KnownActor, StateError, StateFile},
    },
    session::actor::{ActorId, ActorKind},
};

#[derive(Debug, Clone, Default)]
pub(super) struct Known {
    kind: Option<ActorKind>,
    /// Wall-clock, so they mean the same in the next run.
    first_unix_ns: u64,
    last_unix_ns: u64,
    pub(super) ips: Vec<IpAddr>,
    pub(super) agents: Vec<u64>,
}

/// Addresses and user agents remembered per known actor.
pub(super) const KNOWN_KEPT: usize = 4;
impl Known {
    /// What the state file keeps of the actor, after `s` (its wall-clock time `unix_ns`).
    pub(super) fn remember(&mut self, s: &Sighting, agent: u64, unix_ns: u64) {
        if self.kind.is_none() {
            self.kind = Some(s.actor.kind);
            self.first_unix_ns = unix_ns;
        }
        self.last_unix_ns = self.last_unix_ns.max(unix_ns);
        if let Some(ip) = s.client_ip
            && self.ips.len() < KNOWN_KEPT
            && !self.ips.contains(&ip)
        {
            self.ips.push(ip);
        }
        if s.user_agent.is_some() && self.agents.len() < KNOWN_KEPT && !self.agents.contains(&agent)
        {
            self.agents.push(agent);
        }
    }
}

impl Detection {
    /// Writes what was learned to `dir`.
    pub fn save(&mut self, dir: &Path, unix_now_ns: u64) -> Result<(), StateError> {
        let actors = self
            .known
            .iter()
            .rev()
            .filter_map(|(id, k)| {
                Some(KnownActor {
                    id: id.to_string(),
                    kind: k.kind?,
                    first_seen_unix_ns: k.first_unix_ns,
                    last_seen_unix_ns: k.last_unix_ns,
                    ips: k.ips.clone(),
                    agents: k.agents.clone(),
                })
            })
            .collect();
        let file = StateFile {
            version: state::STATE_VERSION,
            key_fingerprint: self.key_fingerprint.clone(),
            saved_unix_ns: unix_now_ns,
            baselines: self.learned.save(),
            actors,
        };
        let done = state::save(dir, &file);
        match &done {
            Ok(()) => self.counters.state_saves += 1,
            Err(_) => self.counters.state_errors += 1,
        }
        done
    }

    /// Takes back what an earlier run saved; known actors only under the same key. A file
    /// that cannot be used is an error for the caller to warn about (detection starts fresh).
    pub fn restore(&mut self, dir: &Path) -> Result<(), StateError> {
        let Some(file) = state::load(dir)? else {
            return Ok(());
        };
        self.learned.restore(file.baselines);
        if file.key_fingerprint != self.key_fingerprint {
            log::info!(
                "detection state in {}: actors were identified under another key; only the baselines are kept",
                dir.display()
            );
            return Ok(());
        }
        for a in file.actors {
            let Some(id) = parse_id(&a.id) else { continue };
            self.known.push(
                id,
                Known {
                    kind: Some(a.kind),
                    first_unix_ns: a.first_seen_unix_ns,
                    last_unix_ns: a.last_seen_unix_ns,
                    ips: a.ips.into_iter().take(KNOWN_KEPT).collect(),
                    agents: a.agents.into_iter().take(KNOWN_KEPT).collect(),
                },
            );
        }
        Ok(())
    }
}

fn parse_id(hex: &str) -> Option<ActorId> {
    if hex.len() != 16 {
        return None;
    }
    let mut id = [0u8; 8];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(ActorId(id))
}
