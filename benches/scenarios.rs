//! The whole reference scenario library (scenarios/**/*.yaml) end to end: parse and validate
//! every file, build its world, run every step (HNS calls, traffic, reachability tables,
//! faults) and report — what `hnsim run scenarios/` does, minus printing. Also each topic
//! folder on its own, and `floor` in the same run so the figures can be read as ratios.

use criterion::{black_box, Criterion, Throughput};
use hnsim_sim::benchkit::Floor;
use hnsim_sim::scenario::load_file;
use hnsim_sim::scenario::parse::collect_paths;
use hnsim_sim::scenario::runner::{run, RunOptions};
use hnsim_sim::scenario::Loaded;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn library() -> Vec<(PathBuf, Loaded)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let files = collect_paths(&[root]).unwrap_or_else(|e| panic!("scenarios/: {e:?}"));
    files
        .into_iter()
        .map(|f| {
            let l = load_file(&f).unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
            (f, l)
        })
        .collect()
}

fn run_all<'a>(scenarios: impl Iterator<Item = &'a Loaded>) -> usize {
    let opts = RunOptions::default();
    scenarios.map(|l| run(l, &opts).ok() as usize).sum()
}

fn scenarios(c: &mut Criterion) {
    let lib = library();
    let n = lib.len();
    // Every library scenario passes (a failing one would be measured as something else).
    assert_eq!(
        run_all(lib.iter().map(|(_, l)| l)),
        n,
        "every library scenario passes"
    );

    let mut floor = Floor::new();
    let mut g = c.benchmark_group("floor");
    g.bench_function("peek_lookup_rewrite", |b| b.iter(|| black_box(floor.hop())));
    g.finish();

    let mut g = c.benchmark_group("scenarios");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("library_run", |b| {
        b.iter(|| black_box(run_all(lib.iter().map(|(_, l)| l))))
    });
    // Parsing and validation included: from the files on disk to the reports.
    g.bench_function("library_load_and_run", |b| {
        b.iter(|| {
            let files: Vec<_> = lib.iter().map(|(f, _)| f.clone()).collect();
            let loaded: Vec<Loaded> = files.iter().filter_map(|f| load_file(f).ok()).collect();
            black_box(run_all(loaded.iter()))
        })
    });
    g.finish();

    let mut topics: BTreeMap<String, Vec<&Loaded>> = BTreeMap::new();
    for (f, l) in &lib {
        let topic = f
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        topics.entry(topic).or_default().push(l);
    }
    let mut g = c.benchmark_group("scenario_topic");
    g.sample_size(10);
    for (topic, ls) in &topics {
        g.throughput(Throughput::Elements(ls.len() as u64));
        g.bench_function(topic.as_str(), |b| {
            b.iter(|| black_box(run_all(ls.iter().copied())))
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    scenarios(&mut c);
    c.final_summary();
    // Ratios: criterion's estimates of this run.
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("criterion");
    let mean = |id: &str| -> Option<f64> {
        let t = std::fs::read_to_string(dir.join(id).join("new/estimates.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&t).ok()?;
        v["mean"]["point_estimate"].as_f64()
    };
    if let (Some(f), Some(lib)) = (mean("floor/peek_lookup_rewrite"), mean("scenarios/library_run")) {
        println!(
            "\nscenario library: {:.2} ms per run = {:.0}x floor ({f:.1} ns)",
            lib / 1e6,
            lib / f
        );
    }
}
