//! Decodes header blocks (RFC 7541 §6) into fields, exact from a connection's start and, when
//! joined mid-stream, reporting what it cannot know as unknown rather than guessing.

use super::{
    HpackError,
    integer::{decode_integer, decode_string},
    static_table,
    table::{DynamicTable, Entry, Lookup, Part},
};

/// Bounds on what one direction's decoder holds and accepts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Dynamic table octets held at most (§4.1 sizes), whatever the peers announce.
    pub max_table: usize,
    /// Longest name or value accepted (encoded or decoded).
    pub max_string: usize,
    /// Most fields in one block.
    pub max_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_table: 64 * 1024,
            max_string: 64 * 1024,
            max_fields: 1024,
        }
    }
}

/// One decoded field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: Part,
    pub value: Part,
    /// Sent as never-indexed (§6.2.3): the sender marked it sensitive, so it must be redacted.
    pub never_indexed: bool,
}

impl Field {
    pub fn is_known(&self) -> bool {
        matches!((&self.name, &self.value), (Part::Known(_), Part::Known(_)))
    }
}

/// One decoded header block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    pub fields: Vec<Field>,
    /// Fields with an unknown name or value (references into the part of the table we missed).
    pub unknown: usize,
}

/// What a decoder has done, for counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub blocks: u64,
    pub fields: u64,
    pub unknown_fields: u64,
    pub errors: u64,
    pub size_updates: u64,
}

#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynamicTable,
    limits: Limits,
    counters: Counters,
}

/// How a literal updates the table (§6.2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Indexing {
    Incremental,
    Without,
    Never,
}

impl Decoder {
    /// For a connection seen from its first header block.
    pub fn new(limits: Limits) -> Self {
        Decoder {
            table: DynamicTable::exact(limits.max_table),
            limits,
            counters: Counters::default(),
        }
    }

    /// For a connection joined mid-stream: the dynamic table is unknown until rebuilt.
    pub fn joined(limits: Limits) -> Self {
        Decoder {
            table: DynamicTable::joined(limits.max_table),
            limits,
            counters: Counters::default(),
        }
    }

    /// A header block of this direction was lost (a gap, a frame we could not read): the
    /// inserts it made are unknown, so every dynamic index is.
    pub fn lost_block(&mut self) {
        self.table.forget();
    }

    /// The decoding peer's SETTINGS_HEADER_TABLE_SIZE: the encoder's table never exceeds it.
    pub fn set_settings_table_size(&mut self, size: u32) {
        self.table.set_settings_bound(size as usize);
    }

    pub fn table(&self) -> &DynamicTable {
        &self.table
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Decodes one complete block (HEADERS or PUSH_PROMISE with its CONTINUATIONs). On error
    /// the rest of the block is lost, with any inserts in it, so the table is forgotten.
    pub fn decode(&mut self, block: &[u8]) -> Result<Block, HpackError> {
        self.counters.blocks += 1;
        match self.decode_block(block) {
            Ok(b) => {
                self.counters.fields += b.fields.len() as u64;
                self.counters.unknown_fields += b.unknown as u64;
                Ok(b)
            }
            Err(e) => {
                self.counters.errors += 1;
                self.table.forget();
                Err(e)
            }
        }
    }

    fn decode_block(&mut self, mut buf: &[u8]) -> Result<Block, HpackError> {
        let mut out = Block::default();
        while let Some(&first) = buf.first() {
            let used = if first & 0x80 != 0 {
                let (index, used) = decode_integer(buf, 7)?;
                let (name, value) = self.lookup(index)?;
                push(&mut out, &self.limits, name, value, false)?;
                used
            } else if first & 0x40 != 0 {
                self.literal(buf, 6, Indexing::Incremental, &mut out)?
            } else if first & 0x20 != 0 {
                // §4.2 allows updates only at the start of a block; tolerated anywhere, since
                // the encoder's table follows them wherever they are.
                let (size, used) = decode_integer(buf, 5)?;
                self.counters.size_updates += 1;
                self.table.set_max_size(size as usize);
                used
            } else if first & 0x10 != 0 {
                self.literal(buf, 4, Indexing::Never, &mut out)?
            } else {
                self.literal(buf, 4, Indexing::Without, &mut out)?
            };
            buf = buf.get(used..).ok_or(HpackError::Truncated)?;
        }
        Ok(out)
    }

    fn literal(
        &mut self,
        buf: &[u8],
        prefix: u8,
        indexing: Indexing,
        out: &mut Block,
    ) -> Result<usize, HpackError> {
        let (index, mut used) = decode_integer(buf, prefix)?;
        let name = if index == 0 {
            let rest = buf.get(used..).ok_or(HpackError::Truncated)?;
            let (name, n) = decode_string(rest, self.limits.max_string)?;
            used += n;
            Part::Known(name)
        } else {
            self.lookup(index)?.0
        };
        let rest = buf.get(used..).ok_or(HpackError::Truncated)?;
        let (value, n) = decode_string(rest, self.limits.max_string)?;
        used += n;
        let value = Part::Known(value);
        if indexing == Indexing::Incremental {
            // Mirrored even with an unknown name, so later indexes stay aligned.
            self.table.insert(Entry::new(name.clone(), value.clone()));
        }
        push(out, &self.limits, name, value, indexing == Indexing::Never)?;
        Ok(used)
    }

    fn lookup(&self, index: u64) -> Result<(Part, Part), HpackError> {
        let index = usize::try_from(index).map_err(|_| HpackError::IntegerOverflow)?;
        if index == 0 {
            return Err(HpackError::ZeroIndex);
        }
        if let Some(&(n, v)) = static_table::STATIC.get(index - 1) {
            return Ok((Part::Known(n.to_vec()), Part::Known(v.to_vec())));
        }
        match self.table.get(index - static_table::LEN) {
            Lookup::Entry(e) => Ok((e.name.clone(), e.value.clone())),
            Lookup::Unknown => Ok((Part::Unknown, Part::Unknown)),
            Lookup::Invalid => Err(HpackError::InvalidIndex(index)),
        }
    }
}

fn push(
    out: &mut Block,
    limits: &Limits,
    name: Part,
    value: Part,
    never_indexed: bool,
) -> Result<(), HpackError> {
    if out.fields.len() >= limits.max_fields {
        return Err(HpackError::TooManyFields);
    }
    let field = Field {
        name,
        value,
        never_indexed,
    };
    if !field.is_known() {
        out.unknown += 1;
    }
    out.fields.push(field);
    Ok(())
}
