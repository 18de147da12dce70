//! Validating decode of ring-buffer records into typed events. Field by field, little endian,
//! no transmute: a record that does not fit its declared layout is an error the caller counts.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use bytes::{Buf, Bytes};
use monitor_common::event::{
    AF_INET, AF_INET6, CLOSE_EVENT_LEN, DATA_HEADER_LEN, FLAG_EGRESS, FLAG_IN_FLIGHT,
    FLAG_ROLE_CLIENT, FLAG_ROLE_SERVER, FLAG_STEPS_EXHAUSTED, FLAG_TLS, FLAG_TUPLE_KNOWN,
    FLAG_UNCAPTURABLE, KIND_CLOSE, KIND_DATA, KIND_TLS_SEEN, Syscall, TLS_SEEN_EVENT_LEN,
    library_name,
};

use crate::conn::model::{Direction, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawEvent {
    Data(DataEvent),
    Close(CloseRecord),
    TlsSeen(TlsSeenRecord),
}

/// A connection's addresses from the capturing process's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoints {
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

/// Why bytes of a call were not captured (for `uncaptured_len`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UncapturedCause {
    /// Beyond the per-call cap.
    Truncated,
    /// The capture loop ran out of steps (many tiny iovecs).
    StepsExhausted,
    /// Moved by sendfile: never in a user buffer.
    Uncapturable,
    /// Moved by a syscall already running when the monitor attached.
    InFlightAtStart,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataEvent {
    pub syscall: Syscall,
    pub direction: Direction,
    pub role: Role,
    pub ts_ns: u64,
    pub conn_id: u64,
    pub offset: u64,
    pub lost_total: u64,
    pub pid: u32,
    pub tid: u32,
    pub fd: i32,
    pub uncaptured_len: u64,
    pub uncaptured_cause: UncapturedCause,
    pub cgroup_id: u64,
    /// Shared: one process's events all carry the same name (see `shared_comm`).
    pub comm: Arc<str>,
    pub endpoints: Option<Endpoints>,
    /// The TLS library whose hook captured this plaintext; `None`: bytes from the socket.
    pub tls_library: Option<&'static str>,
    pub payload: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRecord {
    pub ts_ns: u64,
    pub conn_id: u64,
    pub role: Role,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_lost: u64,
    pub rx_lost: u64,
    pub endpoints: Option<Endpoints>,
}

/// A connection carrying TLS records that no TLS hook explained (when it was first seen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSeenRecord {
    pub ts_ns: u64,
    pub conn_id: u64,
    pub pid: u32,
    pub tid: u32,
    pub cgroup_id: u64,
    pub comm: String,
    pub role: Role,
    pub direction: Direction,
    pub endpoints: Option<Endpoints>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record of {len} bytes is shorter than its {need}-byte layout")]
    TooShort { len: usize, need: usize },
    #[error("unknown record kind {0}")]
    UnknownKind(u16),
    #[error("unknown syscall id {0}")]
    UnknownSyscall(u16),
    #[error("captured length {captured} exceeds the {room} payload bytes in the record")]
    PayloadOverflow { captured: usize, room: usize },
    #[error("unknown address family {0}")]
    UnknownFamily(u16),
    #[error("unknown TLS library id {0}")]
    UnknownLibrary(u32),
}

impl TryFrom<&[u8]> for RawEvent {
    type Error = DecodeError;

    fn try_from(buf: &[u8]) -> Result<Self, DecodeError> {
        let kind = Reader::new(buf).u16(0)?;
        match kind {
            KIND_DATA => {
                let (mut event, payload) = decode_data(buf)?;
                event.payload = Bytes::copy_from_slice(&buf[payload]);
                Ok(RawEvent::Data(event))
            }
            KIND_CLOSE => decode_close(buf).map(RawEvent::Close),
            KIND_TLS_SEEN => decode_tls_seen(buf).map(RawEvent::TlsSeen),
            other => Err(DecodeError::UnknownKind(other)),
        }
    }
}

impl RawEvent {
    /// Decodes a record the caller already owns (a replayed recording): a data event's payload
    /// is the record's own tail, not a copy of it.
    pub fn decode_owned(mut buf: Bytes) -> Result<Self, DecodeError> {
        if Reader::new(&buf).u16(0)? != KIND_DATA {
            return Self::try_from(&buf[..]);
        }
        let (mut event, payload) = decode_data(&buf)?;
        // Truncating and advancing a buffer nothing else holds moves its bounds, not its bytes.
        buf.truncate(payload.end);
        buf.advance(payload.start);
        event.payload = buf;
        Ok(RawEvent::Data(event))
    }
}

/// The event without its payload, and where in `buf` the payload is.
fn decode_data(buf: &[u8]) -> Result<(DataEvent, std::ops::Range<usize>), DecodeError> {
    let r = Reader::new(buf);
    r.need(DATA_HEADER_LEN)?;
    let syscall_id = r.u16(2)?;
    let syscall = Syscall::from_u16(syscall_id).ok_or(DecodeError::UnknownSyscall(syscall_id))?;
    let flags = r.u32(4)?;
    let captured = r.u32(52)? as usize;
    let room = buf.len() - DATA_HEADER_LEN;
    if captured > room {
        return Err(DecodeError::PayloadOverflow { captured, room });
    }
    let tls_library = if flags & FLAG_TLS != 0 {
        let lib = r.u32(60)?;
        Some(library_name(lib).ok_or(DecodeError::UnknownLibrary(lib))?)
    } else {
        None
    };
    let uncaptured_cause = if flags & FLAG_IN_FLIGHT != 0 {
        UncapturedCause::InFlightAtStart
    } else if flags & FLAG_UNCAPTURABLE != 0 {
        UncapturedCause::Uncapturable
    } else if flags & FLAG_STEPS_EXHAUSTED != 0 {
        UncapturedCause::StepsExhausted
    } else {
        UncapturedCause::Truncated
    };
    let event = DataEvent {
        syscall,
        direction: if flags & FLAG_EGRESS != 0 {
            Direction::Egress
        } else {
            Direction::Ingress
        },
        role: role(flags),
        ts_ns: r.u64(8)?,
        conn_id: r.u64(16)?,
        offset: r.u64(24)?,
        lost_total: r.u64(32)?,
        pid: r.u32(40)?,
        tid: r.u32(44)?,
        fd: r.u32(48)? as i32,
        uncaptured_len: r.u32(56)? as u64,
        uncaptured_cause,
        cgroup_id: r.u64(64)?,
        comm: shared_comm(&buf[72..88]),
        endpoints: endpoints(&r, 88, flags)?,
        tls_library,
        payload: Bytes::new(),
    };
    Ok((event, DATA_HEADER_LEN..DATA_HEADER_LEN + captured))
}

fn decode_close(buf: &[u8]) -> Result<CloseRecord, DecodeError> {
    let r = Reader::new(buf);
    r.need(CLOSE_EVENT_LEN)?;
    let flags = r.u32(4)?;
    Ok(CloseRecord {
        ts_ns: r.u64(8)?,
        conn_id: r.u64(16)?,
        role: role(flags),
        tx_bytes: r.u64(24)?,
        rx_bytes: r.u64(32)?,
        tx_lost: r.u64(40)?,
        rx_lost: r.u64(48)?,
        endpoints: endpoints(&r, 56, flags)?,
    })
}

fn decode_tls_seen(buf: &[u8]) -> Result<TlsSeenRecord, DecodeError> {
    let r = Reader::new(buf);
    r.need(TLS_SEEN_EVENT_LEN)?;
    let flags = r.u32(4)?;
    Ok(TlsSeenRecord {
        ts_ns: r.u64(8)?,
        conn_id: r.u64(16)?,
        pid: r.u32(24)?,
        tid: r.u32(28)?,
        cgroup_id: r.u64(32)?,
        comm: comm(&buf[40..56]),
        role: role(flags),
        direction: if flags & FLAG_EGRESS != 0 {
            Direction::Egress
        } else {
            Direction::Ingress
        },
        endpoints: endpoints(&r, 56, flags)?,
    })
}

fn role(flags: u32) -> Role {
    if flags & FLAG_ROLE_CLIENT != 0 {
        Role::Client
    } else if flags & FLAG_ROLE_SERVER != 0 {
        Role::Server
    } else {
        Role::Unknown
    }
}

/// A data event's task name, shared with the previous event's when the raw bytes are the
/// same (they mostly are): a String per event was an allocation, a lossy UTF-8 conversion and
/// a free for every read and write captured. One entry per thread: decoding stays a function
/// of the bytes alone.
fn shared_comm(raw: &[u8]) -> Arc<str> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Vec<u8>, Arc<str>)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((seen, name)) if seen.as_slice() == raw => name.clone(),
        _ => {
            let name: Arc<str> = comm(raw).into();
            *last = Some((raw.to_vec(), name.clone()));
            name
        }
    })
}

/// NUL-terminated task name.
fn comm(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// Decodes a `Tuple` at `at`; `None` when the kernel did not know the addresses.
fn endpoints(r: &Reader<'_>, at: usize, flags: u32) -> Result<Option<Endpoints>, DecodeError> {
    if flags & FLAG_TUPLE_KNOWN == 0 {
        return Ok(None);
    }
    let family = r.u16(at)?;
    let lport = r.u16(at + 2)?;
    let rport = r.u16(at + 4)?;
    let laddr = r.array16(at + 8)?;
    let raddr = r.array16(at + 24)?;
    let ip = |a: [u8; 16]| -> Result<IpAddr, DecodeError> {
        match family {
            AF_INET => Ok(IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))),
            AF_INET6 => Ok(canonical(Ipv6Addr::from(a))),
            other => Err(DecodeError::UnknownFamily(other)),
        }
    };
    Ok(Some(Endpoints {
        local: SocketAddr::new(ip(laddr)?, lport),
        remote: SocketAddr::new(ip(raddr)?, rport),
    }))
}

/// IPv4-mapped IPv6 addresses (a dual-stack socket talking IPv4) are shown as IPv4.
pub fn canonical(a: Ipv6Addr) -> IpAddr {
    match a.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(a),
    }
}

/// Bounds-checked little-endian field reads.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.buf.len() < n {
            Err(DecodeError::TooShort {
                len: self.buf.len(),
                need: n,
            })
        } else {
            Ok(())
        }
    }

    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], DecodeError> {
        self.need(at + N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[at..at + N]);
        Ok(out)
    }

    fn u16(&self, at: usize) -> Result<u16, DecodeError> {
        self.bytes::<2>(at).map(u16::from_le_bytes)
    }

    fn u32(&self, at: usize) -> Result<u32, DecodeError> {
        self.bytes::<4>(at).map(u32::from_le_bytes)
    }

    fn u64(&self, at: usize) -> Result<u64, DecodeError> {
        self.bytes::<8>(at).map(u64::from_le_bytes)
    }

    fn array16(&self, at: usize) -> Result<[u8; 16], DecodeError> {
        self.bytes::<16>(at)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// (family, local address, local port, remote address, remote port)
    pub type TestTuple = (u16, [u8; 16], u16, [u8; 16], u16);

    /// Builds a data record the way the kernel lays it out.
    #[allow(clippy::too_many_arguments)]
    pub fn data_record(
        conn_id: u64,
        flags: u32,
        offset: u64,
        payload: &[u8],
        room: usize,
        uncaptured: u32,
        lost_total: u64,
        tuple: Option<TestTuple>,
    ) -> Vec<u8> {
        let mut b = vec![0u8; DATA_HEADER_LEN + room];
        b[0..2].copy_from_slice(&KIND_DATA.to_le_bytes());
        b[2..4].copy_from_slice(&(Syscall::Write as u16).to_le_bytes());
        let mut flags = flags;
        if tuple.is_some() {
            flags |= FLAG_TUPLE_KNOWN;
        }
        b[4..8].copy_from_slice(&flags.to_le_bytes());
        b[8..16].copy_from_slice(&1_000u64.to_le_bytes());
        b[16..24].copy_from_slice(&conn_id.to_le_bytes());
        b[24..32].copy_from_slice(&offset.to_le_bytes());
        b[32..40].copy_from_slice(&lost_total.to_le_bytes());
        b[40..44].copy_from_slice(&42u32.to_le_bytes());
        b[44..48].copy_from_slice(&43u32.to_le_bytes());
        b[48..52].copy_from_slice(&7i32.to_le_bytes());
        b[52..56].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        b[56..60].copy_from_slice(&uncaptured.to_le_bytes());
        b[72..76].copy_from_slice(b"curl");
        if let Some((family, laddr, lport, raddr, rport)) = tuple {
            b[88..90].copy_from_slice(&family.to_le_bytes());
            b[90..92].copy_from_slice(&lport.to_le_bytes());
            b[92..94].copy_from_slice(&rport.to_le_bytes());
            b[96..112].copy_from_slice(&laddr);
            b[112..128].copy_from_slice(&raddr);
        }
        b[DATA_HEADER_LEN..DATA_HEADER_LEN + payload.len()].copy_from_slice(payload);
        b
    }

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut o = [0u8; 16];
        o[..4].copy_from_slice(&a);
        o
    }

    #[test]
    fn decodes_data_with_ipv4_tuple() {
        let rec = data_record(
            9,
            FLAG_EGRESS | FLAG_ROLE_CLIENT,
            100,
            b"GET / HTTP/1.1\r\n",
            256,
            0,
            0,
            Some((AF_INET, v4([127, 0, 0, 1]), 40000, v4([127, 0, 0, 1]), 8080)),
        );
        let RawEvent::Data(d) = RawEvent::try_from(rec.as_slice()).unwrap() else {
            panic!("not data")
        };
        assert_eq!(d.conn_id, 9);
        assert_eq!(d.direction, Direction::Egress);
        assert_eq!(d.role, Role::Client);
        assert_eq!(d.offset, 100);
        assert_eq!(d.pid, 42);
        assert_eq!(&*d.comm, "curl");
        assert_eq!(&d.payload[..], b"GET / HTTP/1.1\r\n");
        let ep = d.endpoints.unwrap();
        assert_eq!(ep.local.to_string(), "127.0.0.1:40000");
        assert_eq!(ep.remote.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn maps_v4_mapped_ipv6_to_ipv4_and_keeps_real_ipv6() {
        let mut mapped = [0u8; 16];
        mapped[10] = 0xff;
        mapped[11] = 0xff;
        mapped[12..].copy_from_slice(&[10, 0, 0, 1]);
        let loopback6 = Ipv6Addr::LOCALHOST.octets();
        let rec = data_record(
            1,
            0,
            0,
            b"x",
            256,
            0,
            0,
            Some((AF_INET6, mapped, 1, loopback6, 2)),
        );
        let RawEvent::Data(d) = RawEvent::try_from(rec.as_slice()).unwrap() else {
            panic!()
        };
        let ep = d.endpoints.unwrap();
        assert_eq!(ep.local.to_string(), "10.0.0.1:1");
        assert_eq!(ep.remote.to_string(), "[::1]:2");
    }

    #[test]
    fn rejects_bad_records() {
        assert!(matches!(
            RawEvent::try_from(&[1u8][..]),
            Err(DecodeError::TooShort { .. })
        ));
        assert_eq!(
            RawEvent::try_from(&[9u8, 0, 0, 0][..]),
            Err(DecodeError::UnknownKind(9))
        );
        let mut rec = data_record(1, 0, 0, b"abc", 256, 0, 0, None);
        rec.truncate(DATA_HEADER_LEN + 2);
        assert!(matches!(
            RawEvent::try_from(rec.as_slice()),
            Err(DecodeError::PayloadOverflow {
                captured: 3,
                room: 2
            })
        ));
        let mut rec = data_record(1, 0, 0, b"abc", 256, 0, 0, None);
        rec[2] = 99;
        assert_eq!(
            RawEvent::try_from(rec.as_slice()),
            Err(DecodeError::UnknownSyscall(99))
        );
        let rec = data_record(
            1,
            0,
            0,
            b"abc",
            256,
            0,
            0,
            Some((77, [0; 16], 1, [0; 16], 2)),
        );
        assert_eq!(
            RawEvent::try_from(rec.as_slice()),
            Err(DecodeError::UnknownFamily(77))
        );
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        use proptest::prelude::*;
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..400))| {
            let _ = RawEvent::try_from(bytes.as_slice());
        });
    }
}
