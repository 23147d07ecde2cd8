//! Two HNS states side by side (`hnsim node diff A B`): what one holds that the other does not,
//! flags that differ, remote endpoints on a different PA.
//!
//! Objects are matched by what they mean, not by ID (IDs change when kube-proxy or the CNI
//! recreate an object): networks by name; endpoints by network name, address and
//! local/remote; load balancers by frontend (VIPs and external port/protocol). Backends are
//! compared by address.

use crate::ids::Guid;
use crate::schema::{Endpoint, EndpointPolicy, LoadBalancer};
use crate::state::Hns;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One difference between state A and state B.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `only-in-a`, `only-in-b`, `differs`.
    pub change: &'static str,
    /// The object, by its matching key: `endpoint 10.244.1.5 on cbr0`.
    pub object: String,
    /// What differs (empty for only-in-*).
    pub detail: String,
}

fn ep_key(hns: &Hns, e: &Endpoint) -> String {
    let net = e
        .host_compute_network
        .parse::<Guid>()
        .ok()
        .and_then(|g| hns.networks.get(&g))
        .map_or("?", |n| n.name.as_str());
    let ips: Vec<&str> = e
        .ip_configurations
        .iter()
        .map(|c| c.ip_address.as_str())
        .collect();
    let kind = if e.is_remote() {
        "remote endpoint"
    } else {
        "endpoint"
    };
    format!("{kind} {} on {net}", ips.join(","))
}

fn lb_key(l: &LoadBalancer) -> String {
    let mut vips = l.frontend_vips.clone();
    vips.sort();
    let vip = if vips.is_empty() {
        "node".into()
    } else {
        vips.join(",")
    };
    let pm: Vec<String> = l
        .port_mappings
        .iter()
        .map(|m| format!("{vip}:{}/{}", m.external_port, super::checks::proto(m.protocol)))
        .collect();
    format!("load balancer {}", pm.join(" "))
}

fn pa(e: &Endpoint) -> String {
    e.policies
        .iter()
        .find_map(|p| match p {
            EndpointPolicy::ProviderAddress(x) => Some(x.provider_address.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn backend_ips(hns: &Hns, l: &LoadBalancer) -> BTreeSet<String> {
    l.host_compute_endpoints
        .iter()
        .map(|s| {
            s.parse::<Guid>()
                .ok()
                .and_then(|g| hns.endpoints.get(&g))
                .and_then(|e| e.ip_configurations.first())
                .map_or_else(|| format!("{s} (missing)"), |c| c.ip_address.clone())
        })
        .collect()
}

/// Every difference, in a stable order (networks, endpoints, load balancers; by key).
pub fn diff(a: &Hns, b: &Hns) -> Vec<Difference> {
    let mut out = Vec::new();
    // Networks by name.
    let na: BTreeMap<&str, _> = a.networks.values().map(|n| (n.name.as_str(), n)).collect();
    let nb: BTreeMap<&str, _> = b.networks.values().map(|n| (n.name.as_str(), n)).collect();
    compare(&mut out, "network", &na, &nb, |x, y| {
        let mut d = Vec::new();
        if x.kind() != y.kind() {
            d.push(format!("Type {} vs {}", x.kind().as_str(), y.kind().as_str()));
        }
        if x.flags != y.flags {
            d.push(format!("Flags {} vs {}", x.flags, y.flags));
        }
        let (sx, sy): (Vec<_>, Vec<_>) = (
            x.subnets().map(|s| s.ip_address_prefix.clone()).collect(),
            y.subnets().map(|s| s.ip_address_prefix.clone()).collect(),
        );
        if sx != sy {
            d.push(format!("subnets {sx:?} vs {sy:?}"));
        }
        if x.policies != y.policies {
            d.push(format!(
                "{} vs {} network policies, different",
                x.policies.len(),
                y.policies.len()
            ));
        }
        d
    });
    let ea: BTreeMap<String, _> = a.endpoints.values().map(|e| (ep_key(a, e), e)).collect();
    let eb: BTreeMap<String, _> = b.endpoints.values().map(|e| (ep_key(b, e), e)).collect();
    compare(&mut out, "", &ea, &eb, |x, y| {
        let mut d = Vec::new();
        if pa(x) != pa(y) {
            d.push(format!("ProviderAddress {:?} vs {:?}", pa(x), pa(y)));
        }
        if x.flags != y.flags {
            d.push(format!("Flags {} vs {}", x.flags, y.flags));
        }
        if x.mac_address != y.mac_address {
            d.push(format!("MAC {} vs {}", x.mac_address, y.mac_address));
        }
        let other = |e: &Endpoint| {
            e.policies
                .iter()
                .filter(|p| !matches!(p, EndpointPolicy::ProviderAddress(_)))
                .cloned()
                .collect::<Vec<_>>()
        };
        if other(x) != other(y) {
            d.push(format!(
                "other policies differ ({} vs {})",
                x.policies.len(),
                y.policies.len()
            ));
        }
        d
    });
    let la: BTreeMap<String, _> = a.load_balancers.values().map(|l| (lb_key(l), l)).collect();
    let lb: BTreeMap<String, _> = b.load_balancers.values().map(|l| (lb_key(l), l)).collect();
    compare(&mut out, "", &la, &lb, |x, y| {
        let mut d = Vec::new();
        if x.flags != y.flags {
            d.push(format!("Flags {} vs {}", x.flags, y.flags));
        }
        let pf = |l: &LoadBalancer| {
            l.port_mappings
                .iter()
                .map(|m| (m.flags, m.internal_port))
                .collect::<Vec<_>>()
        };
        if pf(x) != pf(y) {
            d.push(format!(
                "port mappings (flags, internal port) {:?} vs {:?}",
                pf(x),
                pf(y)
            ));
        }
        if x.source_vip != y.source_vip {
            d.push(format!("SourceVIP {:?} vs {:?}", x.source_vip, y.source_vip));
        }
        let (bx, by) = (backend_ips(a, x), backend_ips(b, y));
        if bx != by {
            d.push(format!("backends {bx:?} vs {by:?}"));
        }
        d
    });
    out
}

fn compare<K: Ord + std::fmt::Display, T>(
    out: &mut Vec<Difference>,
    prefix: &str,
    a: &BTreeMap<K, T>,
    b: &BTreeMap<K, T>,
    differ: impl Fn(&T, &T) -> Vec<String>,
) {
    let name = |k: &K| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix} {k}")
        }
    };
    for (k, x) in a {
        match b.get(k) {
            None => out.push(Difference {
                change: "only-in-a",
                object: name(k),
                detail: String::new(),
            }),
            Some(y) => {
                let d = differ(x, y);
                if !d.is_empty() {
                    out.push(Difference {
                        change: "differs",
                        object: name(k),
                        detail: d.join("; "),
                    });
                }
            }
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(k)) {
        out.push(Difference {
            change: "only-in-b",
            object: name(k),
            detail: String::new(),
        });
    }
}

/// Drift of a node against what its cluster should have programmed: [`diff`] of the expected
/// state (`a`, rendered from the Kubernetes description) and the node's state (`b`), as doctor
/// findings: `drift-missing` (expected, not held), `drift-unexplained` (held, nothing explains
/// it), `drift-differs` (both, with different flags, PA, SourceVIP or backends).
pub fn drift(expected: &Hns, actual: &Hns) -> Vec<super::Finding> {
    use super::{Finding, Severity};
    diff(expected, actual)
        .into_iter()
        .map(|d| {
            let (check, severity, message) = match d.change {
                "only-in-a" => (
                    "drift-missing",
                    Severity::Error,
                    "kube-proxy / the network plugin / the CNI should have programmed this, HNS does not hold it".to_string(),
                ),
                "only-in-b" => (
                    "drift-unexplained",
                    Severity::Warning,
                    "HNS holds this but nothing in the cluster explains it (stale?)".to_string(),
                ),
                _ => ("drift-differs", Severity::Error, format!("expected vs held: {}", d.detail)),
            };
            Finding {
                check,
                severity,
                message,
                objects: vec![d.object],
                reference: "docs/reference/node-dumps.md §9",
            }
        })
        .collect()
}
