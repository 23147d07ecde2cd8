//! The change journal: which objects each change of a host's state touched, so that a consumer
//! (the dataplane compiler, a caching kube-proxy) can bring its view up to date in time
//! proportional to the changes instead of comparing every object.
//!
//! A leaf of the crate: the vocabulary ([`Change`], [`Cursor`]) that the state machine records
//! in and that the `HnsBackend` trait hands out, with no knowledge of either. `state/journal.rs`
//! says what the state machine records and when the journal cannot vouch for completeness.

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
    /// The owner's generation as of the last journalled change.
    pub(crate) generation: u64,
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

    /// A new journal (voiding every cursor into the old one), complete up to `generation`.
    pub(crate) fn restarted(generation: u64) -> Journal {
        Journal {
            generation,
            ..Journal::default()
        }
    }

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

    /// Where the journal is now.
    pub(crate) fn cursor(&self) -> Cursor {
        Cursor {
            journal: self.id,
            seq: self.end(),
        }
    }

    /// Every change since `cursor`, or `None` when the cursor belongs to another journal, was
    /// trimmed past, or the owner is at `generation` which the journal has not caught up to.
    pub(crate) fn since(&self, cursor: Cursor, generation: u64) -> Option<&[Change]> {
        if cursor.journal != self.id
            || cursor.seq < self.start
            || cursor.seq > self.end()
            || generation != self.generation
        {
            return None;
        }
        Some(&self.entries[(cursor.seq - self.start) as usize..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past `CAPACITY` entries the older half goes: a cursor into it gets `None`, a cursor
    /// after it still gets exactly its changes.
    #[test]
    fn a_full_journal_drops_its_older_half() {
        let mut j = Journal::default();
        let old = j.cursor();
        let g = |i: usize| Change::Network(Guid(i as u128 + 1));
        for i in 0..Journal::CAPACITY {
            j.record(g(i));
        }
        let late = j.cursor();
        j.record(g(Journal::CAPACITY));
        assert_eq!(j.start, (Journal::CAPACITY / 2) as u64);
        assert_eq!(j.entries.len(), Journal::CAPACITY / 2 + 1);
        assert_eq!(j.since(old, 0), None);
        assert_eq!(j.since(late, 0), Some(&[g(Journal::CAPACITY)][..]));
    }
}
