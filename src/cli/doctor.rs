//! `hnsim doctor PATH…`: named checks over a node's HNS state (a dump folder, dump files, or
//! scenarios), with severity, the objects involved and the public issue each comes from.
//! Exit 0 = no findings (or info only), 1 = warnings or errors, 2 = bad input. `hnsim node diff A B` shares the loading.

use hnsim_model::doctor::{self, Context, Finding, Severity};
use hnsim_model::state::{Hns, HostSettings};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct DoctorArgs {
    /// Dump folders and files, or scenario files (.yaml / .yml).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// text | json
    #[arg(long, default_value = "text")]
    pub format: String,
    /// The node's underlay address, when the dump does not show it.
    #[arg(long)]
    pub node_ip: Option<std::net::IpAddr>,
    /// The underlay MTU.
    #[arg(long, default_value_t = 1500)]
    pub underlay_mtu: u16,
    /// OutBoundNAT exceptions with a shorter prefix than this are reported as too wide.
    #[arg(long, default_value_t = 12)]
    pub widest_exception: u8,
    /// Print the checks and exit.
    #[arg(long)]
    pub list_checks: bool,
    /// A Kubernetes description (hnsim-k8s YAML): also report drift of the node against what
    /// the cluster should have programmed on it (needs --node).
    #[arg(long, requires = "node")]
    pub expected: Option<PathBuf>,
    /// The node's name in the --expected description.
    #[arg(long, requires = "expected")]
    pub node: Option<String>,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    /// State A: a dump folder, a dump file or a scenario.
    pub a: PathBuf,
    /// State B.
    pub b: PathBuf,
    /// text | json
    #[arg(long, default_value = "text")]
    pub format: String,
}

/// One HNS state to examine, with where it came from.
pub struct State {
    pub label: String,
    pub hns: Hns,
    pub ctx: Context,
}

fn is_scenario(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Load states: every host of each scenario, and one node for all the dump paths together.
pub fn load_states(paths: &[PathBuf]) -> Result<Vec<State>, u8> {
    let (scenarios, dumps): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.iter().cloned().partition(|p| is_scenario(p));
    let mut out = Vec::new();
    for s in &scenarios {
        let l = hnsim_sim::scenario::load_file(s).map_err(|errs| {
            for e in &errs {
                eprintln!("{e}");
            }
            2u8
        })?;
        let (_, runner) = super::run::set_up(&l, None, false)?;
        for (name, h) in &l.scenario.hosts {
            let hns = runner
                .world
                .hns_ref(name)
                .map_err(|e| super::invalid(e.to_string()))?;
            out.push(State {
                label: format!("{} host {name}", s.display()),
                hns: hns.clone(),
                ctx: Context {
                    node_ip: Some(h.ip),
                    ..Context::default()
                },
            });
        }
    }
    if !dumps.is_empty() {
        let dump = super::node::load_dump(&dumps)?;
        let mut hns = Hns::new(HostSettings::default(), 1);
        let docs: Vec<_> = dump.docs.iter().map(|d| d.doc.clone()).collect();
        let node_ip = hnsim_sim::scenario::restore::node_ip_in(&docs).map(|(ip, _)| ip);
        let rep = hns.import(docs);
        out.push(State {
            label: super::node::describe(&dumps),
            hns,
            ctx: Context {
                node_ip,
                port_pools: dump.port_pools,
                import_problems: rep.problems,
                ..Context::default()
            },
        });
    }
    Ok(out)
}

pub fn doctor(a: DoctorArgs) -> u8 {
    if a.list_checks {
        for c in doctor::CHECKS {
            println!(
                "{:<36} {:<8} {}  [{}]",
                c.name,
                c.severity.as_str(),
                c.what,
                c.reference
            );
        }
        return 0;
    }
    let json = match a.format.as_str() {
        "text" => false,
        "json" => true,
        other => return super::invalid(format!("--format: expected text or json, found {other:?}")),
    };
    let states = match load_states(&a.paths) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let expected = match (&a.expected, &a.node) {
        (Some(f), Some(n)) => match super::drift::expected_state(f, n) {
            Ok(h) => Some(h),
            Err(c) => return c,
        },
        _ => None,
    };
    let mut total = 0;
    let mut reports = Vec::new();
    for mut s in states {
        s.ctx.underlay_mtu = a.underlay_mtu;
        s.ctx.widest_exception = a.widest_exception;
        if a.node_ip.is_some() {
            s.ctx.node_ip = a.node_ip;
        }
        let mut findings = doctor::run(&s.hns, &s.ctx);
        if let Some(e) = &expected {
            findings.extend(doctor::diff::drift(e, &s.hns));
        }
        total += findings.iter().filter(|f| f.severity > Severity::Info).count();
        if json {
            reports.push(
                serde_json::json!({"source": s.label, "findings": findings, "summary": summary(&findings)}),
            );
        } else {
            print_text(&s.label, &findings);
        }
    }
    if json {
        let v = serde_json::Value::Array(reports);
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    u8::from(total > 0)
}

fn summary(f: &[Finding]) -> String {
    let n = |s: Severity| f.iter().filter(|x| x.severity == s).count();
    format!(
        "{} finding(s): {} error(s), {} warning(s), {} info",
        f.len(),
        n(Severity::Error),
        n(Severity::Warning),
        n(Severity::Info)
    )
}

fn print_text(label: &str, findings: &[Finding]) {
    println!("doctor: {label}");
    for f in findings {
        println!("{:<8} {}: {}", f.severity.as_str(), f.check, f.message);
        for o in &f.objects {
            println!("         - {o}");
        }
        println!("         from {}", f.reference);
    }
    println!("{}", summary(findings));
}

pub fn diff(a: DiffArgs) -> u8 {
    let json = match a.format.as_str() {
        "text" => false,
        "json" => true,
        other => return super::invalid(format!("--format: expected text or json, found {other:?}")),
    };
    let mut two = Vec::new();
    for p in [&a.a, &a.b] {
        match load_states(std::slice::from_ref(p)) {
            Ok(mut s) if s.len() == 1 => two.push(s.remove(0)),
            Ok(s) => {
                return super::invalid(format!(
                    "{}: holds {} hosts; diff needs one HNS state per side",
                    p.display(),
                    s.len()
                ))
            }
            Err(c) => return c,
        }
    }
    let d = doctor::diff::diff(&two[0].hns, &two[1].hns);
    if json {
        println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
    } else {
        println!("a: {}\nb: {}", two[0].label, two[1].label);
        for x in &d {
            if x.detail.is_empty() {
                println!("{:<10} {}", x.change, x.object);
            } else {
                println!("{:<10} {}: {}", x.change, x.object, x.detail);
            }
        }
        println!("{} difference(s)", d.len());
    }
    u8::from(!d.is_empty())
}
