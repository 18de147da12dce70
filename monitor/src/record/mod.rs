//! Recordings of raw capture (`monitor record`) and the inputs of `monitor replay`: a
//! recording (kernel records, timer ticks and /proc answers, exactly as the live run saw them)
//! or the JSON lines of `monitor run --raw`.

pub mod format;
pub mod rawjson;
pub mod reader;
pub mod resolver;
pub mod writer;

pub use format::{FileHeader, Record};
pub use rawjson::{RawJsonError, RawJsonReader};
pub use reader::{RecordError, RecordReader};
pub use resolver::{AnswerLog, RecordingResolver, ReplayResolver};
pub use writer::RecordWriter;
