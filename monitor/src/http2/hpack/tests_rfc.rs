//! RFC 7541 Appendix C: every example decoded exactly, with the dynamic table after each block.

use super::{Decoder, Limits, Part};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn known(fields: &[super::Field]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| match (&f.name, &f.value) {
            (Part::Known(n), Part::Known(v)) => (
                String::from_utf8(n.clone()).unwrap(),
                String::from_utf8(v.clone()).unwrap(),
            ),
            _ => panic!("unknown part in an exact decode: {f:?}"),
        })
        .collect()
}

fn table(d: &Decoder) -> Vec<(String, String)> {
    d.table()
        .entries()
        .map(|e| {
            (
                String::from_utf8(e.name.known().unwrap().to_vec()).unwrap(),
                String::from_utf8(e.value.known().unwrap().to_vec()).unwrap(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// One step: a block, the fields it decodes to, the table after it (newest first), its size.
struct Step<'a> {
    block: &'a str,
    fields: &'a [(&'a str, &'a str)],
    table: &'a [(&'a str, &'a str)],
    size: usize,
}

fn run(steps: &[Step], prefix: &[u8]) {
    let mut d = Decoder::new(Limits::default());
    for (i, step) in steps.iter().enumerate() {
        let mut block = if i == 0 { prefix.to_vec() } else { vec![] };
        block.extend(hex(step.block));
        let out = d.decode(&block).unwrap();
        assert_eq!(known(&out.fields), pairs(step.fields), "step {i} fields");
        assert_eq!(out.unknown, 0);
        assert_eq!(table(&d), pairs(step.table), "step {i} table");
        assert_eq!(d.table().size(), step.size, "step {i} size");
        assert!(d.table().is_exact());
    }
}

#[test]
fn c2_field_representations() {
    let mut d = Decoder::new(Limits::default());
    // C.2.1 literal with indexing.
    let out = d
        .decode(&hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"))
        .unwrap();
    assert_eq!(
        known(&out.fields),
        pairs(&[("custom-key", "custom-header")])
    );
    assert_eq!(table(&d), pairs(&[("custom-key", "custom-header")]));
    assert_eq!(d.table().size(), 55);

    // C.2.2 literal without indexing.
    let mut d = Decoder::new(Limits::default());
    let out = d.decode(&hex("040c2f73616d706c652f70617468")).unwrap();
    assert_eq!(known(&out.fields), pairs(&[(":path", "/sample/path")]));
    assert!(!out.fields[0].never_indexed);
    assert!(d.table().is_empty());

    // C.2.3 never indexed: the flag is kept, for redaction.
    let out = d
        .decode(&hex("100870617373776f726406736563726574"))
        .unwrap();
    assert_eq!(known(&out.fields), pairs(&[("password", "secret")]));
    assert!(out.fields[0].never_indexed);
    assert!(d.table().is_empty());

    // C.2.4 indexed.
    let out = d.decode(&hex("82")).unwrap();
    assert_eq!(known(&out.fields), pairs(&[(":method", "GET")]));
    assert!(d.table().is_empty());
}

const REQ1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQ2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQ3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const REQ_T1: &[(&str, &str)] = &[(":authority", "www.example.com")];
const REQ_T2: &[(&str, &str)] = &[
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];
const REQ_T3: &[(&str, &str)] = &[
    ("custom-key", "custom-value"),
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];

fn requests(blocks: [&str; 3]) -> [Step<'_>; 3] {
    [
        Step {
            block: blocks[0],
            fields: REQ1,
            table: REQ_T1,
            size: 57,
        },
        Step {
            block: blocks[1],
            fields: REQ2,
            table: REQ_T2,
            size: 110,
        },
        Step {
            block: blocks[2],
            fields: REQ3,
            table: REQ_T3,
            size: 164,
        },
    ]
}

#[test]
fn c3_requests_without_huffman() {
    run(
        &requests([
            "828684410f7777772e6578616d706c652e636f6d",
            "828684be58086e6f2d6361636865",
            "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
        ]),
        &[],
    );
}

#[test]
fn c4_requests_with_huffman() {
    run(
        &requests([
            "828684418cf1e3c2e5f23a6ba0ab90f4ff",
            "828684be5886a8eb10649cbf",
            "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
        ]),
        &[],
    );
}

const RESP1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESP2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESP3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
    ("location", "https://www.example.com"),
    ("content-encoding", "gzip"),
    (
        "set-cookie",
        "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    ),
];
const RESP_T1: &[(&str, &str)] = &[
    ("location", "https://www.example.com"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("cache-control", "private"),
    (":status", "302"),
];
const RESP_T2: &[(&str, &str)] = &[
    (":status", "307"),
    ("location", "https://www.example.com"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("cache-control", "private"),
];
const RESP_T3: &[(&str, &str)] = &[
    (
        "set-cookie",
        "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    ),
    ("content-encoding", "gzip"),
    ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
];

fn responses(blocks: [&str; 3]) -> [Step<'_>; 3] {
    [
        Step {
            block: blocks[0],
            fields: RESP1,
            table: RESP_T1,
            size: 222,
        },
        Step {
            block: blocks[1],
            fields: RESP2,
            table: RESP_T2,
            size: 222,
        },
        Step {
            block: blocks[2],
            fields: RESP3,
            table: RESP_T3,
            size: 215,
        },
    ]
}

/// C.5 and C.6 run with a 256-octet table: said here by a size update (§6.3) of 256, as an
/// encoder must when the decoder's SETTINGS_HEADER_TABLE_SIZE is below 4096.
const SIZE_256: [u8; 3] = [0x3f, 0xe1, 0x01];

#[test]
fn c5_responses_without_huffman() {
    run(
        &responses([
            "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a32
             3120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
            "4803333037c1c0bf",
            "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a6970
             7738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d61
             67653d333630303b2076657273696f6e3d31",
        ]),
        &SIZE_256,
    );
}

#[test]
fn c6_responses_with_huffman() {
    run(
        &responses([
            "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad
             171863c78f0b97c8e9ae82ae43d3",
            "4883640effc1c0bf",
            "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2
             e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
        ]),
        &SIZE_256,
    );
}
