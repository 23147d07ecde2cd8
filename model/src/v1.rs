//! HNS v1 documents (hns-schema.md §5) and their conversion to v2 (§5.8). Owned by the schema work.
