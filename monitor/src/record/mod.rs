//! Recordings of raw capture (`monitor record`) and the inputs of `monitor replay`: a
//! recording (kernel records, timer ticks and /proc answers, exactly as the live run saw them)
//! or the JSON lines of `monitor run --raw`.

pub mod format;
pub mod rawjson;
pub mod reader;
pub mod resolver;
pub mod writer;

use std::io::{self, BufReader, Read};

pub use format::{FileHeader, Record};
pub use rawjson::{RawJsonError, RawJsonReader};
pub use reader::{RecordError, RecordReader};
pub use resolver::{AnswerLog, RecordingResolver, ReplayResolver};
pub use writer::RecordWriter;

/// What a replay input is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Recording,
    RawJson,
}

/// Bytes [`ReplayInput::open`] reads to tell the kinds apart: the magic's length.
pub const SNIFF_LEN: usize = format::MAGIC.len();

/// The magic (or, for an input shorter than it, a prefix of it) means a recording; `{` after
/// optional whitespace means JSON lines. Anything else, or nothing, is unknown.
pub fn sniff(first_bytes: &[u8]) -> Option<InputKind> {
    let n = first_bytes.len().min(format::MAGIC.len());
    if n > 0 && first_bytes[..n] == format::MAGIC[..n] {
        return Some(InputKind::Recording);
    }
    match first_bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Some(InputKind::RawJson),
        // Only blank so far: JSON lines may start with an empty line.
        None if !first_bytes.is_empty() => Some(InputKind::RawJson),
        _ => None,
    }
}

/// An input after its first bytes were read to sniff it, with those bytes put back in front.
pub type Sniffed<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// The input of `monitor replay`, opened by what its first bytes say it is.
pub enum ReplayInput<R: Read> {
    Recording {
        reader: RecordReader<Sniffed<R>>,
        header: FileHeader,
    },
    RawJson(RawJsonReader<BufReader<Sniffed<R>>>),
}

impl<R: Read> ReplayInput<R> {
    /// Sniffs and opens `input`. An empty input is refused: it is more often a capture that
    /// died before writing anything than a deliberate empty replay.
    pub fn open(input: R) -> Result<Self, RecordError> {
        let mut input = input;
        let mut first = Vec::with_capacity(SNIFF_LEN);
        (&mut input)
            .take(SNIFF_LEN as u64)
            .read_to_end(&mut first)?;
        if first.is_empty() {
            return Err(RecordError::Empty);
        }
        let kind = sniff(&first);
        let input = io::Cursor::new(first).chain(input);
        match kind {
            Some(InputKind::Recording) => {
                let (reader, header) = RecordReader::open(input)?;
                Ok(ReplayInput::Recording { reader, header })
            }
            Some(InputKind::RawJson) => Ok(ReplayInput::RawJson(RawJsonReader::new(
                BufReader::with_capacity(256 * 1024, input),
            ))),
            None => Err(RecordError::NotARecording),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_recordings_and_json_lines() {
        assert_eq!(sniff(b"APIMREC\0\x01\x00"), Some(InputKind::Recording));
        assert_eq!(sniff(b"APIM"), Some(InputKind::Recording));
        assert_eq!(sniff(b"{\"type\""), Some(InputKind::RawJson));
        assert_eq!(sniff(b"\n\r\n {\"ty"), Some(InputKind::RawJson));
        assert_eq!(sniff(b"\n\n"), Some(InputKind::RawJson));
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"GET / HT"), None);
        assert_eq!(sniff(b"APIMRECX"), None);
    }

    #[test]
    fn opens_each_kind() {
        let mut w = RecordWriter::new(Vec::new(), &FileHeader::new(1, 2)).unwrap();
        w.write(&Record::Tick { now_ns: 3 }).unwrap();
        let file = w.finish().unwrap();
        let Ok(ReplayInput::Recording { mut reader, header }) = ReplayInput::open(&file[..]) else {
            panic!("not opened as a recording")
        };
        assert_eq!(header, FileHeader::new(1, 2));
        assert_eq!(reader.next().unwrap(), Some(Record::Tick { now_ns: 3 }));
        assert_eq!(reader.next().unwrap(), None);

        let json = b"{\"type\":\"stats\"}\n";
        let Ok(ReplayInput::RawJson(mut r)) = ReplayInput::open(&json[..]) else {
            panic!("not opened as JSON lines")
        };
        assert!(r.next().unwrap().is_none());
        assert!(matches!(
            ReplayInput::open(&b""[..]),
            Err(RecordError::Empty)
        ));

        assert!(matches!(
            ReplayInput::open(&b"hello, world\n"[..]),
            Err(RecordError::NotARecording)
        ));
        assert!(matches!(
            ReplayInput::open(&file[..5]),
            Err(RecordError::Truncated { offset: 5, .. })
        ));
    }
}
