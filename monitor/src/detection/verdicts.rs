//! Session verdicts: the categories raised in each session and a risk score (0–100) combining
//! them, for the `session` events. Bounded like the session tracker.

use std::num::NonZeroUsize;

use lru::LruCache;

use super::category::Category;
use crate::session::tracker::SessionId;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Verdict {
    /// Highest severity weight × confidence per category (0 when not raised).
    scores: [f32; Category::ALL.len()],
}

impl Verdict {
    /// 100 × (1 − Π(1 − score)): two medium findings weigh more than one.
    pub fn risk(&self) -> u8 {
        let keep: f64 = self
            .scores
            .iter()
            .map(|&s| 1.0 - f64::from(s).clamp(0.0, 1.0))
            .product();
        ((1.0 - keep) * 100.0).round().clamp(0.0, 100.0) as u8
    }

    pub fn categories(&self) -> Vec<Category> {
        Category::ALL
            .into_iter()
            .filter(|c| self.scores[c.index()] > 0.0)
            .collect()
    }
}

pub struct Verdicts {
    sessions: LruCache<SessionId, Verdict>,
    pub evicted: u64,
}

impl std::fmt::Debug for Verdicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verdicts")
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

impl Verdicts {
    pub fn new(max: usize) -> Self {
        Self {
            sessions: LruCache::new(NonZeroUsize::new(max).unwrap_or(NonZeroUsize::MIN)),
            evicted: 0,
        }
    }

    pub fn add(&mut self, session: SessionId, category: Category, score: f64) {
        let score = score.clamp(0.0, 1.0) as f32;
        if let Some(v) = self.sessions.get_mut(&session) {
            let slot = &mut v.scores[category.index()];
            *slot = slot.max(score);
            return;
        }
        let mut v = Verdict::default();
        v.scores[category.index()] = score;
        if self
            .sessions
            .push(session, v)
            .is_some_and(|(k, _)| k != session)
        {
            self.evicted += 1;
        }
    }

    pub fn get(&self, session: &SessionId) -> Option<Verdict> {
        self.sessions.peek(session).copied()
    }

    /// The session ended: its verdict is no longer needed.
    pub fn forget(&mut self, session: &SessionId) {
        self.sessions.pop(session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::actor::ActorId;

    #[test]
    fn risk_combines_categories() {
        let mut v = Verdicts::new(4);
        let s = SessionId {
            actor: ActorId([1; 8]),
            start_ns: 0,
        };
        assert!(v.get(&s).is_none());
        v.add(s, Category::Sqli, 0.5);
        assert_eq!(v.get(&s).unwrap().risk(), 50);
        v.add(s, Category::Sqli, 0.3);
        assert_eq!(
            v.get(&s).unwrap().risk(),
            50,
            "the highest score per category"
        );
        v.add(s, Category::Scanner, 0.5);
        let got = v.get(&s).unwrap();
        assert_eq!(got.risk(), 75);
        assert_eq!(got.categories(), vec![Category::Scanner, Category::Sqli]);
        v.forget(&s);
        assert!(v.get(&s).is_none());
    }
}
