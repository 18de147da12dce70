//! The inverse of [`super::decode`]: lays typed events out exactly as the kernel programs write
//! them into the ring buffer, for synthetic traffic (benchmarks) and tests.

use std::net::{IpAddr, SocketAddr};

use monitor_common::event::{
    AF_INET, AF_INET6, CLOSE_EVENT_LEN, DATA_HEADER_LEN, FLAG_EGRESS, FLAG_IN_FLIGHT,
    FLAG_ROLE_CLIENT, FLAG_ROLE_SERVER, FLAG_STEPS_EXHAUSTED, FLAG_TLS, FLAG_TRUNCATED,
    FLAG_TUPLE_KNOWN, FLAG_UNCAPTURABLE, KIND_CLOSE, KIND_DATA, KIND_TLS_SEEN, LIB_BORINGSSL,
    LIB_GNUTLS, LIB_GO, LIB_OPENSSL, TLS_SEEN_EVENT_LEN,
};

use super::decode::{CloseRecord, DataEvent, Endpoints, TlsSeenRecord, UncapturedCause};
use crate::conn::model::{Direction, Role};

/// Offset of the `Tuple` in a data record and in a close record.
const DATA_TUPLE_AT: usize = 88;
const CLOSE_TUPLE_AT: usize = 56;
const COMM_LEN: usize = 16;

/// A data record: the 128-byte `DataHeader` followed by exactly the payload.
///
/// The kernel's layout has less room than `DataEvent`: `uncaptured_len` is a u32 (saturated
/// here), `comm` 16 bytes (longer names are cut), and one address family for both ends (a v4/v6
/// mix is written as IPv6 with the v4 end IPv4-mapped, which decode turns back into IPv4).
/// IPv6 flow info and scope ids are not recorded.
pub fn encode_data(ev: &DataEvent) -> Vec<u8> {
    // Payloads are at most a chunk (16 KiB) in practice; the u32 length field bounds them anyway.
    let captured = ev.payload.len().min(u32::MAX as usize);
    let mut b = vec![0u8; DATA_HEADER_LEN + captured];
    let mut flags = role_flags(ev.role);
    if ev.direction == Direction::Egress {
        flags |= FLAG_EGRESS;
    }
    flags |= match ev.uncaptured_cause {
        // The kernel flags truncation only when bytes were left out; decode defaults to it.
        UncapturedCause::Truncated if ev.uncaptured_len > 0 => FLAG_TRUNCATED,
        UncapturedCause::Truncated => 0,
        UncapturedCause::StepsExhausted => FLAG_STEPS_EXHAUSTED,
        UncapturedCause::Uncapturable => FLAG_UNCAPTURABLE,
        UncapturedCause::InFlightAtStart => FLAG_IN_FLIGHT,
    };
    if let Some(ep) = ev.endpoints {
        flags |= FLAG_TUPLE_KNOWN;
        put_tuple(&mut b, DATA_TUPLE_AT, ep);
    }
    put(&mut b, 0, &KIND_DATA.to_le_bytes());
    put(&mut b, 2, &(ev.syscall as u16).to_le_bytes());
    put(&mut b, 4, &flags.to_le_bytes());
    put(&mut b, 8, &ev.ts_ns.to_le_bytes());
    put(&mut b, 16, &ev.conn_id.to_le_bytes());
    put(&mut b, 24, &ev.offset.to_le_bytes());
    put(&mut b, 32, &ev.lost_total.to_le_bytes());
    put(&mut b, 40, &ev.pid.to_le_bytes());
    put(&mut b, 44, &ev.tid.to_le_bytes());
    put(&mut b, 48, &ev.fd.to_le_bytes());
    put(&mut b, 52, &(captured as u32).to_le_bytes());
    let uncaptured = u32::try_from(ev.uncaptured_len).unwrap_or(u32::MAX);
    put(&mut b, 56, &uncaptured.to_le_bytes());
    if let Some(lib) = ev.tls_library {
        flags |= FLAG_TLS;
        put(&mut b, 4, &flags.to_le_bytes());
        put(&mut b, 60, &library_id(lib).to_le_bytes());
    }
    put(&mut b, 64, &ev.cgroup_id.to_le_bytes());
    let comm = ev.comm.as_bytes();
    put(&mut b, 72, &comm[..comm.len().min(COMM_LEN)]);
    put(&mut b, DATA_HEADER_LEN, &ev.payload[..captured]);
    b
}

/// A close record: the 96-byte `CloseEvent`.
pub fn encode_close(c: &CloseRecord) -> Vec<u8> {
    let mut b = vec![0u8; CLOSE_EVENT_LEN];
    let mut flags = role_flags(c.role);
    if let Some(ep) = c.endpoints {
        flags |= FLAG_TUPLE_KNOWN;
        put_tuple(&mut b, CLOSE_TUPLE_AT, ep);
    }
    put(&mut b, 0, &KIND_CLOSE.to_le_bytes());
    put(&mut b, 4, &flags.to_le_bytes());
    put(&mut b, 8, &c.ts_ns.to_le_bytes());
    put(&mut b, 16, &c.conn_id.to_le_bytes());
    put(&mut b, 24, &c.tx_bytes.to_le_bytes());
    put(&mut b, 32, &c.rx_bytes.to_le_bytes());
    put(&mut b, 40, &c.tx_lost.to_le_bytes());
    put(&mut b, 48, &c.rx_lost.to_le_bytes());
    b
}

/// A TLS-seen record: the 96-byte `TlsSeenEvent`.
pub fn encode_tls_seen(t: &TlsSeenRecord) -> Vec<u8> {
    let mut b = vec![0u8; TLS_SEEN_EVENT_LEN];
    let mut flags = role_flags(t.role);
    if t.direction == Direction::Egress {
        flags |= FLAG_EGRESS;
    }
    if let Some(ep) = t.endpoints {
        flags |= FLAG_TUPLE_KNOWN;
        put_tuple(&mut b, 56, ep);
    }
    put(&mut b, 0, &KIND_TLS_SEEN.to_le_bytes());
    put(&mut b, 4, &flags.to_le_bytes());
    put(&mut b, 8, &t.ts_ns.to_le_bytes());
    put(&mut b, 16, &t.conn_id.to_le_bytes());
    put(&mut b, 24, &t.pid.to_le_bytes());
    put(&mut b, 28, &t.tid.to_le_bytes());
    put(&mut b, 32, &t.cgroup_id.to_le_bytes());
    let comm = t.comm.as_bytes();
    put(&mut b, 40, &comm[..comm.len().min(COMM_LEN)]);
    b
}

/// The kernel's `LIB_*` id of a library name (`library_name`'s inverse; unknown names are 0).
fn library_id(name: &str) -> u32 {
    match name {
        "openssl" => LIB_OPENSSL,
        "boringssl" => LIB_BORINGSSL,
        "gnutls" => LIB_GNUTLS,
        "go" => LIB_GO,
        _ => 0,
    }
}

fn role_flags(role: Role) -> u32 {
    match role {
        Role::Client => FLAG_ROLE_CLIENT,
        Role::Server => FLAG_ROLE_SERVER,
        Role::Unknown => 0,
    }
}

/// Writes a `Tuple` (family, ports, two 16-byte addresses) at `at`.
fn put_tuple(b: &mut [u8], at: usize, ep: Endpoints) {
    let both_v4 = ep.local.is_ipv4() && ep.remote.is_ipv4();
    let family = if both_v4 { AF_INET } else { AF_INET6 };
    put(b, at, &family.to_le_bytes());
    put(b, at + 2, &ep.local.port().to_le_bytes());
    put(b, at + 4, &ep.remote.port().to_le_bytes());
    put(b, at + 8, &addr_bytes(ep.local, both_v4));
    put(b, at + 24, &addr_bytes(ep.remote, both_v4));
}

/// IPv4 uses the first four bytes (AF_INET); under AF_INET6 an IPv4 end is IPv4-mapped.
fn addr_bytes(addr: SocketAddr, family_v4: bool) -> [u8; 16] {
    match addr.ip() {
        IpAddr::V4(v4) if family_v4 => {
            let mut out = [0u8; 16];
            out[..4].copy_from_slice(&v4.octets());
            out
        }
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Callers only write fixed offsets inside the fixed-size layouts allocated above.
fn put(b: &mut [u8], at: usize, bytes: &[u8]) {
    b[at..at + bytes.len()].copy_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};

    use bytes::Bytes;
    use monitor_common::event::Syscall;
    use proptest::prelude::*;

    use super::*;
    use crate::capture::decode::{RawEvent, canonical};

    /// An address as decode produces it: IPv4-mapped IPv6 shown as IPv4, no flow info or scope.
    fn addr() -> impl Strategy<Value = SocketAddr> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<u16>())
                .prop_map(|(a, p)| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), p)),
            (any::<[u8; 16]>(), any::<u16>()).prop_map(|(a, p)| {
                match canonical(Ipv6Addr::from(a)) {
                    IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, p, 0, 0)),
                    v4 => SocketAddr::new(v4, p),
                }
            }),
        ]
    }

    fn endpoints() -> impl Strategy<Value = Option<Endpoints>> {
        proptest::option::of(
            (addr(), addr()).prop_map(|(local, remote)| Endpoints { local, remote }),
        )
    }

    fn role() -> impl Strategy<Value = Role> {
        prop_oneof![Just(Role::Client), Just(Role::Server), Just(Role::Unknown)]
    }

    fn cause() -> impl Strategy<Value = UncapturedCause> {
        prop_oneof![
            Just(UncapturedCause::Truncated),
            Just(UncapturedCause::StepsExhausted),
            Just(UncapturedCause::Uncapturable),
            Just(UncapturedCause::InFlightAtStart),
        ]
    }

    fn data_event() -> impl Strategy<Value = DataEvent> {
        (
            (
                (1u16..=13).prop_filter_map("syscall id", Syscall::from_u16),
                any::<bool>(),
                role(),
                any::<[u64; 5]>(),
                any::<(u32, u32, i32)>(),
            ),
            (
                any::<u32>(),
                cause(),
                "[a-zA-Z0-9 ._:/-]{0,16}",
                endpoints(),
                proptest::collection::vec(any::<u8>(), 0..300),
            ),
        )
            .prop_map(
                |(
                    (syscall, egress, role, [ts, conn, offset, lost, cgroup], (pid, tid, fd)),
                    (uncaptured, cause, comm, endpoints, payload),
                )| DataEvent {
                    syscall,
                    direction: if egress {
                        Direction::Egress
                    } else {
                        Direction::Ingress
                    },
                    role,
                    ts_ns: ts,
                    conn_id: conn,
                    offset,
                    lost_total: lost,
                    pid,
                    tid,
                    fd,
                    uncaptured_len: uncaptured as u64,
                    uncaptured_cause: cause,
                    cgroup_id: cgroup,
                    comm: comm.into(),
                    endpoints,
                    // Every library id, and none, from a field the case already varies.
                    tls_library: monitor_common::event::library_name((cgroup % 5) as u32),
                    payload: Bytes::from(payload),
                },
            )
    }

    fn close_record() -> impl Strategy<Value = CloseRecord> {
        (any::<[u64; 6]>(), role(), endpoints()).prop_map(
            |([ts_ns, conn_id, tx_bytes, rx_bytes, tx_lost, rx_lost], role, endpoints)| {
                CloseRecord {
                    ts_ns,
                    conn_id,
                    role,
                    tx_bytes,
                    rx_bytes,
                    tx_lost,
                    rx_lost,
                    endpoints,
                }
            },
        )
    }

    proptest! {
        #[test]
        fn data_round_trips(ev in data_event()) {
            let bytes = encode_data(&ev);
            prop_assert_eq!(bytes.len(), DATA_HEADER_LEN + ev.payload.len());
            prop_assert_eq!(RawEvent::try_from(bytes.as_slice()), Ok(RawEvent::Data(ev)));
        }

        #[test]
        fn close_round_trips(c in close_record()) {
            let bytes = encode_close(&c);
            prop_assert_eq!(RawEvent::try_from(bytes.as_slice()), Ok(RawEvent::Close(c)));
        }
    }

    #[test]
    fn matches_the_decode_tests_layout() {
        let rec = crate::capture::decode::tests::data_record(
            9,
            FLAG_EGRESS | FLAG_ROLE_CLIENT,
            100,
            b"GET / HTTP/1.1\r\n",
            16,
            0,
            0,
            Some((
                AF_INET,
                addr_bytes("127.0.0.1:1".parse().unwrap(), true),
                40000,
                addr_bytes("127.0.0.1:1".parse().unwrap(), true),
                8080,
            )),
        );
        let RawEvent::Data(ev) = RawEvent::try_from(rec.as_slice()).unwrap() else {
            panic!("not data")
        };
        assert_eq!(encode_data(&ev), rec);
    }
}
