//! The Kubernetes objects hnsim reads, in Kubernetes' own YAML shape (`apiVersion`, `kind`,
//! `metadata`, `spec`, `status`), as `kubectl get … -o yaml` prints them.
//!
//! Only the fields the node components use are typed; every other field (managedFields,
//! conditions hnsim does not model, …) is accepted and ignored, because a pasted cluster dump
//! carries hundreds of them. Field meanings: docs/reference/kubernetes.md §1.

use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectMeta {
    pub name: String,
    pub namespace: Option<String>,
    pub uid: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Set while a Pod is terminating.
    pub deletion_timestamp: Option<String>,
}

impl ObjectMeta {
    /// The namespace, `default` when unset (as the API server fills it in).
    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }
}

// ---- Node ---------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Node {
    pub metadata: ObjectMeta,
    pub spec: NodeSpec,
    pub status: NodeStatus,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeSpec {
    #[serde(rename = "podCIDR")]
    pub pod_cidr: Option<String>,
    #[serde(rename = "podCIDRs")]
    pub pod_cidrs: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeStatus {
    pub addresses: Vec<NodeAddress>,
    pub node_info: NodeInfo,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub type_: String,
    pub address: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeInfo {
    pub operating_system: Option<String>,
}

impl Node {
    /// `windows` or `linux`: the `kubernetes.io/os` label, else `status.nodeInfo.operatingSystem`.
    pub fn os(&self) -> Option<&str> {
        self.metadata
            .labels
            .get("kubernetes.io/os")
            .map(String::as_str)
            .or(self.status.node_info.operating_system.as_deref())
    }
    /// The InternalIP addresses, in order (one per family on dual-stack nodes).
    pub fn internal_ips(&self) -> impl Iterator<Item = &str> {
        self.status
            .addresses
            .iter()
            .filter(|a| a.type_ == "InternalIP")
            .map(|a| a.address.as_str())
    }
    /// `spec.podCIDRs`, or `spec.podCIDR` alone.
    pub fn pod_cidrs(&self) -> Vec<&str> {
        if self.spec.pod_cidrs.is_empty() {
            self.spec.pod_cidr.iter().map(String::as_str).collect()
        } else {
            self.spec.pod_cidrs.iter().map(String::as_str).collect()
        }
    }
}

// ---- Pod ----------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Pod {
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
    pub status: PodStatus,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    pub node_name: Option<String>,
    pub host_network: bool,
    pub runtime_class_name: Option<String>,
    pub containers: Vec<Container>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    pub name: String,
    pub ports: Vec<ContainerPort>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub container_port: u16,
    pub host_port: Option<u16>,
    pub protocol: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStatus {
    pub phase: Option<String>,
    #[serde(rename = "podIP")]
    pub pod_ip: Option<String>,
    #[serde(rename = "podIPs")]
    pub pod_ips: Vec<PodIp>,
    pub conditions: Vec<Condition>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PodIp {
    pub ip: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
}

impl Pod {
    /// Ready unless a `Ready` condition says `False` or the phase is not `Running` (an absent
    /// status counts as a running, ready pod, so hand-written pods need no status).
    pub fn ready(&self) -> bool {
        let cond = self
            .status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .map(|c| c.status == "True");
        let running = self.status.phase.as_deref().is_none_or(|p| p == "Running");
        cond.unwrap_or(true) && running && !self.terminating()
    }
    pub fn terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some()
    }
    /// `status.podIPs`, else `status.podIP`.
    pub fn ips(&self) -> Vec<&str> {
        if self.status.pod_ips.is_empty() {
            self.status.pod_ip.iter().map(String::as_str).collect()
        } else {
            self.status.pod_ips.iter().map(|p| p.ip.as_str()).collect()
        }
    }
    /// The container port named `name` (a Service's named targetPort).
    pub fn named_port(&self, name: &str) -> Option<u16> {
        self.spec
            .containers
            .iter()
            .flat_map(|c| &c.ports)
            .find(|p| p.name.as_deref() == Some(name))
            .map(|p| p.container_port)
    }
    /// Hyper-V isolation: a `runtimeClassName` containing `hyperv`, or the annotation
    /// `experimental.windows.kubernetes.io/isolation-type: hyperv` (docs/reference/kubernetes.md §3).
    pub fn hyperv(&self) -> bool {
        self.spec
            .runtime_class_name
            .as_deref()
            .is_some_and(|r| r.to_ascii_lowercase().contains("hyperv"))
            || self
                .metadata
                .annotations
                .get("experimental.windows.kubernetes.io/isolation-type")
                .is_some_and(|v| v == "hyperv")
    }
}

// ---- Service ------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Service {
    pub metadata: ObjectMeta,
    pub spec: ServiceSpec,
    pub status: ServiceStatus,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    #[serde(rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    #[serde(rename = "clusterIPs")]
    pub cluster_ips: Vec<String>,
    pub ip_families: Vec<String>,
    pub ports: Vec<ServicePort>,
    pub selector: Option<IndexMap<String, String>>,
    #[serde(rename = "externalIPs")]
    pub external_ips: Vec<String>,
    pub external_traffic_policy: Option<String>,
    pub internal_traffic_policy: Option<String>,
    pub session_affinity: Option<String>,
    pub health_check_node_port: Option<u16>,
    pub external_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ServicePort {
    pub name: Option<String>,
    pub protocol: Option<String>,
    pub port: u16,
    pub target_port: Option<IntOrString>,
    pub node_port: Option<u16>,
}

/// `targetPort: 8080` or `targetPort: http`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum IntOrString {
    Int(u16),
    String(String),
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceStatus {
    pub load_balancer: LoadBalancerStatus,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct LoadBalancerStatus {
    pub ingress: Vec<LoadBalancerIngress>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct LoadBalancerIngress {
    pub ip: Option<String>,
    pub hostname: Option<String>,
}

impl Service {
    pub fn type_(&self) -> &str {
        self.spec.type_.as_deref().unwrap_or("ClusterIP")
    }
    /// `spec.clusterIPs`, else `spec.clusterIP`; `None` and empty mean headless / none.
    pub fn cluster_ips(&self) -> Vec<&str> {
        let v: Vec<&str> = if self.spec.cluster_ips.is_empty() {
            self.spec.cluster_ip.iter().map(String::as_str).collect()
        } else {
            self.spec.cluster_ips.iter().map(String::as_str).collect()
        };
        v.into_iter().filter(|s| !s.is_empty() && *s != "None").collect()
    }
    /// kube-proxy skips headless and ExternalName Services (docs/reference/kubernetes.md §2.1).
    pub fn proxied(&self) -> bool {
        self.type_() != "ExternalName" && !self.cluster_ips().is_empty()
    }
    pub fn etp_local(&self) -> bool {
        self.spec.external_traffic_policy.as_deref() == Some("Local")
    }
    pub fn itp_local(&self) -> bool {
        self.spec.internal_traffic_policy.as_deref() == Some("Local")
    }
    pub fn client_ip_affinity(&self) -> bool {
        self.spec.session_affinity.as_deref() == Some("ClientIP")
    }
}

// ---- EndpointSlice and Endpoints ----------------------------------------------------------

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointSlice {
    pub metadata: ObjectMeta,
    pub address_type: Option<String>,
    pub endpoints: Vec<SliceEndpoint>,
    pub ports: Vec<SlicePort>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SliceEndpoint {
    pub addresses: Vec<String>,
    pub conditions: SliceConditions,
    pub node_name: Option<String>,
    pub target_ref: Option<ObjectRef>,
}

/// Absent conditions mean "true" for ready and serving, "false" for terminating (the API's
/// documented defaults for `nil`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SliceConditions {
    pub ready: Option<bool>,
    pub serving: Option<bool>,
    pub terminating: Option<bool>,
}

impl SliceConditions {
    pub fn ready(&self) -> bool {
        self.ready.unwrap_or(true)
    }
    pub fn serving(&self) -> bool {
        self.serving.unwrap_or(self.ready())
    }
    pub fn terminating(&self) -> bool {
        self.terminating.unwrap_or(false)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectRef {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SlicePort {
    pub name: Option<String>,
    pub port: Option<u16>,
    pub protocol: Option<String>,
}

impl EndpointSlice {
    /// The Service this slice belongs to: the `kubernetes.io/service-name` label.
    pub fn service_name(&self) -> Option<&str> {
        self.metadata
            .labels
            .get("kubernetes.io/service-name")
            .map(String::as_str)
    }
}

/// The legacy `v1 Endpoints` object; read and turned into an [`EndpointSlice`].
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Endpoints {
    pub metadata: ObjectMeta,
    pub subsets: Vec<EndpointSubset>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointSubset {
    pub addresses: Vec<EndpointAddress>,
    pub not_ready_addresses: Vec<EndpointAddress>,
    pub ports: Vec<SlicePort>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointAddress {
    pub ip: String,
    pub node_name: Option<String>,
    pub target_ref: Option<ObjectRef>,
}

impl Endpoints {
    /// One slice per subset, as the EndpointSlice mirroring controller does, labelled with the
    /// Service name (the Endpoints object's own name).
    pub fn to_slices(&self) -> Vec<EndpointSlice> {
        self.subsets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut meta = self.metadata.clone();
                meta.name = format!("{}-mirror-{i}", self.metadata.name);
                meta.labels
                    .insert("kubernetes.io/service-name".into(), self.metadata.name.clone());
                let ep = |a: &EndpointAddress, ready: bool| SliceEndpoint {
                    addresses: vec![a.ip.clone()],
                    conditions: SliceConditions {
                        ready: Some(ready),
                        serving: Some(ready),
                        terminating: Some(false),
                    },
                    node_name: a.node_name.clone(),
                    target_ref: a.target_ref.clone(),
                };
                EndpointSlice {
                    metadata: meta,
                    address_type: None,
                    endpoints: s
                        .addresses
                        .iter()
                        .map(|a| ep(a, true))
                        .chain(s.not_ready_addresses.iter().map(|a| ep(a, false)))
                        .collect(),
                    ports: s.ports.clone(),
                }
            })
            .collect()
    }
}
