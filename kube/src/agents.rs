//! The node components of every Windows node, run in the order a real node runs them: the
//! network plugin creates the network (all nodes), then learns the other nodes' leases and
//! adds their routes, the CNI adds each scheduled pod, and kube-proxy starts (deleting every
//! LB) and syncs. Linux nodes are a simplified peer: they only advertise a flannel lease (their
//! pods answer from the scenario's side, see docs/reference/kubernetes.md §5).

use crate::cluster::{Cluster, NodeView};
use crate::cni::{self, CniOptions, PodNetwork};
use crate::hcn::{Hcn, Journaled};
use crate::netplugin::{linux_vtep_mac, Lease, NetworkPluginNode};
use crate::objects::{EndpointSlice, Service};
use crate::proxy::{Proxier, ProxierConfig};
use crate::watch::{Pending, Since};
use hnsim_model::HnsBackend;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Gives the components of a node its host's HNS.
pub trait Backends {
    /// The backend of Kubernetes node `node` (`None`: the node has no HNS, e.g. Linux).
    fn backend(&mut self, node: &str) -> Option<&mut dyn HnsBackend>;
}

impl<B: HnsBackend> Backends for BTreeMap<String, B> {
    fn backend(&mut self, node: &str) -> Option<&mut dyn HnsBackend> {
        self.get_mut(node).map(|b| b as &mut dyn HnsBackend)
    }
}

/// One Windows node's components.
pub struct NodeAgent {
    pub view: NodeView,
    pub plugin: NetworkPluginNode,
    /// Pods the CNI added, by `namespace/name`.
    pub pods: BTreeMap<String, PodNetwork>,
    pub proxiers: Vec<Proxier>,
    /// Why kube-proxy is not running (it retries on the next sync).
    pub proxy_error: Option<String>,
    /// Errors of the last pass (a CNI ADD that failed, a plugin error), for reports.
    pub errors: Vec<String>,
    /// Where kube-proxy's watch of the cluster is (`None`: its next sync takes everything).
    watched: Option<Since>,
}

/// All nodes' components and the journal of what they sent.
pub struct Agents {
    pub nodes: BTreeMap<String, NodeAgent>,
    pub journal: bool,
    pub journals: BTreeMap<String, Vec<Journaled>>,
    pub cni: CniOptions,
    /// HCN calls made (journalled or not).
    pub calls: u64,
}

impl Agents {
    pub fn new(journal: bool) -> Self {
        Agents {
            nodes: BTreeMap::new(),
            journal,
            journals: BTreeMap::new(),
            cni: CniOptions::default(),
            calls: 0,
        }
    }

    fn with_hcn<R>(
        &mut self,
        backends: &mut dyn Backends,
        node: &str,
        f: impl FnOnce(&mut NodeAgent, &mut Hcn) -> R,
    ) -> Option<R> {
        let agent = self.nodes.get_mut(node)?;
        let b = backends.backend(node)?;
        let mut hcn = Hcn::new(b, self.journal);
        let r = f(agent, &mut hcn);
        self.calls += hcn.calls;
        if let Some(j) = hcn.journal.take() {
            self.journals.entry(node.to_string()).or_default().extend(j);
        }
        Some(r)
    }

    /// Bring every Windows node in line with the cluster: networks, routes, pods, then
    /// kube-proxy (start if not running, and sync) when `with_proxy`.
    pub fn reconcile(&mut self, cluster: &Cluster, backends: &mut dyn Backends, with_proxy: bool) {
        for v in cluster.node_views().into_iter().filter(|v| v.windows) {
            self.nodes.entry(v.name.clone()).or_insert_with(|| NodeAgent {
                plugin: NetworkPluginNode::new(&cluster.config),
                view: v.clone(),
                pods: BTreeMap::new(),
                proxiers: Vec::new(),
                proxy_error: None,
                errors: Vec::new(),
                watched: None,
            });
        }
        let names: Vec<String> = self.nodes.keys().cloned().collect();
        for n in &names {
            self.with_hcn(backends, n, |a, hcn| {
                a.errors.clear();
                let adapter = cluster
                    .config
                    .node(n)
                    .adapter
                    .unwrap_or_else(|| "Ethernet".into());
                if let Err(e) = a.plugin.ensure_network(hcn, &cluster.config, &a.view, &adapter) {
                    a.errors.push(e.to_string());
                }
            });
        }
        let leases = self.leases(cluster);
        for n in &names {
            let others: Vec<Lease> = leases.iter().filter(|l| &l.node != n).cloned().collect();
            self.with_hcn(backends, n, |a, hcn| {
                if let Err(e) = a.plugin.sync_routes(hcn, &cluster.config, &others) {
                    a.errors.push(e.to_string());
                }
            });
        }
        let cni_opts = self.cni.clone();
        for n in &names {
            self.with_hcn(backends, n, |a, hcn| a.sync_pods(hcn, cluster, &cni_opts));
        }
        if with_proxy {
            self.sync_proxies(cluster, backends, None);
        }
    }

    /// kube-proxy on every node (or on `only`): start it if it is not running, then sync.
    /// A running kube-proxy takes only the Services that changed since its last sync (its
    /// informers' events); a new one takes every Service and EndpointSlice.
    pub fn sync_proxies(&mut self, cluster: &Cluster, backends: &mut dyn Backends, only: Option<&str>) {
        let names: Vec<String> = self
            .nodes
            .keys()
            .filter(|n| only.is_none_or(|o| o == *n))
            .cloned()
            .collect();
        let mut everything: Option<(Vec<Service>, Vec<EndpointSlice>)> = None;
        let head = cluster.watch.cursor();
        for n in &names {
            self.with_hcn(backends, n, |a, hcn| {
                if a.proxiers.is_empty() {
                    a.watched = None;
                    a.start_proxy(hcn, cluster);
                }
                let wants_all = a.proxiers.iter().any(Proxier::wants_everything);
                let pending = match wants_all {
                    true => Pending::Everything,
                    false => cluster.watch.since(a.watched),
                };
                match pending {
                    Pending::Everything => {
                        let (services, slices) = everything.get_or_insert_with(|| {
                            let s = cluster.services.values().map(|s| s.value.clone()).collect();
                            (s, cluster.endpoint_slices())
                        });
                        for p in &mut a.proxiers {
                            p.sync(hcn, services, slices);
                        }
                    }
                    Pending::Services(scope) => {
                        let services = cluster.services_of(&scope);
                        let slices = cluster.endpoint_slices_of(&scope);
                        for p in &mut a.proxiers {
                            p.sync_changes(hcn, &services, &slices, &scope);
                        }
                    }
                }
                a.watched = (!a.proxiers.is_empty()).then_some(head);
            });
        }
    }

    /// `restart: kube-proxy` on one node: a fresh process (no memory of what it created).
    pub fn restart_proxy(&mut self, node: &str) -> bool {
        match self.nodes.get_mut(node) {
            Some(a) => {
                a.proxiers.clear();
                a.watched = None;
                true
            }
            None => false,
        }
    }

    /// After an HNS restart or a reboot the plugin and CNI state is gone with the objects:
    /// forget it so the next reconcile recreates them (flannel and the kubelet do).
    pub fn forget_node(&mut self, node: &str, cluster: &Cluster) {
        if let Some(a) = self.nodes.get_mut(node) {
            a.plugin = NetworkPluginNode::new(&cluster.config);
            a.pods.clear();
            a.proxiers.clear();
            a.watched = None;
        }
    }

    /// Every node's flannel lease: subnet, public IP, VTEP MAC.
    pub fn leases(&self, cluster: &Cluster) -> Vec<Lease> {
        let mut out = Vec::new();
        for (name, n) in &cluster.nodes {
            let Some(v) = cluster.node_view(name) else {
                continue;
            };
            let (Some(subnet), Some(ip)) = (v.pod_cidr(false), v.ip4()) else {
                continue;
            };
            let public_ip = n
                .value
                .metadata
                .annotations
                .get("flannel.alpha.coreos.com/public-ip")
                .and_then(|s| s.parse::<IpAddr>().ok())
                .unwrap_or(ip);
            let vtep_mac = if v.windows {
                match self.nodes.get(name).and_then(|a| a.plugin.vtep_mac.clone()) {
                    Some(m) => m,
                    None => continue,
                }
            } else {
                linux_vtep_mac(&n.value.metadata.annotations, ip)
            };
            out.push(Lease {
                node: name.clone(),
                subnet,
                public_ip,
                vtep_mac,
            });
        }
        out
    }
}

impl NodeAgent {
    /// CNI ADD for each new pod of this node, DEL for each pod gone.
    fn sync_pods(&mut self, hcn: &mut Hcn, cluster: &Cluster, opts: &CniOptions) {
        let Some(net_id) = self.plugin.network_id.clone() else {
            return;
        };
        let gone: Vec<String> = self
            .pods
            .keys()
            .filter(|k| {
                cluster
                    .pods
                    .get(*k)
                    .is_none_or(|p| p.value.spec.node_name.as_deref() != Some(&self.view.name))
            })
            .cloned()
            .collect();
        for k in gone {
            if let Some(pn) = self.pods.remove(&k) {
                if let Err(e) = cni::del(hcn, &pn) {
                    self.errors.push(format!("CNI DEL {k}: {e}"));
                }
            }
        }
        for (k, p) in &cluster.pods {
            let pod = &p.value;
            if pod.spec.node_name.as_deref() != Some(&self.view.name)
                || pod.spec.host_network
                || self.pods.contains_key(k)
            {
                continue;
            }
            let Some(ip) = pod.ips().first().and_then(|s| s.parse::<IpAddr>().ok()) else {
                self.errors
                    .push(format!("pod {k}: no IP left in the node's podCIDR"));
                continue;
            };
            // A dual-stack pod on a dual-stack (non-overlay) network: both addresses.
            let mut ips = vec![ip];
            if !cluster.config.network_plugin.overlay() && self.view.pod_cidr(!ip.is_ipv6()).is_some() {
                ips.extend(
                    pod.ips()
                        .iter()
                        .filter_map(|s| s.parse::<IpAddr>().ok())
                        .find(|a| a.is_ipv6() != ip.is_ipv6()),
                );
            }
            match cni::add(
                hcn,
                &cluster.config,
                &self.view,
                (&net_id, &self.plugin.network_name),
                pod,
                &ips,
                opts,
            ) {
                Ok(pn) => {
                    self.pods.insert(k.clone(), pn);
                }
                Err(e) => self.errors.push(format!("CNI ADD {k}: {e}")),
            }
        }
    }

    fn start_proxy(&mut self, hcn: &mut Hcn, cluster: &Cluster) {
        let nc = cluster.config.node(&self.view.name);
        let kp = &nc.kube_proxy;
        let families: Vec<bool> = {
            let v4 = self.view.ip_of(false).is_some();
            let v6 = self.view.ip_of(true).is_some();
            // Overlay with WinOverlay falls back to single stack.
            let dual = v4 && v6 && kp.dual_stack && !cluster.config.network_plugin.overlay();
            match (v4, dual) {
                (true, true) => vec![false, true],
                (true, false) => vec![false],
                (false, _) => vec![true],
            }
        };
        self.proxy_error = None;
        for v6 in families {
            let Some(ip) = self.view.ip_of(v6) else { continue };
            let cfg = ProxierConfig {
                node_name: self.view.name.clone(),
                node_ip: ip,
                host_mac: self.view.mac.to_ascii_lowercase().replace('-', ":"),
                network_name: kp
                    .network_name
                    .clone()
                    .unwrap_or_else(|| self.plugin.network_name.clone()),
                enable_dsr: kp.enable_dsr,
                source_vip: kp.source_vip,
                forward_healthcheck_vip: kp.forward_healthcheck_vip,
                root_hnsendpoint_name: kp.root_hnsendpoint_name.clone(),
                healthz_port: kp.healthz_port,
                ipv6: v6,
                profile: cluster.config.profile,
                win_overlay_gate: kp.gate("WinOverlay"),
                win_dsr_gate: kp.gate("WinDSR"),
                modify_load_balancer: kp.modify_load_balancer,
                dsr_supported: kp.dsr_supported,
                full_inventory: kp.full_inventory,
            };
            match Proxier::start(hcn, cfg) {
                Ok(p) => self.proxiers.push(p),
                Err(e) => {
                    self.proxy_error = Some(e.to_string());
                    self.proxiers.clear();
                    return;
                }
            }
        }
    }
}
