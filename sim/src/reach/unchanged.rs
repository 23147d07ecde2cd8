//! `reach-unchanged:` scenario expectations: the changes a what-if diff found, against the
//! ones the scenario allows (`except:`). Every changed piece must be allowed by an entry, and
//! every entry's classes must all have changed as it says: the step names exactly the flows a
//! change broke (or mended).

use super::classes::{merge, Range, FIRST_PORT, LAST_PORT};
use super::diff::Change;
use super::expect::{text_matches, Key};
use super::Proto;

/// One allowed change (`ReachChange` with its class parsed: no class is every class).
pub struct Allowed<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub keys: Vec<Key>,
    pub was: Option<&'a str>,
    pub now: &'a str,
}

impl Allowed<'_> {
    /// Same pair, protocol and outcomes as `c` (ports aside)?
    fn fits(&self, c: &Change) -> bool {
        let side = |o: &Option<super::Outcomes>| {
            o.as_ref()
                .map(super::Outcomes::long)
                .unwrap_or_else(|| "(no such pair)".into())
        };
        self.from == c.from
            && (self.to == c.to || self.to == c.address)
            && self.keys.iter().any(|k| k.proto == c.proto)
            && text_matches(&side(&c.after), self.now)
            && self.was.is_none_or(|w| text_matches(&side(&c.before), w))
    }

    fn ranges(&self, proto: Proto) -> Vec<Range> {
        self.keys
            .iter()
            .filter(|k| k.proto == proto)
            .flat_map(|k| whole(proto, &k.ports))
            .collect()
    }
}

/// The ranges a key or change covers: all ports when none are listed (one dummy range for
/// ICMP, so that "covered" reads the same for every protocol).
fn whole(proto: Proto, ports: &[Range]) -> Vec<Range> {
    if ports.is_empty() || proto == Proto::Icmp {
        vec![Range {
            lo: FIRST_PORT,
            hi: LAST_PORT,
        }]
    } else {
        ports.to_vec()
    }
}

/// Is every range of `r` inside the union of `by`?
fn covered(r: &[Range], by: Vec<Range>) -> bool {
    let by = merge(by);
    r.iter().all(|x| by.iter().any(|b| b.lo <= x.lo && x.hi <= b.hi))
}

/// The verdict: per entry, whether all its classes changed as it says; and every change no
/// entry allows (printed as `hnsim diff` prints it).
pub fn check(changes: &[Change], allowed: &[Allowed]) -> (Vec<bool>, Vec<String>) {
    let unexpected = changes
        .iter()
        .filter(|c| {
            let by: Vec<Range> = allowed
                .iter()
                .filter(|a| a.fits(c))
                .flat_map(|a| a.ranges(c.proto))
                .collect();
            !covered(&whole(c.proto, &c.ports), by)
        })
        .map(Change::text)
        .collect();
    let entries = allowed
        .iter()
        .map(|a| {
            a.keys.iter().all(|k| {
                let by: Vec<Range> = changes
                    .iter()
                    // An entry names no source ports: a change for some of them only does
                    // not meet it.
                    .filter(|c| c.proto == k.proto && c.src.is_empty() && a.fits(c))
                    .flat_map(|c| whole(c.proto, &c.ports))
                    .collect();
                covered(&whole(k.proto, &k.ports), by)
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
        }
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
    fn a_change_may_span_several_entries() {
        let c = [change(&[(1, 79), (81, 65535)], "NoListener", "NoRoute")];
        let both = [allow("tcp/1-79", "NoRoute"), allow("tcp/81-65535", "NoRoute")];
        assert_eq!(check(&c, &both), (vec![true, true], vec![]));
        assert_eq!(check(&c, &both[..1]).1.len(), 1);
    }
}
