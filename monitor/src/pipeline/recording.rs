//! Writes what a live run ingests to a recording: kernel records with their ingest time, timer
//! ticks, and the /proc answers the connection table got, in the order replay needs them.

use std::io;

use crate::{
    clock::{Clock, unix_now_ns},
    conn::proc::Resolve,
    record::{AnswerLog, FileHeader, Record, RecordWriter, RecordingResolver},
};

pub struct Recorder {
    writer: RecordWriter<Box<dyn io::Write + Send>>,
    answers: Option<AnswerLog>,
    pub records: u64,
}

impl Recorder {
    pub fn new(out: Box<dyn io::Write + Send>, clock: Clock) -> io::Result<Self> {
        let offset = i64::try_from(clock.offset_ns()).unwrap_or(i64::MAX);
        let header = FileHeader::new(unix_now_ns(), offset);
        Ok(Self {
            writer: RecordWriter::new(out, &header)?,
            answers: None,
            records: 0,
        })
    }

    /// Wraps the live resolver so its answers are recorded.
    pub fn resolver<R: Resolve>(&mut self, inner: R) -> RecordingResolver<R> {
        let r = RecordingResolver::new(inner);
        self.answers = Some(r.log());
        r
    }

    /// A kernel record, after the connection table ingested it: the answers it caused go first.
    pub fn kernel(&mut self, now_ns: u64, bytes: Vec<u8>) -> io::Result<()> {
        self.write_answers()?;
        self.write(&Record::Kernel {
            now_ns,
            bytes: bytes.into(),
        })
    }

    pub fn tick(&mut self, now_ns: u64) -> io::Result<()> {
        self.write_answers()?;
        self.write(&Record::Tick { now_ns })
    }

    /// The clean end of the run.
    pub fn finish(mut self, now_ns: u64) -> io::Result<()> {
        self.write_answers()?;
        self.write(&Record::End { now_ns })?;
        let mut out = self.writer.finish()?;
        out.flush()
    }

    fn write_answers(&mut self) -> io::Result<()> {
        let Some(log) = &self.answers else {
            return Ok(());
        };
        for r in log.drain() {
            self.records += 1;
            self.writer.write(&r)?;
        }
        Ok(())
    }

    fn write(&mut self, r: &Record) -> io::Result<()> {
        self.records += 1;
        self.writer.write(r)
    }
}
