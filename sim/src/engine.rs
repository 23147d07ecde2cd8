//! engine: discrete events on a virtual clock, and the types of the per-host packet path (the
//! VFP pipeline itself is in `vfp::port` and `vfp::ingress`).
//!
//! A packet's journey is a chain of events `(time, location)`: each event is processed and names
//! at most one next event (wire transmissions advance virtual time by the segment's latency).
//! One packet is in flight at a time (`World::send` runs a request to its end, then its reply)
//! and ARP exchanges are resolved inline (their frames are captured), so the chain needs no
//! priority queue and its order is the processing order.
//!
//! Locations inside a host: a container port's outbound VFP (`PortOut`), a port's inbound VFP
//! (`PortIn`), the host TCP/IP stack (`HostStack`), and frames on the underlay (`Wire`, `Arrive`).

use crate::compile::{HostInfo, HostProgram};
use crate::packet::{EthHeader, Packet, Transport};
use crate::switch::SwitchPort;
use crate::trace::{Disposition, Headers, Hop, Step};
use crate::vfp::{Dir, FlowKey, Tuple};
use crate::world::{HostNode, NodeKind, World};
use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr};

/// Flow-table zone of the host's uplink (external port) and of the host stack (host vNIC).
pub(crate) const UPLINK: u32 = u32::MAX;
pub(crate) const HOST: u32 = u32::MAX - 1;

/// The most events one packet may cause before it is declared a loop.
pub(crate) const HOP_BUDGET: u32 = 64;

/// Where the packet is.
#[derive(Copy, Clone, Debug)]
pub(crate) enum At {
    /// Leaving a container through its port (VFP outbound).
    PortOut { host: usize, port: u32, pkt: Packet },
    /// Arriving at a port from the vSwitch (VFP inbound).
    PortIn { host: usize, port: u32, pkt: Packet },
    /// Handed to the host TCP/IP stack; `origin` = sent by the host itself.
    HostStack { host: usize, pkt: Packet, origin: bool },
    /// Sent by a station.
    StationOut { node: usize, pkt: Packet },
    /// Put on a segment by `from`.
    Wire { seg: usize, from: usize, pkt: Packet },
    /// Received by `node` from segment `seg`.
    Arrive { node: usize, seg: usize, pkt: Packet },
}

impl At {
    fn node(&self) -> usize {
        match *self {
            At::PortOut { host, .. } | At::PortIn { host, .. } | At::HostStack { host, .. } => host,
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
    Port { host: usize, port: u32 },
    Host(usize),
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

/// A cached ACL denial: (direction, host rule type, rule index or `u16::MAX` = default).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct DenyRef {
    pub dir: Dir,
    pub host: bool,
    pub rule: u16,
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
        zone: u32,
        endpoint: hnsim_model::Guid,
        layer: crate::vfp::NatLayer,
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

impl World {
    pub(crate) fn hn(&self, h: usize) -> &HostNode {
        match &self.nodes[h].kind {
            NodeKind::Host(x) => x,
            _ => unreachable!("node {h} is not a host"),
        }
    }
    pub(crate) fn hn_mut(&mut self, h: usize) -> &mut HostNode {
        match &mut self.nodes[h].kind {
            NodeKind::Host(x) => x,
            _ => unreachable!("node {h} is not a host"),
        }
    }

    /// Recompile a host's program when its HNS generation moved (checked on every hop).
    #[inline]
    pub(crate) fn ensure_compiled(&mut self, h: usize) {
        let hn = self.hn(h);
        if hn.compiled && hn.prog.hns_generation == hn.hns.generation {
            return;
        }
        self.compile_host(h);
    }

    #[cold]
    fn compile_host(&mut self, h: usize) {
        let hn = self.hn_mut(h);
        let info = HostInfo {
            ip: hn.spec.ip,
            mac: hn.spec.mac,
            mtu: hn.spec.mtu,
            container_mtu_reduction: hn.spec.dataplane.container_mtu_reduction,
            empty_source_vip_uses_node_ip: hn.spec.dataplane.empty_source_vip_uses_node_ip,
        };
        if !hn.compiled {
            hn.prog = HostProgram::default();
        }
        // Incremental: only the objects that changed since the last compile are recompiled.
        crate::compile::update(&mut hn.prog, &hn.hns, &info);
        hn.compiled = true;
        // Endpoints and their MACs may have changed: compartments ARP again.
        hn.neigh.clear();
        let statics = hn
            .prog
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| (p.mac, SwitchPort::Endpoint(i as u32)))
            .chain([(hn.spec.mac, SwitchPort::HostVnic)]);
        hn.switch.program(statics.collect::<Vec<_>>());
        let connected = self.segments[self.hn(h).seg].spec.prefix;
        self.hn_mut(h).rebuild_routes(connected);
    }

    pub(crate) fn flow_gen(&self, h: usize, zone: u32) -> u64 {
        let hn = self.hn(h);
        let g = if zone == UPLINK || zone == HOST {
            hn.prog.hns_generation
        } else {
            hn.prog.port_generation.get(zone as usize).copied().unwrap_or(0)
        };
        (g << 24) ^ self.epoch
    }

    /// Pin the reverse translation of a NAT'd connection where its reply will show up: leaving
    /// the backend's port, arriving on the uplink, or sent by the host stack.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pin_restore(
        &mut self,
        h: usize,
        forward_exit: &Exit,
        after: &Tuple,
        restore: Tuple,
        zone: u32,
        endpoint: hnsim_model::Guid,
        layer: crate::vfp::NatLayer,
    ) {
        let (at, dir) = match *forward_exit {
            Exit::Port(q) => (q, Dir::Out),
            Exit::HostStack if Self::is_host_addr(self.hn(h), after.dst) => (HOST, Dir::Out),
            _ => (UPLINK, Dir::In),
        };
        let now = self.now;
        self.hn_mut(h).flows.insert_pinned(
            FlowKey {
                zone: at,
                dir,
                tuple: after.reversed(),
            },
            FlowAction {
                after: restore,
                exit: Exit::Restore {
                    zone,
                    endpoint,
                    layer,
                },
            },
            now,
        );
    }

    pub(crate) fn is_host_addr(hn: &HostNode, ip: IpAddr) -> bool {
        match v4(ip) {
            Some(a) => a == hn.spec.ip || hn.prog.host_addrs.contains(&a),
            None => false,
        }
    }

    /// Run one packet from `start` to its end.
    pub(crate) fn journey(&mut self, start: At, tr: &mut Tracer) -> Outcome {
        let mut at = start;
        let mut n = 0u32;
        let mut last = start.node();
        loop {
            n += 1;
            if n > HOP_BUDGET {
                return Outcome::Dropped(Disposition::Loop {
                    node: self.nodes[last].name.clone(),
                    hops: HOP_BUDGET,
                });
            }
            last = at.node();
            match self.process(at, tr) {
                Next::Go(next, delay) => {
                    self.now = self.now.saturating_add(delay);
                    at = next;
                }
                Next::End(o) => return o,
            }
        }
    }

    fn process(&mut self, at: At, tr: &mut Tracer) -> Next {
        tr.eth = match at {
            At::PortOut { pkt, .. }
            | At::PortIn { pkt, .. }
            | At::HostStack { pkt, .. }
            | At::StationOut { pkt, .. }
            | At::Wire { pkt, .. }
            | At::Arrive { pkt, .. } => pkt.eth,
        };
        match at {
            At::PortOut { host, port, pkt } => self.port_out(host, port, pkt, tr),
            At::PortIn { host, port, pkt } => self.port_in(host, port, pkt, tr),
            At::HostStack { host, pkt, origin } => self.host_stack(host, pkt, origin, tr),
            At::StationOut { node, pkt } => self.station_out(node, pkt, tr),
            At::Wire { seg, from, pkt } => self.transmit(seg, from, pkt, tr),
            At::Arrive { node, seg, pkt } => self.arrive(node, seg, pkt, tr),
        }
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
