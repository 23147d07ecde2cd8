//! A small lab for tests and examples: the common addressing of consumers.md §7 and helpers that
//! put HCN documents (as kube-proxy, flannel and the CNI plugins send them) into a host's HNS
//! state. Objects get deterministic GUIDs; every change bumps the host's HNS generation.
//!
//! (The `state` work provides the real HNS operations; these helpers insert normalised documents
//! directly so the dataplane can be exercised on its own.)

use crate::world::{
    HostSpec, Place, RouterInterface, RouterSpec, SegmentSpec, SendRequest, StationSpec, World, WorldError,
};
use crate::{Exchange, L4};
use hnsim_model::schema::{Endpoint, LoadBalancer, Namespace, Network, NetworkPolicy};
use hnsim_model::{Guid, Mac};
use serde_json::{json, Value};
use std::net::Ipv4Addr;

/// A world under construction with deterministic object IDs.
pub struct Lab {
    pub w: World,
    next_id: u128,
}

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

pub fn mac(s: &str) -> Mac {
    s.parse().expect("test MAC")
}

impl Lab {
    pub fn new(seed: u64) -> Lab {
        Lab {
            w: World::new(seed),
            next_id: 0x1000,
        }
    }

    /// consumers.md §7 common addressing: underlay `lan` 10.0.0.0/24 with router `r1` 10.0.0.1
    /// (also 203.0.113.1 on `internet`), node1 10.0.0.11 / 00-15-5D-00-00-11, node2 10.0.0.12 /
    /// 00-15-5D-00-00-12, station `client` 10.0.0.50, station `inet` 203.0.113.50.
    pub fn common(seed: u64) -> Lab {
        let mut lab = Lab::new(seed);
        lab.segment("lan", "10.0.0.0/24");
        lab.segment("internet", "203.0.113.0/24");
        lab.w
            .add_router(RouterSpec {
                name: "r1".into(),
                interfaces: vec![
                    RouterInterface {
                        segment: "lan".into(),
                        ip: ip("10.0.0.1"),
                        mac: mac("00-00-5E-00-01-01"),
                    },
                    RouterInterface {
                        segment: "internet".into(),
                        ip: ip("203.0.113.1"),
                        mac: mac("00-00-5E-00-01-02"),
                    },
                ],
                default_route: None,
                routes: Vec::new(),
            })
            .expect("router");
        lab.host("node1", "lan", "10.0.0.11", "00-15-5D-00-00-11", &[]);
        lab.host("node2", "lan", "10.0.0.12", "00-15-5D-00-00-12", &[]);
        lab.station(
            "client",
            "lan",
            "10.0.0.50",
            "02-00-00-00-00-50",
            Some("10.0.0.1"),
        );
        lab.station(
            "inet",
            "internet",
            "203.0.113.50",
            "02-00-00-00-71-50",
            Some("203.0.113.1"),
        );
        lab
    }

    pub fn segment(&mut self, name: &str, prefix: &str) {
        self.w
            .add_segment(SegmentSpec {
                name: name.into(),
                prefix: prefix.parse().expect("prefix"),
                mtu: 1500,
            })
            .expect("segment");
    }

    /// A Windows node with its gateway at .1 of its segment and extra OS routes.
    pub fn host(&mut self, name: &str, seg: &str, addr: &str, m: &str, routes: &[(&str, &str)]) {
        let mut spec = HostSpec::new(name, seg, ip(addr), mac(m));
        let o = ip(addr).octets();
        spec.gateway = Some(Ipv4Addr::new(o[0], o[1], o[2], 1));
        spec.routes = routes
            .iter()
            .map(|(p, nh)| (p.parse().expect("route prefix"), ip(nh)))
            .collect();
        self.w.add_host(spec).expect("host");
    }

    /// Change a host's dataplane settings (e.g. a small SNAT pool).
    pub fn host_settings(&mut self, name: &str, f: impl FnOnce(&mut crate::DataplaneSettings)) {
        let h = self.w.host_mut(name).expect("host");
        f(&mut h.spec.dataplane);
        h.snat = crate::vfp::SnatPools::new(
            h.spec.dataplane.snat_pool_ports,
            h.spec.dataplane.snat_block,
            h.spec.dataplane.snat_first_port,
        );
        h.hns.generation += 1;
    }

    pub fn station(&mut self, name: &str, seg: &str, addr: &str, m: &str, gw: Option<&str>) {
        self.w
            .add_station(StationSpec {
                name: name.into(),
                segment: seg.into(),
                ip: ip(addr),
                mac: mac(m),
                gateway: gw.map(ip),
            })
            .expect("station");
    }

    fn id(&mut self) -> Guid {
        self.next_id += 1;
        Guid(self.next_id)
    }

    fn parse<T: serde::de::DeserializeOwned>(doc: Value) -> T {
        serde_json::from_value(doc).expect("HCN document")
    }

    /// Create a network from its HCN JSON; returns its ID.
    pub fn network(&mut self, host: &str, doc: Value) -> Guid {
        let mut n: Network = Self::parse(doc);
        n.id = self.id();
        let hns = self.w.hns(host).expect("host");
        let id = n.id;
        hns.networks.insert(id, n);
        hns.generation += 1;
        id
    }

    /// Add a network policy (flannel/Calico `RemoteSubnetRoute`, `HostRoute`, …).
    pub fn network_policy(&mut self, host: &str, net: Guid, policy: Value) {
        let p: NetworkPolicy = Self::parse(policy);
        let hns = self.w.hns(host).expect("host");
        hns.networks.get_mut(&net).expect("network").policies.push(p);
        hns.generation += 1;
    }

    /// Create an endpoint on `net` from its HCN JSON (`HostComputeNetwork` is filled in).
    pub fn endpoint(&mut self, host: &str, net: Guid, mut doc: Value) -> Guid {
        doc["HostComputeNetwork"] = json!(net.to_string());
        let mut e: Endpoint = Self::parse(doc);
        e.id = self.id();
        let id = e.id;
        let hns = self.w.hns(host).expect("host");
        hns.endpoints.insert(id, e);
        hns.generation += 1;
        id
    }

    pub fn delete_endpoint(&mut self, host: &str, ep: Guid) {
        let hns = self.w.hns(host).expect("host");
        hns.endpoints.remove(&ep);
        hns.generation += 1;
    }

    /// Replace an endpoint's policies (HNS endpoint modify `Policy`/`Update`).
    pub fn set_endpoint_policies(&mut self, host: &str, ep: Guid, policies: Value) {
        let p = Self::parse(policies);
        let hns = self.w.hns(host).expect("host");
        hns.endpoints.get_mut(&ep).expect("endpoint").policies = p;
        hns.generation += 1;
    }

    /// A container: an HNS namespace holding the container and its endpoints.
    pub fn container(&mut self, host: &str, id: &str, endpoints: &[Guid]) -> Guid {
        let mut resources = vec![json!({"Type": "Container", "Data": {"ID": id}})];
        for e in endpoints {
            resources.push(json!({"Type": "Endpoint", "Data": {"ID": e.to_string()}}));
        }
        self.namespace(
            host,
            json!({"Type": "Guest", "Resources": resources, "SchemaVersion": {"Major": 2, "Minor": 0}}),
        )
    }

    /// Attach endpoints to the host's default compartment (flannel's `cbr0_ep`).
    pub fn host_attach(&mut self, host: &str, endpoints: &[Guid]) -> Guid {
        let resources: Vec<Value> = endpoints
            .iter()
            .map(|e| json!({"Type": "Endpoint", "Data": {"ID": e.to_string()}}))
            .collect();
        self.namespace(
            host,
            json!({"Type": "HostDefault", "NamespaceId": 1, "Resources": resources}),
        )
    }

    pub fn namespace(&mut self, host: &str, doc: Value) -> Guid {
        let mut n: Namespace = Self::parse(doc);
        n.id = self.id();
        let id = n.id;
        let hns = self.w.hns(host).expect("host");
        hns.namespaces.insert(id, n);
        hns.generation += 1;
        id
    }

    /// Create a load balancer from its HCN JSON; `backends` fill `HostComputeEndpoints`.
    pub fn lb(&mut self, host: &str, backends: &[Guid], mut doc: Value) -> Guid {
        doc["HostComputeEndpoints"] = json!(backends.iter().map(|g| g.to_string()).collect::<Vec<_>>());
        let mut lb: LoadBalancer = Self::parse(doc);
        lb.id = self.id();
        let id = lb.id;
        let hns = self.w.hns(host).expect("host");
        hns.load_balancers.insert(id, lb);
        hns.generation += 1;
        id
    }

    pub fn delete_lb(&mut self, host: &str, lb: Guid) {
        let hns = self.w.hns(host).expect("host");
        hns.load_balancers.remove(&lb);
        hns.generation += 1;
    }

    pub fn listen(&mut self, at: Place, proto: L4, port: u16) {
        self.w.listen(&at, proto, port).expect("listen");
    }

    /// Send TCP from `from` to `dst:port` (optionally from a fixed source port).
    pub fn tcp(&mut self, from: Place, dst: &str, port: u16) -> Exchange {
        self.send(from, dst, L4::Tcp, port, None)
    }

    pub fn send(&mut self, from: Place, dst: &str, proto: L4, port: u16, sport: Option<u16>) -> Exchange {
        let mut r = SendRequest::new(from, ip(dst).into(), proto, port);
        r.src_port = sport;
        self.try_send(r).expect("send")
    }

    pub fn try_send(&mut self, r: SendRequest) -> Result<Exchange, WorldError> {
        self.w.send(&r)
    }
}

/// A container place.
pub fn ctr(id: &str) -> Place {
    Place::Container(id.into())
}

/// The standard pod OutBoundNAT of consumers.md §7.
pub fn std_outbound_nat() -> Value {
    json!({"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.244.0.0/16", "10.96.0.0/12", "10.0.0.0/24"]}})
}
