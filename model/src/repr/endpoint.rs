//! An endpoint document's typed values: its network, addresses, MAC, routes and the policies
//! the dataplane builds (ACL, PortMapping, OutBoundNAT, SDNRoute, ProviderAddress,
//! EncapOverhead, QOS).

use super::{addr_or_net, family_ip, ip, AclRepr, ReprError};
use crate::ids::{Guid, Mac};
use crate::schema::{
    nat_flags, Endpoint, EndpointPolicy, OutboundNatPolicy, PortMappingPolicy, Route, SdnRoutePolicy,
};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An endpoint document, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointRepr {
    /// `HostComputeNetwork`, when it is a GUID.
    pub network: Option<Guid>,
    /// `IpConfigurations[i].IpAddress`, one per entry.
    pub addresses: Vec<Result<IpAddr, Box<ReprError>>>,
    /// `MacAddress` (empty is an error here: validation allocates one before the repr is kept).
    pub mac: Result<Mac, Box<ReprError>>,
    /// `Routes`, one per entry.
    pub routes: Vec<RouteRepr>,
    /// `Policies`, one per entry (same index).
    pub policies: Vec<EndpointPolicyRepr>,
}

/// One entry of an endpoint's `Routes`.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteRepr {
    /// `DestinationPrefix`: a CIDR, or an address (a host route).
    pub destination: Result<IpNet, Box<ReprError>>,
    /// `NextHop`: an address of the destination's family.
    pub next_hop: Result<IpAddr, Box<ReprError>>,
}

/// An endpoint policy, typed where the dataplane builds it.
#[derive(Clone, Debug, PartialEq)]
pub enum EndpointPolicyRepr {
    PortMapping(PortMappingRepr),
    OutboundNat(OutboundNatRepr),
    SdnRoute(SdnRouteRepr),
    /// `ProviderAddress`: the endpoint's underlay address.
    ProviderAddress(Result<IpAddr, Box<ReprError>>),
    /// `EncapOverhead`'s `Overhead`.
    EncapOverhead(u16),
    /// `QOS` `MaximumOutgoingBandwidthInBytes`; 0 is no limit (inferred: HNS always writes the
    /// field, hns-schema.md §3.2), read as `None`.
    Qos(Option<u64>),
    /// `ACL`.
    Acl(Box<AclRepr>),
    /// A policy the dataplane does not build.
    Other,
}

/// A `PortMapping` policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PortMappingRepr {
    pub protocol: u32,
    pub internal_port: u16,
    pub external_port: u16,
    /// `VIP`: empty is every address; else an address of the family the IPv6 flag names.
    pub vip: Result<Option<IpAddr>, Box<ReprError>>,
    /// NatFlags IPv6 (2). IPv6 mappings are stored but not modelled by the dataplane (its
    /// port programs are IPv4; hns-schema.md §6.1).
    pub v6: bool,
    /// NatFlags LocalRoutedVip (1).
    pub local_routed: bool,
}

/// An `OutBoundNAT` policy.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundNatRepr {
    /// NatFlags IPv6 (2): the policy applies to IPv6 traffic.
    pub v6: bool,
    /// `VirtualIP`: empty is none; else an address of the policy's family.
    pub virtual_ip: Result<Option<IpAddr>, Box<ReprError>>,
    /// `Exceptions` and `Destinations`: addresses or CIDRs of either family (an entry of the
    /// other family does not apply to the policy's traffic; the compile leaves it out).
    pub exceptions: Vec<IpNet>,
    pub destinations: Vec<IpNet>,
    /// The entries of `Exceptions`, then `Destinations`, that are no address or CIDR.
    pub errors: Vec<ReprError>,
}

/// An `SDNRoute` policy.
#[derive(Clone, Debug, PartialEq)]
pub struct SdnRouteRepr {
    /// `DestinationPrefix`: a CIDR or an address.
    pub destination: Result<IpNet, Box<ReprError>>,
    /// `NextHop`: empty is none (on-link); else an address of the destination's family.
    pub next_hop: Result<Option<IpAddr>, Box<ReprError>>,
    pub need_encap: bool,
}

impl EndpointRepr {
    /// Read `ep`'s values.
    pub fn parse(ep: &Endpoint) -> EndpointRepr {
        EndpointRepr {
            network: super::guid(&ep.host_compute_network),
            addresses: (0..ep.ip_configurations.len())
                .map(|i| address(&ep.ip_configurations[i].ip_address, i))
                .collect(),
            mac: mac(&ep.mac_address),
            routes: ep
                .routes
                .iter()
                .enumerate()
                .map(|(k, r)| RouteRepr::parse(r, k))
                .collect(),
            policies: ep
                .policies
                .iter()
                .enumerate()
                .map(|(i, p)| EndpointPolicyRepr::parse(p, i))
                .collect(),
        }
    }

    /// The first IPv4 address of `IpConfigurations`.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        self.addresses.iter().find_map(|a| match a {
            Ok(IpAddr::V4(a)) => Some(*a),
            _ => None,
        })
    }

    /// The first IPv6 address of `IpConfigurations`.
    pub fn ipv6(&self) -> Option<Ipv6Addr> {
        self.addresses.iter().find_map(|a| match a {
            Ok(IpAddr::V6(a)) => Some(*a),
            _ => None,
        })
    }

    /// The first address of the family `v6` names.
    pub fn ip_of(&self, v6: bool) -> Option<IpAddr> {
        match v6 {
            false => self.ipv4().map(IpAddr::V4),
            true => self.ipv6().map(IpAddr::V6),
        }
    }

    /// The first route to the default of the family `v6` names (`0.0.0.0/0`, `::/0`), with its
    /// index in `Routes`.
    pub fn default_route(&self, v6: bool) -> Option<(usize, &RouteRepr)> {
        super::first_default(&self.routes, v6)
    }

    /// Every value that did not read, in document order (addresses, MAC, routes, policies).
    pub fn errors(&self) -> impl Iterator<Item = &ReprError> + '_ {
        let addresses = self.addresses.iter().filter_map(|a| super::err_of(a));
        let routes = self
            .routes
            .iter()
            .flat_map(|r| [super::err_of(&r.destination), super::err_of(&r.next_hop)])
            .flatten();
        addresses
            .chain(super::err_of(&self.mac))
            .chain(routes)
            .chain(self.policies.iter().flat_map(EndpointPolicyRepr::errors))
    }
}

fn address(s: &str, i: usize) -> Result<IpAddr, Box<ReprError>> {
    ip(s).ok_or_else(|| ReprError::boxed(format!("IpConfigurations[{i}].IpAddress"), "an IP address", s))
}

fn mac(s: &str) -> Result<Mac, Box<ReprError>> {
    s.parse()
        .map_err(|_| ReprError::boxed("MacAddress".into(), "a MAC address", s))
}

/// A destination (a CIDR or an address) and a next hop of its family.
fn destination(s: &str, path: impl FnOnce() -> String) -> Result<IpNet, Box<ReprError>> {
    addr_or_net(s).ok_or_else(|| ReprError::boxed(path(), "a CIDR", s))
}

/// A next hop: an address of `dest`'s family (any family when `dest` did not read). No IPv4
/// destination is reached through an IPv6 gateway or the reverse (inferred, hns-schema.md
/// §6.1: Windows keeps one route table per family, so there is no such route to build).
fn next_hop(
    s: &str,
    dest: &Result<IpNet, Box<ReprError>>,
    path: impl FnOnce() -> String,
) -> Result<IpAddr, Box<ReprError>> {
    match (ip(s), dest) {
        (Some(hop), Ok(d)) if hop.is_ipv6() != d.addr().is_ipv6() => Err(Box::new(ReprError {
            other_family: Some(hop),
            ..ReprError::new(path(), super::address_of(d.addr().is_ipv6()), s)
        })),
        (Some(hop), _) => Ok(hop),
        (None, Ok(d)) => Err(ReprError::boxed(path(), super::address_of(d.addr().is_ipv6()), s)),
        (None, Err(_)) => Err(ReprError::boxed(path(), "an IP address", s)),
    }
}

impl RouteRepr {
    /// An endpoint route: the destination a CIDR or an address (a host route).
    fn parse(r: &Route, k: usize) -> RouteRepr {
        let destination = destination(&r.destination_prefix, || format!("Routes[{k}].DestinationPrefix"));
        let next_hop = next_hop(&r.next_hop, &destination, || format!("Routes[{k}].NextHop"));
        RouteRepr {
            destination,
            next_hop,
        }
    }

    /// A subnet route: the destination a CIDR only (hns-schema.md §6.1); `at` is the route's
    /// JSON path.
    pub(crate) fn parse_cidr(r: &Route, at: impl Fn() -> String) -> RouteRepr {
        let destination = r.destination_prefix.trim().parse::<IpNet>().map_err(|_| {
            ReprError::boxed(
                format!("{}.DestinationPrefix", at()),
                "a CIDR",
                &r.destination_prefix,
            )
        });
        let next_hop = next_hop(&r.next_hop, &destination, || format!("{}.NextHop", at()));
        RouteRepr {
            destination,
            next_hop,
        }
    }

    /// A route of the model's own making (validation's default route to the subnet gateway).
    pub fn new(destination: IpNet, next_hop: IpAddr) -> RouteRepr {
        RouteRepr {
            destination: Ok(destination),
            next_hop: Ok(next_hop),
        }
    }
}

/// `Policies[i].Settings.<field>`.
fn settings(i: usize, field: &str) -> String {
    format!("Policies[{i}].Settings.{field}")
}

impl EndpointPolicyRepr {
    /// Read policy `i` of an endpoint.
    pub fn parse(p: &EndpointPolicy, i: usize) -> EndpointPolicyRepr {
        match p {
            EndpointPolicy::PortMapping(m) => EndpointPolicyRepr::PortMapping(PortMappingRepr::parse(m, i)),
            EndpointPolicy::OutBoundNat(o) => EndpointPolicyRepr::OutboundNat(OutboundNatRepr::parse(o, i)),
            EndpointPolicy::SdnRoute(r) => {
                EndpointPolicyRepr::SdnRoute(SdnRouteRepr::parse(r, |f| settings(i, f)))
            }
            EndpointPolicy::ProviderAddress(a) => {
                EndpointPolicyRepr::ProviderAddress(ip(&a.provider_address).ok_or_else(|| {
                    ReprError::boxed(
                        settings(i, "ProviderAddress"),
                        "an IP address",
                        &a.provider_address,
                    )
                }))
            }
            EndpointPolicy::EncapOverhead(o) => EndpointPolicyRepr::EncapOverhead(o.overhead),
            EndpointPolicy::Qos(q) => {
                EndpointPolicyRepr::Qos(Some(q.maximum_outgoing_bandwidth_in_bytes).filter(|b| *b > 0))
            }
            EndpointPolicy::Acl(a) => {
                EndpointPolicyRepr::Acl(Box::new(AclRepr::parse(a, |f| settings(i, f))))
            }
            _ => EndpointPolicyRepr::Other,
        }
    }

    /// The values of this policy that did not read.
    pub fn errors(&self) -> Vec<&ReprError> {
        match self {
            EndpointPolicyRepr::PortMapping(m) => super::err_of(&m.vip).into_iter().collect(),
            EndpointPolicyRepr::OutboundNat(o) => super::err_of(&o.virtual_ip)
                .into_iter()
                .chain(&o.errors)
                .collect(),
            EndpointPolicyRepr::SdnRoute(r) => [super::err_of(&r.destination), super::err_of(&r.next_hop)]
                .into_iter()
                .flatten()
                .collect(),
            EndpointPolicyRepr::ProviderAddress(a) => super::err_of(a).into_iter().collect(),
            EndpointPolicyRepr::Acl(a) => a.errors().collect(),
            _ => Vec::new(),
        }
    }
}

impl PortMappingRepr {
    fn parse(m: &PortMappingPolicy, i: usize) -> PortMappingRepr {
        let v6 = m.flags & nat_flags::IPV6 != 0;
        PortMappingRepr {
            protocol: m.protocol,
            internal_port: m.internal_port,
            external_port: m.external_port,
            vip: family_ip(&m.vip, v6, || settings(i, "VIP")),
            v6,
            local_routed: m.flags & nat_flags::LOCAL_ROUTED_VIP != 0,
        }
    }
}

impl OutboundNatRepr {
    fn parse(o: &OutboundNatPolicy, i: usize) -> OutboundNatRepr {
        let v6 = o.flags & nat_flags::IPV6 != 0;
        let mut errors = Vec::new();
        let mut list = |field: &str, entries: &[String]| {
            let mut out = Vec::with_capacity(entries.len());
            for (j, s) in entries.iter().enumerate() {
                match addr_or_net(s) {
                    Some(n) => out.push(n),
                    None => errors.push(ReprError::new(
                        settings(i, &format!("{field}[{j}]")),
                        if v6 {
                            "an IPv6 address or CIDR"
                        } else {
                            "an IPv4 address or CIDR"
                        },
                        s,
                    )),
                }
            }
            out
        };
        let exceptions = list("Exceptions", &o.exceptions);
        let destinations = list("Destinations", &o.destinations);
        OutboundNatRepr {
            v6,
            virtual_ip: family_ip(&o.virtual_ip, v6, || settings(i, "VirtualIP")),
            exceptions,
            destinations,
            errors,
        }
    }
}

impl SdnRouteRepr {
    /// Read an SDN route; `at(field)` is the JSON path of one of its fields (written only for
    /// an error): an endpoint's `SDNRoute` policy or a route of an SDN route object.
    pub fn parse(r: &SdnRoutePolicy, at: impl Fn(&str) -> String) -> SdnRouteRepr {
        let destination = destination(&r.destination_prefix, || at("DestinationPrefix"));
        let next_hop = match r.next_hop.is_empty() {
            true => Ok(None),
            false => next_hop(&r.next_hop, &destination, || at("NextHop")).map(Some),
        };
        SdnRouteRepr {
            destination,
            next_hop,
            need_encap: r.need_encap,
        }
    }
}

#[cfg(test)]
mod tests;
