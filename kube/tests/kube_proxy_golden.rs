//! kube-proxy's own winkernel unit tests (proxier_test.go, docs/reference/kubernetes.md §2.10),
//! ported as golden tests over the model: the same set-up (node IP 10.0.0.1, source VIP
//! 192.168.1.2, host MAC 00-11-22-33-44-55, network `TestNetwork` with one RemoteSubnetRoute
//! 192.168.2.0/24 → PA 10.0.0.3), the same Services and EndpointSlices, and the same
//! assertions on object kinds, flags, VIPs, ports, backend sets and creation order. Upstream's
//! mock numbers objects in creation order (`EPID-n`, `LBID-n`); here the journal of the
//! kube-proxy's creates gives the same numbering, never GUIDs.

use hnsim_k8s::config::Profile;
use hnsim_k8s::hcn::{Component, Hcn, Journaled};
use hnsim_k8s::objects::{EndpointSlice, Service};
use hnsim_k8s::proxy::{Proxier, ProxierConfig};
use hnsim_model::backend::{HcnOp, ObjectKind, Verb};
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::HnsBackend;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

const NODE: &str = "test-node";
const REMOTE_NODE: &str = "remote-node";

/// The fake node: one model host, the network, the pre-existing local endpoints, and the
/// kube-proxy journal.
struct Fake {
    hns: Hns,
    net: String,
    journal: Vec<Journaled>,
    /// Local endpoint name → ID (created by "the CNI" before kube-proxy runs).
    local: BTreeMap<String, String>,
    /// Upstream mock's `ShouldFailDeleteLoadBalancer`.
    fail_lb_deletes: bool,
}

/// A backend whose load-balancer deletes fail (the mock's `ShouldFailDeleteLoadBalancer`).
struct FailingLbDeletes<'a>(&'a mut Hns);

impl HnsBackend for FailingLbDeletes<'_> {
    fn call(&mut self, call: &hnsim_model::backend::HcnCall) -> hnsim_model::hresult::HcnResult<String> {
        if call.op == HcnOp::Object(Verb::Delete, ObjectKind::LoadBalancer) {
            return Err(hnsim_model::HcnError::new(
                hnsim_model::HResult(0x8000_4005),
                "E_FAIL: injected delete failure",
            ));
        }
        self.0.call(call)
    }
    fn describe(&self) -> String {
        "sim with failing LB deletes".into()
    }
}

impl Fake {
    fn new(overlay: bool) -> Fake {
        let mut hns = Hns::new(HostSettings::default(), 7);
        let mut hcn = Hcn::new(&mut hns, false);
        let mut doc = json!({
            "Name": "TestNetwork",
            "Type": if overlay { "Overlay" } else { "L2Bridge" },
            "Ipams": [{"Type": "Static", "Subnets": [
                {"IpAddressPrefix": "192.168.0.0/16", "Routes": [{"NextHop": "192.168.0.1", "DestinationPrefix": "0.0.0.0/0"}]},
                {"IpAddressPrefix": "fd00::/64", "Routes": [{"NextHop": "fd00::1", "DestinationPrefix": "::/0"}]}]}],
            "SchemaVersion": {"Major": 2, "Minor": 0},
        });
        if overlay {
            doc["Ipams"][0]["Subnets"] = json!([{"IpAddressPrefix": "192.168.0.0/16",
                "Routes": [{"NextHop": "192.168.0.1", "DestinationPrefix": "0.0.0.0/0"}],
                "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]);
            doc["Policies"] = json!([{"Type": "RemoteSubnetRoute", "Settings": {
                "DestinationPrefix": "192.168.2.0/24", "IsolationId": 4096,
                "ProviderAddress": "10.0.0.3", "DistributedRouterMacAddress": "00-11-22-33-44-55"}}]);
        }
        let net = hcn.create(ObjectKind::Network, &doc).expect("network");
        Fake {
            hns,
            net,
            journal: Vec::new(),
            local: BTreeMap::new(),
            fail_lb_deletes: false,
        }
    }

    /// A local (CNI-created) endpoint, as upstream's `EP-LOCAL-n`.
    fn local_endpoint(&mut self, name: &str, ips: &[&str]) {
        let cfgs: Vec<Json> = ips.iter().map(|ip| json!({"IpAddress": ip})).collect();
        let doc = json!({"Name": name, "HostComputeNetwork": self.net, "IpConfigurations": cfgs,
                         "SchemaVersion": {"Major": 2, "Minor": 0}});
        let id = Hcn::new(&mut self.hns, false)
            .create(ObjectKind::Endpoint, &doc)
            .expect("local endpoint");
        self.local.insert(name.to_string(), id);
    }

    fn cfg(&self, dsr: bool, ipv6: bool) -> ProxierConfig {
        ProxierConfig {
            node_name: NODE.into(),
            node_ip: if ipv6 {
                "fd00::1:1".parse().unwrap()
            } else {
                "10.0.0.1".parse().unwrap()
            },
            host_mac: "00-11-22-33-44-55".into(),
            network_name: "TestNetwork".into(),
            enable_dsr: dsr,
            source_vip: Some(if ipv6 {
                "192::1:2".parse().unwrap()
            } else {
                "192.168.1.2".parse().unwrap()
            }),
            forward_healthcheck_vip: true,
            root_hnsendpoint_name: "EP-GW".into(),
            healthz_port: 10256,
            ipv6,
            profile: Profile::Latest,
            win_overlay_gate: true,
            win_dsr_gate: true,
            modify_load_balancer: Some(false),
            dsr_supported: Some(true),
            full_inventory: false,
        }
    }

    fn start(&mut self, cfg: ProxierConfig) -> Proxier {
        let mut hcn = Hcn::new(&mut self.hns, true);
        let p = Proxier::start(&mut hcn, cfg).expect("kube-proxy starts");
        self.journal.extend(hcn.journal.take().unwrap_or_default());
        p
    }

    fn sync(&mut self, p: &mut Proxier, svcs: &[Service], slices: &[EndpointSlice]) {
        let mut failing = FailingLbDeletes(&mut self.hns);
        let b: &mut dyn HnsBackend = if self.fail_lb_deletes {
            &mut failing
        } else {
            failing.0
        };
        let mut hcn = Hcn::new(b, true);
        p.sync(&mut hcn, svcs, slices);
        self.journal.extend(hcn.journal.take().unwrap_or_default());
    }

    /// kube-proxy's successful creates of `kind`, in order: index 0 is upstream's `…ID-1`.
    fn created(&self, kind: ObjectKind) -> Vec<String> {
        self.journal
            .iter()
            .filter(|j| j.component == Component::KubeProxy && j.op == HcnOp::Object(Verb::Create, kind))
            .filter_map(|j| j.result.as_ref().ok().map(|r| hnsim_k8s::hcn::reply_id(r)))
            .collect()
    }
    fn epid(&self, n: usize) -> String {
        self.created(ObjectKind::Endpoint)[n - 1].clone()
    }
    fn lbid(&self, n: usize) -> String {
        self.created(ObjectKind::LoadBalancer)[n - 1].clone()
    }
    fn exists(&mut self, kind: ObjectKind, id: &str) -> bool {
        self.hns.open(kind, id).is_ok()
    }
    fn lb(&mut self, id: &str) -> Json {
        let q = r#"{"SchemaVersion":{"Major":2,"Minor":0}}"#;
        serde_json::from_str(&self.hns.query(ObjectKind::LoadBalancer, id, q).expect("lb")).unwrap()
    }
    fn ep(&mut self, id: &str) -> Json {
        let q = r#"{"SchemaVersion":{"Major":2,"Minor":0}}"#;
        serde_json::from_str(&self.hns.query(ObjectKind::Endpoint, id, q).expect("ep")).unwrap()
    }
    fn lb_count(&mut self) -> usize {
        let r = self.hns.enumerate(ObjectKind::LoadBalancer, "").unwrap();
        serde_json::from_str::<Vec<String>>(&r).unwrap().len()
    }
}

fn yaml<T: serde::de::DeserializeOwned>(s: &str) -> T {
    serde_yaml::from_str(s).expect("test YAML")
}

/// Upstream's `makeTestService` + NodePort port `p80` (80 → 80, nodePort 3001).
fn nodeport_svc(name: &str, cluster_ip: &str, extra_spec: &str) -> Service {
    yaml(&format!(
        "metadata: {{name: {name}, namespace: ns1}}\nspec:\n  type: NodePort\n  clusterIP: {cluster_ip}\n  ports: [{{name: p80, port: 80, targetPort: 80, nodePort: 3001, protocol: TCP}}]\n{extra_spec}"
    ))
}

/// An EndpointSlice for `svc` with endpoints `(ip, node)` on port p80/80.
fn slice(svc: &str, eps: &[(&str, &str)]) -> EndpointSlice {
    let list: Vec<String> = eps
        .iter()
        .map(|(ip, node)| format!("- {{addresses: [\"{ip}\"], nodeName: {node}, conditions: {{ready: true, serving: true, terminating: false}}}}"))
        .collect();
    yaml(&format!(
        "metadata: {{name: {svc}-1, namespace: ns1, labels: {{kubernetes.io/service-name: {svc}}}}}\nports: [{{name: p80, port: 80, protocol: TCP}}]\nendpoints:\n{}\n",
        list.join("\n")
    ))
}

const SVC1: &str = "ns1/svc1:p80/TCP";

#[test]
fn test_create_service_vip() {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(true, false));
    let svc = nodeport_svc(
        "svc1",
        "10.20.30.41",
        "  externalIPs: [50.60.70.81]\n  sessionAffinity: ClientIP\n",
    );
    f.sync(&mut p, &[svc], &[]);
    // The ClusterIP endpoint exists although the service has no endpoints: EPID-2 (EPID-1 is
    // the source-VIP endpoint).
    let ep = f.epid(2);
    let doc = f.ep(&ep);
    assert_eq!(doc["IpConfigurations"][0]["IpAddress"], "10.20.30.41");
    assert_eq!(doc["Flags"], 1, "a remote endpoint");
    assert_eq!(doc["Policies"][0]["Settings"]["ProviderAddress"], "10.0.0.1");
    let sv = f.ep(&f.epid(1));
    assert_eq!(sv["IpConfigurations"][0]["IpAddress"], "192.168.1.2");
    assert!(
        sv.get("Flags").is_none_or(|f| f == 0),
        "the source-VIP endpoint is local"
    );
    assert!(
        f.created(ObjectKind::LoadBalancer).is_empty(),
        "no endpoints, no LB"
    );
}

#[test]
fn test_create_remote_endpoint_overlay() {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(false, false));
    f.sync(
        &mut p,
        &[nodeport_svc("svc1", "11.0.0.1", "")],
        &[slice("svc1", &[("192.168.2.3", REMOTE_NODE)])],
    );
    let ep = f.epid(3);
    assert_eq!(p.endpoint_ids(SVC1), std::slice::from_ref(&ep));
    let doc = f.ep(&ep);
    assert_eq!(
        doc["MacAddress"], "02-11-C0-A8-02-03",
        "HNS reports MACs in upper case"
    );
    assert_eq!(doc["Policies"][0]["Settings"]["ProviderAddress"], "10.0.0.3");
    assert_eq!(p.ref_count(&ep), 1);
}

#[test]
fn test_create_remote_endpoint_l2_bridge() {
    let mut f = Fake::new(false);
    let mut p = f.start(f.cfg(false, false));
    f.sync(
        &mut p,
        &[nodeport_svc("svc1", "11.0.0.1", "")],
        &[slice("svc1", &[("192.168.2.3", REMOTE_NODE)])],
    );
    // No source-VIP or ClusterIP endpoint on L2Bridge: the backend is EPID-1.
    let ep = f.epid(1);
    assert_eq!(p.endpoint_ids(SVC1), std::slice::from_ref(&ep));
    let doc = f.ep(&ep);
    assert!(
        doc.get("Policies")
            .is_none_or(|p| p.as_array().is_some_and(Vec::is_empty)),
        "no PA on L2Bridge: {doc}"
    );
    assert_eq!(p.ref_count(&ep), 1);
    let lb = f.lb(&f.lbid(1));
    assert!(
        lb.get("SourceVIP").is_none(),
        "SourceVIP is empty (omitted) on L2Bridge"
    );
}

#[test]
fn test_dsr_endpoints_are_created_correctly() {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(true, false));
    f.sync(
        &mut p,
        &[nodeport_svc("svc1", "11.0.0.1", "")],
        &[slice("svc1", &[("192.168.2.3", REMOTE_NODE)])],
    );
    assert_eq!(p.endpoint_ids(SVC1).len(), 1, "the backend has an HNS ID");
}

#[test]
fn test_dsr_not_applied_to_cluster_traffic_policy() {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(false, false));
    f.sync(
        &mut p,
        &[nodeport_svc(
            "svc1",
            "11.0.0.1",
            "  externalTrafficPolicy: Cluster\n",
        )],
        &[],
    );
    assert_eq!(p.local_traffic_dsr(SVC1), Some(false));
}

#[test]
fn test_win_dsr_with_overlay_enabled() {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(false, false));
    let svc: Service = yaml("metadata: {name: svc1, namespace: ns1}\nspec:\n  clusterIP: 11.0.0.1\n  externalTrafficPolicy: Local\n  ports: [{name: p80, port: 80, protocol: TCP}]\n");
    f.sync(&mut p, &[svc], &[]);
    assert_eq!(
        p.local_traffic_dsr(SVC1),
        Some(true),
        "ETP=Local sets localTrafficDSR without --enable-dsr"
    );
}

#[test]
fn test_cluster_ip_svc_with_itp_local() {
    let mut f = Fake::new(false);
    f.local_endpoint("EP-LOCAL-1", &["192.168.4.4"]);
    f.local_endpoint("EP-LOCAL-2", &["192.168.4.5"]);
    let mut p = f.start(f.cfg(true, false));
    let svc: Service = yaml("metadata: {name: svc1, namespace: ns1}\nspec:\n  clusterIP: 11.0.0.1\n  internalTrafficPolicy: Local\n  ports: [{name: p80, port: 80, protocol: TCP}]\n");
    let svcs = [svc];
    f.sync(&mut p, &svcs, &[slice("svc1", &[("192.168.4.4", NODE)])]);
    let lb1 = f.lbid(1);
    assert_eq!(f.lb(&lb1)["HostComputeEndpoints"], json!([f.local["EP-LOCAL-1"]]));
    // A second local endpoint: a new LB (LBID-2), the first deleted.
    f.sync(
        &mut p,
        &svcs,
        &[slice("svc1", &[("192.168.4.4", NODE), ("192.168.4.5", NODE)])],
    );
    let lb2 = f.lbid(2);
    assert!(!f.exists(ObjectKind::LoadBalancer, &lb1), "LBID-1 deleted");
    assert_eq!(p.lb_ids(SVC1).unwrap().0, lb2);
    // A remote endpoint joins: ITP=Local leaves it out, the backend set (and hash) is the same,
    // so LBID-2 stays and no LB is created.
    f.sync(
        &mut p,
        &svcs,
        &[slice(
            "svc1",
            &[
                ("192.168.4.4", NODE),
                ("192.168.4.5", NODE),
                ("192.168.2.3", REMOTE_NODE),
            ],
        )],
    );
    assert_eq!(p.lb_ids(SVC1).unwrap().0, lb2);
    assert_eq!(f.created(ObjectKind::LoadBalancer).len(), 2);
    assert!(f.exists(ObjectKind::LoadBalancer, &lb2));
}

#[test]
fn test_shared_remote_endpoint_delete() {
    let mut f = Fake::new(false);
    let mut p = f.start(f.cfg(false, false));
    let svcs = [
        nodeport_svc("svc1", "11.0.0.1", ""),
        nodeport_svc("svc2", "11.0.0.2", ""),
    ];
    let remote = ("192.168.2.3", REMOTE_NODE);
    f.sync(
        &mut p,
        &svcs,
        &[slice("svc1", &[remote]), slice("svc2", &[remote])],
    );
    let ep = f.epid(1);
    assert_eq!(
        f.created(ObjectKind::Endpoint).len(),
        1,
        "one shared remote endpoint"
    );
    assert_eq!(p.ref_count(&ep), 2);
    f.sync(&mut p, &svcs[..1], &[slice("svc1", &[remote])]);
    assert_eq!(p.ref_count(&ep), 1);
    assert!(f.exists(ObjectKind::Endpoint, &ep));
}

#[test]
fn test_shared_remote_endpoint_update() {
    let mut f = Fake::new(false);
    let mut p = f.start(f.cfg(false, false));
    let remote = ("192.168.2.3", REMOTE_NODE);
    let svcs = [
        nodeport_svc("svc1", "11.0.0.1", ""),
        nodeport_svc("svc2", "11.0.0.2", ""),
    ];
    f.sync(
        &mut p,
        &svcs,
        &[slice("svc1", &[remote]), slice("svc2", &[remote])],
    );
    let ep = f.epid(1);
    assert_eq!(p.ref_count(&ep), 2);
    // svc1's nodePort 3001 → 3003, and its slice gains a port p443.
    let mut svc1 = svcs[0].clone();
    svc1.spec.ports[0].node_port = Some(3003);
    let mut s1 = slice("svc1", &[remote]);
    s1.ports.push(yaml("{name: p443, port: 443, protocol: TCP}"));
    f.sync(&mut p, &[svc1, svcs[1].clone()], &[s1, slice("svc2", &[remote])]);
    assert_eq!(p.ref_count(&ep), 2);
    assert!(f.exists(ObjectKind::Endpoint, &ep));
    let np = p.lb_ids(SVC1).unwrap().1;
    assert_eq!(f.lb(&np)["PortMappings"][0]["ExternalPort"], 3003);
}

fn create_lb(dsr: bool) {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(dsr, false));
    f.sync(
        &mut p,
        &[nodeport_svc("svc1", "11.0.0.1", "")],
        &[slice("svc1", &[("192.168.2.3", REMOTE_NODE)])],
    );
    let lb = f.lbid(1);
    assert_eq!(p.lb_ids(SVC1).unwrap().0, lb, "the ClusterIP LB is LBID-1");
    let doc = f.lb(&lb);
    assert_eq!(
        doc.get("Flags").and_then(Json::as_u64).unwrap_or(0),
        u64::from(dsr)
    );
    assert_eq!(doc["FrontendVIPs"], json!(["11.0.0.1"]));
    assert_eq!(doc["SourceVIP"], "192.168.1.2");
    // NodePort LB: LBID-2, no VIPs, PortMapping flags 16|2.
    let np = f.lb(&f.lbid(2));
    assert!(np.get("FrontendVIPs").is_none());
    assert_eq!(np["PortMappings"][0]["Flags"], 18);
    assert_eq!(np["PortMappings"][0]["ExternalPort"], 3001);
}

#[test]
fn test_create_load_balancer_without_dsr() {
    create_lb(false);
}

#[test]
fn test_create_load_balancer_with_dsr() {
    create_lb(true);
}

fn update_lb(modify: bool) -> (Fake, Proxier) {
    let mut f = Fake::new(true);
    let mut cfg = f.cfg(false, false);
    cfg.modify_load_balancer = Some(modify);
    let mut p = f.start(cfg);
    let svcs = [nodeport_svc("svc1", "11.0.0.1", "")];
    f.sync(&mut p, &svcs, &[slice("svc1", &[("192.168.2.3", REMOTE_NODE)])]);
    assert_eq!(p.lb_ids(SVC1).unwrap().0, f.lbid(1));
    let old = f.epid(3);
    // The backend moves to 10.0.0.3, a node IP (it is the PA of the RemoteSubnetRoute).
    f.sync(&mut p, &svcs, &[slice("svc1", &[("10.0.0.3", REMOTE_NODE)])]);
    assert!(!f.exists(ObjectKind::Endpoint, &old), "EPID-3 deleted");
    let new = f.epid(5);
    assert_eq!(
        p.endpoint_ids(SVC1),
        std::slice::from_ref(&new),
        "the new backend is EPID-5 (EPID-4: the ClusterIP endpoint, recreated)"
    );
    assert_eq!(f.ep(&f.epid(4))["IpConfigurations"][0]["IpAddress"], "11.0.0.1");
    (f, p)
}

#[test]
fn test_update_load_balancer_when_supported() {
    let (mut f, p) = update_lb(true);
    let lb = f.lbid(1);
    assert_eq!(p.lb_ids(SVC1).unwrap().0, lb, "updated in place: still LBID-1");
    let doc = f.lb(&lb);
    assert_eq!(doc["HostComputeEndpoints"], json!([f.epid(5)]));
    assert_eq!(
        doc["SourceVIP"], "10.0.0.1",
        "a node-IP backend makes the SourceVIP the node IP"
    );
    assert_eq!(f.created(ObjectKind::LoadBalancer).len(), 2);
}

#[test]
fn test_update_load_balancer_when_unsupported() {
    let (mut f, p) = update_lb(false);
    assert_eq!(p.lb_ids(SVC1).unwrap().0, f.lbid(3), "recreated as LBID-3");
    let old = f.lbid(1);
    assert!(!f.exists(ObjectKind::LoadBalancer, &old));
}

/// A NodePort service with ETP=Local and an ingress IP, one local backend, and the `EP-GW`
/// root endpoint for the health-check LB.
fn dsr_lb_service() -> Service {
    nodeport_svc(
        "svc1",
        "11.0.0.1",
        "  externalTrafficPolicy: Local\nstatus:\n  loadBalancer:\n    ingress: [{ip: 11.21.31.41}]\n",
    )
}

#[test]
fn test_create_dsr_load_balancer() {
    let mut f = Fake::new(true);
    f.local_endpoint("EP-GW", &["192.168.2.1"]);
    f.local_endpoint("EP-LOCAL-1", &["192.168.4.4"]);
    let mut p = f.start(f.cfg(true, false));
    f.sync(
        &mut p,
        &[dsr_lb_service()],
        &[slice("svc1", &[("192.168.4.4", NODE)])],
    );
    let (cip, np, _, ingress) = p.lb_ids(SVC1).unwrap();
    assert_eq!(cip, f.lbid(1));
    assert_eq!(np, f.lbid(2));
    assert_eq!(
        ingress,
        [(f.lbid(3), f.lbid(4))],
        "ingress LBID-3, its health-check LB LBID-4"
    );
    assert_eq!(p.local_traffic_dsr(SVC1), Some(true));
    let hc = f.lb(&f.lbid(4));
    assert_eq!(hc["HostComputeEndpoints"], json!([f.local["EP-GW"]]));
    assert_eq!(hc["FrontendVIPs"], json!(["11.21.31.41"]));
    assert_eq!(hc["PortMappings"][0]["ExternalPort"], 10256);
    assert!(hc.get("Flags").is_none(), "no DSR on the health-check LB");
    let ing = f.lb(&f.lbid(3));
    assert_eq!(
        (ing["Flags"].as_u64(), ing["PortMappings"][0]["Flags"].as_u64()),
        (Some(1), Some(16))
    );
}

#[test]
fn test_cluster_ip_lb_in_create_dsr_load_balancer() {
    let mut f = Fake::new(true);
    f.local_endpoint("EP-GW", &["192.168.2.1"]);
    let mut p = f.start(f.cfg(true, false));
    f.sync(
        &mut p,
        &[dsr_lb_service()],
        &[slice("svc1", &[("192.168.2.3", REMOTE_NODE)])],
    );
    let (cip, np, ext, ingress) = p.lb_ids(SVC1).unwrap();
    assert_eq!(cip, f.lbid(1), "the ClusterIP LB uses the remote backend");
    assert!(
        np.is_empty() && ext.is_empty(),
        "ETP=Local, no local backend: no NodePort LB"
    );
    assert!(ingress.iter().all(|(i, _)| i.is_empty()), "… and no ingress LB");
    assert_eq!(f.created(ObjectKind::LoadBalancer).len(), 1);
}

fn internal_port_different(profile: Profile) -> u64 {
    let mut f = Fake::new(true);
    let mut cfg = f.cfg(false, false);
    cfg.profile = profile;
    let mut p = f.start(cfg);
    let mut s = slice("svc1", &[("192.168.2.3", REMOTE_NODE)]);
    s.ports[0].port = Some(8080);
    f.sync(&mut p, &[nodeport_svc("svc1", "11.0.0.1", "")], &[s]);
    let lb = f.lb(&f.lbid(1));
    let pms = lb["PortMappings"].as_array().unwrap().clone();
    assert_eq!(pms.len(), 1);
    assert_eq!(pms[0]["ExternalPort"], 80);
    pms[0]["InternalPort"].as_u64().unwrap()
}

#[test]
fn test_endpoint_slice_with_internal_port_different_from_service_port() {
    assert_eq!(internal_port_different(Profile::Latest), 8080);
}

/// Version note (docs/reference/kubernetes.md §2.9): before PR #132647 a numeric targetPort
/// was kept.
#[test]
fn test_endpoint_slice_with_internal_port_different_from_service_port_1_31() {
    assert_eq!(internal_port_different(Profile::V1_31), 80);
}

#[test]
fn test_endpoint_slice() {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(false, false));
    let svc: Service = yaml("metadata: {name: svc1, namespace: ns1}\nspec:\n  clusterIP: 11.0.0.1\n  ports: [{name: p80, port: 80, protocol: TCP}]\n");
    f.sync(&mut p, &[svc], &[slice("svc1", &[("192.168.2.3", REMOTE_NODE)])]);
    assert_eq!(p.lb_ids(SVC1).unwrap().0, f.lbid(1));
    assert_eq!(p.endpoint_ids(SVC1), [f.epid(3)]);
}

#[test]
fn test_noop_endpoint_slice() {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(false, false));
    // A slice for a Service kube-proxy does not know: nothing happens, nothing breaks.
    f.sync(&mut p, &[], &[slice("unknown", &[("192.168.2.3", REMOTE_NODE)])]);
    assert_eq!(
        f.created(ObjectKind::Endpoint).len(),
        1,
        "only the source-VIP endpoint"
    );
    assert_eq!(f.lb_count(), 0);
}

#[test]
fn test_find_remote_subnet_provider_address() {
    let mut f = Fake::new(true);
    let p = f.start(f.cfg(false, false));
    assert_eq!(
        p.find_remote_subnet_pa("10.0.0.3"),
        "10.0.0.3",
        "by the PA itself"
    );
    assert_eq!(
        p.find_remote_subnet_pa("192.168.2.3"),
        "10.0.0.3",
        "by an IP in the prefix"
    );
    assert_eq!(p.find_remote_subnet_pa("11.0.0.1"), "");
}

#[test]
fn test_remote_and_local_endpoints_same_ip() {
    let mut f = Fake::new(false);
    f.local_endpoint("EP-LOCAL-1", &["192.168.4.4"]);
    let mut p = f.start(f.cfg(false, false));
    let svcs = [
        nodeport_svc("svc1", "11.0.0.1", ""),
        nodeport_svc("svc2", "11.0.0.2", ""),
    ];
    // svc1's slice says the IP is local, svc2's says remote: both resolve to the local HNS
    // endpoint (locality comes from HNS), and nothing is ref-counted.
    f.sync(
        &mut p,
        &svcs,
        &[
            slice("svc1", &[("192.168.4.4", NODE)]),
            slice("svc2", &[("192.168.4.4", REMOTE_NODE)]),
        ],
    );
    let local = f.local["EP-LOCAL-1"].clone();
    assert_eq!(p.endpoint_ids(SVC1), std::slice::from_ref(&local));
    assert_eq!(p.endpoint_ids("ns1/svc2:p80/TCP"), std::slice::from_ref(&local));
    assert_eq!(p.ref_count(&local), 0);
    assert!(
        f.created(ObjectKind::Endpoint).is_empty(),
        "no remote endpoint created"
    );
}

/// Upstream's dual-stack ingress tests: a LoadBalancer Service with v4 and v6 ClusterIPs and
/// ingress IPs on L2Bridge; the v4 proxier makes LBID-1..4 (ClusterIP, NodePort, Ingress,
/// HealthCheck), the v6 one LBID-5..8 with the IPv6 flag.
fn dual_stack_ingress(etp_local: bool) {
    let (f, v4, v6) = dual_stack_run(etp_local, Profile::Latest);
    check_dual_stack(f, v4, v6, etp_local);
}

fn dual_stack_run(etp_local: bool, profile: Profile) -> (Fake, Proxier, Proxier) {
    let mut f = Fake::new(false);
    f.local_endpoint("EP-GW", &["192.168.2.1", "fd00::2"]);
    f.local_endpoint("EP-LOCAL-1", &["192.168.4.4", "fd00::44"]);
    let (mut c4, mut c6) = (f.cfg(etp_local, false), f.cfg(etp_local, true));
    c4.profile = profile;
    c6.profile = profile;
    let mut v4 = f.start(c4);
    let mut v6 = f.start(c6);
    let etp = if etp_local { "Local" } else { "Cluster" };
    let svc: Service = yaml(&format!(
        "metadata: {{name: svc1, namespace: ns1}}\nspec:\n  type: LoadBalancer\n  clusterIPs: [10.20.30.41, 'fd00::21']\n  ipFamilies: [IPv4, IPv6]\n  externalTrafficPolicy: {etp}\n  ports: [{{name: p80, port: 80, targetPort: 80, nodePort: 3001, protocol: TCP}}]\nstatus:\n  loadBalancer:\n    ingress: [{{ip: 11.21.31.41}}, {{ip: 'fd00::1'}}]\n"
    ));
    let slices = [
        slice("svc1", &[("192.168.4.4", NODE), ("192.168.2.3", REMOTE_NODE)]),
        yaml::<EndpointSlice>("metadata: {name: svc1-v6, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}\naddressType: IPv6\nports: [{name: p80, port: 80, protocol: TCP}]\nendpoints:\n- {addresses: ['fd00::44'], nodeName: test-node}\n- {addresses: ['fd00::2:3'], nodeName: remote-node}\n"),
    ];
    let svcs = [svc];
    f.sync(&mut v4, &svcs, &slices);
    f.sync(&mut v6, &svcs, &slices);
    (f, v4, v6)
}

fn check_dual_stack(mut f: Fake, v4: Proxier, v6: Proxier, etp_local: bool) {
    let lbs = f.created(ObjectKind::LoadBalancer);
    assert_eq!(lbs.len(), 8, "{lbs:?}\nv4: {:?}\nv6: {:?}", v4.log, v6.log);
    let want_backends = if etp_local { 1 } else { 2 };
    for (i, fam_v6) in [(0usize, false), (4, true)] {
        let (cip, np, _, ing) = if fam_v6 { v6.lb_ids(SVC1) } else { v4.lb_ids(SVC1) }.unwrap();
        assert_eq!(
            [cip, np, ing[0].0.clone(), ing[0].1.clone()],
            [
                lbs[i].clone(),
                lbs[i + 1].clone(),
                lbs[i + 2].clone(),
                lbs[i + 3].clone()
            ]
        );
        let v6flag = if fam_v6 { 2 } else { 0 };
        let dsr = u64::from(etp_local);
        let c = f.lb(&lbs[i]);
        assert_eq!(
            c.get("Flags").and_then(Json::as_u64).unwrap_or(0),
            dsr | v6flag,
            "ClusterIP flags"
        );
        assert_eq!(
            c["HostComputeEndpoints"].as_array().unwrap().len(),
            2,
            "ClusterIP: all backends"
        );
        for j in [1, 2] {
            let l = f.lb(&lbs[i + j]);
            assert_eq!(l.get("Flags").and_then(Json::as_u64).unwrap_or(0), dsr | v6flag);
            assert_eq!(l["HostComputeEndpoints"].as_array().unwrap().len(), want_backends);
        }
        let hc = f.lb(&lbs[i + 3]);
        assert_eq!(
            hc.get("Flags").and_then(Json::as_u64).unwrap_or(0),
            v6flag,
            "health check: IPv6 flag only"
        );
    }
}

#[test]
fn test_etp_local_ingress_ip_service_with_prefer_dual_stack() {
    dual_stack_ingress(true);
}

#[test]
fn test_etp_cluster_ingress_ip_service_with_prefer_dual_stack() {
    dual_stack_ingress(false);
}

/// Version note (docs/reference/kubernetes.md §2.7): before PR #136241 the LB identity had
/// no IP family, so the v6 proxier found the v4 NodePort LB (same ports, same local endpoint
/// ID, no VIP) and reused it: 7 LBs, not 8.
#[test]
fn test_etp_local_ingress_ip_service_with_prefer_dual_stack_1_31() {
    let (f, _v4, v6) = dual_stack_run(true, Profile::V1_31);
    let lbs = f.created(ObjectKind::LoadBalancer);
    assert_eq!(lbs.len(), 7);
    assert_eq!(
        v6.lb_ids(SVC1).unwrap().1,
        lbs[1],
        "the v6 NodePort LB is the v4 one"
    );
}

#[test]
fn test_endpoint_transition_with_lb_failures() {
    let mut f = Fake::new(false);
    f.local_endpoint("EP-LOCAL-1", &["192.168.4.4"]);
    let mut p = f.start(f.cfg(false, false));
    let svcs = [
        nodeport_svc("svc1", "10.20.30.41", ""),
        nodeport_svc("svc2", "10.20.30.42", ""),
    ];
    let all = [
        ("192.168.4.4", NODE),
        ("192.168.2.3", REMOTE_NODE),
        ("192.168.2.4", REMOTE_NODE),
        ("192.168.2.5", REMOTE_NODE),
    ];
    let slices = |eps: &[(&str, &str)]| [slice("svc1", eps), slice("svc2", eps)];
    f.sync(&mut p, &svcs, &slices(&all));
    // L2Bridge: B, C, D are EPID-1..3, each shared by both Services.
    let (b, c, d) = (f.epid(1), f.epid(2), f.epid(3));
    for id in [&b, &c, &d] {
        assert_eq!(p.ref_count(id), 2);
    }
    let old1 = p.lb_ids(SVC1).unwrap().0;
    let old2 = p.lb_ids("ns1/svc2:p80/TCP").unwrap().0;
    assert!(!old1.is_empty() && !old2.is_empty());
    // [A,B,C,D] → [A,B] while LB deletes fail: the re-create hits the old LBs' VIP:port.
    f.fail_lb_deletes = true;
    f.sync(&mut p, &svcs, &slices(&all[..2]));
    assert_eq!(p.lb_ids(SVC1).unwrap().0, "", "create failed: no LB ID");
    assert_eq!(p.lb_ids("ns1/svc2:p80/TCP").unwrap().0, "");
    assert!(
        f.exists(ObjectKind::LoadBalancer, &old1) && f.exists(ObjectKind::LoadBalancer, &old2),
        "the old LBs stay"
    );
    assert!(
        p.errors.iter().any(|e| e.contains("HCN_E_PORT_ALREADY_EXISTS")),
        "{:?}",
        p.errors
    );
    assert_eq!((p.ref_count(&c), p.ref_count(&d)), (0, 0));
    assert!(
        !f.exists(ObjectKind::Endpoint, &c) && !f.exists(ObjectKind::Endpoint, &d),
        "C and D deleted"
    );
    assert_eq!(p.ref_count(&b), 2, "B reused by both Services");
    assert!(p.endpoint_ids(SVC1).contains(&b));
    assert!(f.exists(ObjectKind::Endpoint, &f.local["EP-LOCAL-1"].clone()));
}

/// kube-proxy's start deletes every HNS load balancer, including ones it did not create
/// (docs/reference/kubernetes.md §2.1).
#[test]
fn start_deletes_every_load_balancer() {
    let mut f = Fake::new(true);
    f.local_endpoint("EP-LOCAL-1", &["192.168.4.4"]);
    let lb = json!({"HostComputeEndpoints": [f.local["EP-LOCAL-1"]], "FrontendVIPs": ["1.2.3.4"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 1, "ExternalPort": 1}], "SchemaVersion": {"Major": 2, "Minor": 0}});
    Hcn::new(&mut f.hns, false)
        .create(ObjectKind::LoadBalancer, &lb)
        .unwrap();
    assert_eq!(f.lb_count(), 1);
    let _p = f.start(f.cfg(false, false));
    assert_eq!(f.lb_count(), 0);
}

/// `ShouldSkipService`: ExternalName and headless Services create nothing (docs/reference/kubernetes.md §2.6).
#[test]
fn external_name_and_headless_services_create_nothing() {
    let mut f = Fake::new(true);
    let mut p = f.start(f.cfg(false, false));
    let ext: Service = yaml("metadata: {name: ext, namespace: ns1}\nspec: {type: ExternalName, externalName: example.com, ports: [{port: 80}]}\n");
    let headless: Service = yaml(
        "metadata: {name: svc1, namespace: ns1}\nspec: {clusterIP: None, ports: [{name: p80, port: 80}]}\n",
    );
    f.sync(
        &mut p,
        &[ext, headless],
        &[slice("svc1", &[("192.168.2.3", REMOTE_NODE)])],
    );
    assert_eq!(
        f.created(ObjectKind::Endpoint).len(),
        1,
        "only the source-VIP endpoint"
    );
    assert_eq!(f.lb_count(), 0);
    assert!(p.service_ports_applied().is_empty());
}

/// A NodePort Service (`nodeport_svc`) on another node port.
fn nodeport_svc_on(name: &str, cluster_ip: &str, node_port: u16) -> Service {
    let mut s = nodeport_svc(name, cluster_ip, "");
    s.spec.ports[0].node_port = Some(node_port);
    s
}

/// The set-up of upstream's TestRemoteEndpointDeleteDoesNotAffectLocalEndpointWithSameIP
/// (L2Bridge): svc1 and svc2 share a local (192.168.4.4) and a remote (192.168.2.3) endpoint,
/// then svc3 gets a local endpoint with the remote's IP. Returns the fake, the proxier, the
/// remote endpoint's ID, the second local endpoint's ID and the Services.
fn local_endpoint_takes_remote_ip(profile: Profile) -> (Fake, Proxier, String, String, Vec<Service>) {
    let (local_ip, remote_ip) = ("192.168.4.4", "192.168.2.3");
    let mut f = Fake::new(false);
    f.local_endpoint("EP-LOCAL-1", &[local_ip]);
    let mut cfg = f.cfg(false, false);
    cfg.profile = profile;
    let mut p = f.start(cfg);
    let mut svcs = vec![
        nodeport_svc_on("svc1", "10.20.30.41", 3001),
        nodeport_svc_on("svc2", "10.20.30.42", 3002),
    ];
    // `nodeName: ` (null): the remote endpoint is on no node of ours.
    let both = [(local_ip, NODE), (remote_ip, "")];
    let slices = [slice("svc1", &both), slice("svc2", &both)];
    f.sync(&mut p, &svcs, &slices);
    let remote = f.epid(1);
    assert_eq!(
        p.ref_count(&remote),
        2,
        "the remote endpoint is shared by svc1 and svc2"
    );
    assert!(p.endpoint_ids(SVC1).contains(&remote));
    svcs.push(yaml(
        "metadata: {name: svc3, namespace: ns1}\nspec:\n  clusterIP: 10.20.30.43\n  ports: [{name: p80, port: 80, protocol: TCP}]\n",
    ));
    f.local_endpoint("EP-LOCAL-2", &[remote_ip]);
    let local2 = f.local["EP-LOCAL-2"].clone();
    let all = [
        slices[0].clone(),
        slices[1].clone(),
        slice("svc3", &[(remote_ip, NODE)]),
    ];
    f.sync(&mut p, &svcs, &all);
    (f, p, remote, local2, svcs)
}

const SVC3: &str = "ns1/svc3:p80/TCP";

#[test]
fn test_remote_endpoint_delete_does_not_affect_local_endpoint_with_same_ip() {
    let (mut f, mut p, remote, local2, svcs) = local_endpoint_takes_remote_ip(Profile::Latest);
    assert_eq!(
        p.ref_count(&remote),
        2,
        "svc1 and svc2 still count the remote endpoint"
    );
    assert_eq!(
        p.endpoint_ids(SVC3),
        std::slice::from_ref(&local2),
        "svc3 uses the local endpoint"
    );
    // kubernetes/kubernetes#138000: the inventory deleted the stale remote endpoint.
    assert!(!f.exists(ObjectKind::Endpoint, &remote));
    // svc1's and svc2's endpoints go away; svc3's local endpoint stays.
    f.sync(&mut p, &svcs, &[slice("svc3", &[("192.168.2.3", NODE)])]);
    assert!(p.endpoint_ids(SVC1).is_empty() && p.endpoint_ids("ns1/svc2:p80/TCP").is_empty());
    assert_eq!(p.endpoint_ids(SVC3), std::slice::from_ref(&local2));
    assert!(
        f.exists(ObjectKind::Endpoint, &local2),
        "the local endpoint at 192.168.2.3 survives"
    );
}

/// Before #138000 (profile 1.31) the stale remote endpoint keeps the IP: svc3 counts it too
/// (kubernetes/kubernetes#130963), and it outlives svc1 and svc2.
#[test]
fn test_local_endpoint_with_a_remote_ip_before_138000() {
    let (mut f, mut p, remote, local2, svcs) = local_endpoint_takes_remote_ip(Profile::V1_31);
    assert_eq!(p.ref_count(&remote), 3, "svc3 counts the stale remote endpoint");
    assert_eq!(
        p.endpoint_ids(SVC3),
        std::slice::from_ref(&remote),
        "svc3 resolves to the remote endpoint"
    );
    f.sync(&mut p, &svcs, &[slice("svc3", &[("192.168.2.3", NODE)])]);
    assert_eq!(p.ref_count(&remote), 1);
    assert!(
        f.exists(ObjectKind::Endpoint, &remote),
        "still referenced by svc3"
    );
    assert!(f.exists(ObjectKind::Endpoint, &local2));
}

/// kubernetes/kubernetes#135146 (the fix of #135144): when two Services drop different remote
/// endpoints in one sync, both become unreferenced and are deleted; 1.31 cleared the set of
/// terminated endpoints on each Service's change, so the first Service's stays (stale).
fn two_services_drop_remotes_in_one_sync(profile: Profile) -> (bool, bool) {
    let mut f = Fake::new(false);
    let mut cfg = f.cfg(false, false);
    cfg.profile = profile;
    let mut p = f.start(cfg);
    let svcs = [
        nodeport_svc_on("svc1", "10.20.30.41", 3001),
        nodeport_svc_on("svc2", "10.20.30.42", 3002),
    ];
    let (x, y, z) = ("192.168.2.3", "192.168.2.4", "192.168.2.5");
    f.sync(
        &mut p,
        &svcs,
        &[slice("svc1", &[(x, "")]), slice("svc2", &[(y, "")])],
    );
    let (ex, ey) = (f.epid(1), f.epid(2));
    f.sync(
        &mut p,
        &svcs,
        &[slice("svc1", &[(z, "")]), slice("svc2", &[(z, "")])],
    );
    (
        f.exists(ObjectKind::Endpoint, &ex),
        f.exists(ObjectKind::Endpoint, &ey),
    )
}

#[test]
fn terminated_remote_endpoints_of_several_services_are_all_deleted() {
    assert_eq!(
        two_services_drop_remotes_in_one_sync(Profile::Latest),
        (false, false)
    );
    assert_eq!(
        two_services_drop_remotes_in_one_sync(Profile::V1_31),
        (true, false),
        "1.31 leaves svc1's dropped remote endpoint behind"
    );
}
