//! `scanner`: a known attack or scanning tool, by its user agent (a list versioned in the repo,
//! `scanner_agents.txt`), or by behaviour: forced browsing, injection payloads and unusual
//! methods from one actor, at least two of the three.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::detection::{
    category::{Category, Severity},
    finding::Finding,
};

/// The list shipped with the monitor.
pub const AGENTS: &str = include_str!("scanner_agents.txt");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerRules {
    pub enabled: bool,
    /// More user-agent substrings of tools (case-insensitive), besides the shipped list.
    pub extra_agents: Vec<String>,
    /// Methods scanners try and applications rarely serve.
    pub unusual_methods: Vec<String>,
    /// Distinct 404 paths that count as the forced-browsing signal.
    pub not_found_signal: u32,
    /// Injection findings that count as the injection signal.
    pub injection_signal: u32,
    /// Signals (forced browsing, injection, unusual methods) that make scanner behaviour.
    pub min_signals: u32,
    pub severity: Severity,
}

impl Default for ScannerRules {
    fn default() -> Self {
        Self {
            enabled: true,
            extra_agents: Vec::new(),
            unusual_methods: [
                "TRACE",
                "TRACK",
                "DEBUG",
                "PROPFIND",
                "PROPPATCH",
                "MKCOL",
                "COPY",
                "MOVE",
                "LOCK",
                "UNLOCK",
                "SEARCH",
                "CONNECT",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            not_found_signal: 10,
            injection_signal: 3,
            min_signals: 2,
            severity: Severity::Medium,
        }
    }
}

/// The user-agent list, compiled.
#[derive(Debug, Clone)]
pub struct AgentList {
    matcher: Option<AhoCorasick>,
    names: Vec<String>,
    /// The shipped list's `# version:` line.
    pub version: String,
}

impl AgentList {
    pub fn new(rules: &ScannerRules) -> AgentList {
        let mut names: Vec<String> = entries(AGENTS).map(str::to_owned).collect();
        names.extend(
            rules
                .extra_agents
                .iter()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty()),
        );
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&names)
            .ok();
        let version = AGENTS
            .lines()
            .find_map(|l| l.strip_prefix("# version:"))
            .unwrap_or("unknown")
            .trim()
            .to_owned();
        AgentList {
            matcher,
            names,
            version,
        }
    }

    /// The list entry `user_agent` matches, if any.
    pub fn find(&self, user_agent: &str) -> Option<&str> {
        let m = self.matcher.as_ref()?.find(user_agent)?;
        self.names.get(m.pattern().as_usize()).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// How many entries and which list version (for `monitor rules`).
    pub fn describe(&self) -> String {
        format!("{} user agents (list version {})", self.len(), self.version)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The list's entries: lines without comments and blanks.
pub fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
}

#[derive(Debug, Clone, Default)]
pub struct ScannerState {
    /// Hash of the last user agent checked, and the entry it matched.
    agent: Option<(u64, Option<u16>)>,
    unusual_methods: u32,
    injections: u32,
}

/// What other detectors saw of this actor, for the behaviour signals.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signals {
    pub distinct_not_found: usize,
    /// Injection findings in this transaction.
    pub injections: u32,
}

pub fn observe(
    rules: &ScannerRules,
    agents: &AgentList,
    st: &mut ScannerState,
    cx: &Ctx,
    signals: Signals,
) -> Option<Finding> {
    if let Some(ua) = cx.s.user_agent {
        let h = cx.agent;
        let entry = match st.agent {
            Some((seen, entry)) if seen == h => entry,
            _ => {
                let entry = agents.find(ua).and_then(|name| {
                    agents
                        .names
                        .iter()
                        .position(|n| n == name)
                        .and_then(|i| u16::try_from(i).ok())
                });
                st.agent = Some((h, entry));
                entry
            }
        };
        if let Some(name) = entry.and_then(|i| agents.names.get(usize::from(i))) {
            return Some(
                Finding::gated(cx.quiet, Category::Scanner, rules.severity, 0.95)
                    .figure("user_agent_match", 1.0)
                    .note_with(|| format!("user agent matches list entry `{name}`"))
                    .note_with(|| format!("scanner list version {}", agents.version)),
            );
        }
    }
    if rules
        .unusual_methods
        .iter()
        .any(|m| m.eq_ignore_ascii_case(cx.s.method))
    {
        st.unusual_methods = st.unusual_methods.saturating_add(1);
    }
    st.injections = st.injections.saturating_add(signals.injections);
    let browsing = signals.distinct_not_found >= rules.not_found_signal as usize;
    let injecting = st.injections >= rules.injection_signal;
    let methods = st.unusual_methods > 0;
    let count = u32::from(browsing) + u32::from(injecting) + u32::from(methods);
    (count >= rules.min_signals).then(|| {
        Finding::gated(
            cx.quiet,
            Category::Scanner,
            rules.severity.raised(),
            0.6 + 0.1 * f64::from(count),
        )
        .figure(
            "distinct_not_found_paths",
            signals.distinct_not_found as f64,
        )
        .figure("injection_findings", f64::from(st.injections))
        .figure("unusual_methods", f64::from(st.unusual_methods))
        .baseline("min_signals", f64::from(rules.min_signals))
        .note("scanner behaviour: forced browsing, injection payloads, unusual methods")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_knows_the_usual_tools() {
        let list = AgentList::new(&ScannerRules::default());
        assert!(list.len() > 40);
        assert_ne!(list.version, "unknown");
        for (ua, entry) in [
            ("sqlmap/1.7.2#stable (https://sqlmap.org)", "sqlmap"),
            ("gobuster/3.5", "gobuster"),
            ("Mozilla/4.0 (Hydra)", "(hydra)"),
            (
                "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)",
                "nikto",
            ),
            ("Fuzz Faster U Fool v2.0.0", "fuzz faster u fool"),
            (
                "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
                "nmap scripting engine",
            ),
            (
                "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
                "nuclei",
            ),
        ] {
            assert_eq!(list.find(ua), Some(entry), "{ua}");
        }
        for ua in [
            "curl/7.88.1",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            "okhttp/4.12.0",
            "Wget/1.21.3",
            "PostmanRuntime/7.36.0",
            "locust/2.20",
        ] {
            assert_eq!(list.find(ua), None, "{ua}");
        }
    }

    #[test]
    fn extra_agents_extend_the_list() {
        let rules = ScannerRules {
            extra_agents: vec!["  InHouseScanner ".into(), String::new()],
            ..ScannerRules::default()
        };
        let list = AgentList::new(&rules);
        assert_eq!(list.find("inhousescanner/1.0"), Some("InHouseScanner"));
    }
}
