//! The vSwitch ingress from the uplink (after VXLAN decap): reverse NAT, inbound LB
//! (NodePort, ExternalIP, VIPs routed to the node), port mappings (VFP NAT / WinNAT), endpoints
//! reachable on the wire, else the host stack; and how the host sends a packet it DNATed.

use crate::packet::Packet;
use crate::path::{set_tuple, tuple_headers, tuple_of, v4, Exit, FlowAction, Tracer};
use crate::trace::{Disposition, SessionOp, Step};
use crate::vfp::dataplane::{Env, Vfp, VfpAction};
use crate::vfp::port::non_ip;
use crate::vfp::program::NetKind;
use crate::vfp::{lb, Dir, Layer, NatLayer, SnatOwner, Tuple, Zone};
use std::net::{IpAddr, Ipv4Addr};

/// Who asks for a port-mapping DNAT ([`Vfp::port_map_dnat`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum PortMapFrom {
    /// A packet arriving from the wire (after any decap).
    Uplink,
    /// A packet the host itself sends (`LocalRoutedVip` mappings only).
    HostStack,
}

impl Vfp {
    /// A frame from the uplink (after any VXLAN decap; `overlay`: the network it was decapsulated
    /// into): the flow table, else the inbound slow path (reverse NAT, inbound LB, port
    /// mappings, endpoints on the wire, or the host stack). Only the established case is
    /// inlined into the driver.
    #[inline]
    pub(crate) fn on_uplink(
        &mut self,
        env: &mut Env,
        pkt: &mut Packet,
        overlay: Option<usize>,
        tr: &mut Tracer,
    ) -> VfpAction {
        let Some(t) = tuple_of(pkt) else {
            return non_ip(env, "non-IP frame at the vSwitch");
        };
        let Ok(a) = self.probe(env, Zone::Uplink, Dir::In, t) else {
            return self.uplink_slow(env, pkt, t, overlay, tr);
        };
        env.counters.fast_path += 1;
        if !matches!(a.exit, Exit::Restore { .. }) {
            tr.step(|| Step::Session {
                setup_or_match: SessionOp::Match,
                flow: t.to_string(),
            });
        }
        VfpAction::Forward(a)
    }

    /// The first packet of a connection from the uplink (flow-table miss): the inbound slow
    /// path, its result cached.
    #[inline(never)]
    fn uplink_slow(
        &mut self,
        env: &mut Env,
        pkt: &mut Packet,
        t: Tuple,
        overlay: Option<usize>,
        tr: &mut Tracer,
    ) -> VfpAction {
        let now = env.now;
        env.counters.slow_path += 1;
        let (key, gen) = self.flow_key(env, Zone::Uplink, Dir::In, t);
        match self.slow_in(env, t, overlay, tr) {
            Ok(a) => {
                self.flows.insert(key, a, gen, now);
                set_tuple(pkt, &a.after);
                VfpAction::Forward(a)
            }
            Err(d) => VfpAction::dropped(d),
        }
    }

    /// A packet the host stack sends itself (`t`: its tuple): the reply of a connection
    /// translated toward the host (pinned at HOST) is restored; a VIP or NodePort is reached only
    /// through an LB with `LocalRoutedVIP` (P2), an own port mapping only with the PortMapping
    /// `LocalRoutedVip` flag (Azure CNI #1863). `None`: VFP leaves it to the host stack.
    pub(crate) fn on_host_send(
        &mut self,
        env: &mut Env,
        pkt: &mut Packet,
        t: Tuple,
        tr: &mut Tracer,
    ) -> Option<VfpAction> {
        if let Ok(a) = self.probe(env, Zone::HostStack, Dir::Out, t) {
            if let Exit::Restore { .. } = a.exit {
                env.counters.fast_path += 1;
                return Some(VfpAction::Forward(a));
            }
        }
        let seed = env.seed;
        let nonce = env.next_nonce();
        let mut lookups = 0;
        let any_local = self.is_host_addr(t.dst);
        let honour = self.settings.honour_local_routed_vip;
        let affinity = self.settings.session_affinity;
        let found = self
            .prog
            .lbs
            .find(t.proto, t.dst, t.dport, any_local, &mut lookups)
            .filter(|m| honour && m.local_routed_vip());
        env.counters.table_lookups += lookups;
        if let Some(m) = found {
            let (b, after) = match lb::dnat(m, t, seed, nonce, affinity, env.node, &mut self.lb_steer, tr) {
                Ok(x) => x,
                Err(d) => return Some(VfpAction::dropped(d)),
            };
            let eth = tr.eth;
            tr.step(|| Step::Transform {
                layer: Layer::SlbNat.into(),
                rule: format!("LB {} (LocalRoutedVIP)", m.lb),
                before: tuple_headers(&t, eth),
                after: tuple_headers(&after, eth),
            });
            let Some(dst) = v4(b.ip) else {
                return Some(VfpAction::dropped(Disposition::Unsupported {
                    node: env.node.to_string(),
                    what: "IPv6 backends are not modelled".into(),
                }));
            };
            return Some(VfpAction::HostRoute { after, dst });
        }
        let a = self.port_map_dnat(env, t, PortMapFrom::HostStack, tr)?;
        set_tuple(pkt, &a.after);
        Some(VfpAction::Forward(a))
    }

    pub(crate) fn slow_in(
        &mut self,
        env: &mut Env,
        t: Tuple,
        overlay: Option<usize>,
        tr: &mut Tracer,
    ) -> Result<FlowAction, Disposition> {
        let node = env.node;
        let seed = env.seed;
        let nonce = env.next_nonce();
        let mut lookups = 0;
        let host_ip = self.ip;
        let any_local = self.is_host_addr(t.dst);
        let affinity = self.settings.session_affinity;
        let found = self
            .prog
            .lbs
            .find(t.proto, t.dst, t.dport, any_local, &mut lookups)
            .filter(|m| !m.ilb());
        env.counters.table_lookups += lookups;
        if let Some(m) = found {
            env.counters.rule_evaluations += 1;
            let (b, mut after) = lb::dnat(m, t, seed, nonce, affinity, node, &mut self.lb_steer, tr)?;
            let m = m.summary();
            if !m.dsr {
                let src = m.source_vip.unwrap_or(IpAddr::V4(host_ip));
                after.src = src;
                after.sport = self.snat_port(src, SnatOwner::InboundLb, node)?;
            }
            let eth = tr.eth;
            tr.step(|| Step::Transform {
                layer: Layer::SlbNat.into(),
                rule: format!("LB {}{}", m.lb, if m.dsr { " (DSR)" } else { "" }),
                before: tuple_headers(&t, eth),
                after: tuple_headers(&after, eth),
            });
            let Some(d) = v4(b.ip) else {
                return Err(Disposition::Unsupported {
                    node: node.to_string(),
                    what: "IPv6 backends are not modelled".into(),
                });
            };
            let remote = !self.prog.port_by_ep.contains_key(&b.endpoint);
            let exit = self.exit_from_host(env, d, &after, remote, tr)?;
            self.pin_restore(
                env.now,
                &exit,
                &after,
                t.reversed(),
                Zone::Uplink,
                hnsim_model::Guid::ZERO,
                NatLayer::Lb,
            );
            return Ok(FlowAction { after, exit });
        }
        // Port mappings (VFP NAT; WinNAT on NAT networks).
        env.counters.table_lookups += 1;
        if let Some(a) = self.port_map_dnat(env, t, PortMapFrom::Uplink, tr) {
            return Ok(a);
        }
        let d = match t.dst {
            IpAddr::V4(d) => d,
            // IPv6 from the wire: a dual-stack L2Bridge endpoint of this host (the host stack
            // has no IPv6 address in hnsim).
            IpAddr::V6(d) => {
                let hn = &*self;
                return match hn.prog.port_by_ip6.get(&d) {
                    Some(&q)
                        if overlay.is_none()
                            && hn.prog.networks[hn.prog.ports[q as usize].network].kind
                                == NetKind::L2Bridge
                            && !hn.prog.ports[q as usize].host_attached =>
                    {
                        Ok(FlowAction {
                            after: t,
                            exit: Exit::Port(q),
                        })
                    }
                    _ => Err(Disposition::NoRoute {
                        node: node.to_string(),
                        reason: format!("no dual-stack L2Bridge endpoint with {d} on this host"),
                    }),
                };
            }
        };
        let hn = &*self;
        // An endpoint reachable from the wire (Transparent, L2Bridge, decapsulated overlay).
        if let Some(&q) = hn.prog.port_by_ip.get(&d) {
            let pp = &hn.prog.ports[q as usize];
            let kind = hn.prog.networks[pp.network].kind;
            let ok = match overlay {
                Some(n) => pp.network == n,
                None => matches!(
                    kind,
                    NetKind::Transparent | NetKind::L2Bridge | NetKind::L2Tunnel | NetKind::Overlay
                ),
            };
            if ok && !pp.host_attached {
                return Ok(FlowAction {
                    after: t,
                    exit: Exit::Port(q),
                });
            }
        }
        if overlay.is_some() && !hn.is_host_addr(t.dst) {
            return Err(Disposition::NoRoute {
                node: node.to_string(),
                reason: format!(
                    "decapsulated packet for {d}: no endpoint with that address on the overlay network"
                ),
            });
        }
        Ok(FlowAction {
            after: t,
            exit: Exit::HostStack,
        })
    }

    /// The port-mapping DNAT (`PortMapping` endpoint policies): a packet to a mapped
    /// (protocol, external port) on the mapping's VIP (else the host address) is translated to
    /// the endpoint's address and internal port, and the reverse translation is pinned where the
    /// reply will show up. From the host stack only mappings with the `LocalRoutedVip` flag
    /// apply (Azure CNI #1863). The layer traced is `WINNAT` for a packet from the uplink to a
    /// NAT network's endpoint, else `PORT_MAPPING`.
    pub(crate) fn port_map_dnat(
        &mut self,
        env: &mut Env,
        t: Tuple,
        from: PortMapFrom,
        tr: &mut Tracer,
    ) -> Option<FlowAction> {
        let d = v4(t.dst)?;
        let hn = &*self;
        let host_ip = hn.ip;
        let m = hn.prog.port_maps.get(&(t.proto, t.dport))?.iter().find(|m| {
            (from == PortMapFrom::Uplink || m.local_routed) && m.vip.map_or(d == host_ip, |v| v == d)
        })?;
        let pp = &hn.prog.ports[m.port as usize];
        let mut after = t;
        after.dst = IpAddr::V4(pp.ip);
        after.dport = m.internal_port;
        let (lname, layer_kind, zone) = match from {
            PortMapFrom::Uplink if hn.prog.networks[pp.network].kind == NetKind::Nat => {
                (Layer::WinNat, NatLayer::WinNat, Zone::Uplink)
            }
            PortMapFrom::Uplink => (Layer::PortMapping, NatLayer::PortMapping, Zone::Uplink),
            PortMapFrom::HostStack => (Layer::PortMapping, NatLayer::PortMapping, Zone::HostStack),
        };
        if tr.on {
            let rule = match from {
                PortMapFrom::Uplink => {
                    format!("PortMapping {}:{} -> {}", t.dport, m.internal_port, pp.name)
                }
                PortMapFrom::HostStack => format!("PortMapping {} (LocalRoutedVip)", m.external_port),
            };
            let eth = tr.eth;
            tr.step(|| Step::Transform {
                layer: lname.into(),
                rule,
                before: tuple_headers(&t, eth),
                after: tuple_headers(&after, eth),
            });
        }
        let exit = Exit::Port(m.port);
        self.pin_restore(
            env.now,
            &exit,
            &after,
            t.reversed(),
            zone,
            hnsim_model::Guid::ZERO,
            layer_kind,
        );
        Some(FlowAction { after, exit })
    }

    /// Where the host sends a packet to `d` that it DNATed (inbound LB): a local port, a remote
    /// endpoint over the overlay, or out by the host routes.
    pub(crate) fn exit_from_host(
        &mut self,
        env: &mut Env,
        d: Ipv4Addr,
        after: &Tuple,
        backend_remote: bool,
        tr: &mut Tracer,
    ) -> Result<Exit, Disposition> {
        let node = env.node;
        let hn = &*self;
        if let Some(&q) = hn.prog.port_by_ip.get(&d).filter(|_| !backend_remote) {
            return Ok(Exit::Port(q));
        }
        if let Some(r) = hn.prog.remote_by_ip.get(&d).cloned() {
            let net = &hn.prog.networks[r.network];
            if let (NetKind::Overlay, Some(pa)) = (net.kind, r.pa) {
                if pa != hn.ip {
                    let (vni, port) = (net.vsid.unwrap_or(0), net.vxlan_port);
                    let onh = self.outer_next_hop(env, pa, node)?;
                    return Ok(Exit::Encap {
                        outer_next_hop: onh,
                        pa,
                        vni,
                        udp_port: port,
                        inner_dst_mac: r.mac,
                    });
                }
            }
        }
        let hn = &*self;
        for n in &hn.prog.networks {
            if n.kind != NetKind::Overlay {
                continue;
            }
            if let Some(r) = n.remote_subnets.lookup(d).cloned() {
                let (vni, port) = (r.vni, n.vxlan_port);
                let onh = self.outer_next_hop(env, r.pa, node)?;
                return Ok(Exit::Encap {
                    outer_next_hop: onh,
                    pa: r.pa,
                    vni,
                    udp_port: port,
                    inner_dst_mac: r.dr_mac,
                });
            }
        }
        let _ = after;
        self.mac_rewrite_exit(env, d, node, tr)
    }
}
