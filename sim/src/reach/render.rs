//! Grouping a sweep for people: per pair, the classes with the same outcome merged into port
//! ranges per protocol, Delivered first.

use super::classes::{merge, ranges_text, Range, FIRST_PORT, LAST_PORT};
use super::{Outcome, Outcomes, Pair, Proto, Reach};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// One outcome (set) of a pair and every (protocol, ranges) that got it, from the source ports
/// in `src` (empty: any source port).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Group {
    #[serde(flatten)]
    pub outcome: Outcomes,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub src: Vec<Range>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tcp: Vec<Range>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub udp: Vec<Range>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub icmp: bool,
}

impl Group {
    /// `tcp/1-79,81-65535 udp/1-65535 icmp`, then ` from ports 1-1023` where it holds for
    /// some source ports only.
    pub fn classes_text(&self) -> String {
        let mut parts = Vec::new();
        if !self.tcp.is_empty() {
            parts.push(format!("tcp/{}", ranges_text(&self.tcp)));
        }
        if !self.udp.is_empty() {
            parts.push(format!("udp/{}", ranges_text(&self.udp)));
        }
        if self.icmp {
            parts.push("icmp".into());
        }
        if !self.src.is_empty() {
            parts.push(format!("from ports {}", ranges_text(&self.src)));
        }
        parts.join(" ")
    }
}

impl Serialize for Outcomes {
    /// One outcome: its fields; several (one per backend): `{"backends": [...]}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Outcomes::One(one) => one.serialize(s),
            Outcomes::Backends(all) => {
                let all: Vec<&Outcome> = all.iter().map(|o| o.as_ref()).collect();
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("backends", &all)?;
                m.end()
            }
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.disposition)?;
        if let Some(to) = &self.delivered_to {
            write!(f, " ({to})")?;
        }
        if let Some(at) = &self.at {
            write!(f, " at {at}")?;
        }
        if let (None, Some(b)) = (&self.delivered_to, self.backend) {
            write!(f, " via {b}")?;
        }
        self.reply_text(f)
    }
}

impl Outcome {
    /// `, reply …` where the reply did not get through.
    fn reply_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reply {
            Some(r) if r != "Delivered" => write!(f, ", reply {r}"),
            _ => Ok(()),
        }
    }

    /// The printed form with the source address the receiver saw (for diffs, where a change of
    /// SNAT alone is a change).
    pub fn long(&self) -> String {
        match self.seen_from {
            Some(a) => format!("{self} seen from {a}"),
            None => self.to_string(),
        }
    }

    /// The outcome without the receiver and backend: what backends with the same fate share.
    fn fate(&self) -> Outcome {
        Outcome {
            delivered_to: None,
            backend: None,
            ..self.clone()
        }
    }

    /// Who got it: the receiver, else the backend the LB chose (`via`).
    fn who(&self) -> (Option<String>, Option<String>) {
        match (&self.delivered_to, self.backend) {
            (Some(to), _) => (Some(to.clone()), None),
            (None, Some(b)) => (None, Some(b.to_string())),
            _ => (None, None),
        }
    }
}

/// One outcome as [`Outcome`] prints it; several: the backends with one fate together
/// (`Delivered (pod/a, pod/b)`, `NoRoute at r1 via 10.0.0.5, 10.0.0.6`), fates apart
/// (` | `), Delivered first.
struct Shown<'a>(&'a Outcomes, bool);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Shown(all, long) = *self;
        type Who = (Vec<String>, Vec<String>);
        let mut fates: Vec<(Outcome, Who)> = Vec::new();
        for o in all.iter() {
            let fate = o.fate();
            let i = match fates.iter().position(|(x, _)| *x == fate) {
                Some(i) => i,
                None => {
                    fates.push((fate, Default::default()));
                    fates.len() - 1
                }
            };
            let (to, via) = o.who();
            fates[i].1 .0.extend(to);
            fates[i].1 .1.extend(via);
        }
        fates.sort_by_key(|(o, _)| !o.delivered());
        for (i, (fate, (to, via))) in fates.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            f.write_str(&fate.disposition)?;
            if !to.is_empty() {
                write!(f, " ({})", to.join(", "))?;
            }
            if let Some(at) = &fate.at {
                write!(f, " at {at}")?;
            }
            if !via.is_empty() {
                write!(f, " via {}", via.join(", "))?;
            }
            fate.reply_text(f)?;
            if let (true, Some(a)) = (long, fate.seen_from) {
                write!(f, " seen from {a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Outcomes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Shown(self, false).fmt(f)
    }
}

impl Outcomes {
    /// The printed form with the source addresses the receivers saw.
    pub fn long(&self) -> String {
        Shown(self, true).to_string()
    }
}

/// A pair's classes grouped by outcome: Delivered first, then in the order of each outcome's
/// first class. Where source ports are split, the source ranges with the same destination
/// ranges are merged into one group.
pub fn groups(p: &Pair) -> Vec<Group> {
    // Outcome → protocol → source interval (None: any) → destination ranges.
    type BySrc = BTreeMap<Option<Range>, Vec<Range>>;
    let mut order: Vec<&Outcomes> = Vec::new();
    let mut by: BTreeMap<&Outcomes, ([BySrc; 2], bool)> = BTreeMap::new();
    for (c, o) in &p.classes {
        if !by.contains_key(o) {
            order.push(o);
        }
        let e = by.entry(o).or_default();
        match (c.proto, c.ports) {
            (Proto::Tcp, Some(r)) => e.0[0].entry(c.src).or_default().push(r),
            (Proto::Udp, Some(r)) => e.0[1].entry(c.src).or_default().push(r),
            _ => e.1 = true,
        }
    }
    order.sort_by_key(|o| !o.delivered());
    let mut out = Vec::new();
    for o in order {
        let Some((protos, icmp)) = by.remove(o) else {
            continue;
        };
        // (source ranges, tcp, udp) with equal destination ranges merged over sources.
        let mut rows: Vec<(Vec<Range>, Vec<Range>, Vec<Range>)> = Vec::new();
        for (i, by_src) in protos.into_iter().enumerate() {
            let mut same: Vec<(Vec<Range>, Vec<Range>)> = Vec::new();
            for (src, dst) in by_src {
                let dst = merge(dst);
                match same.iter_mut().find(|(d, _)| *d == dst) {
                    Some((_, srcs)) => srcs.extend(src),
                    None => same.push((dst, src.into_iter().collect())),
                }
            }
            for (dst, srcs) in same {
                let srcs = any_if_all(merge(srcs));
                let row = match rows.iter_mut().find(|r| r.0 == srcs) {
                    Some(r) => r,
                    None => {
                        rows.push((srcs, Vec::new(), Vec::new()));
                        rows.last_mut().expect("just pushed")
                    }
                };
                if i == 0 {
                    row.1 = dst;
                } else {
                    row.2 = dst;
                }
            }
        }
        if icmp && !rows.iter().any(|r| r.0.is_empty()) {
            rows.push((Vec::new(), Vec::new(), Vec::new()));
        }
        rows.sort_by(|a, b| (!a.0.is_empty(), &a.0).cmp(&(!b.0.is_empty(), &b.0)));
        for (src, tcp, udp) in rows {
            out.push(Group {
                outcome: o.clone(),
                icmp: icmp && src.is_empty(),
                src,
                tcp,
                udp,
            });
        }
    }
    out
}

/// Source ranges covering every port print as nothing: empty.
pub fn any_if_all(srcs: Vec<Range>) -> Vec<Range> {
    match srcs.as_slice() {
        [Range {
            lo: FIRST_PORT,
            hi: LAST_PORT,
        }] => Vec::new(),
        _ => srcs,
    }
}

/// `FROM → ADDR (LABEL)`.
pub fn pair_title(from: &str, to: &str, addr: &impl fmt::Display) -> String {
    if to == addr.to_string() {
        format!("{from} → {addr}")
    } else {
        format!("{from} → {addr} ({to})")
    }
}

/// One line per pair.
pub fn text(r: &Reach) -> String {
    let mut out = String::new();
    for p in &r.pairs {
        // Rows of one outcome (several where source ports are split) share its text.
        let mut gs: Vec<String> = Vec::new();
        let all = groups(p);
        for (i, g) in all.iter().enumerate() {
            let last_of_outcome = all.get(i + 1).is_none_or(|n| n.outcome != g.outcome);
            let mut t = g.classes_text();
            if last_of_outcome {
                t = format!("{t} {}", g.outcome.long());
            }
            match gs.last_mut() {
                Some(prev) if i > 0 && all[i - 1].outcome == g.outcome => {
                    prev.push_str(", ");
                    prev.push_str(&t);
                }
                _ => gs.push(t),
            }
        }
        out.push_str(&format!(
            "{}: {}\n",
            pair_title(&p.from, &p.to, &p.address()),
            gs.join("; ")
        ));
    }
    if r.witnesses == r.classes {
        out.push_str(&format!(
            "{} pairs, {} classes (one witness packet each)\n",
            r.pairs.len(),
            r.classes
        ));
    } else {
        out.push_str(&format!(
            "{} pairs, {} classes, {} witness packets (one per backend where an LB spreads a class)\n",
            r.pairs.len(),
            r.classes,
            r.witnesses
        ));
    }
    // Never a silent cut: name every class whose combinations of backends were not all sent.
    for c in &r.capped {
        out.push_str(&format!(
            "not every combination of LB backends followed: {} {} lists {} outcome(s), more \
             ways exist (bound: docs/reach.md)\n",
            pair_title(&c.from, &c.to, &c.to),
            class_text(&c.class),
            c.listed
        ));
    }
    out
}

/// `tcp/80`, `udp/53 from ports 1-1023`, `icmp`.
pub fn class_text(c: &super::Class) -> String {
    let mut t = c.proto.name().to_string();
    if let Some(r) = c.ports {
        t.push_str(&format!("/{r}"));
    }
    if let Some(r) = c.src {
        t.push_str(&format!(" from ports {r}"));
    }
    t
}

/// The JSON form: pairs with their groups, and the class count.
pub fn json(r: &Reach) -> serde_json::Value {
    let pairs: Vec<serde_json::Value> = r
        .pairs
        .iter()
        .map(|p| {
            let mut j = serde_json::json!({
                "from": p.from,
                "to": p.to,
                "address": p.address(),
                "classes": p.classes.len(),
                "groups": groups(p),
            });
            if p.span.is_some() {
                // An address atom: the address its witnesses went to.
                j["witness"] = serde_json::json!(p.addr.to_string());
            }
            j
        })
        .collect();
    let mut j = serde_json::json!({"pairs": pairs, "classes": r.classes, "witnesses": r.witnesses});
    if !r.capped.is_empty() {
        j["capped"] = serde_json::json!(r.capped);
    }
    j
}
