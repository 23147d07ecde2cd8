//! A container's stack resolves its next hop with real ARP on its vNIC port before sending:
//! a local endpoint answers for itself, VFP's ARP proxy answers for the gateway (host vNIC MAC on
//! L2Bridge/NAT, the distributed-router MAC on Overlay); the answer is cached per compartment.
//! No frame a container sends carries the all-zero destination MAC.

use hnsim_model::Mac;
use hnsim_sim::packet::{ArpOp, Packet, Payload};
use hnsim_sim::testkit::{ctr, ip, mac, std_outbound_nat, Lab};
use hnsim_sim::{wire, Exchange, Step, L4};
use serde_json::json;

fn port_frames(lab: &Lab, point: &str) -> Vec<Packet> {
    lab.w
        .pcap()
        .frames(point)
        .iter()
        .map(|c| wire::decode(&c.frame).expect("captured frame decodes"))
        .collect()
}

/// The container stack's ARP steps (those before the port's flow-table step in the first hop):
/// (who-has, is-at, cached).
fn arp_steps(x: &Exchange, reply: bool) -> Vec<(std::net::Ipv4Addr, Option<Mac>, bool)> {
    let t = if reply {
        x.reply.as_ref().expect("a reply")
    } else {
        &x.request
    };
    t.hops[0]
        .steps
        .iter()
        .take_while(|s| !matches!(s, Step::Session { .. }))
        .filter_map(|s| match s {
            Step::Arp {
                who_has,
                is_at,
                cached,
            } => Some((*who_has, *is_at, *cached)),
            _ => None,
        })
        .collect()
}

fn no_zero_dst_mac(frames: &[Packet], point: &str) {
    for f in frames {
        assert_ne!(
            f.eth.dst,
            Mac::default(),
            "{point}: frame with dst MAC 00-00-00-00-00-00: {f:?}"
        );
    }
}

fn overlay() -> Lab {
    // node1 publishes its DR MAC; node2 does not (a derived one is used).
    let mut lab = Lab::s8_overlay(5, Some("00-15-5D-AA-00-11"), serde_json::Value::Null);
    lab.listen(ctr("C"), L4::Tcp, 80);
    lab.w.enable_pcap(&["node1/A".to_string(), "node2/C".to_string()]);
    lab
}

#[test]
fn overlay_container_arps_for_its_gateway_and_vfp_answers_with_the_dr_mac() {
    let mut lab = overlay();
    let x = lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(41000));
    assert!(x.completed(), "{x}");
    let dr1 = mac("00-15-5D-AA-00-11");
    assert_eq!(
        arp_steps(&x, false),
        vec![(ip("10.244.1.1"), Some(dr1), false)],
        "{x}"
    );
    let at_a = port_frames(&lab, "node1/A");
    // ARP request (broadcast, for the gateway), the proxy's reply, then the SYN to the DR MAC.
    match at_a[0].payload {
        Payload::Arp(r) => {
            assert_eq!(
                (r.op, r.target_ip, r.sender_ip),
                (ArpOp::Request, ip("10.244.1.1"), ip("10.244.1.10"))
            );
            assert_eq!(at_a[0].eth.dst, Mac::BROADCAST);
        }
        ref p => panic!("first frame at A is not an ARP request: {p:?}"),
    }
    match at_a[1].payload {
        Payload::Arp(r) => assert_eq!(
            (r.op, r.sender_mac, r.sender_ip),
            (ArpOp::Reply, dr1, ip("10.244.1.1"))
        ),
        ref p => panic!("second frame at A is not an ARP reply: {p:?}"),
    }
    assert!(matches!(at_a[2].payload, Payload::Ip { .. }));
    assert_eq!(at_a[2].eth.dst, dr1, "the SYN leaves A addressed to the DR MAC");
    no_zero_dst_mac(&at_a, "node1/A");
    // C's reply: C's compartment ARPs for its own gateway; node2 has no DrMacAddress policy, so
    // the answer is a derived MAC under the Hyper-V OUI.
    let steps = arp_steps(&x, true);
    assert_eq!(steps.len(), 1, "{x}");
    let (who, is_at, cached) = steps[0];
    assert_eq!((who, cached), (ip("10.244.2.1"), false));
    let derived = is_at.expect("an answer");
    assert_eq!(&derived.0[..3], &[0x00, 0x15, 0x5d]);
    let at_c = port_frames(&lab, "node2/C");
    no_zero_dst_mac(&at_c, "node2/C");
    let synack = at_c
        .iter()
        .rev()
        .find(|f| matches!(f.payload, Payload::Ip { .. }))
        .unwrap();
    assert_eq!(synack.eth.dst, derived);
    // Established: the compartment's cache answers, no new ARP frame.
    let before = port_frames(&lab, "node1/A").len();
    let x = lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(41000));
    assert!(x.completed(), "{x}");
    assert_eq!(arp_steps(&x, false), vec![(ip("10.244.1.1"), Some(dr1), true)]);
    let after = port_frames(&lab, "node1/A");
    assert_eq!(after.len(), before + 2, "only the SYN and the SYN-ACK: no ARP");
}

fn l2bridge() -> Lab {
    let mut lab = Lab::common(6);
    let n1 = lab.network(
        "node1",
        json!({"Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
            "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let pod = |name: &str, addr: &str, m: &str| {
        json!({"Name": name, "IpConfigurations": [{"IpAddress": addr}], "MacAddress": m,
            "Routes": [{"NextHop": "10.244.1.2", "DestinationPrefix": "0.0.0.0/0"}],
            "Policies": [std_outbound_nat()]})
    };
    let a = lab.endpoint("node1", n1, pod("A", "10.244.1.10", "00-15-5D-01-01-0A"));
    let b = lab.endpoint("node1", n1, pod("B", "10.244.1.11", "00-15-5D-01-01-0B"));
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.listen(ctr("B"), L4::Tcp, 80);
    lab.listen(hnsim_sim::Place::Station("inet".into()), L4::Tcp, 443);
    lab.w.enable_pcap(&["node1/A".to_string(), "node1/B".to_string()]);
    lab
}

#[test]
fn l2bridge_local_endpoint_answers_for_itself_and_the_gateway_is_the_host_vnic() {
    let mut lab = l2bridge();
    let x = lab.send(ctr("A"), "10.244.1.11", L4::Tcp, 80, Some(42000));
    assert!(x.completed(), "{x}");
    let b_mac = mac("00-15-5D-01-01-0B");
    assert_eq!(
        arp_steps(&x, false),
        vec![(ip("10.244.1.11"), Some(b_mac), false)],
        "{x}"
    );
    assert_eq!(
        arp_steps(&x, true),
        vec![(ip("10.244.1.10"), Some(mac("00-15-5D-01-01-0A")), false)],
        "{x}"
    );
    // Off-subnet: the endpoint route's next hop (10.244.1.2) is answered by VFP's proxy with
    // the host vNIC MAC.
    let x = lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(42001));
    assert!(x.completed(), "{x}");
    assert_eq!(
        arp_steps(&x, false),
        vec![(ip("10.244.1.2"), Some(mac("00-15-5D-00-00-11")), false)],
        "{x}"
    );
    for point in ["node1/A", "node1/B"] {
        let frames = port_frames(&lab, point);
        assert!(
            frames.iter().any(|f| matches!(f.payload, Payload::Arp(_))),
            "{point}"
        );
        no_zero_dst_mac(&frames, point);
    }
}

#[test]
fn nat_container_resolves_its_gateway_to_the_host_vnic() {
    let mut lab = Lab::common(7);
    let n = lab.network(
        "node1",
        json!({"Name": "nat", "Type": "NAT", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "172.20.112.0/20",
            "Routes": [{"NextHop": "172.20.112.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let x_ep = lab.endpoint(
        "node1",
        n,
        json!({"IpConfigurations": [{"IpAddress": "172.20.112.10"}]}),
    );
    lab.container("node1", "X", &[x_ep]);
    lab.listen(hnsim_sim::Place::Station("inet".into()), L4::Tcp, 443);
    let x = lab.send(ctr("X"), "203.0.113.50", L4::Tcp, 443, None);
    assert!(x.completed(), "{x}");
    assert_eq!(
        arp_steps(&x, false),
        vec![(ip("172.20.112.1"), Some(mac("00-15-5D-00-00-11")), false)],
        "{x}"
    );
    // An on-link address no endpoint holds: nobody answers on the internal vSwitch.
    let x = lab.send(ctr("X"), "172.20.112.99", L4::Tcp, 80, None);
    assert!(
        matches!(&x.request.disposition, hnsim_sim::Disposition::NoRoute { reason, .. } if reason.contains("ARP")),
        "{x}"
    );
}
