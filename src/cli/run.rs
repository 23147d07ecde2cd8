//! `hnsim run`, `check`, `trace` and `graph` (ARCHITECTURE "The command line").

use hnsim_sim::scenario::format::Proto;
use hnsim_sim::scenario::runner::{execute, RunOptions, Runner, ScenarioReport};
use hnsim_sim::scenario::{doclint, expect_lint, load_file, load_str, parse, report, Loaded, ScenarioError};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct RunArgs {
    /// Scenario files or folders (folders are searched recursively for *.yaml / *.yml; `-`
    /// reads one scenario from standard input).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Treat warnings (keys HNS ignores inside HNS documents, an `expect:` without
    /// `disposition:`) as errors: exit 2.
    #[arg(long)]
    pub strict: bool,
    /// Override every scenario's `seed:`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// text | json | junit | html
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write packet captures to DIR/<scenario>/<point>.pcap.
    #[arg(long)]
    pub pcap: Option<PathBuf>,
    /// Run everything twice and fail at the first difference in the JSON report or the pcaps.
    #[arg(long)]
    pub check_determinism: bool,
    /// Run every scenario under each seed of a range: `1..11` (11 excluded) or `1..=10`.
    #[arg(long, conflicts_with = "seed")]
    pub seeds: Option<String>,
    /// Run only shard I of N (1-based) of the (scenario, seed) pairs, e.g. `--shard 2/4`;
    /// merge the shards' JSON reports with `hnsim report merge`.
    #[arg(long)]
    pub shard: Option<String>,
    /// No progress bar (it is drawn only when standard error is a terminal anyway).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Scenario files or folders (folders are searched recursively for *.yaml / *.yml; `-`
    /// reads one scenario from standard input).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Treat warnings (keys HNS ignores inside HNS documents, an `expect:` without
    /// `disposition:`) as errors: exit 2.
    #[arg(long)]
    pub strict: bool,
}

#[derive(clap::Args)]
pub struct TraceArgs {
    /// The scenario file whose set-up (every step but traffic) builds the world (`-` = stdin).
    pub scenario: PathBuf,
    /// A container, endpoint, host or station name from the scenario.
    #[arg(long)]
    pub from: String,
    /// ADDR:PORT (or NAME:PORT; an address or name alone for icmp).
    #[arg(long)]
    pub to: String,
    /// tcp | udp | icmp
    #[arg(long, default_value = "tcp")]
    pub proto: String,
    /// Override the scenario's `seed:`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the trace as JSON (same as `--format json`).
    #[arg(long)]
    pub json: bool,
    /// text | json | html (a self-contained page: the topology with the packet's path drawn)
    #[arg(long, default_value = "text")]
    pub format: String,
}

#[derive(clap::Args)]
pub struct GraphArgs {
    /// The scenario file whose set-up builds the topology (`-` = stdin).
    pub scenario: PathBuf,
    /// dot | json (nodes and edges with kinds and names)
    #[arg(long, default_value = "dot")]
    pub format: String,
}

/// A scenario's captures: its name and (capture point, pcap bytes) pairs.
type Captures = (String, Vec<(String, Vec<u8>)>);

fn print_errors(errors: &[ScenarioError]) {
    for e in errors {
        eprintln!("error: {e}");
    }
}

/// Load one named scenario file, or standard input for `-`.
fn load_path(p: &Path) -> Result<Loaded, Vec<ScenarioError>> {
    if !super::input::is_stdin(p) {
        return load_file(p);
    }
    let (name, text) = super::input::read(p).map_err(|message| {
        vec![ScenarioError {
            file: super::input::STDIN_NAME.into(),
            pos: None,
            message,
        }]
    })?;
    load_str(&name, &text)
}

/// Load every scenario under `paths` and warn about keys HNS ignores in their documents (errors
/// with `strict`); all errors of all files, or the loaded scenarios.
fn load_all(paths: &[PathBuf], strict: bool) -> Result<Vec<Loaded>, Vec<ScenarioError>> {
    let (stdin, named): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.iter().cloned().partition(|p| super::input::is_stdin(p));
    let mut files = if named.is_empty() {
        Vec::new()
    } else {
        parse::collect_paths(&named).map_err(|e| vec![e])?
    };
    files.extend(stdin.into_iter().take(1));
    if files.is_empty() {
        return Err(vec![ScenarioError {
            file: paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            pos: None,
            message: "expected scenario files (*.yaml, *.yml), found none".into(),
        }]);
    }
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match load_path(&f) {
            Ok(l) => {
                for w in doclint::warnings(&l).into_iter().chain(expect_lint::warnings(&l)) {
                    if strict {
                        errors.push(w);
                    } else {
                        eprintln!("warning: {w}");
                    }
                }
                loaded.push(l)
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// One pass over the planned (scenario, seed) pairs: the reports and each scenario's pcaps.
fn run_once(
    loaded: &[Loaded],
    plan: &[(usize, Option<u64>)],
    opts: &RunOptions,
    quiet: bool,
) -> (Vec<ScenarioReport>, Vec<Captures>) {
    let mut reports = Vec::new();
    let mut pcaps = Vec::new();
    let mut progress = super::sweep::Progress::new(plan.len(), quiet);
    for &(i, seed) in plan {
        let l = &loaded[i];
        let opts = RunOptions {
            seed: seed.or(opts.seed),
            ..opts.clone()
        };
        let (rep, runner) = execute(l, &opts);
        progress.done(rep.ok());
        if opts.pcap {
            let mut files = Vec::new();
            if let Some(r) = &runner {
                let set = r.world.pcap();
                for point in set.points() {
                    files.push((point.to_string(), set.to_pcap_bytes(point)));
                }
            }
            pcaps.push((rep.name.clone(), files));
        }
        reports.push(rep);
    }
    progress.finish();
    (reports, pcaps)
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: first run {x:?}, second run {y:?}", i + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

pub fn run(a: RunArgs) -> u8 {
    let format = a.format.as_str();
    if !matches!(format, "text" | "json" | "junit" | "html") {
        return super::invalid(format!(
            "--format: expected text, json, junit or html, found {format:?}"
        ));
    }
    let loaded = match load_all(&a.paths, a.strict) {
        Ok(l) => l,
        Err(e) => {
            print_errors(&e);
            return 2;
        }
    };
    let seeds = match a.seeds.as_deref().map(super::sweep::parse_seeds).transpose() {
        Ok(s) => s,
        Err(e) => return super::invalid(e),
    };
    let shard = match a.shard.as_deref().map(super::sweep::parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => return super::invalid(e),
    };
    let plan = super::sweep::plan(loaded.len(), seeds.as_deref(), shard);
    let opts = RunOptions {
        seed: a.seed,
        pcap: a.pcap.is_some() || a.check_determinism,
        setup_only: false,
        pictures: format == "html",
    };
    let (reports, pcaps) = run_once(&loaded, &plan, &opts, a.quiet);
    if a.check_determinism {
        let (again, pcaps2) = run_once(&loaded, &plan, &opts, a.quiet);
        let (j1, j2) = (report::json(&reports), report::json(&again));
        if j1 != j2 {
            eprintln!(
                "determinism: the JSON report differs between two runs: {}",
                first_difference(&j1, &j2)
            );
            return 1;
        }
        for ((name, f1), (_, f2)) in pcaps.iter().zip(&pcaps2) {
            for ((p1, b1), (p2, b2)) in f1.iter().zip(f2) {
                if p1 != p2 || b1 != b2 {
                    let at = b1
                        .iter()
                        .zip(b2)
                        .position(|(x, y)| x != y)
                        .unwrap_or(b1.len().min(b2.len()));
                    eprintln!(
                        "determinism: scenario {name}: capture {p1} differs between two runs at byte {at}"
                    );
                    return 1;
                }
            }
            if f1.len() != f2.len() {
                eprintln!("determinism: scenario {name}: the set of captures differs between two runs");
                return 1;
            }
        }
    }
    if let Some(dir) = &a.pcap {
        if let Err(e) = write_pcaps(dir, &pcaps) {
            return super::invalid(format!("--pcap {}: {e}", dir.display()));
        }
    }
    let text = match format {
        "json" => report::json(&reports),
        "junit" => report::junit(&reports),
        "html" => hnsim_sim::scenario::html::report(&reports),
        _ => report::text(&reports),
    };
    match &a.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return super::invalid(format!("--out {}: {e}", path.display()));
            }
            // Keep the contract's last line on the terminal too.
            let (p, f) = report::counts(&reports);
            if let Err(c) = super::out::println(&format!("{p} passed, {f} failed")) {
                return c;
            }
        }
        None => {
            let text = if format == "text" && super::sweep::colour_wanted() {
                super::sweep::colour_text(&text)
            } else {
                text
            };
            if let Err(c) = super::out::print(&text) {
                return c;
            }
        }
    }
    if reports.iter().all(ScenarioReport::ok) {
        0
    } else {
        1
    }
}

fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn write_pcaps(dir: &Path, pcaps: &[Captures]) -> std::io::Result<()> {
    // Two scenarios may share a name (or a file-safe form of it): the later ones get `-2`, `-3`, …
    // rather than overwriting the earlier one's captures.
    let mut used = std::collections::BTreeSet::new();
    for (name, files) in pcaps {
        let base = safe_name(name);
        let mut folder = base.clone();
        for n in 2.. {
            if used.insert(folder.clone()) {
                break;
            }
            folder = format!("{base}-{n}");
        }
        let sub = dir.join(folder);
        std::fs::create_dir_all(&sub)?;
        for (point, bytes) in files {
            std::fs::write(sub.join(format!("{}.pcap", safe_name(point))), bytes)?;
        }
    }
    Ok(())
}

pub fn check(a: CheckArgs) -> u8 {
    match load_all(&a.paths, a.strict) {
        Ok(l) => {
            let mut text = String::new();
            for s in &l {
                text.push_str(&format!(
                    "ok {} — {} ({} steps)\n",
                    s.file,
                    s.scenario.name,
                    s.scenario.steps.len()
                ));
            }
            text.push_str(&format!("{} valid, 0 invalid\n", l.len()));
            super::out::finish(super::out::print(&text), 0)
        }
        Err(e) => {
            print_errors(&e);
            2
        }
    }
}

pub(crate) fn load_one(path: &Path) -> Result<Loaded, u8> {
    load_path(path).map_err(|e| {
        print_errors(&e);
        2
    })
}

/// Why a set-up step did not go as expected: its error, or each failed check.
fn why(s: &hnsim_sim::scenario::runner::StepReport) -> String {
    if let Some(e) = &s.error {
        return e.clone();
    }
    let failed: Vec<String> = (s.checks.iter().filter(|c| !c.ok))
        .map(|c| format!("{}: expected {}, found {}", c.what, c.expected, c.actual))
        .collect();
    failed.join("; ")
}

/// Warn about every set-up step that did not go as expected; whether there was one.
pub(crate) fn warn_failed_setup(l: &Loaded, rep: &ScenarioReport) -> bool {
    let mut any = false;
    for s in rep.failed_steps() {
        any = true;
        eprintln!(
            "warning: setup step {} ({}:{}: {}) did not go as expected: {}",
            s.index,
            l.file,
            s.line,
            s.label,
            why(s)
        );
    }
    any
}

/// Set `l` up (every step but traffic), for the commands that look at the built world: the
/// set-up's report and runner, or exit 2 when the world could not be built.
pub(crate) fn set_up<'a>(
    l: &'a Loaded,
    seed: Option<u64>,
    pictures: bool,
) -> Result<(ScenarioReport, Runner<'a>), u8> {
    let opts = RunOptions {
        seed,
        pcap: false,
        setup_only: true,
        pictures,
    };
    let (rep, runner) = execute(l, &opts);
    let Some(runner) = runner else {
        return Err(super::invalid(format!(
            "{}: {}",
            l.file,
            rep.error.unwrap_or_default()
        )));
    };
    Ok((rep, runner))
}

pub fn trace(a: TraceArgs) -> u8 {
    let format = if a.json { "json" } else { a.format.as_str() };
    if !matches!(format, "text" | "json" | "html") {
        return super::invalid(format!("--format: expected text, json or html, found {format:?}"));
    }
    let proto = match a.proto.as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        other => return super::invalid(format!("--proto: expected tcp, udp or icmp, found {other:?}")),
    };
    let l = match load_one(&a.scenario) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let (rep, mut runner) = match set_up(&l, a.seed, format == "html") {
        Ok(r) => r,
        Err(c) => return c,
    };
    warn_failed_setup(&l, &rep);
    let ex = match runner.send_one(&a.from, &a.to, proto) {
        Ok(ex) => ex,
        Err(e) => return super::invalid(e),
    };
    let delivered = ex.request.disposition.is_delivered();
    let text = match format {
        "html" => {
            let label = format!("trace {} -> {} ({})", a.from, a.to, a.proto);
            hnsim_sim::scenario::html::trace(&rep, label, ex)
        }
        "json" => serde_json::to_string_pretty(&ex).unwrap_or_default() + "\n",
        _ => format!("{} -> {} ({})\n{ex}\n", a.from, a.to, a.proto),
    };
    let code = if delivered { 0 } else { 1 };
    super::out::finish(super::out::print(&text), code)
}

pub fn graph(a: GraphArgs) -> u8 {
    if !matches!(a.format.as_str(), "dot" | "json") {
        return super::invalid(format!("--format: expected dot or json, found {:?}", a.format));
    }
    let l = match load_one(&a.scenario) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let (rep, runner) = match set_up(&l, None, false) {
        Ok(r) => r,
        Err(c) => return c,
    };
    // The graph of a half-built world is still worth seeing, but not as a success.
    let code = if warn_failed_setup(&l, &rep) { 1 } else { 0 };
    let t = runner.topology();
    let text = match a.format.as_str() {
        "json" => hnsim_sim::view::graph::json(&t),
        _ => hnsim_sim::view::graph::dot(&t),
    };
    super::out::finish(super::out::print(&text), code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_names_the_line() {
        assert_eq!(
            first_difference("a\nb\nc\n", "a\nx\nc\n"),
            "line 2: first run \"b\", second run \"x\""
        );
        assert_eq!(first_difference("a\n", "a\nb\n"), "lengths differ: 1 vs 2 lines");
    }

    #[test]
    fn scenarios_with_the_same_name_get_their_own_pcap_folder() {
        let dir = std::env::temp_dir().join(format!("hnsim-same-name-pcaps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let one = |b: u8| ("same name".to_string(), vec![("p".to_string(), vec![b])]);
        write_pcaps(&dir, &[one(1), one(2), one(3)]).unwrap();
        for (folder, b) in [("same_name", 1), ("same_name-2", 2), ("same_name-3", 3)] {
            assert_eq!(std::fs::read(dir.join(folder).join("p.pcap")).unwrap(), [b]);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn pcap_names_are_file_safe() {
        assert_eq!(safe_name("node1/uplink"), "node1_uplink");
        assert_eq!(safe_name("s1 host-gw: A→B"), "s1_host-gw__A_B");
    }
}
