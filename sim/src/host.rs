//! host (owned by the dataplane work).
