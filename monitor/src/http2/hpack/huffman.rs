//! Huffman decoding of string literals (RFC 7541 §5.2, Appendix B). The code is canonical
//! (codes of one length are consecutive, in symbol order), so a code is decoded from the first
//! code and symbol offset of each length instead of a hand-built state table.

use super::HpackError;

#[path = "huffman_table.rs"]
mod table;

const EOS: u16 = 256;
const MAX_BITS: usize = 30;

/// Per code length L: `first[L]` the first code of that length, `count[L]` how many there are,
/// `offset[L]` where they start in `symbols` (ordered by length, then symbol).
struct Canonical {
    first: [u32; MAX_BITS + 1],
    count: [u16; MAX_BITS + 1],
    offset: [u16; MAX_BITS + 1],
    symbols: [u16; 257],
}

const fn canonical() -> Canonical {
    let mut count = [0u16; MAX_BITS + 1];
    let mut i = 0;
    while i < 257 {
        count[table::CODES[i].1 as usize] += 1;
        i += 1;
    }
    let mut first = [0u32; MAX_BITS + 1];
    let mut offset = [0u16; MAX_BITS + 1];
    let mut code = 0u32;
    let mut len = 1;
    while len <= MAX_BITS {
        code = (code + count[len - 1] as u32) << 1;
        first[len] = code;
        offset[len] = offset[len - 1] + count[len - 1];
        len += 1;
    }
    let mut symbols = [0u16; 257];
    let mut next = offset;
    let mut sym = 0;
    while sym < 257 {
        let l = table::CODES[sym].1 as usize;
        symbols[next[l] as usize] = sym as u16;
        next[l] += 1;
        sym += 1;
    }
    Canonical {
        first,
        count,
        offset,
        symbols,
    }
}

static CANONICAL: Canonical = canonical();

/// Decodes `raw`; output longer than `max_len` is refused (Huffman expands by at most 8/5).
pub fn decode(raw: &[u8], max_len: usize) -> Result<Vec<u8>, HpackError> {
    let c = &CANONICAL;
    let mut out = Vec::with_capacity((raw.len() * 8 / 5).min(max_len));
    let mut code = 0u32;
    let mut len = 0usize;
    for &byte in raw {
        for bit in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> bit) & 1);
            len += 1;
            let index = code.wrapping_sub(c.first[len]);
            if index < u32::from(c.count[len]) {
                let sym = c.symbols[usize::from(c.offset[len]) + index as usize];
                // §5.2: a string containing EOS is a decoding error.
                if sym == EOS {
                    return Err(HpackError::Huffman);
                }
                if out.len() == max_len {
                    return Err(HpackError::StringTooLong);
                }
                out.push(sym as u8);
                code = 0;
                len = 0;
            } else if len == MAX_BITS {
                return Err(HpackError::Huffman);
            }
        }
    }
    // §5.2: padding is shorter than 8 bits and is the most significant bits of EOS (all ones).
    if len > 7 || code != (1 << len) - 1 {
        return Err(HpackError::Huffman);
    }
    Ok(out)
}

/// Huffman encoding, for tests only: the decoder needs none, and tests use it to make blocks
/// the reference decoder (with its own table) must agree with.
#[cfg(test)]
pub fn encode(octets: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc = 0u64;
    let mut bits = 0u32;
    for &b in octets {
        let (code, len) = table::CODES[usize::from(b)];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_canonical_and_complete() {
        // Canonical: each symbol's code is exactly what the canonical construction gives, so
        // the decoder's tables describe the RFC's code and nothing else.
        let c = &CANONICAL;
        for (pos, &sym) in c.symbols.iter().enumerate() {
            let (code, len) = table::CODES[usize::from(sym)];
            let len = usize::from(len);
            let rank = pos - usize::from(c.offset[len]);
            assert_eq!(code, c.first[len] + rank as u32, "symbol {sym}");
        }
        // Complete: the Kraft sum of the code lengths is exactly 1.
        let kraft: u64 = table::CODES.iter().map(|&(_, l)| 1u64 << (30 - l)).sum();
        assert_eq!(kraft, 1 << 30);
    }

    #[test]
    fn every_symbol_round_trips() {
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(decode(&encode(&all), 1000), Ok(all));
    }

    #[test]
    fn rfc_c4_strings() {
        // C.4.1: "www.example.com".
        let raw = [
            0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
        ];
        assert_eq!(decode(&raw, 100), Ok(b"www.example.com".to_vec()));
        assert_eq!(encode(b"www.example.com"), raw);
    }

    #[test]
    fn bad_padding_and_eos_are_errors() {
        // 'a' is 00011 (5 bits): padded with zeros instead of ones.
        assert_eq!(decode(&[0b0001_1000], 10), Err(HpackError::Huffman));
        // A whole octet of padding.
        assert_eq!(decode(&[0b0001_1111, 0xff], 10), Err(HpackError::Huffman));
        // EOS itself (30 ones) and more.
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], 10),
            Err(HpackError::Huffman)
        );
        assert_eq!(decode(&encode(b"abc"), 2), Err(HpackError::StringTooLong));
    }
}
