//! Real packet bytes (owned by the wire work).
