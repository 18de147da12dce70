//! An ongoing attack's findings, kept on the actor while they change nothing but the counts of
//! its open alert: the alert, its session verdict and their caches are not touched for every
//! transaction, only when something new comes (an address, a user agent, an endpoint, a
//! session, a higher severity, evidence), when a report is due, and before alerts can end.

use crate::detection::{
    alerts::{AlertId, Contribution, Pending, Raised},
    category::{Category, Severity},
    finding::Finding,
};

/// One category of an actor with an open alert.
#[derive(Debug, Clone)]
pub struct Hot {
    pub category: Category,
    pub id: AlertId,
    /// Findings may be deferred before this (monotonic ns): the alert's next report is due
    /// then, and it cannot have ended before.
    until_ns: u64,
    reported_severity: Severity,
    /// [`Contribution::key`] of the last contribution the alert took itself.
    key: u64,
    /// The score the session's verdict last took for this category.
    score: f64,
    /// Taken by the alert at the next fold.
    pub pending: Pending,
    /// Listed for the next fold of every actor's pending contributions.
    pub queued: bool,
}

impl Hot {
    /// Whether `finding` from a contribution of `key` can wait: it would add to the alert only
    /// a transaction, a time and at most its confidence. (A higher score than the session's
    /// verdict took is no reason to raise: see [`Self::rises`].)
    pub fn defers(&self, finding: &Finding, key: u64, now: u64) -> bool {
        now < self.until_ns
            && key == self.key
            && finding.severity <= self.reported_severity
            && finding.addresses.is_empty()
            && finding.evidence().is_empty()
    }

    /// Whether `score` is above what the session's verdict took for this category (kept as
    /// what it took from now on): a rate or a count that keeps growing while its alert is
    /// quiet raises the verdict, not the alert.
    pub fn rises(&mut self, score: f64) -> bool {
        let rises = score > self.score;
        if rises {
            self.score = score;
        }
        rises
    }

    /// The alert took a contribution itself (`raised`): what later ones are compared with.
    pub fn taken(
        &mut self,
        raised: &Raised,
        c: &Contribution,
        key: u64,
        score: f64,
        quiet_ns: u64,
    ) {
        self.id = raised.id;
        self.until_ns = raised.quiet_until.min(c.now.saturating_add(quiet_ns));
        self.reported_severity = raised.reported_severity;
        if key != self.key {
            self.score = 0.0;
        }
        self.key = key;
        self.score = self.score.max(score);
    }

    pub fn new(category: Category, raised: &Raised) -> Self {
        Self {
            category,
            id: raised.id,
            until_ns: 0,
            reported_severity: raised.reported_severity,
            key: 0,
            score: 0.0,
            pending: Pending::default(),
            queued: false,
        }
    }

    /// The alert is gone (ended early to make room): nothing may wait for it.
    pub fn invalidate(&mut self) {
        self.until_ns = 0;
    }

    /// The pending contributions, leaving none.
    pub fn take(&mut self) -> Pending {
        std::mem::take(&mut self.pending)
    }
}

/// The actor's entry for `category`, made for the alert `raised` when it has none.
pub fn entry<'a>(hot: &'a mut Vec<Hot>, category: Category, raised: &Raised) -> &'a mut Hot {
    match hot.iter().position(|h| h.category == category) {
        Some(i) => &mut hot[i],
        None => {
            hot.push(Hot::new(category, raised));
            let last = hot.len() - 1;
            &mut hot[last]
        }
    }
}

/// The actor's entry for `category`, if it has one.
pub fn find(hot: &mut [Hot], category: Category) -> Option<&mut Hot> {
    hot.iter_mut().find(|h| h.category == category)
}
