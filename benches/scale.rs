//! Scenarios at cluster scale (issue 13), end to end through the scenario engine: parse,
//! validate and run synthetic scenarios (`hnsim_sim::scenario::synth`) of growing size; bulk
//! traffic on an established cross-host flow through a `packets:` step. The one-change
//! recompile among 100,000 endpoints is `recompile/one_lb_of_10000_100k_endpoints` in
//! `benches/dataplane.rs`.
//!
//! `benches/figures.sh` runs this (and that) with a reduced sample size and writes the table in
//! benches/README.md ("Scale figures") with the date and the machine: set `HNSIM_FIGURES` to
//! the README's path and this binary rewrites the part between the `scale-figures` markers.

use criterion::{black_box, Criterion, Throughput};
use hnsim_sim::scenario::format::Step;
use hnsim_sim::scenario::runner::{run, RunOptions, Runner};
use hnsim_sim::scenario::{load_str, synth, Loaded};
use std::path::PathBuf;
use std::time::Duration;

fn load(name: &str, text: &str) -> Loaded {
    load_str(name, text).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn build_and_run(name: &str, text: &str) -> bool {
    run(&load(name, text), &RunOptions::default()).ok()
}

const PODS: [usize; 3] = [10, 100, 1_000];
const BULK: [u64; 2] = [10_000, 1_000_000];

fn scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("scale");
    g.sample_size(10);
    for pods in PODS {
        let text = synth::overlay_pods(2, pods);
        assert!(build_and_run("pods", &text), "the synthetic scenario passes");
        g.throughput(Throughput::Elements(pods as u64 * 2));
        g.bench_function(format!("overlay_2_nodes_x_{pods}_pods"), |b| {
            b.iter(|| black_box(build_and_run("pods", &text)))
        });
    }
    let text = synth::lb_steps(10_000, 10);
    assert!(build_and_run("lbs", &text), "the synthetic scenario passes");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("lb_steps_10000", |b| {
        b.iter(|| black_box(build_and_run("lbs", &text)))
    });
    // Bulk traffic: the world is set up once; each iteration runs the `packets:` step again on
    // the same established flow.
    for n in BULK {
        let text = format!(
            "{}  - send: {{from: c1_0, to: \"c2_0:8080\", src-port: 40000, packets: {n}}}\n",
            synth::overlay_pods(2, 1)
        );
        let l = load("bulk", &text);
        let mut r = Runner::new(&l, 1, false).expect("world builds");
        let steps: &[Step] = &l.scenario.steps;
        let last = steps.len() - 1;
        for (i, s) in steps.iter().enumerate() {
            assert!(r.step(i, s).ok(), "step {}", i + 1);
        }
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("bulk_packets_{n}"), |b| {
            b.iter(|| black_box(r.step(last, &steps[last]).ok()))
        });
    }
    g.finish();
}

fn estimates_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("criterion")
}

/// Criterion's mean for a bench of this run, in ns.
fn mean_ns(id: &str) -> Option<f64> {
    let t = std::fs::read_to_string(estimates_dir().join(id).join("new/estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&t).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    format!(
        "{cpu}, {cores} cores available, {}, load average {load} at the end",
        std::env::consts::OS
    )
}

/// The figures as a markdown table (only those this run measured).
fn markdown() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs() as i64;
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let mut out = format!(
        "Measured {y:04}-{m:02}-{d:02} on {} by `benches/figures.sh` (criterion, 10 samples, \
         release profile).\n\n| figure | measured | target (issue 13) | met |\n|---|---|---|---|\n",
        machine()
    );
    let ms = |ns: f64| format!("{:.1} ms", ns / 1e6);
    let mut row =
        |what: &str, id: &str, show: &dyn Fn(f64) -> String, target: &str, ok: &dyn Fn(f64) -> bool| {
            if let Some(ns) = mean_ns(id) {
                let met = if target.is_empty() {
                    ""
                } else if ok(ns) {
                    "yes"
                } else {
                    "**no**"
                };
                out.push_str(&format!("| {what} | {} | {target} | {met} |\n", show(ns)));
            }
        };
    for pods in PODS {
        let (target, limit) = match pods {
            100 => ("≤ 10 ms", 10e6),
            1_000 => ("≤ 100 ms", 100e6),
            _ => ("", f64::MAX),
        };
        row(
            &format!("2 nodes × {pods} pods overlay scenario, built (parse + all steps)"),
            &format!("scale/overlay_2_nodes_x_{pods}_pods"),
            &ms,
            target,
            &|ns| ns <= limit,
        );
    }
    row(
        "scenario with 10,000 LB steps",
        "scale/lb_steps_10000",
        &ms,
        "≤ 0.5 s",
        &|ns| ns <= 0.5e9,
    );
    for n in BULK {
        row(
            &format!("bulk traffic, {n} packets on an established cross-host flow"),
            &format!("scale/bulk_packets_{n}"),
            &|ns| format!("{:.0} packets/s ({})", n as f64 / (ns / 1e9), ms(ns)),
            "≥ 1,000,000 packets/s",
            &|ns| n as f64 / (ns / 1e9) >= 1e6,
        );
    }
    row(
        "one LB change among 100,000 endpoints, recompiled",
        "recompile/one_lb_of_10000_100k_endpoints",
        &|ns| format!("{:.1} µs", ns / 1e3),
        "≤ 1 ms",
        &|ns| ns <= 1e6,
    );
    out
}

/// Replace the text between the markers in `path`.
fn write_figures(path: &str, table: &str) -> std::io::Result<()> {
    let (begin, end) = ("<!-- scale-figures:begin -->", "<!-- scale-figures:end -->");
    let text = std::fs::read_to_string(path)?;
    let (Some(a), Some(b)) = (text.find(begin), text.find(end)) else {
        return Err(std::io::Error::other(format!(
            "{path}: no `{begin}` … `{end}` markers"
        )));
    };
    let new = format!("{}{begin}\n{table}{}", &text[..a], &text[b..]);
    std::fs::write(path, new)
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    scale(&mut c);
    c.final_summary();
    let table = markdown();
    println!("\n{table}");
    if let Some(path) = std::env::var_os("HNSIM_FIGURES") {
        let path = path.to_string_lossy().into_owned();
        match write_figures(&path, &table) {
            Ok(()) => println!("figures written to {path}"),
            Err(e) => eprintln!("HNSIM_FIGURES: {e}"),
        }
    }
}
