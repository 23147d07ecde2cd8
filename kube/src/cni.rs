//! The CNI plugin's per-pod ADD and DEL (docs/reference/kubernetes.md §4; consumers.md §3):
//! the container runtime creates the pod's network namespace, the plugin creates the endpoint
//! `<containerID>_<network>` and attaches it to that namespace.
//!
//! * L2Bridge (win-bridge, sdnbridge, flannel host-gw): gateway subnet+2, OutBoundNAT with the
//!   cluster CIDR, service CIDR and the node's address as exceptions, SDNRoute to the service
//!   CIDR and to the node IP /32 with NeedEncap; `loopbackDSR` adds OutBoundNAT `Destinations`.
//! * Overlay (win-overlay, sdnoverlay, flannel vxlan): MAC `0E-2A-<ip hex>`, gateway subnet+1,
//!   OutBoundNAT exceptions, SDNRoute to the service CIDR with NeedEncap, ProviderAddress = the
//!   node IP.

use crate::cluster::NodeView;
use crate::config::ClusterConfig;
use crate::hcn::{v2, Component, Hcn};
use crate::netplugin::nth;
use crate::objects::Pod;
use hnsim_model::backend::ObjectKind;
use hnsim_model::HcnError;
use serde_json::{json, Value as Json};
use std::net::IpAddr;

/// A pod as the CNI left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodNetwork {
    pub namespace_id: String,
    pub endpoint_id: String,
    pub ip: IpAddr,
    pub hyperv: bool,
}

/// CNI options that are per cluster config file rather than per pod.
#[derive(Clone, Debug, Default)]
pub struct CniOptions {
    /// `loopbackDSR` (hairpin to the pod's own Service with DSR).
    pub loopback_dsr: bool,
}

/// The sandbox (container) ID the runtime would pass: stable per pod so that renders are
/// deterministic (the pod's UID when written, else a name-derived one).
pub fn container_id(pod: &Pod) -> String {
    pod.metadata
        .uid
        .clone()
        .unwrap_or_else(|| format!("{}-{}", pod.metadata.ns(), pod.metadata.name))
}

/// `0E-2A-` and the IPv4 bytes (win-overlay's `endpointMacPrefix`).
pub fn overlay_pod_mac(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            Some(format!(
                "0E-2A-{:02x}-{:02x}-{:02x}-{:02x}",
                o[0], o[1], o[2], o[3]
            ))
        }
        IpAddr::V6(_) => None,
    }
}

/// CNI ADD for one pod: namespace, endpoint, attach. `ips`: the pod's address of each family
/// the node's network serves (the first is the primary; a dual-stack pod's endpoint holds both,
/// with each family's policies and default route).
pub fn add(
    hcn: &mut Hcn,
    config: &ClusterConfig,
    me: &NodeView,
    network: (&str, &str),
    pod: &Pod,
    ips: &[IpAddr],
    opts: &CniOptions,
) -> Result<PodNetwork, HcnError> {
    hcn.component = Component::Cni;
    let ip = ips[0];
    let (net_id, net_name) = network;
    let overlay = config.network_plugin.overlay();
    // The runtime's network namespace for the sandbox (hcsshim creates it with no Type).
    let ns = hcn.create(ObjectKind::Namespace, &json!({"SchemaVersion": v2()}))?;
    let mut policies = Vec::new();
    let mut routes = Vec::new();
    for &ip in ips {
        family_policies(config, me, pod, ip, opts, &mut policies);
        if let Some(s) = me.pod_cidr(ip.is_ipv6()) {
            let g = nth(s, if overlay { 1 } else { 2 });
            let dst = if ip.is_ipv6() { "::/0" } else { "0.0.0.0/0" };
            routes.push(json!({"NextHop": g.to_string(), "DestinationPrefix": dst}));
        }
    }
    let mut doc = json!({
        "Name": format!("{}_{}", container_id(pod), net_name),
        "HostComputeNetwork": net_id,
        "IpConfigurations": ips.iter().map(|i| json!({"IpAddress": i.to_string()})).collect::<Vec<_>>(),
        "Policies": policies,
        "SchemaVersion": v2(),
    });
    if !routes.is_empty() {
        doc["Routes"] = json!(routes);
    }
    if overlay {
        if let Some(m) = overlay_pod_mac(ip) {
            doc["MacAddress"] = json!(m);
        }
    }
    if let Some(dns) = config.dns {
        let d = &config.dns_domain;
        doc["Dns"] = json!({"Search": [format!("{}.svc.{d}", pod.metadata.ns()), format!("svc.{d}"), d],
                            "ServerList": [dns.to_string()]});
    }
    let ep = match hcn.create(ObjectKind::Endpoint, &doc) {
        Ok(ep) => ep,
        Err(e) => {
            // CNI ADD failed: the runtime tears the sandbox down.
            let _ = hcn.delete(ObjectKind::Namespace, &ns);
            return Err(e);
        }
    };
    let attach = json!({"ResourceType": "Endpoint", "RequestType": "Add", "Settings": {"EndpointId": ep}});
    hcn.modify(ObjectKind::Namespace, &ns, &attach)?;
    Ok(PodNetwork {
        namespace_id: ns,
        endpoint_id: ep,
        ip,
        hyperv: pod.hyperv(),
    })
}

/// The endpoint policies for one of the pod's addresses: OutBoundNAT with its exceptions, the
/// SDNRoutes, the provider address, loopbackDSR, host ports (these only once, with the primary).
fn family_policies(
    config: &ClusterConfig,
    me: &NodeView,
    pod: &Pod,
    ip: IpAddr,
    opts: &CniOptions,
    policies: &mut Vec<Json>,
) {
    let overlay = config.network_plugin.overlay();
    let primary = policies.is_empty();
    let node_ip = me.ip_of(ip.is_ipv6()).or(me.ip4());
    let mut exceptions: Vec<String> = config
        .cluster_cidr
        .iter()
        .chain(&config.service_cidr)
        .filter(|c| c.addr().is_ipv6() == ip.is_ipv6())
        .map(|c| c.to_string())
        .collect();
    if !overlay {
        if let Some(n) = node_ip {
            exceptions.push(host_prefix(n));
        }
    }
    policies.push(json!({"Type": "OutBoundNAT", "Settings": {"Exceptions": exceptions}}));
    for c in config
        .service_cidr
        .iter()
        .filter(|c| c.addr().is_ipv6() == ip.is_ipv6())
    {
        policies.push(
            json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": c.to_string(), "NeedEncap": true}}),
        );
    }
    if overlay {
        if let Some(n) = node_ip {
            policies.push(json!({"Type": "ProviderAddress", "Settings": {"ProviderAddress": n.to_string()}}));
        }
    } else if let Some(n) = node_ip {
        policies.push(
            json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": host_prefix(n), "NeedEncap": true}}),
        );
    }
    if opts.loopback_dsr {
        policies.push(json!({"Type": "OutBoundNAT", "Settings": {"Destinations": [ip.to_string()]}}));
    }
    for c in pod.spec.containers.iter().filter(|_| primary) {
        for p in &c.ports {
            if let Some(hp) = p.host_port {
                let proto = if p.protocol.as_deref() == Some("UDP") {
                    17
                } else {
                    6
                };
                policies.push(json!({"Type": "PortMapping", "Settings": {
                    "InternalPort": p.container_port, "ExternalPort": hp, "Protocol": proto}}));
            }
        }
    }
}

/// CNI DEL: detach, delete the endpoint, and the runtime deletes the namespace.
pub fn del(hcn: &mut Hcn, pn: &PodNetwork) -> Result<(), HcnError> {
    hcn.component = Component::Cni;
    let detach = json!({"ResourceType": "Endpoint", "RequestType": "Remove", "Settings": {"EndpointId": pn.endpoint_id}});
    let _ = hcn.modify(ObjectKind::Namespace, &pn.namespace_id, &detach);
    hcn.delete(ObjectKind::Endpoint, &pn.endpoint_id)?;
    hcn.delete(ObjectKind::Namespace, &pn.namespace_id)
}

fn host_prefix(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(_) => format!("{ip}/32"),
        IpAddr::V6(_) => format!("{ip}/128"),
    }
}
