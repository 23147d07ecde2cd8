//! trace (owned by the dataplane work).
