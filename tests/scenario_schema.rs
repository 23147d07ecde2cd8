//! docs/scenario.schema.json stays in step with the parser: the same step kinds, the same host
//! settings, and every library scenario's top-level and step keys are ones the schema allows.

use hnsim_sim::scenario::format::Step;
use hnsim_sim::scenario::topology::setting_names;
use serde_json::Value;
use std::collections::BTreeSet;

fn schema() -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenario.schema.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn step_kinds_match_the_parser() {
    let s = schema();
    let kinds: BTreeSet<String> = s["definitions"]["step"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|alt| alt["required"][0].as_str().unwrap().to_string())
        .collect();
    let parser: BTreeSet<String> = Step::KINDS.iter().map(|k| k.to_string()).collect();
    assert_eq!(kinds, parser);
}

#[test]
fn host_settings_match_the_runner() {
    let s = schema();
    let keys: BTreeSet<String> = s["definitions"]["settings"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let runner: BTreeSet<String> = setting_names().into_iter().collect();
    assert_eq!(keys, runner);
}

#[test]
fn library_keys_are_allowed_by_the_schema() {
    let s = schema();
    let top: BTreeSet<&str> = s["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let files = hnsim_sim::scenario::parse::collect_paths(&[root.into()]).unwrap();
    for f in files {
        let v: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for (k, _) in v.as_mapping().unwrap() {
            assert!(top.contains(k.as_str().unwrap()), "{}: {k:?}", f.display());
        }
        for step in v["steps"].as_sequence().unwrap() {
            let (kind, body) = step.as_mapping().unwrap().iter().next().unwrap();
            let kind = kind.as_str().unwrap();
            let alt = s["definitions"]["step"]["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["required"][0] == kind)
                .unwrap_or_else(|| panic!("{}: step {kind} not in the schema", f.display()));
            let mut def = &alt["properties"][kind];
            if let Some(r) = def["$ref"].as_str() {
                def = &s["definitions"][r.trim_start_matches("#/definitions/")];
            }
            if let (Some(props), Some(m)) = (def["properties"].as_object(), body.as_mapping()) {
                for (k, _) in m {
                    let k = k.as_str().unwrap();
                    assert!(
                        props.contains_key(k),
                        "{}: {kind}.{k} not in the schema",
                        f.display()
                    );
                }
            }
        }
    }
}

/// The complete example in docs/scenario-format.md is a valid scenario that passes.
#[test]
fn the_documented_example_runs() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenario-format.md")).unwrap();
    let start = doc.find("```yaml\n# Reproduces").expect("the example") + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let l = hnsim_sim::scenario::load_str("docs/scenario-format.md", &doc[start..end])
        .unwrap_or_else(|e| panic!("{e:?}"));
    let rep = hnsim_sim::scenario::runner::run(&l, &Default::default());
    assert!(
        rep.ok(),
        "{}",
        hnsim_sim::scenario::report::text(std::slice::from_ref(&rep))
    );
}
