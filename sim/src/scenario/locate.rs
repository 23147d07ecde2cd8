//! A light position index for YAML text: maps key paths (`steps[3].send.expect`) to the line and
//! column where that key or sequence item is written.
//!
//! serde_yaml reports locations for syntax and type errors, but a `Value` tree forgets where each
//! node came from, and semantic checks (an undefined name, an impossible address) need to point
//! at the offending text. This index is built by a second, tolerant pass over the same text. It
//! understands block mappings and sequences, `- key: value` items, single- and multi-line flow
//! collections (`{…}`, `[…]`, i.e. JSON pasted into YAML), quoted keys and block scalars. Anything
//! it does not understand is skipped; lookups fall back to the nearest located ancestor.

use crate::fasthash::FastMap;
use std::fmt;

/// A 1-based line and column.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    /// The position of byte `offset` in `bytes`, whose bytes before `offset` are valid UTF-8
    /// (the column counts characters): where a decoder that stopped there points.
    pub fn of_offset(bytes: &[u8], offset: usize) -> Pos {
        let before = &bytes[..offset.min(bytes.len())];
        let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        Pos {
            line: before.iter().filter(|b| **b == b'\n').count() + 1,
            col: String::from_utf8_lossy(&before[line_start..]).chars().count() + 1,
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One step of a path into a YAML document.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Render a path the way error messages show it: `steps[3].send.expect`.
pub fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => {
                s.push_str(&format!("[{i}]"));
            }
        }
    }
    s
}

/// Key paths → positions. Only probed, never iterated, so a hash map (one hash per insert rather
/// than ~log n comparisons of whole paths in a tree: the index is built for every scenario).
#[derive(Clone, Debug, Default)]
pub struct Index {
    map: FastMap<Vec<Seg>, Pos>,
}

#[derive(Debug)]
enum FrameKind {
    /// A block mapping; `last` is the last key seen (its value may open a nested node).
    Map { last: Option<String> },
    /// A block sequence; `next` is the index the next `-` gets.
    Seq { next: usize },
}

#[derive(Debug)]
struct Frame {
    col: usize,
    path: Vec<Seg>,
    kind: FrameKind,
}

impl Index {
    /// Build the index from YAML text. Never fails: unknown constructs are skipped.
    pub fn build(text: &str) -> Index {
        let mut idx = Index::default();
        let chars: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        let mut stack: Vec<Frame> = Vec::new();
        // Lines consumed by a multi-line flow collection or a block scalar.
        let mut skip_until: usize = 0;
        let mut block_scalar_col: Option<usize> = None;
        let mut li = 0;
        while li < chars.len() {
            let line = &chars[li];
            let indent = line.iter().take_while(|c| **c == ' ').count();
            let trimmed = trim_end(&line[indent..]);
            if li < skip_until {
                li += 1;
                continue;
            }
            if let Some(c) = block_scalar_col {
                if trimmed.is_empty() || indent > c {
                    li += 1;
                    continue;
                }
                block_scalar_col = None;
            }
            if trimmed.is_empty() || trimmed[0] == '#' || trimmed == ['-'; 3] || trimmed == ['.'; 3] {
                li += 1;
                continue;
            }
            // Process the node start(s) on this line; `- - x` and `- key: v` nest several.
            let mut col = indent;
            loop {
                let rest = &chars[li][col..];
                let lone_dash = trim_end(rest) == ['-'];
                if rest.starts_with(&['-', ' ']) || lone_dash {
                    let parent = Self::seq_parent(&mut stack, col);
                    let Some(parent) = parent else { break };
                    let i = match &mut stack[parent].kind {
                        FrameKind::Seq { next } => {
                            let i = *next;
                            *next += 1;
                            i
                        }
                        FrameKind::Map { .. } => break,
                    };
                    let mut p = stack[parent].path.clone();
                    p.push(Seg::Index(i));
                    idx.insert(p, li, col);
                    // The item's content starts after "- " (and any further spaces).
                    let after = chars[li][col + 1..].iter().take_while(|c| **c == ' ').count();
                    if lone_dash {
                        break;
                    }
                    col = col + 1 + after;
                    // Push a placeholder so that a `key:` at this column becomes a map of the item.
                    continue;
                }
                // A `key: value` or `key:` line?
                let Some((key, colon)) = split_key(&chars[li], col) else {
                    // A scalar item or a flow collection as a sequence item.
                    if let Some(item_path) = Self::item_path(&stack, col) {
                        let c = chars[li][col];
                        if c == '{' || c == '[' {
                            let end = scan_flow(&chars, li, col, &item_path, &mut idx);
                            if end.0 > li {
                                skip_until = end.0 + 1;
                            }
                        }
                    }
                    break;
                };
                // Find or create the map frame at this column.
                while stack.last().is_some_and(|f| f.col > col) {
                    stack.pop();
                }
                if stack
                    .last()
                    .is_some_and(|f| f.col == col && matches!(f.kind, FrameKind::Seq { .. }))
                {
                    stack.pop();
                }
                let need_new = !stack
                    .last()
                    .is_some_and(|f| f.col == col && matches!(f.kind, FrameKind::Map { .. }));
                if need_new {
                    let path = Self::child_path(&stack, col);
                    stack.push(Frame {
                        col,
                        path,
                        kind: FrameKind::Map { last: None },
                    });
                }
                let Some(top) = stack.last_mut() else { break };
                top.kind = FrameKind::Map {
                    last: Some(key.clone()),
                };
                let mut p = top.path.clone();
                p.push(Seg::Key(key));
                idx.insert(p.clone(), li, col);
                // The value, if any, on the same line.
                let mut vcol = colon + 1;
                while vcol < chars[li].len() && chars[li][vcol] == ' ' {
                    vcol += 1;
                }
                if vcol < chars[li].len() {
                    let c = chars[li][vcol];
                    if c == '{' || c == '[' {
                        let end = scan_flow(&chars, li, vcol, &p, &mut idx);
                        if end.0 > li {
                            skip_until = end.0 + 1;
                        }
                    } else if c == '|' || c == '>' {
                        block_scalar_col = Some(col);
                    }
                }
                break;
            }
            li += 1;
        }
        idx
    }

    fn insert(&mut self, path: Vec<Seg>, line: usize, col: usize) {
        self.map.entry(path).or_insert(Pos {
            line: line + 1,
            col: col + 1,
        });
    }

    /// The path a new nested node at `col` belongs to: the pending key of the enclosing map, or
    /// the last item of the enclosing sequence.
    fn child_path(stack: &[Frame], col: usize) -> Vec<Seg> {
        match stack
            .iter()
            .rev()
            .find(|f| f.col < col || matches!(f.kind, FrameKind::Seq { .. }))
        {
            None => Vec::new(),
            Some(f) => {
                let mut p = f.path.clone();
                match &f.kind {
                    FrameKind::Map { last: Some(k) } => p.push(Seg::Key(k.clone())),
                    FrameKind::Map { last: None } => {}
                    FrameKind::Seq { next } => p.push(Seg::Index(next.saturating_sub(1))),
                }
                p
            }
        }
    }

    fn item_path(stack: &[Frame], col: usize) -> Option<Vec<Seg>> {
        let f = stack.last()?;
        if let FrameKind::Seq { next } = f.kind {
            if f.col < col {
                let mut p = f.path.clone();
                p.push(Seg::Index(next.saturating_sub(1)));
                return Some(p);
            }
        }
        None
    }

    /// The sequence frame a `-` at `col` belongs to (creating it when the dash opens a sequence
    /// as the value of the pending key), as an index into the stack.
    fn seq_parent(stack: &mut Vec<Frame>, col: usize) -> Option<usize> {
        while stack.last().is_some_and(|f| f.col > col) {
            stack.pop();
        }
        if let Some(f) = stack.last() {
            if f.col == col && matches!(f.kind, FrameKind::Seq { .. }) {
                return Some(stack.len() - 1);
            }
        }
        // A new sequence: the value of the pending key of the map at (or left of) this column.
        let path = match stack.last() {
            None => Vec::new(),
            Some(f) => {
                let mut p = f.path.clone();
                match &f.kind {
                    FrameKind::Map { last: Some(k) } => p.push(Seg::Key(k.clone())),
                    FrameKind::Map { last: None } => {}
                    FrameKind::Seq { next } => p.push(Seg::Index(next.saturating_sub(1))),
                }
                p
            }
        };
        stack.push(Frame {
            col,
            path,
            kind: FrameKind::Seq { next: 0 },
        });
        Some(stack.len() - 1)
    }

    /// The position of exactly this path, if the index saw it.
    pub fn get(&self, path: &[Seg]) -> Option<Pos> {
        self.map.get(path).copied()
    }

    /// The position of this path or of its nearest located ancestor.
    pub fn nearest(&self, path: &[Seg]) -> Pos {
        for n in (0..=path.len()).rev() {
            if let Some(p) = self.map.get(&path[..n]) {
                return *p;
            }
        }
        Pos { line: 1, col: 1 }
    }
}

/// If the text at `col` is `key:` (followed by a space or the end of line), return the key and
/// the column of the colon.
fn split_key(line: &[char], col: usize) -> Option<(String, usize)> {
    let first = *line.get(col)?;
    if first == '"' || first == '\'' {
        let (key, mut i) = read_quoted(line, col);
        while i < line.len() && line[i] == ' ' {
            i += 1;
        }
        if line.get(i) == Some(&':') && (i + 1 == line.len() || line[i + 1] == ' ') {
            return Some((key, i));
        }
        return None;
    }
    if matches!(first, '{' | '[' | '#' | '&' | '*' | '!' | '|' | '>') {
        return None;
    }
    let mut i = col;
    while i < line.len() {
        if line[i] == ':' && (i + 1 == line.len() || line[i + 1] == ' ') {
            let key: String = line[col..i].iter().collect();
            return Some((key.trim_end().to_string(), i));
        }
        if line[i] == ' ' && line.get(i + 1) == Some(&'#') {
            return None;
        }
        i += 1;
    }
    None
}

/// Scan a flow collection starting at (`li`, `col`) (which holds `{` or `[`), recording the
/// positions of its keys and items under `base`. Returns the (line, col) just past its end.
fn scan_flow(lines: &[Vec<char>], li: usize, col: usize, base: &[Seg], idx: &mut Index) -> (usize, usize) {
    enum Ctx {
        Map { key: Option<String> },
        Seq { i: usize },
    }
    let mut stack: Vec<(Ctx, Vec<Seg>)> = Vec::new();
    let (mut l, mut c) = (li, col);
    // Each token is read at (l, c); `expect_key` is true right after `{` or a `,` inside a map.
    let mut expect_key = false;
    let mut start_item = false;
    loop {
        if l >= lines.len() {
            return (l.saturating_sub(1), 0);
        }
        let line = &lines[l];
        if c >= line.len() {
            l += 1;
            c = 0;
            continue;
        }
        let ch = line[c];
        match ch {
            ' ' | '\t' => c += 1,
            '#' if c == 0 || line[c - 1] == ' ' => {
                l += 1;
                c = 0;
            }
            '{' | '[' => {
                let path = match stack.last_mut() {
                    None => base.to_vec(),
                    Some((Ctx::Map { key }, p)) => {
                        let mut p = p.clone();
                        if let Some(k) = key.take() {
                            p.push(Seg::Key(k));
                        }
                        p
                    }
                    Some((Ctx::Seq { i }, p)) => {
                        let mut p = p.clone();
                        p.push(Seg::Index(*i));
                        idx.insert(p.clone(), l, c);
                        p
                    }
                };
                if ch == '{' {
                    stack.push((Ctx::Map { key: None }, path));
                    expect_key = true;
                } else {
                    stack.push((Ctx::Seq { i: 0 }, path));
                    start_item = true;
                }
                c += 1;
            }
            '}' | ']' => {
                stack.pop();
                c += 1;
                if stack.is_empty() {
                    return (l, c);
                }
                expect_key = false;
                start_item = false;
            }
            ',' => {
                c += 1;
                match stack.last_mut() {
                    Some((Ctx::Map { key }, _)) => {
                        *key = None;
                        expect_key = true;
                    }
                    Some((Ctx::Seq { i }, _)) => {
                        *i += 1;
                        start_item = true;
                    }
                    None => return (l, c),
                }
            }
            ':' => {
                c += 1;
            }
            _ => {
                // A scalar (quoted or plain): read it.
                let (tok, nc) = read_flow_scalar(line, c);
                match stack.last_mut() {
                    Some((Ctx::Map { key }, p)) if expect_key => {
                        let mut kp = p.clone();
                        kp.push(Seg::Key(tok.clone()));
                        idx.insert(kp, l, c);
                        *key = Some(tok);
                        expect_key = false;
                    }
                    Some((Ctx::Map { key }, _)) => {
                        *key = None;
                    }
                    Some((Ctx::Seq { i }, p)) if start_item => {
                        let mut ip = p.clone();
                        ip.push(Seg::Index(*i));
                        idx.insert(ip, l, c);
                        start_item = false;
                    }
                    _ => {}
                }
                c = nc.max(c + 1);
            }
        }
    }
}

/// The text of the quoted scalar whose quote (`"` with `\\` escapes, or `'`) is at `start`, and
/// the index just past its closing quote.
fn read_quoted(line: &[char], start: usize) -> (String, usize) {
    let q = line[start];
    let mut i = start + 1;
    let mut s = String::new();
    while i < line.len() && line[i] != q {
        if line[i] == '\\' && q == '"' && i + 1 < line.len() {
            i += 1;
        }
        s.push(line[i]);
        i += 1;
    }
    (s, i + 1)
}

fn read_flow_scalar(line: &[char], c: usize) -> (String, usize) {
    if matches!(line.get(c), Some('"' | '\'')) {
        return read_quoted(line, c);
    }
    let mut i = c;
    while i < line.len() {
        let ch = line[i];
        if matches!(ch, ',' | '}' | ']' | '{' | '[') {
            break;
        }
        if ch == ':' && (i + 1 == line.len() || matches!(line[i + 1], ' ' | ',' | '}' | ']')) {
            break;
        }
        i += 1;
    }
    let t = trim_end(&line[c..i]);
    let lead = t.iter().take_while(|ch| ch.is_whitespace()).count();
    (t[lead..].iter().collect(), i)
}

/// `line` without trailing whitespace (`str::trim_end` on a line kept as chars; no allocation:
/// the index is built for every scenario, so per-line strings were a large part of its cost).
fn trim_end(line: &[char]) -> &[char] {
    let n = line.iter().rposition(|c| !c.is_whitespace()).map_or(0, |i| i + 1);
    &line[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn block_and_flow_positions() {
        let text = "name: x\nhosts:\n  node1:\n    ip: 10.0.0.11\nsteps:\n  - send:\n      from: A\n      expect: {disposition: Delivered, seen: {src: 1.2.3.4}}\n  - create-network:\n      doc: {\n        \"Name\": \"cbr0\",\n        \"Ipams\": [{\"Type\": \"Static\"}]\n      }\n  - advance: 5s\n";
        let idx = Index::build(text);
        assert_eq!(
            idx.get(&[k("hosts"), k("node1"), k("ip")]),
            Some(Pos { line: 4, col: 5 })
        );
        assert_eq!(
            idx.get(&[k("steps"), Seg::Index(0)]),
            Some(Pos { line: 6, col: 3 })
        );
        assert_eq!(
            idx.get(&[k("steps"), Seg::Index(0), k("send"), k("from")]),
            Some(Pos { line: 7, col: 7 })
        );
        assert_eq!(
            idx.get(&[
                k("steps"),
                Seg::Index(0),
                k("send"),
                k("expect"),
                k("seen"),
                k("src")
            ]),
            Some(Pos { line: 8, col: 47 })
        );
        assert_eq!(
            idx.get(&[
                k("steps"),
                Seg::Index(1),
                k("create-network"),
                k("doc"),
                k("Ipams"),
                Seg::Index(0),
                k("Type")
            ]),
            Some(Pos { line: 12, col: 20 })
        );
        assert_eq!(
            idx.get(&[k("steps"), Seg::Index(2), k("advance")]),
            Some(Pos { line: 14, col: 5 })
        );
    }

    #[test]
    fn compact_sequences_and_block_scalars() {
        let text = "a:\n- x: 1\n  y: |\n    text: not a key\n  z: 3\n- w: 2\nb: 1\n";
        let idx = Index::build(text);
        assert_eq!(
            idx.get(&[k("a"), Seg::Index(0), k("z")]),
            Some(Pos { line: 5, col: 3 })
        );
        assert_eq!(
            idx.get(&[k("a"), Seg::Index(1), k("w")]),
            Some(Pos { line: 6, col: 3 })
        );
        assert_eq!(idx.get(&[k("b")]), Some(Pos { line: 7, col: 1 }));
        assert!(idx.get(&[k("a"), Seg::Index(0), k("y"), k("text")]).is_none());
    }

    #[test]
    fn never_panics_on_garbage() {
        for t in [
            "- - -\n  : :\n{[}]",
            "\"unterminated: x\n",
            "a: {b: [1, {c: ",
            ":\n-\n- :",
        ] {
            let _ = Index::build(t);
        }
    }
}
