//! Backends for HnsBackend: exec (line protocol to a child), record, replay. Owned by the adapter work.
