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
//! Neighbor Solicitation / Advertisement frames in the port's capture (`World::container_nd`).
//!
//! The answer is cached per compartment (namespace, else the endpoint), so established flows
//! take one hash probe and never ARP again. Caches are cleared when the host's HNS state is
//! recompiled and on faults (an endpoint or its MAC may have changed).

//!
//! The component: [`Neigh`] reads one host's compiled program, its stack's compartment caches
//! and the host MAC, and answers a frame leaving a port with a [`NeighAction`]; the driver
//! (`world::neigh`) captures the ARP / ND frames, traces and learns the answer.

use crate::host_stack::HostStack;
use crate::vfp::program::NetKind;
use crate::vfp::Vfp;
use hnsim_model::{Guid, Mac};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The distributed-router MAC of an overlay network without a `DrMacAddress` policy: derived
/// from the network ID under the Hyper-V OUI 00-15-5D (inferred; real HNS generates one and
/// publishes it as `DrMacAddress`).
pub(crate) fn derived_dr_mac(network: Guid) -> Mac {
    let b = network.0.to_be_bytes();
    Mac([0x00, 0x15, 0x5d, b[13], b[14], b[15]])
}

/// What a container compartment does with a frame before it reaches the port.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum NeighAction {
    /// Not IP: nothing to resolve.
    Pass,
    /// The compartment's cache knows the next hop `nh`: the frame goes to `mac`.
    Cached { nh: IpAddr, mac: Mac },
    /// Ask for `nh` on the port (a real ARP request or Neighbor Solicitation); `answer` is the
    /// MAC that answers, if anyone does. `on_link`: `nh` is the destination itself.
    Ask {
        nh: IpAddr,
        compartment: Guid,
        on_link: bool,
        answer: Option<Mac>,
    },
    /// The compartment has no route to the destination (for IPv6: no `::/0` next hop).
    NoRoute { v6: bool },
}

/// One host's container neighbour resolution (see the module doc).
pub(crate) struct Neigh<'a> {
    pub vfp: &'a Vfp,
    pub stack: &'a HostStack,
    /// The host vNIC MAC: VFP's ARP proxy answers with it where the gateway lives on the host.
    pub host_mac: Mac,
}

impl Neigh<'_> {
    /// A frame to `dst` leaves port `p`. `underlay(ip)` is who answers ARP for `ip` on the
    /// host's segment (Transparent networks sit on the underlay); it is asked only then.
    #[inline]
    pub fn resolve(
        &self,
        p: u32,
        dst: Option<IpAddr>,
        underlay: impl FnOnce(Ipv4Addr) -> Option<Mac>,
    ) -> NeighAction {
        let prog = self.vfp.program();
        let pp = &prog.ports[p as usize];
        let compartment = pp.namespace.unwrap_or(pp.endpoint);
        let (nh, on_link) = match dst {
            None => return NeighAction::Pass,
            Some(IpAddr::V4(d)) => match self.next_hop(p, d) {
                Some((nh, on_link)) => (IpAddr::V4(nh), on_link),
                None => return NeighAction::NoRoute { v6: false },
            },
            Some(IpAddr::V6(d)) => {
                if prog.networks[pp.network].contains6(d) {
                    (IpAddr::V6(d), true)
                } else {
                    match pp.gateway6 {
                        Some(g) => (IpAddr::V6(g), false),
                        None => return NeighAction::NoRoute { v6: true },
                    }
                }
            }
        };
        if let Some(mac) = self.stack.neighbour(compartment, nh) {
            return NeighAction::Cached { nh, mac };
        }
        let answer = match nh {
            IpAddr::V4(nh) => self.arp_answer(p, nh, on_link, underlay),
            IpAddr::V6(nh) => self.nd_answer(p, nh, on_link),
        };
        NeighAction::Ask {
            nh,
            compartment,
            on_link,
            answer,
        }
    }

    /// The next hop of `dst` in port `p`'s compartment: `dst` itself when on-link, else the
    /// longest matching endpoint route, else the default gateway. A next hop of 0.0.0.0 means
    /// on-link (`GwEp`-style routes, consumers.md §3.1).
    #[inline]
    fn next_hop(&self, p: u32, dst: Ipv4Addr) -> Option<(Ipv4Addr, bool)> {
        let prog = self.vfp.program();
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
    #[cold]
    fn arp_answer(
        &self,
        p: u32,
        nh: Ipv4Addr,
        on_link: bool,
        underlay: impl FnOnce(Ipv4Addr) -> Option<Mac>,
    ) -> Option<Mac> {
        let prog = self.vfp.program();
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
            NetKind::Transparent => underlay(nh),
            NetKind::Overlay => Some(net.dr_mac.unwrap_or_else(|| derived_dr_mac(net.id))),
            NetKind::L2Bridge | NetKind::L2Tunnel => Some(self.host_mac),
            NetKind::Nat | NetKind::Ics | NetKind::Internal if !on_link => Some(self.host_mac),
            // The host vNIC holds the gateway address of these networks.
            NetKind::Nat | NetKind::Ics | NetKind::Internal if self.vfp.is_host_addr(IpAddr::V4(nh)) => {
                Some(self.host_mac)
            }
            _ => None,
        }
    }

    /// Who answers a Neighbor Solicitation for `nh`: a local endpoint for its own address; VFP
    /// for the gateway with the host vNIC MAC (L2Bridge; other network types refuse IPv6 in the
    /// route layer, consumers.md P14).
    fn nd_answer(&self, p: u32, nh: Ipv6Addr, on_link: bool) -> Option<Mac> {
        let prog = self.vfp.program();
        let pp = &prog.ports[p as usize];
        match prog.port_by_ip6.get(&nh) {
            Some(&q) if prog.ports[q as usize].network == pp.network => Some(prog.ports[q as usize].mac),
            _ if !on_link || prog.networks[pp.network].kind == NetKind::L2Bridge => Some(self.host_mac),
            _ => None,
        }
    }
}

/// An Ethernet + IPv6 + ICMPv6 Neighbor Solicitation (135) or Advertisement (136) frame with
/// one link-layer address option (1 = source, 2 = target) and a correct checksum.
#[allow(clippy::too_many_arguments)]
pub(crate) fn nd_frame(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Payload;
    use crate::settings::DataplaneSettings;
    use crate::testframes::{ip, mac, tcp_syn};
    use hnsim_model::schema::{Endpoint, Network};
    use hnsim_model::state::{Hns, HostSettings};
    use serde_json::json;

    const HOST_MAC: &str = "00-15-5D-00-00-11";
    const A_MAC: &str = "0E-2A-0A-F4-01-0A";
    const B_MAC: &str = "0E-2A-0A-F4-01-0B";

    /// node1's VFP with an Overlay network 10.244.1.0/24 (gateway 10.244.1.1, no
    /// `DrMacAddress`), pods A (10.244.1.10) and B (10.244.1.11); the network's id and A's port.
    fn host() -> (Vfp, Guid, u32) {
        let mut hns = Hns::new(HostSettings::default(), 7);
        let net: Network = serde_json::from_value(json!({"Name": "vxlan0", "Type": "Overlay",
            "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
                "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}],
                "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}],
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}]}))
        .unwrap();
        let net = hns.network_create(Guid::ZERO, net).expect("network");
        let mut endpoint = |addr: &str, m: &str| {
            let ep: Endpoint = serde_json::from_value(json!({"HostComputeNetwork": net.to_string(),
                "IpConfigurations": [{"IpAddress": addr}], "MacAddress": m}))
            .unwrap();
            hns.endpoint_create(Guid::ZERO, ep).expect("endpoint")
        };
        let a = endpoint("10.244.1.10", A_MAC);
        endpoint("10.244.1.11", B_MAC);
        let mut vfp = Vfp::new(ip("10.0.0.11"), mac(HOST_MAC), DataplaneSettings::default());
        vfp.compile(&hns, 1500);
        let port = vfp.program().port_by_ep[&a];
        (vfp, net, port)
    }

    /// The destination of a real frame A sends.
    fn dst_of(to: &str) -> Option<IpAddr> {
        let frame = tcp_syn(
            (mac(A_MAC), Mac::default()),
            (ip("10.244.1.10"), 40000),
            (ip(to), 80),
            128,
        );
        match frame.payload {
            Payload::Ip { ip, .. } => Some(ip.dst),
            Payload::Arp(_) => None,
        }
    }

    fn no_underlay(_: Ipv4Addr) -> Option<Mac> {
        panic!("an Overlay network never asks the underlay")
    }

    #[test]
    fn an_on_link_peer_answers_for_itself_then_the_cache_does() {
        let (vfp, _, a) = host();
        let mut stack = HostStack::new(true);
        let neigh = Neigh {
            vfp: &vfp,
            stack: &stack,
            host_mac: mac(HOST_MAC),
        };
        let action = neigh.resolve(a, dst_of("10.244.1.11"), no_underlay);
        let NeighAction::Ask {
            nh,
            compartment,
            on_link: true,
            answer: Some(m),
        } = action
        else {
            panic!("expected an answered ARP, got {action:?}");
        };
        assert_eq!((nh, m), (IpAddr::V4(ip("10.244.1.11")), mac(B_MAC)));
        stack.learn_neighbour(compartment, nh, m);
        let neigh = Neigh {
            vfp: &vfp,
            stack: &stack,
            host_mac: mac(HOST_MAC),
        };
        assert_eq!(
            neigh.resolve(a, dst_of("10.244.1.11"), no_underlay),
            NeighAction::Cached { nh, mac: m }
        );
    }

    #[test]
    fn off_link_goes_to_the_gateway_and_vfp_answers_with_the_distributed_router_mac() {
        let (vfp, net, a) = host();
        let stack = HostStack::new(true);
        let neigh = Neigh {
            vfp: &vfp,
            stack: &stack,
            host_mac: mac(HOST_MAC),
        };
        assert_eq!(
            neigh.resolve(a, dst_of("8.8.8.8"), no_underlay),
            NeighAction::Ask {
                nh: IpAddr::V4(ip("10.244.1.1")),
                compartment: vfp.program().ports[a as usize].endpoint,
                on_link: false,
                answer: Some(derived_dr_mac(net)),
            }
        );
        assert_eq!(derived_dr_mac(net).0[..3], [0x00, 0x15, 0x5d]);
    }

    #[test]
    fn arp_frames_pass_and_ipv6_without_a_route_has_none() {
        let (vfp, _, a) = host();
        let stack = HostStack::new(true);
        let neigh = Neigh {
            vfp: &vfp,
            stack: &stack,
            host_mac: mac(HOST_MAC),
        };
        assert_eq!(neigh.resolve(a, None, no_underlay), NeighAction::Pass);
        assert_eq!(
            neigh.resolve(a, Some("fd00::1".parse().unwrap()), no_underlay),
            NeighAction::NoRoute { v6: true }
        );
    }
}
