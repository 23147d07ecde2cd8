//! Network types beyond the reference scenarios: L2Tunnel (everything through the host), the
//! overlay `HostRoute` policy, and ICS / Internal / Private (no external path).

use hnsim_sim::testkit::{ctr, Lab};
use hnsim_sim::{Disposition, Place, L4};
use serde_json::{json, Value};

fn net(kind: &str, prefix: &str, gw: &str, extra: Value) -> Value {
    let mut n = json!({"Name": kind.to_lowercase(), "Type": kind, "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
        "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}]});
    if let (Value::Object(m), Value::Object(e)) = (&mut n, extra) {
        m.extend(e);
    }
    n
}

fn two_pods(lab: &mut Lab, kind: &str, extra: Value) {
    let n = lab.network("node1", net(kind, "172.30.0.0/24", "172.30.0.1", extra));
    let ep = |name: &str, ip: &str, m: &str| {
        json!({"Name": name, "IpConfigurations": [{"IpAddress": ip}], "MacAddress": m,
            "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]})
    };
    let a = lab.endpoint("node1", n, ep("A", "172.30.0.10", "00-15-5D-1E-00-0A"));
    let b = lab.endpoint("node1", n, ep("B", "172.30.0.11", "00-15-5D-1E-00-0B"));
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.listen(ctr("A"), L4::Tcp, 80);
    lab.listen(ctr("B"), L4::Tcp, 80);
    lab.listen(Place::Host("node1".into()), L4::Tcp, 22);
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
}

#[test]
fn l2tunnel_sends_same_host_traffic_through_the_host() {
    let mut lab = Lab::common(1);
    two_pods(&mut lab, "L2Tunnel", json!({}));
    let x = lab.tcp(ctr("A"), "172.30.0.11", 80);
    assert!(x.completed(), "{x}");
    assert!(x.request.hops.iter().any(|h| h.port == "host stack"), "{x}");
}

#[test]
fn l2bridge_bridges_same_host_traffic() {
    let mut lab = Lab::common(2);
    two_pods(&mut lab, "L2Bridge", json!({}));
    let x = lab.tcp(ctr("A"), "172.30.0.11", 80);
    assert!(x.completed(), "{x}");
    assert!(!x.request.hops.iter().any(|h| h.port == "host stack"), "{x}");
}

#[test]
fn overlay_host_route_policy_lets_the_host_reach_its_pods() {
    let vsid = json!({"Type": "VSID", "Settings": {"IsolationId": 4096}});
    let overlay = |lab: &mut Lab, host_route: bool| {
        let mut extra = json!({});
        if host_route {
            extra = json!({"Policies": [{"Type": "HostRoute"}]});
        }
        let mut n = net("Overlay", "172.30.0.0/24", "172.30.0.1", extra);
        n["Ipams"][0]["Subnets"][0]["Policies"] = json!([vsid.clone()]);
        let id = lab.network("node1", n);
        let a = lab.endpoint("node1", id, json!({"Name": "A", "IpConfigurations": [{"IpAddress": "172.30.0.10"}], "MacAddress": "0E-2A-AC-1E-00-0A"}));
        lab.container("node1", "A", &[a]);
        lab.listen(ctr("A"), L4::Tcp, 80);
    };
    let mut with = Lab::common(3);
    overlay(&mut with, true);
    assert!(with
        .tcp(Place::Host("node1".into()), "172.30.0.10", 80)
        .completed());
    let mut without = Lab::common(3);
    overlay(&mut without, false);
    let x = without.tcp(Place::Host("node1".into()), "172.30.0.10", 80);
    assert!(!x.request.disposition.is_delivered(), "{x}");
}

#[test]
fn ics_shares_the_connection_internal_reaches_the_host_only_private_neither() {
    for (kind, egress) in [("ICS", true), ("Internal", false)] {
        let mut lab = Lab::common(4);
        two_pods(&mut lab, kind, json!({}));
        assert!(
            lab.tcp(ctr("A"), "172.30.0.11", 80).completed(),
            "{kind}: same switch"
        );
        let x = lab.tcp(ctr("A"), "172.30.0.1", 22);
        assert!(x.completed(), "{kind}: host vNIC at the gateway: {x}");
        let x = lab.tcp(ctr("A"), "203.0.113.50", 443);
        if egress {
            assert!(x.completed(), "{kind}: {x}");
            assert_eq!(
                x.request.seen.unwrap().src,
                "10.0.0.11".parse::<std::net::IpAddr>().unwrap()
            );
        } else {
            assert!(
                matches!(x.request.disposition, Disposition::NoRoute { .. }),
                "{kind}: {x}"
            );
        }
    }
    let mut lab = Lab::common(4);
    lab.host_settings("node1", |d| d.ics_shares_connection = false);
    two_pods(&mut lab, "ICS", json!({}));
    let x = lab.tcp(ctr("A"), "203.0.113.50", 443);
    assert!(
        matches!(x.request.disposition, Disposition::NoRoute { .. }),
        "ICS without sharing: {x}"
    );
    let mut lab = Lab::common(5);
    two_pods(&mut lab, "Private", json!({}));
    assert!(lab.tcp(ctr("A"), "172.30.0.11", 80).completed());
    let x = lab.tcp(ctr("A"), "172.30.0.1", 22);
    assert!(
        !x.request.disposition.is_delivered(),
        "Private has no host vNIC: {x}"
    );
}

#[test]
fn vxlan_port_policy_moves_the_udp_port() {
    let build = |port2: Option<u16>| {
        let mut lab = Lab::common(6);
        let mk = |prefix: &str, gw: &str, port: Option<u16>| {
            let mut policies = vec![];
            if let Some(p) = port {
                policies.push(json!({"Type": "VxlanPort", "Settings": {"Port": p}}));
            }
            let mut n = net("Overlay", prefix, gw, json!({"Policies": policies}));
            n["Ipams"][0]["Subnets"][0]["Policies"] =
                json!([{"Type": "VSID", "Settings": {"IsolationId": 4096}}]);
            n
        };
        let n1 = lab.network("node1", mk("10.244.1.0/24", "10.244.1.1", Some(4790)));
        let n2 = lab.network("node2", mk("10.244.2.0/24", "10.244.2.1", port2));
        lab.network_policy("node1", n1, json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.2.0/24",
            "IsolationId": 4096, "ProviderAddress": "10.0.0.12", "DistributedRouterMacAddress": "00-15-5D-AA-00-12"}}));
        lab.network_policy("node2", n2, json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.1.0/24",
            "IsolationId": 4096, "ProviderAddress": "10.0.0.11", "DistributedRouterMacAddress": "00-15-5D-AA-00-11"}}));
        let a = lab.endpoint(
            "node1",
            n1,
            json!({"IpConfigurations": [{"IpAddress": "10.244.1.10"}], "MacAddress": "0E-2A-0a-f4-01-0a"}),
        );
        let c = lab.endpoint(
            "node2",
            n2,
            json!({"IpConfigurations": [{"IpAddress": "10.244.2.10"}], "MacAddress": "0E-2A-0a-f4-02-0a"}),
        );
        lab.container("node1", "A", &[a]);
        lab.container("node2", "C", &[c]);
        lab.listen(ctr("C"), L4::Tcp, 80);
        lab
    };
    let mut same = build(Some(4790));
    let x = same.tcp(ctr("A"), "10.244.2.10", 80);
    assert!(x.completed(), "{x}");
    assert!(x
        .request
        .steps()
        .any(|s| matches!(s, hnsim_sim::Step::Encap { udp_port: 4790, .. })));
    let mut mismatch = build(None);
    let x = mismatch.tcp(ctr("A"), "10.244.2.10", 80);
    assert!(
        matches!(&x.request.disposition, Disposition::NoListener { node, .. } if node == "node2"),
        "{x}"
    );
}
