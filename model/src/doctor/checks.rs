//! The doctor's checks. Each is one function over the state; [`CHECKS`] names them, gives their
//! severity and the public issue they come from (docs/reference/node-dumps.md §8).

use super::{Check, Context, Out, Severity};
use crate::ids::Guid;
use crate::repr;
use crate::schema::lb_flags::{DSR, IPV6};
use crate::schema::lb_port_flags::LOCAL_ROUTED_VIP;
use crate::schema::network_flags::ENABLE_NON_PERSISTENT;
use crate::schema::{
    Endpoint, EndpointPolicy, LoadBalancer, Network, NetworkPolicy, NetworkType, SubnetPolicy,
};
use crate::state::Hns;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

macro_rules! check {
    ($name:literal, $sev:ident, $what:literal, $reference:literal, $run:ident) => {
        Check {
            name: $name,
            severity: Severity::$sev,
            what: $what,
            reference: $reference,
            run: $run,
        }
    };
}

pub static CHECKS: &[Check] = &[
    check!("unreadable-value", Error,
        "a value of a network, endpoint or load balancer that does not read as what its field holds (address, prefix, MAC, GUID): HNS would refuse it, the dataplane leaves it out",
        "docs/reference/hns-schema.md §6.1", unreadable_value),
    check!("dangling-reference", Error,
        "an endpoint, namespace or route names an object the state does not hold (LB backends: lb-missing-backend)",
        "docs/reference/node-dumps.md §6", dangling_reference),
    check!("stale-remote-endpoint", Error,
        "a remote endpoint has the address of a local endpoint (a reused pod IP)",
        "kubernetes/kubernetes#130963 (consumers.md P12)", stale_remote_endpoint),
    check!("duplicate-lb-frontend", Error,
        "two load balancers on one VIP:port:protocol",
        "kubernetes/community#8883 (HCN_E_PORT_ALREADY_EXISTS)", duplicate_lb_frontend),
    check!("lb-missing-backend", Error,
        "a load balancer names a backend endpoint that does not exist",
        "kubernetes/kubernetes#139519", lb_missing_backend),
    check!("lb-without-backends", Warning,
        "a load balancer with no backend at all holds its VIP and port",
        "kubernetes/kubernetes#137530", lb_without_backends),
    check!("outbound-nat-wide-exception", Warning,
        "an OutBoundNAT exception so wide that non-cluster destinations are not SNATed",
        "Azure/AKS#1367 (consumers.md P4)", outbound_nat_wide_exception),
    check!("outbound-nat-missing-pod-subnet", Warning,
        "a pod's OutBoundNAT exceptions do not cover its own pod subnet: pod-to-pod traffic is SNATed",
        "consumers.md P4 (microsoft/SDN#170)", outbound_nat_missing_pod_subnet),
    check!("overlay-remote-without-pa", Error,
        "a remote endpoint on an overlay network has no ProviderAddress: nothing to encapsulate to",
        "consumers.md §2.1, S8 (flannel-io/flannel vxlan remote endpoints)", overlay_remote_without_pa),
    check!("vsid-mismatch", Error,
        "a RemoteSubnetRoute's IsolationId differs from the network's VSID",
        "consumers.md §2.1 (flannel-io/flannel vxlan_network_windows.go)", vsid_mismatch),
    check!("vxlan-parameters", Warning,
        "a VSID below 4096 or a VXLAN port other than 4789",
        "consumers.md P9 (flannel-io/flannel vxlan_windows.go validation)", vxlan_parameters),
    check!("remote-subnet-route", Error,
        "RemoteSubnetRoutes that overlap each other or the local pod subnet, or point at this node",
        "consumers.md §2.1 (flannel-io/flannel vxlan_network_windows.go)", remote_subnet_route),
    check!("pod-ip-is-gateway", Error,
        "a local endpoint holds its subnet's gateway address",
        "microsoft/SDN#333", pod_ip_is_gateway),
    check!("mtu-encap-overhead", Warning,
        "EncapOverhead or the underlay MTU leave no room for the 50 bytes of VXLAN",
        "Azure/AKS#2873, microsoft/SDN#517 (consumers.md P8)", mtu_encap_overhead),
    check!("overlay-source-vip", Error,
        "an overlay load balancer without SourceVIP, or whose SourceVIP no local endpoint holds",
        "kubernetes/kubernetes#78338 (consumers.md P7)", overlay_source_vip),
    check!("non-persistent-network-lbs", Warning,
        "load balancers depend on a non-persistent network that an HNS restart removes",
        "kubernetes/kubernetes#139519 (consumers.md P11)", non_persistent_network_lbs),
    check!("snat-ports-exhausted", Warning,
        "the port pools HNS holds for SNAT nearly fill the dynamic port range",
        "Azure/AKS#1375 (consumers.md P13)", snat_ports_exhausted),
    check!("hairpin-without-loopback-dsr", Warning,
        "a DSR load balancer with a local backend that has no loopback-DSR OutBoundNAT rule",
        "projectcalico/calico#5522 (consumers.md P1)", hairpin_without_loopback_dsr),
    check!("nodeport-without-local-routed-vip", Info,
        "a NodePort load balancer without LocalRoutedVIP: the node cannot reach its own NodePort",
        "projectcalico/calico#7305 (consumers.md P2)", nodeport_without_local_routed_vip),
    check!("empty-source-vip-l2bridge", Info,
        "a non-DSR load balancer on L2Bridge with an empty SourceVIP (kube-proxy's default; a loop on some WS2019 builds)",
        "kubernetes/community#8890 (consumers.md P3)", empty_source_vip_l2bridge),
    check!("scale-limits", Warning,
        "more than 1024 backends behind one load balancer, or IPv6 on an overlay network",
        "consumers.md P14", scale_limits),
];

// ---- labels and small readers -------------------------------------------------------------

// The readers below are the typed values' (`crate::repr`), so the doctor reads a value the way
// validation and the compile do.

fn ips(e: &Endpoint) -> Vec<IpAddr> {
    e.ip_configurations
        .iter()
        .filter_map(|c| repr::ip(&c.ip_address))
        .collect()
}

fn ep_label(id: &Guid, e: &Endpoint) -> String {
    let ip: Vec<String> = ips(e).iter().map(|i| i.to_string()).collect();
    let remote = if e.is_remote() { ", remote" } else { "" };
    format!("endpoint {id} ({}{remote})", ip.join(", "))
}

pub(crate) fn proto(p: u32) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        n => format!("proto {n}"),
    }
}

fn lb_label(id: &Guid, l: &LoadBalancer) -> String {
    let vip = if l.frontend_vips.is_empty() {
        "node".to_string()
    } else {
        l.frontend_vips.join(",")
    };
    let pm: Vec<String> = l
        .port_mappings
        .iter()
        .map(|m| format!("{vip}:{}/{}", m.external_port, proto(m.protocol)))
        .collect();
    format!("load balancer {id} ({})", pm.join(" "))
}

fn net_label(id: &Guid, n: &Network) -> String {
    format!("network {id} ({}, {})", n.name, n.kind().as_str())
}

fn network_of<'a>(hns: &'a Hns, e: &Endpoint) -> Option<(&'a Guid, &'a Network)> {
    let g = repr::guid(&e.host_compute_network)?;
    hns.networks.get_key_value(&g)
}

fn is_overlay(hns: &Hns, e: &Endpoint) -> bool {
    network_of(hns, e).is_some_and(|(_, n)| n.kind() == NetworkType::Overlay)
}

fn backends<'a>(hns: &'a Hns, l: &'a LoadBalancer) -> impl Iterator<Item = (Guid, &'a Endpoint)> + 'a {
    l.host_compute_endpoints
        .iter()
        .filter_map(|s| repr::guid(s))
        .filter_map(|g| hns.endpoints.get(&g).map(|e| (g, e)))
}

fn outbound_nat(e: &Endpoint) -> impl Iterator<Item = &crate::schema::OutboundNatPolicy> {
    e.policies.iter().filter_map(|p| match p {
        EndpointPolicy::OutBoundNat(o) => Some(o),
        _ => None,
    })
}

fn provider_address(e: &Endpoint) -> Option<&str> {
    e.policies.iter().find_map(|p| match p {
        EndpointPolicy::ProviderAddress(pa) if !pa.provider_address.is_empty() => {
            Some(pa.provider_address.as_str())
        }
        _ => None,
    })
}

/// A CIDR or a bare address (`10.0.0.4` = `/32`).
fn net(s: &str) -> Option<IpNet> {
    repr::addr_or_net(s)
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

fn subnet_vsids(n: &Network) -> Vec<u32> {
    n.subnets()
        .flat_map(|s| s.policies.iter())
        .filter_map(|p| match p {
            SubnetPolicy::Vsid(v) => Some(v.isolation_id),
            _ => None,
        })
        .collect()
}

fn node_pas(hns: &Hns, ctx: &Context) -> BTreeSet<IpAddr> {
    let mut s: BTreeSet<IpAddr> = ctx.node_ip.into_iter().collect();
    for n in hns.networks.values() {
        for p in &n.policies {
            if let NetworkPolicy::ProviderAddress(pa) = p {
                if let Some(ip) = repr::ip(&pa.provider_address) {
                    s.insert(ip);
                }
            }
        }
    }
    s
}

// ---- the checks ---------------------------------------------------------------------------

fn unreadable_value(hns: &Hns, _: &Context, out: &mut Out) {
    let mut report = |label: String, errors: Vec<String>| {
        for e in errors {
            out.add(format!("{label}: {e}"), vec![label.clone()]);
        }
    };
    let text = |e: &crate::repr::ReprError| e.to_string();
    for (id, n) in &hns.networks {
        report(
            net_label(id, n),
            hns.network_values(n).errors().map(text).collect(),
        );
    }
    for (id, e) in &hns.endpoints {
        report(
            ep_label(id, e),
            hns.endpoint_values(e).errors().map(text).collect(),
        );
    }
    for (id, l) in &hns.load_balancers {
        report(
            lb_label(id, l),
            hns.load_balancer_values(l).errors().map(text).collect(),
        );
    }
}

fn dangling_reference(_: &Hns, ctx: &Context, out: &mut Out) {
    // Load balancers' missing backends are lb-missing-backend's.
    for p in ctx.import_problems.iter().filter(|p| p.kind != "load balancer") {
        out.add(
            format!("{} {}: {}", p.kind, p.id, p.message),
            vec![format!("{} {}", p.kind, p.id)],
        );
    }
}

fn stale_remote_endpoint(hns: &Hns, _: &Context, out: &mut Out) {
    let mut local: BTreeMap<IpAddr, Vec<Guid>> = BTreeMap::new();
    for (id, e) in &hns.endpoints {
        if !e.is_remote() {
            for ip in ips(e) {
                local.entry(ip).or_default().push(*id);
            }
        }
    }
    for (id, e) in hns.endpoints.iter().filter(|(_, e)| e.is_remote()) {
        for ip in ips(e) {
            for l in local.get(&ip).into_iter().flatten() {
                let users: Vec<String> = hns
                    .load_balancers
                    .iter()
                    .filter(|(_, lb)| backends(hns, lb).any(|(g, _)| g == *id))
                    .map(|(g, lb)| lb_label(g, lb))
                    .collect();
                let mut objects = vec![ep_label(id, e), ep_label(l, &hns.endpoints[l])];
                let tail = if users.is_empty() {
                    String::new()
                } else {
                    objects.extend(users.iter().cloned());
                    format!("; {} load balancer(s) still send to the remote one", users.len())
                };
                out.add(
                    format!("remote endpoint {id} and local endpoint {l} both hold {ip}: the pod IP was reused and the remote endpoint is stale{tail}"),
                    objects,
                );
            }
        }
    }
}

fn duplicate_lb_frontend(hns: &Hns, _: &Context, out: &mut Out) {
    let mut seen: BTreeMap<(u32, String, u16), Vec<Guid>> = BTreeMap::new();
    for (id, l) in &hns.load_balancers {
        let vips: Vec<String> = if l.frontend_vips.is_empty() {
            vec![String::new()]
        } else {
            l.frontend_vips.iter().map(|v| v.trim().to_string()).collect()
        };
        for m in &l.port_mappings {
            for v in &vips {
                let ids = seen.entry((m.protocol, v.clone(), m.external_port)).or_default();
                if !ids.contains(id) {
                    ids.push(*id);
                }
            }
        }
    }
    for ((p, vip, port), ids) in seen {
        if ids.len() > 1 {
            let vip = if vip.is_empty() {
                "the node (no VIP)".to_string()
            } else {
                vip
            };
            out.add(
                format!("{} load balancers on {vip}:{port}/{}: HNS refuses the second create with 0x803B0013, so one of them is stale", ids.len(), proto(p)),
                ids.iter().map(|g| lb_label(g, &hns.load_balancers[g])).collect(),
            );
        }
    }
}

fn lb_missing_backend(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, l) in &hns.load_balancers {
        let missing: Vec<&String> = l
            .host_compute_endpoints
            .iter()
            .filter(|s| !repr::guid(s).is_some_and(|g| hns.endpoints.contains_key(&g)))
            .collect();
        if !missing.is_empty() {
            let mut objects = vec![lb_label(id, l)];
            objects.extend(missing.iter().map(|m| format!("endpoint {m} (missing)")));
            out.add(
                format!(
                    "{} of {} backend(s) do not exist: traffic the LB picks for them is lost",
                    missing.len(),
                    l.host_compute_endpoints.len()
                ),
                objects,
            );
        }
    }
}

fn lb_without_backends(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, l) in &hns.load_balancers {
        if l.host_compute_endpoints.is_empty() {
            out.add(
                "no backends: the VIP and port stay taken and every connection fails".into(),
                vec![lb_label(id, l)],
            );
        }
    }
}

fn outbound_nat_wide_exception(hns: &Hns, ctx: &Context, out: &mut Out) {
    for (id, e) in &hns.endpoints {
        for o in outbound_nat(e) {
            // IPv4 only: the AKS#1367 shape; IPv6 cluster prefixes vary too much to judge.
            for x in &o.exceptions {
                if let Some(n) = net(x).filter(|n| n.addr().is_ipv4()) {
                    let limit = ctx.widest_exception;
                    if n.prefix_len() < limit {
                        out.add(
                            format!("OutBoundNAT exception {x} is wider than /{limit}: destinations in it outside the cluster (a VNet service, an App Gateway) are reached without SNAT and their replies cannot return"),
                            vec![ep_label(id, e)],
                        );
                    }
                }
            }
        }
    }
}

fn outbound_nat_missing_pod_subnet(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, e) in hns.endpoints.iter().filter(|(_, e)| !e.is_remote()) {
        let Some((_, n)) = network_of(hns, e) else {
            continue;
        };
        let nats: Vec<_> = outbound_nat(e).filter(|o| o.destinations.is_empty()).collect();
        if nats.is_empty() {
            continue;
        }
        let exc: Vec<IpNet> = nats
            .iter()
            .flat_map(|o| o.exceptions.iter())
            .filter_map(|x| net(x))
            .collect();
        for s in n.subnets().filter_map(|s| net(&s.ip_address_prefix)) {
            if !exc.iter().any(|x| x.contains(&s)) {
                out.add(
                    format!("OutBoundNAT exceptions do not cover the pod subnet {s}: traffic to other pods is SNATed to the node"),
                    vec![ep_label(id, e)],
                );
            }
        }
    }
}

fn overlay_remote_without_pa(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, e) in &hns.endpoints {
        if e.is_remote() && is_overlay(hns, e) && provider_address(e).is_none() {
            out.add(
                "remote endpoint on an overlay network without a ProviderAddress policy: packets to it cannot be encapsulated".into(),
                vec![ep_label(id, e)],
            );
        }
    }
}

fn remote_subnet_routes(n: &Network) -> impl Iterator<Item = &crate::schema::RemoteSubnetRoutePolicy> {
    n.policies.iter().filter_map(|p| match p {
        NetworkPolicy::RemoteSubnetRoute(r) => Some(r),
        _ => None,
    })
}

fn vsid_mismatch(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, n) in &hns.networks {
        let vsids = subnet_vsids(n);
        if vsids.is_empty() {
            continue;
        }
        for r in remote_subnet_routes(n) {
            if !vsids.contains(&r.isolation_id) {
                out.add(
                    format!("RemoteSubnetRoute {} has IsolationId {}, the network's VSID is {}: encapsulated packets carry a VNI the other node drops", r.destination_prefix, r.isolation_id, vsids[0]),
                    vec![net_label(id, n)],
                );
            }
        }
    }
}

fn vxlan_parameters(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, n) in hns
        .networks
        .iter()
        .filter(|(_, n)| n.kind() == NetworkType::Overlay)
    {
        for v in subnet_vsids(n).into_iter().filter(|v| *v < 4096) {
            out.add(
                format!("VSID {v} is below 4096, which Windows overlay (and flannel) do not accept"),
                vec![net_label(id, n)],
            );
        }
        for p in &n.policies {
            if let NetworkPolicy::VxlanPort(v) = p {
                if v.port != 4789 {
                    out.add(
                        format!(
                            "VXLAN port {} instead of 4789: Windows overlay uses 4789 only",
                            v.port
                        ),
                        vec![net_label(id, n)],
                    );
                }
            }
        }
    }
}

fn remote_subnet_route(hns: &Hns, ctx: &Context, out: &mut Out) {
    let me = node_pas(hns, ctx);
    for (id, n) in &hns.networks {
        let own: Vec<IpNet> = n.subnets().filter_map(|s| net(&s.ip_address_prefix)).collect();
        let routes: Vec<_> = remote_subnet_routes(n).collect();
        for (i, r) in routes.iter().enumerate() {
            let Some(p) = net(&r.destination_prefix) else {
                continue;
            };
            for q in routes[i + 1..]
                .iter()
                .filter_map(|r2| net(&r2.destination_prefix))
            {
                if overlaps(&p, &q) {
                    out.add(
                        format!(
                            "RemoteSubnetRoutes {p} and {q} overlap: one of the remote nodes is unreachable"
                        ),
                        vec![net_label(id, n)],
                    );
                }
            }
            if let Some(s) = own.iter().find(|s| overlaps(s, &p)) {
                out.add(
                    format!("RemoteSubnetRoute {p} overlaps the local pod subnet {s}"),
                    vec![net_label(id, n)],
                );
            }
            if repr::ip(&r.provider_address).is_some_and(|pa| me.contains(&pa)) {
                out.add(
                    format!("RemoteSubnetRoute {p} points at this node's own address {}: a stale route from a previous lease", r.provider_address),
                    vec![net_label(id, n)],
                );
            }
        }
    }
}

fn pod_ip_is_gateway(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, e) in hns.endpoints.iter().filter(|(_, e)| !e.is_remote()) {
        let Some((nid, n)) = network_of(hns, e) else {
            continue;
        };
        let gws: BTreeSet<IpAddr> = n
            .subnets()
            .flat_map(|s| s.routes.iter())
            .filter_map(|r| repr::ip(&r.next_hop))
            .collect();
        for ip in ips(e).into_iter().filter(|ip| gws.contains(ip)) {
            out.add(
                format!("the endpoint holds {ip}, the gateway of its subnet: IPAM handed out the bridge gateway; pods on this node lose their gateway"),
                vec![ep_label(id, e), net_label(nid, n)],
            );
        }
    }
}

/// VXLAN over IPv4: outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8.
const VXLAN_OVERHEAD: u16 = 50;
/// The container MTU HNS sets for process-isolated containers (consumers.md P8).
const CONTAINER_MTU: u16 = 1450;

fn encap_overhead(e: &Endpoint) -> Option<u16> {
    e.policies
        .iter()
        .find_map(|p| match p {
            EndpointPolicy::EncapOverhead(o) => Some(o.overhead),
            _ => None,
        })
        .or_else(|| {
            let v = e
                .extra
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("EncapOverhead"))?
                .1;
            v.as_u64().map(|n| n as u16)
        })
}

fn mtu_encap_overhead(hns: &Hns, ctx: &Context, out: &mut Out) {
    for (id, e) in hns
        .endpoints
        .iter()
        .filter(|(_, e)| !e.is_remote() && is_overlay(hns, e))
    {
        if let Some(o) = encap_overhead(e).filter(|o| *o < VXLAN_OVERHEAD) {
            out.add(
                format!("EncapOverhead {o} is less than the {VXLAN_OVERHEAD} bytes VXLAN adds: full-size packets from this pod exceed the underlay MTU once encapsulated"),
                vec![ep_label(id, e)],
            );
        }
    }
    let overlay: Vec<(&Guid, &Network)> = hns
        .networks
        .iter()
        .filter(|(_, n)| n.kind() == NetworkType::Overlay)
        .collect();
    if ctx.underlay_mtu < CONTAINER_MTU + VXLAN_OVERHEAD {
        for (id, n) in overlay {
            out.add(
                format!("underlay MTU {} is below {}: the container MTU HNS sets ({CONTAINER_MTU}) plus {VXLAN_OVERHEAD} bytes of VXLAN does not fit; large packets are dropped", ctx.underlay_mtu, CONTAINER_MTU + VXLAN_OVERHEAD),
                vec![net_label(id, n)],
            );
        }
    }
}

fn overlay_source_vip(hns: &Hns, _: &Context, out: &mut Out) {
    let local_overlay_ips: BTreeSet<IpAddr> = hns
        .endpoints
        .values()
        .filter(|e| !e.is_remote() && is_overlay(hns, e))
        .flat_map(ips)
        .collect();
    for (id, l) in &hns.load_balancers {
        if !backends(hns, l).any(|(_, e)| is_overlay(hns, e)) {
            continue;
        }
        let src = l.source_vip.trim();
        if src.is_empty() {
            if l.flags & DSR != 0 {
                out.add(
                    "DSR load balancer on an overlay network with no SourceVIP".into(),
                    vec![lb_label(id, l)],
                );
            } else {
                out.add("load balancer on an overlay network with no SourceVIP: kube-proxy's --source-vip was not set".into(), vec![lb_label(id, l)]);
            }
        } else if repr::ip(src).is_some_and(|ip| !local_overlay_ips.contains(&ip)) {
            out.add(
                format!("SourceVIP {src} is held by no local endpoint on the overlay network: the source-VIP endpoint is missing (stale sourceVip.json?), replies to SNATed traffic have nowhere to go"),
                vec![lb_label(id, l)],
            );
        }
    }
}

fn non_persistent_network_lbs(hns: &Hns, _: &Context, out: &mut Out) {
    for (nid, n) in hns
        .networks
        .iter()
        .filter(|(_, n)| n.flags & ENABLE_NON_PERSISTENT != 0)
    {
        let lbs: Vec<String> = hns
            .load_balancers
            .iter()
            .filter(|(_, l)| backends(hns, l).any(|(_, e)| network_of(hns, e).is_some_and(|(g, _)| g == nid)))
            .map(|(g, l)| lb_label(g, l))
            .collect();
        if !lbs.is_empty() {
            let mut objects = vec![net_label(nid, n)];
            let count = lbs.len();
            objects.extend(lbs);
            out.add(
                format!("network has EnableNonPersistent (Flags 8): an HNS restart removes it and its endpoints, while {count} load balancer(s) on it come back naming endpoints that are gone"),
                objects,
            );
        }
    }
}

/// Ports held by one `PortRanges` item: `{Start…, End…}` when it says, else one 64-port block.
fn range_ports(v: &serde_json::Value) -> u32 {
    let num = |want: &str| {
        v.as_object()?
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase().contains(want))
            .and_then(|(_, x)| x.as_u64())
    };
    match (num("start"), num("end")) {
        (Some(s), Some(e)) if e >= s => (e - s + 1).min(u32::MAX as u64) as u32,
        _ => 64,
    }
}

fn snat_ports_exhausted(_: &Hns, ctx: &Context, out: &mut Out) {
    let mut held: u64 = 0;
    let mut allocations = 0;
    let mut visit = |a: &serde_json::Value| {
        if let Some(ranges) = a
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("PortRanges")))
            .and_then(|(_, v)| v.as_array())
        {
            allocations += 1;
            held += ranges.iter().map(|r| range_ports(r) as u64).sum::<u64>();
        }
    };
    for v in &ctx.port_pools {
        match v {
            serde_json::Value::Array(a) => a.iter().for_each(&mut visit),
            other => visit(other),
        }
    }
    let total = ctx.dynamic_ports as u64;
    if allocations > 0 && held * 10 >= total * 9 {
        out.add(
            format!("{held} of {total} dynamic ports are held in {allocations} port pool allocation(s): new SNAT flows (DNS, egress) fail once they run out"),
            vec![format!("{allocations} port pool allocation(s)")],
        );
    }
}

fn hairpin_without_loopback_dsr(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, l) in hns.load_balancers.iter().filter(|(_, l)| l.flags & DSR != 0) {
        for (g, e) in backends(hns, l).filter(|(_, e)| !e.is_remote()) {
            let own = ips(e);
            let loopback = outbound_nat(e).any(|o| {
                o.destinations
                    .iter()
                    .filter_map(|d| net(d))
                    .any(|d| own.iter().any(|ip| d.contains(ip)))
            });
            if !loopback {
                out.add(
                    "a pod behind this DSR load balancer has no OutBoundNAT Destinations [its own IP] (loopbackDSR): when it calls the service and is picked itself, the connection times out".into(),
                    vec![lb_label(id, l), ep_label(&g, e)],
                );
            }
        }
    }
}

fn nodeport_without_local_routed_vip(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, l) in hns
        .load_balancers
        .iter()
        .filter(|(_, l)| l.frontend_vips.is_empty())
    {
        if l.port_mappings.iter().any(|m| m.flags & LOCAL_ROUTED_VIP == 0) {
            out.add(
                "NodePort load balancer without the LocalRoutedVIP port-mapping flag (2): the node itself cannot reach this NodePort".into(),
                vec![lb_label(id, l)],
            );
        }
    }
}

fn empty_source_vip_l2bridge(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, l) in &hns.load_balancers {
        let on_bridge = backends(hns, l)
            .any(|(_, e)| network_of(hns, e).is_some_and(|(_, n)| n.kind() == NetworkType::L2Bridge));
        if on_bridge && l.flags & DSR == 0 && l.source_vip.trim().is_empty() {
            out.add(
                "non-DSR load balancer on L2Bridge with an empty SourceVIP (what kube-proxy sends on L2Bridge): older HNS uses the node IP, some WS2019 builds SNAT to the VIP itself and replies loop".into(),
                vec![lb_label(id, l)],
            );
        }
    }
}

fn scale_limits(hns: &Hns, _: &Context, out: &mut Out) {
    for (id, l) in &hns.load_balancers {
        if l.host_compute_endpoints.len() > 1024 {
            out.add(
                format!(
                    "{} backends: more than 1024 per service is unsupported",
                    l.host_compute_endpoints.len()
                ),
                vec![lb_label(id, l)],
            );
        }
        if l.flags & IPV6 != 0 && backends(hns, l).any(|(_, e)| is_overlay(hns, e)) {
            out.add(
                "IPv6 load balancer on an overlay network: IPv6 is unsupported on overlay".into(),
                vec![lb_label(id, l)],
            );
        }
    }
    for (id, e) in &hns.endpoints {
        if is_overlay(hns, e) && ips(e).iter().any(IpAddr::is_ipv6) {
            out.add(
                "IPv6 address on an overlay endpoint: IPv6 between overlay pods is unsupported".into(),
                vec![ep_label(id, e)],
            );
        }
    }
}
