//! engine (owned by the dataplane work).
