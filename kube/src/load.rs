//! Reading Kubernetes YAML: single objects, `kind: List` (what `kubectl get … -o yaml` prints),
//! the `kind: Cluster` configuration document, and located findings.
//!
//! A finding carries the document index and the key path inside it; the caller (which owns the
//! text) turns that into `file:line:col`. Unknown kinds are reported as warnings and skipped.

use crate::config::ClusterConfig;
use crate::objects::{EndpointSlice, Endpoints, Node, Pod, Service};
use serde::de::DeserializeOwned;
use serde_yaml::Value;
use std::fmt;

/// One step of a key path (`items[2].spec.nodeName`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Where in the input something is: document `doc` (0-based, in the caller's numbering) and a
/// key path inside it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub doc: usize,
    pub path: Vec<Seg>,
}

impl Loc {
    pub fn new(doc: usize) -> Self {
        Loc {
            doc,
            path: Vec::new(),
        }
    }
    pub fn key(&self, k: &str) -> Loc {
        let mut l = self.clone();
        l.path.push(Seg::Key(k.into()));
        l
    }
    pub fn index(&self, i: usize) -> Loc {
        let mut l = self.clone();
        l.path.push(Seg::Index(i));
        l
    }
    /// `a.b[2].c`.
    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem with the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub at: Loc,
    /// A line and column inside document `at.doc` (YAML syntax errors), when known.
    pub pos: Option<(usize, usize)>,
    pub message: String,
}

impl Finding {
    pub fn error(at: Loc, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Error,
            at,
            pos: None,
            message: message.into(),
        }
    }
    pub fn warning(at: Loc, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Warning,
            at,
            pos: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}: {}", self.at.path_string(), self.message)
    }
}

/// A Kubernetes object hnsim understands, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Node(Node),
    Pod(Pod),
    Service(Service),
    EndpointSlice(EndpointSlice),
    Endpoints(Endpoints),
}

impl Object {
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Node(_) => "Node",
            Object::Pod(_) => "Pod",
            Object::Service(_) => "Service",
            Object::EndpointSlice(_) => "EndpointSlice",
            Object::Endpoints(_) => "Endpoints",
        }
    }
    /// `kind/namespace/name` (`kind/name` for Nodes).
    pub fn key(&self) -> String {
        let m = match self {
            Object::Node(n) => return format!("Node/{}", n.metadata.name),
            Object::Pod(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::EndpointSlice(o) => &o.metadata,
            Object::Endpoints(o) => &o.metadata,
        };
        format!("{}/{}/{}", self.kind(), m.ns(), m.name)
    }
}

/// An object and its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub at: Loc,
    pub value: T,
}

/// What one set of documents held.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Located<Object>>,
    /// The `kind: Cluster` document, if any.
    pub config: Option<Located<ClusterConfig>>,
    pub findings: Vec<Finding>,
}

/// The kinds read, with their API groups (for the "did you mean" of a misspelt kind).
pub const KINDS: &[&str] = &[
    "Node",
    "Pod",
    "Service",
    "EndpointSlice",
    "Endpoints",
    "List",
    "Cluster",
];

/// Kinds a `kubectl get -A -o yaml` dump commonly holds that hnsim has no use for; skipped with
/// a note rather than a warning.
const IGNORED_KINDS: &[&str] = &[
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Event",
    "Namespace",
];

/// Read one YAML value (a document, or an inline object of a scenario) at `at`.
pub fn read_value(v: &Value, at: Loc, out: &mut Loaded) {
    let Some(map) = v.as_mapping() else {
        if !v.is_null() {
            out.findings.push(Finding::error(
                at,
                "expected a Kubernetes object (a map with apiVersion, kind, metadata)",
            ));
        }
        return;
    };
    let kind = map.get("kind").and_then(Value::as_str);
    let Some(kind) = kind else {
        out.findings
            .push(Finding::error(at, "this object has no `kind:`"));
        return;
    };
    match kind {
        "List" | "NodeList" | "PodList" | "ServiceList" | "EndpointSliceList" | "EndpointsList" => {
            let items_at = at.key("items");
            match map.get("items") {
                Some(Value::Sequence(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        read_value(item, items_at.index(i), out);
                    }
                }
                Some(Value::Null) | None => {}
                Some(_) => out
                    .findings
                    .push(Finding::error(items_at, "`items` must be a list of objects")),
            }
        }
        "Cluster" => {
            let spec = map.get("spec").cloned().unwrap_or(Value::Null);
            match typed::<ClusterConfig>(spec, &at.key("spec")) {
                Ok(c) => {
                    if out.config.is_some() {
                        out.findings.push(Finding::error(
                            at,
                            "a second `kind: Cluster` document: write the configuration once",
                        ));
                    } else {
                        out.config = Some(Located { at, value: c });
                    }
                }
                Err(f) => out.findings.push(f),
            }
        }
        "Node" => push(v, at, out, Object::Node),
        "Pod" => push(v, at, out, Object::Pod),
        "Service" => push(v, at, out, Object::Service),
        "EndpointSlice" => push(v, at, out, Object::EndpointSlice),
        "Endpoints" => push(v, at, out, Object::Endpoints),
        other if IGNORED_KINDS.contains(&other) => {}
        other => {
            let hint = suggest(other, KINDS)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            out.findings.push(Finding::warning(
                at.key("kind"),
                format!("kind `{other}` is not modelled; object skipped{hint}"),
            ));
        }
    }
}

fn push<T: DeserializeOwned>(v: &Value, at: Loc, out: &mut Loaded, wrap: fn(T) -> Object) {
    match typed::<T>(v.clone(), &at) {
        Ok(t) => {
            let obj = wrap(t);
            if name_of(&obj).is_empty() {
                out.findings.push(Finding::error(
                    at.key("metadata"),
                    format!("this {} has no `metadata.name`", obj.kind()),
                ));
                return;
            }
            out.objects.push(Located { at, value: obj });
        }
        Err(f) => out.findings.push(f),
    }
}

fn name_of(o: &Object) -> &str {
    match o {
        Object::Node(x) => &x.metadata.name,
        Object::Pod(x) => &x.metadata.name,
        Object::Service(x) => &x.metadata.name,
        Object::EndpointSlice(x) => &x.metadata.name,
        Object::Endpoints(x) => &x.metadata.name,
    }
}

/// Deserialize `v`; a type error becomes a finding at the path serde names (serde_yaml reports
/// paths like `spec.ports[0].port: invalid type …`).
pub fn typed<T: DeserializeOwned>(v: Value, at: &Loc) -> Result<T, Finding> {
    // From text rather than from the value: only then does serde_yaml name the failing path.
    let text = serde_yaml::to_string(&v).unwrap_or_default();
    serde_yaml::from_str::<T>(&text).map_err(|e| {
        let mut msg = e.to_string();
        // The position is in the re-serialised text, not the user's: drop it.
        if let Some(i) = msg.find(" at line ") {
            msg.truncate(i);
        }
        let (path, rest) = match msg.split_once(": ") {
            Some((p, r)) if !p.contains(' ') => (Some(p.to_string()), r.to_string()),
            _ => (None, msg.clone()),
        };
        let mut loc = at.clone();
        if let Some(p) = path {
            for part in p.split('.') {
                let (key, idx) = match part.split_once('[') {
                    Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
                    None => (part, None),
                };
                if !key.is_empty() {
                    loc = loc.key(key);
                }
                if let Some(i) = idx {
                    loc = loc.index(i);
                }
            }
        }
        Finding::error(loc, rest)
    })
}

/// The candidate closest to `found` by edit distance, if it is close enough to be a typo.
pub fn suggest<'a>(found: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let f = found.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&f, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Read multi-document YAML text, numbering its documents from `first_doc`. Returns each
/// document's first line in the text (1-based), so that callers can turn a finding's key path
/// into a line and column. A YAML syntax error is a finding with its position.
pub fn read_text(text: &str, first_doc: usize, out: &mut Loaded) -> Vec<(usize, String)> {
    let docs = split_documents(text);
    for (i, (_, d)) in docs.iter().enumerate() {
        match serde_yaml::from_str::<Value>(d) {
            Ok(v) => read_value(&v, Loc::new(first_doc + i), out),
            Err(e) => {
                let mut f = Finding::error(Loc::new(first_doc + i), {
                    let mut m = e.to_string();
                    if let Some(j) = m.find(" at line ") {
                        m.truncate(j);
                    }
                    m
                });
                f.pos = e.location().map(|l| (l.line(), l.column()));
                out.findings.push(f);
            }
        }
    }
    docs
}

/// Split YAML text into documents at `---` lines: (first line number, text) pairs, so that each
/// can be parsed and located on its own.
pub fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            if !cur.trim().is_empty() {
                docs.push((start, std::mem::take(&mut cur)));
            }
            cur.clear();
            start = i + 2;
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    if !cur.trim().is_empty() {
        docs.push((start, cur));
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Loaded {
        let mut out = Loaded::default();
        for (i, (_, d)) in split_documents(text).iter().enumerate() {
            let v: Value = serde_yaml::from_str(d).unwrap();
            read_value(&v, Loc::new(i), &mut out);
        }
        out
    }

    #[test]
    fn kubectl_list_is_read_item_by_item() {
        let l = load(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: n1}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: web}\n",
        );
        let keys: Vec<String> = l.objects.iter().map(|o| o.value.key()).collect();
        assert_eq!(keys, ["Node/n1", "Pod/web/p"]);
        assert_eq!(l.objects[1].at.path_string(), "items[1]");
        assert!(l.findings.is_empty());
    }

    #[test]
    fn unknown_kinds_are_warned_and_skipped_with_a_hint() {
        let l = load("kind: Servce\nmetadata: {name: a}\n---\nkind: ConfigMap\nmetadata: {name: c}\n");
        assert!(l.objects.is_empty());
        assert_eq!(l.findings.len(), 1);
        assert_eq!(l.findings[0].severity, Severity::Warning);
        assert!(
            l.findings[0].message.contains("did you mean `Service`"),
            "{}",
            l.findings[0]
        );
    }

    #[test]
    fn a_type_error_points_at_its_field() {
        let l = load("kind: Service\nmetadata: {name: a}\nspec:\n  ports:\n  - port: eighty\n");
        assert_eq!(l.findings.len(), 1, "{:?}", l.findings);
        assert_eq!(l.findings[0].at.path_string(), "spec.ports[0].port");
    }

    #[test]
    fn documents_keep_their_first_line() {
        let d = split_documents("a: 1\n---\nb: 2\n\n---\nc: 3\n");
        let starts: Vec<usize> = d.iter().map(|(s, _)| *s).collect();
        assert_eq!(starts, [1, 3, 6]);
    }
}
