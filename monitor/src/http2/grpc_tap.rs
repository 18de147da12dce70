//! Where an HTTP/2 stream meets gRPC: at the stream's first DATA frame its header blocks say
//! whether it is a call; if so each direction's DATA payloads feed a `grpc::Tally` (counted in
//! full past the body capture bound), and the finished stream is summarised into its call.

use crate::grpc::{self, BodyLimits, ContentType, GrpcCall, GrpcStream, Tally};

use super::stream::{FieldList, Finished, Side};

/// What a stream is to gRPC, decided at its first DATA frame.
#[derive(Debug, Default)]
pub enum GrpcTap {
    /// No DATA yet.
    #[default]
    Undecided,
    /// Not a gRPC call (or its headers were not seen): nothing is counted.
    NotGrpc,
    /// A call: one tally per direction (client, server); None once bytes of that direction
    /// were lost, after which its framing cannot be followed (the captured body is read).
    Call { tallies: Box<[Option<Tally>; 2]> },
}

impl GrpcTap {
    /// One DATA payload of `side`; the header blocks seen so far decide, at the first one,
    /// whether the stream is a call. `max_first` bounds the first message a tally keeps.
    pub fn on_data(
        &mut self,
        side: Side,
        data: &[u8],
        request: Option<&FieldList>,
        response: Option<&FieldList>,
        max_first: usize,
    ) {
        if let GrpcTap::Undecided = self {
            *self = match kind(request, response) {
                Some(kind) => {
                    let limits = BodyLimits::default();
                    let tally = || Some(Tally::new(kind, &limits, max_first));
                    GrpcTap::Call {
                        tallies: Box::new([tally(), tally()]),
                    }
                }
                None => GrpcTap::NotGrpc,
            };
        }
        if let GrpcTap::Call { tallies } = self
            && let Some(tally) = &mut tallies[side.index()]
        {
            tally.push(data);
        }
    }

    /// Bytes of `side` were lost: its tally stops (what it counted would be wrong).
    pub fn on_lost(&mut self, side: Side) {
        if let GrpcTap::Call { tallies } = self {
            tallies[side.index()] = None;
        }
    }

    fn tally(&self, side: Side) -> Option<&Tally> {
        match self {
            GrpcTap::Call { tallies } => tallies[side.index()].as_ref(),
            GrpcTap::Undecided | GrpcTap::NotGrpc => None,
        }
    }
}

/// The gRPC kind of a stream, from its header blocks (the request's content type, else the
/// response's).
fn kind(request: Option<&FieldList>, response: Option<&FieldList>) -> Option<ContentType> {
    [request, response]
        .into_iter()
        .flatten()
        .find_map(|h| h.get("content-type").and_then(grpc::path::content_type))
}

/// The call a finished stream carried, None when it is no gRPC call.
pub fn call(finished: &Finished, tap: &GrpcTap) -> Option<GrpcCall> {
    let request_headers = pairs(finished.request_headers());
    let response_headers = pairs(finished.response_headers());
    let trailers = pairs(finished.trailers());
    let stream = GrpcStream {
        request_headers: &request_headers,
        request_body: &finished.request_body().captured,
        response_headers: &response_headers,
        response_body: &finished.response_body().captured,
        trailers: &trailers,
        request_tally: tap.tally(Side::Client),
        response_tally: tap.tally(Side::Server),
    };
    grpc::summarise(&stream, &BodyLimits::default())
}

fn pairs(fields: Option<&FieldList>) -> Vec<(&str, &str)> {
    fields.map(FieldList::pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::{
        conn::{ConnMeta, Role, model::Attribution},
        grpc::framing::encode,
        http1::reader::Budget,
        http2::{
            hpack::{Block, Field, Part},
            stream::{Capture, Stream},
        },
        transaction::Flags,
    };

    fn block(fields: &[(&str, &str)]) -> FieldList {
        let fields = fields
            .iter()
            .map(|(n, v)| Field {
                name: Part::Known(n.as_bytes().to_vec()),
                value: Part::Known(v.as_bytes().to_vec()),
                never_indexed: false,
            })
            .collect();
        FieldList::from_block(&Block { fields, unknown: 0 })
    }

    /// A client's connection (the HTTP/1 tests' metadata).
    fn meta() -> Arc<ConnMeta> {
        crate::http1::tests::meta(Role::Client, Attribution::Kernel)
    }

    fn cap(max_body: usize, budget: &mut Budget) -> Capture<'_> {
        Capture { max_body, budget }
    }

    const MAX: usize = 64;

    const REQUEST: [(&str, &str); 5] = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/shop.Catalog/List"),
        (":authority", "shop:50051"),
        ("content-type", "application/grpc"),
    ];

    /// A server stream whose messages are split across DATA frames and run far past the
    /// capture bound, ending NOT_FOUND: the transaction carries the call, counted in full.
    #[test]
    fn a_finished_grpc_stream_carries_its_call() {
        let mut budget = Budget {
            held: 0,
            cap: 1 << 20,
        };
        let mut s = Stream::new(1);
        s.on_headers(Side::Client, block(&REQUEST), false, 1);
        let mut request = Vec::new();
        encode(false, b"\x0a\x05shoes", &mut request);
        s.on_data(Side::Client, &request, true, 2, cap(MAX, &mut budget));
        let response_headers = [(":status", "200"), ("content-type", "application/grpc")];
        s.on_headers(Side::Server, block(&response_headers), false, 3);
        let mut response = Vec::new();
        for i in 0u8..100 {
            encode(false, &[0x08, i + 1], &mut response);
        }
        for data in response.chunks(3) {
            s.on_data(Side::Server, data, false, 4, cap(MAX, &mut budget));
        }
        let trailers = [("grpc-status", "5"), ("grpc-message", "gone")];
        s.on_headers(Side::Server, block(&trailers), true, 5);
        let t = s
            .finish(&mut budget)
            .into_transaction(meta(), Flags::empty(), None, 6);
        let call = t.grpc.expect("a gRPC call");
        assert_eq!(call.service.as_deref(), Some("shop.Catalog"));
        assert_eq!(call.method.as_deref(), Some("List"));
        assert_eq!(
            (call.status, call.status_name),
            (Some(5), Some("NOT_FOUND"))
        );
        assert_eq!(call.message.as_deref(), Some("gone"));
        assert_eq!((call.request_messages, call.response_messages), (1, 100));
        assert_eq!(call.request_body, Some(json!({"1": "shoes"})));
        assert_eq!(call.response_body, Some(json!({"1": 1})));
        assert!(call.flags.is_empty(), "{:?}", call.flags);
        assert_eq!(t.response.unwrap().body.captured.len(), 64);
    }

    #[test]
    fn other_streams_carry_none_and_a_gap_stops_the_tally() {
        let mut budget = Budget { held: 0, cap: 1000 };
        let mut s = Stream::new(1);
        s.on_headers(
            Side::Client,
            block(&[(":method", "GET"), (":path", "/"), ("accept", "text/html")]),
            true,
            1,
        );
        s.on_headers(Side::Server, block(&[(":status", "200")]), false, 2);
        s.on_data(Side::Server, b"<html>", true, 3, cap(MAX, &mut budget));
        let t = s
            .finish(&mut budget)
            .into_transaction(meta(), Flags::empty(), None, 4);
        assert!(t.grpc.is_none());

        let mut tap = GrpcTap::default();
        let request = block(&REQUEST);
        let mut body = Vec::new();
        encode(false, b"\x08\x01", &mut body);
        tap.on_data(Side::Client, &body[..3], Some(&request), None, 64);
        assert!(tap.tally(Side::Client).is_some());
        tap.on_lost(Side::Client);
        tap.on_data(Side::Client, &body[3..], Some(&request), None, 64);
        assert!(tap.tally(Side::Client).is_none());
        assert!(tap.tally(Side::Server).is_some());
    }
}
