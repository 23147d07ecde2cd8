//! The cluster configuration: what a Kubernetes object dump does not say but the node
//! components need — the network plugin, the cluster and service ranges, and each node's
//! kube-proxy flags. Written as the `kubernetes:` section of a scenario, or as a
//! `kind: Cluster` document (`apiVersion: hnsim/v1`, the same keys under `spec:`).
//! Keys and defaults: docs/scenario-format.md "Kubernetes"; facts: docs/reference/kubernetes.md.

use indexmap::IndexMap;
use ipnet::IpNet;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The network plugin that creates the HNS network and the pod endpoints.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPlugin {
    /// flannel vxlan backend (Overlay network `flannel.<VNI>`) with the win-overlay CNI.
    FlannelVxlan,
    /// flannel host-gw backend (L2Bridge `cbr0`, `cbr0_ep`, OS routes) with win-bridge.
    FlannelHostGw,
    /// containernetworking win-bridge alone (L2Bridge network named by the CNI config).
    WinBridge,
    /// containernetworking win-overlay alone (Overlay network).
    WinOverlay,
    /// microsoft/windows-container-networking sdnbridge (L2Bridge).
    Sdnbridge,
    /// microsoft/windows-container-networking sdnoverlay (Overlay).
    Sdnoverlay,
}

impl NetworkPlugin {
    pub fn overlay(self) -> bool {
        matches!(
            self,
            NetworkPlugin::FlannelVxlan | NetworkPlugin::WinOverlay | NetworkPlugin::Sdnoverlay
        )
    }
    pub fn flannel(self) -> bool {
        matches!(self, NetworkPlugin::FlannelVxlan | NetworkPlugin::FlannelHostGw)
    }
    pub fn name(self) -> &'static str {
        match self {
            NetworkPlugin::FlannelVxlan => "flannel-vxlan",
            NetworkPlugin::FlannelHostGw => "flannel-host-gw",
            NetworkPlugin::WinBridge => "win-bridge",
            NetworkPlugin::WinOverlay => "win-overlay",
            NetworkPlugin::Sdnbridge => "sdnbridge",
            NetworkPlugin::Sdnoverlay => "sdnoverlay",
        }
    }
}

/// Where kube-proxy releases differ (docs/reference/kubernetes.md §2.9).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Profile {
    /// About v1.31: a named targetPort takes the first endpoint's port; the Ingress LB is not
    /// gated on `endpointsAvailableForLB`; the health-check LB has no IPv6 flag.
    #[serde(rename = "1.31")]
    V1_31,
    /// The newest code read: the last endpoint's port wins; Ingress gated; IPv6 on the HC LB.
    #[default]
    #[serde(rename = "latest")]
    Latest,
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClusterConfig {
    pub network_plugin: NetworkPlugin,
    #[serde(default = "default_cluster_cidr")]
    pub cluster_cidr: Vec<IpNet>,
    #[serde(default = "default_service_cidr")]
    pub service_cidr: Vec<IpNet>,
    /// The cluster DNS Service address (kubelet `--cluster-dns`).
    #[serde(default)]
    pub dns: Option<IpAddr>,
    #[serde(default = "default_domain")]
    pub dns_domain: String,
    /// The NodePort range (kube-apiserver `--service-node-port-range`), `30000-32767`.
    #[serde(default = "default_node_port_range")]
    pub node_port_range: String,
    /// flannel's VNI (≥ 4096 on Windows).
    #[serde(default = "default_vni")]
    pub vni: u32,
    #[serde(default)]
    pub profile: Profile,
    /// Per-node settings, by Kubernetes node name.
    #[serde(default)]
    pub nodes: IndexMap<String, NodeConfig>,
}

fn default_cluster_cidr() -> Vec<IpNet> {
    vec!["10.244.0.0/16".parse().expect("literal")]
}
fn default_service_cidr() -> Vec<IpNet> {
    vec!["10.96.0.0/12".parse().expect("literal")]
}
fn default_domain() -> String {
    "cluster.local".into()
}
fn default_node_port_range() -> String {
    "30000-32767".into()
}
fn default_vni() -> u32 {
    4096
}

impl ClusterConfig {
    /// A configuration with every default for `plugin`.
    pub fn new(plugin: NetworkPlugin) -> Self {
        ClusterConfig {
            network_plugin: plugin,
            cluster_cidr: default_cluster_cidr(),
            service_cidr: default_service_cidr(),
            dns: None,
            dns_domain: default_domain(),
            node_port_range: default_node_port_range(),
            vni: default_vni(),
            profile: Profile::Latest,
            nodes: IndexMap::new(),
        }
    }

    /// The NodePort range as numbers; `None` when the text is not `LOW-HIGH`.
    pub fn node_ports(&self) -> Option<(u16, u16)> {
        let (a, b) = self.node_port_range.split_once('-')?;
        let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (a <= b).then_some((a, b))
    }

    /// The HNS network name the plugin creates and kube-proxy looks for by default.
    pub fn default_network_name(&self) -> String {
        match self.network_plugin {
            NetworkPlugin::FlannelVxlan => format!("flannel.{}", self.vni),
            NetworkPlugin::FlannelHostGw | NetworkPlugin::WinBridge | NetworkPlugin::Sdnbridge => {
                "cbr0".into()
            }
            NetworkPlugin::WinOverlay | NetworkPlugin::Sdnoverlay => "vxlan0".into(),
        }
    }

    pub fn node(&self, name: &str) -> NodeConfig {
        self.nodes.get(name).cloned().unwrap_or_default()
    }
}

/// One node's settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NodeConfig {
    /// The scenario host this Kubernetes node runs on (default: the same name).
    #[serde(default)]
    pub host: Option<String>,
    /// `windows` or `linux`; default from the Node's `kubernetes.io/os` label, else windows.
    #[serde(default)]
    pub os: Option<String>,
    /// The MAC of the NIC carrying the node IP (kube-proxy's host MAC on overlay).
    #[serde(default)]
    pub mac: Option<String>,
    /// The host NIC name flannel puts in `NetAdapterName` (default `Ethernet`).
    #[serde(default)]
    pub adapter: Option<String>,
    #[serde(default)]
    pub kube_proxy: KubeProxyConfig,
}

/// kube-proxy (winkernel) flags and settings for one node (docs/reference/kubernetes.md §2.1).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KubeProxyConfig {
    /// `--network-name` (or KUBE_NETWORK); default: the plugin's network name.
    #[serde(default)]
    pub network_name: Option<String>,
    #[serde(default)]
    pub enable_dsr: bool,
    /// `--source-vip`; required on overlay.
    #[serde(default)]
    pub source_vip: Option<IpAddr>,
    #[serde(default)]
    pub forward_healthcheck_vip: bool,
    #[serde(default = "default_root_ep")]
    pub root_hnsendpoint_name: String,
    /// kube-proxy's healthz port (`--healthz-bind-address`), used by the health-check LB.
    #[serde(default = "default_healthz")]
    pub healthz_port: u16,
    /// `WinDSR`, `WinOverlay`, … (`--feature-gates`). WinOverlay defaults on, WinDSR off.
    #[serde(default)]
    pub feature_gates: BTreeMap<String, bool>,
    /// Whether HcnModifyLoadBalancer is used: `auto` (from the HNS version, as hnslib decides),
    /// `true` or `false`.
    #[serde(default)]
    pub modify_load_balancer: Option<bool>,
    /// Whether HNS supports DSR; `None` = from the HNS version.
    #[serde(default)]
    pub dsr_supported: Option<bool>,
    /// Run a second (IPv6) proxier when the cluster is dual-stack and HNS allows it.
    #[serde(default = "yes")]
    pub dual_stack: bool,
    /// List every HNS endpoint and LB on every sync, as upstream does, even when the model can
    /// say what changed (same answers, cost proportional to the cluster instead of the change).
    #[serde(default)]
    pub full_inventory: bool,
}

fn default_root_ep() -> String {
    "cbr0".into()
}
fn default_healthz() -> u16 {
    10256
}
fn yes() -> bool {
    true
}

impl Default for KubeProxyConfig {
    fn default() -> Self {
        KubeProxyConfig {
            network_name: None,
            enable_dsr: false,
            source_vip: None,
            forward_healthcheck_vip: false,
            root_hnsendpoint_name: default_root_ep(),
            healthz_port: default_healthz(),
            feature_gates: BTreeMap::new(),
            modify_load_balancer: None,
            dsr_supported: None,
            dual_stack: true,
            full_inventory: false,
        }
    }
}

impl KubeProxyConfig {
    /// A feature gate's value; WinOverlay and WinDSR default on since they went beta/GA
    /// (docs/reference/kubernetes.md §2.1).
    pub fn gate(&self, name: &str) -> bool {
        self.feature_gates.get(name).copied().unwrap_or(true)
    }
}
