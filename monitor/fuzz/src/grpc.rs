//! The `grpc_messages` target: one body through the gRPC message framing (in chunks, checked
//! against reading it whole), each message and the raw bytes through the schema-less protobuf
//! decoder, and the body as both halves of a call through `grpc::summarise`.
//!
//! Input: byte 0 bits 0-1 the content type (0 proto, 1 json, 2 grpc-web, 3 another codec),
//! bit 2 whether messages are gzip (`grpc-encoding`); byte 1 the chunk size (1 + b); the rest
//! is the body. Panics when a split reads differently from the whole, a buffer or a decoded
//! tree grows past its bound.

use monitor::grpc::{
    self, BodyLimits, GrpcStream,
    framing::{self, Framed, MessageReader, PREFIX_LEN},
    protobuf::{self, Limits},
};
use serde_json::Value;

const LIMITS: Limits = Limits {
    max_depth: 6,
    max_fields: 64,
    max_string: 32,
};
const MAX_MESSAGE: usize = 1024;

pub fn run(input: &[u8]) {
    let [mode, chunk, body @ ..] = input else {
        return;
    };
    let content_type = match mode & 3 {
        0 => "application/grpc",
        1 => "application/grpc+json",
        2 => "application/grpc-web+proto",
        _ => "application/grpc+thrift",
    };
    let framing = framing::Limits {
        max_message: MAX_MESSAGE,
        web: mode & 3 == 2,
    };
    let mut reader = MessageReader::new(framing);
    let mut frames = Vec::new();
    for piece in body.chunks(usize::from(*chunk) + 1) {
        reader.push(piece, &mut frames);
        assert!(reader.buffered() <= MAX_MESSAGE.max(PREFIX_LEN));
    }
    let counts = reader.finish();
    assert_eq!(
        (frames.clone(), counts),
        framing::read_all(body, framing),
        "a split read differently"
    );
    for frame in &frames {
        if let Framed::Message(m) = frame {
            assert!(m.bytes.len() <= MAX_MESSAGE);
            check_tree(&m.bytes);
        }
    }
    check_tree(body);

    let encoding = if mode & 4 == 0 { "identity" } else { "gzip" };
    let request_headers = [
        (":path", "/fuzz.Service/Method"),
        ("content-type", content_type),
        ("grpc-encoding", encoding),
    ];
    let response_headers = [("content-type", content_type), ("grpc-encoding", encoding)];
    let text = String::from_utf8_lossy(body);
    let trailers = [("grpc-status", &text[..]), ("grpc-message", &text[..])];
    let limits = BodyLimits {
        framing,
        max_decompressed: 4096,
        protobuf: LIMITS,
    };
    let stream = GrpcStream {
        request_headers: &request_headers,
        request_body: body,
        response_headers: &response_headers,
        response_body: body,
        trailers: &trailers,
        ..GrpcStream::default()
    };
    let call = grpc::summarise(&stream, &limits);
    assert!(call.is_some(), "a gRPC content type was not recognised");

    // Tallies fed the body in two pieces count what the whole body read at once counts.
    let kind = grpc::recognise(&request_headers, &response_headers);
    if let (Some(kind), Some(call)) = (kind, &call) {
        let mut tally = grpc::Tally::new(kind, &limits, body.len());
        let (a, b) = body.split_at(usize::from(*chunk) % (body.len() + 1));
        tally.push(a);
        tally.push(b);
        let tallied = GrpcStream {
            request_tally: Some(&tally),
            response_tally: Some(&tally),
            ..stream
        };
        let Some(t) = grpc::summarise(&tallied, &limits) else {
            panic!("a call recognised without tallies was not with them");
        };
        assert_eq!(
            (t.request_messages, t.response_messages),
            (call.request_messages, call.response_messages),
            "a tally counts as the whole body does"
        );
    }
}

fn check_tree(bytes: &[u8]) {
    let d = protobuf::decode(bytes, &LIMITS);
    assert!(objects(&d.value) <= LIMITS.max_depth + 1, "too deep");
    assert!(fields(&d.value) <= LIMITS.max_fields, "too many fields");
    assert!(longest_string(&d.value) <= LIMITS.max_string.max("<bytes:4294967295>".len()));
}

/// Object nesting (arrays of repeated fields are not a level).
fn objects(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(objects).max().unwrap_or(0),
        Value::Array(a) => a.iter().map(objects).max().unwrap_or(0),
        _ => 0,
    }
}

/// Field values in the tree, each element of a repeated field counted.
fn fields(v: &Value) -> usize {
    match v {
        Value::Object(m) => m
            .values()
            .map(|v| match v {
                Value::Array(a) => a.iter().map(|v| 1 + fields(v)).sum(),
                v => 1 + fields(v),
            })
            .sum(),
        _ => 0,
    }
}

fn longest_string(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Object(m) => m.values().map(longest_string).max().unwrap_or(0),
        Value::Array(a) => a.iter().map(longest_string).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use std::{fs, path::PathBuf};

    /// The committed seeds keep the invariants, so the harness is exercised without a fuzzer.
    #[test]
    fn seeds_keep_the_invariants() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/grpc_messages");
        let mut played = 0;
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            eprintln!("playing {}", path.display());
            super::run(&fs::read(&path).unwrap());
            played += 1;
        }
        assert!(played >= 6, "seeds missing from {}", dir.display());
    }
}
