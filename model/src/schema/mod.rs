//! HCN v2 documents (hns-schema.md §2–§4) as serde types with HCN's exact JSON names.
//!
//! Addresses and prefixes are kept as the strings HNS carries (an empty `SourceVIP` is legal and
//! must round-trip); the state machine parses and validates them. Every object keeps unknown keys
//! in `extra`, so a document read and written back loses nothing.
//!
//! Output is `serde::Serialize` (canonical HCN spelling, hcsshim's `omitempty` rules). Input goes
//! through `read.rs`: keys in any case, numbers or strings for enums, v1 spellings of policies,
//! JSON-path errors ([`DocError`]). `serde_json::from_*::<Subnet>()` uses the same reader.
//!
//! This module knows the v2 shapes only. Above it, `crate::v1` reads the v1 object shapes into
//! these types, and `crate::document` decides which shape a document has: kind detection, the v1
//! reply wrapper, the `Deserialize` of `Network`, `Endpoint` and `Namespace` (either shape), and
//! HNS's output quirks (NAT `Type` omitted).

mod common;
mod empty;
mod endpoint;
mod loadbalancer;
mod namespace;
mod network;
mod policy;
mod query;
mod route;

pub use common::*;
pub use endpoint::*;
pub use loadbalancer::*;
pub use namespace::*;
pub use network::*;
pub use policy::*;
pub use query::*;
pub use route::*;

pub(crate) mod read;
pub use read::{canon_guid, canon_mac, collect_unknown_keys, DocError, LeftoverKey};
