//! world (owned by the dataplane work).
