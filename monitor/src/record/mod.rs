//! Recordings of raw capture (`monitor record`): kernel records, timer ticks and /proc
//! answers, exactly as the live run saw them, for `monitor replay`.

pub mod format;
pub mod reader;
pub mod resolver;
pub mod writer;

pub use format::{FileHeader, Record};
pub use reader::{RecordError, RecordReader};
pub use resolver::{AnswerLog, RecordingResolver, ReplayResolver};
pub use writer::RecordWriter;
