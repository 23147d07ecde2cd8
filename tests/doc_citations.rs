//! Every reference a comment or document makes resolves inside the repository.
//!
//! The rules are spelled out in docs/reference/README.md ("Citation rules"); in short:
//! - no text points outside the repository at the reference notes the project was started from;
//! - `<name>.md §X` / `<name>.md Pn` / `<name>.md Sn.m` names a file that exists (docs/reference/,
//!   docs/, or the repository root) and a label that file defines: a heading whose first word is
//!   the label (a leading `§` ignored) or a bold `**label**`;
//! - a bare `§X` resolves against the nearest file named before it on the same line, else (inside
//!   docs/reference/) the document itself, else the last file cited earlier in the same file.
//!   `RFC nnnn §X` and `issue nn §X` cite outside documents and are not checked;
//! - `<name>.md "Title"` (and `ARCHITECTURE "Title"`) needs a heading or bold span containing
//!   the title.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Directories never scanned: build output, VCS data and fuzzer corpora (arbitrary bytes).
const SKIP_DIRS: &[&str] = &["target", ".git", "corpus", "artifacts"];
const EXTENSIONS: &[&str] = &["rs", "md", "yaml", "yml"];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !SKIP_DIRS.contains(&name) {
                walk(&path, out);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            out.push(path);
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A label as written after a file name: `§2.2`, `§A.6`, `§7.` (trailing dot dropped), `P13`,
/// `S13.5`. Returns the normalised label (no `§`, no trailing dot) and its length in bytes.
fn parse_label(s: &str) -> Option<(String, usize)> {
    if let Some(rest) = s.strip_prefix('§') {
        let rest_trim = rest.trim_start_matches(' ');
        let skipped = rest.len() - rest_trim.len();
        let first = rest_trim.chars().next()?;
        if !(first.is_ascii_digit() || first.is_ascii_uppercase()) {
            return None;
        }
        let len = rest_trim
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(rest_trim.len());
        let label = rest_trim[..len].trim_end_matches('.');
        return Some((label.to_string(), '§'.len_utf8() + skipped + len));
    }
    let first = s.chars().next()?;
    if first != 'P' && first != 'S' {
        return None;
    }
    let digits = s[1..].find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len() - 1);
    if digits == 0 {
        return None;
    }
    let mut len = 1 + digits;
    let rest = &s[len..];
    if let Some(sub) = rest.strip_prefix('.') {
        let d = sub.find(|c: char| !c.is_ascii_digit()).unwrap_or(sub.len());
        if d > 0 {
            len += 1 + d;
        }
    }
    // `S1x` or `P2p` is a word, not a label.
    if s[len..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    Some((s[..len].to_string(), len))
}

/// Labels following position `at` in `line`, separated by spaces, commas, semicolons, dashes or
/// "and". Returns the labels and the byte offset just past the last one.
fn label_list(line: &str, mut at: usize) -> (Vec<String>, usize) {
    let mut labels = Vec::new();
    let mut end = at;
    loop {
        let rest = &line[at..];
        let sep_len = rest.len() - rest.trim_start_matches([' ', ',', ';', '–', '-', '\u{a0}']).len();
        let mut next = at + sep_len;
        if labels.is_empty() && sep_len == 0 {
            break;
        }
        if line[next..].starts_with("and ") && !labels.is_empty() {
            next += 4;
        }
        match parse_label(&line[next..]) {
            Some((label, len)) => {
                labels.push(label);
                at = next + len;
                end = at;
            }
            None => break,
        }
    }
    (labels, end)
}

/// What a document defines: labels (heading first words, bold `**label**` spans) and titles (every
/// heading and bold span, lower-cased) for quoted citations such as `vfp.md "UFT"`.
#[derive(Default)]
struct Defined {
    labels: BTreeSet<String>,
    titles: Vec<String>,
}

impl Defined {
    /// A label resolves exactly; a quoted title (`"…"`) resolves when a heading or bold span of the
    /// document contains it, ignoring case.
    fn resolves(&self, label: &str) -> bool {
        match label.strip_prefix('"') {
            Some(title) => {
                let title = title.to_lowercase();
                self.titles.iter().any(|t| t.contains(&title))
            }
            None => self.labels.contains(label),
        }
    }
}

fn defined_labels(text: &str) -> BTreeSet<String> {
    defined(text).labels
}

fn defined(text: &str) -> Defined {
    let mut labels = BTreeSet::new();
    let mut titles = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue; // `# comment` lines in a YAML or shell block are not headings
        }
        if line.starts_with('#') {
            let heading = line.trim_start_matches('#').trim_start();
            titles.push(heading.to_lowercase());
            let heading = heading.strip_prefix('§').unwrap_or(heading).trim_start();
            if let Some(word) = heading.split_whitespace().next() {
                labels.insert(word.trim_end_matches('.').to_string());
            }
        }
        let mut rest = line;
        while let Some(start) = rest.find("**") {
            let after = &rest[start + 2..];
            let Some(close) = after.find("**") else { break };
            let inner = &after[..close];
            titles.push(inner.to_lowercase());
            let inner = inner.strip_prefix('§').unwrap_or(inner);
            if !inner.is_empty()
                && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
                && inner.chars().any(|c| c.is_ascii_digit())
            {
                labels.insert(inner.to_string());
            }
            rest = &after[close + 2..];
        }
    }
    Defined { labels, titles }
}

/// A citation found in a scanned file.
struct Citation {
    file: PathBuf,
    line: usize,
    /// The document as written (`consumers.md`, `docs/reference/hns-schema.md`).
    doc: String,
    label: String,
}

/// Every `<name>.md` mention in `line`: (start, end, name as written).
fn doc_mentions(line: &str) -> Vec<(usize, usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = line[from..].find(".md") {
        let dot = from + pos;
        let end = dot + 3;
        from = end;
        if line[end..].chars().next().is_some_and(is_name_char) {
            continue; // `.mdx`, `.md_foo`
        }
        let start = line[..dot]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_name_char(c) || c == '/' || c == '.')
            .last()
            .map_or(dot, |(i, _)| i);
        let name = line[start..end].trim_start_matches(['.', '/']);
        if name.len() > 3 {
            found.push((start, end, name.to_string()));
        }
    }
    // `ARCHITECTURE "The command line"`: the architecture page cited by a quoted heading.
    for (pos, _) in line.match_indices("ARCHITECTURE \"") {
        found.push((pos, pos + "ARCHITECTURE".len(), "ARCHITECTURE.md".to_string()));
    }
    found.sort();
    found
}

/// A label as a reader writes it: `§2.2`, `P13`, `S8.2`, `"Title"`.
fn shown(label: &str) -> String {
    match label.strip_prefix('"') {
        Some(title) => format!("\"{title}\""),
        None if label.starts_with(['P', 'S']) && label[1..].starts_with(|c: char| c.is_ascii_digit()) => {
            label.to_string()
        }
        None => format!("§{label}"),
    }
}

/// A quoted heading right after a document name (`vfp.md "UFT"`): the title with a leading `"`
/// marking it as a title, and the offset past the closing quote.
fn quoted_title(line: &str, at: usize) -> Option<(String, usize)> {
    let rest = line[at..].strip_prefix(" \"")?;
    let close = rest.find('"')?;
    let title = &rest[..close];
    (!title.is_empty()).then(|| (format!("\"{title}"), at + 2 + close + 1))
}

fn scan(
    file: &Path,
    rel: &str,
    text: &str,
    forbidden: &[String],
    problems: &mut Vec<String>,
) -> Vec<Citation> {
    let own_doc = rel
        .strip_prefix("docs/reference/")
        .filter(|n| !n.contains('/'))
        .map(str::to_string);
    let mut context: Option<String> = None;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        for bad in forbidden {
            if line.contains(bad.as_str()) {
                problems.push(format!(
                    "{rel}:{line_no}: points outside the repository (`{bad}`); cite docs/reference/<file>.md instead"
                ));
            }
        }
        // Byte ranges already explained by a file citation or an RFC section.
        let mut consumed: Vec<(usize, usize)> = Vec::new();
        let mentions = doc_mentions(line);
        for (start, end, name) in &mentions {
            let (mut labels, mut past) = label_list(line, *end);
            if labels.is_empty() {
                if let Some((title, after)) = quoted_title(line, *end) {
                    labels.push(title);
                    past = after;
                }
            }
            consumed.push((*start, past));
            for label in labels {
                out.push(Citation {
                    file: file.to_path_buf(),
                    line: line_no,
                    doc: name.clone(),
                    label,
                });
            }
        }
        // `RFC 8200 §8.1`, `issue 14 §8`: sections of documents outside the repository's docs.
        for prefix in ["RFC ", "Issue ", "issue "] {
            let mut from = 0;
            while let Some(pos) = line[from..].find(prefix) {
                let at = from + pos + prefix.len();
                let digits = line[at..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(line.len() - at);
                let past = if digits > 0 {
                    label_list(line, at + digits).1
                } else {
                    at
                };
                consumed.push((from + pos, past.max(at)));
                from = past.max(at);
            }
        }
        for (pos, _) in line.match_indices('§') {
            if consumed.iter().any(|&(s, e)| pos >= s && pos < e) {
                continue;
            }
            let Some((label, _)) = parse_label(&line[pos..]) else {
                continue;
            };
            let doc = mentions
                .iter()
                .rev()
                .find(|(s, _, _)| *s < pos)
                .map(|(_, _, name)| name.clone())
                .or_else(|| own_doc.clone())
                .or_else(|| context.clone());
            match doc {
                Some(doc) => out.push(Citation { file: file.to_path_buf(), line: line_no, doc, label }),
                None => problems.push(format!(
                    "{rel}:{line_no}: bare `§{label}` with no document named before it in this file; write `docs/reference/<file>.md §{label}`"
                )),
            }
        }
        if let Some((_, _, name)) = mentions.last() {
            context = Some(name.clone());
        }
    }
    out
}

/// The file a document name refers to: as a path from the root, else by its file name under
/// docs/reference/, docs/ or the root.
fn resolve_doc(root: &Path, doc: &str) -> Option<PathBuf> {
    let base = doc.rsplit('/').next().unwrap_or(doc);
    [
        root.join(doc),
        root.join("docs/reference").join(base),
        root.join("docs").join(base),
        root.join(base),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

#[test]
fn every_citation_resolves_inside_the_repository() {
    let root = repo_root();
    let mut files = Vec::new();
    walk(&root, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("docs/reference/consumers.md")),
        "the walk must see docs/reference (found {} files)",
        files.len()
    );
    // Built from pieces so this file does not match itself.
    let forbidden: Vec<String> = [
        ["..", "/shared"],
        ["/work", "/shared"],
        ["shared", "/data"],
        ["shared", "/reference"],
    ]
    .iter()
    .map(|p| p.concat())
    .collect();
    let mut problems = Vec::new();
    let mut citations = Vec::new();
    for file in &files {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "tests/doc_citations.rs" {
            continue; // this checker's own examples and test inputs are not citations
        }
        citations.extend(scan(file, &rel, &text, &forbidden, &mut problems));
    }
    let mut label_cache: BTreeMap<PathBuf, Defined> = BTreeMap::new();
    let checked = citations.len();
    for c in citations {
        let rel = c
            .file
            .strip_prefix(&root)
            .unwrap_or(&c.file)
            .display()
            .to_string();
        let Some(target) = resolve_doc(&root, &c.doc) else {
            problems.push(format!(
                "{rel}:{}: `{} {}` names a document that is not in docs/reference/, docs/ or the root",
                c.line,
                c.doc,
                shown(&c.label)
            ));
            continue;
        };
        let labels = label_cache
            .entry(target.clone())
            .or_insert_with(|| defined(&fs::read_to_string(&target).unwrap_or_default()));
        if !labels.resolves(&c.label) {
            problems.push(format!(
                "{rel}:{}: `{} {}` does not resolve: {} has no such heading or **label**",
                c.line,
                c.doc,
                shown(&c.label),
                target.strip_prefix(&root).unwrap_or(&target).display(),
            ));
        }
    }
    assert!(
        checked > 100,
        "expected the tree to cite the reference documents, found {checked} citations"
    );
    assert!(
        problems.is_empty(),
        "{} unresolved references:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn label_parsing() {
    assert_eq!(parse_label("§2.2 x"), Some(("2.2".into(), "§2.2".len())));
    assert_eq!(parse_label("§7."), Some(("7".into(), "§7.".len())));
    assert_eq!(parse_label("§A.6)"), Some(("A.6".into(), "§A.6".len())));
    assert_eq!(parse_label("S13.5,"), Some(("S13.5".into(), 5)));
    assert_eq!(parse_label("P14"), Some(("P14".into(), 3)));
    assert_eq!(parse_label("Settings"), None);
    assert_eq!(parse_label("S1x"), None);
    let line = "see consumers.md §7 S2.1–S2.3, P13 and S4 step 2";
    let end = line.find(".md").unwrap() + 3;
    assert_eq!(label_list(line, end).0, ["7", "S2.1", "S2.3", "P13", "S4"]);
    let defined = defined_labels("## §2 Title\n### P1 Hairpin\n- **S13.5** text **bold words**\n");
    assert_eq!(defined.into_iter().collect::<Vec<_>>(), ["2", "P1", "S13.5"]);
}

#[test]
fn a_wrong_citation_is_reported() {
    let mut problems = Vec::new();
    let cites = scan(
        Path::new("x.rs"),
        "x.rs",
        "// hns-schema.md §2.2\n// later §9.9 and RFC 8200 §8.1, issue 14 §8\n",
        &[],
        &mut problems,
    );
    let got: Vec<_> = cites
        .iter()
        .map(|c| (c.doc.as_str(), c.label.as_str(), c.line))
        .collect();
    assert_eq!(got, [("hns-schema.md", "2.2", 1), ("hns-schema.md", "9.9", 2)]);
    let mut problems = Vec::new();
    scan(
        Path::new("y.rs"),
        "y.rs",
        "// bare §4.7 first\n",
        &[],
        &mut problems,
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn quoted_headings() {
    let mut problems = Vec::new();
    let cites = scan(
        Path::new("z.rs"),
        "z.rs",
        "// vfp.md \"UFT\" and ARCHITECTURE \"The command line\"\n",
        &[],
        &mut problems,
    );
    let got: Vec<_> = cites.iter().map(|c| (c.doc.as_str(), shown(&c.label))).collect();
    assert_eq!(
        got,
        [
            ("vfp.md", "\"UFT\"".to_string()),
            ("ARCHITECTURE.md", "\"The command line\"".to_string())
        ]
    );
    let d =
        defined("## The command line\n| **unified flow table (UFT)** | x |\n```yaml\n# S9 comment\n```\n");
    assert!(!d.resolves("S9"), "a comment in a code block is not a heading");
    assert!(d.resolves("\"uft") && d.resolves("\"The command line") && !d.resolves("\"Fast path"));
    assert_eq!(shown("P13"), "P13");
    assert_eq!(shown("2.2"), "§2.2");
}
