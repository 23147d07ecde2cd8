//! HCN v2 documents (hns-schema.md §2–§4) as serde types with HCN's exact JSON names.
//!
//! Addresses and prefixes are kept as the strings HNS carries (an empty `SourceVIP` is legal and
//! must round-trip); the state machine parses and validates them. Every object keeps unknown keys
//! in `extra`, so a document read and written back loses nothing.

mod common;
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
pub use read::{canon_guid, canon_mac};
