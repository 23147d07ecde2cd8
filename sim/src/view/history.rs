//! The topology of a whole run: the world at the end, plus the objects that traced packets went
//! through but a later step deleted (an endpoint or load balancer removed by a lifecycle step,
//! a host's state lost in an HNS restart). Those are kept, marked `gone`, so every hop of every
//! packet has a node to be drawn at.
//!
//! A snapshot is taken after a traffic step only when some host's HNS generation moved since the
//! last one, so a run costs one snapshot per state change that traffic saw, not one per packet.
//! That is quadratic for a run that alternates changes and traffic, so the runner keeps a
//! history only when pictures are asked for (`RunOptions::pictures`, `--format html`).

use super::{Kind, Topology};
use crate::world::{NodeKind, World};

/// Snapshots of the topology seen by traffic, merged.
#[derive(Default)]
pub struct History {
    past: Topology,
    stamp: Option<Vec<u64>>,
}

/// Every host's HNS generation, in world order.
fn stamp(world: &World) -> Vec<u64> {
    world
        .nodes()
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Host(h) => Some(h.hns.generation),
            _ => None,
        })
        .collect()
}

impl History {
    /// After a step that sent packets in `world`: remember the topology they saw
    /// (`snapshot`, taken only if some host's HNS generation moved since the last one).
    pub fn saw_traffic(&mut self, world: &World, snapshot: impl FnOnce() -> Topology) {
        let now = stamp(world);
        if self.stamp.as_ref() != Some(&now) {
            let snap = snapshot();
            self.past.absorb(&snap, false);
            self.stamp = Some(now);
        }
    }

    /// The topology at the end (`end`) with every remembered object that is no longer there.
    pub fn finish(self, mut end: Topology) -> Topology {
        end.absorb(&self.past, true);
        end
    }
}

impl Topology {
    /// Add the nodes of `other` this topology lacks (by key; parents first, as `other` keeps
    /// them), with their edges; `gone` marks them as deleted before the end.
    pub(crate) fn absorb(&mut self, other: &Topology, gone: bool) {
        let mut map: Vec<Option<usize>> = Vec::with_capacity(other.nodes.len());
        for n in &other.nodes {
            let i = match self.find(&n.key) {
                Some(i) => i,
                None => {
                    let mut m = n.clone();
                    m.parent = n.parent.and_then(|p| map.get(p).copied().flatten());
                    m.gone |= gone;
                    if gone && m.kind != Kind::Segment {
                        m.details.push("deleted before the end".to_string());
                    }
                    self.nodes.push(m);
                    let i = self.nodes.len() - 1;
                    self.index_one(i);
                    i
                }
            };
            map.push(Some(i));
        }
        let have: std::collections::BTreeSet<(usize, usize)> =
            self.edges.iter().map(|e| (e.a, e.b)).collect();
        for e in &other.edges {
            if let (Some(a), Some(b)) = (map[e.a], map[e.b]) {
                if !have.contains(&(a, b)) {
                    let mut e = e.clone();
                    (e.a, e.b) = (a, b);
                    self.edges.push(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{node, EdgeKind};

    fn topo(keys: &[(&str, Option<usize>)]) -> Topology {
        let mut t = Topology::default();
        for (k, parent) in keys {
            let mut n = node(k.to_string(), Kind::Endpoint, k.to_string());
            n.parent = *parent;
            t.nodes.push(n);
        }
        for (i, (_, parent)) in keys.iter().enumerate() {
            if let Some(p) = parent {
                t.edges.push(crate::view::Edge {
                    a: *p,
                    b: i,
                    kind: EdgeKind::Port,
                    label: String::new(),
                });
            }
        }
        t.reindex();
        t
    }

    #[test]
    fn deleted_objects_are_kept_marked_gone_under_their_parent() {
        let mut end = topo(&[("host:h", None), ("endpoint:h/B", Some(0))]);
        let past = topo(&[
            ("host:h", None),
            ("endpoint:h/A", Some(0)),
            ("endpoint:h/B", Some(0)),
        ]);
        end.absorb(&past, true);
        let keys: Vec<&str> = end.nodes.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(keys, ["host:h", "endpoint:h/B", "endpoint:h/A"]);
        assert!(!end.nodes[1].gone && end.nodes[2].gone);
        assert_eq!(end.nodes[2].parent, Some(0));
        assert_eq!(end.nodes[2].details, ["deleted before the end"]);
        assert_eq!(end.find("endpoint:h/A"), Some(2));
        // One edge per pair: B's edge is not doubled, A's is added.
        assert_eq!(end.edges.len(), 2);
        assert!(end.edges.iter().any(|e| (e.a, e.b) == (0, 2)));
    }
}
