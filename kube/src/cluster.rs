//! The cluster's desired state as the API server would hold it: Nodes, Pods, Services and
//! EndpointSlices, applied in batches that are checked as a whole (a batch with an error changes
//! nothing), plus what the control plane would derive — pod IPs from the node's podCIDR
//! (host-local IPAM) and EndpointSlices for Services with a selector (the EndpointSlice
//! controller).

use crate::config::{ClusterConfig, NetworkPlugin};
use crate::load::{Finding, Loc, Located, Object};
use crate::objects::{
    EndpointSlice, IntOrString, Node, ObjectMeta, Pod, Service, SliceConditions, SliceEndpoint, SlicePort,
};
use crate::watch::{Touched, WatchLog};
use indexmap::IndexMap;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The whole cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub config: ClusterConfig,
    pub nodes: IndexMap<String, Located<Node>>,
    /// By `namespace/name`.
    pub pods: IndexMap<String, Located<Pod>>,
    pub services: IndexMap<String, Located<Service>>,
    /// Written EndpointSlices (and mirrored legacy Endpoints), by `namespace/name`.
    pub slices: IndexMap<String, Located<EndpointSlice>>,
    /// Which Services each apply and delete touched (what kube-proxy's informers report).
    /// Change the maps above through [`Cluster::apply`], [`Cluster::delete`] or
    /// [`Cluster::replace_slice`] so that it is kept.
    pub watch: WatchLog,
}

/// What a node looks like to its components.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    pub name: String,
    pub windows: bool,
    /// InternalIP addresses (one per family).
    pub ips: Vec<IpAddr>,
    pub pod_cidrs: Vec<IpNet>,
    /// The NIC MAC, dash-separated upper case as HNS prints it.
    pub mac: String,
}

impl NodeView {
    pub fn ip4(&self) -> Option<IpAddr> {
        self.ips.iter().copied().find(IpAddr::is_ipv4)
    }
    pub fn ip_of(&self, v6: bool) -> Option<IpAddr> {
        self.ips.iter().copied().find(|i| i.is_ipv6() == v6)
    }
    pub fn pod_cidr(&self, v6: bool) -> Option<IpNet> {
        self.pod_cidrs
            .iter()
            .copied()
            .find(|c| matches!(c, IpNet::V6(_)) == v6)
    }
}

/// Pods by (namespace, label, value).
type PodsByLabel<'a> = BTreeMap<(&'a str, &'a str, &'a str), Vec<&'a Pod>>;

fn key(m: &ObjectMeta) -> String {
    format!("{}/{}", m.ns(), m.name)
}

impl Cluster {
    pub fn new(config: ClusterConfig) -> Self {
        Cluster {
            config,
            nodes: IndexMap::new(),
            pods: IndexMap::new(),
            services: IndexMap::new(),
            slices: IndexMap::new(),
            watch: WatchLog::default(),
        }
    }

    /// The Service (`namespace/name`) an EndpointSlice belongs to.
    fn slice_service(s: &EndpointSlice) -> Option<Touched> {
        s.service_name()
            .map(|n| Touched::Service(format!("{}/{n}", s.metadata.ns())))
    }

    /// Replace (or add) a written EndpointSlice without the batch checks of
    /// [`Cluster::apply`] (for benches and tests that change one endpoint at scale).
    pub fn replace_slice(&mut self, slice: EndpointSlice) {
        let k = key(&slice.metadata);
        let mut touched: Vec<Touched> = Self::slice_service(&slice).into_iter().collect();
        if let Some(old) = self.slices.get(&k) {
            touched.extend(Self::slice_service(&old.value));
        }
        match self.slices.get_mut(&k) {
            Some(l) => l.value = slice,
            None => {
                self.slices.insert(
                    k,
                    Located {
                        at: Loc::default(),
                        value: slice,
                    },
                );
            }
        }
        for t in touched {
            self.watch.record(t);
        }
    }

    /// Apply a batch (create or replace by name). Errors reject the whole batch and leave the
    /// cluster unchanged; warnings are returned with a successful apply.
    pub fn apply(&mut self, batch: Vec<Located<Object>>) -> Result<Vec<Finding>, Vec<Finding>> {
        let mut next = self.clone();
        let mut touched = Vec::new();
        for o in batch {
            let at = o.at;
            match &o.value {
                Object::Node(_) | Object::Pod(_) => touched.push(Touched::Everything),
                Object::Service(s) => touched.push(Touched::Service(key(&s.metadata))),
                Object::EndpointSlice(s) => {
                    touched.extend(Self::slice_service(s));
                    let old = next.slices.get(&key(&s.metadata));
                    touched.extend(old.and_then(|o| Self::slice_service(&o.value)));
                }
                Object::Endpoints(e) => touched.push(Touched::Service(key(&e.metadata))),
            }
            match o.value {
                Object::Node(n) => {
                    next.nodes
                        .insert(n.metadata.name.clone(), Located { at, value: n });
                }
                Object::Pod(p) => {
                    next.pods.insert(key(&p.metadata), Located { at, value: p });
                }
                Object::Service(s) => {
                    next.services.insert(key(&s.metadata), Located { at, value: s });
                }
                Object::EndpointSlice(s) => {
                    next.slices.insert(key(&s.metadata), Located { at, value: s });
                }
                Object::Endpoints(e) => {
                    for s in e.to_slices() {
                        next.slices.insert(
                            key(&s.metadata),
                            Located {
                                at: at.clone(),
                                value: s,
                            },
                        );
                    }
                }
            }
        }
        let findings = next.check();
        if findings
            .iter()
            .any(|f| f.severity == crate::load::Severity::Error)
        {
            return Err(findings);
        }
        next.assign_pod_ips();
        next.watch = std::mem::take(&mut self.watch);
        *self = next;
        for t in touched {
            self.watch.record(t);
        }
        Ok(findings)
    }

    /// Delete `Kind/namespace/name` (or `Kind/name` for a Node, `Kind/name` in `default`).
    pub fn delete(&mut self, what: &str) -> Result<(), String> {
        let (kind, rest) = what
            .split_once('/')
            .ok_or_else(|| format!("`{what}`: expected Kind/namespace/name, e.g. Pod/default/web-1"))?;
        let k = if rest.contains('/') {
            rest.to_string()
        } else {
            format!("default/{rest}")
        };
        let mut touched = Touched::Service(k.clone());
        let removed = match kind.to_ascii_lowercase().as_str() {
            "node" => {
                touched = Touched::Everything;
                self.nodes.shift_remove(rest).is_some()
            }
            "pod" => {
                touched = Touched::Everything;
                self.pods.shift_remove(&k).is_some()
            }
            "service" | "svc" => self.services.shift_remove(&k).is_some(),
            "endpointslice" => match self.slices.shift_remove(&k) {
                Some(s) => {
                    touched = Self::slice_service(&s.value).unwrap_or(Touched::Everything);
                    true
                }
                None => false,
            },
            "endpoints" => {
                let before = self.slices.len();
                let prefix = format!("{k}-mirror-");
                self.slices.retain(|n, _| !n.starts_with(&prefix));
                before != self.slices.len()
            }
            other => {
                return Err(format!(
                    "`{other}`: expected Node, Pod, Service, EndpointSlice or Endpoints"
                ))
            }
        };
        if removed {
            self.watch.record(touched);
            Ok(())
        } else {
            Err(format!("`{what}` does not exist"))
        }
    }

    /// The components' view of a node.
    pub fn node_view(&self, name: &str) -> Option<NodeView> {
        let n = &self.nodes.get(name)?.value;
        let cfg = self.config.node(name);
        let windows = match cfg.os.as_deref().or(n.os()) {
            Some(os) => os.eq_ignore_ascii_case("windows"),
            None => true,
        };
        let ips: Vec<IpAddr> = n.internal_ips().filter_map(|s| s.parse().ok()).collect();
        let mac = cfg
            .mac
            .clone()
            .map(|m| m.to_ascii_uppercase().replace(':', "-"))
            .unwrap_or_else(|| derived_mac(ips.first().copied()));
        Some(NodeView {
            name: name.to_string(),
            windows,
            pod_cidrs: n.pod_cidrs().iter().filter_map(|c| c.parse().ok()).collect(),
            ips,
            mac,
        })
    }

    pub fn node_views(&self) -> Vec<NodeView> {
        self.nodes.keys().filter_map(|n| self.node_view(n)).collect()
    }

    /// Every check across objects: located errors and warnings.
    pub fn check(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let plugin = self.config.network_plugin;
        for (name, n) in &self.nodes {
            let v = self.node_view(name).expect("node exists");
            if v.ips.is_empty() {
                out.push(Finding::error(
                    n.at.key("status"),
                    format!("node `{name}` has no InternalIP in status.addresses; the node components need the node IP"),
                ));
            }
            if v.pod_cidrs.is_empty() {
                out.push(Finding::error(
                    n.at.key("spec"),
                    format!(
                        "node `{name}` has no spec.podCIDR; {} needs the node's pod subnet",
                        plugin.name()
                    ),
                ));
            }
            for (i, c) in n.value.pod_cidrs().iter().enumerate() {
                if c.parse::<IpNet>().is_err() {
                    out.push(Finding::error(
                        n.at.key("spec").key("podCIDRs").index(i),
                        format!("`{c}` is not a CIDR (expected e.g. 10.244.1.0/24)"),
                    ));
                }
            }
        }
        for name in self.config.nodes.keys() {
            if !self.nodes.contains_key(name) && !self.nodes.is_empty() {
                let hint =
                    crate::load::suggest(name, &self.nodes.keys().map(String::as_str).collect::<Vec<_>>())
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                out.push(Finding::warning(
                    Loc::default(),
                    format!("the configuration names node `{name}`, but no Node object has that name{hint}"),
                ));
            }
        }
        self.check_pods(&mut out);
        self.check_services(&mut out);
        for (k, s) in &self.slices {
            match s.value.service_name() {
                None => out.push(Finding::error(
                    s.at.key("metadata").key("labels"),
                    format!("EndpointSlice `{k}` has no `kubernetes.io/service-name` label; kube-proxy could not tie it to a Service"),
                )),
                Some(svc) => {
                    let sk = format!("{}/{svc}", s.value.metadata.ns());
                    if !self.services.contains_key(&sk) {
                        let names: Vec<&str> = self.services.keys().map(String::as_str).collect();
                        let hint = crate::load::suggest(&sk, &names)
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        out.push(Finding::error(
                            s.at.key("metadata").key("labels"),
                            format!("EndpointSlice `{k}` names Service `{sk}`, which does not exist{hint}"),
                        ));
                    }
                }
            }
            for (i, e) in s.value.endpoints.iter().enumerate() {
                for (j, a) in e.addresses.iter().enumerate() {
                    if a.parse::<IpAddr>().is_err() {
                        out.push(Finding::error(
                            s.at.key("endpoints").index(i).key("addresses").index(j),
                            format!("`{a}` is not an IP address"),
                        ));
                    }
                }
                if let Some(n) = &e.node_name {
                    if !self.nodes.contains_key(n) {
                        out.push(Finding::warning(
                            s.at.key("endpoints").index(i).key("nodeName"),
                            format!("endpoint on node `{n}`, which is not a Node of this cluster (treated as remote everywhere)"),
                        ));
                    }
                }
            }
        }
        out
    }

    fn check_pods(&self, out: &mut Vec<Finding>) {
        let names: Vec<&str> = self.nodes.keys().map(String::as_str).collect();
        let mut seen_ips: BTreeMap<IpAddr, &str> = BTreeMap::new();
        for (k, p) in &self.pods {
            let Some(node) = &p.value.spec.node_name else {
                out.push(Finding::warning(
                    p.at.key("spec"),
                    format!("pod `{k}` has no spec.nodeName (not scheduled); no node programs it"),
                ));
                continue;
            };
            let Some(view) = self.node_view(node) else {
                let hint = crate::load::suggest(node, &names)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                out.push(Finding::error(
                    p.at.key("spec").key("nodeName"),
                    format!("pod `{k}` is on node `{node}`, which does not exist{hint}"),
                ));
                continue;
            };
            for (i, ip) in p.value.ips().iter().enumerate() {
                let at = if p.value.status.pod_ips.is_empty() {
                    p.at.key("status").key("podIP")
                } else {
                    p.at.key("status").key("podIPs").index(i)
                };
                let Ok(addr) = ip.parse::<IpAddr>() else {
                    out.push(Finding::error(at, format!("`{ip}` is not an IP address")));
                    continue;
                };
                if p.value.spec.host_network {
                    continue;
                }
                let fam = view.pod_cidr(addr.is_ipv6());
                if let Some(c) = fam {
                    if !c.contains(&addr) {
                        out.push(Finding::error(
                            at.clone(),
                            format!("pod IP {addr} is outside node `{node}`'s podCIDR {c}"),
                        ));
                    }
                }
                if let Some(other) = seen_ips.insert(addr, k) {
                    out.push(Finding::error(
                        at,
                        format!("pod IP {addr} is also the IP of pod `{other}`"),
                    ));
                }
            }
        }
    }

    fn check_services(&self, out: &mut Vec<Finding>) {
        let range = self.config.node_ports();
        if range.is_none() {
            out.push(Finding::error(
                Loc::default(),
                format!(
                    "node-port-range `{}`: expected LOW-HIGH, e.g. 30000-32767",
                    self.config.node_port_range
                ),
            ));
        }
        let mut cluster_ips: BTreeMap<IpAddr, &str> = BTreeMap::new();
        let mut node_ports: BTreeMap<(String, u16), &str> = BTreeMap::new();
        for (k, s) in &self.services {
            let spec = &s.value.spec;
            for (i, ip) in s.value.cluster_ips().iter().enumerate() {
                let at = if spec.cluster_ips.is_empty() {
                    s.at.key("spec").key("clusterIP")
                } else {
                    s.at.key("spec").key("clusterIPs").index(i)
                };
                let Ok(addr) = ip.parse::<IpAddr>() else {
                    out.push(Finding::error(
                        at,
                        format!("clusterIP `{ip}` is not an IP address"),
                    ));
                    continue;
                };
                if let Some(other) = cluster_ips.insert(addr, k) {
                    out.push(Finding::error(
                        at.clone(),
                        format!("clusterIP {addr} is already Service `{other}`'s (the API server refuses a duplicate)"),
                    ));
                }
                if !self.config.service_cidr.iter().any(|c| c.contains(&addr)) {
                    out.push(Finding::warning(
                        at,
                        format!("clusterIP {addr} is outside the service CIDR"),
                    ));
                }
            }
            if s.value.proxied() && s.value.cluster_ips().is_empty() {
                continue;
            }
            for (i, p) in spec.ports.iter().enumerate() {
                let at = s.at.key("spec").key("ports").index(i);
                if let (Some(np), Some((lo, hi))) = (p.node_port, range) {
                    if np != 0 && !(lo..=hi).contains(&np) {
                        out.push(Finding::error(
                            at.key("nodePort"),
                            format!("nodePort {np} is outside the node port range {lo}-{hi}"),
                        ));
                    }
                    let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                    if np != 0 {
                        if let Some(other) = node_ports.insert((proto, np), k) {
                            out.push(Finding::error(
                                at.key("nodePort"),
                                format!("nodePort {np} is already used by Service `{other}`"),
                            ));
                        }
                    }
                }
                if p.port == 0 && s.value.proxied() {
                    out.push(Finding::error(at.key("port"), "a Service port needs `port:`"));
                }
            }
            for (i, e) in spec.external_ips.iter().enumerate() {
                if e.parse::<IpAddr>().is_err() {
                    out.push(Finding::error(
                        s.at.key("spec").key("externalIPs").index(i),
                        format!("`{e}` is not an IP address"),
                    ));
                }
            }
        }
    }

    /// Give every scheduled pod without `status.podIP` the lowest free address of its node's
    /// podCIDR, as host-local IPAM does: skipping the network address, .1 (overlay gateway), .2
    /// (bridge gateway `cbr0_ep` on L2Bridge) and the node's source VIP.
    fn assign_pod_ips(&mut self) {
        let mut used: BTreeSet<IpAddr> = self
            .pods
            .values()
            .flat_map(|p| {
                p.value
                    .ips()
                    .into_iter()
                    .filter_map(|s| s.parse().ok())
                    .collect::<Vec<_>>()
            })
            .collect();
        let keys: Vec<String> = self.pods.keys().cloned().collect();
        for k in keys {
            let p = &self.pods[&k].value;
            if !p.ips().is_empty() {
                continue;
            }
            let Some(node) = p.spec.node_name.clone() else {
                continue;
            };
            let Some(view) = self.node_view(&node) else {
                continue;
            };
            if p.spec.host_network {
                if let Some(ip) = view.ip4() {
                    self.pods[&k].value.status.pod_ip = Some(ip.to_string());
                }
                continue;
            }
            let Some(IpNet::V4(c)) = view.pod_cidr(false) else {
                continue;
            };
            let svip = self.config.node(&node).kube_proxy.source_vip;
            let free = c
                .hosts()
                .skip(2)
                .map(IpAddr::V4)
                .find(|a| !used.contains(a) && Some(*a) != svip);
            if let Some(a) = free {
                used.insert(a);
                self.pods[&k].value.status.pod_ip = Some(a.to_string());
            }
        }
    }

    /// Every EndpointSlice kube-proxy would see: the written ones, plus one per Service with a
    /// selector that has none written (built from the selected pods, as the EndpointSlice
    /// controller does).
    pub fn endpoint_slices(&self) -> Vec<EndpointSlice> {
        self.slices_in(None)
    }

    /// The Services named in `scope` (`namespace/name`) that exist.
    pub fn services_of(&self, scope: &BTreeSet<String>) -> Vec<Service> {
        scope
            .iter()
            .filter_map(|k| self.services.get(k))
            .map(|s| s.value.clone())
            .collect()
    }

    /// [`Cluster::endpoint_slices`] of the Services named in `scope` only.
    pub fn endpoint_slices_of(&self, scope: &BTreeSet<String>) -> Vec<EndpointSlice> {
        self.slices_in(Some(scope))
    }

    fn slices_in(&self, scope: Option<&BTreeSet<String>>) -> Vec<EndpointSlice> {
        let wanted: Option<BTreeSet<(&str, &str)>> =
            scope.map(|s| s.iter().filter_map(|k| k.split_once('/')).collect());
        let mut out: Vec<EndpointSlice> = self
            .slices
            .values()
            .map(|s| &s.value)
            .filter(|s| match &wanted {
                None => true,
                Some(w) => s
                    .service_name()
                    .is_some_and(|n| w.contains(&(s.metadata.ns(), n))),
            })
            .cloned()
            .collect();
        let covered: BTreeSet<String> = out
            .iter()
            .filter_map(|s| s.service_name().map(|n| format!("{}/{n}", s.metadata.ns())))
            .collect();
        let services: Vec<(&String, &Located<Service>)> = match scope {
            None => self.services.iter().collect(),
            Some(s) => s.iter().filter_map(|k| self.services.get_key_value(k)).collect(),
        };
        // Pods by (namespace, label, value), so that each selector looks at the pods carrying
        // one of its labels rather than at every pod; built only when a Service needs it.
        let mut by_label: Option<PodsByLabel> = None;
        for (k, s) in services {
            if covered.contains(k) {
                continue;
            }
            if let Some(sel) = &s.value.spec.selector {
                let by_label = by_label.get_or_insert_with(|| {
                    let mut m = PodsByLabel::new();
                    for p in self.pods.values().map(|p| &p.value) {
                        for (k, v) in &p.metadata.labels {
                            m.entry((p.metadata.ns(), k, v)).or_default().push(p);
                        }
                    }
                    m
                });
                let ns = s.value.metadata.ns();
                let candidates = sel
                    .iter()
                    .map(|(k, v)| {
                        by_label
                            .get(&(ns, k.as_str(), v.as_str()))
                            .map_or(&[][..], Vec::as_slice)
                    })
                    .min_by_key(|c| c.len());
                if let Some(c) = candidates {
                    out.extend(self.derive_slices(&s.value, c));
                }
            }
        }
        out
    }

    fn derive_slices(&self, svc: &Service, candidates: &[&Pod]) -> Vec<EndpointSlice> {
        let sel = svc.spec.selector.as_ref().expect("caller checked");
        let ns = svc.metadata.ns();
        // Group pods by their resolved port list: one slice per distinct list.
        let mut groups: IndexMap<Vec<u16>, Vec<&Pod>> = IndexMap::new();
        for p in candidates.iter().copied() {
            if p.metadata.ns() != ns
                || p.spec.node_name.is_none()
                || p.ips().is_empty()
                || !sel.iter().all(|(k, v)| p.metadata.labels.get(k) == Some(v))
            {
                continue;
            }
            let ports: Vec<u16> = svc
                .spec
                .ports
                .iter()
                .map(|sp| match &sp.target_port {
                    Some(IntOrString::Int(n)) => *n,
                    Some(IntOrString::String(name)) => p.named_port(name).unwrap_or(0),
                    None => sp.port,
                })
                .collect();
            groups.entry(ports).or_default().push(p);
        }
        groups
            .into_iter()
            .enumerate()
            .map(|(i, (ports, pods))| {
                let mut meta = ObjectMeta {
                    name: format!("{}-{}", svc.metadata.name, i),
                    namespace: Some(ns.to_string()),
                    ..Default::default()
                };
                meta.labels
                    .insert("kubernetes.io/service-name".into(), svc.metadata.name.clone());
                EndpointSlice {
                    metadata: meta,
                    address_type: Some("IPv4".into()),
                    endpoints: pods
                        .iter()
                        .map(|p| SliceEndpoint {
                            addresses: p.ips().iter().map(|s| s.to_string()).collect(),
                            conditions: SliceConditions {
                                ready: Some(p.ready()),
                                serving: Some(
                                    p.status.phase.as_deref().is_none_or(|ph| ph == "Running")
                                        && p.status
                                            .conditions
                                            .iter()
                                            .find(|c| c.type_ == "Ready")
                                            .is_none_or(|c| c.status == "True"),
                                ),
                                terminating: Some(p.terminating()),
                            },
                            node_name: p.spec.node_name.clone(),
                            target_ref: None,
                        })
                        .collect(),
                    ports: svc
                        .spec
                        .ports
                        .iter()
                        .zip(ports)
                        .filter(|(_, n)| *n != 0)
                        .map(|(sp, n)| SlicePort {
                            name: sp.name.clone(),
                            port: Some(n),
                            protocol: sp.protocol.clone(),
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// Where a pod with this IP runs (for remote/local decisions and names in traces).
    pub fn pod_by_ip(&self, ip: &str) -> Option<(&str, &Pod)> {
        self.pods
            .iter()
            .find(|(_, p)| p.value.ips().contains(&ip))
            .map(|(k, p)| (k.as_str(), &p.value))
    }

    pub fn plugin(&self) -> NetworkPlugin {
        self.config.network_plugin
    }
}

/// A MAC for a node that has none configured: Hyper-V's OUI and the low three bytes of the
/// node IP (hnsim's convention, not Windows').
pub fn derived_mac(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v)) => {
            let o = v.octets();
            format!("00-15-5D-{:02X}-{:02X}-{:02X}", o[1], o[2], o[3])
        }
        Some(IpAddr::V6(v)) => {
            let o = v.octets();
            format!("00-15-5D-{:02X}-{:02X}-{:02X}", o[13], o[14], o[15])
        }
        None => "00-15-5D-00-00-01".into(),
    }
}
