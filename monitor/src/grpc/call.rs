//! One gRPC call made of one HTTP/2 stream's headers, bodies and trailers: who was called,
//! how it ended, what went each way. What the HTTP/2 stream code hands a finished stream to.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::body::{BodyLimits, read_body};
use super::flags::{GrpcFlag, GrpcFlags};
use super::path::{ContentType, content_type, parse_path};
use super::status::{Source, find_status};
use super::tally::Tally;

/// Header or trailer fields as decoded (HPACK): name, value. Pseudo-headers (`:path`) are
/// fields like the others. Names are matched case-insensitively.
pub type Fields<'a> = &'a [(&'a str, &'a str)];

/// One HTTP/2 stream, both directions, as captured. Bodies are the DATA payloads joined in
/// order (possibly cut by a capture bound); `trailers` the response's trailing HEADERS.
/// Tallies, when the stream layer fed one every DATA payload of a direction, count that
/// direction in full and hold its first message: they are read instead of the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcStream<'a> {
    pub request_headers: Fields<'a>,
    pub request_body: &'a [u8],
    pub response_headers: Fields<'a>,
    pub response_body: &'a [u8],
    pub trailers: Fields<'a>,
    pub request_tally: Option<&'a Tally>,
    pub response_tally: Option<&'a Tally>,
}

/// How many messages went each way, as the counts show it: a streaming method that happened
/// to send one message each way reads as `unary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Streaming {
    /// At most one message each way.
    Unary,
    /// More than one request message, at most one response.
    Client,
    /// At most one request message, more than one response.
    Server,
    /// More than one each way.
    Bidi,
}

impl Streaming {
    pub fn from_counts(requests: u64, responses: u64) -> Self {
        match (requests > 1, responses > 1) {
            (false, false) => Streaming::Unary,
            (true, false) => Streaming::Client,
            (false, true) => Streaming::Server,
            (true, true) => Streaming::Bidi,
        }
    }
}

/// One gRPC call (field names in the style of the `http` event).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct GrpcCall {
    /// Fully qualified service (`package.Service`), from `:path`; null when it is no gRPC path.
    pub service: Option<String>,
    pub method: Option<String>,
    /// `grpc-status`; null when missing or not a number.
    pub status: Option<u32>,
    /// The canonical name of `status` (`OK`, `NOT_FOUND`, ...); null for unknown codes.
    pub status_name: Option<&'static str>,
    /// `grpc-message`, percent-decoded.
    pub message: Option<String>,
    pub request_messages: u64,
    pub response_messages: u64,
    /// Some message either way had the compressed flag.
    pub compressed: bool,
    pub streaming: Streaming,
    /// The first request message decoded: protobuf as a tree keyed by field number
    /// (`{"1": "alice", "2": 42}`), `+json` as its JSON; null when none could be.
    pub request_body: Option<Value>,
    pub response_body: Option<Value>,
    pub flags: GrpcFlags,
}

/// Equality is an equivalence: the decoded bodies are JSON values, whose numbers are never
/// NaN (serde_json has no NaN), so every call equals itself. Transactions, which may hold a
/// call, compare with `Eq`.
impl Eq for GrpcCall {}

fn field<'a>(fields: Fields<'a>, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// The gRPC kind of a stream: the request's `content-type`, else the response's (when the
/// request headers were missed). `None`: not gRPC.
pub fn recognise(request_headers: Fields<'_>, response_headers: Fields<'_>) -> Option<ContentType> {
    field(request_headers, "content-type")
        .and_then(content_type)
        .or_else(|| field(response_headers, "content-type").and_then(content_type))
}

/// The call a stream carried, `None` when it is not gRPC (see [`recognise`]). Pure, bounded by
/// `limits`, never panics on what the peers sent.
pub fn summarise(stream: &GrpcStream<'_>, limits: &BodyLimits) -> Option<GrpcCall> {
    let kind = recognise(stream.request_headers, stream.response_headers)?;
    let mut flags = GrpcFlags::empty();

    let path = field(stream.request_headers, ":path").and_then(|p| parse_path(p).ok());
    flags.set_if(GrpcFlag::InvalidPath, path.is_none());
    let http_status = field(stream.response_headers, ":status");
    flags.set_if(
        GrpcFlag::HttpStatusNot200,
        http_status.is_some_and(|s| s != "200"),
    );

    let request = read_body(
        stream.request_body,
        stream.request_tally,
        kind,
        field(stream.request_headers, "grpc-encoding"),
        limits,
        &mut flags,
    );
    let response = read_body(
        stream.response_body,
        stream.response_tally,
        kind,
        field(stream.response_headers, "grpc-encoding"),
        limits,
        &mut flags,
    );

    // grpc-web sends its trailers as the body's last frame.
    let web: Vec<(&str, &str)> = response
        .web_trailers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let trailers = if stream.trailers.is_empty() {
        &web[..]
    } else {
        stream.trailers
    };
    let status = find_status(stream.response_headers, trailers);
    let (code, name, message) = match &status {
        None => {
            flags.set(GrpcFlag::MissingStatus);
            (None, None, None)
        }
        Some(s) => {
            flags.set_if(GrpcFlag::TrailersOnly, s.source == Source::Headers);
            flags.set_if(GrpcFlag::InvalidStatus, s.code.is_none());
            flags.set_if(
                GrpcFlag::UnknownStatus,
                s.code.is_some() && s.name().is_none(),
            );
            flags.set_if(GrpcFlag::RepeatedStatus, s.repeated);
            if let Some(m) = &s.message {
                flags.set_if(GrpcFlag::InvalidStatusMessage, m.invalid);
                flags.set_if(GrpcFlag::StatusMessageCut, m.cut);
            }
            (s.code, s.name(), s.message.as_ref().map(|m| m.text.clone()))
        }
    };

    Some(GrpcCall {
        service: path.map(|p| p.service.to_owned()),
        method: path.map(|p| p.method.to_owned()),
        status: code,
        status_name: name,
        message,
        request_messages: request.messages,
        response_messages: response.messages,
        compressed: request.compressed || response.compressed,
        streaming: Streaming::from_counts(request.messages, response.messages),
        request_body: request.first,
        response_body: response.first,
        flags,
    })
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use serde_json::json;

    use super::*;
    use crate::grpc::framing::encode;
    use crate::grpc::path::ContentType;

    #[derive(Clone, PartialEq, prost::Message)]
    struct HelloRequest {
        #[prost(string, tag = "1")]
        name: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct HelloReply {
        #[prost(string, tag = "1")]
        message: String,
        #[prost(int32, tag = "2")]
        count: i32,
    }

    const REQUEST: Fields<'static> = &[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/helloworld.Greeter/SayHello"),
        (":authority", "localhost:50051"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ];
    const RESPONSE: Fields<'static> = &[(":status", "200"), ("content-type", "application/grpc")];

    fn framed(messages: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        for m in messages {
            encode(false, m, &mut body);
        }
        body
    }

    #[test]
    fn a_unary_call() {
        let request = framed(&[HelloRequest {
            name: "alice".into(),
        }
        .encode_to_vec()]);
        let response = framed(&[HelloReply {
            message: "Hello alice".into(),
            count: 3,
        }
        .encode_to_vec()]);
        let stream = GrpcStream {
            request_headers: REQUEST,
            request_body: &request,
            response_headers: RESPONSE,
            response_body: &response,
            trailers: &[("grpc-status", "0"), ("grpc-message", "")],
            ..GrpcStream::default()
        };
        let call = summarise(&stream, &BodyLimits::default()).unwrap();
        assert_eq!(
            serde_json::to_value(&call).unwrap(),
            json!({
                "service": "helloworld.Greeter", "method": "SayHello",
                "status": 0, "status_name": "OK", "message": "",
                "request_messages": 1, "response_messages": 1,
                "compressed": false, "streaming": "unary",
                "request_body": {"1": "alice"},
                "response_body": {"1": "Hello alice", "2": 3},
                "flags": [],
            })
        );
    }

    #[test]
    fn a_trailers_only_error() {
        let headers = [
            (":status", "200"),
            ("content-type", "application/grpc"),
            ("grpc-status", "5"),
            ("grpc-message", "user%20not%20found"),
        ];
        let stream = GrpcStream {
            request_headers: REQUEST,
            request_body: &framed(&[vec![0x0a, 0x01, b'x']]),
            response_headers: &headers,
            ..GrpcStream::default()
        };
        let call = summarise(&stream, &BodyLimits::default()).unwrap();
        assert_eq!(call.status, Some(5));
        assert_eq!(call.status_name, Some("NOT_FOUND"));
        assert_eq!(call.message.as_deref(), Some("user not found"));
        assert_eq!(call.response_messages, 0);
        assert_eq!(call.response_body, None);
        assert_eq!(
            call.flags.iter().collect::<Vec<_>>(),
            [GrpcFlag::TrailersOnly]
        );
    }

    #[test]
    fn streaming_is_inferred_from_counts() {
        let one = framed(&[vec![0x08, 0x01]]);
        let three = framed(&[vec![0x08, 0x01], vec![0x08, 0x02], vec![]]);
        let ok: Fields<'_> = &[("grpc-status", "0")];
        let cases = [
            (&one, &one, Streaming::Unary),
            (&three, &one, Streaming::Client),
            (&one, &three, Streaming::Server),
            (&three, &three, Streaming::Bidi),
        ];
        for (request, response, want) in cases {
            let stream = GrpcStream {
                request_headers: REQUEST,
                request_body: request,
                response_headers: RESPONSE,
                response_body: response,
                trailers: ok,
                ..GrpcStream::default()
            };
            let call = summarise(&stream, &BodyLimits::default()).unwrap();
            assert_eq!(call.streaming, want);
            assert_eq!(call.response_body, Some(json!({"1": 1})));
        }
    }

    /// A server stream far past the capture bound: the captured body holds the first few
    /// hundred messages, the tallies every one.
    #[test]
    fn a_long_server_stream_is_counted_by_its_tallies() {
        const CAPTURE: usize = 64 * 1024;
        let request = framed(&[HelloRequest {
            name: "alice".into(),
        }
        .encode_to_vec()]);
        let replies: Vec<Vec<u8>> = (0..10_000)
            .map(|i| {
                HelloReply {
                    message: format!("reply {i}"),
                    count: i,
                }
                .encode_to_vec()
            })
            .collect();
        let response = framed(&replies);
        assert!(response.len() > 2 * CAPTURE);
        let limits = BodyLimits::default();
        let mut requests = Tally::new(ContentType::Proto, &limits, CAPTURE);
        requests.push(&request);
        let mut responses = Tally::new(ContentType::Proto, &limits, CAPTURE);
        // DATA frames of 16 KiB, as a server's default SETTINGS_MAX_FRAME_SIZE allows.
        for data in response.chunks(16_384) {
            responses.push(data);
        }
        let captured = GrpcStream {
            request_headers: REQUEST,
            request_body: &request,
            response_headers: RESPONSE,
            response_body: &response[..CAPTURE],
            trailers: &[("grpc-status", "0")],
            ..GrpcStream::default()
        };
        // Without the tallies the capture bound undercounts, and flags a cut message.
        let cut = summarise(&captured, &limits).unwrap();
        assert!(cut.response_messages < 10_000);
        assert!(cut.flags.contains(GrpcFlag::TruncatedMessage));
        let tallied = GrpcStream {
            request_tally: Some(&requests),
            response_tally: Some(&responses),
            ..captured
        };
        let call = summarise(&tallied, &limits).unwrap();
        assert_eq!((call.request_messages, call.response_messages), (1, 10_000));
        assert_eq!(call.streaming, Streaming::Server);
        assert_eq!(call.request_body, Some(json!({"1": "alice"})));
        assert_eq!(call.response_body, Some(json!({"1": "reply 0"})));
        assert!(call.flags.is_empty(), "{:?}", call.flags);
    }

    #[test]
    fn not_grpc_is_none() {
        let stream = GrpcStream {
            request_headers: &[(":path", "/a/b"), ("content-type", "application/json")],
            ..GrpcStream::default()
        };
        assert!(summarise(&stream, &BodyLimits::default()).is_none());
        // The response's content type is enough when the request headers were missed.
        let stream = GrpcStream {
            response_headers: RESPONSE,
            trailers: &[("grpc-status", "0")],
            ..GrpcStream::default()
        };
        let call = summarise(&stream, &BodyLimits::default()).unwrap();
        assert_eq!(call.service, None);
        assert!(call.flags.contains(GrpcFlag::InvalidPath));
    }

    #[test]
    fn hostile_streams_are_flagged() {
        let request_headers = [
            (":path", "/../../etc/passwd"),
            ("content-type", "application/grpc+proto"),
        ];
        let mut request = framed(&[vec![0x0b]]);
        request.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 1, 2]);
        let stream = GrpcStream {
            request_headers: &request_headers,
            request_body: &request,
            response_headers: RESPONSE,
            response_body: &[0x07, 0, 0],
            trailers: &[
                ("grpc-status", "99"),
                ("grpc-status", "0"),
                ("grpc-message", "100%"),
            ],
            ..GrpcStream::default()
        };
        let call = summarise(&stream, &BodyLimits::default()).unwrap();
        let names: Vec<&str> = call.flags.iter().map(GrpcFlag::name).collect();
        assert_eq!(
            names,
            [
                "invalid_path",
                "unknown_status",
                "repeated_status",
                "invalid_status_message",
                "truncated_message",
                "oversized_message",
                "undecodable_message",
                "protobuf_group",
            ]
        );
        assert_eq!((call.status, call.status_name), (Some(99), None));
        assert_eq!(call.message.as_deref(), Some("100%"));
        assert_eq!(call.request_messages, 2);
        // Nothing of the message could be read: null, not an empty message.
        assert_eq!(call.request_body, None);
        let missing = GrpcStream {
            request_headers: REQUEST,
            response_headers: RESPONSE,
            ..GrpcStream::default()
        };
        let call = summarise(&missing, &BodyLimits::default()).unwrap();
        assert!(call.flags.contains(GrpcFlag::MissingStatus));
        let invalid = GrpcStream {
            trailers: &[("grpc-status", "ok")],
            ..missing
        };
        let call = summarise(&invalid, &BodyLimits::default()).unwrap();
        assert!(call.flags.contains(GrpcFlag::InvalidStatus));
        assert_eq!(call.status, None);
        let proxied = GrpcStream {
            response_headers: &[(":status", "503"), ("content-type", "application/grpc")],
            ..missing
        };
        let call = summarise(&proxied, &BodyLimits::default()).unwrap();
        assert!(call.flags.contains(GrpcFlag::HttpStatusNot200));
        assert!(
            !summarise(&missing, &BodyLimits::default())
                .unwrap()
                .flags
                .contains(GrpcFlag::HttpStatusNot200)
        );
    }

    #[test]
    fn a_grpc_web_call_reads_its_status_from_the_body() {
        let headers = [
            (":path", "/pkg.S/M"),
            ("content-type", "application/grpc-web+proto"),
        ];
        let mut response = framed(&[vec![0x08, 0x07]]);
        let t = b"grpc-status: 16\r\ngrpc-message: who%3F\r\n";
        response.push(0x80);
        response.extend_from_slice(&(t.len() as u32).to_be_bytes());
        response.extend_from_slice(t);
        let stream = GrpcStream {
            request_headers: &headers,
            request_body: &framed(&[vec![]]),
            response_headers: &[("content-type", "application/grpc-web+proto")],
            response_body: &response,
            trailers: &[],
            ..GrpcStream::default()
        };
        let call = summarise(&stream, &BodyLimits::default()).unwrap();
        assert_eq!(call.status_name, Some("UNAUTHENTICATED"));
        assert_eq!(call.message.as_deref(), Some("who?"));
        assert_eq!(call.response_messages, 1);
        assert_eq!(call.request_body, Some(json!({})));
        assert!(call.flags.is_empty(), "{:?}", call.flags);
    }

    #[test]
    fn serialized_calls_match_the_derived_schema() {
        let schema = serde_json::to_value(schemars::schema_for!(GrpcCall)).unwrap();
        let validator = jsonschema::options().build(&schema).unwrap();
        let unary = GrpcStream {
            request_headers: REQUEST,
            request_body: &framed(&[vec![0x0a, 0x01, b'x', 0x10, 0x02]]),
            response_headers: RESPONSE,
            response_body: &[0, 0, 0],
            trailers: &[("grpc-status", "77"), ("grpc-message", "%zz")],
            ..GrpcStream::default()
        };
        let bare = GrpcStream {
            response_headers: RESPONSE,
            ..GrpcStream::default()
        };
        for stream in [unary, bare] {
            let call = summarise(&stream, &BodyLimits::default()).unwrap();
            let value = serde_json::to_value(&call).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{value}: {errors:?}");
        }
        // Every flag name is in the schema's enum.
        let names = &schema["properties"]["flags"];
        let text = serde_json::to_string(&schema).unwrap();
        for f in GrpcFlag::ALL {
            assert!(text.contains(f.name()), "{f:?} missing from {names}");
        }
    }
}
