//! Signature matches of one transaction (injection, prompt rules), found by [`Detection::screen`]
//! and turned into findings when it is judged: one per category, its severity from the category
//! and where the value was.

use super::Detection;
use crate::detection::{
    category::{Category, Severity},
    finding::Finding,
    hit::{Part, SignatureHit},
    prompt::AiExchange,
    sighting::Sighting,
    signatures::RequestParts,
};

/// A transaction screened for [`Detection::judge`]: what the first pass found of it.
#[derive(Debug, Default)]
pub struct Screened {
    /// The client's view of a transaction whose server is observed: judged there only.
    pub(super) other_end: bool,
    pub(super) hits: Vec<SignatureHit>,
}

/// Severity of a signature's category before counting.
fn signature_severity(category: Category, hit: &SignatureHit) -> Severity {
    if hit.confidence < 0.5 {
        return Severity::Low;
    }
    match category {
        Category::Sqli
        | Category::CommandInjection
        | Category::TemplateInjection
        | Category::Ssrf => Severity::High,
        Category::PromptInjection => match hit.location.part {
            Part::ToolResult | Part::Retrieved | Part::McpResponse => Severity::High,
            _ => Severity::Medium,
        },
        Category::SensitiveDataLeak if hit.rule.starts_with("secret") => Severity::High,
        _ => Severity::Medium,
    }
}

impl Detection {
    /// The first pass on `s`: whether it is the other end of a transaction observed at its
    /// server, else its injection and prompt signature matches. Stateless but for caches and
    /// counters, so a batch can be screened before any of it is judged: the scanners' code
    /// then stays in the CPU's caches across the batch, as the detectors' does after.
    pub fn screen(&mut self, s: &Sighting) -> Screened {
        if self.other_end(s) {
            return Screened {
                other_end: true,
                hits: Vec::new(),
            };
        }
        let mut hits = Vec::new();
        let counts = self.signatures.scan(
            &RequestParts {
                method: s.method,
                path: s.path,
                query: s.query,
                headers: s.request_headers,
                content_type: s.request_type,
                body: s.request_body,
            },
            &mut hits,
        );
        self.counters.signature_values += u64::from(counts.values);
        self.counters.signature_values_skipped += u64::from(counts.skipped);
        self.counters.signature_errors += u64::from(counts.errors);
        if let Some(call) = s.ai {
            let counts = self.prompt.scan(
                &AiExchange {
                    call,
                    request_body: s.request_body,
                    request_type: s.request_type,
                    response_body: s.response_body,
                    response_type: s.response_type,
                },
                &mut hits,
            );
            self.counters.prompt_texts += counts.texts as u64;
            self.counters.prompt_bytes_skipped += counts.bytes_skipped as u64;
            self.counters.prompt_unparsed_bodies += counts.unparsed_bodies as u64;
        }
        Screened {
            other_end: false,
            hits,
        }
    }

    /// A screened transaction's signature matches as findings: one per category.
    pub(super) fn signature_findings(&mut self, hits: Vec<SignatureHit>) {
        for hit in hits {
            let category = hit.category;
            let severity = signature_severity(category, &hit);
            match self
                .findings
                .iter_mut()
                .find(|(f, _)| f.category == category)
            {
                Some((f, _)) => {
                    f.severity = f.severity.max(severity);
                    f.confidence = f.confidence.max(hit.confidence);
                    let evidence = f.evidence_mut();
                    if evidence.signatures.len() < crate::detection::finding::MAX_SIGNATURES {
                        evidence.signatures.push(hit);
                    }
                }
                None => {
                    let mut f = Finding::new(category, severity, hit.confidence);
                    f.evidence_mut().signatures.push(hit);
                    self.findings.push((f, None));
                }
            }
        }
        for (f, _) in &mut self.findings {
            let evidence = f.evidence_mut();
            let n = evidence.signatures.len() as f64;
            evidence.figures.insert("signatures_matched", n);
        }
    }
}
