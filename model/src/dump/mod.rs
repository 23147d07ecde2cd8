//! Reading what people collect from a Windows node (docs/reference/node-dumps.md).
//!
//! A node dump is a folder written by microsoft/SDN's `collectlogs.ps1`, or any mix of files:
//! `Get-HnsNetwork/-Endpoint/-LoadBalancer/-Namespace | ConvertTo-Json` (v1 or v2; one object,
//! an array, or several documents appended to one file), v1 `{"Output":…,"Success":…}` replies,
//! the v1 policy-list JSON, and kube-proxy log lines "Created Hns loadbalancer policy resource".
//! Files are UTF-16LE with a BOM, UTF-8 with or without one ([`text`]), and often start with a
//! PowerShell table before the JSON.
//!
//! The reader never fails on content: everything it cannot use becomes a [`Note`] with the file,
//! the line and what to do about it. [`read_dump`] (one file's bytes) is the function a fuzz
//! target calls; [`read_files`] merges several files into one [`NodeDump`].

mod gofmt;
pub mod text;

use crate::document::{decode_any_owned, HnsDocument};
use crate::v1;
use serde_json::{Deserializer, Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// How much a note matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Expected and harmless (a text file that holds no HNS JSON by design).
    Info,
    /// Something was lost or could not be read; the import goes on without it.
    Warning,
}

/// What the reader could not use, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub level: Level,
    pub file: String,
    /// 1-based line, when the note is about one place in the file.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lvl = match self.level {
            Level::Info => "info",
            Level::Warning => "warning",
        };
        match self.line {
            Some(l) => write!(f, "{lvl}: {}:{l}: {}", self.file, self.message),
            None => write!(f, "{lvl}: {}: {}", self.file, self.message),
        }
    }
}

/// Where a document was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    pub line: usize,
}

/// One HNS object from a dump.
#[derive(Clone, Debug, PartialEq)]
pub struct DumpDoc {
    pub doc: HnsDocument,
    pub source: Source,
    /// Fields whose value `ConvertTo-Json -Depth` cut to `System.Object[]` / `@{…}` (JSON paths
    /// inside the object); they were dropped before decoding.
    pub truncated: Vec<String>,
}

/// What one file or a set of files holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeDump {
    pub docs: Vec<DumpDoc>,
    pub notes: Vec<Note>,
    /// JSON values that are not HNS objects but that checks can use (hnsportpoolallocs.txt).
    pub port_pools: Vec<Value>,
}

impl NodeDump {
    pub fn warnings(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(|n| n.level == Level::Warning)
    }
}

/// The kube-proxy log message that carries a v2 load balancer (docs/reference/node-dumps.md §4).
const KUBE_PROXY_LB: &str = "Created Hns loadbalancer policy resource";
const TRUNCATED_ARRAY: &str = "System.Object[]";

/// collectlogs.ps1 files that are text by design (vfpctrl, ipconfig, route, netsh …): read for
/// nothing, noted as info (docs/reference/node-dumps.md §2).
const TEXT_FILES: &[&str] = &[
    "ports.txt",
    "vfpoutput.txt",
    "vswitchforwarding.txt",
    "ip.txt",
    "routes.txt",
    "mtu.txt",
    "arp.txt",
    "hnsdiag.txt",
    "hcsdiag.txt",
    "containers.txt",
    "nvspinfo.txt",
    "nmscrub.txt",
    "nmbind.txt",
    "netadapter.txt",
    "firewall.txt",
    "reservedports.txt",
    "excludedportrange.txt",
    "dynamicportrange.txt",
    "tcpconnections.txt",
    "winver.txt",
];

/// Whether collectlogs.ps1 writes `name` as text only (no HNS JSON to look for).
pub fn is_text_only(name: &str) -> bool {
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    TEXT_FILES.contains(&base.as_str()) || base.ends_with(".evtx") || base.ends_with(".etl")
}

/// Read one file's bytes: every HNS object in it, and notes for everything else. Never fails
/// and never panics; memory and time are linear in `bytes`.
pub fn read_dump(name: &str, bytes: &[u8]) -> NodeDump {
    let mut out = NodeDump::default();
    let note = |out: &mut NodeDump, level, line, message: String| {
        out.notes.push(Note {
            level,
            file: name.to_string(),
            line,
            message,
        })
    };
    if bytes.is_empty() {
        note(&mut out, Level::Warning, None, "empty file".into());
        return out;
    }
    let (text, enc, bad) = match text::decode_text(bytes) {
        Ok(t) => t,
        Err(e) => {
            note(&mut out, Level::Warning, None, format!("{e}; skipped"));
            return out;
        }
    };
    if bad > 0 {
        note(
            &mut out,
            Level::Warning,
            None,
            format!("{bad} invalid {} code unit(s) replaced by U+FFFD", enc.name()),
        );
    }
    let pools = name.to_ascii_lowercase().contains("portpool");
    let mut scan = Scanner {
        text: &text,
        file: name,
        out: &mut out,
        found_json: false,
        table_lines: 0,
        table_rows: 0,
        format_list: false,
    };
    scan.run(pools);
    let (found, table, rows, flist) = (
        scan.found_json,
        scan.table_lines,
        scan.table_rows,
        scan.format_list,
    );
    if !found {
        let msg = if text.trim().is_empty() {
            "holds only white space".to_string()
        } else if flist {
            "PowerShell Format-List output only: nested values are cut to System.Object[]; \
             re-collect with `| ConvertTo-Json -Depth 20`"
                .to_string()
        } else if table > 0 && rows == 0 {
            note(
                &mut out,
                Level::Info,
                None,
                "an empty PowerShell table (no objects of this kind)".into(),
            );
            return out;
        } else if table > 0 {
            "a PowerShell table only, no JSON: re-collect with `| ConvertTo-Json -Depth 20`".to_string()
        } else {
            "no HNS JSON found".to_string()
        };
        note(&mut out, Level::Warning, None, msg);
    }
    out
}

struct Scanner<'a, 'o> {
    text: &'a str,
    file: &'a str,
    out: &'o mut NodeDump,
    found_json: bool,
    /// Lines of `---- ----` (a Format-Table header rule).
    table_lines: usize,
    /// Non-blank lines after a header rule (the table's rows).
    table_rows: usize,
    format_list: bool,
}

impl Scanner<'_, '_> {
    fn note(&mut self, level: Level, line: usize, message: String) {
        self.out.notes.push(Note {
            level,
            file: self.file.to_string(),
            line: Some(line),
            message,
        });
    }

    /// Walk the lines; at a line that starts with `{` or `[`, read every JSON value that
    /// follows (concatenated documents), then go on after the last one.
    fn run(&mut self, pools: bool) {
        let text = self.text;
        let mut pos = 0;
        let mut line = 1;
        while pos < text.len() {
            let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
            let l = &text[pos..end];
            let t = l.trim_start();
            if t.starts_with('{') || t.starts_with('[') {
                let start = pos + (l.len() - t.len());
                let (consumed, lines) = self.values_at(start, line, pools);
                if consumed > 0 {
                    pos = start + consumed;
                    line += lines;
                    // Continue at the start of the next line.
                    if let Some(i) = text[pos..].find('\n') {
                        pos += i + 1;
                        line += 1;
                    } else {
                        pos = text.len();
                    }
                    continue;
                }
            } else if let Some(i) = find_ci(l, KUBE_PROXY_LB) {
                self.log_line(&l[i + KUBE_PROXY_LB.len()..], line);
            } else if is_rule(t) {
                self.table_lines += 1;
            } else if self.table_lines > 0 && !t.trim().is_empty() {
                self.table_rows += 1;
            } else if t.contains(TRUNCATED_ARRAY) || t.contains(": @{") {
                self.format_list = true;
            }
            pos = end;
            line += 1;
        }
    }

    /// Read JSON values from `start`; returns the bytes and newlines consumed (0 when not even
    /// one value parsed: the error is noted and the line treated as text).
    fn values_at(&mut self, start: usize, line: usize, pools: bool) -> (usize, usize) {
        let text = &self.text[start..];
        let mut it = Deserializer::from_str(text).into_iter::<Value>();
        let mut consumed = 0;
        // Lines are counted incrementally so that many small documents stay linear.
        let (mut counted, mut at) = (0, line);
        loop {
            match it.next() {
                None => break,
                Some(Ok(v)) => {
                    let begin = consumed + leading_ws(&text[consumed..]);
                    at += count_lines(&text[counted..begin]);
                    counted = begin;
                    consumed = it.byte_offset();
                    self.found_json = true;
                    if pools {
                        self.out.port_pools.push(v);
                    } else {
                        self.value(v, at);
                    }
                }
                Some(Err(e)) => {
                    // Text after the JSON (a table, a prompt) ends the run quietly; a value that
                    // starts and breaks is worth a warning.
                    let rest = text[consumed..].trim_start();
                    if consumed == 0 || rest.starts_with('{') || rest.starts_with('[') {
                        let eline = line + e.line().saturating_sub(1);
                        self.note(
                            Level::Warning,
                            eline,
                            format!(
                                "JSON that does not parse (column {}): {}",
                                e.column(),
                                strip_position(&e.to_string())
                            ),
                        );
                    }
                    break;
                }
            }
        }
        (consumed, count_lines(&text[..consumed]))
    }

    /// The JSON after kube-proxy's message: `{…}` as is, a quoted JSON string (klog's
    /// structured form), or Go's `%+v` form (`&{Id:… }`, read by [`gofmt`]).
    fn log_line(&mut self, rest: &str, line: usize) {
        let candidates = [rest.find('{'), rest.find('"')];
        for start in candidates.into_iter().flatten() {
            let mut it = Deserializer::from_str(&rest[start..]).into_iter::<Value>();
            match it.next() {
                Some(Ok(Value::String(inner))) => {
                    if let Ok(v) = serde_json::from_str::<Value>(&inner) {
                        self.found_json = true;
                        self.value(v, line);
                        return;
                    }
                }
                Some(Ok(v @ Value::Object(_))) => {
                    self.found_json = true;
                    self.value(v, line);
                    return;
                }
                _ => {}
            }
        }
        // Older kube-proxy prints Go's `%+v` (Azure/AKS#2899).
        if let Some(v) = rest.find("&{").and_then(|i| gofmt::parse(&rest[i..])) {
            self.found_json = true;
            self.value(v, line);
            return;
        }
        let how = if rest.contains("&{") {
            "a Go %+v form this reader cannot follow; dump policy.txt instead"
        } else {
            "no JSON after the message"
        };
        self.note(
            Level::Warning,
            line,
            format!("kube-proxy load balancer log line: {how}"),
        );
    }

    /// One top-level JSON value: unwrap a v1 reply, split arrays, decode each object.
    fn value(&mut self, v: Value, line: usize) {
        let mut items = Vec::new();
        flatten(v, "$".to_string(), &mut items, &mut |msg| {
            self.out.notes.push(Note {
                level: Level::Warning,
                file: self.file.to_string(),
                line: Some(line),
                message: msg,
            })
        });
        for (path, mut item) in items {
            let mut cut = Vec::new();
            if has_truncated(&item) {
                strip_truncated(&mut item, String::new(), &mut cut);
            }
            // For messages; taken before the decode consumes the object.
            let label = object_label(&item);
            match decode_any_owned(item) {
                Ok(docs) => {
                    if !cut.is_empty() {
                        let kind = docs.first().map_or("object", |d| d.kind_name());
                        self.note(
                            Level::Warning,
                            line,
                            format!(
                                "{kind} {label} at {path}: ConvertTo-Json -Depth cut {} to \
                                 System.Object[]; that data is lost (re-collect with -Depth 20)",
                                cut.join(", ")
                            ),
                        );
                    }
                    for doc in docs {
                        self.out.docs.push(DumpDoc {
                            doc,
                            source: Source {
                                file: self.file.to_string(),
                                line,
                            },
                            truncated: cut.clone(),
                        });
                    }
                }
                Err(e) => self.note(
                    Level::Warning,
                    line,
                    format!("{label} at {path} is not an HNS object: {e}"),
                ),
            }
        }
    }
}

/// Split a top-level value into objects: a v1 reply's `Output`, each array item.
fn flatten(v: Value, path: String, out: &mut Vec<(String, Value)>, warn: &mut dyn FnMut(String)) {
    match v {
        Value::Array(a) => {
            for (i, x) in a.into_iter().enumerate() {
                flatten(x, format!("{path}[{i}]"), out, warn);
            }
        }
        Value::Object(ref m) if is_reply(m) => match v1::unwrap_reply(&v, &path) {
            Ok(Some(o)) => flatten(o, format!("{path}.Output"), out, warn),
            Ok(None) => {}
            Err(e) => warn(format!("a v1 reply that failed: {e}")),
        },
        Value::Object(_) => out.push((path, v)),
        other => warn(format!(
            "{path}: expected an HNS object, found {}",
            crate::schema::read::describe(&other)
        )),
    }
}

fn is_reply(m: &Map<String, Value>) -> bool {
    m.keys().any(|k| k.eq_ignore_ascii_case("Success"))
        && m.keys()
            .any(|k| k.eq_ignore_ascii_case("Output") || k.eq_ignore_ascii_case("Error"))
}

/// A value `ConvertTo-Json` wrote past its `-Depth`: an array as `System.Object[]`, a hashtable
/// or object as `@{Key=…; …}` (docs/reference/node-dumps.md §3).
fn is_truncated(s: &str) -> bool {
    s == TRUNCATED_ARRAY || (s.starts_with("@{") && s.ends_with('}'))
}

/// Whether any string inside `v` is a truncated value (a cheap scan before the path-building
/// strip, which only the rare truncated object pays for).
fn has_truncated(v: &Value) -> bool {
    match v {
        Value::String(s) => is_truncated(s),
        Value::Array(a) => a.iter().any(has_truncated),
        Value::Object(m) => m.values().any(has_truncated),
        _ => false,
    }
}

/// Remove truncated values (members and array items), recording their paths.
fn strip_truncated(v: &mut Value, path: String, cut: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let gone: Vec<String> = m
                .iter()
                .filter(|(_, x)| x.as_str().is_some_and(is_truncated))
                .map(|(k, _)| k.clone())
                .collect();
            for k in gone {
                m.remove(&k);
                cut.push(join(&path, &k));
            }
            for (k, x) in m.iter_mut() {
                strip_truncated(x, join(&path, k), cut);
            }
        }
        Value::Array(a) => {
            let mut i = 0;
            a.retain(|x| {
                let t = x.as_str().is_some_and(is_truncated);
                if t {
                    cut.push(format!("{path}[{i}]"));
                }
                i += 1;
                !t
            });
            for (i, x) in a.iter_mut().enumerate() {
                strip_truncated(x, format!("{path}[{i}]"), cut);
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `ID (Name)` of an object before decoding, for messages.
fn object_label(v: &Value) -> String {
    let get = |k: &str| {
        v.as_object()?
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .and_then(|(_, x)| x.as_str())
            .map(str::to_string)
    };
    match (get("ID").or_else(|| get("Id")), get("Name")) {
        (Some(id), Some(n)) => format!("{id} ({n})"),
        (Some(id), None) => id,
        (None, Some(n)) => format!("named {n:?}"),
        (None, None) => "an object without ID".into(),
    }
}

fn count_lines(s: &str) -> usize {
    s.bytes().filter(|&b| b == b'\n').count()
}

fn leading_ws(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// A Format-Table header rule: `----  -------  --`.
fn is_rule(t: &str) -> bool {
    let t = t.trim_end();
    t.starts_with("--") && t.chars().all(|c| c == '-' || c == ' ')
}

/// serde_json's message without its own " at line X column Y" (the note has the file's line).
fn strip_position(m: &str) -> &str {
    m.find(" at line ").map_or(m, |i| &m[..i])
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    let n = needle.as_bytes();
    hay.as_bytes()
        .windows(n.len())
        .position(|w| w.eq_ignore_ascii_case(n))
}

/// One input file (a name for messages and its bytes).
pub struct InputFile<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Read several files as one node. The same object (kind and ID) seen in more than one place
/// (network.txt and networkdetailed.txt; v1 and v2 endpoint dumps) is kept once: a copy without
/// truncated fields beats one with, then the copy with the most content wins, and a remote flag seen in any copy is kept (v1 says
/// `IsRemoteEndpoint`, v2 says `Flags: 1`).
pub fn read_files(files: &[InputFile<'_>]) -> NodeDump {
    let mut all = NodeDump::default();
    for f in files {
        if is_text_only(f.name) {
            all.notes.push(Note {
                level: Level::Info,
                file: f.name.to_string(),
                line: None,
                message: "text output (vfpctrl, ipconfig, route, netsh …); not read".into(),
            });
            continue;
        }
        let d = read_dump(f.name, f.bytes);
        all.docs.extend(d.docs);
        all.notes.extend(d.notes);
        all.port_pools.extend(d.port_pools);
    }
    all.docs = dedup(std::mem::take(&mut all.docs));
    all
}

fn key(d: &HnsDocument) -> (u8, crate::Guid) {
    match d {
        HnsDocument::Network(n) => (0, n.id),
        HnsDocument::Endpoint(e) => (1, e.id),
        HnsDocument::Namespace(n) => (2, n.id),
        HnsDocument::LoadBalancer(l) => (3, l.id),
        HnsDocument::Route(r) => (4, r.id),
    }
}

fn weight(d: &HnsDocument) -> usize {
    crate::document::encode_document(d).to_string().len()
}

fn dedup(docs: Vec<DumpDoc>) -> Vec<DumpDoc> {
    let mut out: Vec<DumpDoc> = Vec::with_capacity(docs.len());
    let mut at: BTreeMap<(u8, crate::Guid), usize> = BTreeMap::new();
    for d in docs {
        let k = key(&d.doc);
        // Objects without an ID cannot be matched: keep them all.
        if k.1.is_zero() {
            out.push(d);
            continue;
        }
        match at.get(&k) {
            None => {
                at.insert(k, out.len());
                out.push(d);
            }
            Some(&i) => {
                let remote = matches!((&out[i].doc, &d.doc),
                    (HnsDocument::Endpoint(a), HnsDocument::Endpoint(b)) if a.is_remote() || b.is_remote());
                // A complete copy beats a truncated one, then the fuller one wins.
                let better = (d.truncated.is_empty(), weight(&d.doc))
                    > (out[i].truncated.is_empty(), weight(&out[i].doc));
                if better {
                    out[i] = d;
                }
                if remote {
                    if let HnsDocument::Endpoint(e) = &mut out[i].doc {
                        e.flags |= crate::schema::endpoint_flags::REMOTE_ENDPOINT;
                    }
                }
            }
        }
    }
    out
}
