//! Instruction-count driver for the scenario engine at scale (issue 13): builds one synthetic
//! scenario (`hnsim_sim::scenario::synth`) end to end, or runs a bulk `packets:` step.
//!
//!     CARGO_PROFILE_RELEASE_DEBUG=1 cargo build -p hnsim-sim --release --example scalecost
//!     valgrind --tool=callgrind target/release/examples/scalecost pods 100
//!     valgrind --tool=callgrind target/release/examples/scalecost lbs 1000
//!     valgrind --tool=callgrind --toggle-collect='*Runner*step*' \
//!         target/release/examples/scalecost bulk 100000
//!
//! Compare totals at two sizes: a linear engine costs the same per pod / step / packet.

use hnsim_sim::scenario::runner::{run, Runner};
use hnsim_sim::scenario::{load_str, synth};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "pods".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let text = match which.as_str() {
        "pods" => synth::overlay_pods(2, n),
        "lbs" => synth::lb_steps(n, 10),
        "bulk" => format!(
            "{}  - send: {{from: c1_0, to: \"c2_0:8080\", src-port: 40000, packets: {n}}}\n",
            synth::overlay_pods(2, 1)
        ),
        other => {
            eprintln!("unknown scenario {other}: pods | lbs | bulk");
            std::process::exit(2);
        }
    };
    let l = load_str(&which, &text).unwrap_or_else(|e| panic!("{e:?}"));
    if which == "bulk" {
        let mut r = Runner::new(&l, 1, false).expect("world builds");
        for (i, s) in l.scenario.steps.iter().enumerate() {
            assert!(r.step(i, s).ok(), "step {}", i + 1);
        }
        println!("bulk {n}: ok");
    } else {
        let r = run(&l, &Default::default());
        println!("{which} {n}: {} steps, ok: {}", r.steps.len(), r.ok());
    }
}
