//! Follow-on failures: once a step that was to define a name (`as:`, a container) has failed,
//! later steps that use the name are reported as skipped because of it, instead of with a
//! misleading error of their own ("expected a GUID, found podA", "`A` is not defined").

use super::format::{hns_step, Step};
use super::runner::StepReport;
use std::collections::BTreeMap;

/// Names whose defining step failed, with that step's 1-based number.
#[derive(Default)]
pub struct FailedNames(BTreeMap<String, usize>);

impl FailedNames {
    /// Remember the names `step` was to define if its report says it could not run.
    pub fn record(&mut self, step: &Step, rep: &StepReport) {
        if rep.error.is_some() {
            for n in defines(step) {
                self.0.insert(n, rep.index);
            }
        }
    }

    /// Why `step` must be skipped: the first failed name it uses, and the step that failed.
    pub fn skip_reason(&self, step: &Step) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let text = serde_json::to_string(step).unwrap_or_default();
        self.0.iter().find(|(n, _)| mentions(&text, n)).map(|(n, i)| {
            format!("skipped because step {i} failed (it was to define `{n}`, which this step uses)")
        })
    }
}

/// The names a step defines.
fn defines(step: &Step) -> Vec<String> {
    match step {
        hns_step!(s) => s.as_.iter().cloned().collect(),
        Step::Container(c) => vec![c.name.clone()],
        _ => Vec::new(),
    }
}

/// Whether the JSON text of a step uses `name`: as a whole string value (`"A"`), a `NAME:PORT`
/// target, or a `${name…}` expression.
fn mentions(text: &str, name: &str) -> bool {
    let quoted = format!("\"{name}\"");
    let port = format!("\"{name}:");
    let expr = ["${", name].concat();
    text.contains(&quoted)
        || text.contains(&port)
        || text
            .match_indices(&expr)
            .any(|(i, _)| matches!(text[i + expr.len()..].chars().next(), Some('.' | '}' | '[')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_whole() {
        let t = r#"{"send":{"from":"podA","to":"podB:80","x":"${net.ID}"}}"#;
        assert!(mentions(t, "podA"));
        assert!(mentions(t, "podB"));
        assert!(mentions(t, "net"));
        assert!(!mentions(t, "pod"));
        assert!(!mentions(t, "ne"));
    }
}
