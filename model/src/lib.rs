//! hnsim-model: the control plane of one Windows host as HNS (the Host Networking Service) and
//! HCS (the Host Compute Service) keep it — no packets.
//!
//! * [`schema`]: HCN v2 documents with HCN's exact JSON names, tolerant of what real callers send.
//! * [`v1`]: the HNS v1 document shapes (HNSNetwork, HNSEndpoint, PolicyList, …) and their v2 mapping.
//! * [`state`]: the per-host HNS state machine (create/open/modify/query/enumerate/delete), IPAM,
//!   MAC pools, HCS compute systems, feature gates by HNS version.
//! * [`backend`]: the `HnsBackend` adapter trait — one method per HCN call, JSON in and JSON out.
//! * [`hresult`]: HNS's error codes.

pub mod adapter;
pub mod backend;
pub mod conform;
pub mod doctor;
pub mod document;
pub mod dump;
pub mod hresult;
pub mod ids;
pub mod schema;
pub mod state;
pub mod v1;

pub use backend::HnsBackend;
pub use hresult::{HResult, HcnError};
pub use ids::{Guid, Mac};
