//! The driver's side of a container compartment's neighbour resolution: the [`Neigh`]
//! component decides (next hop, cache, who answers); here the ARP request and reply, or the
//! IPv6 Neighbor Solicitation and Advertisement, go into the port's capture, the step is traced
//! and the answer learnt into the compartment's cache.

use crate::neigh::{nd_frame, Neigh, NeighAction};
use crate::packet::{Packet, Payload};
use crate::path::HostId;
use crate::path::Tracer;
use crate::trace::{Disposition, Step};
use crate::world::World;
use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

impl World {
    /// Resolve the next hop of a frame a container sends on port `p` and set its destination
    /// MAC (the compartment's neighbour cache, else a real ARP / ND exchange on the vNIC port).
    #[inline]
    pub(crate) fn container_resolve(
        &mut self,
        h: HostId,
        p: u32,
        pkt: &mut Packet,
        tr: &mut Tracer,
    ) -> Result<(), Disposition> {
        let dst = match pkt.payload {
            Payload::Ip { ip, .. } => Some(ip.dst),
            Payload::Arp(_) => None,
        };
        let hn = self.hn(h);
        let seg = hn.seg;
        let neigh = Neigh {
            vfp: &hn.vfp,
            stack: &hn.stack,
            host_mac: hn.spec.mac,
        };
        let action = neigh.resolve(p, dst, |ip| self.owner_of_ip(seg, ip).map(|o| o.1));
        match action {
            NeighAction::Pass => Ok(()),
            NeighAction::Cached { nh, mac } => {
                self.counters.table_lookups += 1;
                tr.step(|| neighbour_step(nh, Some(mac), true));
                pkt.eth.dst = mac;
                Ok(())
            }
            NeighAction::Ask {
                nh,
                compartment,
                on_link,
                answer,
            } => {
                self.counters.table_lookups += 1;
                let (my_ip, my_mac) = {
                    let pp = &self.hn(h).vfp.program().ports[p as usize];
                    (pp.ip, pp.mac)
                };
                match nh {
                    IpAddr::V4(nh) => self.container_arp(h, p, (my_ip, my_mac), nh, answer),
                    IpAddr::V6(nh) => self.container_nd(h, p, nh, answer, on_link),
                }
                tr.step(|| neighbour_step(nh, answer, false));
                let Some(mac) = answer else {
                    let reason = match nh {
                        IpAddr::V4(nh) => format!("ARP for {nh} on the container's vNIC got no answer"),
                        IpAddr::V6(nh) => format!("neighbour solicitation for {nh} got no answer"),
                    };
                    return Err(Disposition::NoRoute {
                        node: self.hn(h).vfp.port_place(p),
                        reason,
                    });
                };
                self.hn_mut(h).stack.learn_neighbour(compartment, nh, mac);
                pkt.eth.dst = mac;
                Ok(())
            }
            NeighAction::NoRoute { v6 } => {
                let dst = dst.map(|d| d.to_string()).unwrap_or_default();
                let reason = if v6 {
                    format!("the compartment has no IPv6 route to {dst} (not on-link, no ::/0 route)")
                } else {
                    format!("the compartment has no route to {dst} (not on-link, no gateway)")
                };
                Err(Disposition::NoRoute {
                    node: self.hn(h).vfp.port_place(p),
                    reason,
                })
            }
        }
    }

    /// Capture the ARP request on port `p` and, when answered, the reply.
    #[cold]
    fn container_arp(&mut self, h: HostId, p: u32, me: (Ipv4Addr, Mac), nh: Ipv4Addr, answer: Option<Mac>) {
        let request = Packet::arp_request(me, nh);
        self.capture_port(h, p, &request);
        if let Some(mac) = answer {
            let reply = request.arp_reply(mac);
            self.capture_port(h, p, &reply);
        }
    }

    /// Capture the NS (and the NA when `answer` is some) of a container resolving `target`: to
    /// the target's solicited-node multicast address (RFC 4861 §4.3, §4.4).
    #[cold]
    fn container_nd(&mut self, h: HostId, p: u32, target: Ipv6Addr, answer: Option<Mac>, on_link: bool) {
        if !self.capture || !self.taps.watches_ports() {
            return;
        }
        let pp = &self.hn(h).vfp.program().ports[p as usize];
        let (my_mac, Some(my_ip)) = (pp.mac, pp.ip6) else {
            return;
        };
        let t = target.octets();
        let solicited = Ipv6Addr::new(
            0xff02,
            0,
            0,
            0,
            0,
            1,
            0xff00 | t[13] as u16,
            u16::from_be_bytes([t[14], t[15]]),
        );
        let group_mac = Mac([0x33, 0x33, 0xff, t[13], t[14], t[15]]);
        let ns = nd_frame(my_mac, group_mac, my_ip, solicited, 135, 0, target, 1, my_mac);
        self.capture_port_bytes(h, p, &ns);
        if let Some(mac) = answer {
            // Solicited + Override; Router when VFP answers for the gateway.
            let flags = 0x6000_0000 | if on_link { 0 } else { 0x8000_0000 };
            let na = nd_frame(mac, my_mac, target, my_ip, 136, flags, target, 2, mac);
            self.capture_port_bytes(h, p, &na);
        }
    }
}

/// The trace step of a resolution: ARP for IPv4, ND for IPv6.
fn neighbour_step(nh: IpAddr, is_at: Option<Mac>, cached: bool) -> Step {
    match nh {
        IpAddr::V4(who_has) => Step::Arp {
            who_has,
            is_at,
            cached,
        },
        IpAddr::V6(who_has) => Step::Nd {
            who_has,
            is_at,
            cached,
        },
    }
}
