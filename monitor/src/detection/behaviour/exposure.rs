//! `sensitive_data_leak` by volume: an actor receiving far more responses carrying personal
//! or payment data (emails, phones, cards, IBANs, national ids) than actors of its kind do.

use serde::{Deserialize, Serialize};

use super::{Ctx, SECOND, secs};
use crate::{
    detection::{
        category::{Category, Severity},
        finding::Finding,
        learned::{Key, Measure},
        window::Buckets,
    },
    discovery::sensitive::SensitiveClass,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExposureRules {
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Responses with personal data in the window below which nothing is judged.
    pub min_records: u32,
    pub severity: Severity,
}

impl Default for ExposureRules {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 600,
            min_records: 100,
            severity: Severity::High,
        }
    }
}

const PERSONAL: [SensitiveClass; 6] = [
    SensitiveClass::Email,
    SensitiveClass::Phone,
    SensitiveClass::CreditCard,
    SensitiveClass::Iban,
    SensitiveClass::Ssn,
    SensitiveClass::Password,
];

#[derive(Debug, Clone, Default)]
pub struct ExposureState {
    records: Buckets<10>,
    minute_start: u64,
    minute_records: u32,
}

pub fn observe(rules: &ExposureRules, st: &mut ExposureState, cx: &mut Ctx) -> Option<Finding> {
    let now = cx.now;
    let key = Key {
        measure: Measure::SensitiveRecords,
        kind: cx.kind,
        scope: 0,
    };
    if now >= st.minute_start.saturating_add(60 * SECOND) {
        let n = std::mem::take(&mut st.minute_records);
        if n > 0 && cx.learning {
            cx.learned.add(
                key,
                || "responses with personal data".to_owned(),
                f64::from(n),
                &cx.actor,
            );
        }
        st.minute_start = now;
    }
    let classes = cx.s.response_classes;
    if !PERSONAL.iter().any(|c| classes.contains(*c)) {
        return None;
    }
    st.minute_records = st.minute_records.saturating_add(1);
    let window = secs(rules.window_secs).max(SECOND);
    st.records.add(now, window / 10, 1);
    let records = f64::from(st.records.total(now, window / 10));
    if records < f64::from(rules.min_records) {
        return None;
    }
    let baseline = cx.learned.summary(&key)?;
    let minutes = window as f64 / (60.0 * 1e9);
    let threshold = (baseline.threshold * minutes).max(f64::from(rules.min_records));
    (records > threshold).then(|| {
        Finding::gated(cx.quiet, Category::SensitiveDataLeak, rules.severity, 0.7)
            .figure("responses_with_personal_data", records)
            .figure("window_secs", rules.window_secs as f64)
            .baseline("median_per_minute", baseline.median)
            .baseline("p99_per_minute", baseline.p99)
            .baseline("threshold", threshold)
            .baseline("actors", baseline.actors as f64)
            .note_with(|| format!("classes in this response: {}", classes.names().join(", ")))
    })
}
