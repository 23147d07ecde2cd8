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
        // A scenario without traffic (HNS calls only) pins what each call returned instead.
        let control_plane_only = rep.steps.iter().all(|s| s.exchanges.is_empty());
        for s in &rep.steps {
            if control_plane_only {
                let _ = writeln!(text, "\n## step {} (line {}): {}", s.index, s.line, s.label);
                for c in &s.checks {
                    let _ = writeln!(text, "  {}: {}", c.what, c.actual);
                }
                continue;
            }
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

/// Why a known gap is not (or no longer) one: it must load, run to the end and still fail.
fn still_a_gap(g: &std::path::Path) -> Result<(), String> {
    let l = load_file(g).map_err(|e| format!("{}: {e:?}", g.display()))?;
    let rep = hnsim_sim::scenario::runner::run(&l, &RunOptions::default());
    if let Some(e) = rep.error {
        return Err(format!("{}: {e:?}", g.display()));
    }
    if rep.ok() {
        return Err(format!(
            "{} passes now: move it from known-gaps/ into its topic folder",
            g.display()
        ));
    }
    Ok(())
}

/// The known gaps (scenarios/known-gaps/*.yaml.gap) are valid scenarios whose documented outcome
/// the model does not reproduce yet. When one starts passing, move it into the library. The
/// folder's README names each open gap, or says "None are open" when the folder has none.
#[test]
fn known_gaps_are_valid_and_still_fail() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/known-gaps");
    let mut gaps: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".yaml.gap"))
        .collect();
    gaps.sort();
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("known-gaps/README.md");
    let none_open = readme.contains("None are open");
    assert_eq!(
        none_open,
        gaps.is_empty(),
        "known-gaps/README.md says {} but the folder holds {gaps:?}",
        if none_open {
            "\"None are open\""
        } else {
            "gaps are open"
        }
    );
    for g in &gaps {
        let name = g.file_name().unwrap().to_string_lossy();
        assert!(
            readme.contains(name.as_ref()),
            "known-gaps/README.md does not name {name}"
        );
        still_a_gap(g).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The gap check itself tells a failing scenario from a passing or broken one.
#[test]
fn the_gap_check_tells_failing_from_passing_and_broken() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("known-gaps");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = |name: &str, disposition: &str| {
        let p = dir.join(name);
        let text = format!(
            "name: {name}\nunderlay:\n  segments:\n    lan: {{prefix: 10.0.0.0/24}}\nhosts:\n  h: {{ip: 10.0.0.11}}\n\
             stations:\n  s: {{ip: 10.0.0.50}}\nsteps:\n  - connect: {{from: s, to: \"10.0.0.11:80\", expect: {{disposition: {disposition}}}}}\n"
        );
        std::fs::write(&p, text).unwrap();
        p
    };
    // Nothing listens on the host's port 80.
    assert_eq!(still_a_gap(&scenario("fails.yaml.gap", "Delivered")), Ok(()));
    let passing = still_a_gap(&scenario("passes.yaml.gap", "NoListener")).unwrap_err();
    assert!(passing.contains("passes now"), "{passing}");
    let broken = still_a_gap(&scenario("broken.yaml.gap", "NoSuchDisposition")).unwrap_err();
    assert!(broken.contains("broken.yaml.gap"), "{broken}");
}
