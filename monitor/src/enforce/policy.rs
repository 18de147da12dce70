//! What turns an alert into a block: the `[enforcement]` table of the rules file (categories,
//! severity, TTL, key, cap, allowlist), and the `--enforce` mode.

use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::detection::category::{Category, Severity};

/// `--enforce`: nothing, say what would be blocked, or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Off,
    DryRun,
    On,
}

impl Mode {
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::DryRun => "dry-run",
            Mode::On => "on",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a decision blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKey {
    /// The alert's client addresses: new connections and packets from them are dropped, their
    /// live connections reset.
    Ip,
    /// The alert's actor (token, API key, cookie): its connections are reset, now and whenever
    /// its credential shows up on another one.
    Actor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnforcementPolicy {
    /// Alert categories that block (others are only reported).
    pub categories: Vec<Category>,
    /// The least severity that blocks.
    pub min_severity: Severity,
    /// How long a decision lasts, in seconds.
    pub ttl_secs: u64,
    /// What an alert's decision blocks: its addresses, its actor, or both.
    pub keys: Vec<BlockKey>,
    /// Most decisions in force at once; past it new ones are refused and counted.
    pub max_blocked: usize,
    /// Never blocked, whatever they do (CIDRs). The host's own addresses always are.
    pub allow: Vec<IpNet>,
    /// Proxies and load balancers in front of the services: never blocked nor reset (that
    /// would cut everyone behind them); their clients are blocked by actor only.
    pub trusted_proxies: Vec<IpNet>,
    /// 127.0.0.0/8 and ::1 are never blocked: local agents, health checks and the operator's
    /// own tools live there, and a process on loopback already runs on this host.
    pub allow_loopback: bool,
    /// Most addresses one alert blocks (an IP-rotating actor brings many).
    pub max_ips_per_alert: usize,
}

/// Categories whose alerts are precise enough to block by default: injection payloads,
/// scanners and login attacks. Behavioural ones (rates, cadence, enumeration...) only report
/// until an operator opts in.
pub const DEFAULT_CATEGORIES: [Category; 11] = [
    Category::Sqli,
    Category::Xss,
    Category::PathTraversal,
    Category::CommandInjection,
    Category::Ssrf,
    Category::TemplateInjection,
    Category::Scanner,
    Category::ForcedBrowsing,
    Category::CredentialStuffing,
    Category::BruteForce,
    Category::PasswordResetAbuse,
];

/// The cap the kernel's tries allow (see `monitor_common::enforce::MAX_BLOCKED`).
pub const MAX_BLOCKED_LIMIT: usize = monitor_common::enforce::MAX_BLOCKED as usize;

impl Default for EnforcementPolicy {
    fn default() -> Self {
        Self {
            categories: DEFAULT_CATEGORIES.to_vec(),
            min_severity: Severity::High,
            ttl_secs: 600,
            keys: vec![BlockKey::Ip, BlockKey::Actor],
            max_blocked: 10_000,
            allow: Vec::new(),
            trusted_proxies: Vec::new(),
            allow_loopback: true,
            max_ips_per_alert: 16,
        }
    }
}

impl EnforcementPolicy {
    /// Whether an alert of this category and severity blocks.
    pub fn blocks(&self, category: Category, severity: Severity) -> bool {
        severity >= self.min_severity && self.categories.contains(&category)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.ttl_secs == 0 {
            return Err("enforcement.ttl_secs must be greater than zero".into());
        }
        if self.max_blocked == 0 || self.max_blocked > MAX_BLOCKED_LIMIT {
            return Err(format!(
                "enforcement.max_blocked must be between 1 and {MAX_BLOCKED_LIMIT}"
            ));
        }
        if self.max_ips_per_alert == 0 {
            return Err("enforcement.max_ips_per_alert must be greater than zero".into());
        }
        if self.keys.is_empty() {
            return Err("enforcement.keys must name \"ip\", \"actor\" or both".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_block_injections_at_high_severity_only() {
        let p = EnforcementPolicy::default();
        assert!(p.validate().is_ok());
        assert!(p.blocks(Category::Sqli, Severity::High));
        assert!(p.blocks(Category::Sqli, Severity::Critical));
        assert!(!p.blocks(Category::Sqli, Severity::Medium));
        assert!(!p.blocks(Category::BotCadence, Severity::Critical));
    }

    #[test]
    fn nonsense_is_refused_by_name() {
        let mut p = EnforcementPolicy {
            ttl_secs: 0,
            ..Default::default()
        };
        assert!(p.validate().unwrap_err().contains("ttl_secs"));
        p.ttl_secs = 1;
        p.max_blocked = MAX_BLOCKED_LIMIT + 1;
        assert!(p.validate().unwrap_err().contains("max_blocked"));
        p.max_blocked = 10;
        p.keys.clear();
        assert!(p.validate().unwrap_err().contains("keys"));
    }
}
