//! Secrets and personal data in what is sent to a model (`secret_in_prompt`, `pii_in_prompt`)
//! and in what a model or an MCP server answers (`secret_in_response`, `pii_in_response`).
//! Hits show the class and a masked hint, never the value.
//!
//! E-mail addresses and phone numbers are in nearly every support chat and CRM lookup, so one
//! or two say nothing; they are counted per side of the exchange and reported only when many
//! distinct ones go by ([`super::PromptRules::many_contacts`]): a model or tool answering
//! with a list of customers' contacts.

mod locate;
mod password;

use std::hash::BuildHasher;

use super::texts::Text;
use crate::{
    detection::{
        category::Category,
        hit::{Location, Part, SignatureHit},
    },
    discovery::sensitive::{ClassSet, SensitiveClass, is_email, scan_text},
};
use locate::{Located, locate};

/// Secrets first by how much they give an attacker, then personal data.
const SECRETS: &[(SensitiveClass, f64)] = &[
    (SensitiveClass::PrivateKey, 0.95),
    (SensitiveClass::AwsAccessKey, 0.95),
    (SensitiveClass::AnthropicApiKey, 0.95),
    (SensitiveClass::OpenaiApiKey, 0.95),
    (SensitiveClass::GithubToken, 0.95),
    (SensitiveClass::SlackToken, 0.95),
    (SensitiveClass::StripeKey, 0.95),
    (SensitiveClass::GoogleApiKey, 0.9),
    (SensitiveClass::Jwt, 0.85),
    (SensitiveClass::ApiKey, 0.7),
    (SensitiveClass::Password, 0.7),
];
const PERSONAL: &[(SensitiveClass, f64)] = &[
    (SensitiveClass::CreditCard, 0.9),
    (SensitiveClass::Iban, 0.85),
    (SensitiveClass::Ssn, 0.75),
];

/// Distinct contacts remembered per side.
const MAX_CONTACTS: usize = 256;

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Sent to a model: what users, tools, retrieval and the system prompt put in.
    Prompt,
    /// Coming out of an AI endpoint: the model's answer, an MCP server's result.
    Response,
}

impl Side {
    fn of(part: Part) -> Side {
        match part {
            Part::ModelResponse | Part::McpResponse | Part::Response => Side::Response,
            _ => Side::Prompt,
        }
    }

    fn index(self) -> usize {
        match self {
            Side::Prompt => 0,
            Side::Response => 1,
        }
    }

    fn rules(self) -> (&'static str, &'static str) {
        match self {
            Side::Prompt => ("secret_in_prompt", "pii_in_prompt"),
            Side::Response => ("secret_in_response", "pii_in_response"),
        }
    }
}

/// Contacts seen on one side of an exchange.
#[derive(Debug, Default)]
struct Contacts {
    emails: Vec<u64>,
    phones: Vec<u64>,
    /// The first text that had any.
    first: Option<Location>,
}

/// Leak detection over the texts of one exchange.
#[derive(Debug)]
pub struct LeakScan {
    many_contacts: usize,
    skip_examples: bool,
    contacts: [Contacts; 2],
    hasher: foldhash::fast::FixedState,
}

impl LeakScan {
    pub fn new(many_contacts: usize, skip_examples: bool) -> LeakScan {
        LeakScan {
            many_contacts: many_contacts.max(1),
            skip_examples,
            contacts: [Contacts::default(), Contacts::default()],
            hasher: foldhash::fast::FixedState::with_seed(0x5eed),
        }
    }

    /// Hits for the secrets and personal data of one text.
    pub fn text(&mut self, text: &Text, out: &mut Vec<SignatureHit>) {
        let side = Side::of(text.part);
        let mut classes = scan_text(&text.body).union(text.named);
        if !classes.contains(SensitiveClass::Password) && password::has_password(&text.body) {
            classes.insert(SensitiveClass::Password);
        }
        if classes.is_empty() {
            return;
        }
        if classes.contains(SensitiveClass::Email) || classes.contains(SensitiveClass::Phone) {
            self.count_contacts(text, side, classes);
        }
        let (secret_rule, pii_rule) = side.rules();
        for (rule, table) in [(secret_rule, SECRETS), (pii_rule, PERSONAL)] {
            if let Some(hit) = self.hit(text, classes, rule, table) {
                out.push(hit);
            }
        }
    }

    fn hit(
        &self,
        text: &Text,
        classes: ClassSet,
        rule: &'static str,
        table: &[(SensitiveClass, f64)],
    ) -> Option<SignatureHit> {
        let mut shown: Option<(String, f64)> = None;
        let mut names = Vec::new();
        for &(class, confidence) in table {
            if !classes.contains(class) {
                continue;
            }
            // A class a field's name gave has no text to locate.
            let located = if text.named.contains(class) {
                locate(&text.body, class, false)
            } else {
                locate(&text.body, class, self.skip_examples)
            };
            let Located::Hint(hint) = located else {
                continue;
            };
            names.push(class.name());
            if shown.is_none() {
                shown = Some((hint, confidence));
            }
        }
        let (value, confidence) = shown?;
        Some(SignatureHit {
            category: Category::SensitiveDataLeak,
            rule,
            location: Location::new(text.part, Some(&text.name)),
            value,
            confidence,
            detail: Some(format!("classes: {}", names.join(", "))),
        })
    }

    fn count_contacts(&mut self, text: &Text, side: Side, classes: ClassSet) {
        let hasher = &self.hasher;
        let hash = |s: &str| hasher.hash_one(s);
        let Some(seen) = self.contacts.get_mut(side.index()) else {
            return;
        };
        let before = seen.emails.len() + seen.phones.len();
        if classes.contains(SensitiveClass::Email) {
            for token in text
                .body
                .split(|c: char| {
                    c.is_whitespace()
                        || matches!(
                            c,
                            ',' | ';' | '<' | '>' | '"' | '\'' | '(' | ')' | '[' | ']'
                        )
                })
                .take(16 * 1024)
            {
                let token = token.trim_matches(|c: char| c == '.' || c == ':');
                if token.contains('@') && is_email(token) {
                    remember(&mut seen.emails, hash(&token.to_ascii_lowercase()));
                }
            }
        }
        if classes.contains(SensitiveClass::Phone) {
            for line in text.body.lines().take(4096) {
                for piece in line.split([',', ';', '|', '\t']) {
                    let digits: String = piece.chars().filter(char::is_ascii_digit).collect();
                    if (7..=15).contains(&digits.len())
                        && scan_text(piece).contains(SensitiveClass::Phone)
                    {
                        remember(&mut seen.phones, hash(&digits));
                    }
                }
            }
        }
        if seen.first.is_none() && seen.emails.len() + seen.phones.len() > before {
            seen.first = Some(Location::new(text.part, Some(&text.name)));
        }
    }

    /// Hits for many contacts on one side, once every text was seen.
    pub fn finish(&self, out: &mut Vec<SignatureHit>) {
        for side in [Side::Prompt, Side::Response] {
            let Some(seen) = self.contacts.get(side.index()) else {
                continue;
            };
            let (emails, phones) = (seen.emails.len(), seen.phones.len());
            if emails < self.many_contacts && phones < self.many_contacts {
                continue;
            }
            let Some(location) = seen.first.clone() else {
                continue;
            };
            let (value, class) = if emails >= phones {
                (format!("email ×{emails} distinct"), "email")
            } else {
                (format!("phone ×{phones} distinct"), "phone")
            };
            out.push(SignatureHit {
                category: Category::SensitiveDataLeak,
                rule: side.rules().1,
                location,
                value,
                confidence: 0.6,
                detail: Some(format!(
                    "classes: {class}; {emails} distinct emails, {phones} distinct phones (reported from {})",
                    self.many_contacts
                )),
            });
        }
    }
}

fn remember(seen: &mut Vec<u64>, h: u64) {
    if seen.len() < MAX_CONTACTS && !seen.contains(&h) {
        seen.push(h);
    }
}
