//! `credential_stuffing`, `brute_force`, `account_takeover` (a success right after a burst of
//! failures) and `password_reset_abuse`, judged per actor and per client address alike: an
//! attacker rotating user agents is still one address, one rotating addresses still one actor.

use serde::{Deserialize, Serialize};

use super::{
    SECOND,
    login::{Event, Outcome},
    secs,
};
use crate::detection::{
    category::{Category, Severity},
    finding::Finding,
    window::{Buckets, DistinctWindow},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialRules {
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Failed logins against one account in the window: brute force.
    pub brute_force_failures: u32,
    /// Failed logins in the window...
    pub stuffing_failures: u32,
    /// ...across at least this many distinct accounts: credential stuffing.
    pub stuffing_accounts: u32,
    /// Failures in the window before a success that make the success a takeover.
    pub takeover_failures: u32,
    /// Password-reset requests for this many distinct accounts in the window: abuse.
    pub reset_accounts: u32,
    /// ...or this many reset requests in all.
    pub reset_requests: u32,
    pub severity: Severity,
}

impl Default for CredentialRules {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 600,
            brute_force_failures: 10,
            stuffing_failures: 10,
            stuffing_accounts: 5,
            takeover_failures: 5,
            reset_accounts: 5,
            reset_requests: 20,
            severity: Severity::High,
        }
    }
}

/// Accounts whose failures are counted one by one per actor (the rest only in the sketch).
const ACCOUNTS: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct CredentialState {
    failures: Buckets<10>,
    accounts: DistinctWindow,
    /// (account, failures, last failure ns), most recent first.
    per_account: Vec<(u64, u32, u64)>,
    resets: Buckets<10>,
    reset_accounts: DistinctWindow,
}

/// Judges one login or reset at `now` against one state (an actor's or a client address's);
/// `scope` says which, for the evidence.
pub fn observe(
    rules: &CredentialRules,
    st: &mut CredentialState,
    now: u64,
    event: Event,
    scope: &'static str,
    out: &mut Vec<Finding>,
) {
    let window = secs(rules.window_secs).max(SECOND);
    let bucket = window / 10;
    if let Event::Reset(reset) = event {
        st.resets.add(now, bucket, 1);
        if let Some(account) = reset {
            st.reset_accounts.insert(account, now, window);
        }
        let accounts = st.reset_accounts.estimate(now, window);
        let requests = st.resets.total(now, bucket);
        if accounts >= rules.reset_accounts as usize || requests >= rules.reset_requests {
            out.push(
                Finding::new(Category::PasswordResetAbuse, Severity::Medium, 0.8)
                    .figure("reset_requests", f64::from(requests))
                    .figure("distinct_accounts", accounts as f64)
                    .baseline("reset_accounts", f64::from(rules.reset_accounts))
                    .baseline("reset_requests", f64::from(rules.reset_requests))
                    .note_with(|| format!("per {scope}")),
            );
        }
        return;
    }
    let Event::Attempt(attempt) = event else {
        return;
    };
    match attempt.outcome {
        Outcome::Unknown => {}
        Outcome::Failure => {
            st.failures.add(now, bucket, 1);
            let mut on_account = 0;
            if let Some(account) = attempt.account {
                st.accounts.insert(account, now, window);
                match st.per_account.iter().position(|(a, _, _)| *a == account) {
                    Some(i) => {
                        let (a, n, last) = st.per_account.remove(i);
                        let n = if now.saturating_sub(last) > window {
                            1
                        } else {
                            n + 1
                        };
                        st.per_account.insert(0, (a, n, now));
                        on_account = n;
                    }
                    None => {
                        st.per_account.truncate(ACCOUNTS - 1);
                        st.per_account.insert(0, (account, 1, now));
                        on_account = 1;
                    }
                }
            }
            let failures = st.failures.total(now, bucket);
            let accounts = st.accounts.estimate(now, window);
            if failures >= rules.stuffing_failures && accounts >= rules.stuffing_accounts as usize {
                out.push(
                    Finding::new(Category::CredentialStuffing, rules.severity, 0.85)
                        .figure("failed_logins", f64::from(failures))
                        .figure("distinct_accounts", accounts as f64)
                        .baseline("stuffing_failures", f64::from(rules.stuffing_failures))
                        .baseline("stuffing_accounts", f64::from(rules.stuffing_accounts))
                        .note_with(|| format!("per {scope}")),
                );
            }
            let unnamed = attempt.account.is_none() && failures >= rules.brute_force_failures;
            if on_account >= rules.brute_force_failures || unnamed {
                out.push(
                    Finding::new(Category::BruteForce, rules.severity, 0.85)
                        .figure("failed_logins_on_account", f64::from(on_account))
                        .figure("failed_logins", f64::from(failures))
                        .baseline(
                            "brute_force_failures",
                            f64::from(rules.brute_force_failures),
                        )
                        .note_with(|| format!("per {scope}")),
                );
            }
        }
        Outcome::Success => {
            let failures = st.failures.total(now, bucket);
            let on_account = attempt
                .account
                .and_then(|a| st.per_account.iter().find(|(x, _, _)| *x == a))
                .map_or(0, |(_, n, _)| *n);
            if failures >= rules.takeover_failures {
                out.push(
                    Finding::new(Category::AccountTakeover, Severity::Critical, 0.8)
                        .figure("failed_logins_before_success", f64::from(failures))
                        .figure("failed_logins_on_account", f64::from(on_account))
                        .baseline("takeover_failures", f64::from(rules.takeover_failures))
                        .note_with(|| {
                            format!("login success after a burst of failures, per {scope}")
                        }),
                );
            }
        }
    }
}
