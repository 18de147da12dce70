//! What a detector says about one transaction: a category with its severity and confidence,
//! and the evidence — the figures measured, the baseline or threshold they beat, the signatures
//! that matched — that an alert carries.

use std::{borrow::Cow, collections::BTreeMap};

use schemars::JsonSchema;
use serde::Serialize;

use super::{
    category::{Category, Severity},
    hit::SignatureHit,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub category: Category,
    pub severity: Severity,
    /// 0..1.
    pub confidence: f64,
    /// Boxed, and made only once something is gathered: a finding of an ongoing attack (no
    /// evidence wanted) stays a few words, cheap to move and to drop.
    evidence: Option<Box<Evidence>>,
    /// Client addresses the finding is about beyond the transaction's own (the addresses a
    /// rotating actor used), for the alert's `client_ips`.
    pub addresses: Vec<std::net::IpAddr>,
    /// Whether evidence is gathered: not while the actor's alert of this category was just
    /// reported (it would be dropped), so an ongoing attack costs no allocation per request.
    pub detailed: bool,
}

impl Finding {
    pub fn new(category: Category, severity: Severity, confidence: f64) -> Finding {
        Finding {
            category,
            severity,
            confidence: confidence.clamp(0.0, 1.0),
            evidence: None,
            addresses: Vec::new(),
            detailed: true,
        }
    }

    /// A finding whose evidence is only gathered when `quiet` (a mask of
    /// [`Category::index`] bits) does not hold its category.
    pub fn gated(quiet: u32, category: Category, severity: Severity, confidence: f64) -> Finding {
        let mut f = Finding::new(category, severity, confidence);
        f.detailed = quiet & (1 << category.index()) == 0;
        f
    }

    /// What was gathered (nothing, while evidence is not wanted).
    pub fn evidence(&self) -> &Evidence {
        self.evidence.as_deref().unwrap_or(&NO_EVIDENCE)
    }

    /// The evidence, made empty if nothing was gathered yet.
    pub fn evidence_mut(&mut self) -> &mut Evidence {
        self.evidence.get_or_insert_with(Default::default)
    }

    /// The evidence, given away.
    pub fn take_evidence(&mut self) -> Evidence {
        self.evidence.take().map(|e| *e).unwrap_or_default()
    }

    /// Adds a measured figure. (Inline, the evidence out of line: while the alert is quiet,
    /// each transaction of an ongoing attack makes its findings with nothing gathered.)
    #[inline]
    pub fn figure(mut self, name: &'static str, value: f64) -> Finding {
        if self.detailed {
            self.evidence_mut().add_figure(name, value);
        }
        self
    }

    /// Adds a figure of the baseline or threshold that was beaten.
    #[inline]
    pub fn baseline(mut self, name: &'static str, value: f64) -> Finding {
        if self.detailed {
            self.evidence_mut().add_baseline(name, value);
        }
        self
    }

    /// Adds a short note (which list entry matched, which rule fired).
    #[inline]
    pub fn note(self, text: &'static str) -> Finding {
        self.note_with(|| Cow::Borrowed(text))
    }

    /// Adds a note made only when evidence is gathered.
    #[inline]
    pub fn note_with<T: Into<Cow<'static, str>>>(mut self, text: impl FnOnce() -> T) -> Finding {
        if self.detailed && self.evidence().notes.len() < MAX_NOTES {
            self.evidence_mut().notes.push(text().into());
        }
        self
    }
}

/// The evidence of a finding that gathered none.
static NO_EVIDENCE: Evidence = Evidence {
    figures: BTreeMap::new(),
    baseline: BTreeMap::new(),
    signatures: Vec::new(),
    notes: Vec::new(),
    session_walk: Vec::new(),
};

/// Notes and signatures kept per alert.
pub const MAX_NOTES: usize = 8;
pub const MAX_SIGNATURES: usize = 8;

/// Why an alert was raised; figures are the latest measured, signatures the first distinct
/// ones matched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Evidence {
    /// Measured figures (`requests_per_minute`, `distinct_values`, `failed_logins`...).
    pub figures: BTreeMap<&'static str, f64>,
    /// The learned baseline or the threshold the figures beat (`median`, `mad`, `p99`,
    /// `threshold`, `samples`, `actors`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub baseline: BTreeMap<&'static str, f64>,
    /// Signatures matched, offending values already masked and cut.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SignatureHit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Cow<'static, str>>,
    /// The actor's transactions before the alert was raised, oldest first: what the session
    /// did before it turned malicious.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub session_walk: Vec<WalkStep>,
}

impl Evidence {
    #[inline(never)]
    fn add_figure(&mut self, name: &'static str, value: f64) {
        self.figures.insert(name, round(value));
    }

    #[inline(never)]
    fn add_baseline(&mut self, name: &'static str, value: f64) {
        self.baseline.insert(name, round(value));
    }

    /// Nothing was gathered (a finding made while evidence was not wanted).
    pub fn is_empty(&self) -> bool {
        self.figures.is_empty()
            && self.baseline.is_empty()
            && self.signatures.is_empty()
            && self.notes.is_empty()
            && self.session_walk.is_empty()
    }

    /// Takes `newer`'s figures and adds its signatures and notes not yet kept.
    pub fn merge(&mut self, newer: Evidence) {
        if newer.is_empty() {
            // A finding made while evidence was not wanted.
            return;
        }
        self.figures.extend(newer.figures);
        self.baseline.extend(newer.baseline);
        for hit in newer.signatures {
            if self.signatures.len() >= MAX_SIGNATURES {
                break;
            }
            let known = self
                .signatures
                .iter()
                .any(|h| h.rule == hit.rule && h.location == hit.location && h.value == hit.value);
            if !known {
                self.signatures.push(hit);
            }
        }
        for note in newer.notes {
            if self.notes.len() < MAX_NOTES && !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
    }
}

/// One earlier transaction of the actor.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct WalkStep {
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    pub method: String,
    /// The template when known, else the path (cut to 128 bytes).
    pub endpoint: String,
    pub status: Option<u16>,
    pub client_ip: Option<String>,
}

/// Figures are written with at most three decimals.
fn round(v: f64) -> f64 {
    if v.is_finite() {
        (v * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}
