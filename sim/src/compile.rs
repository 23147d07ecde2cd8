//! compile (owned by the dataplane work).
