//! `hnsim k8s render`: run every Windows node's components against a fresh in-process model
//! and report, per node, the HCN calls they made in order, with their documents.

use crate::agents::Agents;
use crate::cluster::Cluster;
use crate::hcn::Journaled;
use hnsim_model::state::{Hns, HostSettings};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The calls of every node.
pub struct Rendered {
    pub agents: Agents,
    pub hosts: BTreeMap<String, Hns>,
}

/// Program every Windows node of `cluster` (one reconcile: networks, routes, pods, kube-proxy
/// start and first sync) into fresh model hosts seeded from `seed`.
pub fn render(cluster: &Cluster, seed: u64) -> Rendered {
    let mut hosts: BTreeMap<String, Hns> = BTreeMap::new();
    for (i, v) in cluster.node_views().into_iter().filter(|v| v.windows).enumerate() {
        let settings = HostSettings {
            host_default_namespace: true,
            ..HostSettings::default()
        };
        hosts.insert(v.name.clone(), Hns::new(settings, seed.wrapping_add(i as u64)));
    }
    let mut agents = Agents::new(true);
    agents.reconcile(cluster, &mut hosts, true);
    Rendered { agents, hosts }
}

impl Rendered {
    /// The journal of one node.
    pub fn calls(&self, node: &str) -> &[Journaled] {
        self.agents
            .journals
            .get(node)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Text: per node, the changing calls (create/modify/delete) with their documents; the
    /// number of reads is summarised.
    pub fn text(&self, only: Option<&str>) -> String {
        let mut s = String::new();
        for (node, a) in &self.agents.nodes {
            if only.is_some_and(|o| o != node) {
                continue;
            }
            let ips: Vec<String> = a.view.ips.iter().map(|i| i.to_string()).collect();
            let _ = writeln!(s, "node {node} ({})", ips.join(", "));
            let mut reads = 0;
            for (i, c) in self.calls(node).iter().enumerate() {
                if !c.is_change() {
                    reads += 1;
                    continue;
                }
                let id = if c.id.is_empty() {
                    String::new()
                } else {
                    format!(" {}", c.id)
                };
                let outcome = match &c.result {
                    Ok(r) => match crate::hcn::reply_id(r) {
                        id if !id.is_empty() && c.id.is_empty() => format!(" -> {id}"),
                        _ => String::new(),
                    },
                    Err((code, msg)) => format!(" -> FAILED 0x{code:08X} {msg}"),
                };
                let _ = writeln!(
                    s,
                    "  {:>4} {:<14} {}{id}{outcome}",
                    i + 1,
                    c.component.name(),
                    c.op
                );
                if !c.document.is_empty() {
                    let _ = writeln!(s, "       {}", c.document);
                }
            }
            let _ = writeln!(s, "  ({reads} enumerate/query calls not shown)");
            if let Some(e) = &a.proxy_error {
                let _ = writeln!(s, "  kube-proxy not running: {e}");
            }
            for e in &a.errors {
                let _ = writeln!(s, "  error: {e}");
            }
        }
        s
    }

    /// JSON: `{"nodes": [{"name", "calls": [{"component","call","id","document","reply"|"error"}]}]}`.
    pub fn json(&self, only: Option<&str>) -> Json {
        let mut nodes = Vec::new();
        for (node, a) in &self.agents.nodes {
            if only.is_some_and(|o| o != node) {
                continue;
            }
            let calls: Vec<Json> = self
                .calls(node)
                .iter()
                .map(|c| {
                    let doc: Json = serde_json::from_str(&c.document).unwrap_or(Json::Null);
                    let mut v = json!({"component": c.component.name(), "call": c.op.to_string(), "id": c.id, "document": doc});
                    match &c.result {
                        Ok(r) => v["reply"] = serde_json::from_str(r).unwrap_or(Json::Null),
                        Err((code, msg)) => v["error"] = json!({"hresult": format!("0x{code:08X}"), "message": msg}),
                    }
                    v
                })
                .collect();
            nodes.push(json!({
                "name": node,
                "calls": calls,
                "kube-proxy-error": a.proxy_error,
                "errors": a.errors,
            }));
        }
        json!({ "nodes": nodes })
    }
}
