//! The driver's side of the underlay: a host's uplink (`emit_uplink` resolves the next hop and
//! encapsulates; `uplink_in` decapsulates), frames on a segment (`transmit`, `arrive`), routers
//! and stations forwarding. What the underlay is and decides — segments, attachments, ARP
//! caches, routes of routers and stations, fault rules — is the [`Fabric`] component
//! (`underlay`); here its answers become moves. Neighbour resolution sends real ARP
//! request/reply frames (captured at the asker's uplink) and fills the asker's cache in the
//! fabric; a frame is received by the node owning its destination MAC.
//!
//! [`Fabric`]: crate::underlay::Fabric

use crate::compile::NetKind;
use crate::packet::{EthHeader, Packet, Payload, VxlanOuter, VXLAN_OVERHEAD};
use crate::path::HostId;
use crate::path::{drop, ip_len, tuple_of, v4, At, Next, Outcome, Receiver, Tracer};
use crate::trace::{Disposition, Step};
use crate::underlay::{router_hop_ttl, Attachment};
use crate::vfp::lb::{ip_word, mix};
use crate::world::World;
use hnsim_model::Mac;
use std::net::Ipv4Addr;

pub use crate::underlay::WIRE_NS;

impl World {
    /// Who receives a frame for `mac` on `seg` (hosts also own their Transparent endpoints' MACs).
    fn owner_of_mac(&self, seg: usize, mac: Mac) -> Option<usize> {
        let nodes = &self.nodes;
        self.fabric.owner_of_mac(seg, mac, |n| {
            (nodes[n].host.as_ref()).is_some_and(|h| h.vfp.program().transparent_by_mac.contains_key(&mac))
        })
    }

    /// Who answers ARP for `ip` on `seg` (hosts also for their Transparent endpoints).
    pub(crate) fn owner_of_ip(&self, seg: usize, ip: Ipv4Addr) -> Option<(usize, Mac)> {
        let nodes = &self.nodes;
        self.fabric.owner_of_ip(seg, ip, |n| {
            let h = nodes[n].host.as_ref()?;
            h.vfp.program().transparent_by_ip.get(&ip).copied()
        })
    }

    #[inline]
    fn capture_node(&mut self, node: usize, pkt: &Packet) {
        if self.capture && self.nodes[node].host.is_some() {
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
        if let Some(m) = self.fabric.neighbour(node, ip) {
            tr.step(|| Step::Arp {
                who_has: ip,
                is_at: Some(m),
                cached: true,
            });
            return Ok(m);
        }
        let Some((my_ip, my_mac)) = sender.or_else(|| self.fabric.iface(node, seg)) else {
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
        self.fabric.learn_neighbour(node, ip, mac);
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
        match self.fabric.attachment(node) {
            Attachment::Host { .. } => self.uplink_in(HostId(node), pkt, tr),
            Attachment::Router(..) => self.router_in(node, seg, pkt, tr),
            Attachment::Station(s, _) => {
                let me = s.ip;
                let name = self.nodes[node].name.clone();
                tr.hop(&name, "eth0");
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

    /// A router forwards a frame: [`Fabric::route`] picks the segment and next hop, the TTL
    /// drops by one ([`router_hop_ttl`]), the next hop is resolved and the frame rewritten.
    fn router_in(&mut self, r: usize, seg_in: usize, mut pkt: Packet, tr: &mut Tracer) -> Next {
        // Routers are off the VFP fast path; names are built for traces and drops only.
        let name = self.nodes[r].name.clone();
        if tr.on {
            let port = self.fabric.spec(seg_in).name.clone();
            tr.hop(&name, &port);
        }
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
        let hop = match self.fabric.route(r, dst, &name) {
            Ok(hop) => hop,
            Err(d) => return drop(d),
        };
        self.counters.table_lookups += 1;
        tr.step(|| Step::Route {
            table: "router".into(),
            prefix: hop.prefix.clone(),
            next_hop: hop.next_hop.to_string(),
        });
        if let Err(d) = router_hop_ttl(&mut pkt, &name) {
            return drop(d);
        }
        let mac = match self.resolve(r, hop.seg, hop.next_hop, tr) {
            Ok(m) => m,
            Err(d) => return drop(d),
        };
        let eth = EthHeader {
            src: hop.src_mac,
            dst: mac,
        };
        match &mut pkt.outer {
            Some(o) => o.eth = eth,
            None => pkt.eth = eth,
        }
        Next::Go(
            At::Wire {
                seg: hop.seg,
                from: r,
                pkt,
            },
            0,
        )
    }

    /// A station sends: on-link, or via its gateway ([`Fabric::station_route`]).
    pub(crate) fn station_out(&mut self, s: usize, mut pkt: Packet, tr: &mut Tracer) -> Next {
        let name = self.nodes[s].name.clone();
        tr.hop(&name, "eth0");
        if self.fabric.station(s).is_none() {
            return drop(Disposition::NoRoute {
                node: name,
                reason: "not a station".into(),
            });
        }
        let Some(d) = tuple_of(&pkt).and_then(|t| v4(t.dst)) else {
            return drop(Disposition::Unsupported {
                node: name,
                what: "IPv6 is not modelled".into(),
            });
        };
        let hop = match self.fabric.station_route(s, d, &name) {
            Ok(hop) => hop,
            Err(e) => return drop(e),
        };
        tr.step(|| Step::Route {
            table: "station".into(),
            prefix: hop.prefix.clone(),
            next_hop: hop.next_hop.to_string(),
        });
        let mac = match self.resolve(s, hop.seg, hop.next_hop, tr) {
            Ok(m) => m,
            Err(e) => return drop(e),
        };
        pkt.eth = EthHeader {
            src: hop.src_mac,
            dst: mac,
        };
        Next::Go(
            At::Wire {
                seg: hop.seg,
                from: s,
                pkt,
            },
            0,
        )
    }
}
