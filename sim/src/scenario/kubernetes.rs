//! The `kubernetes:` section of a scenario and the Kubernetes steps (`apply`, `delete`,
//! `kube-proxy-sync`, `restart`), documented in docs/scenario-format.md "Kubernetes".
//!
//! The section holds the cluster configuration and the initial objects (inline or from files,
//! including `kubectl get … -o yaml` lists). Each Kubernetes node runs on the scenario host of
//! the same name (or the one its `host:` names); hnsim-k8s plays flannel, the CNI and kube-proxy
//! on it through the host's HNS. Every pod the CNI adds becomes a container named
//! `pod/NAMESPACE/NAME`; `svc/NAMESPACE/NAME` and `node/NAME` are addresses traffic steps can
//! send to (`svc/default/web:80`, `node/win1:30080`).
//!
//! A child module of the runner (it reaches the runner's names and world directly).

use super::super::format::{Scenario, Step};
use super::super::locate::{Index, Pos, Seg};
use super::super::parse::{Loaded, ScenarioError};
use super::super::validate::NameKind;
use super::{Doc, Named, Runner, StepReport};
use crate::trace::L4;
use crate::world::{Place, World};
use hnsim_k8s::agents::{Agents, Backends};
use hnsim_k8s::cluster::Cluster;
use hnsim_k8s::config::ClusterConfig;
use hnsim_k8s::load::{self, read_text, typed, Finding, Loc, Located, Object, Severity};
use hnsim_model::state::hcs::Isolation;
use hnsim_model::{Guid, HnsBackend};
use serde::Deserialize;
use serde_json::json;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The section's keys.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Section {
    cluster: ClusterConfig,
    #[serde(default)]
    objects: Vec<Value>,
    /// YAML files (relative to the scenario) with more objects, e.g. a `kubectl get -o yaml` dump.
    #[serde(default)]
    files: Vec<String>,
    /// Run kube-proxy's sync after every `apply` / `delete` (default true).
    #[serde(default = "yes")]
    sync_after_apply: bool,
    /// CNI `loopbackDSR` (hairpin with DSR).
    #[serde(default)]
    loopback_dsr: bool,
    /// Component errors the initial programming must hit (substrings), e.g. kube-proxy's
    /// "source-vip flag not set"; any other error fails the scenario's set-up.
    #[serde(default)]
    expect_errors: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Where each document of the Kubernetes input came from, to turn a finding into
/// `file:line:col`.
#[derive(Default)]
struct Sources {
    docs: Vec<Source>,
}

struct Source {
    file: String,
    /// The index of the text the document lives in, the line offset of the document inside
    /// it, and the key path of the document inside that text.
    index: Option<Index>,
    line_offset: usize,
    prefix: Vec<Seg>,
}

impl Sources {
    fn add(&mut self, file: &str, index: Option<Index>, line_offset: usize, prefix: Vec<Seg>) -> usize {
        self.docs.push(Source {
            file: file.to_string(),
            index,
            line_offset,
            prefix,
        });
        self.docs.len() - 1
    }

    fn error(&self, f: &Finding) -> ScenarioError {
        let sev = if f.severity == Severity::Warning {
            "warning: "
        } else {
            ""
        };
        let Some(src) = self.docs.get(f.at.doc) else {
            return ScenarioError {
                file: String::new(),
                pos: None,
                message: format!("{sev}{}", f.message),
            };
        };
        let pos = match (f.pos, &src.index) {
            (Some((l, c)), _) => Some(Pos {
                line: l + src.line_offset,
                col: c,
            }),
            (None, Some(ix)) => {
                let mut path = src.prefix.clone();
                path.extend(f.at.path.iter().map(|s| match s {
                    load::Seg::Key(k) => Seg::Key(k.clone()),
                    load::Seg::Index(i) => Seg::Index(*i),
                }));
                let p = ix.nearest(&path);
                Some(Pos {
                    line: p.line + src.line_offset,
                    col: p.col,
                })
            }
            (None, None) => None,
        };
        ScenarioError {
            file: src.file.clone(),
            pos,
            message: format!("{sev}{}", f.message),
        }
    }
}

fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

/// Read the objects of one step or section value: a list of objects, one object, or
/// `{file: PATH}`.
fn read_objects(
    v: &Value,
    file: &str,
    index: &Index,
    prefix: Vec<Seg>,
    base: &Path,
    sources: &mut Sources,
    out: &mut load::Loaded,
) {
    if let Some(f) = v.get("file").and_then(Value::as_str) {
        read_file(&base.join(f), sources, out, (file, index, prefix));
        return;
    }
    let doc = sources.add(file, Some(index.clone()), 0, prefix);
    match v {
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                load::read_value(item, Loc::new(doc).index(i), out);
            }
        }
        other => load::read_value(other, Loc::new(doc), out),
    }
}

/// Read a YAML file of objects; an unreadable file is an error at `from`.
fn read_file(path: &Path, sources: &mut Sources, out: &mut load::Loaded, from: (&str, &Index, Vec<Seg>)) {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let first = sources.docs.len();
            let docs = load::split_documents(&text);
            for (start, d) in &docs {
                sources.add(&name, Some(Index::build(d)), start - 1, Vec::new());
            }
            read_text(&text, first, out);
        }
        Err(e) => {
            let doc = sources.add(from.0, Some(from.1.clone()), 0, from.2);
            out.findings
                .push(Finding::error(Loc::new(doc), format!("cannot read {name}: {e}")));
        }
    }
}

/// The scenario's section, its initial objects, and the sources, read.
struct Input {
    section: Section,
    objects: Vec<Located<Object>>,
    sources: Sources,
}

fn base_dir(l: &Loaded) -> &Path {
    Path::new(&l.file).parent().unwrap_or(Path::new("."))
}

fn read_section(l: &Loaded, errors: &mut Vec<ScenarioError>) -> Option<Input> {
    let v = l.scenario.kubernetes.as_ref()?;
    let mut sources = Sources::default();
    let doc = sources.add(&l.file, Some(l.index.clone()), 0, vec![key("kubernetes")]);
    let section: Section = match typed(v.clone(), &Loc::new(doc)) {
        Ok(s) => s,
        Err(f) => {
            errors.push(sources.error(&f));
            return None;
        }
    };
    let mut out = load::Loaded::default();
    read_objects(
        &Value::Sequence(section.objects.clone()),
        &l.file,
        &l.index,
        vec![key("kubernetes"), key("objects")],
        base_dir(l),
        &mut sources,
        &mut out,
    );
    for (i, f) in section.files.iter().enumerate() {
        let from = (
            l.file.as_str(),
            &l.index,
            vec![key("kubernetes"), key("files"), Seg::Index(i)],
        );
        read_file(&base_dir(l).join(f), &mut sources, &mut out, from);
    }
    if out.config.is_some() {
        out.findings.push(Finding::error(
            Loc::new(doc),
            "a `kind: Cluster` document inside a scenario: write the configuration under `kubernetes.cluster`",
        ));
    }
    errors.extend(
        out.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| sources.error(f)),
    );
    Some(Input {
        section,
        objects: out.objects,
        sources,
    })
}

/// The scenario host of each Windows Kubernetes node.
fn node_hosts(cluster: &Cluster) -> BTreeMap<String, String> {
    cluster
        .node_views()
        .into_iter()
        .filter(|v| v.windows)
        .map(|v| {
            let host = cluster
                .config
                .node(&v.name)
                .host
                .unwrap_or_else(|| v.name.clone());
            (v.name, host)
        })
        .collect()
}

/// `svc/NAMESPACE/NAME:PORTNAME` split into the Service key and the port name; `None` for
/// anything else (a numeric port included).
fn named_service_port(to: &str) -> Option<(&str, &str)> {
    let rest = to.trim().strip_prefix("svc/")?;
    let (svc, port) = rest.rsplit_once(':')?;
    let named = !port.is_empty() && !port.bytes().all(|b| b.is_ascii_digit()) && !port.contains('}');
    named.then_some((svc, port))
}

/// For the generic target check: `svc/NS/NAME:PORTNAME` reads as a numeric port (the name is
/// checked against the cluster by [`check`], and resolved by the runner).
pub fn numeric_port_placeholder(to: &str) -> std::borrow::Cow<'_, str> {
    match named_service_port(to) {
        Some((svc, _)) => format!("svc/{svc}:1").into(),
        None => to.into(),
    }
}

/// The number of Service `svc`'s port named `name` (preferring `proto`'s), or a message
/// naming the ports it has.
fn service_port_by_name(cluster: &Cluster, svc: &str, name: &str, proto: &str) -> Result<u16, String> {
    let Some(s) = cluster.services.get(svc) else {
        return Err(format!("`svc/{svc}` is not a Service of the cluster"));
    };
    let ports = &s.value.spec.ports;
    let named = |p: &&hnsim_k8s::objects::ServicePort| p.name.as_deref() == Some(name);
    let proto_of = |p: &&hnsim_k8s::objects::ServicePort| p.protocol.as_deref().unwrap_or("TCP").to_string();
    if let Some(p) = ports
        .iter()
        .filter(named)
        .find(|p| proto_of(p).eq_ignore_ascii_case(proto))
        .or_else(|| ports.iter().find(named))
    {
        return Ok(p.port);
    }
    let names: Vec<&str> = ports.iter().filter_map(|p| p.name.as_deref()).collect();
    let hint = load::suggest(name, &names)
        .map(|h| format!(" (did you mean `{h}`?)"))
        .unwrap_or_default();
    let list = if names.is_empty() {
        "it has no named ports; use the port number".to_string()
    } else {
        format!("its ports are named {}", names.join(", "))
    };
    Err(format!(
        "Service `svc/{svc}` has no port named `{name}`{hint}; {list}"
    ))
}

/// The Windows node `node/NAME` names, as its scenario host; an error for a Linux node.
fn node_as_source(cluster: &Cluster, from: &str) -> Option<Result<String, String>> {
    let node = from.strip_prefix("node/")?;
    let hosts = node_hosts(cluster);
    Some(match hosts.get(node) {
        Some(h) => Ok(h.clone()),
        None if cluster.nodes.contains_key(node) => Err(format!(
            "`{from}` is a Linux node, which hnsim does not simulate (docs/reference/kubernetes.md §5); send from a Windows node, a pod or a host"
        )),
        None => {
            let names: Vec<String> = hosts.keys().map(|n| format!("node/{n}")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let hint = load::suggest(from, &names)
                .map(|h| format!(" (did you mean `{h}`?)"))
                .unwrap_or_default();
            Err(format!("`{from}` is not a node of the cluster{hint}"))
        }
    })
}

/// The names a cluster defines: pods on Windows nodes are containers; Services, nodes and
/// pods elsewhere are addresses.
fn cluster_names(c: &Cluster) -> Vec<(String, NameKind)> {
    let hosts = node_hosts(c);
    let mut out = Vec::new();
    for (k, p) in &c.pods {
        let windows = p
            .value
            .spec
            .node_name
            .as_ref()
            .is_some_and(|n| hosts.contains_key(n));
        let kind = if windows && !p.value.spec.host_network {
            NameKind::Container
        } else {
            NameKind::Kubernetes
        };
        out.push((format!("pod/{k}"), kind));
    }
    for (k, s) in &c.services {
        out.push((format!("svc/{k}"), NameKind::Kubernetes));
        if !s.value.proxied() {
            continue;
        }
        for node in hosts.keys() {
            for kind in ["ClusterIP", "NodePort", "ExternalIP", "IngressIP", "HealthCheck"] {
                out.push((format!("lb/{node}/{k}/{kind}"), NameKind::Object("loadbalancer")));
            }
        }
    }
    for k in c.nodes.keys() {
        out.push((format!("node/{k}"), NameKind::Kubernetes));
    }
    out
}

/// What validation learnt: errors, and the names each step makes available (step index →
/// names, applied before that step is checked; `usize::MAX` = from the start).
#[derive(Default)]
pub struct Check {
    pub errors: Vec<ScenarioError>,
    pub names: BTreeMap<usize, Vec<(String, NameKind)>>,
}

/// Validate the section and every Kubernetes step, replaying the cluster's life.
pub fn check(l: &Loaded) -> Check {
    let mut c = Check::default();
    let s: &Scenario = &l.scenario;
    let is_k8s = |st: &Step| {
        matches!(
            st,
            Step::Apply(_) | Step::Delete(_) | Step::KubeProxySync(_) | Step::Restart(_)
        )
    };
    let Some(input) = read_section(l, &mut c.errors) else {
        if s.kubernetes.is_none() {
            for (i, st) in s.steps.iter().enumerate().filter(|(_, st)| is_k8s(st)) {
                let pos = l.index.nearest(&[key("steps"), Seg::Index(i)]);
                c.errors.push(l.error_at(
                    pos,
                    format!(
                        "`{}` needs a `kubernetes:` section (the cluster configuration)",
                        st.kind()
                    ),
                ));
            }
        }
        return c;
    };
    let mut sources = input.sources;
    let mut cluster = Cluster::new(input.section.cluster.clone());
    match cluster.apply(input.objects) {
        Ok(_) => {}
        Err(fs) => {
            c.errors.extend(
                fs.iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| sources.error(f)),
            );
        }
    }
    for (node, host) in node_hosts(&cluster) {
        if !s.hosts.contains_key(&host) {
            let at = cluster.nodes.get(&node).map(|n| n.at.clone()).unwrap_or_default();
            let hosts: Vec<&str> = s.hosts.keys().map(String::as_str).collect();
            let hint = load::suggest(&host, &hosts)
                .map(|h| format!(" (did you mean `{h}`?)"))
                .unwrap_or_default();
            c.errors.push(sources.error(&Finding::error(
                at,
                format!("Windows node `{node}` runs on scenario host `{host}`, which is not under `hosts:`{hint}; set kubernetes.cluster.nodes.{node}.host"),
            )));
        }
    }
    c.names.insert(usize::MAX, cluster_names(&cluster));
    for (i, st) in s.steps.iter().enumerate() {
        let p = vec![key("steps"), Seg::Index(i), key(st.kind())];
        let at = |c: &mut Check, msg: String| {
            let pos = l.index.nearest(&p);
            c.errors.push(l.error_at(pos, msg));
        };
        match st {
            Step::Apply(v) => {
                let (objs, _) = split_expect(v);
                let mut out = load::Loaded::default();
                let mut pp = p.clone();
                if v.get("objects").is_some() {
                    pp.push(key("objects"));
                }
                read_objects(&objs, &l.file, &l.index, pp, base_dir(l), &mut sources, &mut out);
                c.errors.extend(
                    out.findings
                        .iter()
                        .filter(|f| f.severity == Severity::Error)
                        .map(|f| sources.error(f)),
                );
                let expect_error = v.get("expect-error").is_some();
                if let Err(fs) = cluster.apply(out.objects) {
                    if !expect_error {
                        c.errors.extend(
                            fs.iter()
                                .filter(|f| f.severity == Severity::Error)
                                .map(|f| sources.error(f)),
                        );
                    }
                }
                c.names.insert(i, cluster_names(&cluster));
            }
            Step::Delete(v) => {
                for what in delete_targets(v) {
                    if let Err(e) = cluster.delete(&object_ref(&what)) {
                        at(&mut c, e);
                    }
                }
            }
            Step::KubeProxySync(v) | Step::Restart(v) => {
                if let Some(n) = v.get("node").and_then(Value::as_str) {
                    if !cluster.nodes.contains_key(n) {
                        at(&mut c, format!("unknown Kubernetes node `{n}`"));
                    }
                }
                if let Step::Restart(_) = st {
                    let comp = restart_component(v);
                    if !["kube-proxy", "flannel", "kubelet"].contains(&comp.as_str()) {
                        at(
                            &mut c,
                            format!("restart: expected kube-proxy, flannel or kubelet, found `{comp}`"),
                        );
                    }
                }
            }
            Step::Send(t) | Step::Connect(t) | Step::Udp(t) | Step::Ping(t) => {
                let field = |c: &mut Check, f: &str, msg: String| {
                    let pos = l.index.nearest(&[p.clone(), vec![key(f)]].concat());
                    c.errors.push(l.error_at(pos, msg));
                };
                if t.from.starts_with("svc/") {
                    field(
                        &mut c,
                        "from",
                        format!(
                            "`{}` is an address, not a place traffic starts from; send from a pod, a node or a host",
                            t.from
                        ),
                    );
                }
                if let Some(Err(e)) = node_as_source(&cluster, &t.from) {
                    field(&mut c, "from", e);
                }
                if let Some((svc, name)) = named_service_port(&t.to) {
                    let proto = if matches!(st, Step::Udp(_)) { "UDP" } else { "TCP" };
                    if cluster.services.contains_key(svc) {
                        if let Err(e) = service_port_by_name(&cluster, svc, name, proto) {
                            field(&mut c, "to", e);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    c
}

/// `apply: [objects]`, `apply: {objects: […], expect-error: "…"}`, or one object.
fn split_expect(v: &Value) -> (Value, Option<String>) {
    match v.get("objects") {
        Some(o) if v.get("kind").is_none() => (
            o.clone(),
            v.get("expect-error").and_then(Value::as_str).map(str::to_string),
        ),
        _ => (v.clone(), None),
    }
}

fn delete_targets(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// `pod/NS/NAME` → `Pod/NS/NAME`, `svc/…` → `Service/…`, `node/N` → `Node/N`.
fn object_ref(s: &str) -> String {
    for (short, long) in [
        ("pod/", "Pod/"),
        ("svc/", "Service/"),
        ("node/", "Node/"),
        ("endpointslice/", "EndpointSlice/"),
    ] {
        if let Some(r) = s.strip_prefix(short) {
            return format!("{long}{r}");
        }
    }
    s.to_string()
}

fn restart_component(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other
            .get("component")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    }
}

// ---- running ---------------------------------------------------------------------------

/// The cluster while a scenario runs.
pub struct K8sRun {
    cluster: Cluster,
    agents: Agents,
    hosts: BTreeMap<String, String>,
    sync_after_apply: bool,
    /// pod key → (host, container name), for pods the dataplane runs.
    containers: BTreeMap<String, (String, String)>,
    /// What each HNS object the components created is, in Kubernetes terms (for traces).
    labels: BTreeMap<Guid, String>,
}

/// `text` with `GUID [label]` for every GUID that has a label.
fn label_guids(text: &str, labels: &BTreeMap<Guid, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let cand = rest
            .get(..36)
            .filter(|c| c.bytes().filter(|b| *b == b'-').count() == 4);
        match cand.and_then(|c| c.parse::<Guid>().ok().map(|g| (c, g))) {
            Some((c, g)) => {
                out.push_str(c);
                if let Some(l) = labels.get(&g) {
                    out.push_str(" [");
                    out.push_str(l);
                    out.push(']');
                }
                rest = &rest[36..];
            }
            None => {
                // Skip the whole word, so a GUID is only matched at a word's start.
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .unwrap_or(rest.len());
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

struct WorldBackends<'w> {
    world: &'w mut World,
    hosts: &'w BTreeMap<String, String>,
}

impl Backends for WorldBackends<'_> {
    fn backend(&mut self, node: &str) -> Option<&mut dyn HnsBackend> {
        let h = self.hosts.get(node)?;
        self.world.hns(h).ok().map(|x| x as &mut dyn HnsBackend)
    }
}

/// Build the cluster of the scenario (if it has one) and program it: networks, routes, pods,
/// kube-proxy start and first sync.
pub fn init(r: &mut Runner) -> Result<(), String> {
    let mut errors = Vec::new();
    let Some(input) = read_section(r.loaded, &mut errors) else {
        return match errors.first() {
            Some(e) => Err(e.to_string()),
            None => Ok(()),
        };
    };
    let mut cluster = Cluster::new(input.section.cluster.clone());
    cluster.apply(input.objects).map_err(|fs| {
        fs.iter()
            .map(|f| input.sources.error(f).to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let mut agents = Agents::new(false);
    agents.cni.loopback_dsr = input.section.loopback_dsr;
    let mut k = K8sRun {
        hosts: node_hosts(&cluster),
        cluster,
        agents,
        sync_after_apply: input.section.sync_after_apply,
        containers: BTreeMap::new(),
        labels: BTreeMap::new(),
    };
    k.reconcile(r, true);
    let errs = k.component_errors();
    r.k8s = Some(k);
    let expected = &input.section.expect_errors;
    let unexpected: Vec<&String> = errs
        .iter()
        .filter(|e| !expected.iter().any(|x| e.contains(x.as_str())))
        .collect();
    let missing: Vec<&String> = expected
        .iter()
        .filter(|x| !errs.iter().any(|e| e.contains(x.as_str())))
        .collect();
    if !unexpected.is_empty() {
        let list: Vec<&str> = unexpected.iter().map(|s| s.as_str()).collect();
        return Err(format!("programming the cluster failed: {}", list.join("; ")));
    }
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Err(format!(
            "kubernetes.expect-errors: no component error contains {}",
            list.join(", ")
        ));
    }
    Ok(())
}

impl K8sRun {
    /// Name, in the trace's steps, the Service, EndpointSlice or Pod each HNS load balancer
    /// and endpoint came from (`GUID [svc/default/web:80/TCP ClusterIP; EndpointSlice …]`).
    pub fn label_exchange(&self, ex: &mut crate::trace::Exchange) {
        use crate::trace::Step as S;
        let l = |s: &mut String| {
            if s.len() >= 36 {
                *s = label_guids(s, &self.labels);
            }
        };
        let traces = std::iter::once(&mut ex.request).chain(ex.reply.as_mut());
        for st in traces
            .flat_map(|t| t.hops.iter_mut())
            .flat_map(|h| h.steps.iter_mut())
        {
            match st {
                S::LoadBalance { lb, backend, .. } => {
                    l(lb);
                    l(backend);
                }
                S::Transform { rule, .. } | S::Filter { rule, .. } => l(rule),
                S::Route { table, next_hop, .. } => {
                    l(table);
                    l(next_hop);
                }
                _ => {}
            }
        }
    }

    /// What an HNS object the components created is, in Kubernetes terms.
    pub fn label_of(&self, id: &Guid) -> Option<&str> {
        self.labels.get(id).map(String::as_str)
    }

    /// `text` with `GUID [label]` for every GUID the components created (reach tables).
    pub fn label_text(&self, text: &str) -> String {
        if text.len() < 36 {
            return text.to_string();
        }
        label_guids(text, &self.labels)
    }

    /// `node/NAME` as a traffic source: the host stack of the node's scenario host.
    pub fn source_host(&self, from: &str) -> Option<Result<String, String>> {
        node_as_source(&self.cluster, from)
    }

    /// `svc/NS/NAME:PORTNAME` with the port's number; `None` when `to` names no port by name.
    pub fn resolve_port_name(&self, to: &str, proto: &str) -> Option<Result<String, String>> {
        let (svc, name) = named_service_port(to)?;
        Some(service_port_by_name(&self.cluster, svc, name, proto).map(|n| format!("svc/{svc}:{n}")))
    }

    fn reconcile(&mut self, r: &mut Runner, with_proxy: bool) {
        // Stop the containers of pods that left the cluster before the CNI deletes their
        // endpoints (the kubelet's order).
        let gone: Vec<String> = self
            .containers
            .keys()
            .filter(|k| !self.cluster.pods.contains_key(*k))
            .cloned()
            .collect();
        for k in gone {
            self.remove_container(r, &k);
        }
        let mut b = WorldBackends {
            world: &mut r.world,
            hosts: &self.hosts,
        };
        self.agents.reconcile(&self.cluster, &mut b, with_proxy);
        self.register(r);
    }

    /// Stop and remove a pod's container (the kubelet tears the sandbox down).
    fn remove_container(&mut self, r: &mut Runner, pod: &str) {
        if let Some((host, name)) = self.containers.remove(pod) {
            if let Ok(h) = r.world.hns(&host) {
                let _ = h.stop_container(&name);
                let _ = h.remove_container(&name);
            }
            r.names.remove(&name);
            r.names.remove(&format!("endpoint {name}"));
            r.vars.remove(&name);
        }
    }

    fn sync(&mut self, r: &mut Runner, node: Option<&str>) {
        let mut b = WorldBackends {
            world: &mut r.world,
            hosts: &self.hosts,
        };
        self.agents.sync_proxies(&self.cluster, &mut b, node);
    }

    /// Run the pods the CNI added as containers and name everything.
    fn register(&mut self, r: &mut Runner) {
        self.labels = hnsim_k8s::provenance::labels(&self.agents, &self.cluster)
            .into_iter()
            .filter_map(|(id, l)| Some((id.parse::<Guid>().ok()?, l)))
            .collect();
        for (node, a) in &self.agents.nodes {
            let Some(host) = self.hosts.get(node) else {
                continue;
            };
            for (k, pn) in &a.pods {
                if self.containers.contains_key(k) {
                    continue;
                }
                let name = format!("pod/{k}");
                let (Ok(ns), Ok(ep)) = (pn.namespace_id.parse::<Guid>(), pn.endpoint_id.parse::<Guid>())
                else {
                    continue;
                };
                let iso = if pn.hyperv {
                    Isolation::HyperV
                } else {
                    Isolation::Process
                };
                let Ok(h) = r.world.hns(host) else { continue };
                if h.create_container_in(&name, iso, &ns)
                    .and_then(|_| h.start_container(&name))
                    .is_err()
                {
                    continue;
                }
                r.names.insert(
                    name.clone(),
                    Named::Container {
                        host: host.clone(),
                        unread: None,
                    },
                );
                r.ep_container.insert(ep, name.clone());
                r.names.insert(
                    format!("endpoint {name}"),
                    Named::Object {
                        host: host.clone(),
                        kind: hnsim_model::backend::ObjectKind::Endpoint,
                        id: ep,
                    },
                );
                r.vars.insert(
                    name.clone(),
                    Arc::new(Doc::from(json!({"ID": name, "Host": host, "IpAddress": pn.ip.to_string(), "IpAddresses": [pn.ip.to_string()], "Endpoints": [pn.endpoint_id]}))),
                );
                if let Some(p) = self.cluster.pods.get(k) {
                    for port in p.value.spec.containers.iter().flat_map(|c| &c.ports) {
                        let l4 = if port.protocol.as_deref() == Some("UDP") {
                            L4::Udp
                        } else {
                            L4::Tcp
                        };
                        let _ = r
                            .world
                            .listen(&Place::Container(name.clone()), l4, port.container_port);
                    }
                }
                self.containers.insert(k.clone(), (host.clone(), name));
            }
        }
        // kube-proxy's load balancers: `lb/NODE/NAMESPACE/SERVICE/Kind` (the last of a kind wins
        // for multi-port Services).
        for (node, a) in &self.agents.nodes {
            let Some(host) = self.hosts.get(node) else {
                continue;
            };
            for p in &a.proxiers {
                for (svc_port, kind, id) in p.load_balancers() {
                    let svc = svc_port.split(':').next().unwrap_or_default();
                    if let Ok(g) = id.parse::<Guid>() {
                        r.names.insert(
                            format!("lb/{node}/{svc}/{}", kind.name()),
                            Named::Object {
                                host: host.clone(),
                                kind: hnsim_model::backend::ObjectKind::LoadBalancer,
                                id: g,
                            },
                        );
                    }
                }
            }
        }
        // kube-proxy's endpoints: `NODE/source-vip`, `NODE/clusterip svc/NS/NAME`,
        // `NODE/remote pod/NS/NAME` (or the IP when no pod has it), for traces.
        for (node, a) in &self.agents.nodes {
            let Some(host) = self.hosts.get(node) else {
                continue;
            };
            for p in &a.proxiers {
                for (id, label) in &p.origins {
                    let Ok(g) = id.parse::<Guid>() else { continue };
                    let name = match label.strip_prefix("remote ") {
                        Some(ip) => match self.cluster.pod_by_ip(ip) {
                            Some((k, _)) => format!("{node}/remote pod/{k}"),
                            None => format!("{node}/remote {ip}"),
                        },
                        None if label.starts_with("source-vip") || label.starts_with("clusterip") => {
                            format!("{node}/{label}")
                        }
                        None => continue,
                    };
                    r.names.insert(
                        name,
                        Named::Object {
                            host: host.clone(),
                            kind: hnsim_model::backend::ObjectKind::Endpoint,
                            id: g,
                        },
                    );
                }
            }
        }
        // flannel host-gw's OS routes (remote pod subnet → remote node), with the host's own.
        for (node, a) in &self.agents.nodes {
            let Some(host) = self.hosts.get(node) else {
                continue;
            };
            if a.plugin.os_routes.is_empty() {
                continue;
            }
            let mut routes: Vec<(ipnet::Ipv4Net, std::net::Ipv4Addr)> = Vec::new();
            if let Some(h) = r.loaded.scenario.hosts.get(host) {
                for rt in &h.routes {
                    if let (ipnet::IpNet::V4(p), std::net::IpAddr::V4(v)) = (rt.prefix, rt.via) {
                        routes.push((p, v));
                    }
                }
            }
            for (p, v) in &a.plugin.os_routes {
                if let (ipnet::IpNet::V4(p), std::net::IpAddr::V4(v)) = (p, v) {
                    routes.push((*p, *v));
                }
            }
            let _ = r.world.set_host_routes(host, routes);
        }
        for (k, p) in &self.cluster.pods {
            if !self.containers.contains_key(k) {
                if let Some(ip) = p.value.ips().first() {
                    r.vars
                        .insert(format!("pod/{k}"), Arc::new(Doc::from(json!({"IpAddress": ip}))));
                }
            }
        }
        for (k, s) in &self.cluster.services {
            if let Some(ip) = s.value.cluster_ips().first() {
                r.vars
                    .insert(format!("svc/{k}"), Arc::new(Doc::from(json!({"IpAddress": ip}))));
            }
        }
        for v in self.cluster.node_views() {
            if let Some(ip) = v.ip4() {
                r.vars.insert(
                    format!("node/{}", v.name),
                    Arc::new(Doc::from(json!({"IpAddress": ip.to_string()}))),
                );
            }
        }
    }

    fn component_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (n, a) in &self.agents.nodes {
            out.extend(a.errors.iter().map(|e| format!("{n}: {e}")));
            if let Some(e) = &a.proxy_error {
                out.push(format!("{n}: kube-proxy: {e}"));
            }
            for p in &a.proxiers {
                out.extend(p.errors.iter().map(|e| format!("{n}: kube-proxy: {e}")));
            }
        }
        out
    }

    /// After a step: component errors fail it unless the step expected one (`expect-error`).
    fn report(&self, rep: &mut StepReport, expect_error: Option<&str>) {
        let errs = self.component_errors();
        let logs: BTreeMap<&String, Vec<&String>> = self
            .agents
            .nodes
            .iter()
            .map(|(n, a)| {
                (
                    n,
                    a.proxiers
                        .iter()
                        .flat_map(|p| p.log.iter().rev().take(5))
                        .collect(),
                )
            })
            .collect();
        rep.reply = Some(Arc::new(Doc::from(
            json!({"errors": errs, "kube-proxy-log": logs}),
        )));
        match expect_error {
            Some(want) => {
                let hit = errs.iter().find(|e| e.contains(want)).cloned();
                rep.checks.push(super::Check::new(
                    "component error",
                    format!("contains {want:?}"),
                    hit.clone().unwrap_or_else(|| errs.join("; ")),
                    hit.is_some(),
                ));
            }
            None => {
                if !errs.is_empty() {
                    rep.checks.push(super::Check::new(
                        "component errors",
                        "none",
                        errs.join("; "),
                        false,
                    ));
                }
            }
        }
    }
}

/// Run one Kubernetes step.
pub fn step(r: &mut Runner, st: &Step, rep: &mut StepReport) -> Result<(), String> {
    let Some(mut k) = r.k8s.take() else {
        return Err(format!("`{}` needs a `kubernetes:` section", st.kind()));
    };
    let res = step_inner(&mut k, r, st, rep);
    r.k8s = Some(k);
    res
}

fn step_inner(k: &mut K8sRun, r: &mut Runner, st: &Step, rep: &mut StepReport) -> Result<(), String> {
    match st {
        Step::Apply(v) => {
            let (objs, expect) = split_expect(v);
            let mut sources = Sources::default();
            let mut out = load::Loaded::default();
            read_objects(
                &objs,
                &r.loaded.file,
                &r.loaded.index,
                Vec::new(),
                base_dir(r.loaded),
                &mut sources,
                &mut out,
            );
            let keys: Vec<String> = out.objects.iter().map(|o| o.value.key()).collect();
            rep.label = format!("apply {}", keys.join(", "));
            match k.cluster.apply(out.objects) {
                Ok(_) => {}
                Err(fs) => {
                    let msg = fs
                        .iter()
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ");
                    if let Some(want) = &expect {
                        rep.checks.push(super::Check::new(
                            "apply rejected",
                            format!("contains {want:?}"),
                            msg.clone(),
                            msg.contains(want.as_str()),
                        ));
                        return Ok(());
                    }
                    return Err(format!("apply rejected: {msg}"));
                }
            }
            k.reconcile(r, k.sync_after_apply);
            k.report(rep, expect.as_deref());
        }
        Step::Delete(v) => {
            let targets = delete_targets(v);
            rep.label = format!("delete {}", targets.join(", "));
            for t in &targets {
                k.cluster.delete(&object_ref(t))?;
            }
            k.reconcile(r, k.sync_after_apply);
            k.report(rep, v.get("expect-error").and_then(Value::as_str));
        }
        Step::KubeProxySync(v) => {
            let node = v.get("node").and_then(Value::as_str);
            rep.label = format!("kube-proxy-sync {}", node.unwrap_or("(all nodes)"));
            k.sync(r, node);
            k.report(rep, v.get("expect-error").and_then(Value::as_str));
        }
        Step::Restart(v) => {
            let comp = restart_component(v);
            let node = v.get("node").and_then(Value::as_str).map(str::to_string);
            rep.label = format!("restart {comp} on {}", node.as_deref().unwrap_or("every node"));
            let nodes: Vec<String> = match &node {
                Some(n) => vec![n.clone()],
                None => k.agents.nodes.keys().cloned().collect(),
            };
            match comp.as_str() {
                "kube-proxy" => {
                    for n in &nodes {
                        k.agents.restart_proxy(n);
                        k.sync(r, Some(n));
                    }
                }
                _ => {
                    // flannel / kubelet: the node's components start from scratch and recreate
                    // what is missing (after an HNS restart, the non-persistent network).
                    let gone: Vec<String> = k
                        .containers
                        .iter()
                        .filter(|(_, (h, _))| nodes.iter().any(|n| k.hosts.get(n) == Some(h)))
                        .map(|(p, _)| p.clone())
                        .collect();
                    for p in gone {
                        k.remove_container(r, &p);
                    }
                    for n in &nodes {
                        k.agents.forget_node(n, &k.cluster);
                    }
                    k.reconcile(r, true);
                }
            }
            k.report(rep, v.get("expect-error").and_then(Value::as_str));
        }
        _ => {}
    }
    Ok(())
}

// ---- for `hnsim k8s render` ---------------------------------------------------------------

/// The cluster a scenario's `kubernetes:` section describes (its initial objects).
pub fn cluster_of_scenario(l: &Loaded) -> Result<(Cluster, Vec<ScenarioError>), Vec<ScenarioError>> {
    let mut errors = Vec::new();
    let Some(input) = read_section(l, &mut errors) else {
        if errors.is_empty() {
            errors.push(l.error_at(
                Pos { line: 1, col: 1 },
                "this scenario has no `kubernetes:` section",
            ));
        }
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut cluster = Cluster::new(input.section.cluster.clone());
    match cluster.apply(input.objects) {
        Ok(w) => Ok((cluster, w.iter().map(|f| input.sources.error(f)).collect())),
        Err(fs) => Err(fs
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| input.sources.error(f))
            .collect()),
    }
}

/// A cluster file: multi-document YAML with one `kind: Cluster` document (the configuration)
/// and Kubernetes objects (or `kind: List`s). Errors and warnings are located.
pub fn cluster_of_file(file: &str, text: &str) -> Result<(Cluster, Vec<ScenarioError>), Vec<ScenarioError>> {
    let mut sources = Sources::default();
    let docs = load::split_documents(text);
    for (start, d) in &docs {
        sources.add(file, Some(Index::build(d)), start - 1, Vec::new());
    }
    let mut out = load::Loaded::default();
    read_text(text, 0, &mut out);
    let mut errors: Vec<ScenarioError> = out
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| sources.error(f))
        .collect();
    let mut warnings: Vec<ScenarioError> = out
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| sources.error(f))
        .collect();
    let Some(cfg) = out.config else {
        errors.push(ScenarioError {
            file: file.to_string(),
            pos: None,
            message:
                "no `kind: Cluster` document (apiVersion: hnsim/v1) with the network plugin and node settings"
                    .into(),
        });
        return Err(errors);
    };
    if !errors.is_empty() {
        errors.extend(warnings);
        return Err(errors);
    }
    let mut cluster = Cluster::new(cfg.value);
    match cluster.apply(out.objects) {
        Ok(w) => {
            warnings.extend(w.iter().map(|f| sources.error(f)));
            Ok((cluster, warnings))
        }
        Err(fs) => {
            let mut all: Vec<ScenarioError> = fs.iter().map(|f| sources.error(f)).collect();
            all.extend(warnings);
            Err(all)
        }
    }
}
