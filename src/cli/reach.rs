//! `hnsim reach` and `hnsim diff`: every header class after a scenario's set-up, and the
//! classes whose outcome a change moved (docs/reach.md).

use hnsim_sim::reach::{diff::diff as diff_reach, render, Reach};
use hnsim_sim::scenario::runner::Runner;
use hnsim_sim::scenario::Loaded;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ReachArgs {
    /// The scenario whose set-up (every step but traffic) builds the world (`-` = stdin).
    pub scenario: PathBuf,
    /// Only from these places (container, pod, endpoint, host or station names); repeatable.
    #[arg(long)]
    pub from: Vec<String>,
    /// Only to these destinations (names, `svc/NS/NAME`, addresses, or prefixes: every address
    /// and address atom inside); repeatable. Default: every named address and address atom.
    #[arg(long)]
    pub to: Vec<String>,
    /// text | json
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Override the scenario's `seed:`.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The scenario before the change (or the only scenario, with --cut-at), or a node dump
    /// (folder or file, imported as `hnsim node import` does).
    pub before: PathBuf,
    /// The scenario or node dump after the change.
    #[arg(required_unless_present = "cut_at", conflicts_with = "cut_at")]
    pub after: Option<PathBuf>,
    /// Compare the set-up up to (not including) step N (1-based) with the whole set-up.
    #[arg(long)]
    pub cut_at: Option<usize>,
    /// With --cut-at: end the "after" set-up with step M (1-based) instead of the last step.
    #[arg(long, requires = "cut_at")]
    pub until: Option<usize>,
    /// Only from these places; repeatable.
    #[arg(long)]
    pub from: Vec<String>,
    /// Only to these destinations; repeatable.
    #[arg(long)]
    pub to: Vec<String>,
    /// text | json
    #[arg(long, default_value = "text")]
    pub format: String,
}

fn check_format(f: &str) -> Result<(), u8> {
    match f {
        "text" | "json" => Ok(()),
        other => Err(super::invalid(format!(
            "--format: expected text or json, found {other:?}"
        ))),
    }
}

/// Set `l` up (every step but traffic), warning about set-up steps that went wrong.
fn set_up(l: &Loaded, seed: Option<u64>) -> Result<Runner<'_>, u8> {
    let (rep, runner) = super::run::set_up(l, seed, false)?;
    super::run::warn_failed_setup(l, &rep);
    Ok(runner)
}

/// Set both sides up and sweep them for a diff (`Runner::reach_both`).
fn sweep_both(
    b: &Loaded,
    a: &Loaded,
    from: &[String],
    to: &[String],
) -> Result<(Reach, Reach, Option<usize>), u8> {
    let mut rb = set_up(b, None)?;
    let mut ra = set_up(a, None)?;
    Runner::reach_both(&mut rb, &mut ra, from, to).map_err(super::invalid)
}

/// A diff side: a scenario (`.yaml`, `.yml`, `-`), else a node dump imported as `hnsim node
/// import` does (host `node`, so two dumps' pairs match by name).
fn load_side(p: &std::path::Path) -> Result<Loaded, u8> {
    let scenario = p == std::path::Path::new("-")
        || matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    if scenario {
        return super::run::load_one(p);
    }
    let paths = [p.to_path_buf()];
    let dump = super::node::load_dump(&paths)?;
    let facts = hnsim_sim::scenario::restore::NodeFacts {
        name: Some("node".into()),
        ..Default::default()
    };
    let label = super::node::describe(&paths);
    let text =
        hnsim_sim::scenario::restore::scenario_from_dump(&dump, &facts, &label).map_err(super::invalid)?;
    hnsim_sim::scenario::load_str(&label, &text)
        .map_err(|errs| super::invalid(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))
}

pub fn reach(a: ReachArgs) -> u8 {
    if let Err(c) = check_format(&a.format) {
        return c;
    }
    let l = match super::run::load_one(&a.scenario) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let r = match set_up(&l, a.seed).and_then(|mut run| run.reach(&a.from, &a.to).map_err(super::invalid)) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let text = match a.format.as_str() {
        "json" => serde_json::to_string_pretty(&render::json(&r)).unwrap_or_default() + "\n",
        _ => render::text(&r),
    };
    super::out::finish(super::out::print(&text), 0)
}

pub fn diff(a: DiffArgs) -> u8 {
    if let Err(c) = check_format(&a.format) {
        return c;
    }
    let first = match load_side(&a.before) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let (before, after) = match (&a.after, a.cut_at) {
        (Some(p), _) => match load_side(p) {
            Ok(l) => (first, l),
            Err(c) => return c,
        },
        (None, Some(n)) => {
            let steps = first.scenario.steps.len();
            if n == 0 || n > steps {
                return super::invalid(format!(
                    "--cut-at: expected a step number from 1 to {steps}, found {n}"
                ));
            }
            let until = a.until.unwrap_or(steps);
            if until < n || until > steps {
                return super::invalid(format!(
                    "--until: expected a step number from {n} (--cut-at) to {steps}, found {until}"
                ));
            }
            let mut cut = first.clone();
            cut.scenario.steps.truncate(n - 1);
            let mut whole = first;
            whole.scenario.steps.truncate(until);
            (cut, whole)
        }
        (None, None) => return super::invalid("expected an AFTER scenario or --cut-at STEP"),
    };
    let (rb, ra, partial) = match sweep_both(&before, &after, &a.from, &a.to) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let changes = diff_reach(&rb, &ra);
    let text = match a.format.as_str() {
        "json" => {
            let v = serde_json::json!({
                "classes_before": rb.classes,
                "classes_after": ra.classes,
                "acl_only_endpoints": partial,
                "changes": changes,
            });
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        _ => {
            let mut s: String = changes.iter().map(|c| c.text() + "\n").collect();
            s.push_str(&format!(
                "{} change(s); {} classes before, {} after{}\n",
                changes.len(),
                rb.classes,
                ra.classes,
                match partial {
                    None => String::new(),
                    Some(0) => " (both set-ups compile to the same programs)".into(),
                    Some(n) => format!(
                        " (only the ACLs of {n} endpoint(s) differ: the {} pairs through them were swept)",
                        rb.pairs.len()
                    ),
                }
            ));
            s
        }
    };
    let code = if changes.is_empty() { 0 } else { 1 };
    super::out::finish(super::out::print(&text), code)
}
