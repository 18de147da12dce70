//! Whether an HTTP/2 request is a gRPC call, and which: the `content-type` says gRPC, the
//! `:path` (`/package.Service/Method`) names the service and the method.

use thiserror::Error;

/// Longest service or method name accepted: real ones are a few dozen bytes; anything longer is
/// more likely an attack on whatever stores the name than a gRPC call.
pub const MAX_NAME: usize = 256;

/// The service and method a `:path` names, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPath<'a> {
    /// Fully qualified: `package.Service` (the package may be absent or dotted).
    pub service: &'a str,
    pub method: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PathError {
    #[error("a gRPC path starts with '/'")]
    NotAbsolute,
    #[error("a gRPC path has exactly two segments, /Service/Method")]
    Segments,
    #[error("a gRPC service or method name is empty")]
    Empty,
    #[error("a gRPC service or method name is longer than {MAX_NAME} bytes")]
    TooLong,
    #[error("a gRPC service or method name holds a character no protobuf name has")]
    Character,
}

/// Parses `/package.Service/Method` (gRPC over HTTP/2: `Path → ":path" "/" Service-Name "/"
/// {method name}`). Names are protobuf identifiers: ASCII letters, digits and `_`, the service
/// also `.` between package parts, neither starting with a digit nor a dot. A query string,
/// a trailing slash, percent-encoding or a third segment mean it is not a gRPC path.
pub fn parse_path(path: &str) -> Result<CallPath<'_>, PathError> {
    let rest = path.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    let (service, method) = rest.split_once('/').ok_or(PathError::Segments)?;
    if method.contains('/') {
        return Err(PathError::Segments);
    }
    check_name(service, true)?;
    check_name(method, false)?;
    Ok(CallPath { service, method })
}

fn check_name(name: &str, dotted: bool) -> Result<(), PathError> {
    if name.is_empty() {
        return Err(PathError::Empty);
    }
    if name.len() > MAX_NAME {
        return Err(PathError::TooLong);
    }
    let identifier = |part: &str| {
        part.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let ok = if dotted {
        name.split('.').all(identifier)
    } else {
        identifier(name)
    };
    if ok {
        Ok(())
    } else {
        Err(PathError::Character)
    }
}

/// What a `content-type` says about a gRPC body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// `application/grpc` or `application/grpc+proto`: protobuf messages.
    Proto,
    /// `application/grpc+json`: JSON messages in the same framing.
    Json,
    /// `application/grpc+<other>` (e.g. `+thrift`, a custom codec): framed, not decoded.
    OtherCodec,
    /// `application/grpc-web` or `application/grpc-web+proto`: protobuf messages, with the
    /// trailers sent as a last frame of the body (flag bit 0x80) instead of HTTP/2 trailers.
    Web,
    /// `application/grpc-web+json` and other grpc-web codecs: framed like `Web`, not decoded
    /// unless JSON.
    WebJson,
    /// `application/grpc-web+<other>`.
    WebOtherCodec,
    /// `application/grpc-web-text` (`+proto`, ...): the framed body is base64, as browsers
    /// without binary streams send it. Recognised as gRPC, its body is not decoded.
    WebText,
}

impl ContentType {
    /// Whether the body's messages are protobuf.
    pub fn is_proto(self) -> bool {
        matches!(self, ContentType::Proto | ContentType::Web)
    }

    pub fn is_json(self) -> bool {
        matches!(self, ContentType::Json | ContentType::WebJson)
    }

    /// Whether trailers travel inside the body (grpc-web).
    pub fn is_web(self) -> bool {
        matches!(
            self,
            ContentType::Web
                | ContentType::WebJson
                | ContentType::WebOtherCodec
                | ContentType::WebText
        )
    }
}

/// The gRPC kind of a `content-type` value, `None` when it is not gRPC. The media type is
/// matched case-insensitively (RFC 9110 §8.3.1) and its parameters (`; charset=...`) ignored.
pub fn content_type(value: &str) -> Option<ContentType> {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let lower = essence.to_ascii_lowercase();
    let (base, codec) = match lower.split_once('+') {
        Some((base, codec)) => (base, Some(codec)),
        None => (lower.as_str(), None),
    };
    let kind = match (base, codec) {
        ("application/grpc", None | Some("proto")) => ContentType::Proto,
        ("application/grpc", Some("json")) => ContentType::Json,
        ("application/grpc", Some(c)) if is_token(c) => ContentType::OtherCodec,
        ("application/grpc-web", None | Some("proto")) => ContentType::Web,
        ("application/grpc-web", Some("json")) => ContentType::WebJson,
        ("application/grpc-web", Some(c)) if is_token(c) => ContentType::WebOtherCodec,
        ("application/grpc-web-text", None) => ContentType::WebText,
        ("application/grpc-web-text", Some(c)) if is_token(c) => ContentType::WebText,
        _ => return None,
    };
    Some(kind)
}

/// A codec name: a non-empty token without another `+`.
fn is_token(codec: &str) -> bool {
    !codec.is_empty()
        && codec
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_service_and_method() {
        let p = parse_path("/helloworld.Greeter/SayHello").unwrap();
        assert_eq!(p.service, "helloworld.Greeter");
        assert_eq!(p.method, "SayHello");
        let p = parse_path("/grpc.health.v1.Health/Check").unwrap();
        assert_eq!(p.service, "grpc.health.v1.Health");
        let p = parse_path("/Greeter/say_hello_2").unwrap();
        assert_eq!((p.service, p.method), ("Greeter", "say_hello_2"));
    }

    #[test]
    fn rejects_what_is_not_a_grpc_path() {
        let cases = [
            ("", PathError::NotAbsolute),
            ("Greeter/SayHello", PathError::NotAbsolute),
            ("/", PathError::Segments),
            ("/Greeter", PathError::Segments),
            ("/a/b/c", PathError::Segments),
            ("/Greeter/SayHello/", PathError::Segments),
            ("//SayHello", PathError::Empty),
            ("/Greeter/", PathError::Empty),
            ("/Greeter/Say?x=1", PathError::Character),
            ("/Greeter/Say%20Hello", PathError::Character),
            ("/pkg..Greeter/Say", PathError::Character),
            ("/.Greeter/Say", PathError::Character),
            ("/Greeter./Say", PathError::Character),
            ("/Greeter/1Say", PathError::Character),
            ("/Greeter/a.b", PathError::Character),
            ("/Grüße/Say", PathError::Character),
            ("/users/123", PathError::Character),
        ];
        for (path, want) in cases {
            assert_eq!(parse_path(path), Err(want), "{path:?}");
        }
        let long = format!("/{}/M", "a".repeat(MAX_NAME + 1));
        assert_eq!(parse_path(&long), Err(PathError::TooLong));
    }

    #[test]
    fn recognises_grpc_content_types() {
        let cases = [
            ("application/grpc", Some(ContentType::Proto)),
            ("Application/GRPC+proto", Some(ContentType::Proto)),
            ("application/grpc; charset=utf-8", Some(ContentType::Proto)),
            ("application/grpc+json", Some(ContentType::Json)),
            ("application/grpc+thrift", Some(ContentType::OtherCodec)),
            ("application/grpc-web", Some(ContentType::Web)),
            ("application/grpc-web+proto", Some(ContentType::Web)),
            ("application/grpc-web+json", Some(ContentType::WebJson)),
            ("application/grpc-web+x", Some(ContentType::WebOtherCodec)),
            ("application/grpc-web-text", Some(ContentType::WebText)),
            (
                "application/grpc-web-text+proto",
                Some(ContentType::WebText),
            ),
            ("application/grpc+", None),
            ("application/grpc+a+b", None),
            ("application/grpcx", None),
            ("application/json", None),
            ("text/plain", None),
            ("", None),
        ];
        for (value, want) in cases {
            assert_eq!(content_type(value), want, "{value:?}");
        }
    }
}
