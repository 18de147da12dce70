//! The protobuf wire format without a schema: fields as tag (number, wire type) and raw value,
//! read one at a time from a byte slice. Every length is checked against what is left.

use thiserror::Error;

/// The largest field number protobuf allows (2^29 - 1).
pub const MAX_FIELD: u32 = (1 << 29) - 1;
/// Field numbers protobuf reserves for its implementation: no `.proto` may use them, so a
/// message holding one is not a message.
const RESERVED: std::ops::RangeInclusive<u32> = 19_000..=19_999;
/// A varint is at most 10 octets (64 bits, 7 per octet).
const MAX_VARINT_LEN: usize = 10;

/// One field's value as the wire has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw<'a> {
    /// Wire type 0: int32, int64, uint*, sint* (zigzag), bool, enum.
    Varint(u64),
    /// Wire type 1: fixed64, sfixed64, double.
    I64(u64),
    /// Wire type 2: string, bytes, a nested message, packed repeated scalars.
    Len(&'a [u8]),
    /// Wire type 5: fixed32, sfixed32, float.
    I32(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub number: u32,
    pub value: Raw<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("the message ends inside a field")]
    Truncated,
    #[error("a varint is longer than 10 octets or overflows 64 bits")]
    InvalidVarint,
    /// Wire types 3 and 4 (deprecated groups): their end is only known from a schema.
    #[error("a group (wire type 3 or 4), which cannot be read without a schema")]
    Group,
    #[error("wire type {0}, which protobuf does not define")]
    InvalidWireType(u8),
    #[error("field number {0}, outside 1..=2^29-1 or reserved (19000-19999)")]
    InvalidFieldNumber(u64),
}

/// Reads a varint from the front of `buf`, advancing it.
pub fn read_varint(buf: &mut &[u8]) -> Result<u64, WireError> {
    let mut value: u64 = 0;
    for (i, &byte) in buf.iter().enumerate().take(MAX_VARINT_LEN) {
        let bits = u64::from(byte & 0x7f);
        // The tenth octet holds only bit 63.
        if i == MAX_VARINT_LEN - 1 && bits > 1 {
            return Err(WireError::InvalidVarint);
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Ok(value);
        }
    }
    if buf.len() >= MAX_VARINT_LEN {
        Err(WireError::InvalidVarint)
    } else {
        Err(WireError::Truncated)
    }
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], WireError> {
    if buf.len() < n {
        return Err(WireError::Truncated);
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

/// Reads one field from the front of `buf`, advancing it.
pub fn read_field<'a>(buf: &mut &'a [u8]) -> Result<Field<'a>, WireError> {
    let tag = read_varint(buf)?;
    let number = tag >> 3;
    let number = u32::try_from(number)
        .ok()
        .filter(|n| (1..=MAX_FIELD).contains(n) && !RESERVED.contains(n))
        .ok_or(WireError::InvalidFieldNumber(number))?;
    // The mask keeps three bits, so the cast cannot lose any.
    let value = match (tag & 7) as u8 {
        0 => Raw::Varint(read_varint(buf)?),
        1 => {
            let b = take(buf, 8)?;
            Raw::I64(u64::from_le_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ]))
        }
        2 => {
            let len = read_varint(buf)?;
            let len = usize::try_from(len).map_err(|_| WireError::Truncated)?;
            Raw::Len(take(buf, len)?)
        }
        3 | 4 => return Err(WireError::Group),
        5 => {
            let b = take(buf, 4)?;
            Raw::I32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
        other => return Err(WireError::InvalidWireType(other)),
    };
    Ok(Field { number, value })
}

/// Whether `bytes` reads as a sequence of fields to its last octet (nested values not looked
/// into): the cheap check for a message too deep to decode.
pub fn is_well_formed(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        if read_field(&mut bytes).is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(bytes: &[u8]) -> Result<(u64, usize), WireError> {
        let mut buf = bytes;
        read_varint(&mut buf).map(|v| (v, bytes.len() - buf.len()))
    }

    #[test]
    fn reads_varints() {
        assert_eq!(varint(&[0]), Ok((0, 1)));
        assert_eq!(varint(&[0x96, 0x01, 0xff]), Ok((150, 2)));
        // Overlong but valid: protobuf parsers accept it.
        assert_eq!(varint(&[0x80, 0x00]), Ok((0, 2)));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(varint(&max), Ok((u64::MAX, 10)));
    }

    #[test]
    fn rejects_bad_varints() {
        assert_eq!(varint(&[]), Err(WireError::Truncated));
        assert_eq!(varint(&[0x80, 0x80]), Err(WireError::Truncated));
        let overflow = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(varint(&overflow), Err(WireError::InvalidVarint));
        assert_eq!(varint(&[0x80; 11]), Err(WireError::InvalidVarint));
        assert_eq!(varint(&[0x80; 64]), Err(WireError::InvalidVarint));
    }

    #[test]
    fn reads_each_wire_type() {
        let mut buf: &[u8] = &[
            0x08, 0x96, 0x01, // 1: varint 150
            0x11, 1, 0, 0, 0, 0, 0, 0, 0, // 2: fixed64 1
            0x1a, 0x02, b'h', b'i', // 3: "hi"
            0x25, 2, 0, 0, 0, // 4: fixed32 2
        ];
        let mut fields = Vec::new();
        while !buf.is_empty() {
            fields.push(read_field(&mut buf).unwrap());
        }
        assert_eq!(
            fields,
            [
                Field {
                    number: 1,
                    value: Raw::Varint(150)
                },
                Field {
                    number: 2,
                    value: Raw::I64(1)
                },
                Field {
                    number: 3,
                    value: Raw::Len(b"hi")
                },
                Field {
                    number: 4,
                    value: Raw::I32(2)
                },
            ]
        );
    }

    #[test]
    fn rejects_hostile_fields() {
        fn field(mut bytes: &[u8]) -> Result<Field<'_>, WireError> {
            read_field(&mut bytes)
        }
        assert_eq!(field(&[0x0b]), Err(WireError::Group));
        assert_eq!(field(&[0x0c]), Err(WireError::Group));
        assert_eq!(field(&[0x0e]), Err(WireError::InvalidWireType(6)));
        assert_eq!(field(&[0x0f]), Err(WireError::InvalidWireType(7)));
        assert_eq!(field(&[0x00, 0x00]), Err(WireError::InvalidFieldNumber(0)));
        // 19000 << 3 = 152000: reserved.
        assert_eq!(
            field(&[0xc0, 0xa3, 0x09, 0]),
            Err(WireError::InvalidFieldNumber(19_000))
        );
        // A tag above 2^32: number out of range.
        assert!(matches!(
            field(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(WireError::InvalidFieldNumber(_))
        ));
        // A length far past the end, up to the largest varint.
        assert_eq!(field(&[0x0a, 0x05, b'a']), Err(WireError::Truncated));
        let huge = [
            0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(field(&huge), Err(WireError::Truncated));
        assert_eq!(field(&[0x09, 1, 2, 3]), Err(WireError::Truncated));
        assert_eq!(field(&[0x0d, 1, 2, 3]), Err(WireError::Truncated));
    }

    #[test]
    fn well_formed_means_every_octet_read() {
        assert!(is_well_formed(&[]));
        assert!(is_well_formed(&[0x08, 0x01, 0x12, 0x00]));
        assert!(!is_well_formed(&[0x08, 0x01, 0x12]));
        assert!(!is_well_formed(&[0x08]));
    }
}
