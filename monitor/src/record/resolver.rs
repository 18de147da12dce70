//! /proc answers in recordings: the live run logs every answer its resolver gives, and replay
//! gives the same answers to the same questions in the same order, long after the processes
//! are gone.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use super::format::Record;
use crate::{
    capture::Endpoints,
    conn::{Role, proc::Resolve},
};

/// Answers logged by a [`RecordingResolver`], shared with the run loop that writes them.
///
/// Unbounded by itself: the run loop drains it after every kernel record, and one kernel
/// record asks at most a couple of questions.
#[derive(Debug, Clone, Default)]
pub struct AnswerLog(Arc<Mutex<Vec<Record>>>);

impl AnswerLog {
    /// Takes the answers logged since the last call, oldest first.
    pub fn drain(&self) -> Vec<Record> {
        std::mem::take(&mut *lock(&self.0))
    }

    fn push(&self, record: Record) {
        lock(&self.0).push(record);
    }
}

/// A panic while holding the lock leaves a plain list of answers, still valid to use.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Asks the real resolver and logs each answer as a [`Record::Resolved`] or
/// [`Record::RoleAnswer`]. Write them before the kernel record whose ingestion asked them, so
/// replay knows an answer before the question comes.
pub struct RecordingResolver<R: Resolve> {
    inner: R,
    log: AnswerLog,
}

impl<R: Resolve> RecordingResolver<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            log: AnswerLog::default(),
        }
    }

    /// A handle on the answers, kept by the run loop once the resolver is boxed away.
    pub fn log(&self) -> AnswerLog {
        self.log.clone()
    }
}

impl<R: Resolve> Resolve for RecordingResolver<R> {
    fn resolve(&mut self, pid: u32, fd: i32) -> Option<(Endpoints, Role)> {
        let answer = self.inner.resolve(pid, fd);
        self.log.push(Record::Resolved { pid, fd, answer });
        answer
    }

    fn role(&mut self, pid: u32, local: SocketAddr) -> Role {
        let role = self.inner.role(pid, local);
        self.log.push(Record::RoleAnswer { pid, local, role });
        role
    }
}

/// More answers than this waiting for their question means the recording and the replay
/// disagree; later answers are dropped (and counted) rather than growing without bound.
const MAX_PENDING: usize = 65_536;

/// What `Resolve::resolve` answered.
type Resolution = Option<(Endpoints, Role)>;

#[derive(Debug, Default)]
struct Answers {
    resolved: HashMap<(u32, i32), VecDeque<Resolution>>,
    roles: HashMap<(u32, SocketAddr), VecDeque<Role>>,
    pending: usize,
    dropped: u64,
    unanswered: u64,
}

/// Answers from a recording. Cloned handles share the answers: the replay loop keeps one to
/// [`learn`](Self::learn) from, the connection table owns the other. A question asked twice
/// gets the answers recorded for it in order; a question never recorded gets `None` /
/// `Role::Unknown`, like a process that is gone.
#[derive(Debug, Clone, Default)]
pub struct ReplayResolver(Arc<Mutex<Answers>>);

impl ReplayResolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in an answer record; other records are ignored.
    pub fn learn(&self, record: &Record) {
        let mut a = lock(&self.0);
        if a.pending >= MAX_PENDING {
            if matches!(record, Record::Resolved { .. } | Record::RoleAnswer { .. }) {
                a.dropped += 1;
            }
            return;
        }
        match record {
            Record::Resolved { pid, fd, answer } => a
                .resolved
                .entry((*pid, *fd))
                .or_default()
                .push_back(*answer),
            Record::RoleAnswer { pid, local, role } => {
                a.roles.entry((*pid, *local)).or_default().push_back(*role)
            }
            Record::Kernel { .. } | Record::Tick { .. } | Record::End { .. } => return,
        }
        a.pending += 1;
    }

    /// Answers dropped because too many were waiting.
    pub fn dropped(&self) -> u64 {
        lock(&self.0).dropped
    }

    /// Questions asked that the recording had no answer for.
    pub fn unanswered(&self) -> u64 {
        lock(&self.0).unanswered
    }
}

/// Pops the oldest answer for `key`, dropping the key once it has none left.
fn pop<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, VecDeque<V>>, key: K) -> Option<V> {
    let queue = map.get_mut(&key)?;
    let v = queue.pop_front();
    if queue.is_empty() {
        map.remove(&key);
    }
    v
}

impl Resolve for ReplayResolver {
    fn resolve(&mut self, pid: u32, fd: i32) -> Option<(Endpoints, Role)> {
        let mut a = lock(&self.0);
        match pop(&mut a.resolved, (pid, fd)) {
            Some(answer) => {
                a.pending -= 1;
                answer
            }
            None => {
                a.unanswered += 1;
                None
            }
        }
    }

    fn role(&mut self, pid: u32, local: SocketAddr) -> Role {
        let mut a = lock(&self.0);
        match pop(&mut a.roles, (pid, local)) {
            Some(role) => {
                a.pending -= 1;
                role
            }
            None => {
                a.unanswered += 1;
                Role::Unknown
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers scripted per question, in order.
    struct Scripted {
        resolved: Vec<Option<(Endpoints, Role)>>,
        roles: Vec<Role>,
    }

    impl Resolve for Scripted {
        fn resolve(&mut self, _pid: u32, _fd: i32) -> Option<(Endpoints, Role)> {
            self.resolved.remove(0)
        }

        fn role(&mut self, _pid: u32, _local: SocketAddr) -> Role {
            self.roles.remove(0)
        }
    }

    fn ep(local: &str, remote: &str) -> Endpoints {
        Endpoints {
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
        }
    }

    #[test]
    fn replay_gives_the_recorded_answers_to_the_same_questions() {
        let a = ep("127.0.0.1:8000", "127.0.0.1:40000");
        let b = ep("[::1]:443", "[::1]:50000");
        let local: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        let mut live = RecordingResolver::new(Scripted {
            resolved: vec![Some((a, Role::Server)), None, Some((b, Role::Client))],
            roles: vec![Role::Server, Role::Client],
        });
        let log = live.log();

        let asked = [live.resolve(1, 3), live.resolve(1, 4), live.resolve(1, 3)];
        let roles = [live.role(1, local), live.role(2, local)];
        let records = log.drain();
        assert_eq!(records.len(), 5);
        assert!(log.drain().is_empty());

        let replay = ReplayResolver::new();
        for r in &records {
            replay.learn(r);
        }
        replay.learn(&Record::Tick { now_ns: 1 });
        let mut table_side = replay.clone();
        assert_eq!(table_side.resolve(1, 3), asked[0]);
        assert_eq!(table_side.resolve(1, 4), asked[1]);
        assert_eq!(table_side.resolve(1, 3), asked[2]);
        assert_eq!(table_side.role(2, local), roles[1]);
        assert_eq!(table_side.role(1, local), roles[0]);
        assert_eq!(replay.unanswered(), 0);
        // Never recorded: answered like a process that is gone.
        assert_eq!(table_side.resolve(1, 3), None);
        assert_eq!(table_side.role(9, local), Role::Unknown);
        assert_eq!(replay.unanswered(), 2);
        assert_eq!(replay.dropped(), 0);
    }

    #[test]
    fn both_fit_the_connection_tables_box() {
        let _: Box<dyn Resolve + Send> = Box::new(RecordingResolver::new(
            crate::conn::proc::ProcResolver::new(),
        ));
        let _: Box<dyn Resolve + Send> = Box::new(ReplayResolver::new());
    }

    #[test]
    fn pending_answers_are_bounded() {
        let replay = ReplayResolver::new();
        for fd in 0..(MAX_PENDING as i32 + 10) {
            replay.learn(&Record::Resolved {
                pid: 1,
                fd,
                answer: None,
            });
        }
        assert_eq!(replay.dropped(), 10);
    }
}
