//! The recording file format (docs/record-format.md): the file header and the records, as
//! values and as bytes. Pure: the writer and reader do the I/O and the framing.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use bytes::{Buf, Bytes};

use crate::{capture::Endpoints, conn::Role};

pub const MAGIC: [u8; 8] = *b"APIMREC\0";
pub const VERSION: u16 = 1;
/// Magic, version and header length: the bytes before the header fields.
pub const PRELUDE_LEN: usize = 8 + 2 + 4;
/// A header is a few dozen bytes; the bound keeps a corrupt length from allocating much.
pub const MAX_HEADER_LEN: u32 = 4096;
/// created, clock offset, version string length, flags.
const MIN_HEADER_LEN: usize = 8 + 8 + 2 + 4;
/// Kind and payload length before a record's payload.
pub const FRAME_HEAD_LEN: usize = 1 + 4;
/// The CRC32 after a record's payload.
pub const FRAME_CRC_LEN: usize = 4;
/// Largest payload of any record: a kernel record is at most a 16 KiB chunk and its header, so
/// 1 MiB leaves room while a corrupt length never allocates gigabytes.
pub const MAX_PAYLOAD_LEN: u32 = 1 << 20;

const KIND_KERNEL: u8 = 1;
const KIND_TICK: u8 = 2;
const KIND_RESOLVED: u8 = 3;
const KIND_ROLE: u8 = 4;
const KIND_END: u8 = 5;

/// What a recording says about itself, before its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// Wall-clock time the recording started, unix ns.
    pub created_unix_ns: u64,
    /// CLOCK_REALTIME − CLOCK_MONOTONIC in ns during the live run, so replay turns kernel
    /// timestamps into the same wall-clock times the live run printed.
    pub clock_offset_ns: i64,
    /// Version of the monitor that wrote the file.
    pub monitor_version: String,
    /// Reserved, written as 0.
    pub flags: u32,
}

impl FileHeader {
    /// A header for a recording made by this build of the monitor.
    pub fn new(created_unix_ns: u64, clock_offset_ns: i64) -> Self {
        Self {
            created_unix_ns,
            clock_offset_ns,
            monitor_version: env!("CARGO_PKG_VERSION").to_string(),
            flags: 0,
        }
    }
}

/// One thing the live agent saw or decided, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A ring-buffer record as the kernel wrote it, and the CLOCK_MONOTONIC time the agent
    /// ingested it (the connection table's timeouts use it, so replay decides the same).
    Kernel { now_ns: u64, bytes: Bytes },
    /// The agent's periodic timer fired.
    Tick { now_ns: u64 },
    /// An answer of `Resolve::resolve` (/proc lookup of a connection's addresses).
    Resolved {
        pid: u32,
        fd: i32,
        answer: Option<(Endpoints, Role)>,
    },
    /// An answer of `Resolve::role`.
    RoleAnswer {
        pid: u32,
        local: SocketAddr,
        role: Role,
    },
    /// The run stopped cleanly here.
    End { now_ns: u64 },
}

/// Why a header or payload does not decode; the reader adds the byte offset.
pub type FieldError = String;

/// Magic, version, header length and header fields; the caller appends the CRC32 of them.
pub fn encode_header(h: &FileHeader) -> Vec<u8> {
    // The version string is ours (CARGO_PKG_VERSION); cut it so the header stays in bounds.
    let version = &h.monitor_version.as_bytes()[..h.monitor_version.len().min(1024)];
    let len = MIN_HEADER_LEN + version.len();
    let mut b = Vec::with_capacity(PRELUDE_LEN + len);
    b.extend_from_slice(&MAGIC);
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.extend_from_slice(&(len as u32).to_le_bytes());
    b.extend_from_slice(&h.created_unix_ns.to_le_bytes());
    b.extend_from_slice(&h.clock_offset_ns.to_le_bytes());
    b.extend_from_slice(&(version.len() as u16).to_le_bytes());
    b.extend_from_slice(version);
    b.extend_from_slice(&h.flags.to_le_bytes());
    b
}

/// Whether a declared header length can be a version-1 header.
pub fn check_header_len(len: u32) -> Result<(), FieldError> {
    if (len as usize) < MIN_HEADER_LEN || len > MAX_HEADER_LEN {
        return Err(format!(
            "header length {len} is outside {MIN_HEADER_LEN}..={MAX_HEADER_LEN}"
        ));
    }
    Ok(())
}

/// The header fields (after the prelude). Bytes after the known fields are fields a later
/// writer appended: skipped.
pub fn decode_header(b: &[u8]) -> Result<FileHeader, FieldError> {
    let mut f = Fields::new(b);
    let created_unix_ns = f.u64()?;
    let clock_offset_ns = f.u64()? as i64;
    let vlen = f.u16()? as usize;
    let monitor_version = String::from_utf8(f.take(vlen)?.to_vec())
        .map_err(|_| "the monitor version is not UTF-8".to_string())?;
    let flags = f.u32()?;
    Ok(FileHeader {
        created_unix_ns,
        clock_offset_ns,
        monitor_version,
        flags,
    })
}

/// Appends a record's kind, payload length and payload to `out`; the caller appends the CRC.
/// Fails only for a kernel record too large for the format.
pub fn encode_record(r: &Record, out: &mut Vec<u8>) -> Result<(), FieldError> {
    let start = out.len();
    out.push(kind(r));
    out.extend_from_slice(&[0; 4]);
    match r {
        Record::Kernel { now_ns, bytes } => {
            out.extend_from_slice(&now_ns.to_le_bytes());
            out.extend_from_slice(bytes);
        }
        Record::Tick { now_ns } | Record::End { now_ns } => {
            out.extend_from_slice(&now_ns.to_le_bytes())
        }
        Record::Resolved { pid, fd, answer } => {
            out.extend_from_slice(&pid.to_le_bytes());
            out.extend_from_slice(&fd.to_le_bytes());
            match answer {
                None => out.push(0),
                Some((ep, role)) => {
                    out.push(1);
                    put_addr(out, ep.local);
                    put_addr(out, ep.remote);
                    out.push(role_byte(*role));
                }
            }
        }
        Record::RoleAnswer { pid, local, role } => {
            out.extend_from_slice(&pid.to_le_bytes());
            put_addr(out, *local);
            out.push(role_byte(*role));
        }
    }
    let len = out.len() - start - FRAME_HEAD_LEN;
    if len > MAX_PAYLOAD_LEN as usize {
        out.truncate(start);
        return Err(format!(
            "a record of {len} bytes exceeds the {MAX_PAYLOAD_LEN}-byte limit"
        ));
    }
    out[start + 1..start + FRAME_HEAD_LEN].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(())
}

fn kind(r: &Record) -> u8 {
    match r {
        Record::Kernel { .. } => KIND_KERNEL,
        Record::Tick { .. } => KIND_TICK,
        Record::Resolved { .. } => KIND_RESOLVED,
        Record::RoleAnswer { .. } => KIND_ROLE,
        Record::End { .. } => KIND_END,
    }
}

/// Whether `len` is a possible payload length for `kind`, checked before the payload is read
/// so that neither an unknown kind nor a corrupt length costs an allocation.
pub fn check_frame(kind: u8, len: u32) -> Result<(), FieldError> {
    let (min, max) = match kind {
        KIND_KERNEL => (8, MAX_PAYLOAD_LEN),
        KIND_TICK | KIND_END => (8, 8),
        // pid, fd, present, then two addresses and a role.
        KIND_RESOLVED => (9, 9 + 2 * ADDR_V6_LEN + 1),
        // pid, address, role.
        KIND_ROLE => (4 + ADDR_V4_LEN + 1, 4 + ADDR_V6_LEN + 1),
        other => return Err(format!("unknown record kind {other}")),
    };
    if len < min || len > max {
        return Err(format!(
            "a record of kind {kind} cannot be {len} bytes long"
        ));
    }
    Ok(())
}

/// A payload whose kind and length passed [`check_frame`] and whose CRC matched.
pub fn decode_record(kind: u8, payload: Bytes) -> Result<Record, FieldError> {
    let mut f = Fields::new(&payload);
    let record = match kind {
        KIND_KERNEL => {
            let now_ns = f.u64()?;
            // The kernel bytes are the rest of the payload: the same buffer, not a copy.
            let mut bytes = payload;
            bytes.advance(8);
            return Ok(Record::Kernel { now_ns, bytes });
        }
        KIND_TICK => Record::Tick { now_ns: f.u64()? },
        KIND_END => Record::End { now_ns: f.u64()? },
        KIND_RESOLVED => {
            let pid = f.u32()?;
            let fd = f.u32()? as i32;
            let answer = match f.u8()? {
                0 => None,
                1 => {
                    let local = f.addr()?;
                    let remote = f.addr()?;
                    Some((Endpoints { local, remote }, f.role()?))
                }
                other => return Err(format!("answer presence byte is {other}, not 0 or 1")),
            };
            Record::Resolved { pid, fd, answer }
        }
        KIND_ROLE => Record::RoleAnswer {
            pid: f.u32()?,
            local: f.addr()?,
            role: f.role()?,
        },
        other => return Err(format!("unknown record kind {other}")),
    };
    f.finish()?;
    Ok(record)
}

const ADDR_V4_LEN: u32 = 1 + 4 + 2;
const ADDR_V6_LEN: u32 = 1 + 16 + 2 + 4 + 4;

/// Family tag (4 or 6), address, port, and for IPv6 flow info and scope id, so the answer
/// comes back exactly as /proc gave it.
fn put_addr(out: &mut Vec<u8>, a: SocketAddr) {
    match a {
        SocketAddr::V4(v4) => {
            out.push(4);
            out.extend_from_slice(&v4.ip().octets());
            out.extend_from_slice(&v4.port().to_le_bytes());
        }
        SocketAddr::V6(v6) => {
            out.push(6);
            out.extend_from_slice(&v6.ip().octets());
            out.extend_from_slice(&v6.port().to_le_bytes());
            out.extend_from_slice(&v6.flowinfo().to_le_bytes());
            out.extend_from_slice(&v6.scope_id().to_le_bytes());
        }
    }
}

fn role_byte(r: Role) -> u8 {
    match r {
        Role::Unknown => 0,
        Role::Client => 1,
        Role::Server => 2,
    }
}

/// Sequential little-endian reads over a bounded slice.
struct Fields<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, at: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], FieldError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else {
            return Err(format!(
                "a field at byte {} needs {n} bytes, only {} are left",
                self.at,
                self.b.len() - self.at
            ));
        };
        let out = &self.b[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FieldError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, FieldError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, FieldError> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, FieldError> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, FieldError> {
        self.array().map(u64::from_le_bytes)
    }

    fn addr(&mut self) -> Result<SocketAddr, FieldError> {
        match self.u8()? {
            4 => {
                let ip = Ipv4Addr::from(self.array::<4>()?);
                Ok(SocketAddr::V4(SocketAddrV4::new(ip, self.u16()?)))
            }
            6 => {
                let ip = Ipv6Addr::from(self.array::<16>()?);
                let port = self.u16()?;
                let flowinfo = self.u32()?;
                let scope_id = self.u32()?;
                Ok(SocketAddr::V6(SocketAddrV6::new(
                    ip, port, flowinfo, scope_id,
                )))
            }
            other => Err(format!("unknown address family tag {other}")),
        }
    }

    fn role(&mut self) -> Result<Role, FieldError> {
        match self.u8()? {
            0 => Ok(Role::Unknown),
            1 => Ok(Role::Client),
            2 => Ok(Role::Server),
            other => Err(format!("unknown role {other}")),
        }
    }

    /// Every payload byte belongs to a field: leftovers mean the record is not what it says.
    fn finish(self) -> Result<(), FieldError> {
        if self.at != self.b.len() {
            return Err(format!(
                "{} bytes left after the last field",
                self.b.len() - self.at
            ));
        }
        Ok(())
    }
}
