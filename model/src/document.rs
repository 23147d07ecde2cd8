//! Decoding any HNS document (v2, v1, v1 reply wrapper) into normalised v2 types, with JSON-path errors; encoding HNS-style output. Owned by the schema work.
