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
                // Full: drop the oldest still watched (queued ids may be settled already).
                while self.watched.len() >= MAX_WATCHED
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use monitor_common::event::Syscall;

    use super::*;
    use crate::{
        capture::{
            CloseRecord, DataEvent,
            decode::{TlsSeenRecord, UncapturedCause},
        },
        conn::model::{Direction, Role},
    };

    fn seen(conn_id: u64) -> RawEvent {
        RawEvent::TlsSeen(TlsSeenRecord {
            ts_ns: 1,
            conn_id,
            pid: 7,
            tid: 7,
            cgroup_id: 0,
            comm: "app".into(),
            role: Role::Client,
            direction: Direction::Egress,
            endpoints: None,
        })
    }

    fn data(conn_id: u64, tls_library: Option<&'static str>) -> RawEvent {
        RawEvent::Data(DataEvent {
            syscall: Syscall::TlsWrite,
            direction: Direction::Egress,
            role: Role::Client,
            ts_ns: 2,
            conn_id,
            offset: 0,
            lost_total: 0,
            pid: 7,
            tid: 7,
            fd: 3,
            uncaptured_len: 0,
            uncaptured_cause: UncapturedCause::Truncated,
            cgroup_id: 0,
            comm: "app".into(),
            endpoints: None,
            tls_library,
            payload: Bytes::from_static(b"GET / HTTP/1.1\r\n\r\n"),
        })
    }

    fn close(conn_id: u64) -> RawEvent {
        RawEvent::Close(CloseRecord {
            ts_ns: 3,
            conn_id,
            role: Role::Client,
            tx_bytes: 0,
            rx_bytes: 0,
            tx_lost: 0,
            rx_lost: 0,
            endpoints: None,
        })
    }

    #[test]
    fn only_tls_connections_closed_without_plaintext_are_missed() {
        let mut w = TlsWatch::default();
        for ev in [seen(1), seen(2), data(1, Some("openssl")), data(2, None)] {
            assert!(w.observe(&ev).is_none());
        }
        assert!(w.observe(&close(1)).is_none(), "plaintext was captured");
        let missed = w.observe(&close(2)).expect("no plaintext for conn 2");
        assert_eq!((missed.pid, missed.comm.as_str()), (7, "app"));
        assert!(w.observe(&close(3)).is_none(), "never seen as TLS");
        assert!(w.observe(&close(2)).is_none(), "reported once");
    }

    #[test]
    fn memory_stays_bounded() {
        let mut w = TlsWatch::default();
        for id in 0..(3 * MAX_WATCHED as u64) {
            w.observe(&seen(id));
            w.observe(&data(id, Some("go")));
        }
        assert!(w.watched.is_empty());
        assert!(w.order.len() <= 2 * MAX_WATCHED + 1);
        for id in 0..(MAX_WATCHED as u64 + 10) {
            w.observe(&seen(1_000_000 + id));
        }
        assert!(w.watched.len() <= MAX_WATCHED);
    }
}
