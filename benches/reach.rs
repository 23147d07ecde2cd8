//! `hnsim reach` (docs/reach.md): header classes and one witness per class, on synthetic
//! scenarios (`hnsim_sim::scenario::synth`): all pairs of a 3-node overlay, and one pod towards
//! 1,000 ClusterIP VIPs with 10 backends each. The class count of each is printed once: the cost
//! follows the number of classes (rule boundaries), not the size of the address or port space.

use criterion::{black_box, Criterion};
use hnsim_sim::reach::diff::diff;
use hnsim_sim::scenario::runner::{execute, RunOptions, Runner};
use hnsim_sim::scenario::{load_str, synth, Loaded};

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

criterion::criterion_group!(benches, reach);
criterion::criterion_main!(benches);
