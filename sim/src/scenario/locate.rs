//! A light position index for YAML text: maps key paths (`steps[3].send.expect`) to the line and
//! column where that key or sequence item is written.
//!
//! serde_yaml reports locations for syntax and type errors, but a `Value` tree forgets where each
//! node came from, and semantic checks (an undefined name, an impossible address) need to point
//! at the offending text. This index is built by a second, tolerant pass over the same text (at
//! the first lookup: a scenario that runs without an error never needs most of it). It
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

/// Key paths → positions of one scenario text. Only errors need most of them, so the trie is
/// built at the first lookup ([`Index::lazy`]); the one position every run needs, where each
/// step starts (a step report's line), can be handed in by a reader that saw it.
#[derive(Clone, Debug, Default)]
pub struct Index {
    text: std::sync::Arc<str>,
    trie: std::sync::OnceLock<Trie>,
    /// Where each item of the top-level `steps` list starts, when known without the trie.
    steps: Option<Vec<Pos>>,
}

impl Index {
    /// The index of `text`, built now.
    pub fn build(text: &str) -> Index {
        Index {
            text: text.into(),
            trie: Trie::build(text).into(),
            steps: None,
        }
    }

    /// The index of `text`, built when first asked for anything but a step's position;
    /// `steps`: where each top-level step starts, as the trie would say.
    pub fn lazy(text: &str, steps: Option<Vec<Pos>>) -> Index {
        Index {
            text: text.into(),
            trie: std::sync::OnceLock::new(),
            steps,
        }
    }

    /// Whether the trie has been built (it is only when something needed it).
    pub fn is_built(&self) -> bool {
        self.trie.get().is_some()
    }

    fn trie(&self) -> &Trie {
        self.trie.get_or_init(|| Trie::build(&self.text))
    }

    /// `steps[i]`, when the reader recorded it.
    fn step(&self, path: &[Seg]) -> Option<Pos> {
        match (path, &self.steps) {
            ([Seg::Key(k), Seg::Index(i)], Some(steps)) if k == "steps" => steps.get(*i).copied(),
            _ => None,
        }
    }

    /// The position of exactly this path, if the index saw it.
    pub fn get(&self, path: &[Seg]) -> Option<Pos> {
        self.step(path).or_else(|| self.trie().get(path))
    }

    /// The position of this path or of its nearest located ancestor.
    pub fn nearest(&self, path: &[Seg]) -> Pos {
        self.step(path).unwrap_or_else(|| self.trie().nearest(path))
    }
}

/// Key paths → positions, as a trie: node 0 is the empty path and each node's children are
/// found by (parent, segment) in one hash probe. Building it allocates once per distinct key
/// string, not once per path (a cloned path per located key was most of the index's cost).
/// Only probed, never iterated, so hash maps are fine.
#[derive(Clone, Debug)]
struct Trie {
    /// Distinct key strings → their numbers (a scenario repeats few keys many times).
    keys: FastMap<String, u32>,
    /// (parent node, segment code) → child node.
    children: FastMap<(u32, u64), u32>,
    /// Where each node's path is written, if the index saw it.
    pos: Vec<Option<Pos>>,
}

impl Default for Trie {
    fn default() -> Trie {
        Trie {
            keys: FastMap::default(),
            children: FastMap::default(),
            pos: vec![None],
        }
    }
}

/// A node of the [`Trie`].
type Node = u32;
const ROOT: Node = 0;
/// Segment codes: a sequence index as itself, a key as its number with the top bit set.
const KEY: u64 = 1 << 63;

fn index_code(i: usize) -> u64 {
    (i as u64) & !KEY
}

#[derive(Debug)]
enum FrameKind {
    /// A block mapping; `last` is the node of the last key seen (its value may open a nested node).
    Map { last: Option<Node> },
    /// A block sequence; `next` is the index the next `-` gets.
    Seq { next: usize },
}

#[derive(Debug)]
struct Frame {
    col: usize,
    node: Node,
    kind: FrameKind,
}

impl Trie {
    /// Build the index from YAML text. Never fails: unknown constructs are skipped.
    fn build(text: &str) -> Trie {
        let mut idx = Trie::default();
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
                    let parent = idx.seq_parent(&mut stack, col);
                    let Some(parent) = parent else { break };
                    let i = match &mut stack[parent].kind {
                        FrameKind::Seq { next } => {
                            let i = *next;
                            *next += 1;
                            i
                        }
                        FrameKind::Map { .. } => break,
                    };
                    let item = idx.child(stack[parent].node, index_code(i));
                    idx.set(item, li, col);
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
                    if let Some(item) = idx.item_node(&stack, col) {
                        let c = chars[li][col];
                        if c == '{' || c == '[' {
                            let end = scan_flow(&chars, li, col, item, &mut idx);
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
                    let node = idx.child_node(&stack, col);
                    stack.push(Frame {
                        col,
                        node,
                        kind: FrameKind::Map { last: None },
                    });
                }
                let Some(top) = stack.last_mut() else { break };
                let code = idx.key_code(&key);
                let p = idx.child(top.node, code);
                top.kind = FrameKind::Map { last: Some(p) };
                idx.set(p, li, col);
                // The value, if any, on the same line.
                let mut vcol = colon + 1;
                while vcol < chars[li].len() && chars[li][vcol] == ' ' {
                    vcol += 1;
                }
                if vcol < chars[li].len() {
                    let c = chars[li][vcol];
                    if c == '{' || c == '[' {
                        let end = scan_flow(&chars, li, vcol, p, &mut idx);
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

    /// The number of a key string, numbering it when new.
    fn key_code(&mut self, key: &str) -> u64 {
        if let Some(k) = self.keys.get(key) {
            return KEY | u64::from(*k);
        }
        let k = self.keys.len() as u32;
        self.keys.insert(key.to_string(), k);
        KEY | u64::from(k)
    }

    /// The child of `node` along `code`, made when new (without a position).
    fn child(&mut self, node: Node, code: u64) -> Node {
        let next = self.pos.len() as Node;
        let n = *self.children.entry((node, code)).or_insert(next);
        if n == next {
            self.pos.push(None);
        }
        n
    }

    /// Record where `node`'s path is written; the first place seen wins.
    fn set(&mut self, node: Node, line: usize, col: usize) {
        let p = &mut self.pos[node as usize];
        if p.is_none() {
            *p = Some(Pos {
                line: line + 1,
                col: col + 1,
            });
        }
    }

    /// The node a pending child of frame `f` belongs to: its last key, or its last item.
    fn pending(&mut self, f: &Frame) -> Node {
        match f.kind {
            FrameKind::Map { last: Some(k) } => k,
            FrameKind::Map { last: None } => f.node,
            FrameKind::Seq { next } => self.child(f.node, index_code(next.saturating_sub(1))),
        }
    }

    /// The path a new nested node at `col` belongs to: the pending key of the enclosing map, or
    /// the last item of the enclosing sequence.
    fn child_node(&mut self, stack: &[Frame], col: usize) -> Node {
        match stack
            .iter()
            .rev()
            .find(|f| f.col < col || matches!(f.kind, FrameKind::Seq { .. }))
        {
            None => ROOT,
            Some(f) => self.pending(f),
        }
    }

    fn item_node(&mut self, stack: &[Frame], col: usize) -> Option<Node> {
        let f = stack.last()?;
        if let FrameKind::Seq { next } = f.kind {
            if f.col < col {
                return Some(self.child(f.node, index_code(next.saturating_sub(1))));
            }
        }
        None
    }

    /// The sequence frame a `-` at `col` belongs to (creating it when the dash opens a sequence
    /// as the value of the pending key), as an index into the stack.
    fn seq_parent(&mut self, stack: &mut Vec<Frame>, col: usize) -> Option<usize> {
        while stack.last().is_some_and(|f| f.col > col) {
            stack.pop();
        }
        if let Some(f) = stack.last() {
            if f.col == col && matches!(f.kind, FrameKind::Seq { .. }) {
                return Some(stack.len() - 1);
            }
        }
        // A new sequence: the value of the pending key of the map at (or left of) this column.
        let node = match stack.last() {
            None => ROOT,
            Some(f) => self.pending(f),
        };
        stack.push(Frame {
            col,
            node,
            kind: FrameKind::Seq { next: 0 },
        });
        Some(stack.len() - 1)
    }

    /// The trie nodes along `path` from the root, as far as the index has them.
    fn walk<'p>(&'p self, path: &'p [Seg]) -> impl Iterator<Item = Node> + 'p {
        let mut node = Some(ROOT);
        let mut segs = path.iter();
        std::iter::from_fn(move || {
            let here = node?;
            node = segs.next().and_then(|s| {
                let code = match s {
                    Seg::Key(k) => KEY | u64::from(*self.keys.get(k.as_str())?),
                    Seg::Index(i) => index_code(*i),
                };
                self.children.get(&(here, code)).copied()
            });
            Some(here)
        })
    }

    /// The position of exactly this path, if the index saw it.
    fn get(&self, path: &[Seg]) -> Option<Pos> {
        let mut depth = 0;
        let mut last = ROOT;
        for n in self.walk(path) {
            depth += 1;
            last = n;
        }
        if depth == path.len() + 1 {
            self.pos[last as usize]
        } else {
            None
        }
    }

    /// The position of this path or of its nearest located ancestor.
    fn nearest(&self, path: &[Seg]) -> Pos {
        self.walk(path)
            .filter_map(|n| self.pos[n as usize])
            .last()
            .unwrap_or(Pos { line: 1, col: 1 })
    }
}

/// If the text at `col` is `key:` (followed by a space or the end of line), return the key and
/// the column of the colon.
fn split_key(line: &[char], col: usize) -> Option<(String, usize)> {
    let first = *line.get(col)?;
    if first == '"' || first == '\'' {
        let mut key = String::new();
        let mut i = read_quoted(line, col, &mut key);
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
            return Some((trim_end(&line[col..i]).iter().collect(), i));
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
fn scan_flow(lines: &[Vec<char>], li: usize, col: usize, base: Node, idx: &mut Trie) -> (usize, usize) {
    enum Ctx {
        /// `key`: the node of the key just read, whose value may open a nested collection.
        Map {
            key: Option<Node>,
        },
        Seq {
            i: usize,
        },
    }
    let mut stack: Vec<(Ctx, Node)> = Vec::new();
    let (mut l, mut c) = (li, col);
    // Each token is read at (l, c); `expect_key` is true right after `{` or a `,` inside a map.
    let mut expect_key = false;
    let mut start_item = false;
    let mut tok = String::new();
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
                let node = match stack.last_mut() {
                    None => base,
                    Some((Ctx::Map { key }, p)) => key.take().unwrap_or(*p),
                    Some((Ctx::Seq { i }, p)) => {
                        let n = idx.child(*p, index_code(*i));
                        idx.set(n, l, c);
                        n
                    }
                };
                if ch == '{' {
                    stack.push((Ctx::Map { key: None }, node));
                    expect_key = true;
                } else {
                    stack.push((Ctx::Seq { i: 0 }, node));
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
                let nc = read_flow_scalar(line, c, &mut tok);
                match stack.last_mut() {
                    Some((Ctx::Map { key }, p)) if expect_key => {
                        let code = idx.key_code(&tok);
                        let kn = idx.child(*p, code);
                        idx.set(kn, l, c);
                        *key = Some(kn);
                        expect_key = false;
                    }
                    Some((Ctx::Map { key }, _)) => {
                        *key = None;
                    }
                    Some((Ctx::Seq { i }, p)) if start_item => {
                        let n = idx.child(*p, index_code(*i));
                        idx.set(n, l, c);
                        start_item = false;
                    }
                    _ => {}
                }
                c = nc.max(c + 1);
            }
        }
    }
}

/// Read the quoted scalar whose quote (`"` with `\\` escapes, or `'`) is at `start` into `s`;
/// returns the index just past its closing quote.
fn read_quoted(line: &[char], start: usize, s: &mut String) -> usize {
    let q = line[start];
    let mut i = start + 1;
    while i < line.len() && line[i] != q {
        if line[i] == '\\' && q == '"' && i + 1 < line.len() {
            i += 1;
        }
        s.push(line[i]);
        i += 1;
    }
    i + 1
}

/// Read the flow scalar at `c` into `tok` (cleared first; a buffer reused across the scan, since
/// most scalars are values nobody keeps); returns the index just past it.
fn read_flow_scalar(line: &[char], c: usize, tok: &mut String) -> usize {
    tok.clear();
    if matches!(line.get(c), Some('"' | '\'')) {
        return read_quoted(line, c, tok);
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
    tok.extend(&t[lead..]);
    i
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

    /// The index stores each distinct key string once (and one trie node per located path), so
    /// its allocations grow with the file's lines, not with lines × path depth.
    #[test]
    fn keys_are_stored_once_whatever_the_file_size() {
        let small = Index::build(&crate::scenario::synth::overlay_pods(2, 3));
        let big = Index::build(&crate::scenario::synth::overlay_pods(2, 300));
        let (s, b) = (small.trie(), big.trie());
        assert_eq!(s.keys.len(), b.keys.len());
        assert!(b.pos.len() > 50 * s.pos.len() / 2);
        let step = |i| {
            [
                k("steps"),
                Seg::Index(i),
                k("create-endpoint"),
                k("doc"),
                k("Policies"),
            ]
        };
        for idx in [&small, &big] {
            let p = idx.get(&step(6)).expect("a flow key of a late step is located");
            assert_eq!(
                idx.nearest(&[&step(6)[..], &[Seg::Index(0), k("Nope")]].concat())
                    .line,
                p.line
            );
        }
        // A path through a key the text never has: its nearest located ancestor.
        let mut missing = step(6).to_vec();
        missing[3] = k("never-written");
        assert_eq!(big.get(&missing), None);
        assert_eq!(big.nearest(&missing), big.get(&step(6)[..3]).unwrap());
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
