//! An endpoint's policies compiled into the parts of its port program: one function per policy
//! type, each reading the policy's settings and either adding to the program or reporting what
//! it cannot build (never a silent default). Adding a policy type is one arm in
//! [`PortPolicies::add`] and one function here.

use super::{parse_net, parse_net6, parse_v4, proto_of};
use crate::route::RouteTable;
use crate::vfp::acl::{AclRule, Dir};
use crate::vfp::program::{CompileError, OutboundNat, OutboundNat6, PortMap, SdnRoute};
use hnsim_model::schema::{
    nat_flags, AclPolicy, EndpointPolicy, OutboundNatPolicy, PortMappingPolicy, SdnRoutePolicy,
};
use hnsim_model::Guid;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where an error in one policy is reported (`endpoints[ID].Policies[i].Settings`). The path is
/// formatted only for an error: formatting it for every policy was a sixth of compiling an
/// endpoint.
#[derive(Copy, Clone)]
struct At {
    endpoint: Guid,
    index: usize,
}

impl At {
    fn settings(self) -> String {
        format!("endpoints[{}].Policies[{}].Settings", self.endpoint, self.index)
    }

    fn error(self, field: &str, message: String) -> CompileError {
        CompileError {
            path: match field {
                "" => self.settings(),
                f => format!("{}.{f}", self.settings()),
            },
            message,
        }
    }
}

/// What an endpoint's policies add to its port program.
#[derive(Default)]
pub(super) struct PortPolicies {
    /// ACL rules by layer and direction: switch in, switch out, host in, host out.
    pub acls: [Vec<AclRule>; 4],
    pub outbound_nat: Vec<OutboundNat>,
    pub outbound_nat6: Vec<OutboundNat6>,
    pub sdn_routes: RouteTable<SdnRoute>,
    pub port_maps: Vec<PortMap>,
    /// `EncapOverhead` (the last one counts); without it the network type's overhead applies.
    pub encap_overhead: Option<u16>,
    /// `QOS` `MaximumOutgoingBandwidthInBytes`, when it limits.
    pub qos: Option<u64>,
}

impl PortPolicies {
    /// The endpoint's policies in document order; errors in the order they are found.
    pub(super) fn of(
        endpoint: Guid,
        policies: &[EndpointPolicy],
        errors: &mut Vec<CompileError>,
    ) -> PortPolicies {
        let mut p = PortPolicies::default();
        for (index, policy) in policies.iter().enumerate() {
            p.add(At { endpoint, index }, policy, errors);
        }
        p
    }

    fn add(&mut self, at: At, policy: &EndpointPolicy, errors: &mut Vec<CompileError>) {
        match policy {
            EndpointPolicy::Acl(a) => self.acl(at, a, errors),
            EndpointPolicy::OutBoundNat(o) if o.flags & nat_flags::IPV6 != 0 => {
                self.outbound_nat6(at, o, errors)
            }
            EndpointPolicy::OutBoundNat(o) => self.outbound_nat(at, o, errors),
            EndpointPolicy::SdnRoute(r) => self.sdn_route(at, r, errors),
            // IPv6 port mappings are not part of the IPv4 port program.
            EndpointPolicy::PortMapping(m) if m.flags & nat_flags::IPV6 == 0 => {
                self.port_mapping(at, m, errors)
            }
            EndpointPolicy::EncapOverhead(o) => self.encap_overhead = Some(o.overhead),
            // 0 = no limit (inferred: HNS always emits the field).
            EndpointPolicy::Qos(q) if q.maximum_outgoing_bandwidth_in_bytes > 0 => {
                self.qos = Some(q.maximum_outgoing_bandwidth_in_bytes)
            }
            _ => {}
        }
    }

    fn acl(&mut self, at: At, a: &AclPolicy, errors: &mut Vec<CompileError>) {
        match AclRule::parse(a, at.index) {
            Ok(r) => {
                let slot = (r.host as usize) * 2 + (r.dir == Dir::Out) as usize;
                self.acls[slot].push(r);
            }
            Err(message) => errors.push(at.error("", message)),
        }
    }

    fn outbound_nat(&mut self, at: At, o: &OutboundNatPolicy, errors: &mut Vec<CompileError>) {
        let virtual_ip = match virtual_ip(at, &o.virtual_ip, false, errors) {
            Some(IpAddr::V4(a)) => Some(a),
            _ => None,
        };
        let exceptions = prefixes(at, &o.exceptions, "Exceptions", errors, parse_net, parse_net6, 4);
        let destinations = prefixes(
            at,
            &o.destinations,
            "Destinations",
            errors,
            parse_net,
            parse_net6,
            4,
        );
        self.outbound_nat.push(OutboundNat {
            virtual_ip,
            exceptions,
            destinations,
        });
    }

    fn outbound_nat6(&mut self, at: At, o: &OutboundNatPolicy, errors: &mut Vec<CompileError>) {
        let virtual_ip = match virtual_ip(at, &o.virtual_ip, true, errors) {
            Some(IpAddr::V6(a)) => Some(a),
            _ => None,
        };
        let exceptions = prefixes(at, &o.exceptions, "Exceptions", errors, parse_net6, parse_net, 6);
        let destinations = prefixes(
            at,
            &o.destinations,
            "Destinations",
            errors,
            parse_net6,
            parse_net,
            6,
        );
        self.outbound_nat6.push(OutboundNat6 {
            virtual_ip,
            exceptions,
            destinations,
        });
    }

    fn sdn_route(&mut self, at: At, r: &SdnRoutePolicy, errors: &mut Vec<CompileError>) {
        let Some(prefix) = parse_net(&r.destination_prefix) else {
            if parse_net6(&r.destination_prefix).is_none() {
                errors.push(at.error(
                    "DestinationPrefix",
                    format!("expected a CIDR, found {:?}", r.destination_prefix),
                ));
            } // IPv6 routes do not apply
            return;
        };
        // An empty NextHop is none; another value that is not IPv4 is reported and the route
        // left out (not routed on-link instead).
        let next_hop = parse_v4(&r.next_hop);
        if next_hop.is_none() && !r.next_hop.trim().is_empty() {
            errors.push(at.error(
                "NextHop",
                format!("expected an IPv4 address, found {:?}", r.next_hop),
            ));
            return;
        }
        self.sdn_routes.push(SdnRoute {
            prefix,
            next_hop,
            need_encap: r.need_encap,
        });
    }

    fn port_mapping(&mut self, at: At, m: &PortMappingPolicy, errors: &mut Vec<CompileError>) {
        // An empty VIP is every address; a VIP that is not IPv4 is reported and the mapping
        // left out (not widened to every address).
        let vip = parse_v4(&m.vip);
        if vip.is_none() && !m.vip.trim().is_empty() {
            errors.push(at.error("VIP", format!("expected an IPv4 address, found {:?}", m.vip)));
            return;
        }
        self.port_maps.push(PortMap {
            port: 0,
            proto: proto_of(m.protocol),
            external_port: m.external_port,
            internal_port: if m.internal_port == 0 {
                m.external_port
            } else {
                m.internal_port
            },
            vip,
            local_routed: m.flags & nat_flags::LOCAL_ROUTED_VIP != 0,
        });
    }
}

/// An OutBoundNAT `VirtualIP` of the policy's family; empty is none, anything else is reported.
fn virtual_ip(at: At, s: &str, v6: bool, errors: &mut Vec<CompileError>) -> Option<IpAddr> {
    let t = s.trim();
    let ip = match v6 {
        true => t.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        false => t.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    };
    if ip.is_none() && !t.is_empty() {
        let family = if v6 { 6 } else { 4 };
        errors.push(at.error(
            "VirtualIP",
            format!("expected an IPv{family} address, found {s:?}"),
        ));
    }
    ip
}

/// An OutBoundNAT address list of one family: entries of the other family do not apply and are
/// skipped; an entry of neither is reported.
fn prefixes<N, O>(
    at: At,
    list: &[String],
    field: &str,
    errors: &mut Vec<CompileError>,
    parse: fn(&str) -> Option<N>,
    other: fn(&str) -> Option<O>,
    family: u8,
) -> Vec<N> {
    let mut out = Vec::new();
    for (j, s) in list.iter().enumerate() {
        match parse(s) {
            Some(n) => out.push(n),
            None if other(s).is_some() => {}
            None => errors.push(at.error(
                &format!("{field}[{j}]"),
                format!("expected an IPv{family} address or CIDR, found {s:?}"),
            )),
        }
    }
    out
}
