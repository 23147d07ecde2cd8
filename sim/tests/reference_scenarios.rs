//! consumers.md §7 reference scenarios S1–S15, built through the World API with the HCN JSON
//! documents kube-proxy, flannel, the CNI plugins and Docker send. Outcomes the reference marks
//! as inferred are commented as such.

use hnsim_model::Guid;
use hnsim_sim::testkit::{ctr, ip, mac, std_outbound_nat, Lab};
use hnsim_sim::{Disposition, Exchange, Place, Step, L4};
use serde_json::{json, Value};
use std::net::IpAddr;

fn a(s: &str) -> IpAddr {
    IpAddr::V4(ip(s))
}

fn seen(x: &Exchange) -> (IpAddr, u16, IpAddr, u16) {
    let s = x.request.seen.expect("request was delivered");
    (s.src, s.src_port, s.dst, s.dst_port)
}

fn reply_seen(x: &Exchange) -> (IpAddr, u16, IpAddr, u16) {
    let r = x.reply.as_ref().expect("a reply");
    let s = r.seen.expect("reply was delivered");
    (s.src, s.src_port, s.dst, s.dst_port)
}

fn assert_completed(x: &Exchange) {
    assert!(x.completed(), "exchange did not complete:\n{x}");
}

fn l2bridge_net(prefix: &str, gw: &str) -> Value {
    json!({"Name": "cbr0", "Type": "L2Bridge", "SchemaVersion": {"Major": 2, "Minor": 0},
        "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
            "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}]})
}

/// A win-bridge pod endpoint (gateway subnet+2, standard OutBoundNAT, SDNRoutes), consumers.md §3.2.
fn bridge_pod(name: &str, addr: &str, m: &str, gw: &str, node_ip: &str, extra: &[Value]) -> Value {
    let mut policies = vec![
        std_outbound_nat(),
        json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": true}}),
        json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": format!("{node_ip}/32"), "NeedEncap": true}}),
    ];
    policies.extend(extra.iter().cloned());
    json!({"Name": name, "IpConfigurations": [{"IpAddress": addr}], "MacAddress": m,
        "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}], "Policies": policies})
}

struct Bridge {
    lab: Lab,
    net1: Guid,
    a: Guid,
    b: Guid,
    c: Guid,
    /// kube-proxy's remote endpoint for C on node1 (MAC 02-11-<ip hex>, Flags 1, no PA on L2Bridge).
    c_remote: Guid,
}

/// S1 objects: flannel host-gw / L2Bridge on node1 and node2, pods A, B (node1) and C (node2).
fn bridge(seed: u64, pod_extra: &[Value]) -> Bridge {
    let mut lab = Lab::common(seed);
    // flannel host-gw OS routes (consumers.md §2.2) replace the plain hosts of Lab::common.
    lab.w.host_mut_routes("node1", &[("10.244.2.0/24", "10.0.0.12")]);
    lab.w.host_mut_routes("node2", &[("10.244.1.0/24", "10.0.0.11")]);
    let net1 = lab.network("node1", l2bridge_net("10.244.1.0/24", "10.244.1.1"));
    let net2 = lab.network("node2", l2bridge_net("10.244.2.0/24", "10.244.2.1"));
    let ep1 = lab.endpoint(
        "node1",
        net1,
        json!({"Name": "cbr0_ep", "IpConfigurations": [{"IpAddress": "10.244.1.2"}]}),
    );
    lab.host_attach("node1", &[ep1]);
    let ep2 = lab.endpoint(
        "node2",
        net2,
        json!({"Name": "cbr0_ep", "IpConfigurations": [{"IpAddress": "10.244.2.2"}]}),
    );
    lab.host_attach("node2", &[ep2]);
    let a = lab.endpoint(
        "node1",
        net1,
        bridge_pod(
            "A",
            "10.244.1.10",
            "00-15-5D-01-01-0A",
            "10.244.1.2",
            "10.0.0.11",
            pod_extra,
        ),
    );
    let b = lab.endpoint(
        "node1",
        net1,
        bridge_pod(
            "B",
            "10.244.1.11",
            "00-15-5D-01-01-0B",
            "10.244.1.2",
            "10.0.0.11",
            pod_extra,
        ),
    );
    let c = lab.endpoint(
        "node2",
        net2,
        bridge_pod(
            "C",
            "10.244.2.10",
            "00-15-5D-01-02-0A",
            "10.244.2.2",
            "10.0.0.12",
            pod_extra,
        ),
    );
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.container("node2", "C", &[c]);
    let c_remote = lab.endpoint(
        "node1",
        net1,
        json!({"IpConfigurations": [{"IpAddress": "10.244.2.10"}], "MacAddress": "02-11-0a-f4-02-0a", "Flags": 1}),
    );
    Bridge {
        lab,
        net1,
        a,
        b,
        c,
        c_remote,
    }
}

trait HostRoutes {
    fn host_mut_routes(&mut self, host: &str, routes: &[(&str, &str)]);
}

impl HostRoutes for hnsim_sim::World {
    fn host_mut_routes(&mut self, host: &str, routes: &[(&str, &str)]) {
        let r: Vec<_> = routes
            .iter()
            .map(|(p, nh)| (p.parse().unwrap(), ip(nh)))
            .collect();
        self.set_host_routes(host, r).unwrap();
    }
}

#[test]
fn s1_l2bridge_pod_to_pod_same_and_cross_node() {
    let mut s = bridge(1, &[]);
    s.lab.listen(ctr("B"), L4::Tcp, 80);
    s.lab.listen(ctr("C"), L4::Tcp, 80);
    // 1. A → B: bridged inside node1's vSwitch, no NAT, no encap.
    let x = s.lab.tcp(ctr("A"), "10.244.1.11", 80);
    assert_completed(&x);
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:B"));
    assert_eq!(seen(&x).0, a("10.244.1.10"));
    assert!(x.request.hops.iter().all(|h| h.node == "node1"));
    assert!(!x
        .request
        .steps()
        .any(|s| matches!(s, Step::Encap { .. } | Step::Transform { .. })));
    // 2. A → C: exception → no SNAT; leaves node1 with the host MAC toward 10.0.0.12's MAC
    //    (inferred path; outcome per docs "no NAT inside the cluster").
    let x = s.lab.tcp(ctr("A"), "10.244.2.10", 80);
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("10.244.1.10"));
    let rewrite = x
        .request
        .steps()
        .find_map(|s| match s {
            Step::Transform { layer, after, .. } if layer == "VNET" => Some(*after),
            _ => None,
        })
        .expect("L2Bridge MAC rewrite");
    assert_eq!(rewrite.src_mac, mac("00-15-5D-00-00-11"));
    assert_eq!(rewrite.dst_mac, mac("00-15-5D-00-00-12"));
    assert_eq!(rewrite.src, a("10.244.1.10"));
    // 3. C replies: symmetric path, A sees C's address.
    assert_eq!(reply_seen(&x).0, a("10.244.2.10"));
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    let x = s.lab.tcp(ctr("C"), "10.244.1.10", 8080);
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("10.244.2.10"));
    let _ = (s.a, s.b, s.c, s.c_remote, s.net1);
}

#[test]
fn s2_l2bridge_egress_snat_icmp_exceptions_exhaustion() {
    let mut s = bridge(2, &[]);
    s.lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    // 1. SNAT to the node IP with a port from a 64-port block; reply un-NATed back to A.
    let x = s.lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(49200));
    assert_completed(&x);
    let (src, sport, _, _) = seen(&x);
    assert_eq!(src, a("10.0.0.11"));
    assert!(
        (49152..49152 + 64).contains(&sport),
        "SNAT port {sport} is from the first block"
    );
    assert_eq!(reply_seen(&x), (a("203.0.113.50"), 443, a("10.244.1.10"), 49200));
    // 2. ICMP needing SNAT is not translated (P5): no reply.
    let x = s.lab.send(ctr("A"), "203.0.113.50", L4::Icmp, 0, None);
    assert!(
        matches!(x.request.disposition, Disposition::Unsupported { .. }),
        "{x}"
    );
    assert!(x.reply.is_none());
    // ICMP inside the cluster (no SNAT) works: pod → pod ping.
    let x = s.lab.send(ctr("A"), "10.244.2.10", L4::Icmp, 0, None);
    assert_completed(&x);
}

#[test]
fn s2_3_exception_too_wide_reply_cannot_return() {
    // Variant: exceptions contain 10.0.0.0/8; A → 10.20.30.40:443 outside the cluster (P4).
    let wide = json!({"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.0.0.0/8"]}});
    let mut lab = Lab::common(3);
    lab.segment("corp", "10.20.30.0/24");
    lab.w
        .add_router_interface("r1", "corp", ip("10.20.30.1"), mac("00-00-5E-00-01-03"))
        .unwrap();
    lab.station(
        "corp-srv",
        "corp",
        "10.20.30.40",
        "02-00-00-20-30-40",
        Some("10.20.30.1"),
    );
    lab.listen(Place::Station("corp-srv".into()), L4::Tcp, 443);
    let net = lab.network("node1", l2bridge_net("10.244.1.0/24", "10.244.1.1"));
    let pod = json!({"Name": "A", "IpConfigurations": [{"IpAddress": "10.244.1.10"}], "MacAddress": "00-15-5D-01-01-0A",
        "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}], "Policies": [wide]});
    let a_ep = lab.endpoint("node1", net, pod);
    lab.container("node1", "A", &[a_ep]);
    let x = lab.tcp(ctr("A"), "10.20.30.40", 443);
    // The request arrives un-SNATed; the server's reply to 10.244.1.10 has no route.
    assert_eq!(x.request.disposition, Disposition::Delivered, "{x}");
    assert_eq!(seen(&x).0, a("10.244.1.10"));
    let reply = x.reply.as_ref().unwrap();
    assert!(matches!(reply.disposition, Disposition::NoRoute { .. }), "{x}");
}

#[test]
fn s2_4_snat_port_exhaustion() {
    let mut s = bridge(4, &[]);
    s.lab.host_settings("node1", |d| d.snat_pool_ports = 64);
    s.lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    for i in 0..64u16 {
        let x = s
            .lab
            .send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(40000 + i));
        assert_completed(&x);
    }
    let x = s.lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(41000));
    assert!(
        matches!(&x.request.disposition, Disposition::SnatPortsExhausted { address, .. } if *address == a("10.0.0.11")),
        "{x}"
    );
}

fn clusterip_lb(extra_flags: u32, vip: &str, ext: u16, int: u16) -> Value {
    json!({"SchemaVersion": {"Major": 2, "Minor": 0}, "SourceVIP": "", "FrontendVIPs": [vip],
        "PortMappings": [{"Protocol": 6, "InternalPort": int, "ExternalPort": ext, "Flags": 0, "DistributionType": 0}],
        "Flags": extra_flags})
}

#[test]
fn s3_clusterip_l2bridge_non_dsr_local_and_remote_backend() {
    let mut s = bridge(5, &[]);
    s.lab.lb(
        "node1",
        &[s.a, s.c_remote],
        clusterip_lb(0, "10.96.0.50", 80, 8080),
    );
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    s.lab.listen(ctr("C"), L4::Tcp, 8080);
    let mut hit = std::collections::BTreeSet::new();
    for i in 0..12u16 {
        let x = s.lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(50000 + i));
        assert_completed(&x);
        let (src, _, dst, dport) = seen(&x);
        // Non-DSR: SNAT to the source VIP, the node IP on these builds (inferred).
        assert_eq!(src, a("10.0.0.11"));
        assert_eq!(dport, 8080);
        hit.insert(dst);
        // B sees the VIP in the reply.
        assert_eq!(reply_seen(&x), (a("10.96.0.50"), 80, a("10.244.1.11"), 50000 + i));
    }
    assert_eq!(hit, [a("10.244.1.10"), a("10.244.2.10")].into_iter().collect());
    // 3. No port mapping for :81 → routed toward the gateway, dropped (inferred).
    let x = s.lab.tcp(ctr("B"), "10.96.0.50", 81);
    assert!(!x.request.disposition.is_delivered(), "{x}");
    assert!(x.reply.is_none());
}

#[test]
fn s3_4_named_target_port_uses_first_endpoint_port() {
    let mut s = bridge(6, &[]);
    // targetPort "http" = A:8080, C:9090; the LB can only say 8080.
    s.lab.lb(
        "node1",
        &[s.a, s.c_remote],
        clusterip_lb(0, "10.96.0.50", 80, 8080),
    );
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    s.lab.listen(ctr("C"), L4::Tcp, 9090);
    let mut refused = 0;
    let mut ok = 0;
    for i in 0..12u16 {
        let x = s.lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(51000 + i));
        match &x.request.disposition {
            Disposition::Delivered => ok += 1,
            Disposition::NoListener { node, .. } => {
                assert_eq!(node, "container:C");
                refused += 1
            }
            d => panic!("unexpected {d}"),
        }
    }
    assert!(ok > 0 && refused > 0, "ok {ok} refused {refused}");
}

#[test]
fn s4_dsr_client_ip_preserved_and_hairpin() {
    let mut s = bridge(7, &[]);
    s.lab
        .lb("node1", &[s.c_remote], clusterip_lb(1, "10.96.0.50", 80, 8080));
    s.lab.listen(ctr("C"), L4::Tcp, 8080);
    // 1. DSR: C sees the client pod IP; the reply is un-DNATed at node1.
    let x = s.lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(50000));
    assert_completed(&x);
    assert_eq!(seen(&x), (a("10.244.1.11"), 50000, a("10.244.2.10"), 8080));
    assert_eq!(reply_seen(&x), (a("10.96.0.50"), 80, a("10.244.1.11"), 50000));
    // 2. Hairpin A → VIP → A without loopback DSR: dropped (P1).
    s.lab.lb("node1", &[s.a], clusterip_lb(1, "10.96.0.60", 80, 8080));
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    let x = s.lab.tcp(ctr("A"), "10.96.0.60", 80);
    assert!(
        matches!(x.request.disposition, Disposition::Unsupported { .. }),
        "{x}"
    );
}

#[test]
fn s4_2_hairpin_with_loopback_dsr_is_snated_and_delivered() {
    let loopback = json!({"Type": "OutBoundNAT", "Settings": {"Destinations": ["10.244.1.10"]}});
    let mut s = bridge(8, &[loopback]);
    s.lab.lb("node1", &[s.a], clusterip_lb(1, "10.96.0.60", 80, 8080));
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    let x = s.lab.send(ctr("A"), "10.96.0.60", L4::Tcp, 80, Some(50500));
    assert_completed(&x);
    // SNAT address not stated by the sources; the node IP is the natural choice (inferred).
    assert_eq!(seen(&x).0, a("10.0.0.11"));
    assert_eq!(seen(&x).2, a("10.244.1.10"));
    assert_eq!(reply_seen(&x), (a("10.96.0.60"), 80, a("10.244.1.10"), 50500));
}

fn nodeport_lb(flags: u32, lb_flags: u32, ext: u16) -> Value {
    json!({"SchemaVersion": {"Major": 2, "Minor": 0}, "FrontendVIPs": [],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": ext, "Flags": flags}], "Flags": lb_flags})
}

#[test]
fn s5_nodeport_and_external_ip_etp_cluster() {
    let mut s = bridge(9, &[]);
    s.lab.lb("node1", &[s.a, s.c_remote], nodeport_lb(18, 0, 30080));
    s.lab.lb(
        "node1",
        &[s.a, s.c_remote],
        json!({"FrontendVIPs": ["10.0.0.200"], "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80, "Flags": 16}]}),
    );
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    s.lab.listen(ctr("C"), L4::Tcp, 8080);
    let mut hit = std::collections::BTreeSet::new();
    for i in 0..10u16 {
        let x = s.lab.send(
            Place::Station("client".into()),
            "10.0.0.11",
            L4::Tcp,
            30080,
            Some(40000 + i),
        );
        assert_completed(&x);
        // SNAT to node1 (inferred: client-IP preservation needs ETP=Local + DSR).
        assert_eq!(seen(&x).0, a("10.0.0.11"));
        hit.insert(seen(&x).2);
        assert_eq!(reply_seen(&x), (a("10.0.0.11"), 30080, a("10.0.0.50"), 40000 + i));
    }
    assert_eq!(hit.len(), 2);
    // 2. ExternalIP routed by the upstream router to node1.
    s.lab.segment("ext", "192.168.50.0/24");
    s.lab
        .w
        .add_router_interface("r1", "ext", ip("192.168.50.1"), mac("00-00-5E-00-01-04"))
        .unwrap();
    s.lab
        .w
        .add_router_route("r1", "10.0.0.200/32".parse().unwrap(), ip("10.0.0.11"))
        .unwrap();
    s.lab.station(
        "ext-client",
        "ext",
        "192.168.50.10",
        "02-00-00-50-00-10",
        Some("192.168.50.1"),
    );
    let x = s.lab.send(
        Place::Station("ext-client".into()),
        "10.0.0.200",
        L4::Tcp,
        80,
        Some(41000),
    );
    assert_completed(&x);
    assert_eq!(reply_seen(&x), (a("10.0.0.200"), 80, a("192.168.50.10"), 41000));
}

#[test]
fn s5_nodeport_etp_local_dsr_and_host_access() {
    let mut s = bridge(10, &[]);
    s.lab.lb("node1", &[s.a], nodeport_lb(18, 1, 30080));
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    // 3. ETP=Local + DSR: source 10.0.0.50 preserved, reply goes straight out.
    let x = s.lab.send(
        Place::Station("client".into()),
        "10.0.0.11",
        L4::Tcp,
        30080,
        Some(42000),
    );
    assert_completed(&x);
    assert_eq!(seen(&x), (a("10.0.0.50"), 42000, a("10.244.1.10"), 8080));
    assert_eq!(reply_seen(&x), (a("10.0.0.11"), 30080, a("10.0.0.50"), 42000));
    // 4. node2 has no NodePort LB (no local backend): refused.
    let x = s.lab.tcp(Place::Station("client".into()), "10.0.0.12", 30080);
    assert!(
        matches!(&x.request.disposition, Disposition::NoListener { node, .. } if node == "host:node2"),
        "{x}"
    );
    // 5. Host process on node1 → own NodePort: works with LocalRoutedVIP (flag 2 in 18) …
    let x = s.lab.tcp(Place::Host("node1".into()), "10.0.0.11", 30080);
    assert_completed(&x);
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"));
    // … and fails without it (P2): flags 16 only.
    let mut s = bridge(11, &[]);
    s.lab.lb("node1", &[s.a], nodeport_lb(16, 1, 30080));
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    let x = s.lab.tcp(Place::Host("node1".into()), "10.0.0.11", 30080);
    assert!(!x.request.disposition.is_delivered(), "{x}");
}

#[test]
fn s6_endpoint_lifecycle_terminating_and_none() {
    let mut s = bridge(12, &[]);
    s.lab.listen(ctr("C"), L4::Tcp, 8080);
    // 2. A deleted, C terminating+serving: ClusterIP and ingress LBs with [C]; no NodePort LB.
    s.lab.delete_endpoint("node1", s.a);
    let cip = s
        .lab
        .lb("node1", &[s.c_remote], clusterip_lb(0, "10.96.0.50", 80, 8080));
    s.lab.lb(
        "node1",
        &[s.c_remote],
        json!({"FrontendVIPs": ["20.1.1.1"], "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80, "Flags": 16}]}),
    );
    s.lab
        .w
        .add_router_route("r1", "20.1.1.1/32".parse().unwrap(), ip("10.0.0.11"))
        .unwrap();
    let x = s.lab.tcp(Place::Station("inet".into()), "20.1.1.1", 80);
    assert_completed(&x);
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:C"));
    let x = s.lab.tcp(Place::Station("client".into()), "10.0.0.11", 30080);
    assert!(
        matches!(x.request.disposition, Disposition::NoListener { .. }),
        "{x}"
    );
    // 3. No endpoints: the LB is deleted → B → VIP is not load-balanced → not delivered.
    s.lab.delete_lb("node1", cip);
    let x = s.lab.tcp(ctr("B"), "10.96.0.50", 80);
    assert!(!x.request.disposition.is_delivered(), "{x}");
    assert!(x.reply.is_none());
}

#[test]
fn s7_session_affinity() {
    let lb = |dist: u32| json!({"FrontendVIPs": ["10.96.0.50"], "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80, "DistributionType": dist}]});
    let backends_hit = |dist: u32, affinity: bool| {
        let mut s = bridge(13, &[]);
        s.lab.host_settings("node1", |d| d.session_affinity = affinity);
        s.lab.lb("node1", &[s.a, s.c_remote], lb(dist));
        s.lab.listen(ctr("A"), L4::Tcp, 8080);
        s.lab.listen(ctr("C"), L4::Tcp, 8080);
        let mut hit = std::collections::BTreeSet::new();
        for i in 0..10u16 {
            let x = s.lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(52000 + i));
            assert_completed(&x);
            hit.insert(seen(&x).2);
        }
        hit.len()
    };
    assert_eq!(backends_hit(2, true), 1, "ClientIP affinity: one backend");
    assert_eq!(
        backends_hit(0, true),
        2,
        "DistributionType 0: balanced per connection"
    );
    assert_eq!(
        backends_hit(2, false),
        2,
        "host without affinity support: no stickiness"
    );
}

/// The l2bridge dual-stack template's ACL ladder (consumers.md S13).
fn s13_lab(seed: u64) -> Lab {
    let mut lab = Lab::new(seed);
    lab.segment("infra", "10.127.130.0/24");
    lab.segment("internet", "203.0.113.0/24");
    lab.segment("pods", "192.168.0.0/24");
    lab.w
        .add_router(hnsim_sim::RouterSpec {
            name: "r1".into(),
            interfaces: vec![
                hnsim_sim::RouterInterface {
                    segment: "infra".into(),
                    ip: ip("10.127.130.1"),
                    mac: mac("00-00-5E-00-02-01"),
                },
                hnsim_sim::RouterInterface {
                    segment: "internet".into(),
                    ip: ip("203.0.113.1"),
                    mac: mac("00-00-5E-00-02-02"),
                },
                hnsim_sim::RouterInterface {
                    segment: "pods".into(),
                    ip: ip("192.168.0.1"),
                    mac: mac("00-00-5E-00-02-03"),
                },
            ],
            default_route: None,
            routes: vec![],
        })
        .unwrap();
    lab.host("node", "infra", "10.127.130.7", "00-15-5D-7F-82-07", &[]);
    lab.station(
        "peer",
        "infra",
        "10.127.130.9",
        "02-00-00-7F-82-09",
        Some("10.127.130.7"),
    );
    lab.station(
        "inet",
        "internet",
        "203.0.113.50",
        "02-00-00-00-71-50",
        Some("203.0.113.1"),
    );
    lab.station(
        "pod0",
        "pods",
        "192.168.0.30",
        "02-00-00-A8-00-1E",
        Some("192.168.0.1"),
    );
    let net = lab.network(
        "node",
        json!({"Name": "winl2bridge", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "192.168.1.0/24",
            "Routes": [{"NextHop": "192.168.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    // sdnbridge's host gateway endpoint (subnet .2) hot-attached to the host (consumers.md §3.1).
    let gw = lab.endpoint(
        "node",
        net,
        json!({"Name": "GwEp", "IpConfigurations": [{"IpAddress": "192.168.1.2"}]}),
    );
    lab.host_attach("node", &[gw]);
    let acl = |action: &str, dir: &str, prio: u16, extra: Value| {
        let mut s = json!({"Action": action, "Direction": dir, "Priority": prio, "RuleType": "Switch"});
        if let (Value::Object(m), Value::Object(e)) = (&mut s, extra) {
            m.extend(e);
        }
        json!({"Type": "ACL", "Settings": s})
    };
    let p = lab.endpoint(
        "node",
        net,
        json!({"Name": "P", "IpConfigurations": [{"IpAddress": "192.168.1.20"}], "MacAddress": "00-15-5D-C0-A8-14",
            "Routes": [{"NextHop": "192.168.1.2", "DestinationPrefix": "0.0.0.0/0"}],
            "Policies": [
                acl("Allow", "In", 101, json!({"Protocols": "6", "LocalPorts": "1111"})),
                acl("Allow", "Out", 200, json!({"Protocols": "6", "RemoteAddresses": "10.127.130.7", "RemotePorts": "31002"})),
                acl("Block", "Out", 1998, json!({"RemoteAddresses": "10.127.130.0/24"})),
                acl("Block", "Out", 1999, json!({"RemoteAddresses": "192.168.0.0/24"})),
                acl("Allow", "Out", 2000, json!({})),
                {"Type": "OutBoundNAT", "Settings": {"Exceptions": ["192.168.0.0/24", "10.127.130.7/32"]}}
            ]}),
    );
    lab.container("node", "P", &[p]);
    lab
}

#[test]
fn s13_acl_ladder_priorities() {
    let mut lab = s13_lab(14);
    lab.listen(Place::Host("node".into()), L4::Tcp, 31002);
    lab.listen(Place::Station("peer".into()), L4::Tcp, 443);
    lab.listen(Place::Station("pod0".into()), L4::Tcp, 80);
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    lab.listen(ctr("P"), L4::Tcp, 1111);
    // 1. prio 200 Allow before 1998 Block; no SNAT (exception).
    let x = lab.tcp(ctr("P"), "10.127.130.7", 31002);
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("192.168.1.20"));
    // 2. prio 1998 Block.
    let x = lab.tcp(ctr("P"), "10.127.130.9", 443);
    assert!(
        matches!(&x.request.disposition, Disposition::DeniedOut { priority: 1998, layer, .. } if layer == "ACL_SWITCH"),
        "{x}"
    );
    // 3. prio 1999 Block.
    let x = lab.tcp(ctr("P"), "192.168.0.30", 80);
    assert!(
        matches!(
            &x.request.disposition,
            Disposition::DeniedOut { priority: 1999, .. }
        ),
        "{x}"
    );
    // 4. prio 2000 Allow, SNAT to the host.
    let x = lab.tcp(ctr("P"), "203.0.113.50", 443);
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("10.127.130.7"));
    // 5. Inbound TCP to P:1111 → prio 101 Allow; the reply is not re-filtered (stateful).
    let x = lab.tcp(Place::Station("peer".into()), "192.168.1.20", 1111);
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("10.127.130.9"));
    // Inbound TCP to P:22 → no In rule matches; the default is a setting (unverified): block.
    let x = lab.tcp(Place::Station("peer".into()), "192.168.1.20", 22);
    assert!(
        matches!(&x.request.disposition, Disposition::DeniedIn { rule, .. } if rule == "default"),
        "{x}"
    );
    let mut lab = s13_lab(15);
    lab.host_settings("node", |d| d.acl_default_block_when_rules_exist = false);
    let x = lab.tcp(Place::Station("peer".into()), "192.168.1.20", 22);
    assert!(
        matches!(x.request.disposition, Disposition::NoListener { .. }),
        "{x}"
    );
}

fn overlay_net(name: &str, prefix: &str, gw: &str, vsid: u32, pa: &str, dr: &str) -> Value {
    json!({"Name": name, "Type": "Overlay", "Flags": 8, "SchemaVersion": {"Major": 2, "Minor": 0},
        "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
            "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}],
            "Policies": [{"Type": "VSID", "Settings": {"IsolationId": vsid}}]}]}],
        "Policies": [{"Type": "NetAdapterName", "Settings": {"NetworkAdapterName": "Ethernet"}},
            {"Type": "HostRoute", "Settings": {}},
            {"Type": "ProviderAddress", "Settings": {"ProviderAddress": pa}},
            {"Type": "DrMacAddress", "Settings": {"Address": dr}}]})
}

fn rsr(prefix: &str, vni: u32, pa: &str, dr: &str) -> Value {
    json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": prefix, "IsolationId": vni,
        "ProviderAddress": pa, "DistributedRouterMacAddress": dr}})
}

/// A win-overlay pod (MAC 0E-2A-<ip hex>, standard OutBoundNAT, service SDNRoute, PA).
fn overlay_pod(name: &str, addr: &str, m: &str, gw: &str, pa: &str, extra: &[Value]) -> Value {
    let mut policies = vec![
        std_outbound_nat(),
        json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": true}}),
        json!({"Type": "ProviderAddress", "Settings": {"ProviderAddress": pa}}),
    ];
    policies.extend(extra.iter().cloned());
    json!({"Name": name, "IpConfigurations": [{"IpAddress": addr}], "MacAddress": m,
        "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}], "Policies": policies})
}

struct Overlay {
    lab: Lab,
    net1: Guid,
    net2: Guid,
    a: Guid,
    c: Guid,
}

/// S8 objects: flannel VXLAN on node1 and node2 with mirrored RemoteSubnetRoutes.
fn overlay(seed: u64, c_extra: &[Value]) -> Overlay {
    let mut lab = Lab::common(seed);
    let net1 = lab.network(
        "node1",
        overlay_net(
            "vxlan0",
            "10.244.1.0/24",
            "10.244.1.1",
            4096,
            "10.0.0.11",
            "00-15-5D-AA-00-11",
        ),
    );
    let net2 = lab.network(
        "node2",
        overlay_net(
            "vxlan0",
            "10.244.2.0/24",
            "10.244.2.1",
            4096,
            "10.0.0.12",
            "00-15-5D-AA-00-12",
        ),
    );
    lab.network_policy(
        "node1",
        net1,
        rsr("10.244.2.0/24", 4096, "10.0.0.12", "00-15-5D-AA-00-12"),
    );
    lab.network_policy(
        "node2",
        net2,
        rsr("10.244.1.0/24", 4096, "10.0.0.11", "00-15-5D-AA-00-11"),
    );
    let a = lab.endpoint(
        "node1",
        net1,
        overlay_pod(
            "A",
            "10.244.1.10",
            "0E-2A-0a-f4-01-0a",
            "10.244.1.1",
            "10.0.0.11",
            &[],
        ),
    );
    let b = lab.endpoint(
        "node1",
        net1,
        overlay_pod(
            "B",
            "10.244.1.11",
            "0E-2A-0a-f4-01-0b",
            "10.244.1.1",
            "10.0.0.11",
            &[],
        ),
    );
    let c = lab.endpoint(
        "node2",
        net2,
        overlay_pod(
            "C",
            "10.244.2.10",
            "0E-2A-0a-f4-02-0a",
            "10.244.2.1",
            "10.0.0.12",
            c_extra,
        ),
    );
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.container("node2", "C", &[c]);
    Overlay {
        lab,
        net1,
        net2,
        a,
        c,
    }
}

fn encap_of(x: &hnsim_sim::Trace) -> Step {
    x.steps()
        .find(|s| matches!(s, Step::Encap { .. }))
        .cloned()
        .expect("an encap step")
}

#[test]
fn s8_flannel_vxlan_pod_to_pod() {
    let mut o = overlay(20, &[]);
    o.lab.listen(ctr("C"), L4::Tcp, 80);
    // 1. VXLAN to node2: outer 10.0.0.11 → 10.0.0.12, UDP 4789, VNI 4096, inner dst MAC = DR MAC.
    let x = o.lab.tcp(ctr("A"), "10.244.2.10", 80);
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("10.244.1.10"));
    assert_eq!(
        encap_of(&x.request),
        Step::Encap {
            vni: 4096,
            outer_src: ip("10.0.0.11"),
            outer_dst: ip("10.0.0.12"),
            udp_port: 4789,
            inner_dst_mac: mac("00-15-5D-AA-00-12"),
            outer_src_mac: mac("00-15-5D-00-00-11"),
            outer_dst_mac: mac("00-15-5D-00-00-12"),
        }
    );
    assert!(x.request.steps().any(|s| *s == Step::Decap { vni: 4096 }));
    // 2. No RemoteSubnetRoute for 10.244.3.0/24, inside an exception: dropped (inferred).
    let x = o.lab.tcp(ctr("A"), "10.244.3.10", 80);
    assert!(
        matches!(x.request.disposition, Disposition::NoRoute { .. }),
        "{x}"
    );
    // 4. Inner 1500 bytes with DF exceeds the 1450 container MTU (P8); 1450 fits.
    let mut r = hnsim_sim::SendRequest::new(ctr("A"), a("10.244.2.10"), L4::Tcp, 80);
    r.dont_fragment = true;
    r.data_len = 1460;
    let x = o.lab.try_send(r.clone()).unwrap();
    assert_eq!(
        x.request.disposition,
        Disposition::MtuExceeded {
            node: "container:A".into(),
            mtu: 1450,
            size: 1500
        }
    );
    r.data_len = 1410;
    assert_completed(&o.lab.try_send(r).unwrap());
    let _ = (o.net2, o.a, o.c);
}

#[test]
fn s8_3_unknown_vni_is_dropped_by_the_receiver() {
    let mut o = overlay(21, &[]);
    // node1 points 10.244.9.0/24 at node2 with VNI 4097, which node2 does not have (inferred).
    o.lab.network_policy(
        "node1",
        o.net1,
        rsr("10.244.9.0/24", 4097, "10.0.0.12", "00-15-5D-AA-00-12"),
    );
    let x = o.lab.tcp(ctr("A"), "10.244.9.5", 80);
    assert!(matches!(encap_of(&x.request), Step::Encap { vni: 4097, .. }));
    assert!(
        matches!(&x.request.disposition, Disposition::DeniedIn { node, layer, .. } if node == "node2" && layer == "VNET"),
        "{x}"
    );
}

#[test]
fn s8_4_injected_oversize_inner_exceeds_underlay_mtu() {
    // An endpoint whose EncapOverhead is 0 lets a 1500-byte inner packet out: 1550 > 1500 (P8, inferred).
    let zero = json!({"Type": "EncapOverhead", "Settings": {"Overhead": 0}});
    let mut o = overlay(22, &[]);
    let big = o.lab.endpoint(
        "node1",
        o.net1,
        overlay_pod(
            "Z",
            "10.244.1.20",
            "0E-2A-0a-f4-01-14",
            "10.244.1.1",
            "10.0.0.11",
            &[zero],
        ),
    );
    o.lab.container("node1", "Z", &[big]);
    let mut r = hnsim_sim::SendRequest::new(ctr("Z"), a("10.244.2.10"), L4::Tcp, 80);
    r.dont_fragment = true;
    r.data_len = 1460;
    let x = o.lab.try_send(r).unwrap();
    assert_eq!(
        x.request.disposition,
        Disposition::MtuExceeded {
            node: "node1".into(),
            mtu: 1500,
            size: 1550
        }
    );
}

#[test]
fn s9_kube_proxy_overlay_source_vip() {
    let mut o = overlay(23, &[]);
    let h = "node1";
    o.lab.endpoint(
        h,
        o.net1,
        json!({"IpConfigurations": [{"IpAddress": "10.244.1.2"}], "MacAddress": "00-15-5D-00-00-11"}),
    );
    o.lab.endpoint(h, o.net1, json!({"IpConfigurations": [{"IpAddress": "10.96.0.50"}], "MacAddress": "00-15-5D-00-00-11", "Flags": 1,
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}]}));
    let c_remote = o.lab.endpoint(h, o.net1, json!({"IpConfigurations": [{"IpAddress": "10.244.2.10"}], "MacAddress": "02-11-0a-f4-02-0a", "Flags": 1,
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}));
    o.lab.lb(
        h,
        &[c_remote],
        json!({"SourceVIP": "10.244.1.2", "FrontendVIPs": ["10.96.0.50"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}),
    );
    o.lab.listen(ctr("C"), L4::Tcp, 8080);
    // 1. DNAT → C, SNAT → 10.244.1.2:<port>, VXLAN to 10.0.0.12; the reply comes back through the overlay.
    let x = o.lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(50000));
    assert_completed(&x);
    let (src, _, dst, dport) = seen(&x);
    assert_eq!((src, dst, dport), (a("10.244.1.2"), a("10.244.2.10"), 8080));
    assert!(
        matches!(encap_of(&x.request), Step::Encap { vni: 4096, outer_dst, inner_dst_mac, .. }
        if outer_dst == ip("10.0.0.12") && inner_dst_mac == mac("02-11-0a-f4-02-0a"))
    );
    assert!(x
        .reply
        .as_ref()
        .unwrap()
        .steps()
        .any(|s| matches!(s, Step::Encap { outer_dst, .. } if *outer_dst == ip("10.0.0.11"))));
    assert_eq!(reply_seen(&x), (a("10.96.0.50"), 80, a("10.244.1.11"), 50000));
    // 2. Host-network backend (IP == PA): SNAT to the node IP, plain underlay (inferred path).
    let hostnet = o.lab.endpoint(h, o.net1, json!({"IpConfigurations": [{"IpAddress": "10.0.0.12"}], "MacAddress": "02-11-0a-00-00-0c", "Flags": 1,
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}));
    o.lab.lb(
        h,
        &[hostnet],
        json!({"SourceVIP": "10.0.0.11", "FrontendVIPs": ["10.96.0.51"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 10250, "ExternalPort": 443}]}),
    );
    o.lab.listen(Place::Host("node2".into()), L4::Tcp, 10250);
    let x = o.lab.tcp(ctr("B"), "10.96.0.51", 443);
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("10.0.0.11"));
    assert!(!x.request.steps().any(|s| matches!(s, Step::Encap { .. })));
    // 3. Backend outside the cluster: PA = own node IP, SNAT to the node IP, ordinary routing (inferred).
    let ext = o.lab.endpoint(h, o.net1, json!({"IpConfigurations": [{"IpAddress": "203.0.113.50"}], "MacAddress": "02-11-cb-00-71-32", "Flags": 1,
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}]}));
    o.lab.lb(
        h,
        &[ext],
        json!({"SourceVIP": "10.0.0.11", "FrontendVIPs": ["10.96.0.52"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 443, "ExternalPort": 443}]}),
    );
    o.lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    let x = o.lab.tcp(ctr("B"), "10.96.0.52", 443);
    assert_completed(&x);
    assert_eq!(x.request.delivered_to.as_deref(), Some("station:inet"));
    assert_eq!(seen(&x).0, a("10.0.0.11"));
}

#[test]
fn s10_overlay_dsr_and_etp_local_nodeport() {
    let mut o = overlay(24, &[]);
    o.lab.lb("node1", &[o.a], nodeport_lb(18, 1, 30080));
    o.lab.lb("node1", &[o.a], clusterip_lb(1, "10.96.0.50", 80, 8080));
    let a_remote = o.lab.endpoint("node2", o.net2, json!({"IpConfigurations": [{"IpAddress": "10.244.1.10"}], "MacAddress": "02-11-0a-f4-01-0a", "Flags": 1,
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}]}));
    o.lab
        .lb("node2", &[a_remote], clusterip_lb(1, "10.96.0.50", 80, 8080));
    o.lab.listen(ctr("A"), L4::Tcp, 8080);
    // 1. Client → node1:30080 → A with the client IP preserved; reply goes out directly.
    let x = o.lab.send(
        Place::Station("client".into()),
        "10.0.0.11",
        L4::Tcp,
        30080,
        Some(43000),
    );
    assert_completed(&x);
    assert_eq!(seen(&x), (a("10.0.0.50"), 43000, a("10.244.1.10"), 8080));
    assert_eq!(reply_seen(&x), (a("10.0.0.11"), 30080, a("10.0.0.50"), 43000));
    // 2. node2 has no NodePort LB: refused.
    let x = o.lab.tcp(Place::Station("client".into()), "10.0.0.12", 30080);
    assert!(
        matches!(x.request.disposition, Disposition::NoListener { .. }),
        "{x}"
    );
    // 3. C → VIP on node2 (DSR) → A on node1: source stays C, un-DNATed at C's host on return.
    let x = o.lab.send(ctr("C"), "10.96.0.50", L4::Tcp, 80, Some(44000));
    assert_completed(&x);
    assert_eq!(seen(&x), (a("10.244.2.10"), 44000, a("10.244.1.10"), 8080));
    assert_eq!(reply_seen(&x), (a("10.96.0.50"), 80, a("10.244.2.10"), 44000));
}

#[test]
fn s11_docker_nat_network_published_port() {
    let mut lab = Lab::new(25);
    lab.segment("home", "192.168.1.0/24");
    lab.segment("internet", "203.0.113.0/24");
    lab.w
        .add_router(hnsim_sim::RouterSpec {
            name: "r1".into(),
            interfaces: vec![
                hnsim_sim::RouterInterface {
                    segment: "home".into(),
                    ip: ip("192.168.1.1"),
                    mac: mac("00-00-5E-00-03-01"),
                },
                hnsim_sim::RouterInterface {
                    segment: "internet".into(),
                    ip: ip("203.0.113.1"),
                    mac: mac("00-00-5E-00-03-02"),
                },
            ],
            default_route: None,
            routes: vec![],
        })
        .unwrap();
    lab.host("docker", "home", "192.168.1.10", "00-15-5D-01-00-0A", &[]);
    lab.station(
        "lan-client",
        "home",
        "192.168.1.50",
        "02-00-00-01-00-32",
        Some("192.168.1.1"),
    );
    lab.station(
        "inet",
        "internet",
        "203.0.113.50",
        "02-00-00-00-71-50",
        Some("203.0.113.1"),
    );
    let nat = lab.network(
        "docker",
        json!({"Name": "nat", "Type": "NAT", "Flags": 8, "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "172.20.112.0/20",
            "Routes": [{"NextHop": "172.20.112.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let x_ep = lab.endpoint("docker", nat, json!({"Name": "X", "IpConfigurations": [{"IpAddress": "172.20.112.10"}], "MacAddress": "00-15-5D-70-00-0A",
        "Policies": [{"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080}}]}));
    let y_ep = lab.endpoint("docker", nat, json!({"Name": "Y", "IpConfigurations": [{"IpAddress": "172.20.112.11"}], "MacAddress": "00-15-5D-70-00-0B"}));
    lab.container("docker", "X", &[x_ep]);
    lab.container("docker", "Y", &[y_ep]);
    lab.listen(ctr("X"), L4::Tcp, 80);
    lab.listen(ctr("Y"), L4::Tcp, 80);
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    // 1. Published port: DNAT to X:80; reply SNATed back to 192.168.1.10:8080.
    let x = lab.send(
        Place::Station("lan-client".into()),
        "192.168.1.10",
        L4::Tcp,
        8080,
        Some(40000),
    );
    assert_completed(&x);
    assert_eq!(seen(&x), (a("192.168.1.50"), 40000, a("172.20.112.10"), 80));
    assert_eq!(
        reply_seen(&x),
        (a("192.168.1.10"), 8080, a("192.168.1.50"), 40000)
    );
    assert!(x
        .request
        .steps()
        .any(|s| matches!(s, Step::Transform { layer, .. } if layer == "WINNAT")));
    // 2. Egress: WinNAT SNAT to the host address.
    let x = lab.send(ctr("X"), "203.0.113.50", L4::Tcp, 443, Some(40001));
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("192.168.1.10"));
    assert_eq!(
        reply_seen(&x),
        (a("203.0.113.50"), 443, a("172.20.112.10"), 40001)
    );
    // 3. Container to container on `nat`: switched internally, no NAT.
    let x = lab.tcp(ctr("X"), "172.20.112.11", 80);
    assert_completed(&x);
    assert_eq!(seen(&x).0, a("172.20.112.10"));
    // 5. Reboot: the NAT network is not persisted; the container loses its endpoint.
    lab.w
        .fault(hnsim_sim::Fault::Reboot {
            host: "docker".into(),
        })
        .unwrap();
    assert!(lab
        .try_send(hnsim_sim::SendRequest::new(
            ctr("X"),
            a("203.0.113.50"),
            L4::Tcp,
            443
        ))
        .is_err());
}

#[test]
fn s12_swarm_routing_mesh() {
    let mut lab = Lab::new(26);
    lab.segment("swarm", "192.168.1.0/24");
    lab.host("host1", "swarm", "192.168.1.11", "00-15-5D-01-00-0B", &[]);
    lab.host("host2", "swarm", "192.168.1.12", "00-15-5D-01-00-0C", &[]);
    lab.station("ext", "swarm", "192.168.1.50", "02-00-00-01-00-32", None);
    let ingress = |pa: &str| {
        json!({"Name": "ingress", "Type": "Overlay", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.0.1.0/24",
            "Routes": [{"NextHop": "10.0.1.1", "DestinationPrefix": "0.0.0.0/0"}],
            "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}],
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": pa}}]})
    };
    let n1 = lab.network("host1", ingress("192.168.1.11"));
    let n2 = lab.network("host2", ingress("192.168.1.12"));
    let pa = |p: &str| json!({"Type": "ProviderAddress", "Settings": {"ProviderAddress": p}});
    let local = |name: &str, addr: &str, m: &str, p: &str| {
        json!({"Name": name, "IpConfigurations": [{"IpAddress": addr}], "MacAddress": m, "Policies": [pa(p), {"Type": "OutBoundNAT"}],
            "Routes": [{"NextHop": "10.0.1.1", "DestinationPrefix": "0.0.0.0/0"}]})
    };
    let remote = |addr: &str, m: &str, p: &str| json!({"IpConfigurations": [{"IpAddress": addr}], "MacAddress": m, "Flags": 1, "Policies": [pa(p)]});
    lab.endpoint("host1", n1, json!({"Name": "lb-ingress", "IpConfigurations": [{"IpAddress": "10.0.1.3"}], "MacAddress": "02-42-0a-00-01-03"}));
    let x = lab.endpoint(
        "host1",
        n1,
        local("X", "10.0.1.5", "02-42-0a-00-01-05", "192.168.1.11"),
    );
    let y_remote = lab.endpoint(
        "host1",
        n1,
        remote("10.0.1.6", "02-42-0a-00-01-06", "192.168.1.12"),
    );
    let y = lab.endpoint(
        "host2",
        n2,
        local("Y", "10.0.1.6", "02-42-0a-00-01-06", "192.168.1.12"),
    );
    lab.endpoint(
        "host2",
        n2,
        remote("10.0.1.3", "02-42-0a-00-01-03", "192.168.1.11"),
    );
    lab.endpoint(
        "host2",
        n2,
        remote("10.0.1.5", "02-42-0a-00-01-05", "192.168.1.11"),
    );
    lab.container("host1", "X", &[x]);
    lab.container("host2", "Y", &[y]);
    lab.listen(ctr("X"), L4::Tcp, 80);
    lab.listen(ctr("Y"), L4::Tcp, 80);
    // ELB for published port 8080 → [Y] on host1 (routing mesh), source VIP = LB endpoint 10.0.1.3.
    lab.lb("host1", &[y_remote], json!({"SourceVIP": "10.0.1.3", "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080}]}));
    let xx = lab.send(
        Place::Station("ext".into()),
        "192.168.1.11",
        L4::Tcp,
        8080,
        Some(40000),
    );
    assert_completed(&xx);
    assert_eq!(seen(&xx), (a("10.0.1.3"), seen(&xx).1, a("10.0.1.6"), 80));
    assert!(
        matches!(encap_of(&xx.request), Step::Encap { vni: 4096, outer_src, outer_dst, udp_port: 4789, .. }
        if outer_src == ip("192.168.1.11") && outer_dst == ip("192.168.1.12"))
    );
    assert_eq!(
        reply_seen(&xx),
        (a("192.168.1.11"), 8080, a("192.168.1.50"), 40000)
    );
    // 2. ILB: X → VIP 10.0.1.2:80 → X or Y.
    let ilb = lab.lb(
        "host1",
        &[x, y_remote],
        json!({"SourceVIP": "10.0.1.3", "FrontendVIPs": ["10.0.1.2"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80, "Flags": 1}]}),
    );
    let mut hit = std::collections::BTreeSet::new();
    for i in 0..10u16 {
        let r = lab.send(ctr("X"), "10.0.1.2", L4::Tcp, 80, Some(41000 + i));
        assert_completed(&r);
        hit.insert(r.request.delivered_to.clone().unwrap());
    }
    assert_eq!(hit.len(), 2);
    // 3. Y removed → the list is re-created with [X]: new connections only reach X.
    lab.delete_lb("host1", ilb);
    lab.lb(
        "host1",
        &[x],
        json!({"SourceVIP": "10.0.1.3", "FrontendVIPs": ["10.0.1.2"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80, "Flags": 1}]}),
    );
    for i in 0..5u16 {
        let r = lab.send(ctr("X"), "10.0.1.2", L4::Tcp, 80, Some(42000 + i));
        assert_eq!(r.request.delivered_to.as_deref(), Some("container:X"));
    }
}

fn calico_acls(allow_80: bool) -> Value {
    let acl = |dir: &str, action: &str, prio: u16, rule: &str, extra: Value| {
        let mut s = json!({"Action": action, "Direction": dir, "Priority": prio, "RuleType": rule});
        if let (Value::Object(m), Value::Object(e)) = (&mut s, extra) {
            m.extend(e);
        }
        json!({"Type": "ACL", "Settings": s})
    };
    let mut v = vec![];
    if allow_80 {
        v.push(acl(
            "In",
            "Allow",
            1000,
            "Switch",
            json!({"Protocols": "6", "RemoteAddresses": "10.244.1.0/26", "LocalPorts": "80"}),
        ));
    }
    v.extend([
        acl("In", "Block", 1001, "Switch", json!({"Protocols": "256"})),
        acl("In", "Allow", 100, "Host", json!({})),
        acl("Out", "Allow", 1000, "Switch", json!({})),
        acl("Out", "Block", 1001, "Switch", json!({"Protocols": "256"})),
        acl("Out", "Allow", 100, "Host", json!({})),
    ]);
    Value::Array(v)
}

#[test]
fn s14_calico_vxlan_network_policy() {
    let acls = calico_acls(true);
    let mut o = overlay(27, acls.as_array().unwrap());
    o.lab.listen(ctr("C"), L4::Tcp, 80);
    o.lab.listen(ctr("C"), L4::Tcp, 22);
    // 1. A → C:80: encapsulated, In ACL 1000 allows.
    let x = o.lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(45000));
    assert_completed(&x);
    assert!(x
        .request
        .steps()
        .any(|s| matches!(s, Step::Filter { priority: 1000, .. })));
    // 2. A → C:22: In 1001 Block at C's port.
    let x = o.lab.tcp(ctr("A"), "10.244.2.10", 22);
    assert!(
        matches!(&x.request.disposition, Disposition::DeniedIn { priority: 1001, node, .. } if node == "node2/C"),
        "{x}"
    );
    // 3. Policy update re-programs C's ACLs: the established flow is re-checked lazily and dropped.
    let mut policies = calico_acls(false).as_array().unwrap().clone();
    policies.insert(0, std_outbound_nat());
    o.lab.set_endpoint_policies("node2", o.c, Value::Array(policies));
    let x = o.lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(45000));
    assert!(
        matches!(
            x.request.disposition,
            Disposition::DeniedIn { priority: 1001, .. }
        ),
        "{x}"
    );
}

#[test]
fn s15_1_hns_restart_drops_non_persistent_overlay() {
    let mut o = overlay(28, &[]);
    o.lab.listen(ctr("A"), L4::Tcp, 80);
    assert_completed(&o.lab.tcp(ctr("C"), "10.244.1.10", 80));
    o.lab
        .w
        .fault(hnsim_sim::Fault::HnsRestart { host: "node1".into() })
        .unwrap();
    assert!(o.lab.w.hns_ref("node1").unwrap().networks.is_empty());
    let x = o.lab.tcp(ctr("C"), "10.244.1.10", 80);
    assert!(!x.request.disposition.is_delivered(), "{x}");
    assert!(
        matches!(&x.request.disposition, Disposition::NoListener { node, .. } if node == "node1"),
        "{x}"
    );
}

#[test]
fn s15_2_stale_remote_endpoint_behind_a_local_ip() {
    let mut lab = Lab::common(29);
    let net = lab.network("node1", l2bridge_net("10.240.0.0/16", "10.240.0.1"));
    let pod = |name: &str, addr: &str, m: &str| {
        json!({"Name": name, "IpConfigurations": [{"IpAddress": addr}], "MacAddress": m,
            "Routes": [{"NextHop": "10.240.0.1", "DestinationPrefix": "0.0.0.0/0"}], "Policies": [std_outbound_nat()]})
    };
    let b = lab.endpoint("node1", net, pod("B", "10.240.0.20", "00-15-5D-F0-00-14"));
    lab.container("node1", "B", &[b]);
    // X (10.240.0.50 on node2) was deleted; its remote endpoint stays; Y reuses the IP locally.
    let stale = lab.endpoint("node1", net, json!({"IpConfigurations": [{"IpAddress": "10.240.0.50"}], "MacAddress": "02-11-0a-f0-00-32", "Flags": 1}));
    let y = lab.endpoint("node1", net, pod("Y", "10.240.0.50", "00-15-5D-F0-00-32"));
    lab.container("node1", "Y", &[y]);
    lab.listen(ctr("Y"), L4::Udp, 53);
    let dns = |lab: &mut Lab, backends: &[Guid]| {
        lab.lb(
            "node1",
            backends,
            json!({"FrontendVIPs": ["10.96.0.10"], "SourceVIP": "",
            "PortMappings": [{"Protocol": 17, "InternalPort": 53, "ExternalPort": 53}]}),
        )
    };
    let lb = dns(&mut lab, &[stale]);
    let x = lab.send(ctr("B"), "10.96.0.10", L4::Udp, 53, None);
    assert!(
        !x.request.disposition.is_delivered(),
        "stale backend must not be delivered: {x}"
    );
    // After the fix: the colliding remote endpoint is deleted and the LB points at Y.
    lab.delete_lb("node1", lb);
    lab.delete_endpoint("node1", stale);
    dns(&mut lab, &[y]);
    let x = lab.send(ctr("B"), "10.96.0.10", L4::Udp, 53, None);
    assert_completed(&x);
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:Y"));
}

#[test]
fn s4_3_empty_source_vip_on_newer_ws2019_loops() {
    // P3: non-DSR, SourceVIP "", a build that SNATs to the VIP itself: the backend's reply is
    // addressed to the VIP and is taken for new LB traffic → dropped, the connection times out.
    let mut s = bridge(16, &[]);
    s.lab
        .host_settings("node1", |d| d.empty_source_vip_uses_node_ip = false);
    s.lab.lb("node1", &[s.a], clusterip_lb(0, "10.96.0.50", 80, 8080));
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    let x = s.lab.tcp(ctr("B"), "10.96.0.50", 80);
    assert_eq!(x.request.disposition, Disposition::Delivered, "{x}");
    assert_eq!(seen(&x).0, a("10.96.0.50"), "SNAT to the VIP itself");
    let reply = x.reply.as_ref().unwrap();
    assert!(
        matches!(reply.disposition, Disposition::NoMatchingLoadBalancer { .. }),
        "{x}"
    );
    // Older builds default the empty SourceVIP to the node IP: the same flow works.
    let mut s = bridge(16, &[]);
    s.lab.lb("node1", &[s.a], clusterip_lb(0, "10.96.0.50", 80, 8080));
    s.lab.listen(ctr("A"), L4::Tcp, 8080);
    assert_completed(&s.lab.tcp(ctr("B"), "10.96.0.50", 80));
}
