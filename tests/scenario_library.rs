//! The reference library: every scenario under scenarios/ passes, and the traces of every
//! traffic step are pinned as insta snapshots (GUIDs replaced by the scenario's names, so a
//! snapshot reads like the scenario).

use hnsim_sim::scenario::load_file;
use hnsim_sim::scenario::parse::collect_paths;
use hnsim_sim::scenario::runner::{execute, RunOptions};
use std::fmt::Write;
use std::path::PathBuf;

fn library() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    collect_paths(&[root]).expect("scenarios/ exists")
}

/// Replace every GUID in `text` by `<name>` (or `<object N>` for unnamed objects, numbered in
/// order of appearance).
fn name_guids(text: &str, names: &std::collections::BTreeMap<hnsim_model::Guid, String>) -> String {
    let mut out = String::new();
    let mut unnamed: Vec<String> = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if i + 36 <= bytes.len() {
            let cand: String = bytes[i..i + 36].iter().collect();
            if let Ok(g) = cand.parse::<hnsim_model::Guid>() {
                if cand.chars().filter(|c| *c == '-').count() == 4 {
                    match names.get(&g) {
                        Some(n) => {
                            let _ = write!(out, "<{n}>");
                        }
                        None => {
                            let k = match unnamed.iter().position(|u| *u == cand) {
                                Some(k) => k,
                                None => {
                                    unnamed.push(cand.clone());
                                    unnamed.len() - 1
                                }
                            };
                            let _ = write!(out, "<object {}>", k + 1);
                        }
                    }
                    i += 36;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[test]
fn every_library_scenario_passes_and_its_traces_are_pinned() {
    let files = library();
    assert!(files.len() >= 25, "the library has {} scenarios", files.len());
    let mut failed = Vec::new();
    for f in files {
        let l = load_file(&f).unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
        let (rep, runner) = execute(&l, &RunOptions::default());
        if !rep.ok() {
            failed.push(hnsim_sim::scenario::report::text(std::slice::from_ref(&rep)));
        }
        let runner = runner.expect("world built");
        let names = runner.names_by_guid();
        let mut text = String::new();
        let _ = writeln!(
            text,
            "{} — {}",
            l.scenario.name,
            l.scenario.reference.clone().unwrap_or_default()
        );
        for s in &rep.steps {
            if s.exchanges.is_empty() {
                continue;
            }
            let _ = writeln!(text, "\n## step {} (line {}): {}", s.index, s.line, s.label);
            for (k, ex) in s.exchanges.iter().enumerate() {
                if s.exchanges.len() > 1 {
                    let _ = writeln!(text, "# packet {}", k + 1);
                }
                let _ = writeln!(text, "{ex}");
            }
        }
        let stem = f
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&f)
            .display()
            .to_string()
            .trim_start_matches('/')
            .trim_start_matches("scenarios/")
            .trim_end_matches(".yaml")
            .replace('/', "__");
        insta::assert_snapshot!(stem, name_guids(&text, &names));
    }
    assert!(
        failed.is_empty(),
        "library scenarios failed:\n{}",
        failed.join("\n")
    );
}

/// The known gaps (scenarios/known-gaps/*.yaml.gap) are valid scenarios whose documented outcome
/// the model does not reproduce yet. When one starts passing, move it into the library.
#[test]
fn known_gaps_are_valid_and_still_fail() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/known-gaps");
    let mut gaps: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".yaml.gap"))
        .collect();
    gaps.sort();
    for g in gaps {
        let l = load_file(&g).unwrap_or_else(|e| panic!("{}: {e:?}", g.display()));
        let rep = hnsim_sim::scenario::runner::run(&l, &RunOptions::default());
        assert!(rep.error.is_none(), "{}: {:?}", g.display(), rep.error);
        assert!(
            !rep.ok(),
            "{} passes now: move it from known-gaps/ into its topic folder",
            g.display()
        );
    }
}
