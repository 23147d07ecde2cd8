//! The state machine's side of the change journal ([`crate::journal`]): which objects each
//! change of the state touched, so that a consumer (the dataplane compiler) can bring its view up
//! to date in time proportional to the changes instead of comparing every object.
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
use crate::journal::Journal;
pub use crate::journal::{Change, Cursor};

impl Hns {
    /// Where the journal is now: pass it to [`Hns::changes_since`] later.
    pub fn journal_cursor(&self) -> Cursor {
        self.journal.cursor()
    }

    /// Every change since `cursor`, in order (an object may repeat), or `None` when the journal
    /// cannot say (see the module docs): compare everything then.
    pub fn changes_since(&self, cursor: Cursor) -> Option<&[Change]> {
        self.journal.since(cursor, self.generation)
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
            // The maps were edited directly: the kept reprs may describe older documents.
            self.index.set_reprs_stale();
            self.journal_restart();
        }
    }

    /// No direct edit of the maps (a generation moved by hand) since the last operation.
    pub(crate) fn journal_in_step(&self) -> bool {
        self.journal.generation == self.generation
    }

    /// Called by `bump` after the generation moved: the journal is complete up to it.
    pub(crate) fn journal_caught_up(&mut self) {
        self.journal.generation = self.generation;
    }

    /// Void every cursor (after direct edits of the maps).
    pub(crate) fn journal_restart(&mut self) {
        self.journal = Journal::restarted(self.generation);
    }
}
