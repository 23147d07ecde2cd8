//! Secondary indexes over the state, so that no create / modify / delete scans every object
//! (issue 6: 10,000 load balancers × 10 backends programmed in under 2 s).
//!
//! Every index is derived data: [`Index::build`] computes it from the object maps, and every
//! mutation of those maps inside the state machine goes through the `Hns::put_*` / `take_*`
//! helpers below, which keep it in step. `Hns::verify_indexes` compares the live index with a
//! rebuild (the property tests call it after every operation). The maps are ordered (`BTreeMap`
//! / `BTreeSet`), so the index is compared, cloned and iterated deterministically; iteration
//! never reaches output except as IDs in ID order.
//!
//! The index also keeps every endpoint's, network's and load balancer's typed values
//! (`crate::repr`), read once when the object is stored (by validation, or by `put_*` for an
//! import); the other entries of an object are taken from them.
//!
//! `probes` counts index lookups and the entries they visit: a control-plane operation must cost
//! the same number at 10 and at 10,000 objects (`tests/state_scaling.rs`).

use super::{Change, ComputeSystem, Hns};
use crate::ids::{Guid, Mac};
use crate::repr::{EndpointRepr, LoadBalancerRepr, NetworkRepr};
use crate::schema::{Endpoint, EndpointPolicy, LoadBalancer, Namespace, NamespaceType, Network, SdnRoute};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};

/// A set of `u128` values per key, stored as maximal runs `[start, end]`, so that "the lowest
/// value ≥ x not in the set" is one lookup (IPAM and MAC pool allocation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunSet<K: Ord + Copy> {
    runs: BTreeMap<(K, u128), u128>,
}

impl<K: Ord + Copy> Default for RunSet<K> {
    fn default() -> Self {
        RunSet {
            runs: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Copy> RunSet<K> {
    /// The run holding `x`, as (start, end).
    fn run_at(&self, k: K, x: u128) -> Option<(u128, u128)> {
        let (&(rk, s), &e) = self.runs.range(..=(k, x)).next_back()?;
        (rk == k && x <= e).then_some((s, e))
    }

    pub fn contains(&self, k: K, x: u128) -> bool {
        self.run_at(k, x).is_some()
    }

    pub fn insert(&mut self, k: K, x: u128) {
        if self.contains(k, x) {
            return;
        }
        let below = x.checked_sub(1).and_then(|p| self.run_at(k, p));
        let above = x
            .checked_add(1)
            .and_then(|n| self.runs.get(&(k, n)).map(|&e| (n, e)));
        match (below, above) {
            (Some((s, _)), Some((n, e))) => {
                self.runs.remove(&(k, n));
                self.runs.insert((k, s), e);
            }
            (Some((s, _)), None) => {
                self.runs.insert((k, s), x);
            }
            (None, Some((n, e))) => {
                self.runs.remove(&(k, n));
                self.runs.insert((k, x), e);
            }
            (None, None) => {
                self.runs.insert((k, x), x);
            }
        }
    }

    pub fn remove(&mut self, k: K, x: u128) {
        let Some((s, e)) = self.run_at(k, x) else {
            return;
        };
        self.runs.remove(&(k, s));
        if s < x {
            self.runs.insert((k, s), x - 1);
        }
        if x < e {
            self.runs.insert((k, x + 1), e);
        }
    }

    /// The lowest value ≥ `x` not in the set (`None` past `u128::MAX`).
    pub fn first_free(&self, k: K, x: u128) -> Option<u128> {
        match self.run_at(k, x) {
            Some((_, e)) => e.checked_add(1),
            None => Some(x),
        }
    }
}

/// A statistic, not state: clones copy it, equality ignores it. Atomic so that `Hns` stays
/// `Sync` while `&self` lookups count.
#[derive(Default)]
pub(crate) struct Probes(AtomicU64);

impl Probes {
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Clone for Probes {
    fn clone(&self) -> Self {
        Probes(AtomicU64::new(self.get()))
    }
}

impl PartialEq for Probes {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Probes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// Parse a GUID: the typed values' reader (`repr::guid`: the canonical 36-character form
/// without allocating, any other form as `Guid::from_str` reads it).
pub(crate) use crate::repr::guid;

/// Whether a string that parsed as a GUID is exactly `Guid`'s `Display` form (upper case), so it
/// need not be rewritten: at 36 characters only the dashed form parses, so no second parse.
pub(crate) fn parsed_guid_is_canonical(s: &str) -> bool {
    s.len() == 36 && !s.bytes().any(|c| c.is_ascii_lowercase())
}

/// Whether `s` is exactly `Guid`'s `Display` form.
#[cfg(test)]
fn is_canonical_guid(s: &str) -> bool {
    parsed_guid_is_canonical(s) && guid(s).is_some()
}

/// A name as an enumerate filter compares it (`filter::values_equal`): as a GUID when it is
/// one, else as trimmed text in any case. Equal keys ⇔ the filter calls the names equal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum NameKey {
    Guid(Guid),
    Text(String),
}

pub(crate) fn name_key(s: &str) -> NameKey {
    match guid(s) {
        Some(g) => NameKey::Guid(g),
        None => NameKey::Text(s.trim().to_ascii_lowercase()),
    }
}

/// An IP address as a number in its family's space.
pub(crate) fn ip_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// A PortMapping's conflict key: (protocol, external port, VIP or None = every address).
pub(crate) type PortKey = (u32, u16, Option<IpAddr>);

/// The PortMapping keys of an endpoint's policies (external port 0 = none requested).
pub(crate) fn port_keys(policies: &[EndpointPolicy]) -> impl Iterator<Item = PortKey> + '_ {
    policies.iter().filter_map(|p| match p {
        EndpointPolicy::PortMapping(m) if m.external_port != 0 => {
            Some((m.protocol, m.external_port, m.vip.trim().parse().ok()))
        }
        _ => None,
    })
}

/// The frontend VIPs of a load balancer, with `None` for an IPv4 LB with no FrontendVIPs (it
/// matches any local address) and `::` for an IPv6-flagged one: kube-proxy's dual-stack
/// NodePort LBs (no VIPs, same port, one per family) coexist (docs/reference/kubernetes.md §2.7).
fn frontend_vips(lb: &LoadBalancer, r: &LoadBalancerRepr) -> Vec<Option<IpAddr>> {
    if lb.frontend_vips.is_empty() {
        vec![r.v6.then_some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))]
    } else {
        r.frontend_vips.iter().map(|v| v.as_ref().ok().copied()).collect()
    }
}

/// The frontend keys of a load balancer: (protocol, external port, VIP), see [`frontend_vips`].
fn frontend_keys(lb: &LoadBalancer, r: &LoadBalancerRepr) -> Vec<(u32, u16, Option<IpAddr>)> {
    let vips = frontend_vips(lb, r);
    let mut out = Vec::with_capacity(lb.port_mappings.len() * vips.len());
    for m in &lb.port_mappings {
        for v in &vips {
            out.push((m.protocol, m.external_port, *v));
        }
    }
    out
}

const IP_MAX: IpAddr = IpAddr::V6(Ipv6Addr::new(
    0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
));
const GUID_MAX: Guid = Guid(u128::MAX);

/// The secondary indexes of one host's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Index {
    /// (network, endpoint) for every endpoint.
    net_eps: BTreeSet<(Guid, Guid)>,
    /// (network, address) → the LOCAL endpoint holding it (addresses are unique per network).
    local_ips: BTreeMap<(Guid, IpAddr), Guid>,
    /// The same addresses as runs per (network, is IPv6), for the lowest free address.
    ip_runs: RunSet<(Guid, bool)>,
    /// MAC → how many endpoints hold it (explicit MACs may repeat).
    macs: BTreeMap<Mac, u32>,
    /// The MACs in use as runs, for the lowest free MacPool address.
    mac_runs: RunSet<()>,
    /// (network, protocol, external port, VIP, endpoint) for every PortMapping.
    port_maps: BTreeSet<(Guid, u32, u16, Option<IpAddr>, Guid)>,
    /// The same entries ordered by endpoint within (network, protocol, port).
    port_eps: BTreeSet<(Guid, u32, u16, Guid, Option<IpAddr>)>,
    /// (protocol, external port, VIP or None, load balancer) for every LB frontend.
    lb_frontends: BTreeSet<(u32, u16, Option<IpAddr>, Guid)>,
    /// (name, endpoint) for every endpoint with a name (`Name` filters).
    ep_names: BTreeSet<(NameKey, Guid)>,
    /// (endpoint, load balancer or SDN route listing it).
    ep_refs: BTreeSet<(Guid, Guid)>,
    /// (lower-case network name, network).
    net_names: BTreeSet<(String, Guid)>,
    /// (namespace, compute system using it).
    ns_users: BTreeSet<(Guid, String)>,
    /// HostDefault namespaces.
    host_defaults: BTreeSet<Guid>,
    /// Every network's typed values, read once when it is stored (`crate::repr`).
    net_reprs: BTreeMap<Guid, NetworkRepr>,
    /// Every load balancer's typed values, read once when it is stored (`crate::repr`).
    lb_reprs: BTreeMap<Guid, LoadBalancerRepr>,
    /// Every endpoint's typed values, read once when it is stored (`crate::repr`).
    ep_reprs: BTreeMap<Guid, EndpointRepr>,
    /// Set when the maps were seen edited directly (the generation moved without the state
    /// machine): the reprs may describe documents that are gone until `Hns::rebuild_indexes`.
    reprs_stale: StaleFlag,
    probes: Probes,
}

/// Whether the reprs may be out of step: not state (equality ignores it).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StaleFlag(pub bool);

impl PartialEq for StaleFlag {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

fn ep_ips(r: &EndpointRepr) -> impl Iterator<Item = IpAddr> + '_ {
    r.addresses.iter().filter_map(|a| a.as_ref().ok().copied())
}

fn ref_ids(refs: &[String]) -> impl Iterator<Item = Guid> + '_ {
    refs.iter().filter_map(|s| guid(s))
}

impl Index {
    /// The index of `hns`'s objects, computed from scratch.
    pub fn build(hns: &Hns) -> Index {
        let mut ix = Index::default();
        for (id, n) in &hns.networks {
            ix.add_network(id, n, NetworkRepr::parse(n));
        }
        for (id, e) in &hns.endpoints {
            ix.add_endpoint(id, e, EndpointRepr::parse(e));
        }
        for (id, l) in &hns.load_balancers {
            ix.add_lb(id, l, LoadBalancerRepr::parse(l));
        }
        for (id, r) in &hns.routes {
            ix.add_route(id, r);
        }
        for (id, n) in &hns.namespaces {
            ix.add_namespace(id, n);
        }
        for (id, c) in &hns.compute_systems {
            ix.add_compute_system(id, c);
        }
        ix
    }

    /// The names of the fields that differ from `other` (empty when they agree).
    pub fn diff(&self, other: &Index) -> Vec<&'static str> {
        let mut d = Vec::new();
        macro_rules! cmp {
            ($($f:ident),*) => {$( if self.$f != other.$f { d.push(stringify!($f)); } )*};
        }
        cmp!(
            net_eps,
            ep_names,
            local_ips,
            ip_runs,
            macs,
            mac_runs,
            port_maps,
            port_eps,
            lb_frontends,
            ep_refs,
            net_names,
            ns_users,
            host_defaults,
            net_reprs,
            ep_reprs,
            lb_reprs
        );
        d
    }

    pub fn probes(&self) -> u64 {
        self.probes.get()
    }

    pub fn add_probes(&self, n: u64) {
        self.probes.add(n);
    }

    // ---- maintenance --------------------------------------------------------------------

    pub fn add_network(&mut self, id: &Guid, n: &Network, repr: NetworkRepr) {
        if !n.name.is_empty() {
            self.net_names.insert((n.name.to_ascii_lowercase(), *id));
        }
        self.net_reprs.insert(*id, repr);
    }

    pub fn remove_network(&mut self, id: &Guid, n: &Network) {
        self.net_names.remove(&(n.name.to_ascii_lowercase(), *id));
        self.net_reprs.remove(id);
    }

    pub fn add_endpoint(&mut self, id: &Guid, e: &Endpoint, repr: EndpointRepr) {
        let net = repr.network.unwrap_or_default();
        self.net_eps.insert((net, *id));
        if !e.name.is_empty() {
            self.ep_names.insert((name_key(&e.name), *id));
        }
        if !e.is_remote() {
            for ip in ep_ips(&repr) {
                self.local_ips.insert((net, ip), *id);
                self.ip_runs.insert((net, ip.is_ipv6()), ip_u128(ip));
            }
        }
        if let Ok(m) = repr.mac {
            let n = self.macs.entry(m).or_insert(0);
            *n += 1;
            if *n == 1 {
                self.mac_runs.insert((), m.to_u64() as u128);
            }
        }
        for (proto, port, vip) in port_keys(&e.policies) {
            self.port_maps.insert((net, proto, port, vip, *id));
            self.port_eps.insert((net, proto, port, *id, vip));
        }
        self.ep_reprs.insert(*id, repr);
    }

    pub fn remove_endpoint(&mut self, id: &Guid, e: &Endpoint) {
        // What was indexed: the repr read when the endpoint was stored.
        let repr = self.ep_reprs.remove(id).unwrap_or_else(|| EndpointRepr::parse(e));
        let net = repr.network.unwrap_or_default();
        self.net_eps.remove(&(net, *id));
        if !e.name.is_empty() {
            self.ep_names.remove(&(name_key(&e.name), *id));
        }
        if !e.is_remote() {
            for ip in ep_ips(&repr) {
                if self.local_ips.get(&(net, ip)) == Some(id) {
                    self.local_ips.remove(&(net, ip));
                    self.ip_runs.remove((net, ip.is_ipv6()), ip_u128(ip));
                }
            }
        }
        if let Ok(m) = repr.mac {
            if let Some(n) = self.macs.get_mut(&m) {
                *n -= 1;
                if *n == 0 {
                    self.macs.remove(&m);
                    self.mac_runs.remove((), m.to_u64() as u128);
                }
            }
        }
        for (proto, port, vip) in port_keys(&e.policies) {
            self.port_maps.remove(&(net, proto, port, vip, *id));
            self.port_eps.remove(&(net, proto, port, *id, vip));
        }
    }

    pub fn add_lb(&mut self, id: &Guid, l: &LoadBalancer, repr: LoadBalancerRepr) {
        for (p, port, vip) in frontend_keys(l, &repr) {
            self.lb_frontends.insert((p, port, vip, *id));
        }
        for e in repr.backend_ids() {
            self.ep_refs.insert((e, *id));
        }
        self.lb_reprs.insert(*id, repr);
    }

    /// The repr `l` was indexed with (read again if there is none).
    fn take_lb_repr(&mut self, id: &Guid, l: &LoadBalancer) -> LoadBalancerRepr {
        self.lb_reprs
            .remove(id)
            .unwrap_or_else(|| LoadBalancerRepr::parse(l))
    }

    pub fn remove_lb(&mut self, id: &Guid, l: &LoadBalancer) {
        let repr = self.take_lb_repr(id, l);
        for (p, port, vip) in frontend_keys(l, &repr) {
            self.lb_frontends.remove(&(p, port, vip, *id));
        }
        for e in repr.backend_ids() {
            self.ep_refs.remove(&(e, *id));
        }
    }

    /// `old` becomes `new` (an in-place update): only the entries that differ are touched,
    /// since an update usually keeps most backends and its frontend.
    pub fn replace_lb(&mut self, id: &Guid, old: &LoadBalancer, new: &LoadBalancer, repr: LoadBalancerRepr) {
        let old_repr = self.take_lb_repr(id, old);
        let (fo, fnew) = (frontend_keys(old, &old_repr), frontend_keys(new, &repr));
        for (p, port, vip) in fo.iter().filter(|k| !fnew.contains(k)) {
            self.lb_frontends.remove(&(*p, *port, *vip, *id));
        }
        for (p, port, vip) in fnew.iter().filter(|k| !fo.contains(k)) {
            self.lb_frontends.insert((*p, *port, *vip, *id));
        }
        let mut ro: Vec<Guid> = old_repr.backend_ids().collect();
        let mut rn: Vec<Guid> = repr.backend_ids().collect();
        ro.sort_unstable();
        rn.sort_unstable();
        for e in ro.iter().filter(|e| rn.binary_search(e).is_err()) {
            self.ep_refs.remove(&(*e, *id));
        }
        for e in rn.iter().filter(|e| ro.binary_search(e).is_err()) {
            self.ep_refs.insert((*e, *id));
        }
        self.lb_reprs.insert(*id, repr);
    }

    pub fn add_route(&mut self, id: &Guid, r: &SdnRoute) {
        for e in ref_ids(&r.host_compute_endpoints) {
            self.ep_refs.insert((e, *id));
        }
    }

    pub fn remove_route(&mut self, id: &Guid, r: &SdnRoute) {
        for e in ref_ids(&r.host_compute_endpoints) {
            self.ep_refs.remove(&(e, *id));
        }
    }

    pub fn add_namespace(&mut self, id: &Guid, n: &Namespace) {
        if n.namespace_type == Some(NamespaceType::HostDefault) {
            self.host_defaults.insert(*id);
        }
    }

    pub fn remove_namespace(&mut self, id: &Guid) {
        self.host_defaults.remove(id);
    }

    pub fn add_compute_system(&mut self, id: &str, c: &ComputeSystem) {
        if let Some(ns) = c.namespace {
            self.ns_users.insert((ns, id.to_string()));
        }
    }

    pub fn remove_compute_system(&mut self, id: &str, c: &ComputeSystem) {
        if let Some(ns) = c.namespace {
            self.ns_users.remove(&(ns, id.to_string()));
        }
    }

    // ---- lookups (each counts its probes) -----------------------------------------------

    /// The endpoints of a network, in ID order.
    pub fn endpoints_of(&self, net: Guid) -> impl Iterator<Item = Guid> + '_ {
        self.probes.add(1);
        self.net_eps
            .range((net, Guid::ZERO)..=(net, GUID_MAX))
            .map(|(_, e)| {
                self.probes.add(1);
                *e
            })
    }

    /// The endpoints whose name a filter would call equal to `name`, in ID order.
    pub fn endpoints_named(&self, name: &str) -> Vec<Guid> {
        self.probes.add(1);
        let k = name_key(name);
        self.ep_names
            .range((k.clone(), Guid::ZERO)..=(k, GUID_MAX))
            .map(|(_, e)| *e)
            .collect()
    }

    /// The local endpoint of `net` holding `ip`.
    pub fn local_ip_owner(&self, net: Guid, ip: IpAddr) -> Option<Guid> {
        self.probes.add(1);
        self.local_ips.get(&(net, ip)).copied()
    }

    /// Whether a local endpoint of `net` holds an address inside `prefix`.
    pub fn any_local_ip_in(&self, net: Guid, prefix: IpNet) -> bool {
        self.probes.add(1);
        let p = prefix.trunc();
        self.local_ips
            .range((net, p.network())..=(net, p.broadcast()))
            .next()
            .is_some()
    }

    /// The lowest address number ≥ `from` no local endpoint of `net` holds.
    pub fn first_free_ip(&self, net: Guid, v6: bool, from: u128) -> Option<u128> {
        self.probes.add(1);
        self.ip_runs.first_free((net, v6), from)
    }

    pub fn mac_in_use(&self, m: Mac) -> bool {
        self.probes.add(1);
        self.macs.contains_key(&m)
    }

    /// The lowest MAC number ≥ `from` no endpoint holds.
    pub fn first_free_mac(&self, from: u64) -> Option<u64> {
        self.probes.add(1);
        self.mac_runs.first_free((), from as u128).map(|m| m as u64)
    }

    /// The lowest-ID endpoint of `net` other than `me` with a PortMapping that clashes with
    /// `k`: same protocol and external port, and either VIP unset or both equal. Visits `me`'s
    /// own entries and one more.
    pub fn port_owner(&self, net: Guid, me: Option<Guid>, k: PortKey) -> Option<Guid> {
        let (proto, port, vip) = k;
        let not_me = |id: &Guid| {
            self.probes.add(1);
            Some(*id) != me
        };
        self.probes.add(1);
        match vip {
            None => self
                .port_eps
                .range((net, proto, port, Guid::ZERO, None)..=(net, proto, port, GUID_MAX, Some(IP_MAX)))
                .map(|e| e.3)
                .find(not_me),
            Some(v) => {
                let with_vip = |x: Option<IpAddr>| {
                    self.probes.add(1);
                    self.port_maps
                        .range((net, proto, port, x, Guid::ZERO)..=(net, proto, port, x, GUID_MAX))
                        .map(|e| e.4)
                        .find(not_me)
                };
                match (with_vip(None), with_vip(Some(v))) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    /// The lowest-ID load balancer other than `me` sharing a frontend with `lb`.
    pub fn lb_frontend_owner(
        &self,
        lb: &LoadBalancer,
        repr: &LoadBalancerRepr,
        me: Option<Guid>,
    ) -> Option<Guid> {
        let mut best: Option<Guid> = None;
        let vips = frontend_vips(lb, repr);
        for m in &lb.port_mappings {
            for v in &vips {
                self.probes.add(1);
                let k = (m.protocol, m.external_port, *v);
                let hit = self
                    .lb_frontends
                    .range((k.0, k.1, k.2, Guid::ZERO)..=(k.0, k.1, k.2, GUID_MAX))
                    .map(|e| {
                        self.probes.add(1);
                        e.3
                    })
                    .find(|id| Some(*id) != me);
                if let Some(id) = hit {
                    best = Some(best.map_or(id, |b| b.min(id)));
                }
            }
        }
        best
    }

    /// The load balancers and SDN routes listing endpoint `ep`, in ID order.
    pub fn referrers(&self, ep: Guid) -> impl Iterator<Item = Guid> + '_ {
        self.probes.add(1);
        self.ep_refs
            .range((ep, Guid::ZERO)..=(ep, GUID_MAX))
            .map(|(_, r)| {
                self.probes.add(1);
                *r
            })
    }

    pub fn network_named(&self, name: &str) -> bool {
        self.probes.add(1);
        let lower = name.to_ascii_lowercase();
        self.net_names
            .range((lower.clone(), Guid::ZERO)..=(lower, GUID_MAX))
            .next()
            .is_some()
    }

    /// The compute systems using namespace `ns`, in ID order.
    pub fn users_of(&self, ns: Guid) -> impl Iterator<Item = &str> + '_ {
        self.probes.add(1);
        self.ns_users
            .range((ns, String::new())..)
            .take_while(move |(n, _)| *n == ns)
            .map(|(_, c)| {
                self.probes.add(1);
                c.as_str()
            })
    }

    /// The typed values of network `net`, as read when it was stored.
    pub fn network_repr(&self, net: &Guid) -> Option<&NetworkRepr> {
        self.net_reprs.get(net)
    }

    /// The typed values of load balancer `lb`, as read when it was stored.
    pub fn lb_repr(&self, lb: &Guid) -> Option<&LoadBalancerRepr> {
        self.lb_reprs.get(lb)
    }

    /// The typed values of endpoint `ep`, as read when it was stored.
    pub fn endpoint_repr(&self, ep: &Guid) -> Option<&EndpointRepr> {
        self.ep_reprs.get(ep)
    }

    /// Mark the reprs as possibly out of step with the maps (a direct edit was seen).
    pub fn set_reprs_stale(&mut self) {
        self.reprs_stale = StaleFlag(true);
    }

    pub fn reprs_stale(&self) -> bool {
        self.reprs_stale.0
    }

    pub fn host_default(&self) -> Option<Guid> {
        self.probes.add(1);
        self.host_defaults.iter().next().copied()
    }
}

// ---- the mutation helpers: every change to an object map goes through these -------------

impl Hns {
    /// Store `n`, reading its typed values.
    pub(crate) fn put_network(&mut self, n: Network) {
        let repr = NetworkRepr::parse(&n);
        self.put_network_repr(n, repr);
    }

    /// Store `n` with its typed values, read once by validation.
    pub(crate) fn put_network_repr(&mut self, n: Network, repr: NetworkRepr) {
        debug_assert_eq!(
            repr,
            NetworkRepr::parse(&n),
            "a repr out of step with its document"
        );
        let id = n.id;
        self.record(Change::Network(id));
        if let Some(old) = self.networks.remove(&id) {
            self.index.remove_network(&id, &old);
        }
        self.index.add_network(&id, &n, repr);
        self.networks.insert(id, n);
    }

    pub(crate) fn take_network(&mut self, id: &Guid) -> Option<Network> {
        let n = self.networks.remove(id)?;
        self.record(Change::Network(*id));
        self.index.remove_network(id, &n);
        Some(n)
    }

    /// Store `e`, reading its typed values.
    pub(crate) fn put_endpoint(&mut self, e: Endpoint) {
        let repr = EndpointRepr::parse(&e);
        self.put_endpoint_repr(e, repr);
    }

    /// Store `e` with its typed values, read once by validation (and kept in step with the
    /// normalised document it returns).
    pub(crate) fn put_endpoint_repr(&mut self, e: Endpoint, repr: EndpointRepr) {
        debug_assert_eq!(
            repr,
            EndpointRepr::parse(&e),
            "a repr out of step with its document"
        );
        let id = e.id;
        self.record(Change::Endpoint(id));
        if let Some(old) = self.endpoints.remove(&id) {
            self.index.remove_endpoint(&id, &old);
        }
        self.index.add_endpoint(&id, &e, repr);
        self.endpoints.insert(id, e);
    }

    pub(crate) fn take_endpoint(&mut self, id: &Guid) -> Option<Endpoint> {
        let e = self.endpoints.remove(id)?;
        self.record(Change::Endpoint(*id));
        self.index.remove_endpoint(id, &e);
        Some(e)
    }

    /// Store `l`, reading its typed values.
    pub(crate) fn put_lb(&mut self, l: LoadBalancer) {
        let repr = LoadBalancerRepr::parse(&l);
        self.put_lb_repr(l, repr);
    }

    /// Store `l` with its typed values, read once by validation.
    pub(crate) fn put_lb_repr(&mut self, l: LoadBalancer, repr: LoadBalancerRepr) {
        debug_assert_eq!(
            repr,
            LoadBalancerRepr::parse(&l),
            "a repr out of step with its document"
        );
        let id = l.id;
        self.record(Change::LoadBalancer(id));
        match self.load_balancers.get_mut(&id) {
            Some(slot) => {
                self.index.replace_lb(&id, slot, &l, repr);
                *slot = l;
            }
            None => {
                self.index.add_lb(&id, &l, repr);
                self.load_balancers.insert(id, l);
            }
        }
    }

    pub(crate) fn take_lb(&mut self, id: &Guid) -> Option<LoadBalancer> {
        let l = self.load_balancers.remove(id)?;
        self.record(Change::LoadBalancer(*id));
        self.index.remove_lb(id, &l);
        Some(l)
    }

    pub(crate) fn put_route(&mut self, r: SdnRoute) {
        let id = r.id;
        self.record(Change::Route(id));
        if let Some(old) = self.routes.remove(&id) {
            self.index.remove_route(&id, &old);
        }
        self.index.add_route(&id, &r);
        self.routes.insert(id, r);
    }

    pub(crate) fn take_route(&mut self, id: &Guid) -> Option<SdnRoute> {
        let r = self.routes.remove(id)?;
        self.record(Change::Route(*id));
        self.index.remove_route(id, &r);
        Some(r)
    }

    pub(crate) fn put_namespace(&mut self, n: Namespace) {
        let id = n.id;
        if self.namespaces.remove(&id).is_some() {
            self.index.remove_namespace(&id);
        }
        self.index.add_namespace(&id, &n);
        self.namespaces.insert(id, n);
        self.record_placement(&id);
    }

    pub(crate) fn take_namespace(&mut self, id: &Guid) -> Option<Namespace> {
        if self.namespaces.contains_key(id) {
            self.record_placement(id);
        }
        let n = self.namespaces.remove(id)?;
        self.index.remove_namespace(id);
        Some(n)
    }

    pub(crate) fn put_compute_system(&mut self, c: ComputeSystem) {
        let id = c.id.clone();
        if let Some(old) = self.compute_systems.remove(&id) {
            self.index.remove_compute_system(&id, &old);
            if let Some(ns) = old.namespace {
                self.record_placement(&ns);
            }
        }
        let ns = c.namespace;
        self.index.add_compute_system(&id, &c);
        self.compute_systems.insert(id, c);
        if let Some(ns) = ns {
            self.record_placement(&ns);
        }
    }

    pub(crate) fn take_compute_system(&mut self, id: &str) -> Option<ComputeSystem> {
        let c = self.compute_systems.remove(id)?;
        self.index.remove_compute_system(id, &c);
        if let Some(ns) = c.namespace {
            self.record_placement(&ns);
        }
        Some(c)
    }

    /// Clear the namespace of every compute system using `ns` (and its endpoint list).
    pub(crate) fn release_namespace_users(&mut self, ns: &Guid) {
        let users: Vec<String> = self.index.users_of(*ns).map(str::to_string).collect();
        for u in users {
            if let Some(mut c) = self.take_compute_system(&u) {
                c.namespace = None;
                c.endpoints.clear();
                self.put_compute_system(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_guid_parse_agrees_with_from_str() {
        for s in [
            "404947AC-1234-5678-9ABC-DEF012345678",
            "404947ac-1234-5678-9abc-def012345678",
            "{404947ac-1234-5678-9abc-def012345678}",
            " 404947AC-1234-5678-9ABC-DEF012345678 ",
            "404947AC-1234-5678-9ABC-DEF01234567G",
            "404947AC-1234-5678-9ABC+DEF012345678",
            "404947AC12345678-9ABC-DEF0123456789A",
            "",
        ] {
            assert_eq!(guid(s), s.parse().ok(), "{s:?}");
            assert_eq!(
                is_canonical_guid(s),
                s.parse::<Guid>().is_ok_and(|g| g.to_string() == s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn run_set_finds_the_lowest_free_value() {
        let mut r: RunSet<u8> = RunSet::default();
        for x in [5, 6, 7, 9, 10] {
            r.insert(1, x);
        }
        r.insert(2, 8);
        assert_eq!(r.first_free(1, 5), Some(8));
        assert_eq!(r.first_free(1, 8), Some(8));
        assert_eq!(r.first_free(1, 9), Some(11));
        assert_eq!(r.first_free(2, 8), Some(9));
        r.insert(1, 8); // joins 5..=7 and 9..=10
        assert_eq!(r.first_free(1, 5), Some(11));
        assert_eq!(r.runs.len(), 2);
        r.remove(1, 7);
        assert_eq!(r.first_free(1, 5), Some(7));
        assert!(r.contains(1, 8) && !r.contains(1, 7));
        r.insert(1, 7);
        let mut fresh: RunSet<u8> = RunSet::default();
        for x in 5..=10 {
            fresh.insert(1, x);
        }
        fresh.insert(2, 8);
        assert_eq!(r, fresh, "runs are canonical whatever the order of inserts");
    }
}
