//! The k8s bench's workload, timed once with CPU time (from /proc/self/schedstat, steadier than
//! wall time on a shared machine): kube-proxy programming 5,000 Services × 10 endpoints on three
//! nodes, then one endpoint change resynced on one node.
//!
//! `cargo run -p hnsim-k8s --release --example k8s_scale [-- SERVICES]`

use hnsim_k8s::agents::Agents;
use hnsim_k8s::workload::ClusterWorkload;
use hnsim_model::state::{Hns, HostSettings};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    Some(Duration::from_nanos(s.split_whitespace().next()?.parse().ok()?))
}

fn main() {
    let services = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000);
    let w = ClusterWorkload {
        nodes: 3,
        pods_per_node: 1_000,
        services,
        endpoints: 10,
    };
    let mut cluster = w.cluster();
    let mut h: BTreeMap<String, Hns> = (0..w.nodes)
        .map(|n| {
            (
                ClusterWorkload::node_name(n),
                Hns::new(HostSettings::default(), n as u64),
            )
        })
        .collect();
    let mut a = Agents::new(false);
    a.reconcile(&cluster, &mut h, false);
    let (c0, t0, n0) = (cpu(), Instant::now(), a.calls);
    a.sync_proxies(&cluster, &mut h, None);
    let (c1, t1) = (cpu(), Instant::now());
    println!(
        "program {services} services x 10 on 3 nodes: {:.3} s CPU, {:.3} s wall, {} HCN calls",
        c1.zip(c0).map(|(a, b)| (a - b).as_secs_f64()).unwrap_or(f64::NAN),
        (t1 - t0).as_secs_f64(),
        a.calls - n0
    );
    // The first sync after programming re-reads every object that programming created (the
    // HNS journal names them all); later ones re-read only what changed.
    let (c0, n0) = (cpu(), a.calls);
    a.sync_proxies(&cluster, &mut h, Some("win1"));
    println!(
        "first resync after programming: {:.1} ms CPU, {} HCN calls",
        cpu()
            .zip(c0)
            .map(|(a, b)| (a - b).as_secs_f64() * 1e3)
            .unwrap_or(f64::NAN),
        a.calls - n0
    );
    for i in 0..5 {
        let slice = w.changed_slice(i, 900 + i);
        cluster.replace_slice(slice);
        let (c0, t0, n0) = (cpu(), Instant::now(), a.calls);
        a.sync_proxies(&cluster, &mut h, Some("win1"));
        let (c1, t1) = (cpu(), Instant::now());
        println!(
            "resync after one endpoint change: {:.1} ms CPU, {:.1} ms wall, {} HCN calls",
            c1.zip(c0)
                .map(|(a, b)| (a - b).as_secs_f64() * 1e3)
                .unwrap_or(f64::NAN),
            (t1 - t0).as_secs_f64() * 1e3,
            a.calls - n0
        );
    }
}
