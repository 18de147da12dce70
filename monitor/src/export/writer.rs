//! Writes output events as JSON lines to a file or standard output.

use std::io::{self, Write};

use super::event::OutputEvent;

/// Lines are gathered in memory and handed to the output in blocks of about this size.
const BLOCK: usize = 256 * 1024;

pub struct JsonLinesWriter {
    out: Box<dyn Write + Send>,
    /// Whole lines not yet handed to `out`; lines are written straight into it.
    pending: Vec<u8>,
    pub written: u64,
}

impl JsonLinesWriter {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out,
            pending: Vec::with_capacity(BLOCK + 64 * 1024),
            written: 0,
        }
    }

    pub fn write(&mut self, event: &OutputEvent) -> io::Result<()> {
        let start = self.pending.len();
        if let Err(err) = serde_json::to_writer(&mut self.pending, event) {
            self.pending.truncate(start);
            return Err(io::Error::other(err));
        }
        self.end_line()
    }

    /// Writes one line that `write` appends to the buffer given (events that borrow their data
    /// and are written by hand, like `http`).
    pub fn write_line(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        write(&mut self.pending);
        self.end_line()
    }

    fn end_line(&mut self) -> io::Result<()> {
        self.pending.push(b'\n');
        self.written += 1;
        if self.pending.len() >= BLOCK {
            self.hand_over()?;
        }
        Ok(())
    }

    fn hand_over(&mut self) -> io::Result<()> {
        // Cleared even when writing fails, so a failed output does not grow the buffer.
        let result = self.out.write_all(&self.pending);
        self.pending.clear();
        result
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.hand_over()?;
        self.out.flush()
    }
}

impl Drop for JsonLinesWriter {
    /// What is pending is written, as `BufWriter` does; errors have nowhere to go here (the
    /// pipelines flush, and see them, before they end).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
