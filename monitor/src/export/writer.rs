//! Writes output events as JSON lines to a file or standard output.

use std::io::{self, BufWriter, Write};

use super::event::OutputEvent;

pub struct JsonLinesWriter {
    out: BufWriter<Box<dyn Write + Send>>,
    /// One line, serialised before it is written (the SIMD serialiser writes to memory).
    line: Vec<u8>,
    pub written: u64,
}

impl JsonLinesWriter {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: BufWriter::with_capacity(256 * 1024, out),
            line: Vec::with_capacity(4096),
            written: 0,
        }
    }

    pub fn write(&mut self, event: &OutputEvent) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, event).map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    /// Writes any serialisable line (events that borrow their data, like `http`).
    pub fn write_value<T: serde::Serialize>(&mut self, value: &T) -> io::Result<()> {
        self.line.clear();
        sonic_rs::to_writer(&mut self.line, value).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.written += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
