//! Detection's passes over a batch, after sessions and discovery: every transaction is
//! screened (signatures), then every one judged, with nothing else run between two
//! judgements: the detectors' code stays in the CPU's instruction cache across the batch,
//! where interleaved with building each transaction's events it was evicted every time.

use super::Seen;
use crate::{
    detection::{Detection, Sighting, alerts::AlertId, alerts::AlertReport, verdicts::Verdict},
    session::tracker::SessionState,
};

/// What detection said of one transaction, for its events.
#[derive(Debug, Default)]
pub(super) struct Judged {
    /// The alerts it contributed to.
    pub alerts: Vec<AlertId>,
    /// Alert reports due after it, in order.
    pub reports: Vec<AlertReport>,
    /// The verdict of each session it ended, in the order of `Seen::ended`.
    pub verdicts: Vec<Option<Verdict>>,
}

/// Screens, then judges, each of `seen` (one [`Judged`] each, in order; a default one for a
/// transaction without a request).
pub(super) fn batch(d: &mut Detection, seen: &[Option<Seen<'_>>]) -> Vec<Judged> {
    // Made once, read by both passes.
    let sightings: Vec<Option<Sighting<'_>>> = seen
        .iter()
        .map(|seen| seen.as_ref().map(sighting))
        .collect();
    let screened: Vec<_> = sightings
        .iter()
        .map(|s| s.as_ref().map(|s| d.screen(s)))
        .collect();
    seen.iter()
        .zip(sightings.iter().zip(screened))
        .map(|(seen, sighted)| match (seen, sighted) {
            (Some(seen), (Some(s), Some(screened))) => Judged {
                alerts: d.judge(s, screened),
                reports: d.take_reports().collect(),
                verdicts: seen
                    .ended
                    .iter()
                    .map(|s| d.verdict(&s.id, s.state != SessionState::Active))
                    .collect(),
            },
            _ => Judged::default(),
        })
        .collect()
}

/// What detection reads of a transaction between the passes.
fn sighting<'s>(seen: &'s Seen<'_>) -> Sighting<'s> {
    let (t, request, identity, endpoint) = (seen.t, seen.request, &seen.identity, &seen.endpoint);
    let response = t.response.as_ref();
    Sighting {
        ts_ns: t.start_ts_ns,
        actor: identity.actor,
        session: seen.session,
        client_ip: identity.client_ip,
        user_agent: identity.user_agent.as_deref(),
        auth: identity.auth,
        service: seen.service.as_ref(),
        role: t.meta.role,
        method: &request.method,
        path: seen.path,
        query: seen.query,
        template: endpoint.as_ref().map(|e| e.template.as_str()),
        label: seen.label.as_deref(),
        request_headers: &request.headers,
        request_type: seen.request_type,
        request_body: &seen.request_body,
        status: response.map(|r| r.status),
        response_headers: response.map(|r| &r.headers),
        response_type: seen.response_type,
        response_body: seen.response_body.as_deref().unwrap_or(&[]),
        latency_ns: t.latency_ns(),
        ai: seen.ai.as_ref(),
        request_classes: endpoint
            .as_ref()
            .map(|e| e.request_classes)
            .unwrap_or_default(),
        response_classes: endpoint
            .as_ref()
            .map(|e| e.response_classes)
            .unwrap_or_default(),
    }
}
