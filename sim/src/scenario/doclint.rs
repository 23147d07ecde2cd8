//! Keys inside a scenario's HNS documents that HNS does not define (docs/inputs.md).
//!
//! HNS ignores a key it does not know, so a typo silently changes what a document means
//! (`RemoteAddress` for `RemoteAddresses` turns a Block ACL into block-all). The documents keep
//! every key (lossless), and `check`/`run` warn about each unknown one at its line and column
//! with a "did you mean"; `--strict` makes the warnings errors.

use super::format::{hns_step, Step};
use super::locate::Seg;
use super::parse::{Loaded, ScenarioError};
use hnsim_model::document::{
    decode_endpoint_policies, decode_endpoint_value, decode_load_balancer_value, decode_namespace_value,
    decode_network_policies, decode_network_value, decode_route_value,
};
use hnsim_model::schema::collect_unknown_keys;
use hnsim_model::state::lint::unknown_keys;
use serde_json::Value as Json;

/// Stands in for `${…}` strings while decoding: a GUID decodes wherever a GUID, an address or a
/// name is read, so an expression does not stop the key check.
const PLACEHOLDER: &str = "00000000-0000-0000-0000-000000000000";

/// A warning for every key HNS would ignore, in file order.
pub fn warnings(l: &Loaded) -> Vec<ScenarioError> {
    let mut out = Vec::new();
    for (i, step) in l.scenario.steps.iter().enumerate() {
        let kind = step.kind();
        let base = vec![Seg::Key("steps".into()), Seg::Index(i), Seg::Key(kind.into())];
        match step {
            hns_step!(s) => {
                let Some(doc) = &s.doc else { continue };
                if !kind.starts_with("create-") {
                    // Modify requests and queries carry free-form settings; only creates are checked.
                    continue;
                }
                let mut json = to_json(doc);
                if kind == "create-policylist" {
                    match super::runner::policylist_to_lb(&json) {
                        Ok(lb) => json = lb,
                        Err(_) => continue,
                    }
                }
                // The step says what the document is (kind detection needs the right keys, which
                // a typo may have removed).
                let (_, left) = collect_unknown_keys(|| match kind {
                    "create-network" => decode_network_value(&json).map(drop),
                    "create-endpoint" => decode_endpoint_value(&json).map(drop),
                    "create-namespace" => decode_namespace_value(&json).map(drop),
                    "create-route" => decode_route_value(&json).map(drop),
                    _ => decode_load_balancer_value(&json).map(drop),
                });
                let at = [base.clone(), vec![Seg::Key("doc".into())]].concat();
                push(l, &at, "$", &unknown_keys(&left), &mut out);
            }
            Step::AddEndpointPolicy(s)
            | Step::RemoveEndpointPolicy(s)
            | Step::UpdateEndpointPolicy(s)
            | Step::AddNetworkPolicy(s)
            | Step::RemoveNetworkPolicy(s) => {
                let settings = serde_json::json!({
                    "Policies": s.policies.iter().map(to_json).collect::<Vec<_>>()
                });
                let network = matches!(step, Step::AddNetworkPolicy(_) | Step::RemoveNetworkPolicy(_));
                let (_, left) = collect_unknown_keys(|| {
                    if network {
                        decode_network_policies(&settings).map(drop)
                    } else {
                        decode_endpoint_policies(&settings).map(drop)
                    }
                });
                let at = [base.clone(), vec![Seg::Key("policies".into())]].concat();
                push(l, &at, "$.Settings.Policies", &unknown_keys(&left), &mut out);
            }
            _ => {}
        }
    }
    out.sort_by_key(|e| e.pos);
    out
}

/// Locate each problem: `root` is the JSON path prefix that stands for `at` in the YAML.
fn push(
    l: &Loaded,
    at: &[Seg],
    root: &str,
    problems: &[hnsim_model::state::lint::Problem],
    out: &mut Vec<ScenarioError>,
) {
    for p in problems {
        let rel = p.path.strip_prefix(root).unwrap_or(&p.path);
        let path = [at.to_vec(), json_path_segs(rel)].concat();
        let shown = super::locate::path_string(&path);
        out.push(l.error_at(l.index.nearest(&path), format!("{shown}: {}", p.message)));
    }
}

/// A scenario document as JSON, with every `${…}` string replaced by [`PLACEHOLDER`].
fn to_json(v: &serde_yaml::Value) -> Json {
    let mut j = serde_json::to_value(v).unwrap_or(Json::Null);
    blank_expressions(&mut j);
    j
}

fn blank_expressions(j: &mut Json) {
    match j {
        Json::String(s) if s.contains("${") => *s = PLACEHOLDER.to_string(),
        Json::Array(a) => a.iter_mut().for_each(blank_expressions),
        Json::Object(m) => m.values_mut().for_each(blank_expressions),
        _ => {}
    }
}

/// `.A[0]["odd key"].B` → [A, 0, odd key, B].
pub fn json_path_segs(p: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push(Seg::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("[\"") {
            // A quoted key, escaped as Rust's `{:?}` does: find the closing `"]`.
            let end = r.find("\"]").unwrap_or(r.len());
            let key = serde_json::from_str::<String>(&format!("\"{}\"", &r[..end]))
                .unwrap_or_else(|_| r[..end].to_string());
            out.push(Seg::Key(key));
            rest = r.get(end + 2..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            match r[..end].parse() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => break,
            }
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_become_segments() {
        let k = |s: &str| Seg::Key(s.into());
        assert_eq!(
            json_path_segs(".Policies[0].Settings[\"odd key\"].X"),
            [k("Policies"), Seg::Index(0), k("Settings"), k("odd key"), k("X")]
        );
        assert_eq!(json_path_segs(""), []);
    }

    #[test]
    fn a_typo_in_an_acl_is_located_with_a_hint() {
        let t = "name: x\nhosts:\n  n1: {ip: 10.0.0.1}\nunderlay: {segments: {lan: {prefix: 10.0.0.0/24}}}\nsteps:\n  - add-endpoint-policy:\n      target: 00000000-0000-0000-0000-000000000001\n      policies:\n        - Type: ACL\n          Settings:\n            Action: Block\n            Direction: In\n            RemoteAddress: 10.0.0.9\n";
        let l = super::super::parse_str("t.yaml", t).unwrap();
        let w = warnings(&l);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(
            w[0].to_string(),
            "t.yaml:13:13: steps[0].add-endpoint-policy.policies[0].Settings.RemoteAddress: unknown key `RemoteAddress` in ACL settings; HNS ignores it; did you mean `RemoteAddresses`?"
        );
    }
}
