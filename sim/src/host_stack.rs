//! HostStack: the state of a Windows host's TCP/IP stack — the default compartment's IPv4 and
//! IPv6 route tables, the container compartments' neighbour caches, and whether the host
//! forwards — and its per-packet decision ([`HostStack::accept`]: deliver, forward, or drop).
//! It knows nothing of VFP or the underlay; the driver (`world::host`) routes its actions.

use crate::fasthash::FastMap;
use crate::packet::{Packet, Payload};
use crate::path::{tuple_of, v4};
use crate::route::{Route, RouteTable};
use crate::trace::Disposition;
use hnsim_model::{Guid, Mac};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the host stack does with a packet it receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackAction {
    /// Addressed to the host: deliver to its sockets.
    Deliver,
    /// Not the host's: route it toward `dst` (TTL already decremented when forwarded).
    Forward {
        dst: Ipv4Addr,
    },
    Drop(Disposition),
}

/// How a host route leaves: the uplink (optional next hop) or into a network's vSwitch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    Uplink(Option<Ipv4Addr>),
    Switch(usize),
}

/// An IPv4 route of the default compartment: the OS's, or one HNS adds (`compile`);
/// `origin` names it in traces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostRoute {
    pub prefix: Ipv4Net,
    pub via: Via,
    pub origin: &'static str,
}

impl Route for HostRoute {
    type Net = Ipv4Net;
    fn prefix(&self) -> Ipv4Net {
        self.prefix
    }
}

/// One host's TCP/IP stack (see the module doc).
#[derive(Clone, Debug)]
pub struct HostStack {
    /// The default compartment's IPv4 routes: see [`HostStack::rebuild_routes`].
    routes: RouteTable<HostRoute>,
    /// IPv6 routes (prefix, IPv4 address of the next-hop node): `World::set_host_routes6`.
    routes6: RouteTable<(Ipv6Net, Ipv4Addr)>,
    /// Container compartments' neighbour caches: (compartment, next hop) → MAC (`neigh`).
    neighbours: FastMap<(Guid, IpAddr), Mac>,
    /// Packets not addressed to the host are forwarded (`DataplaneSettings::ip_forwarding`).
    forwarding: bool,
}

impl HostStack {
    pub fn new(forwarding: bool) -> HostStack {
        HostStack {
            routes: RouteTable::new(),
            routes6: RouteTable::new(),
            neighbours: FastMap::default(),
            forwarding,
        }
    }

    /// Rebuild the default compartment's route table from its sources: the connected underlay
    /// prefix, the default gateway, the extra OS routes and the routes HNS adds (host vNICs,
    /// host-attached endpoints, `HostRoute`). They rank in that order when two have a prefix
    /// of the same length, so they are pushed in reverse (in a [`RouteTable`] the later wins).
    pub fn rebuild_routes(
        &mut self,
        hns_routes: &[HostRoute],
        os_routes: &[(Ipv4Net, Ipv4Addr)],
        gateway: Option<Ipv4Addr>,
        connected: Ipv4Net,
    ) {
        let mut t = RouteTable::new();
        for r in hns_routes.iter().rev() {
            t.push(r.clone());
        }
        for (prefix, nh) in os_routes.iter().rev() {
            t.push(HostRoute {
                prefix: *prefix,
                via: Via::Uplink(Some(*nh)),
                origin: "OS route",
            });
        }
        if let Some(gw) = gateway {
            t.push(HostRoute {
                prefix: Ipv4Net::default(),
                via: Via::Uplink(Some(gw)),
                origin: "default gateway",
            });
        }
        t.push(HostRoute {
            prefix: connected,
            via: Via::Uplink(None),
            origin: "connected",
        });
        self.routes = t;
    }

    pub fn set_forwarding(&mut self, on: bool) {
        self.forwarding = on;
    }

    pub fn set_routes6(&mut self, routes: Vec<(Ipv6Net, Ipv4Addr)>) {
        self.routes6 = routes.into_iter().collect();
    }

    /// Every route's prefix and next hop (IPv4 and IPv6; `None`: on-link or into a vSwitch),
    /// for `reach`'s address atoms.
    pub fn prefixes(&self) -> impl Iterator<Item = (IpNet, Option<IpAddr>)> + '_ {
        let v4 = self.routes.iter().map(|r| {
            let nh = match r.via {
                Via::Uplink(nh) => nh.map(IpAddr::V4),
                Via::Switch(_) => None,
            };
            (IpNet::V4(r.prefix), nh)
        });
        let v6 = (self.routes6.iter()).map(|(p, nh)| (IpNet::V6(*p), Some(IpAddr::V4(*nh))));
        v4.chain(v6)
    }

    /// Longest-prefix match over the default compartment's IPv4 routes.
    #[inline]
    pub fn route(&self, d: Ipv4Addr) -> Option<(Via, Ipv4Net, &'static str)> {
        self.routes.lookup(d).map(|r| (r.via, r.prefix, r.origin))
    }

    /// Longest-prefix match over the IPv6 routes (prefix, IPv4 address of the next-hop node).
    #[inline]
    pub fn route6(&self, d: Ipv6Addr) -> Option<(Ipv6Net, Ipv4Addr)> {
        self.routes6.lookup(d).copied()
    }

    /// A compartment's cached neighbour.
    #[inline]
    pub fn neighbour(&self, compartment: Guid, ip: IpAddr) -> Option<Mac> {
        self.neighbours.get(&(compartment, ip)).copied()
    }

    pub fn learn_neighbour(&mut self, compartment: Guid, ip: IpAddr, mac: Mac) {
        self.neighbours.insert((compartment, ip), mac);
    }

    /// Endpoints or their MACs may have changed (recompile, fault): compartments resolve again.
    pub fn clear_neighbours(&mut self) {
        self.neighbours.clear();
    }

    /// The stack receives `pkt` (`local`: its destination is one of the host's addresses;
    /// `origin`: the host sends it itself): deliver it, or forward it with its TTL decremented,
    /// or drop it. `node` names the host in a drop.
    pub fn accept(&self, pkt: &mut Packet, local: bool, origin: bool, node: &str) -> StackAction {
        let Some(t) = tuple_of(pkt) else {
            return StackAction::Drop(Disposition::Unsupported {
                node: node.to_string(),
                what: "non-IP packet in the host stack".into(),
            });
        };
        if local {
            return StackAction::Deliver;
        }
        let Some(d) = v4(t.dst) else {
            return StackAction::Drop(Disposition::Unsupported {
                node: node.to_string(),
                what: "IPv6 is not modelled".into(),
            });
        };
        if !origin {
            if !self.forwarding {
                return StackAction::Drop(Disposition::NoRoute {
                    node: node.to_string(),
                    reason: format!("{d} is not a host address and IP forwarding is off"),
                });
            }
            if let Payload::Ip { ip, .. } = &mut pkt.payload {
                if ip.ttl <= 1 {
                    return StackAction::Drop(Disposition::TtlExceeded {
                        node: node.to_string(),
                    });
                }
                ip.ttl -= 1;
            }
        }
        StackAction::Forward { dst: d }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testframes::{ip, mac, tcp_syn};

    fn stack(forwarding: bool) -> HostStack {
        let mut s = HostStack::new(forwarding);
        s.rebuild_routes(&[], &[], Some(ip("10.0.0.1")), "10.0.0.0/24".parse().unwrap());
        s
    }

    fn frame(dst: &str, ttl: u8) -> Packet {
        let macs = (mac("00-00-5E-00-01-01"), mac("00-15-5D-00-00-11"));
        tcp_syn(macs, (ip("203.0.113.50"), 40000), (ip(dst), 80), ttl)
    }

    #[test]
    fn a_packet_for_the_host_is_delivered_unchanged() {
        let mut pkt = frame("10.0.0.11", 1);
        let before = pkt;
        assert_eq!(
            stack(false).accept(&mut pkt, true, false, "node1"),
            StackAction::Deliver
        );
        assert_eq!(pkt, before);
    }

    #[test]
    fn a_forwarded_packet_loses_one_ttl_and_dies_at_one() {
        let s = stack(true);
        let mut pkt = frame("10.244.2.10", 64);
        assert_eq!(
            s.accept(&mut pkt, false, false, "node1"),
            StackAction::Forward {
                dst: ip("10.244.2.10")
            }
        );
        let Payload::Ip { ip: h, .. } = pkt.payload else {
            panic!("IP")
        };
        assert_eq!(h.ttl, 63);
        // The frame the host sends on is still valid on the wire (the encoder fixes checksums).
        assert_eq!(crate::testframes::through_wire(pkt), pkt);
        let mut pkt = frame("10.244.2.10", 1);
        assert_eq!(
            s.accept(&mut pkt, false, false, "node1"),
            StackAction::Drop(Disposition::TtlExceeded { node: "node1".into() })
        );
        // What the host sends itself is routed without a TTL change.
        let mut pkt = frame("10.244.2.10", 1);
        assert_eq!(
            s.accept(&mut pkt, false, true, "node1"),
            StackAction::Forward {
                dst: ip("10.244.2.10")
            }
        );
    }

    #[test]
    fn without_forwarding_a_transit_packet_is_dropped() {
        let mut pkt = frame("10.244.2.10", 64);
        match stack(false).accept(&mut pkt, false, false, "node1") {
            StackAction::Drop(Disposition::NoRoute { node, reason }) => {
                assert_eq!(node, "node1");
                assert!(reason.contains("IP forwarding is off"), "{reason}");
            }
            other => panic!("expected NoRoute, got {other:?}"),
        }
    }

    #[test]
    fn routes_and_neighbours() {
        let mut s = stack(true);
        assert_eq!(s.route(ip("8.8.8.8")).map(|r| r.2), Some("default gateway"));
        assert_eq!(s.route(ip("10.0.0.99")).map(|r| r.0), Some(Via::Uplink(None)));
        s.set_routes6(vec![("fd00:2::/64".parse().unwrap(), ip("10.0.0.12"))]);
        assert_eq!(
            s.route6("fd00:2::5".parse().unwrap()).map(|r| r.1),
            Some(ip("10.0.0.12"))
        );
        assert_eq!(s.route6("fd00:3::5".parse().unwrap()), None);
        let c = Guid(7);
        let nh = IpAddr::V4(ip("10.244.1.1"));
        assert_eq!(s.neighbour(c, nh), None);
        s.learn_neighbour(c, nh, mac("00-15-5D-00-00-11"));
        assert_eq!(s.neighbour(c, nh), Some(mac("00-15-5D-00-00-11")));
        assert_eq!(s.neighbour(Guid(8), nh), None, "caches are per compartment");
        s.clear_neighbours();
        assert_eq!(s.neighbour(c, nh), None);
    }
}
