//! `hnsim k8s render`: what flannel, the CNI and kube-proxy would send to HNS on each Windows
//! node of a cluster (a scenario with a `kubernetes:` section, or a cluster YAML file).

use clap::{Args, ValueEnum};
use hnsim_sim::scenario::{kubernetes, parse_str};
use std::path::PathBuf;

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args)]
pub struct RenderArgs {
    /// A scenario with a `kubernetes:` section, or a cluster file (a `kind: Cluster` document
    /// and Kubernetes objects, e.g. pasted `kubectl get … -o yaml` output).
    pub file: PathBuf,
    /// Only this Kubernetes node.
    #[arg(long)]
    pub node: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Seed of the model hosts (object IDs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn render(a: RenderArgs) -> u8 {
    let file = a.file.display().to_string();
    let text = match std::fs::read_to_string(&a.file) {
        Ok(t) => t,
        Err(e) => return super::invalid(format!("{file}: {e}")),
    };
    // A scenario has `hosts:`; anything else is read as a cluster file.
    let is_scenario = serde_yaml::from_str::<serde_yaml::Value>(&text)
        .ok()
        .is_some_and(|v| v.get("hosts").is_some());
    let loaded = if is_scenario {
        match parse_str(&file, &text) {
            Ok(l) => kubernetes::cluster_of_scenario(&l),
            Err(e) => Err(vec![e]),
        }
    } else {
        kubernetes::cluster_of_file(&file, &text)
    };
    let (cluster, warnings) = match loaded {
        Ok(c) => c,
        Err(errs) => {
            for e in &errs {
                if e.message.starts_with("warning: ") {
                    eprintln!("{e}");
                } else {
                    eprintln!("error: {e}");
                }
            }
            return 2;
        }
    };
    for w in &warnings {
        eprintln!("{w}");
    }
    if let Some(n) = &a.node {
        if !cluster.nodes.contains_key(n) {
            let names: Vec<&String> = cluster.nodes.keys().collect();
            let hint = hnsim_sim::scenario::parse::suggest(n, &names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return super::invalid(format!("no node `{n}` in {file}{hint}"));
        }
    }
    let r = hnsim_k8s::render(&cluster, a.seed);
    match a.format {
        Format::Text => print!("{}", r.text(a.node.as_deref())),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&r.json(a.node.as_deref())).unwrap_or_default()
        ),
    }
    0
}
