//! The change journal: which objects each change of the state touched, so that a consumer (the
//! dataplane compiler) can bring its view up to date in time proportional to the changes instead
//! of comparing every object.
//!
//! Every mutation helper of the state machine (`put_*` / `take_*` in `index.rs`, and the few
//! in-place edits of attach, detach and HCS) records what it touched. An endpoint's *placement*
//! (its namespace, compartment, container and whether that runs) depends on namespaces and
//! compute systems too, so changes to those also record the endpoints they place.
//!
//! A consumer keeps a [`Cursor`] and asks [`Hns::changes_since`]. The answer is `None` whenever
//! the journal cannot vouch for completeness, and the consumer must then compare everything:
//! the cursor belongs to another state (a clone, or another host), the journal was trimmed past
//! it (it keeps at most [`Journal::CAPACITY`] entries, so memory stays bounded), or
//! `Hns::generation` moved without a journalled change (code that edits the public maps
//! directly bumps the generation by hand).

use super::Hns;
use crate::ids::Guid;
use std::sync::atomic::{AtomicU64, Ordering};

/// What an entry names.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    Network(Guid),
    /// The endpoint's document, or its placement (namespace, compartment, container state).
    Endpoint(Guid),
    LoadBalancer(Guid),
    Namespace(Guid),
    Route(Guid),
}

/// A position in one state's journal.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    journal: u64,
    seq: u64,
}

/// Identifies a journal (process-wide counter; never reaches output).
static NEXT_JOURNAL: AtomicU64 = AtomicU64::new(1);

fn fresh_id() -> u64 {
    NEXT_JOURNAL.fetch_add(1, Ordering::Relaxed)
}

/// Bookkeeping, not state: two states with the same objects are equal whatever their journals
/// hold, and a clone starts a journal of its own (its consumers compare everything once).
#[derive(Debug)]
pub(crate) struct Journal {
    id: u64,
    /// Sequence number of `entries[0]`.
    start: u64,
    entries: Vec<Change>,
    /// `Hns::generation` as of the last journalled change.
    generation: u64,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            id: fresh_id(),
            start: 0,
            entries: Vec::new(),
            generation: 0,
        }
    }
}

impl Clone for Journal {
    fn clone(&self) -> Self {
        Journal {
            id: fresh_id(),
            start: self.start,
            entries: self.entries.clone(),
            generation: self.generation,
        }
    }
}

impl PartialEq for Journal {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Journal {
    /// Entries kept; older ones are dropped (a consumer that far behind compares everything).
    pub const CAPACITY: usize = 1 << 16;

    pub(crate) fn record(&mut self, c: Change) {
        if self.entries.len() >= Self::CAPACITY {
            let half = Self::CAPACITY / 2;
            self.entries.drain(..half);
            self.start += half as u64;
        }
        self.entries.push(c);
    }

    fn end(&self) -> u64 {
        self.start + self.entries.len() as u64
    }
}

impl Hns {
    /// Where the journal is now: pass it to [`Hns::changes_since`] later.
    pub fn journal_cursor(&self) -> Cursor {
        Cursor {
            journal: self.journal.id,
            seq: self.journal.end(),
        }
    }

    /// Every change since `cursor`, in order (an object may repeat), or `None` when the journal
    /// cannot say (see the module docs): compare everything then.
    pub fn changes_since(&self, cursor: Cursor) -> Option<&[Change]> {
        let j = &self.journal;
        if cursor.journal != j.id
            || cursor.seq < j.start
            || cursor.seq > j.end()
            || self.generation != j.generation
        {
            return None;
        }
        Some(&j.entries[(cursor.seq - j.start) as usize..])
    }

    pub(crate) fn record(&mut self, c: Change) {
        self.journal.record(c);
    }

    /// Record that the endpoints placed in namespace `ns` may have moved (a namespace or a
    /// compute system using it changed).
    pub(crate) fn record_placement(&mut self, ns: &Guid) {
        self.record(Change::Namespace(*ns));
        for ep in self.namespace_endpoints(ns) {
            self.record(Change::Endpoint(ep));
        }
    }

    /// Called by `bump` before the generation moves: if it moved by other means since the
    /// last journalled change (the public maps were edited directly), start a new journal, so
    /// that no cursor into the old one is ever answered with a list that misses those edits.
    pub(crate) fn journal_check(&mut self) {
        if self.journal.generation != self.generation {
            self.journal_restart();
        }
    }

    /// Called by `bump` after the generation moved: the journal is complete up to it.
    pub(crate) fn journal_caught_up(&mut self) {
        self.journal.generation = self.generation;
    }

    /// Void every cursor (after direct edits of the maps).
    pub(crate) fn journal_restart(&mut self) {
        self.journal = Journal {
            generation: self.generation,
            ..Journal::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past `CAPACITY` entries the older half goes: a cursor into it gets `None`, a cursor
    /// after it still gets exactly its changes.
    #[test]
    fn a_full_journal_drops_its_older_half() {
        let mut h = Hns::new(Default::default(), 1);
        let old = h.journal_cursor();
        let g = |i: usize| Change::Network(Guid(i as u128 + 1));
        for i in 0..Journal::CAPACITY {
            h.record(g(i));
        }
        let late = h.journal_cursor();
        h.record(g(Journal::CAPACITY));
        assert_eq!(h.journal.start, (Journal::CAPACITY / 2) as u64);
        assert_eq!(h.journal.entries.len(), Journal::CAPACITY / 2 + 1);
        assert_eq!(h.changes_since(old), None);
        assert_eq!(h.changes_since(late), Some(&[g(Journal::CAPACITY)][..]));
    }
}
