//! Wall-clock figures for the synthetic cluster-scale scenarios (parse + validate + every step),
//! for a quick before/after comparison on one machine:
//!
//!     cargo run -p hnsim-sim --release --example scenario_scale [pods…]
//!
//! The criterion benches in `benches/scenarios.rs` are the recorded figures; this prints one run.

use hnsim_sim::scenario::{load_str, runner, synth};
use std::time::Instant;

fn time(label: &str, text: &str) {
    let t = Instant::now();
    let l = load_str(label, text).expect("synthetic scenario loads");
    let r = runner::run(&l, &Default::default());
    let dt = t.elapsed();
    println!(
        "{label}: {:.1} ms ({} steps, ok: {})",
        dt.as_secs_f64() * 1e3,
        r.steps.len(),
        r.ok()
    );
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let pods = if args.is_empty() {
        vec![10, 100, 300, 1000]
    } else {
        args
    };
    for p in pods {
        time(&format!("2 nodes x {p} pods"), &synth::overlay_pods(2, p));
    }
    time("10000 LB steps (10 backends)", &synth::lb_steps(10_000, 10));
}
