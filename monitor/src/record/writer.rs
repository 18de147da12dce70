//! Writes a recording: the file header, then one CRC-framed record per call, buffered.

use std::io::{self, BufWriter, Write};

use super::format::{FileHeader, Record, encode_header, encode_record};

pub struct RecordWriter<W: Write> {
    out: BufWriter<W>,
    /// Reused for each frame so a record costs no allocation.
    frame: Vec<u8>,
}

impl<W: Write> RecordWriter<W> {
    /// Writes the magic, version and header.
    pub fn new(w: W, header: &FileHeader) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(256 * 1024, w);
        let mut head = encode_header(header);
        let crc = crc32fast::hash(&head);
        head.extend_from_slice(&crc.to_le_bytes());
        out.write_all(&head)?;
        Ok(Self {
            out,
            frame: Vec::with_capacity(64 * 1024),
        })
    }

    /// Appends one record. A kernel record over the format's 1 MiB bound is `InvalidInput`.
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        self.frame.clear();
        encode_record(record, &mut self.frame)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let crc = crc32fast::hash(&self.frame);
        self.frame.extend_from_slice(&crc.to_le_bytes());
        self.out.write_all(&self.frame)
    }

    /// Pushes buffered records to the file, so a run that is killed later loses less.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and hands back the inner writer. Does not write [`Record::End`]: the caller
    /// writes it, with the time the run stopped.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}
