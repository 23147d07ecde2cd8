//! A deterministic layered layout: routers, then segments (bars), hosts and stations, networks,
//! endpoints, load balancers, top to bottom. Each host owns a block of columns wide enough for
//! its endpoints (every network as wide as its endpoints) and its load balancers; blocks are
//! grouped by segment, and a segment's bar spans its members. Routers sit above the middle of the
//! segments they join. Integer coordinates only, so the output is byte-stable.

use super::{Kind, Topology};

/// Horizontal space per column and the size of a node box, in SVG user units (px).
pub const SLOT: i32 = 168;
pub const BOX_W: i32 = 156;
pub const BOX_H: i32 = 50;
const ROW_GAP: i32 = 40;
const MARGIN: i32 = 16;
/// Thickness of a segment's bar.
pub const BAR_H: i32 = 12;

/// A node's box: centre and size.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// One box per topology node, same index.
    pub places: Vec<Place>,
    pub width: i32,
    pub height: i32,
}

fn row_of(k: Kind) -> usize {
    match k {
        Kind::Router => 0,
        Kind::Segment => 1,
        Kind::Host | Kind::Station => 2,
        Kind::Network => 3,
        Kind::Endpoint | Kind::RemoteEndpoint => 4,
        Kind::LoadBalancer => 5,
    }
}

/// Lay out `t`. Linear in the number of nodes and edges.
pub fn layout(t: &Topology) -> Layout {
    let n = t.nodes.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in t.nodes.iter().enumerate() {
        if let Some(p) = node.parent {
            children[p].push(i);
        }
    }
    let kids = |i: usize, pred: &dyn Fn(Kind) -> bool| -> Vec<usize> {
        children[i]
            .iter()
            .copied()
            .filter(|&c| pred(t.nodes[c].kind))
            .collect()
    };
    // Rows present, top to bottom.
    let mut present = [false; 6];
    for node in &t.nodes {
        present[row_of(node.kind)] = true;
    }
    let mut row_y = [0i32; 6];
    let mut y = MARGIN;
    for r in 0..6 {
        if present[r] {
            let h = if r == 1 { BAR_H + 24 } else { BOX_H };
            row_y[r] = y + h / 2;
            y += h + ROW_GAP;
        }
    }
    let height = y - ROW_GAP + MARGIN;
    let mut places = vec![Place::default(); n];
    let at = |col: i32, row: usize| Place {
        x: MARGIN + col * SLOT + SLOT / 2,
        y: row_y[row],
        w: BOX_W,
        h: BOX_H,
    };
    let mut col = 0i32;
    for s in (0..n).filter(|&i| t.nodes[i].kind == Kind::Segment) {
        let start = col;
        for m in kids(s, &|k| matches!(k, Kind::Host | Kind::Station)) {
            let block = col;
            let mut c = col;
            for net in kids(m, &|k| k == Kind::Network) {
                let eps = kids(net, &|k| matches!(k, Kind::Endpoint | Kind::RemoteEndpoint));
                let w = (eps.len() as i32).max(1);
                places[net] = at(c, 3);
                places[net].x += (w - 1) * SLOT / 2;
                for (k, e) in eps.into_iter().enumerate() {
                    places[e] = at(c + k as i32, 4);
                }
                c += w;
            }
            let lbs = kids(m, &|k| k == Kind::LoadBalancer);
            for (k, lb) in lbs.iter().enumerate() {
                places[*lb] = at(block + k as i32, 5);
            }
            let w = (c - block).max(lbs.len() as i32).max(1);
            places[m] = at(block, 2);
            places[m].x += (w - 1) * SLOT / 2;
            col = block + w;
        }
        if col == start {
            col += 1;
        }
        let (left, right) = (MARGIN + start * SLOT + 4, MARGIN + col * SLOT - 4);
        places[s] = Place {
            x: (left + right) / 2,
            y: row_y[1],
            w: right - left,
            h: BAR_H,
        };
    }
    // Routers: above the middle of their segments, then pushed apart left to right.
    let mut seg_xs: Vec<Vec<i32>> = vec![Vec::new(); n];
    for e in &t.edges {
        if t.nodes[e.a].kind == Kind::Router {
            seg_xs[e.a].push(places[e.b].x);
        }
    }
    let mut routers: Vec<(i32, usize)> = (0..n)
        .filter(|&i| t.nodes[i].kind == Kind::Router)
        .map(|r| {
            let xs = &seg_xs[r];
            let x = if xs.is_empty() {
                MARGIN + SLOT / 2
            } else {
                xs.iter().sum::<i32>() / xs.len() as i32
            };
            (x, r)
        })
        .collect();
    routers.sort();
    let mut min_x = MARGIN + SLOT / 2;
    for (x, r) in routers {
        let x = x.max(min_x);
        places[r] = Place {
            x,
            y: row_y[0],
            w: BOX_W,
            h: BOX_H,
        };
        min_x = x + SLOT;
    }
    let width = places
        .iter()
        .map(|p| p.x + p.w / 2)
        .max()
        .unwrap_or(0)
        .max(MARGIN + col * SLOT)
        + MARGIN;
    Layout {
        places,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{node, Edge, EdgeKind, Topology};
    use proptest::prelude::*;

    /// A topology of `shape`: per segment, per host, per network its endpoint count, and the
    /// host's load balancer count; `routers` routers joining every segment.
    fn build(shape: &[Vec<(Vec<usize>, usize)>], routers: usize) -> Topology {
        let mut t = Topology::default();
        let add = |t: &mut Topology, kind: Kind, parent: Option<usize>| {
            let i = t.nodes.len();
            let mut n = node(format!("{}:{i}", kind.as_str()), kind, format!("n{i}"));
            n.parent = parent;
            t.nodes.push(n);
            if let Some(p) = parent {
                t.edges.push(Edge {
                    a: p,
                    b: i,
                    kind: EdgeKind::Port,
                    label: String::new(),
                });
            }
            i
        };
        let mut segs = Vec::new();
        for hosts in shape {
            let s = add(&mut t, Kind::Segment, None);
            segs.push(s);
            for (nets, lbs) in hosts {
                let h = add(&mut t, Kind::Host, Some(s));
                for eps in nets {
                    let n = add(&mut t, Kind::Network, Some(h));
                    for _ in 0..*eps {
                        add(&mut t, Kind::Endpoint, Some(n));
                    }
                }
                for _ in 0..*lbs {
                    add(&mut t, Kind::LoadBalancer, Some(h));
                }
            }
        }
        for _ in 0..routers {
            let r = add(&mut t, Kind::Router, None);
            for &s in &segs {
                t.edges.push(Edge {
                    a: r,
                    b: s,
                    kind: EdgeKind::Link,
                    label: String::new(),
                });
            }
        }
        t.reindex();
        t
    }

    type Shape = (Vec<Vec<(Vec<usize>, usize)>>, usize);

    fn shape() -> impl Strategy<Value = Shape> {
        let host = (prop::collection::vec(0usize..5, 0..4), 0usize..4);
        (
            prop::collection::vec(prop::collection::vec(host, 0..4), 1..4),
            0usize..3,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn boxes_never_overlap_children_sit_below_and_all_fit((s, routers) in shape()) {
            let t = build(&s, routers);
            let l = layout(&t);
            prop_assert_eq!(&l, &layout(&t), "deterministic");
            let boxes: Vec<(usize, Place)> = (0..t.nodes.len())
                .filter(|&i| t.nodes[i].kind != Kind::Segment)
                .map(|i| (i, l.places[i]))
                .collect();
            for (k, (i, a)) in boxes.iter().enumerate() {
                for (j, b) in &boxes[k + 1..] {
                    let apart = a.x + a.w / 2 <= b.x - b.w / 2
                        || b.x + b.w / 2 <= a.x - a.w / 2
                        || a.y + a.h / 2 <= b.y - b.h / 2
                        || b.y + b.h / 2 <= a.y - a.h / 2;
                    prop_assert!(apart, "{} overlaps {}", t.nodes[*i].key, t.nodes[*j].key);
                }
            }
            for (i, n) in t.nodes.iter().enumerate() {
                let p = l.places[i];
                prop_assert!(p.x - p.w / 2 >= 0 && p.x + p.w / 2 <= l.width, "{} outside", n.key);
                prop_assert!(p.y - p.h / 2 >= 0 && p.y + p.h / 2 <= l.height, "{} outside", n.key);
                if let Some(parent) = n.parent {
                    prop_assert!(l.places[parent].y < p.y, "{} not below its parent", n.key);
                    if t.nodes[parent].kind == Kind::Segment {
                        let bar = l.places[parent];
                        prop_assert!(
                            (bar.x - bar.w / 2..=bar.x + bar.w / 2).contains(&p.x),
                            "{} hangs outside its segment's bar",
                            n.key
                        );
                    }
                }
            }
        }
    }
}
