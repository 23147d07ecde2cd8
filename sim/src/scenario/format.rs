//! The scenario file format (docs/scenario-format.md): serde types with the exact YAML keys.
//!
//! Every struct denies unknown keys (the parser turns serde's message into "unknown key `x` …
//! did you mean `y`?" with a location). HNS documents are kept as raw YAML values: they are
//! HNS's own v2 or v1 JSON shapes, checked by the model when the step runs.

use hnsim_model::Mac;
use indexmap::IndexMap;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_yaml::Value;
use std::net::IpAddr;

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The RNG seed; `--seed` on the command line overrides it.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The reference this scenario reproduces, e.g. `consumers.md §7 S3`.
    #[serde(default)]
    pub reference: Option<String>,
    /// Outcomes in this scenario that are inferred rather than documented.
    #[serde(default)]
    pub inferred: Vec<String>,
    #[serde(default)]
    pub underlay: Underlay,
    pub hosts: IndexMap<String, HostDef>,
    #[serde(default)]
    pub stations: IndexMap<String, StationDef>,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The Kubernetes cluster (docs/scenario-format.md "Kubernetes"); read by `kubernetes.rs`.
    #[serde(default)]
    pub kubernetes: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Underlay {
    #[serde(default)]
    pub segments: IndexMap<String, SegmentDef>,
    #[serde(default)]
    pub routers: IndexMap<String, RouterDef>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SegmentDef {
    pub prefix: IpNet,
    #[serde(default)]
    pub mtu: Option<u16>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RouterDef {
    pub interfaces: Vec<RouterInterface>,
    /// Where packets for unknown prefixes go (e.g. an Internet segment's far side).
    #[serde(default)]
    pub default_route: Option<IpAddr>,
    /// Static routes of the router: `prefix` via `via` (an address on one of its segments).
    #[serde(default)]
    pub routes: Vec<RouteDef>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RouterInterface {
    pub segment: String,
    pub ip: IpAddr,
    #[serde(default)]
    pub mac: Option<Mac>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RouteDef {
    pub prefix: IpNet,
    pub via: IpAddr,
}

/// A Windows host: its uplink, its HNS version and the settings for inferred behaviours.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HostDef {
    /// The underlay segment of the uplink; optional when the underlay has exactly one segment.
    #[serde(default)]
    pub segment: Option<String>,
    pub ip: IpAddr,
    #[serde(default)]
    pub mac: Option<Mac>,
    #[serde(default)]
    pub gateway: Option<IpAddr>,
    #[serde(default)]
    pub mtu: Option<u16>,
    /// HNS service version `MAJOR.MINOR` (gates features; hns-schema.md §4.6). Default 15.4.
    #[serde(default)]
    pub hns_version: Option<String>,
    /// Host settings for behaviours HNS does not document (see docs/scenario-format.md).
    #[serde(default)]
    pub settings: IndexMap<String, Value>,
    /// OS routes on the host (e.g. flannel host-gw's remote pod subnets).
    #[serde(default)]
    pub routes: Vec<RouteDef>,
    /// Ports a process on the host listens on: `tcp/10250`, `udp/53`.
    #[serde(default)]
    pub listen: Vec<String>,
}

/// A plain machine on the underlay (a client, an Internet server).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StationDef {
    #[serde(default)]
    pub segment: Option<String>,
    pub ip: IpAddr,
    #[serde(default)]
    pub mac: Option<Mac>,
    #[serde(default)]
    pub gateway: Option<IpAddr>,
    #[serde(default)]
    pub listen: Vec<String>,
}

/// Declares [`Step`] from one table of `Variant(Settings) = "yaml-key"`, so the enum, its YAML
/// keys, [`Step::kind`], [`Step::KINDS`] and the reader cannot drift apart.
macro_rules! steps {
    ($($(#[$m:meta])* $variant:ident($ty:ty) = $key:literal,)*) => {
        /// One step. Each step is a one-key map: the key says what the step does.
        #[derive(Clone, Debug, Serialize)]
        pub enum Step {
            $($(#[$m])* #[serde(rename = $key)] $variant($ty),)*
        }

        impl Step {
            /// The step's key as written in YAML.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Step::$variant(_) => $key,)*
                }
            }

            /// Every step key, for suggestions and the JSON schema.
            pub const KINDS: &'static [&'static str] = &[$($key),*];

            /// Read the value of the step whose key is `key`; `None` for an unknown key.
            fn read_value<'de, A: serde::de::MapAccess<'de>>(key: &str, map: &mut A) -> Result<Option<Step>, A::Error> {
                Ok(Some(match key {
                    $($key => Step::$variant(map.next_value()?),)*
                    _ => return Ok(None),
                }))
            }
        }
    };
}

steps! {
    // HNS objects: create / modify / delete / query, for each object kind.
    CreateNetwork(HnsStep) = "create-network",
    ModifyNetwork(HnsStep) = "modify-network",
    DeleteNetwork(HnsStep) = "delete-network",
    QueryNetwork(HnsStep) = "query-network",
    CreateEndpoint(HnsStep) = "create-endpoint",
    ModifyEndpoint(HnsStep) = "modify-endpoint",
    DeleteEndpoint(HnsStep) = "delete-endpoint",
    QueryEndpoint(HnsStep) = "query-endpoint",
    CreateNamespace(HnsStep) = "create-namespace",
    ModifyNamespace(HnsStep) = "modify-namespace",
    DeleteNamespace(HnsStep) = "delete-namespace",
    QueryNamespace(HnsStep) = "query-namespace",
    CreateLoadbalancer(HnsStep) = "create-loadbalancer",
    ModifyLoadbalancer(HnsStep) = "modify-loadbalancer",
    /// `hcn.LoadBalancer.Update`: the whole LB document sent to HcnModifyLoadBalancer.
    UpdateLoadbalancer(HnsStep) = "update-loadbalancer",
    DeleteLoadbalancer(HnsStep) = "delete-loadbalancer",
    QueryLoadbalancer(HnsStep) = "query-loadbalancer",
    CreateRoute(HnsStep) = "create-route",
    ModifyRoute(HnsStep) = "modify-route",
    DeleteRoute(HnsStep) = "delete-route",
    QueryRoute(HnsStep) = "query-route",
    /// Enumerate objects of a kind (optionally with a filter) and count them.
    List(ListStep) = "list",
    // Namespace membership and policies (HcnModify* with ResourceType/RequestType).
    Attach(AttachStep) = "attach",
    Detach(AttachStep) = "detach",
    AddEndpointPolicy(PolicyStep) = "add-endpoint-policy",
    RemoveEndpointPolicy(PolicyStep) = "remove-endpoint-policy",
    UpdateEndpointPolicy(PolicyStep) = "update-endpoint-policy",
    AddNetworkPolicy(PolicyStep) = "add-network-policy",
    RemoveNetworkPolicy(PolicyStep) = "remove-network-policy",
    /// v1 `POST /policylists/`: an ELB policy list, mapped to a HostComputeLoadBalancer.
    CreatePolicylist(HnsStep) = "create-policylist",
    DeletePolicylist(HnsStep) = "delete-policylist",
    // HCS.
    Container(ContainerStep) = "container",
    StopContainer(StopContainerStep) = "stop-container",
    Listen(ListenStep) = "listen",
    // Traffic.
    Send(TrafficStep) = "send",
    Connect(TrafficStep) = "connect",
    Udp(TrafficStep) = "udp",
    Ping(TrafficStep) = "ping",
    Reachability(ReachabilityStep) = "reachability",
    /// Every header class from one place to one destination (docs/reach.md).
    Reach(ReachStep) = "reach",
    /// No header class changed since step `since` except the listed ones (docs/reach.md).
    ReachUnchanged(ReachUnchangedStep) = "reach-unchanged",
    // Faults and time.
    HnsRestart(HostRef) = "hns-restart",
    Reboot(HostRef) = "reboot",
    LinkDown(HostRef) = "link-down",
    LinkUp(HostRef) = "link-up",
    HostDown(HostRef) = "host-down",
    HostUp(HostRef) = "host-up",
    Loss(LossStep) = "loss",
    Latency(LatencyStep) = "latency",
    Partition(PartitionStep) = "partition",
    Heal(HealStep) = "heal",
    /// Advance virtual time: `5s`, `250ms`, `1m`.
    Advance(String) = "advance",
    /// Load a host's HNS state as a node dump showed it (`hnsim node import`).
    Restore(super::restore::RestoreStep) = "restore",
    // Kubernetes (scenario/kubernetes.rs): objects in Kubernetes' own YAML.
    Apply(Value) = "apply",
    Delete(Value) = "delete",
    KubeProxySync(Value) = "kube-proxy-sync",
    Restart(Value) = "restart",
}

/// Any HNS object step.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HnsStep {
    /// The host whose HNS gets the call; optional when the scenario has one host.
    #[serde(default)]
    pub host: Option<String>,
    /// Name the result; later steps use `${name.ID}` or `${name.Some.Field[0]}`.
    #[serde(default, rename = "as")]
    pub as_: Option<String>,
    /// The object: a name given by `as:` or a GUID / `${…}` expression (not for create).
    #[serde(default)]
    pub target: Option<String>,
    /// The HNS document (v2 or v1 shape), written as YAML.
    #[serde(default)]
    pub doc: Option<Value>,
    /// The call must fail with this HRESULT (`HCN_E_PORT_ALREADY_EXISTS` or `0x803B0013`).
    #[serde(default)]
    pub expect_error: Option<String>,
    /// Fields the reply (or a follow-up query) must hold: `{"IpConfigurations[0].IpAddress": 10.244.1.10}`.
    #[serde(default)]
    pub expect: IndexMap<String, Value>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ListStep {
    #[serde(default)]
    pub host: Option<String>,
    /// network | endpoint | namespace | loadbalancer | route
    pub kind: String,
    /// A filter map, e.g. `{Name: cbr0}` (sent as HostComputeQuery.Filter).
    #[serde(default)]
    pub filter: IndexMap<String, Value>,
    #[serde(default)]
    pub expect_count: Option<usize>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AttachStep {
    #[serde(default)]
    pub host: Option<String>,
    pub namespace: String,
    pub endpoint: String,
    #[serde(default)]
    pub expect_error: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyStep {
    #[serde(default)]
    pub host: Option<String>,
    /// The endpoint or network (a name or an ID).
    pub target: String,
    /// Policies in HNS's `{Type, Settings}` shape.
    pub policies: Vec<Value>,
    #[serde(default)]
    pub expect_error: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// An HCS compute system (container) with its isolation mode and its endpoints.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ContainerStep {
    pub name: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub isolation: Isolation,
    /// Endpoints (names or IDs) attached to the container's namespace.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// Ports a process in the container listens on: `tcp/80`, `udp/53`.
    #[serde(default)]
    pub listen: Vec<String>,
    #[serde(default)]
    pub expect_error: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    #[default]
    Process,
    Hyperv,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StopContainerStep {
    pub name: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Open a listening socket on a container, endpoint, host or station.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ListenStep {
    pub on: String,
    pub ports: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

/// One packet (or exchange) from a container, endpoint, host or station to an address or a name.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrafficStep {
    pub from: String,
    /// `ADDR:PORT`, `NAME:PORT`, `ADDR` or `NAME` (ping), `[v6]:PORT`.
    pub to: String,
    /// Protocol for `send` (default tcp); implied by `connect` (tcp), `udp`, `ping` (icmp).
    #[serde(default)]
    pub proto: Option<Proto>,
    #[serde(default)]
    pub src_port: Option<u16>,
    /// Payload bytes (default 64).
    #[serde(default)]
    pub size: Option<u32>,
    /// Don't-fragment bit (default false: the runner sends with DF clear).
    #[serde(default)]
    pub df: Option<bool>,
    #[serde(default)]
    pub ttl: Option<u8>,
    /// Send this many times (fresh source ports), each must meet `expect`.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// Bulk: this many packets on the step's one flow (counted, not all traced).
    #[serde(default)]
    pub packets: Option<u64>,
    /// Bulk: this many connections, source ports `src-port` (default 1024) upward.
    #[serde(default)]
    pub flows: Option<u64>,
    /// Bulk: spacing in virtual time, `N/s`, `N/ms` or `N/us`.
    #[serde(default)]
    pub rate: Option<String>,
    #[serde(default)]
    pub expect: Option<Expect>,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a traffic step must observe.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expect {
    /// The request's disposition: `Delivered`, `DeniedIn`, `NoRoute`, …
    #[serde(default)]
    pub disposition: Option<String>,
    /// Who received it: a container, endpoint, host or station name; or a list (any of).
    #[serde(default)]
    pub delivered_to: Option<OneOrMany>,
    /// Addresses and ports as the receiver saw them.
    #[serde(default)]
    pub seen: Option<Seen>,
    /// Step kinds or texts the path must contain (`Encap`, `Transform`, `Filter:…`).
    #[serde(default)]
    pub path_contains: Vec<String>,
    /// … and must not contain.
    #[serde(default)]
    pub path_excludes: Vec<String>,
    /// A substring the drop reason must contain.
    #[serde(default)]
    pub reason: Option<String>,
    /// The reply's fate: a disposition, or `none` for no reply at all.
    #[serde(default)]
    pub reply: Option<String>,
    /// What the original sender saw in the reply (source address/port).
    #[serde(default)]
    pub reply_seen: Option<Seen>,
    /// With `repeat`: all packets reach the same receiver (true) / not all the same (false).
    #[serde(default)]
    pub same_receiver: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Seen {
    /// An address or a `${…}` expression that yields one.
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub src_port: Option<u16>,
    #[serde(default)]
    pub dst: Option<String>,
    #[serde(default)]
    pub dst_port: Option<u16>,
}

/// Sources × destinations with an expected truth table (Kubernetes network-policy style).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReachabilityStep {
    #[serde(default)]
    pub proto: Option<Proto>,
    /// The destination port (ignored for icmp).
    #[serde(default)]
    pub port: Option<u16>,
    pub from: Vec<String>,
    /// Destination names or addresses (a name means its first IP).
    pub to: Vec<String>,
    /// One row per source: `.` reachable, `X` not, in `to` order, separated by spaces.
    pub expect: IndexMap<String, String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// `reach:`: the outcome every header class from `from` to `to` must get, by `PROTO` or
/// `PROTO/RANGES` (`tcp/1-79,81-65535: DeniedIn`); see docs/reach.md.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReachStep {
    pub from: String,
    /// A name (its first IP) or an address.
    pub to: String,
    pub expect: IndexMap<String, String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// `reach-unchanged:`: every header class keeps the outcome it had after step `since`
/// (1-based): the set-up through that step and the set-up through the step before this one are
/// swept and compared, as `hnsim diff --cut-at` does. The classes `except` names must have
/// changed, and to what they say; any other change fails the step.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReachUnchangedStep {
    pub since: usize,
    /// Only from these places (default: every source).
    #[serde(default)]
    pub from: Vec<String>,
    /// Only to these destinations (default: every destination).
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub except: Vec<ReachChange>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One allowed change: the classes `class` (`PROTO` or `PROTO/RANGES`; none: all) from `from` to `to` (a
/// destination name as `hnsim diff` prints it, or its address) now get `now` (an outcome or a
/// prefix of its printed form), and got `was` before (when given).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReachChange {
    pub from: String,
    pub to: String,
    /// No class: every class of the pair (tcp, udp and icmp, every port).
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub was: Option<String>,
    pub now: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HostRef {
    pub host: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LossStep {
    pub segment: String,
    pub percent: u8,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LatencyStep {
    pub segment: String,
    /// `5ms`, `1s`.
    pub delay: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PartitionStep {
    pub a: String,
    pub b: String,
}

/// Undo `partition` between `a` and `b`; with neither, undo every partition so far.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HealStep {
    #[serde(default)]
    pub a: Option<String>,
    #[serde(default)]
    pub b: Option<String>,
}

/// The pattern of every step that is one HCN object call (create/modify/delete/query of any kind,
/// and the v1 policy lists), binding its [`HnsStep`] to `$s`. A pattern rather than a method, so a
/// `match` over steps stays exhaustive.
macro_rules! hns_step {
    ($s:ident) => {
        $crate::scenario::format::Step::CreateNetwork($s)
            | $crate::scenario::format::Step::ModifyNetwork($s)
            | $crate::scenario::format::Step::DeleteNetwork($s)
            | $crate::scenario::format::Step::QueryNetwork($s)
            | $crate::scenario::format::Step::CreateEndpoint($s)
            | $crate::scenario::format::Step::ModifyEndpoint($s)
            | $crate::scenario::format::Step::DeleteEndpoint($s)
            | $crate::scenario::format::Step::QueryEndpoint($s)
            | $crate::scenario::format::Step::CreateNamespace($s)
            | $crate::scenario::format::Step::ModifyNamespace($s)
            | $crate::scenario::format::Step::DeleteNamespace($s)
            | $crate::scenario::format::Step::QueryNamespace($s)
            | $crate::scenario::format::Step::CreateLoadbalancer($s)
            | $crate::scenario::format::Step::ModifyLoadbalancer($s)
            | $crate::scenario::format::Step::UpdateLoadbalancer($s)
            | $crate::scenario::format::Step::DeleteLoadbalancer($s)
            | $crate::scenario::format::Step::QueryLoadbalancer($s)
            | $crate::scenario::format::Step::CreateRoute($s)
            | $crate::scenario::format::Step::ModifyRoute($s)
            | $crate::scenario::format::Step::DeleteRoute($s)
            | $crate::scenario::format::Step::QueryRoute($s)
            | $crate::scenario::format::Step::CreatePolicylist($s)
            | $crate::scenario::format::Step::DeletePolicylist($s)
    };
}
pub(crate) use hns_step;

/// serde_yaml 0.9 wants YAML tags for enums; scenarios write one-key maps (`- send: {…}`), so the
/// step is read by hand. Errors inside a step keep serde_yaml's path and location.
impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StepVisitor;
        impl<'de> serde::de::Visitor<'de> for StepVisitor {
            type Value = Step;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a step: a map with one key such as `create-network`, `send` or `advance`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
                use serde::de::Error;
                let Some(key) = map.next_key::<String>()? else {
                    return Err(A::Error::custom("empty step: expected a key such as `send`"));
                };
                let Some(step) = Step::read_value(&key, &mut map)? else {
                    return Err(A::Error::unknown_variant(&key, Step::KINDS));
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(A::Error::custom(format!(
                        "a step has exactly one key, found `{extra}` after `{key}` (indent it under `{key}`, or start a new step with `- `)"
                    )));
                }
                Ok(step)
            }
        }
        d.deserialize_map(StepVisitor)
    }
}
