//! The Kubernetes layer at scale (issue 11): 5,000 ClusterIP Services × 10 endpoints on a
//! 3-Windows-node flannel vxlan cluster (1,000 pods per node), programmed by hnsim-k8s's
//! kube-proxy model through `HnsBackend` into three in-process model hosts; and one endpoint
//! change resynced on one node.
//!
//! "program" times kube-proxy's start and first sync on the three nodes (the networks and the
//! pods' CNI ADDs are made in the untimed set-up). "resync" times one `syncProxyRules` after
//! one endpoint of one Service changed: the proxier takes the changed Service from the cluster's
//! watch log and refreshes its inventory of HNS from the model's change journal (upstream lists
//! every endpoint and LB each sync; see kube/src/proxy/inventory.rs).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hnsim_k8s::agents::Agents;
use hnsim_k8s::cluster::Cluster;
use hnsim_k8s::workload::ClusterWorkload;
use hnsim_model::state::{Hns, HostSettings};
use std::collections::BTreeMap;
use std::time::Duration;

const W: ClusterWorkload = ClusterWorkload {
    nodes: 3,
    pods_per_node: 1_000,
    services: 5_000,
    endpoints: 10,
};

fn hosts() -> BTreeMap<String, Hns> {
    (0..W.nodes)
        .map(|n| {
            (
                ClusterWorkload::node_name(n),
                Hns::new(HostSettings::default(), n as u64),
            )
        })
        .collect()
}

/// Networks and pods, no kube-proxy yet.
fn nodes_ready(cluster: &Cluster) -> (Agents, BTreeMap<String, Hns>) {
    let mut h = hosts();
    let mut a = Agents::new(false);
    a.reconcile(cluster, &mut h, false);
    (a, h)
}

fn k8s(c: &mut Criterion) {
    let cluster = W.cluster();
    let mut g = c.benchmark_group("k8s");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("program_5000_services_x_10_endpoints_3_nodes", |b| {
        b.iter_batched(
            || nodes_ready(&cluster),
            |(mut a, mut h)| {
                a.sync_proxies(&cluster, &mut h, None);
                (a, h)
            },
            BatchSize::PerIteration,
        )
    });
    let (mut a, mut h) = nodes_ready(&cluster);
    a.sync_proxies(&cluster, &mut h, None);
    let mut cl = cluster.clone();
    // Untimed: the first sync after programming re-reads every object programming created.
    a.sync_proxies(&cl, &mut h, Some("win1"));
    let mut i = 0usize;
    g.bench_function("resync_one_endpoint_change_on_one_node", |b| {
        b.iter(|| {
            i += 1;
            let s = i % W.services;
            let slice = W.changed_slice(s, i % 2 + 900);
            cl.replace_slice(slice);
            a.sync_proxies(&cl, &mut h, Some("win1"));
        })
    });
    g.finish();
}

criterion_group!(benches, k8s);
criterion_main!(benches);
