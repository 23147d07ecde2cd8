//! Work counts (not timings): programming a cluster costs calls linear in its size, and one
//! endpoint change costs a bounded number of changing HCN calls plus kube-proxy's per-sync
//! inventory (which, as upstream, lists every endpoint and LB of the node).

use hnsim_k8s::agents::Agents;
use hnsim_k8s::workload::ClusterWorkload;
use hnsim_model::state::{Hns, HostSettings};
use std::collections::BTreeMap;

fn hosts(w: &ClusterWorkload) -> BTreeMap<String, Hns> {
    (0..w.nodes)
        .map(|n| {
            (
                ClusterWorkload::node_name(n),
                Hns::new(HostSettings::default(), n as u64),
            )
        })
        .collect()
}

/// (calls to program, changing calls of one endpoint change, all calls of that resync)
fn run(services: usize) -> (u64, usize, u64) {
    let w = ClusterWorkload {
        nodes: 3,
        pods_per_node: 50,
        services,
        endpoints: 10,
    };
    let mut cluster = w.cluster();
    let mut h = hosts(&w);
    let mut a = Agents::new(false);
    a.reconcile(&cluster, &mut h, true);
    for (n, ag) in &a.nodes {
        assert!(
            ag.errors.is_empty() && ag.proxy_error.is_none(),
            "{n}: {:?} {:?}",
            ag.errors,
            ag.proxy_error
        );
        assert_eq!(
            ag.proxiers[0].load_balancers().len(),
            services,
            "{n}: one ClusterIP LB per Service"
        );
    }
    let program = a.calls;
    // One endpoint of svc0 changes; win1 resyncs.
    let s = w.changed_slice(0, 7);
    cluster.slices.get_mut("default/svc0-1").expect("slice").value = s;
    a.journal = true;
    let before = a.calls;
    a.sync_proxies(&cluster, &mut h, Some("win1"));
    let changes = a
        .journals
        .get("win1")
        .map(|j| j.iter().filter(|c| c.is_change()).count())
        .unwrap_or(0);
    (program, changes, a.calls - before)
}

#[test]
fn programming_is_linear_and_a_resync_changes_little() {
    let (p1, c1, r1) = run(100);
    let (p2, c2, r2) = run(200);
    // Twice the Services: at most ~2x the calls (pods and networks are the same).
    assert!(p2 <= 2 * p1, "program: {p1} -> {p2}");
    assert!(r2 <= 2 * r1 + 10, "resync inventory: {r1} -> {r2}");
    // The endpoint change: the ClusterIP endpoint re-created, a new remote endpoint, the old
    // LB deleted and a new one created, the old remote endpoint deleted — whatever the size.
    assert!(c1 <= 6 && c1 == c2, "changing calls: {c1} and {c2}");
    assert!(c1 >= 2, "the change reached HNS: {c1}");
}
