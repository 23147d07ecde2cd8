//! The per-host HNS state machine (hns-schema.md §4, §6).
//!
//! Objects are stored as normalised v2 documents (IDs assigned, addresses and MACs allocated),
//! in `BTreeMap`s so that every iteration order is stable. The dataplane compiles these maps.
//!
//! Every operation validates completely before it changes anything, so a failed call leaves the
//! state (including the RNG) exactly as it was.
//!
//! API: [`Hns::new`]; JSON in / JSON out through `impl HnsBackend for Hns` (the HCN calls); typed
//! calls `network_create`, `endpoint_create`, `namespace_create`, `load_balancer_create`,
//! `route_create`, `network_modify`, `endpoint_modify`, `namespace_modify`,
//! `load_balancer_update`, `namespace_attach` / `namespace_detach`, `delete_object`,
//! `open_object`, `query_object`, `enumerate_ids`; `restart_service` / `reboot`; HCS containers
//! in [`hcs`]; the typed values the dataplane compiles from (`endpoint_repr`, `network_repr`,
//! `load_balancer_repr`); the dataplane's read helpers (`endpoint_ips`, `endpoint_mac`, `network_of`,
//! `endpoint_location`, …) below. Inferred HNS behaviour is a [`HostSettings`] field; the error
//! codes chosen where HNS's are undocumented are listed in `validate.rs`.
//!
//! Modules: `ops` (create/open/query/enumerate), `modify`, `delete` (and restart), `validate`,
//! `ipam`, `filter` (query filters), `features` (version gates), `hcs`, `backend_impl`, `index`
//! (the secondary indexes that keep every create/modify/delete free of whole-state scans), and
//! `workload` (the kube-proxy programming workload the benches use).
//!
//! The object maps are public for reading. Change them only through the operations: the
//! secondary indexes follow every change the state machine makes ([`Hns::verify_indexes`]);
//! code that edits the maps directly must call [`Hns::rebuild_indexes`] afterwards.

mod backend_impl;
mod delete;
pub mod features;
mod filter;
pub mod hcs;
mod import;
mod index;
mod ipam;
pub mod journal;
pub mod lint;
mod modify;
mod ops;
mod validate;
pub mod workload;

pub use features::Feature;
pub use hcs::{ComputeSystem, ContainerState, EndpointLocation, Isolation};
pub use import::{ImportProblem, ImportReport};
pub use journal::{Change, Cursor};

use crate::hresult::{HResult, HcnError};
use crate::ids::{Guid, Mac};
use crate::repr::{EndpointRepr, LoadBalancerRepr, NetworkRepr};
use crate::schema::{Endpoint, LoadBalancer, Namespace, Network, SdnRoute, Version};
use ipnet::IpNet;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// HRESULT_FROM_WIN32(ERROR_OBJECT_ALREADY_EXISTS = 5010). Real HNS answers endpoint creates with
/// "The object already exists. (0x1392)" (microsoft/SDN#298); the model returns it for an address
/// already held by a local endpoint of the network and for a caller-chosen ID already taken
/// (which conflict HNS reports there is inferred).
pub const ERROR_OBJECT_ALREADY_EXISTS: HResult = HResult(0x8007_1392);
/// HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS = 259): the subnet has no free address (inferred).
pub const ERROR_NO_MORE_ITEMS: HResult = HResult(0x8007_0103);

/// What HNS does when an object that is still referenced is deleted. Real HNS behaviour here is
/// not documented (hns-schema.md §6.7); every use is a setting.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OnReferenced {
    /// Fail with HCN_E_ENTITY_HAS_REFERENCES and change nothing.
    Refuse,
    /// Succeed and remove the references (cascade / detach / prune).
    Release,
}

/// Host settings, including the choices made where HNS behaviour is not documented (inferred).
#[derive(Clone, Debug, PartialEq)]
pub struct HostSettings {
    /// The HNS service version; gates features (hns-schema.md §4.6). Default 15.4.
    pub hns_version: Version,
    /// Inferred. Deleting a network that still has endpoints: `Release` deletes them with it.
    pub network_with_endpoints: OnReferenced,
    /// Inferred. Deleting an endpoint attached to a namespace: `Release` detaches it first.
    pub endpoint_in_namespace: OnReferenced,
    /// Inferred. Deleting an endpoint that a load balancer or SDN route lists: `Release` removes
    /// it from those lists (kube-proxy deletes stale remote endpoints that LBs still name, P12).
    pub endpoint_in_policy_list: OnReferenced,
    /// Inferred. Deleting a namespace that still holds endpoints or containers: `Release`
    /// detaches them.
    pub namespace_with_resources: OnReferenced,
    /// NAT networks are not persisted on WS2019+ (consumers.md P11). `false` = dropped on
    /// service restart / reboot like `EnableNonPersistent` networks.
    pub nat_networks_persist: bool,
    /// Inferred. Namespaces (compartments) survive an HNS service restart; none survive a reboot.
    pub namespaces_survive_restart: bool,
    /// Inferred. An explicit endpoint address equal to its subnet's network address, broadcast
    /// address or (without SubnetFlags 1) gateway is refused (HCN_E_ADDR_INVALID_OR_RESERVED).
    pub reject_reserved_addresses: bool,
    /// Inferred (kube-proxy logs show `HcnCreateLoadBalancer … The specified port already
    /// exists`, and kube-proxy reuses a matching LB rather than creating a second one). A load
    /// balancer whose (protocol, frontend VIP, external port) repeats another LB's fails with
    /// HCN_E_PORT_ALREADY_EXISTS; an LB with no FrontendVIPs clashes only with another such LB.
    pub unique_lb_frontends: bool,
    /// Real hosts list a default namespace (`IsDefault: True`, `CompartmentId: 1`) in
    /// `Get-HnsNamespace` (projectcalico/calico#8465). When set, the host starts (and comes back
    /// from a reboot) with a `HostDefault` namespace for compartment 1. Off by default so that
    /// enumerations start empty like hcsshim's tests expect.
    pub host_default_namespace: bool,
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            hns_version: Version::new(15, 4),
            network_with_endpoints: OnReferenced::Release,
            endpoint_in_namespace: OnReferenced::Release,
            endpoint_in_policy_list: OnReferenced::Release,
            namespace_with_resources: OnReferenced::Release,
            nat_networks_persist: false,
            namespaces_survive_restart: true,
            reject_reserved_addresses: true,
            unique_lb_frontends: true,
            host_default_namespace: false,
        }
    }
}

/// A VM NIC port added to an endpoint with an endpoint `Port` modify (hns-schema.md §4.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmPort {
    pub port_id: Guid,
    pub virtual_nic_name: String,
    pub virtual_machine_id: Guid,
}

/// One host's HNS (and HCS) state.
#[derive(Clone, Debug, PartialEq)]
pub struct Hns {
    pub settings: HostSettings,
    pub networks: BTreeMap<Guid, Network>,
    pub endpoints: BTreeMap<Guid, Endpoint>,
    pub namespaces: BTreeMap<Guid, Namespace>,
    pub load_balancers: BTreeMap<Guid, LoadBalancer>,
    pub routes: BTreeMap<Guid, SdnRoute>,
    /// VM NIC ports by endpoint (endpoint modify `Port`/`Add`).
    pub vm_ports: BTreeMap<Guid, VmPort>,
    /// HCS compute systems (containers) by ID.
    pub compute_systems: BTreeMap<String, ComputeSystem>,
    /// Bumped on every successful change; the dataplane recompiles when it moves.
    pub generation: u64,
    /// Secondary indexes over the maps above (derived data; see `index.rs`).
    index: index::Index,
    /// What each change touched (see `journal.rs`).
    journal: crate::journal::Journal,
    rng: ChaCha8Rng,
    next_compartment: u32,
    mac_base: u64,
    next_mac: u64,
}

/// The compartment number of the host's default compartment.
pub const HOST_DEFAULT_COMPARTMENT: u32 = 1;

pub(crate) fn err(code: HResult, msg: impl Into<String>) -> HcnError {
    HcnError::new(code, msg)
}

impl Hns {
    pub fn new(settings: HostSettings, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Hyper-V hands out MACs from a per-host range 00-15-5D-XX-YY-00..; pick XX-YY per host.
        let host_bits: u16 = rng.random();
        let mac_base = 0x0015_5D00_0000u64 | ((host_bits as u64) << 8);
        let mut h = Hns {
            settings,
            networks: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            load_balancers: BTreeMap::new(),
            routes: BTreeMap::new(),
            vm_ports: BTreeMap::new(),
            compute_systems: BTreeMap::new(),
            generation: 0,
            index: index::Index::default(),
            journal: crate::journal::Journal::default(),
            rng,
            next_compartment: HOST_DEFAULT_COMPARTMENT + 1,
            mac_base,
            next_mac: 0,
        };
        h.ensure_host_default();
        h
    }

    /// Create the host's default namespace if the settings ask for one and none exists.
    fn ensure_host_default(&mut self) {
        if self.settings.host_default_namespace && self.host_default_namespace().is_none() {
            let id = self.new_guid();
            let ns = Namespace {
                id,
                namespace_id: HOST_DEFAULT_COMPARTMENT,
                namespace_type: Some(crate::schema::NamespaceType::HostDefault),
                schema_version: Version::V2,
                ..Default::default()
            };
            self.put_namespace(ns);
        }
    }

    /// The `HostDefault` namespace (compartment 1), if there is one.
    pub fn host_default_namespace(&self) -> Option<Guid> {
        self.index.host_default()
    }

    /// Check the secondary indexes against a rebuild from the object maps; `Err` names the
    /// indexes that disagree. The property tests call it after every operation.
    pub fn verify_indexes(&self) -> Result<(), String> {
        let fresh = index::Index::build(self);
        let d = self.index.diff(&fresh);
        if d.is_empty() {
            Ok(())
        } else {
            Err(format!("indexes out of step with the state: {}", d.join(", ")))
        }
    }

    /// Recompute the secondary indexes from the object maps. Only needed after changing the
    /// public maps directly (a test that plants 10,000 load balancers without the create
    /// path); every operation of the state machine keeps them in step by itself.
    pub fn rebuild_indexes(&mut self) {
        let probes = self.index.probes();
        self.index = index::Index::build(self);
        self.index.add_probes(probes);
        self.journal_restart();
    }

    /// How many index lookups (and index entries visited) the state has made so far. A
    /// statistic for tests and benches: one control-plane operation costs the same number
    /// whatever the size of the state.
    pub fn index_probes(&self) -> u64 {
        self.index.probes()
    }

    /// Whether the configured HNS version supports `f` (hns-schema.md §4.6).
    pub fn supports(&self, f: Feature) -> bool {
        f.supported(self.settings.hns_version)
    }

    /// `GET /globals/version`: `{"Major":15,"Minor":4}`.
    pub fn version(&self) -> Version {
        self.settings.hns_version
    }

    /// A fresh random (version 4 style) GUID, unused by any object.
    fn new_guid(&mut self) -> Guid {
        loop {
            let mut v: u128 = self.rng.random();
            v = (v & !(0xF000u128 << 64)) | (0x4000u128 << 64); // version 4
            v = (v & !(0xC000u128 << 48)) | (0x8000u128 << 48); // RFC 4122 variant
            let g = Guid(v);
            if !self.id_in_use(&g) {
                return g;
            }
        }
    }

    fn id_in_use(&self, g: &Guid) -> bool {
        g.is_zero()
            || self.networks.contains_key(g)
            || self.endpoints.contains_key(g)
            || self.namespaces.contains_key(g)
            || self.load_balancers.contains_key(g)
            || self.routes.contains_key(g)
    }

    fn bump(&mut self) {
        self.journal_check();
        self.generation += 1;
        self.journal_caught_up();
    }

    // ---- the cheap read API for the dataplane -------------------------------------------

    /// The endpoint's addresses, in `IpConfigurations` order (unreadable entries skipped; the
    /// state machine never stores one).
    pub fn endpoint_ips(&self, ep: &Guid) -> impl Iterator<Item = IpAddr> + '_ {
        let ips: Vec<IpAddr> = (self.endpoints.get(ep))
            .map(|e| {
                let r = self.endpoint_values(e);
                r.addresses
                    .iter()
                    .filter_map(|a| a.as_ref().ok().copied())
                    .collect()
            })
            .unwrap_or_default();
        ips.into_iter()
    }

    /// The endpoint's addresses with their prefix lengths (`PrefixLength` 0: a host prefix).
    pub fn endpoint_ip_nets(&self, ep: &Guid) -> impl Iterator<Item = IpNet> + '_ {
        let mut nets = Vec::new();
        if let Some(e) = self.endpoints.get(ep) {
            let r = self.endpoint_values(e);
            for (c, a) in e.ip_configurations.iter().zip(&r.addresses) {
                let Ok(ip) = *a else { continue };
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let len = if c.prefix_length == 0 {
                    max
                } else {
                    c.prefix_length
                };
                nets.extend(IpNet::new(ip, len).ok());
            }
        }
        nets.into_iter()
    }

    /// The typed values of endpoint document `e` (one of this state's): the ones stored with
    /// it, or, after direct edits of the maps ([`Hns::endpoint_repr`] answers `None`), read now
    /// with the same reader, so the answer is the same. What every reader of an endpoint's
    /// values calls (the compile, the doctor, the read helpers below).
    pub fn endpoint_values<'a>(&'a self, e: &'a Endpoint) -> Cow<'a, EndpointRepr> {
        match self.endpoint_repr(&e.id) {
            Some(r) => Cow::Borrowed(r),
            None => Cow::Owned(EndpointRepr::parse(e)),
        }
    }

    /// Load balancer document `l`'s typed values, as [`Hns::endpoint_values`].
    pub fn load_balancer_values<'a>(&'a self, l: &'a LoadBalancer) -> Cow<'a, LoadBalancerRepr> {
        match self.load_balancer_repr(&l.id) {
            Some(r) => Cow::Borrowed(r),
            None => Cow::Owned(LoadBalancerRepr::parse(l)),
        }
    }

    /// Network document `n`'s typed values, as [`Hns::endpoint_values`].
    pub fn network_values<'a>(&'a self, n: &'a Network) -> Cow<'a, NetworkRepr> {
        match self.network_repr(&n.id) {
            Some(r) => Cow::Borrowed(r),
            None => Cow::Owned(NetworkRepr::parse(n)),
        }
    }

    /// The typed values of endpoint `ep` (`crate::repr`), read once when it was stored. `None`
    /// when there is no such endpoint, or when the maps were edited directly since the last
    /// operation or [`Hns::rebuild_indexes`]. Readers call [`Hns::endpoint_values`], which
    /// reads the document then.
    pub fn endpoint_repr(&self, ep: &Guid) -> Option<&crate::repr::EndpointRepr> {
        if self.index.reprs_stale() || !self.journal_in_step() {
            return None;
        }
        self.index.endpoint_repr(ep)
    }

    /// The typed values of load balancer `lb`, read once when it was stored; `None` as for
    /// [`Hns::endpoint_repr`].
    pub fn load_balancer_repr(&self, lb: &Guid) -> Option<&crate::repr::LoadBalancerRepr> {
        if self.index.reprs_stale() || !self.journal_in_step() {
            return None;
        }
        self.index.lb_repr(lb)
    }

    /// The typed values of network `net`, read once when it was stored; `None` as for
    /// [`Hns::endpoint_repr`].
    pub fn network_repr(&self, net: &Guid) -> Option<&crate::repr::NetworkRepr> {
        if self.index.reprs_stale() || !self.journal_in_step() {
            return None;
        }
        self.index.network_repr(net)
    }

    pub fn endpoint_mac(&self, ep: &Guid) -> Option<Mac> {
        self.endpoint_values(self.endpoints.get(ep)?)
            .mac
            .as_ref()
            .ok()
            .copied()
    }

    /// The network an endpoint belongs to.
    pub fn network_of(&self, ep: &Guid) -> Option<Guid> {
        self.endpoint_values(self.endpoints.get(ep)?).network
    }

    /// The namespace an endpoint is attached to.
    pub fn namespace_of(&self, ep: &Guid) -> Option<Guid> {
        index::guid(&self.endpoints.get(ep)?.host_compute_namespace)
    }

    /// The endpoints of a network, in ID order.
    pub fn endpoints_of(&self, net: &Guid) -> impl Iterator<Item = (&Guid, &Endpoint)> + '_ {
        self.index
            .endpoints_of(*net)
            .filter_map(move |e| self.endpoints.get_key_value(&e))
    }

    /// The subnets (`IpAddressPrefix`) of a network, typed (empty and unreadable ones skipped).
    pub fn network_subnets(&self, net: &Guid) -> Vec<IpNet> {
        (self.networks.get(net))
            .map(|n| self.network_values(n))
            .map(|n| {
                n.subnets
                    .iter()
                    .filter_map(|s| *s.prefix.as_ref().ok()?)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The endpoints attached to a namespace, in attach order.
    pub fn namespace_endpoints(&self, ns: &Guid) -> Vec<Guid> {
        self.namespaces
            .get(ns)
            .map(|n| ops::resource_ids(n, "Endpoint").collect())
            .unwrap_or_default()
    }
}
