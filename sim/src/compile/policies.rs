//! An endpoint's policies compiled into the parts of its port program: one function per policy
//! type, each reading the policy's typed values (`hnsim_model::repr`) and either adding to the
//! program or reporting what it cannot build (never a silent default). Adding a policy type is one arm in
//! [`PortPolicies::add`] and one function here.

use super::{repr_error, EndpointAt};
use crate::route::RouteTable;
use crate::vfp::acl::{AclRule, AclUnbuilt, Dir};
use crate::vfp::program::{CompileError, OutboundNat, OutboundNat6, PortMap, SdnRoute};
use hnsim_model::repr::{
    internal_port, mapping_protocol, AclRepr, EndpointPolicyRepr, OutboundNatRepr, PortMappingRepr,
    SdnRouteRepr,
};
use hnsim_model::schema::{AclPolicy, EndpointPolicy};
use hnsim_model::Guid;
use ipnet::IpNet;
use std::net::IpAddr;

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

    /// An error in one field of the policy's settings.
    fn error(self, field: &str, message: String) -> CompileError {
        CompileError {
            path: format!("{}.{field}", self.settings()),
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
    /// The endpoint's policies in document order (`typed`: their values as the model read
    /// them, same index); errors in the order they are found.
    pub(super) fn of(
        endpoint: Guid,
        policies: &[EndpointPolicy],
        typed: &[EndpointPolicyRepr],
        errors: &mut Vec<CompileError>,
    ) -> PortPolicies {
        let mut p = PortPolicies::default();
        for (index, (policy, t)) in policies.iter().zip(typed).enumerate() {
            p.add(At { endpoint, index }, policy, t, errors);
        }
        p
    }

    fn add(
        &mut self,
        at: At,
        policy: &EndpointPolicy,
        typed: &EndpointPolicyRepr,
        errors: &mut Vec<CompileError>,
    ) {
        match (policy, typed) {
            (EndpointPolicy::Acl(a), EndpointPolicyRepr::Acl(r)) => self.acl(at, a, r, errors),
            (_, EndpointPolicyRepr::OutboundNat(o)) if o.v6 => self.outbound_nat6(at, o, errors),
            (_, EndpointPolicyRepr::OutboundNat(o)) => self.outbound_nat(at, o, errors),
            (_, EndpointPolicyRepr::SdnRoute(r)) => self.sdn_route(at, r, errors),
            // IPv6 port mappings are not modelled (hns-schema.md §6.1): the port program is IPv4.
            // A VIP of theirs that does not read is still reported.
            (_, EndpointPolicyRepr::PortMapping(m)) if m.v6 => {
                if let Err(e) = &m.vip {
                    errors.push(repr_error(EndpointAt(&at.endpoint), e));
                }
            }
            (_, EndpointPolicyRepr::PortMapping(m)) => self.port_mapping(at, m, errors),
            (_, EndpointPolicyRepr::EncapOverhead(o)) => self.encap_overhead = Some(*o),
            (_, EndpointPolicyRepr::Qos(Some(limit))) => self.qos = Some(*limit),
            _ => {}
        }
    }

    fn acl(&mut self, at: At, a: &AclPolicy, typed: &AclRepr, errors: &mut Vec<CompileError>) {
        match AclRule::from_repr(a, typed, at.index) {
            Ok(r) => {
                let slot = (r.host as usize) * 2 + (r.dir == Dir::Out) as usize;
                self.acls[slot].push(r);
            }
            Err(AclUnbuilt::Unread(e)) => errors.push(repr_error(EndpointAt(&at.endpoint), e)),
            Err(AclUnbuilt::Pass) => errors.push(at.error("Action", AclUnbuilt::pass_message(&a.action))),
        }
    }

    fn outbound_nat(&mut self, at: At, o: &OutboundNatRepr, errors: &mut Vec<CompileError>) {
        let virtual_ip = match virtual_ip(at, o, errors) {
            Some(IpAddr::V4(a)) => Some(a),
            _ => None,
        };
        errors.extend(o.errors.iter().map(|e| repr_error(EndpointAt(&at.endpoint), e)));
        let v4 = |n: &IpNet| match n {
            IpNet::V4(n) => Some(*n),
            IpNet::V6(_) => None,
        };
        self.outbound_nat.push(OutboundNat {
            virtual_ip,
            exceptions: o.exceptions.iter().filter_map(v4).collect(),
            destinations: o.destinations.iter().filter_map(v4).collect(),
        });
    }

    fn outbound_nat6(&mut self, at: At, o: &OutboundNatRepr, errors: &mut Vec<CompileError>) {
        let virtual_ip = match virtual_ip(at, o, errors) {
            Some(IpAddr::V6(a)) => Some(a),
            _ => None,
        };
        errors.extend(o.errors.iter().map(|e| repr_error(EndpointAt(&at.endpoint), e)));
        let v6 = |n: &IpNet| match n {
            IpNet::V6(n) => Some(*n),
            IpNet::V4(_) => None,
        };
        self.outbound_nat6.push(OutboundNat6 {
            virtual_ip,
            exceptions: o.exceptions.iter().filter_map(v6).collect(),
            destinations: o.destinations.iter().filter_map(v6).collect(),
        });
    }

    fn sdn_route(&mut self, at: At, r: &SdnRouteRepr, errors: &mut Vec<CompileError>) {
        let prefix = match &r.destination {
            Ok(IpNet::V4(p)) => *p,
            // IPv6 routes do not apply; a next hop of theirs that does not read is reported.
            Ok(IpNet::V6(_)) => {
                if let Err(e) = &r.next_hop {
                    errors.push(repr_error(EndpointAt(&at.endpoint), e));
                }
                return;
            }
            Err(e) => return errors.push(repr_error(EndpointAt(&at.endpoint), e)),
        };
        // An empty NextHop is none; another value that is not IPv4 is reported and the route
        // left out (not routed on-link instead).
        let next_hop = match &r.next_hop {
            Ok(None) => None,
            Ok(Some(IpAddr::V4(h))) => Some(*h),
            Ok(Some(IpAddr::V6(_))) => return, // of the other family: an error of the repr's
            Err(e) => return errors.push(repr_error(EndpointAt(&at.endpoint), e)),
        };
        self.sdn_routes.push(SdnRoute {
            prefix,
            next_hop,
            need_encap: r.need_encap,
        });
    }

    fn port_mapping(&mut self, at: At, m: &PortMappingRepr, errors: &mut Vec<CompileError>) {
        // An empty VIP is every address; a VIP that is not IPv4 is reported and the mapping
        // left out (not widened to every address).
        let vip = match &m.vip {
            Ok(None) => None,
            Ok(Some(IpAddr::V4(a))) => Some(*a),
            Ok(Some(IpAddr::V6(_))) => return, // of the other family: an error of the repr's
            Err(e) => return errors.push(repr_error(EndpointAt(&at.endpoint), e)),
        };
        self.port_maps.push(PortMap {
            port: 0,
            proto: mapping_protocol(m.protocol),
            external_port: m.external_port,
            internal_port: internal_port(m.internal_port, m.external_port),
            vip,
            local_routed: m.local_routed,
        });
    }
}

/// An OutBoundNAT `VirtualIP` (of the policy's family, or reported).
fn virtual_ip(at: At, o: &OutboundNatRepr, errors: &mut Vec<CompileError>) -> Option<IpAddr> {
    match &o.virtual_ip {
        Ok(ip) => *ip,
        Err(e) => {
            errors.push(repr_error(EndpointAt(&at.endpoint), e));
            None
        }
    }
}
