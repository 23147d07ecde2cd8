//! `hnsim reach` (docs/reach.md): header classes and one witness per class, on synthetic
//! scenarios (`hnsim_sim::scenario::synth`): all pairs of a 3-node overlay, one pod towards
//! 1,000 ClusterIP VIPs with 10 backends each, and the full size: all pairs of a 3-node
//! kube-proxy Overlay cluster with 300 pods and 1,000 Services × 10 backends, and `hnsim diff`
//! on it before/after one pod's ACL change. The class count of each is printed once: the cost
//! follows the number of classes (rule boundaries), not the size of the address or port space.

use criterion::{black_box, Criterion};
use hnsim_sim::reach::diff::diff;
use hnsim_sim::scenario::runner::{execute, RunOptions, Runner};
use hnsim_sim::scenario::{load_str, synth, Loaded};
use std::time::Duration;

fn set_up(l: &Loaded) -> Runner<'_> {
    let opts = RunOptions {
        setup_only: true,
        ..Default::default()
    };
    execute(l, &opts).1.expect("the synthetic scenario sets up")
}

fn reach(c: &mut Criterion) {
    let mut g = c.benchmark_group("reach");
    g.sample_size(10);

    let pods = load_str("pods", &synth::overlay_pods(3, 20)).expect("loads");
    let mut r = set_up(&pods);
    let n = r.reach(&[], &[]).expect("sweep").classes;
    eprintln!("reach/overlay_3x20_pods_all_pairs: {n} classes");
    g.bench_function("overlay_3x20_pods_all_pairs", |b| {
        b.iter(|| black_box(r.reach(&[], &[]).expect("sweep").classes))
    });

    let lbs = load_str("lbs", &synth::lb_steps(1_000, 10)).expect("loads");
    let mut r = set_up(&lbs);
    let from = ["cbe0".to_string()];
    let n = r.reach(&from, &[]).expect("sweep").classes;
    eprintln!("reach/one_pod_to_1000_vips_x10_backends: {n} classes");
    g.bench_function("one_pod_to_1000_vips_x10_backends", |b| {
        b.iter(|| black_box(r.reach(&from, &[]).expect("sweep").classes))
    });

    // diff of two sweeps of that node (the comparison alone; each sweep is measured above).
    let before = r.reach(&from, &[]).expect("sweep");
    let after = before.clone();
    g.bench_function("diff_1000_vips_no_change", |b| {
        b.iter(|| black_box(diff(&before, &after).len()))
    });
    g.finish();
}

/// One pod's ACLs replaced (a Block of tcp/8080 inbound; its ProviderAddress kept).
const ACL_CHANGE: &str = "  - update-endpoint-policy:\n      host: node1\n      target: p1_0\n      policies:\n        - \
    {Type: ACL, Settings: {Protocols: \"6\", Action: Block, Direction: In, LocalPorts: \"8080\", Priority: 100}}\n        - \
    {Type: ProviderAddress, Settings: {ProviderAddress: 10.0.0.11}}\n";

fn cluster(c: &mut Criterion) {
    let mut g = c.benchmark_group("reach_cluster");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(1));
    g.measurement_time(Duration::from_secs(20));

    let l = load_str("cluster", &synth::overlay_cluster(3, 100, 1_000, 10)).expect("loads");
    let mut r = set_up(&l);
    let n = r.reach(&[], &[]).expect("sweep");
    eprintln!(
        "reach_cluster/all_pairs_3x100_pods_1000_svc_x10: {} pairs, {} classes",
        n.pairs.len(),
        n.classes
    );
    g.bench_function("all_pairs_3x100_pods_1000_svc_x10", |b| {
        b.iter(|| black_box(r.reach(&[], &[]).expect("sweep").classes))
    });

    // `hnsim diff BEFORE AFTER` on it: both set-ups, then the sweeps the change needs.
    let after = load_str(
        "cluster-acl",
        &(synth::overlay_cluster(3, 100, 1_000, 10) + ACL_CHANGE),
    )
    .expect("loads");
    let mut before = after.clone();
    before.scenario.steps.pop();
    g.bench_function("diff_one_acl_change", |b| {
        b.iter(|| {
            let (mut rb, mut ra) = (set_up(&before), set_up(&after));
            let (x, y, partial) = Runner::reach_both(&mut rb, &mut ra, &[], &[]).expect("sweeps");
            assert_eq!(partial, Some(1));
            black_box(diff(&x, &y).len())
        })
    });
    g.finish();
}

criterion::criterion_group!(benches, reach, cluster);
criterion::criterion_main!(benches);
