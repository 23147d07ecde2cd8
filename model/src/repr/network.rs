//! A network document's typed values: its subnets (prefixes, routes, VSID) and the policies the
//! dataplane builds (VxlanPort, HostRoute, DrMacAddress, RemoteSubnetRoute, ProviderAddress).

use super::{ip, ReprError, RouteRepr};
use crate::ids::Mac;
use crate::schema::{Network, NetworkPolicy, RemoteSubnetRoutePolicy, SubnetPolicy};
use ipnet::IpNet;
use std::net::IpAddr;

/// A network document, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkRepr {
    /// The subnets of every `Ipams` entry in order (`Subnets[k]` counts them all).
    pub subnets: Vec<SubnetRepr>,
    /// `Policies`, one per entry (same index).
    pub policies: Vec<NetworkPolicyRepr>,
}

/// One subnet.
#[derive(Clone, Debug, PartialEq)]
pub struct SubnetRepr {
    /// `IpAddressPrefix`: a CIDR; empty is none (a subnet that holds no addresses).
    pub prefix: Result<Option<IpNet>, Box<ReprError>>,
    /// `Routes`: CIDR destinations, next hops of their family.
    pub routes: Vec<RouteRepr>,
    /// The last `VSID` subnet policy's `IsolationId`.
    pub vsid: Option<u32>,
}

/// A network policy, typed where the dataplane builds it.
#[derive(Clone, Debug, PartialEq)]
pub enum NetworkPolicyRepr {
    /// `VxlanPort`'s `Port` as written (0: see `NetworkRepr::vxlan_port`).
    VxlanPort(u16),
    HostRoute,
    /// `DrMacAddress`'s `Address`; empty is none (the network keeps its derived MAC).
    DrMacAddress(Result<Option<Mac>, Box<ReprError>>),
    RemoteSubnetRoute(RemoteSubnetRepr),
    /// `ProviderAddress`: the host's underlay address on this network.
    ProviderAddress(Result<IpAddr, Box<ReprError>>),
    /// A policy the dataplane does not build.
    Other,
}

/// A `RemoteSubnetRoute`: a remote node's pod subnet behind its provider address.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteSubnetRepr {
    /// `DestinationPrefix`: a CIDR.
    pub destination: Result<IpNet, Box<ReprError>>,
    pub isolation_id: u32,
    /// `ProviderAddress`: the remote node's underlay address.
    pub provider_address: Result<IpAddr, Box<ReprError>>,
    /// `DistributedRouterMacAddress`: the inner destination MAC toward that node.
    pub dr_mac: Result<Mac, Box<ReprError>>,
}

/// The VXLAN UDP port when a network names none (IANA's 4789).
pub const DEFAULT_VXLAN_PORT: u16 = 4789;

impl NetworkRepr {
    /// Read `n`'s values.
    pub fn parse(n: &Network) -> NetworkRepr {
        NetworkRepr {
            subnets: n
                .subnets()
                .enumerate()
                .map(|(k, s)| SubnetRepr::parse(s, k))
                .collect(),
            policies: n
                .policies
                .iter()
                .enumerate()
                .map(|(i, p)| NetworkPolicyRepr::parse(p, i))
                .collect(),
        }
    }

    /// The VXLAN UDP port: the last `VxlanPort` policy's. A port of 0 (validation refuses it;
    /// inferred, hns-schema.md §6.1) names no port, and a network with none uses
    /// [`DEFAULT_VXLAN_PORT`] (hns-schema.md §3.3).
    pub fn vxlan_port(&self) -> u16 {
        let named = self.policies.iter().rev().find_map(|p| match p {
            NetworkPolicyRepr::VxlanPort(port) if *port != 0 => Some(*port),
            _ => None,
        });
        named.unwrap_or(DEFAULT_VXLAN_PORT)
    }

    /// Every value that did not read, in document order (subnets, then policies).
    pub fn errors(&self) -> impl Iterator<Item = &ReprError> + '_ {
        let subnets = self.subnets.iter().flat_map(|s| {
            let routes = s
                .routes
                .iter()
                .flat_map(|r| [super::err_of(&r.destination), super::err_of(&r.next_hop)])
                .flatten();
            super::err_of(&s.prefix).into_iter().chain(routes)
        });
        let policies = self.policies.iter().flat_map(|p| match p {
            NetworkPolicyRepr::DrMacAddress(m) => vec![super::err_of(m)],
            NetworkPolicyRepr::RemoteSubnetRoute(r) => vec![
                super::err_of(&r.destination),
                super::err_of(&r.provider_address),
                super::err_of(&r.dr_mac),
            ],
            NetworkPolicyRepr::ProviderAddress(a) => vec![super::err_of(a)],
            _ => vec![],
        });
        subnets.chain(policies.flatten())
    }
}

impl SubnetRepr {
    fn parse(s: &crate::schema::Subnet, k: usize) -> SubnetRepr {
        let raw = s.ip_address_prefix.trim();
        let prefix = match raw.is_empty() {
            true => Ok(None),
            false => raw.parse::<IpNet>().map(Some).map_err(|_| {
                ReprError::boxed(
                    format!("Subnets[{k}].IpAddressPrefix"),
                    "a CIDR",
                    &s.ip_address_prefix,
                )
            }),
        };
        let routes = (s.routes.iter().enumerate())
            .map(|(j, r)| RouteRepr::parse_cidr(r, || format!("Subnets[{k}].Routes[{j}]")))
            .collect();
        let vsid = s.policies.iter().rev().find_map(|p| match p {
            SubnetPolicy::Vsid(i) => Some(i.isolation_id),
            _ => None,
        });
        SubnetRepr { prefix, routes, vsid }
    }

    /// The first default route of the subnet's family (`0.0.0.0/0`, `::/0`), with its index in
    /// `Routes`.
    pub fn default_route(&self, v6: bool) -> Option<(usize, &RouteRepr)> {
        super::first_default(&self.routes, v6)
    }
}

/// `Policies[i].Settings.<field>`.
fn settings(i: usize, field: &str) -> String {
    format!("Policies[{i}].Settings.{field}")
}

impl NetworkPolicyRepr {
    /// Read policy `i` of a network.
    pub fn parse(p: &NetworkPolicy, i: usize) -> NetworkPolicyRepr {
        match p {
            NetworkPolicy::VxlanPort(v) => NetworkPolicyRepr::VxlanPort(v.port),
            NetworkPolicy::HostRoute(_) => NetworkPolicyRepr::HostRoute,
            NetworkPolicy::DrMacAddress(d) => NetworkPolicyRepr::DrMacAddress(match d.address.is_empty() {
                true => Ok(None),
                false => mac(&d.address, || settings(i, "Address")).map(Some),
            }),
            NetworkPolicy::RemoteSubnetRoute(r) => {
                NetworkPolicyRepr::RemoteSubnetRoute(RemoteSubnetRepr::parse(r, i))
            }
            NetworkPolicy::ProviderAddress(a) => {
                NetworkPolicyRepr::ProviderAddress(ip(&a.provider_address).ok_or_else(|| {
                    ReprError::boxed(
                        settings(i, "ProviderAddress"),
                        "an IP address",
                        &a.provider_address,
                    )
                }))
            }
            _ => NetworkPolicyRepr::Other,
        }
    }
}

fn mac(s: &str, path: impl FnOnce() -> String) -> Result<Mac, Box<ReprError>> {
    s.parse()
        .map_err(|_| ReprError::boxed(path(), "a MAC address", s))
}

impl RemoteSubnetRepr {
    fn parse(r: &RemoteSubnetRoutePolicy, i: usize) -> RemoteSubnetRepr {
        RemoteSubnetRepr {
            // As sent: validation refuses surrounding blanks here (inferred, as it always did).
            destination: r.destination_prefix.parse().map_err(|_| {
                ReprError::boxed(settings(i, "DestinationPrefix"), "a CIDR", &r.destination_prefix)
            }),
            isolation_id: r.isolation_id,
            provider_address: ip(&r.provider_address).ok_or_else(|| {
                ReprError::boxed(
                    settings(i, "ProviderAddress"),
                    "an IP address",
                    &r.provider_address,
                )
            }),
            dr_mac: mac(&r.distributed_router_mac_address, || {
                settings(i, "DistributedRouterMacAddress")
            }),
        }
    }
}

#[cfg(test)]
mod tests;
