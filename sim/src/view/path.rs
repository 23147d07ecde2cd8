//! A traced packet's path through a [`Topology`]: the node of every hop, with the underlay segment
//! of every `Transmit` step and the load balancer of every `LoadBalance` step in between, and
//! where it ended.
//!
//! Hops name a node (host, router, station) and a port: `uplink` or `host stack` (the host),
//! `eth0` (a station), a segment name (a router), or an endpoint's HNS name or GUID (its vNIC).
//! Drops name `NODE`, `HOST/PORT` or `container:ID`. An endpoint deleted before the end of the
//! scenario is no longer in the topology: its hops are drawn at its host.

use super::Topology;
use crate::trace::{Disposition, Step, Trace};

/// Where a packet went, as topology node indices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketPath {
    /// Visited nodes in order (consecutive duplicates removed).
    pub points: Vec<usize>,
    /// The node where a dropped packet ended.
    pub dropped_at: Option<usize>,
}

impl Topology {
    /// The node of a hop: `node` is a host, router or station name, `port` as in a trace.
    pub fn hop_node(&self, node: &str, port: &str) -> Option<usize> {
        if let Some(h) = self.find(&format!("host:{node}")) {
            return self.port_node(node, port).or(Some(h));
        }
        self.find(&format!("router:{node}"))
            .or_else(|| self.find(&format!("station:{node}")))
    }

    /// The node a disposition names (`NODE`, `HOST/PORT`, `container:ID`, `host:NAME`, …).
    pub fn place_node(&self, place: &str) -> Option<usize> {
        if let Some(c) = place.strip_prefix("container:") {
            return self.container_node(c);
        }
        for prefix in ["host:", "station:", "router:"] {
            if let Some(name) = place.strip_prefix(prefix) {
                return self.hop_node(name, "");
            }
        }
        match place.split_once('/') {
            Some((node, port)) => self.hop_node(node, port),
            None => self.hop_node(place, ""),
        }
    }

    /// The path of one traced packet.
    pub fn path_of(&self, t: &Trace) -> PacketPath {
        let mut points: Vec<usize> = Vec::new();
        let push = |points: &mut Vec<usize>, i: Option<usize>| {
            if let Some(i) = i {
                if points.last() != Some(&i) {
                    points.push(i);
                }
            }
        };
        for h in &t.hops {
            let at = self.hop_node(&h.node, &h.port);
            push(&mut points, at);
            for s in &h.steps {
                match s {
                    Step::Transmit { segment, .. } => {
                        push(&mut points, self.find(&format!("segment:{segment}")))
                    }
                    // Through the load balancer that chose the backend, and back.
                    Step::LoadBalance { lb, .. } => {
                        let lb = self.find(&format!("lb:{}/{lb}", h.node));
                        if lb.is_some() {
                            push(&mut points, lb);
                            push(&mut points, at);
                        }
                    }
                    _ => {}
                }
            }
        }
        let dropped_at = drop_place(&t.disposition).and_then(|p| match p {
            DropAt::Node(n) => self.place_node(n),
            DropAt::Segment(s) => self.find(&format!("segment:{s}")),
        });
        if let Some(d) = dropped_at {
            push(&mut points, Some(d));
        }
        PacketPath { points, dropped_at }
    }

    /// The drawn route between two visited nodes: up the layout tree from `a` to the first
    /// common ancestor and down to `b` (so a path follows endpoint → network → host → segment);
    /// a straight line when they share none (a router between segments).
    pub fn route(&self, a: usize, b: usize) -> Vec<usize> {
        let up = self.ancestors(a);
        let down = self.ancestors(b);
        match up.iter().position(|x| down.contains(x)) {
            Some(i) => {
                let common = up[i];
                let j = down.iter().position(|x| *x == common).unwrap_or(0);
                let mut out: Vec<usize> = up[..=i].to_vec();
                out.extend(down[..j].iter().rev());
                out
            }
            None => vec![a, b],
        }
    }
}

enum DropAt<'a> {
    Node(&'a str),
    Segment(&'a str),
}

fn drop_place(d: &Disposition) -> Option<DropAt<'_>> {
    use Disposition::*;
    Some(match d {
        Delivered => return None,
        DeniedIn { node, .. }
        | DeniedOut { node, .. }
        | NoRoute { node, .. }
        | NoListener { node, .. }
        | MtuExceeded { node, .. }
        | TtlExceeded { node }
        | Loop { node, .. }
        | NoMatchingLoadBalancer { node, .. }
        | SnatPortsExhausted { node, .. }
        | RateLimited { node, .. }
        | LinkDown { node }
        | HostDown { node }
        | Unsupported { node, .. } => DropAt::Node(node),
        Lost { segment, .. } => DropAt::Segment(segment),
    })
}
