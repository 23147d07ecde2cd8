//! Pictures of a world: the topology as typed nodes and edges ([`Topology`]), a deterministic
//! layered layout of it ([`layout`]), each traced packet's path through it ([`path`]), and its
//! renderings as DOT and JSON for `hnsim graph` ([`graph`]); the HTML report of a run
//! (`hnsim run/trace --format html`) draws them as inline SVG (`scenario::html`: it reads
//! scenario reports, and `view` sits below `scenario`). No Graphviz, no scripts, no fonts.
//!
//! Names come before GUIDs everywhere: an endpoint is named by the container that uses it, else
//! its HNS `Name`, else the scenario's `as:` name, else its GUID; the GUID always stays as a
//! secondary label. A layer that knows better names (Kubernetes Service, Pod and node names) hands
//! them in through [`Topology::apply_display_names`].

pub mod graph;
mod history;
pub mod layout;
pub mod path;

pub use history::History;

use crate::world::{NodeKind, World};
use hnsim_model::Guid;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a node models.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An underlay L2 segment.
    Segment,
    Router,
    /// An external machine on a segment.
    Station,
    /// A Windows host (its uplink NIC and host stack).
    Host,
    /// An HNS network and its Hyper-V vSwitch.
    Network,
    /// A local endpoint (a container's or VM's vNIC port).
    Endpoint,
    /// A remote endpoint (an entry for a pod on another node; overlay / L2Bridge).
    RemoteEndpoint,
    LoadBalancer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Segment => "segment",
            Kind::Router => "router",
            Kind::Station => "station",
            Kind::Host => "host",
            Kind::Network => "network",
            Kind::Endpoint => "endpoint",
            Kind::RemoteEndpoint => "remote-endpoint",
            Kind::LoadBalancer => "load-balancer",
        }
    }
}

/// What an edge models.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// A NIC on a segment (host uplink, router interface, station NIC).
    Link,
    /// A host's vSwitch of a network.
    Vswitch,
    /// An endpoint's port on its network's vSwitch.
    Port,
    /// A load balancer's backend endpoint.
    Backend,
}

/// One node of the picture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Stable key: `segment:NAME`, `router:NAME`, `station:NAME`, `host:NAME`,
    /// `network:HOST/GUID`, `endpoint:HOST/GUID`, `lb:HOST/GUID`.
    pub key: String,
    pub kind: Kind,
    /// The display name (names over GUIDs).
    pub name: String,
    /// Secondary labels: type, addresses, HNS name, GUID.
    pub details: Vec<String>,
    /// The HNS object's GUID, if it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// The host this node belongs to (networks, endpoints, load balancers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The container using this endpoint, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The name traces give this node's port (`Hop::port`): the endpoint's HNS name, else GUID.
    #[serde(skip)]
    pub port: Option<String>,
    /// Layout parent: segment ← host/station, host ← network/load balancer, network ← endpoint.
    #[serde(skip)]
    pub parent: Option<usize>,
    /// Deleted before the end of the run (kept because traced packets went through it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub gone: bool,
}

/// One edge (undirected; `a` is the upper layer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub a: usize,
    pub b: usize,
    pub kind: EdgeKind,
    pub label: String,
}

/// Better names for nodes, by GUID, container id or host name (e.g. Kubernetes Pod, Service and
/// node names from the Kubernetes layer). The replaced name becomes a secondary label.
pub type DisplayNames = BTreeMap<String, String>;

/// Everything drawable in a world, in a stable order (the world's order, then GUID order).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Topology {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Node by key, by (host, trace port name) and by container: lookups for drawing paths.
    #[serde(skip)]
    index: Index,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Index {
    key: BTreeMap<String, usize>,
    port: BTreeMap<(String, String), usize>,
    container: BTreeMap<String, usize>,
}

pub(crate) fn node(key: String, kind: Kind, name: String) -> Node {
    Node {
        key,
        kind,
        name,
        details: Vec::new(),
        guid: None,
        host: None,
        container: None,
        port: None,
        parent: None,
        gone: false,
    }
}

/// `policies: ACL×5, OutBoundNAT` — each policy type once, with its count, in first-seen order.
fn policy_summary<'a>(types: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for t in types {
        match seen.iter_mut().find(|(s, _)| *s == t) {
            Some((_, n)) => *n += 1,
            None => seen.push((t, 1)),
        }
    }
    if seen.is_empty() {
        return None;
    }
    let parts: Vec<String> = seen
        .iter()
        .map(|(t, n)| {
            if *n > 1 {
                format!("{t}×{n}")
            } else {
                t.to_string()
            }
        })
        .collect();
    Some(format!("policies: {}", parts.join(", ")))
}

impl Topology {
    /// The topology of `world`; `names` are the scenario's `as:` names by GUID.
    pub fn of(world: &World, names: &BTreeMap<Guid, String>) -> Topology {
        let mut t = Topology::default();
        let segs: Vec<usize> = world
            .fabric()
            .specs()
            .map(|s| {
                let mut n = node(format!("segment:{}", s.name), Kind::Segment, s.name.clone());
                n.details.push(s.prefix.to_string());
                n.details.push(format!("MTU {}", s.mtu));
                t.push(n)
            })
            .collect();
        for wn in world.nodes() {
            match &wn.kind {
                NodeKind::Router(spec, ss) => {
                    let mut n = node(format!("router:{}", wn.name), Kind::Router, wn.name.clone());
                    n.details = spec.interfaces.iter().map(|i| i.ip.to_string()).collect();
                    n.details
                        .extend(spec.default_route.map(|nh| format!("route default via {nh}")));
                    n.details
                        .extend(spec.routes.iter().map(|(p, nh)| format!("route {p} via {nh}")));
                    let me = t.push(n);
                    for (itf, s) in spec.interfaces.iter().zip(ss.iter()) {
                        t.edge(me, segs[*s], EdgeKind::Link, format!("{} {}", itf.ip, itf.mac));
                    }
                }
                NodeKind::Station(spec, s) => {
                    let mut n = node(format!("station:{}", wn.name), Kind::Station, wn.name.clone());
                    n.details.push(spec.ip.to_string());
                    n.parent = Some(segs[*s]);
                    let me = t.push(n);
                    t.edge(segs[*s], me, EdgeKind::Link, format!("{} {}", spec.ip, spec.mac));
                }
                NodeKind::Host(h) => t.add_host(&wn.name, h, segs[h.seg], names),
            }
        }
        t.reindex();
        t
    }

    /// Rebuild the lookups (after building, or after changing `nodes`).
    pub fn reindex(&mut self) {
        self.index = Index::default();
        for i in 0..self.nodes.len() {
            self.index_one(i);
        }
    }

    /// Add node `i` to the lookups (the first node with a key, port or container wins).
    fn index_one(&mut self, i: usize) {
        let (n, ix) = (&self.nodes[i], &mut self.index);
        ix.key.entry(n.key.clone()).or_insert(i);
        if let Some(host) = &n.host {
            for p in n.port.iter().chain(&n.guid) {
                ix.port.entry((host.clone(), p.clone())).or_insert(i);
            }
        }
        if let Some(c) = &n.container {
            ix.container.entry(c.clone()).or_insert(i);
        }
    }

    /// The endpoint (or remote endpoint) that traces call `port` on `host`.
    pub fn port_node(&self, host: &str, port: &str) -> Option<usize> {
        self.index
            .port
            .get(&(host.to_string(), port.to_string()))
            .copied()
            .filter(|&i| matches!(self.nodes[i].kind, Kind::Endpoint | Kind::RemoteEndpoint))
    }

    /// The endpoint a container uses.
    pub fn container_node(&self, container: &str) -> Option<usize> {
        self.index.container.get(container).copied()
    }

    fn push(&mut self, n: Node) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn edge(&mut self, a: usize, b: usize, kind: EdgeKind, label: String) {
        self.edges.push(Edge { a, b, kind, label });
    }

    fn add_host(
        &mut self,
        name: &str,
        h: &crate::world::HostNode,
        seg: usize,
        names: &BTreeMap<Guid, String>,
    ) {
        let mut hn = node(format!("host:{name}"), Kind::Host, name.to_string());
        hn.details.push(h.spec.ip.to_string());
        hn.details
            .extend(h.spec.routes.iter().map(|(p, nh)| format!("route {p} via {nh}")));
        for r in h.hns.routes.values() {
            for p in &r.routes {
                hn.details.push(format!(
                    "SDN route {} via {} ({})",
                    p.destination_prefix, p.next_hop, r.id
                ));
            }
        }
        hn.parent = Some(seg);
        let me = self.push(hn);
        self.edge(seg, me, EdgeKind::Link, format!("{} {}", h.spec.ip, h.spec.mac));
        let hns = &h.hns;
        // Endpoint → the first container (by id) that uses it.
        let mut container: BTreeMap<Guid, &str> = BTreeMap::new();
        // (Attached directly, or through the namespace the container was created in.)
        for cs in hns.compute_systems.values() {
            let in_ns = cs
                .namespace
                .and_then(|ns| hns.namespaces.get(&ns))
                .map(|ns| ns.endpoint_ids())
                .unwrap_or_default();
            let in_ns = in_ns.iter().filter_map(|e| e.parse::<Guid>().ok());
            for ep in cs.endpoints.iter().copied().chain(in_ns) {
                container.entry(ep).or_insert(cs.id.as_str());
            }
        }
        // Endpoints by network, in GUID order (one pass, not one per network).
        let mut by_net: BTreeMap<Guid, Vec<&hnsim_model::schema::Endpoint>> = BTreeMap::new();
        for ep in hns.endpoints.values() {
            if let Ok(net) = ep.host_compute_network.parse::<Guid>() {
                by_net.entry(net).or_default().push(ep);
            }
        }
        let mut ep_index = BTreeMap::new();
        for net in hns.networks.values() {
            let guid = net.id.to_string();
            let title = if net.name.is_empty() {
                names.get(&net.id).cloned().unwrap_or_else(|| guid.clone())
            } else {
                net.name.clone()
            };
            let mut nn = node(format!("network:{name}/{guid}"), Kind::Network, title);
            nn.details.push(format!("{} vSwitch", net.kind().as_str()));
            nn.details
                .extend(net.subnets().map(|s| s.ip_address_prefix.clone()));
            for p in &net.policies {
                if let hnsim_model::schema::NetworkPolicy::RemoteSubnetRoute(r) = p {
                    nn.details.push(format!(
                        "route {} via PA {} (VSID {})",
                        r.destination_prefix, r.provider_address, r.isolation_id
                    ));
                }
            }
            nn.details.push(guid.clone());
            nn.guid = Some(guid);
            nn.host = Some(name.to_string());
            nn.parent = Some(me);
            let ni = self.push(nn);
            self.edge(me, ni, EdgeKind::Vswitch, "vSwitch".to_string());
            for ep in by_net.get(&net.id).into_iter().flatten() {
                let guid = ep.id.to_string();
                let kind = if ep.is_remote() {
                    Kind::RemoteEndpoint
                } else {
                    Kind::Endpoint
                };
                let c = container.get(&ep.id).map(|c| c.to_string());
                let as_name = names.get(&ep.id);
                let title = c
                    .clone()
                    .or_else(|| (!ep.name.is_empty()).then(|| ep.name.clone()))
                    .or_else(|| as_name.cloned())
                    .unwrap_or_else(|| guid.clone());
                let mut en = node(format!("endpoint:{name}/{guid}"), kind, title.clone());
                en.details
                    .extend(ep.ip_configurations.iter().map(|c| c.ip_address.clone()));
                if !ep.name.is_empty() && ep.name != title {
                    en.details.push(format!("endpoint {}", ep.name));
                }
                if kind == Kind::RemoteEndpoint {
                    en.details.push("remote".to_string());
                }
                if let Some(p) = policy_summary(ep.policies.iter().map(|p| p.type_name())) {
                    en.details.push(p);
                }
                en.details.push(guid.clone());
                en.port = Some(if ep.name.is_empty() {
                    guid.clone()
                } else {
                    ep.name.clone()
                });
                en.guid = Some(guid);
                en.host = Some(name.to_string());
                en.container = c;
                en.parent = Some(ni);
                let ei = self.push(en);
                ep_index.insert(ep.id, ei);
                self.edge(ni, ei, EdgeKind::Port, "port".to_string());
            }
        }
        for lb in hns.load_balancers.values() {
            let guid = lb.id.to_string();
            let vips = if lb.frontend_vips.is_empty() {
                "host address".to_string()
            } else {
                lb.frontend_vips.join(", ")
            };
            let title = names.get(&lb.id).cloned().unwrap_or_else(|| format!("LB {vips}"));
            let mut ln = node(format!("lb:{name}/{guid}"), Kind::LoadBalancer, title);
            ln.details.push(format!("VIP {vips}"));
            for m in &lb.port_mappings {
                let proto = match m.protocol {
                    6 => "tcp".to_string(),
                    17 => "udp".to_string(),
                    p => format!("proto {p}"),
                };
                ln.details
                    .push(format!("{proto} {} → {}", m.external_port, m.internal_port));
            }
            if !lb.source_vip.is_empty() {
                ln.details.push(format!("SourceVIP {}", lb.source_vip));
            }
            ln.details.push(guid.clone());
            ln.guid = Some(guid);
            ln.host = Some(name.to_string());
            ln.parent = Some(me);
            let li = self.push(ln);
            for b in &lb.host_compute_endpoints {
                if let Some(&ei) = b.parse::<Guid>().ok().and_then(|g| ep_index.get(&g)) {
                    self.edge(li, ei, EdgeKind::Backend, "backend".to_string());
                }
            }
        }
    }

    /// Rename nodes whose GUID, container id or (host, router, station) name has a display
    /// name; the old name is kept as the first secondary label. The Kubernetes layer's hook.
    pub fn apply_display_names(&mut self, names: &DisplayNames) {
        for n in &mut self.nodes {
            let hit = n
                .guid
                .as_ref()
                .and_then(|g| names.get(g))
                .or_else(|| n.container.as_ref().and_then(|c| names.get(c)))
                .or_else(|| {
                    matches!(n.kind, Kind::Host | Kind::Router | Kind::Station | Kind::Segment)
                        .then(|| names.get(&n.name))
                        .flatten()
                });
            if let Some(new) = hit {
                if *new != n.name {
                    let old = std::mem::replace(&mut n.name, new.clone());
                    n.details.insert(0, old);
                }
            }
        }
    }

    /// The node with this key.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.index.key.get(key).copied()
    }

    /// The chain of layout parents from `i` (itself first) up to its root.
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut at = i;
        while let Some(p) = self.nodes[at].parent {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            at = p;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(kind: Kind, name: &str, guid: Option<&str>) -> Node {
        let mut n = node(format!("{}:{name}", kind.as_str()), kind, name.to_string());
        n.guid = guid.map(str::to_string);
        n
    }

    #[test]
    fn policies_are_summarised_by_type_with_counts() {
        let types = ["ACL", "OutBoundNAT", "ACL", "SDNRoute", "ACL"];
        assert_eq!(
            policy_summary(types.into_iter()).as_deref(),
            Some("policies: ACL×3, OutBoundNAT, SDNRoute")
        );
        assert_eq!(policy_summary(std::iter::empty()), None);
    }

    #[test]
    fn display_names_replace_names_and_keep_the_old_one_secondary() {
        let mut t = Topology {
            nodes: vec![
                named(Kind::Host, "node1", None),
                named(Kind::Endpoint, "A", Some("G1")),
                named(Kind::Endpoint, "B", Some("G2")),
            ],
            edges: Vec::new(),
            ..Default::default()
        };
        let names: DisplayNames = [("node1", "k8s-node-1"), ("G1", "default/web-0")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        t.apply_display_names(&names);
        assert_eq!(t.nodes[0].name, "k8s-node-1");
        assert_eq!(t.nodes[0].details, ["node1"]);
        assert_eq!(t.nodes[1].name, "default/web-0");
        assert_eq!(t.nodes[1].details, ["A"]);
        assert_eq!(t.nodes[2].name, "B");
        assert!(t.nodes[2].details.is_empty());
    }
}
