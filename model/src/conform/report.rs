//! The suite's report: text for people, JUnit XML for CI. No timings, so two runs against
//! equivalent backends give identical output.

use std::fmt::Write;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
    /// The adapter failed; the run stopped here.
    Error(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    pub name: String,
    pub about: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub backend: String,
    pub cases: Vec<CaseResult>,
    /// Set when an adapter fault ended the run early.
    pub aborted: Option<String>,
}

impl Report {
    pub(crate) fn push(&mut self, name: &str, about: &str, outcome: Outcome) {
        self.cases.push(CaseResult {
            name: name.to_string(),
            about: about.to_string(),
            outcome,
        });
    }

    /// Every case passed or was skipped, and the run was not aborted.
    pub fn passed(&self) -> bool {
        self.aborted.is_none()
            && self
                .cases
                .iter()
                .all(|c| matches!(c.outcome, Outcome::Pass | Outcome::Skip(_)))
    }

    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.outcome)).count()
    }

    /// The results without the backend line (equal for equivalent backends).
    pub fn results_text(&self) -> String {
        let mut s = String::new();
        for c in &self.cases {
            let _ = match &c.outcome {
                Outcome::Pass => writeln!(s, "pass  {}", c.name),
                Outcome::Skip(why) => writeln!(s, "skip  {}: {why}", c.name),
                Outcome::Fail(why) => writeln!(s, "FAIL  {}: {why}", c.name),
                Outcome::Error(why) => writeln!(s, "ERROR {}: {why}", c.name),
            };
        }
        let _ = writeln!(
            s,
            "{} passed, {} failed, {} skipped{}",
            self.count(|o| *o == Outcome::Pass),
            self.count(|o| matches!(o, Outcome::Fail(_) | Outcome::Error(_))),
            self.count(|o| matches!(o, Outcome::Skip(_))),
            if self.aborted.is_some() {
                "; run aborted by an adapter fault"
            } else {
                ""
            }
        );
        s
    }

    pub fn to_text(&self) -> String {
        format!("conformance against {}\n{}", self.backend, self.results_text())
    }

    /// JUnit XML: one testsuite, one testcase per case.
    pub fn to_junit(&self) -> String {
        let failures = self.count(|o| matches!(o, Outcome::Fail(_)));
        let errors = self.count(|o| matches!(o, Outcome::Error(_)));
        let skipped = self.count(|o| matches!(o, Outcome::Skip(_)));
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            s,
            "<testsuites name=\"hnsim conform\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
            self.cases.len()
        );
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
            xml_escape(&format!("conform {}", self.backend)),
            self.cases.len()
        );
        for c in &self.cases {
            let group = c.name.split('.').next().unwrap_or("conform");
            let open = format!(
                "    <testcase classname=\"conform.{}\" name=\"{}\"",
                xml_escape(group),
                xml_escape(&c.name)
            );
            let _ = match &c.outcome {
                Outcome::Pass => writeln!(s, "{open}/>"),
                Outcome::Skip(why) => writeln!(
                    s,
                    "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml_escape(why)
                ),
                Outcome::Fail(why) => writeln!(
                    s,
                    "{open}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml_escape(why),
                    xml_escape(&c.about)
                ),
                Outcome::Error(why) => writeln!(
                    s,
                    "{open}>\n      <error message=\"{}\"/>\n    </testcase>",
                    xml_escape(why)
                ),
            };
        }
        s.push_str("  </testsuite>\n</testsuites>\n");
        s
    }
}

/// Escape for an XML attribute value (and text): tab, CR and LF become character references,
/// because a parser turns raw ones in an attribute into spaces. Characters XML 1.0 cannot hold
/// become U+FFFD, so the reader sees that something was there.
pub fn xml_escape(s: &str) -> String {
    escape(s, true)
}

/// Escape for XML element text: like [`xml_escape`], but tab, CR and LF stay as they are so a
/// multi-line body stays readable in the raw file.
pub fn xml_text(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' if !attribute => out.push(c),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_escapes_everything_xml_cares_about() {
        let r = Report {
            backend: "exec:a<b>&\"c\"".into(),
            cases: vec![
                CaseResult {
                    name: "x.pass".into(),
                    about: "a".into(),
                    outcome: Outcome::Pass,
                },
                CaseResult {
                    name: "x.fail".into(),
                    about: "b & c".into(),
                    outcome: Outcome::Fail("got <{\"a\":'1'}>\n\u{1}".into()),
                },
            ],
            aborted: None,
        };
        let x = r.to_junit();
        assert!(x.contains("name=\"conform exec:a&lt;b&gt;&amp;&quot;c&quot;\""));
        assert!(x.contains(
            "message=\"got &lt;{&quot;a&quot;:&apos;1&apos;}&gt;&#10;\u{FFFD}\">b &amp; c</failure>"
        ));
        assert!(x.contains("failures=\"1\""));
        assert!(!r.passed());
    }

    #[test]
    fn text_keeps_line_breaks_and_attributes_encode_them() {
        assert_eq!(xml_text("a\tb\nc\r<\u{1}"), "a\tb\nc\r&lt;\u{FFFD}");
        assert_eq!(xml_escape("a\tb\nc\r"), "a&#9;b&#10;c&#13;");
    }
}
