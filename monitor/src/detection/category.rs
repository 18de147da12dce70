//! What an alert is about (`category`) and how bad it is (`severity`): the names written in
//! `alert` events, rules files and `stats.detection`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One kind of abuse or attack.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Request rate far above the learned baseline of actors of the same kind.
    RateAnomaly,
    /// Intervals between requests too regular for a person, or sustained zero think-time.
    BotCadence,
    /// One actor walking many values of one parameter (BOLA, id walks).
    Enumeration,
    /// High-volume reads with pagination walks and wide id coverage.
    Scraping,
    /// Bursts of 404s on many distinct unknown paths.
    ForcedBrowsing,
    /// A known attack tool (user agent) or scanner behaviour.
    Scanner,
    /// Failed logins across many accounts.
    CredentialStuffing,
    /// Failed logins against one account.
    BruteForce,
    /// A login success after a burst of failures, or a session that changed hands and touched
    /// credentials.
    AccountTakeover,
    /// Password-reset requests for many distinct accounts.
    PasswordResetAbuse,
    /// One actor from many client addresses, or many addresses acting as one.
    IpRotation,
    Sqli,
    Xss,
    PathTraversal,
    CommandInjection,
    Ssrf,
    TemplateInjection,
    /// Instruction override, jailbreak, system-prompt extraction or hidden instructions toward
    /// an AI/LLM or MCP endpoint (also indirect: in tool results and retrieved content).
    PromptInjection,
    /// Secrets or personal data flowing to or from an AI endpoint, or an actor receiving far
    /// more sensitive records than its baseline.
    SensitiveDataLeak,
}

impl Category {
    pub const ALL: [Category; 19] = [
        Category::RateAnomaly,
        Category::BotCadence,
        Category::Enumeration,
        Category::Scraping,
        Category::ForcedBrowsing,
        Category::Scanner,
        Category::CredentialStuffing,
        Category::BruteForce,
        Category::AccountTakeover,
        Category::PasswordResetAbuse,
        Category::IpRotation,
        Category::Sqli,
        Category::Xss,
        Category::PathTraversal,
        Category::CommandInjection,
        Category::Ssrf,
        Category::TemplateInjection,
        Category::PromptInjection,
        Category::SensitiveDataLeak,
    ];

    /// The name written in JSON (as serde writes it).
    pub const fn name(self) -> &'static str {
        match self {
            Category::RateAnomaly => "rate_anomaly",
            Category::BotCadence => "bot_cadence",
            Category::Enumeration => "enumeration",
            Category::Scraping => "scraping",
            Category::ForcedBrowsing => "forced_browsing",
            Category::Scanner => "scanner",
            Category::CredentialStuffing => "credential_stuffing",
            Category::BruteForce => "brute_force",
            Category::AccountTakeover => "account_takeover",
            Category::PasswordResetAbuse => "password_reset_abuse",
            Category::IpRotation => "ip_rotation",
            Category::Sqli => "sqli",
            Category::Xss => "xss",
            Category::PathTraversal => "path_traversal",
            Category::CommandInjection => "command_injection",
            Category::Ssrf => "ssrf",
            Category::TemplateInjection => "template_injection",
            Category::PromptInjection => "prompt_injection",
            Category::SensitiveDataLeak => "sensitive_data_leak",
        }
    }

    /// A slot per category, for counters kept in arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// How much an alert matters, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The weight of this severity in a session's risk score (0..1).
    pub const fn weight(self) -> f64 {
        match self {
            Severity::Low => 0.2,
            Severity::Medium => 0.45,
            Severity::High => 0.75,
            Severity::Critical => 0.95,
        }
    }

    /// One step up, for findings that repeat or succeed.
    pub const fn raised(self) -> Severity {
        match self {
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_serde_writes() {
        for (i, c) in Category::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.name()));
            assert_eq!(Category::from_name(c.name()), Some(c));
        }
        for s in [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
    }
}
