//! Dual-stack L2Bridge (hns-schema.md §2.2 "dual-stack = two subnets in one Ipam"; consumers.md
//! §3.1 sdnbridge dual-stack template): IPv6 between pods on one host and across hosts, an LB
//! with the IPv6 flag (2), OutBoundNAT with the IPv6 flag (2), ICMPv6 echo, and IPv6 between
//! overlay pods refused as HNS does (consumers.md P14).

use hnsim_sim::packet::{Payload, Transport};
use hnsim_sim::testkit::{ctr, ip, mac, Lab};
use hnsim_sim::{Disposition, Exchange, SendRequest, Step, L4};
use ipnet::Ipv6Net;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv6Addr};

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn send6(lab: &mut Lab, from: &str, dst: &str, proto: L4, port: u16) -> Exchange {
    let r = SendRequest::new(ctr(from), IpAddr::V6(v6(dst)), proto, port);
    lab.try_send(r).expect("send")
}

fn net(prefix4: &str, gw4: &str, prefix6: &str, gw6: &str) -> Value {
    json!({"Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [
        {"IpAddressPrefix": prefix4, "Routes": [{"NextHop": gw4, "DestinationPrefix": "0.0.0.0/0"}]},
        {"IpAddressPrefix": prefix6, "Routes": [{"NextHop": gw6, "DestinationPrefix": "::/0"}]}]}]})
}

/// A dual-stack pod (sdnbridge: routes for both families, OutBoundNAT for IPv4 and IPv6).
fn pod(name: &str, a4: &str, a6: &str, m: &str, gw4: &str, gw6: &str, v6_exceptions: &[&str]) -> Value {
    json!({"Name": name, "IpConfigurations": [{"IpAddress": a4}, {"IpAddress": a6}], "MacAddress": m,
    "Routes": [{"NextHop": gw4, "DestinationPrefix": "0.0.0.0/0"}, {"NextHop": gw6, "DestinationPrefix": "::/0"}],
    "Policies": [
        {"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.244.0.0/16", "10.96.0.0/12", "10.0.0.0/24"]}},
        {"Type": "OutBoundNAT", "Settings": {"VirtualIP": "fd00:ffff::11", "Exceptions": v6_exceptions, "Flags": 2}}
    ]})
}

/// node1: A fd00:1::10, B fd00:1::11; node2: C fd00:2::10. `v6_exceptions` of A's IPv6
/// OutBoundNAT.
fn lab(v6_exceptions: &[&str]) -> Lab {
    let mut lab = Lab::common(62);
    let n1 = lab.network(
        "node1",
        net("10.244.1.0/24", "10.244.1.2", "fd00:1::/64", "fd00:1::2"),
    );
    let n2 = lab.network(
        "node2",
        net("10.244.2.0/24", "10.244.2.2", "fd00:2::/64", "fd00:2::2"),
    );
    let a = lab.endpoint(
        "node1",
        n1,
        pod(
            "A",
            "10.244.1.10",
            "fd00:1::10",
            "00-15-5D-01-01-0A",
            "10.244.1.2",
            "fd00:1::2",
            v6_exceptions,
        ),
    );
    let b = lab.endpoint(
        "node1",
        n1,
        pod(
            "B",
            "10.244.1.11",
            "fd00:1::11",
            "00-15-5D-01-01-0B",
            "10.244.1.2",
            "fd00:1::2",
            &["fd00::/16"],
        ),
    );
    let c = lab.endpoint(
        "node2",
        n2,
        pod(
            "C",
            "10.244.2.10",
            "fd00:2::10",
            "00-15-5D-01-02-0A",
            "10.244.2.2",
            "fd00:2::2",
            &["fd00::/16"],
        ),
    );
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.container("node2", "C", &[c]);
    for c in ["B", "C"] {
        lab.listen(ctr(c), L4::Tcp, 80);
        lab.listen(ctr(c), L4::Tcp, 8080);
    }
    let r = |p: &str, nh: &str| (p.parse::<Ipv6Net>().unwrap(), ip(nh));
    lab.w
        .set_host_routes6(
            "node1",
            vec![r("fd00:2::/64", "10.0.0.12"), r("fd00:ffff::12/128", "10.0.0.12")],
        )
        .unwrap();
    lab.w
        .set_host_routes6(
            "node2",
            vec![r("fd00:1::/64", "10.0.0.11"), r("fd00:ffff::11/128", "10.0.0.11")],
        )
        .unwrap();
    // kube-proxy's IPv6 ClusterIP: LB Flags 2 (IPv6), backend B, SourceVIP from the pod subnet.
    lab.lb(
        "node1",
        &[b],
        json!({"FrontendVIPs": ["fd00:96::50"], "SourceVIP": "fd00:1::2", "Flags": 2,
            "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}),
    );
    lab
}

fn seen(x: &Exchange) -> (IpAddr, IpAddr, u16) {
    let s = x.request.seen.as_ref().expect("delivered");
    (s.src, s.dst, s.dst_port)
}

#[test]
fn ipv6_between_pods_on_one_host_is_bridged_with_neighbour_discovery() {
    let mut lab = lab(&["fd00::/16"]);
    lab.w.enable_pcap(&["node1/A".to_string()]);
    let x = send6(&mut lab, "A", "fd00:1::11", L4::Tcp, 80);
    assert!(x.completed(), "{x}");
    assert_eq!(seen(&x), (v6("fd00:1::10").into(), v6("fd00:1::11").into(), 80));
    // Real ND frames at A's port (the decoder verifies the ICMPv6 checksums): a Neighbor
    // Solicitation to B's solicited-node group, B's Neighbor Advertisement, then the SYN.
    let at_a: Vec<_> = lab
        .w
        .pcap()
        .frames("node1/A")
        .iter()
        .map(|c| hnsim_sim::wire::decode(&c.frame).expect("captured frame decodes"))
        .collect();
    let icmp6 = |p: &hnsim_sim::packet::Packet| match p.payload {
        Payload::Ip {
            ip,
            l4: Transport::Icmp { icmp_type, .. },
        } => Some((icmp_type, ip.src, ip.dst, ip.ttl)),
        _ => None,
    };
    assert_eq!(
        icmp6(&at_a[0]),
        Some((135, v6("fd00:1::10").into(), v6("ff02::1:ff00:11").into(), 255))
    );
    assert_eq!(at_a[0].eth.dst, mac("33-33-FF-00-00-11"));
    assert_eq!(
        icmp6(&at_a[1]),
        Some((136, v6("fd00:1::11").into(), v6("fd00:1::10").into(), 255))
    );
    assert_eq!(at_a[1].eth.src, mac("00-15-5D-01-01-0B"));
    assert_eq!(
        at_a[2].eth.dst,
        mac("00-15-5D-01-01-0B"),
        "the SYN goes to B's MAC"
    );
    let nd = x.request.hops[0]
        .steps
        .iter()
        .find_map(|s| match s {
            Step::Nd { who_has, is_at, .. } => Some((*who_has, *is_at)),
            _ => None,
        })
        .expect("A resolves B by ND");
    assert_eq!(nd, (v6("fd00:1::11"), Some(mac("00-15-5D-01-01-0B"))));
    // ICMPv6 echo is answered (type 129).
    let x = send6(&mut lab, "A", "fd00:1::11", L4::Icmp, 0);
    assert!(x.completed(), "{x}");
}

#[test]
fn ipv6_across_hosts_leaves_with_the_host_mac_and_keeps_the_pod_source() {
    let mut lab = lab(&["fd00::/16"]);
    lab.w.enable_pcap(&["node2/C".to_string()]);
    let x = send6(&mut lab, "A", "fd00:2::10", L4::Tcp, 80);
    assert!(x.completed(), "{x}");
    // Inside the IPv6 exceptions: no SNAT, C sees A's address.
    assert_eq!(seen(&x), (v6("fd00:1::10").into(), v6("fd00:2::10").into(), 80));
    // The uplink frame: IPv6 with node1's MAC toward node2's MAC (L2Bridge MAC rewrite, P10).
    let frames = lab.w.pcap().frames("node1/uplink");
    let syn = frames
        .iter()
        .map(|c| hnsim_sim::wire::decode(&c.frame).expect("decodes"))
        .find(|p| matches!(p.payload, Payload::Ip { ip, .. } if ip.dst.is_ipv6()))
        .expect("an IPv6 frame on node1's uplink");
    assert_eq!(
        (syn.eth.src, syn.eth.dst),
        (mac("00-15-5D-00-00-11"), mac("00-15-5D-00-00-12"))
    );
    assert!(matches!(
        syn.payload,
        Payload::Ip {
            l4: Transport::Tcp { dst_port: 80, .. },
            ..
        }
    ));
}

#[test]
fn an_ipv6_load_balancer_dnats_to_the_backends_ipv6_address_and_snats_to_its_source_vip() {
    let mut lab = lab(&["fd00::/16"]);
    let x = send6(&mut lab, "A", "fd00:96::50", L4::Tcp, 80);
    assert!(x.completed(), "{x}");
    assert_eq!(seen(&x), (v6("fd00:1::2").into(), v6("fd00:1::11").into(), 8080));
    let back = x.reply.as_ref().unwrap().seen.as_ref().unwrap();
    assert_eq!((back.src, back.src_port), (v6("fd00:96::50").into(), 80));
}

#[test]
fn ipv6_outbound_nat_snats_destinations_outside_its_exceptions_and_restores_the_reply() {
    // A's IPv6 exceptions hold only its own node's subnet: C (fd00:2::10) is SNATed to the
    // VirtualIP (P4's shape for IPv6); the reply comes back to node1 and is restored.
    let mut lab = lab(&["fd00:1::/64"]);
    let x = send6(&mut lab, "A", "fd00:2::10", L4::Tcp, 80);
    assert!(x.completed(), "{x}");
    let (src, dst, port) = seen(&x);
    assert_eq!(
        (src, dst, port),
        (v6("fd00:ffff::11").into(), v6("fd00:2::10").into(), 80)
    );
    // ICMPv6 through SNAT is not translated (P5).
    let x = send6(&mut lab, "A", "fd00:2::10", L4::Icmp, 0);
    assert!(
        matches!(&x.request.disposition, Disposition::Unsupported { what, .. } if what.contains("P5")),
        "{x}"
    );
}

#[test]
fn ipv6_between_overlay_pods_is_unsupported() {
    let mut lab = Lab::common(63);
    let n = lab.network(
        "node1",
        json!({"Name": "vxlan0", "Type": "Overlay", "Ipams": [{"Type": "Static", "Subnets": [
            {"IpAddressPrefix": "10.244.1.0/24", "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}],
             "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]},
            {"IpAddressPrefix": "fd00:1::/64", "Routes": [{"NextHop": "fd00:1::1", "DestinationPrefix": "::/0"}]}]}]}),
    );
    let ep = |a4: &str, a6: &str| json!({"IpConfigurations": [{"IpAddress": a4}, {"IpAddress": a6}]});
    let a = lab.endpoint("node1", n, ep("10.244.1.10", "fd00:1::10"));
    let b = lab.endpoint("node1", n, ep("10.244.1.11", "fd00:1::11"));
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.listen(ctr("B"), L4::Tcp, 80);
    let x = send6(&mut lab, "A", "fd00:1::11", L4::Tcp, 80);
    assert!(
        matches!(&x.request.disposition, Disposition::Unsupported { what, .. } if what.contains("P14")),
        "{x}"
    );
    // IPv4 between the same pods works.
    let x = lab.tcp(ctr("A"), "10.244.1.11", 80);
    assert!(x.completed(), "{x}");
}

/// Wireshark decodes the captured Neighbor Solicitation / Advertisement (when tshark is on PATH).
#[test]
fn tshark_decodes_the_neighbour_discovery_frames() {
    use std::process::Command;
    if !hnsim_sim::testkit::tshark_available() {
        return;
    }
    let mut lab = lab(&["fd00::/16"]);
    lab.w.enable_pcap(&["node1/A".to_string()]);
    let x = send6(&mut lab, "A", "fd00:1::11", L4::Tcp, 80);
    assert!(x.completed(), "{x}");
    let dir = std::env::temp_dir().join(format!("hnsim-nd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = lab.w.pcap().write_to_dir(&dir).unwrap();
    let file = files
        .iter()
        .find(|f| f.to_string_lossy().contains('A'))
        .expect("the port's pcap");
    let out = Command::new("tshark")
        .args(["-r", file.to_str().unwrap(), "-T", "fields"])
        .args([
            "-e",
            "icmpv6.type",
            "-e",
            "icmpv6.nd.ns.target_address",
            "-e",
            "icmpv6.nd.na.target_address",
        ])
        .args(["-e", "icmpv6.checksum.status", "-Y", "icmpv6"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lines[0][..2], ["135", "fd00:1::11"], "{text}");
    assert_eq!(lines[1][0], "136", "{text}");
    assert_eq!(lines[1][2], "fd00:1::11", "{text}");
    // Wireshark's checksum status 1 = good.
    assert!(lines.iter().all(|l| l.get(3) == Some(&"1")), "{text}");
}
