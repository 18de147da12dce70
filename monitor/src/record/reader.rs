//! Reads a recording back: checks the magic, version and header, then yields records one by
//! one, each checked against its CRC. A damaged file gives an error naming the byte offset,
//! never a wrong record.

use std::{
    io::{self, Read},
    sync::Arc,
};

use bytes::Bytes;

use super::format::{
    FRAME_CRC_LEN, FRAME_HEAD_LEN, FileHeader, MAGIC, PRELUDE_LEN, Record, VERSION, check_frame,
    check_header_len, decode_header, decode_record,
};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "not a recording: the input does not start with the APIMREC magic (replay also accepts the JSON lines written by `monitor run --raw`)"
    )]
    NotARecording,
    #[error("the input is empty: nothing to replay")]
    Empty,
    #[error("unsupported recording version {0}: this monitor reads version {v}", v = VERSION)]
    UnsupportedVersion(u16),
    #[error(
        "the recording is truncated at byte offset {offset}, inside the {part} that starts at byte {start}"
    )]
    Truncated {
        offset: u64,
        start: u64,
        part: &'static str,
    },
    #[error("the recording is corrupt at byte offset {offset}: {reason}")]
    Corrupt { offset: u64, reason: String },
    #[error("cannot read the recording: {0}")]
    Io(#[from] io::Error),
}

const HEADER: &str = "file header";
const RECORD: &str = "record";

/// Bytes asked of the input at a time. Records are read out of one block this size, and a
/// kernel record's payload is a slice of it rather than an allocation and a copy of its own.
const READ_SIZE: usize = 256 * 1024;

/// A block of the input, shared by the record payloads sliced out of it.
struct Block(Arc<Vec<u8>>);

impl AsRef<[u8]> for Block {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

pub struct RecordReader<R: Read> {
    input: R,
    /// The bytes read; `at..end` are not consumed yet. Reused for the next read once no
    /// payload sliced out of it is alive (the usual case: replay drops each record before
    /// reading the next), so that the block is zeroed once, not on every read.
    block: Arc<Vec<u8>>,
    /// All of `block`, for slicing payloads out of it; empty while the block is being refilled.
    view: Bytes,
    at: usize,
    end: usize,
    /// Bytes consumed so far: where the next record starts.
    offset: u64,
    saw_end: bool,
    /// After an error or the end, `next` returns `None`: the framing is lost past an error.
    done: bool,
    /// Cloned for each record: `Hasher::new` looks up the CPU's features every time.
    hasher: crc32fast::Hasher,
}

impl<R: Read> RecordReader<R> {
    /// Reads and checks the file header.
    pub fn open(r: R) -> Result<(Self, FileHeader), RecordError> {
        let mut reader = Self {
            input: r,
            block: Arc::new(Vec::new()),
            view: Bytes::new(),
            at: 0,
            end: 0,
            offset: 0,
            saw_end: false,
            done: false,
            hasher: crc32fast::Hasher::new(),
        };
        let header = reader.read_header()?;
        Ok((reader, header))
    }

    /// The next record; `None` at the end of the records. A file that ends between two records
    /// without an End record is a capture that was killed: not an error (see [`Self::saw_end`]).
    #[allow(clippy::should_implement_trait)] // fallible: Iterator would bury the error kinds
    pub fn next(&mut self) -> Result<Option<Record>, RecordError> {
        if self.done {
            return Ok(None);
        }
        let result = self.read_record();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result
    }

    /// Whether the End record was read: the live run stopped cleanly.
    pub fn saw_end(&self) -> bool {
        self.saw_end
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn read_header(&mut self) -> Result<FileHeader, RecordError> {
        let n = self.fill(PRELUDE_LEN)?.min(PRELUDE_LEN);
        let prelude = &self.buffered()[..n];
        let magic = n.min(MAGIC.len());
        if prelude[..magic] != MAGIC[..magic] {
            return Err(RecordError::NotARecording);
        }
        if n >= 10 {
            let version = u16::from_le_bytes([prelude[8], prelude[9]]);
            if version != VERSION {
                return Err(RecordError::UnsupportedVersion(version));
            }
        }
        if n < PRELUDE_LEN {
            return Err(self.truncated(0, HEADER));
        }
        let len = u32::from_le_bytes([prelude[10], prelude[11], prelude[12], prelude[13]]);
        check_header_len(len).map_err(|reason| RecordError::Corrupt { offset: 10, reason })?;
        let total = PRELUDE_LEN + len as usize + FRAME_CRC_LEN;
        if self.fill(total)? < total {
            return Err(self.truncated(0, HEADER));
        }
        let (checked, crc) = self.buffered()[..total].split_at(total - FRAME_CRC_LEN);
        if !self.crc_matches(checked, crc) {
            return Err(corrupt(
                0,
                "the file header's checksum does not match".into(),
            ));
        }
        let header = decode_header(&checked[PRELUDE_LEN..])
            .map_err(|reason| corrupt(PRELUDE_LEN as u64, reason))?;
        self.consume(total);
        Ok(header)
    }

    fn read_record(&mut self) -> Result<Option<Record>, RecordError> {
        let start = self.offset;
        let n = self.fill(FRAME_HEAD_LEN)?;
        if n == 0 {
            return Ok(None);
        }
        if self.saw_end {
            return Err(corrupt(start, "bytes follow the End record".into()));
        }
        if n < FRAME_HEAD_LEN {
            return Err(self.truncated(start, RECORD));
        }
        let head = &self.buffered()[..FRAME_HEAD_LEN];
        let kind = head[0];
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
        // Before reading on: the length is bounded per kind, so the buffer is too.
        check_frame(kind, len).map_err(|reason| corrupt(start, reason))?;
        let total = FRAME_HEAD_LEN + len as usize + FRAME_CRC_LEN;
        if self.fill(total)? < total {
            return Err(self.truncated(start, RECORD));
        }
        let (checked, crc) = self.buffered()[..total].split_at(total - FRAME_CRC_LEN);
        if !self.crc_matches(checked, crc) {
            return Err(corrupt(
                start,
                "the record's checksum does not match".into(),
            ));
        }
        let payload = self
            .view
            .slice(self.at + FRAME_HEAD_LEN..self.at + total - FRAME_CRC_LEN);
        self.consume(total);
        let record = decode_record(kind, payload).map_err(|reason| corrupt(start, reason))?;
        if matches!(record, Record::End { .. }) {
            self.saw_end = true;
        }
        Ok(Some(record))
    }

    fn crc_matches(&self, checked: &[u8], crc: &[u8]) -> bool {
        let mut hasher = self.hasher.clone();
        hasher.update(checked);
        crc.try_into().ok().map(u32::from_le_bytes) == Some(hasher.finalize())
    }

    /// The bytes read and not consumed yet.
    fn buffered(&self) -> &[u8] {
        &self.block[self.at..self.end]
    }

    /// Reads until `want` bytes are buffered or the input ends; returns how many are buffered.
    fn fill(&mut self, want: usize) -> Result<usize, RecordError> {
        if self.end - self.at >= want {
            return Ok(self.end - self.at);
        }
        // The unconsumed bytes move to the front of a block with room for `want`: this one if
        // nothing else holds it, else a new one.
        self.view = Bytes::new();
        let left = self.end - self.at;
        let size = READ_SIZE.max(want);
        if Arc::get_mut(&mut self.block).is_none_or(|b| b.len() < size) {
            let mut fresh = vec![0; size];
            fresh[..left].copy_from_slice(self.buffered());
            self.block = Arc::new(fresh);
            self.at = 0;
        }
        // Nothing else holds the block now (checked, or just made): `make_mut` copies nothing.
        let block = Arc::make_mut(&mut self.block);
        block.copy_within(self.at..self.at + left, 0);
        (self.at, self.end) = (0, left);
        let mut result = Ok(());
        while self.end < want {
            match self.input.read(&mut block[self.end..]) {
                Ok(0) => break,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.view = Bytes::from_owner(Block(self.block.clone()));
        match result {
            Ok(()) => Ok(self.end),
            Err(e) => {
                self.offset += self.end as u64;
                Err(RecordError::Io(e))
            }
        }
    }

    /// Drops `n` checked bytes from the front of the buffer.
    fn consume(&mut self, n: usize) {
        self.at += n;
        self.offset += n as u64;
    }

    /// The input ended inside the part that starts at `start`: every byte it had was read.
    fn truncated(&self, start: u64, part: &'static str) -> RecordError {
        RecordError::Truncated {
            offset: self.offset + (self.end - self.at) as u64,
            start,
            part,
        }
    }
}

fn corrupt(offset: u64, reason: String) -> RecordError {
    RecordError::Corrupt { offset, reason }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr, SocketAddrV6};

    use proptest::prelude::*;

    use super::*;
    use crate::{
        capture::Endpoints,
        conn::Role,
        record::{format::FRAME_HEAD_LEN, writer::RecordWriter},
    };

    fn header() -> FileHeader {
        FileHeader::new(1_700_000_000_000_000_000, 1_699_999_000_000_000_000)
    }

    fn write_all(records: &[Record]) -> Vec<u8> {
        let mut w = RecordWriter::new(Vec::new(), &header()).unwrap();
        for r in records {
            w.write(r).unwrap();
        }
        w.finish().unwrap()
    }

    /// Every record, or the first error, with the records before it.
    fn read_all(bytes: &[u8]) -> (Vec<Record>, Result<(), RecordError>, bool) {
        let (mut r, h) = match RecordReader::open(bytes) {
            Ok(v) => v,
            Err(e) => return (vec![], Err(e), false),
        };
        assert_eq!(h, header());
        let mut out = vec![];
        loop {
            match r.next() {
                Ok(Some(rec)) => out.push(rec),
                Ok(None) => return (out, Ok(()), r.saw_end()),
                Err(e) => return (out, Err(e), r.saw_end()),
            }
        }
    }

    fn addr() -> impl Strategy<Value = SocketAddr> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(a, p)| SocketAddr::new(IpAddr::from(a), p)),
            (any::<[u8; 16]>(), any::<u16>(), any::<u32>(), any::<u32>())
                .prop_map(|(a, p, f, s)| SocketAddr::V6(SocketAddrV6::new(a.into(), p, f, s))),
        ]
    }

    fn role() -> impl Strategy<Value = Role> {
        prop_oneof![Just(Role::Client), Just(Role::Server), Just(Role::Unknown)]
    }

    fn record() -> impl Strategy<Value = Record> {
        prop_oneof![
            (
                any::<u64>(),
                proptest::collection::vec(any::<u8>(), 0..2000)
            )
                .prop_map(|(now_ns, bytes)| Record::Kernel {
                    now_ns,
                    bytes: bytes.into(),
                }),
            any::<u64>().prop_map(|now_ns| Record::Tick { now_ns }),
            (
                any::<u32>(),
                any::<i32>(),
                proptest::option::of((addr(), addr(), role()))
            )
                .prop_map(|(pid, fd, a)| Record::Resolved {
                    pid,
                    fd,
                    answer: a.map(|(local, remote, role)| (Endpoints { local, remote }, role)),
                }),
            (any::<u32>(), addr(), role()).prop_map(|(pid, local, role)| Record::RoleAnswer {
                pid,
                local,
                role
            }),
        ]
    }

    proptest! {
        #[test]
        fn round_trips_any_records(records in proptest::collection::vec(record(), 0..20), end in any::<Option<u64>>()) {
            let mut records = records;
            if let Some(now_ns) = end {
                records.push(Record::End { now_ns });
            }
            let (read, result, saw_end) = read_all(&write_all(&records));
            prop_assert!(result.is_ok());
            prop_assert_eq!(read, records);
            prop_assert_eq!(saw_end, end.is_some());
        }
    }

    /// One of each kind, a kernel record first so the file is long enough that a corrupt header
    /// length lands inside it rather than past the end.
    fn sample() -> Vec<Record> {
        let v4: SocketAddr = "10.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        vec![
            Record::Kernel {
                now_ns: 5,
                bytes: (0..=255u8).cycle().take(700).collect(),
            },
            Record::Tick { now_ns: 6 },
            Record::Resolved {
                pid: 42,
                fd: 7,
                answer: Some((
                    Endpoints {
                        local: v4,
                        remote: v6,
                    },
                    Role::Server,
                )),
            },
            Record::Resolved {
                pid: 42,
                fd: -1,
                answer: None,
            },
            Record::RoleAnswer {
                pid: 43,
                local: v6,
                role: Role::Client,
            },
            Record::Kernel {
                now_ns: 8,
                bytes: bytes::Bytes::from_static(b"tiny"),
            },
            Record::End { now_ns: 9 },
        ]
    }

    /// Start offsets of each record frame in `write_all(records)`.
    fn frame_starts(records: &[Record]) -> Vec<usize> {
        let mut at = write_all(&[]).len();
        let mut out = vec![];
        for r in records {
            out.push(at);
            at += write_all(std::slice::from_ref(r)).len() - write_all(&[]).len();
        }
        out
    }

    #[test]
    fn every_cut_is_truncated_or_a_clean_end_between_records() {
        let records = sample();
        let file = write_all(&records);
        let header_len = write_all(&[]).len();
        let mut boundaries = frame_starts(&records);
        boundaries.push(file.len());
        for cut in 0..file.len() {
            let (read, result, saw_end) = read_all(&file[..cut]);
            assert!(!saw_end, "cut {cut}");
            assert_eq!(read[..], records[..read.len()], "cut {cut}");
            if cut >= header_len && boundaries.contains(&cut) {
                assert!(result.is_ok(), "cut {cut}: {result:?}");
                assert_eq!(boundaries[read.len()], cut);
            } else {
                match result {
                    Err(RecordError::Truncated { offset, .. }) => {
                        assert_eq!(offset, cut as u64)
                    }
                    other => panic!("cut {cut}: {other:?}"),
                }
            }
        }
        let (read, result, saw_end) = read_all(&file);
        assert!(result.is_ok() && saw_end);
        assert_eq!(read, records);
    }

    #[test]
    fn a_flipped_byte_is_always_an_error_and_never_a_wrong_record() {
        let records = sample();
        let file = write_all(&records);
        // A corrupt kernel-record length can point past the end: indistinguishable from a cut.
        let kernel_lengths: Vec<usize> = frame_starts(&records)
            .iter()
            .zip(&records)
            .filter(|(_, r)| matches!(r, Record::Kernel { .. }))
            .flat_map(|(&s, _)| s + 1..s + FRAME_HEAD_LEN)
            .collect();
        for at in 0..file.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = file.clone();
                bad[at] ^= mask;
                let (read, result, _) = read_all(&bad);
                assert_eq!(read[..], records[..read.len()], "byte {at} ^ {mask:#x}");
                match result {
                    Err(RecordError::NotARecording) => assert!(at < 8),
                    Err(RecordError::UnsupportedVersion(_)) => assert!((8..10).contains(&at)),
                    Err(RecordError::Corrupt { .. }) => {}
                    Err(RecordError::Truncated { .. }) if kernel_lengths.contains(&at) => {}
                    other => panic!("byte {at} ^ {mask:#x}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn rejects_other_versions_and_other_files() {
        let mut file = write_all(&sample());
        file[8] = 2;
        assert!(matches!(
            RecordReader::open(file.as_slice()),
            Err(RecordError::UnsupportedVersion(2))
        ));
        let json = br#"{"type":"stats"}"#;
        assert!(matches!(
            RecordReader::open(&json[..]),
            Err(RecordError::NotARecording)
        ));
        let e = RecordReader::open(&json[..]).err().unwrap().to_string();
        assert!(e.contains("--raw"), "{e}");
        let e = RecordError::UnsupportedVersion(2).to_string();
        assert_eq!(
            e,
            "unsupported recording version 2: this monitor reads version 1"
        );
    }

    #[test]
    fn a_huge_declared_length_is_corrupt_without_reading_it() {
        let mut file = write_all(&[]);
        let start = file.len() as u64;
        file.push(1);
        file.extend_from_slice(&u32::MAX.to_le_bytes());
        file.extend_from_slice(&[0; 16]);
        let (_, result, _) = read_all(&file);
        match result {
            Err(RecordError::Corrupt { offset, reason }) => {
                assert_eq!(offset, start);
                assert!(reason.contains("4294967295"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // The same for the header length.
        let mut file = write_all(&[]);
        file[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            RecordReader::open(file.as_slice()),
            Err(RecordError::Corrupt { offset: 10, .. })
        ));
    }

    #[test]
    fn unknown_kinds_and_trailing_bytes_after_end_are_corrupt() {
        let mut file = write_all(&[]);
        file.push(9);
        file.extend_from_slice(&8u32.to_le_bytes());
        file.extend_from_slice(&[0; 12]);
        let (_, result, _) = read_all(&file);
        assert!(
            matches!(&result, Err(RecordError::Corrupt { reason, .. }) if reason.contains("kind 9")),
            "{result:?}"
        );

        let mut file = write_all(&[Record::End { now_ns: 1 }]);
        file.push(2);
        let (read, result, saw_end) = read_all(&file);
        assert_eq!(read, vec![Record::End { now_ns: 1 }]);
        assert!(saw_end);
        assert!(matches!(result, Err(RecordError::Corrupt { .. })));
    }

    #[test]
    fn a_later_header_field_is_skipped() {
        // A writer of a later revision appends a field to the header: this reader skips it.
        let mut head = super::super::format::encode_header(&header());
        head.extend_from_slice(&[7; 5]);
        let len = (head.len() - PRELUDE_LEN) as u32;
        head[10..14].copy_from_slice(&len.to_le_bytes());
        let crc = crc32fast::hash(&head);
        head.extend_from_slice(&crc.to_le_bytes());
        let body = &write_all(&[Record::Tick { now_ns: 3 }])[write_all(&[]).len()..];
        head.extend_from_slice(body);
        let (read, result, saw_end) = read_all(&head);
        assert!(result.is_ok());
        assert!(!saw_end);
        assert_eq!(read, vec![Record::Tick { now_ns: 3 }]);
    }

    #[test]
    fn a_kernel_record_over_the_bound_is_refused_by_the_writer() {
        let mut w = RecordWriter::new(Vec::new(), &header()).unwrap();
        let huge = Record::Kernel {
            now_ns: 0,
            bytes: vec![0; 1 << 20].into(),
        };
        let e = w.write(&huge).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        w.write(&Record::Tick { now_ns: 1 }).unwrap();
        let file = w.finish().unwrap();
        assert_eq!(read_all(&file).0, vec![Record::Tick { now_ns: 1 }]);
    }
}
