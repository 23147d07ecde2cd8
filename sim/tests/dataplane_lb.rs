//! Load-balancer and port-mapping flags: PreserveDIP, ILB, the PortMapping LocalRoutedVip flag,
//! UDP services, DistributionType 1.

use hnsim_sim::testkit::{ctr, ip, std_outbound_nat, Lab};
use hnsim_sim::{Disposition, Place, L4};
use serde_json::json;
use std::net::IpAddr;

fn a(s: &str) -> IpAddr {
    ip(s).into()
}

/// node1: L2Bridge with a host gateway endpoint, pods A and B.
fn lab(seed: u64, a_policies: serde_json::Value) -> (Lab, hnsim_model::Guid, hnsim_model::Guid) {
    let mut lab = Lab::common(seed);
    let n = lab.network(
        "node1",
        json!({"Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
            "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let gw = lab.endpoint(
        "node1",
        n,
        json!({"IpConfigurations": [{"IpAddress": "10.244.1.2"}]}),
    );
    lab.host_attach("node1", &[gw]);
    let mut pa = vec![std_outbound_nat()];
    pa.extend(a_policies.as_array().cloned().unwrap_or_default());
    let ep_a = lab.endpoint("node1", n, json!({"Name": "A", "IpConfigurations": [{"IpAddress": "10.244.1.10"}],
        "MacAddress": "00-15-5D-01-01-0A", "Routes": [{"NextHop": "10.244.1.2", "DestinationPrefix": "0.0.0.0/0"}], "Policies": pa}));
    let ep_b = lab.endpoint("node1", n, json!({"Name": "B", "IpConfigurations": [{"IpAddress": "10.244.1.11"}],
        "MacAddress": "00-15-5D-01-01-0B", "Routes": [{"NextHop": "10.244.1.2", "DestinationPrefix": "0.0.0.0/0"}], "Policies": [std_outbound_nat()]}));
    lab.container("node1", "A", &[ep_a]);
    lab.container("node1", "B", &[ep_b]);
    lab.listen(ctr("A"), L4::Tcp, 8080);
    lab.listen(ctr("A"), L4::Udp, 53);
    (lab, ep_a, ep_b)
}

#[test]
fn preserve_dip_delivers_with_the_vip_as_destination() {
    let (mut lab, ep_a, _) = lab(1, json!([]));
    lab.lb(
        "node1",
        &[ep_a],
        json!({"FrontendVIPs": ["10.0.0.201"], "Flags": 1,
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80, "Flags": 28}]}),
    );
    lab.w
        .add_router_route("r1", "10.0.0.201/32".parse().unwrap(), ip("10.0.0.11"))
        .unwrap();
    let x = lab.send(
        Place::Station("inet".into()),
        "10.0.0.201",
        L4::Tcp,
        80,
        Some(40000),
    );
    assert!(x.completed(), "{x}");
    let s = x.request.seen.unwrap();
    assert_eq!(
        (s.src, s.dst, s.dst_port),
        (a("203.0.113.50"), a("10.0.0.201"), 8080)
    );
    let r = x.reply.unwrap().seen.unwrap();
    assert_eq!((r.src, r.src_port), (a("10.0.0.201"), 80));
}

#[test]
fn ilb_serves_containers_only() {
    let (mut lab, ep_a, _) = lab(2, json!([]));
    lab.lb(
        "node1",
        &[ep_a],
        json!({"FrontendVIPs": ["10.0.0.202"], "SourceVIP": "10.244.1.2",
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80, "Flags": 1}]}),
    );
    lab.w
        .add_router_route("r1", "10.0.0.202/32".parse().unwrap(), ip("10.0.0.11"))
        .unwrap();
    assert!(lab.tcp(ctr("B"), "10.0.0.202", 80).completed());
    let x = lab.tcp(Place::Station("inet".into()), "10.0.0.202", 80);
    assert!(
        !x.request.disposition.is_delivered(),
        "an ILB is not reachable from outside: {x}"
    );
}

#[test]
fn port_mapping_local_routed_vip_flag() {
    let pm = |flags: u32| json!([{"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 8080, "ExternalPort": 18080, "Flags": flags}}]);
    // Without the flag the node cannot reach its own pod's hostPort (Azure CNI #1863) …
    let (mut lab1, _, _) = lab(3, pm(0));
    let x = lab1.tcp(Place::Host("node1".into()), "10.0.0.11", 18080);
    assert!(
        matches!(x.request.disposition, Disposition::NoListener { .. }),
        "{x}"
    );
    // … but a client can.
    assert!(lab1
        .tcp(Place::Station("client".into()), "10.0.0.11", 18080)
        .completed());
    // With LocalRoutedVip (1) the host reaches it too.
    let (mut lab2, _, _) = lab(3, pm(1));
    let x = lab2.tcp(Place::Host("node1".into()), "10.0.0.11", 18080);
    assert!(x.completed(), "{x}");
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"));
}

#[test]
fn udp_service_and_source_ip_protocol_distribution() {
    let (mut lab, ep_a, ep_b) = lab(4, json!([]));
    lab.listen(ctr("B"), L4::Udp, 53);
    lab.lb(
        "node1",
        &[ep_a, ep_b],
        json!({"FrontendVIPs": ["10.96.0.10"],
        "PortMappings": [{"Protocol": 17, "InternalPort": 53, "ExternalPort": 53, "DistributionType": 1}]}),
    );
    let mut hit = std::collections::BTreeSet::new();
    for i in 0..8u16 {
        let x = lab.send(
            Place::Host("node1".into()),
            "10.96.0.10",
            L4::Udp,
            53,
            Some(5000 + i),
        );
        // The host reaches a ClusterIP only with LocalRoutedVIP: not set here.
        assert!(!x.request.disposition.is_delivered(), "{x}");
        let x = lab.send(
            Place::Station("client".into()),
            "10.0.0.11",
            L4::Udp,
            53,
            Some(5000 + i),
        );
        assert!(!x.request.disposition.is_delivered(), "no NodePort for 53: {x}");
        let x = lab.send(ctr("B"), "10.96.0.10", L4::Udp, 53, Some(5000 + i));
        assert!(x.completed(), "{x}");
        hit.insert(x.request.delivered_to.clone());
    }
    assert_eq!(hit.len(), 1, "SourceIPProtocol: one client, one backend");
}
