//! A small lab for tests and examples: the common addressing of consumers.md §7 and helpers that
//! feed HCN documents (as kube-proxy, flannel and the CNI plugins send them) through the host's
//! HNS operations (`network_create`, `endpoint_create`, HCS `create_container`, …), so every
//! document is validated as HNS would and IDs come from the seeded model.

use crate::world::{
    HostSpec, Place, RouterInterface, RouterSpec, SegmentSpec, SendError, SendRequest, StationSpec, World,
};
use crate::{Exchange, L4};
use hnsim_model::backend::ObjectKind;
use hnsim_model::schema::{Endpoint, LoadBalancer, ModifyRequest, Namespace, Network};
use hnsim_model::state::{Hns, Isolation};
use hnsim_model::{Guid, Mac};
use serde_json::{json, Value};
use std::net::Ipv4Addr;

/// A world under construction with deterministic object IDs.
pub struct Lab {
    pub w: World,
}

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

pub fn mac(s: &str) -> Mac {
    s.parse().expect("test MAC")
}

impl Lab {
    pub fn new(seed: u64) -> Lab {
        Lab { w: World::new(seed) }
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
        let mut d = h.spec.dataplane.clone();
        f(&mut d);
        h.set_settings(d);
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

    fn parse<T: serde::de::DeserializeOwned>(doc: Value) -> T {
        serde_json::from_value(doc).expect("HCN document")
    }

    fn hns(&mut self, host: &str) -> &mut Hns {
        self.w.hns(host).expect("host")
    }

    /// `HcnCreateNetwork` from its HCN JSON; returns its ID.
    pub fn network(&mut self, host: &str, doc: Value) -> Guid {
        let n: Network = Self::parse(doc);
        self.hns(host)
            .network_create(Guid::ZERO, n)
            .expect("network create")
    }

    /// Add a network policy (flannel/Calico `RemoteSubnetRoute`, `HostRoute`, …): network
    /// modify `Policy`/`Add`.
    pub fn network_policy(&mut self, host: &str, net: Guid, policy: Value) {
        let req: ModifyRequest = Self::parse(json!({"ResourceType": "Policy", "RequestType": "Add",
            "Settings": {"Policies": [policy]}}));
        self.hns(host).network_modify(&net, &req).expect("network modify");
    }

    /// `HcnCreateEndpoint` on `net` from its HCN JSON (`HostComputeNetwork` is filled in).
    pub fn endpoint(&mut self, host: &str, net: Guid, mut doc: Value) -> Guid {
        doc["HostComputeNetwork"] = json!(net.to_string());
        let e: Endpoint = Self::parse(doc);
        self.hns(host)
            .endpoint_create(Guid::ZERO, e)
            .expect("endpoint create")
    }

    pub fn delete_endpoint(&mut self, host: &str, ep: Guid) {
        self.hns(host)
            .delete_object(ObjectKind::Endpoint, &ep)
            .expect("endpoint delete");
    }

    /// Replace an endpoint's policies (endpoint modify `Policy`/`Update`).
    pub fn set_endpoint_policies(&mut self, host: &str, ep: Guid, policies: Value) {
        let req: ModifyRequest = Self::parse(json!({"ResourceType": "Policy", "RequestType": "Update",
            "Settings": {"Policies": policies}}));
        self.hns(host)
            .endpoint_modify(&ep, &req)
            .expect("endpoint modify");
    }

    /// A running process-isolated HCS container with its own namespace holding `endpoints`.
    pub fn container(&mut self, host: &str, id: &str, endpoints: &[Guid]) {
        let hns = self.hns(host);
        hns.create_container(id, Isolation::Process, endpoints)
            .expect("container create");
        hns.start_container(id).expect("container start");
    }

    /// A created but not started container (HCS `Created`).
    pub fn created_container(&mut self, host: &str, id: &str, endpoints: &[Guid]) {
        self.hns(host)
            .create_container(id, Isolation::Process, endpoints)
            .expect("container create");
    }

    pub fn stop_container(&mut self, host: &str, id: &str) {
        self.hns(host).stop_container(id).expect("container stop");
    }

    /// Attach endpoints to the host's default compartment (flannel's `cbr0_ep`).
    pub fn host_attach(&mut self, host: &str, endpoints: &[Guid]) -> Guid {
        let resources: Vec<Value> = endpoints
            .iter()
            .map(|e| json!({"Type": "Endpoint", "Data": {"ID": e.to_string()}}))
            .collect();
        let ns: Namespace = Self::parse(json!({"Type": "HostDefault", "Resources": resources,
            "SchemaVersion": {"Major": 2, "Minor": 0}}));
        self.hns(host)
            .namespace_create(Guid::ZERO, ns)
            .expect("namespace create")
    }

    /// `HcnCreateLoadBalancer`; `backends` fill `HostComputeEndpoints`.
    pub fn lb(&mut self, host: &str, backends: &[Guid], mut doc: Value) -> Guid {
        doc["HostComputeEndpoints"] = json!(backends.iter().map(|g| g.to_string()).collect::<Vec<_>>());
        let lb: LoadBalancer = Self::parse(doc);
        self.hns(host)
            .load_balancer_create(Guid::ZERO, lb)
            .expect("load balancer create")
    }

    pub fn delete_lb(&mut self, host: &str, lb: Guid) {
        self.hns(host)
            .delete_object(ObjectKind::LoadBalancer, &lb)
            .expect("load balancer delete");
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

    pub fn try_send(&mut self, r: SendRequest) -> Result<Exchange, SendError> {
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

/// flannel's VXLAN network (consumers.md §7 S8): Overlay `vxlan0`, VSID 4096, default route via `gw`.
pub fn overlay_network(prefix: &str, gw: &str) -> Value {
    json!({"Name": "vxlan0", "Type": "Overlay", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
        "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}],
        "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}]})
}

/// A RemoteSubnetRoute network policy for VNI 4096: `prefix` lives behind provider address `pa`.
pub fn remote_subnet_route(prefix: &str, pa: &str, dr_mac: &str) -> Value {
    json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": prefix, "IsolationId": 4096,
        "ProviderAddress": pa, "DistributedRouterMacAddress": dr_mac}})
}

impl Lab {
    /// S8 on the common underlay: `vxlan0` on node1 (10.244.1.0/24) and node2 (10.244.2.0/24),
    /// each with a RemoteSubnetRoute to the other; pod A (10.244.1.10) on node1 and pod C
    /// (10.244.2.10, with endpoint `c_policies` unless null) on node2, both running, nothing
    /// listening. `node1_dr` publishes node1's `DrMacAddress` network policy.
    pub fn s8_overlay(seed: u64, node1_dr: Option<&str>, c_policies: Value) -> Lab {
        let mut lab = Lab::common(seed);
        let mut net1 = overlay_network("10.244.1.0/24", "10.244.1.1");
        if let Some(dr) = node1_dr {
            net1["Policies"] = json!([{"Type": "DrMacAddress", "Settings": {"Address": dr}}]);
        }
        let n1 = lab.network("node1", net1);
        let n2 = lab.network("node2", overlay_network("10.244.2.0/24", "10.244.2.1"));
        lab.network_policy(
            "node1",
            n1,
            remote_subnet_route("10.244.2.0/24", "10.0.0.12", "00-15-5D-AA-00-12"),
        );
        lab.network_policy(
            "node2",
            n2,
            remote_subnet_route("10.244.1.0/24", "10.0.0.11", "00-15-5D-AA-00-11"),
        );
        let a = lab.endpoint(
            "node1",
            n1,
            json!({"Name": "A", "IpConfigurations": [{"IpAddress": "10.244.1.10"}], "MacAddress": "0E-2A-0a-f4-01-0a"}),
        );
        let mut c = json!({"Name": "C", "IpConfigurations": [{"IpAddress": "10.244.2.10"}], "MacAddress": "0E-2A-0a-f4-02-0a"});
        if !c_policies.is_null() {
            c["Policies"] = c_policies;
        }
        let c = lab.endpoint("node2", n2, c);
        lab.container("node1", "A", &[a]);
        lab.container("node2", "C", &[c]);
        lab
    }
}

/// Is Wireshark's `tshark` on PATH? Without it the Wireshark cross-checks print a note and pass,
/// except under `CI=true`: CI installs tshark (.ci/run), so there a missing one is a failure, not
/// a silent skip.
pub fn tshark_available() -> bool {
    let found = std::process::Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tshark is not on PATH, and CI=true: the Wireshark cross-check must run in CI"
        );
        eprintln!("note: tshark not on PATH; skipping the Wireshark cross-check");
    }
    found
}
