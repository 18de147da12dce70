//! Our decoder against a maintained reference (loona-hpack): exact agreement from a stream's
//! start, and after a mid-stream join no known value that differs from the truth.

use super::{Decoder, Field, Limits, Part, huffman};

// Deterministic generator, so a failure names its seed.
use crate::test_rng::Rng;

const NAMES: &[&str] = &[
    ":method",
    ":path",
    ":authority",
    ":status",
    "content-type",
    "user-agent",
    "accept",
    "cookie",
    "authorization",
    "x-request-id",
    "x-trace",
    "grpc-timeout",
    "te",
    "etag",
    "cache-control",
    "x-custom-a",
    "x-custom-b",
    "x-custom-c",
    "set-cookie",
    "date",
];

/// A header list like an API client's: repeated names, values from a small pool (so indexes
/// are reused) or fresh (so the table churns and evicts).
fn header_list(rng: &mut Rng) -> Vec<(Vec<u8>, Vec<u8>)> {
    let n = 1 + rng.below(12) as usize;
    (0..n)
        .map(|_| {
            let name = NAMES[rng.below(NAMES.len() as u64) as usize]
                .as_bytes()
                .to_vec();
            let value = if rng.below(3) == 0 {
                format!("v{}", rng.below(8)).into_bytes()
            } else {
                let len = rng.below(200) as usize;
                (0..len).map(|_| b' ' + rng.below(95) as u8).collect()
            };
            (name, value)
        })
        .collect()
}

fn truth(list: &[(Vec<u8>, Vec<u8>)]) -> Vec<Field> {
    list.iter()
        .map(|(n, v)| Field {
            name: Part::Known(n.clone()),
            value: Part::Known(v.clone()),
            never_indexed: false,
        })
        .collect()
}

fn strip_flags(fields: Vec<Field>) -> Vec<Field> {
    fields
        .into_iter()
        .map(|f| Field {
            never_indexed: false,
            ..f
        })
        .collect()
}

/// A real encoder's blocks for `count` generated header lists.
type HeaderList = Vec<(Vec<u8>, Vec<u8>)>;

fn loona_stream(seed: u64, count: usize) -> (Vec<Vec<u8>>, Vec<HeaderList>) {
    let mut rng = Rng(seed);
    let mut enc = loona_hpack::Encoder::new();
    let lists: Vec<_> = (0..count).map(|_| header_list(&mut rng)).collect();
    let blocks = lists
        .iter()
        .map(|l| enc.encode(l.iter().map(|(n, v)| (&n[..], &v[..]))))
        .collect();
    (blocks, lists)
}

#[test]
fn agrees_with_loona_on_its_encoder_from_the_start() {
    let mut fields = 0;
    for seed in 1..=50u64 {
        let (blocks, lists) = loona_stream(seed, 100);
        let mut ours = Decoder::new(Limits::default());
        let mut reference = loona_hpack::Decoder::new();
        for (block, list) in blocks.iter().zip(&lists) {
            let got = ours.decode(block).unwrap();
            let want = reference.decode(block).unwrap();
            assert_eq!(got.fields, truth(&want), "seed {seed}");
            assert_eq!(got.fields, truth(list), "seed {seed}");
            fields += got.fields.len();
        }
        assert!(ours.table().is_exact());
    }
    assert!(fields > 20_000, "{fields}");
}

/// An encoder of every representation (Huffman or not, each kind of literal, size updates),
/// with its own model of the table, so the reference decoder checks what loona's encoder
/// never emits.
struct VariedEncoder {
    /// Newest first.
    table: Vec<(Vec<u8>, Vec<u8>)>,
    max: usize,
}

fn size(t: &[(Vec<u8>, Vec<u8>)]) -> usize {
    t.iter().map(|(n, v)| n.len() + v.len() + 32).sum()
}

fn integer(out: &mut Vec<u8>, first: u8, prefix: u8, mut value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

fn string(out: &mut Vec<u8>, s: &[u8], huff: bool) {
    if huff {
        let h = huffman::encode(s);
        integer(out, 0x80, 7, h.len());
        out.extend(h);
    } else {
        integer(out, 0, 7, s.len());
        out.extend_from_slice(s);
    }
}

impl VariedEncoder {
    fn evict(&mut self) {
        while size(&self.table) > self.max {
            self.table.pop();
        }
    }

    fn encode(&mut self, rng: &mut Rng, list: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        if rng.below(8) == 0 {
            self.max = rng.below(4097) as usize;
            integer(&mut out, 0x20, 5, self.max);
            self.evict();
        }
        for (name, value) in list {
            let full = self.table.iter().position(|(n, v)| n == name && v == value);
            if let Some(i) = full
                && rng.below(2) == 0
            {
                integer(&mut out, 0x80, 7, 62 + i);
                continue;
            }
            let name_at = self.table.iter().position(|(n, _)| n == name);
            let (first, prefix) = match rng.below(3) {
                0 => (0x40, 6),
                1 => (0x00, 4),
                _ => (0x10, 4),
            };
            match name_at {
                Some(i) if rng.below(2) == 0 => integer(&mut out, first, prefix, 62 + i),
                _ => {
                    integer(&mut out, first, prefix, 0);
                    string(&mut out, name, rng.below(2) == 0);
                }
            }
            string(&mut out, value, rng.below(2) == 0);
            if first == 0x40 {
                self.table.insert(0, (name.clone(), value.clone()));
                if size(&self.table[..1]) > self.max {
                    self.table.clear();
                }
                self.evict();
            }
        }
        out
    }
}

#[test]
fn agrees_with_loona_on_every_representation() {
    let mut fields = 0;
    for seed in 1..=50u64 {
        let mut rng = Rng(seed * 7919);
        let mut enc = VariedEncoder {
            table: vec![],
            max: 4096,
        };
        let mut ours = Decoder::new(Limits::default());
        let mut reference = loona_hpack::Decoder::new();
        for _ in 0..100 {
            let list = header_list(&mut rng);
            let block = enc.encode(&mut rng, &list);
            let got = ours.decode(&block).unwrap();
            let want = reference.decode(&block).unwrap();
            assert_eq!(strip_flags(got.fields), truth(&want), "seed {seed}");
            assert_eq!(truth(&want), truth(&list), "seed {seed}");
            fields += want.len();
            // Our table is exact: the same entries as the encoder's model, same size.
            let entries: Vec<_> = ours
                .table()
                .entries()
                .map(|e| {
                    (
                        e.name.known().unwrap().to_vec(),
                        e.value.known().unwrap().to_vec(),
                    )
                })
                .collect();
            assert_eq!(entries, enc.table, "seed {seed}");
            assert_eq!(ours.table().size(), size(&enc.table));
        }
    }
    assert!(fields > 20_000, "{fields}");
}

/// Joins each stream at every k-th block. Returns (fields, unknown, wrong).
fn join_figures(settings_bound: Option<u32>) -> (usize, usize, usize) {
    let (mut fields, mut unknown, mut wrong) = (0, 0, 0);
    for seed in 1..=20u64 {
        let (blocks, lists) = loona_stream(seed, 60);
        for k in 0..blocks.len() {
            let mut d = Decoder::joined(Limits::default());
            if let Some(b) = settings_bound {
                d.set_settings_table_size(b);
            }
            for (block, list) in blocks[k..].iter().zip(&lists[k..]) {
                let got = d.decode(block).unwrap();
                assert_eq!(got.fields.len(), list.len());
                for (f, (n, v)) in got.fields.iter().zip(list) {
                    fields += 1;
                    if !f.is_known() {
                        unknown += 1;
                    }
                    if f.name.known().is_some_and(|x| x != &n[..])
                        || f.value.known().is_some_and(|x| x != &v[..])
                    {
                        wrong += 1;
                    }
                }
            }
        }
    }
    (fields, unknown, wrong)
}

#[test]
fn mid_stream_join_never_invents_a_value() {
    for bound in [None, Some(4096)] {
        let (fields, unknown, wrong) = join_figures(bound);
        eprintln!(
            "join (settings bound {bound:?}): {fields} fields, {unknown} unknown ({:.2} %), {wrong} wrong",
            100.0 * unknown as f64 / fields as f64
        );
        assert_eq!(wrong, 0);
        assert!(unknown > 0 && unknown < fields / 2);
    }
}

#[test]
fn lost_block_forgets_and_recovers_without_wrong_values() {
    let (blocks, lists) = loona_stream(99, 200);
    let mut d = Decoder::new(Limits::default());
    for (i, (block, list)) in blocks.iter().zip(&lists).enumerate() {
        if i % 37 == 5 {
            d.lost_block();
            continue;
        }
        let got = d.decode(block).unwrap();
        for (f, (n, v)) in got.fields.iter().zip(list) {
            assert!(f.name.known().is_none_or(|x| x == &n[..]));
            assert!(f.value.known().is_none_or(|x| x == &v[..]));
        }
    }
}
