//! Dataplane benchmarks (issue 6): one packet end to end on established flows, the first packet
//! of a flow (the slow path) as ACL rules and load balancers grow, and the incremental recompile
//! after one HNS change. Every figure is also printed as a ratio to `floor`, measured in the same
//! run (see benches/README.md).
//!
//! The worlds come from `hnsim_sim::benchkit` (shared with `hnsim bench`); packets are pushed
//! with `World::forward_established` (the request's packet path without the exchange
//! bookkeeping), tracing and capture off.

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use hnsim_sim::benchkit::{self, FirstPacketBench, Floor, PathBench};
use hnsim_sim::Forwarded;
use std::time::{Duration, Instant};

fn floor(c: &mut Criterion) {
    let mut f = Floor::new();
    assert!(f.hop(), "the floor flow must hit");
    let mut g = c.benchmark_group("floor");
    g.throughput(Throughput::Elements(1));
    g.bench_function("peek_lookup_rewrite", |b| b.iter(|| black_box(f.hop())));
    g.finish();
}

fn path(r: Result<PathBench, benchkit::SetupError>) -> PathBench {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn established(c: &mut Criterion) {
    let mut g = c.benchmark_group("established");
    g.throughput(Throughput::Elements(1));
    let mut run = |id: &str, mut p: PathBench| {
        g.bench_function(id, |b| b.iter(|| black_box(p.forward() == Forwarded::Arrived)));
    };
    run("same_host_l2bridge", path(benchkit::same_host_l2bridge()));
    run("cross_host_overlay", path(benchkit::cross_host_overlay()));
    run(
        "cross_host_clusterip_10lbs",
        path(benchkit::cross_host_clusterip(9)),
    );
    run(
        "cross_host_clusterip_10000lbs",
        path(benchkit::cross_host_clusterip(9_999)),
    );
    g.finish();
}

/// Time `iters` first packets, flushing the flow tables (outside the timing) every batch.
fn first_packets(f: &mut FirstPacketBench, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(FirstPacketBench::BATCH);
        f.flush();
        let t = Instant::now();
        for _ in 0..n {
            black_box(f.forward_new_flow() == Forwarded::Arrived);
        }
        total += t.elapsed();
        left -= n;
    }
    total
}

fn first_packet(c: &mut Criterion) {
    let mut g = c.benchmark_group("first_packet_acl");
    g.throughput(Throughput::Elements(1));
    for rules in [10u32, 100, 1_000] {
        let mut f = benchkit::first_packet_acl(rules).unwrap_or_else(|e| panic!("{e}"));
        g.bench_with_input(BenchmarkId::from_parameter(rules), &rules, |b, _| {
            b.iter_custom(|iters| first_packets(&mut f, iters))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("first_packet_lbs");
    g.throughput(Throughput::Elements(1));
    for lbs in [10u32, 1_000, 10_000] {
        let mut f = benchkit::first_packet_lbs(lbs).unwrap_or_else(|e| panic!("{e}"));
        g.bench_with_input(BenchmarkId::from_parameter(lbs), &lbs, |b, _| {
            b.iter_custom(|iters| first_packets(&mut f, iters))
        });
    }
    g.finish();
}

/// Criterion's mean estimate (ns) of one benchmark, if it ran in this process (estimates written
/// since `since`; older files belong to earlier runs).
fn mean_ns(id: &str) -> Option<f64> {
    let since = *STARTED.get()?;
    let dir = std::env::var_os("CRITERION_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
                .join("criterion")
        });
    let file = dir.join(id).join("new/estimates.json");
    if std::fs::metadata(&file).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// Print every figure of this run as a ratio to `floor`.
fn ratios() {
    let Some(floor) = mean_ns("floor/peek_lookup_rewrite") else {
        return;
    };
    println!("\nratios to floor ({floor:.1} ns):");
    let ids = [
        "established/same_host_l2bridge",
        "established/cross_host_overlay",
        "established/cross_host_clusterip_10lbs",
        "established/cross_host_clusterip_10000lbs",
        "first_packet_acl/10",
        "first_packet_acl/100",
        "first_packet_acl/1000",
        "first_packet_lbs/10",
        "first_packet_lbs/1000",
        "first_packet_lbs/10000",
        "recompile/one_lb_of_10000",
        "recompile/scan_only_10000",
        "recompile/one_lb_of_10000_100k_endpoints",
    ];
    for id in ids {
        if let Some(ns) = mean_ns(id) {
            println!("  {id:<45} {ns:>12.1} ns  {:>9.2}x floor", ns / floor);
        }
    }
    if let (Some(a), Some(b)) = (
        mean_ns("established/cross_host_clusterip_10lbs"),
        mean_ns("established/cross_host_clusterip_10000lbs"),
    ) {
        println!("  established ClusterIP, 10,000 vs 10 LBs: {:.2}x", b / a);
    }
}

fn recompile(c: &mut Criterion) {
    let mut g = c.benchmark_group("recompile");
    let mut lab = benchkit::overlay_lab(9_999, 10);
    lab.w.set_tracing(false);
    lab.w.set_capture(false);
    let _ = lab.w.recompile("node1");
    let mut k = 0u16;
    g.bench_function("one_lb_of_10000", |b| {
        b.iter(|| {
            k = k.wrapping_add(1);
            benchkit::touch_one_lb(&mut lab, 4_321, 1024 + k % 30000);
            black_box(lab.w.recompile("node1"))
        })
    });
    // The change scan alone: the generation moves, nothing changed, nothing is rebuilt.
    g.bench_function("scan_only_10000", |b| {
        b.iter(|| {
            lab.w.hns("node1").expect("node1").generation += 1;
            black_box(lab.w.recompile("node1"))
        })
    });
    g.finish();
    // The scale: 10,000 LBs × 10 backends of their own = 100,000 remote endpoints.
    let mut lab = benchkit::overlay_lab_with_pool(9_999, 10, 99_990);
    let _ = lab.w.recompile("node1");
    let mut g = c.benchmark_group("recompile");
    g.bench_function("one_lb_of_10000_100k_endpoints", |b| {
        b.iter(|| {
            k = k.wrapping_add(1);
            benchkit::touch_one_lb(&mut lab, 4_321, 1024 + k % 30000);
            black_box(lab.w.recompile("node1"))
        })
    });
    g.finish();
}

static STARTED: std::sync::OnceLock<std::time::SystemTime> = std::sync::OnceLock::new();

fn main() {
    let _ = STARTED.set(std::time::SystemTime::now());
    // `HNSIM_FIGURES=1 cargo bench --bench dataplane`: print what `hnsim bench --quick` measures
    // (benchkit::dataplane_figures) as JSON, then run the benches.
    if std::env::var_os("HNSIM_FIGURES").is_some() {
        match benchkit::dataplane_figures(true) {
            Ok(f) => println!("{}", serde_json::to_string_pretty(&f).unwrap_or_default()),
            Err(e) => eprintln!("dataplane_figures: {e}"),
        }
    }
    let mut c = Criterion::default().configure_from_args();
    floor(&mut c);
    established(&mut c);
    first_packet(&mut c);
    recompile(&mut c);
    c.final_summary();
    ratios();
}
