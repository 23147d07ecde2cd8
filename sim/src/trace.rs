//! Traces: every packet's hops (node + port), each a list of typed steps, ending in exactly one
//! [`Disposition`]. The shape follows Batfish: `Filter` names the layer and rule that matched,
//! `Transform` shows the headers before and after, `Route`/`Encap`/`Decap`/`Session`/`Arp`
//! explain forwarding, `Deliver` ends a delivered packet. A drop always names the node, the layer,
//! the rule and the reason.
//!
//! Tracing can be switched off (`World::set_tracing(false)`): then no step is built and no hop is
//! allocated, so established flows forward without allocating (ARCHITECTURE "Fast where it matters").

use hnsim_model::Mac;
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Transport protocol of a request.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum L4 {
    Tcp,
    Udp,
    Icmp,
}

impl fmt::Display for L4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            L4::Tcp => "tcp",
            L4::Udp => "udp",
            L4::Icmp => "icmp",
        })
    }
}

/// An IPv4 address written exactly as `Ipv4Addr`'s `Display` writes it (dotted decimal, width
/// and alignment honoured), in one write instead of std's four integer formats: the reasons
/// of drops that `hnsim reach` meets on most of its witnesses quote the destination, and
/// formatting it was most of their cost.
pub(crate) struct Dotted(pub Ipv4Addr);

impl fmt::Display for Dotted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 15];
        let mut n = 0;
        for (i, o) in self.0.octets().into_iter().enumerate() {
            if i > 0 {
                buf[n] = b'.';
                n += 1;
            }
            for (d, at_least) in [(o / 100, 100), (o / 10 % 10, 10), (o % 10, 0)] {
                if o >= at_least {
                    buf[n] = b'0' + d;
                    n += 1;
                }
            }
        }
        f.pad(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

/// The IP/port/MAC header fields a transposition can change.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Headers {
    pub src: IpAddr,
    pub src_port: u16,
    pub dst: IpAddr,
    pub dst_port: u16,
    pub src_mac: Mac,
    pub dst_mac: Mac,
}

impl fmt::Display for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} -> {}:{} [{} -> {}]",
            self.src, self.src_port, self.dst, self.dst_port, self.src_mac, self.dst_mac
        )
    }
}

/// What an ACL rule did.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Action {
    Allow,
    Block,
}

/// `NAMES` (every variant's name) and `name()` from one list: the match in `name()` is
/// exhaustive, so a new variant cannot be left out of `NAMES` (scenario validation checks
/// expectation names against it).
macro_rules! variant_names {
    ($t:ident; $($v:ident),* $(,)?) => {
        /// Every variant's name, in declaration order.
        pub const NAMES: &'static [&'static str] = &[$(stringify!($v)),*];
        /// The variant name, as in ARCHITECTURE.md (`Delivered`, `DeniedIn`, `Encap`, …).
        pub fn name(&self) -> &'static str {
            match self {
                $($t::$v { .. } => stringify!($v),)*
            }
        }
    };
}

/// Whether a packet set up a new flow (slow path) or matched an existing one (fast path).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SessionOp {
    Setup,
    Match,
}

/// One typed step inside a hop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step")]
pub enum Step {
    /// An ACL (or another filtering layer) matched.
    Filter {
        layer: String,
        rule: String,
        action: Action,
        priority: u16,
    },
    /// A header transposition (DNAT, SNAT, MAC rewrite, reverse NAT).
    Transform {
        layer: String,
        rule: String,
        before: Headers,
        after: Headers,
    },
    /// A load balancer chose a backend.
    LoadBalance {
        lb: String,
        vip: IpAddr,
        port: u16,
        backend: String,
    },
    /// A route lookup.
    Route {
        table: String,
        prefix: String,
        next_hop: String,
    },
    /// VXLAN encapsulation.
    Encap {
        vni: u32,
        outer_src: Ipv4Addr,
        outer_dst: Ipv4Addr,
        udp_port: u16,
        inner_dst_mac: Mac,
        outer_src_mac: Mac,
        outer_dst_mac: Mac,
    },
    /// VXLAN decapsulation.
    Decap { vni: u32 },
    /// Unified flow table: a flow was set up (slow path) or matched (fast path).
    Session { setup_or_match: SessionOp, flow: String },
    /// Neighbour resolution (real ARP request/reply frames are captured when not cached).
    Arp {
        who_has: Ipv4Addr,
        is_at: Option<Mac>,
        cached: bool,
    },
    /// IPv6 neighbour discovery by a container's stack (real NS/NA frames are captured at the
    /// port when not cached).
    Nd {
        who_has: Ipv6Addr,
        is_at: Option<Mac>,
        cached: bool,
    },
    /// A vSwitch forwarding decision (MAC table hit or flood).
    Switch { mac: Mac, out_port: String },
    /// Put on a wire (underlay segment).
    Transmit { segment: String, bytes: usize },
    /// Handed to an application / socket.
    Deliver { to: String },
}

impl Step {
    variant_names!(Step;
        Filter, Transform, LoadBalance, Route, Encap, Decap, Session, Arp, Nd, Switch, Transmit, Deliver);
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Filter {
                layer,
                rule,
                action,
                priority,
            } => write!(f, "filter  {layer}: {rule} (priority {priority}) -> {action:?}"),
            Step::Transform {
                layer,
                rule,
                before,
                after,
            } => write!(f, "rewrite {layer}: {rule}: {before}  =>  {after}"),
            Step::LoadBalance {
                lb,
                vip,
                port,
                backend,
            } => write!(f, "lb      {lb}: {vip}:{port} -> backend {backend}"),
            Step::Route {
                table,
                prefix,
                next_hop,
            } => write!(f, "route   {table}: {prefix} via {next_hop}"),
            Step::Encap {
                vni,
                outer_src,
                outer_dst,
                udp_port,
                inner_dst_mac,
                outer_src_mac,
                outer_dst_mac,
            } => write!(
                f,
                "encap   vxlan vni {vni} {outer_src} -> {outer_dst} udp/{udp_port} [{outer_src_mac} -> {outer_dst_mac}], inner dst mac {inner_dst_mac}"
            ),
            Step::Decap { vni } => write!(f, "decap   vxlan vni {vni}"),
            Step::Session {
                setup_or_match,
                flow,
            } => write!(f, "session {setup_or_match:?} {flow}"),
            Step::Arp {
                who_has,
                is_at,
                cached,
            } => match is_at {
                Some(m) => write!(
                    f,
                    "arp     {who_has} is-at {m}{}",
                    if *cached { " (cached)" } else { "" }
                ),
                None => write!(f, "arp     who-has {who_has}: no answer"),
            },
            Step::Nd {
                who_has,
                is_at,
                cached,
            } => match is_at {
                Some(m) => write!(
                    f,
                    "nd      {who_has} is-at {m}{}",
                    if *cached { " (cached)" } else { "" }
                ),
                None => write!(f, "nd      who-has {who_has}: no answer"),
            },
            Step::Switch { mac, out_port } => write!(f, "switch  dst {mac} -> port {out_port}"),
            Step::Transmit { segment, bytes } => write!(f, "wire    {segment} ({bytes} bytes)"),
            Step::Deliver { to } => write!(f, "deliver {to}"),
        }
    }
}

/// One hop: a node (host, router, station) and the port the packet was processed at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub node: String,
    pub port: String,
    pub steps: Vec<Step>,
}

/// How a packet ended. Exactly one per packet. Names as in ARCHITECTURE.md "Traces and dispositions".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "disposition")]
pub enum Disposition {
    Delivered,
    /// Dropped by an inbound rule (ACL, or a VNET check such as an unknown VNI).
    DeniedIn {
        node: String,
        layer: String,
        rule: String,
        priority: u16,
        reason: String,
    },
    /// Dropped by an outbound rule.
    DeniedOut {
        node: String,
        layer: String,
        rule: String,
        priority: u16,
        reason: String,
    },
    NoRoute {
        node: String,
        reason: String,
    },
    /// Refused: TCP RST or ICMP port unreachable came back.
    NoListener {
        node: String,
        reason: String,
    },
    MtuExceeded {
        node: String,
        mtu: u16,
        size: u16,
    },
    TtlExceeded {
        node: String,
    },
    Loop {
        node: String,
        hops: u32,
    },
    NoMatchingLoadBalancer {
        node: String,
        vip: IpAddr,
        port: u16,
    },
    SnatPortsExhausted {
        node: String,
        address: IpAddr,
    },
    /// Dropped by an endpoint's `QOS` meter (`MaximumOutgoingBandwidthInBytes`, docs/qos.md).
    RateLimited {
        node: String,
        bytes_per_second: u64,
    },
    LinkDown {
        node: String,
    },
    HostDown {
        node: String,
    },
    Unsupported {
        node: String,
        what: String,
    },
    /// Lost on a lossy segment (seeded loss fault) or across a partition.
    Lost {
        segment: String,
        reason: String,
    },
}

impl Disposition {
    pub fn is_delivered(&self) -> bool {
        matches!(self, Disposition::Delivered)
    }
    variant_names!(Disposition;
        Delivered, DeniedIn, DeniedOut, NoRoute, NoListener, MtuExceeded, TtlExceeded, Loop,
        NoMatchingLoadBalancer, SnatPortsExhausted, RateLimited, LinkDown, HostDown, Unsupported, Lost);
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disposition::Delivered => write!(f, "Delivered"),
            Disposition::DeniedIn {
                node,
                layer,
                rule,
                priority,
                reason,
            }
            | Disposition::DeniedOut {
                node,
                layer,
                rule,
                priority,
                reason,
            } => write!(
                f,
                "{} at {node}: layer {layer}, rule {rule} (priority {priority}): {reason}",
                self.name()
            ),
            Disposition::NoRoute { node, reason } | Disposition::NoListener { node, reason } => {
                write!(f, "{} at {node}: {reason}", self.name())
            }
            Disposition::MtuExceeded { node, mtu, size } => {
                write!(f, "MtuExceeded at {node}: {size} bytes > MTU {mtu} with DF set")
            }
            Disposition::TtlExceeded { node } => write!(f, "TtlExceeded at {node}"),
            Disposition::Loop { node, hops } => {
                write!(f, "Loop at {node}: hop budget of {hops} spent")
            }
            Disposition::NoMatchingLoadBalancer { node, vip, port } => {
                write!(f, "NoMatchingLoadBalancer at {node}: {vip}:{port}")
            }
            Disposition::SnatPortsExhausted { node, address } => {
                write!(f, "SnatPortsExhausted at {node}: no free port block on {address}")
            }
            Disposition::RateLimited {
                node,
                bytes_per_second,
            } => write!(
                f,
                "RateLimited at {node}: QOS MaximumOutgoingBandwidthInBytes {bytes_per_second} B/s, token bucket empty"
            ),
            Disposition::LinkDown { node } => write!(f, "LinkDown at {node}"),
            Disposition::HostDown { node } => write!(f, "HostDown: {node}"),
            Disposition::Unsupported { node, what } => write!(f, "Unsupported at {node}: {what}"),
            Disposition::Lost { segment, reason } => write!(f, "Lost on {segment}: {reason}"),
        }
    }
}

/// The addresses and ports as the receiving application saw them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Seen {
    pub src: IpAddr,
    pub src_port: u16,
    pub dst: IpAddr,
    pub dst_port: u16,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} -> {}:{}",
            self.src, self.src_port, self.dst, self.dst_port
        )
    }
}

/// One packet's journey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub hops: Vec<Hop>,
    pub disposition: Disposition,
    /// The place (container id, endpoint GUID, `host:NAME`, `station:NAME`) that received it.
    pub delivered_to: Option<String>,
    pub seen: Option<Seen>,
}

impl Trace {
    /// Every step of every hop, in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.hops.iter().flat_map(|h| h.steps.iter())
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for h in &self.hops {
            writeln!(f, "  {} [{}]", h.node, h.port)?;
            for s in &h.steps {
                writeln!(f, "    {s}")?;
            }
        }
        write!(f, "  => {}", self.disposition)?;
        if let Some(to) = &self.delivered_to {
            write!(f, " to {to}")?;
        }
        if let Some(seen) = &self.seen {
            write!(f, " (seen as {seen})")?;
        }
        Ok(())
    }
}

/// A request and the reply it provoked (SYN-ACK, RST, UDP answer, ICMP echo reply or error).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exchange {
    pub request: Trace,
    pub reply: Option<Trace>,
}

impl Exchange {
    /// True when the request was delivered and the reply came back to the sender.
    pub fn completed(&self) -> bool {
        self.request.disposition.is_delivered()
            && self.reply.as_ref().is_some_and(|r| r.disposition.is_delivered())
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "request:")?;
        writeln!(f, "{}", self.request)?;
        match &self.reply {
            Some(r) => write!(f, "reply:\n{r}"),
            None => write!(f, "reply: none"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_writes_what_ipv4addr_display_writes() {
        for o in 0..=255u8 {
            for ip in [
                Ipv4Addr::new(o, 255 - o, o / 3, o.wrapping_mul(7)),
                Ipv4Addr::new(10, o, 0, o),
                Ipv4Addr::new(o, o, o, o),
            ] {
                assert_eq!(Dotted(ip).to_string(), ip.to_string());
                assert_eq!(format!("[{:>16}]", Dotted(ip)), format!("[{ip:>16}]"));
                assert_eq!(format!("[{:<16}]", Dotted(ip)), format!("[{ip:<16}]"));
            }
        }
    }
}
