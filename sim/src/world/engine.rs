//! engine: the driver. It runs a packet's chain of events on the virtual clock
//! ([`World::journey`]), keeps each host's compiled program current (`ensure_compiled`), and
//! owns the flow-table bookkeeping shared by the stages (`flow_gen`, `pin_restore`). The stages
//! themselves are in `vfp::port`, `vfp::ingress`, `host`, `neigh` and `fabric`; the types they
//! exchange (`At`, `Next`, `Exit`, `FlowAction`, `Tracer`) are in `path`, which depends on no
//! stage. docs/packet-walk.md lists the walk function by function.
//!
//! A packet's journey is a chain of events `(time, location)`: each event is processed and names
//! at most one next event (wire transmissions advance virtual time by the segment's latency).
//! One packet is in flight at a time (`World::send` runs a request to its end, then its reply)
//! and ARP exchanges are resolved inline (their frames are captured), so the chain needs no
//! priority queue and its order is the processing order.
//!
//! Locations inside a host: a container port's outbound VFP (`PortOut`), a port's inbound VFP
//! (`PortIn`), the host TCP/IP stack (`HostStack`), and frames on the underlay (`Wire`, `Arrive`).

use crate::packet::Packet;
use crate::path::HostId;
use crate::path::{
    drop, headers, set_tuple, tuple_headers, tuple_of, v4, At, Exit, FlowAction, Next, Outcome, Receiver,
    Tracer, HOP_BUDGET,
};
use crate::switch::{Forward, SwitchPort};
use crate::trace::{Disposition, SessionOp, Step};
use crate::vfp::{NatLayer, Tuple, VfpAction, Zone};
use crate::world::{HostNode, World};
use std::net::IpAddr;

impl World {
    pub(crate) fn hn(&self, h: HostId) -> &HostNode {
        match &self.nodes[h.0].host {
            Some(x) => x,
            None => unreachable!("node {h:?} is not a host"),
        }
    }
    pub(crate) fn hn_mut(&mut self, h: HostId) -> &mut HostNode {
        match &mut self.nodes[h.0].host {
            Some(x) => x,
            None => unreachable!("node {h:?} is not a host"),
        }
    }

    /// Recompile a host's program when its HNS generation moved (checked on every hop).
    #[inline]
    pub(crate) fn ensure_compiled(&mut self, h: HostId) {
        let hn = self.hn(h);
        if hn.vfp.is_current(hn.hns.generation) {
            return;
        }
        self.compile_host(h);
    }

    #[cold]
    fn compile_host(&mut self, h: HostId) {
        let connected = self.fabric.spec(self.hn(h).seg).prefix;
        let hn = self.hn_mut(h);
        hn.vfp.compile(&hn.hns, hn.spec.mtu);
        // Endpoints and their MACs may have changed: compartments ARP again.
        hn.stack.clear_neighbours();
        let ports = hn.vfp.program().ports.iter().map(|p| p.mac);
        hn.switch.program(ports, hn.spec.mac);
        hn.rebuild_routes(connected);
    }

    /// A packet leaves container port `p`: the compartment resolves its next hop, the port
    /// captures it, VFP decides ([`Vfp::on_port_out`]), the action is carried out.
    pub(crate) fn port_out(&mut self, h: HostId, p: u32, mut pkt: Packet, tr: &mut Tracer) -> Next {
        self.ensure_compiled(h);
        if tr.on {
            let hn = self.hn(h);
            let (n, pn) = (self.nodes[h.0].name.clone(), hn.vfp.port_name(p).to_string());
            tr.hop(&n, &pn);
        }
        // The container's stack resolves the next hop before the frame reaches the port.
        if let Err(d) = self.container_resolve(h, p, &mut pkt, tr) {
            return drop(d);
        }
        tr.eth = pkt.eth;
        self.capture_port(h, p, &pkt);
        let (vfp, mut env) = self.vfp_env(h);
        let action = vfp.on_port_out(&mut env, p, &mut pkt, tr);
        self.act(h, Some(p), &mut pkt, action, tr)
    }

    /// Carry out what VFP decided for a packet (from port `from`, else from the uplink or the
    /// host stack).
    #[inline(always)]
    pub(crate) fn act(
        &mut self,
        h: HostId,
        from: Option<u32>,
        pkt: &mut Packet,
        action: VfpAction,
        tr: &mut Tracer,
    ) -> Next {
        match action {
            VfpAction::Forward(a) => self.apply(h, from, pkt, &a, tr),
            VfpAction::HostRoute { after, dst } => {
                let restore = tuple_of(pkt).unwrap_or(after).reversed();
                self.host_forward(h, *pkt, after, dst, Some((restore, NatLayer::Lb)), tr)
            }
            VfpAction::Drop(d) => drop(*d),
        }
    }

    /// A packet arrives at port `q` from the vSwitch: VFP inbound ([`Vfp::on_port_in`]), then the
    /// container or, for a host vNIC endpoint, the host stack.
    pub(crate) fn port_in(&mut self, h: HostId, q: u32, mut pkt: Packet, tr: &mut Tracer) -> Next {
        self.ensure_compiled(h);
        if q as usize >= self.hn(h).vfp.program().ports.len() {
            return drop(Disposition::NoRoute {
                node: self.nodes[h.0].name.clone(),
                reason: "the destination port was removed".into(),
            });
        }
        if tr.on {
            let hn = self.hn(h);
            let (n, pn) = (self.nodes[h.0].name.clone(), hn.vfp.port_name(q).to_string());
            tr.hop(&n, &pn);
        }
        let (vfp, mut env) = self.vfp_env(h);
        let a = match vfp.on_port_in(&mut env, q, &mut pkt, tr) {
            VfpAction::Forward(a) => a,
            other => return self.act(h, Some(q), &mut pkt, other, tr),
        };
        self.capture_port(h, q, &pkt);
        if a.exit == Exit::HostStack {
            return Next::Go(
                At::HostStack {
                    host: h,
                    pkt,
                    origin: false,
                },
                0,
            );
        }
        if tr.on {
            let to = self.hn(h).vfp.port_place(q);
            tr.step(|| Step::Deliver { to });
        }
        Next::End(Outcome::Arrived(Receiver::Port { host: h, port: q }, pkt))
    }

    /// A frame from host `h`'s uplink after any decap: VFP's vSwitch ingress
    /// ([`Vfp::on_uplink`]), then its action.
    #[inline]
    pub(crate) fn host_switch_in(
        &mut self,
        h: HostId,
        mut pkt: Packet,
        overlay: Option<usize>,
        tr: &mut Tracer,
    ) -> Next {
        let (vfp, mut env) = self.vfp_env(h);
        let action = vfp.on_uplink(&mut env, &mut pkt, overlay, tr);
        self.act(h, None, &mut pkt, action, tr)
    }

    /// Restore a reply of a translated connection and hand it on.
    pub(crate) fn restore(
        &mut self,
        h: HostId,
        mut pkt: Packet,
        t: Tuple,
        a: &FlowAction,
        tr: &mut Tracer,
    ) -> Next {
        let Exit::Restore {
            zone,
            endpoint,
            layer,
        } = a.exit
        else {
            return self.apply(h, None, &mut pkt, a, tr);
        };
        let before = t;
        set_tuple(&mut pkt, &a.after);
        tr.step(|| Step::Session {
            setup_or_match: SessionOp::Match,
            flow: format!("{} reply", layer.name()),
        });
        let eth = tr.eth;
        tr.step(|| Step::Transform {
            layer: layer.name().into(),
            rule: "reverse NAT".into(),
            before: tuple_headers(&before, eth),
            after: tuple_headers(&a.after, eth),
        });
        match zone {
            Zone::HostStack => Next::End(Outcome::Arrived(Receiver::Host(h), pkt)),
            Zone::Uplink => self.host_route_out(h, pkt, tr),
            Zone::Port(_) => {
                self.counters.table_lookups += 1;
                let Some(&q) = self.hn(h).vfp.program().port_by_ep.get(&endpoint) else {
                    return drop(Disposition::NoRoute {
                        node: self.nodes[h.0].name.clone(),
                        reason: format!("the endpoint {endpoint} of this connection is gone"),
                    });
                };
                Next::Go(
                    At::PortIn {
                        host: h,
                        port: q,
                        pkt,
                    },
                    0,
                )
            }
        }
    }

    /// Apply a (cached or fresh) flow action.
    pub(crate) fn apply(
        &mut self,
        h: HostId,
        from: Option<u32>,
        pkt: &mut Packet,
        a: &FlowAction,
        tr: &mut Tracer,
    ) -> Next {
        if let Exit::Restore { .. } = a.exit {
            let t = tuple_of(pkt).unwrap_or(a.after);
            return self.restore(h, *pkt, t, a, tr);
        }
        if !tr.on {
            // Rewriting an unchanged tuple changes nothing; cheaper than comparing first.
            set_tuple(pkt, &a.after);
        } else if tuple_of(pkt) != Some(a.after) {
            let before = headers(pkt);
            set_tuple(pkt, &a.after);
            let after = headers(pkt);
            tr.step(|| Step::Transform {
                layer: "UFT".into(),
                rule: "cached transposition".into(),
                before,
                after,
            });
        }
        match a.exit {
            Exit::Port(q) => {
                // The vSwitch forwards by the port's MAC (VFP rewrote the destination MAC).
                self.counters.table_lookups += 1;
                let mac = self.hn(h).vfp.program().ports[q as usize].mac;
                pkt.eth.dst = mac;
                let fwd = self.hn(h).switch.forward(mac, self.rt.now);
                if tr.on {
                    let name = match fwd {
                        Forward::To(SwitchPort::Endpoint(p)) if p == q => {
                            self.hn(h).vfp.port_name(q).to_string()
                        }
                        other => format!("{} ({other:?} in the MAC table)", self.hn(h).vfp.port_name(q)),
                    };
                    tr.step(|| Step::Switch { mac, out_port: name });
                }
                Next::Go(
                    At::PortIn {
                        host: h,
                        port: q,
                        pkt: *pkt,
                    },
                    0,
                )
            }
            Exit::HostStack => Next::Go(
                At::HostStack {
                    host: h,
                    pkt: *pkt,
                    origin: false,
                },
                0,
            ),
            Exit::Uplink { next_hop, src_mac } => self.emit_uplink(h, *pkt, next_hop, src_mac, None, tr),
            Exit::Encap {
                outer_next_hop,
                pa,
                vni,
                udp_port,
                inner_dst_mac,
            } => {
                let host_mac = self.hn(h).spec.mac;
                pkt.eth.dst = inner_dst_mac;
                if from.is_none() {
                    pkt.eth.src = host_mac;
                }
                self.emit_uplink(h, *pkt, outer_next_hop, host_mac, Some((pa, vni, udp_port)), tr)
            }
            Exit::Deliver | Exit::Pending | Exit::Restore { .. } => match from {
                Some(p) => Next::End(Outcome::Arrived(Receiver::Port { host: h, port: p }, *pkt)),
                None => Next::Go(
                    At::HostStack {
                        host: h,
                        pkt: *pkt,
                        origin: false,
                    },
                    0,
                ),
            },
            Exit::Deny(d) => match from {
                Some(p) => drop(self.hn(h).vfp.deny_disposition(&self.nodes[h.0].name, p, d)),
                None => drop(Disposition::NoRoute {
                    node: self.nodes[h.0].name.clone(),
                    reason: "denied".into(),
                }),
            },
        }
    }

    /// Route a packet out of the host by its routes (no TTL change: VFP, not the IP stack).
    pub(crate) fn host_route_out(&mut self, h: HostId, pkt: Packet, tr: &mut Tracer) -> Next {
        let Some(d) = tuple_of(&pkt).and_then(|t| v4(t.dst)) else {
            return drop(Disposition::Unsupported {
                node: self.nodes[h.0].name.clone(),
                what: "IPv6 is not modelled".into(),
            });
        };
        let t = tuple_of(&pkt).unwrap_or(Tuple {
            proto: 0,
            src: IpAddr::V4(d),
            sport: 0,
            dst: IpAddr::V4(d),
            dport: 0,
        });
        let (vfp, mut env) = self.vfp_env(h);
        match vfp.exit_from_host(&mut env, d, &t, false, tr) {
            Ok(exit) => self.apply(h, None, &mut { pkt }, &FlowAction { after: t, exit }, tr),
            Err(e) => drop(e),
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
                    self.rt.now = self.rt.now.saturating_add(delay);
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
