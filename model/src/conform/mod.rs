//! The conformance suite, written once against [`HnsBackend`] so that it runs unchanged against
//! the model (`sim`), a real Windows host (`exec:` the agent), or a recorded transcript.
//!
//! It observes only through HCN calls, names everything it creates `<tag>-<case>-<n>`, deletes
//! what it created, and finally checks that nothing it created is still enumerated. A backend
//! that cannot restart HNS (E_NOTIMPL) gets the persistence case reported as skipped. An adapter
//! fault (dead child, timeout, replay divergence) ends the run with that error.

mod cases;
pub mod ctx;
pub mod report;

pub use report::{Outcome, Report};

use crate::backend::{HnsBackend, ObjectKind};
use ctx::{default_query, Ctx, Stop, Trail};

/// Options for a run.
#[derive(Clone, Debug)]
pub struct SuiteOptions {
    /// Prefix of every name the suite gives an object. Keep it fixed for transcripts to replay.
    pub tag: String,
    /// Only run cases whose name contains this.
    pub filter: Option<String>,
}

impl Default for SuiteOptions {
    fn default() -> Self {
        SuiteOptions {
            tag: "hnsim-conform".into(),
            filter: None,
        }
    }
}

/// The names of every case, in run order.
pub fn case_names() -> Vec<&'static str> {
    cases::CASES.iter().map(|c| c.0).collect()
}

/// Run the suite against `backend`.
pub fn run(backend: &mut dyn HnsBackend, options: &SuiteOptions) -> Report {
    let mut report = Report {
        backend: backend.describe(),
        cases: Vec::new(),
        aborted: None,
    };
    let mut subnets = 0u32;
    let mut ever = Vec::new();
    let mut trail = Trail::default();
    for (name, about, f) in cases::CASES {
        if let Some(filter) = &options.filter {
            if !name.contains(filter.as_str()) && *name != "suite.preclean" {
                continue;
            }
        }
        let mut ctx = Ctx::new(backend, &options.tag, name, &mut subnets, &mut ever, &mut trail);
        let result = f(&mut ctx).map_err(|s| at(s, &ctx.trail_text()));
        let cleaned = ctx.cleanup().map_err(|s| at(s, &ctx.trail_text()));
        let outcome = match (result, cleaned) {
            (Err(Stop::Fault(e)), _) => {
                report.push(name, about, Outcome::Error(e.to_string()));
                report.aborted = Some(e.to_string());
                return report;
            }
            (result, Err(Stop::Fault(e))) => {
                // Keep the case's own failure first: it is the news; the fault follows it
                // (a replay diverges as soon as cleanup takes another path).
                let outcome = match result {
                    Err(Stop::Fail(why)) => Outcome::Fail(format!("{why}; then, cleaning up: {e}")),
                    _ => Outcome::Error(e.to_string()),
                };
                report.push(name, about, outcome);
                report.aborted = Some(e.to_string());
                return report;
            }
            (Ok(()), Ok(())) => Outcome::Pass,
            (Err(Stop::Skip(why)), Ok(())) => Outcome::Skip(why),
            (Err(Stop::Fail(why)), Ok(())) => Outcome::Fail(why),
            (Ok(()) | Err(Stop::Skip(_)), Err(Stop::Fail(c) | Stop::Skip(c))) => Outcome::Fail(c),
            (Err(Stop::Fail(why)), Err(Stop::Fail(c) | Stop::Skip(c))) => {
                Outcome::Fail(format!("{why}; {c}"))
            }
        };
        report.push(name, about, outcome);
    }
    let outcome = match no_leftovers(backend, &options.tag, &ever, &mut trail) {
        Ok(()) => Outcome::Pass,
        Err(Stop::Fail(why) | Stop::Skip(why)) => Outcome::Fail(why),
        Err(Stop::Fault(e)) => {
            report.aborted = Some(e.to_string());
            Outcome::Error(e.to_string())
        }
    };
    report.push(
        "suite.no_leftovers",
        "nothing this run created is still enumerated",
        outcome,
    );
    report
}

fn no_leftovers(
    backend: &mut dyn HnsBackend,
    tag: &str,
    ever: &[(ObjectKind, String)],
    trail: &mut Trail,
) -> Result<(), Stop> {
    let mut subnets = 0;
    let mut none = Vec::new();
    let mut ctx = Ctx::new(backend, tag, "suite.no_leftovers", &mut subnets, &mut none, trail);
    let mut left = Vec::new();
    for kind in ObjectKind::ALL {
        let ids = ctx.enumerate(kind, &default_query())?;
        for (k, id) in ever.iter().filter(|(k, _)| *k == kind) {
            if ids.iter().any(|g| ctx::same_guid(&g.to_string(), id)) {
                left.push(format!("{k:?} {id}"));
            }
        }
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(Stop::Fail(format!("left behind: {}", left.join(", "))))
    }
}

/// Say where a failure happened (the call number matches a `--record` transcript's `n`).
fn at(stop: Stop, where_: &str) -> Stop {
    match stop {
        Stop::Fail(why) => Stop::Fail(format!("{why} [{where_}]")),
        other => other,
    }
}
