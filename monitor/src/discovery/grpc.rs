//! What the gRPC calls of one endpoint showed: the service and method (the endpoint is keyed
//! by them, its path never templated), how the calls streamed, how they ended, and how many
//! messages went each way. Bounded: a few dozen status names at most.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Serialize;

use crate::grpc::{GrpcCall, Streaming};

/// Status names counted per endpoint; more distinct ones (unknown codes) are not kept.
const MAX_STATUSES: usize = 32;

/// An endpoint's gRPC calls, as the inventory and OpenAPI (`x-grpc`) show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct GrpcSummary {
    /// Fully qualified service (`package.Service`).
    pub service: String,
    pub method: String,
    /// How calls streamed, as their message counts showed (`unary`, `client`, `server`,
    /// `bidi`).
    pub streaming: BTreeSet<Streaming>,
    /// `grpc-status` name (`OK`, `NOT_FOUND`…; the number for a code without a name, `none`
    /// when missing) → calls, at most 32 names.
    pub statuses: BTreeMap<String, u64>,
    pub calls: u64,
    pub request_messages: u64,
    pub response_messages: u64,
}

impl GrpcSummary {
    /// The summary of an endpoint first seen with `call`; None when the call names no service
    /// and method (its path was no gRPC path: it is templated as any other).
    pub fn first(call: &GrpcCall) -> Option<Self> {
        let mut summary = GrpcSummary {
            service: call.service.clone()?,
            method: call.method.clone()?,
            streaming: BTreeSet::new(),
            statuses: BTreeMap::new(),
            calls: 0,
            request_messages: 0,
            response_messages: 0,
        };
        summary.add(call);
        Some(summary)
    }

    pub fn add(&mut self, call: &GrpcCall) {
        self.calls += 1;
        self.streaming.insert(call.streaming);
        let name = match (call.status_name, call.status) {
            (Some(name), _) => name.to_owned(),
            (None, Some(code)) => code.to_string(),
            (None, None) => "none".to_owned(),
        };
        if self.statuses.len() < MAX_STATUSES || self.statuses.contains_key(&name) {
            *self.statuses.entry(name).or_default() += 1;
        }
        self.request_messages = self.request_messages.saturating_add(call.request_messages);
        self.response_messages = self
            .response_messages
            .saturating_add(call.response_messages);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grpc::GrpcFlags;

    fn call(status: Option<u32>, name: Option<&'static str>, responses: u64) -> GrpcCall {
        GrpcCall {
            service: Some("shop.Catalog".into()),
            method: Some("List".into()),
            status,
            status_name: name,
            message: None,
            request_messages: 1,
            response_messages: responses,
            compressed: false,
            streaming: Streaming::from_counts(1, responses),
            request_body: None,
            response_body: None,
            flags: GrpcFlags::empty(),
        }
    }

    #[test]
    fn counts_streaming_kinds_statuses_and_messages() {
        let mut s = GrpcSummary::first(&call(Some(0), Some("OK"), 1)).unwrap();
        s.add(&call(Some(5), Some("NOT_FOUND"), 40));
        s.add(&call(Some(99), None, 0));
        s.add(&call(None, None, 0));
        assert_eq!(
            s.streaming.iter().collect::<Vec<_>>(),
            [&Streaming::Unary, &Streaming::Server]
        );
        let statuses: Vec<(&str, u64)> = s.statuses.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            statuses,
            [("99", 1), ("NOT_FOUND", 1), ("OK", 1), ("none", 1)]
        );
        assert_eq!(
            (s.calls, s.request_messages, s.response_messages),
            (4, 4, 41)
        );
    }

    #[test]
    fn statuses_are_bounded_and_nameless_calls_have_none() {
        let mut s = GrpcSummary::first(&call(Some(100), None, 0)).unwrap();
        for code in 101..200 {
            s.add(&call(Some(code), None, 0));
        }
        assert_eq!(s.statuses.len(), MAX_STATUSES);
        assert_eq!(s.calls, 100);
        let mut nameless = call(Some(0), Some("OK"), 1);
        nameless.service = None;
        assert!(GrpcSummary::first(&nameless).is_none());
    }
}
