//! What-if: the classes whose outcome (disposition, rule, delivery point, reply) differs
//! between two sweeps. Pairs are matched by (source label, destination address); the two sides' class
//! boundaries are merged so a class split on one side only is compared piece by piece.

use super::atoms::Span;
use super::classes::{merge, ranges_text, PortSplit, Range, FIRST_PORT};
use super::render::{any_if_all, pair_title};
use super::{Outcomes, Pair, Proto, Reach};
use serde::Serialize;
use std::collections::BTreeMap;

/// One changed piece: a protocol and port ranges of one pair (from the source ports in `src`;
/// empty: any), the outcomes on each side (`None`: the pair does not exist on that side).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub from: String,
    pub to: String,
    pub address: String,
    pub proto: Proto,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Range>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub src: Vec<Range>,
    pub before: Option<Outcomes>,
    pub after: Option<Outcomes>,
    /// The destination's addresses (one, or an address atom's range).
    #[serde(skip)]
    pub span: Span,
}

impl Change {
    pub fn text(&self) -> String {
        let side = |o: &Option<Outcomes>| {
            o.as_ref()
                .map(Outcomes::long)
                .unwrap_or_else(|| "(no such pair)".into())
        };
        let mut ports = if self.ports.is_empty() {
            String::new()
        } else {
            format!("/{}", ranges_text(&self.ports))
        };
        if !self.src.is_empty() {
            ports.push_str(&format!(" from ports {}", ranges_text(&self.src)));
        }
        format!(
            "{} {}{ports}: {} ⇒ {}",
            pair_title(&self.from, &self.to, &self.address),
            self.proto.name(),
            side(&self.before),
            side(&self.after)
        )
    }
}

type Key = (String, String);

/// Every change from `before` to `after`, in (source, destination, protocol, port) order.
pub fn diff(before: &Reach, after: &Reach) -> Vec<Change> {
    let index = |r: &Reach| -> BTreeMap<Key, Pair> {
        r.pairs
            .iter()
            .map(|p| ((p.from.clone(), p.address()), p.clone()))
            .collect()
    };
    let (b, a) = (index(before), index(after));
    let mut keys: Vec<&Key> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        let (pb, pa) = (b.get(k), a.get(k));
        // A destination keeps its address when what serves it changes (A replaced by A2): name
        // it as it is after the change, or as it was when it is gone.
        let to = pa.or(pb).map(|p| p.to.clone()).unwrap_or_default();
        let span = pa.or(pb).map(Pair::span).expect("a key comes from a pair");
        for proto in Proto::ALL {
            // (before, after) → source piece → destination pieces.
            type Run = (
                Option<Outcomes>,
                Option<Outcomes>,
                BTreeMap<Option<Range>, Vec<Range>>,
            );
            let mut runs: Vec<Run> = Vec::new();
            let srcs = source_pieces(proto, pb, pa);
            for piece in pieces(proto, pb, pa) {
                let port = piece.map(|r| r.lo).unwrap_or(0);
                for src in &srcs {
                    let sport = src.map(|r| r.lo).unwrap_or(FIRST_PORT);
                    let ob = pb.and_then(|p| p.predict(proto, sport, port)).cloned();
                    let oa = pa.and_then(|p| p.predict(proto, sport, port)).cloned();
                    if ob == oa {
                        continue;
                    }
                    let run = match runs.iter_mut().position(|(x, y, _)| *x == ob && *y == oa) {
                        Some(i) => &mut runs[i],
                        None => {
                            runs.push((ob, oa, BTreeMap::new()));
                            runs.last_mut().expect("just pushed")
                        }
                    };
                    run.2.entry(*src).or_default().extend(piece);
                }
            }
            for (ob, oa, by_src) in runs {
                // Source pieces with the same destination ranges are one change.
                let mut same: Vec<(Vec<Range>, Vec<Range>)> = Vec::new();
                for (src, ports) in by_src {
                    let ports = merge(ports);
                    match same.iter_mut().find(|(p, _)| *p == ports) {
                        Some((_, s)) => s.extend(src),
                        None => same.push((ports, src.into_iter().collect())),
                    }
                }
                for (ports, src) in same {
                    out.push(Change {
                        from: k.0.clone(),
                        to: to.clone(),
                        address: k.1.clone(),
                        proto,
                        ports,
                        src: any_if_all(merge(src)),
                        before: ob.clone(),
                        after: oa.clone(),
                        span,
                    });
                }
            }
        }
    }
    out
}

/// The source pieces of `proto` both sides' classes cut the port space into (`[None]`: no
/// side splits source ports).
fn source_pieces(proto: Proto, b: Option<&Pair>, a: Option<&Pair>) -> Vec<Option<Range>> {
    let mut s = PortSplit::default();
    let mut split = false;
    for p in b.into_iter().chain(a) {
        for (c, _) in &p.classes {
            if let (true, Some(r)) = (c.proto == proto, c.src) {
                s.add_range(r.lo, r.hi);
                split = true;
            }
        }
    }
    if !split {
        return vec![None];
    }
    s.intervals().into_iter().map(Some).collect()
}

/// The pieces of `proto` both sides' classes cut the port space into (`None` for ICMP).
fn pieces(proto: Proto, b: Option<&Pair>, a: Option<&Pair>) -> Vec<Option<Range>> {
    if proto == Proto::Icmp {
        return vec![None];
    }
    let mut s = PortSplit::default();
    for p in b.into_iter().chain(a) {
        for (c, _) in &p.classes {
            if let (true, Some(r)) = (c.proto == proto, c.ports) {
                s.add_range(r.lo, r.hi);
            }
        }
    }
    s.intervals().into_iter().map(Some).collect()
}
