//! Validation and normalisation of documents before they are stored (hns-schema.md §6.1).
//! Every function here reads the state and never changes it.
//!
//! Where a feature is missing on the configured HNS version (§4.6): an unsupported policy type
//! fails with HCN_E_INVALID_POLICY_TYPE; an unsupported flag or address family with
//! HCN_E_REQUEST_UNSUPPORTED (the exact code real HNS returns is not documented; inferred).

use super::index::{port_keys, PortKey};
use super::ipam::{self, SubnetView};
use super::{err, Feature, Hns, ERROR_OBJECT_ALREADY_EXISTS};
use crate::hresult::{HResult, HcnResult};
use crate::ids::{Guid, Mac};
use crate::repr::{
    AclRepr, EndpointPolicyRepr, EndpointRepr, LoadBalancerRepr, NetworkPolicyRepr, NetworkRepr, RouteRepr,
    SdnRouteRepr,
};
use crate::schema::{
    lb_flags, nat_flags, network_flags, AclPolicy, Endpoint, EndpointPolicy, LoadBalancer, Network,
    NetworkPolicy, NetworkType, Route, SdnRoute, SubnetPolicy,
};
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::net::IpAddr;

pub(crate) fn parse_guid(s: &str, what: &str) -> HcnResult<Guid> {
    super::index::guid(s).ok_or_else(|| {
        err(
            HResult::HCN_E_GUID_CONVERSION_FAILURE,
            format!("{what}: expected a GUID, found {s:?}"),
        )
    })
}

fn gate(hns: &Hns, f: Feature, code: HResult, what: &str) -> HcnResult<()> {
    if hns.supports(f) {
        Ok(())
    } else {
        Err(err(
            code,
            format!(
                "{what} needs HNS feature {} which HNS {} does not support",
                f.name(),
                hns.settings.hns_version
            ),
        ))
    }
}

fn bad_policy(msg: impl Into<String>) -> crate::HcnError {
    err(HResult::HCN_E_INVALID_POLICY, msg)
}

fn check_family(hns: &Hns, ip: IpAddr, what: &str) -> HcnResult<()> {
    if ip.is_ipv6() {
        gate(
            hns,
            Feature::Ipv6DualStack,
            HResult::HCN_E_REQUEST_UNSUPPORTED,
            what,
        )?;
    }
    Ok(())
}

fn check_acl(hns: &Hns, a: &AclPolicy, r: &AclRepr, what: &str) -> HcnResult<()> {
    if r.action.is_err() {
        return Err(bad_policy(format!(
            "{what}: Action must be Allow, Block or Pass, found {:?}",
            a.action
        )));
    }
    if r.out.is_err() {
        return Err(bad_policy(format!(
            "{what}: Direction must be In or Out, found {:?}",
            a.direction
        )));
    }
    if r.host.is_err() {
        return Err(bad_policy(format!(
            "{what}: RuleType must be Host or Switch, found {:?}",
            a.rule_type
        )));
    }
    if r.protocol_252 {
        gate(
            hns,
            Feature::AclSupportForProtocol252,
            HResult::HCN_E_INVALID_POLICY,
            "ACL protocol 252",
        )?;
    }
    if let Err(e) = &r.protocols {
        return Err(bad_policy(format!(
            "{what}: Protocols must be protocol numbers, found {:?}",
            e.found
        )));
    }
    for addresses in [&r.local_addresses, &r.remote_addresses] {
        if let Err(e) = addresses {
            return Err(bad_policy(format!(
                "{what}: expected an IP address or CIDR, found {:?}",
                e.found
            )));
        }
    }
    for ports in [&r.local_ports, &r.remote_ports] {
        if let Err(e) = ports {
            return Err(bad_policy(format!(
                "{what}: expected a port or port range, found {:?}",
                e.found
            )));
        }
    }
    Ok(())
}

fn check_sdn_route(r: &SdnRouteRepr, what: &str) -> HcnResult<()> {
    let prefix = match &r.destination {
        Ok(p) => p,
        Err(e) => {
            return Err(bad_policy(format!(
                "{what}: DestinationPrefix must be a CIDR, found {:?}",
                e.found
            )))
        }
    };
    match &r.next_hop {
        Ok(_) => Ok(()),
        Err(e) => match e.other_family {
            None => Err(bad_policy(format!(
                "{what}: NextHop must be an IP address, found {:?}",
                e.found
            ))),
            Some(hop) => Err(bad_policy(format!(
                "{what}: NextHop {hop} is not of the family of DestinationPrefix {prefix}"
            ))),
        },
    }
}

/// A network policy: known type, supported by this HNS, well-formed settings.
pub(crate) fn network_policy(hns: &Hns, p: &NetworkPolicy) -> HcnResult<()> {
    network_policy_repr(hns, p, &NetworkPolicyRepr::parse(p, 0))
}

/// A network policy, its values read once (`typed`, read from `p`).
pub(crate) fn network_policy_repr(hns: &Hns, p: &NetworkPolicy, typed: &NetworkPolicyRepr) -> HcnResult<()> {
    let t = HResult::HCN_E_INVALID_POLICY_TYPE;
    match (p, typed) {
        (NetworkPolicy::Unknown { type_name, .. }, _) => {
            return Err(err(t, format!("unknown network policy type {type_name:?}")))
        }
        (NetworkPolicy::RemoteSubnetRoute(r), NetworkPolicyRepr::RemoteSubnetRoute(typed)) => {
            gate(hns, Feature::RemoteSubnet, t, "RemoteSubnetRoute")?;
            if typed.destination.is_err() {
                return Err(bad_policy(format!(
                    "RemoteSubnetRoute: DestinationPrefix must be a CIDR, found {:?}",
                    r.destination_prefix
                )));
            }
            if typed.provider_address.is_err() {
                return Err(bad_policy(format!(
                    "RemoteSubnetRoute: ProviderAddress must be an IP address, found {:?}",
                    r.provider_address
                )));
            }
            // The inner destination MAC of every packet encapsulated toward that node: required
            // (the consumers always write it), and a MAC.
            if typed.dr_mac.is_err() {
                return Err(bad_policy(format!(
                    "RemoteSubnetRoute: DistributedRouterMacAddress must be a MAC address, found {:?}",
                    r.distributed_router_mac_address
                )));
            }
        }
        // An empty `Address` is no address (omitted when serialized): the network keeps its
        // derived distributed-router MAC.
        (NetworkPolicy::DrMacAddress(d), NetworkPolicyRepr::DrMacAddress(Err(_))) => {
            return Err(bad_policy(format!(
                "DrMacAddress: Address must be a MAC address, found {:?}",
                d.address
            )));
        }
        (NetworkPolicy::HostRoute(_), _) => gate(hns, Feature::HostRoute, t, "HostRoute")?,
        (NetworkPolicy::VxlanPort(v), _) => {
            gate(hns, Feature::VxlanPort, t, "VxlanPort")?;
            if v.port == 0 {
                return Err(bad_policy("VxlanPort: Port must be non-zero"));
            }
        }
        (NetworkPolicy::SetPolicy(v), _) => {
            gate(hns, Feature::SetPolicy, t, "SetPolicy")?;
            // [sdn] sends the numeric form (1 = NESTEDIPSET, inferred from the enum order).
            let kind = v.policy_type.trim();
            if kind.eq_ignore_ascii_case("NESTEDIPSET") || kind == "1" {
                gate(hns, Feature::NestedIpSet, t, "SetPolicy NESTEDIPSET")?;
            }
        }
        (NetworkPolicy::L4Proxy(_), _) => gate(hns, Feature::L4Proxy, t, "L4Proxy")?,
        (NetworkPolicy::NetworkAcl(a), _) => {
            gate(hns, Feature::NetworkAcl, t, "NetworkACL")?;
            check_acl(hns, a, &AclRepr::parse(a, |f| f.to_string()), "NetworkACL")?;
        }
        (NetworkPolicy::ProviderAddress(pa), NetworkPolicyRepr::ProviderAddress(Err(_))) => {
            return Err(bad_policy(format!(
                "ProviderAddress: expected an IP address, found {:?}",
                pa.provider_address
            )));
        }
        _ => {}
    }
    Ok(())
}

/// An endpoint policy on its own (the port-mapping conflict check is separate).
pub(crate) fn endpoint_policy(hns: &Hns, p: &EndpointPolicy, remote: bool) -> HcnResult<()> {
    endpoint_policy_repr(hns, p, &EndpointPolicyRepr::parse(p, 0), remote)
}

/// The family a policy's flag names disagrees with its address (inferred): "flag IPv6 missing"
/// for an IPv6 address, "set" for an IPv4 one.
fn flag_word(ip: IpAddr) -> &'static str {
    if ip.is_ipv6() {
        "missing"
    } else {
        "set"
    }
}

/// An endpoint policy on its own, its values read once (`r`, read from `p`).
pub(crate) fn endpoint_policy_repr(
    hns: &Hns,
    p: &EndpointPolicy,
    r: &EndpointPolicyRepr,
    remote: bool,
) -> HcnResult<()> {
    let t = HResult::HCN_E_INVALID_POLICY_TYPE;
    match (p, r) {
        (EndpointPolicy::Unknown { type_name, .. }, _) => {
            return Err(err(t, format!("unknown endpoint policy type {type_name:?}")))
        }
        (EndpointPolicy::PortMapping(m), EndpointPolicyRepr::PortMapping(r)) => {
            if remote {
                return Err(err(
                    HResult::HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION,
                    "a PortMapping needs a local port; the endpoint is remote",
                ));
            }
            if m.internal_port == 0 {
                return Err(err(
                    HResult::HCN_E_INVALID_INTERNAL_PORT,
                    "PortMapping: InternalPort must be non-zero",
                ));
            }
            if !matches!(m.protocol, 6 | 17) {
                return Err(bad_policy(format!(
                    "PortMapping: Protocol must be 6 (TCP) or 17 (UDP), found {}",
                    m.protocol
                )));
            }
            match &r.vip {
                Ok(None) => {}
                Ok(Some(ip)) => check_family(hns, *ip, "an IPv6 PortMapping VIP")?,
                Err(e) => {
                    let Some(ip) = e.other_family else {
                        return Err(bad_policy(format!(
                            "PortMapping: VIP must be an IP address, found {:?}",
                            m.vip
                        )));
                    };
                    check_family(hns, ip, "an IPv6 PortMapping VIP")?;
                    // The IPv6 flag says which family the mapping is; a VIP of the other family
                    // could only be dropped, widening the mapping to every address (inferred).
                    return Err(bad_policy(format!(
                        "PortMapping: VIP {ip} does not match the mapping's family (flag IPv6 {})",
                        flag_word(ip)
                    )));
                }
            }
            if m.flags & nat_flags::IPV6 != 0 {
                gate(
                    hns,
                    Feature::Ipv6DualStack,
                    HResult::HCN_E_REQUEST_UNSUPPORTED,
                    "PortMapping flag IPv6",
                )?;
            }
        }
        (EndpointPolicy::Acl(a), EndpointPolicyRepr::Acl(r)) => check_acl(hns, a, r, "ACL")?,
        (EndpointPolicy::OutBoundNat(o), EndpointPolicyRepr::OutboundNat(r)) => {
            if let Err(e) = &r.virtual_ip {
                let Some(ip) = e.other_family else {
                    return Err(bad_policy(format!(
                        "OutBoundNAT: VirtualIP must be an IP address, found {:?}",
                        o.virtual_ip
                    )));
                };
                // As for a PortMapping VIP: the flag names the family (inferred).
                return Err(bad_policy(format!(
                    "OutBoundNAT: VirtualIP {ip} does not match the policy's family (flag IPv6 {})",
                    flag_word(ip)
                )));
            }
            // Exceptions and Destinations are arrays of single addresses or CIDRs (not the
            // comma-joined lists of an ACL).
            if let Some(e) = r.errors.first() {
                return Err(bad_policy(format!(
                    "OutBoundNAT: expected an IP address or CIDR, found {:?}",
                    e.found
                )));
            }
        }
        (EndpointPolicy::SdnRoute(_), EndpointPolicyRepr::SdnRoute(r)) => check_sdn_route(r, "SDNRoute")?,
        (EndpointPolicy::L4Proxy(_), _) => gate(hns, Feature::L4Proxy, t, "L4Proxy")?,
        (EndpointPolicy::L4WfpProxy(_), _) => gate(hns, Feature::L4WfpProxy, t, "L4WFPPROXY")?,
        (EndpointPolicy::TierAcl(_), _) => gate(hns, Feature::TierAcl, t, "TierAcl")?,
        (EndpointPolicy::ProviderAddress(pa), EndpointPolicyRepr::ProviderAddress(Err(_))) => {
            return Err(bad_policy(format!(
                "ProviderAddress: expected an IP address, found {:?}",
                pa.provider_address
            )));
        }
        _ => {}
    }
    Ok(())
}

fn keys_clash(a: &PortKey, b: &PortKey) -> bool {
    a.0 == b.0 && a.1 == b.1 && (a.2.is_none() || b.2.is_none() || a.2 == b.2)
}

/// HCN_E_PORT_ALREADY_EXISTS when a PortMapping repeats one of the same endpoint or of another
/// endpoint of the same network (protocol + external port, + VIP when both set; hcsshim
/// `hcnerrors_test.go`). The message names the first of `policies`' mappings that clashes with
/// the lowest-ID clashing endpoint.
pub(crate) fn port_conflicts(
    hns: &Hns,
    net: &Guid,
    ep: Option<&Guid>,
    policies: &[EndpointPolicy],
) -> HcnResult<()> {
    let mine: Vec<PortKey> = port_keys(policies).collect();
    let clash = |k: &PortKey| {
        err(
            HResult::HCN_E_PORT_ALREADY_EXISTS,
            format!(
                "PortMapping protocol {} external port {} is already mapped on network {net}",
                k.0, k.1
            ),
        )
    };
    for (i, a) in mine.iter().enumerate() {
        if mine[..i].iter().any(|b| keys_clash(a, b)) {
            return Err(clash(a));
        }
    }
    let me = ep.copied();
    let Some(owner) = mine
        .iter()
        .filter_map(|k| hns.index.port_owner(*net, me, *k))
        .min()
    else {
        return Ok(());
    };
    let theirs: Vec<PortKey> = hns
        .endpoints
        .get(&owner)
        .map(|o| port_keys(&o.policies).collect())
        .unwrap_or_default();
    match mine.iter().find(|a| theirs.iter().any(|b| keys_clash(a, b))) {
        Some(a) => Err(clash(a)),
        None => Ok(()),
    }
}

fn bad_network(msg: impl Into<String>) -> crate::HcnError {
    err(HResult::HCN_E_INVALID_NETWORK, msg)
}

/// Validate a subnet list (create or `Subnet`/`Add`).
pub(crate) fn subnets(hns: &Hns, net: &Network) -> HcnResult<()> {
    subnets_repr(hns, net, &NetworkRepr::parse(net))
}

/// Validate a subnet list, its values read once (`repr`, read from `net`).
fn subnets_repr(hns: &Hns, net: &Network, repr: &NetworkRepr) -> HcnResult<()> {
    let mut typed = repr.subnets.iter();
    for (i, ipam) in net.ipams.iter().enumerate() {
        let t = ipam.ipam_type.trim();
        if !(t.is_empty() || t.eq_ignore_ascii_case("Static") || t.eq_ignore_ascii_case("Dhcp")) {
            return Err(bad_network(format!(
                "Ipams[{i}].Type must be Static or Dhcp, found {t:?}"
            )));
        }
        for (j, s) in ipam.subnets.iter().enumerate() {
            let Some(typed) = typed.next() else {
                break; // not reached: one repr per subnet
            };
            let at = format!("Ipams[{i}].Subnets[{j}]");
            for p in &s.policies {
                if let SubnetPolicy::Unknown { type_name, .. } = p {
                    return Err(err(
                        HResult::HCN_E_INVALID_POLICY_TYPE,
                        format!("{at}: unknown subnet policy type {type_name:?}"),
                    ));
                }
            }
            let prefix: IpNet = match typed.prefix {
                Ok(None) => continue,
                Ok(Some(p)) => p,
                Err(_) => {
                    return Err(bad_network(format!(
                        "{at}.IpAddressPrefix: {}",
                        crate::hint::explain_prefix(s.ip_address_prefix.trim())
                    )))
                }
            };
            check_family(hns, prefix.addr(), "an IPv6 subnet")?;
            // §6.1: a subnet with a prefix needs routes, each with a NextHop, one of them default.
            if s.routes.is_empty() {
                return Err(bad_network(format!(
                    "{at}: subnet has address prefix but no gateway specified"
                )));
            }
            for (k, (r, t)) in s.routes.iter().zip(&typed.routes).enumerate() {
                if r.next_hop.trim().is_empty() {
                    return Err(bad_network(format!("{at}.Routes[{k}]: route has no NextHop")));
                }
                if matches!(&t.next_hop, Err(e) if e.other_family.is_none()) {
                    return Err(bad_network(format!(
                        "{at}.Routes[{k}].NextHop: expected an IP address, found {:?}",
                        r.next_hop
                    )));
                }
                let Ok(dest) = &t.destination else {
                    return Err(bad_network(format!(
                        "{at}.Routes[{k}].DestinationPrefix: expected a CIDR, found {:?}",
                        r.destination_prefix
                    )));
                };
                if let Err(e) = &t.next_hop {
                    if let Some(hop) = e.other_family {
                        return Err(bad_network(format!(
                            "{at}.Routes[{k}]: NextHop {hop} is not of the family of DestinationPrefix {dest}"
                        )));
                    }
                }
            }
            // The subnet's gateway is its default route of the subnet's own family.
            if typed.default_route(prefix.addr().is_ipv6()).is_none() {
                return Err(bad_network(format!("{at}: no default gateway")));
            }
        }
    }
    Ok(())
}

/// Validate and normalise a network document for create; with its typed values (read once).
pub(crate) fn network(hns: &Hns, id: Guid, mut net: Network) -> HcnResult<(Network, NetworkRepr)> {
    if !id.is_zero() && hns.id_in_use(&id) {
        return Err(err(
            HResult::HCN_E_NETWORK_ALREADY_EXISTS,
            format!("an object with ID {id} already exists"),
        ));
    }
    match net.kind() {
        NetworkType::Other(t) => {
            return Err(err(
                HResult::HCN_E_INVALID_NETWORK_TYPE,
                format!("unknown network type {t:?}"),
            ))
        }
        // HNS stores NAT as mode 0 and omits Type in v2 output (§1).
        NetworkType::Nat => net.network_type = None,
        _ => {}
    }
    if !net.name.is_empty() && hns.index.network_named(&net.name) {
        return Err(err(
            HResult::HCN_E_NETWORK_ALREADY_EXISTS,
            format!("a network named {:?} already exists", net.name),
        ));
    }
    if net.flags & network_flags::DISABLE_HOST_PORT != 0 {
        gate(
            hns,
            Feature::DisableHostPort,
            HResult::HCN_E_REQUEST_UNSUPPORTED,
            "network flag DisableHostPort",
        )?;
    }
    let repr = NetworkRepr::parse(&net);
    subnets_repr(hns, &net, &repr)?;
    for (i, r) in net.mac_pool.ranges.iter_mut().enumerate() {
        let parse = |s: &str, what: &str| {
            s.parse::<Mac>().map_err(|_| {
                bad_network(format!(
                    "MacPool.Ranges[{i}].{what}: expected a MAC address, found {s:?}"
                ))
            })
        };
        let a = parse(&r.start_mac_address, "StartMacAddress")?;
        let b = parse(&r.end_mac_address, "EndMacAddress")?;
        if a > b {
            return Err(bad_network(format!(
                "MacPool.Ranges[{i}]: StartMacAddress {a} is above EndMacAddress {b}"
            )));
        }
        r.start_mac_address = a.to_string();
        r.end_mac_address = b.to_string();
    }
    for (p, t) in net.policies.iter().zip(&repr.policies) {
        network_policy_repr(hns, p, t)?;
    }
    net.id = id;
    Ok((net, repr))
}

/// The network an endpoint document names: `HostComputeNetwork`, or the v1 key `VirtualNetwork`.
fn endpoint_network_ref(ep: &Endpoint) -> Option<String> {
    if !ep.host_compute_network.trim().is_empty() {
        return Some(ep.host_compute_network.clone());
    }
    ep.extra
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("VirtualNetwork"))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

/// What a validated endpoint still needs at commit time.
pub(crate) struct EndpointPlan {
    pub endpoint: Endpoint,
    /// Its typed values (read once here; the MAC still to take is set at commit).
    pub repr: EndpointRepr,
    /// Take a MAC from the host range (the network has no MacPool and none was given).
    pub needs_host_mac: bool,
}

/// Validate and normalise an endpoint document for create: network, addresses (allocating
/// them), MAC, policies.
pub(crate) fn endpoint(hns: &Hns, id: Guid, mut ep: Endpoint) -> HcnResult<EndpointPlan> {
    if !id.is_zero() && hns.id_in_use(&id) {
        return Err(err(
            ERROR_OBJECT_ALREADY_EXISTS,
            format!("an object with ID {id} already exists"),
        ));
    }
    let net_ref = endpoint_network_ref(&ep).ok_or_else(|| {
        err(
            HResult::HCN_E_NETWORK_NOT_FOUND,
            "the endpoint names no network (HostComputeNetwork)",
        )
    })?;
    let net_id = parse_guid(&net_ref, "HostComputeNetwork")?;
    let net = hns.networks.get(&net_id).ok_or_else(|| {
        err(
            HResult::HCN_E_NETWORK_NOT_FOUND,
            format!("network {net_id} not found"),
        )
    })?;
    let remote = ep.is_remote();
    // Read-only (filled by a namespace attach); hcsshim's network.CreateEndpoint may still send it.
    ep.host_compute_namespace.clear();
    ep.host_compute_network = net_id.to_string();
    // Every value read once; the checks below and the stored repr use it.
    let mut repr = EndpointRepr::parse(&ep);

    let subs = ipam::subnets(net, &hns.network_values(net));
    let mut seen: BTreeSet<IpAddr> = BTreeSet::new();
    let (mut n4, mut n6) = (0, 0);
    for (i, c) in ep.ip_configurations.iter_mut().enumerate() {
        // The JSON path is only formatted when an error is reported.
        let at = IpConfigAt(i);
        let ip = *repr.addresses[i].as_ref().map_err(|_| {
            err(
                HResult::HCN_E_INVALID_IP,
                format!("{at}.IpAddress: expected an IP address, found {:?}", c.ip_address),
            )
        })?;
        check_family(hns, ip, "an IPv6 endpoint address")?;
        if ip.is_ipv4() {
            n4 += 1
        } else {
            n6 += 1
        }
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if c.prefix_length > max {
            return Err(err(
                HResult::HCN_E_INVALID_IP,
                format!("{at}.PrefixLength {} is too long", c.prefix_length),
            ));
        }
        if c.prefix_length == max {
            gate(
                hns,
                Feature::Slash32EndpointPrefixes,
                HResult::HCN_E_REQUEST_UNSUPPORTED,
                "a /32 endpoint prefix",
            )?;
        }
        // Optional IpSubnetId (schema 2.3) must name one of the network's subnets.
        let wanted = c
            .extra
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("IpSubnetId"))
            .and_then(|(_, v)| v.as_str())
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_guid(s, "IpSubnetId"))
            .transpose()?;
        if let Some(w) = wanted {
            if !subs.iter().any(|s| s.id == Some(w)) {
                return Err(err(
                    HResult::HCN_E_SUBNET_NOT_FOUND,
                    format!("{at}.IpSubnetId {w} is not a subnet of network {net_id}"),
                ));
            }
        }
        let subnet: Option<&SubnetView> = subs.iter().find(|s| s.prefix.contains(&ip));
        if !remote {
            // Remote endpoints carry other nodes' pod addresses (kube-proxy), so only local
            // endpoints must lie in a subnet and hold a unique address.
            let Some(s) = subnet else {
                return Err(err(
                    HResult::HCN_E_INVALID_IP,
                    format!("{at}.IpAddress {ip} is not in any subnet of network {net_id}"),
                ));
            };
            if hns.settings.reject_reserved_addresses && s.is_reserved(ip) {
                return Err(err(
                    HResult::HCN_E_ADDR_INVALID_OR_RESERVED,
                    format!("{at}.IpAddress {ip} is reserved in subnet {}", s.prefix),
                ));
            }
            let owner = hns.index.local_ip_owner(net_id, ip);
            if owner.is_some() || !seen.insert(ip) {
                // Name both endpoints: the one being created and the one holding the address.
                let holder = match owner.and_then(|o| hns.endpoints.get(&o).map(|e| (o, e))) {
                    Some((o, e)) => format!("endpoint {:?} ({o})", e.name),
                    None => "another IP configuration of the same document".into(),
                };
                return Err(err(
                    ERROR_OBJECT_ALREADY_EXISTS,
                    format!(
                        "endpoint {:?}: address {ip} is already used by {holder} on network {net_id}",
                        ep.name
                    ),
                ));
            }
        }
        c.ip_address = ip.to_string();
        if c.prefix_length == 0 {
            if let Some(s) = subnet {
                c.prefix_length = s.prefix.prefix_len();
            }
        }
    }
    if n4 > 1 || n6 > 1 {
        return Err(err(
            HResult::HCN_E_INVALID_ENDPOINT,
            "an endpoint has at most one IPv4 and one IPv6 address",
        ));
    }
    if ep.ip_configurations.is_empty() && !remote {
        for v4 in [true, false] {
            if !v4 && !hns.supports(Feature::Ipv6DualStack) {
                continue;
            }
            if let Some((ip, len)) = ipam::allocate(hns, net_id, &subs, v4)? {
                repr.addresses.push(Ok(ip));
                ep.ip_configurations.push(crate::schema::IpConfig {
                    ip_address: ip.to_string(),
                    prefix_length: len,
                    ..Default::default()
                });
            }
        }
    }
    // HNS returns the subnet's gateway as the endpoint's default route (inferred from real output).
    if ep.routes.is_empty() && !remote {
        let gateways: Vec<IpAddr> = (repr.addresses.iter().flatten())
            .filter_map(|ip| {
                subs.iter()
                    .find(|s| s.prefix.contains(ip))
                    .and_then(|s| s.gateway)
            })
            .collect();
        for gw in gateways {
            let (default, text) = match gw {
                IpAddr::V4(_) => (IpNet::V4(Default::default()), "0.0.0.0/0"),
                IpAddr::V6(_) => (IpNet::V6(Default::default()), "::/0"),
            };
            ep.routes.push(Route {
                next_hop: gw.to_string(),
                destination_prefix: text.into(),
                ..Default::default()
            });
            repr.routes.push(RouteRepr::new(default, gw));
        }
    }
    endpoint_routes(&repr)?;
    let mut needs_host_mac = false;
    if ep.mac_address.trim().is_empty() {
        match ipam::pool_mac(hns, net)? {
            Some(m) => {
                ep.mac_address = m.to_string();
                repr.mac = Ok(m);
            }
            None => needs_host_mac = true,
        }
    } else {
        let m: Mac = *repr.mac.as_ref().map_err(|_| {
            err(
                HResult::HCN_E_INVALID_ENDPOINT,
                format!("MacAddress: expected a MAC address, found {:?}", ep.mac_address),
            )
        })?;
        ep.mac_address = m.to_string();
    }
    for (p, r) in ep.policies.iter().zip(&repr.policies) {
        endpoint_policy_repr(hns, p, r, remote)?;
    }
    port_conflicts(hns, &net_id, None, &ep.policies)?;
    ep.id = id;
    Ok(EndpointPlan {
        endpoint: ep,
        repr,
        needs_host_mac,
    })
}

/// An endpoint's own routes: each a destination (address or CIDR) and a next hop of its family.
/// HNS's rule for network routes (§6.1), applied to the endpoint's (inferred): a route the
/// dataplane cannot build is refused here rather than dropped by the compile.
fn endpoint_routes(ep: &EndpointRepr) -> HcnResult<()> {
    let bad = |msg: String| err(HResult::HCN_E_INVALID_ENDPOINT, msg);
    for (k, r) in ep.routes.iter().enumerate() {
        let dest = match &r.destination {
            Ok(d) => d,
            Err(e) => {
                return Err(bad(format!(
                    "Routes[{k}].DestinationPrefix: expected a CIDR, found {:?}",
                    e.found
                )))
            }
        };
        match &r.next_hop {
            Ok(_) => {}
            Err(e) => match e.other_family {
                None => {
                    return Err(bad(format!(
                        "Routes[{k}].NextHop: expected an IP address, found {:?}",
                        e.found
                    )))
                }
                Some(hop) => {
                    return Err(bad(format!(
                        "Routes[{k}]: NextHop {hop} is not of the family of DestinationPrefix {dest}"
                    )))
                }
            },
        }
    }
    Ok(())
}

/// Endpoint GUID strings of an LB or route: each must parse and exist; normalised to upper case.
fn endpoint_refs(hns: &Hns, refs: &mut [String], what: &str) -> HcnResult<()> {
    for r in refs.iter_mut() {
        let g = parse_guid(r, what)?;
        endpoint_ref(hns, r, g, what)?;
    }
    Ok(())
}

/// One endpoint reference `r`, read as `g`: it must exist; normalised to upper case.
fn endpoint_ref(hns: &Hns, r: &mut String, g: Guid, what: &str) -> HcnResult<()> {
    if !hns.endpoints.contains_key(&g) {
        return Err(err(
            HResult::HCN_E_ENDPOINT_NOT_FOUND,
            format!("{what}: endpoint {g} not found"),
        ));
    }
    // No second parse (with ten backends per LB it was a tenth of an LB create).
    if !super::index::parsed_guid_is_canonical(r) {
        *r = g.to_string();
    }
    Ok(())
}

/// The first frontend `a` and `b` share: (protocol, VIP or None for "no FrontendVIPs", external
/// port). Allocation-free: kube-proxy hosts carry thousands of LBs.
fn lb_clash<'a>(a: &'a LoadBalancer, b: &LoadBalancer) -> Option<(u32, Option<&'a str>, u16)> {
    let same_vip = |v: &str| b.frontend_vips.iter().any(|w| w == v);
    for m in &a.port_mappings {
        let hit = b
            .port_mappings
            .iter()
            .any(|n| n.protocol == m.protocol && n.external_port == m.external_port);
        if !hit {
            continue;
        }
        if a.frontend_vips.is_empty() && b.frontend_vips.is_empty() {
            return Some((m.protocol, None, m.external_port));
        }
        if let Some(v) = a.frontend_vips.iter().find(|v| same_vip(v)) {
            return Some((m.protocol, Some(v.as_str()), m.external_port));
        }
    }
    None
}

/// Validate and normalise a load balancer (create, or the full document of an update of `me`).
pub(crate) fn load_balancer(
    hns: &Hns,
    me: Option<&Guid>,
    mut lb: LoadBalancer,
) -> HcnResult<(LoadBalancer, LoadBalancerRepr)> {
    // Every value read once; the checks below and the stored repr use it.
    let repr = LoadBalancerRepr::parse(&lb);
    let what = "HostComputeEndpoints";
    for (r, g) in lb.host_compute_endpoints.iter_mut().zip(&repr.backends) {
        let g = *g.as_ref().map_err(|_| {
            err(
                HResult::HCN_E_GUID_CONVERSION_FAILURE,
                format!("{what}: expected a GUID, found {r:?}"),
            )
        })?;
        endpoint_ref(hns, r, g, what)?;
    }
    let bad_ip = |what: &str, s: &str| {
        err(
            HResult::HCN_E_INVALID_IP,
            format!("{what}: expected an IP address, found {s:?}"),
        )
    };
    // An empty SourceVIP is legal (kube-proxy sends "", consumers.md P3).
    match repr.source_vip {
        Ok(None) => {}
        Ok(Some(ip)) => {
            check_family(hns, ip, "an IPv6 SourceVIP")?;
            lb.source_vip = ip.to_string();
        }
        Err(_) => return Err(bad_ip("SourceVIP", &lb.source_vip)),
    }
    for (v, typed) in lb.frontend_vips.iter_mut().zip(&repr.frontend_vips) {
        let ip = *typed.as_ref().map_err(|_| bad_ip("FrontendVIPs", v))?;
        check_family(hns, ip, "an IPv6 frontend VIP")?;
        *v = ip.to_string();
    }
    if lb.flags & lb_flags::DSR != 0 {
        gate(
            hns,
            Feature::Dsr,
            HResult::HCN_E_REQUEST_UNSUPPORTED,
            "load balancer flag EnableDirectServerReturn",
        )?;
    }
    if lb.flags & lb_flags::IPV6 != 0 {
        gate(
            hns,
            Feature::Ipv6DualStack,
            HResult::HCN_E_REQUEST_UNSUPPORTED,
            "load balancer flag IPv6",
        )?;
    }
    for (i, m) in lb.port_mappings.iter().enumerate() {
        if m.internal_port == 0 {
            return Err(err(
                HResult::HCN_E_INVALID_INTERNAL_PORT,
                format!("PortMappings[{i}].InternalPort must be non-zero"),
            ));
        }
        if m.distribution_type > 2 {
            return Err(bad_policy(format!(
                "PortMappings[{i}].DistributionType must be 0, 1 or 2, found {}",
                m.distribution_type
            )));
        }
        if m.distribution_type != 0 {
            gate(
                hns,
                Feature::SessionAffinity,
                HResult::HCN_E_REQUEST_UNSUPPORTED,
                "LoadBalancer DistributionType",
            )?;
        }
    }
    if hns.settings.unique_lb_frontends {
        // The lowest-ID LB sharing a frontend is the one named, as a scan in ID order would.
        let owner = hns.index.lb_frontend_owner(&lb, &repr, me.copied());
        if let Some((id, other)) = owner.and_then(|o| hns.load_balancers.get_key_value(&o)) {
            if let Some(f) = lb_clash(&lb, other) {
                return Err(err(
                    HResult::HCN_E_PORT_ALREADY_EXISTS,
                    format!(
                        "load balancer {id} already serves protocol {} {} port {}",
                        f.0,
                        f.1.unwrap_or("(any address)"),
                        f.2
                    ),
                ));
            }
        }
    }
    Ok((lb, repr))
}

/// Validate and normalise an SDN route object.
pub(crate) fn sdn_route(hns: &Hns, mut r: SdnRoute) -> HcnResult<SdnRoute> {
    endpoint_refs(hns, &mut r.host_compute_endpoints, "HostComputeEndpoints")?;
    for (i, s) in r.routes.iter().enumerate() {
        let what = format!("Routes[{i}]");
        let typed = SdnRouteRepr::parse(s, |f| format!("{what}.{f}"));
        check_sdn_route(&typed, &what)?;
    }
    Ok(r)
}

/// `IpConfigurations[i]` as a JSON path, formatted only when an error message needs it.
struct IpConfigAt(usize);

impl std::fmt::Display for IpConfigAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IpConfigurations[{}]", self.0)
    }
}
