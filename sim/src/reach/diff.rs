//! What-if: the classes whose outcome (disposition, rule, delivery point, reply) differs
//! between two sweeps. Pairs are matched by (source label, destination address); the two sides' class
//! boundaries are merged so a class split on one side only is compared piece by piece.

use super::classes::{merge, ranges_text, PortSplit, Range};
use super::render::pair_title;
use super::{Outcome, Pair, Proto, Reach};
use serde::Serialize;
use std::collections::BTreeMap;

/// One changed piece: a protocol and port ranges of one pair, the outcome on each side
/// (`None`: the pair does not exist on that side).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub from: String,
    pub to: String,
    pub address: String,
    pub proto: Proto,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Range>,
    pub before: Option<Outcome>,
    pub after: Option<Outcome>,
}

impl Change {
    pub fn text(&self) -> String {
        let side = |o: &Option<Outcome>| {
            o.as_ref()
                .map(Outcome::long)
                .unwrap_or_else(|| "(no such pair)".into())
        };
        let ports = if self.ports.is_empty() {
            String::new()
        } else {
            format!("/{}", ranges_text(&self.ports))
        };
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
            .map(|p| ((p.from.clone(), p.addr.to_string()), p.clone()))
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
        for proto in Proto::ALL {
            let mut runs: Vec<(Option<Outcome>, Option<Outcome>, Vec<Range>)> = Vec::new();
            for piece in pieces(proto, pb, pa) {
                let port = piece.map(|r| r.lo).unwrap_or(0);
                let ob = pb.and_then(|p| p.predict(proto, port)).cloned();
                let oa = pa.and_then(|p| p.predict(proto, port)).cloned();
                if ob == oa {
                    continue;
                }
                match runs.iter_mut().find(|(x, y, _)| *x == ob && *y == oa) {
                    Some(run) => run.2.extend(piece),
                    None => runs.push((ob, oa, piece.into_iter().collect())),
                }
            }
            for (ob, oa, ports) in runs {
                out.push(Change {
                    from: k.0.clone(),
                    to: to.clone(),
                    address: k.1.clone(),
                    proto,
                    ports: merge(ports),
                    before: ob,
                    after: oa,
                });
            }
        }
    }
    out
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
