//! The detection rules: every detector's thresholds in one typed configuration, read from a
//! TOML rules file (`--rules`) over the defaults written here, and printed by `monitor rules`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    alerts::AlertRules,
    baseline::BaselineRules,
    behaviour::{
        browsing::BrowsingRules, cadence::CadenceRules, credentials::CredentialRules,
        enumeration::EnumerationRules, exposure::ExposureRules, rate::RateRules,
        rotation::RotationRules, scanner::ScannerRules, scraping::ScrapingRules,
        takeover::TakeoverRules,
    },
    prompt::PromptRules,
    signatures::SignatureRules,
};

/// Detection as configured: on or off, where its state is kept, and the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectionConfig {
    /// Judge transactions and write `alert` events (needs discovery).
    pub enabled: bool,
    /// Where baselines and known actors are kept across restarts; none: not kept.
    pub state_dir: Option<PathBuf>,
    pub rules: Rules,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            state_dir: None,
            rules: Rules::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    pub alerts: AlertRules,
    pub limits: Limits,
    /// How every learned baseline becomes a threshold.
    pub baseline: BaselineRules,
    pub rate_anomaly: RateRules,
    pub bot_cadence: CadenceRules,
    pub enumeration: EnumerationRules,
    pub scraping: ScrapingRules,
    pub forced_browsing: BrowsingRules,
    pub scanner: ScannerRules,
    /// credential_stuffing, brute_force, account_takeover after failures,
    /// password_reset_abuse.
    pub credentials: CredentialRules,
    /// account_takeover by a session changing hands.
    pub account_takeover: TakeoverRules,
    pub ip_rotation: RotationRules,
    /// sensitive_data_leak by volume (an actor receiving far more personal data than its kind).
    pub sensitive_data: ExposureRules,
    /// sqli, xss, path_traversal, command_injection, ssrf, template_injection.
    pub signatures: SignatureRules,
    /// prompt_injection and sensitive_data_leak toward AI/LLM and MCP endpoints.
    pub prompt: PromptRules,
    /// Which alerts block under `--enforce`, for how long, and what is never blocked.
    pub enforcement: crate::enforce::policy::EnforcementPolicy,
}

/// Bounds of what detection keeps; what they push out is counted in `stats.detection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Actors followed at once (the least recently active is forgotten).
    pub max_actors: usize,
    /// Client addresses followed for logins and resets.
    pub max_addresses: usize,
    /// Fingerprints (user agent + endpoint) of anonymous actors followed for rotation.
    pub max_fingerprints: usize,
    /// Learned baselines kept.
    pub max_baselines: usize,
    /// Session verdicts kept.
    pub max_sessions: usize,
    /// Actors remembered across restarts in the state file.
    pub max_known_actors: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_actors: 20_000,
            max_addresses: 20_000,
            max_fingerprints: 5_000,
            max_baselines: 5_000,
            max_sessions: 100_000,
            max_known_actors: 20_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read the rules file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the rules file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid rule: {0}")]
    Invalid(String),
}

impl Rules {
    /// The defaults with `path`'s tables on top.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            RulesError::Parse { message, .. } => RulesError::Parse {
                path: path.to_owned(),
                message,
            },
            RulesError::Invalid(message) => RulesError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    pub fn parse(text: &str) -> Result<Rules, RulesError> {
        let rules: Rules = toml::from_str(text).map_err(|e| RulesError::Parse {
            path: PathBuf::new(),
            // toml's message spans lines (it quotes the input); one line is enough here.
            message: e.message().trim().to_owned() + &line_of(text, e.span()),
        })?;
        rules.validate()?;
        Ok(rules)
    }

    /// The effective rules as a TOML document.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render the rules: {e}\n"))
    }

    pub fn validate(&self) -> Result<(), RulesError> {
        self.enforcement.validate().map_err(RulesError::Invalid)?;
        let windows = [
            ("enumeration.window_secs", self.enumeration.window_secs),
            ("scraping.window_secs", self.scraping.window_secs),
            (
                "forced_browsing.window_secs",
                self.forced_browsing.window_secs,
            ),
            ("credentials.window_secs", self.credentials.window_secs),
            ("ip_rotation.window_secs", self.ip_rotation.window_secs),
            (
                "sensitive_data.window_secs",
                self.sensitive_data.window_secs,
            ),
            ("alerts.quiet_secs", self.alerts.quiet_secs),
        ];
        for (name, v) in windows {
            if v == 0 {
                return Err(RulesError::Invalid(format!(
                    "{name} must be greater than zero"
                )));
            }
        }
        let limits = [
            ("limits.max_actors", self.limits.max_actors),
            ("limits.max_addresses", self.limits.max_addresses),
            ("limits.max_fingerprints", self.limits.max_fingerprints),
            ("limits.max_baselines", self.limits.max_baselines),
            ("limits.max_sessions", self.limits.max_sessions),
            ("alerts.max_open", self.alerts.max_open),
        ];
        for (name, v) in limits {
            if v == 0 {
                return Err(RulesError::Invalid(format!(
                    "{name} must be greater than zero"
                )));
            }
        }
        let shares = [
            (
                "enumeration.sequential_share",
                self.enumeration.sequential_share,
            ),
            ("enumeration.error_share", self.enumeration.error_share),
            ("forced_browsing.min_share", self.forced_browsing.min_share),
            (
                "ip_rotation.fingerprint_min_failure_share",
                self.ip_rotation.fingerprint_min_failure_share,
            ),
        ];
        for (name, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(RulesError::Invalid(format!(
                    "{name} must be between 0 and 1"
                )));
            }
        }
        if !(self.bot_cadence.max_cv > 0.0 && self.bot_cadence.max_cv.is_finite()) {
            return Err(RulesError::Invalid(
                "bot_cadence.max_cv must be a positive number".into(),
            ));
        }
        if !(4..=64).contains(&self.bot_cadence.intervals) {
            return Err(RulesError::Invalid(
                "bot_cadence.intervals must be between 4 and 64".into(),
            ));
        }
        Ok(())
    }

    /// Whether findings of `category` may raise alerts.
    pub fn enabled(&self, category: super::category::Category) -> bool {
        !self.alerts.disabled.contains(&category)
    }

    /// Whether `finding` may raise or join an alert: its category is enabled and it is at
    /// least `alerts.min_severity` (else it is only counted as suppressed).
    pub fn admits(&self, finding: &super::finding::Finding) -> bool {
        self.enabled(finding.category) && finding.severity >= self.alerts.min_severity
    }
}

/// ` (line N)` for a byte span of `text`.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(r) => {
            let line = text[..r.start.min(text.len())].matches('\n').count() + 1;
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::category::{Category, Severity};

    #[test]
    fn the_printed_defaults_read_back_as_the_defaults() {
        let text = Rules::default().to_toml();
        assert!(text.contains("[rate_anomaly]"), "{text}");
        assert_eq!(Rules::parse(&text).unwrap(), Rules::default());
    }

    #[test]
    fn a_rules_file_overrides_what_it_names() {
        let rules = Rules::parse(
            "[credentials]\nbrute_force_failures = 3\n[alerts]\ndisabled = [\"bot_cadence\"]\nmin_severity = \"medium\"\n",
        )
        .unwrap();
        assert_eq!(rules.credentials.brute_force_failures, 3);
        assert_eq!(rules.credentials.stuffing_accounts, 5);
        assert!(!rules.enabled(Category::BotCadence));
        assert_eq!(rules.alerts.min_severity, Severity::Medium);
    }

    #[test]
    fn bad_rules_are_one_clear_sentence() {
        for (text, want) in [
            (
                "[credentials]\nbrute_force = 3\n",
                "unknown field `brute_force`",
            ),
            ("[nope]\n", "unknown field `nope`"),
            (
                "[alerts]\ndisabled = [\"sqlx\"]\n",
                "unknown variant `sqlx`",
            ),
            (
                "[enumeration]\nwindow_secs = 0\n",
                "enumeration.window_secs must be greater than zero",
            ),
            ("[forced_browsing]\nmin_share = 2.0\n", "between 0 and 1"),
            ("[scanner\n", "line 1"),
        ] {
            let err = Rules::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }
}
