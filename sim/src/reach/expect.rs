//! `reach:` scenario expectations: `PROTO` or `PROTO/RANGES`, optionally `from ports RANGES`
//! → the outcome every class there must get (`Delivered`, `DeniedIn`, or a longer prefix of the printed outcome such as
//! `DeniedIn at node/P ACL_SWITCH web-hole` or `Delivered (pod/default/web-a)`).

use super::classes::{merge, ranges_text, Range};
use super::render::any_if_all;
use super::{Outcomes, Pair, Proto};
use crate::trace::Disposition;

/// A parsed key: a protocol, its destination port ranges (empty: every port; always empty
/// for ICMP) and the source port ranges it speaks for (empty: every source port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub proto: Proto,
    pub ports: Vec<Range>,
    pub src: Vec<Range>,
}

/// `tcp`, `udp/53`, `tcp/1-79,81-65535`, `icmp`, and with source ports as `hnsim reach`
/// prints them: `tcp/8080 from ports 1024-65535`, `udp from port 53`.
pub fn parse_key(s: &str) -> Result<Key, String> {
    let (class, tail) = match s.trim().split_once(char::is_whitespace) {
        Some((c, t)) => (c, Some(t.trim())),
        None => (s.trim(), None),
    };
    let (p, ranges) = match class.split_once('/') {
        Some((p, r)) => (p, Some(r)),
        None => (class, None),
    };
    let proto = match p {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        other => {
            let hint = ["tcp", "udp", "icmp"]
                .iter()
                .find(|n| n.eq_ignore_ascii_case(other))
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "expected tcp, udp or icmp before `/PORTS`, found `{other}`{hint}"
            ));
        }
    };
    if proto == Proto::Icmp && (ranges.is_some() || tail.is_some()) {
        return Err(format!("icmp has no ports, found `{s}`"));
    }
    let ports = match ranges {
        Some(r) => port_ranges(s, r)?,
        None => Vec::new(),
    };
    let src = match tail {
        None => Vec::new(),
        Some(t) => {
            let words: Vec<&str> = t.split_whitespace().collect();
            match words.as_slice() {
                ["from", "ports" | "port", rest @ ..] if !rest.is_empty() => port_ranges(s, &rest.concat())?,
                _ => {
                    return Err(format!(
                        "expected `from ports RANGES` after `{class}`, found `{t}` (source ports \
                         are written as `hnsim reach` prints them: `{class} from ports 1024-65535`)"
                    ))
                }
            }
        }
    };
    Ok(Key { proto, ports, src })
}

/// `80,8000-8099` of key `s`: ranges of ports from 1 to 65535.
fn port_ranges(s: &str, ranges: &str) -> Result<Vec<Range>, String> {
    let mut ports = Vec::new();
    for part in ranges.split(',').map(str::trim) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let num = |x: &str| {
            x.trim()
                .parse::<u16>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("expected a port from 1 to 65535 in `{s}`, found `{x}`"))
        };
        let (lo, hi) = (num(lo)?, num(hi)?);
        if lo > hi {
            return Err(format!("expected LOW-HIGH in `{s}`, found {lo}-{hi}"));
        }
        ports.push(Range { lo, hi });
    }
    Ok(ports)
}

/// The value's first word must be a disposition name (or `NotSent`).
pub fn check_value(v: &str) -> Result<(), String> {
    let first = v.split([' ', ',', '(']).next().unwrap_or("");
    if first == "NotSent" || Disposition::NAMES.contains(&first) {
        return Ok(());
    }
    let hint = Disposition::NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(first))
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    Err(format!(
        "expected a disposition ({}) at the start of the value, found `{first}`{hint}",
        Disposition::NAMES.join(", ")
    ))
}

/// Does `o` print as `want`, or start with it (followed by a space or comma)?
pub fn matches(o: &Outcomes, want: &str) -> bool {
    text_matches(&o.to_string(), want)
}

/// Is `t` equal to `want`, or does it start with it followed by a space or comma?
pub fn text_matches(t: &str, want: &str) -> bool {
    t == want
        || t.strip_prefix(want)
            .is_some_and(|rest| rest.starts_with([' ', ',']))
}

/// The overlap of `have` (a class's interval; `None`: all) with `want` (a key's ranges; empty:
/// all), as ranges (empty: all, `None`: no overlap).
fn overlap(have: Option<Range>, want: &[Range]) -> Option<Vec<Range>> {
    match (have, want.is_empty()) {
        (None, _) => Some(want.to_vec()),
        (Some(r), true) => Some(vec![r]),
        (Some(r), false) => {
            let v: Vec<Range> = want
                .iter()
                .filter(|k| k.lo <= r.hi && r.lo <= k.hi)
                .map(|k| Range {
                    lo: k.lo.max(r.lo),
                    hi: k.hi.min(r.hi),
                })
                .collect();
            (!v.is_empty()).then_some(v)
        }
    }
}

/// The pieces of `key` whose class got something other than `want`: (class text, outcome),
/// the text as `hnsim reach` prints classes (`tcp/80 from ports 1-1023`).
pub fn mismatches(pair: &Pair, key: &Key, want: &str) -> Vec<(String, Outcomes)> {
    // (outcome, source ranges) → destination ranges.
    let mut bad: Vec<(Outcomes, Vec<Range>, Vec<Range>)> = Vec::new();
    for (c, o) in pair.classes.iter().filter(|(c, _)| c.proto == key.proto) {
        let dst = match c.ports {
            None => Some(Vec::new()),
            Some(r) => overlap(Some(r), &key.ports),
        };
        let (Some(dst), Some(src)) = (dst, overlap(c.src, &key.src)) else {
            continue;
        };
        if matches(o, want) {
            continue;
        }
        let src = any_if_all(merge(src));
        match bad.iter_mut().find(|(b, s, _)| b == o && *s == src) {
            Some(e) => e.2.extend(dst),
            None => bad.push((o.clone(), src, dst)),
        }
    }
    // Source pieces with the same outcome and destination ranges are one piece.
    let mut joined: Vec<(Outcomes, Vec<Range>, Vec<Range>)> = Vec::new();
    for (o, src, dst) in bad {
        let dst = merge(dst);
        match joined
            .iter_mut()
            .find(|(b, s, d)| *b == o && *d == dst && !s.is_empty())
        {
            Some(e) if !src.is_empty() => e.1 = merge(e.1.iter().copied().chain(src)),
            _ => joined.push((o, src, dst)),
        }
    }
    joined
        .into_iter()
        .map(|(o, src, dst)| {
            let mut text = if dst.is_empty() {
                key.proto.name().to_string()
            } else {
                format!("{}/{}", key.proto.name(), ranges_text(&dst))
            };
            if !src.is_empty() {
                text.push_str(&format!(" from ports {}", ranges_text(&src)));
            }
            (text, o)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reach::Outcome;

    #[test]
    fn keys_parse_with_located_errors() {
        assert_eq!(
            parse_key("tcp/1-79,81-65535").unwrap().ports,
            vec![Range { lo: 1, hi: 79 }, Range { lo: 81, hi: 65535 }]
        );
        assert_eq!(parse_key("icmp").unwrap().proto, Proto::Icmp);
        assert!(parse_key("icmp/5").unwrap_err().contains("icmp has no ports"));
        assert!(parse_key("sctp/5").unwrap_err().contains("found `sctp`"));
        assert!(parse_key("tcp/0").unwrap_err().contains("found `0`"));
        assert!(parse_key("tcp/9-8").unwrap_err().contains("found 9-8"));
        assert!(parse_key("tcp/70000").unwrap_err().contains("found `70000`"));
        assert!(parse_key("TCP/80").unwrap_err().contains("did you mean `tcp`?"));
    }

    #[test]
    fn keys_name_source_ports_as_reach_prints_them() {
        let k = parse_key("tcp/8080 from ports 1024-39999,41000-65535").unwrap();
        assert_eq!(k.ports, vec![Range { lo: 8080, hi: 8080 }]);
        assert_eq!(
            k.src,
            vec![Range { lo: 1024, hi: 39999 }, Range { lo: 41000, hi: 65535 }]
        );
        let k = parse_key("udp  from port 53").unwrap();
        assert_eq!((k.ports.len(), k.src), (0, vec![Range { lo: 53, hi: 53 }]));
        assert!(parse_key("tcp/80").unwrap().src.is_empty());
        let e = parse_key("tcp/80 from-port 1024").unwrap_err();
        assert!(
            e.contains("expected `from ports RANGES` after `tcp/80`, found `from-port 1024`"),
            "{e}"
        );
        assert!(e.contains("`tcp/80 from ports 1024-65535`"), "{e}");
        assert!(parse_key("tcp/80 from ports")
            .unwrap_err()
            .contains("expected `from ports RANGES`"));
        assert!(parse_key("tcp from ports 0-9").unwrap_err().contains("found `0`"));
        assert!(parse_key("tcp from ports 9-8").unwrap_err().contains("found 9-8"));
        assert!(parse_key("icmp from ports 1-5")
            .unwrap_err()
            .contains("icmp has no ports"));
    }

    #[test]
    fn mismatches_name_the_source_ports_they_hold_for() {
        use crate::reach::{Class, Outcomes};
        let out = |d: &str| {
            Outcomes::one(Outcome {
                disposition: d.into(),
                at: None,
                delivered_to: None,
                reply: None,
                seen_from: None,
                backend: None,
            })
        };
        let class = |lo, hi, src: Option<(u16, u16)>| Class {
            proto: Proto::Tcp,
            ports: Some(Range { lo, hi }),
            src: src.map(|(lo, hi)| Range { lo, hi }),
        };
        let pair = Pair {
            from: "Q".into(),
            to: "P".into(),
            addr: "10.0.0.2".parse().unwrap(),
            span: None,
            classes: vec![
                (class(1, 65535, Some((1, 1023))), out("DeniedIn")),
                (class(1, 65535, Some((1024, 39999))), out("Delivered")),
                (class(1, 65535, Some((40000, 40999))), out("DeniedOut")),
                (class(1, 65535, Some((41000, 65535))), out("Delivered")),
            ],
        };
        let bad = |k: &str, want: &str| {
            mismatches(&pair, &parse_key(k).unwrap(), want)
                .into_iter()
                .map(|(t, o)| format!("{t} {o}"))
                .collect::<Vec<_>>()
        };
        assert!(bad("tcp/80 from ports 1024-39999,41000-65535", "Delivered").is_empty());
        assert_eq!(
            bad("tcp/80 from ports 1000-41000", "Delivered"),
            vec![
                "tcp/80 from ports 1000-1023 DeniedIn",
                "tcp/80 from ports 40000-40999 DeniedOut"
            ]
        );
        // Pieces of one outcome over several source intervals are named together.
        assert_eq!(
            bad("tcp/80 from ports 1024-65535", "DeniedIn"),
            vec![
                "tcp/80 from ports 1024-39999,41000-65535 Delivered",
                "tcp/80 from ports 40000-40999 DeniedOut"
            ]
        );
        // No source ports: every source port must hold.
        assert_eq!(bad("tcp/80", "Delivered").len(), 2);
    }

    #[test]
    fn values_start_with_a_disposition() {
        assert!(check_value("DeniedIn at node/P ACL_SWITCH web-hole").is_ok());
        assert!(check_value("Delivered (P)").is_ok());
        assert!(check_value("deniedin")
            .unwrap_err()
            .contains("did you mean `DeniedIn`"));
    }

    #[test]
    fn a_prefix_matches_only_at_a_word_end() {
        let o = Outcomes::one(Outcome {
            disposition: "DeniedIn".into(),
            at: Some("node/P ACL_SWITCH web-hole".into()),
            delivered_to: None,
            reply: None,
            seen_from: None,
            backend: None,
        });
        assert!(matches(&o, "DeniedIn"));
        assert!(matches(&o, "DeniedIn at node/P ACL_SWITCH web-hole"));
        assert!(!matches(&o, "DeniedIn at node/P ACL_SWITCH web"));
        assert!(!matches(&o, "Denied"));
    }
}
