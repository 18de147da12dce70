//! HPACK (RFC 7541), tolerant of joining a connection mid-stream: exact from a connection's
//! start; after a join or a lost block, what depends on table entries it never saw is
//! reported unknown (never guessed) while the table is rebuilt from later inserts.

pub mod decoder;
pub mod huffman;
pub mod integer;
pub mod static_table;
pub mod table;

pub use decoder::{Block, Counters, Decoder, Field, Limits};
pub use table::{DynamicTable, Part};

#[cfg(test)]
mod tests_reference;
#[cfg(test)]
mod tests_rfc;

/// Why a header block could not be decoded. Each is a broken or misaligned block: the rest of
/// the block, and what it did to the table, is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HpackError {
    #[error("header block ends inside a representation")]
    Truncated,
    #[error("integer larger than any index, length or size we accept")]
    IntegerOverflow,
    #[error("string longer than the limit")]
    StringTooLong,
    #[error("invalid Huffman code, padding or EOS in a string")]
    Huffman,
    #[error("index 0")]
    ZeroIndex,
    #[error("index {0} past the end of a table known completely")]
    InvalidIndex(usize),
    #[error("more fields in one block than the limit")]
    TooManyFields,
}
