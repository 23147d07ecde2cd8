//! Cost driver for `hnsim reach` at the size (issue 16): sets up the synthetic
//! kube-proxy Overlay cluster (`synth::overlay_cluster`, 3 nodes × 100 pods, 1,000 Services ×
//! 10 backends by default) and times one all-pairs sweep (CPU time of this thread), then a
//! what-if diff (`Runner::reach_both`, both set-ups included) before/after one pod's ACLs change.
//!
//!     cargo run -p hnsim-sim --release --example reachcost [PODS_PER_NODE SERVICES]
//!     CARGO_PROFILE_RELEASE_DEBUG=1 cargo build -p hnsim-sim --release --example reachcost
//!     valgrind --tool=callgrind --toggle-collect='*reach*sweep*' \
//!         target/release/examples/reachcost 10 100

use hnsim_sim::reach::diff::diff;
use hnsim_sim::scenario::runner::{execute, RunOptions, Runner};
use hnsim_sim::scenario::{load_str, synth};
use std::time::Instant;

fn cpu_seconds() -> f64 {
    // utime + stime of this thread, from /proc (clock ticks of 10 ms on Linux) when available.
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|ns| ns / 1e9)
        .unwrap_or(0.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pods: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let services: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let text = synth::overlay_cluster(3, pods, services, 10);
    let after = load_str("cluster-acl", &(text.clone() + &synth::pod_acl_change(1, 0)))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let l = load_str("cluster", &text).unwrap_or_else(|e| panic!("{e:?}"));
    let (t, c) = (Instant::now(), cpu_seconds());
    let opts = RunOptions {
        setup_only: true,
        ..Default::default()
    };
    let (rep, runner) = execute(&l, &opts);
    let opts2 = opts.clone();
    let mut r = runner.expect("the cluster sets up");
    assert!(rep.ok(), "set-up failed");
    println!(
        "set-up: {:.2} s wall, {:.2} s CPU",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c
    );
    let (t, c) = (Instant::now(), cpu_seconds());
    let reach = r.reach(&[], &[]).expect("sweep");
    println!(
        "reach all pairs: {} pairs, {} classes, {} witnesses, {:.2} s wall, {:.2} s CPU",
        reach.pairs.len(),
        reach.classes,
        reach.witnesses,
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c
    );
    let (t, c) = (Instant::now(), cpu_seconds());
    let before = {
        let mut b = after.clone();
        b.scenario.steps.pop();
        b
    };
    let (mut rb, mut ra) = (
        execute(&before, &opts2).1.expect("sets up"),
        execute(&after, &opts2).1.expect("sets up"),
    );
    let (x, y, partial) = Runner::reach_both(&mut rb, &mut ra, &[], &[]).expect("sweeps");
    println!(
        "diff one ACL change: {} changes, {} pairs swept per side (endpoints with changed ACLs: {partial:?}), {:.2} s wall, {:.2} s CPU",
        diff(&x, &y).len(),
        x.pairs.len(),
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c
    );
}
