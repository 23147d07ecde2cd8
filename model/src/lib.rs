//! hnsim-model: the control plane of one Windows host as HNS (the Host Networking Service) and
//! HCS (the Host Compute Service) keep it — no packets.
//!
//! * [`schema`]: HCN v2 documents with HCN's exact JSON names, tolerant of what real callers send;
//!   the reader's [`schema::DocError`].
//! * [`v1`]: the HNS v1 document shapes (HNSNetwork, HNSEndpoint, PolicyList, …) and their v2 mapping.
//! * [`document`]: decoding any HNS document (v2, v1, the v1 reply) into normalised v2.
//! * [`journal`]: the change journal's vocabulary (`Change`, `Cursor`).
//! * [`repr`]: the typed values of stored endpoints, networks and load balancers (addresses,
//!   MACs, prefixes, policies), parsed once; validation checks them, the state keeps them
//!   beside the documents, the dataplane compiles from them.
//! * [`state`]: the per-host HNS state machine (create/open/modify/query/enumerate/delete), IPAM,
//!   MAC pools, HCS compute systems, feature gates by HNS version, the change journal it keeps.
//! * [`backend`]: the `HnsBackend` adapter trait — one method per HCN call, JSON in and JSON out;
//!   [`adapter`]: the other backends (`exec:CMD`, `serve`, `record` / `replay:FILE`).
//! * [`conform`]: the conformance suite, written once against `HnsBackend`.
//! * [`hresult`], [`ids`]: HNS's error codes; GUIDs and MACs as HNS writes them.
//! * [`hint`]: "did you mean" suggestions for misspelt names.
//! * [`dump`]: reading a live node's dumps (restored exactly by `state::import`); [`doctor`]:
//!   named checks over a host's HNS state.
//! * [`text`]: reading input files (UTF-8 with or without BOM, UTF-16 with BOM, size-capped).
//!
//! The modules depend one way (tests/module_graph.rs keeps it so): `ids`, `hresult`, `text`,
//! `hint`, `journal` at the bottom; `schema` → `v1` → `document` above them, `schema` → `repr`; `backend` (the
//! trait), then `state` (→ `repr`) (which implements it), `adapter`, `conform`, `dump` and `doctor` on top.
//!
//! The layers and rules: docs/ARCHITECTURE.md; the facts cited as `hns-schema.md §…`:
//! docs/reference/.

pub mod adapter;
pub mod backend;
pub mod conform;
pub mod doctor;
pub mod document;
pub mod dump;
pub mod hint;
pub mod hresult;
pub mod ids;
pub mod journal;
pub mod repr;
pub mod schema;
pub mod state;
pub mod text;
pub mod v1;

pub use backend::HnsBackend;
pub use hresult::{HResult, HcnError};
pub use ids::{Guid, Mac};
