//! The conformance suite, written once against HnsBackend. Owned by the adapter work.
