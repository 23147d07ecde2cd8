//! The VFP pipeline of a container port: outbound (ACL → LB → OutBoundNAT → route/VNET) with
//! the flow-table fast path and NAT-session restore, the route layer, and inbound (ACL In →
//! delivery). The layer order and why it is this one: see the `vfp` module doc.

use crate::host_stack::Via;
use crate::packet::Packet;
use crate::path::{
    ip_len, set_tuple, tuple_headers, tuple_of, v4, AclRuleRef, DenyRef, Exit, FlowAction, Tracer,
};
use crate::trace::{Action, Disposition, Dotted, SessionOp, Step};
use crate::vfp::dataplane::{Env, Vfp, VfpAction};
use crate::vfp::meter::TokenBucket;
use crate::vfp::program::{NetKind, NetProgram, PortProgram, RemoteEndpoint};
use crate::vfp::{lb, AclVerdict, AclView, Dir, FlowKey, Layer, NatLayer, SnatOwner, Tuple, Zone};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the outbound layers have decided so far about a new connection (the slow path's state,
/// handed from layer to layer).
pub(crate) struct OutFlow {
    /// The tuple as the container sent it.
    t: Tuple,
    /// The tuple after the layers so far.
    after: Tuple,
    /// Where the route layer sends it (the LB's backend, else the destination).
    route_to: IpAddr,
    /// The layer whose translation needs its reverse pinned.
    nat: Option<NatLayer>,
    /// The LB chose a remote-endpoint backend.
    backend_remote: bool,
}

/// One outbound VFP layer: reads and updates the connection's [`OutFlow`], or drops it.
type OutLayer =
    fn(&mut Vfp, &mut Env, u32, &PortProgram, &mut OutFlow, &mut Tracer) -> Result<(), Disposition>;

/// The outbound layers between the ACLs and the route layer, in the documented order.
const OUT_LAYERS: [OutLayer; 4] = [
    Vfp::layer_slb_nat,
    Vfp::layer_outbound_nat,
    Vfp::layer_outbound_nat6,
    Vfp::layer_hairpin,
];

/// A frame without an IP header where VFP needs a 5-tuple.
#[cold]
#[inline(never)]
pub(crate) fn non_ip(env: &Env, what: &str) -> VfpAction {
    VfpAction::dropped(Disposition::Unsupported {
        node: env.node.to_string(),
        what: what.into(),
    })
}

impl Vfp {
    /// Evaluate the ACL layers of port `p` for direction `dir`.
    pub(crate) fn acl(
        &mut self,
        env: &mut Env,
        p: u32,
        dir: Dir,
        t: &Tuple,
        tr: &mut Tracer,
    ) -> Result<(), DenyRef> {
        let ports = t.proto == 6 || t.proto == 17;
        let view = match dir {
            Dir::Out => AclView {
                proto: t.proto,
                local: t.src,
                local_port: ports.then_some(t.sport),
                remote: t.dst,
                remote_port: ports.then_some(t.dport),
            },
            Dir::In => AclView {
                proto: t.proto,
                local: t.dst,
                local_port: ports.then_some(t.dport),
                remote: t.src,
                remote_port: ports.then_some(t.sport),
            },
        };
        let mut evals = 0u64;
        let result = (|| {
            let hn = &*self;
            let pp = &hn.prog.ports[p as usize];
            let d = &hn.settings;
            for host in [false, true] {
                let set = pp.acl(host, dir);
                let lname = if host { Layer::AclHost } else { Layer::AclSwitch };
                match set.eval(&view, &mut evals) {
                    AclVerdict::Rule(i) => {
                        let r = &set.rules[i];
                        tr.step(|| Step::Filter {
                            layer: lname.into(),
                            rule: r.name.clone(),
                            action: if r.allow { Action::Allow } else { Action::Block },
                            priority: r.priority,
                        });
                        if !r.allow {
                            return Err(DenyRef {
                                dir,
                                host,
                                rule: AclRuleRef::Rule(i as u32),
                            });
                        }
                    }
                    AclVerdict::NoRules => {
                        if !host && !d.acl_default_allow_when_no_rules {
                            return Err(DenyRef {
                                dir,
                                host,
                                rule: AclRuleRef::NoRules,
                            });
                        }
                    }
                    AclVerdict::NoMatch => {
                        let block = d.acl_default_block_when_rules_exist;
                        tr.step(|| Step::Filter {
                            layer: lname.into(),
                            rule: "default (no rule matched)".into(),
                            action: if block { Action::Block } else { Action::Allow },
                            priority: u16::MAX,
                        });
                        if block {
                            return Err(DenyRef {
                                dir,
                                host,
                                rule: AclRuleRef::Default,
                            });
                        }
                    }
                }
            }
            Ok(())
        })();
        env.counters.rule_evaluations += evals;
        result
    }

    pub(crate) fn deny_disposition(&self, node: &str, p: u32, d: DenyRef) -> Disposition {
        let pp = &self.prog.ports[p as usize];
        let lname = if d.host { Layer::AclHost } else { Layer::AclSwitch };
        let set = pp.acl(d.host, d.dir);
        let hit = match d.rule {
            AclRuleRef::Rule(i) => set.rules.get(i as usize),
            AclRuleRef::Default | AclRuleRef::NoRules => None,
        };
        let (rule, priority, reason) = match hit {
            Some(r) => (r.name.clone(), r.priority, "Block rule matched".to_string()),
            None if d.rule == AclRuleRef::NoRules => (
                "default".to_string(),
                u16::MAX,
                format!(
                    "no {:?} ACL rule on endpoint {}; default is block (inferred, setting acl_default_allow_when_no_rules off)",
                    d.dir, pp.name
                ),
            ),
            None => (
                "default".to_string(),
                u16::MAX,
                format!(
                    "no {:?} ACL rule matched on endpoint {}; default is block (inferred, setting acl_default_block_when_rules_exist)",
                    d.dir, pp.name
                ),
            ),
        };
        let node = format!("{node}/{}", pp.name);
        match d.dir {
            Dir::In => Disposition::DeniedIn {
                node,
                layer: lname.into(),
                rule,
                priority,
                reason,
            },
            Dir::Out => Disposition::DeniedOut {
                node,
                layer: lname.into(),
                rule,
                priority,
                reason,
            },
        }
    }

    /// A frame leaves container port `p` (VFP outbound), its destination MAC already resolved
    /// by the compartment: the meter, then the flow table; on a miss ACL Out and the slow-path
    /// layers, whose result is cached with the stateful reply entry. Only the established case
    /// (one probe, a hit) is inlined into the driver; the rest is out of line.
    #[inline]
    pub(crate) fn on_port_out(
        &mut self,
        env: &mut Env,
        p: u32,
        pkt: &mut Packet,
        tr: &mut Tracer,
    ) -> VfpAction {
        let Some(t) = tuple_of(pkt) else {
            return non_ip(env, "non-IP frame from a container");
        };
        if self.prog.ports[p as usize].qos.is_some() || !self.settings.empty_source_vip_uses_node_ip {
            if let Err(d) = self.before_flow_out(env, p, &t, pkt) {
                return VfpAction::dropped(d);
            }
        }
        match self.probe(env, Zone::Port(p), Dir::Out, t) {
            // A reply to a connection this host translated: restored by the same lookup.
            Ok(a) if matches!(a.exit, Exit::Restore { .. }) => {
                env.counters.fast_path += 1;
                VfpAction::Forward(a)
            }
            Ok(a) if a.exit != Exit::Pending => {
                env.counters.fast_path += 1;
                tr.step(|| Step::Session {
                    setup_or_match: SessionOp::Match,
                    flow: t.to_string(),
                });
                VfpAction::Forward(a)
            }
            // `Pending`: the reply of an inbound connection whose ACL already passed.
            Ok(_) => self.port_out_slow(env, p, pkt, t, true, tr),
            Err(_) => self.port_out_slow(env, p, pkt, t, false, tr),
        }
    }

    /// The stages before the flow table on port `p`'s egress, in order: the meter (QOS, every
    /// packet, cached flows included), then the VIP claim of P3.
    #[cold]
    #[inline(never)]
    fn before_flow_out(&mut self, env: &mut Env, p: u32, t: &Tuple, pkt: &Packet) -> Result<(), Disposition> {
        if let Some(rate) = self.prog.ports[p as usize].qos {
            self.meter(env, p, rate, pkt)?;
        }
        // P3 (newer WS2019 builds, setting `empty_source_vip_uses_node_ip: false`): the NAT
        // pool is the VIP itself, and VFP's LB layer claims every packet addressed to a VIP
        // before the reply can be matched to its NAT session; a reply to VIP:<SNAT port> has no
        // port mapping and is dropped (consumers.md P3, inferred mechanism).
        if !self.settings.empty_source_vip_uses_node_ip {
            env.counters.table_lookups += 1;
            if self.prog.lbs.is_vip(t.dst) {
                let mut n = 0;
                let found = self
                    .prog
                    .lbs
                    .find(t.proto, t.dst, t.dport, false, &mut n)
                    .is_some();
                env.counters.table_lookups += n;
                if !found {
                    return Err(Disposition::NoMatchingLoadBalancer {
                        node: env.node.to_string(),
                        vip: t.dst,
                        port: t.dport,
                    });
                }
            }
        }
        Ok(())
    }

    /// The first packet of a connection leaving port `p` (flow-table miss), or the first reply
    /// of an inbound one (`acl_done`: its entry is `Pending`): ACL Out, the slow-path layers,
    /// and the entries of both directions.
    #[inline(never)]
    fn port_out_slow(
        &mut self,
        env: &mut Env,
        p: u32,
        pkt: &mut Packet,
        t: Tuple,
        acl_done: bool,
        tr: &mut Tracer,
    ) -> VfpAction {
        let now = env.now;
        let (key, gen) = self.flow_key(env, Zone::Port(p), Dir::Out, t);
        env.counters.slow_path += 1;
        tr.step(|| Step::Session {
            setup_or_match: SessionOp::Setup,
            flow: t.to_string(),
        });
        if !acl_done {
            if let Err(d) = self.acl(env, p, Dir::Out, &t, tr) {
                let a = FlowAction {
                    after: t,
                    exit: Exit::Deny(d),
                };
                self.flows.insert(key, a, gen, now);
                return VfpAction::dropped(self.deny_disposition(env.node, p, d));
            }
        }
        // The reply of an inbound connection: no ACL, no NAT, only the route layer (stateful).
        let result = if acl_done {
            let pp = self.prog.ports[p as usize].clone();
            self.route_any(env, &pp, t.dst, &t, false, tr)
                .map(|exit| FlowAction { after: t, exit })
        } else {
            self.slow_out(env, p, t, tr)
        };
        match result {
            Ok(a) => {
                // The slow path already traced its transforms; the packet takes them now.
                set_tuple(pkt, &a.after);
                self.flows.insert(key, a, gen, now);
                // Stateful: the reply may enter this port without an In ACL check.
                self.flows.insert_unless_pinned(
                    FlowKey {
                        zone: Zone::Port(p),
                        dir: Dir::In,
                        tuple: t.reversed(),
                    },
                    FlowAction {
                        after: t.reversed(),
                        exit: Exit::Deliver,
                    },
                    gen,
                    now,
                );
                VfpAction::Forward(a)
            }
            Err(d) => VfpAction::dropped(d),
        }
    }

    /// Charge a packet leaving port `p` to the endpoint's `QOS` token bucket (`vfp::meter`).
    #[cold]
    fn meter(&mut self, env: &mut Env, p: u32, rate: u64, pkt: &Packet) -> Result<(), Disposition> {
        let now = env.now;
        let burst = self.settings.qos_burst_ns;
        let endpoint = self.prog.ports[p as usize].endpoint;
        let bytes = u64::from(ip_len(pkt)) + 14;
        env.counters.table_lookups += 1;
        let bucket = self
            .meters
            .entry(endpoint)
            .or_insert_with(|| TokenBucket::new(rate, burst, now));
        if bucket.rate() != rate {
            // The policy changed: a new, full bucket at the new rate.
            *bucket = TokenBucket::new(rate, burst, now);
        }
        if bucket.take(bytes, now) {
            return Ok(());
        }
        Err(Disposition::RateLimited {
            node: format!("{}/{}", env.node, self.port_name(p)),
            bytes_per_second: rate,
        })
    }

    /// The outbound layers of a new connection on port `p` after its ACLs: each layer in
    /// [`OUT_LAYERS`] (SLB_NAT, OUTBOUND_NAT for IPv4 and IPv6, the hairpin check) updates the
    /// connection's [`OutFlow`] in the documented order (the `vfp` module doc), then the route
    /// layer picks the exit and a NAT'd connection's reverse translation is pinned.
    pub(crate) fn slow_out(
        &mut self,
        env: &mut Env,
        p: u32,
        t: Tuple,
        tr: &mut Tracer,
    ) -> Result<FlowAction, Disposition> {
        let pp = self.prog.ports[p as usize].clone();
        let mut f = OutFlow {
            t,
            after: t,
            route_to: t.dst,
            nat: None,
            backend_remote: false,
        };
        for layer in OUT_LAYERS {
            layer(self, env, p, &pp, &mut f, tr)?;
        }
        let exit = self.route_any(env, &pp, f.route_to, &f.after, f.backend_remote, tr)?;
        if let Some(layer) = f.nat {
            self.pin_restore(
                env.now,
                &exit,
                &f.after,
                t.reversed(),
                Zone::Port(p),
                pp.endpoint,
                layer,
            );
        }
        Ok(FlowAction { after: f.after, exit })
    }

    /// `SLB_NAT`: the LB of the destination VIP:port picks a backend (DNAT) and, unless DSR,
    /// SNATs to the `SourceVIP` (else the host address).
    fn layer_slb_nat(
        &mut self,
        env: &mut Env,
        p: u32,
        _pp: &PortProgram,
        f: &mut OutFlow,
        tr: &mut Tracer,
    ) -> Result<(), Disposition> {
        let seed = env.seed;
        let nonce = env.next_nonce();
        let mut lookups = 0u64;
        let host_ip = self.ip;
        let affinity = self.settings.session_affinity;
        let any_local = self.is_host_addr(f.t.dst);
        // The mapping is borrowed from the program, not copied: only `lb_steer` is written
        // while it is held, and the fields used afterwards are copied out below.
        let found = self
            .prog
            .lbs
            .find(f.t.proto, f.t.dst, f.t.dport, any_local, &mut lookups);
        env.counters.table_lookups += lookups;
        let Some(m) = found else { return Ok(()) };
        let node = env.node;
        env.counters.rule_evaluations += 1;
        let b;
        (b, f.after) = lb::dnat(m, f.t, seed, nonce, affinity, node, &mut self.lb_steer, tr)?;
        let m = m.summary();
        f.route_to = b.ip;
        // A remote-endpoint backend is sent toward its host even if a local endpoint now
        // holds the same IP (a stale remote endpoint, consumers.md P12 / S15.2).
        f.backend_remote = !self.prog.port_by_ep.contains_key(&b.endpoint);
        if !m.dsr {
            let src = m.source_vip.unwrap_or(IpAddr::V4(host_ip));
            if src.is_ipv6() != b.ip.is_ipv6() {
                return Err(Disposition::Unsupported {
                    node: node.to_string(),
                    what: format!(
                        "LB {}: non-DSR needs a SourceVIP of the backend's address family ({} backend, SourceVIP {})",
                        m.lb, b.ip, src
                    ),
                });
            }
            f.after.src = src;
            f.after.sport = self.snat_port(src, SnatOwner::Port(p), node)?;
        }
        f.nat = Some(NatLayer::Lb);
        let before_h = f.t;
        let eth = tr.eth;
        tr.step(|| Step::Transform {
            layer: Layer::SlbNat.into(),
            rule: format!(
                "LB {} {}:{} -> {}:{}{}",
                m.lb,
                f.t.dst,
                m.external_port,
                b.ip,
                m.internal_port,
                if m.dsr { " (DSR)" } else { "" }
            ),
            before: tuple_headers(&before_h, eth),
            after: tuple_headers(&f.after, eth),
        });
        Ok(())
    }

    /// `OUTBOUND_NAT` (IPv4): SNAT to the policy's `VirtualIP` (else the host address) unless
    /// the destination is an exception or inside the network; `Destinations` (loopback DSR)
    /// forces it toward those only. Skipped when an earlier layer already SNATed.
    fn layer_outbound_nat(
        &mut self,
        env: &mut Env,
        p: u32,
        pp: &PortProgram,
        f: &mut OutFlow,
        tr: &mut Tracer,
    ) -> Result<(), Disposition> {
        let host_ip = self.ip;
        let dst4 = v4(f.route_to);
        if f.after.src == f.t.src {
            let node = env.node;
            for o in &pp.outbound_nat {
                env.counters.rule_evaluations += 1;
                let Some(d) = dst4 else { break };
                let applies = if !o.destinations.is_empty() {
                    o.destinations.iter().any(|n| n.contains(&d))
                } else {
                    let net = &self.prog.networks[pp.network];
                    !o.exceptions.iter().any(|n| n.contains(&d)) && !net.contains(d)
                };
                if !applies {
                    continue;
                }
                if f.t.proto == 1 || f.t.proto == 58 {
                    return Err(Disposition::Unsupported {
                        node: node.to_string(),
                        what: format!(
                            "ICMP from {} to {} needs OutBoundNAT SNAT; VFP does not translate ICMP (consumers.md P5)",
                            f.t.src, f.t.dst
                        ),
                    });
                }
                let src = IpAddr::V4(o.virtual_ip.unwrap_or(host_ip));
                let before = f.after;
                f.after.src = src;
                f.after.sport = self.snat_port(src, SnatOwner::Port(p), node)?;
                f.nat = Some(NatLayer::OutboundNat);
                let eth = tr.eth;
                tr.step(|| Step::Transform {
                    layer: Layer::OutboundNat.into(),
                    rule: if o.destinations.is_empty() {
                        "OutBoundNAT (destination not in Exceptions)".into()
                    } else {
                        "OutBoundNAT Destinations (loopback DSR)".into()
                    },
                    before: tuple_headers(&before, eth),
                    after: tuple_headers(&f.after, eth),
                });
                break;
            }
        }
        Ok(())
    }

    /// `OUTBOUND_NAT` with the IPv6 flag (2): SNAT to its `VirtualIP` unless the destination is
    /// an exception or inside the network's IPv6 subnets; `Destinations` forces it.
    fn layer_outbound_nat6(
        &mut self,
        env: &mut Env,
        p: u32,
        pp: &PortProgram,
        f: &mut OutFlow,
        tr: &mut Tracer,
    ) -> Result<(), Disposition> {
        if let (IpAddr::V6(d), true) = (f.route_to, f.after.src == f.t.src) {
            let node = env.node;
            for o in &pp.outbound_nat6 {
                env.counters.rule_evaluations += 1;
                let applies = if !o.destinations.is_empty() {
                    o.destinations.iter().any(|n| n.contains(&d))
                } else {
                    let net = &self.prog.networks[pp.network];
                    !o.exceptions.iter().any(|n| n.contains(&d)) && !net.contains6(d)
                };
                if !applies {
                    continue;
                }
                if f.t.proto == 58 {
                    return Err(Disposition::Unsupported {
                        node: node.to_string(),
                        what: format!(
                            "ICMPv6 from {} to {} needs OutBoundNAT SNAT; VFP does not translate ICMP (consumers.md P5)",
                            f.t.src, f.t.dst
                        ),
                    });
                }
                let Some(vip) = o.virtual_ip else {
                    return Err(Disposition::Unsupported {
                        node: node.to_string(),
                        what: "an IPv6 OutBoundNAT without a VirtualIP: the host has no IPv6 address in hnsim to SNAT to".into(),
                    });
                };
                let before = f.after;
                f.after.src = IpAddr::V6(vip);
                f.after.sport = self.snat_port(f.after.src, SnatOwner::Port(p), node)?;
                f.nat = Some(NatLayer::OutboundNat);
                let eth = tr.eth;
                tr.step(|| Step::Transform {
                    layer: Layer::OutboundNat.into(),
                    rule: "OutBoundNAT IPv6 (destination not in Exceptions)".into(),
                    before: tuple_headers(&before, eth),
                    after: tuple_headers(&f.after, eth),
                });
                break;
            }
        }
        Ok(())
    }

    /// HNS does not hairpin: a packet that would reach its own sender through a VIP with its
    /// own source address is refused (consumers.md P1).
    fn layer_hairpin(
        &mut self,
        env: &mut Env,
        _p: u32,
        pp: &PortProgram,
        f: &mut OutFlow,
        _tr: &mut Tracer,
    ) -> Result<(), Disposition> {
        if f.after.src == f.route_to
            && (Some(f.route_to) == pp.ip6.map(IpAddr::V6) || v4(f.route_to) == Some(pp.ip))
        {
            return Err(Disposition::Unsupported {
                node: env.node.to_string(),
                what: format!(
                    "hairpin: {} reaches itself through a VIP with its own source address; HNS does not hairpin without a loopback-DSR OutBoundNAT Destinations policy (consumers.md P1)",
                    pp.ip
                ),
            });
        }
        Ok(())
    }

    pub(crate) fn snat_port(
        &mut self,
        src: IpAddr,
        owner: SnatOwner,
        node: &str,
    ) -> Result<u16, Disposition> {
        match self.snat.alloc(src, owner) {
            Some(p) => Ok(p),
            None => Err(Disposition::SnatPortsExhausted {
                node: node.to_string(),
                address: src,
            }),
        }
    }

    /// The route layer for either address family.
    pub(crate) fn route_any(
        &mut self,
        env: &mut Env,
        pp: &PortProgram,
        d: IpAddr,
        after: &Tuple,
        backend_remote: bool,
        tr: &mut Tracer,
    ) -> Result<Exit, Disposition> {
        match d {
            IpAddr::V4(d) => self.route_port(env, pp, d, after, backend_remote, tr),
            IpAddr::V6(d) => self.route_port6(env, pp, d, backend_remote, tr),
        }
    }

    /// The IPv6 route layer of a dual-stack port. HNS supports dual-stack on L2Bridge only and
    /// not IPv6 between overlay pods (consumers.md P14, §3.1). Same vSwitch: switched to the
    /// port; otherwise the host's IPv6 routes, leaving with the host MAC like IPv4 (P10).
    pub(crate) fn route_port6(
        &mut self,
        env: &mut Env,
        pp: &PortProgram,
        d: Ipv6Addr,
        backend_remote: bool,
        tr: &mut Tracer,
    ) -> Result<Exit, Disposition> {
        let node = env.node;
        env.counters.table_lookups += 1;
        let hn = &*self;
        let net = &hn.prog.networks[pp.network];
        match net.kind {
            NetKind::L2Bridge => {}
            NetKind::Overlay => {
                return Err(Disposition::Unsupported {
                    node: node.to_string(),
                    what: format!(
                        "IPv6 between overlay pods is not supported by HNS (consumers.md P14): {d}"
                    ),
                })
            }
            k => {
                return Err(Disposition::Unsupported {
                    node: node.to_string(),
                    what: format!(
                        "IPv6 on a {k:?} network: HNS allows dual-stack on L2Bridge only (consumers.md P14)"
                    ),
                })
            }
        }
        if !backend_remote {
            if let Some(&q) = hn.prog.port_by_ip6.get(&d) {
                let qp = &hn.prog.ports[q as usize];
                if qp.network == pp.network && !qp.host_attached {
                    return Ok(Exit::Port(q));
                }
            }
        }
        let route = env.route6(d);
        match route {
            Some((prefix, nh)) => {
                tr.step(|| Step::Route {
                    table: format!("{} host IPv6 routes", Layer::Route),
                    prefix: prefix.to_string(),
                    next_hop: format!("node {nh}"),
                });
                Ok(Exit::Uplink {
                    next_hop: nh,
                    src_mac: self.mac,
                })
            }
            None => Err(Disposition::NoRoute {
                node: node.to_string(),
                reason: format!("no host IPv6 route to {d} (World::set_host_routes6)"),
            }),
        }
    }

    /// The route layer of a port: where a (translated) packet to `d` goes.
    pub(crate) fn route_port(
        &mut self,
        env: &mut Env,
        pp: &PortProgram,
        d: Ipv4Addr,
        after: &Tuple,
        backend_remote: bool,
        tr: &mut Tracer,
    ) -> Result<Exit, Disposition> {
        let node = env.node;
        env.counters.table_lookups += 1;
        let hn = &*self;
        let net = hn.prog.networks[pp.network].clone();
        let net = &net;
        let kind = net.kind;
        let host_ip = hn.ip;
        let local = hn.prog.port_by_ip.get(&d).copied().filter(|&q| {
            hn.prog.ports[q as usize].network == pp.network && !hn.prog.ports[q as usize].host_attached
        });
        let remote = hn.prog.remote_by_ip.get(&d).cloned();
        let dst_is_host = hn.is_host_addr(IpAddr::V4(d));
        // 1. Another port on the same vSwitch network: switched locally (P15: L2Bridge same-host
        //    traffic is bridged). L2Tunnel sends everything through the host (inferred).
        if kind != NetKind::L2Tunnel && !backend_remote {
            if let Some(q) = local {
                return Ok(Exit::Port(q));
            }
        }
        // The host's own addresses: up the host vNIC to the host stack.
        if dst_is_host && kind != NetKind::Transparent {
            tr.step(|| Step::Route {
                table: format!("{} host address", Layer::Route),
                prefix: format!("{d}/32"),
                next_hop: "host stack".into(),
            });
            return Ok(Exit::HostStack);
        }
        // 2. SDNRoute NeedEncap: hand to the host (service CIDR with no LB, the node's own IP).
        let sdn = pp.sdn_routes.lookup(d);
        if let Some(r) = sdn {
            env.counters.rule_evaluations += 1;
            tr.step(|| Step::Route {
                table: format!("{} SDNRoute", Layer::Route),
                prefix: r.prefix.to_string(),
                next_hop: if r.need_encap {
                    "host (NeedEncap)".into()
                } else {
                    r.next_hop.map(|n| n.to_string()).unwrap_or_else(|| "host".into())
                },
            });
            // NeedEncap hands the packet to the host; a plain SDNRoute with a next hop sends
            // it there on the wire (host MAC, except for Transparent endpoints on the underlay).
            match (r.need_encap, r.next_hop) {
                (false, Some(nh)) if nh != Ipv4Addr::UNSPECIFIED => {
                    let src_mac = if kind == NetKind::Transparent {
                        pp.mac
                    } else {
                        self.mac
                    };
                    return Ok(Exit::Uplink {
                        next_hop: nh,
                        src_mac,
                    });
                }
                _ => return Ok(Exit::HostStack),
            }
        }
        let snat_to_host = v4(after.src) == Some(host_ip);
        match kind {
            NetKind::Overlay => self.route_overlay(env, net, d, remote.as_ref(), snat_to_host, node, tr),
            NetKind::L2Bridge => self.route_l2bridge(env, d, remote.as_ref(), node, tr),
            NetKind::Transparent => route_transparent(pp, net, d, node, tr),
            NetKind::L2Tunnel => Ok(Exit::HostStack),
            NetKind::Nat | NetKind::Ics | NetKind::Internal => route_host_vnic(pp, net, d, node, tr),
            NetKind::Private | NetKind::Other => Err(Disposition::NoRoute {
                node: node.to_string(),
                reason: format!("network {} ({:?}) has no path beyond its vSwitch", net.name, kind),
            }),
        }
    }

    /// Route layer, Overlay: a remote endpoint's PA (VXLAN encap with the network's VSID), a
    /// `RemoteSubnetRoute`, or — for a packet SNATed to the host — the host's routes.
    #[allow(clippy::too_many_arguments)]
    fn route_overlay(
        &mut self,
        env: &mut Env,
        net: &NetProgram,
        d: Ipv4Addr,
        remote: Option<&RemoteEndpoint>,
        snat_to_host: bool,
        node: &str,
        tr: &mut Tracer,
    ) -> Result<Exit, Disposition> {
        let host_ip = self.ip;
        let vsid = net.vsid.unwrap_or(0);
        let port = net.vxlan_port;
        if let Some(r) = remote {
            // A remote endpoint that is its own PA is a host-network backend: plain
            // underlay, no encap (consumers.md S9.2, inferred path).
            if r.pa == Some(d) {
                return self.mac_rewrite_exit(env, d, node, tr);
            }
            if let Some(pa) = r.pa {
                if pa == host_ip {
                    tr.step(|| Step::Route {
                        table: format!("{} remote endpoint", Layer::Route),
                        prefix: format!("{d}/32"),
                        next_hop: "host (PA is this host)".into(),
                    });
                    return Ok(Exit::HostStack);
                }
                let inner = r.mac;
                tr.step(|| Step::Route {
                    table: format!("{} remote endpoint", Layer::Route),
                    prefix: format!("{d}/32"),
                    next_hop: format!("PA {pa}"),
                });
                let onh = self.outer_next_hop(env, pa, node)?;
                return Ok(Exit::Encap {
                    outer_next_hop: onh,
                    pa,
                    vni: vsid,
                    udp_port: port,
                    inner_dst_mac: inner,
                });
            }
        }
        if let Some(r) = net.remote_subnets.lookup(d) {
            env.counters.rule_evaluations += 1;
            tr.step(|| Step::Route {
                table: format!("{} RemoteSubnetRoute", Layer::Route),
                prefix: r.prefix.to_string(),
                next_hop: format!("PA {}", r.pa),
            });
            let onh = self.outer_next_hop(env, r.pa, node)?;
            return Ok(Exit::Encap {
                outer_next_hop: onh,
                pa: r.pa,
                vni: r.vni,
                udp_port: port,
                inner_dst_mac: r.dr_mac,
            });
        }
        if snat_to_host {
            return self.mac_rewrite_exit(env, d, node, tr);
        }
        Err(Disposition::NoRoute {
            node: node.to_string(),
            reason: format!(
                "overlay network {}: no local endpoint, remote endpoint or RemoteSubnetRoute for {}, and the packet is not SNATed (inferred, consumers.md S8.2)",
                net.name,
                Dotted(d)
            ),
        })
    }

    /// Route layer, L2Bridge: MAC rewrite — leave with the host MAC toward the next hop of the
    /// host's routes (P10; consumers.md S1.2).
    fn route_l2bridge(
        &mut self,
        env: &mut Env,
        d: Ipv4Addr,
        remote: Option<&RemoteEndpoint>,
        node: &str,
        tr: &mut Tracer,
    ) -> Result<Exit, Disposition> {
        if let Some(r) = remote {
            let g = r.endpoint;
            tr.step(|| Step::Route {
                table: format!("{} remote endpoint", Layer::Route),
                prefix: format!("{d}/32"),
                next_hop: format!("host routes (remote endpoint {g})"),
            });
        }
        self.mac_rewrite_exit(env, d, node, tr)
    }

    pub(crate) fn outer_next_hop(
        &mut self,
        env: &mut Env,
        pa: Ipv4Addr,
        node: &str,
    ) -> Result<Ipv4Addr, Disposition> {
        match env.route(pa) {
            Some((Via::Uplink(nh), _, _)) => Ok(nh.unwrap_or(pa)),
            _ => Err(Disposition::NoRoute {
                node: node.to_string(),
                reason: format!("no underlay route to provider address {pa}"),
            }),
        }
    }

    pub(crate) fn mac_rewrite_exit(
        &mut self,
        env: &mut Env,
        d: Ipv4Addr,
        node: &str,
        tr: &mut Tracer,
    ) -> Result<Exit, Disposition> {
        match env.route(d) {
            Some((Via::Uplink(nh), prefix, origin)) => {
                let nh = nh.unwrap_or(d);
                tr.step(|| Step::Route {
                    table: format!("{} host routes ({origin})", Layer::Route),
                    prefix: prefix.to_string(),
                    next_hop: nh.to_string(),
                });
                Ok(Exit::Uplink {
                    next_hop: nh,
                    src_mac: self.mac,
                })
            }
            Some((Via::Switch(_), _, _)) => Ok(Exit::HostStack),
            None => Err(Disposition::NoRoute {
                node: node.to_string(),
                reason: format!("no host route to {d}"),
            }),
        }
    }

    /// A frame the vSwitch hands to port `q` (VFP inbound): the flow table, on a miss ACL In
    /// (installing both directions of the connection), then the port's vNIC. The action is
    /// `Exit::Deliver` to the container, or `Exit::HostStack` for a host vNIC endpoint. Only
    /// the established case is inlined into the driver.
    #[inline]
    pub(crate) fn on_port_in(
        &mut self,
        env: &mut Env,
        q: u32,
        pkt: &mut Packet,
        tr: &mut Tracer,
    ) -> VfpAction {
        let Some(t) = tuple_of(pkt) else {
            return non_ip(env, "non-IP frame at a port");
        };
        match self.probe(env, Zone::Port(q), Dir::In, t) {
            Ok(a) => {
                env.counters.fast_path += 1;
                tr.step(|| Step::Session {
                    setup_or_match: SessionOp::Match,
                    flow: t.to_string(),
                });
                if let Exit::Deny(d) = a.exit {
                    return self.denied(env, q, d);
                }
            }
            Err(_) => {
                if let Err(drop) = self.port_in_slow(env, q, t, tr) {
                    return drop;
                }
            }
        }
        let pp = &self.prog.ports[q as usize];
        if pp.namespace.is_none() || !pp.running {
            return self.not_receiving(q);
        }
        pkt.eth.dst = pp.mac;
        // A host vNIC endpoint (e.g. cbr0_ep): the host stack receives.
        let exit = if pp.host_attached {
            Exit::HostStack
        } else {
            Exit::Deliver
        };
        VfpAction::Forward(FlowAction { after: t, exit })
    }

    /// A cached ACL denial at port `p`.
    #[cold]
    #[inline(never)]
    fn denied(&self, env: &Env, p: u32, d: DenyRef) -> VfpAction {
        VfpAction::dropped(self.deny_disposition(env.node, p, d))
    }

    /// Port `q` has no vNIC that could receive, or its container is stopped.
    #[cold]
    #[inline(never)]
    fn not_receiving(&self, q: u32) -> VfpAction {
        let pp = &self.prog.ports[q as usize];
        if pp.namespace.is_none() {
            // No namespace, no vNIC in any compartment (never attached, or its container
            // stopped and detached it).
            return VfpAction::dropped(Disposition::NoRoute {
                node: self.port_place(q),
                reason: "the endpoint is not attached to any namespace (no vNIC)".into(),
            });
        }
        // HCS: a stopped container's compartment receives nothing.
        VfpAction::dropped(Disposition::HostDown {
            node: self.port_place(q),
        })
    }

    /// The first packet of a connection arriving at port `q` (flow-table miss): ACL In, then
    /// both directions of the connection are installed.
    #[inline(never)]
    fn port_in_slow(&mut self, env: &mut Env, q: u32, t: Tuple, tr: &mut Tracer) -> Result<(), VfpAction> {
        let now = env.now;
        let (key, gen) = self.flow_key(env, Zone::Port(q), Dir::In, t);
        env.counters.slow_path += 1;
        tr.step(|| Step::Session {
            setup_or_match: SessionOp::Setup,
            flow: t.to_string(),
        });
        if let Err(d) = self.acl(env, q, Dir::In, &t, tr) {
            self.flows.insert(
                key,
                FlowAction {
                    after: t,
                    exit: Exit::Deny(d),
                },
                gen,
                now,
            );
            return Err(VfpAction::dropped(self.deny_disposition(env.node, q, d)));
        }
        // Unified flow (vfp.md): the first packet installs both directions. The reply
        // leaving this port needs no ACL (stateful: an allowed inbound connection's reply
        // passes whatever the Out ACLs say) and no NAT; its route is composed now, so the
        // reply is one exact-match lookup. If the reply has no route yet, it is left
        // `Pending` and the route layer runs when it is sent.
        let reply = t.reversed();
        let exit = self.reply_route(env, q, &reply).unwrap_or(Exit::Pending);
        self.flows.insert(
            key,
            FlowAction {
                after: t,
                exit: Exit::Deliver,
            },
            gen,
            now,
        );
        self.flows.insert_unless_pinned(
            FlowKey {
                zone: Zone::Port(q),
                dir: Dir::Out,
                tuple: reply,
            },
            FlowAction { after: reply, exit },
            gen,
            now,
        );
        Ok(())
    }

    /// The route layer's exit for the reply `reply` of an inbound connection leaving port `q`,
    /// composed when the connection is set up (not traced: the request's trace shows the
    /// request; the reply's trace shows the cached flow it matches).
    fn reply_route(&mut self, env: &mut Env, q: u32, reply: &Tuple) -> Option<Exit> {
        let pp = self.prog.ports[q as usize].clone();
        let mut quiet = Tracer::new(false);
        self.route_any(env, &pp, reply.dst, reply, false, &mut quiet).ok()
    }
}

/// Route layer, Transparent: the endpoint sits on the underlay and leaves with its own MAC
/// toward the destination (on-link), its longest matching route, or its gateway.
fn route_transparent(
    pp: &PortProgram,
    net: &NetProgram,
    d: Ipv4Addr,
    node: &str,
    tr: &mut Tracer,
) -> Result<Exit, Disposition> {
    let nh = if net.contains(d) {
        d
    } else if let Some(&(_, nh)) = pp.routes.lookup(d) {
        nh
    } else {
        match pp.gateway {
            Some(g) => g,
            None => {
                return Err(Disposition::NoRoute {
                    node: node.to_string(),
                    reason: format!("endpoint {} has no gateway for {d}", pp.name),
                })
            }
        }
    };
    tr.step(|| Step::Route {
        table: format!("{} endpoint", Layer::Route),
        prefix: if nh == d {
            "on-link".into()
        } else {
            "0.0.0.0/0".into()
        },
        next_hop: nh.to_string(),
    });
    Ok(Exit::Uplink {
        next_hop: nh,
        src_mac: pp.mac,
    })
}

/// Route layer, NAT / ICS / Internal: everything off the network goes up the host vNIC (the
/// gateway) to the host stack; an address of the network that no endpoint holds is unroutable.
fn route_host_vnic(
    pp: &PortProgram,
    net: &NetProgram,
    d: Ipv4Addr,
    node: &str,
    tr: &mut Tracer,
) -> Result<Exit, Disposition> {
    // The host's own addresses never get here: `route_port` sends them up the host vNIC first.
    if net.contains(d) {
        return Err(Disposition::NoRoute {
            node: node.to_string(),
            reason: format!("no endpoint with {d} on network {}", net.name),
        });
    }
    tr.step(|| Step::Route {
        table: format!("{} endpoint", Layer::Route),
        prefix: "0.0.0.0/0".into(),
        next_hop: pp
            .gateway
            .map(|g| format!("{g} (host vNIC)"))
            .unwrap_or_else(|| "host vNIC".into()),
    });
    Ok(Exit::HostStack)
}
