//! Shared helpers: load cluster YAML text into a [`Cluster`].
#![allow(dead_code)]

use hnsim_k8s::load::{read_value, split_documents, Loaded, Loc};
use hnsim_k8s::{render, Cluster, ClusterConfig, NetworkPlugin, Rendered};

/// Parse multi-document YAML; panics on any error finding (tests write valid input).
pub fn load(text: &str) -> Loaded {
    let mut out = Loaded::default();
    for (i, (_, d)) in split_documents(text).iter().enumerate() {
        let v: serde_yaml::Value = serde_yaml::from_str(d).expect("yaml");
        read_value(&v, Loc::new(i), &mut out);
    }
    out
}

pub fn cluster(text: &str) -> Cluster {
    let l = load(text);
    assert!(l.findings.is_empty(), "{:?}", l.findings);
    let cfg = l
        .config
        .map(|c| c.value)
        .unwrap_or_else(|| ClusterConfig::new(NetworkPlugin::FlannelVxlan));
    let mut c = Cluster::new(cfg);
    let f = c.apply(l.objects).expect("valid cluster");
    assert!(f.is_empty(), "{f:?}");
    c
}

pub fn render_file(name: &str) -> Rendered {
    let path = format!("{}/../tests/data/k8s/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("read");
    render(&cluster(&text), 1)
}
