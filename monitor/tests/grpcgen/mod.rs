//! Test-only generator of gRPC conversations over HTTP/2: messages encoded by prost (a real
//! protobuf encoder), framed as gRPC senders frame them, carried in frames and header blocks
//! from `h2gen`. Written as golden scripts under tests/golden/grpc (`UPDATE_GOLDEN=1`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use prost::Message;

use crate::h2gen::{Conversation, END_HEADERS, END_STREAM, frame, kind};

/// A JWT as issued (HS256), the credential the unary call carries in its message.
pub const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.\
SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

#[derive(Clone, PartialEq, prost::Message)]
struct CheckRequest {
    #[prost(string, tag = "1")]
    user: String,
    #[prost(string, tag = "2")]
    token: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CheckReply {
    #[prost(bool, tag = "1")]
    valid: bool,
    #[prost(int64, tag = "2")]
    expires: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListBooks {
    #[prost(string, tag = "1")]
    shelf: String,
    #[prost(int32, tag = "2")]
    limit: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Book {
    #[prost(int32, tag = "1")]
    id: i32,
    #[prost(string, tag = "2")]
    title: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Point {
    #[prost(int32, tag = "1")]
    latitude: i32,
    #[prost(int32, tag = "2")]
    longitude: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RouteSummary {
    #[prost(int32, tag = "1")]
    points: i32,
    #[prost(int32, tag = "2")]
    distance: i32,
}

/// `message` framed as a gRPC sender frames it: flags 0, big-endian length, the bytes.
fn framed(message: &impl Message) -> Vec<u8> {
    let bytes = message.encode_to_vec();
    let mut out = vec![0];
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&bytes);
    out
}

fn call_headers(path: &str) -> Vec<(&str, &str)> {
    vec![
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "grpc.example:50051"),
        (":path", path),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("user-agent", "grpc-go/1.68.0"),
    ]
}

const RESPONSE: &[(&str, &str)] = &[(":status", "200"), ("content-type", "application/grpc")];

/// Every gRPC golden conversation, by file name.
pub fn goldens() -> Vec<(&'static str, Conversation)> {
    vec![
        ("unary_jwt", unary_jwt()),
        ("server_streaming", server_streaming()),
        ("client_streaming", client_streaming()),
    ]
}

/// The response headers, `messages` in one DATA frame each, and the trailers.
fn respond(c: &mut Conversation, stream: u32, messages: &[Vec<u8>], trailers: &[(&str, &str)]) {
    let mut b = c.response(stream, RESPONSE, false);
    for m in messages {
        b.extend(Conversation::data(stream, m, false));
    }
    let t = c.response_block(trailers);
    b.extend(frame(kind::HEADERS, END_HEADERS | END_STREAM, stream, &t));
    c.inb(b);
}

pub fn unary_jwt() -> Conversation {
    let mut c = Conversation::new();
    c.comment("A unary gRPC call whose request message and status message carry a JWT: masked.");
    c.start();
    let r = c.request(1, &call_headers("/auth.v1.Tokens/Check"), false);
    c.out(r);
    let request = framed(&CheckRequest {
        user: "alice".into(),
        token: JWT.into(),
    });
    c.out(Conversation::data(1, &request, true));
    let reply = framed(&CheckReply {
        valid: true,
        expires: 1_700_003_600,
    });
    // The status message echoes the token: masked in the trailers and in `grpc.message`.
    let message = format!("accepted%20{JWT}");
    respond(
        &mut c,
        1,
        &[reply],
        &[("grpc-status", "0"), ("grpc-message", &message)],
    );
    c
}

pub fn server_streaming() -> Conversation {
    let mut c = Conversation::new();
    c.comment("A server stream of four messages, the first cut inside its prefix and the third");
    c.comment("inside its body across DATA frames, ending NOT_FOUND in the trailers. The capture");
    c.comment("bound keeps only the first messages: every one is still counted.");
    c.directive("config max_body_bytes=40");
    c.start();
    let r = c.request(1, &call_headers("/library.v1.Shelves/ListBooks"), false);
    c.out(r);
    let request = framed(&ListBooks {
        shelf: "b".into(),
        limit: 10,
    });
    c.out(Conversation::data(1, &request, true));
    let books: Vec<u8> = ["Dune", "Emma", "Ulysses", "Beloved"]
        .iter()
        .enumerate()
        .flat_map(|(i, title)| {
            framed(&Book {
                id: i as i32 + 1,
                title: (*title).into(),
            })
        })
        .collect();
    // Cuts: inside the first prefix (3 of its 5 octets), then inside the third message.
    let third = 2 * (5 + 8) + 7;
    let pieces = [&books[..3], &books[3..third], &books[third..]];
    let mut b = c.response(1, RESPONSE, false);
    for piece in pieces {
        b.extend(Conversation::data(1, piece, false));
    }
    let t = c.response_block(&[
        ("grpc-status", "5"),
        ("grpc-message", "shelf%20b%20has%20no%20more%20books"),
    ]);
    b.extend(frame(kind::HEADERS, END_HEADERS | END_STREAM, 1, &t));
    c.inb(b);
    c
}

pub fn client_streaming() -> Conversation {
    let mut c = Conversation::new();
    c.comment("A client stream of three points (two of them in one DATA frame), one summary back.");
    c.start();
    let r = c.request(1, &call_headers("/routes.v1.Guide/RecordRoute"), false);
    c.out(r);
    let points: Vec<Vec<u8>> = [
        (407_838_351, -746_143_763),
        (415_736_605, -742_847_522),
        (1, 2),
    ]
    .iter()
    .map(|&(latitude, longitude)| {
        framed(&Point {
            latitude,
            longitude,
        })
    })
    .collect();
    c.out(Conversation::data(1, &points[0], false));
    let mut two = points[1].clone();
    two.extend_from_slice(&points[2]);
    c.out(Conversation::data(1, &two, true));
    let summary = framed(&RouteSummary {
        points: 3,
        distance: 42,
    });
    respond(&mut c, 1, &[summary], &[("grpc-status", "0")]);
    c
}
