//! One request's scan: each value within the caps is decoded, given to the rules (and its
//! base64 payload too, when it obviously is one), and what matched becomes a hit whose value
//! is safe to show. Panics are caught per value and counted, never passed on.

use std::{
    borrow::Cow,
    panic::{self, AssertUnwindSafe},
};

use super::{
    ScanCounts, SignatureRules,
    classes::Classes,
    decode,
    inert::{InertCache, Key},
    rules::{self, CATEGORIES, Finding, Role, Value},
    values::{self, Field, Sink},
};
use crate::{
    detection::{
        category::Category,
        hit::{Location, MAX_SHOWN_VALUE, Part, SignatureHit, cut},
    },
    discovery::sensitive::classify_field,
};

pub struct Scan<'r> {
    rules: &'r SignatureRules,
    out: &'r mut Vec<SignatureHit>,
    pub counts: ScanCounts,
    hits: usize,
    /// Scratch for one value's findings, kept across values.
    found: Vec<Shown>,
    done: bool,
    inert: &'r mut InertCache,
}

/// A finding with the value it matched, ready to show.
struct Shown {
    finding: Finding,
    value: String,
}

impl<'r> Scan<'r> {
    pub fn new(
        rules: &'r SignatureRules,
        out: &'r mut Vec<SignatureHit>,
        inert: &'r mut InertCache,
    ) -> Self {
        Scan {
            rules,
            out,
            counts: ScanCounts::default(),
            hits: 0,
            found: Vec::new(),
            done: false,
            inert,
        }
    }
}

impl Sink for Scan<'_> {
    fn value(&mut self, field: &Field<'_>, raw: &str) -> bool {
        let raw = match self.admit(raw) {
            Ok(raw) => raw,
            Err(more) => return more,
        };
        // The raw value's byte kinds say which decodings apply, and are the decoded value's
        // too when none did (most values).
        let classes = Classes::of(raw);
        if plain_inert(field, raw, classes) {
            return true;
        }
        // Most other values were seen before (headers, tokens, repeated parameters).
        let key = self.inert.key(field, raw);
        if self.inert.holds(key) {
            return true;
        }
        self.checked(field, raw, classes, key)
    }

    fn skipped(&mut self) {
        self.counts.skipped = self.counts.skipped.saturating_add(1);
    }

    /// A path of letters, digits, dashes and slashes, without both cases of letters (most
    /// API paths), is inert whole and segment by segment: only counted, as [`Sink::value`]
    /// would count each of them (see [`plain_path`]).
    fn path(&mut self, path: &str) -> bool {
        if !plain_path(Classes::of(path)) {
            return values::path_values(path, self);
        }
        let mut more = |raw| !matches!(self.admit(raw), Err(false));
        more(path) && values::segments(path).all(more)
    }
}

impl Scan<'_> {
    /// The bookkeeping of one value before it is read: `Err` with what [`Sink::value`]
    /// returns when it is not read (the scan is done, or past `max_values`, counted),
    /// else the part of it that is read (its head, counted, when over `max_value_bytes`).
    #[inline]
    fn admit<'v>(&mut self, raw: &'v str) -> Result<&'v str, bool> {
        if self.done {
            return Err(false);
        }
        if self.counts.values as usize >= self.rules.max_values {
            self.counts.skipped = self.counts.skipped.saturating_add(1);
            return Err(true);
        }
        self.counts.values += 1;
        Ok(if raw.len() > self.rules.max_value_bytes {
            // Read the head only: counted, so a padded payload is not missed silently.
            self.counts.skipped = self.counts.skipped.saturating_add(1);
            cut(raw, self.rules.max_value_bytes)
        } else {
            raw
        })
    }

    /// A value that is not plain, or could be an address the server fetches: proved inert
    /// by every rule's first tests, or analysed; what is proved inert is remembered as `key`.
    /// Out of line, so that [`Sink::value`] stays small for the plain values that end there.
    #[inline(never)]
    fn checked(&mut self, field: &Field<'_>, raw: &str, classes: Classes, key: Key) -> bool {
        let todo = undecoded_candidates(field, raw, classes);
        if todo == Some(0) && no_base64(field, raw, classes) {
            self.inert.put(key);
            return true;
        }
        self.analysed(field, raw, classes, todo, key)
    }

    /// A value not proved inert: analysed, panics caught, hits kept; when nothing matched
    /// and no rule failed, it is inert (as `key`).
    fn analysed(
        &mut self,
        field: &Field<'_>,
        raw: &str,
        classes: Classes,
        todo: Option<u8>,
        key: Key,
    ) -> bool {
        let found = &mut self.found;
        found.clear();
        match panic::catch_unwind(AssertUnwindSafe(|| {
            analyse(field, raw, classes, todo, found)
        })) {
            Ok(0) if found.is_empty() => {
                self.inert.put(key);
                return true;
            }
            Ok(errors) => self.counts.errors = self.counts.errors.saturating_add(errors),
            Err(_) => {
                self.counts.errors = self.counts.errors.saturating_add(1);
                found.clear();
            }
        }
        if self.found.is_empty() {
            return true;
        }
        let location = Location::new(field.part, field.location);
        for Shown { finding, value } in self.found.drain(..) {
            if self.hits >= self.rules.max_hits {
                self.done = true;
                break;
            }
            self.hits += 1;
            self.out.push(SignatureHit {
                category: finding.category,
                rule: finding.rule,
                location: location.clone(),
                value,
                confidence: finding.confidence,
                detail: finding.detail,
            });
        }
        if self.hits >= self.rules.max_hits {
            self.done = true;
        }
        !self.done
    }
}

/// The categories a value in `role` is not read for (a bit per [`CATEGORIES`] entry): the
/// whole path only for traversal, its segments for everything else.
fn excluded(role: Role) -> u8 {
    let traversal = rules::bit(Category::PathTraversal);
    match role {
        Role::WholePath => !traversal,
        Role::Segment => traversal,
        Role::Value | Role::Key | Role::Text => 0,
    }
}

/// Every category.
const ALL: u8 = (1 << CATEGORIES.len()) - 1;

/// Whether a value is inert, for the commonest values, in a few tests: letters, digits and
/// dashes have nothing to decode, and only the SSRF rule reads them, when they may be a bare
/// host (a long number, `localhost`...) and go by a name outside the headers; nor are they
/// base64 when short or of one case of letters.
#[inline]
fn plain_inert(field: &Field<'_>, raw: &str, classes: Classes) -> bool {
    let named = field.part != Part::Header && field.key.is_some();
    let base64 = raw.len() >= decode::MIN_BASE64
        && classes.any(Classes::UPPER)
        && classes.any(Classes::LOWER);
    classes.only(Classes::PLAIN)
        && !base64
        && !(named && rules::ssrf::maybe_bare_host(raw.as_bytes()))
}

/// Whether a path of these byte kinds is inert, whole and in every segment (and so in any
/// head of them cut at `max_value_bytes`, whose kinds are among these). Letters, digits,
/// dashes and slashes: nothing to decode; the whole path is read only for traversal, which
/// needs a dot, a colon or a byte beyond ASCII to start; a segment is plain and goes by no
/// name, so no rule reads it. And base64 needs both cases of letters.
fn plain_path(classes: Classes) -> bool {
    classes.only(Classes::PLAIN | Classes::SLASH)
        && !(classes.any(Classes::UPPER) && classes.any(Classes::LOWER))
}

/// The rules to run on `raw` as it was sent, when it has nothing to decode (`None` when it
/// has): none, and no base64 to read either, proves the value inert before anything is
/// decoded, allocated or guarded against panics (nearly every value).
#[inline]
fn undecoded_candidates(field: &Field<'_>, raw: &str, classes: Classes) -> Option<u8> {
    if decode::needed(classes, field.plus_is_space()) {
        return None;
    }
    let value = Value {
        text: raw,
        raw,
        classes,
        steps: decode::Steps::default(),
        part: field.part,
        name: field.key,
        role: field.role,
    };
    Some(rules::candidates(&value, !excluded(field.role)))
}

/// Whether a value with nothing to decode, and no rule in `todo` to run, is inert: it cannot
/// be base64 either (or every category is excluded).
fn no_base64(field: &Field<'_>, raw: &str, classes: Classes) -> bool {
    excluded(field.role) == ALL || !decode::may_be_base64(raw, classes)
}

/// Decodes one value and runs the rules on it, then on its base64 payload for the
/// categories not yet found; returns the detectors that panicked. `raw_classes`: the byte
/// kinds of `raw`; `todo`: [`undecoded_candidates`], when it was asked.
fn analyse(
    field: &Field<'_>,
    raw: &str,
    raw_classes: Classes,
    todo: Option<u8>,
    out: &mut Vec<Shown>,
) -> u32 {
    let decoded = decode::decode_classified(raw, field.plus_is_space(), raw_classes);
    let classes = match decoded.text {
        Cow::Borrowed(_) => raw_classes,
        Cow::Owned(ref text) => Classes::of(text),
    };
    let mut done = excluded(field.role);
    let mut findings = Vec::new();
    let mut value = Value {
        text: &decoded.text,
        raw,
        classes,
        steps: decoded.steps,
        part: field.part,
        name: field.key,
        role: field.role,
    };
    // Asked of the value as sent, which is the value when nothing was decoded.
    let todo = match (todo, &decoded.text) {
        (Some(todo), Cow::Borrowed(_)) => todo,
        _ => rules::candidates(&value, !done),
    };
    let mut errors = rules::check(&value, todo, &mut done, &mut findings);
    show(field, &decoded.text, decoded.steps, &mut findings, out);
    if done != ALL
        && decode::may_be_base64(&decoded.text, classes)
        && let Some(inner) = decode::base64(&decoded.text, decoded.steps.plus)
    {
        let mut steps = decoded.steps;
        steps.base64 = true;
        value.text = &inner;
        value.classes = Classes::of(&inner);
        value.steps = steps;
        errors += rules::check(
            &value,
            rules::candidates(&value, !done),
            &mut done,
            &mut findings,
        );
        show(field, &inner, steps, &mut findings, out);
    }
    errors
}

/// Turns findings on `text` into what may be shown: the value cut, or masked when its name
/// or content says it is a secret; the decoding that revealed it added to the detail.
fn show(
    field: &Field<'_>,
    text: &str,
    steps: decode::Steps,
    findings: &mut Vec<Finding>,
    out: &mut Vec<Shown>,
) {
    if findings.is_empty() {
        return;
    }
    let value = if classify_field(field.key, text).has_credential() {
        format!("<masked: {} bytes>", text.len())
    } else {
        cut(text, MAX_SHOWN_VALUE).to_owned()
    };
    let decodings = steps.describe();
    for mut finding in findings.drain(..) {
        finding.detail = match (finding.detail.take(), &decodings) {
            (Some(d), Some(s)) => Some(format!("{d}; {s}")),
            (d, s) => d.or_else(|| s.clone()),
        };
        out.push(Shown {
            finding,
            value: value.clone(),
        });
    }
}
