//! The actors detection knows (their addresses and user agents) and what it saves to and
//! restores from the state file. A tracked actor's [`Known`] lives in its `ActorState`; the
//! `known` cache holds those of the others (evicted, or restored and not seen yet).

use std::path::Path;

use super::Detection;
use crate::{
    detection::{
        actors::{KNOWN_KEPT, Known},
        state::{self, KnownActor, StateError, StateFile},
    },
    session::actor::ActorId,
};

impl Detection {
    /// Writes what was learned to `dir`.
    pub fn save(&mut self, dir: &Path, unix_now_ns: u64) -> Result<(), StateError> {
        // Oldest first, as the cache orders them: every tracked actor was seen after every
        // one only in `known`. At most the cache's capacity, the most recent.
        let tracked = self.actors.iter().rev().map(|(id, st)| (id, &st.known));
        let all = self.known.iter().rev().chain(tracked);
        let held = self.known.len() + self.actors.len();
        let actors = all
            .skip(held.saturating_sub(self.known.cap().get()))
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
            let known = Known {
                kind: Some(a.kind),
                first_unix_ns: a.first_seen_unix_ns,
                last_unix_ns: a.last_seen_unix_ns,
                ips: a.ips.into_iter().take(KNOWN_KEPT).collect(),
                agents: a.agents.into_iter().take(KNOWN_KEPT).collect(),
            };
            match self.actors.peek_mut(&id) {
                Some(st) => st.known = known,
                None => {
                    self.known.push(id, known);
                }
            }
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
