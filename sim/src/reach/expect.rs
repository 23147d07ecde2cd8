//! `reach:` scenario expectations: `PROTO` or `PROTO/RANGES` → the outcome every class there
//! must get (`Delivered`, `DeniedIn`, or a longer prefix of the printed outcome such as
//! `DeniedIn at node/P ACL_SWITCH web-hole` or `Delivered (pod/default/web-a)`).

use super::classes::{merge, ranges_text, Range};
use super::{Outcomes, Pair, Proto};
use crate::trace::Disposition;

/// A parsed key: a protocol and its port ranges (empty: every port; always empty for ICMP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub proto: Proto,
    pub ports: Vec<Range>,
}

/// `tcp`, `udp/53`, `tcp/1-79,81-65535`, `icmp`.
pub fn parse_key(s: &str) -> Result<Key, String> {
    let (p, ranges) = match s.split_once('/') {
        Some((p, r)) => (p, Some(r)),
        None => (s, None),
    };
    let proto = match p.trim() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        other => {
            return Err(format!(
                "expected tcp, udp or icmp before `/PORTS`, found `{other}`"
            ))
        }
    };
    let Some(ranges) = ranges else {
        return Ok(Key {
            proto,
            ports: Vec::new(),
        });
    };
    if proto == Proto::Icmp {
        return Err(format!("icmp has no ports, found `{s}`"));
    }
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
    Ok(Key { proto, ports })
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

/// The pieces of `key` whose class got something other than `want`: (ranges text, outcome).
pub fn mismatches(pair: &Pair, key: &Key, want: &str) -> Vec<(String, Outcomes)> {
    let mut bad: Vec<(Vec<Range>, Outcomes)> = Vec::new();
    for (c, o) in pair.classes.iter().filter(|(c, _)| c.proto == key.proto) {
        let pieces: Vec<Range> = match c.ports {
            None => vec![],
            Some(r) if key.ports.is_empty() => vec![r],
            Some(r) => key
                .ports
                .iter()
                .filter(|k| k.lo <= r.hi && r.lo <= k.hi)
                .map(|k| Range {
                    lo: k.lo.max(r.lo),
                    hi: k.hi.min(r.hi),
                })
                .collect(),
        };
        if (c.ports.is_some() && pieces.is_empty()) || matches(o, want) {
            continue;
        }
        match bad.iter_mut().find(|(_, b)| b == o) {
            Some(e) => e.0.extend(pieces),
            None => bad.push((pieces, o.clone())),
        }
    }
    bad.into_iter()
        .map(|(r, o)| {
            let r = merge(r);
            let text = if r.is_empty() {
                key.proto.name().to_string()
            } else {
                format!("{}/{}", key.proto.name(), ranges_text(&r))
            };
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
