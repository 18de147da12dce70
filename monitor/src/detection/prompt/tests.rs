//! Tests of the prompt scanner as the pipeline drives it: fixtures of each API shape recognised
//! by discovery, then scanned; rule families on plain texts; hostile bodies.

mod corpus;
mod families;
mod props;
mod shapes;

use super::{AiExchange, PromptRules, PromptScanner, ScanCounts};
use crate::{
    detection::hit::SignatureHit,
    discovery::ai::{AiCall, Exchange, recognise},
    transaction::Headers,
};

/// One exchange as a test writes it.
#[derive(Debug, Clone, Default)]
pub struct Wire<'a> {
    pub path: &'a str,
    pub request_headers: &'a [(&'a str, &'a str)],
    pub request: &'a [u8],
    pub status: Option<u16>,
    pub response_type: Option<&'a str>,
    pub response: &'a [u8],
}

impl Wire<'_> {
    /// What discovery makes of the exchange.
    pub fn recognise(&self) -> Option<AiCall> {
        let mut request_headers = Headers::default();
        request_headers.push("Content-Type", b"application/json");
        for (n, v) in self.request_headers {
            request_headers.push(n, v.as_bytes());
        }
        let mut response_headers = Headers::default();
        if let Some(ct) = self.response_type {
            response_headers.push("Content-Type", ct.as_bytes());
        }
        let status = self.status.or((!self.response.is_empty()).then_some(200));
        recognise(&Exchange {
            path: self.path,
            request_headers: &request_headers,
            request_body: self.request,
            status,
            response_headers: &response_headers,
            response_body: self.response,
        })
    }

    /// The hits of the exchange, as the pipeline would have them: `None` when discovery does
    /// not take it for an AI exchange.
    pub fn scan_with(&self, scanner: &PromptScanner) -> Option<(Vec<SignatureHit>, ScanCounts)> {
        let call = self.recognise()?;
        let mut hits = Vec::new();
        let counts = scanner.scan(
            &AiExchange {
                call: &call,
                request_body: self.request,
                request_type: Some("application/json"),
                response_body: self.response,
                response_type: self.response_type,
            },
            &mut hits,
        );
        Some((hits, counts))
    }

    pub fn scan(&self) -> Option<Vec<SignatureHit>> {
        let scanner = PromptScanner::new(&PromptRules::default());
        self.scan_with(&scanner).map(|(h, _)| h)
    }
}

#[test]
fn the_prompt_table_of_the_rules_file_reads_with_defaults() {
    let rules: PromptRules =
        toml::from_str("injection_threshold = 1.5\nmany_contacts = 10\n").unwrap();
    assert_eq!(
        rules,
        PromptRules {
            injection_threshold: 1.5,
            many_contacts: 10,
            ..PromptRules::default()
        }
    );
    assert!(toml::from_str::<PromptRules>("threshold = 2.0\n").is_err());
    let written = toml::to_string(&PromptRules::default()).unwrap();
    assert_eq!(
        toml::from_str::<PromptRules>(&written).unwrap(),
        PromptRules::default()
    );
}
