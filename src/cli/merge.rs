//! `hnsim report merge A.json B.json …`: the JSON reports of shards (`hnsim run --shard I/N
//! --format json`) merged into one, as if one process had run them all: the scenarios sorted
//! by (file, seed) — the order an unsharded run reports them in — and the counts recomputed.
//! JUnit reports need no command: CI systems merge JUnit files themselves.

use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct MergeArgs {
    /// JSON reports written by `hnsim run --format json`.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Write the merged report here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One report's scenarios, or what is wrong with the file (with its JSON path).
fn scenarios_of(path: &PathBuf) -> Result<Vec<Value>, String> {
    let where_ = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{where_}: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{where_}:{}:{}: expected a JSON report from `hnsim run --format json`: {e}",
            e.line(),
            e.column()
        )
    })?;
    let list = v
        .get("scenarios")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{where_}: $.scenarios: expected a list of scenario reports"))?;
    for (i, s) in list.iter().enumerate() {
        for (key, ok) in [
            ("file", s.get("file").is_some_and(Value::is_string)),
            ("seed", s.get("seed").is_some_and(Value::is_u64)),
            ("steps", s.get("steps").is_some_and(Value::is_array)),
        ] {
            if !ok {
                return Err(format!(
                    "{where_}: $.scenarios[{i}].{key}: expected the scenario's `{key}`"
                ));
            }
        }
    }
    Ok(list.clone())
}

/// Did a scenario pass? (no world error, no step error, every check ok)
fn passed(s: &Value) -> bool {
    s.get("error").is_none()
        && s["steps"].as_array().into_iter().flatten().all(|st| {
            st.get("error").is_none()
                && st["checks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .all(|c| c["ok"].as_bool() == Some(true))
        })
}

pub fn merge(a: MergeArgs) -> u8 {
    let mut all = Vec::new();
    for p in &a.reports {
        match scenarios_of(p) {
            Ok(mut s) => all.append(&mut s),
            Err(e) => return super::invalid(e),
        }
    }
    all.sort_by(|x, y| {
        (x["file"].as_str(), x["seed"].as_u64()).cmp(&(y["file"].as_str(), y["seed"].as_u64()))
    });
    let ok = all.iter().filter(|s| passed(s)).count();
    let failed = all.len() - ok;
    let v = json!({"passed": ok, "failed": failed, "scenarios": all});
    let mut text = serde_json::to_string_pretty(&v).unwrap_or_default();
    text.push('\n');
    match &a.out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &text) {
                return super::invalid(format!("--out {}: {e}", p.display()));
            }
            println!("{ok} passed, {failed} failed");
        }
        None => print!("{text}"),
    }
    u8::from(failed > 0)
}
