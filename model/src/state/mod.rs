//! The per-host HNS state machine (hns-schema.md §4, §6).
//!
//! Objects are stored as normalised v2 documents (IDs assigned, addresses and MACs allocated),
//! in `BTreeMap`s so that every iteration order is stable. The dataplane compiles these maps.

use crate::ids::Guid;
use crate::schema::{Endpoint, LoadBalancer, Namespace, Network, SdnRoute, Version};
use std::collections::BTreeMap;

/// Host settings, including the choices made where HNS behaviour is not documented (inferred).
#[derive(Clone, Debug, PartialEq)]
pub struct HostSettings {
    /// The HNS service version; gates features (hns-schema.md §4.6). Default 15.4.
    pub hns_version: Version,
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            hns_version: Version::new(15, 4),
        }
    }
}

/// One host's HNS (and HCS) state.
#[derive(Clone, Debug)]
pub struct Hns {
    pub settings: HostSettings,
    pub networks: BTreeMap<Guid, Network>,
    pub endpoints: BTreeMap<Guid, Endpoint>,
    pub namespaces: BTreeMap<Guid, Namespace>,
    pub load_balancers: BTreeMap<Guid, LoadBalancer>,
    pub routes: BTreeMap<Guid, SdnRoute>,
    /// Bumped on every successful change; the dataplane recompiles when it moves.
    pub generation: u64,
}
