//! A compressed gRPC message undone, when its `grpc-encoding` is one flate2 (already used for
//! HTTP bodies) reads: `gzip` and `deflate` (zlib). Output is bounded whatever the input says.

use std::io::Read;

use flate2::read::{GzDecoder, ZlibDecoder};

/// What became of one compressed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decompressed {
    Whole(Vec<u8>),
    /// The output reached the bound: its first `max` octets.
    Cut(Vec<u8>),
    /// The data is corrupt (or ends early).
    Failed,
    /// An encoding not decoded here (snappy, zstd, ...) or none was sent.
    Unsupported,
}

/// Undoes `encoding` (`grpc-encoding`, case-insensitive) on `message`, producing at most `max`
/// octets.
pub fn decompress(encoding: Option<&str>, message: &[u8], max: usize) -> Decompressed {
    let encoding = encoding.map(str::trim).unwrap_or_default();
    if encoding.eq_ignore_ascii_case("gzip") {
        read_bounded(GzDecoder::new(message), max)
    } else if encoding.eq_ignore_ascii_case("deflate") {
        read_bounded(ZlibDecoder::new(message), max)
    } else {
        Decompressed::Unsupported
    }
}

fn read_bounded(decoder: impl Read, max: usize) -> Decompressed {
    let mut out = Vec::new();
    // One octet past the bound tells a cut output from one that ends exactly there.
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    match decoder.take(limit).read_to_end(&mut out) {
        Ok(_) if out.len() > max => {
            out.truncate(max);
            Decompressed::Cut(out)
        }
        Ok(_) => Decompressed::Whole(out),
        Err(_) => Decompressed::Failed,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::{
        Compression,
        write::{GzEncoder, ZlibEncoder},
    };

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn undoes_gzip_and_deflate() {
        let data = b"\x0a\x05alice\x10\x2a";
        assert_eq!(
            decompress(Some("gzip"), &gzip(data), 100),
            Decompressed::Whole(data.to_vec())
        );
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        assert_eq!(
            decompress(Some("Deflate"), &e.finish().unwrap(), 100),
            Decompressed::Whole(data.to_vec())
        );
    }

    #[test]
    fn a_bomb_stops_at_the_bound() {
        let bomb = gzip(&vec![0; 10 << 20]);
        assert!(bomb.len() < 64 * 1024);
        match decompress(Some("gzip"), &bomb, 4096) {
            Decompressed::Cut(out) => assert_eq!(out.len(), 4096),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decompress(Some("gzip"), &gzip(&[1; 4096]), 4096),
            Decompressed::Whole(vec![1; 4096])
        );
    }

    #[test]
    fn corrupt_or_unknown_is_not_decoded() {
        assert_eq!(
            decompress(Some("gzip"), b"not gzip", 100),
            Decompressed::Failed
        );
        let cut = gzip(b"some message that is long enough");
        assert_eq!(
            decompress(Some("gzip"), &cut[..cut.len() / 2], 100),
            Decompressed::Failed
        );
        assert_eq!(
            decompress(Some("snappy"), b"x", 100),
            Decompressed::Unsupported
        );
        assert_eq!(
            decompress(Some("identity"), b"x", 100),
            Decompressed::Unsupported
        );
        assert_eq!(decompress(None, b"x", 100), Decompressed::Unsupported);
    }
}
