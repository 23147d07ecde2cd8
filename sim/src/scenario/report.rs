//! Reports: text for people (failed expectations with expected vs actual and the packet's trace;
//! the last line is exactly `N passed, M failed`), JSON for machines (byte-identical for the same
//! scenario and seed), JUnit XML for CI.

use super::runner::{ScenarioReport, StepReport, Table};
use hnsim_model::conform::report::{xml_escape, xml_text};
use std::fmt::Write;

/// Counts of passed and failed scenarios.
pub fn counts(reports: &[ScenarioReport]) -> (usize, usize) {
    let passed = reports.iter().filter(|r| r.ok()).count();
    (passed, reports.len() - passed)
}

/// The text report.
pub fn text(reports: &[ScenarioReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let status = if r.ok() { "PASS" } else { "FAIL" };
        let checks: usize = r.steps.iter().map(|s| s.checks.len()).sum();
        let _ = write!(out, "{status} {} — {}", r.file, r.name);
        if let Some(reference) = &r.reference {
            let _ = write!(out, " [{reference}]");
        }
        let _ = writeln!(
            out,
            " ({} steps, {checks} checks, seed {})",
            r.steps.len(),
            r.seed
        );
        if let Some(e) = &r.error {
            let _ = writeln!(out, "  error: {e}");
        }
        for s in r.failed_steps() {
            step_text(&mut out, &r.file, s);
        }
    }
    let (p, f) = counts(reports);
    let _ = writeln!(out, "{p} passed, {f} failed");
    out
}

fn step_text(out: &mut String, file: &str, s: &StepReport) {
    let _ = writeln!(out, "  step {} ({file}:{}): {}", s.index, s.line, s.label);
    if let Some(e) = &s.error {
        let _ = writeln!(out, "    error: {e}");
    }
    for c in s.checks.iter().filter(|c| !c.ok) {
        let _ = writeln!(out, "    ✗ {}: expected {}, got {}", c.what, c.expected, c.actual);
    }
    if let Some(t) = &s.table {
        out.push_str(&table_text(t));
    } else {
        for (i, ex) in s.exchanges.iter().enumerate() {
            if s.exchanges.len() > 1 {
                let _ = writeln!(out, "    packet {}:", i + 1);
            }
            for line in ex.to_string().lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
}

/// A reachability table, expected vs observed, Kubernetes truth-table style.
pub fn table_text(t: &Table) -> String {
    let mut out = String::new();
    let w = t.from.iter().map(|s| s.chars().count()).max().unwrap_or(1).max(8);
    for (title, cells) in [("expected", &t.expected), ("observed", &t.observed)] {
        let _ = write!(out, "    {title:<w$}");
        for to in &t.to {
            let _ = write!(out, " {to}");
        }
        out.push('\n');
        for (i, f) in t.from.iter().enumerate() {
            let _ = write!(out, "    {f:<w$}");
            for (j, to) in t.to.iter().enumerate() {
                let c = cells.get(i).and_then(|r| r.get(j)).copied().unwrap_or('?');
                let mark = if title == "observed" && t.expected.get(i).and_then(|r| r.get(j)) != Some(&c) {
                    '!'
                } else {
                    ' '
                };
                let _ = write!(
                    out,
                    " {c}{mark:<width$}",
                    width = to.chars().count().saturating_sub(1)
                );
            }
            out.push('\n');
        }
    }
    out
}

/// The JSON report: every scenario with every step, check and trace.
pub fn json(reports: &[ScenarioReport]) -> String {
    let (p, f) = counts(reports);
    let v = serde_json::json!({
        "passed": p,
        "failed": f,
        "scenarios": reports,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// JUnit XML: one `<testsuite>` per scenario, one `<testcase>` per step.
pub fn junit(reports: &[ScenarioReport]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // One testcase per step, plus the `setup` testcase of a scenario whose world failed.
    let cases = |r: &ScenarioReport| r.steps.len() + usize::from(r.error.is_some());
    let tests: usize = reports.iter().map(cases).sum();
    let failures: usize = reports
        .iter()
        .map(|r| r.failed_steps().count() + usize::from(r.error.is_some()))
        .sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"hnsim\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    for r in reports {
        let n = cases(r);
        let f = r.failed_steps().count() + usize::from(r.error.is_some());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{f}\" errors=\"0\" skipped=\"0\" file=\"{}\">",
            xml_escape(&r.name),
            xml_escape(&r.file)
        );
        // The seed is always there: with it a CI failure can be re-run exactly.
        out.push_str("    <properties>\n");
        if let Some(reference) = &r.reference {
            let _ = writeln!(
                out,
                "      <property name=\"reference\" value=\"{}\"/>",
                xml_escape(reference)
            );
        }
        let _ = writeln!(out, "      <property name=\"seed\" value=\"{}\"/>", r.seed);
        for i in &r.inferred {
            let _ = writeln!(
                out,
                "      <property name=\"inferred\" value=\"{}\"/>",
                xml_escape(i)
            );
        }
        out.push_str("    </properties>\n");
        if let Some(e) = &r.error {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"setup\">",
                xml_escape(&r.name)
            );
            let _ = writeln!(out, "      <failure message=\"{}\"/>", xml_escape(e));
            out.push_str("    </testcase>\n");
        }
        for s in &r.steps {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\"",
                xml_escape(&r.name),
                xml_escape(&format!("step {:02}: {}", s.index, s.label)),
                xml_escape(&r.file),
                s.line
            );
            if s.ok() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let first = s
                .error
                .clone()
                .or_else(|| {
                    s.checks
                        .iter()
                        .find(|c| !c.ok)
                        .map(|c| format!("{}: expected {}, got {}", c.what, c.expected, c.actual))
                })
                .unwrap_or_default();
            let mut body = String::new();
            step_text(&mut body, &r.file, s);
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"expectation\">{}</failure>",
                xml_escape(&first),
                xml_text(&body)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
