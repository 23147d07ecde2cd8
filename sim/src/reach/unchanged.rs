//! `reach-unchanged:` scenario expectations: the changes a what-if diff found, against the
//! ones the scenario allows (`except:`). Every changed piece must be allowed by an entry, and
//! every entry's classes must all have changed as it says: the step names exactly the flows a
//! change broke (or mended).

use super::atoms::Span;
use super::classes::{PortSplit, Range, FIRST_PORT, LAST_PORT};
use super::diff::Change;
use super::expect::{text_matches, Key};
use super::Proto;
use ipnet::IpNet;
use std::collections::BTreeMap;

/// One allowed change (`ReachChange` with its class parsed: no class is every class).
pub struct Allowed<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub keys: Vec<Key>,
    pub was: Option<&'a str>,
    pub now: &'a str,
}

/// A (source, destination) pair of either side of a diff, as an entry may name it.
pub struct Dest<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub address: String,
    pub span: Span,
}

impl Allowed<'_> {
    /// Does the entry name this pair: its source, and its destination's name, its address
    /// (an atom's range as printed) or a prefix holding all of its addresses?
    fn names(&self, from: &str, to: &str, address: &str, span: &Span) -> bool {
        self.from == from
            && (self.to == to
                || self.to == address
                || (self.to.parse::<IpNet>()).is_ok_and(|n| n.contains(&span.lo) && n.contains(&span.hi)))
    }

    /// Is `c` a change of a pair the entry names?
    pub fn fits_pair(&self, c: &Change) -> bool {
        self.names(&c.from, &c.to, &c.address, &c.span)
    }

    /// Same pair, protocol and outcomes as `c` (ports aside)?
    fn fits(&self, c: &Change) -> bool {
        let side = |o: &Option<super::Outcomes>| {
            o.as_ref()
                .map(super::Outcomes::long)
                .unwrap_or_else(|| "(no such pair)".into())
        };
        self.names(&c.from, &c.to, &c.address, &c.span)
            && self.keys.iter().any(|k| k.proto == c.proto)
            && text_matches(&side(&c.after), self.now)
            && self.was.is_none_or(|w| text_matches(&side(&c.before), w))
    }

    /// The (destination ports × source ports) boxes the entry's keys of `proto` cover.
    fn boxes(&self, proto: Proto) -> Vec<PortBox> {
        self.keys
            .iter()
            .filter(|k| k.proto == proto)
            .map(|k| PortBox::of(proto, &k.ports, &k.src))
            .collect()
    }
}

/// Destination port ranges × source port ranges (all ports where none are listed; one dummy
/// range for ICMP, so that "covered" reads the same for every protocol).
struct PortBox {
    dst: Vec<Range>,
    src: Vec<Range>,
}

impl PortBox {
    fn of(proto: Proto, ports: &[Range], src: &[Range]) -> PortBox {
        let all = || {
            vec![Range {
                lo: FIRST_PORT,
                hi: LAST_PORT,
            }]
        };
        let or_all = |r: &[Range]| if r.is_empty() { all() } else { r.to_vec() };
        match proto {
            Proto::Icmp => PortBox {
                dst: all(),
                src: all(),
            },
            _ => PortBox {
                dst: or_all(ports),
                src: or_all(src),
            },
        }
    }

    fn holds(&self, dport: u16, sport: u16) -> bool {
        self.dst.iter().any(|r| r.contains(dport)) && self.src.iter().any(|r| r.contains(sport))
    }
}

/// Is every (destination, source) port pair of `want` inside one of `by`? Checked cell by cell
/// of the grid every box's range ends cut (a cell is inside a box or apart from it), so the
/// cost grows with the ranges written, not with the ports.
fn covered(want: &[PortBox], by: &[PortBox]) -> bool {
    let (mut d, mut s) = (PortSplit::default(), PortSplit::default());
    for b in want.iter().chain(by) {
        b.dst.iter().for_each(|r| d.add_range(r.lo, r.hi));
        b.src.iter().for_each(|r| s.add_range(r.lo, r.hi));
    }
    let (d, s) = (d.intervals(), s.intervals());
    d.iter().all(|dp| {
        s.iter().all(|sp| {
            let wanted = want.iter().any(|w| w.holds(dp.lo, sp.lo));
            !wanted || by.iter().any(|b| b.holds(dp.lo, sp.lo))
        })
    })
}

/// The verdict: per entry, whether every pair of `pairs` it names has changed, in all the
/// entry's classes, as it says (an entry naming no pair is not met); and every change no entry
/// allows (printed as `hnsim diff` prints it).
pub fn check(changes: &[Change], allowed: &[Allowed], pairs: &[Dest]) -> (Vec<bool>, Vec<String>) {
    let of_change = |c: &Change| PortBox::of(c.proto, &c.ports, &c.src);
    let unexpected = changes
        .iter()
        .filter(|c| {
            let by: Vec<PortBox> = allowed
                .iter()
                .filter(|a| a.fits(c))
                .flat_map(|a| a.boxes(c.proto))
                .collect();
            !covered(&[of_change(c)], &by)
        })
        .map(Change::text)
        .collect();
    let mut by_pair: BTreeMap<(&str, &str), Vec<&Change>> = BTreeMap::new();
    for c in changes {
        by_pair.entry((&c.from, &c.address)).or_default().push(c);
    }
    let entries = allowed
        .iter()
        .map(|a| {
            let mut named: Vec<(&str, &str)> = pairs
                .iter()
                .filter(|d| a.names(d.from, d.to, &d.address, &d.span))
                .map(|d| (d.from, d.address.as_str()))
                .collect();
            named.sort();
            named.dedup();
            !named.is_empty()
                && a.keys.iter().all(|k| {
                    named.iter().all(|pair| {
                        let by: Vec<PortBox> = (by_pair.get(pair).into_iter().flatten())
                            .filter(|c| c.proto == k.proto && a.fits(c))
                            .map(|c| of_change(c))
                            .collect();
                        covered(&[PortBox::of(k.proto, &k.ports, &k.src)], &by)
                    })
                })
        })
        .collect();
    (entries, unexpected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reach::expect::parse_key;
    use crate::reach::{Outcome, Outcomes};

    fn outcome(d: &str) -> Option<Outcomes> {
        Some(Outcomes::one(Outcome {
            disposition: d.into(),
            at: None,
            delivered_to: None,
            reply: None,
            seen_from: None,
            backend: None,
        }))
    }

    fn change(ports: &[(u16, u16)], before: &str, after: &str) -> Change {
        Change {
            from: "A".into(),
            to: "C".into(),
            address: "10.0.0.3".into(),
            proto: Proto::Tcp,
            ports: ports.iter().map(|&(lo, hi)| Range { lo, hi }).collect(),
            src: Vec::new(),
            before: outcome(before),
            after: outcome(after),
            span: Span {
                lo: "10.0.0.3".parse().unwrap(),
                hi: "10.0.0.3".parse().unwrap(),
            },
        }
    }

    /// The one pair the tests' changes are of.
    fn pairs() -> Vec<Dest<'static>> {
        vec![Dest {
            from: "A",
            to: "C",
            address: "10.0.0.3".into(),
            span: change(&[], "", "").span,
        }]
    }

    fn check(changes: &[Change], allowed: &[Allowed]) -> (Vec<bool>, Vec<String>) {
        super::check(changes, allowed, &pairs())
    }

    fn allow<'a>(key: &str, now: &'a str) -> Allowed<'a> {
        Allowed {
            from: "A",
            to: "10.0.0.3",
            keys: vec![parse_key(key).unwrap()],
            was: None,
            now,
        }
    }

    #[test]
    fn exactly_the_allowed_classes_pass() {
        let c = [change(&[(22, 22)], "DeniedIn", "Delivered")];
        assert_eq!(check(&c, &[allow("tcp/22", "Delivered")]), (vec![true], vec![]));
        // A wider entry than what changed: tcp/23 did not change.
        assert_eq!(check(&c, &[allow("tcp/22-23", "Delivered")]).0, vec![false]);
        // Another outcome than the one allowed: the change is unexpected, the entry unmet.
        let (ok, bad) = check(&c, &[allow("tcp/22", "NoRoute")]);
        assert_eq!(ok, vec![false]);
        assert_eq!(bad.len(), 1);
        // No entry at all.
        assert_eq!(check(&c, &[]).1.len(), 1);
    }

    #[test]
    fn no_class_is_every_class() {
        let mut c = vec![change(&[(1, 65535)], "Delivered", "NotSent")];
        let every = |now| Allowed {
            keys: crate::reach::Proto::ALL
                .iter()
                .map(|p| parse_key(p.name()).unwrap())
                .collect(),
            ..allow("tcp", now)
        };
        // Only TCP changed: UDP and ICMP did not, so the entry is not met.
        assert_eq!(check(&c, &[every("NotSent")]), (vec![false], vec![]));
        for proto in [Proto::Udp, Proto::Icmp] {
            let mut x = change(&[(1, 65535)], "Delivered", "NotSent");
            x.proto = proto;
            if proto == Proto::Icmp {
                x.ports.clear();
            }
            c.push(x);
        }
        assert_eq!(check(&c, &[every("NotSent")]), (vec![true], vec![]));
    }

    #[test]
    fn source_ports_narrow_an_entry() {
        // Only source ports 40000-40999 changed.
        let mut c = change(&[(1, 65535)], "Delivered", "DeniedOut");
        c.src = vec![Range { lo: 40000, hi: 40999 }];
        let c = [c];
        let (ok, bad) = check(&c, &[allow("tcp from ports 40000-40999", "DeniedOut")]);
        assert_eq!((ok, bad.len()), (vec![true], 0));
        // Without source ports the entry speaks for every source port: not met, though the
        // change it allows is allowed.
        assert_eq!(check(&c, &[allow("tcp", "DeniedOut")]), (vec![false], vec![]));
        // Too narrow: part of the change is unexpected.
        let (ok, bad) = check(&c, &[allow("tcp from ports 40000-40499", "DeniedOut")]);
        assert_eq!((ok, bad.len()), (vec![true], 1));
        // Two entries together cover the change's source ports.
        let halves = [
            allow("tcp from ports 40000-40499", "DeniedOut"),
            allow("tcp from ports 40500-40999", "DeniedOut"),
        ];
        assert_eq!(check(&c, &halves), (vec![true, true], vec![]));
        // Destination and source ports both count.
        let (ok, bad) = check(&c, &[allow("tcp/80 from ports 40000-40999", "DeniedOut")]);
        assert_eq!((ok, bad.len()), (vec![true], 1));
    }

    #[test]
    fn a_change_may_span_several_entries() {
        let c = [change(&[(1, 79), (81, 65535)], "NoListener", "NoRoute")];
        let both = [allow("tcp/1-79", "NoRoute"), allow("tcp/81-65535", "NoRoute")];
        assert_eq!(check(&c, &both), (vec![true, true], vec![]));
        assert_eq!(check(&c, &both[..1]).1.len(), 1);
    }
}
