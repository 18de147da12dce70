//! The schema-less decoder against a real encoder (prost), and against hostile bytes.

use proptest::prelude::*;
use prost::Message;
use serde_json::{Value, json};

use super::*;

#[derive(Clone, PartialEq, prost::Message)]
struct Address {
    #[prost(string, tag = "1")]
    street: String,
    #[prost(uint32, tag = "2")]
    zip: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Phone {
    #[prost(string, tag = "1")]
    number: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct User {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int64, tag = "2")]
    id: i64,
    #[prost(message, optional, tag = "3")]
    address: Option<Address>,
    #[prost(string, repeated, tag = "4")]
    tags: Vec<String>,
    #[prost(bytes = "vec", tag = "5")]
    avatar: Vec<u8>,
    #[prost(message, repeated, tag = "6")]
    phones: Vec<Phone>,
    #[prost(bool, tag = "7")]
    active: bool,
    #[prost(fixed64, tag = "8")]
    fixed: u64,
    #[prost(fixed32, tag = "9")]
    small: u32,
    #[prost(int32, tag = "10")]
    negative: i32,
    #[prost(uint32, repeated, packed = "false", tag = "11")]
    scores: Vec<u32>,
    #[prost(sint32, tag = "12")]
    zigzag: i32,
    #[prost(uint32, repeated, tag = "13")]
    packed: Vec<u32>,
    #[prost(int32, tag = "200000")]
    far: i32,
}

fn tree(bytes: &[u8]) -> Value {
    let d = decode(bytes, &Limits::default());
    assert_eq!(d.error, None, "{bytes:?}");
    d.value
}

#[test]
fn decodes_what_prost_encodes() {
    let user = User {
        name: "alice".into(),
        id: 42,
        address: Some(Address {
            street: "Main St 1".into(),
            zip: 12345,
        }),
        tags: vec!["admin".into(), "beta".into()],
        avatar: vec![0, 1, 2, 255],
        phones: vec![
            Phone {
                number: "+1 555 0100".into(),
            },
            Phone {
                number: "+44 20".into(),
            },
        ],
        active: true,
        fixed: 7,
        small: 9,
        negative: -1,
        scores: vec![1, 2, 3],
        zigzag: -2,
        packed: vec![300, 5],
        far: 1,
    };
    let want = json!({
        "1": "alice",
        "2": 42,
        "3": {"1": "Main St 1", "2": 12345},
        "4": ["admin", "beta"],
        "5": "<bytes:4>",
        "6": [{"1": "+1 555 0100"}, {"1": "+44 20"}],
        "7": 1,
        "8": 7,
        "9": 9,
        // int32 -1 is sent as a ten-octet varint; without the schema it is unsigned.
        "10": u64::MAX,
        "11": [1, 2, 3],
        // sint32 -2, zigzag: 3.
        "12": 3,
        // Packed [300, 5]: ac 02 05, which is no message and no text.
        "13": "<bytes:3>",
        "200000": 1,
    });
    assert_eq!(tree(&user.encode_to_vec()), want);
}

#[test]
fn defaults_are_absent_and_the_empty_message_is_an_empty_object() {
    assert_eq!(tree(&User::default().encode_to_vec()), json!({}));
    let user = User {
        address: Some(Address::default()),
        ..User::default()
    };
    // An empty nested message is zero octets: indistinguishable from "".
    assert_eq!(tree(&user.encode_to_vec()), json!({"3": ""}));
}

#[test]
fn deep_prost_nesting_is_a_tree() {
    #[derive(Clone, PartialEq, prost::Message)]
    struct Node {
        #[prost(string, tag = "1")]
        label: String,
        #[prost(message, optional, boxed, tag = "2")]
        child: Option<Box<Node>>,
    }
    let mut node = Node {
        label: "leaf".into(),
        child: None,
    };
    for i in 0..5 {
        node = Node {
            label: format!("level {i}"),
            child: Some(Box::new(node)),
        };
    }
    let v = tree(&node.encode_to_vec());
    assert_eq!(v["1"], "level 4");
    assert_eq!(v["2"]["2"]["2"]["2"]["2"]["1"], "leaf");
}

#[test]
fn printable_text_stays_text_even_when_it_parses() {
    // "hi" is also field 13 = 105; a string in a message is text first.
    let msg = Phone {
        number: "hi".into(),
    };
    assert_eq!(tree(&msg.encode_to_vec()), json!({"1": "hi"}));
    // Text starting with a newline that does not parse stays text.
    let msg = Phone {
        number: "\nhello\tworld\r\n".into(),
    };
    assert_eq!(
        tree(&msg.encode_to_vec()),
        json!({"1": "\nhello\tworld\r\n"})
    );
    // Non-ASCII text.
    let msg = Phone {
        number: "Grüße, 世界".into(),
    };
    assert_eq!(tree(&msg.encode_to_vec()), json!({"1": "Grüße, 世界"}));
}

#[test]
fn a_nested_message_starting_with_field_one_is_a_message() {
    // Field 1 of length 10: 0a 0a "helloworld" is printable, but starts like a message.
    let inner = Phone {
        number: "helloworld".into(),
    };
    let user = User {
        phones: vec![inner],
        ..User::default()
    };
    assert_eq!(
        tree(&user.encode_to_vec()),
        json!({"6": {"1": "helloworld"}})
    );
}

#[test]
fn long_strings_are_cut() {
    let limits = Limits {
        max_string: 5,
        ..Limits::default()
    };
    let msg = Phone {
        number: "ééééé".into(),
    };
    let d = decode(&msg.encode_to_vec(), &limits);
    assert_eq!(d.value, json!({"1": "éé"}));
    assert_eq!(d.cut_strings, 1);
}

/// `levels` messages, each field 1 of the one around it, around a varint field.
fn nested(levels: usize) -> Vec<u8> {
    let mut inner = vec![0x08, 0x01];
    for _ in 0..levels {
        let mut outer = vec![0x0a];
        let mut len = inner.len() as u64;
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                outer.push(byte);
                break;
            }
            outer.push(byte | 0x80);
        }
        outer.extend_from_slice(&inner);
        inner = outer;
    }
    inner
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[test]
fn nesting_is_bounded() {
    let limits = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    let d = decode(&nested(3), &limits);
    assert_eq!(d.value, json!({"1": {"1": {"1": {"1": 1}}}}));
    assert!(!d.depth_limited);
    let d = decode(&nested(4), &limits);
    assert_eq!(depth(&d.value), 5);
    assert!(!d.depth_limited);
    let d = decode(&nested(5), &limits);
    assert!(d.depth_limited);
    assert_eq!(depth(&d.value), 5);
    assert_eq!(d.value["1"]["1"]["1"]["1"]["1"], "<bytes:2>");
    // Ten thousand levels: no recursion past the limit, no stack overflow.
    let d = decode(&nested(10_000), &Limits::default());
    assert!(d.depth_limited);
    assert_eq!(depth(&d.value), Limits::default().max_depth + 1);
}

#[test]
fn field_count_is_bounded() {
    let limits = Limits {
        max_fields: 10,
        ..Limits::default()
    };
    let bytes: Vec<u8> = (0..5000).flat_map(|_| [0x08, 0x01]).collect();
    let d = decode(&bytes, &limits);
    assert_eq!(d.value["1"].as_array().map(Vec::len), Some(10));
    assert_eq!(d.dropped, 4990);
    assert_eq!(d.error, None);
}

#[test]
fn a_failed_nested_attempt_costs_no_budget() {
    // Field 1 holds bytes that read as fields up to their last octet, which is a group: they
    // are bytes, and the fields the attempt read are not counted against the limit.
    let mut payload: Vec<u8> = (0..8).flat_map(|_| [0x08, 0x01]).collect();
    payload.push(0x0b);
    let mut bytes = vec![0x0a, payload.len() as u8];
    bytes.extend_from_slice(&payload);
    bytes.extend_from_slice(&[0x10, 0x02]);
    let limits = Limits {
        max_fields: 2,
        ..Limits::default()
    };
    let d = decode(&bytes, &limits);
    assert_eq!(d.value, json!({"1": "<bytes:17>", "2": 2}));
    assert_eq!(d.dropped, 0);
}

#[test]
fn hostile_top_level_bytes_keep_what_came_before() {
    let cases: [(&[u8], WireError); 6] = [
        (&[0x08, 0x01, 0x0b], WireError::Group),
        (&[0x08, 0x01, 0x0c], WireError::Group),
        (&[0x08, 0x01, 0x0f], WireError::InvalidWireType(7)),
        (&[0x08, 0x01, 0x08], WireError::Truncated),
        (
            &[
                0x08, 0x01, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
            WireError::InvalidVarint,
        ),
        (
            &[0x08, 0x01, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, b'x'],
            WireError::Truncated,
        ),
    ];
    for (bytes, want) in cases {
        let d = decode(bytes, &Limits::default());
        assert_eq!(d.error, Some(want), "{bytes:?}");
        assert_eq!(d.value, json!({"1": 1}), "{bytes:?}");
    }
}

#[test]
fn strings_can_be_masked_by_their_value() {
    use crate::discovery::sensitive::classify_field;
    use crate::transaction::redact::{RedactionConfig, Redactor};

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    let user = User {
        name: "alice".into(),
        tags: vec!["admin".into(), JWT.into()],
        address: Some(Address {
            street: JWT.into(),
            zip: 1,
        }),
        ..User::default()
    };
    let mut v = tree(&user.encode_to_vec());
    let redactor = Redactor::new(&RedactionConfig::default(), [7; 32]);
    let masked = mask_strings(&mut v, &mut |s| {
        classify_field(None, s)
            .has_credential()
            .then(|| redactor.fingerprint(s.as_bytes()))
    });
    assert_eq!(masked, 2);
    let mark = redactor.fingerprint(JWT.as_bytes());
    assert_eq!(
        v,
        json!({"1": "alice", "3": {"1": mark, "2": 1}, "4": ["admin", mark]})
    );
    // And the tree is JSON text the body redaction and discovery read as they read any JSON.
    let text = serde_json::to_string(&v).unwrap();
    assert_eq!(redactor.body(Some("application/json"), &text), text);
}

/// How discovery's schema inference reads a decoded message: as a JSON body sent under a gRPC
/// media type. Its keys are all digits, which discovery takes for ids in JSON bodies (from
/// eight distinct ones an object folds into one map schema); under `application/grpc` they
/// are field numbers, names however many there are.
#[test]
fn discovery_reads_the_tree_as_a_json_body() {
    use crate::discovery::schema::{BodyKind, BodyModel, SchemaLimits};

    let small = User {
        name: "alice".into(),
        id: 7,
        address: Some(Address {
            street: "Main St 1".into(),
            zip: 1,
        }),
        ..User::default()
    };
    let text = serde_json::to_vec(&tree(&small.encode_to_vec())).unwrap();
    let mut model = BodyModel::new(SchemaLimits::default());
    assert_eq!(
        model.observe(Some("application/json"), &text).kind,
        BodyKind::Json
    );
    let schema = model.openapi_schema().unwrap();
    assert_eq!(schema["properties"]["1"]["type"], "string", "{schema}");
    assert_eq!(schema["properties"]["2"]["type"], "integer", "{schema}");
    assert_eq!(
        schema["properties"]["3"]["properties"]["1"]["type"],
        "string"
    );

    let wide = User {
        name: "alice".into(),
        id: 7,
        tags: vec!["a".into()],
        avatar: vec![0xff],
        active: true,
        fixed: 1,
        small: 1,
        negative: 1,
        ..User::default()
    };
    let text = serde_json::to_vec(&tree(&wide.encode_to_vec())).unwrap();
    let mut model = BodyModel::new(SchemaLimits::default());
    model.observe(Some("application/json"), &text);
    let schema = model.openapi_schema().unwrap();
    assert!(schema.get("properties").is_none(), "{schema}");
    assert!(schema.get("additionalProperties").is_some(), "{schema}");
    for media in ["application/grpc", "application/grpc+proto"] {
        let mut model = BodyModel::new(SchemaLimits::default());
        assert_eq!(model.observe(Some(media), &text).kind, BodyKind::Json);
        let schema = model.openapi_schema().unwrap();
        let properties = schema["properties"].as_object().expect("properties");
        assert!(properties.len() >= 8, "{schema}");
        assert_eq!(schema["properties"]["1"]["type"], "string", "{schema}");
        assert!(schema.get("additionalProperties").is_none(), "{schema}");
    }
}

proptest! {
    #[test]
    fn any_bytes_decode_within_bounds(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let limits = Limits { max_depth: 3, max_fields: 16, max_string: 8 };
        let d = decode(&bytes, &limits);
        fn objects(v: &Value) -> usize {
            match v {
                Value::Object(m) => 1 + m.values().map(objects).max().unwrap_or(0),
                Value::Array(a) => a.iter().map(objects).max().unwrap_or(0),
                _ => 0,
            }
        }
        prop_assert!(objects(&d.value) <= limits.max_depth + 1);
        fn values(v: &Value) -> usize {
            match v {
                Value::Object(m) => m.values().map(|v| match v {
                    Value::Array(a) => a.iter().map(|v| 1 + values(v)).sum(),
                    v => 1 + values(v),
                }).sum(),
                _ => 0,
            }
        }
        prop_assert!(values(&d.value) <= limits.max_fields);
    }

    #[test]
    fn prost_round_trips_strings_and_numbers(
        name in "[a-zA-Z0-9 @.]{1,40}",
        id in any::<i64>(),
        zip in any::<u32>(),
        tags in prop::collection::vec("[a-z]{1,12}", 0..5),
    ) {
        let user = User {
            name: name.clone(),
            id,
            address: Some(Address { street: name.clone(), zip }),
            tags: tags.clone(),
            ..User::default()
        };
        let v = tree(&user.encode_to_vec());
        prop_assert_eq!(&v["1"], &json!(name));
        if id != 0 {
            prop_assert_eq!(&v["2"], &json!(id as u64));
        }
        prop_assert_eq!(&v["3"]["1"], &json!(name));
        match tags.len() {
            0 => prop_assert!(v.get("4").is_none()),
            1 => prop_assert_eq!(&v["4"], &json!(tags[0])),
            _ => prop_assert_eq!(&v["4"], &json!(tags)),
        }
    }
}
