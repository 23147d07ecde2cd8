//! reach: exact reachability over a world's compiled programs, by header classes.
//!
//! For each destination address, every port range anything on the packet's way can match on
//! (ACL `LocalPorts`/`RemotePorts` with their protocols, LB frontend ports and NodePorts, port
//! mappings, listeners, the VXLAN port) cuts the TCP and UDP port space into atomic intervals
//! ([`classes::PortSplit`]); ICMP is one class. Within an interval every rule treats packets
//! alike, so ONE witness packet per class, sent through the ordinary packet path
//! (`World::send`, the path `hnsim trace` uses), gives the disposition of the whole class:
//! there is one semantics, the dataplane's, and rewrites (DNAT, SNAT, encapsulation) are
//! followed by the witness itself. Rules are kept for a destination when one of their address
//! lists is empty or holds the destination or an address a rewrite can turn it into (LB
//! backends, port-mapping targets); keeping more rules only makes classes finer, never wrong.
//!
//! Source ports are split only where a rule looks at them: ACL Out `LocalPorts` on the sender's
//! own port and ACL In `RemotePorts` on a port the packet can be delivered to
//! ([`Matchers::source_split`]); with no such rule a pair's classes cover every source port and
//! the witness uses the world's next ephemeral port, as a `hnsim trace` packet would.
//!
//! An LB that spreads connections (no affinity) chooses a backend per connection: a class
//! reaches every backend of the mapping it hits (as compiled on that host: kube-proxy's
//! local-only filtering for `ExternalTrafficPolicy`/`InternalTrafficPolicy: Local` is already
//! in the backend list). The sweep follows one witness per backend, taking backend `i` through
//! the dataplane's [`LbSteer`] hook (once per source and [`Tail`]: what the rest of the way
//! depends on), and keeps every outcome ([`Outcomes`]). Where affinity pins a source to one
//! backend, the class reaches only that one.
//!
//! Destinations are the addresses of named objects (endpoints, VIPs, hosts, stations) and, by
//! default, one witness address for each atom of the rest of the address space
//! ([`atoms::AddrSplit`]: cut at every prefix a route, exception or ACL matches on and at every
//! address something holds), reported as its address range ([`Target::span`]).
//!
//! Each witness starts from the same state: flows, NAT sessions, SNAT reservations and QOS
//! meters are cleared and the clock, RNG, ephemeral-port counter and counters are put back
//! before every send, and once more when the sweep ends. So reach answers "would a NEW
//! connection get through", and running it leaves no trace in the world's runtime state.

pub mod atoms;
pub mod classes;
pub mod diff;
pub mod expect;
pub mod incremental;
pub mod render;
pub mod unchanged;

use crate::fasthash::FastMap;
use crate::trace::{Disposition, Exchange, L4};
use crate::vfp::lb::{LbChoice, LbSteer};
use crate::vfp::Dir;
use crate::world::{Counters, NodeKind, Place, Runtime, SendRequest, World};
use atoms::{AddrSplit, Span};
use classes::{PortSplit, Range};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

/// A place witnesses start from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub label: String,
    pub place: Place,
}

/// An address witnesses go to, with what it is (`svc/default/web`, `pod/default/b`, `node1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub label: String,
    pub addr: IpAddr,
    /// For an address atom: the range `addr` (its first address) stands for.
    pub span: Option<Span>,
}

impl Target {
    /// A named address.
    pub fn named(label: String, addr: IpAddr) -> Target {
        Target {
            label,
            addr,
            span: None,
        }
    }

    /// The atoms of `split` that no `named` target holds, after them (see [`atoms`]).
    pub fn with_atoms(mut named: Vec<Target>, split: &AddrSplit) -> Vec<Target> {
        let mut split = split.clone();
        for t in &named {
            split.add_addr(t.addr, "named");
        }
        let held = named.iter().map(|t| t.addr).collect();
        named.extend(split.atoms(&held).into_iter().map(|(span, label)| Target {
            label,
            addr: span.lo,
            span: Some(span),
        }));
        named
    }
}

/// What happened to a witness, without the fields that vary with the port inside a class
/// (a `NoMatchingLoadBalancer` names the port it missed, a reason may quote it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Outcome {
    pub disposition: String,
    /// Where and by which rule: node, layer, rule (or segment), as the trace names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_to: Option<String>,
    /// The reply's disposition (and where), when the request was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// The source address the receiver saw (SNAT shows here; ports vary inside a class).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_from: Option<IpAddr>,
    /// The backend (DIP) an LB on the way chose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<IpAddr>,
}

impl Outcome {
    /// The outcome of one exchange; `label` names a receiver (`container:B` → `pod/default/b`).
    pub fn of(ex: &Exchange, label: &dyn Fn(&str) -> String) -> Outcome {
        let (disposition, at) = brief(&ex.request.disposition);
        Outcome {
            disposition,
            at,
            delivered_to: ex.request.delivered_to.as_deref().map(label),
            seen_from: ex.request.seen.as_ref().map(|s| s.src),
            reply: ex.reply.as_ref().map(|r| {
                let (d, at) = brief(&r.disposition);
                match at {
                    Some(at) => format!("{d} at {at}"),
                    None => d,
                }
            }),
            backend: None,
        }
    }

    /// A send the world refused (for instance, a source whose container is not running).
    pub fn refused(why: String) -> Outcome {
        Outcome {
            disposition: "NotSent".into(),
            at: Some(why),
            delivered_to: None,
            reply: None,
            seen_from: None,
            backend: None,
        }
    }

    pub fn delivered(&self) -> bool {
        self.disposition == "Delivered"
    }

    /// A refusal's reason may quote the packet's destination; towards an address atom, quote
    /// the atom's range instead (every address of it is refused alike).
    pub fn quote_span(&mut self, dst: IpAddr, span: &Span) {
        let Some(at) = self.at.as_mut().filter(|_| self.disposition == "NotSent") else {
            return;
        };
        let (d, whole) = (dst.to_string(), span.to_string());
        let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_hexdigit() || c == '.');
        let mut out = String::with_capacity(at.len());
        let mut rest = at.as_str();
        while let Some(i) = rest.find(&d) {
            let before = rest[..i].chars().last().or(out.chars().last());
            let after = rest[i + d.len()..].chars().next();
            out.push_str(&rest[..i]);
            if part(before) || before == Some(':') || part(after) {
                out.push_str(&d);
            } else {
                out.push_str(&whole);
            }
            rest = &rest[i + d.len()..];
        }
        out.push_str(rest);
        *at = out;
    }
}

/// What the packets of one class can get: one outcome per backend an LB on the way can choose,
/// in backend order (one outcome where no LB spreads the class). Shared: classes of one source
/// often reach the same backend the same way.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcomes {
    One(Outcome),
    /// Two or more.
    Backends(Vec<Arc<Outcome>>),
}

impl Outcomes {
    pub fn one(o: Outcome) -> Outcomes {
        Outcomes::One(o)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Outcome> {
        let (one, many) = match self {
            Outcomes::One(o) => (Some(o), &[][..]),
            Outcomes::Backends(v) => (None, v.as_slice()),
        };
        one.into_iter().chain(many.iter().map(|o| o.as_ref()))
    }

    /// Every outcome, to rename what it names.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut Outcome)) {
        match self {
            Outcomes::One(o) => f(o),
            Outcomes::Backends(v) => v.iter_mut().for_each(|o| f(Arc::make_mut(o))),
        }
    }

    pub fn delivered(&self) -> bool {
        self.iter().any(Outcome::delivered)
    }

    /// Can a packet of the class get `o`?
    pub fn admits(&self, o: &Outcome) -> bool {
        self.iter().any(|x| x == o)
    }

    /// In backend order, without repeats.
    fn of(mut all: Vec<Arc<Outcome>>) -> Outcomes {
        all.sort_by(|a, b| (a.backend, a).cmp(&(b.backend, b)));
        all.dedup();
        match all.len() {
            1 => Outcomes::One(Arc::unwrap_or_clone(all.remove(0))),
            _ => Outcomes::Backends(all),
        }
    }
}

/// A disposition's name and the port-independent part of where it happened: node, segment,
/// layer and rule, as the trace names them (ports, addresses and reasons are left out).
fn brief(d: &Disposition) -> (String, Option<String>) {
    use Disposition as D;
    let parts: [&str; 3] = match d {
        D::Delivered => ["", "", ""],
        D::DeniedIn {
            node, layer, rule, ..
        }
        | D::DeniedOut {
            node, layer, rule, ..
        } => [node, layer, rule],
        D::NoRoute { node, .. }
        | D::NoListener { node, .. }
        | D::MtuExceeded { node, .. }
        | D::TtlExceeded { node }
        | D::Loop { node, .. }
        | D::NoMatchingLoadBalancer { node, .. }
        | D::SnatPortsExhausted { node, .. }
        | D::RateLimited { node, .. }
        | D::LinkDown { node }
        | D::HostDown { node }
        | D::Unsupported { node, .. } => [node, "", ""],
        D::Lost { segment, .. } => [segment, "", ""],
    };
    // Sized once: this runs for every witness.
    let parts = parts.iter().filter(|p| !p.is_empty());
    let mut at = String::with_capacity(parts.clone().map(|p| p.len() + 1).sum());
    for p in parts {
        if !at.is_empty() {
            at.push(' ');
        }
        at.push_str(p);
    }
    (d.name().to_string(), (!at.is_empty()).then_some(at))
}

/// One class: a protocol and (for TCP/UDP) a destination port interval and, where a rule
/// looks at the sender's port, a source port interval (`None`: every source port).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Class {
    pub proto: Proto,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Range>,
}

impl Class {
    pub fn contains(&self, proto: Proto, sport: u16, dport: u16) -> bool {
        self.proto == proto
            && self.ports.is_none_or(|r| r.contains(dport))
            && self.src.is_none_or(|r| r.contains(sport))
    }
}

/// The protocols witnesses are sent with.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    pub const ALL: [Proto; 3] = [Proto::Tcp, Proto::Udp, Proto::Icmp];
    pub fn l4(self) -> L4 {
        match self {
            Proto::Tcp => L4::Tcp,
            Proto::Udp => L4::Udp,
            Proto::Icmp => L4::Icmp,
        }
    }
    /// The IP protocol number rules match on.
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
}

/// The classes of one (source, destination) pair with their witnesses' outcomes, in class order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub from: String,
    pub to: String,
    pub addr: IpAddr,
    /// For an address atom: the range `addr` stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    pub classes: Vec<(Class, Outcomes)>,
}

impl Pair {
    /// The destination's addresses: one, or the atom's range.
    pub fn span(&self) -> Span {
        self.span.unwrap_or(Span {
            lo: self.addr,
            hi: self.addr,
        })
    }

    /// The destination as printed: the address, or the atom's range.
    pub fn address(&self) -> String {
        match &self.span {
            Some(s) => s.to_string(),
            None => self.addr.to_string(),
        }
    }

    /// The outcomes `reach` predicts for one concrete packet (source port `sport`, destination
    /// port `dport`; both ignored for ICMP).
    pub fn predict(&self, proto: Proto, sport: u16, dport: u16) -> Option<&Outcomes> {
        self.classes
            .iter()
            .find(|(c, _)| c.contains(proto, sport, dport))
            .map(|(_, o)| o)
    }
}

/// A whole sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reach {
    pub pairs: Vec<Pair>,
    /// Classes over all pairs.
    pub classes: usize,
    /// Witness packets sent: one per class, and one per further backend where an LB spreads a
    /// class over several.
    pub witnesses: usize,
    /// Classes whose ways meet more combinations of LB backends than [`MAX_WAYS`]: only that
    /// many of their outcomes are listed.
    pub capped: Vec<Capped>,
}

/// A class whose outcomes are not all listed (see [`Reach::capped`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Capped {
    pub from: String,
    pub to: String,
    pub class: Class,
    /// The outcomes listed (witnesses sent or shared).
    pub listed: usize,
}

impl Reach {
    /// Record the class just followed for `pair` when its outcomes were cut.
    fn note_capped(&mut self, tails: &mut Tails, pair: &Pair) {
        if std::mem::take(&mut tails.capped) {
            let (class, o) = pair.classes.last().expect("just followed");
            self.capped.push(Capped {
                from: pair.from.clone(),
                to: pair.address(),
                class: *class,
                listed: o.iter().count(),
            });
        }
    }
}

/// Everything with a port range, prepared once per sweep (see the module doc).
#[derive(Default)]
struct Matchers {
    /// (protocols (None = any), local prefixes, remote prefixes, port ranges).
    acl: Vec<AclPorts>,
    /// VIP → (protocol, frontend port, backend addresses).
    lb_by_vip: BTreeMap<IpAddr, Vec<(u8, u16, Vec<IpAddr>)>>,
    /// Port-only LB mappings (NodePorts): (protocol, port, backend addresses).
    port_only: Vec<(u8, u16, Vec<IpAddr>)>,
    /// Port mappings: (protocol, external port, the container's address).
    port_maps: Vec<(u8, u16, IpAddr)>,
    host_addrs: BTreeSet<IpAddr>,
    /// Addresses a receiver answers to (hosts, stations, endpoints): only there can a packet
    /// keep its destination port up to a listener.
    receivable: BTreeSet<IpAddr>,
    /// (protocol, port) of every listener anywhere.
    listeners: BTreeSet<(u8, u16)>,
    vxlan_ports: BTreeSet<u16>,
    /// ACL rules that match on the sender's port.
    sport_rules: Vec<SportRule>,
    /// Per host, the (protocol, port) keys that claim a packet arriving at one of its addresses
    /// by its destination port (NodePorts, LBs whose VIP is a host address, port mappings): a
    /// reply to a packet the host sent arrives with the sender's port as destination port.
    reply_ports: BTreeMap<String, BTreeSet<(u8, u16)>>,
    /// Endpoints holding one of their host's addresses (a host-attached `cbr0_ep`): their
    /// container (if any), GUID and host; replies to them meet the host's `reply_ports`.
    host_attached: Vec<(Option<String>, hnsim_model::Guid, String)>,
}

/// An ACL rule that looks at the source port of a packet: an Out rule's `LocalPorts` (the
/// sender is the rule's endpoint) or an In rule's `RemotePorts` (the packet arrives there).
struct SportRule {
    dir: Dir,
    /// The rule's endpoint: its container (or its host, when no container owns it), GUID and
    /// addresses.
    container: Option<String>,
    host: String,
    endpoint: hnsim_model::Guid,
    addrs: Vec<IpAddr>,
    protocols: Option<Vec<u8>>,
    /// Out: the rule's `RemoteAddresses` (the destination, before any rewrite).
    remote: Vec<IpNet>,
    ranges: Vec<(u16, u16)>,
}

struct AclPorts {
    protocols: Option<Vec<u8>>,
    local: Vec<IpNet>,
    remote: Vec<IpNet>,
    ports: Vec<(u16, u16)>,
}

impl Matchers {
    fn of(w: &World) -> Matchers {
        let mut m = Matchers::default();
        for n in w.nodes() {
            let h = match &n.kind {
                NodeKind::Host(h) => h,
                NodeKind::Station(s, _) => {
                    m.host_addrs.insert(IpAddr::V4(s.ip));
                    continue;
                }
                NodeKind::Router(..) => continue,
            };
            m.host_addrs.insert(IpAddr::V4(h.spec.ip));
            m.host_addrs
                .extend(h.vfp.program().host_addrs.iter().map(|a| IpAddr::V4(*a)));
            for net in &h.vfp.program().networks {
                m.vxlan_ports.insert(net.vxlan_port);
            }
            for p in &h.vfp.program().ports {
                m.receivable.insert(IpAddr::V4(p.ip));
                m.receivable.extend(p.ip6.map(IpAddr::V6));
                if p.host_attached || h.vfp.program().host_addrs.contains(&p.ip) {
                    m.host_attached
                        .push((p.container.clone(), p.endpoint, n.name.clone()));
                }
                for set in p.acl_switch.iter().chain(p.acl_host.iter()) {
                    for r in &set.rules {
                        let sender = match r.dir {
                            Dir::Out => &r.local_ports,
                            Dir::In => &r.remote_ports,
                        };
                        if !sender.is_empty() {
                            m.sport_rules.push(SportRule {
                                dir: r.dir,
                                container: p.container.clone(),
                                host: n.name.clone(),
                                endpoint: p.endpoint,
                                addrs: std::iter::once(IpAddr::V4(p.ip))
                                    .chain(p.ip6.map(IpAddr::V6))
                                    .collect(),
                                protocols: r.protocols.clone(),
                                remote: r.remote_addrs.clone(),
                                ranges: sender.clone(),
                            });
                        }
                        let mut ports = r.local_ports.clone();
                        ports.extend(r.remote_ports.iter().copied());
                        if ports.is_empty() {
                            continue;
                        }
                        m.acl.push(AclPorts {
                            protocols: r.protocols.clone(),
                            local: r.local_addrs.clone(),
                            remote: r.remote_addrs.clone(),
                            ports,
                        });
                    }
                }
            }
            let own = |a: &IpAddr| {
                *a == IpAddr::V4(h.spec.ip) || h.vfp.program().host_addrs.iter().any(|x| IpAddr::V4(*x) == *a)
            };
            let reply = m.reply_ports.entry(n.name.clone()).or_default();
            for lb in h.vfp.program().lbs.mappings() {
                if lb.vips.is_empty() || lb.vips.iter().any(own) {
                    reply.insert((lb.proto, lb.external_port));
                }
            }
            reply.extend(h.vfp.program().port_maps.keys().copied());
            for lb in h.vfp.program().lbs.mappings() {
                let backends: Vec<IpAddr> = lb.backends.iter().map(|b| b.ip).collect();
                if lb.vips.is_empty() {
                    m.port_only.push((lb.proto, lb.external_port, backends));
                    continue;
                }
                for vip in &lb.vips {
                    m.lb_by_vip
                        .entry(*vip)
                        .or_default()
                        .push((lb.proto, lb.external_port, backends.clone()));
                }
            }
            for ((proto, port), maps) in h.vfp.program().port_maps.iter() {
                for pm in maps {
                    let ip = h
                        .vfp
                        .program()
                        .ports
                        .get(pm.port as usize)
                        .map(|p| IpAddr::V4(p.ip));
                    m.port_maps
                        .push((*proto, *port, ip.unwrap_or(IpAddr::V4(h.spec.ip))));
                }
            }
        }
        for (_, l4, port) in w.listeners() {
            let p = match l4 {
                L4::Tcp => Proto::Tcp,
                L4::Udp => Proto::Udp,
                L4::Icmp => Proto::Icmp,
            };
            m.listeners.insert((p.number(), *port));
        }
        m.receivable.extend(m.host_addrs.iter().copied());
        // Port maps come from a hash map: order them so the sweep is deterministic.
        m.port_maps.sort();
        m
    }

    /// `dst` and every address a rewrite can turn it into (LB backends, port-mapping targets).
    fn targets(&self, dst: IpAddr) -> Vec<IpAddr> {
        let mut targets = vec![dst];
        for (_, _, backends) in self.lb_by_vip.get(&dst).into_iter().flatten() {
            targets.extend(backends.iter().copied());
        }
        let local = self.host_addrs.contains(&dst);
        if local {
            for (_, _, backends) in &self.port_only {
                targets.extend(backends.iter().copied());
            }
        }
        for (_, _, ip) in &self.port_maps {
            if local || *ip == dst {
                targets.push(*ip);
            }
        }
        targets
    }

    /// The atomic source port intervals of `proto` from `from` towards `dst`: the edges of
    /// every ACL rule that can see the sender's port on the way (the sender's own Out rules, the
    /// In rules of every port the destination can be rewritten to; towards a host address, of
    /// every port no container owns too), and for a host (or an endpoint holding a host address),
    /// the ports that would claim the reply at that address. No such rule: one interval.
    fn source_split(
        &self,
        from: &Place,
        reply: &[(u8, u16)],
        dst: IpAddr,
        targets: &[IpAddr],
        proto: Proto,
    ) -> Option<Vec<Range>> {
        if proto == Proto::Icmp || (reply.is_empty() && self.sport_rules.is_empty()) {
            return None;
        }
        let mut s = PortSplit::default();
        let n = proto.number();
        let local = self.host_addrs.contains(&dst);
        for (p, port) in reply {
            if *p == n {
                s.add_port(*port);
            }
        }
        for r in &self.sport_rules {
            if r.protocols.as_ref().is_some_and(|ps| !ps.contains(&n)) {
                continue;
            }
            let relevant = match r.dir {
                Dir::Out => {
                    let own = match from {
                        Place::Container(c) => r.container.as_deref() == Some(c.as_str()),
                        Place::Endpoint(g) => r.endpoint == *g,
                        Place::Host(h) => r.container.is_none() && r.host == *h,
                        Place::Station(_) => false,
                    };
                    own && (r.remote.is_empty()
                        || r.remote.iter().any(|net| targets.iter().any(|t| net.contains(t))))
                }
                Dir::In => r.addrs.iter().any(|a| targets.contains(a)) || (local && r.container.is_none()),
            };
            if relevant {
                for (lo, hi) in &r.ranges {
                    s.add_range(*lo, *hi);
                }
            }
        }
        (s.len() > 1).then(|| s.intervals())
    }

    /// The ports that claim a reply to `from` by its destination port: those of its host, when
    /// it sends from a host address (see `reply_ports`).
    fn reply_ports_of(&self, from: &Place) -> Vec<(u8, u16)> {
        let host = match from {
            Place::Host(h) => Some(h.as_str()),
            Place::Container(c) => self
                .host_attached
                .iter()
                .find(|(x, _, _)| x.as_deref() == Some(c.as_str()))
                .map(|(_, _, h)| h.as_str()),
            Place::Endpoint(g) => self
                .host_attached
                .iter()
                .find(|(_, x, _)| x == g)
                .map(|(_, _, h)| h.as_str()),
            Place::Station(_) => None,
        };
        host.and_then(|h| self.reply_ports.get(h))
            .map(|ports| ports.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The atomic port intervals of `proto` towards `dst`.
    fn split(&self, dst: IpAddr, proto: Proto) -> PortSplit {
        let n = proto.number();
        let mut s = PortSplit::default();
        let targets = self.targets(dst);
        let local = self.host_addrs.contains(&dst);
        for (p, port, _) in self.lb_by_vip.get(&dst).into_iter().flatten() {
            if *p == n {
                s.add_port(*port);
            }
        }
        if local {
            for (p, port, _) in &self.port_only {
                if *p == n {
                    s.add_port(*port);
                }
            }
        }
        for (p, port, ip) in &self.port_maps {
            if (local || *ip == dst) && *p == n {
                s.add_port(*port);
            }
        }
        // A listener sees the destination port a packet arrives with. Towards an address no
        // receiver answers to (a VIP only an LB serves), a packet is delivered only through a
        // rewrite to a fixed port (its LB mapping, already split out), so listeners don't cut.
        if self.receivable.contains(&dst) {
            for (p, port) in &self.listeners {
                if *p == n {
                    s.add_port(*port);
                }
            }
        }
        // The VXLAN port is read from the outer header of an encapsulated packet arriving at a
        // host (`fabric`), never from a packet to a pod or VIP: split it out towards hosts only.
        if proto == Proto::Udp && local {
            for p in &self.vxlan_ports {
                s.add_port(*p);
            }
        }
        let hits = |nets: &[IpNet]| {
            nets.is_empty() || nets.iter().any(|net| targets.iter().any(|t| net.contains(t)))
        };
        for r in &self.acl {
            if r.protocols.as_ref().is_some_and(|ps| !ps.contains(&n)) {
                continue;
            }
            if !(hits(&r.local) || hits(&r.remote)) {
                continue;
            }
            for (lo, hi) in &r.ports {
                s.add_range(*lo, *hi);
            }
        }
        s
    }
}

/// The runtime state a witness may change, put back before each one (and, in tests, before
/// each concrete packet compared with a witness).
pub struct Checkpoint {
    runtime: Runtime,
    counters: Counters,
    capture: bool,
    tracing: bool,
}

impl Checkpoint {
    pub fn take(w: &World) -> Checkpoint {
        Checkpoint {
            runtime: w.runtime().clone(),
            counters: w.counters(),
            capture: w.capture(),
            tracing: w.tracing(),
        }
    }

    /// The source port the next packet gets when it names none.
    pub fn ephemeral_port(&self) -> u16 {
        self.runtime.next_ephemeral()
    }

    /// Back to the checkpoint's clock, RNG and counters, with no flows, NAT sessions, SNAT
    /// reservations or meter levels, and LBs choosing by their hash again.
    pub fn reset(&self, w: &mut World) {
        w.rewind(&self.runtime);
        for h in w.hosts_mut() {
            h.vfp.reset_state();
            h.vfp.lb_steer = LbSteer::default();
        }
    }

    fn restore(&self, w: &mut World) {
        self.reset(w);
        w.set_counters(self.counters);
        w.set_capture(self.capture);
        w.set_tracing(self.tracing);
    }
}

/// The first backend choice on the way of the packets sent since the last
/// [`Checkpoint::reset`] (over all hosts), with the index of the host that made it.
pub fn lb_choice(w: &World) -> Option<(usize, LbChoice)> {
    lb_choices(w).0
}

/// [`lb_choice`], and how many choices were made in all.
fn lb_choices(w: &World) -> (Option<(usize, LbChoice)>, u32) {
    let mut first: Option<(usize, LbChoice)> = None;
    let mut all = 0;
    for (i, h) in w.hosts() {
        all += h.vfp.lb_steer.choices;
        if let Some(c) = h.vfp.lb_steer.first {
            if first.is_none_or(|(_, f)| c.nonce < f.nonce) {
                first = Some((i, c));
            }
        }
    }
    (first, all)
}

/// Have host `node`'s next unsteered LB choice take backend `index`.
fn steer(w: &mut World, node: usize, index: u32) {
    if let Some(h) = w.host_at_mut(node) {
        h.vfp.lb_steer.take.push_back(index);
    }
}

/// Bring every host's program up to date with its HNS state (done lazily before a packet).
pub fn ensure_compiled(w: &mut World) {
    w.ensure_all_compiled();
}

/// The classes and their witnesses' outcomes for every (source, target) pair, in the given
/// orders. `label` names receivers.
pub fn sweep(w: &mut World, sources: &[Source], targets: &[Target], label: &dyn Fn(&str) -> String) -> Reach {
    sweep_where(w, sources, targets, label, &|_, _| true)
}

/// [`sweep`], of the pairs `keep` accepts only.
pub fn sweep_where(
    w: &mut World,
    sources: &[Source],
    targets: &[Target],
    label: &dyn Fn(&str) -> String,
    keep: &dyn Fn(&Source, &Target) -> bool,
) -> Reach {
    sweep_with(w, sources, targets, label, keep, true, MAX_WAYS)
}

/// [`sweep`] with at most `limit` outcomes per class instead of [`MAX_WAYS`] (to see the bound
/// reported).
pub fn sweep_limited(
    w: &mut World,
    sources: &[Source],
    targets: &[Target],
    label: &dyn Fn(&str) -> String,
    limit: usize,
) -> Reach {
    sweep_with(w, sources, targets, label, &|_, _| true, true, limit)
}

/// [`sweep`] with a witness for every backend of every class, none taken from another class
/// with the same [`Tail`] (to check that sharing them changes nothing).
pub fn sweep_every_tail(
    w: &mut World,
    sources: &[Source],
    targets: &[Target],
    label: &dyn Fn(&str) -> String,
) -> Reach {
    sweep_with(w, sources, targets, label, &|_, _| true, false, MAX_WAYS)
}

fn sweep_with(
    w: &mut World,
    sources: &[Source],
    targets: &[Target],
    label: &dyn Fn(&str) -> String,
    keep: &dyn Fn(&Source, &Target) -> bool,
    share_tails: bool,
    limit: usize,
) -> Reach {
    ensure_compiled(w);
    let m = Matchers::of(w);
    let base = Checkpoint::take(w);
    // Receivers repeat across witnesses: name each once.
    let names: std::cell::RefCell<FastMap<String, String>> = Default::default();
    let label = &|raw: &str| -> String {
        if let Some(n) = names.borrow().get(raw) {
            return n.clone();
        }
        let n = label(raw);
        names.borrow_mut().insert(raw.to_string(), n.clone());
        n
    };
    w.set_capture(false);
    w.set_tracing(false);
    // Destination classes depend on the destination only: split once per target.
    let splits: Vec<(Vec<IpAddr>, Vec<Class>)> = targets
        .iter()
        .map(|t| (m.targets(t.addr), classes_of(&m, t.addr)))
        .collect();
    let mut out = Reach::default();
    for s in sources {
        let reply = m.reply_ports_of(&s.place);
        // One request per source, its destination and ports set per witness (no copy of the
        // source's name per packet).
        let mut req = SendRequest {
            from: s.place.clone(),
            dst: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            proto: L4::Icmp,
            src_port: None,
            dst_port: 0,
            data_len: 64,
            dont_fragment: false,
            ttl: None,
        };
        let mut tails = Tails {
            share: share_tails,
            seen: FastMap::default(),
            limit,
            capped: false,
        };
        for (t, (rewrites, classes)) in targets.iter().zip(&splits) {
            if !keep(s, t) {
                continue;
            }
            req.dst = t.addr;
            let mut pair = Pair {
                from: s.label.clone(),
                to: t.label.clone(),
                addr: t.addr,
                span: t.span,
                classes: Vec::with_capacity(classes.len()),
            };
            let by_source =
                [Proto::Tcp, Proto::Udp].map(|p| m.source_split(&s.place, &reply, t.addr, rewrites, p));
            for c in classes {
                let srcs = match c.proto {
                    Proto::Tcp => by_source[0].as_deref(),
                    Proto::Udp => by_source[1].as_deref(),
                    Proto::Icmp => None,
                };
                let Some(srcs) = srcs else {
                    let o = follow(w, &base, &mut req, c, label, &mut tails, &mut out.witnesses);
                    pair.classes.push((*c, o));
                    out.note_capped(&mut tails, &pair);
                    continue;
                };
                for r in srcs {
                    let c = Class { src: Some(*r), ..*c };
                    let o = follow(w, &base, &mut req, &c, label, &mut tails, &mut out.witnesses);
                    pair.classes.push((c, o));
                    out.note_capped(&mut tails, &pair);
                }
            }
            if let Some(span) = &t.span {
                for (_, o) in &mut pair.classes {
                    o.for_each_mut(|o| o.quote_span(t.addr, span));
                }
            }
            out.classes += pair.classes.len();
            out.pairs.push(pair);
        }
    }
    base.restore(w);
    out
}

/// What the rest of a witness's way depends on once its first LB has chosen a backend: the
/// host and the point of the choice (how many connection nonces the way had drawn), the tuple
/// it chose for, the mapping's rewrite (internal port, `SourceVIP`, flags) and the backend.
/// The frontend VIP and port are then only in the NAT session that restores the reply, so two
/// classes of one source with the same tail get the same outcome for that backend: the sweep
/// sends the witness once (`sim/tests/reach_props.rs` checks a sweep that never shares one
/// gets the same result). Never shared: DSR and `PreserveDIP` mappings (they keep the VIP on
/// the wire) and witnesses that met a second LB (a NodePort claiming the reply hashes the
/// restored frontend address).
#[derive(Clone, PartialEq, Eq, Hash)]
struct Tail {
    node: usize,
    step: u64,
    proto: u8,
    src: IpAddr,
    sport: u16,
    internal_port: u16,
    source_vip: Option<IpAddr>,
    flags: u32,
    backend: IpAddr,
    endpoint: hnsim_model::Guid,
}

/// The outcomes of one source's witnesses by [`Tail`], and the bound on a class's outcomes.
struct Tails {
    share: bool,
    seen: FastMap<Tail, Arc<Outcome>>,
    /// At most this many outcomes per class ([`MAX_WAYS`]).
    limit: usize,
    /// Set when a class had more combinations of backends than `limit` (or than a host keeps
    /// choices of): its outcomes are not all listed.
    capped: bool,
}

/// The most outcomes (witnesses) one class gets where LBs on its way spread it: the product of
/// the backend counts of every spreading LB a way meets, bounded so that a way through several
/// large LBs cannot multiply the sweep. A class that has more lists this many and is reported
/// ([`Reach::capped`]).
pub const MAX_WAYS: usize = 256;

impl Tails {
    /// The tails of every backend of the choice `f` made on `node`, when they can be shared.
    fn of(&self, w: &World, base: &Checkpoint, node: usize, f: &LbChoice) -> Option<Vec<Tail>> {
        if !self.share {
            return None;
        }
        let h = w.host_at(node)?;
        let t = f.tuple;
        let m = h
            .vfp
            .program()
            .lbs
            .find(t.proto, t.dst, t.dport, true, &mut 0)
            .filter(|m| m.lb == f.lb && !m.dsr && !m.preserve_dip())?;
        let step = f.nonce.wrapping_sub(base.runtime.conn_nonce());
        Some(
            m.backends
                .iter()
                .map(|b| Tail {
                    node,
                    step,
                    proto: t.proto,
                    src: t.src,
                    sport: t.sport,
                    internal_port: m.internal_port,
                    source_vip: m.source_vip,
                    flags: m.flags,
                    backend: b.ip,
                    endpoint: b.endpoint,
                })
                .collect(),
        )
    }
}

/// The outcomes of class `c`: one witness, and where an LB on its way spreads connections over
/// several backends, one more per other backend, steered to it at that choice; where the way
/// meets further spreading LBs (a NodePort claiming the reply), one per combination of their
/// backends too, up to [`MAX_WAYS`] outcomes (then `tails.capped` says the list is cut).
/// A backend of the first choice whose [`Tail`] the source has already followed is not sent
/// again.
#[allow(clippy::too_many_arguments)]
fn follow(
    w: &mut World,
    base: &Checkpoint,
    req: &mut SendRequest,
    c: &Class,
    label: &dyn Fn(&str) -> String,
    tails: &mut Tails,
    sent: &mut usize,
) -> Outcomes {
    let port = c.ports.map(|r| r.lo).unwrap_or(0);
    // The port a `hnsim trace` packet would leave from, when the class holds it.
    let sport = match c.src {
        Some(r) if !r.contains(base.ephemeral_port()) => Some(r.lo),
        _ => None,
    };
    (req.proto, req.src_port, req.dst_port) = (c.proto.l4(), sport, port);
    base.reset(w);
    let mut o = witness(w, req, label);
    *sent += 1;
    let (first, choices) = lb_choices(w);
    o.backend = first.map(|(_, f)| f.backend);
    let Some((node, f)) = first else {
        return Outcomes::One(o);
    };
    if choices == 1 && f.offered <= 1 {
        return Outcomes::One(o);
    }
    let way0 = way(w, tails, first, choices);
    if way0.iter().all(|(_, c)| c.offered <= 1) {
        return Outcomes::One(o);
    }
    let shared = (f.offered > 1).then(|| tails.of(w, base, node, &f)).flatten();
    let o = Arc::new(o);
    if let (Some(k), 1) = (shared.as_ref().and_then(|ks| ks.get(f.index as usize)), choices) {
        tails.seen.insert(k.clone(), Arc::clone(&o));
    }
    let mut all = vec![o];
    // Ways to branch from: the choices a witness met, and how many of them were steered. Each
    // branch pins the choices before it as they were and steers one to another backend, so
    // every combination is sent once.
    let mut todo = vec![(way0, 0usize)];
    while let Some((way_k, steered)) = todo.pop() {
        for k in steered..way_k.len() {
            let (at, ck) = way_k[k];
            for j in (0..ck.offered).filter(|j| *j != ck.index) {
                let key = shared
                    .as_ref()
                    .filter(|_| k == 0)
                    .and_then(|ks| ks.get(j as usize));
                if let Some(o) = key.and_then(|key| tails.seen.get(key)) {
                    all.push(Arc::clone(o));
                    continue;
                }
                if all.len() >= tails.limit {
                    tails.capped = true;
                    return Outcomes::of(all);
                }
                base.reset(w);
                let pinned = way_k[..k].iter().map(|(n, c)| (*n, c.index));
                for (n, i) in pinned.chain([(at, j)]) {
                    steer(w, n, i);
                }
                let mut o = witness(w, req, label);
                *sent += 1;
                let (first, choices) = lb_choices(w);
                o.backend = first.map(|(_, f)| f.backend);
                let o = Arc::new(o);
                if let (Some(key), 1) = (key, choices) {
                    tails.seen.insert(key.clone(), Arc::clone(&o));
                }
                all.push(o);
                let next = way(w, tails, first, choices);
                if next.len() > k + 1 {
                    todo.push((next, k + 1));
                }
            }
        }
    }
    Outcomes::of(all)
}

/// Every LB choice on the way of the packets sent since the last reset, in the order they were
/// made (over all hosts), with the host that made it; `first` and `choices` from
/// [`lb_choices`]. A host that made more choices than it keeps ([`LbSteer::KEPT`]) sets
/// `tails.capped`: the combinations of the rest cannot be enumerated.
fn way(
    w: &World,
    tails: &mut Tails,
    first: Option<(usize, LbChoice)>,
    choices: u32,
) -> Vec<(usize, LbChoice)> {
    if choices <= 1 {
        return first.into_iter().collect();
    }
    let mut v = Vec::new();
    for (i, h) in w.hosts() {
        let s = &h.vfp.lb_steer;
        let kept = s.first.iter().chain(&s.later);
        if s.choices as usize > s.first.iter().count() + s.later.len() {
            tails.capped = true;
        }
        v.extend(kept.map(|c| (i, *c)));
    }
    // Stable: one host's choices keep their order (the order its `take` queue is read in).
    v.sort_by_key(|(_, c)| c.nonce);
    v
}

fn classes_of(m: &Matchers, addr: IpAddr) -> Vec<Class> {
    let mut v = Vec::new();
    for p in [Proto::Tcp, Proto::Udp] {
        for r in m.split(addr, p).intervals() {
            v.push(Class {
                proto: p,
                ports: Some(r),
                src: None,
            });
        }
    }
    v.push(Class {
        proto: Proto::Icmp,
        ports: None,
        src: None,
    });
    v
}

/// Send one packet like `hnsim trace` does (`data_len` 64, no DF, the default TTL) and say
/// what happened to it.
pub fn witness(w: &mut World, req: &SendRequest, label: &dyn Fn(&str) -> String) -> Outcome {
    match w.send(req) {
        Ok(ex) => Outcome::of(&ex, label),
        Err(e) => Outcome::refused(e.to_string()),
    }
}
