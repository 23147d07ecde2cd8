//! Fabric: the underlay's state — its segments (L2 broadcast domains with a prefix and an MTU),
//! what is attached to them (host uplinks, routers with their routes, stations), each node's
//! ARP cache, and the faults acting on them, kept as rules ([`FaultRule`]) the fabric consults
//! for every frame (turmoil-net style): nodes down, host uplinks down, partitions between two
//! nodes, seeded loss and added latency per segment. It answers whether a frame leaves its
//! sender ([`Fabric::send`]) and whether, and after how long, it reaches its receiver
//! ([`Fabric::carry`]), who owns an address or a MAC on a segment, and where a router
//! ([`Fabric::route`]) or a station ([`Fabric::station_route`]) sends a packet; the driver
//! (`world::fabric`) moves the frame, exchanges the ARP frames and captures them.
//!
//! Nodes are named by their index in the world; the fabric asks for a name only to write a drop.

use crate::fasthash::FastMap;
use crate::packet::{Packet, Payload};
use crate::route::RouteTable;
use crate::trace::Disposition;
use hnsim_model::Mac;
use ipnet::Ipv4Net;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Time a frame spends on a wire, besides the segment's configured latency (virtual ns).
pub const WIRE_NS: u64 = 1_000;

/// An underlay L2 segment (one broadcast domain with one IPv4 prefix).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSpec {
    pub name: String,
    pub prefix: Ipv4Net,
    /// Link MTU (IP bytes), typically 1500.
    pub mtu: u16,
}

/// A router interface on a segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterInterface {
    pub segment: String,
    pub ip: Ipv4Addr,
    pub mac: Mac,
}

/// A router joining segments. Connected prefixes are routed automatically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterSpec {
    pub name: String,
    pub interfaces: Vec<RouterInterface>,
    #[serde(default)]
    pub default_route: Option<Ipv4Addr>,
    /// Static routes (prefix, next hop), e.g. a pod subnet toward its node (host-gw / UDR).
    #[serde(default)]
    pub routes: Vec<(Ipv4Net, Ipv4Addr)>,
}

/// An external client or Internet host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationSpec {
    pub name: String,
    pub segment: String,
    pub ip: Ipv4Addr,
    pub mac: Mac,
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
}

/// What a node is to the fabric: its interfaces, and for routers and stations everything they
/// do (a host's own state is the world's; the fabric knows its uplink).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attachment {
    /// A Windows host's uplink on segment `seg`.
    Host { seg: usize, ip: Ipv4Addr, mac: Mac },
    /// A router and the segment of each interface.
    Router(RouterSpec, Vec<usize>),
    /// A station and its segment.
    Station(StationSpec, usize),
}

/// Where a router or a station sends a packet: out on segment `seg`, to `next_hop` (the
/// destination itself when on-link), by the route `prefix` (as traced).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub seg: usize,
    pub next_hop: Ipv4Addr,
    pub prefix: String,
    /// The sender's MAC on `seg`.
    pub src_mac: Mac,
}

/// How a router route leaves: on-link on interface `i`, or via a next hop.
#[derive(Copy, Clone, Debug)]
enum RouterVia {
    Connected(usize),
    Static(Ipv4Addr),
    Default(Ipv4Addr),
}

/// A fault as the fabric keeps it (node and segment indexes).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FaultRule {
    NodeDown(usize),
    NodeUp(usize),
    /// A host's uplink.
    LinkDown(usize),
    LinkUp(usize),
    /// Seeded loss in percent (0 clears it).
    Loss {
        segment: usize,
        percent: u8,
    },
    /// One-way latency added on a segment.
    Latency {
        segment: usize,
        ns: u64,
    },
    Partition(usize, usize),
    Heal(usize, usize),
}

#[derive(PartialEq, Eq)]
struct Segment {
    spec: SegmentSpec,
    loss: u8,
    latency: u64,
}

/// The underlay (see the module doc). Two fabrics are equal when their segments and every
/// fault rule are (`reach` compares states this way).
#[derive(Default, PartialEq, Eq)]
pub struct Fabric {
    segments: Vec<Segment>,
    by_name: BTreeMap<String, usize>,
    /// By node index.
    nodes: Vec<Attachment>,
    /// Each node's ARP cache, by node index (lookup only; never iterated).
    neigh: Vec<FastMap<Ipv4Addr, Mac>>,
    partitions: BTreeSet<(usize, usize)>,
    down: BTreeSet<usize>,
    link_down: BTreeSet<usize>,
}

fn pair(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

impl Fabric {
    /// Add a segment; `None` when the name is taken.
    pub fn add_segment(&mut self, spec: SegmentSpec) -> Option<usize> {
        if self.by_name.contains_key(&spec.name) {
            return None;
        }
        let i = self.segments.len();
        self.by_name.insert(spec.name.clone(), i);
        self.segments.push(Segment {
            spec,
            loss: 0,
            latency: 0,
        });
        Some(i)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    #[inline]
    pub fn spec(&self, seg: usize) -> &SegmentSpec {
        &self.segments[seg].spec
    }

    pub fn specs(&self) -> impl Iterator<Item = &SegmentSpec> {
        self.segments.iter().map(|s| &s.spec)
    }

    /// Attach the next node (its index is the number attached before it).
    pub fn attach(&mut self, a: Attachment) -> usize {
        self.nodes.push(a);
        self.neigh.push(FastMap::default());
        self.nodes.len() - 1
    }

    #[inline]
    pub fn attachment(&self, node: usize) -> &Attachment {
        &self.nodes[node]
    }

    /// A router's spec and interface segments, to change (new interfaces, static routes).
    pub fn router_mut(&mut self, node: usize) -> Option<(&mut RouterSpec, &mut Vec<usize>)> {
        match self.nodes.get_mut(node)? {
            Attachment::Router(spec, segs) => Some((spec, segs)),
            _ => None,
        }
    }

    /// A station's spec and segment.
    pub fn station(&self, node: usize) -> Option<(&StationSpec, usize)> {
        match self.nodes.get(node)? {
            Attachment::Station(spec, seg) => Some((spec, *seg)),
            _ => None,
        }
    }

    /// The address and MAC of `node` on segment `seg`.
    pub fn iface(&self, node: usize, seg: usize) -> Option<(Ipv4Addr, Mac)> {
        match &self.nodes[node] {
            Attachment::Host { seg: s, ip, mac } if *s == seg => Some((*ip, *mac)),
            Attachment::Router(spec, segs) => segs
                .iter()
                .position(|s| *s == seg)
                .map(|i| (spec.interfaces[i].ip, spec.interfaces[i].mac)),
            Attachment::Station(spec, s) if *s == seg => Some((spec.ip, spec.mac)),
            _ => None,
        }
    }

    /// Who answers ARP for `ip` on `seg`: the first node with that interface address, or a host
    /// whose Transparent endpoint holds it (`transparent(host)` asks the host's program).
    pub fn owner_of_ip(
        &self,
        seg: usize,
        ip: Ipv4Addr,
        transparent: impl Fn(usize) -> Option<Mac>,
    ) -> Option<(usize, Mac)> {
        for n in 0..self.nodes.len() {
            if let Some((a, m)) = self.iface(n, seg) {
                if a == ip {
                    return Some((n, m));
                }
            }
            if matches!(self.nodes[n], Attachment::Host { seg: s, .. } if s == seg) {
                if let Some(mac) = transparent(n) {
                    return Some((n, mac));
                }
            }
        }
        None
    }

    /// Who receives a frame for `mac` on `seg`: the node with that interface MAC, or a host
    /// whose Transparent endpoint has it (`transparent(host, mac)`).
    pub fn owner_of_mac(&self, seg: usize, mac: Mac, transparent: impl Fn(usize) -> bool) -> Option<usize> {
        (0..self.nodes.len()).find(|&n| {
            if self.iface(n, seg).is_some_and(|(_, m)| m == mac) {
                return true;
            }
            matches!(self.nodes[n], Attachment::Host { seg: s, .. } if s == seg) && transparent(n)
        })
    }

    /// `node`'s ARP cache entry for `ip`.
    #[inline]
    pub fn neighbour(&self, node: usize, ip: Ipv4Addr) -> Option<Mac> {
        self.neigh[node].get(&ip).copied()
    }

    pub fn learn_neighbour(&mut self, node: usize, ip: Ipv4Addr, mac: Mac) {
        self.neigh[node].insert(ip, mac);
    }

    /// Empty one node's ARP cache, or every node's (`None`).
    pub fn clear_neighbours(&mut self, node: Option<usize>) {
        match node {
            Some(n) => self.neigh[n].clear(),
            None => self.neigh.iter_mut().for_each(|c| c.clear()),
        }
    }

    /// Router `r` routes a packet for `dst`: the longest prefix over its connected segments,
    /// static routes and default route; among equal prefixes connected before static before
    /// default. A static route or default whose next hop is on none of the router's segments
    /// is unusable. `name` names the router in a drop.
    pub fn route(&self, r: usize, dst: Ipv4Addr, name: &str) -> Result<Hop, Disposition> {
        let Attachment::Router(spec, segs) = &self.nodes[r] else {
            return Err(Disposition::NoRoute {
                node: name.to_string(),
                reason: "not a router".into(),
            });
        };
        if spec.interfaces.iter().any(|i| i.ip == dst) {
            return Err(Disposition::NoListener {
                node: name.to_string(),
                reason: format!("router {dst} runs no services"),
            });
        }
        // In a `RouteTable` the later route wins among equal prefixes: push in reverse order.
        let seg_of = |ip: Ipv4Addr| segs.iter().copied().find(|s| self.spec(*s).prefix.contains(&ip));
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
            table.push((self.spec(s).prefix, (s, RouterVia::Connected(i))));
        }
        let Some(&(prefix, (seg, via))) = table.lookup(dst) else {
            return Err(Disposition::NoRoute {
                node: name.to_string(),
                reason: format!("no route to {dst}"),
            });
        };
        let (next_hop, prefix) = match via {
            RouterVia::Connected(i) => (dst, format!("{prefix} connected ({})", spec.interfaces[i].ip)),
            RouterVia::Static(nh) => (nh, prefix.to_string()),
            RouterVia::Default(gw) => (gw, "0.0.0.0/0".to_string()),
        };
        let src_mac = self.iface(r, seg).map(|x| x.1).unwrap_or_default();
        Ok(Hop {
            seg,
            next_hop,
            prefix,
            src_mac,
        })
    }

    /// Station `s` sends to `dst`: on-link, or via its gateway.
    pub fn station_route(&self, s: usize, dst: Ipv4Addr, name: &str) -> Result<Hop, Disposition> {
        let Some((spec, seg)) = self.station(s) else {
            return Err(Disposition::NoRoute {
                node: name.to_string(),
                reason: "not a station".into(),
            });
        };
        let (next_hop, prefix) = if self.spec(seg).prefix.contains(&dst) {
            (dst, "on-link")
        } else {
            match spec.gateway {
                Some(g) => (g, "0.0.0.0/0"),
                None => {
                    return Err(Disposition::NoRoute {
                        node: name.to_string(),
                        reason: format!("{dst} is off-link and the station has no gateway"),
                    })
                }
            }
        };
        Ok(Hop {
            seg,
            next_hop,
            prefix: prefix.to_string(),
            src_mac: spec.mac,
        })
    }

    /// Start or end a fault.
    pub fn apply(&mut self, rule: FaultRule) {
        match rule {
            FaultRule::NodeDown(n) => {
                self.down.insert(n);
            }
            FaultRule::NodeUp(n) => {
                self.down.remove(&n);
            }
            FaultRule::LinkDown(n) => {
                self.link_down.insert(n);
            }
            FaultRule::LinkUp(n) => {
                self.link_down.remove(&n);
            }
            FaultRule::Loss { segment, percent } => self.segments[segment].loss = percent.min(100),
            FaultRule::Latency { segment, ns } => self.segments[segment].latency = ns,
            FaultRule::Partition(a, b) => {
                self.partitions.insert(pair(a, b));
            }
            FaultRule::Heal(a, b) => {
                self.partitions.remove(&pair(a, b));
            }
        }
    }

    /// The node is up and (for a host) its uplink too.
    #[inline]
    fn up(&self, n: usize) -> bool {
        !self.down.contains(&n) && !self.link_down.contains(&n)
    }

    /// `a` and `b` can exchange frames directly (ARP asks this).
    pub fn reachable(&self, a: usize, b: usize) -> bool {
        self.up(a) && self.up(b) && !self.partitions.contains(&pair(a, b))
    }

    /// Node `from` puts a frame of `size` IP bytes (`df`: don't fragment) on `seg`: it leaves,
    /// or is dropped at the sender (down, uplink down, larger than the MTU with DF set).
    #[inline]
    pub fn send(
        &self,
        seg: usize,
        from: usize,
        size: u16,
        df: bool,
        name: impl Fn(usize) -> String,
    ) -> Result<(), Disposition> {
        if self.down.contains(&from) {
            return Err(Disposition::HostDown { node: name(from) });
        }
        if self.link_down.contains(&from) {
            return Err(Disposition::LinkDown { node: name(from) });
        }
        let mtu = self.segments[seg].spec.mtu;
        if size > mtu && df {
            return Err(Disposition::MtuExceeded {
                node: name(from),
                mtu,
                size,
            });
        }
        Ok(())
    }

    /// The frame `from` sent on `seg` travels to `to`: its delay on the wire, or the fault that
    /// stops it (receiver down, partition, seeded loss drawn from `rng`).
    #[inline]
    pub fn carry(
        &self,
        seg: usize,
        from: usize,
        to: usize,
        rng: &mut impl Rng,
        name: impl Fn(usize) -> String,
    ) -> Result<u64, Disposition> {
        if self.down.contains(&to) {
            return Err(Disposition::HostDown { node: name(to) });
        }
        if self.link_down.contains(&to) {
            return Err(Disposition::LinkDown { node: name(to) });
        }
        let s = &self.segments[seg];
        if self.partitions.contains(&pair(from, to)) {
            return Err(Disposition::Lost {
                segment: s.spec.name.clone(),
                reason: format!("partition between {} and {}", name(from), name(to)),
            });
        }
        if s.loss > 0 && rng.random_range(0..100u8) < s.loss {
            return Err(Disposition::Lost {
                segment: s.spec.name.clone(),
                reason: format!("seeded loss of {}%", s.loss),
            });
        }
        Ok(WIRE_NS + s.latency)
    }
}

/// A router forwards `pkt`: one less TTL (the outer header's while VXLAN-encapsulated), or
/// `TtlExceeded` when it runs out.
pub fn router_hop_ttl(pkt: &mut Packet, name: &str) -> Result<(), Disposition> {
    let ttl = match &mut pkt.outer {
        Some(o) => &mut o.ttl,
        None => match &mut pkt.payload {
            Payload::Ip { ip, .. } => &mut ip.ttl,
            Payload::Arp(_) => return Ok(()),
        },
    };
    if *ttl <= 1 {
        return Err(Disposition::TtlExceeded {
            node: name.to_string(),
        });
    }
    *ttl -= 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::ip_len;
    use crate::testframes::{ip, mac, tcp_syn};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const NAMES: [&str; 3] = ["node1", "node2", "r1"];

    fn name(n: usize) -> String {
        NAMES[n].to_string()
    }

    fn lan() -> Fabric {
        let mut f = Fabric::default();
        let spec = SegmentSpec {
            name: "lan".into(),
            prefix: "10.0.0.0/24".parse().unwrap(),
            mtu: 1500,
        };
        assert_eq!(f.add_segment(spec.clone()), Some(0));
        assert_eq!(f.add_segment(spec), None, "names are unique");
        f
    }

    /// One frame in (real bytes), one verdict out: sent, then carried after the wire time.
    #[test]
    fn a_frame_crosses_a_healthy_segment_after_the_wire_time_plus_latency() {
        let mut f = lan();
        let frame = tcp_syn(
            (mac("00-15-5D-00-00-11"), mac("00-15-5D-00-00-12")),
            (ip("10.0.0.11"), 40000),
            (ip("10.0.0.12"), 80),
            128,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(f.send(0, 0, ip_len(&frame), true, name), Ok(()));
        assert_eq!(f.carry(0, 0, 1, &mut rng, name), Ok(WIRE_NS));
        f.apply(FaultRule::Latency {
            segment: 0,
            ns: 5_000,
        });
        assert_eq!(f.carry(0, 0, 1, &mut rng, name), Ok(WIRE_NS + 5_000));
    }

    #[test]
    fn faults_are_rules_the_fabric_consults() {
        let mut f = lan();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        f.apply(FaultRule::Partition(1, 0));
        assert!(!f.reachable(0, 1));
        assert!(f.reachable(0, 2));
        match f.carry(0, 0, 1, &mut rng, name) {
            Err(Disposition::Lost { segment, reason }) => {
                assert_eq!(segment, "lan");
                assert_eq!(reason, "partition between node1 and node2");
            }
            other => panic!("expected Lost, got {other:?}"),
        }
        f.apply(FaultRule::Heal(0, 1));
        assert!(f.carry(0, 0, 1, &mut rng, name).is_ok());
        f.apply(FaultRule::LinkDown(1));
        assert_eq!(
            f.carry(0, 0, 1, &mut rng, name),
            Err(Disposition::LinkDown { node: "node2".into() })
        );
        assert_eq!(
            f.send(0, 1, 40, true, name),
            Err(Disposition::LinkDown { node: "node2".into() })
        );
        f.apply(FaultRule::LinkUp(1));
        f.apply(FaultRule::NodeDown(2));
        assert_eq!(
            f.carry(0, 0, 2, &mut rng, name),
            Err(Disposition::HostDown { node: "r1".into() })
        );
        f.apply(FaultRule::NodeUp(2));
        f.apply(FaultRule::Loss {
            segment: 0,
            percent: 200,
        });
        assert!(matches!(
            f.carry(0, 0, 1, &mut rng, name),
            Err(Disposition::Lost { reason, .. }) if reason == "seeded loss of 100%"
        ));
    }

    #[test]
    fn a_frame_over_the_mtu_with_df_stays_at_the_sender() {
        let f = lan();
        assert_eq!(
            f.send(0, 0, 1501, true, name),
            Err(Disposition::MtuExceeded {
                node: "node1".into(),
                mtu: 1500,
                size: 1501,
            })
        );
        assert_eq!(
            f.send(0, 0, 1501, false, name),
            Ok(()),
            "no DF: it passes (no fragmentation modelled)"
        );
    }

    /// Two segments joined by a router `r1` (node 2) with a static route and a default route;
    /// a host (node 0) and a station (node 1) on `lan`, a station (node 3) on `wan`.
    fn routed() -> Fabric {
        let mut f = lan();
        f.add_segment(SegmentSpec {
            name: "wan".into(),
            prefix: "192.0.2.0/24".parse().unwrap(),
            mtu: 1500,
        });
        f.attach(Attachment::Host {
            seg: 0,
            ip: ip("10.0.0.11"),
            mac: mac("00-15-5D-00-00-11"),
        });
        f.attach(Attachment::Station(
            StationSpec {
                name: "client".into(),
                segment: "lan".into(),
                ip: ip("10.0.0.50"),
                mac: mac("02-00-00-00-00-50"),
                gateway: Some(ip("10.0.0.1")),
            },
            0,
        ));
        let itf = |segment: &str, a: &str, m: &str| RouterInterface {
            segment: segment.into(),
            ip: ip(a),
            mac: mac(m),
        };
        f.attach(Attachment::Router(
            RouterSpec {
                name: "r1".into(),
                interfaces: vec![
                    itf("lan", "10.0.0.1", "02-00-00-00-00-01"),
                    itf("wan", "192.0.2.1", "02-00-00-00-02-01"),
                ],
                default_route: Some(ip("192.0.2.254")),
                routes: vec![
                    ("10.244.1.0/24".parse().unwrap(), ip("10.0.0.11")),
                    // Its next hop is on none of the router's segments: unusable.
                    ("10.244.9.0/24".parse().unwrap(), ip("172.16.0.1")),
                ],
            },
            vec![0, 1],
        ));
        f
    }

    /// The next hop of a real frame's destination, as the router picks it.
    fn route_of(f: &Fabric, dst: &str) -> Result<Hop, Disposition> {
        let frame = tcp_syn(
            (mac("02-00-00-00-00-50"), mac("02-00-00-00-00-01")),
            (ip("10.0.0.50"), 40000),
            (ip(dst), 80),
            64,
        );
        let d = crate::path::tuple_of(&frame)
            .and_then(|t| crate::path::v4(t.dst))
            .unwrap();
        f.route(2, d, "r1")
    }

    #[test]
    fn a_router_takes_the_longest_prefix_connected_then_static_then_default() {
        let f = routed();
        let hop = route_of(&f, "10.0.0.12").unwrap();
        assert_eq!(
            (hop.seg, hop.next_hop, hop.prefix.as_str(), hop.src_mac),
            (
                0,
                ip("10.0.0.12"),
                "10.0.0.0/24 connected (10.0.0.1)",
                mac("02-00-00-00-00-01")
            )
        );
        let hop = route_of(&f, "10.244.1.7").unwrap();
        assert_eq!(
            (hop.seg, hop.next_hop, hop.prefix.as_str()),
            (0, ip("10.0.0.11"), "10.244.1.0/24")
        );
        let hop = route_of(&f, "8.8.8.8").unwrap();
        assert_eq!(
            (hop.seg, hop.next_hop, hop.prefix.as_str(), hop.src_mac),
            (1, ip("192.0.2.254"), "0.0.0.0/0", mac("02-00-00-00-02-01"))
        );
        // The static route's next hop is unreachable, so the default route carries it.
        assert_eq!(route_of(&f, "10.244.9.1").unwrap().next_hop, ip("192.0.2.254"));
        assert_eq!(
            route_of(&f, "10.0.0.1"),
            Err(Disposition::NoListener {
                node: "r1".into(),
                reason: "router 10.0.0.1 runs no services".into(),
            })
        );
        assert!(
            matches!(f.route(1, ip("10.0.0.12"), "client"), Err(Disposition::NoRoute { reason, .. }) if reason == "not a router")
        );
    }

    #[test]
    fn a_router_without_a_default_drops_what_it_has_no_route_for() {
        let mut f = routed();
        f.router_mut(2).unwrap().0.default_route = None;
        assert_eq!(
            route_of(&f, "8.8.8.8"),
            Err(Disposition::NoRoute {
                node: "r1".into(),
                reason: "no route to 8.8.8.8".into(),
            })
        );
    }

    #[test]
    fn a_router_hop_takes_one_ttl_and_drops_the_last() {
        let mut frame = tcp_syn(
            (mac("02-00-00-00-00-50"), mac("02-00-00-00-00-01")),
            (ip("10.0.0.50"), 40000),
            (ip("8.8.8.8"), 80),
            2,
        );
        assert_eq!(router_hop_ttl(&mut frame, "r1"), Ok(()));
        assert!(matches!(frame.payload, Payload::Ip { ip, .. } if ip.ttl == 1));
        assert_eq!(
            router_hop_ttl(&mut frame, "r1"),
            Err(Disposition::TtlExceeded { node: "r1".into() })
        );
    }

    #[test]
    fn a_station_sends_on_link_or_to_its_gateway() {
        let f = routed();
        let hop = f.station_route(1, ip("10.0.0.11"), "client").unwrap();
        assert_eq!(
            (hop.seg, hop.next_hop, hop.prefix.as_str()),
            (0, ip("10.0.0.11"), "on-link")
        );
        let hop = f.station_route(1, ip("8.8.8.8"), "client").unwrap();
        assert_eq!(
            (hop.next_hop, hop.prefix.as_str(), hop.src_mac),
            (ip("10.0.0.1"), "0.0.0.0/0", mac("02-00-00-00-00-50"))
        );
    }

    #[test]
    fn owners_answer_for_their_addresses_and_macs_and_hosts_for_transparent_endpoints() {
        let mut f = routed();
        let none = |_: usize| None;
        assert_eq!(
            f.owner_of_ip(0, ip("10.0.0.1"), none),
            Some((2, mac("02-00-00-00-00-01")))
        );
        assert_eq!(
            f.owner_of_ip(1, ip("192.0.2.1"), none),
            Some((2, mac("02-00-00-00-02-01")))
        );
        assert_eq!(
            f.owner_of_ip(1, ip("10.0.0.1"), none),
            None,
            "an address on another segment"
        );
        let ep = mac("00-15-5D-00-00-77");
        let transparent = |n: usize| (n == 0).then_some(ep);
        assert_eq!(f.owner_of_ip(0, ip("10.0.0.77"), transparent), Some((0, ep)));
        assert_eq!(f.owner_of_mac(0, ep, |n| n == 0), Some(0));
        assert_eq!(f.owner_of_mac(0, mac("02-00-00-00-00-50"), |_| false), Some(1));
        assert_eq!(f.owner_of_mac(1, mac("02-00-00-00-00-50"), |_| false), None);
        // ARP caches are per node and cleared per node or all at once.
        f.learn_neighbour(1, ip("10.0.0.1"), mac("02-00-00-00-00-01"));
        f.learn_neighbour(2, ip("10.0.0.50"), mac("02-00-00-00-00-50"));
        f.clear_neighbours(Some(1));
        assert_eq!(f.neighbour(1, ip("10.0.0.1")), None);
        assert_eq!(f.neighbour(2, ip("10.0.0.50")), Some(mac("02-00-00-00-00-50")));
        f.clear_neighbours(None);
        assert_eq!(f.neighbour(2, ip("10.0.0.50")), None);
    }
}
