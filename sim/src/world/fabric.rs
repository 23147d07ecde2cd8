//! The underlay: segments (L2 broadcast domains with an MTU), routers, stations, and the faults
//! that act on them (link down, host down, seeded loss, latency, partitions). Neighbour
//! resolution sends real ARP request/reply frames (captured at the asker's uplink) and fills a
//! per-node cache; a frame is received by the node owning its destination MAC.

use crate::compile::NetKind;
use crate::packet::{EthHeader, Packet, Payload, VxlanOuter, VXLAN_OVERHEAD};
use crate::path::HostId;
use crate::path::{drop, ip_len, tuple_of, v4, At, Next, Outcome, Receiver, Tracer};
use crate::route::RouteTable;
use crate::trace::{Disposition, Step};
use crate::vfp::lb::{ip_word, mix};
use crate::world::{NodeKind, World};
use hnsim_model::Mac;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// How a router route leaves: on-link on interface `i`, or via a next hop.
#[derive(Copy, Clone, Debug)]
enum RouterVia {
    Connected(usize),
    Static(Ipv4Addr),
    Default(Ipv4Addr),
}

pub use crate::underlay::WIRE_NS;

impl World {
    /// The address and MAC of `node` on segment `seg`.
    pub(crate) fn node_iface(&self, node: usize, seg: usize) -> Option<(Ipv4Addr, Mac)> {
        match &self.nodes[node].kind {
            NodeKind::Host(h) if h.seg == seg => Some((h.spec.ip, h.spec.mac)),
            NodeKind::Router(spec, segs) => segs
                .iter()
                .position(|s| *s == seg)
                .map(|i| (spec.interfaces[i].ip, spec.interfaces[i].mac)),
            NodeKind::Station(spec, s) if *s == seg => Some((spec.ip, spec.mac)),
            _ => None,
        }
    }

    /// Who owns `mac` on `seg` (hosts also own their Transparent endpoints' MACs).
    fn owner_of_mac(&self, seg: usize, mac: Mac) -> Option<usize> {
        (0..self.nodes.len()).find(|&n| {
            if self.node_iface(n, seg).is_some_and(|(_, m)| m == mac) {
                return true;
            }
            match &self.nodes[n].kind {
                NodeKind::Host(h) if h.seg == seg => h.vfp.program().transparent_by_mac.contains_key(&mac),
                _ => false,
            }
        })
    }

    /// Who answers ARP for `ip` on `seg`.
    pub(crate) fn owner_of_ip(&self, seg: usize, ip: Ipv4Addr) -> Option<(usize, Mac)> {
        for n in 0..self.nodes.len() {
            if let Some((a, m)) = self.node_iface(n, seg) {
                if a == ip {
                    return Some((n, m));
                }
            }
            if let NodeKind::Host(h) = &self.nodes[n].kind {
                if h.seg == seg {
                    if let Some(&mac) = h.vfp.program().transparent_by_ip.get(&ip) {
                        return Some((n, mac));
                    }
                }
            }
        }
        None
    }

    #[inline]
    fn capture_node(&mut self, node: usize, pkt: &Packet) {
        if self.capture && matches!(self.nodes[node].kind, NodeKind::Host(_)) {
            let point = format!("{}/uplink", self.nodes[node].name);
            self.record(&point, pkt);
        }
    }

    /// Resolve `ip` on `seg` for `node`: the neighbour cache, else an ARP exchange.
    pub(crate) fn resolve(
        &mut self,
        node: usize,
        seg: usize,
        ip: Ipv4Addr,
        tr: &mut Tracer,
    ) -> Result<Mac, Disposition> {
        self.resolve_as(node, seg, ip, None, tr)
    }

    /// [`World::resolve`] with the ARP request sent as `sender` (a Transparent endpoint's own
    /// address and MAC) instead of the node's interface.
    pub(crate) fn resolve_as(
        &mut self,
        node: usize,
        seg: usize,
        ip: Ipv4Addr,
        sender: Option<(Ipv4Addr, Mac)>,
        tr: &mut Tracer,
    ) -> Result<Mac, Disposition> {
        self.counters.table_lookups += 1;
        if let Some(m) = self.nodes[node].neigh.get(&ip).copied() {
            tr.step(|| Step::Arp {
                who_has: ip,
                is_at: Some(m),
                cached: true,
            });
            return Ok(m);
        }
        let Some((my_ip, my_mac)) = sender.or_else(|| self.node_iface(node, seg)) else {
            return Err(Disposition::NoRoute {
                node: self.nodes[node].name.clone(),
                reason: format!("no interface on segment {}", self.fabric.spec(seg).name),
            });
        };
        let request = Packet::arp_request((my_ip, my_mac), ip);
        self.capture_node(node, &request);
        let owner = self
            .owner_of_ip(seg, ip)
            .filter(|(n, _)| self.fabric.reachable(node, *n));
        let Some((owner, mac)) = owner else {
            tr.step(|| Step::Arp {
                who_has: ip,
                is_at: None,
                cached: false,
            });
            return Err(Disposition::NoRoute {
                node: self.nodes[node].name.clone(),
                reason: format!(
                    "ARP for {ip} on segment {} got no answer",
                    self.fabric.spec(seg).name
                ),
            });
        };
        let reply = request.arp_reply(mac);
        self.capture_node(owner, &request);
        self.capture_node(owner, &reply);
        self.capture_node(node, &reply);
        self.nodes[node].neigh.insert(ip, mac);
        tr.step(|| Step::Arp {
            who_has: ip,
            is_at: Some(mac),
            cached: false,
        });
        Ok(mac)
    }

    /// Send a packet out of host `h`'s uplink toward `next_hop` (optionally VXLAN-encapsulated
    /// to `(provider address, VNI, UDP port)`).
    pub(crate) fn emit_uplink(
        &mut self,
        h: HostId,
        mut pkt: Packet,
        next_hop: Ipv4Addr,
        src_mac: Mac,
        encap: Option<(Ipv4Addr, u32, u16)>,
        tr: &mut Tracer,
    ) -> Next {
        let seg = self.hn(h).seg;
        // A Transparent endpoint asks for its neighbours itself.
        let sender = if encap.is_none() && src_mac != self.hn(h).spec.mac {
            let prog = &self.hn(h).vfp.program();
            match prog.transparent_by_mac.get(&src_mac) {
                Some(&ip) => Some((ip, src_mac)),
                None => prog
                    .ports
                    .iter()
                    .find(|p| p.mac == src_mac)
                    .map(|p| (p.ip, p.mac)),
            }
        } else {
            None
        };
        let mac = match self.resolve_as(h.0, seg, next_hop, sender, tr) {
            Ok(m) => m,
            Err(d) => return drop(d),
        };
        match encap {
            Some((pa, vni, port)) => {
                let hn = self.hn(h);
                // The outer UDP source port is a hash of the inner flow (entropy for ECMP).
                let words = tuple_of(&pkt)
                    .map(|t| {
                        [
                            ip_word(t.src),
                            ip_word(t.dst),
                            ((t.sport as u64) << 16) | t.dport as u64,
                        ]
                    })
                    .unwrap_or([0; 3]);
                let sport = 49152 + (mix(self.seed, &words) % 16384) as u16;
                let outer = VxlanOuter {
                    eth: EthHeader {
                        src: hn.spec.mac,
                        dst: mac,
                    },
                    src: hn.spec.ip,
                    dst: pa,
                    ttl: 128,
                    src_port: sport,
                    dst_port: port,
                    vni,
                };
                let inner_dst_mac = pkt.eth.dst;
                tr.step(|| Step::Encap {
                    vni,
                    outer_src: outer.src,
                    outer_dst: pa,
                    udp_port: port,
                    inner_dst_mac,
                    outer_src_mac: outer.eth.src,
                    outer_dst_mac: outer.eth.dst,
                });
                pkt.outer = Some(outer);
            }
            None => {
                let before = crate::path::headers(&pkt);
                pkt.eth.src = src_mac;
                pkt.eth.dst = mac;
                if tr.on && before.src_mac != src_mac && before.src_mac != Mac::default() {
                    let after = crate::path::headers(&pkt);
                    tr.step(|| Step::Transform {
                        layer: crate::vfp::Layer::Vnet.into(),
                        rule: "MAC rewrite (frames leave with the host MAC)".into(),
                        before,
                        after,
                    });
                }
            }
        }
        Next::Go(At::Wire { seg, from: h.0, pkt }, 0)
    }

    /// Put a frame on segment `seg`: the fabric lets it leave `from`, the owner of its
    /// destination MAC receives it, and the fabric carries it there (or a fault stops it).
    pub(crate) fn transmit(&mut self, seg: usize, from: usize, pkt: Packet, tr: &mut Tracer) -> Next {
        let size = ip_len(&pkt) + if pkt.outer.is_some() { VXLAN_OVERHEAD } else { 0 };
        let df = match pkt.payload {
            Payload::Ip { ip, .. } => ip.dont_fragment,
            Payload::Arp(_) => false,
        };
        let nodes = &self.nodes;
        let name = |n: usize| nodes[n].name.clone();
        if let Err(d) = self.fabric.send(seg, from, size, df, name) {
            return drop(d);
        }
        self.capture_node(from, &pkt);
        let dst_mac = pkt.outer.map(|o| o.eth.dst).unwrap_or(pkt.eth.dst);
        let Some(to) = self.owner_of_mac(seg, dst_mac) else {
            return drop(Disposition::NoRoute {
                node: self.nodes[from].name.clone(),
                reason: format!(
                    "no NIC with MAC {dst_mac} on segment {}",
                    self.fabric.spec(seg).name
                ),
            });
        };
        if tr.on {
            let segment = self.fabric.spec(seg).name.clone();
            tr.step(|| Step::Transmit {
                segment,
                bytes: size as usize + 14,
            });
        }
        let nodes = &self.nodes;
        let name = |n: usize| nodes[n].name.clone();
        match self.fabric.carry(seg, from, to, &mut self.rt.rng, name) {
            Ok(delay) => Next::Go(At::Arrive { node: to, seg, pkt }, delay),
            Err(d) => drop(d),
        }
    }

    /// A frame received by `node` from `seg`.
    pub(crate) fn arrive(&mut self, node: usize, seg: usize, pkt: Packet, tr: &mut Tracer) -> Next {
        self.capture_node(node, &pkt);
        match &self.nodes[node].kind {
            NodeKind::Host(_) => self.uplink_in(HostId(node), pkt, tr),
            NodeKind::Router(..) => self.router_in(node, seg, pkt, tr),
            NodeKind::Station(..) => {
                let name = self.nodes[node].name.clone();
                tr.hop(&name, "eth0");
                let me = match &self.nodes[node].kind {
                    NodeKind::Station(s, _) => s.ip,
                    _ => Ipv4Addr::UNSPECIFIED,
                };
                match tuple_of(&pkt).and_then(|t| v4(t.dst)) {
                    Some(d) if d == me && pkt.outer.is_none() => {
                        tr.step(|| Step::Deliver {
                            to: format!("station:{name}"),
                        });
                        Next::End(Outcome::Arrived(Receiver::Station(node), pkt))
                    }
                    _ => drop(Disposition::NoRoute {
                        node: name,
                        reason: "packet not addressed to this station".into(),
                    }),
                }
            }
        }
    }

    /// A frame on a host's uplink: VXLAN decap (the VNI selects the Overlay network by VSID), then
    /// the vSwitch ingress.
    fn uplink_in(&mut self, h: HostId, mut pkt: Packet, tr: &mut Tracer) -> Next {
        self.ensure_compiled(h);
        let now = self.rt.now;
        let src = pkt.outer.map(|o| o.eth.src).unwrap_or(pkt.eth.src);
        self.hn_mut(h).switch.learn_from_uplink(src, now);
        if tr.on {
            let name = self.nodes[h.0].name.clone();
            tr.hop(&name, "uplink");
        }
        if let Some(o) = pkt.outer {
            let name = || self.nodes[h.0].name.clone();
            let hn = self.hn(h);
            if o.dst != hn.spec.ip {
                return drop(Disposition::NoRoute {
                    node: name(),
                    reason: format!("VXLAN packet for {} is not addressed to this host", o.dst),
                });
            }
            let by_port = hn
                .vfp
                .program()
                .networks
                .iter()
                .any(|n| n.kind == NetKind::Overlay && n.vxlan_port == o.dst_port);
            if !by_port {
                return drop(Disposition::NoListener {
                    node: name(),
                    reason: format!("UDP port {} is closed (no Overlay network uses it)", o.dst_port),
                });
            }
            let Some(net) = hn.vfp.program().networks.iter().position(|n| {
                n.kind == NetKind::Overlay && n.vxlan_port == o.dst_port && n.vsid == Some(o.vni)
            }) else {
                return drop(Disposition::DeniedIn {
                    node: name(),
                    layer: crate::vfp::Layer::Vnet.into(),
                    rule: "VSID".into(),
                    priority: 0,
                    reason: format!(
                        "VNI {} matches no Overlay network's VSID on this host (inferred, consumers.md S8.3)",
                        o.vni
                    ),
                });
            };
            tr.step(|| Step::Decap { vni: o.vni });
            pkt.outer = None;
            return self.host_switch_in(h, pkt, Some(net), tr);
        }
        self.host_switch_in(h, pkt, None, tr)
    }

    fn router_in(&mut self, r: usize, seg_in: usize, mut pkt: Packet, tr: &mut Tracer) -> Next {
        // Routers are off the VFP fast path; names are built for traces and drops only.
        let name = self.nodes[r].name.clone();
        if tr.on {
            let port = self.fabric.spec(seg_in).name.clone();
            tr.hop(&name, &port);
        }
        let NodeKind::Router(spec, segs) = &self.nodes[r].kind else {
            return drop(Disposition::NoRoute {
                node: name,
                reason: "not a router".into(),
            });
        };
        let dst = match pkt.outer {
            Some(o) => o.dst,
            None => match tuple_of(&pkt).and_then(|t| v4(t.dst)) {
                Some(d) => d,
                None => {
                    return drop(Disposition::Unsupported {
                        node: name,
                        what: "IPv6 is not modelled".into(),
                    })
                }
            },
        };
        if spec.interfaces.iter().any(|i| i.ip == dst) {
            return drop(Disposition::NoListener {
                node: name,
                reason: format!("router {dst} runs no services"),
            });
        }
        // Longest prefix; among equal prefixes connected before static before default, so they
        // are pushed in reverse (in a `RouteTable` the later route wins). A static route or
        // default whose next hop is on none of the router's segments is unusable.
        let seg_of = |ip: Ipv4Addr| {
            segs.iter()
                .copied()
                .find(|s| self.fabric.spec(*s).prefix.contains(&ip))
        };
        let mut table: RouteTable<(Ipv4Net, (usize, RouterVia))> = RouteTable::new();
        if let Some(gw) = spec.default_route {
            if let Some(s) = seg_of(gw) {
                table.push((Ipv4Net::default(), (s, RouterVia::Default(gw))));
            }
        }
        for (prefix, nh) in spec.routes.iter().rev() {
            if let Some(s) = seg_of(*nh) {
                table.push((*prefix, (s, RouterVia::Static(*nh))));
            }
        }
        for (i, &s) in segs.iter().enumerate().rev() {
            table.push((self.fabric.spec(s).prefix, (s, RouterVia::Connected(i))));
        }
        let Some(&(prefix, (seg_out, via))) = table.lookup(dst) else {
            return drop(Disposition::NoRoute {
                node: name,
                reason: format!("no route to {dst}"),
            });
        };
        let (nh, label) = match via {
            RouterVia::Connected(i) => (dst, format!("{prefix} connected ({})", spec.interfaces[i].ip)),
            RouterVia::Static(nh) => (nh, prefix.to_string()),
            RouterVia::Default(gw) => (gw, "0.0.0.0/0".to_string()),
        };
        self.counters.table_lookups += 1;
        tr.step(|| Step::Route {
            table: "router".into(),
            prefix: label,
            next_hop: nh.to_string(),
        });
        // TTL: the outer header's while encapsulated.
        match &mut pkt.outer {
            Some(o) => {
                if o.ttl <= 1 {
                    return drop(Disposition::TtlExceeded { node: name });
                }
                o.ttl -= 1;
            }
            None => {
                if let Payload::Ip { ip, .. } = &mut pkt.payload {
                    if ip.ttl <= 1 {
                        return drop(Disposition::TtlExceeded { node: name });
                    }
                    ip.ttl -= 1;
                }
            }
        }
        let mac = match self.resolve(r, seg_out, nh, tr) {
            Ok(m) => m,
            Err(d) => return drop(d),
        };
        let my_mac = self.node_iface(r, seg_out).map(|x| x.1).unwrap_or_default();
        match &mut pkt.outer {
            Some(o) => {
                o.eth = EthHeader {
                    src: my_mac,
                    dst: mac,
                }
            }
            None => {
                pkt.eth = EthHeader {
                    src: my_mac,
                    dst: mac,
                }
            }
        }
        Next::Go(
            At::Wire {
                seg: seg_out,
                from: r,
                pkt,
            },
            0,
        )
    }

    /// A station sends: on-link, or via its gateway.
    pub(crate) fn station_out(&mut self, s: usize, mut pkt: Packet, tr: &mut Tracer) -> Next {
        let name = self.nodes[s].name.clone();
        tr.hop(&name, "eth0");
        let NodeKind::Station(spec, seg) = &self.nodes[s].kind else {
            return drop(Disposition::NoRoute {
                node: name,
                reason: "not a station".into(),
            });
        };
        let (seg, my_mac, gw) = (*seg, spec.mac, spec.gateway);
        let Some(d) = tuple_of(&pkt).and_then(|t| v4(t.dst)) else {
            return drop(Disposition::Unsupported {
                node: name,
                what: "IPv6 is not modelled".into(),
            });
        };
        let nh = if self.fabric.spec(seg).prefix.contains(&d) {
            d
        } else {
            match gw {
                Some(g) => g,
                None => {
                    return drop(Disposition::NoRoute {
                        node: name,
                        reason: format!("{d} is off-link and the station has no gateway"),
                    })
                }
            }
        };
        tr.step(|| Step::Route {
            table: "station".into(),
            prefix: if nh == d {
                "on-link".into()
            } else {
                "0.0.0.0/0".into()
            },
            next_hop: nh.to_string(),
        });
        let mac = match self.resolve(s, seg, nh, tr) {
            Ok(m) => m,
            Err(e) => return drop(e),
        };
        pkt.eth = EthHeader {
            src: my_mac,
            dst: mac,
        };
        Next::Go(At::Wire { seg, from: s, pkt }, 0)
    }
}
