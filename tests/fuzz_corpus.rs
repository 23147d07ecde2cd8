//! Replays the committed fuzz corpus (fuzz/corpus/<target>/*) through the same entry points the
//! cargo-fuzz targets call (hnsim_sim::fuzz_entry), so every input the fuzzer kept — including
//! each crash it found, once fixed — is checked by a plain `cargo test` without libFuzzer.

use hnsim_sim::fuzz_entry;
use std::path::Path;

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{target}: only {} corpus files", files.len());
    for f in &files {
        let data = std::fs::read(f).unwrap();
        if std::panic::catch_unwind(|| entry(&data)).is_err() {
            panic!("{target}: {} panics", f.display());
        }
    }
}

#[test]
fn scenario_yaml_corpus() {
    replay("scenario_yaml", fuzz_entry::scenario_yaml);
}

#[test]
fn hns_json_corpus() {
    replay("hns_json", fuzz_entry::hns_json);
}

#[test]
fn adapter_lines_corpus() {
    replay("adapter_lines", fuzz_entry::adapter_lines);
}

#[test]
fn packet_corpus() {
    replay("packet", fuzz_entry::packet);
}

#[test]
fn node_dump_corpus() {
    replay("node_dump", fuzz_entry::node_dump);
}
