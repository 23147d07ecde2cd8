//! Grouping a sweep for people: per pair, the classes with the same outcome merged into port
//! ranges per protocol, Delivered first.

use super::classes::{merge, ranges_text, Range};
use super::{Outcome, Pair, Proto, Reach};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// One outcome of a pair and every (protocol, ranges) that got it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Group {
    #[serde(flatten)]
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tcp: Vec<Range>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub udp: Vec<Range>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub icmp: bool,
}

impl Group {
    /// `tcp/1-79,81-65535 udp/1-65535 icmp`.
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
        parts.join(" ")
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
        match &self.reply {
            Some(r) if r != "Delivered" => write!(f, ", reply {r}"),
            _ => Ok(()),
        }
    }
}

impl Outcome {
    /// The printed form with the source address the receiver saw (for diffs, where a change of
    /// SNAT alone is a change).
    pub fn long(&self) -> String {
        match self.seen_from {
            Some(a) => format!("{self} seen from {a}"),
            None => self.to_string(),
        }
    }
}

/// A pair's classes grouped by outcome: Delivered first, then in the order of each outcome's
/// first class.
pub fn groups(p: &Pair) -> Vec<Group> {
    let mut order: Vec<Outcome> = Vec::new();
    let mut by: BTreeMap<&Outcome, (Vec<Range>, Vec<Range>, bool)> = BTreeMap::new();
    for (c, o) in &p.classes {
        if !by.contains_key(o) {
            order.push(o.clone());
        }
        let e = by.entry(o).or_default();
        match (c.proto, c.ports) {
            (Proto::Tcp, Some(r)) => e.0.push(r),
            (Proto::Udp, Some(r)) => e.1.push(r),
            _ => e.2 = true,
        }
    }
    order.sort_by_key(|o| !o.delivered());
    order
        .into_iter()
        .map(|o| {
            let (tcp, udp, icmp) = by.remove(&o).unwrap_or_default();
            Group {
                outcome: o,
                tcp: merge(tcp),
                udp: merge(udp),
                icmp,
            }
        })
        .collect()
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
        let gs: Vec<String> = groups(p)
            .iter()
            .map(|g| format!("{} {}", g.classes_text(), g.outcome.long()))
            .collect();
        out.push_str(&format!(
            "{}: {}\n",
            pair_title(&p.from, &p.to, &p.addr),
            gs.join("; ")
        ));
    }
    out.push_str(&format!(
        "{} pairs, {} classes (one witness packet each)\n",
        r.pairs.len(),
        r.classes
    ));
    out
}

/// The JSON form: pairs with their groups, and the class count.
pub fn json(r: &Reach) -> serde_json::Value {
    let pairs: Vec<serde_json::Value> = r
        .pairs
        .iter()
        .map(|p| {
            serde_json::json!({
                "from": p.from,
                "to": p.to,
                "address": p.addr.to_string(),
                "classes": p.classes.len(),
                "groups": groups(p),
            })
        })
        .collect();
    serde_json::json!({"pairs": pairs, "classes": r.classes})
}
