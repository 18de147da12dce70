//! HPACK primitives (RFC 7541 §5): prefixed integers and string literals, with hard bounds so a
//! hostile or misaligned block cannot make us allocate or loop without limit.

use super::{HpackError, huffman};

/// Largest integer accepted. Every HPACK integer is an index, a length or a table size, and all
/// of ours are bounded far below this; a bigger one means a broken or misaligned block.
pub const MAX_INTEGER: u64 = (1 << 32) - 1;

/// Decodes an integer with an N-bit prefix (§5.1) from the start of `buf`: (value, bytes used).
pub fn decode_integer(buf: &[u8], prefix_bits: u8) -> Result<(u64, usize), HpackError> {
    let first = *buf.first().ok_or(HpackError::Truncated)?;
    let max_prefix = (1u16 << prefix_bits) - 1;
    let mut value = u64::from(first) & u64::from(max_prefix);
    if value < u64::from(max_prefix) {
        return Ok((value, 1));
    }
    let mut shift = 0u32;
    for (i, &byte) in buf.iter().enumerate().skip(1) {
        value += u64::from(byte & 0x7f) << shift;
        if value > MAX_INTEGER {
            return Err(HpackError::IntegerOverflow);
        }
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
        shift += 7;
        // 5 continuation bytes already carry 35 bits: more is overflow, or padding with 0x80.
        if shift > 28 {
            return Err(HpackError::IntegerOverflow);
        }
    }
    Err(HpackError::Truncated)
}

/// Decodes a string literal (§5.2) from the start of `buf`, Huffman-decoded if flagged:
/// (octets, bytes used). Strings whose encoded or decoded length exceeds `max_len` are refused
/// before anything is allocated for them.
pub fn decode_string(buf: &[u8], max_len: usize) -> Result<(Vec<u8>, usize), HpackError> {
    let huffman_coded = buf.first().ok_or(HpackError::Truncated)? & 0x80 != 0;
    let (len, used) = decode_integer(buf, 7)?;
    let len = usize::try_from(len).map_err(|_| HpackError::IntegerOverflow)?;
    if len > max_len {
        return Err(HpackError::StringTooLong);
    }
    let end = used.checked_add(len).ok_or(HpackError::Truncated)?;
    let raw = buf.get(used..end).ok_or(HpackError::Truncated)?;
    let octets = if huffman_coded {
        huffman::decode(raw, max_len)?
    } else {
        raw.to_vec()
    };
    Ok((octets, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_c1_integers() {
        // C.1.1: 10 with a 5-bit prefix; C.1.2: 1337 with a 5-bit prefix; C.1.3: 42 at an octet.
        assert_eq!(decode_integer(&[0b0000_1010], 5), Ok((10, 1)));
        assert_eq!(
            decode_integer(&[0b0001_1111, 0b1001_1010, 0b0000_1010], 5),
            Ok((1337, 3))
        );
        assert_eq!(decode_integer(&[42], 8), Ok((42, 1)));
    }

    #[test]
    fn integers_are_bounded() {
        assert_eq!(decode_integer(&[0x1f], 5), Err(HpackError::Truncated));
        assert_eq!(decode_integer(&[0x1f, 0x80], 5), Err(HpackError::Truncated));
        let long = [0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert_eq!(decode_integer(&long, 5), Err(HpackError::IntegerOverflow));
        let padded = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(decode_integer(&padded, 5), Err(HpackError::IntegerOverflow));
        assert_eq!(decode_integer(&[], 5), Err(HpackError::Truncated));
    }

    #[test]
    fn strings_are_bounded() {
        assert_eq!(decode_string(b"\x03abc", 3), Ok((b"abc".to_vec(), 4)));
        assert_eq!(decode_string(b"\x03abc", 2), Err(HpackError::StringTooLong));
        assert_eq!(decode_string(b"\x03ab", 3), Err(HpackError::Truncated));
    }
}
