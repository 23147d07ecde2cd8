//! `hnsim doctor --expected CLUSTER.yaml --node NAME`: the HNS state the Kubernetes layer
//! (hnsim-k8s) would program on one node, for the doctor's drift findings
//! (docs/reference/node-dumps.md §9).

use hnsim_k8s::load::{read_value, split_documents, Loaded, Loc};
use hnsim_k8s::{render, Cluster, ClusterConfig, NetworkPlugin};
use hnsim_model::state::Hns;
use std::path::Path;

/// Read, check and render the description; the state of node `node`. Exit code 2 on any error.
pub fn expected_state(file: &Path, node: &str) -> Result<Hns, u8> {
    let (name, text) = super::input::read(file).map_err(super::invalid)?;
    let mut loaded = Loaded::default();
    for (i, (line, doc)) in split_documents(&text).iter().enumerate() {
        match serde_yaml::from_str::<serde_yaml::Value>(doc) {
            Ok(v) => read_value(&v, Loc::new(i), &mut loaded),
            Err(e) => {
                return Err(super::invalid(format!(
                    "{name}: document starting at line {line}: {e}"
                )))
            }
        }
    }
    let errors: Vec<String> = loaded
        .findings
        .iter()
        .filter(|f| f.severity == hnsim_k8s::Severity::Error)
        .map(|f| format!("{name}: {f}"))
        .collect();
    if !errors.is_empty() {
        return Err(super::invalid(errors.join("\n")));
    }
    let cfg = loaded
        .config
        .map(|c| c.value)
        .unwrap_or_else(|| ClusterConfig::new(NetworkPlugin::FlannelVxlan));
    let mut cluster = Cluster::new(cfg);
    if let Err(f) = cluster.apply(loaded.objects) {
        let msgs: Vec<String> = f.iter().map(|x| format!("{name}: {x}")).collect();
        return Err(super::invalid(msgs.join("\n")));
    }
    let mut rendered = render(&cluster, 1);
    let names: Vec<String> = rendered.hosts.keys().cloned().collect();
    rendered.hosts.remove(node).ok_or_else(|| {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let hint = hnsim_k8s::load::suggest(node, &refs)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        super::invalid(format!(
            "--node {node}: not a Windows node of {name} (its Windows nodes: {}){hint}",
            names.join(", ")
        ))
    })
}
