//! The crate graph and each crate's module graph point one way (issue 15).
//!
//! For every crate of the workspace this reads the module tree from its `lib.rs` / `main.rs`
//! (following `mod x;`, `#[path]` and inline modules), skips comments, literals and
//! `#[cfg(test)]` items, and collects the `crate::…` and `super::…` paths that reach another
//! top-level module (`crate::Name` re-exported by the crate root counts as the module that
//! defines it). A strongly connected component of more than one module is a cycle: the test
//! names it, edge by edge, with the file and line that makes each edge.
//!
//! The crate graph: every workspace package's `[dependencies]`, `[dev-dependencies]` and
//! `[build-dependencies]` on other workspace packages (cargo refuses a cycle of normal
//! dependencies, but not one through a dev-dependency).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Cycles the test tolerates, each one strongly connected component as (crate, its modules),
/// exactly. The test fails when a cycle outside this list appears *and* when a listed one is gone
/// or has changed, so the list cannot outlive its cycle. Empty since issue 15 broke the last two.
const ALLOWED_CYCLES: &[(&str, &[&str])] = &[];

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---- a small Rust lexer: enough to find paths, attributes, `mod` and braces ---------------

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// A string literal's contents (escapes left as written).
    Str(String),
    /// `::`.
    PathSep,
    Punct(char),
    /// Numbers, chars, lifetimes: nothing the graph needs.
    Other,
}

struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn lex(src: &str) -> Vec<Token> {
    let s: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let at = |i: usize| s.get(i).copied().unwrap_or('\0');
    while i < s.len() {
        let c = s[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if s[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' {
            let start_line = line;
            let mut j = i + 1;
            let mut text = String::new();
            while j < s.len() && s[j] != '"' {
                if s[j] == '\\' {
                    text.push(s[j]);
                    j += 1;
                }
                if at(j) == '\n' {
                    line += 1;
                }
                text.push(at(j));
                j += 1;
            }
            out.push(Token {
                tok: Tok::Str(text),
                line: start_line,
            });
            i = j + 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime / label ('a).
            if at(i + 1) == '\\' {
                let mut j = i + 2;
                while j < s.len() && s[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
                while i < s.len() && is_ident_char(s[i]) {
                    i += 1;
                }
            }
            out.push(Token {
                tok: Tok::Other,
                line,
            });
        } else if is_ident_start(c) {
            let mut j = i;
            while j < s.len() && is_ident_char(s[j]) {
                j += 1;
            }
            let word: String = s[i..j].iter().collect();
            // Raw strings r"…", r#"…"#, br"…", and byte / C strings b"…", c"…", b'x'.
            let raw = matches!(word.as_str(), "r" | "br" | "cr");
            if raw && (at(j) == '"' || (at(j) == '#' && (at(j + 1) == '"' || at(j + 1) == '#'))) {
                let mut hashes = 0;
                while at(j) == '#' {
                    hashes += 1;
                    j += 1;
                }
                j += 1; // the opening quote
                let start_line = line;
                let mut text = String::new();
                loop {
                    if j >= s.len() {
                        break;
                    }
                    if s[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                        j += 1 + hashes;
                        break;
                    }
                    if s[j] == '\n' {
                        line += 1;
                    }
                    text.push(s[j]);
                    j += 1;
                }
                out.push(Token {
                    tok: Tok::Str(text),
                    line: start_line,
                });
                i = j;
            } else if matches!(word.as_str(), "b" | "c") && (at(j) == '"' || at(j) == '\'') {
                i = j; // the literal is lexed next, as a string or a char
            } else if word == "r" && at(j) == '#' && is_ident_start(at(j + 1)) {
                i = j + 1; // a raw identifier: lex the identifier itself
            } else {
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
                i = j;
            }
        } else if c.is_ascii_digit() {
            while i < s.len() && is_ident_char(s[i]) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Other,
                line,
            });
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    out
}

// ---- one crate's module tree and the paths in it ---------------------------------------

/// A path that leaves its module: from `file:line`, naming `name` at the crate root.
struct Reference {
    file: PathBuf,
    line: usize,
    /// The module path the reference is written in (its first segment is the top-level module).
    from: Vec<String>,
    name: String,
}

#[derive(Default)]
struct CrateScan {
    /// Top-level modules declared by the crate root.
    top: BTreeSet<String>,
    /// Names the crate root re-exports (`pub use world::{app, World}`), by top-level module.
    reexports: BTreeMap<String, String>,
    refs: Vec<Reference>,
    files: usize,
}

fn ident(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

fn punct(t: Option<&Token>, c: char) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::Punct(p)) if *p == c)
}

fn is_sep(t: Option<&Token>) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::PathSep))
}

/// The index just past the bracket that closes the one at `open`.
fn skip_group(toks: &[Token], open: usize) -> usize {
    let mut depth = 0i32;
    let mut i = open;
    while i < toks.len() {
        match toks[i].tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// The index just past the item starting at `i`: its `;` or its `{…}` body, whichever ends it.
fn skip_item(toks: &[Token], mut i: usize) -> usize {
    while i < toks.len() {
        match toks[i].tok {
            Tok::Punct(';') => return i + 1,
            Tok::Punct('{') => return skip_group(toks, i),
            Tok::Punct('(' | '[') => i = skip_group(toks, i),
            _ => i += 1,
        }
    }
    i
}

/// The first segments of the elements of the use group opening at `open` (`{a::b, C, self}`).
fn group_heads(toks: &[Token], open: usize) -> Vec<(String, usize)> {
    let end = skip_group(toks, open);
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = false;
    for t in &toks[open..end] {
        match &t.tok {
            Tok::Punct('{') => {
                depth += 1;
                expect_head = depth == 1;
            }
            Tok::Punct('}') => depth -= 1,
            Tok::Punct(',') if depth == 1 => expect_head = true,
            Tok::Ident(s) if expect_head => {
                if s != "self" {
                    heads.push((s.clone(), t.line));
                }
                expect_head = false;
            }
            _ => expect_head = false,
        }
    }
    heads
}

impl CrateScan {
    fn new(root_file: &Path) -> CrateScan {
        let mut scan = CrateScan::default();
        scan.file(root_file, &[], true);
        scan
    }

    /// Scan one file of module path `module`; `mod_rs`: its `mod x;` files live beside it (a
    /// crate root or `mod.rs`), not in a directory named after it.
    fn file(&mut self, path: &Path, module: &[String], mod_rs: bool) {
        let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self.files += 1;
        let toks = lex(&src);
        let dir = path.parent().expect("a file has a directory");
        let own_dir = if mod_rs {
            dir.to_path_buf()
        } else {
            dir.join(path.file_stem().expect("a file has a name"))
        };
        // Inline modules open in this file: (name, brace depth inside it).
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut depth = 0usize;
        let mut cfg_test = false;
        let mut path_attr: Option<String> = None;
        let mut i = 0;
        while i < toks.len() {
            let here = || -> Vec<String> {
                module
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(n, _)| n.clone()))
                    .collect()
            };
            match &toks[i].tok {
                Tok::Punct('#') => {
                    let inner = punct(toks.get(i + 1), '!');
                    let open = if inner { i + 2 } else { i + 1 };
                    if !punct(toks.get(open), '[') {
                        i += 1;
                        continue;
                    }
                    let end = skip_group(&toks, open);
                    let body: Vec<&Tok> = toks[open + 1..end - 1].iter().map(|t| &t.tok).collect();
                    let word = |s: &str| Tok::Ident(s.into());
                    if body == [&word("cfg"), &Tok::Punct('('), &word("test"), &Tok::Punct(')')] {
                        if inner {
                            return; // the whole file is test code
                        }
                        cfg_test = true;
                    }
                    if let [Tok::Ident(p), Tok::Punct('='), Tok::Str(file)] = body.as_slice() {
                        if p == "path" {
                            path_attr = Some(file.clone());
                        }
                    }
                    i = end;
                    continue;
                }
                _ if cfg_test => {
                    cfg_test = false;
                    path_attr = None;
                    i = skip_item(&toks, i);
                    continue;
                }
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') => {
                    depth = depth.saturating_sub(1);
                    if inline.last().is_some_and(|(_, d)| *d > depth) {
                        inline.pop();
                    }
                }
                Tok::Ident(w) if w == "mod" => {
                    if let Some(name) = ident(toks.get(i + 1)) {
                        let name = name.to_string();
                        if punct(toks.get(i + 2), '{') {
                            inline.push((name, depth + 1));
                        } else if punct(toks.get(i + 2), ';') {
                            let mut child = here();
                            child.push(name.clone());
                            if module.is_empty() && inline.is_empty() {
                                self.top.insert(name.clone());
                            }
                            let mut sub_dir = own_dir.clone();
                            for (n, _) in &inline {
                                sub_dir.push(n);
                            }
                            let (file, child_mod_rs) = match path_attr.take() {
                                Some(p) => {
                                    let f = dir.join(p);
                                    let mod_rs = f.file_name().is_some_and(|n| n == "mod.rs");
                                    (f, mod_rs)
                                }
                                None => {
                                    let flat = sub_dir.join(format!("{name}.rs"));
                                    if flat.exists() {
                                        (flat, false)
                                    } else {
                                        (sub_dir.join(&name).join("mod.rs"), true)
                                    }
                                }
                            };
                            self.file(&file, &child, child_mod_rs);
                            i += 3;
                            continue;
                        }
                    }
                }
                Tok::Ident(w) if w == "use" && module.is_empty() && inline.is_empty() && depth == 0 => {
                    self.root_use(&toks, i);
                }
                Tok::Ident(w)
                    if (w == "crate" || w == "super")
                        && is_sep(toks.get(i + 1))
                        && !is_sep(i.checked_sub(1).and_then(|k| toks.get(k))) =>
                {
                    // How far up: `crate` is the root; each `super` is one level.
                    let cur = here();
                    let mut j = i;
                    let mut up = 0;
                    let at_root = if w == "crate" {
                        j += 2;
                        true
                    } else {
                        while ident(toks.get(j)) == Some("super") && is_sep(toks.get(j + 1)) {
                            up += 1;
                            j += 2;
                        }
                        up == cur.len()
                    };
                    if at_root && !cur.is_empty() {
                        let names = if punct(toks.get(j), '{') {
                            group_heads(&toks, j)
                        } else {
                            ident(toks.get(j))
                                .map(|n| (n.to_string(), toks[j].line))
                                .into_iter()
                                .collect()
                        };
                        for (name, line) in names {
                            self.refs.push(Reference {
                                file: path.to_path_buf(),
                                line,
                                from: cur.clone(),
                                name,
                            });
                        }
                    }
                    i = j.max(i + 1);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// `use` in the crate root: the names it re-exports from a top-level module.
    fn root_use(&mut self, toks: &[Token], at: usize) {
        let end = skip_item(toks, at);
        let body = &toks[at + 1..end];
        let mut k = 0;
        while matches!(ident(body.get(k)), Some("crate" | "self")) || is_sep(body.get(k)) {
            k += 1;
        }
        let Some(first) = ident(body.get(k)) else { return };
        let module = if self.top.contains(first) {
            first.to_string()
        } else if let Some(m) = self.reexports.get(first) {
            m.clone()
        } else {
            return; // another crate's names
        };
        for (n, t) in body.iter().enumerate().skip(k + 1) {
            if let Tok::Ident(name) = &t.tok {
                let next = body.get(n + 1).map(|t| &t.tok);
                let last = matches!(next, Some(Tok::Punct(',' | '}' | ';')) | None);
                let renamed = n > 0 && ident(body.get(n - 1)) == Some("as");
                if (last || renamed) && name != "self" {
                    self.reexports.insert(name.clone(), module.clone());
                }
            }
        }
    }

    /// The top-level module graph: edge → the first reference that makes it.
    fn graph(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let root = workspace_root();
        let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for m in &self.top {
            g.entry(m.clone()).or_default();
        }
        for r in &self.refs {
            let target = if self.top.contains(&r.name) {
                r.name.clone()
            } else if let Some(m) = self.reexports.get(&r.name) {
                m.clone()
            } else {
                continue; // an item of the crate root itself
            };
            let from = r.from[0].clone();
            if from != target {
                let file = r
                    .file
                    .strip_prefix(&root)
                    .unwrap_or(&r.file)
                    .display()
                    .to_string();
                g.entry(from)
                    .or_default()
                    .entry(target)
                    .or_insert_with(|| format!("{file}:{} `{}`", r.line, r.name));
            }
        }
        g
    }
}

// ---- graphs ----------------------------------------------------------------------------

/// Strongly connected components of more than one node (Tarjan), each sorted.
fn cycles<V: AsRef<str>>(g: &BTreeMap<String, BTreeMap<String, V>>) -> Vec<Vec<String>> {
    struct Tarjan<'g, V> {
        g: &'g BTreeMap<String, BTreeMap<String, V>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        out: Vec<Vec<String>>,
    }
    impl<'g, V> Tarjan<'g, V> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.g.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.g.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.stack.contains(&w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                loop {
                    let w = self.stack.pop().expect("v is on the stack");
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out.sort();
    t.out
}

/// One cycle through `comp` (shortest from its first node back to it), edge by edge with the
/// evidence of each edge.
fn describe_cycle<V: AsRef<str>>(g: &BTreeMap<String, BTreeMap<String, V>>, comp: &[String]) -> String {
    let start = &comp[0];
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.as_str()]);
    let mut closing = None;
    'bfs: while let Some(v) = queue.pop_front() {
        for w in g[v].keys() {
            if !comp.contains(w) {
                continue;
            }
            if w == start {
                closing = Some(v);
                break 'bfs;
            }
            if !prev.contains_key(w.as_str()) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    // Walk back from the node that closes the cycle, then read it forwards.
    let mut path = vec![start.as_str()];
    let mut v = closing.expect("a strongly connected component has a cycle");
    while v != start {
        path.push(v);
        v = prev[v];
    }
    path[1..].reverse();
    path.push(start);
    let mut s = String::new();
    for pair in path.windows(2) {
        let _ = writeln!(
            s,
            "    {} -> {}   ({})",
            pair[0],
            pair[1],
            g[pair[0]][pair[1]].as_ref()
        );
    }
    s
}

// ---- the workspace ---------------------------------------------------------------------

struct Package {
    name: String,
    dir: PathBuf,
    /// Workspace dependencies of any kind (normal, dev, build).
    deps: BTreeSet<String>,
}

fn toml_value(line: &str, key: &str) -> Option<String> {
    let rest = line.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?;
    Some(rest.trim().trim_matches('"').to_string())
}

/// The `[package]` name and the dependency names of a Cargo.toml (a line reader: our manifests
/// keep one dependency a line, or a `[dependencies.name]` table).
fn read_manifest(dir: &Path) -> (String, BTreeSet<String>) {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    let mut section = String::new();
    let mut name = None;
    let mut deps = BTreeSet::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(s) = line.strip_prefix('[') {
            section = s.trim_end_matches(']').trim().to_string();
            for kind in ["dependencies.", "dev-dependencies.", "build-dependencies."] {
                if let Some((_, dep)) = section.split_once(kind) {
                    deps.insert(dep.to_string());
                }
            }
            continue;
        }
        if section == "package" {
            if let Some(n) = toml_value(line, "name") {
                name = Some(n);
            }
        }
        let dep_section = ["dependencies", "dev-dependencies", "build-dependencies"]
            .iter()
            .any(|k| section == *k || section.ends_with(&format!(".{k}")));
        if dep_section {
            if let Some((key, _)) = line.split_once('=') {
                let key = key.trim();
                let dep = key.split('.').next().unwrap_or(key).trim_matches('"');
                if !dep.is_empty() {
                    deps.insert(dep.to_string());
                }
            }
        }
    }
    (name.expect("a [package] name"), deps)
}

fn workspace_packages() -> Vec<Package> {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let start = text.find("members").expect("[workspace] members");
    let list = &text[start..text[start..].find(']').map(|e| start + e).expect("members list")];
    let mut dirs = vec![root.clone()];
    dirs.extend(list.split('"').skip(1).step_by(2).map(|m| root.join(m)));
    let read: Vec<(PathBuf, String, BTreeSet<String>)> = dirs
        .into_iter()
        .map(|d| {
            let (name, deps) = read_manifest(&d);
            (d, name, deps)
        })
        .collect();
    let names: BTreeSet<String> = read.iter().map(|(_, n, _)| n.clone()).collect();
    read.into_iter()
        .map(|(dir, name, mut deps)| {
            // A dev-dependency on itself only turns on a feature for the package's own tests
            // (hnsim-sim's `lab`); it is no edge between crates.
            deps.remove(&name);
            Package {
                deps: deps.intersection(&names).cloned().collect(),
                name,
                dir,
            }
        })
        .collect()
}

/// The crate roots of a package: `src/lib.rs` and / or `src/main.rs`.
fn crate_roots(dir: &Path) -> Vec<PathBuf> {
    ["lib.rs", "main.rs"]
        .iter()
        .map(|f| dir.join("src").join(f))
        .filter(|p| p.exists())
        .collect()
}

/// The package's name as the allow-list writes it: its directory (`sim`), or `src` for the root.
fn short_name(p: &Package) -> String {
    let root = workspace_root();
    match p.dir.strip_prefix(&root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => "src".into(),
    }
}

#[test]
fn the_crate_graph_points_one_way() {
    let packages = workspace_packages();
    assert!(packages.len() >= 5, "the workspace members were not all found");
    let g: BTreeMap<String, BTreeMap<String, String>> = packages
        .iter()
        .map(|p| {
            let edges = p
                .deps
                .iter()
                .map(|d| (d.clone(), format!("{}/Cargo.toml", short_name(p))));
            (p.name.clone(), edges.collect())
        })
        .collect();
    let found = cycles(&g);
    let mut msg = String::new();
    for c in &found {
        let _ = writeln!(msg, "a cycle among the crates {c:?}:\n{}", describe_cycle(&g, c));
    }
    assert!(found.is_empty(), "{msg}");
}

#[test]
fn each_crates_module_graph_points_one_way() {
    let mut problems = String::new();
    let mut seen_allowed = BTreeSet::new();
    let mut scanned = Vec::new();
    for p in workspace_packages() {
        let short = short_name(&p);
        for root_file in crate_roots(&p.dir) {
            let scan = CrateScan::new(&root_file);
            assert!(
                !scan.top.is_empty() || scan.files == 1,
                "{}: no modules found",
                root_file.display()
            );
            scanned.push(short.clone());
            let g = scan.graph();
            for c in cycles(&g) {
                let allowed = ALLOWED_CYCLES
                    .iter()
                    .any(|(k, m)| *k == short && m.iter().copied().eq(c.iter().map(String::as_str)));
                if allowed {
                    seen_allowed.insert((short.clone(), c));
                    continue;
                }
                let _ = writeln!(
                    problems,
                    "{short} ({}): the modules {c:?} form a cycle:\n{}",
                    root_file.file_name().and_then(|f| f.to_str()).unwrap_or("?"),
                    describe_cycle(&g, &c)
                );
            }
        }
    }
    for (k, m) in ALLOWED_CYCLES {
        let c: Vec<String> = m.iter().map(|s| s.to_string()).collect();
        if !seen_allowed.contains(&(k.to_string(), c)) {
            let _ = writeln!(
                problems,
                "{k}: the allowed cycle {m:?} is gone or has changed: take it out of ALLOWED_CYCLES \
                 in tests/module_graph.rs (or write down the cycle as it is now)"
            );
        }
    }
    for must in ["model", "sim", "kube", "agent", "src"] {
        assert!(
            scanned.iter().any(|s| s == must),
            "crate {must} was not scanned: {scanned:?}"
        );
    }
    assert!(problems.is_empty(), "{problems}");
}

/// The scanner itself: `crate::` and `super::` paths, groups, re-exports, `#[path]`, inline
/// and `#[cfg(test)]` modules, comments and strings.
#[test]
fn the_scanner_reads_paths_the_way_rustc_does() {
    let dir = std::env::temp_dir().join(format!("hnsim-module-graph-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("b")).expect("temp dir");
    std::fs::create_dir_all(dir.join("elsewhere")).expect("temp dir");
    let write = |p: &str, s: &str| std::fs::write(dir.join(p), s).expect("write");
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub mod c;\npub mod d;\npub mod e;\npub use c::{Thing, inner as renamed};\n",
    );
    // a -> b via a group, a -> c via a root re-export; a comment, a string and a test module
    // naming d make no edge.
    write(
        "a.rs",
        "use crate::{b::X, Thing};\n// crate::d::Y\nconst S: &str = \"crate::d\";\n\
         const C: char = '\"';\nfn f<'a>(x: &'a u8) {}\n#[cfg(test)]\nmod tests { use crate::d; }\n",
    );
    // b (a directory module) -> e through `super::super` from b::x; its #[path] child is b too.
    write("b.rs", "mod x;\n#[path = \"elsewhere/far.rs\"]\nmod far;\n");
    write("b/x.rs", "use super::super::e::Z;\n");
    write("elsewhere/far.rs", "fn g() { crate::a::h(); }\n");
    // c: an inline module's `super::super` reaches the root.
    write(
        "c.rs",
        "pub struct Thing;\npub mod inner { pub fn k() { super::super::d::m(); } }\n",
    );
    write(
        "d.rs",
        "#[cfg(test)]\nmod tests;\nfn m() { let _ = r#\"crate::e\"#; }\n",
    );
    write(
        "e.rs",
        "/* crate::a /* nested */ crate::b */\nfn z() { crate::renamed::k(); }\n",
    );
    let scan = CrateScan::new(&dir.join("lib.rs"));
    let g = scan.graph();
    let edges: Vec<String> = g
        .iter()
        .flat_map(|(from, to)| to.keys().map(move |t| format!("{from}->{t}")))
        .collect();
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert_eq!(edges, ["a->b", "a->c", "b->a", "b->e", "c->d", "e->c"]);
    assert_eq!(cycles(&g), [vec!["a".to_string(), "b".to_string()]]);
}
