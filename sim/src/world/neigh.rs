//! A container compartment's neighbour resolution: before a frame leaves a container's vNIC,
//! its stack picks the next hop (the destination when it is on-link in the endpoint's network,
//! else the endpoint's `Routes` / the subnet's default gateway) and resolves it with a real ARP
//! request on the vNIC port. Who answers, as HNS programs it:
//! - a local endpoint on the same vSwitch network answers for itself (its own MAC);
//! - a remote endpoint (`Flags: 1`) of the network: VFP answers with the MAC HNS holds for it
//!   (inferred: the MAC is what HNS programs for remote endpoints, consumers.md P10);
//! - the gateway and off-subnet addresses: VFP's ARP proxy answers — with the host vNIC MAC on
//!   L2Bridge, L2Tunnel, NAT, ICS and Internal (the gateway lives on the host), with the network's
//!   distributed-router MAC on Overlay (`DrMacAddress` network policy, else a derived MAC);
//! - Transparent endpoints sit on the underlay: the owner of the address on the host's segment
//!   answers (the ARP frames also appear at the port);
//! - an on-link address nobody holds on NAT/ICS/Internal/Private/Transparent: no answer.
//!
//! IPv6 (dual-stack L2Bridge): neighbour discovery is resolved the same way, with real
//! Neighbor Solicitation / Advertisement frames in the port's capture (`container_resolve6`).
//!
//! The answer is cached per compartment (namespace, else the endpoint), so established flows
//! take one hash probe and never ARP again. Caches are cleared when the host's HNS state is
//! recompiled and on faults (an endpoint or its MAC may have changed).

use crate::compile::NetKind;
use crate::packet::{Packet, Payload};
use crate::path::HostId;
use crate::path::Tracer;
use crate::trace::{Disposition, Step};
use crate::world::World;
use hnsim_model::{Guid, Mac};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The distributed-router MAC of an overlay network without a `DrMacAddress` policy: derived
/// from the network ID under the Hyper-V OUI 00-15-5D (inferred; real HNS generates one and
/// publishes it as `DrMacAddress`).
pub(crate) fn derived_dr_mac(network: Guid) -> Mac {
    let b = network.0.to_be_bytes();
    Mac([0x00, 0x15, 0x5d, b[13], b[14], b[15]])
}

impl World {
    /// The next hop of `dst` in port `p`'s compartment: `dst` itself when on-link, else the
    /// longest matching endpoint route, else the default gateway. A next hop of 0.0.0.0 means
    /// on-link (`GwEp`-style routes, consumers.md §3.1).
    fn container_next_hop(&self, h: HostId, p: u32, dst: Ipv4Addr) -> Option<(Ipv4Addr, bool)> {
        let prog = &self.hn(h).vfp.program();
        let pp = &prog.ports[p as usize];
        if prog.networks[pp.network].contains(dst) {
            return Some((dst, true));
        }
        let nh = pp.routes.lookup(dst).map(|&(_, nh)| nh).or(pp.gateway)?;
        Some(if nh.is_unspecified() {
            (dst, true)
        } else {
            (nh, false)
        })
    }

    /// Who answers an ARP request for `nh` sent on port `p` (see the module doc).
    fn arp_answer(&self, h: HostId, p: u32, nh: Ipv4Addr, on_link: bool) -> Option<Mac> {
        let hn = self.hn(h);
        let prog = &hn.vfp.program();
        let pp = &prog.ports[p as usize];
        if let Some(&q) = prog.port_by_ip.get(&nh) {
            if prog.ports[q as usize].network == pp.network {
                return Some(prog.ports[q as usize].mac);
            }
        }
        let net = &prog.networks[pp.network];
        if let Some(r) = prog.remote_by_ip.get(&nh) {
            if r.network == pp.network {
                return Some(r.mac);
            }
        }
        match net.kind {
            NetKind::Transparent => {
                let seg = hn.seg;
                let owner = self.owner_of_ip(seg, nh)?;
                Some(owner.1)
            }
            NetKind::Overlay => Some(net.dr_mac.unwrap_or_else(|| derived_dr_mac(net.id))),
            NetKind::L2Bridge | NetKind::L2Tunnel => Some(hn.spec.mac),
            NetKind::Nat | NetKind::Ics | NetKind::Internal if !on_link => Some(hn.spec.mac),
            // The host vNIC holds the gateway address of these networks.
            NetKind::Nat | NetKind::Ics | NetKind::Internal if hn.vfp.is_host_addr(IpAddr::V4(nh)) => {
                Some(hn.spec.mac)
            }
            _ => None,
        }
    }

    /// Resolve the next hop of a frame a container sends on port `p` and set its destination
    /// MAC (the compartment's neighbour cache, else a real ARP exchange on the vNIC port).
    pub(crate) fn container_resolve(
        &mut self,
        h: HostId,
        p: u32,
        pkt: &mut Packet,
        tr: &mut Tracer,
    ) -> Result<(), Disposition> {
        let Payload::Ip { ip, .. } = pkt.payload else {
            return Ok(());
        };
        let dst = match ip.dst {
            IpAddr::V4(d) => d,
            IpAddr::V6(d) => return self.container_resolve6(h, p, d, pkt, tr),
        };
        let (compartment, my_ip, my_mac) = {
            let pp = &self.hn(h).vfp.program().ports[p as usize];
            (pp.namespace.unwrap_or(pp.endpoint), pp.ip, pp.mac)
        };
        let Some((nh, on_link)) = self.container_next_hop(h, p, dst) else {
            return Err(Disposition::NoRoute {
                node: self.hn(h).vfp.port_place(p),
                reason: format!("the compartment has no route to {dst} (not on-link, no gateway)"),
            });
        };
        self.counters.table_lookups += 1;
        let key = (compartment, IpAddr::V4(nh));
        if let Some(m) = self.hn(h).stack.neighbour(key.0, key.1) {
            tr.step(|| Step::Arp {
                who_has: nh,
                is_at: Some(m),
                cached: true,
            });
            pkt.eth.dst = m;
            return Ok(());
        }
        self.container_arp(h, p, (compartment, my_ip, my_mac), nh, on_link, pkt, tr)
    }

    #[cold]
    #[allow(clippy::too_many_arguments)]
    fn container_arp(
        &mut self,
        h: HostId,
        p: u32,
        (compartment, my_ip, my_mac): (Guid, Ipv4Addr, Mac),
        nh: Ipv4Addr,
        on_link: bool,
        pkt: &mut Packet,
        tr: &mut Tracer,
    ) -> Result<(), Disposition> {
        let request = Packet::arp_request((my_ip, my_mac), nh);
        self.capture_port(h, p, &request);
        let Some(mac) = self.arp_answer(h, p, nh, on_link) else {
            tr.step(|| Step::Arp {
                who_has: nh,
                is_at: None,
                cached: false,
            });
            return Err(Disposition::NoRoute {
                node: self.hn(h).vfp.port_place(p),
                reason: format!("ARP for {nh} on the container's vNIC got no answer"),
            });
        };
        let reply = request.arp_reply(mac);
        self.capture_port(h, p, &reply);
        self.hn_mut(h)
            .stack
            .learn_neighbour(compartment, IpAddr::V4(nh), mac);
        tr.step(|| Step::Arp {
            who_has: nh,
            is_at: Some(mac),
            cached: false,
        });
        pkt.eth.dst = mac;
        Ok(())
    }
}

impl World {
    /// IPv6 neighbour discovery of a dual-stack container: a real Neighbor Solicitation to the
    /// target's solicited-node multicast address and, when answered, the Neighbor Advertisement
    /// (RFC 4861 §4.3, §4.4) go into the port's capture. Next hop: the destination when inside one of the
    /// network's IPv6 subnets, else the endpoint's `::/0` next hop. A local endpoint answers for
    /// its own address; VFP answers for the gateway with the host vNIC MAC (L2Bridge; other
    /// network types refuse IPv6 in the route layer, consumers.md P14).
    fn container_resolve6(
        &mut self,
        h: HostId,
        p: u32,
        dst: Ipv6Addr,
        pkt: &mut Packet,
        tr: &mut Tracer,
    ) -> Result<(), Disposition> {
        let hn = self.hn(h);
        let prog = &hn.vfp.program();
        let pp = &prog.ports[p as usize];
        let compartment = pp.namespace.unwrap_or(pp.endpoint);
        let net = &prog.networks[pp.network];
        let (nh, on_link) = if net.contains6(dst) {
            (dst, true)
        } else {
            match pp.gateway6 {
                Some(g) => (g, false),
                None => {
                    return Err(Disposition::NoRoute {
                        node: self.hn(h).vfp.port_place(p),
                        reason: format!(
                            "the compartment has no IPv6 route to {dst} (not on-link, no ::/0 route)"
                        ),
                    })
                }
            }
        };
        let key = (compartment, IpAddr::V6(nh));
        let cached = hn.stack.neighbour(key.0, key.1);
        let answer = match prog.port_by_ip6.get(&nh) {
            Some(&q) if prog.ports[q as usize].network == pp.network => Some(prog.ports[q as usize].mac),
            _ if !on_link || net.kind == NetKind::L2Bridge => Some(hn.spec.mac),
            _ => None,
        };
        self.counters.table_lookups += 1;
        if let Some(m) = cached {
            tr.step(|| Step::Nd {
                who_has: nh,
                is_at: Some(m),
                cached: true,
            });
            pkt.eth.dst = m;
            return Ok(());
        }
        self.container_nd(h, p, nh, answer, on_link);
        tr.step(|| Step::Nd {
            who_has: nh,
            is_at: answer,
            cached: false,
        });
        let Some(mac) = answer else {
            return Err(Disposition::NoRoute {
                node: self.hn(h).vfp.port_place(p),
                reason: format!("neighbour solicitation for {nh} got no answer"),
            });
        };
        self.hn_mut(h).stack.learn_neighbour(key.0, key.1, mac);
        pkt.eth.dst = mac;
        Ok(())
    }
}

impl World {
    /// Capture the NS (and the NA when `answer` is some) of a container resolving `target`.
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

/// An Ethernet + IPv6 + ICMPv6 Neighbor Solicitation (135) or Advertisement (136) frame with
/// one link-layer address option (1 = source, 2 = target) and a correct checksum.
#[allow(clippy::too_many_arguments)]
fn nd_frame(
    src_mac: Mac,
    dst_mac: Mac,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    icmp_type: u8,
    flags: u32,
    target: Ipv6Addr,
    option: u8,
    lladdr: Mac,
) -> Vec<u8> {
    const ICMP_LEN: usize = 4 + 4 + 16 + 8;
    let mut icmp = Vec::with_capacity(ICMP_LEN);
    icmp.extend_from_slice(&[icmp_type, 0, 0, 0]);
    icmp.extend_from_slice(&flags.to_be_bytes());
    icmp.extend_from_slice(&target.octets());
    icmp.extend_from_slice(&[option, 1]);
    icmp.extend_from_slice(&lladdr.0);
    // RFC 8200 §8.1 pseudo-header: source, destination, upper-layer length, next header 58.
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for w in b.chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(ICMP_LEN as u32).to_be_bytes());
    add(&[0, 0, 0, 58]);
    add(&icmp);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let ck = !(sum as u16);
    icmp[2..4].copy_from_slice(&ck.to_be_bytes());
    let mut f = Vec::with_capacity(14 + 40 + ICMP_LEN);
    f.extend_from_slice(&dst_mac.0);
    f.extend_from_slice(&src_mac.0);
    f.extend_from_slice(&0x86ddu16.to_be_bytes());
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&(ICMP_LEN as u16).to_be_bytes());
    // Next header ICMPv6, hop limit 255 (RFC 4861 §7.1: ND messages must carry 255).
    f.extend_from_slice(&[58, 255]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&icmp);
    f
}
