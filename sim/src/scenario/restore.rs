//! The `restore:` step: load a host's HNS state exactly as a node dump showed it (IDs, MACs,
//! policies, remote endpoints, load balancers), through the model's import path rather than
//! create calls (docs/reference/node-dumps.md §6). `hnsim node import` writes scenarios that
//! start with one.
//!
//! ```yaml
//! - restore:
//!     host: node1
//!     source: tests/data/nodes/overlay-flannel
//!     names: {pod-a: 2462B2D1-C402-4024-9C86-5A6903AF7759}
//!     objects: [ {ID: …, Name: flannel.4096, Type: Overlay, …}, … ]
//! ```
//!
//! Dangling references (an LB backend that is not among the objects) do not fail the step:
//! they are reported in the step's reply, as the model's import reports them; so are the values
//! the compile cannot build (`CompileErrors`, only when there are some).

use super::interp::expand_value;
use hnsim_model::document::{decode_any_value, HnsDocument};
use hnsim_model::state::{Hns, ImportReport};
use hnsim_model::Guid;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RestoreStep {
    /// The host whose HNS state is restored; optional when the scenario has one host.
    #[serde(default)]
    pub host: Option<String>,
    /// Where the state came from (a dump folder, files), for the reader.
    #[serde(default)]
    pub source: Option<String>,
    /// Names for objects, usable like `as:` names (traffic from an endpoint, `${name.ID}`).
    #[serde(default)]
    pub names: IndexMap<String, String>,
    /// HNS documents (v2 or v1 shapes), any kinds, in any order.
    #[serde(default)]
    pub objects: Vec<serde_yaml::Value>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One decoded object of the step and its kind name.
fn decode(s: &RestoreStep) -> Result<Vec<HnsDocument>, String> {
    let mut docs = Vec::with_capacity(s.objects.len());
    for (i, o) in s.objects.iter().enumerate() {
        let v = expand_value(o, &mut &BTreeMap::<String, serde_json::Value>::new())?;
        let mut d = decode_any_value(&v).map_err(|e| format!("objects[{i}]: {e}"))?;
        docs.append(&mut d);
    }
    Ok(docs)
}

fn id_of(d: &HnsDocument) -> Guid {
    match d {
        HnsDocument::Network(x) => x.id,
        HnsDocument::Endpoint(x) => x.id,
        HnsDocument::Namespace(x) => x.id,
        HnsDocument::LoadBalancer(x) => x.id,
        HnsDocument::Route(x) => x.id,
    }
}

/// The kind (`network`, `endpoint`, …) of each name, for validation: every name must be the
/// ID of one of the step's objects.
pub fn name_kinds(s: &RestoreStep) -> Result<Vec<(String, &'static str)>, String> {
    let docs = decode(s)?;
    let by_id: BTreeMap<Guid, &'static str> = docs.iter().map(|d| (id_of(d), kind_word(d))).collect();
    s.names
        .iter()
        .map(|(n, id)| {
            let g: Guid = id
                .parse()
                .map_err(|_| format!("names.{n}: expected a GUID, found {id:?}"))?;
            by_id
                .get(&g)
                .map(|k| (n.clone(), *k))
                .ok_or_else(|| format!("names.{n}: {id} is not the ID of any object in `objects`"))
        })
        .collect()
}

/// The kind word the scenario validator uses (`loadbalancer`, not `load balancer`).
fn kind_word(d: &HnsDocument) -> &'static str {
    match d {
        HnsDocument::Network(_) => "network",
        HnsDocument::Endpoint(_) => "endpoint",
        HnsDocument::Namespace(_) => "namespace",
        HnsDocument::LoadBalancer(_) => "loadbalancer",
        HnsDocument::Route(_) => "route",
    }
}

/// Load the objects into `hns`. Returns the import report and the step's reply.
pub fn apply(hns: &mut Hns, s: &RestoreStep) -> Result<(ImportReport, Json), String> {
    let docs = decode(s)?;
    let rep = hns.import(docs);
    let problems: Vec<Json> = rep
        .problems
        .iter()
        .map(|p| json!({"Kind": p.kind, "ID": p.id.to_string(), "Problem": p.message}))
        .collect();
    let reply = json!({
        "Networks": rep.networks, "Endpoints": rep.endpoints, "Namespaces": rep.namespaces,
        "LoadBalancers": rep.load_balancers, "Routes": rep.routes, "Problems": problems,
    });
    Ok((rep, reply))
}

// ---- building a scenario from a node dump (`hnsim node import`) ---------------------------

/// What the dumps do not say about the node, from flags; `None` = the documented default.
#[derive(Clone, Debug, Default)]
pub struct NodeFacts {
    /// The host's name in the scenario (default `node`).
    pub name: Option<String>,
    pub ip: Option<std::net::IpAddr>,
    pub mac: Option<hnsim_model::Mac>,
    pub underlay: Option<ipnet::IpNet>,
    pub gateway: Option<std::net::IpAddr>,
}

/// The node IP used when neither a flag nor the dump gives one (docs/reference/node-dumps.md §7).
pub const DEFAULT_NODE_IP: &str = "10.0.0.4";

/// The node's own address as the dump shows it: a network's `ManagementIP` (v1), else its
/// `ProviderAddress` network policy (overlay; the node's PA is its underlay address).
pub fn node_ip_in(docs: &[HnsDocument]) -> Option<(std::net::IpAddr, String)> {
    use hnsim_model::schema::NetworkPolicy;
    for d in docs {
        if let HnsDocument::Network(n) = d {
            let mgmt = n
                .extra
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("ManagementIP"))
                .and_then(|(_, v)| v.as_str()?.parse().ok());
            if let Some(ip) = mgmt {
                return Some((ip, format!("ManagementIP of network {}", n.name)));
            }
            for p in &n.policies {
                if let NetworkPolicy::ProviderAddress(pa) = p {
                    if let Ok(ip) = pa.provider_address.parse() {
                        return Some((ip, format!("ProviderAddress policy of network {}", n.name)));
                    }
                }
            }
        }
    }
    None
}

/// Scenario names for endpoints (`ep-10-244-1-5`, `remote-10-244-2-7`) and networks
/// (`net-cbr0`), unique, in object order.
fn object_names(docs: &[HnsDocument]) -> IndexMap<String, String> {
    let mut names = IndexMap::new();
    let mut add = |base: String, id: Guid| {
        let mut n = base.clone();
        let mut i = 2;
        while names.contains_key(&n) {
            n = format!("{base}-{i}");
            i += 1;
        }
        names.insert(n, id.to_string());
    };
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    for d in docs {
        match d {
            HnsDocument::Network(n) if !n.name.is_empty() => add(format!("net-{}", clean(&n.name)), n.id),
            HnsDocument::Endpoint(e) => {
                let what = e
                    .ip_configurations
                    .first()
                    .map(|c| clean(&c.ip_address))
                    .unwrap_or_else(|| e.id.to_string()[..8].to_ascii_lowercase());
                let prefix = if e.is_remote() { "remote" } else { "ep" };
                add(format!("{prefix}-{what}"), e.id)
            }
            _ => {}
        }
    }
    names
}

/// A scenario (YAML text) holding one host with the dump's state as it was. Assumed values are
/// listed under `inferred:`; the reader's notes and the import problems head the file as
/// comments. The text is loaded back before it is returned, so it always parses.
pub fn scenario_from_dump(
    dump: &hnsim_model::dump::NodeDump,
    facts: &NodeFacts,
    source: &str,
) -> Result<String, String> {
    let docs: Vec<HnsDocument> = dump.docs.iter().map(|d| d.doc.clone()).collect();
    let name = facts.name.clone().unwrap_or_else(|| "node".into());
    let mut assumed = Vec::new();
    let ip = match (facts.ip, node_ip_in(&docs)) {
        (Some(ip), _) => ip,
        (None, Some((ip, from))) => {
            assumed.push(format!("node IP {ip} taken from the {from}"));
            ip
        }
        (None, None) => {
            assumed.push(format!(
                "node IP {DEFAULT_NODE_IP} assumed (no --node-ip; no ManagementIP or ProviderAddress in the dump)"
            ));
            DEFAULT_NODE_IP.parse().map_err(|e| format!("{e}"))?
        }
    };
    if !ip.is_ipv4() {
        return Err(format!("node IP {ip}: the underlay is IPv4"));
    }
    let underlay = match facts.underlay {
        Some(u) => u,
        None => {
            let u = ipnet::IpNet::new(ip, 24).map_err(|e| e.to_string())?.trunc();
            assumed.push(format!("underlay segment {u} assumed (no --underlay)"));
            u
        }
    };
    if !underlay.contains(&ip) {
        return Err(format!("--underlay {underlay} does not contain the node IP {ip}"));
    }
    if facts.mac.is_none() {
        assumed.push("node MAC chosen by the simulator (no --node-mac)".into());
    }
    assumed.push(
        "HNS settings and version are the simulator's defaults; the dump does not record them \
         (underlay routers and other nodes are absent: traffic to remote endpoints leaves the \
         node and is not answered)"
            .into(),
    );
    let mut host = serde_json::Map::new();
    host.insert("ip".into(), json!(ip.to_string()));
    if let Some(m) = facts.mac {
        host.insert("mac".into(), json!(m.to_string()));
    }
    if let Some(g) = facts.gateway {
        host.insert("gateway".into(), json!(g.to_string()));
    }
    let objects: Vec<Json> = docs.iter().map(hnsim_model::document::encode_document).collect();
    let counts = count_kinds(&docs);
    let scenario = json!({
        "name": format!("node-import-{}", scenario_name(source)),
        "description": format!("HNS state of {name} imported from {source}: {counts}"),
        "seed": 1,
        "reference": "docs/reference/node-dumps.md",
        "inferred": assumed,
        "underlay": {"segments": {"lan": {"prefix": underlay.to_string()}}},
        "hosts": {name.clone(): host},
        "steps": [{"restore": {
            "host": name,
            "source": source,
            "names": object_names(&docs),
            "objects": objects,
        }}],
    });
    let body = serde_yaml::to_string(&scenario).map_err(|e| e.to_string())?;
    let mut text =
        String::from("# Written by `hnsim node import`; the state is exactly as the dump showed it.\n");
    let mut hns = Hns::new(Default::default(), 1);
    let rep = hns.import(docs);
    for n in &dump.notes {
        text.push_str(&format!("# {}\n", n.to_string().replace('\n', " ")));
    }
    for p in &rep.problems {
        text.push_str(&format!("# import: {} {}: {}\n", p.kind, p.id, p.message));
    }
    text.push_str(&body);
    super::load_str("node-import.yaml", &text).map_err(|errs| {
        let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        format!("the written scenario does not load (a bug): {}", msgs.join("; "))
    })?;
    Ok(text)
}

/// `overlay-flannel` for `tests/data/nodes/overlay-flannel` (the first source's last part).
fn scenario_name(source: &str) -> String {
    let first = source.split(", ").next().unwrap_or(source);
    let base = first
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("node");
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.is_empty() {
        "node".into()
    } else {
        clean
    }
}

fn count_kinds(docs: &[HnsDocument]) -> String {
    let mut c: BTreeMap<&str, usize> = BTreeMap::new();
    for d in docs {
        *c.entry(d.kind_name()).or_default() += 1;
    }
    let parts: Vec<String> = c.iter().map(|(k, n)| format!("{n} {k}(s)")).collect();
    if parts.is_empty() {
        "no objects".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    /// A restored endpoint whose default route's next hop is no address: the step's reply lists
    /// the compile error (the value is left out, not read as "no gateway"); a clean restore's
    /// reply has no `CompileErrors`.
    #[test]
    fn the_restore_reply_lists_what_the_compile_cannot_build() {
        let run = |hop: &str| {
            let text = format!(
                r#"name: restore-compile-errors
underlay: {{segments: {{lan: {{prefix: 10.0.0.0/24}}}}}}
hosts: {{node1: {{ip: 10.0.0.11}}}}
steps:
  - restore:
      objects:
        - {{ID: 45249531-2B01-49D3-AE9B-293A28655334, Name: nat, Type: NAT,
            Ipams: [{{Subnets: [{{IpAddressPrefix: 172.20.0.0/16,
              Routes: [{{NextHop: 172.20.0.1, DestinationPrefix: 0.0.0.0/0}}]}}]}}]}}
        - {{ID: 11111111-0000-0000-0000-000000000001,
            HostComputeNetwork: 45249531-2B01-49D3-AE9B-293A28655334,
            MacAddress: 00-15-5D-00-00-21, IpConfigurations: [{{IpAddress: 172.20.0.21}}],
            Routes: [{{NextHop: "{hop}", DestinationPrefix: 0.0.0.0/0}}]}}
"#
            );
            let loaded = super::super::load_str("restore.yaml", &text).expect("loads");
            let rep = super::super::runner::run(&loaded, &Default::default());
            assert!(
                rep.ok(),
                "{}",
                super::super::report::text(std::slice::from_ref(&rep))
            );
            super::super::report::json(std::slice::from_ref(&rep))
        };
        let bad = run("gateway");
        assert!(
            bad.contains(
                "endpoints[11111111-0000-0000-0000-000000000001].Routes[0].NextHop: expected a next hop \
                 for 0.0.0.0/0, found \\\"gateway\\\""
            ),
            "{bad}"
        );
        assert!(!run("172.20.0.1").contains("CompileErrors"));
    }
}
