//! Where each HNS object the node components created came from, in Kubernetes terms — the
//! Service port and EndpointSlice of a kube-proxy load balancer, the pod (and slice) behind a
//! remote endpoint, the pod of a CNI endpoint — so traces and reports can say
//! `svc/default/web:80 ClusterIP` instead of a bare GUID.

use crate::agents::Agents;
use crate::cluster::Cluster;
use std::collections::{BTreeMap, BTreeSet};

/// `svc/NS/NAME:PORT` for a service-port key `NS/NAME:PORTNAME/PROTO` (the port number when
/// the Service still has a port of that name, else the name).
fn service_port_label(cluster: &Cluster, key: &str) -> String {
    let (svc, rest) = key.split_once(':').unwrap_or((key, ""));
    let (port_name, proto) = rest.rsplit_once('/').unwrap_or((rest, "TCP"));
    let number = cluster.services.get(svc).and_then(|s| {
        s.value
            .spec
            .ports
            .iter()
            .find(|p| p.name.as_deref().unwrap_or("") == port_name)
            .map(|p| p.port)
    });
    match number {
        Some(n) => format!("svc/{svc}:{n}/{proto}"),
        None => format!("svc/{svc}:{port_name}/{proto}"),
    }
}

fn slices_text(names: Option<&BTreeSet<String>>) -> String {
    match names {
        Some(n) if !n.is_empty() => {
            let list: Vec<&str> = n.iter().map(String::as_str).collect();
            format!("; EndpointSlice {}", list.join(", "))
        }
        _ => String::new(),
    }
}

/// HNS object ID → what it is, for every object the components of every node created.
pub fn labels(agents: &Agents, cluster: &Cluster) -> BTreeMap<String, String> {
    // Slices by Service and by endpoint address (written and derived ones).
    let mut by_service: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut by_ip: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let slices = cluster.endpoint_slices();
    for s in &slices {
        let name = format!("{}/{}", s.metadata.ns(), s.metadata.name);
        if let Some(svc) = s.service_name() {
            by_service
                .entry(format!("{}/{svc}", s.metadata.ns()))
                .or_default()
                .insert(name.clone());
        }
        for e in &s.endpoints {
            for a in &e.addresses {
                by_ip.entry(a.as_str()).or_default().insert(name.clone());
            }
        }
    }
    let mut pods: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, p) in &cluster.pods {
        for ip in p.value.ips() {
            pods.entry(ip).or_insert(k.as_str());
        }
    }
    let pod_of = |ip: &str| pods.get(ip).map(|k| format!("pod/{k}"));
    let mut out = BTreeMap::new();
    for (node, a) in &agents.nodes {
        for (k, pn) in &a.pods {
            out.insert(pn.endpoint_id.clone(), format!("pod/{k}"));
        }
        for p in &a.proxiers {
            for (svc_port, kind, id) in p.load_balancers() {
                let svc = svc_port.split(':').next().unwrap_or_default();
                out.insert(
                    id,
                    format!(
                        "{} {}{}",
                        service_port_label(cluster, &svc_port),
                        kind.name(),
                        slices_text(by_service.get(svc))
                    ),
                );
            }
            for (id, origin) in &p.origins {
                if out.contains_key(id) {
                    continue;
                }
                let label = if let Some(ip) = origin.strip_prefix("remote ") {
                    let who = pod_of(ip).unwrap_or_else(|| ip.to_string());
                    format!("{who} remote endpoint{}", slices_text(by_ip.get(ip)))
                } else if let Some(svc) = origin.strip_prefix("clusterip ") {
                    format!("{svc} ClusterIP endpoint")
                } else if origin == "source-vip" {
                    format!("node/{node} source VIP")
                } else {
                    continue;
                };
                out.insert(id.clone(), label);
            }
        }
    }
    out
}
