//! Instruction-count driver for the established packet path (issue 15): builds the benchkit
//! worlds, then pushes `N` packets (default 1000) through `World::forward_established`.
//!
//!     cargo build -p hnsim-sim --release --example walkcost
//!     valgrind --tool=callgrind --toggle-collect='*forward_established*' \
//!         target/release/examples/walkcost same_host 1000
//!
//! Instructions per packet = the collected total divided by N.

use hnsim_sim::benchkit;
use hnsim_sim::Forwarded;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "same_host".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let bench = match which.as_str() {
        "same_host" => benchkit::same_host_l2bridge(),
        "overlay" => benchkit::cross_host_overlay(),
        "clusterip" => benchkit::cross_host_clusterip(9),
        other => {
            eprintln!("unknown path {other}: same_host | overlay | clusterip");
            std::process::exit(2);
        }
    };
    let mut p = bench.unwrap_or_else(|e| panic!("{e}"));
    let mut arrived = 0u64;
    for _ in 0..n {
        if std::hint::black_box(p.forward()) == Forwarded::Arrived {
            arrived += 1;
        }
    }
    println!("{which}: {arrived}/{n} arrived");
}
