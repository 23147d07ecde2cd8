//! What the cluster's watchers are told: after each apply or delete, which Services' state (the
//! Service itself or one of its EndpointSlices) changed. kube-proxy's informers feed its change
//! trackers the same way, so a sync takes only the Services that changed instead of comparing
//! the whole cluster (docs/reference/kubernetes.md §2.3).
//!
//! Nodes and Pods are not tracked per Service (a pod change can move the EndpointSlices that
//! the control plane derives for any selecting Service): they make the next sync take
//! everything. So does a cursor the log cannot answer: from another cluster value (a clone
//! starts a log of its own), or older than the entries kept (at most [`WatchLog::CAPACITY`]).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

/// One change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Touched {
    /// `namespace/name` of a Service whose Service object or EndpointSlices changed.
    Service(String),
    /// A Node or a Pod changed: every Service may be affected.
    Everything,
}

/// A position in one log.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Since {
    log: u64,
    seq: u64,
}

/// What a watcher has to look at since its cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    Everything,
    /// These Services (`namespace/name`), possibly none.
    Services(BTreeSet<String>),
}

static NEXT_LOG: AtomicU64 = AtomicU64::new(1);

/// Bookkeeping, not state: a clone starts a log of its own, so a cursor into one cluster value
/// is never answered by another.
#[derive(Debug)]
pub struct WatchLog {
    id: u64,
    /// Sequence number of `entries[0]`.
    start: u64,
    entries: Vec<Touched>,
}

impl Default for WatchLog {
    fn default() -> Self {
        WatchLog {
            id: NEXT_LOG.fetch_add(1, Ordering::Relaxed),
            start: 0,
            entries: Vec::new(),
        }
    }
}

impl Clone for WatchLog {
    fn clone(&self) -> Self {
        WatchLog::default()
    }
}

impl WatchLog {
    /// Entries kept; a watcher further behind takes everything.
    pub const CAPACITY: usize = 1 << 14;

    pub fn record(&mut self, t: Touched) {
        if self.entries.len() >= Self::CAPACITY {
            let half = Self::CAPACITY / 2;
            self.entries.drain(..half);
            self.start += half as u64;
        }
        self.entries.push(t);
    }

    pub fn cursor(&self) -> Since {
        Since {
            log: self.id,
            seq: self.start + self.entries.len() as u64,
        }
    }

    /// What changed since `since` (`None`: never watched — everything).
    pub fn since(&self, since: Option<Since>) -> Pending {
        let Some(c) = since else {
            return Pending::Everything;
        };
        let end = self.start + self.entries.len() as u64;
        if c.log != self.id || c.seq < self.start || c.seq > end {
            return Pending::Everything;
        }
        let mut out = BTreeSet::new();
        for t in &self.entries[(c.seq - self.start) as usize..] {
            match t {
                Touched::Service(s) => {
                    out.insert(s.clone());
                }
                Touched::Everything => return Pending::Everything,
            }
        }
        Pending::Services(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watcher_sees_the_services_touched_since_its_cursor() {
        let mut l = WatchLog::default();
        l.record(Touched::Service("default/a".into()));
        let c = l.cursor();
        assert_eq!(l.since(Some(c)), Pending::Services(BTreeSet::new()));
        l.record(Touched::Service("default/b".into()));
        l.record(Touched::Service("default/b".into()));
        assert_eq!(
            l.since(Some(c)),
            Pending::Services(["default/b".to_string()].into())
        );
        l.record(Touched::Everything);
        assert_eq!(l.since(Some(c)), Pending::Everything);
        assert_eq!(l.since(None), Pending::Everything);
        // A clone's cursor is not answered by the original (and vice versa).
        let other = l.clone();
        assert_eq!(l.since(Some(other.cursor())), Pending::Everything);
    }

    #[test]
    fn a_watcher_older_than_the_kept_entries_takes_everything() {
        let mut l = WatchLog::default();
        let c = l.cursor();
        for i in 0..=WatchLog::CAPACITY {
            l.record(Touched::Service(format!("default/s{i}")));
        }
        assert_eq!(l.since(Some(c)), Pending::Everything);
        assert!(matches!(l.since(Some(l.cursor())), Pending::Services(s) if s.is_empty()));
    }
}
