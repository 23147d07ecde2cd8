//! VFP: the per-port match-action engine HNS programs (reference/vfp.md).
//!
//! Each local endpoint gets a port with a program of layers. The layers this model implements, in
//! the order an **outbound** packet (leaving the container) crosses them:
//!
//! | # | layer | from HNS | does |
//! |---|-------|----------|------|
//! | 1 | `ACL_SWITCH`, `ACL_HOST` | endpoint `ACL` policies (`RuleType` Switch / Host) | allow / block by priority (lower number first) |
//! | 2 | `SLB_NAT` | `HostComputeLoadBalancer` (all of the host's LBs are on every port) | DNAT VIP:port → backend DIP:InternalPort; SNAT to `SourceVIP` unless DSR |
//! | 3 | `OUTBOUND_NAT` | endpoint `OutBoundNAT` | SNAT to `VirtualIP` / the host address unless the destination is in `Exceptions`; with `Destinations` only toward those (loopback DSR) |
//! | 4 | `ROUTE` | `SDNRoute`, `RemoteSubnetRoute`, remote endpoints + `ProviderAddress`, network subnets, host OS routes | picks the exit: another port, the host stack, or the uplink |
//! | 5 | `VNET` | network type | L2Bridge: MAC rewrite to the host MAC; Overlay: VXLAN encap (VNI = VSID, UDP 4789 or `VxlanPort`, inner dst MAC = remote DR MAC) |
//!
//! An **inbound** packet crosses them in reverse: `VNET` decap (at the host's uplink, where the
//! VNI picks the network), then reverse NAT (`SLB_NAT` / `OUTBOUND_NAT` / `PORT_MAPPING` sessions,
//! or a new inbound LB / port-mapping DNAT), then `ACL` In at the destination port.
//!
//! Why this order: it is the address-space boundary rule of VFP (vfp.md: ACLs above the VIP→DIP
//! NAT layer see container addresses, encap below it sees provider addresses) and it is the order
//! consumers.md §8 derives from every outcome in §7 (S13: ACLs see the pod's own addresses before
//! OutBoundNAT; S4: the LB decides DSR before OutBoundNAT's loopback `Destinations` applies; S8/S9:
//! encap after SNAT to the source VIP). The exact internal VFP layer list of HNS is not published:
//! the order is **inferred**.
//!
//! The first packet of a connection takes the slow path through these layers; its composed
//! result is cached in the [`flow::FlowTable`] for that port and direction, reply-direction entries
//! are installed at the same time (stateful ACL), and the reverse translation of a NAT'd
//! connection is pinned where its reply will show up. Per VFP point an established packet (or
//! reply) costs one exact-match probe and no rule evaluation, whatever the number of rules, LBs
//! or endpoints.
//!
//! The programs these layers run are the data of [`program`], built by `compile` (which
//! also defines [`Vfp::compile`]); the entry points read them and do not depend on the compiler.

pub mod acl;
mod dataplane;
pub mod flow;
mod ingress;
pub mod lb;
pub mod meter;
mod port;
pub mod program;
#[cfg(test)]
mod tests;
mod winnat;

pub use acl::{AclRule, AclSet, AclVerdict, AclView, Dir};
pub use dataplane::Vfp;
pub(crate) use dataplane::{Env, VfpAction};
pub use flow::{FlowKey, FlowTable, Miss, NatLayer, SnatOwner, SnatPools, Tuple, Zone};
pub use lb::{Backend, LbIndex, LbMapping};

/// The VFP layers of this model (the table in the module doc), named in traces as VFP names
/// them (`Display`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    AclSwitch,
    AclHost,
    SlbNat,
    OutboundNat,
    PortMapping,
    Route,
    Vnet,
    /// WinNAT (NAT networks) and ICS are host-stack NATs, not VFP layers; their steps are traced
    /// like layers.
    WinNat,
    Ics,
}

impl Layer {
    pub const fn as_str(self) -> &'static str {
        match self {
            Layer::AclSwitch => "ACL_SWITCH",
            Layer::AclHost => "ACL_HOST",
            Layer::SlbNat => "SLB_NAT",
            Layer::OutboundNat => "OUTBOUND_NAT",
            Layer::PortMapping => "PORT_MAPPING",
            Layer::Route => "ROUTE",
            Layer::Vnet => "VNET",
            Layer::WinNat => "WINNAT",
            Layer::Ics => "ICS",
        }
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Layer> for String {
    fn from(l: Layer) -> String {
        l.as_str().to_string()
    }
}
