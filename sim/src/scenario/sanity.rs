//! Checks of values that parse but cannot be meant (docs/inputs.md): an empty scenario name, a
//! prefix with host bits set, a multicast MAC on a host; and YAML merge keys (`<<: *anchor`)
//! inside HNS documents, which are expanded here so the document means what the YAML says.

use super::format::{hns_step, Step};
use super::locate::Seg;
use super::parse::{Loaded, ScenarioError};
use ipnet::IpNet;

fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

/// Every problem, unsorted (the caller sorts by position).
pub fn check(l: &Loaded) -> Vec<ScenarioError> {
    let s = &l.scenario;
    let mut out = Vec::new();
    let mut err = |path: &[Seg], msg: String| out.push(l.error_at(l.index.nearest(path), msg));
    if s.name.trim().is_empty() {
        err(
            &[k("name")],
            format!("expected a scenario name, found {:?}", s.name),
        );
    }
    for (name, seg) in &s.underlay.segments {
        if let Some(m) = host_bits(&seg.prefix) {
            err(&[k("underlay"), k("segments"), k(name), k("prefix")], m);
        }
    }
    for (name, r) in &s.underlay.routers {
        for (i, rt) in r.routes.iter().enumerate() {
            if let Some(m) = host_bits(&rt.prefix) {
                let p = [
                    k("underlay"),
                    k("routers"),
                    k(name),
                    k("routes"),
                    Seg::Index(i),
                    k("prefix"),
                ];
                err(&p, m);
            }
        }
    }
    for (name, h) in &s.hosts {
        for (i, rt) in h.routes.iter().enumerate() {
            if let Some(m) = host_bits(&rt.prefix) {
                err(&[k("hosts"), k(name), k("routes"), Seg::Index(i), k("prefix")], m);
            }
        }
        if let Some(m) = h.mac.and_then(|m| bad_mac(&m.to_string())) {
            err(&[k("hosts"), k(name), k("mac")], m);
        }
    }
    for (name, st) in &s.stations {
        if let Some(m) = st.mac.and_then(|m| bad_mac(&m.to_string())) {
            err(&[k("stations"), k(name), k("mac")], m);
        }
    }
    out
}

/// `10.0.0.5/24` → "… has host bits set; did you mean 10.0.0.0/24?".
fn host_bits(p: &IpNet) -> Option<String> {
    (p.addr() != p.network()).then(|| format!("prefix {p} has host bits set; did you mean {}?", p.trunc()))
}

/// A host's MAC must be a unicast, non-zero address (a multicast source MAC is dropped by every
/// switch).
fn bad_mac(m: &str) -> Option<String> {
    let first = u8::from_str_radix(m.get(..2)?, 16).ok()?;
    if first & 1 == 1 {
        return Some(format!(
            "expected a unicast MAC (first byte even), found the multicast address {m}"
        ));
    }
    (m.chars().all(|c| c == '0' || c == '-' || c == ':'))
        .then(|| format!("expected a unicast MAC, found the all-zero address {m}"))
}

/// Expand YAML merge keys (`<<: *net`) inside HNS documents and policies, so the document HNS
/// gets holds the merged keys rather than a literal `<<` key HNS would ignore.
pub fn expand_merge_keys(l: &mut Loaded) -> Result<(), ScenarioError> {
    let Loaded {
        scenario,
        index,
        file,
        ..
    } = l;
    for (i, step) in scenario.steps.iter_mut().enumerate() {
        let kind = step.kind();
        let values: Vec<&mut serde_yaml::Value> = match step {
            hns_step!(s) => s.doc.iter_mut().collect(),
            Step::AddEndpointPolicy(s)
            | Step::RemoveEndpointPolicy(s)
            | Step::UpdateEndpointPolicy(s)
            | Step::AddNetworkPolicy(s)
            | Step::RemoveNetworkPolicy(s) => s.policies.iter_mut().collect(),
            _ => continue,
        };
        for v in values {
            if let Err(e) = v.apply_merge() {
                let path = [k("steps"), Seg::Index(i), k(kind)];
                return Err(ScenarioError {
                    file: file.clone(),
                    pos: Some(index.nearest(&path)),
                    message: format!("a YAML merge key (`<<`) could not be expanded: {e}"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_and_macs() {
        assert_eq!(
            host_bits(&"10.0.0.5/24".parse().unwrap()).unwrap(),
            "prefix 10.0.0.5/24 has host bits set; did you mean 10.0.0.0/24?"
        );
        assert_eq!(host_bits(&"10.0.0.0/24".parse().unwrap()), None);
        assert!(bad_mac("01-00-5E-00-00-01").unwrap().contains("multicast"));
        assert!(bad_mac("00-00-00-00-00-00").unwrap().contains("all-zero"));
        assert_eq!(bad_mac("00-15-5D-00-00-01"), None);
    }

    #[test]
    fn merge_keys_in_documents_are_expanded() {
        let t = "name: x\nhosts: {n1: {ip: 10.0.0.1}}\nunderlay: {segments: {lan: {prefix: 10.0.0.0/24}}}\nnets:\nsteps:\n  - create-network:\n      doc:\n        <<: {Name: n, Type: L2Bridge}\n        Flags: 0\n";
        let t = t.replace("nets:\n", "");
        let l = super::super::parse_str("t.yaml", &t).unwrap();
        let Step::CreateNetwork(s) = &l.scenario.steps[0] else {
            panic!()
        };
        let doc = s.doc.as_ref().unwrap();
        assert_eq!(doc.get("Type").and_then(|v| v.as_str()), Some("L2Bridge"));
        assert!(doc.get("<<").is_none());
    }
}
