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
    let (scenario, index) = read_scenario(text).map_err(|e| yaml_error(file, text, &e))?;
    let mut l = Loaded {
        file: file.to_string(),
        text: text.to_string(),
        scenario,
        index,
    };
    super::sanity::expand_merge_keys(&mut l)?;
    Ok(l)
}

/// YAML → [`Scenario`] and its position index: the fast reader when the text is in its subset
/// (it also says where each step starts, so the index is built only if something else is asked
/// of it, i.e. for an error), else serde_yaml, which also words every error. Debug and fuzz
/// builds check that both readers agree wherever the fast one answers, and on where each step
/// starts, so every test and fuzz run that parses a scenario cross-checks them.
fn read_scenario(text: &str) -> Result<(Scenario, Index), serde_yaml::Error> {
    let Some((fast, steps)) = super::yaml_subset::read::<Scenario>(text) else {
        return Ok((serde_yaml::from_str(text)?, Index::build(text)));
    };
    #[cfg(any(debug_assertions, fuzzing))]
    {
        let slow = serde_yaml::from_str::<Scenario>(text);
        assert!(
            slow.as_ref()
                .is_ok_and(|s| format!("{s:?}") == format!("{fast:?}")),
            "the fast YAML reader and serde_yaml disagree on {text:?}: {slow:?}"
        );
        let full = Index::build(text);
        for (i, p) in steps.iter().flatten().enumerate() {
            let path = [
                super::locate::Seg::Key("steps".into()),
                super::locate::Seg::Index(i),
            ];
            assert_eq!(Some(*p), full.get(&path), "steps[{i}] of {text:?}");
        }
    }
    Ok((fast, Index::lazy(text, steps)))
}

/// Read and parse one file (UTF-8 with or without BOM, or UTF-16 with BOM; at most
/// [`hnsim_model::text::MAX_INPUT_BYTES`]; docs/inputs.md).
pub fn parse_file(path: &Path) -> Result<Loaded, ScenarioError> {
    let file = path.display().to_string();
    let text = hnsim_model::text::read_text_file(path, hnsim_model::text::MAX_INPUT_BYTES)
        .map_err(|e| read_error(&file, &e))?;
    parse_str(&file, &text)
}

/// A file that could not be read as text, located when the error has a position.
pub fn read_error(file: &str, e: &hnsim_model::text::ReadError) -> ScenarioError {
    ScenarioError {
        file: file.to_string(),
        pos: e.position().map(|(line, col)| Pos { line, col }),
        message: e.to_string(),
    }
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
        } else if p.exists() {
            // Named explicitly: read even a FIFO or device (bounded by the size cap).
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
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && hnsim_model::text::is_regular_file(&p)
        {
            // A FIFO, socket or device named *.yaml would block or never end: skipped.
            out.push(p);
        }
    }
    Ok(())
}

/// Turn a serde_yaml error into ours: strip the trailing "at line … column …" (we print the
/// location in front), reword serde's "field"/"variant" wording, and add a suggestion.
fn yaml_error(file: &str, text: &str, e: &serde_yaml::Error) -> ScenarioError {
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
    let mut msg = reword(&msg);
    if msg.contains("invalid IP address syntax") {
        if let Some(why) = pos.and_then(|p| explain_prefix(text, p)) {
            msg = msg.replace("invalid IP address syntax", &why);
        }
    }
    ScenarioError {
        file: file.to_string(),
        pos,
        message: msg,
    }
}

/// Why the address or prefix at `p` does not parse: `prefix length 33 > 32`, or what was found.
fn explain_prefix(text: &str, p: Pos) -> Option<String> {
    let line = text.lines().nth(p.line.checked_sub(1)?)?;
    let rest: String = line.chars().skip(p.col.saturating_sub(1)).collect();
    let word: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '}' | ']' | '"' | '\''))
        .collect();
    if word.contains('/') {
        return Some(hnsim_model::hint::explain_prefix(&word));
    }
    Some(format!("expected an IP address like 10.0.0.1, found `{word}`"))
}

fn reword(msg: &str) -> String {
    // "path: unknown field `x`, expected one of `a`, `b`" / "expected `a` or `b`"
    if msg.contains("unknown field `<<`") {
        let at = msg.split("unknown field").next().unwrap_or("");
        return format!(
            "{at}a YAML merge key (`<<: *anchor`) is only expanded inside HNS documents (`doc:`, `policies:`); write the keys out here"
        );
    }
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

pub use hnsim_model::hint::{edit_distance, suggest};

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_fifo_in_a_folder_is_skipped() {
        let dir = std::env::temp_dir().join(format!("hnsim-walk-fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.yaml"), "name: a\n").unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.join("b.yaml"))
            .status()
            .is_ok_and(|s| s.success());
        if made {
            let files = collect_paths(std::slice::from_ref(&dir)).unwrap();
            assert_eq!(files, [dir.join("a.yaml")]);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bom_and_utf16_are_read() {
        let dir = std::env::temp_dir().join(format!("hnsim-bom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = "name: x\nhosts: {}\n";
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        for (name, bytes) in [("bom.yaml", bom), ("le.yaml", le)] {
            std::fs::write(dir.join(name), bytes).unwrap();
            let l = parse_file(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(l.scenario.name, "x");
            assert_eq!(l.text, text);
        }
        let _ = std::fs::remove_dir_all(&dir);
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
