//! Typed values of stored HNS documents, parsed once (issue #15, after smoltcp's `Packet` /
//! `Repr` split).
//!
//! The documents stay what the caller sent (every value a string as sent, unknown keys kept);
//! a repr is the typed reading of the values the dataplane builds from: addresses, MACs,
//! prefixes, next hops, policy settings. [`EndpointRepr::parse`] reads one document; a value
//! that does not read is left out and recorded as a [`ReprError`] with its JSON path inside the
//! document, what was expected and what was found. Validation (create, modify) refuses a
//! document with such errors, each with its HRESULT; state that skips validation (a node
//! import, the scenario `restore:` step) is stored anyway and the compile reports each error
//! with the object's path in front.
//!
//! The state builds the repr once per change and keeps it beside the document in its index
//! (`Hns::endpoint_repr`, `network_repr`, `load_balancer_repr`); the compile consumes it
//! instead of reading strings.
//!
//! Modules: `acl` (an ACL policy's action, direction, protocols, addresses and ports),
//! `endpoint` (addresses, MAC, routes, the policies the dataplane builds), `network`
//! (subnets, their routes and VSID, the network policies the dataplane builds),
//! `load_balancer` (backends, frontend and source VIPs, flags, port mappings).

mod acl;
mod endpoint;
mod load_balancer;
mod network;

pub use acl::{AclAction, AclRepr};
pub use endpoint::{
    EndpointPolicyRepr, EndpointRepr, OutboundNatRepr, PortMappingRepr, RouteRepr, SdnRouteRepr,
};
pub use load_balancer::{LbMappingRepr, LoadBalancerRepr};
pub use network::{NetworkPolicyRepr, NetworkRepr, RemoteSubnetRepr, SubnetRepr, DEFAULT_VXLAN_PORT};

use ipnet::IpNet;
use std::net::IpAddr;

/// A value of a document that does not read as what its field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReprError {
    /// The JSON path inside the document (`Routes[0].NextHop`, `Policies[2].Settings.VIP`).
    pub path: String,
    /// What the field holds: `an IPv4 address`, `a CIDR`, `a MAC address`, …
    pub expected: &'static str,
    /// The value as the document has it.
    pub found: String,
    /// The address it holds when it is one, but of the other family than the field's (an
    /// IPv6 next hop for an IPv4 destination, an IPv4 VIP in an IPv6 policy).
    pub other_family: Option<IpAddr>,
}

impl ReprError {
    /// Boxed: a repr holds many `Result`s and few errors, so an error costs a pointer.
    pub(crate) fn boxed(path: String, expected: &'static str, found: &str) -> Box<ReprError> {
        Box::new(ReprError::new(path, expected, found))
    }

    fn new(path: String, expected: &'static str, found: &str) -> ReprError {
        ReprError {
            path,
            expected,
            found: found.to_string(),
            other_family: None,
        }
    }
}

impl std::fmt::Display for ReprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, found {:?}",
            self.path, self.expected, self.found
        )
    }
}

/// The protocol of a port mapping (an endpoint `PortMapping`, a load balancer's
/// `PortMappings`) as the dataplane matches it. 0 (ProtocolType Unknown, hns-schema.md §3.5)
/// reads as TCP: inferred, no source says what HNS does with it; validation refuses it for an
/// endpoint `PortMapping` (6 or 17 only), a load balancer's is taken as sent. A number above
/// 255 is no IP protocol and reads as 255 (reserved), which no packet carries.
pub fn mapping_protocol(p: u32) -> u8 {
    match p {
        0 => 6,
        p => p.min(255) as u8,
    }
}

/// A port mapping's internal (backend, container) port: 0 means the external port. Inferred:
/// validation refuses 0 (HCN_E_INVALID_INTERNAL_PORT, hns-schema.md §6.1), so only restored
/// or imported state holds it.
pub fn internal_port(internal: u16, external: u16) -> u16 {
    if internal == 0 {
        external
    } else {
        internal
    }
}

/// A GUID (the canonical dashed form read without allocating).
pub(crate) fn guid(s: &str) -> Option<crate::ids::Guid> {
    crate::ids::Guid::parse_hyphenated(s).or_else(|| s.parse().ok())
}

/// The error of a value that did not read.
fn err_of<T>(r: &Result<T, Box<ReprError>>) -> Option<&ReprError> {
    r.as_ref().err().map(|e| &**e)
}

/// An address (surrounding blanks allowed).
pub(crate) fn ip(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

/// An address or a CIDR (`10.0.0.1` is `10.0.0.1/32`).
pub(crate) fn addr_or_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// `an IPv4 address` / `an IPv6 address`.
fn address_of(v6: bool) -> &'static str {
    if v6 {
        "an IPv6 address"
    } else {
        "an IPv4 address"
    }
}

/// An address of the family `v6` names; empty is none. A value that is no address, or one of
/// the other family, is an error (`expected` names the family).
fn family_ip(s: &str, v6: bool, path: impl FnOnce() -> String) -> Result<Option<IpAddr>, Box<ReprError>> {
    if s.is_empty() {
        return Ok(None);
    }
    match ip(s) {
        Some(a) if a.is_ipv6() == v6 => Ok(Some(a)),
        parsed => Err(Box::new(ReprError {
            other_family: parsed,
            ..ReprError::new(path(), address_of(v6), s)
        })),
    }
}

/// Whether `n` is the default route of its family (`0.0.0.0/0`, `::/0`).
pub fn is_default(n: &IpNet) -> bool {
    n.prefix_len() == 0 && n.addr().is_unspecified()
}

/// The first route to the default of the family `v6` names, with its index.
fn first_default(routes: &[RouteRepr], v6: bool) -> Option<(usize, &RouteRepr)> {
    routes.iter().enumerate().find(|(_, r)| {
        r.destination
            .as_ref()
            .is_ok_and(|d| is_default(d) && d.addr().is_ipv6() == v6)
    })
}
