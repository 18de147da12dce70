//! Tells TLS connections whose plaintext was captured from those that closed without any: a
//! connection the kernel reported as carrying TLS records (`TlsSeen`) is watched until a
//! data event from a TLS hook arrives for it (covered) or it closes (uncovered, reported to
//! the hook manager).

use std::collections::{HashMap, VecDeque};

use crate::capture::RawEvent;

/// Connections watched at once; the oldest is dropped (unreported) beyond this.
const MAX_WATCHED: usize = 65536;

#[derive(Default)]
pub struct TlsWatch {
    watched: HashMap<u64, (u32, String)>,
    /// Insertion order, for dropping the oldest; may hold ids already settled.
    order: VecDeque<u64>,
}

/// A connection that closed with TLS records and no plaintext.
pub struct Missed {
    pub pid: u32,
    pub comm: String,
}

impl TlsWatch {
    pub fn observe(&mut self, ev: &RawEvent) -> Option<Missed> {
        match ev {
            RawEvent::TlsSeen(seen) => {
                if self.watched.len() >= MAX_WATCHED
                    && let Some(old) = self.order.pop_front()
                {
                    self.watched.remove(&old);
                }
                if self
                    .watched
                    .insert(seen.conn_id, (seen.pid, seen.comm.clone()))
                    .is_none()
                {
                    self.order.push_back(seen.conn_id);
                }
                // Ids settled since are still queued: drop them before the queue outgrows
                // the map.
                if self.order.len() > 2 * MAX_WATCHED {
                    let watched = &self.watched;
                    self.order.retain(|id| watched.contains_key(id));
                }
                None
            }
            RawEvent::Data(d) if d.tls_library.is_some() && !self.watched.is_empty() => {
                self.watched.remove(&d.conn_id);
                None
            }
            RawEvent::Close(c) if !self.watched.is_empty() => self
                .watched
                .remove(&c.conn_id)
                .map(|(pid, comm)| Missed { pid, comm }),
            _ => None,
        }
    }
}
