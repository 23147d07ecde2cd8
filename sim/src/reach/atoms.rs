//! Destination-address atoms: the address space cut at every prefix and address anything on a
//! packet's way matches on (SDN routes, remote subnet routes, endpoint and host routes, router
//! routes, segments, network subnets, OutBoundNAT exceptions and destinations, ACL addresses)
//! and at every address something holds or names (endpoints, remote endpoints, VIPs, hosts,
//! stations, router interfaces, gateways and next hops, provider addresses). Between two cuts
//! every rule treats addresses alike, so one witness address per atom stands for the whole
//! atom, as one port stands for a port class.
//!
//! Only the cuts are stored and sorted, so the cost grows with the number of distinct
//! boundaries, never with the size of the address space. The prefixes are CIDR blocks (any two
//! are nested or apart), which lets one ordered walk name each atom by the narrowest prefix
//! holding it.

use crate::world::{NodeKind, World};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address family's index and an address as a number in it.
fn num(a: IpAddr) -> (u8, u128) {
    match a {
        IpAddr::V4(a) => (0, u128::from(u32::from(a))),
        IpAddr::V6(a) => (1, u128::from(a)),
    }
}

fn addr(fam: u8, n: u128) -> IpAddr {
    match fam {
        0 => IpAddr::V4(Ipv4Addr::from(n as u32)),
        _ => IpAddr::V6(Ipv6Addr::from(n)),
    }
}

fn last(fam: u8) -> u128 {
    match fam {
        0 => u128::from(u32::MAX),
        _ => u128::MAX,
    }
}

fn bits(fam: u8) -> u32 {
    match fam {
        0 => 32,
        _ => 128,
    }
}

/// An inclusive address range of one family.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub lo: IpAddr,
    pub hi: IpAddr,
}

impl Span {
    pub fn contains(&self, a: IpAddr) -> bool {
        let ((f, lo), (_, hi), (fa, x)) = (num(self.lo), num(self.hi), num(a));
        f == fa && lo <= x && x <= hi
    }

    /// How many addresses besides the first (`hi - lo`).
    pub fn width(&self) -> u128 {
        num(self.hi).1 - num(self.lo).1
    }

    /// The address `off` after the first (`off` ≤ [`Span::width`]).
    pub fn nth(&self, off: u128) -> IpAddr {
        let (f, lo) = num(self.lo);
        addr(f, lo + off.min(self.width()))
    }

    /// The one CIDR block this span is, if it is one.
    pub fn cidr(&self) -> Option<IpNet> {
        let ((f, lo), (_, hi)) = (num(self.lo), num(self.hi));
        let size = (hi - lo).checked_add(1);
        let host_bits = match size {
            None => bits(f), // the whole IPv6 space
            Some(s) if s.is_power_of_two() => s.trailing_zeros(),
            Some(_) => return None,
        };
        if host_bits < 128 && lo & ((1u128 << host_bits) - 1) != 0 {
            return None;
        }
        let len = (bits(f) - host_bits) as u8;
        match self.lo {
            IpAddr::V4(a) => Ipv4Net::new(a, len).ok().map(IpNet::V4),
            IpAddr::V6(a) => Ipv6Net::new(a, len).ok().map(IpNet::V6),
        }
    }

    fn of_net(n: IpNet) -> Span {
        Span {
            lo: n.network(),
            hi: n.broadcast(),
        }
    }
}

/// `10.244.2.5`, `10.244.2.0/24` (one CIDR block) or `10.244.3.0-10.244.255.255`.
impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            return write!(f, "{}", self.lo);
        }
        match self.cidr() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "{}-{}", self.lo, self.hi),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The cuts of the address space (see the module doc) and what made each prefix and address
/// one, to name atoms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrSplit {
    /// Per family (IPv4, IPv6), the first address of every atom; empty for a family nothing
    /// in the world uses.
    starts: [BTreeSet<u128>; 2],
    /// Every prefix and address → what it is.
    what: BTreeMap<Block, Kinds>,
}

/// A prefix or address: (family, first, last).
type Block = (u8, u128, u128);
/// What made a block one (`segment`, `OutBoundNAT exception`, …).
type Kinds = BTreeSet<&'static str>;

impl AddrSplit {
    fn add(&mut self, fam: u8, lo: u128, hi: u128, kind: &'static str) {
        let s = &mut self.starts[fam as usize];
        s.insert(0);
        s.insert(lo);
        if hi < last(fam) {
            s.insert(hi + 1);
        }
        self.what.entry((fam, lo, hi)).or_default().insert(kind);
    }

    /// Cut at both ends of a prefix.
    pub fn add_net(&mut self, n: IpNet, kind: &'static str) {
        let s = Span::of_net(n);
        let ((f, lo), (_, hi)) = (num(s.lo), num(s.hi));
        self.add(f, lo, hi, kind);
    }

    /// Cut at both ends of a prefix that is no rule's (a `--to` prefix): atoms end there.
    pub fn cut(&mut self, n: IpNet) {
        let s = Span::of_net(n);
        let ((f, lo), (_, hi)) = (num(s.lo), num(s.hi));
        let starts = &mut self.starts[f as usize];
        starts.extend([0, lo]);
        if hi < last(f) {
            starts.insert(hi + 1);
        }
    }

    /// Make one address an atom of its own.
    pub fn add_addr(&mut self, a: IpAddr, kind: &'static str) {
        let (f, n) = num(a);
        self.add(f, n, n, kind);
    }

    /// Cut along every boundary of `other` too (both sides of a diff probe the same atoms).
    pub fn merge(&mut self, other: &AddrSplit) {
        for (mine, theirs) in self.starts.iter_mut().zip(&other.starts) {
            mine.extend(theirs.iter().copied());
        }
        for (k, v) in &other.what {
            self.what.entry(*k).or_default().extend(v.iter().copied());
        }
    }

    /// How many atoms there are.
    pub fn len(&self) -> usize {
        self.starts.iter().map(BTreeSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every atom that is not one of the `named` addresses (they are destinations already;
    /// each must have been added with [`AddrSplit::add_addr`]), with a label: what the
    /// narrowest prefix or address holding it is (`unassigned, in 10.244.0.0/16: OutBoundNAT
    /// exception, route`), in address order.
    pub fn atoms(&self, named: &BTreeSet<IpAddr>) -> Vec<(Span, String)> {
        // Prefixes by first address, widest first: a walk keeps the ones holding the current
        // atom on a stack, the narrowest on top (CIDR blocks nest or are apart).
        let mut nets: Vec<(&Block, &Kinds)> = self.what.iter().collect();
        nets.sort_by_key(|((f, lo, hi), _)| (*f, *lo, std::cmp::Reverse(*hi)));
        let mut next = 0;
        let mut open: Vec<(u8, u128, u128, &Kinds)> = Vec::new();
        let mut out = Vec::new();
        for (fam, starts) in (0u8..).zip(&self.starts) {
            let mut it = starts.iter().copied().peekable();
            while let Some(lo) = it.next() {
                let hi = it.peek().map(|n| n - 1).unwrap_or(last(fam));
                while let Some(&(&(f, a, b), kinds)) = nets.get(next) {
                    if (f, a) > (fam, lo) {
                        break;
                    }
                    open.push((f, a, b, kinds));
                    next += 1;
                }
                while open.last().is_some_and(|&(f, _, b, _)| f != fam || b < lo) {
                    open.pop();
                }
                let span = Span {
                    lo: addr(fam, lo),
                    hi: addr(fam, hi),
                };
                if lo == hi && named.contains(&span.lo) {
                    continue;
                }
                let label = match open.last() {
                    None => "unassigned, outside every prefix".to_string(),
                    Some(&(_, a, b, kinds)) => {
                        let kinds = kinds.iter().copied().collect::<Vec<_>>().join(", ");
                        if (a, b) == (lo, hi) && a == b {
                            kinds
                        } else if (a, b) == (lo, hi) {
                            format!("unassigned: {kinds}")
                        } else {
                            let p = Span {
                                lo: addr(fam, a),
                                hi: addr(fam, b),
                            };
                            format!("unassigned, in {p}: {kinds}")
                        }
                    }
                };
                out.push((span, label));
            }
        }
        out
    }

    /// The cuts of everything a world's packets can be matched on by address (module doc).
    pub fn of(w: &World) -> AddrSplit {
        let mut s = AddrSplit::default();
        let v4 = |a: &Ipv4Addr| IpAddr::V4(*a);
        for seg in w.fabric().specs() {
            s.add_net(IpNet::V4(seg.prefix), "segment");
        }
        for n in w.nodes() {
            match n.kind {
                NodeKind::Router(r, _) => {
                    for i in &r.interfaces {
                        s.add_addr(v4(&i.ip), "router interface");
                    }
                    for (p, nh) in &r.routes {
                        s.add_net(IpNet::V4(*p), "router route");
                        s.add_addr(v4(nh), "next hop");
                    }
                    if let Some(gw) = &r.default_route {
                        s.add_addr(v4(gw), "next hop");
                    }
                }
                NodeKind::Station(st, _) => {
                    s.add_addr(v4(&st.ip), "station");
                    if let Some(gw) = &st.gateway {
                        s.add_addr(v4(gw), "gateway");
                    }
                }
                NodeKind::Host(h) => {
                    s.add_addr(v4(&h.spec.ip), "host");
                    for (net, nh) in h.stack.prefixes() {
                        s.add_net(net, "host route");
                        if let Some(nh) = nh {
                            s.add_addr(nh, "next hop");
                        }
                    }
                    let prog = h.vfp.program();
                    for a in &prog.host_addrs {
                        s.add_addr(v4(a), "host address");
                    }
                    for r in &prog.host_routes {
                        s.add_net(IpNet::V4(r.prefix), "host route");
                    }
                    for net in &prog.networks {
                        for (p, gw) in &net.subnets {
                            s.add_net(IpNet::V4(*p), "network subnet");
                            if let Some(gw) = gw {
                                s.add_addr(v4(gw), "gateway");
                            }
                        }
                        for (p, gw) in &net.subnets6 {
                            s.add_net(IpNet::V6(*p), "network subnet");
                            if let Some(gw) = gw {
                                s.add_addr(IpAddr::V6(*gw), "gateway");
                            }
                        }
                        for r in &net.remote_subnets {
                            s.add_net(IpNet::V4(r.prefix), "remote subnet route");
                            s.add_addr(v4(&r.pa), "provider address");
                        }
                    }
                    for p in &prog.ports {
                        s.add_addr(v4(&p.ip), "endpoint");
                        if let Some(a) = p.ip6 {
                            s.add_addr(IpAddr::V6(a), "endpoint");
                        }
                        if let Some(gw) = &p.gateway {
                            s.add_addr(v4(gw), "gateway");
                        }
                        if let Some(pa) = &p.provider_address {
                            s.add_addr(v4(pa), "provider address");
                        }
                        if let Some(gw) = p.gateway6 {
                            s.add_addr(IpAddr::V6(gw), "gateway");
                        }
                        for (net, nh) in &p.routes {
                            s.add_net(IpNet::V4(*net), "endpoint route");
                            s.add_addr(v4(nh), "next hop");
                        }
                        for r in &p.sdn_routes {
                            s.add_net(IpNet::V4(r.prefix), "SDN route");
                            if let Some(nh) = &r.next_hop {
                                s.add_addr(v4(nh), "next hop");
                            }
                        }
                        for o in &p.outbound_nat {
                            for e in &o.exceptions {
                                s.add_net(IpNet::V4(*e), "OutBoundNAT exception");
                            }
                            for d in &o.destinations {
                                s.add_net(IpNet::V4(*d), "OutBoundNAT destination");
                            }
                            if let Some(v) = &o.virtual_ip {
                                s.add_addr(v4(v), "OutBoundNAT VIP");
                            }
                        }
                        for o in &p.outbound_nat6 {
                            for e in &o.exceptions {
                                s.add_net(IpNet::V6(*e), "OutBoundNAT exception");
                            }
                            for d in &o.destinations {
                                s.add_net(IpNet::V6(*d), "OutBoundNAT destination");
                            }
                            if let Some(v) = o.virtual_ip {
                                s.add_addr(IpAddr::V6(v), "OutBoundNAT VIP");
                            }
                        }
                        for set in p.acl_switch.iter().chain(p.acl_host.iter()) {
                            for r in &set.rules {
                                for net in r.local_addrs.iter().chain(&r.remote_addrs) {
                                    s.add_net(*net, "ACL address");
                                }
                            }
                        }
                    }
                    for (a, r) in &prog.remote_by_ip {
                        s.add_addr(v4(a), "remote endpoint");
                        if let Some(pa) = &r.pa {
                            s.add_addr(v4(pa), "provider address");
                        }
                    }
                    for a in prog.transparent_by_ip.keys() {
                        s.add_addr(v4(a), "endpoint");
                    }
                    for lb in prog.lbs.mappings() {
                        for v in &lb.vips {
                            s.add_addr(*v, "LB VIP");
                        }
                        if let Some(v) = lb.source_vip {
                            s.add_addr(v, "LB source VIP");
                        }
                        for b in &lb.backends {
                            s.add_addr(b.ip, "LB backend");
                        }
                    }
                    for maps in prog.port_maps.values() {
                        for pm in maps {
                            if let Some(v) = &pm.vip {
                                s.add_addr(v4(v), "port-mapping VIP");
                            }
                        }
                    }
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn spans(s: &AddrSplit, named: &[&str]) -> Vec<String> {
        let named = named.iter().map(|n| a(n)).collect();
        s.atoms(&named)
            .into_iter()
            .map(|(sp, l)| format!("{sp} ({l})"))
            .collect()
    }

    #[test]
    fn prefixes_cut_the_space_and_name_the_atoms() {
        let mut s = AddrSplit::default();
        s.add_net("10.244.0.0/16".parse().unwrap(), "OutBoundNAT exception");
        s.add_net("10.244.2.0/24".parse().unwrap(), "remote subnet route");
        s.add_addr(a("10.244.1.5"), "endpoint");
        s.add_addr(a("10.244.1.6"), "endpoint");
        assert_eq!(
            spans(&s, &["10.244.1.5", "10.244.1.6"]),
            vec![
                "0.0.0.0-10.243.255.255 (unassigned, outside every prefix)",
                "10.244.0.0-10.244.1.4 (unassigned, in 10.244.0.0/16: OutBoundNAT exception)",
                "10.244.1.7-10.244.1.255 (unassigned, in 10.244.0.0/16: OutBoundNAT exception)",
                "10.244.2.0/24 (unassigned: remote subnet route)",
                "10.244.3.0-10.244.255.255 (unassigned, in 10.244.0.0/16: OutBoundNAT exception)",
                "10.245.0.0-255.255.255.255 (unassigned, outside every prefix)",
            ]
        );
        // Not named: an address is an atom of its own, named by what it is.
        assert!(spans(&s, &["10.244.1.5"]).contains(&"10.244.1.6 (endpoint)".to_string()));
    }

    #[test]
    fn atoms_cover_the_space_once_and_grow_with_boundaries_only() {
        let mut s = AddrSplit::default();
        s.add_net("0.0.0.0/0".parse().unwrap(), "host route");
        s.add_net("255.255.255.255/32".parse().unwrap(), "ACL address");
        s.add_net("fd00::/64".parse().unwrap(), "network subnet");
        let atoms = s.atoms(&BTreeSet::new());
        // IPv4: [0, 255.255.255.254], the last address; IPv6: below, the /64, above.
        assert_eq!(atoms.len(), 5);
        assert_eq!(atoms[0].0.to_string(), "0.0.0.0-255.255.255.254");
        assert_eq!(atoms[1].0.to_string(), "255.255.255.255");
        assert_eq!(atoms[3].0.to_string(), "fd00::/64");
        assert_eq!(atoms[4].0.hi, a("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        // A /8 is one CIDR; a /8 and a half is a range.
        let sp = |lo: &str, hi: &str| Span { lo: a(lo), hi: a(hi) };
        assert_eq!(sp("10.0.0.0", "10.255.255.255").to_string(), "10.0.0.0/8");
        assert_eq!(
            sp("10.0.0.0", "11.127.255.255").to_string(),
            "10.0.0.0-11.127.255.255"
        );
        assert_eq!(
            sp("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").to_string(),
            "::/0"
        );
        assert!(sp("10.0.0.0", "10.0.0.255").contains(a("10.0.0.77")));
        assert!(!sp("10.0.0.0", "10.0.0.255").contains(a("::1")));
        assert_eq!(sp("10.0.0.0", "10.0.0.255").nth(300), a("10.0.0.255"));
    }

    #[test]
    fn merged_splits_cut_at_both_sides_boundaries() {
        let (mut x, mut y) = (AddrSplit::default(), AddrSplit::default());
        x.add_net("10.0.0.0/8".parse().unwrap(), "segment");
        y.add_net("10.1.0.0/16".parse().unwrap(), "ACL address");
        x.merge(&y);
        assert_eq!(x.atoms(&BTreeSet::new()).len(), 5);
    }
}
