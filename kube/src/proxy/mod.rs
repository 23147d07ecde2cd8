//! kube-proxy's winkernel proxier, one per IP family (docs/reference/kubernetes.md §2).
//!
//! [`Proxier::start`] does what `newProxierInternal` does (delete every HNS load balancer, find
//! the network, check the overlay and DSR prerequisites). [`Proxier::update`] takes the
//! cluster's Services and EndpointSlices and runs the change callbacks (which clean up the
//! policies of changed service ports); [`Proxier::sync`] is `syncProxyRules`: re-read the
//! network, inventory endpoints and LBs, create the source-VIP endpoint on overlay, and program
//! every service port whose policies are not applied. Service ports are visited in name order
//! (upstream iterates a Go map, i.e. at random); endpoints in "ip:port" order as upstream sorts
//! them.

mod inventory;
pub mod lb;

use crate::config::Profile;
use crate::hcn::{policies, str_field, v2, Component, Hcn};
use crate::objects::{EndpointSlice, IntOrString, Service};
use hnsim_model::backend::ObjectKind;
use inventory::Inventory;
use ipnet::IpNet;
use lb::{id_of, LbFlags, LbKind, LbSpec};
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// One proxier's settings (the kube-proxy flags of its node, for one IP family).
#[derive(Clone, Debug)]
pub struct ProxierConfig {
    pub node_name: String,
    pub node_ip: IpAddr,
    /// The host NIC's MAC as Go prints it: colon-separated lower case.
    pub host_mac: String,
    pub network_name: String,
    pub enable_dsr: bool,
    pub source_vip: Option<IpAddr>,
    pub forward_healthcheck_vip: bool,
    pub root_hnsendpoint_name: String,
    pub healthz_port: u16,
    pub ipv6: bool,
    pub profile: Profile,
    pub win_overlay_gate: bool,
    pub win_dsr_gate: bool,
    /// `None`: decide from the HNS version as hnslib does.
    pub modify_load_balancer: Option<bool>,
    pub dsr_supported: Option<bool>,
    /// List every endpoint and LB on every sync even when the backend can say what changed
    /// (see `inventory.rs`; the answers are the same, only the cost differs).
    pub full_inventory: bool,
}

/// Why kube-proxy did not start (it exits; the kubelet/service manager restarts it).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StartError {
    #[error("could not find HNS network {0}: waiting for the CNI to create it")]
    NoNetwork(String),
    #[error("WinOverlay feature gate not enabled")]
    WinOverlayGate,
    #[error("source-vip flag not set")]
    NoSourceVip,
    #[error("WinDSR feature gate not enabled")]
    WinDsrGate,
    #[error("DSR is not supported by this HNS version")]
    NoDsr,
}

/// A service port's LB IDs: ClusterIP, NodePort, ExternalIPs, (Ingress, HealthCheck) pairs.
pub type LbIds = (String, String, Vec<String>, Vec<(String, String)>);

/// `namespace/name:port/protocol`.
pub type SvcPortName = String;

/// A service port as kube-proxy's `serviceInfo` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SvcInfo {
    pub cluster_ip: IpAddr,
    pub port: u16,
    pub protocol: u16,
    pub port_name: String,
    /// 0 for a named targetPort (taken from the endpoints).
    pub target_port: u16,
    pub node_port: u16,
    pub external_ips: Vec<String>,
    pub ingress_ips: Vec<String>,
    pub health_check_node_port: u16,
    pub session_affinity: bool,
    pub local_traffic_dsr: bool,
    pub internal_traffic_local: bool,
    pub preserve_dip: bool,
    pub win_proxy_optimization: bool,
}

/// A service port with its HNS state.
#[derive(Clone, Debug)]
struct SvcPort {
    info: SvcInfo,
    target_port: u16,
    hns_id: String,
    node_port_hns_id: String,
    external_ids: Vec<String>,
    ingress_ids: Vec<(String, String)>,
    /// The ClusterIP endpoint this port created (overlay), with its refcount key.
    remote_endpoint: Option<String>,
    /// Set when the remote endpoint's refcount pointer is live (cleared by Cleanup).
    remote_endpoint_counted: bool,
    policy_applied: bool,
}

/// One endpoint of a service port (`endpointInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ep {
    pub ip: String,
    pub port: u16,
    pub is_local: bool,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
    hns_id: String,
    /// The shared refcount this endpoint incremented (Go's `refCount` pointer), if any.
    counted: Option<String>,
}

impl Ep {
    fn same_as(&self, o: &Ep) -> bool {
        (
            self.ip.as_str(),
            self.port,
            self.is_local,
            self.ready,
            self.serving,
            self.terminating,
        ) == (
            o.ip.as_str(),
            o.port,
            o.is_local,
            o.ready,
            o.serving,
            o.terminating,
        )
    }
}

#[derive(Clone, Debug, Default)]
struct NetInfo {
    id: String,
    overlay: bool,
    remote_subnets: Vec<(IpNet, String)>,
}

/// A queried HNS endpoint.
#[derive(Clone, Debug)]
pub(crate) struct HnsEp {
    id: String,
    is_local: bool,
}

/// Counters for tests and benches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    pub syncs: u64,
    pub service_ports_programmed: u64,
    pub lbs_created: u64,
    pub lbs_updated: u64,
    pub lbs_deleted: u64,
    pub endpoints_created: u64,
    pub endpoints_deleted: u64,
    /// HNS objects queried by the per-sync inventory (all of them on a full listing, the
    /// changed ones otherwise).
    pub inventory_queried: u64,
    /// Service ports whose Service or endpoints were compared with the previous state.
    pub service_ports_compared: u64,
}

/// One single-stack proxier.
pub struct Proxier {
    pub cfg: ProxierConfig,
    network: Option<NetInfo>,
    svc_ports: BTreeMap<SvcPortName, SvcPort>,
    endpoints: BTreeMap<SvcPortName, Vec<Ep>>,
    ref_counts: BTreeMap<String, u16>,
    stale_lbs: BTreeSet<String>,
    terminated: BTreeSet<String>,
    modify_supported: bool,
    dsr_supported: bool,
    /// klog-style lines kube-proxy would log, for `render` and failing tests.
    pub log: Vec<String>,
    /// The HNS calls that failed in the last sync (kube-proxy logs them and retries later).
    pub errors: Vec<String>,
    inventory: Inventory,
    /// A sync returned before taking the cluster's changes (the network changed): the next
    /// one must be given every Service and EndpointSlice.
    missed_update: bool,
    /// What each HNS object kube-proxy created is: `source-vip`, `clusterip svc/NS/NAME`,
    /// `remote IP`, or `svc/NS/NAME Kind` for LBs.
    pub origins: BTreeMap<String, String>,
    pub stats: SyncStats,
}

fn proto_num(p: Option<&str>) -> u16 {
    match p.unwrap_or("TCP") {
        "UDP" => 17,
        "SCTP" => 132,
        _ => 6,
    }
}

/// The keys of `m` that start with `prefix`, found by a range of the sorted map.
fn keys_with_prefix<V>(m: &BTreeMap<String, V>, prefix: &str) -> Vec<String> {
    m.range(prefix.to_string()..)
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(k, _)| k.clone())
        .collect()
}

/// `02-11-` and the address bytes: IPv4 in order, IPv6 bytes 15, 14, 13, 12.
pub fn conjure_mac(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v)) => {
            let o = v.octets();
            format!("02-11-{:02x}-{:02x}-{:02x}-{:02x}", o[0], o[1], o[2], o[3])
        }
        Ok(IpAddr::V6(v)) => {
            let o = v.octets();
            format!("02-11-{:02x}-{:02x}-{:02x}-{:02x}", o[15], o[14], o[13], o[12])
        }
        Err(_) => "02-11-22-33-44-55".into(),
    }
}

impl Proxier {
    /// kube-proxy start-up: delete every HNS load balancer, find the network, check the
    /// prerequisites. A failure leaves the LBs deleted (as the real start-up does).
    pub fn start(hcn: &mut Hcn, cfg: ProxierConfig) -> Result<Proxier, StartError> {
        hcn.component = Component::KubeProxy;
        let (maj, min) = hcn.version();
        let v = (maj, min);
        let dsr_by_version = (maj == 9 && min >= 3) || v >= (10, 2);
        let modify_by_version = (maj == 15 && min >= 5) || maj >= 16;
        // DeleteAllHnsLoadBalancerPolicy: every LB on the host, not only kube-proxy's.
        if let Ok(lbs) = hcn.list(ObjectKind::LoadBalancer, None) {
            for l in lbs {
                let _ = hcn.delete(ObjectKind::LoadBalancer, &id_of(&l));
            }
        }
        let mut p = Proxier {
            modify_supported: cfg.modify_load_balancer.unwrap_or(modify_by_version),
            dsr_supported: cfg.dsr_supported.unwrap_or(dsr_by_version),
            cfg,
            network: None,
            svc_ports: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            ref_counts: BTreeMap::new(),
            stale_lbs: BTreeSet::new(),
            terminated: BTreeSet::new(),
            log: Vec::new(),
            errors: Vec::new(),
            inventory: Inventory::default(),
            missed_update: false,
            origins: BTreeMap::new(),
            stats: SyncStats::default(),
        };
        let net = p
            .read_network(hcn)
            .ok_or_else(|| StartError::NoNetwork(p.cfg.network_name.clone()))?;
        if p.cfg.enable_dsr {
            if !p.cfg.win_dsr_gate {
                return Err(StartError::WinDsrGate);
            }
            if !p.dsr_supported {
                return Err(StartError::NoDsr);
            }
        }
        if net.overlay {
            if !p.cfg.win_overlay_gate {
                return Err(StartError::WinOverlayGate);
            }
            if p.cfg.source_vip.is_none() {
                return Err(StartError::NoSourceVip);
            }
        }
        p.network = Some(net);
        Ok(p)
    }

    fn read_network(&mut self, hcn: &mut Hcn) -> Option<NetInfo> {
        let n = hcn.network_by_name(&self.cfg.network_name).ok()??;
        let remote_subnets = policies(&n, "RemoteSubnetRoute")
            .filter_map(|s| {
                let p: IpNet = s.get("DestinationPrefix")?.as_str()?.parse().ok()?;
                Some((p, s.get("ProviderAddress")?.as_str()?.to_string()))
            })
            .collect();
        Some(NetInfo {
            id: str_field(&n, "ID").to_string(),
            overlay: str_field(&n, "Type").eq_ignore_ascii_case("overlay"),
            remote_subnets,
        })
    }

    pub fn is_overlay(&self) -> bool {
        self.network.as_ref().is_some_and(|n| n.overlay)
    }

    /// `findRemoteSubnetProviderAddress`: the PA of the RemoteSubnetRoute whose prefix holds
    /// `ip` or whose PA is `ip`; empty when none (then kube-proxy assumes a public IP).
    pub fn find_remote_subnet_pa(&self, ip: &str) -> String {
        let mut pa = String::new();
        let Some(n) = &self.network else { return pa };
        let addr: Option<IpAddr> = ip.parse().ok();
        for (prefix, p) in &n.remote_subnets {
            if addr.is_some_and(|a| prefix.contains(&a)) || ip == p {
                pa = p.clone();
            }
        }
        pa
    }

    // ---- change tracking ------------------------------------------------------------------

    /// The service ports of `services` for this proxier's family.
    fn service_ports(&self, services: &[Service]) -> BTreeMap<SvcPortName, SvcInfo> {
        let mut out = BTreeMap::new();
        for s in services.iter().filter(|s| s.proxied()) {
            let Some(cip) = s
                .cluster_ips()
                .iter()
                .filter_map(|c| c.parse::<IpAddr>().ok())
                .find(|c| c.is_ipv6() == self.cfg.ipv6)
            else {
                continue;
            };
            let fam = |v: &Vec<String>| -> Vec<String> {
                v.iter()
                    .filter(|i| i.parse::<IpAddr>().is_ok_and(|a| a.is_ipv6() == self.cfg.ipv6))
                    .cloned()
                    .collect()
            };
            let ingress: Vec<String> = s
                .status
                .load_balancer
                .ingress
                .iter()
                .filter_map(|i| i.ip.clone())
                .collect();
            let dsr = self.dsr_supported;
            let ann = &s.metadata.annotations;
            for p in &s.spec.ports {
                let name = format!(
                    "{}/{}:{}/{}",
                    s.metadata.ns(),
                    s.metadata.name,
                    p.name.clone().unwrap_or_default(),
                    p.protocol.clone().unwrap_or_else(|| "TCP".into())
                );
                let target = match &p.target_port {
                    Some(IntOrString::Int(n)) => *n,
                    Some(IntOrString::String(_)) => 0,
                    None => p.port,
                };
                out.insert(
                    name,
                    SvcInfo {
                        cluster_ip: cip,
                        port: p.port,
                        protocol: proto_num(p.protocol.as_deref()),
                        port_name: p.name.clone().unwrap_or_default(),
                        target_port: target,
                        node_port: if s.type_() == "NodePort" || s.type_() == "LoadBalancer" {
                            p.node_port.unwrap_or(0)
                        } else {
                            0
                        },
                        external_ips: fam(&s.spec.external_ips),
                        ingress_ips: fam(&ingress),
                        health_check_node_port: s.spec.health_check_node_port.unwrap_or(0),
                        session_affinity: s.client_ip_affinity(),
                        local_traffic_dsr: s.etp_local() && dsr,
                        internal_traffic_local: s.itp_local(),
                        preserve_dip: ann.get("preserve-destination").map(String::as_str) == Some("true")
                            && dsr,
                        win_proxy_optimization: !ann
                            .get("winProxyOptimization")
                            .is_some_and(|v| v.eq_ignore_ascii_case("DISABLED")),
                    },
                );
            }
        }
        out
    }

    /// The endpoints of every service port, from the EndpointSlices (matched by Service name and
    /// port name), for this family, in "ip:port" order.
    fn endpoint_map(
        &self,
        slices: &[EndpointSlice],
        ports: &BTreeMap<SvcPortName, SvcInfo>,
    ) -> BTreeMap<SvcPortName, Vec<Ep>> {
        let mut out: BTreeMap<SvcPortName, Vec<Ep>> = BTreeMap::new();
        for s in slices {
            let Some(svc) = s.service_name() else { continue };
            for sp in &s.ports {
                let name = format!(
                    "{}/{}:{}/{}",
                    s.metadata.ns(),
                    svc,
                    sp.name.clone().unwrap_or_default(),
                    sp.protocol.clone().unwrap_or_else(|| "TCP".into())
                );
                let Some(port) = sp.port else { continue };
                let list = out.entry(name).or_default();
                for e in &s.endpoints {
                    let Some(ip) = e
                        .addresses
                        .iter()
                        .find(|a| a.parse::<IpAddr>().is_ok_and(|x| x.is_ipv6() == self.cfg.ipv6))
                    else {
                        continue;
                    };
                    list.push(Ep {
                        ip: ip.clone(),
                        port,
                        is_local: e.node_name.as_deref() == Some(self.cfg.node_name.as_str()),
                        ready: e.conditions.ready() && !e.conditions.terminating(),
                        serving: e.conditions.serving(),
                        terminating: e.conditions.terminating(),
                        hns_id: String::new(),
                        counted: None,
                    });
                }
            }
        }
        out.retain(|k, v| ports.contains_key(k) && !v.is_empty());
        for v in out.values_mut() {
            v.sort_by_key(|e| format!("{}:{}", e.ip, e.port));
            v.dedup_by(|a, b| a.ip == b.ip && a.port == b.port);
        }
        out
    }

    /// Take the cluster's current Services and EndpointSlices: run the service and endpoint
    /// change callbacks for what changed (they clean up the affected ports' policies), then
    /// merge. kube-proxy does this at the start of `syncProxyRules`; [`Proxier::sync`] calls it.
    pub fn update(&mut self, hcn: &mut Hcn, services: &[Service], slices: &[EndpointSlice]) {
        self.update_in(hcn, services, slices, None);
    }

    /// The service ports (`namespace/name:…`) held now of the Services in `scope`, or all.
    fn held_ports<V>(m: &BTreeMap<SvcPortName, V>, scope: Option<&BTreeSet<String>>) -> Vec<SvcPortName> {
        match scope {
            None => m.keys().cloned().collect(),
            Some(svcs) => svcs
                .iter()
                .flat_map(|s| keys_with_prefix(m, &format!("{s}:")))
                .collect(),
        }
    }

    /// [`Proxier::update`] for the Services named in `scope` only (`namespace/name`; `None`:
    /// all): `services` and `slices` then hold exactly those Services and their slices, as
    /// kube-proxy's change trackers hand it only what its informers reported.
    fn update_in(
        &mut self,
        hcn: &mut Hcn,
        services: &[Service],
        slices: &[EndpointSlice],
        scope: Option<&BTreeSet<String>>,
    ) {
        hcn.component = Component::KubeProxy;
        let new_ports = self.service_ports(services);
        let held_ports = Self::held_ports(&self.svc_ports, scope);
        self.stats.service_ports_compared += (new_ports.len() + held_ports.len()) as u64;
        // Services: every changed port is cleaned up (LBs deleted, endpoints released).
        let changed: Vec<SvcPortName> = new_ports
            .iter()
            .filter(|(k, v)| self.svc_ports.get(*k).map(|s| &s.info) != Some(*v))
            .map(|(k, _)| k.clone())
            .chain(held_ports.into_iter().filter(|k| !new_ports.contains_key(k)))
            .collect();
        for k in &changed {
            self.cleanup_all_policies(hcn, k, false);
        }
        for k in &changed {
            match new_ports.get(k) {
                Some(info) => {
                    self.svc_ports.insert(
                        k.clone(),
                        SvcPort {
                            target_port: info.target_port,
                            info: info.clone(),
                            hns_id: String::new(),
                            node_port_hns_id: String::new(),
                            external_ids: vec![String::new(); info.external_ips.len()],
                            ingress_ids: vec![(String::new(), String::new()); info.ingress_ips.len()],
                            remote_endpoint: None,
                            remote_endpoint_counted: false,
                            policy_applied: false,
                        },
                    );
                }
                None => {
                    self.svc_ports.remove(k);
                }
            }
        }
        // Endpoints, per Service (the change tracker's unit): old ports are cleaned up, the
        // terminated set is the old remote IPs not in the new list.
        let new_eps = self.endpoint_map(slices, &new_ports);
        let mut services_changed: BTreeSet<String> = BTreeSet::new();
        let held_eps = Self::held_ports(&self.endpoints, scope);
        for k in new_eps.keys().chain(held_eps.iter()) {
            let same = match (self.endpoints.get(k), new_eps.get(k)) {
                (Some(a), Some(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y)),
                _ => false,
            };
            if !same {
                services_changed.insert(k.split(':').next().unwrap_or(k).to_string());
            }
        }
        for svc in services_changed {
            let prefix = format!("{svc}:");
            // The Service's ports: a range of the sorted maps, not a scan (linear overall).
            let old_keys = keys_with_prefix(&self.endpoints, &prefix);
            let new_keys = keys_with_prefix(&new_eps, &prefix);
            // 1.31 clears the terminated set on every endpoints change, losing the previous
            // Services' remote IPs; the fix (kubernetes/kubernetes#135146) keeps them for the
            // whole sync (the set is emptied when the sync consumes it).
            if self.cfg.profile == Profile::V1_31 {
                self.terminated.clear();
            }
            for k in &old_keys {
                for e in self.endpoints[k].iter().filter(|e| !e.is_local) {
                    self.terminated.insert(e.ip.clone());
                }
                self.on_endpoints_change(hcn, k, false);
            }
            for k in &new_keys {
                for e in new_eps[k].iter().filter(|e| !e.is_local) {
                    self.terminated.remove(&e.ip);
                }
                self.on_endpoints_change(hcn, k, old_keys.contains(k));
            }
            for k in old_keys {
                self.endpoints.remove(&k);
            }
            for k in new_keys {
                self.endpoints.insert(k.clone(), new_eps[&k].clone());
            }
        }
    }

    fn on_endpoints_change(&mut self, hcn: &mut Hcn, k: &str, redundant: bool) {
        match self.svc_ports.get(k) {
            Some(sp) => {
                if sp.info.win_proxy_optimization && redundant {
                    return;
                }
                self.cleanup_all_policies(hcn, k, true);
            }
            None => {
                // Orphaned endpoints: release them.
                let eps = self.endpoints.get(k).cloned().unwrap_or_default();
                let mut eps = eps;
                for e in &mut eps {
                    self.ep_cleanup(hcn, e);
                }
                self.endpoints.insert(k.to_string(), eps);
            }
        }
    }

    fn cleanup_all_policies(&mut self, hcn: &mut Hcn, k: &str, endpoint_change: bool) {
        let Some(sp) = self.svc_ports.get(k) else { return };
        let optimize = endpoint_change && sp.info.win_proxy_optimization;
        if !optimize {
            self.delete_lb_policies(hcn, k);
        }
        let mut eps = self.endpoints.get(k).cloned().unwrap_or_default();
        for e in &mut eps {
            if optimize {
                if let Some(id) = &e.counted {
                    if let Some(c) = self.ref_counts.get_mut(id) {
                        *c = c.saturating_sub(1);
                    }
                }
            } else {
                self.ep_cleanup(hcn, e);
            }
        }
        if self.endpoints.contains_key(k) {
            self.endpoints.insert(k.to_string(), eps);
        }
        let sp = self.svc_ports.get_mut(k).expect("checked");
        if sp.remote_endpoint_counted {
            sp.remote_endpoint_counted = false;
            if let Some(id) = sp.remote_endpoint.clone() {
                self.release(hcn, &id);
            }
        }
        if let Some(sp) = self.svc_ports.get_mut(k) {
            sp.policy_applied = false;
        }
    }

    /// `endpointInfo.Cleanup`: drop this endpoint's reference; delete the remote endpoint when
    /// no service refers to it any more. Local endpoints are never deleted.
    fn ep_cleanup(&mut self, hcn: &mut Hcn, e: &mut Ep) {
        if let Some(id) = e.counted.take() {
            if self.release(hcn, &id) {
                e.hns_id.clear();
            }
        }
    }

    /// Decrement a shared refcount; at zero delete the endpoint. True when deleted.
    fn release(&mut self, hcn: &mut Hcn, id: &str) -> bool {
        let c = self.ref_counts.entry(id.to_string()).or_insert(0);
        *c = c.saturating_sub(1);
        if *c == 0 {
            self.log.push(format!(
                "Removing endpoints, since no one is referencing it hnsID={id}"
            ));
            if hcn.delete(ObjectKind::Endpoint, id).is_ok() {
                self.stats.endpoints_deleted += 1;
                return true;
            }
        }
        false
    }

    fn delete_lb(&mut self, hcn: &mut Hcn, id: &mut String) {
        if id.is_empty() {
            return;
        }
        if hcn.delete(ObjectKind::LoadBalancer, id).is_err() {
            self.stale_lbs.insert(id.clone());
        } else {
            self.stats.lbs_deleted += 1;
        }
        id.clear();
    }

    fn delete_lb_policies(&mut self, hcn: &mut Hcn, k: &str) {
        let Some(mut sp) = self.svc_ports.remove(k) else {
            return;
        };
        self.delete_lb(hcn, &mut sp.hns_id);
        self.delete_lb(hcn, &mut sp.node_port_hns_id);
        for id in &mut sp.external_ids {
            self.delete_lb(hcn, id);
        }
        for (id, hc) in &mut sp.ingress_ids {
            self.delete_lb(hcn, id);
            self.delete_lb(hcn, hc);
        }
        self.svc_ports.insert(k.to_string(), sp);
    }

    // ---- sync -----------------------------------------------------------------------------

    /// `syncProxyRules`, after taking the cluster's current Services and EndpointSlices.
    pub fn sync(&mut self, hcn: &mut Hcn, services: &[Service], slices: &[EndpointSlice]) {
        self.sync_in(hcn, services, slices, None);
    }

    /// `syncProxyRules` when only the Services named in `scope` (`namespace/name`) changed
    /// since the last sync: `services` and `slices` hold exactly those Services and their
    /// slices. Valid only when [`Proxier::wants_everything`] is false.
    pub fn sync_changes(
        &mut self,
        hcn: &mut Hcn,
        services: &[Service],
        slices: &[EndpointSlice],
        scope: &BTreeSet<String>,
    ) {
        self.sync_in(hcn, services, slices, Some(scope));
    }

    /// Whether the next sync must be given every Service and EndpointSlice (a sync returned
    /// before taking the changes it was given).
    pub fn wants_everything(&self) -> bool {
        self.missed_update
    }

    fn sync_in(
        &mut self,
        hcn: &mut Hcn,
        services: &[Service],
        slices: &[EndpointSlice],
        scope: Option<&BTreeSet<String>>,
    ) {
        let first = self.log.len();
        self.sync_inner(hcn, services, slices, scope);
        self.errors = self.log[first..]
            .iter()
            .filter(|l| l.contains("failed"))
            .cloned()
            .collect();
    }

    fn sync_inner(
        &mut self,
        hcn: &mut Hcn,
        services: &[Service],
        slices: &[EndpointSlice],
        scope: Option<&BTreeSet<String>>,
    ) {
        hcn.component = Component::KubeProxy;
        self.stats.syncs += 1;
        let prev = self.network.as_ref().map(|n| n.id.clone());
        let now = self.read_network(hcn);
        if now.as_ref().map(|n| &n.id) != prev.as_ref() || now.is_none() {
            self.log.push(format!(
                "The HNS network is not present or has changed since the last sync hnsNetworkName={}",
                self.cfg.network_name
            ));
            let keys: Vec<String> = self.svc_ports.keys().cloned().collect();
            for k in keys {
                self.cleanup_all_policies(hcn, &k, false);
            }
            if now.is_some() {
                self.network = now;
            }
            self.inventory.invalidate();
            self.missed_update = true;
            return;
        }
        self.network = now;
        self.update_in(hcn, services, slices, scope);
        if scope.is_none() {
            self.missed_update = false;
        }
        let net_id = self.network.as_ref().map(|n| n.id.clone()).unwrap_or_default();
        // Inventory: endpoints keyed by ID and by IP (a local one never replaces a remote one
        // with the same IP), LBs by identity.
        let mut inv = std::mem::take(&mut self.inventory);
        self.stats.inventory_queried +=
            inv.refresh(hcn, &net_id, self.family_in_identity(), self.cfg.full_inventory);
        if self.cfg.profile == Profile::Latest {
            let deleted = inv.delete_remote_duplicates(hcn);
            self.stats.endpoints_deleted +=
                deleted.iter().filter(|l| l.starts_with("Deleted")).count() as u64;
            self.log.extend(deleted);
        }
        self.program_all(hcn, &net_id, &mut inv);
        self.inventory = inv;
    }

    /// The rest of `syncProxyRules`, over the inventory: the source-VIP endpoint, every service
    /// port not yet applied, unreferenced remote endpoints, stale LBs.
    fn program_all(&mut self, hcn: &mut Hcn, net_id: &str, inv: &mut Inventory) {
        if self.is_overlay() {
            let svip = self.cfg.source_vip.map(|v| v.to_string()).unwrap_or_default();
            if !inv.queried.contains_key(&svip) {
                let doc = json!({
                    "HostComputeNetwork": net_id,
                    "IpConfigurations": [{"IpAddress": svip}],
                    "MacAddress": self.cfg.host_mac,
                    "SchemaVersion": v2(),
                });
                match hcn.create(ObjectKind::Endpoint, &doc) {
                    Ok(id) => {
                        self.stats.endpoints_created += 1;
                        self.origins.insert(id, "source-vip".into());
                    }
                    Err(e) => {
                        self.log.push(format!("Source Vip endpoint creation failed: {e}"));
                        return;
                    }
                }
            }
        }
        let keys: Vec<String> = self
            .svc_ports
            .iter()
            .filter(|(_, p)| !p.policy_applied)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.program(hcn, &k, net_id, inv);
        }
        // Remote endpoints that left the endpoint map and have no references left.
        for ip in std::mem::take(&mut self.terminated) {
            if let Some(h) = inv.queried.get(&ip).cloned() {
                if !h.is_local && self.ref_counts.get(&h.id).copied().unwrap_or(0) == 0 {
                    self.log.push(format!(
                        "Deleting unreferenced remote endpoint hnsID={} IP={ip}",
                        h.id
                    ));
                    if hcn.delete(ObjectKind::Endpoint, &h.id).is_ok() {
                        self.stats.endpoints_deleted += 1;
                    }
                }
            }
        }
        // Stale LBs, at most 20 per sync.
        let stale: Vec<String> = self.stale_lbs.iter().take(20).cloned().collect();
        for id in stale {
            if hcn.delete(ObjectKind::LoadBalancer, &id).is_ok() {
                self.stale_lbs.remove(&id);
            }
        }
    }

    /// Program one service port (the body of the sync loop).
    fn program(&mut self, hcn: &mut Hcn, k: &str, net_id: &str, inv: &mut Inventory) {
        let overlay = self.is_overlay();
        let info = self.svc_ports[k].info.clone();
        let svc_label = format!("svc/{}", k.split('/').take(2).collect::<Vec<_>>().join("/"));
        let cip = info.cluster_ip.to_string();
        if overlay && !inv.queried.contains_key(&cip) {
            let doc = self.remote_ep_doc(
                net_id,
                &cip,
                &self.cfg.host_mac.clone(),
                &self.cfg.node_ip.to_string(),
            );
            match hcn.create(ObjectKind::Endpoint, &doc) {
                Ok(id) => {
                    self.stats.endpoints_created += 1;
                    *self.ref_counts.entry(id.clone()).or_insert(0) += 1;
                    let sp = self.svc_ports.get_mut(k).expect("exists");
                    sp.remote_endpoint = Some(id.clone());
                    sp.remote_endpoint_counted = true;
                    self.origins.insert(id.clone(), format!("clusterip {svc_label}"));
                    inv.note_endpoint(&id, &cip, false);
                }
                Err(e) => {
                    self.log.push(format!(
                        "Remote endpoint creation failed for service VIP {cip}: {e}"
                    ));
                    return;
                }
            }
        }
        let mut eps = self.endpoints.get(k).cloned().unwrap_or_default();
        let (mut all_terminating, mut all_non_serving) = (false, false);
        let mut some_serving = true;
        if !info.ingress_ips.is_empty() {
            let considered = eps.iter().filter(|e| !info.local_traffic_dsr || e.is_local);
            all_terminating = considered
                .clone()
                .filter(|e| e.ready || e.terminating)
                .all(|e| e.terminating);
            all_non_serving = considered.clone().all(|e| !e.serving);
            some_serving = !all_non_serving;
        }
        let mut all: Vec<HnsEp> = Vec::new();
        let mut local: Vec<HnsEp> = Vec::new();
        let (mut has_node_ip, mut has_public_ip) = (false, false);
        let mut target_port = self.svc_ports[k].target_port;
        for e in &mut eps {
            if info.internal_traffic_local && info.local_traffic_dsr && !e.is_local {
                continue;
            }
            if some_serving {
                if !all_terminating && !e.ready {
                    continue;
                }
                if !e.serving {
                    continue;
                }
            }
            match self.cfg.profile {
                Profile::Latest => {
                    if target_port == 0 || target_port != e.port {
                        target_port = e.port;
                    }
                }
                Profile::V1_31 => {
                    if target_port == 0 {
                        target_port = e.port;
                    }
                }
            }
            let mut found = (!e.hns_id.is_empty())
                .then(|| inv.queried.get(&e.hns_id).cloned())
                .flatten();
            if found.is_none() {
                found = inv.queried.get(&e.ip).cloned();
            }
            let h = match found {
                Some(h) => h,
                None => {
                    if e.is_local {
                        self.log
                            .push(format!("Local endpoint not found: on network ip={}", e.ip));
                        continue;
                    }
                    let (mac, pa) = if overlay {
                        // Re-read the network for new RemoteSubnetRoutes.
                        if let Some(n) = self.read_network(hcn) {
                            self.network = Some(n);
                        }
                        let mut pa = self.find_remote_subnet_pa(&e.ip);
                        if pa.is_empty() {
                            self.log.push(format!(
                                "Could not find provider address, assuming it is a public IP IP={}",
                                e.ip
                            ));
                            pa = self.cfg.node_ip.to_string();
                        }
                        (conjure_mac(&e.ip), pa)
                    } else {
                        (conjure_mac(&e.ip), String::new())
                    };
                    let doc = self.remote_ep_doc(net_id, &e.ip, &mac, &pa);
                    match hcn.create(ObjectKind::Endpoint, &doc) {
                        Ok(id) => {
                            self.stats.endpoints_created += 1;
                            self.origins
                                .entry(id.clone())
                                .or_insert_with(|| format!("remote {}", e.ip));
                            inv.note_endpoint(&id, &e.ip, false)
                        }
                        Err(err) => {
                            self.log
                                .push(format!("Remote endpoint creation failed ip={}: {err}", e.ip));
                            continue;
                        }
                    }
                }
            };
            if overlay && !e.is_local {
                let pa = self.find_remote_subnet_pa(&e.ip);
                has_node_ip |= e.ip == pa;
                has_public_ip |= pa.is_empty();
            }
            if h.is_local {
                local.push(h.clone());
            } else {
                *self.ref_counts.entry(h.id.clone()).or_insert(0) += 1;
                e.counted = Some(h.id.clone());
            }
            e.hns_id = h.id.clone();
            all.push(h);
        }
        self.endpoints.insert(k.to_string(), eps);
        self.svc_ports.get_mut(k).expect("exists").target_port = target_port;
        if all.is_empty() {
            if info.win_proxy_optimization {
                self.delete_lb_policies(hcn, k);
            }
            self.log.push(format!(
                "Endpoint information not available for service, not applying any policy serviceName={k}"
            ));
            return;
        }
        let source_vip = if !overlay {
            String::new()
        } else if has_node_ip || has_public_ip {
            self.cfg.node_ip.to_string()
        } else {
            self.cfg.source_vip.map(|v| v.to_string()).unwrap_or_default()
        };
        let available = !all_terminating && !all_non_serving;
        let ids = |v: &[HnsEp]| v.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        let base = LbFlags {
            session_affinity: info.session_affinity,
            ipv6: self.cfg.ipv6,
            ..Default::default()
        };
        let spec = |kind, vip: String, int, ext, flags, endpoints| LbSpec {
            kind,
            source_vip: source_vip.clone(),
            vip,
            protocol: info.protocol,
            internal_port: int,
            external_port: ext,
            flags,
            endpoints,
        };
        // ClusterIP.
        let cluster_eps = if info.internal_traffic_local {
            ids(&local)
        } else {
            ids(&all)
        };
        let s = spec(
            LbKind::ClusterIp,
            cip.clone(),
            target_port,
            info.port,
            LbFlags {
                dsr: self.cfg.enable_dsr,
                ..base
            },
            cluster_eps,
        );
        let mut id = self.svc_ports[k].hns_id.clone();
        if !self.manage(
            hcn,
            &s,
            &mut id,
            true,
            info.win_proxy_optimization,
            inv,
            &svc_label,
        ) {
            self.svc_ports.get_mut(k).expect("exists").hns_id = id;
            return;
        }
        self.svc_ports.get_mut(k).expect("exists").hns_id = id;
        // NodePort.
        if info.node_port > 0 {
            let np_eps = if info.preserve_dip || info.local_traffic_dsr {
                ids(&local)
            } else {
                ids(&all)
            };
            let f = LbFlags {
                vip_external_ip: true,
                local_routed_vip: true,
                dsr: info.local_traffic_dsr,
                ..base
            };
            let s = spec(
                LbKind::NodePort,
                String::new(),
                target_port,
                info.node_port,
                f,
                np_eps,
            );
            let mut id = self.svc_ports[k].node_port_hns_id.clone();
            let ok = self.manage(
                hcn,
                &s,
                &mut id,
                available,
                info.win_proxy_optimization,
                inv,
                &svc_label,
            );
            self.svc_ports.get_mut(k).expect("exists").node_port_hns_id = id;
            if !ok {
                return;
            }
        }
        // ExternalIPs.
        let ext_eps = if info.local_traffic_dsr {
            ids(&local)
        } else {
            ids(&all)
        };
        for (i, eip) in info.external_ips.iter().enumerate() {
            let f = LbFlags {
                vip_external_ip: true,
                dsr: info.local_traffic_dsr,
                ..base
            };
            let s = spec(
                LbKind::ExternalIp,
                eip.clone(),
                target_port,
                info.port,
                f,
                ext_eps.clone(),
            );
            let mut id = self.svc_ports[k].external_ids[i].clone();
            let ok = self.manage(
                hcn,
                &s,
                &mut id,
                available,
                info.win_proxy_optimization,
                inv,
                &svc_label,
            );
            self.svc_ports.get_mut(k).expect("exists").external_ids[i] = id;
            if !ok {
                return;
            }
        }
        // Ingress IPs, each followed by its health-check LB.
        let ing_eps = if info.preserve_dip || info.local_traffic_dsr {
            ids(&local)
        } else {
            ids(&all)
        };
        let health_port = if info.health_check_node_port != 0 {
            info.health_check_node_port
        } else {
            self.cfg.healthz_port
        };
        let gw: Vec<String> = if self.cfg.forward_healthcheck_vip && available && !info.ingress_ips.is_empty()
        {
            inv.by_name
                .get(&self.cfg.root_hnsendpoint_name)
                .cloned()
                .into_iter()
                .collect()
        } else {
            Vec::new()
        };
        let ingress_available = match self.cfg.profile {
            Profile::Latest => available,
            Profile::V1_31 => true,
        };
        for (i, ip) in info.ingress_ips.iter().enumerate() {
            let f = LbFlags {
                vip_external_ip: true,
                dsr: info.preserve_dip || info.local_traffic_dsr,
                use_mux: info.preserve_dip,
                preserve_dip: info.preserve_dip,
                ..base
            };
            let s = spec(
                LbKind::Ingress,
                ip.clone(),
                target_port,
                info.port,
                f,
                ing_eps.clone(),
            );
            let (mut id, mut hc) = self.svc_ports[k].ingress_ids[i].clone();
            let ok = self.manage(
                hcn,
                &s,
                &mut id,
                ingress_available,
                info.win_proxy_optimization,
                inv,
                &svc_label,
            );
            if ok {
                let f = LbFlags {
                    use_mux: info.preserve_dip,
                    preserve_dip: info.preserve_dip,
                    ipv6: self.cfg.ipv6 && self.cfg.profile == Profile::Latest,
                    ..Default::default()
                };
                let s = spec(
                    LbKind::HealthCheck,
                    ip.clone(),
                    health_port,
                    health_port,
                    f,
                    gw.clone(),
                );
                let ok2 = self.manage(
                    hcn,
                    &s,
                    &mut hc,
                    available,
                    info.win_proxy_optimization,
                    inv,
                    &svc_label,
                );
                self.svc_ports.get_mut(k).expect("exists").ingress_ids[i] = (id, hc);
                if !ok2 {
                    return;
                }
            } else {
                self.svc_ports.get_mut(k).expect("exists").ingress_ids[i] = (id, hc);
                return;
            }
        }
        let sp = self.svc_ports.get_mut(k).expect("exists");
        sp.policy_applied = true;
        self.stats.service_ports_programmed += 1;
    }

    fn remote_ep_doc(&self, net_id: &str, ip: &str, mac: &str, pa: &str) -> Json {
        let mut d = json!({
            "HostComputeNetwork": net_id,
            "IpConfigurations": [{"IpAddress": ip}],
            "MacAddress": mac,
            "Flags": 1,
            "SchemaVersion": v2(),
        });
        if !pa.is_empty() {
            d["Policies"] = json!([{"Type": "ProviderAddress", "Settings": {"ProviderAddress": pa}}]);
        }
        d
    }

    /// `manageLoadbalancer`: update in place when HNS can, else delete (unless an identical LB
    /// exists) and create. False when HNS refused.
    #[allow(clippy::too_many_arguments)]
    fn manage(
        &mut self,
        hcn: &mut Hcn,
        s: &LbSpec,
        id: &mut String,
        available: bool,
        optimize: bool,
        inv: &mut Inventory,
        origin: &str,
    ) -> bool {
        let fam = self.family_in_identity();
        let requires_update = self.modify_supported && !id.is_empty() && !s.endpoints.is_empty();
        if requires_update && available {
            match hcn.modify(ObjectKind::LoadBalancer, id, &s.document()) {
                Ok(()) => {
                    self.stats.lbs_updated += 1;
                    inv.note_lb(id, s.identity(fam));
                }
                Err(e) if e.code == hnsim_model::HResult::E_NOTIMPL => {
                    self.log
                        .push("Update loadbalancer policies is not implemented.".into());
                    self.modify_supported = false;
                }
                Err(e) => {
                    self.log
                        .push(format!("Update loadbalancer policy failed hnsID={id}: {e}"));
                    return false;
                }
            }
        }
        if !(self.modify_supported && !id.is_empty() && !s.endpoints.is_empty()) {
            // deleteExistingLoadBalancer
            if optimize && !id.is_empty() && !inv.lbs_by_identity.contains_key(&s.identity(fam)) {
                self.delete_lb(hcn, id);
            } else if !optimize {
                id.clear();
            }
            if !s.endpoints.is_empty() && available {
                if let Some(existing) = inv.lbs_by_identity.get(&s.identity(fam)) {
                    *id = existing.clone();
                } else {
                    match hcn.create(ObjectKind::LoadBalancer, &s.document()) {
                        Ok(new) => {
                            self.stats.lbs_created += 1;
                            inv.note_lb(&new, s.identity(fam));
                            self.origins
                                .insert(new.clone(), format!("{origin} {}", s.kind.name()));
                            *id = new;
                        }
                        Err(e) => {
                            self.log.push(format!(
                                "Loadbalancer policy creation failed LoadbalancerType={} vip={} ExternalPort={}: {e}",
                                s.kind.name(),
                                s.vip,
                                s.external_port
                            ));
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    /// Whether LB identities carry the IP family (PR #136241, the `latest` profile).
    fn family_in_identity(&self) -> bool {
        self.cfg.profile == Profile::Latest
    }

    /// The shared refcount of an HNS endpoint (tests mirror upstream's refcount checks).
    pub fn ref_count(&self, hns_id: &str) -> u16 {
        self.ref_counts.get(hns_id).copied().unwrap_or(0)
    }

    /// The LB IDs of a service port: ClusterIP, NodePort, ExternalIPs, (Ingress, HealthCheck)s.
    pub fn lb_ids(&self, svc_port: &str) -> Option<LbIds> {
        let sp = self.svc_ports.get(svc_port)?;
        Some((
            sp.hns_id.clone(),
            sp.node_port_hns_id.clone(),
            sp.external_ids.clone(),
            sp.ingress_ids.clone(),
        ))
    }

    /// Every LB kube-proxy holds: (service port, LB kind, HNS ID).
    pub fn load_balancers(&self) -> Vec<(String, LbKind, String)> {
        let mut out = Vec::new();
        for (k, sp) in &self.svc_ports {
            let mut push = |kind, id: &String| {
                if !id.is_empty() {
                    out.push((k.clone(), kind, id.clone()));
                }
            };
            push(LbKind::ClusterIp, &sp.hns_id);
            push(LbKind::NodePort, &sp.node_port_hns_id);
            for id in &sp.external_ids {
                push(LbKind::ExternalIp, id);
            }
            for (id, hc) in &sp.ingress_ids {
                push(LbKind::Ingress, id);
                push(LbKind::HealthCheck, hc);
            }
        }
        out
    }

    /// Service ports (their names) and whether their policies are applied.
    pub fn service_ports_applied(&self) -> Vec<(String, bool)> {
        self.svc_ports
            .iter()
            .map(|(k, v)| (k.clone(), v.policy_applied))
            .collect()
    }

    /// Whether `localTrafficDSR` is set for a service port.
    pub fn local_traffic_dsr(&self, svc_port: &str) -> Option<bool> {
        self.svc_ports.get(svc_port).map(|s| s.info.local_traffic_dsr)
    }

    /// The endpoint HNS IDs kube-proxy associated with a service port.
    pub fn endpoint_ids(&self, svc_port: &str) -> Vec<String> {
        self.endpoints
            .get(svc_port)
            .map(|v| {
                v.iter()
                    .map(|e| e.hns_id.clone())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}
