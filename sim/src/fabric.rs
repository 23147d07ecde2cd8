//! fabric (owned by the dataplane work).
