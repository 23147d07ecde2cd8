//! Work counts (not timings): programming a cluster costs calls linear in its size, and one
//! endpoint change costs a bounded amount of work whatever the size: a few changing HCN calls,
//! the inventory refreshed by querying only the objects HNS's journal names (a full listing, as
//! upstream, when `full-inventory` is set), and only the changed Service's ports compared.

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

/// The work of one resync.
#[derive(Debug, PartialEq, Eq)]
struct Resync {
    /// Creates, modifies and deletes.
    changes: usize,
    /// Every HCN call.
    calls: u64,
    /// HNS objects the inventory queried.
    queried: u64,
    /// Service ports whose state was compared.
    compared: u64,
}

/// (calls to program, the work of one endpoint change resynced on one node, the hosts after)
fn run(services: usize, full_inventory: bool) -> (u64, Resync, BTreeMap<String, Hns>) {
    let w = ClusterWorkload {
        nodes: 3,
        pods_per_node: 50,
        services,
        endpoints: 10,
    };
    let mut cluster = w.cluster();
    for n in cluster.config.nodes.values_mut() {
        n.kube_proxy.full_inventory = full_inventory;
    }
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
    // A sync with nothing changed: it re-reads what the first sync created.
    a.sync_proxies(&cluster, &mut h, Some("win1"));
    // One endpoint of svc0 changes; win1 resyncs.
    let s = w.changed_slice(0, 7);
    cluster.replace_slice(s);
    a.journal = true;
    let before = a.calls;
    let stats = |a: &Agents| a.nodes["win1"].proxiers[0].stats.clone();
    let s0 = stats(&a);
    a.sync_proxies(&cluster, &mut h, Some("win1"));
    let s1 = stats(&a);
    let changes = a
        .journals
        .get("win1")
        .map(|j| j.iter().filter(|c| c.is_change()).count())
        .unwrap_or(0);
    let r = Resync {
        changes,
        calls: a.calls - before,
        queried: s1.inventory_queried - s0.inventory_queried,
        compared: s1.service_ports_compared - s0.service_ports_compared,
    };
    // More changes: a Service gone, another one's endpoints moved twice.
    cluster.delete("Service/default/svc3").expect("exists");
    cluster.replace_slice(w.changed_slice(5, 11));
    a.sync_proxies(&cluster, &mut h, None);
    cluster.replace_slice(w.changed_slice(5, 12));
    a.sync_proxies(&cluster, &mut h, None);
    (program, r, h)
}

#[test]
fn programming_is_linear_and_a_resync_costs_what_changed() {
    let (p1, r1, _) = run(100, false);
    let (p2, r2, _) = run(200, false);
    // Twice the Services: at most ~2x the calls (pods and networks are the same).
    assert!(p2 <= 2 * p1, "program: {p1} -> {p2}");
    // The endpoint change: the ClusterIP endpoint re-created, a new remote endpoint, the old
    // LB deleted and a new one created, the old remote endpoint deleted — whatever the size.
    assert!(r1.changes <= 6, "changing calls: {r1:?}");
    assert!(r1.changes >= 2, "the change reached HNS: {r1:?}");
    // The whole resync is the same work at 100 and at 200 Services: the Service's one port
    // compared (old and new), the objects of the previous sync's changes queried.
    assert_eq!(r1, r2, "a resync's work does not grow with the cluster");
    assert_eq!(r1.compared, 2, "{r1:?}");
    assert!(r1.queried <= 12 && r1.calls <= 30, "{r1:?}");
}

#[test]
fn a_full_inventory_lists_everything_and_changes_the_same() {
    let (_, inc, h_inc) = run(100, false);
    let (_, full, h_full) = run(100, true);
    assert_eq!(inc.changes, full.changes, "same programming either way");
    assert!(h_inc == h_full, "the same HNS state on every node either way");
    // The full listing queries every endpoint and LB of the node: more than one per Service.
    assert!(full.queried > 100 && full.calls > full.queried, "{full:?}");
}
