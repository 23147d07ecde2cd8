//! `hnsim run --seeds / --shard / --quiet` and `hnsim report merge`, through the binary.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn hnsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("hnsim runs")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("a JSON report")
}

fn runs(v: &Value) -> Vec<(String, u64)> {
    v["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or("").to_string(),
                s["seed"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

const DIR: &str = "scenarios/kube-proxy";

#[test]
fn seeds_run_every_scenario_under_every_seed() {
    let o = hnsim(&["run", DIR, "--seeds", "3..=5", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stderr.is_empty(),
        "no progress bar when stderr is not a terminal"
    );
    let got = runs(&json(&o));
    let single = runs(&json(&hnsim(&["run", DIR, "--format", "json"])));
    assert_eq!(got.len(), 3 * single.len());
    for (k, (name, seed)) in got.iter().enumerate() {
        assert_eq!(name, &single[k / 3].0);
        assert_eq!(*seed, 3 + (k % 3) as u64);
    }
    for bad in [
        ["--seeds", "5..5"],
        ["--seeds", "a..b"],
        ["--shard", "3/2"],
        ["--shard", "0/2"],
    ] {
        let o = hnsim(&["run", DIR, bad[0], bad[1]]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(bad[0]), "{bad:?}");
    }
    let o = hnsim(&["run", DIR, "--seed", "1", "--seeds", "1..3"]);
    assert_eq!(o.status.code(), Some(2), "--seed and --seeds conflict");
}

#[test]
fn shards_partition_the_pairs_and_merge_back_to_the_whole_run() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_sweep");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let whole = hnsim(&["run", DIR, "--seeds", "1..3", "--format", "json", "--quiet"]);
    let mut files = Vec::new();
    let mut seen = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let o = hnsim(&[
            "run", DIR, "--seeds", "1..3", "--shard", &shard, "--format", "json",
        ]);
        assert_eq!(o.status.code(), Some(0));
        let p = dir.join(format!("shard{i}.json"));
        std::fs::write(&p, &o.stdout).expect("write shard");
        seen.extend(runs(&json(&o)));
        files.push(p.display().to_string());
    }
    let mut all = runs(&json(&whole));
    all.sort();
    seen.sort();
    assert_eq!(seen, all, "every (scenario, seed) pair in exactly one shard");
    let mut args = vec!["report", "merge"];
    args.extend(files.iter().map(String::as_str));
    let merged = hnsim(&args);
    assert_eq!(merged.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&whole.stdout),
        "merged shards equal the whole run's report"
    );
    // Bad input: a clear error with the JSON path, exit 2.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"scenarios": [{"file": "x"}]}"#).expect("write");
    let o = hnsim(&["report", "merge", &bad.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("$.scenarios[0].seed"));
}
