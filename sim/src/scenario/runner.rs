//! Running a validated scenario against the model: HNS steps through each host's `Hns`
//! (`HnsBackend`, JSON in and out), HCS containers, traffic through `World::send`, faults and
//! virtual time; every expectation becomes a [`Check`] in the [`ScenarioReport`].

use super::format::*;
use super::interp::{expand_str, expand_value, lookup, references, Vars};
use super::locate::Seg;
use super::parse::Loaded;
use super::topology::build_world;
use super::validate::{object_kind, parse_duration, parse_hresult, parse_port_spec, parse_target, Target};
use crate::fasthash::FastMap;
use crate::trace::{Exchange, L4};
use crate::world::{Fault, Place, SendError, SendRequest, UnknownName, World, WorldError};
use hnsim_model::backend::{HcnCall, HcnOp, ObjectKind, Verb};
use hnsim_model::document::{encode_document, encode_load_balancer, DocError, HnsDocument};
use hnsim_model::state::hcs::Isolation as HcsIsolation;
use hnsim_model::state::{Change, Cursor};
use hnsim_model::v1::{policy_list_from_v1, PolicyListV2};
use hnsim_model::{Guid, HcnError, HnsBackend};
use serde::Serialize;
use serde_json::{json, Value as Json};

mod bulk;
use bulk::Bulk;
pub use bulk::{parse_rate, problems as bulk_problems, BulkSummary, RateError};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// Why the runner's set-up or one of its steps failed. `Display` is the text the report carries
/// (`StepReport::error`, `ScenarioReport::error`).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The world refused: a topology it cannot build, a name it does not know, a packet it
    /// cannot send or a listener it cannot open.
    #[error(transparent)]
    World(#[from] WorldError),
    /// An HNS or HCS call the step makes failed where no error was expected.
    #[error(transparent)]
    Hcn(#[from] HcnError),
    /// A `create-policylist` document that does not become a load balancer.
    #[error(transparent)]
    PolicyList(#[from] PolicyListError),
    /// A bulk step's `rate:` that cannot be read (validation refuses it first).
    #[error(transparent)]
    Rate(#[from] RateError),
    /// The step itself cannot run or its document is wrong (the message says what).
    #[error("{0}")]
    Step(String),
}

impl From<String> for RunError {
    fn from(s: String) -> RunError {
        RunError::Step(s)
    }
}

impl From<&str> for RunError {
    fn from(s: &str) -> RunError {
        RunError::Step(s.to_string())
    }
}

impl From<UnknownName> for RunError {
    fn from(e: UnknownName) -> RunError {
        RunError::World(e.into())
    }
}

impl From<SendError> for RunError {
    fn from(e: SendError) -> RunError {
        RunError::World(e.into())
    }
}

/// A scenario name that does not stand for what a step needs (`Runner::place`,
/// `Runner::address_of`). `Display` is the text a report carries.
#[derive(Debug, thiserror::Error)]
enum NameError {
    /// No host, station, container or object has this name.
    #[error("`{0}` is not defined")]
    Undefined(String),
    /// The name stands for something traffic cannot start from or go to (a network, a router…).
    #[error("`{name}` is {is:?}, not a place traffic can start from")]
    NotAPlace { name: String, is: Named },
    /// The name's `IpAddress` is not an IP address.
    #[error("`{name}` has address {value:?}, not an IP")]
    NotAnAddress { name: String, value: String },
    #[error("`{0}` has no IP address")]
    NoAddress(String),
    /// The Kubernetes layer refused the name (a Linux node, a node not in the cluster).
    #[error("{0}")]
    Cluster(String),
    #[error(transparent)]
    World(#[from] UnknownName),
}

impl From<NameError> for RunError {
    fn from(e: NameError) -> RunError {
        match e {
            NameError::World(e) => e.into(),
            other => RunError::Step(other.to_string()),
        }
    }
}

/// One expectation and how it came out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
}

impl Check {
    fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
        ok: bool,
    ) -> Check {
        Check {
            what: what.into(),
            expected: expected.into(),
            actual: actual.into(),
            ok,
        }
    }
    fn eq(
        what: impl Into<String>,
        expected: impl std::fmt::Display,
        actual: impl std::fmt::Display,
    ) -> Check {
        let (e, a) = (expected.to_string(), actual.to_string());
        let ok = e == a;
        Check::new(what, e, a, ok)
    }
}

/// A reachability table: expected and observed cells (`.` reachable, `X` not).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub expected: Vec<Vec<char>>,
    pub observed: Vec<Vec<char>>,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepReport {
    /// 1-based step number.
    pub index: usize,
    pub line: usize,
    pub kind: String,
    pub label: String,
    pub checks: Vec<Check>,
    /// Traffic steps: the exchanges (request trace and reply trace).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
    /// HNS steps: the reply document (created object, query result), shared with the value of
    /// the step's `as:` name.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "shared")]
    pub reply: Option<Arc<Doc>>,
    /// The step could not run (e.g. an unknown name at run time, an unexpected HNS error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Bulk traffic steps (`packets:` / `flows:`): counts instead of every exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulk: Option<BulkSummary>,
}

/// A document the runner keeps (a step's reply, a name's value): JSON, or an HNS object as the
/// model stored it, written as its JSON reply (`document::encode_document`) when first read —
/// most create replies never are, and writing them was a third of a create step.
#[derive(Clone, Debug)]
pub struct Doc {
    object: Option<HnsDocument>,
    json: OnceLock<Json>,
}

impl Doc {
    fn object(o: HnsDocument) -> Doc {
        Doc {
            object: Some(o),
            json: OnceLock::new(),
        }
    }

    /// The document as JSON.
    pub fn json(&self) -> &Json {
        self.json.get_or_init(|| match &self.object {
            Some(o) => encode_document(o),
            None => Json::Null,
        })
    }

    /// The object's GUID (its `ID`), if it has one that parses.
    fn id(&self) -> Option<Guid> {
        match &self.object {
            Some(HnsDocument::Network(x)) => Some(x.id),
            Some(HnsDocument::Endpoint(x)) => Some(x.id),
            Some(HnsDocument::Namespace(x)) => Some(x.id),
            Some(HnsDocument::LoadBalancer(x)) => Some(x.id),
            Some(HnsDocument::Route(x)) => Some(x.id),
            None => self.json().get("ID").and_then(Json::as_str)?.parse().ok(),
        }
    }
}

/// A shared document serialises as the document.
fn shared<S: serde::Serializer>(v: &Option<Arc<Doc>>, s: S) -> Result<S::Ok, S::Error> {
    v.as_deref().serialize(s)
}

impl From<Json> for Doc {
    fn from(v: Json) -> Doc {
        Doc {
            object: None,
            json: OnceLock::from(v),
        }
    }
}

impl PartialEq for Doc {
    fn eq(&self, other: &Doc) -> bool {
        self.json() == other.json()
    }
}

impl Serialize for Doc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(s)
    }
}

impl StepReport {
    /// A step's report before it runs: nothing checked, sent or failed yet.
    pub fn new(index: usize, line: usize, kind: &str, label: &str) -> StepReport {
        StepReport {
            index,
            line,
            kind: kind.to_string(),
            label: label.to_string(),
            checks: Vec::new(),
            exchanges: Vec::new(),
            table: None,
            reply: None,
            error: None,
            bulk: None,
        }
    }

    pub fn ok(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.ok)
    }
}

/// The outcome of one scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioReport {
    pub file: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub seed: u64,
    /// Outcomes the scenario marks as inferred rather than documented.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inferred: Vec<String>,
    pub steps: Vec<StepReport>,
    /// The world could not be built.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The topology at the end of the run, for pictures (`scenario::html`); not in the JSON report.
    #[serde(skip)]
    pub topology: Option<crate::view::Topology>,
}

impl ScenarioReport {
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.steps.iter().all(StepReport::ok)
    }
    pub fn failed_steps(&self) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(|s| !s.ok())
    }
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's `seed:`.
    pub seed: Option<u64>,
    /// Capture packets (for `--pcap`).
    pub pcap: bool,
    /// Run only the setup: skip traffic and reachability steps (for `hnsim trace`).
    pub setup_only: bool,
    /// Keep the run's topology for pictures (`--format html`). Off otherwise: remembering what
    /// traffic saw costs a topology snapshot after each traffic step that follows a change.
    pub pictures: bool,
}

/// What a name stands for at run time.
#[derive(Clone, Debug)]
enum Named {
    Host,
    Station,
    Router,
    Container {
        host: String,
        /// The endpoints it started with and their addresses, until an expression first reads
        /// `${name…}` and `vars` gets its value (see [`container_value`]).
        unread: Option<(Vec<Guid>, Vec<IpAddr>)>,
    },
    Object {
        host: String,
        kind: ObjectKind,
        id: Guid,
    },
}

#[path = "kubernetes.rs"]
pub mod kubernetes;
mod reach_names;

/// A scenario being run: its world and the names defined so far.
pub struct Runner<'a> {
    pub loaded: &'a Loaded,
    pub world: World,
    pub seed: u64,
    names: BTreeMap<String, Named>,
    /// Every name bound to an HNS object (`bind`), by the object's GUID (for naming receivers),
    /// with the number of journal entries taken in (`Freshness::changes_seen`) when its value was last
    /// read.
    names_of: BTreeMap<Guid, BTreeMap<String, u64>>,
    /// The values of `${name…}`. A named object's entry is its document as last read; it is
    /// re-read from the model only when an expression uses it and the host's change journal
    /// named the object since (`fresh`), so a step costs the same whatever the
    /// number of names (an object gone from HNS keeps its last document). A create's document
    /// is shared with its step's report.
    vars: BTreeMap<String, Arc<Doc>>,
    /// What the hosts' change journals said since the names were last read.
    fresh: Freshness,
    /// HNS calls made so far (statistics for tests: calls per step must not grow with the
    /// number of names).
    hns_calls: u64,
    partitions: Vec<(String, String)>,
    /// Endpoint → the container it was attached to (for naming receivers).
    ep_container: BTreeMap<Guid, String>,
    /// Source port counter for repeated sends without an explicit port.
    next_port: u16,
    /// The Kubernetes cluster, when the scenario has a `kubernetes:` section.
    k8s: Option<kubernetes::K8sRun>,
    /// Display names for pictures (GUID, container id or host name → name), e.g. Kubernetes Pod,
    /// Service and node names from the Kubernetes layer; see `view::Topology::apply_display_names`.
    pub display_names: crate::view::DisplayNames,
}

fn l4(p: Proto) -> L4 {
    match p {
        Proto::Tcp => L4::Tcp,
        Proto::Udp => L4::Udp,
        Proto::Icmp => L4::Icmp,
    }
}

const DEFAULT_QUERY: &str = r#"{"SchemaVersion":{"Major":2,"Minor":0}}"#;

/// Run a validated scenario.
pub fn run(loaded: &Loaded, opts: &RunOptions) -> ScenarioReport {
    execute(loaded, opts).0
}

/// Run a validated scenario and keep its world (for pcap output, `trace` and `graph`).
pub fn execute<'a>(loaded: &'a Loaded, opts: &RunOptions) -> (ScenarioReport, Option<Runner<'a>>) {
    let s = &loaded.scenario;
    let seed = opts.seed.or(s.seed).unwrap_or(0);
    let mut report = ScenarioReport {
        file: loaded.file.clone(),
        name: s.name.clone(),
        reference: s.reference.clone(),
        seed,
        inferred: s.inferred.clone(),
        steps: Vec::with_capacity(s.steps.len()),
        error: None,
        topology: None,
    };
    let mut runner = match Runner::new(loaded, seed, opts.pcap) {
        Ok(r) => r,
        Err(e) => {
            report.error = Some(e.to_string());
            return (report, None);
        }
    };
    let mut failed = super::followon::FailedNames::default();
    // Objects a packet went through but a later step deleted stay in the picture.
    let mut history = crate::view::History::default();
    for (i, step) in s.steps.iter().enumerate() {
        if opts.setup_only && step.is_traffic() {
            continue;
        }
        let rep = match failed.skip_reason(step) {
            Some(why) => runner.skipped(i, step, why),
            None => runner.step(i, step),
        };
        failed.record(step, &rep);
        let traffic = !rep.exchanges.is_empty();
        report.steps.push(rep);
        if traffic && opts.pictures {
            history.saw_traffic(&runner.world, || runner.topology());
        }
    }
    if opts.pictures {
        report.topology = Some(history.finish(runner.topology()));
    }
    (report, Some(runner))
}

impl Step {
    /// Traffic and reachability steps (skipped by `hnsim trace`'s setup).
    pub fn is_traffic(&self) -> bool {
        matches!(
            self,
            Step::Send(_)
                | Step::Connect(_)
                | Step::Udp(_)
                | Step::Ping(_)
                | Step::Reachability(_)
                | Step::Reach(_)
                | Step::ReachUnchanged(_)
        )
    }
}

impl<'a> Runner<'a> {
    /// Build the world (underlay, hosts, stations, host and station listeners).
    pub fn new(loaded: &'a Loaded, seed: u64, pcap: bool) -> Result<Runner<'a>, RunError> {
        let s = &loaded.scenario;
        let mut world = build_world(s, seed)?;
        if pcap {
            world.enable_pcap(&[]);
        } else {
            // Nothing reads the captures without `--pcap`; encoding every uplink frame into a
            // growing buffer was most of a bulk packet's cost and memory linear in packets.
            world.set_capture(false);
        }
        let mut names = BTreeMap::new();
        let mut vars = BTreeMap::new();
        for (name, h) in &s.hosts {
            names.insert(name.clone(), Named::Host);
            vars.insert(
                name.clone(),
                Arc::new(json!({"Name": name, "IpAddress": h.ip.to_string()}).into()),
            );
            for l in &h.listen {
                let (p, port) = parse_port_spec(l)?;
                world.listen(&Place::Host(name.clone()), l4(p), port)?;
            }
        }
        for (name, st) in &s.stations {
            names.insert(name.clone(), Named::Station);
            vars.insert(
                name.clone(),
                Arc::new(json!({"Name": name, "IpAddress": st.ip.to_string()}).into()),
            );
            for l in &st.listen {
                let (p, port) = parse_port_spec(l)?;
                world.listen(&Place::Station(name.clone()), l4(p), port)?;
            }
        }
        for name in s.underlay.routers.keys() {
            names.insert(name.clone(), Named::Router);
        }
        let mut r = Runner {
            loaded,
            world,
            seed,
            names,
            names_of: BTreeMap::new(),
            vars,
            fresh: Freshness::default(),
            hns_calls: 0,
            partitions: Vec::new(),
            ep_container: BTreeMap::new(),
            next_port: 50000,
            k8s: None,
            display_names: Default::default(),
        };
        kubernetes::init(&mut r)?;
        Ok(r)
    }

    fn default_host(&self, host: &Option<String>) -> String {
        host.clone()
            .or_else(|| self.loaded.scenario.hosts.keys().next().cloned())
            .unwrap_or_default()
    }

    fn call(
        &mut self,
        host: &str,
        call: &HcnCall,
    ) -> Result<Result<String, hnsim_model::HcnError>, RunError> {
        let hns = self.world.hns(host)?;
        self.hns_calls += 1;
        Ok(hns.call(call))
    }

    /// An HNS step's call: a create hands the model the document as a value (`Hns::create_object`:
    /// the same call without writing the document as JSON text to parse it back, and the object
    /// instead of its reply, written when read), anything else goes through `HnsBackend::call` as
    /// text. The reply of a create or query, parsed; `None` when HNS returned nothing.
    fn hns_call(
        &mut self,
        host: &str,
        verb: Verb,
        kind: ObjectKind,
        id: &str,
        doc: Json,
    ) -> Result<Result<Option<Doc>, hnsim_model::HcnError>, RunError> {
        if verb == Verb::Create && !doc.is_null() {
            let hns = self.world.hns(host)?;
            self.hns_calls += 1;
            return Ok(hns.create_object(kind, id, doc).map(|o| Some(Doc::object(o))));
        }
        let body = if doc.is_null() {
            String::new()
        } else {
            doc.to_string()
        };
        let call = HcnCall::new(HcnOp::Object(verb, kind), id, body);
        Ok(match self.call(host, &call)? {
            Ok(reply) if matches!(verb, Verb::Create | Verb::Query) && !reply.is_empty() => Ok(Some(
                serde_json::from_str::<Json>(&reply)
                    .map_err(|e| format!("HNS reply is not JSON: {e}"))?
                    .into(),
            )),
            Ok(_) => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// HNS calls the runner has made (steps and reads of named objects).
    pub fn hns_calls(&self) -> u64 {
        self.hns_calls
    }

    /// Bind `name` (an `as:` name or a container), keeping the GUID → names index in step.
    /// A bound object's value counts as read now (the caller sets it).
    fn bind(&mut self, name: &str, n: Named) {
        let object = match &n {
            Named::Object { id, .. } => Some(*id),
            _ => None,
        };
        if let Some(Named::Object { id, .. }) = self.names.insert(name.to_string(), n) {
            if let Some(set) = self.names_of.get_mut(&id) {
                set.remove(name);
                if set.is_empty() {
                    self.names_of.remove(&id);
                }
            }
        }
        if let Some(id) = object {
            self.names_of
                .entry(id)
                .or_default()
                .insert(name.to_string(), self.fresh.changes_seen);
        }
        self.fresh.stale.remove(name);
    }

    /// Bring the values of these names up to date with the model (see `vars`), and return the
    /// variables for expanding.
    fn vars_for<I, S>(&mut self, names: I) -> &BTreeMap<String, Arc<Doc>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for name in names {
            self.read_named(name.as_ref());
        }
        &self.vars
    }

    /// Re-read one named object if its host's change journal named it since it was read; give
    /// a container its value when first read.
    fn read_named(&mut self, name: &str) {
        if let Some(Named::Container { host, unread }) = self.names.get_mut(name) {
            if let Some((eps, ips)) = unread.take() {
                let v = container_value(name, host, &eps, &ips);
                self.vars.insert(name.to_string(), Arc::new(v.into()));
            }
            return;
        }
        let Some(Named::Object { host, kind, id }) = self.names.get(name) else {
            return;
        };
        let (kind, id) = (*kind, *id);
        self.fresh.follow(&self.world, &self.names, host);
        let mut stale = self.fresh.stale.remove(name);
        if let Some(read) = self.names_of.get_mut(&id).and_then(|m| m.get_mut(name)) {
            stale |= self.fresh.changed_at.get(&id).is_some_and(|c| c > read);
            *read = self.fresh.changes_seen;
        }
        if !stale {
            return;
        }
        let host = host.clone();
        let q = HcnCall::new(HcnOp::Object(Verb::Query, kind), id.to_string(), DEFAULT_QUERY);
        if let Ok(Ok(r)) = self.call(&host, &q) {
            if let Ok(v) = serde_json::from_str::<Json>(&r) {
                self.vars.insert(name.to_string(), Arc::new(v.into()));
            }
        }
    }

    /// Resolve an object reference: a name from `as:`, a GUID, or a `${…}` expression.
    fn object_id(&mut self, r: &str) -> Result<String, RunError> {
        if let Some(Named::Object { id, .. }) = self.names.get(r) {
            return Ok(id.to_string());
        }
        if r.contains("${") {
            return match expand_str(r, &mut Live(self))? {
                Json::String(s) => Ok(s),
                other => Ok(other.to_string()),
            };
        }
        Ok(r.to_string())
    }

    /// Run one step.
    pub fn step(&mut self, i: usize, step: &Step) -> StepReport {
        let mut rep = self.report_of(i, step);
        if let Err(e) = self.step_inner(step, &mut rep) {
            rep.error = Some(e.to_string());
        }
        rep
    }

    /// A step not run, and why (a step it depends on failed).
    pub fn skipped(&self, i: usize, step: &Step, why: String) -> StepReport {
        let mut rep = self.report_of(i, step);
        rep.error = Some(why);
        rep
    }

    fn report_of(&self, i: usize, step: &Step) -> StepReport {
        let kind = step.kind();
        let line = self
            .loaded
            .index
            .nearest(&[Seg::Key("steps".into()), Seg::Index(i)])
            .line;
        StepReport::new(i + 1, line, kind, kind)
    }

    fn step_inner(&mut self, step: &Step, rep: &mut StepReport) -> Result<(), RunError> {
        match step {
            hns_step!(s) => self.hns_step(step.kind(), s, rep),
            Step::List(s) => self.list(s, rep),
            Step::Attach(a) | Step::Detach(a) => {
                let host = self.default_host(&a.host);
                let ns = self.object_id(&a.namespace)?;
                let ep = self.object_id(&a.endpoint)?;
                let req = if matches!(step, Step::Attach(_)) {
                    "Add"
                } else {
                    "Remove"
                };
                rep.label = format!(
                    "{} {} {} namespace {} on {host}",
                    step.kind(),
                    a.endpoint,
                    if req == "Add" { "to" } else { "from" },
                    a.namespace
                );
                let doc =
                    json!({"ResourceType": "Endpoint", "RequestType": req, "Settings": {"EndpointId": ep}});
                let call = HcnCall::new(
                    HcnOp::Object(Verb::Modify, ObjectKind::Namespace),
                    ns,
                    doc.to_string(),
                );
                let res = self.call(&host, &call)?;
                self.check_result(res.map(|_| ()), &a.expect_error, rep)?;
                Ok(())
            }
            Step::AddEndpointPolicy(p)
            | Step::RemoveEndpointPolicy(p)
            | Step::UpdateEndpointPolicy(p)
            | Step::AddNetworkPolicy(p)
            | Step::RemoveNetworkPolicy(p) => {
                let host = self.default_host(&p.host);
                let (req, kind) = match step {
                    Step::AddEndpointPolicy(_) => ("Add", ObjectKind::Endpoint),
                    Step::RemoveEndpointPolicy(_) => ("Remove", ObjectKind::Endpoint),
                    Step::UpdateEndpointPolicy(_) => ("Update", ObjectKind::Endpoint),
                    Step::AddNetworkPolicy(_) => ("Add", ObjectKind::Network),
                    _ => ("Remove", ObjectKind::Network),
                };
                let id = self.object_id(&p.target)?;
                let mut policies: Vec<Json> = Vec::with_capacity(p.policies.len());
                for v in &p.policies {
                    policies.push(expand_value(v, &mut Live(self))?);
                }
                let types: Vec<String> = policies
                    .iter()
                    .map(|v| v.get("Type").and_then(Json::as_str).unwrap_or("?").to_string())
                    .collect();
                rep.label = format!("{} [{}] on {} ({host})", step.kind(), types.join(", "), p.target);
                let doc =
                    json!({"ResourceType": "Policy", "RequestType": req, "Settings": {"Policies": policies}});
                let call = HcnCall::new(HcnOp::Object(Verb::Modify, kind), id, doc.to_string());
                let res = self.call(&host, &call)?;
                self.check_result(res.map(|_| ()), &p.expect_error, rep)?;
                Ok(())
            }
            Step::Container(c) => self.container(c, rep),
            Step::StopContainer(c) => {
                rep.label = format!("stop-container {}", c.name);
                let host = match self.names.get(&c.name) {
                    Some(Named::Container { host, .. }) => host.clone(),
                    _ => return Err(format!("`{}` is not a container", c.name).into()),
                };
                let hns = self.world.hns(&host)?;
                hns.stop_container(&c.name)?;
                Ok(())
            }
            Step::Listen(l) => {
                rep.label = format!("listen on {} {}", l.on, l.ports.join(" "));
                let place = self.place(&l.on)?;
                for p in &l.ports {
                    let (proto, port) = parse_port_spec(p)?;
                    self.world.listen(&place, l4(proto), port)?;
                }
                Ok(())
            }
            Step::Send(t) => self.traffic(t.proto.unwrap_or(Proto::Tcp), false, t, rep),
            Step::Connect(t) => self.traffic(Proto::Tcp, true, t, rep),
            Step::Udp(t) => self.traffic(Proto::Udp, true, t, rep),
            Step::Ping(t) => self.traffic(Proto::Icmp, true, t, rep),
            Step::Reachability(r) => self.reachability(r, rep),
            Step::Reach(r) => Ok(self.reach_step(r, rep)?),
            Step::ReachUnchanged(r) => Ok(self.reach_unchanged_step(r, rep)?),
            Step::HnsRestart(h) => self.fault(rep, Fault::HnsRestart { host: h.host.clone() }),
            Step::Reboot(h) => self.fault(rep, Fault::Reboot { host: h.host.clone() }),
            Step::LinkDown(h) => self.fault(rep, Fault::LinkDown { host: h.host.clone() }),
            Step::LinkUp(h) => self.fault(rep, Fault::LinkUp { host: h.host.clone() }),
            Step::HostDown(h) => self.fault(rep, Fault::HostDown { host: h.host.clone() }),
            Step::HostUp(h) => self.fault(rep, Fault::HostUp { host: h.host.clone() }),
            Step::Loss(l) => self.fault(
                rep,
                Fault::Loss {
                    segment: l.segment.clone(),
                    percent: l.percent,
                },
            ),
            Step::Latency(l) => {
                let ns = parse_duration(&l.delay)?;
                self.fault(
                    rep,
                    Fault::Latency {
                        segment: l.segment.clone(),
                        ns,
                    },
                )
            }
            Step::Partition(p) => {
                self.partitions.push((p.a.clone(), p.b.clone()));
                self.fault(
                    rep,
                    Fault::Partition {
                        a: p.a.clone(),
                        b: p.b.clone(),
                    },
                )
            }
            Step::Heal(h) => {
                let pairs: Vec<(String, String)> = match (&h.a, &h.b) {
                    (Some(a), Some(b)) => vec![(a.clone(), b.clone())],
                    _ => std::mem::take(&mut self.partitions),
                };
                rep.label = "heal".into();
                for (a, b) in pairs {
                    self.world.fault(Fault::Heal { a, b })?;
                }
                Ok(())
            }
            Step::Restore(s) => self.restore(s, rep),
            Step::Apply(_) | Step::Delete(_) | Step::KubeProxySync(_) | Step::Restart(_) => {
                Ok(kubernetes::step(self, step, rep)?)
            }
            Step::Advance(d) => {
                let ns = parse_duration(d)?;
                rep.label = format!("advance {d}");
                self.world.advance(ns);
                Ok(())
            }
        }
    }

    fn fault(&mut self, rep: &mut StepReport, f: Fault) -> Result<(), RunError> {
        rep.label = format!("{f:?}");
        self.world.fault(f)?;
        // Objects may be gone: names stay (their IDs can still be used, e.g. to see NOT_FOUND).
        Ok(())
    }

    /// Compare a call's result with `expect-error`.
    fn check_result(
        &mut self,
        res: Result<(), hnsim_model::HcnError>,
        expect_error: &Option<String>,
        rep: &mut StepReport,
    ) -> Result<(), RunError> {
        match (res, expect_error) {
            (Ok(()), None) => Ok(()),
            (Err(e), None) => Err(format!("HNS call failed: {e}").into()),
            (Ok(()), Some(want)) => {
                rep.checks
                    .push(Check::new("HNS error", want.clone(), "success", false));
                Ok(())
            }
            (Err(e), Some(want)) => {
                let code = parse_hresult(want).ok_or_else(|| format!("unknown HRESULT {want}"))?;
                let ok = e.code == code;
                rep.checks
                    .push(Check::new("HNS error", code.to_string(), e.to_string(), ok));
                Ok(())
            }
        }
    }

    fn hns_step(&mut self, kind: &str, s: &HnsStep, rep: &mut StepReport) -> Result<(), RunError> {
        let host = self.default_host(&s.host);
        let (verb_s, obj) = kind.split_once('-').unwrap_or((kind, ""));
        // Validation admitted only the kinds `object_kind` knows.
        let okind = object_kind(obj).ok_or_else(|| format!("unknown object kind in `{kind}`"))?;
        let verb = match verb_s {
            "create" => Verb::Create,
            "modify" | "update" => Verb::Modify,
            "delete" => Verb::Delete,
            _ => Verb::Query,
        };
        let mut doc = match &s.doc {
            Some(d) => expand_value(d, &mut Live(self))?,
            None if verb == Verb::Query => serde_json::from_str(DEFAULT_QUERY).map_err(|e| e.to_string())?,
            None => Json::Null,
        };
        if obj == "policylist" && verb == Verb::Create {
            doc = policylist_to_lb(&doc)?;
        }
        let id = match &s.target {
            Some(t) => self.object_id(t)?,
            None => String::new(),
        };
        let what = s
            .as_
            .clone()
            .or_else(|| s.target.clone())
            .or_else(|| doc.get("Name").and_then(Json::as_str).map(str::to_string))
            .unwrap_or_default();
        let label = format!("{kind} {what} on {host}");
        // (`str::contains` with a two-character pattern builds a searcher per call.)
        rep.label = if label.as_bytes().windows(2).any(|w| w == b"  ") {
            label.replace("  ", " ")
        } else {
            label
        };
        let res = self.hns_call(&host, verb, okind, &id, doc)?;
        match (&res, &s.expect_error) {
            (Err(_), _) | (Ok(_), Some(_)) => {
                return self.check_result(res.map(|_| ()), &s.expect_error, rep);
            }
            _ => {}
        }
        let reply = res.map_err(|e| e.to_string())?;
        // The object's current document: the create/query reply, or a fresh query.
        let current: Option<Arc<Doc>> = match verb {
            Verb::Create | Verb::Query if reply.is_some() => reply.map(Arc::new),
            Verb::Delete => None,
            _ => {
                let q = HcnCall::new(HcnOp::Object(Verb::Query, okind), id.clone(), DEFAULT_QUERY);
                self.call(&host, &q)?
                    .ok()
                    .and_then(|r| serde_json::from_str::<Json>(&r).ok())
                    .map(|v| Arc::new(v.into()))
            }
        };
        if let (Some(name), Some(cur)) = (&s.as_, &current) {
            let gid = cur.id().unwrap_or_default();
            // What this call changed is in the journal: take it in before binding, so that the
            // fresh document is not marked stale by its own create.
            self.fresh.follow(&self.world, &self.names, &host);
            self.bind(
                name,
                Named::Object {
                    host: host.clone(),
                    kind: okind,
                    id: gid,
                },
            );
            self.vars.insert(name.clone(), cur.clone());
        }
        for (path, want) in &s.expect {
            let want = expand_value(want, &mut Live(self))?;
            let got = current.as_ref().and_then(|c| lookup(c.json(), path)).cloned();
            rep.checks.push(compare_field(path, &want, got.as_ref()));
        }
        rep.reply = current;
        Ok(())
    }

    /// `restore:` (logic in restore.rs): import the objects, then bind the step's names.
    fn restore(&mut self, s: &super::restore::RestoreStep, rep: &mut StepReport) -> Result<(), RunError> {
        let host = self.default_host(&s.host);
        rep.label = format!("restore {} object(s) on {host}", s.objects.len());
        let hns = self.world.hns(&host)?;
        let (_, mut reply) = super::restore::apply(hns, s)?;
        // Restored state skips validation: values the dataplane cannot build are reported here
        // (they are left out of the program, never defaulted). Absent when there are none.
        let compile_errors = self.world.compile_errors(&host)?;
        if !compile_errors.is_empty() {
            reply["CompileErrors"] = json!(compile_errors);
        }
        let hns = self.world.hns(&host)?;
        let mut bound = Vec::new();
        for (name, id) in &s.names {
            let id: Guid = id.parse().map_err(|_| format!("names.{name}: not a GUID"))?;
            let found = [
                ObjectKind::Endpoint,
                ObjectKind::Network,
                ObjectKind::LoadBalancer,
                ObjectKind::Namespace,
                ObjectKind::SdnRoute,
            ]
            .into_iter()
            .find_map(|k| hns.document(k, &id).ok().map(|d| (k, d)));
            if let Some((kind, doc)) = found {
                bound.push((name, kind, id, doc));
            }
        }
        for (name, kind, id, doc) in bound {
            let object = Named::Object {
                host: host.clone(),
                kind,
                id,
            };
            self.bind(name, object);
            self.vars.insert(name.clone(), Arc::new(doc.into()));
        }
        rep.reply = Some(Arc::new(reply.into()));
        Ok(())
    }

    fn list(&mut self, s: &ListStep, rep: &mut StepReport) -> Result<(), RunError> {
        let host = self.default_host(&s.host);
        let kind = object_kind(&s.kind).ok_or("unknown kind")?;
        rep.label = format!("list {} on {host}", s.kind);
        let mut q = json!({"SchemaVersion": {"Major": 2, "Minor": 0}});
        if !s.filter.is_empty() {
            let mut f = serde_json::Map::new();
            for (k, v) in &s.filter {
                f.insert(k.clone(), expand_value(v, &mut Live(self))?);
            }
            q["Filter"] = Json::String(Json::Object(f).to_string());
        }
        let call = HcnCall::new(HcnOp::Object(Verb::Enumerate, kind), "", q.to_string());
        let reply = self
            .call(&host, &call)?
            .map_err(|e| format!("HNS call failed: {e}"))?;
        let ids: Json = serde_json::from_str(&reply).map_err(|e| e.to_string())?;
        let n = ids.as_array().map(Vec::len).unwrap_or(0);
        if let Some(want) = s.expect_count {
            rep.checks.push(Check::eq("object count", want, n));
        }
        rep.reply = Some(Arc::new(ids.into()));
        Ok(())
    }

    fn container(&mut self, c: &ContainerStep, rep: &mut StepReport) -> Result<(), RunError> {
        let host = self.default_host(&c.host);
        let iso = match c.isolation {
            Isolation::Process => HcsIsolation::Process,
            Isolation::Hyperv => HcsIsolation::HyperV,
        };
        let iso_name = match c.isolation {
            Isolation::Process => "process",
            Isolation::Hyperv => "hyperv",
        };
        rep.label = format!("container {} ({iso_name}) on {host}", c.name);
        let mut eps = Vec::with_capacity(c.endpoints.len());
        for e in &c.endpoints {
            let id = match self.names.get(e) {
                Some(Named::Object { id, .. }) => *id,
                _ => self.object_id(e)?.parse::<Guid>().map_err(|e| e.to_string())?,
            };
            eps.push(id);
        }
        let hns = self.world.hns(&host)?;
        let res = hns
            .create_container(&c.name, iso, &eps)
            .and_then(|_| hns.start_container(&c.name));
        let failed = res.is_err();
        self.check_result(res, &c.expect_error, rep)?;
        if failed {
            return Ok(());
        }
        let hns = self.world.hns(&host)?;
        let ips: Vec<IpAddr> = eps.iter().flat_map(|g| hns.endpoint_ips(g)).collect();
        for g in &eps {
            self.ep_container.insert(*g, c.name.clone());
        }
        self.vars.remove(&c.name);
        let unread = Some((eps, ips));
        self.bind(&c.name, Named::Container { host, unread });
        let place = Place::Container(c.name.clone());
        for l in &c.listen {
            let (p, port) = parse_port_spec(l)?;
            self.world.listen(&place, l4(p), port)?;
        }
        Ok(())
    }

    /// A name (or address) as a place traffic starts from or is delivered to.
    fn place(&self, name: &str) -> Result<Place, NameError> {
        if let Some(host) = self.k8s.as_ref().and_then(|k| k.source_host(name)) {
            return host.map(Place::Host).map_err(NameError::Cluster);
        }
        match self.names.get(name) {
            Some(Named::Host) => Ok(Place::Host(name.to_string())),
            Some(Named::Station) => Ok(Place::Station(name.to_string())),
            Some(Named::Container { .. }) => Ok(Place::Container(name.to_string())),
            Some(Named::Object {
                kind: ObjectKind::Endpoint,
                id,
                ..
            }) => Ok(Place::Endpoint(*id)),
            Some(other) => Err(NameError::NotAPlace {
                name: name.to_string(),
                is: other.clone(),
            }),
            None => Err(NameError::Undefined(name.to_string())),
        }
    }

    /// The address of a named place: a host's or station's uplink address, a container's or
    /// endpoint's first IP.
    fn address_of(&mut self, name: &str) -> Result<IpAddr, NameError> {
        if let Some(v) = self.vars_for([name]).get(name).map(|d| d.json()) {
            let ip = v
                .get("IpAddress")
                .and_then(Json::as_str)
                .map(str::to_string)
                .or_else(|| {
                    lookup(v, "IpConfigurations[0].IpAddress")
                        .and_then(Json::as_str)
                        .map(str::to_string)
                });
            if let Some(ip) = ip {
                return ip.parse().map_err(|_| NameError::NotAnAddress {
                    name: name.to_string(),
                    value: ip,
                });
            }
        }
        if let Some(Named::Object {
            host,
            kind: ObjectKind::Endpoint,
            id,
        }) = self.names.get(name).cloned()
        {
            let hns = self.world.hns(&host)?;
            if let Some(ip) = hns.endpoint_ips(&id).next() {
                return Ok(ip);
            }
        }
        Err(NameError::NoAddress(name.to_string()))
    }

    fn destination(&mut self, to: &str, proto: Proto) -> Result<(IpAddr, Option<u16>), RunError> {
        let proto = if proto == Proto::Udp { "UDP" } else { "TCP" };
        let named = self.k8s.as_ref().and_then(|k| k.resolve_port_name(to, proto));
        let to = &named.transpose()?.unwrap_or_else(|| to.to_string());
        let (t, port) = parse_target(to)?;
        let ip = match t {
            Target::Addr(a) => a,
            Target::Name(n) if n.contains("${") => {
                let v = expand_str(&n, &mut Live(self))?;
                let s = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                s.parse()
                    .map_err(|_| format!("`{n}` expands to {s:?}, not an IP address"))?
            }
            Target::Name(n) => self.address_of(&n)?,
        };
        Ok((ip, port))
    }

    /// The scenario names a trace's receiver answers to: the raw id, the endpoint's `as:` name,
    /// the container using it, the host or station name.
    fn receiver_names(&self, raw: &str) -> Vec<String> {
        let mut out = vec![raw.to_string()];
        for prefix in ["host:", "station:", "container:", "endpoint:"] {
            if let Some(r) = raw.strip_prefix(prefix) {
                out.push(r.to_string());
            }
        }
        let bare = out.last().cloned().unwrap_or_default();
        if let Ok(g) = bare.parse::<Guid>() {
            for name in self.names_of.get(&g).into_iter().flat_map(BTreeMap::keys) {
                out.push(name.clone());
                if let Some(c) = self.ep_container.get(&g) {
                    out.push(c.clone());
                }
            }
        }
        out.dedup();
        out
    }

    /// The primary scenario name of a receiver (for messages and tables).
    fn receiver_label(&self, raw: &str) -> String {
        let names = self.receiver_names(raw);
        names.last().cloned().unwrap_or_else(|| raw.to_string())
    }

    fn traffic(
        &mut self,
        proto: Proto,
        exchange: bool,
        t: &TrafficStep,
        rep: &mut StepReport,
    ) -> Result<(), RunError> {
        rep.label = format!("{} {} -> {}", rep.kind, t.from, t.to);
        let from = self.place(&t.from)?;
        let (dst, port) = self.destination(&t.to, proto)?;
        let port = port.unwrap_or(0);
        rep.label = format!(
            "{} {} -> {} ({dst}{})",
            rep.kind,
            t.from,
            t.to,
            if proto == Proto::Icmp {
                String::new()
            } else {
                format!(":{port}/{}", l4(proto))
            }
        );
        let expect = t.expect.clone().unwrap_or_else(|| Expect {
            disposition: Some("Delivered".into()),
            reply: exchange.then(|| "Delivered".to_string()),
            ..Default::default()
        });
        // The addresses `seen` compares with are read once, before the packets.
        let seen_refs: Vec<String> = [&expect.seen, &expect.reply_seen]
            .into_iter()
            .flatten()
            .flat_map(|s| [&s.src, &s.dst])
            .flatten()
            .flat_map(|a| references(a).unwrap_or_default())
            .collect();
        self.vars_for(seen_refs);
        if let Some(bulk) = Bulk::of(t) {
            let req = SendRequest {
                from: from.clone(),
                dst,
                proto: l4(proto),
                src_port: t.src_port,
                dst_port: port,
                data_len: t.size.unwrap_or(64).min(u16::MAX as u32) as u16,
                dont_fragment: t.df.unwrap_or(false),
                ttl: t.ttl,
            };
            return self.bulk(bulk, req, &expect, t, rep);
        }
        let n = t.repeat.unwrap_or(1);
        let mut receivers: Vec<String> = Vec::new();
        for k in 0..n {
            let src_port = match (t.src_port, n) {
                (Some(p), 1) => Some(p),
                (Some(p), _) => Some(p.wrapping_add(k as u16)),
                (None, 1) => None,
                (None, _) => {
                    self.next_port = self.next_port.wrapping_add(1).max(49152);
                    Some(self.next_port)
                }
            };
            let req = SendRequest {
                from: from.clone(),
                dst,
                proto: l4(proto),
                src_port,
                dst_port: port,
                data_len: t.size.unwrap_or(64).min(u16::MAX as u32) as u16,
                dont_fragment: t.df.unwrap_or(false),
                ttl: t.ttl,
            };
            let ex = self.world.send(&req)?;
            let tag = if n > 1 {
                format!("[{}] ", k + 1)
            } else {
                String::new()
            };
            self.check_exchange(&tag, &expect, &ex, rep);
            if let Some(r) = &ex.request.delivered_to {
                receivers.push(self.receiver_label(r));
            } else {
                receivers.push("-".into());
            }
            rep.exchanges.push(self.k8s_labelled(ex));
        }
        if let Some(same) = expect.same_receiver {
            let all_same = receivers.windows(2).all(|w| w[0] == w[1]);
            rep.checks.push(Check::new(
                "same receiver",
                if same { "all the same" } else { "not all the same" },
                format!(
                    "{} ({})",
                    if all_same {
                        "all the same"
                    } else {
                        "not all the same"
                    },
                    receivers.join(", ")
                ),
                all_same == same,
            ));
        }
        Ok(())
    }

    /// The world's topology for pictures, with the scenario's `as:` names and any display names.
    pub fn topology(&self) -> crate::view::Topology {
        let mut t = crate::view::Topology::of(&self.world, &self.names_by_guid());
        t.apply_display_names(&self.display_names);
        t
    }

    /// Every HNS object named with `as:` (by its GUID) and every container, for rendering
    /// traces with names instead of GUIDs.
    pub fn names_by_guid(&self) -> BTreeMap<Guid, String> {
        let mut out = BTreeMap::new();
        for (name, n) in &self.names {
            if let Named::Object { id, .. } = n {
                out.entry(*id).or_insert_with(|| name.clone());
            }
        }
        out
    }

    /// Send one packet (for `hnsim trace`): `from` is a scenario name, `to` is `ADDR:PORT`,
    /// `NAME:PORT`, or an address/name for icmp.
    pub fn send_one(&mut self, from: &str, to: &str, proto: Proto) -> Result<Exchange, RunError> {
        let place = self.place(from)?;
        let (dst, port) = self.destination(to, proto)?;
        if proto != Proto::Icmp && port.is_none() {
            return Err(format!("expected ADDR:PORT for {}, found `{to}`", l4(proto)).into());
        }
        let req = SendRequest {
            from: place,
            dst,
            proto: l4(proto),
            src_port: None,
            dst_port: port.unwrap_or(0),
            data_len: 64,
            dont_fragment: false,
            ttl: None,
        };
        let ex = self.world.send(&req)?;
        Ok(self.k8s_labelled(ex))
    }

    /// In a Kubernetes scenario, an exchange whose HNS objects name their Service, slice or pod.
    fn k8s_labelled(&self, mut ex: Exchange) -> Exchange {
        if let Some(k) = &self.k8s {
            k.label_exchange(&mut ex);
        }
        ex
    }

    fn check_exchange(&self, tag: &str, e: &Expect, ex: &Exchange, rep: &mut StepReport) {
        let req = &ex.request;
        if let Some(d) = &e.disposition {
            rep.checks.push(Check::new(
                format!("{tag}disposition"),
                d.clone(),
                req.disposition.to_string(),
                req.disposition.name() == d,
            ));
        }
        if let Some(to) = &e.delivered_to {
            let want = to.items();
            let got = req
                .delivered_to
                .as_deref()
                .map(|r| self.receiver_names(r))
                .unwrap_or_default();
            let ok = want.iter().any(|w| got.iter().any(|g| g == w));
            let actual = req
                .delivered_to
                .as_deref()
                .map(|r| self.receiver_label(r))
                .unwrap_or_else(|| "nobody".into());
            rep.checks.push(Check::new(
                format!("{tag}delivered to"),
                want.join(" or "),
                actual,
                ok,
            ));
        }
        if let Some(seen) = &e.seen {
            check_seen(
                &format!("{tag}seen by receiver"),
                seen,
                req.seen.as_ref(),
                &self.vars,
                rep,
            );
        }
        let texts: Vec<(String, String)> = req
            .steps()
            .map(|s| {
                let v = serde_json::to_value(s).unwrap_or(Json::Null);
                let kind = v.get("step").and_then(Json::as_str).unwrap_or("").to_string();
                (kind, s.to_string())
            })
            .collect();
        for want in &e.path_contains {
            let hit = texts.iter().any(|(k, t)| k == want || t.contains(want.as_str()));
            rep.checks.push(Check::new(
                format!("{tag}path contains"),
                want.clone(),
                if hit { want.clone() } else { "absent".into() },
                hit,
            ));
        }
        for want in &e.path_excludes {
            let hit = texts.iter().find(|(k, t)| k == want || t.contains(want.as_str()));
            rep.checks.push(Check::new(
                format!("{tag}path excludes"),
                format!("no {want}"),
                hit.map(|(_, t)| t.clone())
                    .unwrap_or_else(|| format!("no {want}")),
                hit.is_none(),
            ));
        }
        if let Some(r) = &e.reason {
            let text = req.disposition.to_string();
            let ok = text.contains(r.as_str());
            rep.checks.push(Check::new(
                format!("{tag}drop reason"),
                format!("contains {r:?}"),
                text,
                ok,
            ));
        }
        if let Some(want) = &e.reply {
            let actual = ex
                .reply
                .as_ref()
                .map(|r| r.disposition.to_string())
                .unwrap_or_else(|| "none".into());
            let ok = match &ex.reply {
                None => want == "none",
                Some(r) => r.disposition.name() == want,
            };
            rep.checks
                .push(Check::new(format!("{tag}reply"), want.clone(), actual, ok));
        }
        if let Some(seen) = &e.reply_seen {
            check_seen(
                &format!("{tag}reply seen by sender"),
                seen,
                ex.reply.as_ref().and_then(|r| r.seen.as_ref()),
                &self.vars,
                rep,
            );
        }
    }

    fn reachability(&mut self, r: &ReachabilityStep, rep: &mut StepReport) -> Result<(), RunError> {
        let proto = r.proto.unwrap_or(Proto::Tcp);
        let port = r.port.unwrap_or(0);
        rep.label = format!(
            "reachability {} × {} {}{}",
            r.from.len(),
            r.to.len(),
            l4(proto),
            if proto == Proto::Icmp {
                String::new()
            } else {
                format!("/{port}")
            }
        );
        let mut observed = Vec::new();
        let mut expected = Vec::new();
        for f in &r.from {
            let from = self.place(f)?;
            let mut row = Vec::new();
            for t in &r.to {
                let dst = match t.parse::<IpAddr>() {
                    Ok(a) => a,
                    Err(_) => self.address_of(t)?,
                };
                let req = SendRequest {
                    from: from.clone(),
                    dst,
                    proto: l4(proto),
                    src_port: None,
                    dst_port: port,
                    data_len: 64,
                    dont_fragment: false,
                    ttl: None,
                };
                let ex = self.world.send(&req)?;
                row.push(if ex.completed() { '.' } else { 'X' });
                rep.exchanges.push(self.k8s_labelled(ex));
            }
            observed.push(row);
            let want: Vec<char> = r
                .expect
                .get(f)
                .map(|s| {
                    s.split_whitespace()
                        .map(|c| if c == "." { '.' } else { 'X' })
                        .collect()
                })
                .unwrap_or_default();
            expected.push(want);
        }
        for (i, f) in r.from.iter().enumerate() {
            for (j, t) in r.to.iter().enumerate() {
                let e = expected[i].get(j).copied().unwrap_or('?');
                let o = observed[i][j];
                if e != o {
                    rep.checks.push(Check::new(
                        format!("{f} -> {t}"),
                        if e == '.' { "reachable" } else { "not reachable" },
                        if o == '.' { "reachable" } else { "not reachable" },
                        false,
                    ));
                }
            }
        }
        let cells = r.from.len() * r.to.len();
        let bad = rep.checks.len();
        rep.checks
            .push(Check::eq("table cells matching", cells, cells - bad.min(cells)));
        rep.table = Some(Table {
            from: r.from.clone(),
            to: r.to.clone(),
            expected,
            observed,
        });
        Ok(())
    }
}

/// Expected receiver view with addresses resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SeenWant {
    src: Option<IpAddr>,
    src_port: Option<u16>,
    dst: Option<IpAddr>,
    dst_port: Option<u16>,
}

impl SeenWant {
    fn show(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = self.src {
            parts.push(format!("src {a}"));
        }
        if let Some(p) = self.src_port {
            parts.push(format!("src-port {p}"));
        }
        if let Some(a) = self.dst {
            parts.push(format!("dst {a}"));
        }
        if let Some(p) = self.dst_port {
            parts.push(format!("dst-port {p}"));
        }
        parts.join(", ")
    }
}

/// What the hosts' change journals said since the runner last looked, for telling which
/// named objects changed after their name's value was read.
#[derive(Default)]
struct Freshness {
    /// Change-journal entries taken in so far, and per object the count at its last entry: a
    /// bound name read before its object's last change is stale.
    changes_seen: u64,
    changed_at: FastMap<Guid, u64>,
    /// Names stale whatever the counts say: the named objects of a host whose journal could
    /// not say what changed.
    stale: BTreeSet<String>,
    /// Each host's change-journal position as of the last look.
    journal_at: BTreeMap<String, Cursor>,
}

impl Freshness {
    /// Take in what a host's HNS changed since the last look: count the journal's entries and
    /// note each object's last one, or mark every named object of the host stale when the
    /// journal cannot say.
    fn follow(&mut self, world: &World, names: &BTreeMap<String, Named>, host: &str) {
        let Ok(hns) = world.hns_ref(host) else {
            return;
        };
        let now = hns.journal_cursor();
        match self.journal_at.get(host).and_then(|c| hns.changes_since(*c)) {
            Some(changes) => {
                for c in changes {
                    let (Change::Network(g)
                    | Change::Endpoint(g)
                    | Change::LoadBalancer(g)
                    | Change::Namespace(g)
                    | Change::Route(g)) = c;
                    self.changes_seen += 1;
                    self.changed_at.insert(*g, self.changes_seen);
                }
            }
            None => {
                for (n, v) in names {
                    if matches!(v, Named::Object { host: h, .. } if h == host) {
                        self.stale.insert(n.clone());
                    }
                }
            }
        }
        match self.journal_at.get_mut(host) {
            Some(at) => *at = now,
            None => {
                self.journal_at.insert(host.to_string(), now);
            }
        }
    }
}

/// A container's `${name…}` value: its name, host, first and all addresses, endpoints.
fn container_value(name: &str, host: &str, eps: &[Guid], ips: &[IpAddr]) -> Json {
    let ips: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    json!({"ID": name, "Host": host, "IpAddress": ips.first().cloned().unwrap_or_default(),
           "IpAddresses": ips, "Endpoints": eps.iter().map(|g| g.to_string()).collect::<Vec<_>>()})
}

/// The runner's variables as expressions read them: a named object's value is brought up to
/// date ([`Runner::read_named`]) when an expression first uses it.
struct Live<'r, 'a>(&'r mut Runner<'a>);

impl Vars for Live<'_, '_> {
    fn var(&mut self, name: &str) -> Option<&Json> {
        self.0.read_named(name);
        self.0.vars.get(name).map(|v| v.json())
    }
}

/// Values read as they are (the addresses `seen` compares with, read before the packets).
struct Fixed<'v>(&'v BTreeMap<String, Arc<Doc>>);

impl Vars for Fixed<'_> {
    fn var(&mut self, name: &str) -> Option<&Json> {
        self.0.get(name).map(|v| v.json())
    }
}

fn resolve_addr(s: &Option<String>, vars: &BTreeMap<String, Arc<Doc>>) -> Result<Option<IpAddr>, String> {
    let Some(s) = s else { return Ok(None) };
    let v = expand_str(s, &mut Fixed(vars))?;
    let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    text.parse()
        .map(Some)
        .map_err(|_| format!("`{s}` is {text:?}, not an IP address"))
}

fn check_seen(
    what: &str,
    want: &Seen,
    got: Option<&crate::trace::Seen>,
    vars: &BTreeMap<String, Arc<Doc>>,
    rep: &mut StepReport,
) {
    let want = match (resolve_addr(&want.src, vars), resolve_addr(&want.dst, vars)) {
        (Ok(src), Ok(dst)) => SeenWant {
            src,
            src_port: want.src_port,
            dst,
            dst_port: want.dst_port,
        },
        (Err(e), _) | (_, Err(e)) => {
            rep.checks
                .push(Check::new(what, "a resolvable address", e, false));
            return;
        }
    };
    let Some(g) = got else {
        rep.checks.push(Check::new(
            what,
            want.show(),
            "nothing seen (not delivered)",
            false,
        ));
        return;
    };
    let actual = SeenWant {
        src: want.src.map(|_| g.src),
        src_port: want.src_port.map(|_| g.src_port),
        dst: want.dst.map(|_| g.dst),
        dst_port: want.dst_port.map(|_| g.dst_port),
    };
    rep.checks
        .push(Check::new(what, want.show(), actual.show(), actual == want));
}

fn compare_field(path: &str, want: &Json, got: Option<&Json>) -> Check {
    let show = |v: Option<&Json>| match v {
        None => "absent".to_string(),
        Some(Json::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let ok = match (want, got) {
        (Json::Null, None) | (Json::Null, Some(Json::Null)) => true,
        (Json::String(a), Some(Json::String(b))) => a == b,
        // `Flags: 8` written in YAML against a number in HNS's JSON.
        (Json::Number(a), Some(Json::Number(b))) => a.as_f64() == b.as_f64(),
        (a, Some(b)) => a == b,
        _ => false,
    };
    Check::new(
        format!("reply {path}"),
        show(Some(want)).replace("null", "absent"),
        show(got),
        ok,
    )
}

/// Why a `create-policylist` document does not become a load balancer. `Display` is the
/// report's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyListError {
    /// `References` or `Policies` is missing or not a list.
    #[error("a policy list needs `{0}` (a list)")]
    NotAList(&'static str),
    /// The model's v1 reader refused the document.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// A list without ELB port mappings (a ROUTE policy list, or no policy at all).
    #[error("this model maps only ELB policy lists; found no policy with Type ELB")]
    NoElb,
}

/// v1 `{References: ["/endpoints/<id>"], Policies: [{Type: ELB, …}]}` → a HostComputeLoadBalancer
/// (hns-schema.md §5.6, §5.8: ELB policy lists and v2 load balancers are the same objects),
/// converted by the model's own v1 reader.
pub fn policylist_to_lb(doc: &Json) -> Result<Json, PolicyListError> {
    for key in ["References", "Policies"] {
        if !doc.get(key).is_some_and(Json::is_array) {
            return Err(PolicyListError::NotAList(key));
        }
    }
    match policy_list_from_v1(doc, "$")? {
        PolicyListV2::LoadBalancer(lb) if !lb.port_mappings.is_empty() => Ok(encode_load_balancer(&lb)),
        _ => Err(PolicyListError::NoElb),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A create step's reply is the model's object, written as JSON only when something reads
    /// it (an expression, the report). Here nothing does until the report is written: the
    /// networks' `${vx1.ID}` reads a fresh query, as the network policy steps changed them.
    #[test]
    fn create_replies_are_written_when_read() {
        let text = super::super::synth::overlay_pods(2, 2);
        let l = super::super::load_str("pods", &text).unwrap();
        let r = run(&l, &RunOptions::default());
        assert!(r.ok());
        let written = |kind: &str| -> Vec<bool> {
            r.steps
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| s.reply.as_ref().expect("a reply").json.get().is_some())
                .collect()
        };
        assert_eq!(written("create-network"), [false, false]);
        assert_eq!(written("create-endpoint"), [false; 4]);
        let report = serde_json::to_value(&r).unwrap();
        let first = r.steps.iter().position(|s| s.kind == "create-endpoint").unwrap();
        let reply = &report["steps"][first]["reply"];
        assert_eq!(reply["Name"], "p1_0");
        assert_eq!(reply["IpConfigurations"][0]["IpAddress"], "10.1.1.2");
        assert_eq!(written("create-endpoint"), [true; 4]);
    }

    /// A step's error text is what the report shows: the same words whether the error came from
    /// the world, from HNS or from the step itself.
    #[test]
    fn run_errors_read_as_their_cause() {
        let unknown = UnknownName {
            kind: "host",
            name: "node9".into(),
        };
        assert_eq!(RunError::from(unknown.clone()).to_string(), unknown.to_string());
        let hcn = HcnError {
            code: hnsim_model::hresult::HResult::HCN_E_INVALID_POLICY,
            message: "RemoteSubnetRoute: ProviderAddress must be an IP address".into(),
        };
        assert_eq!(RunError::from(hcn.clone()).to_string(), hcn.to_string());
        assert_eq!(
            RunError::from("`x` is not defined").to_string(),
            "`x` is not defined"
        );
    }

    /// A name that is not a place or has no address: typed for the code, the same words for the
    /// report.
    #[test]
    fn name_errors_read_as_before() {
        let cases = [
            (NameError::Undefined("x".into()), "`x` is not defined"),
            (
                NameError::NotAPlace {
                    name: "r1".into(),
                    is: Named::Router,
                },
                "`r1` is Router, not a place traffic can start from",
            ),
            (
                NameError::NotAnAddress {
                    name: "ep".into(),
                    value: "ten".into(),
                },
                "`ep` has address \"ten\", not an IP",
            ),
            (NameError::NoAddress("net".into()), "`net` has no IP address"),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!(RunError::from(e).to_string(), text);
        }
        let unknown = UnknownName {
            kind: "host",
            name: "node9".into(),
        };
        let e = RunError::from(NameError::from(unknown.clone()));
        assert!(matches!(e, RunError::World(WorldError::Unknown(_))));
        assert_eq!(e.to_string(), unknown.to_string());
    }

    #[test]
    fn elb_policy_list_maps_to_a_load_balancer() {
        let v1 = json!({"References": ["/endpoints/AB", "/endpoints/CD"],
            "Policies": [{"Type": "ELB", "ILB": true, "IsDSR": true, "SourceVIP": "10.0.1.3", "VIPs": ["10.0.1.2"],
                          "Protocol": 6, "InternalPort": 80, "ExternalPort": 8080}]});
        let lb = policylist_to_lb(&v1).unwrap();
        assert_eq!(lb["HostComputeEndpoints"], json!(["AB", "CD"]));
        assert_eq!(lb["FrontendVIPs"], json!(["10.0.1.2"]));
        assert_eq!(lb["SourceVIP"], json!("10.0.1.3"));
        assert_eq!(lb["Flags"], json!(1));
        assert_eq!(
            lb["PortMappings"][0],
            json!({"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080, "Flags": 1})
        );
        let route =
            json!({"References": [], "Policies": [{"Type": "ROUTE", "DestinationPrefix": "10.0.0.0/8"}]});
        assert_eq!(policylist_to_lb(&route), Err(PolicyListError::NoElb));
        assert_eq!(
            RunError::from(PolicyListError::NoElb).to_string(),
            "this model maps only ELB policy lists; found no policy with Type ELB"
        );
        let missing = policylist_to_lb(&json!({"References": []}));
        assert_eq!(missing, Err(PolicyListError::NotAList("Policies")));
        assert_eq!(
            RunError::from(missing.unwrap_err()).to_string(),
            "a policy list needs `Policies` (a list)"
        );
        // v1 spellings the model reads everywhere else: protocol names, keys in any case.
        let named = json!({"References": ["/endpoints/AB"],
            "Policies": [{"type": "elb", "Protocol": "TCP", "internalPort": "80", "ExternalPort": 8080}]});
        assert_eq!(
            policylist_to_lb(&named).unwrap()["PortMappings"][0],
            json!({"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080})
        );
        // A reference that is not a string is an error with its path, not an empty endpoint ID.
        let bad = json!({"References": [7], "Policies": [{"Type": "ELB"}]});
        let e = policylist_to_lb(&bad).unwrap_err();
        assert!(
            matches!(&e, PolicyListError::Doc(d) if d.path == "$.References[0]"),
            "{e}"
        );
        assert_eq!(RunError::from(e.clone()).to_string(), e.to_string());
    }

    #[test]
    fn field_comparison() {
        assert!(compare_field("Flags", &json!(8), Some(&json!(8))).ok);
        assert!(!compare_field("Flags", &json!(8), Some(&json!(9))).ok);
        assert!(compare_field("MacAddress", &Json::Null, None).ok);
        assert!(!compare_field("MacAddress", &Json::Null, Some(&json!("00-15-5D-00-00-01"))).ok);
        let c = compare_field("Name", &json!("nat"), None);
        assert_eq!((c.ok, c.actual.as_str()), (false, "absent"));
    }
}
