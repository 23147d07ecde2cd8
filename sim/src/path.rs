//! path: the vocabulary of the packet path, shared by every stage and by the driver (it uses
//! no stage and no `World`, so the stages depend on it and not on each other): where a packet
//! is ([`At`]), what a stage decides ([`Next`], [`Outcome`], [`Exit`], the cached
//! [`FlowAction`]), what a flow is keyed by (the connection [`Tuple`], the direction [`Dir`],
//! the flow-table [`Zone`]), which NAT layer translated it ([`NatLayer`]), the tracer, and
//! tuple helpers. `vfp` re-exports the flow vocabulary under its old paths (`vfp::Tuple`, …).

use crate::packet::{EthHeader, Packet, Transport};
use crate::trace::{Disposition, Headers, Hop, Step};
use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr};

/// A host: the index of a node that is a Windows host (`World::hn` turns it into the host).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct HostId(pub(crate) usize);

/// The most events one packet may cause before it is declared a loop.
pub(crate) const HOP_BUDGET: u32 = 64;

/// A connection 5-tuple (ICMP echo uses the identifier as both ports). Hashed for the flow
/// table in `vfp::flow`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tuple {
    pub proto: u8,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

impl Tuple {
    pub fn reversed(&self) -> Tuple {
        Tuple {
            proto: self.proto,
            src: self.dst,
            sport: self.dport,
            dst: self.src,
            dport: self.sport,
        }
    }
}

impl std::fmt::Display for Tuple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = match self.proto {
            6 => "tcp",
            17 => "udp",
            1 | 58 => "icmp",
            _ => "ip",
        };
        write!(
            f,
            "{p} {}:{} -> {}:{}",
            self.src, self.sport, self.dst, self.dport
        )
    }
}

/// A VFP point where flow entries live: an endpoint's port (by its index in the host program),
/// the host stack (the host vNIC), or the host's uplink (the external port).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Zone {
    Port(u32),
    HostStack,
    Uplink,
}

impl Zone {
    /// The zone as one hash word (the two host zones take the top of the port-index range;
    /// only the hash uses this, `Eq` compares the variants).
    #[inline(always)]
    pub(crate) fn word(self) -> u64 {
        match self {
            Zone::Port(p) => p as u64,
            Zone::HostStack => (u32::MAX - 1) as u64,
            Zone::Uplink => u32::MAX as u64,
        }
    }

    /// The port index of a port zone.
    #[inline]
    pub fn port(self) -> Option<u32> {
        match self {
            Zone::Port(p) => Some(p),
            Zone::HostStack | Zone::Uplink => None,
        }
    }
}

/// Direction relative to the endpoint: `In` = to the endpoint, `Out` = from it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    In,
    Out,
}

/// The NAT layer that translated a connection (its reply is restored there). Its VFP layer
/// and trace name (`layer`, `name`) are in `vfp::flow`, next to the layer list.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NatLayer {
    Lb,
    OutboundNat,
    PortMapping,
    WinNat,
    /// Internet Connection Sharing: WinNAT's translation for an ICS network, traced as ICS.
    Ics,
}

/// Where the packet is.
#[derive(Copy, Clone, Debug)]
pub(crate) enum At {
    /// Leaving a container through its port (VFP outbound).
    PortOut { host: HostId, port: u32, pkt: Packet },
    /// Arriving at a port from the vSwitch (VFP inbound).
    PortIn { host: HostId, port: u32, pkt: Packet },
    /// Handed to the host TCP/IP stack; `origin` = sent by the host itself.
    HostStack { host: HostId, pkt: Packet, origin: bool },
    /// Sent by a station.
    StationOut { node: usize, pkt: Packet },
    /// Put on a segment by `from`.
    Wire { seg: usize, from: usize, pkt: Packet },
    /// Received by `node` from segment `seg`.
    Arrive { node: usize, seg: usize, pkt: Packet },
}

impl At {
    pub(crate) fn node(&self) -> usize {
        match *self {
            At::PortOut { host, .. } | At::PortIn { host, .. } | At::HostStack { host, .. } => host.0,
            At::StationOut { node, .. } | At::Arrive { node, .. } => node,
            At::Wire { from, .. } => from,
        }
    }
}

/// Builds hops and steps only when tracing is on.
pub(crate) struct Tracer {
    pub on: bool,
    pub hops: Vec<Hop>,
    /// The Ethernet header of the packet being processed (for `Transform` steps).
    pub eth: EthHeader,
}

impl Tracer {
    pub fn new(on: bool) -> Tracer {
        Tracer {
            on,
            hops: Vec::new(),
            eth: EthHeader {
                src: Mac::default(),
                dst: Mac::default(),
            },
        }
    }
    #[inline(always)]
    pub fn hop(&mut self, node: &str, port: &str) {
        if self.on {
            self.hops.push(Hop {
                node: node.to_string(),
                port: port.to_string(),
                steps: Vec::new(),
            });
        }
    }
    #[inline(always)]
    pub fn step(&mut self, f: impl FnOnce() -> Step) {
        if self.on {
            if let Some(h) = self.hops.last_mut() {
                h.steps.push(f());
            }
        }
    }
}

/// Who received a packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Receiver {
    Port { host: HostId, port: u32 },
    Host(HostId),
    Station(usize),
}

#[derive(Debug)]
pub(crate) enum Outcome {
    Arrived(Receiver, Packet),
    Dropped(Disposition),
}

pub(crate) enum Next {
    Go(At, u64),
    End(Outcome),
}

pub(crate) fn drop(d: Disposition) -> Next {
    Next::End(Outcome::Dropped(d))
}

/// Which ACL decided: a rule of the set (its index), the set's default when no rule matched
/// (`DataplaneSettings::acl_default_block_when_rules_exist`), or the default of a direction
/// with no rule at all (`DataplaneSettings::acl_default_allow_when_no_rules` off).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum AclRuleRef {
    Rule(u32),
    Default,
    NoRules,
}

/// A cached ACL denial: the direction, the layer (`host`: ACL_HOST, else ACL_SWITCH) and the
/// rule.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct DenyRef {
    pub dir: Dir,
    pub host: bool,
    pub rule: AclRuleRef,
}

/// Where a flow goes after its transposition.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Port(u32),
    HostStack,
    Uplink {
        next_hop: Ipv4Addr,
        src_mac: Mac,
    },
    Encap {
        outer_next_hop: Ipv4Addr,
        pa: Ipv4Addr,
        vni: u32,
        udp_port: u16,
        inner_dst_mac: Mac,
    },
    /// Deliver to the port's container.
    Deliver,
    /// The reply of a translated connection: `FlowAction::after` is the restored tuple, handed
    /// to `zone` (a port — found by `endpoint`, since port indexes move —, the host, or the
    /// uplink).
    Restore {
        zone: Zone,
        endpoint: hnsim_model::Guid,
        layer: NatLayer,
    },
    /// The ACL passed (stateful reply), the rest of the layers still to run.
    Pending,
    Deny(DenyRef),
}

/// The composed result of the slow path, cached in the unified flow table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FlowAction {
    pub(crate) after: Tuple,
    pub(crate) exit: Exit,
}

pub(crate) fn tuple_of(p: &Packet) -> Option<Tuple> {
    match p.payload {
        crate::packet::Payload::Ip { ip, l4 } => {
            let (sport, dport) = l4.ports();
            Some(Tuple {
                proto: l4.protocol(ip.src.is_ipv6()),
                src: ip.src,
                sport,
                dst: ip.dst,
                dport,
            })
        }
        _ => None,
    }
}

pub(crate) fn set_tuple(p: &mut Packet, t: &Tuple) {
    if let crate::packet::Payload::Ip { ip, l4 } = &mut p.payload {
        ip.src = t.src;
        ip.dst = t.dst;
        match l4 {
            Transport::Tcp {
                src_port, dst_port, ..
            }
            | Transport::Udp { src_port, dst_port } => {
                *src_port = t.sport;
                *dst_port = t.dport;
            }
            Transport::Icmp { .. } => {}
        }
    }
}

pub(crate) fn headers(p: &Packet) -> Headers {
    let t = tuple_of(p).unwrap_or(Tuple {
        proto: 0,
        src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        sport: 0,
        dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        dport: 0,
    });
    Headers {
        src: t.src,
        src_port: t.sport,
        dst: t.dst,
        dst_port: t.dport,
        src_mac: p.eth.src,
        dst_mac: p.eth.dst,
    }
}

/// IP total length of the (inner) packet.
pub(crate) fn ip_len(p: &Packet) -> u16 {
    match p.payload {
        crate::packet::Payload::Ip { ip, l4 } => {
            let l4h = match l4 {
                Transport::Tcp { .. } => 20,
                Transport::Udp { .. } | Transport::Icmp { .. } => 8,
            };
            let iph = if ip.dst.is_ipv6() { 40 } else { 20 };
            iph + l4h + p.data_len
        }
        crate::packet::Payload::Arp(_) => 28,
    }
}

pub(crate) fn v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

/// Trace headers of a tuple with the frame's current MACs.
pub(crate) fn tuple_headers(t: &Tuple, eth: EthHeader) -> Headers {
    Headers {
        src: t.src,
        src_port: t.sport,
        dst: t.dst,
        dst_port: t.dport,
        src_mac: eth.src,
        dst_mac: eth.dst,
    }
}
