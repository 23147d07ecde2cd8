//! Loading scenario files: YAML → [`Scenario`], with errors that name the file, line and column,
//! what was expected and what was found, and a "did you mean" for misspelt keys.

use super::format::Scenario;
use super::locate::{Index, Pos};
use std::fmt;
use std::path::{Path, PathBuf};

/// An invalid scenario: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub pos: Option<Pos>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}:{}: {}", self.file, p.line, p.col, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A parsed (not yet validated) scenario with its source text and position index.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub file: String,
    pub text: String,
    pub scenario: Scenario,
    pub index: Index,
}

impl Loaded {
    /// An error at a located path.
    pub fn error_at(&self, pos: Pos, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.clone(),
            pos: Some(pos),
            message: message.into(),
        }
    }
}

/// Parse scenario text. `file` is only used in messages.
pub fn parse_str(file: &str, text: &str) -> Result<Loaded, ScenarioError> {
    if text.trim().is_empty() {
        return Err(ScenarioError {
            file: file.to_string(),
            pos: Some(Pos { line: 1, col: 1 }),
            message: "expected a scenario (a map with `name`, `hosts` and `steps`), found an empty file"
                .into(),
        });
    }
    let scenario: Scenario = serde_yaml::from_str(text).map_err(|e| yaml_error(file, &e))?;
    Ok(Loaded {
        file: file.to_string(),
        text: text.to_string(),
        scenario,
        index: Index::build(text),
    })
}

/// Read and parse one file.
pub fn parse_file(path: &Path) -> Result<Loaded, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError {
        file: file.clone(),
        pos: None,
        message: format!("cannot read the file: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        ScenarioError {
            file: file.clone(),
            pos: Some(Pos::of_offset(e.as_bytes(), at)),
            message: format!(
                "expected UTF-8 text, found the invalid byte 0x{:02X} (offset {at})",
                e.as_bytes()[at]
            ),
        }
    })?;
    parse_str(&file, &text)
}

/// Expand files and folders into the sorted list of scenario files (`*.yaml`, `*.yml`, recursively).
pub fn collect_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found, &mut Default::default()).map_err(|e| ScenarioError {
                file: p.display().to_string(),
                pos: None,
                message: format!("cannot read the folder: {e}"),
            })?;
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(ScenarioError {
                file: p.display().to_string(),
                pos: None,
                message: "no such file or folder".into(),
            });
        }
    }
    Ok(out)
}

/// `seen` holds the canonical folders already walked, so a symlink that points back up the
/// tree is walked once instead of recursing until the stack overflows.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::BTreeSet<PathBuf>,
) -> std::io::Result<()> {
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out, seen)?;
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Turn a serde_yaml error into ours: strip the trailing "at line … column …" (we print the
/// location in front), reword serde's "field"/"variant" wording, and add a suggestion.
fn yaml_error(file: &str, e: &serde_yaml::Error) -> ScenarioError {
    let mut msg = e.to_string();
    let pos = e.location().map(|l| Pos {
        line: l.line(),
        col: l.column(),
    });
    // The location is printed in front; drop serde_yaml's copy of it at the end.
    if let Some(p) = pos {
        msg = msg.replace(&format!(" at line {} column {}", p.line, p.col), "");
    }
    // What remains is where a construct started (an unterminated quote, a flow collection).
    msg = msg.replace(" at line ", " that started at line ");
    let msg = reword(&msg);
    ScenarioError {
        file: file.to_string(),
        pos,
        message: msg,
    }
}

fn reword(msg: &str) -> String {
    // "path: unknown field `x`, expected one of `a`, `b`" / "expected `a` or `b`"
    for (what, noun) in [("unknown field `", "key"), ("unknown variant `", "step")] {
        if let Some(start) = msg.find(what) {
            let prefix = &msg[..start];
            let rest = &msg[start + what.len()..];
            let Some(end) = rest.find('`') else { continue };
            let found = &rest[..end];
            let candidates = backticked(&rest[end + 1..]);
            let noun = if noun == "step" && !prefix.trim_end_matches(": ").starts_with("steps[") {
                "value"
            } else {
                noun
            };
            let mut out = format!("{prefix}unknown {noun} `{found}`");
            if let Some(best) = suggest(found, &candidates) {
                out.push_str(&format!("; did you mean `{best}`?"));
            }
            if !candidates.is_empty() && candidates.len() <= 16 {
                let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
                out.push_str(&format!(" (expected one of {})", list.join(", ")));
            }
            return out;
        }
    }
    if msg.contains("there are no fields") {
        return msg.replace("unknown field", "unknown key");
    }
    msg.to_string()
}

fn backticked(s: &str) -> Vec<String> {
    s.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub fn suggest(found: &str, candidates: &[impl AsRef<str>]) -> Option<String> {
    let f = found.to_ascii_lowercase().replace('_', "-");
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let c = c.as_ref();
        let d = edit_distance(&f, &c.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (found.chars().count().max(c.chars().count()) / 3).max(2);
    (d <= limit).then(|| c.to_string())
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            suggest("expect_eror", &["expect-error", "expect", "host"]).as_deref(),
            Some("expect-error")
        );
        assert_eq!(suggest("zzzzzz", &["host", "as"]), None);
    }

    #[test]
    fn unknown_key_has_location_and_suggestion() {
        let t = "name: x\nhosts:\n  n1:\n    ip: 10.0.0.1\n    gatway: 10.0.0.254\n";
        let e = parse_str("t.yaml", t).unwrap_err();
        assert_eq!(e.pos, Some(Pos { line: 5, col: 5 }));
        assert!(
            e.message
                .starts_with("hosts.n1: unknown key `gatway`; did you mean `gateway`?"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unknown_step_suggests() {
        let t = "name: x\nhosts: {}\nsteps:\n  - sned: {from: a, to: b}\n";
        let e = parse_str("t.yaml", t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.yaml:4:5: steps[0]: unknown step `sned`; did you mean `send`?"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_in_a_folder_is_walked_once() {
        let dir = std::env::temp_dir().join(format!("hnsim-walk-loop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.yaml"), "name: a\n").unwrap();
        std::os::unix::fs::symlink(&dir, dir.join("sub/up")).unwrap();
        let files = collect_paths(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(files, [dir.join("sub/a.yaml")]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
