//! A fast reader for the plain YAML most scenarios are written in, with serde_yaml as the
//! authority for everything else.
//!
//! serde_yaml (libyaml's scanner and parser, an event list, then serde) was ≈ 40 % of building a
//! scenario. This reader takes block mappings and sequences, one-line flow collections (`{…}`,
//! `[…]`), plain scalars and one-line quoted scalars without escapes — what the synthetic
//! scenarios and most hand-written ones use — into a small tree, and deserializes the scenario
//! types from it with serde_yaml's rules (a plain `8` is a number for a `Value`, text for a
//! `String`; `~`, `null` and nothing are null; `true`/`True`/`TRUE` are booleans; a plain empty
//! value is an empty list or map).
//!
//! Anything else — anchors, tags, block scalars, escapes, multi-line scalars or collections, a
//! scalar whose YAML type is not obvious (`1e3`, `0x10`, `-1`, `.5`, `007`), any error at all —
//! makes [`from_str`] answer `None`, and the caller parses the text with serde_yaml, so every
//! error message and position is serde_yaml's, byte for byte. The two paths must agree whenever
//! this one answers: debug and fuzz builds check that on every scenario they parse
//! (`parse::parse_str`), so the whole test suite, the fuzz corpus replay (`tests/fuzz_corpus.rs`)
//! and the fuzzers cross-check it.

use super::locate::Pos;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Deserialize `text` through the fast reader; `None` when the text is outside the subset or
/// does not deserialize (the caller then asks serde_yaml, which decides and explains).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Option<T> {
    read(text).map(|(t, _)| t)
}

/// As [`from_str`], with where each item of the top-level `steps` list starts (`None` when the
/// document has no such list), as [`Index`](super::locate::Index) would locate `steps[i]`.
pub fn read<T: DeserializeOwned>(text: &str) -> Option<(T, Option<Vec<Pos>>)> {
    let reader = Reader::new(text)?;
    let lines = reader.lines.clone();
    let node = reader.document().ok()?;
    let t = T::deserialize(&node).ok()?;
    let steps = match &node {
        Node::Map(entries) => entries.iter().find_map(|(k, v)| match (k, v) {
            (Node::Scalar { text, .. }, Node::Seq(_, at)) if text == "steps" => Some(at),
            _ => None,
        }),
        _ => None,
    };
    let steps = steps.map(|at| {
        at.iter()
            .map(|&(l, c)| {
                let line = lines[l];
                // Columns count characters.
                let col = if line.is_ascii() {
                    c
                } else {
                    line[..c].chars().count()
                };
                Pos {
                    line: l + 1,
                    col: col + 1,
                }
            })
            .collect()
    });
    Some((t, steps))
}

/// Nesting deeper than this is left to serde_yaml (which has its own recursion limit).
const MAX_DEPTH: usize = 64;
/// libyaml looks at most 1,024 bytes ahead for a simple key's `:` (block and flow mappings).
const MAX_KEY: usize = 1000;

/// A parsed node. Scalars borrow from the text unless a `''` escape had to be undone.
#[derive(Debug)]
enum Node<'a> {
    Scalar {
        text: Cow<'a, str>,
        plain: bool,
    },
    /// The items, and where each starts (line, byte column; 0-based): its `-`, or its first
    /// character in a flow list.
    Seq(Vec<Node<'a>>, Vec<(usize, usize)>),
    Map(Vec<(Node<'a>, Node<'a>)>),
}

/// The text is outside the subset (or not YAML): let serde_yaml read it.
#[derive(Debug)]
struct Outside;

type R<T> = Result<T, Outside>;

fn plain(text: &str) -> Node<'_> {
    Node::Scalar {
        text: Cow::Borrowed(text),
        plain: true,
    }
}

struct Reader<'a> {
    lines: Vec<&'a str>,
    /// The first line not consumed yet.
    line: usize,
    depth: usize,
}

/// Characters that start something other than a plain scalar (or are best left to serde_yaml).
fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Whether `s` holds a byte below `' '` or DEL, eight bytes at a time (the scan of every byte
/// of a scenario was a tenth of reading it). Exact: a word has a byte below `n` (`n` ≤ 128)
/// iff `(w - n·0x01…) & !w & 0x80…` is not zero, and a DEL byte is a zero byte of `w ^ 0x7f…`.
fn has_control(s: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = s.as_bytes().chunks_exact(8);
    for c in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let w = u64::from_le_bytes(b);
        let del = w ^ (ONES * 0x7f);
        if ((w.wrapping_sub(ONES * 0x20) & !w) | (del.wrapping_sub(ONES) & !del)) & HIGH != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b < b' ' || b == 0x7f)
}

fn indent(line: &str) -> usize {
    line.bytes().take_while(|b| *b == b' ').count()
}

/// `- ` or a lone `-` at `col`: a block sequence entry.
fn is_dash(line: &str, col: usize) -> bool {
    let b = line.as_bytes();
    b.get(col) == Some(&b'-') && matches!(b.get(col + 1), None | Some(b' '))
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Option<Reader<'a>> {
        // Tabs, carriage returns, control and non-printable characters, and the line breaks
        // YAML 1.1 knows beyond `\n`: serde_yaml's business.
        let odd = |c: char| {
            (c < ' ' && c != '\n')
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
        };
        if !text.is_ascii() && text.chars().any(odd) {
            return None;
        }
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.iter().any(|l| has_control(l)) {
            return None;
        }
        Some(Reader {
            lines,
            line: 0,
            depth: 0,
        })
    }

    /// The next line at or after `from` with content (not blank, not only a comment), and its
    /// indentation.
    fn content(&self, from: usize) -> Option<(usize, usize)> {
        (from..self.lines.len()).find_map(|l| {
            let line = self.lines[l];
            let i = indent(line);
            match line.as_bytes().get(i) {
                None | Some(b'#') => None,
                Some(_) => Some((l, i)),
            }
        })
    }

    fn document(mut self) -> R<Node<'a>> {
        let (l, i) = self.content(0).ok_or(Outside)?;
        let first = &self.lines[l][i..];
        if i != 0 || first.starts_with("---") || first.starts_with("...") || first.starts_with('%') {
            return Err(Outside);
        }
        let node = self.block_node(l, 0)?;
        if self.content(self.line).is_some() {
            return Err(Outside);
        }
        Ok(node)
    }

    fn deeper(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Outside);
        }
        Ok(())
    }

    /// The node that starts at column `col` of line `l` (what is left of the line before `col`
    /// is indentation or a `- `).
    fn block_node(&mut self, l: usize, col: usize) -> R<Node<'a>> {
        let line = self.lines[l];
        let rest = &line[col..];
        if rest.starts_with("---") || rest.starts_with("...") {
            return Err(Outside);
        }
        if is_dash(line, col) {
            return self.block_seq(l, col);
        }
        if key_at(line, col)?.is_some() {
            return self.block_map(l, col);
        }
        let (node, end) = inline_value(line, l, col, self.depth)?;
        rest_is_comment(line, end)?;
        self.line = l + 1;
        Ok(node)
    }

    /// The value of a key or an entry written on the following lines (nothing: a null).
    fn block_value(&mut self, from: usize, parent: usize, in_map: bool) -> R<Node<'a>> {
        match self.content(from) {
            Some((l, i)) if i > parent => self.block_node(l, i),
            // `key:` followed by `- item` lines at the key's own column.
            Some((l, i)) if in_map && i == parent && is_dash(self.lines[l], i) => self.block_seq(l, i),
            _ => {
                self.line = from;
                Ok(plain(""))
            }
        }
    }

    fn block_seq(&mut self, mut l: usize, col: usize) -> R<Node<'a>> {
        self.deeper()?;
        let (mut items, mut at) = (Vec::new(), Vec::new());
        loop {
            let line = self.lines[l];
            at.push((l, col));
            let c = col + 1 + indent(&line[col + 1..]);
            let item = match line.as_bytes().get(c) {
                None => self.block_value(l + 1, col, false)?,
                Some(b'#') if c > col + 1 => self.block_value(l + 1, col, false)?,
                Some(_) => self.block_node(l, c)?,
            };
            items.push(item);
            match self.content(self.line) {
                Some((nl, ni)) if ni == col && is_dash(self.lines[nl], col) => l = nl,
                Some((_, ni)) if ni > col => return Err(Outside),
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(Node::Seq(items, at))
    }

    fn block_map(&mut self, mut l: usize, col: usize) -> R<Node<'a>> {
        self.deeper()?;
        let mut entries = Vec::new();
        loop {
            let line = self.lines[l];
            let (key, after) = key_at(line, col)?.ok_or(Outside)?;
            let c = after + indent(&line[after..]);
            let value = match line.as_bytes().get(c) {
                None => self.block_value(l + 1, col, true)?,
                Some(b'#') if c > after => self.block_value(l + 1, col, true)?,
                Some(_) => {
                    let (node, end) = inline_value(line, l, c, self.depth)?;
                    rest_is_comment(line, end)?;
                    self.line = l + 1;
                    node
                }
            };
            entries.push((key, value));
            match self.content(self.line) {
                Some((nl, ni)) if ni == col && !is_dash(self.lines[nl], col) => l = nl,
                Some((_, ni)) if ni >= col => return Err(Outside),
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(Node::Map(entries))
    }
}

/// After a value: nothing, or a comment after at least one space.
fn rest_is_comment(line: &str, end: usize) -> R<()> {
    let c = end + indent(&line[end..]);
    match line.as_bytes().get(c) {
        None => Ok(()),
        Some(b'#') if c > end => Ok(()),
        _ => Err(Outside),
    }
}

/// If a block mapping key (`key:` then a space or the end of the line) starts at `col`: the key
/// and the index just past its `:`.
fn key_at(line: &str, col: usize) -> R<Option<(Node<'_>, usize)>> {
    let b = line.as_bytes();
    let colon_after = |i: usize| b.get(i) == Some(&b':') && matches!(b.get(i + 1), None | Some(b' '));
    match b[col] {
        q @ (b'"' | b'\'') => {
            let Ok((text, end)) = quoted(line, col, q) else {
                return Ok(None);
            };
            if end - col > MAX_KEY {
                return Err(Outside);
            }
            // `"key" : v` (a space before the colon) is serde_yaml's.
            Ok(colon_after(end).then(|| (Node::Scalar { text, plain: false }, end + 1)))
        }
        c if is_indicator(c) => Ok(None),
        _ => {
            let mut i = col;
            while i < b.len() {
                if colon_after(i) {
                    let key = line[col..i].trim_end_matches(' ');
                    if i - col > MAX_KEY || key.bytes().any(|c| matches!(c, b'[' | b']' | b'{' | b'}')) {
                        return Err(Outside);
                    }
                    return Ok(Some((plain(key), i + 1)));
                }
                if b[i] == b'#' && b[i - 1] == b' ' {
                    return Ok(None);
                }
                i += 1;
            }
            Ok(None)
        }
    }
}

/// A one-line quoted scalar whose opening quote `q` is at `col`: its text and the index just
/// past the closing quote. Escapes in double quotes and line folding are serde_yaml's.
fn quoted(line: &str, col: usize, q: u8) -> R<(Cow<'_, str>, usize)> {
    let b = line.as_bytes();
    let mut i = col + 1;
    let mut owned: Option<String> = None;
    let mut from = i;
    loop {
        match b.get(i) {
            None => return Err(Outside),
            Some(b'\\') if q == b'"' => return Err(Outside),
            Some(c) if *c == q => {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&line[from..=i]);
                    i += 2;
                    from = i;
                    continue;
                }
                let text = match owned {
                    Some(mut s) => {
                        s.push_str(&line[from..i]);
                        Cow::Owned(s)
                    }
                    None => Cow::Borrowed(&line[col + 1..i]),
                };
                return Ok((text, i + 1));
            }
            Some(_) => i += 1,
        }
    }
}

/// A value on the rest of a line in block context: a flow collection, a quoted scalar or a plain
/// scalar (which ends at `: `, ` #` or the end of the line). Returns the node and where it ends.
fn inline_value(line: &str, li: usize, col: usize, depth: usize) -> R<(Node<'_>, usize)> {
    let b = line.as_bytes();
    match b[col] {
        b'{' | b'[' => flow(line, li, col, depth),
        q @ (b'"' | b'\'') => {
            let (text, end) = quoted(line, col, q)?;
            Ok((Node::Scalar { text, plain: false }, end))
        }
        c if is_indicator(c) && !(c == b'-' && b.get(col + 1).is_some_and(u8::is_ascii_digit)) => {
            Err(Outside)
        }
        _ => {
            let mut i = col;
            while i < b.len() {
                match b[i] {
                    b':' if matches!(b.get(i + 1), None | Some(b' ')) => break,
                    b'#' if b[i - 1] == b' ' => break,
                    b'[' | b']' | b'{' | b'}' => return Err(Outside),
                    _ => i += 1,
                }
            }
            let text = line[col..i].trim_end_matches(' ');
            Ok((plain(text), col + text.len()))
        }
    }
}

/// A flow collection that opens at `col` of line `li` and closes on the same line: the node and
/// the index just past its closing bracket.
fn flow(line: &str, li: usize, col: usize, depth: usize) -> R<(Node<'_>, usize)> {
    if depth + 1 > MAX_DEPTH {
        return Err(Outside);
    }
    let b = line.as_bytes();
    let skip = |i: usize| i + indent(&line[i..]);
    let close = if b[col] == b'{' { b'}' } else { b']' };
    let mut i = skip(col + 1);
    let mut entries = Vec::new();
    let (mut items, mut at) = (Vec::new(), Vec::new());
    if b.get(i) != Some(&close) {
        loop {
            if close == b'}' {
                let (key, end) = flow_scalar(line, i)?;
                // `key: value` with a space: `{"a":1}` and `{a:1}` are serde_yaml's; so is a
                // key too long for libyaml (which then refuses the mapping).
                if b.get(end) != Some(&b':') || b.get(end + 1) != Some(&b' ') || end - i > MAX_KEY {
                    return Err(Outside);
                }
                let (value, end) = flow_value(line, li, skip(end + 1), depth)?;
                entries.push((key, value));
                i = skip(end);
            } else {
                let (item, end) = flow_value(line, li, i, depth)?;
                items.push(item);
                at.push((li, i));
                i = skip(end);
            }
            match b.get(i) {
                Some(b',') => {
                    i = skip(i + 1);
                    // A trailing comma, or an empty entry: serde_yaml's.
                    if matches!(b.get(i), None | Some(b',' | b'}' | b']')) {
                        return Err(Outside);
                    }
                }
                Some(c) if *c == close => break,
                _ => return Err(Outside),
            }
        }
    }
    let node = if close == b'}' {
        Node::Map(entries)
    } else {
        Node::Seq(items, at)
    };
    Ok((node, i + 1))
}

fn flow_value(line: &str, li: usize, i: usize, depth: usize) -> R<(Node<'_>, usize)> {
    match line.as_bytes().get(i) {
        Some(b'{' | b'[') => flow(line, li, i, depth + 1),
        _ => flow_scalar(line, i),
    }
}

/// A scalar inside a flow collection: quoted, or plain up to `,`, a bracket or `: `.
fn flow_scalar(line: &str, i: usize) -> R<(Node<'_>, usize)> {
    let b = line.as_bytes();
    match b.get(i) {
        None => Err(Outside),
        Some(&q @ (b'"' | b'\'')) => {
            let (text, end) = quoted(line, i, q)?;
            Ok((Node::Scalar { text, plain: false }, end))
        }
        Some(&c) if is_indicator(c) && !(c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) => {
            Err(Outside)
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b',' | b'}' | b']' => break,
                    b':' if b.get(j + 1) == Some(&b' ') => break,
                    // `a:b`, a comment or a nested bracket inside a plain scalar: serde_yaml's.
                    b':' | b'#' | b'{' | b'[' => return Err(Outside),
                    _ => j += 1,
                }
            }
            let text = line[i..j].trim_end_matches(' ');
            if text.is_empty() {
                return Err(Outside);
            }
            Ok((plain(text), i + text.len()))
        }
    }
}

/// What a plain scalar is under serde_yaml's resolution, when that is obvious.
#[derive(Debug, PartialEq)]
enum Resolved {
    Null,
    Bool(bool),
    Int(u64),
    Text,
    /// Possibly a float, a signed, prefixed or leading-zero integer, `.inf`…: serde_yaml decides.
    Unsure,
}

fn resolve(s: &str) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        _ => {}
    }
    let b = s.as_bytes();
    if b[0].is_ascii_digit() {
        if b.iter().all(u8::is_ascii_digit) {
            if b.len() > 1 && b[0] == b'0' {
                return Resolved::Unsure;
            }
            return s.parse().map_or(Resolved::Unsure, Resolved::Int);
        }
        if looks_numeric(b) {
            return Resolved::Unsure;
        }
        return Resolved::Text;
    }
    if matches!(b[0], b'+' | b'-' | b'.') {
        return Resolved::Unsure;
    }
    // What `f64::from_str` reads in any case (compared without allocating: this runs for every
    // plain scalar).
    if ["inf", "infinity", "nan"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
    {
        return Resolved::Unsure;
    }
    Resolved::Text
}

/// Digits then: a radix prefix (`0x`, `0o`, `0b`), or the shape of a decimal float (`1.5`,
/// `2.`, `1e3`, `1.5E-3`). Anything else starting with a digit is text to every YAML reader.
fn looks_numeric(b: &[u8]) -> bool {
    if b.len() > 1 && b[0] == b'0' && matches!(b[1], b'x' | b'o' | b'b') {
        return true;
    }
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = digits(0);
    if b.get(i) == Some(&b'.') {
        i = digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let j = digits(i);
        if j == i {
            return false;
        }
        i = j;
    }
    i == b.len()
}

/// Any error: the caller falls back to serde_yaml, which words it.
#[derive(Debug)]
pub struct Fallback;

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outside the fast YAML subset")
    }
}

impl std::error::Error for Fallback {}

impl de::Error for Fallback {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Fallback
    }
}

type D<V> = Result<V, Fallback>;

impl<'de, 'a> Node<'a> {
    fn plain_scalar(&'de self) -> Option<&'de str> {
        match self {
            Node::Scalar { text, plain: true } => Some(text),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        self.plain_scalar().is_some_and(|s| resolve(s) == Resolved::Null)
    }

    fn is_empty_plain(&self) -> bool {
        self.plain_scalar() == Some("")
    }
}

struct Seq<'de, 'a>(std::slice::Iter<'de, Node<'a>>);

impl<'de, 'a> de::SeqAccess<'de> for Seq<'de, 'a> {
    type Error = Fallback;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> D<Option<T::Value>> {
        self.0.next().map(|n| seed.deserialize(n)).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map<'de, 'a> {
    entries: std::slice::Iter<'de, (Node<'a>, Node<'a>)>,
    value: Option<&'de Node<'a>>,
}

impl<'de, 'a> de::MapAccess<'de> for Map<'de, 'a> {
    type Error = Fallback;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> D<Option<K::Value>> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> D<V::Value> {
        seed.deserialize(self.value.take().ok_or(Fallback)?)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

fn empty_map<'de, 'a>() -> Map<'de, 'a> {
    Map {
        entries: [].iter(),
        value: None,
    }
}

/// A unit variant written as a plain or quoted scalar (`isolation: hyperv`).
struct Unit<'de>(&'de str);

impl<'de> de::EnumAccess<'de> for Unit<'de> {
    type Error = Fallback;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> D<(V::Value, Self)> {
        let d = de::value::BorrowedStrDeserializer::<Fallback>::new(self.0);
        Ok((seed.deserialize(d)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for Unit<'de> {
    type Error = Fallback;
    fn unit_variant(self) -> D<()> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> D<T::Value> {
        Err(Fallback)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> D<V::Value> {
        Err(Fallback)
    }
    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], _: V) -> D<V::Value> {
        Err(Fallback)
    }
}

/// Integers as serde_yaml reads them for an integer field: only the obvious ones here.
fn int<'de, V: Visitor<'de>>(n: &Node<'_>, v: V) -> D<V::Value> {
    match n.plain_scalar().map(resolve) {
        Some(Resolved::Int(i)) => v.visit_u64(i),
        _ => Err(Fallback),
    }
}

impl<'de, 'a> de::Deserializer<'de> for &'de Node<'a> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        match self {
            Node::Scalar { text, plain: false } => v.visit_borrowed_str(text),
            Node::Scalar { text, plain: true } => match resolve(text) {
                Resolved::Null => v.visit_unit(),
                Resolved::Bool(b) => v.visit_bool(b),
                Resolved::Int(i) => v.visit_u64(i),
                Resolved::Text => v.visit_borrowed_str(text),
                Resolved::Unsure => Err(Fallback),
            },
            Node::Seq(items, _) => v.visit_seq(Seq(items.iter())),
            Node::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        match self.plain_scalar().map(resolve) {
            Some(Resolved::Bool(b)) => v.visit_bool(b),
            _ => Err(Fallback),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        int(self, v)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        int(self, v)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        int(self, v)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        int(self, v)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        int(self, v)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        int(self, v)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        int(self, v)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        int(self, v)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> D<V::Value> {
        Err(Fallback)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, _: V) -> D<V::Value> {
        Err(Fallback)
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        self.deserialize_str(v)
    }

    /// Any scalar is text for a string field, as in serde_yaml (`name: 8` is "8").
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        match self {
            Node::Scalar { text, .. } => v.visit_borrowed_str(text),
            _ => Err(Fallback),
        }
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        self.deserialize_str(v)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> D<V::Value> {
        Err(Fallback)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> D<V::Value> {
        Err(Fallback)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        if self.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        if self.is_null() {
            v.visit_unit()
        } else {
            Err(Fallback)
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> D<V::Value> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> D<V::Value> {
        v.visit_newtype_struct(self)
    }

    /// A list, or a plain empty value as an empty list (serde_yaml's reading of `key:`).
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        match self {
            Node::Seq(items, _) => v.visit_seq(Seq(items.iter())),
            n if n.is_empty_plain() => v.visit_seq(Seq([].iter())),
            _ => Err(Fallback),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> D<V::Value> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, v: V) -> D<V::Value> {
        self.deserialize_seq(v)
    }

    /// A map, or a plain empty value as an empty map.
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        match self {
            Node::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
            n if n.is_empty_plain() => v.visit_map(empty_map()),
            _ => Err(Fallback),
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> D<V::Value> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> D<V::Value> {
        match self {
            Node::Scalar { text, .. } if !text.is_empty() => v.visit_enum(Unit(text)),
            _ => Err(Fallback),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> D<V::Value> {
        v.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Value;

    /// Where the fast reader answers, it answers what serde_yaml does.
    fn same(text: &str) -> bool {
        let fast: Option<Value> = from_str(text);
        match fast {
            Some(v) => {
                assert_eq!(
                    Some(&v),
                    serde_yaml::from_str::<Value>(text).ok().as_ref(),
                    "{text:?}"
                );
                true
            }
            None => false,
        }
    }

    #[test]
    fn the_subset_reads_as_serde_yaml_does() {
        for t in [
            "a: 1\nb: x\n",
            "a:\n  - 1\n  - {b: 2, c: [x, \"y\", 'z''s']}\nd: ~\ne:\n",
            "a:\n- x: 1\n  y: 2\n- - 3\n  - 4\n-\n  z: 5\n",
            "k: 10.0.0.1/24   # comment\n# only a comment\n\nl: 00-15-5D-AA-00-01\n",
            "\"quoted key\": 'v'\nn: True\nm: [true, FALSE, null, Null, '']\n",
            "x: {a: {b: {c: []}}, d: {}}\n",
            "name: 8\nempty: []\n",
            "s: a, b and c\n",
        ] {
            assert!(same(t), "{t:?} is in the subset");
        }
    }

    #[test]
    fn anything_unsure_is_left_to_serde_yaml() {
        for t in [
            "a: 1e3\n",
            "a: 0x10\n",
            "a: -1\n",
            "a: .5\n",
            "a: 007\n",
            "a: .inf\n",
            "a: nan\n",
            "a: &x 1\nb: *x\n",
            "a: !tag 1\n",
            "a: |\n  text\n",
            "a: \"esc\\n\"\n",
            "a: multi\n  line\n",
            "a: {b: 1,\n  c: 2}\n",
            "a: {b:1}\n",
            "a: [1, 2,]\n",
            "---\na: 1\n",
            "a:\tb\n",
            "a: b: c\n",
            "a: 1\na: 2\n",
            "a: [x:y]\n",
            "a: b #\n  c\n",
            "a: 1\n b: 2\n",
            "- a\nb: 1\n",
            "a: 99999999999999999999999\n",
        ] {
            assert!(!same(t), "{t:?} is left to serde_yaml");
        }
        // DEL in otherwise plain ASCII text: libyaml refuses it as a control character (found by
        // the scenario_yaml fuzzer's cross-check).
        assert!(!same("a: b\u{7f}c\n"), "DEL is left to serde_yaml");
        // Keys longer than libyaml's 1,024-byte look-ahead (found by the scenario_yaml fuzzer:
        // serde_yaml refuses the flow mapping, the reader had accepted it).
        for key in ["a".repeat(1025), "\u{6365}".repeat(342)] {
            for t in [
                format!("x: {{{key}: 1}}\n"),
                format!("{key}: 1\n"),
                format!("\"{key}\": 1\n"),
            ] {
                assert!(
                    serde_yaml::from_str::<Value>(&t).is_err(),
                    "libyaml refuses {t:?}"
                );
                assert!(!same(&t), "{t:?} is left to serde_yaml");
            }
        }
    }

    #[test]
    fn has_control_is_the_bytewise_check() {
        let bytewise = |s: &str| s.bytes().any(|b| b < b' ' || b == 0x7f);
        let mut cases = vec![String::new(), "plain text, long enough for two words".into()];
        for c in (0u8..=0x7f).chain([0xc3]) {
            let odd = if c < 0x80 {
                (c as char).to_string()
            } else {
                "é".into()
            };
            for at in 0..18 {
                let mut s = "abcdefghijklmnopq".to_string();
                s.insert_str(at.min(s.len()), &odd);
                cases.push(s);
            }
        }
        for s in &cases {
            assert_eq!(has_control(s), bytewise(s), "{s:?}");
        }
    }

    #[test]
    fn looks_numeric_is_the_float_shape() {
        for (s, n) in [
            ("1.5", true),
            ("2.", true),
            ("1e3", true),
            ("1.5E-3", true),
            ("0x1F", true),
            ("10.0.0.1", false),
            ("1e", false),
            ("4096abc", false),
            ("12:30", false),
            ("1_000", false),
        ] {
            assert_eq!(looks_numeric(s.as_bytes()), n, "{s}");
        }
    }
}
