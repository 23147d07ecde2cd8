//! The host TCP/IP stack: the default compartment's route table (connected underlay, default
//! gateway, extra OS routes, host vNICs of NAT/ICS/Internal networks, host-attached endpoints,
//! the overlay `HostRoute` policy), local delivery, IP forwarding with TTL, WinNAT for NAT networks
//! (and Internet Connection Sharing's NAT for ICS networks; `Vfp::winnat_out` owns that state),
//! and host access to VIPs (`LocalRoutedVIP`, P2) and port mappings (`LocalRoutedVip`).
//! Container namespaces are compartments too; their route table is the endpoint's own (on-link
//! subnet + default gateway), evaluated by the port's route layer.

use crate::host_stack::StackAction;
use crate::host_stack::Via;
use crate::packet::Packet;
use crate::path::HostId;
use crate::path::{drop, set_tuple, tuple_of, Exit, FlowAction, Next, Outcome, Receiver, Tracer};
use crate::trace::{Disposition, Step};
use crate::vfp::{NatLayer, Zone};
use crate::world::World;
use hnsim_model::Guid;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

impl World {
    /// Longest-prefix match over the host's IPv4 routes (one counted lookup).
    pub(crate) fn host_route_lookup(
        &mut self,
        h: HostId,
        d: Ipv4Addr,
    ) -> Option<(Via, Ipv4Net, &'static str)> {
        self.counters.table_lookups += 1;
        self.hn(h).stack.route(d)
    }

    /// The host's source address toward `d` (the host vNIC address inside a network it routes into).
    pub(crate) fn host_source_for(&mut self, h: HostId, d: Ipv4Addr) -> Ipv4Addr {
        let via = self.host_route_lookup(h, d);
        let hn = self.hn(h);
        if let Some((Via::Switch(n), _, _)) = via {
            let prog = hn.vfp.program();
            let net = &prog.networks[n];
            if let Some(a) = prog.host_addrs.iter().find(|a| net.contains(**a)) {
                return *a;
            }
        }
        hn.spec.ip
    }

    /// The host stack receives a packet: VFP first for what the host sends itself
    /// ([`Vfp::on_host_send`]: NAT replies, `LocalRoutedVIP`, port mappings), then the stack
    /// ([`HostStack::accept`]: deliver, or forward by the host routes).
    pub(crate) fn host_stack(&mut self, h: HostId, mut pkt: Packet, origin: bool, tr: &mut Tracer) -> Next {
        self.ensure_compiled(h);
        if tr.on {
            let node = self.nodes[h.0].name.clone();
            tr.hop(&node, "host stack");
        }
        if origin {
            if let Some(t) = tuple_of(&pkt) {
                let (vfp, mut env) = self.vfp_env(h);
                if let Some(action) = vfp.on_host_send(&mut env, &mut pkt, t, tr) {
                    return self.act(h, None, &mut pkt, action, tr);
                }
            }
        }
        let hn = self.hn(h);
        let local = tuple_of(&pkt).is_some_and(|t| hn.vfp.is_host_addr(t.dst));
        let node = &self.nodes[h.0].name;
        match hn.stack.accept(&mut pkt, local, origin, node) {
            StackAction::Deliver => {
                tr.step(|| Step::Deliver {
                    to: format!("host:{node}"),
                });
                Next::End(Outcome::Arrived(Receiver::Host(h), pkt))
            }
            StackAction::Forward { dst } => {
                let t = tuple_of(&pkt).expect("accepted packets are IP");
                self.host_forward(h, pkt, t, dst, None, tr)
            }
            StackAction::Drop(d) => drop(d),
        }
    }

    /// Route (and WinNAT when leaving a NAT network) a packet the host stack sends or forwards.
    pub(crate) fn host_forward(
        &mut self,
        h: HostId,
        pkt: Packet,
        t: crate::vfp::Tuple,
        d: Ipv4Addr,
        pin: Option<(crate::vfp::Tuple, NatLayer)>,
        tr: &mut Tracer,
    ) -> Next {
        // Transforms made before this point are already traced; the packet takes them now.
        let mut pkt = pkt;
        set_tuple(&mut pkt, &t);
        let node = self.nodes[h.0].name.clone();
        let route = self.host_route_lookup(h, d);
        let Some((via, prefix, origin)) = route else {
            return drop(Disposition::NoRoute {
                node,
                reason: format!("no host route to {d}"),
            });
        };
        tr.step(|| Step::Route {
            table: format!("host routes ({origin})"),
            prefix: prefix.to_string(),
            next_hop: match via {
                Via::Uplink(Some(nh)) => nh.to_string(),
                Via::Uplink(None) => "on-link (uplink)".into(),
                Via::Switch(_) => "host vNIC".into(),
            },
        });
        match via {
            Via::Switch(n) => {
                let now = self.rt.now;
                let hn = self.hn_mut(h);
                match hn.vfp.program().port_by_ip.get(&d).copied() {
                    Some(q) if hn.vfp.program().ports[q as usize].network == n => {
                        if let Some((restore, layer)) = pin {
                            hn.vfp.pin_restore(
                                now,
                                &Exit::Port(q),
                                &t,
                                restore,
                                Zone::HostStack,
                                Guid::ZERO,
                                layer,
                            );
                        }
                        self.apply(
                            h,
                            None,
                            &mut pkt,
                            &FlowAction {
                                after: t,
                                exit: Exit::Port(q),
                            },
                            tr,
                        )
                    }
                    _ => drop(Disposition::NoRoute {
                        node,
                        reason: format!(
                            "no endpoint with {d} on network {}",
                            self.hn(h).vfp.program().networks[n].name
                        ),
                    }),
                }
            }
            Via::Uplink(nh) => {
                // WinNAT / ICS: traffic from a NAT network leaving by the uplink is SNATed to the
                // host (`Vfp::winnat_out`).
                let (vfp, mut env) = self.vfp_env(h);
                let after = match vfp.winnat_out(&mut env, t, d, tr) {
                    Ok(after) => after,
                    Err(e) => return drop(e),
                };
                let src_mac = self.hn(h).spec.mac;
                if let Some((restore, layer)) = pin {
                    let uplink = Exit::Uplink { next_hop: d, src_mac };
                    let now = self.rt.now;
                    self.hn_mut(h).vfp.pin_restore(
                        now,
                        &uplink,
                        &after,
                        restore,
                        Zone::HostStack,
                        Guid::ZERO,
                        layer,
                    );
                }
                set_tuple(&mut pkt, &after);
                self.apply(
                    h,
                    None,
                    &mut pkt,
                    &FlowAction {
                        after,
                        exit: Exit::Uplink {
                            next_hop: nh.unwrap_or(d),
                            src_mac,
                        },
                    },
                    tr,
                )
            }
        }
    }

    /// Capture a frame at a named port when asked for (`HOST/ENDPOINT-NAME` or `HOST/GUID`).
    #[inline]
    pub(crate) fn capture_port(&mut self, h: HostId, p: u32, pkt: &Packet) {
        if !self.capture || !self.taps.watches_ports() {
            return;
        }
        self.capture_port_named(h, p, pkt);
    }

    #[cold]
    fn capture_port_named(&mut self, h: HostId, p: u32, pkt: &Packet) {
        if let Some(point) = self.port_capture_point(h, p) {
            self.record(&point, pkt);
        }
    }

    /// The capture point of port `p` when asked for (by endpoint name or GUID).
    fn port_capture_point(&self, h: HostId, p: u32) -> Option<String> {
        let pp = self.hn(h).vfp.program().ports.get(p as usize)?;
        self.taps.port_point(&self.nodes[h.0].name, &pp.name, pp.endpoint)
    }

    /// Capture a frame given as bytes at port `p` (frames the packet model does not carry, such
    /// as IPv6 neighbour discovery).
    #[cold]
    pub(crate) fn capture_port_bytes(&mut self, h: HostId, p: u32, frame: &[u8]) {
        if !self.capture {
            return;
        }
        if let Some(point) = self.port_capture_point(h, p) {
            let now = self.rt.now;
            self.taps.record(&point, now, frame);
        }
    }

    /// Record a frame at a capture point (real bytes from the wire encoder).
    pub(crate) fn record(&mut self, point: &str, pkt: &Packet) {
        if !self.capture {
            return;
        }
        let mut buf = Vec::new();
        crate::capture::encode(pkt, &mut buf);
        if !buf.is_empty() {
            let now = self.rt.now;
            self.taps.record(point, now, &buf);
        }
    }
}
