//! compile: one host's HNS state (+ host facts) → per-port VFP programs, the LB index, the
//! port-mapping table, the remote-endpoint table and the host's extra routes. The program types
//! are data in `vfp::program` (re-exported here), below both this compiler and VFP's entry
//! points; `Vfp::compile` is defined here, so `vfp` does not depend on the compiler.
//!
//! A pure function: the same state gives the same program. It is re-run when `Hns::generation`
//! moves; a port keeps its policy generation when neither its own program nor the host-wide
//! tables changed, so established flows on untouched ports stay on the fast path.

mod changes;
mod policies;

pub use crate::host_stack::{HostRoute, Via};
use crate::route::RouteTable;
use crate::vfp::acl::AclSet;
use crate::vfp::lb::{Backend, LbMapping};
use crate::vfp::program::{Cache, EpUnit, LbUnit, LocalUnit};
pub use crate::vfp::program::{
    ChangeScan, CompileError, CompileStats, HostInfo, HostProgram, NetKind, NetProgram, OutboundNat,
    OutboundNat6, PortMap, PortProgram, RemoteEndpoint, RemoteSubnet, SdnRoute,
};
use crate::vfp::Vfp;
use hnsim_model::repr::{
    is_default, EndpointPolicyRepr, EndpointRepr, NetworkPolicyRepr, NetworkRepr, ReprError, RouteRepr,
    SubnetRepr,
};
use hnsim_model::schema::{
    endpoint_flags, Endpoint, EndpointPolicy, LoadBalancer, Network, NetworkPolicy, NetworkType,
};
use hnsim_model::state::{Cursor, Hns};
use hnsim_model::Guid;
use ipnet::{IpNet, Ipv4Net};
use policies::PortPolicies;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The dataplane's kind of an HNS network type.
fn net_kind(t: &NetworkType) -> NetKind {
    match t {
        NetworkType::Nat => NetKind::Nat,
        NetworkType::Ics | NetworkType::ConstrainedIcs => NetKind::Ics,
        NetworkType::Transparent => NetKind::Transparent,
        NetworkType::L2Bridge => NetKind::L2Bridge,
        NetworkType::L2Tunnel => NetKind::L2Tunnel,
        NetworkType::Overlay => NetKind::Overlay,
        NetworkType::Private => NetKind::Private,
        NetworkType::Internal => NetKind::Internal,
        _ => NetKind::Other,
    }
}

/// `networks[ID]`, written only for an error.
struct NetworkAt<'a>(&'a Guid);

impl std::fmt::Display for NetworkAt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "networks[{}]", self.0)
    }
}

/// The gateway of one family: the next hop of the first default route (`found`, its index and
/// route). A next hop that is not an address of that family (a restored or hand-edited state:
/// validation rejects it) is reported at `route(j)`'s path, quoting its raw text, and never read
/// as "no gateway". Subnets and endpoints share it.
fn default_gateway<'d>(
    found: Option<(usize, &RouteRepr)>,
    v6: bool,
    route: impl FnOnce(usize) -> (String, &'d str),
    errors: &mut Vec<CompileError>,
) -> Option<IpAddr> {
    let (j, r) = found?;
    match r.next_hop {
        Ok(hop) if hop.is_ipv6() == v6 => Some(hop),
        _ => {
            let (path, raw) = route(j);
            errors.push(CompileError {
                path: format!("{path}.NextHop"),
                message: format!(
                    "expected a next hop for {}, found {raw:?}",
                    if v6 { "::/0" } else { "0.0.0.0/0" }
                ),
            });
            None
        }
    }
}

/// Subnet `k`'s gateway of its family (see [`default_gateway`]).
fn subnet_gateway(
    n: &Network,
    k: usize,
    s: &SubnetRepr,
    v6: bool,
    errors: &mut Vec<CompileError>,
) -> Option<IpAddr> {
    let route = |j: usize| {
        let raw = (n.subnets().nth(k).and_then(|s| s.routes.get(j))).map_or("", |r| r.next_hop.as_str());
        (format!("{}.Subnets[{k}].Routes[{j}]", NetworkAt(&n.id)), raw)
    };
    default_gateway(s.default_route(v6), v6, route, errors)
}

/// A network's program from its typed values (`repr`); a value that does not compile (a
/// restored or hand-edited state: validation rejects these) is reported in `errors` and
/// skipped, never defaulted.
fn network_program(n: &Network, repr: &NetworkRepr, errors: &mut Vec<CompileError>) -> NetProgram {
    let mut subnets = Vec::new();
    let mut subnets6 = Vec::new();
    let mut vsid = None;
    // `Subnets[k]` counts the subnets of all Ipams in order.
    for (k, s) in repr.subnets.iter().enumerate() {
        match &s.prefix {
            // A subnet without a prefix holds no addresses.
            Ok(None) => {}
            Err(e) => errors.push(repr_error(NetworkAt(&n.id), e)),
            Ok(Some(IpNet::V6(prefix))) => {
                let gw = match subnet_gateway(n, k, s, true, errors) {
                    Some(IpAddr::V6(g)) => Some(g),
                    _ => None,
                };
                subnets6.push((*prefix, gw));
            }
            Ok(Some(IpNet::V4(prefix))) => {
                let gw = match subnet_gateway(n, k, s, false, errors) {
                    Some(IpAddr::V4(g)) => Some(g),
                    _ => None,
                };
                subnets.push((*prefix, gw));
                if s.vsid.is_some() {
                    vsid = s.vsid;
                }
            }
        }
        // The subnet's other routes are not programmed; a value of theirs that does not read
        // is still reported (the gateway's next hop was, by `subnet_gateway`).
        let family = match s.prefix {
            Ok(Some(p)) => Some(p.addr().is_ipv6()),
            _ => None,
        };
        let gateway = family.and_then(|v6| s.default_route(v6)).map(|(j, _)| j);
        for (j, r) in s.routes.iter().enumerate() {
            let unread = [r.destination.as_ref().err(), r.next_hop.as_ref().err()];
            for e in unread.into_iter().flatten() {
                if !(Some(j) == gateway && r.destination.is_ok()) {
                    errors.push(repr_error(NetworkAt(&n.id), e));
                }
            }
        }
    }
    let mut prog = NetProgram {
        id: n.id,
        name: n.name.clone(),
        kind: net_kind(&n.kind()),
        subnets,
        subnets6,
        vsid,
        vxlan_port: repr.vxlan_port(),
        dr_mac: None,
        remote_subnets: RouteTable::new(),
        host_route: false,
    };
    let bad = |i: usize, field: &str, expected: &str, value: &str| CompileError {
        path: format!("{}.Policies[{i}].Settings.{field}", NetworkAt(&n.id)),
        message: format!("expected {expected}, found {value:?}"),
    };
    for (i, (p, t)) in n.policies.iter().zip(&repr.policies).enumerate() {
        match (p, t) {
            (_, NetworkPolicyRepr::HostRoute) => prog.host_route = true,
            // Empty: no address, the derived MAC stays.
            (_, NetworkPolicyRepr::DrMacAddress(Ok(m))) => prog.dr_mac = m.or(prog.dr_mac),
            (_, NetworkPolicyRepr::DrMacAddress(Err(e))) => errors.push(repr_error(NetworkAt(&n.id), e)),
            // Not programmed (the host's underlay address comes from its facts), but reported.
            (_, NetworkPolicyRepr::ProviderAddress(Err(e))) => errors.push(repr_error(NetworkAt(&n.id), e)),
            (NetworkPolicy::RemoteSubnetRoute(r), NetworkPolicyRepr::RemoteSubnetRoute(t)) => {
                // The dataplane models IPv4 remote subnets over an IPv4 underlay only: anything
                // else is reported, not dropped.
                let Ok(IpNet::V4(prefix)) = t.destination else {
                    errors.push(bad(i, "DestinationPrefix", "an IPv4 CIDR", &r.destination_prefix));
                    continue;
                };
                let Ok(IpAddr::V4(pa)) = t.provider_address else {
                    errors.push(bad(i, "ProviderAddress", "an IPv4 address", &r.provider_address));
                    continue;
                };
                let dr_mac = match &t.dr_mac {
                    Ok(m) => *m,
                    Err(e) => {
                        errors.push(repr_error(NetworkAt(&n.id), e));
                        continue;
                    }
                };
                prog.remote_subnets.push(RemoteSubnet {
                    prefix,
                    vni: t.isolation_id,
                    pa,
                    dr_mac,
                });
            }
            _ => {}
        }
    }
    prog
}

/// What one endpoint compiles to.
enum EpCompiled {
    /// No IPv4 address, or no network on this host (an error is recorded).
    Skipped,
    Remote(RemoteEndpoint, Ipv4Addr),
    Local(Box<LocalUnit>),
}

/// A value of a document that did not read (`repr`), as a compile error on `object`
/// (`endpoints[ID]`, `loadBalancers[ID]`, …).
fn repr_error(object: impl std::fmt::Display, e: &ReprError) -> CompileError {
    CompileError {
        path: format!("{object}.{}", e.path),
        message: format!("expected {}, found {:?}", e.expected, e.found),
    }
}

/// An endpoint's routes other than the default ones, for its IPv4 port program: IPv6 routes do
/// not apply; anything that did not read is reported (in an IPv6 route too), except the next
/// hop of the first default route of each family, which `endpoint_gateway` reports.
fn port_routes(ep: &Guid, repr: &EndpointRepr, errors: &mut Vec<CompileError>) -> Vec<(Ipv4Net, Ipv4Addr)> {
    let gateways = [repr.default_route(false), repr.default_route(true)].map(|d| d.map(|(j, _)| j));
    let mut out = Vec::new();
    for (j, r) in repr.routes.iter().enumerate() {
        match (&r.destination, &r.next_hop) {
            (Err(e), _) => errors.push(repr_error(EndpointAt(ep), e)),
            (Ok(d), _) if is_default(d) && gateways.contains(&Some(j)) => {}
            (Ok(d), Ok(IpAddr::V4(hop))) => match d {
                IpNet::V4(d) if !is_default(&IpNet::V4(*d)) => out.push((*d, *hop)),
                _ => {} // a second default route; an IPv4 hop of an IPv6 route is a repr error
            },
            (Ok(_), Ok(IpAddr::V6(_))) => {} // IPv6 routes do not apply
            (Ok(_), Err(e)) => errors.push(repr_error(EndpointAt(ep), e)),
        }
    }
    out
}

/// `endpoints[ID]`, written only for an error.
struct EndpointAt<'a>(&'a Guid);

impl std::fmt::Display for EndpointAt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "endpoints[{}]", self.0)
    }
}

/// The endpoint's own gateway of one family (see [`default_gateway`]).
fn endpoint_gateway(
    ep: &Endpoint,
    repr: &EndpointRepr,
    v6: bool,
    errors: &mut Vec<CompileError>,
) -> Option<IpAddr> {
    let route = |j: usize| {
        let raw = ep.routes.get(j).map_or("", |r| r.next_hop.as_str());
        (format!("{}.Routes[{j}]", EndpointAt(&ep.id)), raw)
    };
    default_gateway(repr.default_route(v6), v6, route, errors)
}

fn compile_endpoint(
    ep: &Endpoint,
    hns: &Hns,
    info: &HostInfo,
    networks: &[Arc<NetProgram>],
    net_index: &HashMap<Guid, usize>,
    errors: &mut Vec<CompileError>,
) -> EpCompiled {
    // The endpoint's values as the model read them when it was stored.
    let repr = &*hns.endpoint_values(ep);
    // Error paths are written only for an error: formatting them for every endpoint and policy
    // was a sixth of compiling an endpoint.
    let path = || EndpointAt(&ep.id).to_string();
    let Some(net) = repr.network.and_then(|g| net_index.get(&g).copied()) else {
        errors.push(CompileError {
            path: format!("{}.HostComputeNetwork", path()),
            message: format!("no network {:?} on this host", ep.host_compute_network),
        });
        return EpCompiled::Skipped;
    };
    // An address that does not read is reported; the others still count.
    for e in repr.addresses.iter().filter_map(|a| a.as_ref().err()) {
        errors.push(repr_error(EndpointAt(&ep.id), e));
    }
    let Some(ip) = repr.ipv4() else {
        return EpCompiled::Skipped; // IPv6-only or address-less endpoints carry no IPv4 dataplane
    };
    // HNS validation gives every endpoint a MAC; one that does not read (a restored or
    // hand-edited state) is an error, never an all-zero MAC.
    let mac = match &repr.mac {
        Ok(m) => *m,
        Err(e) => {
            errors.push(repr_error(EndpointAt(&ep.id), e));
            return EpCompiled::Skipped;
        }
    };
    let mut pa = None;
    for (i, (p, r)) in ep.policies.iter().zip(&repr.policies).enumerate() {
        match (p, r) {
            (_, EndpointPolicyRepr::ProviderAddress(Ok(IpAddr::V4(a)))) => pa = Some(*a),
            // IPv4 underlays only; an address that is not IPv4 is reported, not "no PA".
            (EndpointPolicy::ProviderAddress(a), _) => errors.push(CompileError {
                path: format!("{}.Policies[{i}].Settings.ProviderAddress", path()),
                message: format!("expected an IPv4 address, found {:?}", a.provider_address),
            }),
            _ => {}
        }
    }
    if ep.flags & endpoint_flags::REMOTE_ENDPOINT != 0 {
        return EpCompiled::Remote(
            RemoteEndpoint {
                endpoint: ep.id,
                network: net,
                mac,
                pa,
            },
            ip,
        );
    }
    let nprog = &networks[net];
    let ip6 = repr.ipv6();
    let own_gateway = match endpoint_gateway(ep, repr, false, errors) {
        Some(IpAddr::V4(g)) => Some(g),
        _ => None,
    };
    let gateway = own_gateway.or_else(|| {
        nprog
            .subnets
            .iter()
            .find(|(n, _)| n.contains(&ip))
            .and_then(|(_, g)| *g)
    });
    let routes = port_routes(&ep.id, repr, errors);
    let policies = PortPolicies::of(ep.id, &ep.policies, &repr.policies, errors);
    let overhead = policies
        .encap_overhead
        .unwrap_or(if nprog.kind == NetKind::Overlay {
            crate::packet::VXLAN_OVERHEAD
        } else {
            0
        });
    let PortPolicies {
        acls: [sw_in, sw_out, h_in, h_out],
        outbound_nat,
        outbound_nat6,
        sdn_routes,
        port_maps,
        qos,
        ..
    } = policies;
    let location = hns.endpoint_location(&ep.id);
    let (namespace, container, host_attached, running) = match &location {
        Some(l) => (
            Some(l.namespace),
            l.container.clone(),
            l.namespace_type == Some(hnsim_model::schema::NamespaceType::HostDefault)
                || l.compartment == hnsim_model::state::HOST_DEFAULT_COMPARTMENT,
            l.running,
        ),
        None => (None, None, false, true),
    };
    EpCompiled::Local(Box::new(LocalUnit {
        location,
        port_maps,
        port: Arc::new(PortProgram {
            endpoint: ep.id,
            name: if ep.name.is_empty() {
                ep.id.to_string()
            } else {
                ep.name.clone()
            },
            network: net,
            ip,
            mac,
            gateway,
            routes: routes.into_iter().collect(),
            mtu: info
                .mtu
                .saturating_sub(overhead)
                .saturating_sub(info.container_mtu_reduction),
            acl_switch: [AclSet::new(sw_in), AclSet::new(sw_out)],
            acl_host: [AclSet::new(h_in), AclSet::new(h_out)],
            outbound_nat,
            sdn_routes,
            provider_address: pa,
            ip6,
            gateway6: match endpoint_gateway(ep, repr, true, errors) {
                Some(IpAddr::V6(g)) => Some(g),
                _ => None,
            }
            .or_else(|| {
                let ip6 = ip6?;
                nprog
                    .subnets6
                    .iter()
                    .find(|(n, _)| n.contains(&ip6))
                    .and_then(|(_, g)| *g)
            }),
            outbound_nat6,
            qos,
            namespace,
            container,
            host_attached,
            running,
        }),
    }))
}

/// A 64-bit hash of what the dataplane reads from a remote endpoint (network, addresses, MAC,
/// flags, provider address); see [`lb_fingerprint`] for why a hash.
fn remote_fingerprint(ep: &Endpoint) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = crate::fasthash::FastBuild::default().build_hasher();
    let s = |h: &mut crate::fasthash::FastHasher, v: &str| {
        h.write_usize(v.len());
        h.write(v.as_bytes());
    };
    h.write_u128(ep.id.0);
    h.write_u32(ep.flags);
    s(&mut h, &ep.host_compute_network);
    s(&mut h, &ep.mac_address);
    h.write_usize(ep.ip_configurations.len());
    for c in &ep.ip_configurations {
        s(&mut h, &c.ip_address);
    }
    for p in &ep.policies {
        if let EndpointPolicy::ProviderAddress(a) = p {
            s(&mut h, &a.provider_address);
        }
    }
    h.finish()
}

fn is_remote(ep: &Endpoint) -> bool {
    ep.flags & endpoint_flags::REMOTE_ENDPOINT != 0
}

/// Is `ep` what `unit` was compiled from?
fn same_endpoint(ep: &Endpoint, unit: &EpUnit) -> bool {
    match &unit.src {
        Some(src) => **src == *ep,
        None => is_remote(ep) && remote_fingerprint(ep) == unit.fingerprint,
    }
}

/// A 64-bit hash of the fields of an LB that the dataplane compiles (fields it ignores do not
/// trigger a recompile). Reading only the HNS side halves the memory traffic of the change scan
/// over 10,000 LBs compared with keeping a copy of each; a collision (2^-64 per change) would
/// leave one stale LB.
fn lb_fingerprint(lb: &LoadBalancer) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = crate::fasthash::FastBuild::default().build_hasher();
    let s = |h: &mut crate::fasthash::FastHasher, v: &str| {
        h.write_usize(v.len());
        h.write(v.as_bytes());
    };
    h.write_u128(lb.id.0);
    h.write_u32(lb.flags);
    s(&mut h, &lb.source_vip);
    h.write_usize(lb.host_compute_endpoints.len());
    for e in &lb.host_compute_endpoints {
        s(&mut h, e);
    }
    h.write_usize(lb.frontend_vips.len());
    for v in &lb.frontend_vips {
        s(&mut h, v);
    }
    h.write_usize(lb.port_mappings.len());
    for pm in &lb.port_mappings {
        h.write_u32(pm.protocol);
        h.write_u32(((pm.internal_port as u32) << 16) | pm.external_port as u32);
        h.write_u32(pm.flags);
        h.write_u32(pm.distribution_type);
    }
    h.finish()
}

/// The LB-index entries of one load balancer (one per port mapping) and its backend IDs, from
/// its typed values. A value that did not read (a restored or hand-edited state: validation
/// rejects it) is reported in `errors` and left out.
fn compile_lb(
    lb: &LoadBalancer,
    hns: &Hns,
    info: &HostInfo,
    errors: &mut Vec<CompileError>,
) -> (Vec<LbMapping>, Vec<Guid>) {
    // The LB's values as the model read them when it was stored.
    let repr = &*hns.load_balancer_values(lb);
    // An LB with the IPv6 flag (2) balances to its backends' IPv6 addresses (consumers.md §0).
    let v6 = repr.v6;
    let at = || format!("loadBalancers[{}]", lb.id);
    let mut ids: Vec<Guid> = Vec::new();
    for b in &repr.backends {
        match b {
            Ok(g) => ids.push(*g),
            Err(e) => errors.push(repr_error(at(), e)),
        }
    }
    let backends: Vec<Backend> = ids
        .iter()
        .filter_map(|g| {
            let ip = hns.endpoint_values(hns.endpoints.get(g)?).ip_of(v6)?;
            Some(Backend { endpoint: *g, ip })
        })
        .collect();
    let mut vips: Vec<IpAddr> = Vec::new();
    for v in &repr.frontend_vips {
        match v {
            Ok(v) => vips.push(*v),
            Err(e) => errors.push(repr_error(at(), e)),
        }
    }
    // Empty is none (P3 below); another value that did not read is reported.
    let source_vip = match &repr.source_vip {
        Ok(v) => *v,
        Err(e) => {
            errors.push(repr_error(at(), e));
            None
        }
    };
    let mappings = repr
        .port_mappings
        .iter()
        .map(|pm| {
            let source_vip = match source_vip {
                Some(v) => Some(v),
                // P3: an empty SourceVIP means the node IP on older HNS, the VIP itself on newer
                // WS2019 builds (setting).
                // The node's IPv4 address is no IPv6 source: an IPv6 non-DSR LB needs its
                // SourceVIP (the slow path says so).
                None if v6 => None,
                None if info.empty_source_vip_uses_node_ip => Some(IpAddr::V4(info.ip)),
                None => vips.first().copied(),
            };
            LbMapping {
                lb: lb.id,
                proto: pm.protocol,
                external_port: pm.external_port,
                internal_port: pm.internal_port,
                vips: vips.clone(),
                source_vip,
                dsr: repr.dsr,
                flags: pm.flags,
                distribution: pm.distribution,
                backends: backends.clone(),
            }
        })
        .collect();
    (mappings, ids)
}

/// A change between two sorted maps, by key.
enum Diff<'a, T> {
    Added(&'a T),
    Changed(&'a T),
    Removed,
}

/// Walk two maps in key order and report what differs (`same` compares a new value with its
/// cached unit). One pass, no allocation but the result.
fn diff<'a, K: Ord + Copy, T, U>(
    new: &'a BTreeMap<K, T>,
    old: &BTreeMap<K, U>,
    same: impl Fn(&K, &T, &U) -> bool,
) -> Vec<(K, Diff<'a, T>)> {
    let mut out = Vec::new();
    let mut a = new.iter().peekable();
    let mut b = old.iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some((k, v)), None) => {
                out.push((**k, Diff::Added(*v)));
                a.next();
            }
            (None, Some((k, _))) => {
                out.push((**k, Diff::Removed));
                b.next();
            }
            (Some((ka, va)), Some((kb, vb))) => match ka.cmp(kb) {
                std::cmp::Ordering::Less => {
                    out.push((**ka, Diff::Added(*va)));
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    out.push((**kb, Diff::Removed));
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    if !same(ka, va, vb) {
                        out.push((**ka, Diff::Changed(*va)));
                    }
                    a.next();
                    b.next();
                }
            },
        }
    }
    out
}

/// Compile `hns` for the host described by `info`. `prev` carries port generations forward and
/// lets the compile be incremental. A pure function of its arguments.
pub fn compile(hns: &Hns, info: &HostInfo, prev: Option<&HostProgram>) -> HostProgram {
    let mut prog = prev.cloned().unwrap_or_default();
    if prev.is_none() {
        prog.cache.info = None;
    }
    update(&mut prog, hns, info);
    prog
}

/// Bring `prog` up to date with `hns`, recompiling only the objects that changed since the last
/// compile (and the LBs whose backends changed). A change to a network or to the host's facts
/// recompiles everything. Port generations move only for ports whose program, or the host-wide
/// tables, changed.
pub fn update(prog: &mut HostProgram, hns: &Hns, info: &HostInfo) {
    let mut stats = CompileStats::default();
    let old_layout: Vec<(Arc<PortProgram>, u64)> = prog
        .ports
        .iter()
        .cloned()
        .zip(prog.port_generation.iter().copied())
        .collect();
    let full = prog.cache.info.as_ref() != Some(info)
        || hns.networks.len() != prog.cache.networks.len()
        || !hns.networks.values().eq(prog.cache.networks.iter());
    let shared_changed = if full {
        let old_shared = shared_snapshot(prog);
        let had_prev = prog.cache.info.is_some();
        *prog = HostProgram::default();
        stats.full = true;
        prog.cache.info = Some(info.clone());
        prog.cache.networks = hns.networks.values().cloned().collect();
        prog.cache.errors.clear();
        for n in hns.networks.values() {
            prog.cache.net_index.insert(n.id, prog.networks.len());
            // The network's values as the model read them when it was stored.
            let repr = &*hns.network_values(n);
            prog.networks
                .push(Arc::new(network_program(n, repr, &mut prog.cache.net_errors)));
        }
        // Compared once the new tables are built (below): a rebuild that changes nothing
        // host-wide keeps the ports' flows.
        compile_changes(prog, hns, info, None, &mut stats);
        !had_prev || old_shared != shared_snapshot(prog)
    } else {
        let since = prog.cache.journal;
        compile_changes(prog, hns, info, since, &mut stats)
    };
    prog.cache.journal = Some(hns.journal_cursor());
    prog.hns_generation = hns.generation;
    layout_ports(prog, hns.generation, &old_layout, shared_changed);
    prog.errors = prog
        .cache
        .net_errors
        .iter()
        .chain(prog.cache.errors.values().flatten())
        .cloned()
        .collect();
    prog.stats = stats;
}

// VFP's compile entry point lives here, with the compiler, so that `vfp` depends only on the
// program types (`vfp::program`) and not on the compiler.
impl Vfp {
    /// Bring the program up to date with `hns` (incremental: only changed objects recompile).
    pub fn compile(&mut self, hns: &Hns, mtu: u16) {
        let (prog, info) = self.program_to_compile(mtu);
        update(prog, hns, &info);
    }
}

/// Host-wide tables, for comparing a full rebuild with the program it replaces.
type SharedSnapshot = (
    Vec<Arc<NetProgram>>,
    Vec<LbMapping>,
    Vec<(Ipv4Addr, RemoteEndpoint)>,
    Vec<((u8, u16), Vec<PortMap>)>,
    Vec<HostRoute>,
);

fn shared_snapshot(prog: &HostProgram) -> SharedSnapshot {
    let mut remotes: Vec<_> = prog.remote_by_ip.iter().map(|(k, v)| (*k, v.clone())).collect();
    remotes.sort_by_key(|(ip, _)| *ip);
    let mut maps: Vec<_> = prog.port_maps.iter().map(|(k, v)| (*k, v.clone())).collect();
    maps.sort_by_key(|(k, _)| *k);
    (
        prog.networks.clone(),
        prog.lbs.mappings().into_iter().cloned().collect(),
        remotes,
        maps,
        prog.host_routes.clone(),
    )
}

/// Recompile the endpoints and LBs that differ from the cache (the objects journalled since
/// `since`, or every object when there is no usable journal; see `compile/changes.rs`); true
/// when a host-wide table (LB index, remote endpoints) changed.
fn compile_changes(
    prog: &mut HostProgram,
    hns: &Hns,
    info: &HostInfo,
    since: Option<Cursor>,
    stats: &mut CompileStats,
) -> bool {
    let mut shared_changed = false;
    let cache = &mut prog.cache;
    // Endpoints: the object, and for local ones where it lives (namespace, container state).
    let found = changes::find(cache, hns, since);
    prog.scan = ChangeScan {
        examined: found.examined,
        journal: since.is_some_and(|c| hns.changes_since(c).is_some()),
    };
    let cache = &mut prog.cache;
    // Backends of LBs: an endpoint added, removed or changed may change an LB's backend list.
    let mut touched: BTreeSet<Guid> = BTreeSet::new();
    let mut affected_ips: BTreeSet<Ipv4Addr> = BTreeSet::new();
    for (id, ep) in found.endpoints {
        touched.insert(id);
        // Forget the old unit.
        if let Some(old) = cache.endpoints.remove(&id) {
            if let Some(ip) = old.remote_ip {
                cache.remotes.remove(&(ip, id));
                affected_ips.insert(ip);
            }
        }
        if let Some(old) = cache.locals.remove(&id) {
            affected_ips.insert(old.port.ip);
        }
        cache.errors.remove(&id);
        let Some(ep) = ep else { continue };
        let mut errors = Vec::new();
        let compiled = compile_endpoint(ep, hns, info, &prog.networks, &cache.net_index, &mut errors);
        if !errors.is_empty() {
            cache.errors.insert(id, errors);
        }
        let mut remote_ip = None;
        match compiled {
            EpCompiled::Skipped => {}
            EpCompiled::Remote(r, ip) => {
                stats.remotes_rebuilt += 1;
                affected_ips.insert(ip);
                remote_ip = Some(ip);
                cache.remotes.insert((ip, id), r);
            }
            EpCompiled::Local(u) => {
                stats.ports_rebuilt += 1;
                affected_ips.insert(u.port.ip);
                cache.locals.insert(id, *u);
            }
        }
        let remote = is_remote(ep);
        cache.endpoints.insert(
            id,
            EpUnit {
                src: (!remote).then(|| Box::new(ep.clone())),
                fingerprint: if remote { remote_fingerprint(ep) } else { 0 },
                remote_ip,
            },
        );
    }
    // Remote endpoints by IP: the first remote endpoint (ID order) with the IP, unless a local
    // endpoint holds it (P12: local endpoints never lose to remote ones).
    let local_ips: BTreeSet<Ipv4Addr> = cache.locals.values().map(|u| u.port.ip).collect();
    for ip in affected_ips {
        let winner = if local_ips.contains(&ip) {
            None
        } else {
            cache
                .remotes
                .range((ip, Guid(0))..=(ip, Guid(u128::MAX)))
                .next()
                .map(|(_, r)| r.clone())
        };
        let before = match &winner {
            Some(r) => prog.remote_by_ip.insert(ip, r.clone()),
            None => prog.remote_by_ip.remove(&ip),
        };
        shared_changed |= before != winner;
    }
    // Load balancers: changed objects, and those naming a touched endpoint as a backend.
    let mut lb_changes: BTreeMap<Guid, Option<&LoadBalancer>> = found.lbs.into_iter().collect();
    for ep in &touched {
        for (_, lb) in cache
            .lbs_by_backend
            .range((*ep, Guid(0))..=(*ep, Guid(u128::MAX)))
        {
            lb_changes
                .entry(*lb)
                .or_insert_with(|| hns.load_balancers.get(lb));
        }
    }
    for (id, lb) in lb_changes {
        shared_changed = true;
        cache.errors.remove(&id);
        if let Some(old) = cache.lbs.remove(&id) {
            for s in old.slots {
                prog.lbs.remove(s);
            }
            for b in old.backends {
                cache.lbs_by_backend.remove(&(b, id));
            }
        }
        let Some(lb) = lb else { continue };
        stats.lbs_rebuilt += 1;
        let mut errors = Vec::new();
        let (mappings, backends) = compile_lb(lb, hns, info, &mut errors);
        if !errors.is_empty() {
            cache.errors.insert(id, errors);
        }
        cache.lbs_by_backend.extend(backends.iter().map(|b| (*b, id)));
        let slots = mappings
            .into_iter()
            .enumerate()
            .map(|(i, m)| prog.lbs.insert_ordered(m, i as u32))
            .collect();
        cache.lbs.insert(
            id,
            LbUnit {
                fingerprint: lb_fingerprint(lb),
                backends,
                slots,
            },
        );
    }
    shared_changed
}

/// Lay the ports out (local endpoints in ID order) with their lookup tables, port mappings, host
/// addresses and host routes; give each port its generation.
fn layout_ports(
    prog: &mut HostProgram,
    generation: u64,
    old: &[(Arc<PortProgram>, u64)],
    shared_changed: bool,
) {
    let sorted_maps = |prog: &HostProgram| {
        let mut v: Vec<_> = prog.port_maps.iter().map(|(k, v)| (*k, v.clone())).collect();
        v.sort_by_key(|(k, _)| *k);
        v
    };
    let old_maps = sorted_maps(prog);
    let old_routes = std::mem::take(&mut prog.host_routes);
    prog.ports.clear();
    prog.port_by_ep.clear();
    prog.port_by_ip.clear();
    prog.ports_by_container.clear();
    prog.port_by_ip6.clear();
    prog.port_maps.clear();
    prog.transparent_by_mac.clear();
    prog.transparent_by_ip.clear();
    prog.host_addrs.clear();
    prog.host_routes.clear();
    for (index, u) in prog.cache.locals.values().enumerate() {
        let index = index as u32;
        let p = &u.port;
        for m in &u.port_maps {
            prog.port_maps
                .entry((m.proto, m.external_port))
                .or_default()
                .push(PortMap {
                    port: index,
                    ..m.clone()
                });
        }
        if p.host_attached {
            prog.host_addrs.push(p.ip);
            if let Some((n, _)) = prog.networks[p.network]
                .subnets
                .iter()
                .find(|(n, _)| n.contains(&p.ip))
            {
                prog.host_routes.push(HostRoute {
                    prefix: *n,
                    via: Via::Switch(p.network),
                    origin: "host vNIC",
                });
            }
        }
        if prog.networks[p.network].kind == NetKind::Transparent {
            prog.transparent_by_mac.entry(p.mac).or_insert(p.ip);
            prog.transparent_by_ip.entry(p.ip).or_insert(p.mac);
        }
        prog.port_by_ep.insert(p.endpoint, index);
        prog.port_by_ip.entry(p.ip).or_insert(index);
        if let Some(c) = &p.container {
            prog.ports_by_container.entry(c.clone()).or_default().push(index);
        }
        if let Some(a) = p.ip6 {
            prog.port_by_ip6.entry(a).or_insert(index);
        }
        prog.ports.push(p.clone());
    }
    for (i, n) in prog.networks.iter().enumerate() {
        // Host routes into a network: the host vNIC of NAT/ICS/Internal networks, the overlay
        // `HostRoute` policy, and L2Tunnel (all its traffic goes through the host, P15).
        if n.kind.host_vnic_at_gateway()
            || (n.kind == NetKind::Overlay && n.host_route)
            || n.kind == NetKind::L2Tunnel
        {
            for (prefix, gw) in &n.subnets {
                if n.kind.host_vnic_at_gateway() {
                    if let Some(gw) = gw {
                        prog.host_addrs.push(*gw);
                    }
                }
                prog.host_routes.push(HostRoute {
                    prefix: *prefix,
                    via: Via::Switch(i),
                    origin: match n.kind {
                        NetKind::Overlay => "HostRoute policy",
                        NetKind::L2Tunnel => "L2Tunnel",
                        _ => "host vNIC",
                    },
                });
            }
        }
    }
    // Which endpoint sits at which port index matters to every cached exit (exits name port
    // indexes), and port mappings are host-wide: a change to either renews every port.
    let layout_changed = old.len() != prog.ports.len()
        || old
            .iter()
            .zip(&prog.ports)
            .any(|((o, _), p)| (o.endpoint, o.ip, o.mac, o.network) != (p.endpoint, p.ip, p.mac, p.network));
    let renew_all =
        shared_changed || layout_changed || old_maps != sorted_maps(prog) || old_routes != prog.host_routes;
    prog.port_generation = prog
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| match old.get(i) {
            Some((o, g)) if !renew_all && o == p => *g,
            _ => generation,
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use hnsim_model::state::HostSettings;
    use serde_json::json;

    fn overlay(hns: &mut Hns) -> Guid {
        let doc = json!({"Name": "vxlan0", "Type": "Overlay",
            "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
                "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}],
                "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}],
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}},
                {"Type": "DrMacAddress", "Settings": {"Address": "00-15-5D-AA-00-11"}},
                {"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.2.0/24",
                    "IsolationId": 4096, "ProviderAddress": "10.0.0.12",
                    "DistributedRouterMacAddress": "00-15-5D-AA-00-12"}}]});
        hns.network_create(Guid::ZERO, serde_json::from_value(doc).expect("network document"))
            .expect("a valid network")
    }

    fn compiled(hns: &Hns) -> HostProgram {
        let info = HostInfo {
            ip: "10.0.0.11".parse().unwrap(),
            mac: "00-15-5D-00-00-11".parse().unwrap(),
            mtu: 1500,
            container_mtu_reduction: 50,
            empty_source_vip_uses_node_ip: true,
        };
        let mut prog = HostProgram::default();
        update(&mut prog, hns, &info);
        prog
    }

    #[test]
    fn network_macs_compile_from_the_policies() {
        let mut hns = Hns::new(HostSettings::default(), 7);
        overlay(&mut hns);
        let prog = compiled(&hns);
        let net = &prog.networks[0];
        assert_eq!(net.dr_mac, Some("00-15-5D-AA-00-11".parse().unwrap()));
        let rs: Vec<_> = net
            .remote_subnets
            .iter()
            .map(|r| (r.prefix.to_string(), r.dr_mac))
            .collect();
        assert_eq!(
            rs,
            [("10.244.2.0/24".to_string(), "00-15-5D-AA-00-12".parse().unwrap())]
        );
        assert!(prog.errors.is_empty(), "{:?}", prog.errors);
    }

    /// An imported (unvalidated) endpoint and LB whose values the compile cannot build: each
    /// is reported with its path and left out, none becomes "no value" silently.
    #[test]
    fn imported_values_the_compile_cannot_build_are_reported() {
        let mut hns = Hns::new(HostSettings::default(), 7);
        let net = overlay(&mut hns);
        let ep_id = "11111111-0000-0000-0000-000000000001";
        let ep = json!({"ID": ep_id, "HostComputeNetwork": net.to_string(),
            "MacAddress": "00-15-5D-00-00-21",
            "IpConfigurations": [{"IpAddress": "10.244.1.21"}],
            "Routes": [{"DestinationPrefix": "0.0.0.0/0", "NextHop": "gateway"},
                {"DestinationPrefix": "10.9.0.0/16", "NextHop": "fe80::1"},
                {"DestinationPrefix": "fd00::/64", "NextHop": "fe80::1"}],
            "Policies": [
                {"Type": "ProviderAddress", "Settings": {"ProviderAddress": "fd00::11"}},
                {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080,
                    "VIP": "fd00::1"}},
                {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.0.0.0/8", "NextHop": "fe80::1"}},
                {"Type": "OutBoundNAT", "Settings": {"VirtualIP": "fd00::1"}},
                {"Type": "OutBoundNAT", "Settings": {"Exceptions": ["fd00::/8", "no:address"]}},
                {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "no:prefix"}}]});
        let lb_id = "22222222-0000-0000-0000-000000000001";
        let lb = json!({"ID": lb_id, "HostComputeEndpoints": [ep_id, "nope"],
            "FrontendVIPs": ["10.96.0.10", "ten"], "SourceVIP": "src",
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
        use hnsim_model::document::HnsDocument;
        let report = hns.import([
            HnsDocument::Endpoint(serde_json::from_value(ep).expect("endpoint document")),
            HnsDocument::LoadBalancer(serde_json::from_value(lb).expect("LB document")),
        ]);
        assert_eq!(report.endpoints, 1, "{report:?}");
        let prog = compiled(&hns);
        let port = &prog.ports[0];
        assert_eq!(
            port.gateway,
            Some("10.244.1.1".parse().unwrap()),
            "the subnet's gateway"
        );
        assert!(port.routes.is_empty(), "{:?}", port.routes);
        assert_eq!(port.provider_address, None);
        assert!(port.sdn_routes.is_empty());
        assert_eq!(port.outbound_nat.len(), 2);
        assert_eq!(port.outbound_nat[0].virtual_ip, None);
        assert!(
            port.outbound_nat[1].exceptions.is_empty(),
            "the IPv6 entry does not apply"
        );
        assert!(
            prog.port_maps.is_empty(),
            "the mapping is not widened to every address"
        );
        let errors: Vec<_> = prog
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        let e = format!("endpoints[{ep_id}]");
        let l = format!("loadBalancers[{lb_id}]");
        assert_eq!(
            errors,
            [
                format!(
                    "{e}.Policies[0].Settings.ProviderAddress: expected an IPv4 address, found \"fd00::11\""
                ),
                format!("{e}.Routes[0].NextHop: expected a next hop for 0.0.0.0/0, found \"gateway\""),
                format!("{e}.Routes[1].NextHop: expected an IPv4 address, found \"fe80::1\""),
                format!("{e}.Policies[1].Settings.VIP: expected an IPv4 address, found \"fd00::1\""),
                format!("{e}.Policies[2].Settings.NextHop: expected an IPv4 address, found \"fe80::1\""),
                format!("{e}.Policies[3].Settings.VirtualIP: expected an IPv4 address, found \"fd00::1\""),
                format!("{e}.Policies[4].Settings.Exceptions[1]: expected an IPv4 address or CIDR, found \"no:address\""),
                format!("{e}.Policies[5].Settings.DestinationPrefix: expected a CIDR, found \"no:prefix\""),
                format!("{l}.HostComputeEndpoints[1]: expected a GUID, found \"nope\""),
                format!("{l}.FrontendVIPs[1]: expected an IP address, found \"ten\""),
                format!("{l}.SourceVIP: expected an IP address, found \"src\""),
            ]
        );
    }

    /// Validation and the compile read one repr: a value the repr cannot read is refused by
    /// validation with its HRESULT, and what validation accepts compiles without an error.
    #[test]
    fn validation_refuses_what_the_repr_cannot_read_and_what_it_accepts_compiles() {
        use hnsim_model::repr::{LoadBalancerRepr, NetworkRepr};
        use hnsim_model::HResult;
        let mut hns = Hns::new(HostSettings::default(), 7);
        let net = overlay(&mut hns);
        let ep = json!({"HostComputeNetwork": net.to_string(),
            "IpConfigurations": [{"IpAddress": "10.244.1.21"}], "MacAddress": "00-15-5D-00-00-21",
            "Routes": [{"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.244.1.1"},
                {"DestinationPrefix": "10.9.0.0/16", "NextHop": "10.244.1.2"}],
            "Policies": [
                {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080,
                    "VIP": "10.244.1.100"}},
                {"Type": "OutBoundNAT", "Settings": {"VirtualIP": "10.244.1.100", "Exceptions": ["10.0.0.0/8"],
                    "Destinations": ["1.2.3.0/24"]}},
                {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NextHop": "10.244.1.1"}},
                {"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}},
                {"Type": "ACL", "Settings": {"Action": "Allow", "Direction": "In", "Protocols": "6",
                    "LocalPorts": "80", "RemoteAddresses": "10.0.0.0/8", "Priority": 100}}]});
        let (invalid_ip, invalid_ep, invalid_policy) = (
            HResult::HCN_E_INVALID_IP,
            HResult::HCN_E_INVALID_ENDPOINT,
            HResult::HCN_E_INVALID_POLICY,
        );
        let bad_endpoints = [
            ("/IpConfigurations/0/IpAddress", "ten", invalid_ip),
            ("/MacAddress", "00-15-5D", invalid_ep),
            ("/Routes/0/NextHop", "gateway", invalid_ep),
            ("/Routes/1/NextHop", "fe80::1", invalid_ep),
            ("/Routes/1/DestinationPrefix", "nowhere", invalid_ep),
            ("/Policies/0/Settings/VIP", "fd00::1", invalid_policy),
            ("/Policies/0/Settings/VIP", " ", invalid_policy),
            ("/Policies/1/Settings/VirtualIP", "vip", invalid_policy),
            (
                "/Policies/1/Settings/Exceptions/0",
                "10.0.0.0/8,10.1.0.0/16",
                invalid_policy,
            ),
            ("/Policies/1/Settings/Destinations/0", "nowhere", invalid_policy),
            ("/Policies/2/Settings/NextHop", "fe80::1", invalid_policy),
            (
                "/Policies/2/Settings/DestinationPrefix",
                "nowhere",
                invalid_policy,
            ),
            ("/Policies/3/Settings/ProviderAddress", "pa", invalid_policy),
            ("/Policies/4/Settings/Direction", "Sideways", invalid_policy),
            ("/Policies/4/Settings/Protocols", "6,300", invalid_policy),
            ("/Policies/4/Settings/LocalPorts", "80-70", invalid_policy),
            (
                "/Policies/4/Settings/RemoteAddresses",
                "10.0.0.0/8,nowhere",
                invalid_policy,
            ),
        ];
        for (at, value, code) in bad_endpoints {
            let mut doc = ep.clone();
            *doc.pointer_mut(at).expect("a path of the document") = json!(value);
            let parsed: Endpoint = serde_json::from_value(doc).expect("endpoint document");
            assert!(
                EndpointRepr::parse(&parsed).errors().next().is_some(),
                "{at} = {value:?}"
            );
            let refused = hns.endpoint_create(Guid::ZERO, parsed).expect_err(at);
            assert_eq!(refused.code, code, "{at} = {value:?}: {}", refused.message);
        }
        let id = hns
            .endpoint_create(Guid::ZERO, serde_json::from_value(ep).expect("endpoint document"))
            .expect("a valid endpoint");
        assert_eq!(hns.endpoint_repr(&id).map(|r| r.errors().count()), Some(0));
        let lb = json!({"HostComputeEndpoints": [id.to_string()], "FrontendVIPs": ["10.96.0.10"],
            "SourceVIP": "10.244.1.100", "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
        for (at, value, code) in [
            (
                "/HostComputeEndpoints/0",
                "nope",
                HResult::HCN_E_GUID_CONVERSION_FAILURE,
            ),
            ("/FrontendVIPs/0", "ten", invalid_ip),
            ("/SourceVIP", "src", invalid_ip),
        ] {
            let mut doc = lb.clone();
            *doc.pointer_mut(at).expect("a path of the document") = json!(value);
            let parsed: LoadBalancer = serde_json::from_value(doc).expect("LB document");
            assert!(LoadBalancerRepr::parse(&parsed).errors().next().is_some(), "{at}");
            assert_eq!(
                hns.load_balancer_create(Guid::ZERO, parsed).expect_err(at).code,
                code,
                "{at}"
            );
        }
        hns.load_balancer_create(Guid::ZERO, serde_json::from_value(lb).expect("LB document"))
            .expect("a valid load balancer");
        let net_doc = json!({"Name": "l2", "Type": "L2Bridge",
            "Ipams": [{"Subnets": [{"IpAddressPrefix": "10.250.0.0/24",
                "Routes": [{"NextHop": "10.250.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}],
            "Policies": [{"Type": "DrMacAddress", "Settings": {"Address": "00-15-5D-AA-00-31"}}]});
        for (at, value, code) in [
            (
                "/Ipams/0/Subnets/0/IpAddressPrefix",
                "10.250.0.0",
                HResult::HCN_E_INVALID_NETWORK,
            ),
            (
                "/Ipams/0/Subnets/0/Routes/0/NextHop",
                "fe80::1",
                HResult::HCN_E_INVALID_NETWORK,
            ),
            ("/Policies/0/Settings/Address", "00-15-5D", invalid_policy),
        ] {
            let mut doc = net_doc.clone();
            *doc.pointer_mut(at).expect("a path of the document") = json!(value);
            let parsed: Network = serde_json::from_value(doc).expect("network document");
            assert!(NetworkRepr::parse(&parsed).errors().next().is_some(), "{at}");
            assert_eq!(
                hns.network_create(Guid::ZERO, parsed).expect_err(at).code,
                code,
                "{at}"
            );
        }
        hns.network_create(
            Guid::ZERO,
            serde_json::from_value(net_doc).expect("network document"),
        )
        .expect("a valid network");
        let prog = compiled(&hns);
        assert!(prog.errors.is_empty(), "{:?}", prog.errors);
        assert_eq!(prog.ports.len(), 1);
        assert_eq!(prog.ports[0].routes.len(), 1);
        assert_eq!(prog.ports[0].sdn_routes.iter().count(), 1);
        assert_eq!(prog.ports[0].provider_address, Some("10.0.0.11".parse().unwrap()));
        assert_eq!(prog.ports[0].acl_switch[0].rules.len(), 1, "the ACL, inbound");
    }

    /// An imported ACL that does not read, and one whose action VFP does not model (`Pass`),
    /// are reported with the field's path; the endpoint keeps its other rules.
    #[test]
    fn imported_acls_the_compile_cannot_build_are_reported() {
        let mut hns = Hns::new(HostSettings::default(), 7);
        let net = overlay(&mut hns);
        let ep_id = "11111111-0000-0000-0000-000000000002";
        let ep = json!({"ID": ep_id, "HostComputeNetwork": net.to_string(),
            "MacAddress": "00-15-5D-00-00-22", "IpConfigurations": [{"IpAddress": "10.244.1.22"}],
            "Policies": [
                {"Type": "ACL", "Settings": {"Action": "Pass", "Direction": "In", "Priority": 100}},
                {"Type": "ACL", "Settings": {"Action": "Block", "Direction": "Out", "RemotePorts": "90-80"}},
                {"Type": "ACL", "Settings": {"Action": "Allow", "Direction": "In", "Priority": 200}}]});
        use hnsim_model::document::HnsDocument;
        hns.import([HnsDocument::Endpoint(
            serde_json::from_value(ep).expect("endpoint document"),
        )]);
        let prog = compiled(&hns);
        let e = format!("endpoints[{ep_id}]");
        let errors: Vec<_> = prog
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        assert_eq!(
            errors,
            [
                format!(
                    "{e}.Policies[0].Settings.Action: expected Allow or Block (Pass is not modelled), found \"Pass\""
                ),
                format!("{e}.Policies[1].Settings.RemotePorts: expected a port or port range, found \"90-80\""),
            ]
        );
        let port = &prog.ports[0];
        assert_eq!(port.acl_switch[0].rules.len(), 1, "the Allow rule stays");
        assert!(port.acl_switch[1].rules.is_empty());
    }

    /// An imported network's values that do not read are each reported, also in what the
    /// dataplane does not program (a subnet's other routes, the network's ProviderAddress).
    #[test]
    fn imported_network_values_the_compile_cannot_build_are_reported() {
        let mut hns = Hns::new(HostSettings::default(), 7);
        let id = "33333333-0000-0000-0000-000000000001";
        let net = json!({"ID": id, "Name": "imported", "Type": "L2Bridge",
            "Ipams": [{"Subnets": [{"IpAddressPrefix": "10.250.0.0/24",
                "Routes": [{"NextHop": "gateway", "DestinationPrefix": "0.0.0.0/0"},
                    {"NextHop": "10.250.0.2", "DestinationPrefix": "10.9.0.0/16"},
                    {"NextHop": "fe80::1", "DestinationPrefix": "10.8.0.0/16"},
                    {"NextHop": "10.250.0.3", "DestinationPrefix": "nowhere"}]},
                {"IpAddressPrefix": "10.251.0.0", "Routes": []}]}],
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "pa"}},
                {"Type": "VxlanPort", "Settings": {"Port": 0}}]});
        use hnsim_model::document::HnsDocument;
        hns.import([HnsDocument::Network(
            serde_json::from_value(net).expect("network document"),
        )]);
        let prog = compiled(&hns);
        let errors: Vec<_> = prog
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        let n = format!("networks[{id}]");
        assert_eq!(
            errors,
            [
                format!(
                    "{n}.Subnets[0].Routes[0].NextHop: expected a next hop for 0.0.0.0/0, found \"gateway\""
                ),
                format!("{n}.Subnets[0].Routes[2].NextHop: expected an IPv4 address, found \"fe80::1\""),
                format!("{n}.Subnets[0].Routes[3].DestinationPrefix: expected a CIDR, found \"nowhere\""),
                format!("{n}.Subnets[1].IpAddressPrefix: expected a CIDR, found \"10.251.0.0\""),
                format!("{n}.Policies[0].Settings.ProviderAddress: expected an IP address, found \"pa\""),
            ]
        );
        let net = &prog.networks[0];
        assert_eq!(net.subnets.len(), 1);
        assert_eq!(net.subnets[0].1, None, "no gateway, not a default one");
        assert_eq!(net.vxlan_port, 4789, "VxlanPort 0 names no port");
    }

    /// A state that skipped validation (restored, or edited by hand) may hold MACs validation
    /// rejects: compile reports them and skips the policy, never an all-zero MAC.
    #[test]
    fn malformed_network_macs_are_compile_errors_not_zero_macs() {
        let mut hns = Hns::new(HostSettings::default(), 7);
        let id = overlay(&mut hns);
        for p in &mut hns.networks.get_mut(&id).expect("the network").policies {
            match p {
                NetworkPolicy::DrMacAddress(d) => d.address = "00-15-5D-AA".into(),
                NetworkPolicy::RemoteSubnetRoute(r) => r.distributed_router_mac_address = "not a MAC".into(),
                _ => {}
            }
        }
        // Edited behind the state machine's back: the kept reprs are read again.
        hns.rebuild_indexes();
        let prog = compiled(&hns);
        let net = &prog.networks[0];
        assert_eq!(net.dr_mac, None, "the derived DR MAC stays");
        assert!(net.remote_subnets.is_empty(), "{:?}", net.remote_subnets);
        let errors: Vec<_> = prog
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        assert_eq!(
            errors,
            [
                format!("networks[{id}].Policies[1].Settings.Address: expected a MAC address, found \"00-15-5D-AA\""),
                format!(
                    "networks[{id}].Policies[2].Settings.DistributedRouterMacAddress: expected a MAC address, \
                     found \"not a MAC\""
                ),
            ]
        );
    }
}
