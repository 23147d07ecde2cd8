//! One longest-prefix route table for every routing decision of the dataplane: a container
//! compartment's endpoint routes, a port's `SDNRoute`s, an overlay network's
//! `RemoteSubnetRoute`s, the host's default-compartment routes (IPv4 and IPv6) and a router's
//! table.
//!
//! Lookup rule: the longest prefix containing the address wins; among routes with the same
//! prefix length, the one pushed **last** wins (a later route overrides an earlier one). Tables
//! whose source lists rank the other way (the host's connected route before its default gateway
//! before its OS routes) are built in reverse order of rank.
//!
//! The tables are small (a handful of routes per port or host), so a lookup is a scan of one
//! contiguous vector: no allocation, no hashing.

use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{Ipv4Addr, Ipv6Addr};

/// An IP prefix that a route table can match on.
pub trait Prefix: Copy {
    type Addr: Copy;
    fn holds(&self, a: Self::Addr) -> bool;
    fn bits(&self) -> u8;
}

impl Prefix for Ipv4Net {
    type Addr = Ipv4Addr;
    #[inline]
    fn holds(&self, a: Ipv4Addr) -> bool {
        self.contains(&a)
    }
    #[inline]
    fn bits(&self) -> u8 {
        self.prefix_len()
    }
}

impl Prefix for Ipv6Net {
    type Addr = Ipv6Addr;
    #[inline]
    fn holds(&self, a: Ipv6Addr) -> bool {
        self.contains(&a)
    }
    #[inline]
    fn bits(&self) -> u8 {
        self.prefix_len()
    }
}

/// A route: anything that carries the prefix it applies to.
pub trait Route {
    type Net: Prefix;
    fn prefix(&self) -> Self::Net;
}

/// `(prefix, next hop)` pairs, the shape of OS and endpoint routes.
impl<N: Prefix, V> Route for (N, V) {
    type Net = N;
    #[inline]
    fn prefix(&self) -> N {
        self.0
    }
}

/// A longest-prefix route table (see the module doc for the tie rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RouteTable<R> {
    routes: Vec<R>,
}

impl<R> Default for RouteTable<R> {
    fn default() -> Self {
        RouteTable { routes: Vec::new() }
    }
}

impl<R: Route> RouteTable<R> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a route; it overrides an earlier route with a prefix of the same length.
    pub fn push(&mut self, r: R) {
        self.routes.push(r);
    }

    pub fn clear(&mut self) {
        self.routes.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// The routes in the order they were pushed.
    pub fn iter(&self) -> std::slice::Iter<'_, R> {
        self.routes.iter()
    }

    /// The route for `a`: the longest prefix holding it (ties: the later route).
    #[inline]
    pub fn lookup(&self, a: <R::Net as Prefix>::Addr) -> Option<&R> {
        let mut best: Option<(&R, u8)> = None;
        for r in &self.routes {
            let p = r.prefix();
            if p.holds(a) && best.is_none_or(|(_, b)| p.bits() >= b) {
                best = Some((r, p.bits()));
            }
        }
        best.map(|(r, _)| r)
    }
}

impl<R: Route> FromIterator<R> for RouteTable<R> {
    fn from_iter<I: IntoIterator<Item = R>>(it: I) -> Self {
        RouteTable {
            routes: it.into_iter().collect(),
        }
    }
}

impl<'a, R> IntoIterator for &'a RouteTable<R> {
    type Item = &'a R;
    type IntoIter = std::slice::Iter<'a, R>;
    fn into_iter(self) -> Self::IntoIter {
        self.routes.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix_wins_whatever_the_order() {
        let t: RouteTable<(Ipv4Net, u8)> = [
            (net("10.0.0.0/8"), 1),
            (net("10.1.2.0/24"), 3),
            (net("10.1.0.0/16"), 2),
        ]
        .into_iter()
        .collect();
        assert_eq!(t.lookup(ip("10.1.2.3")).map(|r| r.1), Some(3));
        assert_eq!(t.lookup(ip("10.1.9.9")).map(|r| r.1), Some(2));
        assert_eq!(t.lookup(ip("10.9.9.9")).map(|r| r.1), Some(1));
        assert_eq!(t.lookup(ip("11.0.0.1")), None);
    }

    #[test]
    fn a_later_route_with_the_same_prefix_overrides() {
        let mut t = RouteTable::new();
        t.push((net("0.0.0.0/0"), "gw1"));
        t.push((net("0.0.0.0/0"), "gw2"));
        t.push((net("192.168.0.0/16"), "lan"));
        assert_eq!(t.lookup(ip("8.8.8.8")).map(|r| r.1), Some("gw2"));
        assert_eq!(t.lookup(ip("192.168.1.1")).map(|r| r.1), Some("lan"));
    }

    #[test]
    fn ipv6_tables_use_the_same_rule() {
        let t: RouteTable<(Ipv6Net, u8)> = [
            ("fd00::/8".parse().unwrap(), 1),
            ("fd00:1::/64".parse().unwrap(), 2),
        ]
        .into_iter()
        .collect();
        assert_eq!(t.lookup("fd00:1::5".parse().unwrap()).map(|r| r.1), Some(2));
        assert_eq!(t.lookup("fd00:2::5".parse().unwrap()).map(|r| r.1), Some(1));
        assert_eq!(t.lookup("2001:db8::1".parse().unwrap()), None);
    }
}
