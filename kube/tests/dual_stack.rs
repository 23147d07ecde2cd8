//! A dual-stack win-bridge node with its Service's backends given as a legacy `Endpoints`
//! object: kube-proxy runs one proxier per family (docs/reference/kubernetes.md §2.1) and each
//! programs its family's ClusterIP LB from the mirrored EndpointSlices.

mod common;

use hnsim_k8s::proxy::lb::LbKind;
use hnsim_model::backend::ObjectKind;
use hnsim_model::HnsBackend;
use serde_json::Value as Json;

const CLUSTER: &str = r#"
apiVersion: hnsim/v1
kind: Cluster
spec:
  network-plugin: win-bridge
  cluster-cidr: [10.244.0.0/16, "fd00:10:244::/56"]
  service-cidr: [10.96.0.0/12, "fd00:10:96::/112"]
  nodes:
    win1: {mac: 00-15-5D-00-00-11}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: win1, labels: {kubernetes.io/os: windows}}
  spec: {podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]}
  status: {addresses: [{type: InternalIP, address: 10.0.0.11}, {type: InternalIP, address: "fd00::11"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-a, namespace: default}
  spec: {nodeName: win1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
  status: {podIPs: [{ip: 10.244.1.10}, {ip: "fd00:10:244:1::a"}]}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: default}
  spec:
    clusterIP: 10.96.0.50
    clusterIPs: [10.96.0.50, "fd00:10:96::50"]
    ipFamilies: [IPv4, IPv6]
    ports: [{name: http, port: 80, targetPort: 8080}]
- apiVersion: v1
  kind: Endpoints
  metadata: {name: web, namespace: default}
  subsets:
  - addresses: [{ip: 10.244.1.10, nodeName: win1}, {ip: "fd00:10:244:1::a", nodeName: win1}]
    ports: [{name: http, port: 8080}]
"#;

#[test]
fn a_dual_stack_node_programs_one_clusterip_lb_per_family_from_legacy_endpoints() {
    let cluster = common::cluster(CLUSTER);
    let mut r = hnsim_k8s::render(&cluster, 1);
    let a = &r.agents.nodes["win1"];
    assert!(
        a.proxy_error.is_none() && a.errors.is_empty(),
        "{:?} {:?}",
        a.proxy_error,
        a.errors
    );
    assert_eq!(a.proxiers.len(), 2, "one proxier per family");
    let mut vips = Vec::new();
    let ids: Vec<String> = a
        .proxiers
        .iter()
        .flat_map(|p| p.load_balancers())
        .map(|(port, kind, id)| {
            assert_eq!((port.as_str(), kind), ("default/web:http/TCP", LbKind::ClusterIp));
            id
        })
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let pod_ep = a.pods["default/web-a"].endpoint_id.clone();
    let hns = r.hosts.get_mut("win1").expect("host");
    let q = r#"{"SchemaVersion":{"Major":2,"Minor":0}}"#;
    let ep: Json =
        serde_json::from_str(&hns.query(ObjectKind::Endpoint, &pod_ep, q).expect("pod endpoint")).unwrap();
    assert_eq!(
        hnsim_k8s::hcn::endpoint_ips(&ep),
        ["10.244.1.10", "fd00:10:244:1::a"],
        "the CNI gives a dual-stack pod both addresses"
    );
    for id in ids {
        let lb: Json =
            serde_json::from_str(&hns.query(ObjectKind::LoadBalancer, &id, q).expect("LB exists")).unwrap();
        assert_eq!(lb["PortMappings"][0]["InternalPort"], 8080);
        assert_eq!(lb["HostComputeEndpoints"].as_array().map(Vec::len), Some(1));
        vips.push(lb["FrontendVIPs"][0].as_str().unwrap_or_default().to_string());
    }
    vips.sort();
    assert_eq!(vips, ["10.96.0.50", "fd00:10:96::50"]);
}
