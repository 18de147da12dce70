//! Scores one text for prompt injection: phrases, markers, data-carrying URLs and hiding
//! techniques add up per rule family; a text whose total reaches the threshold is an injection,
//! with a hit per family that took part.
//!
//! Where the text sits changes the sum: data (tool results, retrieved documents, MCP answers)
//! should hold no instructions at all, so it weighs more; a system prompt is the developer's
//! own and is only read for hidden characters and role tokens; a model's answer is not read
//! for injections.
//!
//! Meta-discussion — asking what prompt injection is, quoting attacks in security training,
//! fiction or translation — is not an attack: in a text framed that way, a phrase in quotes or
//! reported as speech weighs a quarter. An unquoted order in the same text counts in full.

use std::collections::HashMap;

use super::{
    fold::{Folded, fold_text},
    hidden::{self, Signal, Via},
    markers::{self, Markers},
    phrase::{PatternError, PhraseSet},
    rules::{FRAMING, Family, MARKERS, PHRASES, SELF_BEFORE_TO, SPEECH_VERBS, expand},
    snippet::masked,
};
use crate::detection::{
    category::Category,
    hit::{Location, MAX_SHOWN_VALUE, Part, SignatureHit, cut},
};

/// Weight of a quoted or reported phrase in a framed text.
const QUOTED: f64 = 0.25;
/// Weight of an override addressed to a tool or a person rather than the model (`tell ESLint to
/// ignore the previous rules`).
const ELSEWHERE: f64 = 0.4;
/// Weight of exfiltration phrases in a user's own text: users ask to send, post and e-mail
/// things all day; a tool result asking it is another matter.
const USER_EXFILTRATION: f64 = 0.6;
/// Weight added to the hidden-instructions family when a concealed text carries a phrase.
const CONCEALED: f64 = 0.5;
/// A family takes part in a hit from this score.
const MIN_FAMILY: f64 = 0.25;
/// Phrase matches kept per text.
const MAX_MATCHES: usize = 64;

/// What made a family score: one entry per phrase, marker or technique (the strongest kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Phrase(usize),
    Marker(usize),
    Signal(Signal),
    Concealed(Via),
    DataUrl,
    Homoglyphs,
}

#[derive(Debug, Clone)]
struct Evidence {
    weight: f64,
    shown: String,
    via: Option<Via>,
}

/// The families that scored in one text.
#[derive(Debug, Default)]
struct Scores {
    by_family: [HashMap<Key, Evidence>; 6],
}

impl Scores {
    fn add(
        &mut self,
        family: Family,
        key: Key,
        weight: f64,
        shown: impl FnOnce() -> String,
        via: Option<Via>,
    ) {
        let Some(map) = self.by_family.get_mut(family.index()) else {
            return;
        };
        match map.get_mut(&key) {
            Some(e) if e.weight >= weight => {}
            Some(e) => {
                e.weight = weight;
                e.via = via;
            }
            None => {
                map.insert(
                    key,
                    Evidence {
                        weight,
                        shown: shown(),
                        via,
                    },
                );
            }
        }
    }

    /// The strongest entry plus half of the others, at most 3.
    fn family(&self, family: Family) -> f64 {
        let Some(map) = self.by_family.get(family.index()) else {
            return 0.0;
        };
        let mut weights: Vec<f64> = map.values().map(|e| e.weight).collect();
        weights.sort_by(|a, b| b.total_cmp(a));
        let mut it = weights.into_iter();
        let first = it.next().unwrap_or(0.0);
        (first + 0.5 * it.sum::<f64>()).min(3.0)
    }

    fn strongest(&self, family: Family) -> Option<&Evidence> {
        self.by_family
            .get(family.index())?
            .values()
            .max_by(|a, b| a.weight.total_cmp(&b.weight))
    }
}

/// The compiled injection rules.
#[derive(Debug)]
pub struct InjectionRules {
    phrases: PhraseSet<usize>,
    framing: PhraseSet<()>,
    markers: Markers,
    threshold: f64,
    indirect_factor: f64,
}

/// Whether a part is data carried to or from a model rather than someone's own words.
pub fn is_indirect(part: Part) -> bool {
    matches!(part, Part::ToolResult | Part::Retrieved | Part::McpResponse)
}

impl InjectionRules {
    pub fn new(threshold: f64, indirect_factor: f64) -> Result<InjectionRules, PatternError> {
        let expanded: Vec<(String, usize)> = PHRASES
            .iter()
            .enumerate()
            .map(|(i, (_, _, p))| (expand(p), i))
            .collect();
        let phrases = PhraseSet::new(expanded.iter().map(|(p, i)| (p.as_str(), *i)))?;
        let framing = PhraseSet::new(FRAMING.iter().map(|p| (*p, ())))?;
        Ok(InjectionRules {
            phrases,
            framing,
            markers: Markers::new(MARKERS),
            // A threshold of zero or less would flag every text; NaN would flag none.
            threshold: if threshold.is_finite() && threshold > 0.0 {
                threshold
            } else {
                1.0
            },
            indirect_factor: if indirect_factor.is_finite() && indirect_factor > 0.0 {
                indirect_factor
            } else {
                1.0
            },
        })
    }

    /// Appends the injection hits of one text.
    pub fn inspect(&self, part: Part, name: &str, body: &str, out: &mut Vec<SignatureHit>) {
        if matches!(part, Part::ModelResponse | Part::Response) {
            return;
        }
        let system = part == Part::PromptSystem;
        let mut scores = Scores::default();
        let hidden = hidden::inspect(body);
        let folded = fold_text(body);
        let framed = !system && self.is_framed(&folded, body);
        if !system {
            let reported = if framed {
                reported_speech(&folded)
            } else {
                Vec::new()
            };
            let quoted = |from: usize, to: usize| {
                framed
                    && (from..to).any(|i| {
                        folded.words.get(i).is_some_and(|w| w.quoted)
                            || reported.get(i).copied().unwrap_or(false)
                    })
            };
            self.phrases_of(&folded, None, &quoted, &mut scores);
            for url in markers::data_urls(body) {
                let weight = if url.image { 0.8 } else { 0.5 };
                let kind = if url.image { "image" } else { "link" };
                scores.add(
                    Family::ExfiltrationInstruction,
                    Key::DataUrl,
                    weight,
                    || format!("{kind} {}?…", url.shown),
                    None,
                );
            }
        }
        self.markers_of(&folded, None, system, &|q| q && framed, &mut scores);
        for &signal in &hidden.signals {
            let weight = match signal {
                Signal::UnicodeTags | Signal::ZeroWidthBits => 1.0,
                Signal::ZeroWidthInWords | Signal::BidiOverride => 0.5,
            };
            let decoded = hidden
                .segments
                .iter()
                .find(|s| {
                    matches!(
                        (s.via, signal),
                        (Via::UnicodeTags, Signal::UnicodeTags)
                            | (Via::ZeroWidthBits, Signal::ZeroWidthBits)
                            | (Via::BidiOverride, Signal::BidiOverride)
                    )
                })
                .map(|s| masked(&fold_text(&s.text).text));
            scores.add(
                Family::HiddenInstructions,
                Key::Signal(signal),
                weight,
                || match decoded {
                    Some(d) => format!("{}: {d}", signal.name()),
                    None => signal.name().to_owned(),
                },
                None,
            );
        }
        if folded.mixed_script_words > 0 {
            let weight = if folded.mixed_script_words >= 2 {
                0.5
            } else {
                0.3
            };
            scores.add(
                Family::HiddenInstructions,
                Key::Homoglyphs,
                weight,
                || format!("homoglyphs in {} words", folded.mixed_script_words),
                None,
            );
        }
        if !system {
            for seg in &hidden.segments {
                let inner = fold_text(&seg.text);
                let strongest = self
                    .phrases_of(&inner, Some(seg.via), &|_, _| false, &mut scores)
                    .max(self.markers_of(&inner, Some(seg.via), false, &|_| false, &mut scores));
                if strongest >= 0.3 {
                    scores.add(
                        Family::HiddenInstructions,
                        Key::Concealed(seg.via),
                        CONCEALED,
                        || format!("{}: {}", seg.via.name(), masked(&inner.text)),
                        Some(seg.via),
                    );
                }
            }
        }
        self.hits(part, name, &scores, out);
    }

    fn is_framed(&self, folded: &Folded, body: &str) -> bool {
        !self.framing.find(folded, 1).is_empty() || body.contains("```")
    }

    fn phrases_of(
        &self,
        folded: &Folded,
        via: Option<Via>,
        quoted: &dyn Fn(usize, usize) -> bool,
        scores: &mut Scores,
    ) -> f64 {
        let mut strongest: f64 = 0.0;
        for m in self.phrases.find(folded, MAX_MATCHES) {
            let Some(&(family, weight, _)) = PHRASES.get(m.tag) else {
                continue;
            };
            let mut weight = if quoted(m.start, m.end) {
                weight * QUOTED
            } else {
                weight
            };
            if family == Family::InstructionOverride && addressed_elsewhere(folded, m.start) {
                weight *= ELSEWHERE;
            }
            let shown = || masked(folded.span(m.start, (m.end + 6).min(folded.words.len())));
            strongest = strongest.max(weight);
            scores.add(family, Key::Phrase(m.tag), weight, shown, via);
        }
        strongest
    }

    fn markers_of(
        &self,
        folded: &Folded,
        via: Option<Via>,
        system: bool,
        dampen: &dyn Fn(bool) -> bool,
        scores: &mut Scores,
    ) -> f64 {
        let mut strongest: f64 = 0.0;
        for m in self.markers.find(folded) {
            // In a system prompt only role tokens count: the rest is the developer's wording.
            if system && m.family != Family::RoleInjection {
                continue;
            }
            let weight = if dampen(m.quoted) {
                m.weight * QUOTED
            } else {
                m.weight
            };
            let shown = || {
                let end = (m.end + 48).min(folded.lined.len());
                let mut end = end;
                while !folded.lined.is_char_boundary(end) {
                    end -= 1;
                }
                let text = folded
                    .lined
                    .get(m.start..end)
                    .unwrap_or("")
                    .replace('\n', " ");
                masked(text.trim())
            };
            strongest = strongest.max(weight);
            scores.add(m.family, Key::Marker(m.id), weight, shown, via);
        }
        strongest
    }

    fn hits(&self, part: Part, name: &str, scores: &Scores, out: &mut Vec<SignatureHit>) {
        let indirect = is_indirect(part);
        let factor = |family: Family| {
            let base = if indirect { self.indirect_factor } else { 1.0 };
            if part == Part::PromptUser && family == Family::ExfiltrationInstruction {
                base * USER_EXFILTRATION
            } else {
                base
            }
        };
        let family_scores: Vec<(Family, f64)> = Family::ALL
            .iter()
            .map(|&f| (f, scores.family(f) * factor(f)))
            .collect();
        let total: f64 = family_scores.iter().map(|(_, s)| s).sum();
        if total < self.threshold {
            return;
        }
        let ratio = total / self.threshold;
        let mut base = 1.0 - 0.45 * (-(ratio - 1.0)).exp();
        if indirect {
            base = (base + 0.05).min(0.99);
        }
        let vias: Vec<&str> = {
            let mut v: Vec<Via> = scores
                .by_family
                .iter()
                .flat_map(|m| m.values().filter_map(|e| e.via))
                .collect();
            v.sort_unstable();
            v.dedup();
            v.into_iter().map(Via::name).collect()
        };
        for (family, score) in family_scores {
            if score < MIN_FAMILY {
                continue;
            }
            let Some(evidence) = scores.strongest(family) else {
                continue;
            };
            let share = (score / self.threshold).min(1.0);
            let mut detail = format!(
                "score {total:.2} of {:.2}; {} {score:.2}",
                self.threshold,
                family.rule()
            );
            if indirect {
                detail.push_str(&format!("; indirect (x{:.2})", self.indirect_factor));
            }
            if !vias.is_empty() {
                detail.push_str(&format!("; decoded from {}", vias.join(", ")));
            }
            out.push(SignatureHit {
                category: Category::PromptInjection,
                rule: family.rule(),
                location: Location::new(part, Some(name)),
                value: cut(&evidence.shown, MAX_SHOWN_VALUE).to_owned(),
                confidence: (base * (0.75 + 0.25 * share)).clamp(0.0, 0.99),
                detail: Some(detail),
            });
        }
    }
}

/// Whether the words before `start` hand the order to someone other than the model: `to`
/// after a word that is not the model or a verb of obligation.
fn addressed_elsewhere(folded: &Folded, start: usize) -> bool {
    start >= 2
        && folded.word(start - 1) == "to"
        && !folded.words.get(start - 1).is_some_and(|w| w.breaks)
        && !SELF_BEFORE_TO.contains(&folded.word(start - 2))
}

/// Words after a speech verb, to the end of their sentence: what a character says.
fn reported_speech(folded: &Folded) -> Vec<bool> {
    let mut out = Vec::with_capacity(folded.words.len());
    let mut speaking = false;
    for (i, w) in folded.words.iter().enumerate() {
        if w.breaks {
            speaking = false;
        }
        out.push(speaking);
        if SPEECH_VERBS.contains(&folded.word(i)) {
            speaking = true;
        }
    }
    out
}
