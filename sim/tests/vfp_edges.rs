//! Behaviours of the VFP building blocks that a mutation-testing sample found unchecked
//! (docs/testing.md "Recorded runs" names the mutant each test kills).

use hnsim_sim::vfp::{Dir, FlowKey, FlowTable, Miss, SnatOwner, SnatPools, Tuple, Zone};
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn hash_of<T: Hash>(x: &T) -> u64 {
    // A fixed-key SipHash: deterministic, and distinct inputs give distinct hashes.
    std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(x)
}

fn key(zone: Zone, dir: Dir, t: Tuple) -> FlowKey {
    FlowKey { zone, dir, tuple: t }
}

/// The flow cache is probed on every hop: two keys that differ in any one field must not hash
/// alike, or the connections of a busy port pile up in one bucket. Checked field by field, for
/// IPv4 and IPv6 tuples.
#[test]
fn every_field_of_a_flow_key_reaches_its_hash() {
    for (a, b) in [("10.244.1.10", "10.96.0.10"), ("fd00::a", "fd00:96::a")] {
        let t = Tuple {
            proto: 6,
            src: ip(a),
            sport: 40000,
            dst: ip(b),
            dport: 80,
        };
        let base = key(Zone::Port(3), Dir::Out, t);
        let variants: Vec<(&str, Vec<FlowKey>)> = vec![
            (
                "zone",
                [Zone::Port(3), Zone::Port(4), Zone::HostStack, Zone::Uplink]
                    .map(|z| FlowKey { zone: z, ..base })
                    .to_vec(),
            ),
            (
                "dir",
                [Dir::Out, Dir::In].map(|d| FlowKey { dir: d, ..base }).to_vec(),
            ),
            (
                "proto",
                [6u8, 17, 1, 58]
                    .map(|p| key(base.zone, base.dir, Tuple { proto: p, ..t }))
                    .to_vec(),
            ),
            (
                "sport",
                [40000u16, 40001, 1]
                    .map(|p| key(base.zone, base.dir, Tuple { sport: p, ..t }))
                    .to_vec(),
            ),
            (
                "dport",
                [80u16, 81, 443]
                    .map(|p| key(base.zone, base.dir, Tuple { dport: p, ..t }))
                    .to_vec(),
            ),
            (
                "src",
                [t.src, t.dst]
                    .map(|s| key(base.zone, base.dir, Tuple { src: s, ..t }))
                    .to_vec(),
            ),
            (
                "dst",
                [t.dst, t.src]
                    .map(|d| key(base.zone, base.dir, Tuple { dst: d, ..t }))
                    .to_vec(),
            ),
        ];
        for (field, keys) in variants {
            let hashes: BTreeSet<u64> = keys.iter().map(hash_of).collect();
            assert_eq!(hashes.len(), keys.len(), "{field} ({a}): {keys:?}");
            let tuples: BTreeSet<u64> = keys.iter().map(|k| hash_of(&k.tuple)).collect();
            if !matches!(field, "zone" | "dir") {
                assert_eq!(tuples.len(), keys.len(), "tuple {field} ({a})");
            }
        }
    }
}

/// A flow's tuple, as session steps show it, names its protocol: TCP, UDP, ICMP and ICMPv6
/// ("icmp"), anything else "ip".
#[test]
fn a_flow_tuple_shows_its_protocol() {
    let shown = |proto: u8, src: &str, dst: &str| {
        Tuple {
            proto,
            src: ip(src),
            sport: 40000,
            dst: ip(dst),
            dport: 53,
        }
        .to_string()
    };
    assert_eq!(
        shown(6, "10.244.1.10", "10.96.0.10"),
        "tcp 10.244.1.10:40000 -> 10.96.0.10:53"
    );
    assert_eq!(
        shown(17, "10.244.1.10", "10.96.0.10"),
        "udp 10.244.1.10:40000 -> 10.96.0.10:53"
    );
    assert_eq!(
        shown(1, "10.244.1.10", "10.96.0.10"),
        "icmp 10.244.1.10:40000 -> 10.96.0.10:53"
    );
    assert_eq!(
        shown(58, "fd00:1::10", "fd00:1::11"),
        "icmp fd00:1::10:40000 -> fd00:1::11:53"
    );
    assert_eq!(
        shown(47, "10.244.1.10", "10.96.0.10"),
        "ip 10.244.1.10:40000 -> 10.96.0.10:53"
    );
}

/// A flow table counts its entries: one per key, replaced in place, none after `clear`.
#[test]
fn a_flow_table_counts_one_entry_per_key() {
    let mut t: FlowTable<u8> = FlowTable::new(1_000);
    assert!(t.is_empty());
    let t1 = Tuple {
        proto: 6,
        src: ip("10.244.1.10"),
        sport: 40000,
        dst: ip("10.96.0.10"),
        dport: 80,
    };
    let a = key(Zone::Port(1), Dir::Out, t1);
    let b = key(Zone::Port(1), Dir::In, t1.reversed());
    t.insert(a, 1, 7, 0);
    t.insert(b, 2, 7, 0);
    t.insert(a, 3, 7, 5);
    assert_eq!(t.len(), 2);
    assert!(!t.is_empty());
    assert_eq!(t.lookup(&a, 7, 10), Ok(3));
    t.clear();
    assert_eq!((t.len(), t.is_empty()), (0, true));
    assert_eq!(t.lookup(&a, 7, 10), Err(Miss::Absent));
}

/// SNAT ports come from each owner's block in order, never outside the pool and never twice,
/// however the owners interleave (consumers.md P13: blocks of 64 per port).
#[test]
fn snat_ports_are_distinct_and_inside_the_pool() {
    let mut p = SnatPools::new(256, 64, 49152);
    let a = ip("10.0.0.11");
    let mut seen = BTreeSet::new();
    let mut mine: Vec<u16> = Vec::new();
    let mut take = |p: &mut SnatPools, owner| {
        let port = p.alloc(a, owner).expect("pool not exhausted");
        assert!((49152..49152 + 256).contains(&port), "{port}");
        assert!(seen.insert(port), "port {port} handed out twice");
        port
    };
    for i in 0..192 {
        if i % 3 == 0 {
            take(&mut p, SnatOwner::WinNat);
        } else {
            mine.push(take(&mut p, SnatOwner::Port(1)));
        }
    }
    assert!(mine.windows(2).take(63).all(|w| w[1] == w[0] + 1), "{mine:?}");
    assert_eq!(p.blocks(a), 3);
    for _ in 0..64 {
        take(&mut p, SnatOwner::InboundLb);
    }
    assert_eq!(p.alloc(a, SnatOwner::InboundLb), None);
}

/// A packet from the uplink for an address of an L2Bridge subnet that no endpoint holds goes to
/// the host stack; only on an overlay network is it "decapsulated … no endpoint" (NoRoute).
#[test]
fn an_unclaimed_address_on_l2bridge_goes_to_the_host_stack() {
    use hnsim_sim::testkit::{ip as ip4, Lab};
    use hnsim_sim::{Disposition, Place, L4};
    let mut lab = Lab::common(1);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
            "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let gw = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"IpConfigurations": [{"IpAddress": "10.244.1.2"}]}),
    );
    lab.host_attach("node1", &[gw]);
    lab.w
        .add_router_route("r1", "10.244.1.99/32".parse().unwrap(), ip4("10.0.0.11"))
        .unwrap();
    let x = lab.send(
        Place::Station("inet".into()),
        "10.244.1.99",
        L4::Tcp,
        80,
        Some(40000),
    );
    // The host stack routes it toward the network, where no endpoint holds it.
    match &x.request.disposition {
        Disposition::NoRoute { reason, .. } => {
            assert_eq!(reason, "no endpoint with 10.244.1.99 on network cbr0", "{x}")
        }
        other => panic!("expected NoRoute, found {other:?}\n{x}"),
    }
}

/// node1 on L2Bridge cbr0 (10.244.1.0/24, host gateway endpoint 10.244.1.2) with pod A
/// (10.244.1.10, `a_policies`), listening on TCP 8080; r1 routes `vips` to node1.
fn l2bridge_lab(
    a_policies: serde_json::Value,
    vips: &[&str],
) -> (hnsim_sim::testkit::Lab, hnsim_model::Guid) {
    use hnsim_sim::testkit::{ctr, ip as ip4, Lab};
    use hnsim_sim::L4;
    let mut lab = Lab::common(5);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
            "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let gw = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"IpConfigurations": [{"IpAddress": "10.244.1.2"}]}),
    );
    lab.host_attach("node1", &[gw]);
    let a = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"Name": "A", "IpConfigurations": [{"IpAddress": "10.244.1.10"}],
            "MacAddress": "00-15-5D-01-01-0A", "Routes": [{"NextHop": "10.244.1.2", "DestinationPrefix": "0.0.0.0/0"}],
            "Policies": a_policies}),
    );
    lab.container("node1", "A", &[a]);
    lab.listen(ctr("A"), L4::Tcp, 8080);
    for v in vips {
        lab.w
            .add_router_route("r1", format!("{v}/32").parse().unwrap(), ip4("10.0.0.11"))
            .unwrap();
    }
    (lab, a)
}

/// A port mapping with a `VIP` answers on that address only; without one, on the host address.
#[test]
fn a_port_mapping_with_a_vip_answers_on_that_vip_only() {
    use hnsim_sim::{Place, L4};
    let pm = |vip: Option<&str>| {
        let mut s = serde_json::json!({"Protocol": 6, "InternalPort": 8080, "ExternalPort": 18080});
        if let Some(v) = vip {
            s["VIP"] = v.into();
        }
        serde_json::json!([{"Type": "PortMapping", "Settings": s}])
    };
    let inet = || Place::Station("inet".into());
    let (mut lab, _) = l2bridge_lab(pm(Some("10.0.0.201")), &["10.0.0.201"]);
    let x = lab.send(inet(), "10.0.0.201", L4::Tcp, 18080, Some(40000));
    assert!(x.completed(), "{x}");
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
    let x = lab.send(inet(), "10.0.0.11", L4::Tcp, 18080, Some(40001));
    assert!(
        !x.request.disposition.is_delivered(),
        "the host address is not the VIP: {x}"
    );
    let (mut lab, _) = l2bridge_lab(pm(None), &["10.0.0.201"]);
    let x = lab.send(inet(), "10.0.0.11", L4::Tcp, 18080, Some(40000));
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
    let x = lab.send(inet(), "10.0.0.201", L4::Tcp, 18080, Some(40001));
    assert!(!x.request.disposition.is_delivered(), "{x}");
}

fn delta(a: hnsim_sim::Counters, b: hnsim_sim::Counters) -> hnsim_sim::Counters {
    hnsim_sim::Counters {
        slow_path: b.slow_path - a.slow_path,
        fast_path: b.fast_path - a.fast_path,
        rule_evaluations: b.rule_evaluations - a.rule_evaluations,
        table_lookups: b.table_lookups - a.table_lookups,
    }
}

/// What `send` cost: the growth of the world's work counters while it ran (`send` checks its
/// own exchange).
fn cost_of(
    lab: &mut hnsim_sim::testkit::Lab,
    send: impl FnOnce(&mut hnsim_sim::testkit::Lab),
) -> hnsim_sim::Counters {
    let c0 = lab.w.counters();
    send(lab);
    delta(c0, lab.w.counters())
}

/// The cost of a connection's first exchange and of the same connection established:
/// `send(lab, sport)` once from source port `warm` (it fills the neighbour caches), then twice
/// from `sport`.
fn first_and_established(
    lab: &mut hnsim_sim::testkit::Lab,
    warm: u16,
    sport: u16,
    mut send: impl FnMut(&mut hnsim_sim::testkit::Lab, u16),
) -> (hnsim_sim::Counters, hnsim_sim::Counters) {
    send(lab, warm);
    let first = cost_of(lab, |lab| send(lab, sport));
    let est = cost_of(lab, |lab| send(lab, sport));
    (first, est)
}

/// The slow path counts its work: a pod's first packet to the internet (L2Bridge, OutBoundNAT)
/// costs, on top of the one flow-table probe an established packet costs at its port, one LB
/// index probe (no VIP matches), one lookup in the port's ROUTE layer and one in the host's
/// IPv4 routes (the MAC rewrite's next hop); the reply is restored by the pinned NAT entry.
#[test]
fn a_first_packet_counts_its_lb_probe_and_both_route_lookups() {
    use hnsim_sim::testkit::{ctr, std_outbound_nat};
    use hnsim_sim::{Place, L4};
    let (mut lab, _) = l2bridge_lab(serde_json::json!([std_outbound_nat()]), &[]);
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    // The neighbour caches warm, a new connection, then the same one established.
    let (first, est) = first_and_established(&mut lab, 40000, 40001, |lab, sport| {
        let x = lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(sport));
        assert!(x.completed(), "{x}");
    });
    assert_eq!(
        (est.slow_path, est.fast_path, est.rule_evaluations),
        (0, 3, 0),
        "{est:?}"
    );
    // A's port out on the slow path (the OutBoundNAT rule evaluated); the reply restored at the
    // uplink and delivered at A's port by the flow table.
    assert_eq!(
        (first.slow_path, first.fast_path, first.rule_evaluations),
        (1, 2, 1),
        "{first:?}"
    );
    assert_eq!(
        first.table_lookups,
        est.table_lookups + 3,
        "first {first:?}, established {est:?}"
    );
}

/// An inbound connection to a port-only (NodePort) LB costs exactly one LB probe more than one to
/// a VIP: the VIP table is read first, then the port table.
#[test]
fn an_inbound_nodeport_costs_one_lb_probe_more_than_a_vip() {
    use hnsim_sim::{Place, L4};
    let inet = || Place::Station("inet".into());
    let (mut lab, a) = l2bridge_lab(serde_json::json!([]), &["10.0.0.202"]);
    lab.lb(
        "node1",
        &[a],
        serde_json::json!({"FrontendVIPs": ["10.0.0.202"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}),
    );
    lab.lb(
        "node1",
        &[a],
        serde_json::json!({
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 30080}]}),
    );
    let mut exchange = |dst: &str, port, sport| {
        cost_of(&mut lab, |lab| {
            let x = lab.send(inet(), dst, L4::Tcp, port, Some(sport));
            assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
            assert!(x.completed(), "{x}");
        })
    };
    exchange("10.0.0.202", 80, 40000);
    exchange("10.0.0.11", 30080, 40000);
    let vip = exchange("10.0.0.202", 80, 40001);
    let nodeport = exchange("10.0.0.11", 30080, 40001);
    let est = exchange("10.0.0.11", 30080, 40001);
    // The uplink and A's port on the slow path (the LB rule evaluated once); the reply restored
    // at A's port.
    assert_eq!(
        (vip.slow_path, vip.fast_path, vip.rule_evaluations),
        (2, 1, 1),
        "{vip:?}"
    );
    assert_eq!(
        (nodeport.slow_path, nodeport.fast_path, nodeport.rule_evaluations),
        (2, 1, 1),
        "{nodeport:?}"
    );
    assert_eq!(
        nodeport.table_lookups,
        vip.table_lookups + 1,
        "VIP {vip:?}, NodePort {nodeport:?}"
    );
    assert_eq!((est.slow_path, est.fast_path), (0, 3), "{est:?}");
    assert!(
        vip.table_lookups > est.table_lookups,
        "VIP {vip:?}, established {est:?}"
    );
}

/// A ClusterIP whose backend is the node itself (a host-network pod, IP = PA = the node's
/// address): the request is translated at the pod's port and goes up to the host stack; the
/// host's reply is restored by one flow-table probe where it leaves the host stack.
#[test]
fn a_host_network_backend_replies_through_the_host_stack_fast_path() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Place, L4};
    let mut lab = Lab::s8_overlay(8, None, serde_json::Value::Null);
    let n1 = *lab.w.hns("node1").unwrap().networks.keys().next().unwrap();
    let own = lab.endpoint(
        "node1",
        n1,
        serde_json::json!({"IpConfigurations": [{"IpAddress": "10.0.0.11"}],
        "MacAddress": "02-11-0a-00-00-0b", "Flags": 1,
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}]}),
    );
    lab.lb(
        "node1",
        &[own],
        serde_json::json!({"SourceVIP": "10.0.0.11", "FrontendVIPs": ["10.96.0.80"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 10250, "ExternalPort": 10250}]}),
    );
    lab.listen(Place::Host("node1".into()), L4::Tcp, 10250);
    let mut exchange = |sport| {
        cost_of(&mut lab, |lab| {
            let x = lab.send(ctr("A"), "10.96.0.80", L4::Tcp, 10250, Some(sport));
            assert_eq!(x.request.delivered_to.as_deref(), Some("host:node1"), "{x}");
            assert!(x.completed(), "{x}");
        })
    };
    let first = exchange(50000);
    // A's port out on the slow path (the LB rule); the host's reply restored at the host stack,
    // then matched at A's port.
    assert_eq!(
        (first.slow_path, first.fast_path, first.rule_evaluations),
        (1, 2, 1),
        "{first:?}"
    );
    let est = exchange(50000);
    assert_eq!(
        (est.slow_path, est.fast_path, est.rule_evaluations),
        (0, 3, 0),
        "{est:?}"
    );
}

/// The host's own connections through LocalRoutedVIP load balancers are translated by the LB
/// index on every packet (the host-stack send path caches only restores): one probe for a VIP,
/// two for a NodePort on the host's address (the VIP table, then the port table).
#[test]
fn a_host_connection_to_a_nodeport_costs_one_lb_probe_more_than_a_vip() {
    use hnsim_sim::{Place, L4};
    let (mut lab, a) = l2bridge_lab(serde_json::json!([]), &[]);
    lab.lb(
        "node1",
        &[a],
        serde_json::json!({"FrontendVIPs": ["10.96.0.90"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80, "Flags": 2}]}),
    );
    lab.lb(
        "node1",
        &[a],
        serde_json::json!({
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 30090, "Flags": 2}]}),
    );
    let mut exchange = |dst: &str, port, sport| {
        cost_of(&mut lab, |lab| {
            let x = lab.send(Place::Host("node1".into()), dst, L4::Tcp, port, Some(sport));
            assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
            assert!(x.completed(), "{x}");
        })
    };
    exchange("10.96.0.90", 80, 40000);
    exchange("10.0.0.11", 30090, 40001);
    // New connections (distinct after translation too).
    let vip = exchange("10.96.0.90", 80, 40002);
    let nodeport = exchange("10.0.0.11", 30090, 40003);
    assert_eq!((vip.slow_path, vip.fast_path), (1, 1), "{vip:?}");
    assert_eq!((nodeport.slow_path, nodeport.fast_path), (1, 1), "{nodeport:?}");
    assert_eq!(
        nodeport.table_lookups,
        vip.table_lookups + 1,
        "VIP {vip:?}, NodePort {nodeport:?}"
    );
    // Established: the same difference, with no slow path.
    let vip = exchange("10.96.0.90", 80, 40002);
    let nodeport = exchange("10.0.0.11", 30090, 40003);
    assert_eq!((vip.slow_path, nodeport.slow_path), (0, 0));
    assert_eq!(
        nodeport.table_lookups,
        vip.table_lookups + 1,
        "VIP {vip:?}, NodePort {nodeport:?}"
    );
}

/// An inbound first packet through a port mapping costs, on top of what the established
/// exchange costs, one LB index probe (nothing matches; no port-only LB, so one table), one
/// port-mapping table lookup, and at A's port the reply's route composed in advance (unified
/// flow): the port's ROUTE layer and the host's IPv4 route (the reply leaves by the default
/// gateway).
#[test]
fn an_inbound_port_mapped_first_packet_counts_its_lookups() {
    use hnsim_sim::{Place, L4};
    let pm = serde_json::json!([{"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 8080, "ExternalPort": 18080}}]);
    let (mut lab, _) = l2bridge_lab(pm, &[]);
    let (first, est) = first_and_established(&mut lab, 40000, 40001, |lab, sport| {
        let x = lab.send(
            Place::Station("inet".into()),
            "10.0.0.11",
            L4::Tcp,
            18080,
            Some(sport),
        );
        assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
        assert!(x.completed(), "{x}");
    });
    // The uplink and A's port on the slow path, the reply restored at A's port.
    assert_eq!(
        (first.slow_path, first.fast_path, first.rule_evaluations),
        (2, 1, 0),
        "{first:?}"
    );
    assert_eq!(
        (est.slow_path, est.fast_path, est.rule_evaluations),
        (0, 3, 0),
        "{est:?}"
    );
    assert_eq!(
        first.table_lookups,
        est.table_lookups + 4,
        "first {first:?}, established {est:?}"
    );
}

/// An endpoint `QOS` policy meters every packet leaving it, on an established flow too, with
/// the frame's size (IP length + 14 bytes of Ethernet header): at 20,000 B/s the bucket holds
/// 2,000 bytes, so one 1,000-byte payload (a 1,054-byte frame) passes, the next finds 946 bytes
/// and is dropped, an 800-byte one (854) fits. The `qos-meter` scenario shows the same.
#[test]
fn a_qos_policy_meters_each_frame_by_its_size() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Disposition, Place, SendRequest, L4};
    let mut lab = Lab::common(15);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "nat", "Type": "NAT", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "172.20.1.0/24",
            "Routes": [{"NextHop": "172.20.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let e = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"Policies": [{"Type": "QOS", "Settings": {"MaximumOutgoingBandwidthInBytes": 20000}}]}),
    );
    lab.container("node1", "P1", &[e]);
    lab.listen(Place::Station("client".into()), L4::Tcp, 80);
    let mut send = |len: u16| {
        let mut r = SendRequest::new(ctr("P1"), ip("10.0.0.50"), L4::Tcp, 80);
        r.src_port = Some(40000);
        r.data_len = len;
        lab.try_send(r).expect("send")
    };
    let x = send(1000);
    assert!(x.request.disposition.is_delivered(), "{x}");
    let x = send(1000);
    assert!(
        matches!(
            x.request.disposition,
            Disposition::RateLimited {
                bytes_per_second: 20000,
                ..
            }
        ),
        "{x}"
    );
    let x = send(800);
    assert!(x.request.disposition.is_delivered(), "{x}");
}

/// An endpoint `SDNRoute` without NeedEncap whose next hop is `0.0.0.0` means "no gateway":
/// the packet goes up to the host stack, which routes it (here to the LAN station), not onto
/// the wire toward 0.0.0.0.
#[test]
fn an_sdn_route_with_no_next_hop_hands_the_packet_to_the_host() {
    use hnsim_sim::testkit::ctr;
    use hnsim_sim::{Place, L4};
    let route = serde_json::json!([{"Type": "SDNRoute",
        "Settings": {"DestinationPrefix": "10.0.0.0/24", "NextHop": "0.0.0.0"}}]);
    let (mut lab, _) = l2bridge_lab(route, &[]);
    lab.listen(Place::Station("client".into()), L4::Tcp, 80);
    let x = lab.send(ctr("A"), "10.0.0.50", L4::Tcp, 80, Some(40000));
    assert_eq!(x.request.delivered_to.as_deref(), Some("station:client"), "{x}");
}

/// P3 (newer WS2019 builds, setting `empty_source_vip_uses_node_ip: false`): VFP's LB layer
/// looks at every packet leaving a pod before the flow table, one probe of the VIP set, and at
/// a packet addressed to a VIP one LB index probe more. The same ClusterIP exchange (pod B to
/// the VIP, backend A; `SourceVIP` the node's address, so both builds translate alike) costs
/// exactly three lookups more on such a host, first packet or established: the request at B's
/// port (the VIP set and the LB index) and the reply at A's port (the VIP set).
#[test]
fn a_p3_host_probes_the_lb_layer_for_every_packet_leaving_a_pod() {
    use hnsim_sim::testkit::ctr;
    use hnsim_sim::L4;
    let costs = |p3: bool| {
        let (mut lab, a) = l2bridge_lab(serde_json::json!([]), &[]);
        if p3 {
            lab.host_settings("node1", |d| d.empty_source_vip_uses_node_ip = false);
        }
        let n = *lab.w.hns("node1").unwrap().networks.keys().next().unwrap();
        let b = lab.endpoint(
            "node1",
            n,
            serde_json::json!({"Name": "B", "IpConfigurations": [{"IpAddress": "10.244.1.11"}],
                "MacAddress": "00-15-5D-01-01-0B", "Routes": [{"NextHop": "10.244.1.2", "DestinationPrefix": "0.0.0.0/0"}]}),
        );
        lab.container("node1", "B", &[b]);
        lab.lb(
            "node1",
            &[a],
            serde_json::json!({"SourceVIP": "10.0.0.11", "FrontendVIPs": ["10.96.0.50"],
            "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}),
        );
        first_and_established(&mut lab, 40000, 40001, |lab, sport| {
            let x = lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(sport));
            assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
            assert!(x.completed(), "{x}");
        })
    };
    let (first, est) = costs(false);
    let (first_p3, est_p3) = costs(true);
    for (older, p3) in [(first, first_p3), (est, est_p3)] {
        assert_eq!(
            (p3.slow_path, p3.fast_path, p3.rule_evaluations),
            (older.slow_path, older.fast_path, older.rule_evaluations),
            "P3 {p3:?}, older build {older:?}"
        );
        assert_eq!(
            p3.table_lookups,
            older.table_lookups + 3,
            "P3 {p3:?}, older build {older:?}"
        );
    }
}

/// A dual-stack L2Bridge network `name` on `host` (IPv4 `10.244.N.0/24`, IPv6 `fd00:N::/64`;
/// subnet gateways `.1` and `::1`, the pods' `.2` and `::2`, as with flannel's
/// `forceBridgeGateway`).
fn dual_stack_net(lab: &mut hnsim_sim::testkit::Lab, host: &str, name: &str, n: u8) -> hnsim_model::Guid {
    lab.network(
        host,
        serde_json::json!({"Name": name, "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [
            {"IpAddressPrefix": format!("10.244.{n}.0/24"),
             "Routes": [{"NextHop": format!("10.244.{n}.1"), "DestinationPrefix": "0.0.0.0/0"}]},
            {"IpAddressPrefix": format!("fd00:{n}::/64"),
             "Routes": [{"NextHop": format!("fd00:{n}::1"), "DestinationPrefix": "::/0"}]}]}]}),
    )
}

/// A running dual-stack pod `name` on `host` with addresses `10.244.N.H` and `fd00:N::H`, both
/// default routes and endpoint `policies`, listening on TCP 80.
fn dual_stack_pod(
    lab: &mut hnsim_sim::testkit::Lab,
    host: &str,
    net: hnsim_model::Guid,
    (name, n, h): (&str, u8, u8),
    policies: serde_json::Value,
) -> hnsim_model::Guid {
    let ep = lab.endpoint(
        host,
        net,
        serde_json::json!({"Name": name,
            "IpConfigurations": [{"IpAddress": format!("10.244.{n}.{h}")}, {"IpAddress": format!("fd00:{n}::{h:x}")}],
            "MacAddress": format!("00-15-5D-01-{n:02X}-{h:02X}"),
            "Routes": [{"NextHop": format!("10.244.{n}.2"), "DestinationPrefix": "0.0.0.0/0"},
                       {"NextHop": format!("fd00:{n}::2"), "DestinationPrefix": "::/0"}],
            "Policies": policies}),
    );
    lab.container(host, name, &[ep]);
    lab.listen(hnsim_sim::testkit::ctr(name), hnsim_sim::L4::Tcp, 80);
    ep
}

/// VFP switches IPv6 straight to a port only inside one network (P15: same-host L2Bridge
/// traffic is bridged within its network): pod A reaches pod B of its own network directly,
/// but not pod D of a second dual-stack network on the same host, another L2 domain: the packet
/// takes the route layer and the host's IPv6 routes, and node1 has none to D's subnet.
#[test]
fn ipv6_is_switched_to_a_port_of_the_same_network_only() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Disposition, SendRequest, L4};
    let mut lab = Lab::common(64);
    let cbr0 = dual_stack_net(&mut lab, "node1", "cbr0", 1);
    let cbr1 = dual_stack_net(&mut lab, "node1", "cbr1", 3);
    let gw = lab.endpoint(
        "node1",
        cbr0,
        serde_json::json!({"Name": "cbr0_ep", "IpConfigurations": [{"IpAddress": "10.244.1.2"}, {"IpAddress": "fd00:1::2"}]}),
    );
    lab.host_attach("node1", &[gw]);
    let none = || serde_json::json!([]);
    dual_stack_pod(&mut lab, "node1", cbr0, ("A", 1, 0x10), none());
    dual_stack_pod(&mut lab, "node1", cbr0, ("B", 1, 0x11), none());
    dual_stack_pod(&mut lab, "node1", cbr1, ("D", 3, 0x10), none());
    let mut send6 = |dst: &str| {
        let r = SendRequest::new(ctr("A"), ip(dst), L4::Tcp, 80);
        lab.try_send(r).expect("send")
    };
    let x = send6("fd00:1::11");
    assert!(x.completed(), "{x}");
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:B"), "{x}");
    let x = send6("fd00:3::10");
    match &x.request.disposition {
        Disposition::NoRoute { node, reason } => {
            assert_eq!(node, "node1", "{x}");
            assert_eq!(
                reason, "no host IPv6 route to fd00:3::10 (World::set_host_routes6)",
                "{x}"
            );
        }
        other => panic!("expected NoRoute, found {other:?}\n{x}"),
    }
}

/// A reply restored by a pinned reverse translation names, in its trace, the VFP layer that made
/// the translation: OUTBOUND_NAT for a pod's connection to the internet, PORT_MAPPING and
/// SLB_NAT for inbound connections through a port mapping and a VIP.
#[test]
fn a_restored_reply_names_the_layer_that_translated_it() {
    use hnsim_sim::testkit::{ctr, std_outbound_nat};
    use hnsim_sim::{Exchange, Place, Step, L4};
    let inet = || Place::Station("inet".into());
    let pm = serde_json::json!({"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 8080, "ExternalPort": 18080}});
    let (mut lab, a) = l2bridge_lab(serde_json::json!([std_outbound_nat(), pm]), &["10.0.0.202"]);
    lab.lb(
        "node1",
        &[a],
        serde_json::json!({"FrontendVIPs": ["10.0.0.202"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}),
    );
    lab.listen(inet(), L4::Tcp, 443);
    // The session matches and reverse rewrites of the reply's hops that reverse a translation:
    // one match there, the restore (a restored reply is not also traced as a plain match).
    let restores = |x: &Exchange| -> (Vec<String>, Vec<String>) {
        let steps: Vec<&Step> = x
            .reply
            .as_ref()
            .expect("a reply")
            .hops
            .iter()
            .filter(|h| {
                h.steps
                    .iter()
                    .any(|s| matches!(s, Step::Transform { rule, .. } if rule == "reverse NAT"))
            })
            .flat_map(|h| &h.steps)
            .collect();
        let sessions = steps
            .iter()
            .filter_map(|s| match s {
                Step::Session { flow, .. } => Some(flow.clone()),
                _ => None,
            })
            .collect();
        let rewrites = steps
            .iter()
            .filter_map(|s| match s {
                Step::Transform { layer, rule, .. } if rule == "reverse NAT" => Some(layer.clone()),
                _ => None,
            })
            .collect();
        (sessions, rewrites)
    };
    for (from, dst, port, layer) in [
        (ctr("A"), "203.0.113.50", 443, "OUTBOUND_NAT"),
        (inet(), "10.0.0.11", 18080, "PORT_MAPPING"),
        (inet(), "10.0.0.202", 80, "SLB_NAT"),
    ] {
        let x = lab.send(from, dst, L4::Tcp, port, Some(40000));
        assert!(x.completed(), "{x}");
        assert_eq!(
            restores(&x),
            (vec![format!("{layer} reply")], vec![layer.to_string()]),
            "{x}"
        );
    }
}

/// The overlay route layer (consumers.md S8.2): a packet for an address with no remote endpoint
/// and no `RemoteSubnetRoute` leaves by the host's routes only when OutBoundNAT translated it to
/// the host's address (a pod's connection to the internet); inside the exceptions, not
/// SNATed, it is dropped rather than sent onto the underlay with a pod source address.
#[test]
fn an_overlay_pod_leaves_the_overlay_only_when_snated_to_the_host() {
    use hnsim_sim::testkit::{ctr, std_outbound_nat, Lab};
    use hnsim_sim::{Disposition, Place, L4};
    let mut lab = Lab::s8_overlay(9, None, serde_json::Value::Null);
    let a = lab
        .w
        .hns("node1")
        .unwrap()
        .endpoints
        .iter()
        .find(|(_, e)| e.name == "A")
        .map(|(g, _)| *g)
        .expect("A's endpoint");
    lab.set_endpoint_policies("node1", a, serde_json::json!([std_outbound_nat()]));
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    let x = lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(40000));
    assert!(x.completed(), "{x}");
    assert_eq!(x.request.seen.as_ref().unwrap().src, ip("10.0.0.11"), "{x}");
    let x = lab.send(ctr("A"), "10.244.3.10", L4::Tcp, 80, Some(40001));
    match &x.request.disposition {
        Disposition::NoRoute { reason, .. } => assert_eq!(
            reason,
            "overlay network vxlan0: no local endpoint, remote endpoint or RemoteSubnetRoute for 10.244.3.10, and the packet is not SNATed (inferred, consumers.md S8.2)",
            "{x}"
        ),
        other => panic!("expected NoRoute, found {other:?}\n{x}"),
    }
}

/// An inbound connection whose reply had no route when the connection was set up (node1 has no
/// `RemoteSubnetRoute` back to node2's pod subnet, node2 has one to node1's): the reply's entry
/// is left pending, so the reply runs the route layer when it is sent, and is dropped there for
/// the missing route (S8.2) instead of passing as a cached flow.
#[test]
fn a_reply_without_a_route_runs_the_route_layer_when_sent() {
    use hnsim_sim::testkit::{ctr, overlay_network, remote_subnet_route, Lab};
    use hnsim_sim::{Disposition, L4};
    let mut lab = Lab::common(10);
    let n1 = lab.network("node1", overlay_network("10.244.1.0/24", "10.244.1.1"));
    let n2 = lab.network("node2", overlay_network("10.244.2.0/24", "10.244.2.1"));
    lab.network_policy(
        "node2",
        n2,
        remote_subnet_route("10.244.1.0/24", "10.0.0.11", "00-15-5D-AA-00-11"),
    );
    let a = lab.endpoint(
        "node1",
        n1,
        serde_json::json!({"Name": "A", "IpConfigurations": [{"IpAddress": "10.244.1.10"}], "MacAddress": "0E-2A-0a-f4-01-0a"}),
    );
    let c = lab.endpoint(
        "node2",
        n2,
        serde_json::json!({"Name": "C", "IpConfigurations": [{"IpAddress": "10.244.2.10"}], "MacAddress": "0E-2A-0a-f4-02-0a"}),
    );
    lab.container("node1", "A", &[a]);
    lab.container("node2", "C", &[c]);
    lab.listen(ctr("A"), L4::Tcp, 80);
    let x = lab.send(ctr("C"), "10.244.1.10", L4::Tcp, 80, Some(40000));
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
    match &x.reply.as_ref().expect("A answers").disposition {
        Disposition::NoRoute { node, reason } => {
            assert_eq!(node, "node1", "{x}");
            assert_eq!(
                reason,
                "overlay network vxlan0: no local endpoint, remote endpoint or RemoteSubnetRoute for 10.244.2.10, and the packet is not SNATed (inferred, consumers.md S8.2)",
                "{x}"
            );
        }
        other => panic!("expected the reply dropped for no route, found {other:?}\n{x}"),
    }
}

/// IPv6 from the wire reaches only a dual-stack L2Bridge endpoint: a node1 overlay pod that
/// holds an IPv6 address is not one (IPv6 between overlay pods is unsupported, consumers.md
/// P14), so a dual-stack pod on node2, routed to node1 by node2's IPv6 routes, is not
/// delivered to it.
#[test]
fn ipv6_from_the_wire_reaches_only_a_dual_stack_l2bridge_endpoint() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Disposition, SendRequest, L4};
    let mut lab = Lab::common(11);
    let ov = lab.network(
        "node1",
        serde_json::json!({"Name": "vxlan0", "Type": "Overlay", "Ipams": [{"Type": "Static", "Subnets": [
            {"IpAddressPrefix": "10.244.1.0/24", "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}],
             "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]},
            {"IpAddressPrefix": "fd00:1::/64", "Routes": [{"NextHop": "fd00:1::1", "DestinationPrefix": "::/0"}]}]}]}),
    );
    let x_ep = lab.endpoint(
        "node1",
        ov,
        serde_json::json!({"IpConfigurations": [{"IpAddress": "10.244.1.10"}, {"IpAddress": "fd00:1::10"}]}),
    );
    lab.container("node1", "X", &[x_ep]);
    lab.listen(ctr("X"), L4::Tcp, 80);
    let br = dual_stack_net(&mut lab, "node2", "cbr0", 2);
    dual_stack_pod(&mut lab, "node2", br, ("C", 2, 0x10), serde_json::json!([]));
    lab.w
        .set_host_routes6(
            "node2",
            vec![("fd00:1::/64".parse().unwrap(), "10.0.0.11".parse().unwrap())],
        )
        .unwrap();
    let x = lab
        .try_send(SendRequest::new(ctr("C"), ip("fd00:1::10"), L4::Tcp, 80))
        .expect("send");
    match &x.request.disposition {
        Disposition::NoRoute { node, reason } => {
            assert_eq!(node, "node1", "{x}");
            assert_eq!(
                reason, "no dual-stack L2Bridge endpoint with fd00:1::10 on this host",
                "{x}"
            );
        }
        other => panic!("expected NoRoute at node1, found {other:?}\n{x}"),
    }
}

/// The IPv6 OutBoundNAT layer counts each rule it reads: a pod whose first IPv6 OutBoundNAT
/// (with `Destinations` that do not hold the destination) is passed over before the second
/// SNATs the connection costs one rule evaluation more on its first packet than a pod with the
/// second alone; established, neither reads a rule.
#[test]
fn the_ipv6_outbound_nat_layer_counts_each_rule_it_reads() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{SendRequest, L4};
    let snat = serde_json::json!({"Type": "OutBoundNAT",
        "Settings": {"VirtualIP": "fd00:ffff::11", "Exceptions": ["fd00:1::/64"], "Flags": 2}});
    let elsewhere = serde_json::json!({"Type": "OutBoundNAT",
        "Settings": {"VirtualIP": "fd00:ffff::11", "Destinations": ["fd00:9::/64"], "Flags": 2}});
    let costs = |policies: serde_json::Value| {
        let mut lab = Lab::common(12);
        let n1 = dual_stack_net(&mut lab, "node1", "cbr0", 1);
        let n2 = dual_stack_net(&mut lab, "node2", "cbr0", 2);
        dual_stack_pod(&mut lab, "node1", n1, ("A", 1, 0x10), policies);
        dual_stack_pod(&mut lab, "node2", n2, ("C", 2, 0x10), serde_json::json!([]));
        let r = |p: &str, nh: &str| (p.parse().unwrap(), nh.parse().unwrap());
        lab.w
            .set_host_routes6("node1", vec![r("fd00:2::/64", "10.0.0.12")])
            .unwrap();
        lab.w
            .set_host_routes6("node2", vec![r("fd00:ffff::11/128", "10.0.0.11")])
            .unwrap();
        first_and_established(&mut lab, 40000, 40001, |lab, sport| {
            let mut r = SendRequest::new(ctr("A"), ip("fd00:2::10"), L4::Tcp, 80);
            r.src_port = Some(sport);
            let x = lab.try_send(r).expect("send");
            assert!(x.completed(), "{x}");
            assert_eq!(x.request.seen.as_ref().unwrap().src, ip("fd00:ffff::11"), "{x}");
        })
    };
    let (first1, est1) = costs(serde_json::json!([snat.clone()]));
    let (first2, est2) = costs(serde_json::json!([elsewhere, snat]));
    assert_eq!((est1.rule_evaluations, est2.rule_evaluations), (0, 0));
    assert_eq!(
        first2.rule_evaluations,
        first1.rule_evaluations + 1,
        "one rule {first1:?}, two rules {first2:?}"
    );
    assert_eq!(first2.table_lookups, first1.table_lookups);
}

/// A SNAT pool larger than the port space above its first port ends at the last whole block
/// below 65536: ports stay distinct and never wrap.
#[test]
fn a_snat_pool_never_runs_past_the_last_port() {
    let mut p = SnatPools::new(20_000, 64, 49152);
    let a = ip("10.0.0.11");
    let mut seen = BTreeSet::new();
    while let Some(port) = p.alloc(a, SnatOwner::Port(1)) {
        assert!(port >= 49152, "{port}");
        assert!(seen.insert(port), "port {port} handed out twice");
    }
    // (65535 - 49152) / 64 = 255 whole blocks.
    assert_eq!((seen.len(), p.blocks(a)), (255 * 64, 255));
    assert_eq!(seen.last(), Some(&(49152 + 255 * 64 - 1)));
}

/// The reply of a NodePort connection from a pod of another node goes back over the overlay: C
/// on node2 reaches node1's address by the plain underlay (node2 holds a remote endpoint for
/// node1's address with itself as PA, a host-network backend, S9.2); node1 balances it to A,
/// and A's reply, restored to C's address where it leaves node1, finds no remote endpoint for
/// C but node1's `RemoteSubnetRoute` to node2's pod subnet: it is encapsulated to node2.
#[test]
fn a_nodeport_reply_to_a_remote_pod_follows_the_remote_subnet_route() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Step, L4};
    let mut lab = Lab::s8_overlay(13, None, serde_json::Value::Null);
    let hns1 = lab.w.hns("node1").unwrap();
    let a = *hns1.endpoints.iter().find(|(_, e)| e.name == "A").unwrap().0;
    let n2 = *lab.w.hns("node2").unwrap().networks.keys().next().unwrap();
    lab.endpoint(
        "node2",
        n2,
        serde_json::json!({"IpConfigurations": [{"IpAddress": "10.0.0.11"}],
        "MacAddress": "02-11-0a-00-00-0b", "Flags": 1,
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}]}),
    );
    lab.lb(
        "node1",
        &[a],
        serde_json::json!({"PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 30080}]}),
    );
    lab.listen(ctr("A"), L4::Tcp, 80);
    let x = lab.send(ctr("C"), "10.0.0.11", L4::Tcp, 30080, Some(40000));
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
    assert!(x.completed(), "{x}");
    let reply = x.reply.as_ref().unwrap();
    assert_eq!(reply.delivered_to.as_deref(), Some("container:C"), "{x}");
    let encaps: Vec<_> = reply
        .hops
        .iter()
        .filter(|h| h.node == "node1")
        .flat_map(|h| &h.steps)
        .filter_map(|s| match s {
            Step::Encap { outer_dst, vni, .. } => Some((outer_dst.to_string(), *vni)),
            _ => None,
        })
        .collect();
    assert_eq!(encaps, [("10.0.0.12".to_string(), 4096)], "{x}");
}

/// A route step names the VFP layer and the table that answered: A's packet to C (S8) is
/// routed at A's port by node1's `RemoteSubnetRoute` for node2's pod subnet, toward node2's PA.
#[test]
fn a_route_step_names_the_layer_and_the_table() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Step, L4};
    let mut lab = Lab::s8_overlay(14, None, serde_json::Value::Null);
    lab.listen(ctr("C"), L4::Tcp, 80);
    let x = lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(40000));
    assert!(x.completed(), "{x}");
    let routes: Vec<(&str, &str, &str)> = x
        .request
        .hops
        .iter()
        .filter(|h| h.node == "node1")
        .flat_map(|h| &h.steps)
        .filter_map(|s| match s {
            Step::Route {
                table,
                prefix,
                next_hop,
            } => Some((table.as_str(), prefix.as_str(), next_hop.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        routes,
        [("ROUTE RemoteSubnetRoute", "10.244.2.0/24", "PA 10.0.0.12")],
        "{x}"
    );
}

/// The `QOS` meter is one counted lookup (the endpoint's token bucket) on every packet leaving
/// the endpoint: the same exchange from a metered pod, with a rate far above what it sends,
/// costs exactly one lookup more than from an unmetered one, first packet or established (the
/// reply enters the pod, unmetered).
#[test]
fn a_qos_meter_costs_one_lookup_per_packet_it_meters() {
    use hnsim_sim::testkit::{ctr, std_outbound_nat};
    use hnsim_sim::{Place, L4};
    let costs = |policies: serde_json::Value| {
        let (mut lab, _) = l2bridge_lab(policies, &[]);
        lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
        first_and_established(&mut lab, 40000, 40001, |lab, sport| {
            let x = lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(sport));
            assert!(x.completed(), "{x}");
        })
    };
    let qos =
        serde_json::json!({"Type": "QOS", "Settings": {"MaximumOutgoingBandwidthInBytes": 1_000_000_000u64}});
    let (first, est) = costs(serde_json::json!([std_outbound_nat()]));
    let (first_q, est_q) = costs(serde_json::json!([std_outbound_nat(), qos]));
    for (plain, metered) in [(first, first_q), (est, est_q)] {
        assert_eq!(
            (metered.table_lookups, metered.slow_path, metered.fast_path),
            (plain.table_lookups + 1, plain.slow_path, plain.fast_path),
            "metered {metered:?}, plain {plain:?}"
        );
    }
}

/// With `acl_default_allow_when_no_rules: false`, a direction without ACLs blocks: a pod with
/// none is denied by the ACL_SWITCH layer's default, while a pod whose ACLs (RuleType Switch)
/// allow the connection passes: the host ACL layer, empty, does not block it.
#[test]
fn without_allow_when_no_rules_only_a_direction_with_no_acls_blocks() {
    use hnsim_sim::testkit::{ctr, std_outbound_nat};
    use hnsim_sim::{Disposition, Place, L4};
    let allow_out = serde_json::json!({"Type": "ACL", "Settings": {"Protocols": "256", "Action": "Allow",
        "Direction": "Out", "Priority": 100, "RuleType": "Switch"}});
    let send = |policies: serde_json::Value| {
        let (mut lab, _) = l2bridge_lab(policies, &[]);
        lab.host_settings("node1", |d| d.acl_default_allow_when_no_rules = false);
        lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
        lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(40000))
    };
    let x = send(serde_json::json!([std_outbound_nat(), allow_out]));
    assert!(x.completed(), "{x}");
    let x = send(serde_json::json!([std_outbound_nat()]));
    match &x.request.disposition {
        Disposition::DeniedOut {
            layer, rule, reason, ..
        } => {
            assert_eq!((layer.as_str(), rule.as_str()), ("ACL_SWITCH", "default"), "{x}");
            // The reason names the setting that blocked, not the one for rule sets.
            assert!(
                reason.contains("acl_default_allow_when_no_rules off")
                    && !reason.contains("acl_default_block_when_rules_exist"),
                "{reason}"
            );
        }
        other => panic!("expected DeniedOut, found {other:?}\n{x}"),
    }
}

/// The host's outbound translation of a NAT network's pod is traced as WINNAT, of a shared
/// ICS network's pod as ICS: the layer that rewrote the source to the host's address.
#[test]
fn the_host_traces_nat_and_ics_egress_under_their_own_layer() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Place, Step, L4};
    for (kind, layer) in [("NAT", "WINNAT"), ("ICS", "ICS")] {
        let mut lab = Lab::common(16);
        let n = lab.network(
            "node1",
            serde_json::json!({"Name": kind.to_lowercase(), "Type": kind, "Ipams": [{"Type": "Static", "Subnets": [
                {"IpAddressPrefix": "172.30.0.0/24", "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
        );
        let a = lab.endpoint(
            "node1",
            n,
            serde_json::json!({"Name": "A", "IpConfigurations": [{"IpAddress": "172.30.0.10"}],
                "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}),
        );
        lab.container("node1", "A", &[a]);
        lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
        let x = lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(40000));
        assert!(x.completed(), "{kind}: {x}");
        let snat: Vec<&str> = x
            .request
            .hops
            .iter()
            .flat_map(|h| &h.steps)
            .filter_map(|s| match s {
                Step::Transform { layer, rule, .. } if rule == "outbound NAT to the host address" => {
                    Some(layer.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(snat, [layer], "{kind}: {x}");
        // The reply is translated back by the same layer that made the translation.
        let unsnat: Vec<&str> = x
            .reply
            .iter()
            .flat_map(|r| &r.hops)
            .flat_map(|h| &h.steps)
            .filter_map(|s| match s {
                Step::Transform { layer, .. } => Some(layer.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(unsnat, [layer], "{kind}: {x}");
    }
}

/// A metered frame costs exactly its IP length plus the 14-byte Ethernet header. At 20,000 B/s
/// the bucket holds 2,000 bytes and the clock stands still: after a 1,000-byte TCP payload (a
/// 1,054-byte frame) 946 bytes are left, so a 893-byte payload (947) is dropped, a 892-byte one
/// (946) passes, and then even an empty segment (54) is dropped.
#[test]
fn a_metered_frame_costs_its_ip_length_and_the_ethernet_header() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Place, SendRequest, L4};
    let mut lab = Lab::common(15);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "nat", "Type": "NAT", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "172.20.1.0/24",
            "Routes": [{"NextHop": "172.20.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let e = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"Policies": [{"Type": "QOS", "Settings": {"MaximumOutgoingBandwidthInBytes": 20000}}]}),
    );
    lab.container("node1", "P1", &[e]);
    lab.listen(Place::Station("client".into()), L4::Tcp, 80);
    let t0 = lab.w.now();
    let mut delivered = |len: u16| {
        let mut r = SendRequest::new(ctr("P1"), ip("10.0.0.50"), L4::Tcp, 80);
        r.src_port = Some(40000);
        r.data_len = len;
        lab.try_send(r).expect("send").request.disposition.is_delivered()
    };
    assert!(delivered(1000));
    assert!(!delivered(893), "947 bytes taken from 946");
    assert!(delivered(892), "946 bytes taken from 946");
    assert!(!delivered(0), "an empty bucket");
    // Each exchange moves the clock a little (1 µs); under 50 µs the bucket refills less than
    // a byte, so the edges above are exact.
    assert!(
        lab.w.now() - t0 < 50_000,
        "the clock moved {} ns",
        lab.w.now() - t0
    );
}

/// An endpoint `SDNRoute` the route layer matches is one rule evaluation, on the first packet
/// only: the same connection from pod A to the LAN costs exactly one evaluation more with the
/// route than without it (no ACLs, no NAT policy; r1 routes the pod subnet back to node1), and
/// an established packet none.
#[test]
fn an_sdn_route_counts_one_rule_evaluation_on_a_first_packet() {
    use hnsim_sim::testkit::{ctr, ip as ip4};
    use hnsim_sim::{Place, L4};
    let costs = |policies: serde_json::Value| {
        let (mut lab, _) = l2bridge_lab(policies, &[]);
        lab.w
            .add_router_route("r1", "10.244.1.0/24".parse().unwrap(), ip4("10.0.0.11"))
            .unwrap();
        lab.listen(Place::Station("client".into()), L4::Tcp, 80);
        first_and_established(&mut lab, 40000, 40001, |lab, sport| {
            let x = lab.send(ctr("A"), "10.0.0.50", L4::Tcp, 80, Some(sport));
            assert_eq!(x.request.delivered_to.as_deref(), Some("station:client"), "{x}");
            assert!(x.completed(), "{x}");
        })
    };
    let route = serde_json::json!([{"Type": "SDNRoute",
        "Settings": {"DestinationPrefix": "10.0.0.0/24", "NextHop": "0.0.0.0"}}]);
    let (first, est) = costs(serde_json::json!([]));
    let (first_r, est_r) = costs(route);
    assert_eq!(
        first_r.rule_evaluations,
        first.rule_evaluations + 1,
        "{first_r:?}, {first:?}"
    );
    assert_eq!(
        (est_r.rule_evaluations, est.rule_evaluations),
        (0, 0),
        "{est_r:?}, {est:?}"
    );
}

/// An endpoint `SDNRoute` without NeedEncap whose next hop is a real address sends the packet
/// onto the wire to that next hop, not up to the host stack: pod A's route to the client
/// (10.0.0.50/32) via r1 takes the packet through r1, although the host would reach the client
/// directly on the LAN. The frame leaves with the host's MAC (an L2Bridge endpoint; only a
/// Transparent one sends with its own).
#[test]
fn an_sdn_route_with_a_next_hop_sends_the_packet_to_it_on_the_wire() {
    use hnsim_sim::testkit::{ctr, ip as ip4};
    use hnsim_sim::{Place, Step, L4};
    let route = serde_json::json!([{"Type": "SDNRoute",
        "Settings": {"DestinationPrefix": "10.0.0.50/32", "NextHop": "10.0.0.1"}}]);
    let (mut lab, _) = l2bridge_lab(route, &[]);
    lab.w
        .add_router_route("r1", "10.244.1.0/24".parse().unwrap(), ip4("10.0.0.11"))
        .unwrap();
    lab.listen(Place::Station("client".into()), L4::Tcp, 80);
    let x = lab.send(ctr("A"), "10.0.0.50", L4::Tcp, 80, Some(40000));
    assert_eq!(x.request.delivered_to.as_deref(), Some("station:client"), "{x}");
    let nodes: Vec<&str> = x.request.hops.iter().map(|h| h.node.as_str()).collect();
    assert_eq!(nodes, ["node1", "r1", "client"], "{x}");
    let macs: Vec<String> = x.request.hops[0]
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Transform { rule, after, .. } if rule.starts_with("MAC rewrite") => {
                Some(format!("{} -> {}", after.src_mac, after.dst_mac))
            }
            _ => None,
        })
        .collect();
    assert_eq!(macs, ["00-15-5D-00-00-11 -> 00-00-5E-00-01-01"], "{x}");
}

/// WinNAT translates only sources of a NAT network (or a sharing ICS one): on a node that also
/// has Docker's `nat` network (listed first: the lower ID), a packet of an L2Bridge pod that
/// the host stack routes out (its `SDNRoute` hands it to the host) leaves with the pod's
/// address.
#[test]
fn winnat_leaves_a_packet_from_another_network_untranslated() {
    use hnsim_sim::testkit::{ctr, ip as ip4, Lab};
    use hnsim_sim::{Place, L4};
    let mut lab = Lab::common(17);
    lab.network(
        "node1",
        serde_json::json!({"ID": "00000000-0000-0000-0000-000000000001", "Name": "nat", "Type": "NAT", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "172.20.1.0/24",
            "Routes": [{"NextHop": "172.20.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let n = lab.network(
        "node1",
        serde_json::json!({"ID": "00000000-0000-0000-0000-000000000002", "Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
            "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let a = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"Name": "A", "IpConfigurations": [{"IpAddress": "10.244.1.10"}],
            "Policies": [{"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.0.0.0/24", "NextHop": "0.0.0.0"}}]}),
    );
    lab.container("node1", "A", &[a]);
    lab.w
        .add_router_route("r1", "10.244.1.0/24".parse().unwrap(), ip4("10.0.0.11"))
        .unwrap();
    lab.listen(Place::Station("client".into()), L4::Tcp, 80);
    let x = lab.send(ctr("A"), "10.0.0.50", L4::Tcp, 80, Some(40000));
    assert_eq!(x.request.delivered_to.as_deref(), Some("station:client"), "{x}");
    let seen = x.request.seen.as_ref().expect("seen");
    assert_eq!((seen.src, seen.src_port), (ip("10.244.1.10"), 40000), "{x}");
}

/// A `RemoteSubnetRoute` the overlay route layer matches is one rule evaluation: pod A's first
/// packet to pod C (S8) costs exactly one evaluation more when node1 routes it by its
/// RemoteSubnetRoute than when node1 holds a remote endpoint for C (looked up, not evaluated);
/// an established packet none either way.
#[test]
fn a_remote_subnet_route_counts_one_rule_evaluation_on_a_first_packet() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::L4;
    let costs = |remote_endpoint: bool| {
        let mut lab = Lab::s8_overlay(18, None, serde_json::Value::Null);
        if remote_endpoint {
            let n1 = *lab.w.hns("node1").unwrap().networks.keys().next().unwrap();
            lab.endpoint(
                "node1",
                n1,
                serde_json::json!({"IpConfigurations": [{"IpAddress": "10.244.2.10"}],
                    "MacAddress": "0E-2A-0a-f4-02-0a", "Flags": 1,
                    "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}),
            );
        }
        lab.listen(ctr("C"), L4::Tcp, 80);
        first_and_established(&mut lab, 40000, 40001, |lab, sport| {
            let x = lab.send(ctr("A"), "10.244.2.10", L4::Tcp, 80, Some(sport));
            assert_eq!(x.request.delivered_to.as_deref(), Some("container:C"), "{x}");
            assert!(x.completed(), "{x}");
        })
    };
    let (first, est) = costs(false);
    let (first_ep, est_ep) = costs(true);
    assert_eq!(
        first.rule_evaluations,
        first_ep.rule_evaluations + 1,
        "{first:?}, {first_ep:?}"
    );
    assert_eq!(
        (est.rule_evaluations, est_ep.rule_evaluations),
        (0, 0),
        "{est:?}, {est_ep:?}"
    );
}

/// WinNAT gives a NAT network pod's TCP and UDP connections a source port from the host's SNAT
/// pool (49152 up, `snat_first_port`), not the pod's own.
#[test]
fn winnat_gives_tcp_and_udp_a_port_from_the_hosts_pool() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Place, L4};
    let mut lab = Lab::common(19);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "nat", "Type": "NAT", "Ipams": [{"Type": "Static", "Subnets": [
            {"IpAddressPrefix": "172.30.0.0/24", "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let a = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"Name": "A", "IpConfigurations": [{"IpAddress": "172.30.0.10"}],
            "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}),
    );
    lab.container("node1", "A", &[a]);
    for l4 in [L4::Tcp, L4::Udp] {
        lab.listen(Place::Station("inet".into()), l4, 443);
        let x = lab.send(ctr("A"), "203.0.113.50", l4, 443, Some(40000));
        assert!(x.completed(), "{x}");
        let seen = x.request.seen.as_ref().expect("seen");
        assert_eq!(seen.src, ip("10.0.0.11"), "{x}");
        assert!((49152..=65535).contains(&seen.src_port), "{x}");
    }
}

/// A connection no rule of a non-empty ACL set matches is blocked by the default for rule sets,
/// and the denial names that setting (`acl_default_block_when_rules_exist`), not the one for
/// endpoints without rules: A may send only to TCP 443, so its connection to TCP 80 is denied.
#[test]
fn a_denial_by_the_rule_sets_default_names_its_setting() {
    use hnsim_sim::testkit::{ctr, std_outbound_nat};
    use hnsim_sim::{Disposition, Place, L4};
    let allow_443 = serde_json::json!({"Type": "ACL", "Settings": {"Protocols": "6", "Action": "Allow",
        "Direction": "Out", "RemotePorts": "443", "Priority": 100, "RuleType": "Switch"}});
    let (mut lab, _) = l2bridge_lab(serde_json::json!([std_outbound_nat(), allow_443]), &[]);
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    lab.listen(Place::Station("inet".into()), L4::Tcp, 80);
    let x = lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 443, Some(40000));
    assert!(x.completed(), "{x}");
    let x = lab.send(ctr("A"), "203.0.113.50", L4::Tcp, 80, Some(40001));
    match &x.request.disposition {
        Disposition::DeniedOut {
            layer, rule, reason, ..
        } => {
            assert_eq!((layer.as_str(), rule.as_str()), ("ACL_SWITCH", "default"), "{x}");
            assert!(
                reason.contains("acl_default_block_when_rules_exist")
                    && !reason.contains("acl_default_allow_when_no_rules"),
                "{reason}"
            );
        }
        other => panic!("expected DeniedOut, found {other:?}\n{x}"),
    }
}

/// WinNAT restores each reply to the pod whose connection it translated: two pods of one NAT
/// network reach the same server, and each gets its own reply.
#[test]
fn winnat_restores_each_reply_to_its_own_pod() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Place, L4};
    let mut lab = Lab::common(20);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "nat", "Type": "NAT", "Ipams": [{"Type": "Static", "Subnets": [
            {"IpAddressPrefix": "172.30.0.0/24", "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    for (name, addr) in [("A", "172.30.0.10"), ("B", "172.30.0.11")] {
        let e = lab.endpoint(
            "node1",
            n,
            serde_json::json!({"Name": name, "IpConfigurations": [{"IpAddress": addr}],
                "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}),
        );
        lab.container("node1", name, &[e]);
    }
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    for name in ["A", "B"] {
        let x = lab.send(ctr(name), "203.0.113.50", L4::Tcp, 443, Some(40000));
        let reply = x.reply.as_ref().expect("a reply");
        let to = format!("container:{name}");
        assert_eq!(reply.delivered_to.as_deref(), Some(to.as_str()), "{x}");
    }
}

/// The IPv6 route layer counts its lookups like the IPv4 one: once the neighbour caches are
/// warm, a dual-stack pod's new IPv6 connection to an address of another network on its node
/// (no host IPv6 route: dropped) costs exactly five lookups: A's neighbour cache (its gateway,
/// cached), then at A's port the flow table, the LB index, the ROUTE layer and the host's IPv6
/// routes.
#[test]
fn an_ipv6_first_packet_counts_its_route_lookups() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Disposition, SendRequest, L4};
    let mut lab = Lab::common(65);
    let cbr0 = dual_stack_net(&mut lab, "node1", "cbr0", 1);
    let cbr1 = dual_stack_net(&mut lab, "node1", "cbr1", 3);
    dual_stack_pod(&mut lab, "node1", cbr0, ("A", 1, 0x10), serde_json::json!([]));
    dual_stack_pod(&mut lab, "node1", cbr1, ("D", 3, 0x10), serde_json::json!([]));
    let send = |lab: &mut Lab, sport: u16| {
        let mut r = SendRequest::new(ctr("A"), ip("fd00:3::10"), L4::Tcp, 80);
        r.src_port = Some(sport);
        let x = lab.try_send(r).expect("send");
        assert!(
            matches!(&x.request.disposition, Disposition::NoRoute { .. }),
            "{x}"
        );
    };
    send(&mut lab, 40000);
    let cost = cost_of(&mut lab, |lab| send(lab, 40001));
    assert_eq!(
        (cost.table_lookups, cost.slow_path, cost.fast_path),
        (5, 1, 0),
        "{cost:?}"
    );
}

/// An ACL rule's ports apply to UDP as to TCP: A may send UDP only to port 53, so its UDP to 53
/// passes and its UDP to 54 is denied by the rule set's default (an ACL that saw no ports for
/// UDP would match neither and deny both).
#[test]
fn an_acl_rule_with_ports_matches_udp_by_its_ports() {
    use hnsim_sim::testkit::{ctr, std_outbound_nat};
    use hnsim_sim::{Disposition, Place, L4};
    let allow_53 = serde_json::json!({"Type": "ACL", "Settings": {"Protocols": "17", "Action": "Allow",
        "Direction": "Out", "RemotePorts": "53", "Priority": 100, "RuleType": "Switch"}});
    let (mut lab, _) = l2bridge_lab(serde_json::json!([std_outbound_nat(), allow_53]), &[]);
    lab.listen(Place::Station("inet".into()), L4::Udp, 53);
    lab.listen(Place::Station("inet".into()), L4::Udp, 54);
    let x = lab.send(ctr("A"), "203.0.113.50", L4::Udp, 53, Some(40000));
    assert!(x.completed(), "{x}");
    let x = lab.send(ctr("A"), "203.0.113.50", L4::Udp, 54, Some(40001));
    match &x.request.disposition {
        Disposition::DeniedOut { layer, rule, .. } => {
            assert_eq!((layer.as_str(), rule.as_str()), ("ACL_SWITCH", "default"), "{x}");
        }
        other => panic!("expected DeniedOut, found {other:?}\n{x}"),
    }
}

/// The route step of a Transparent endpoint names how it reached the destination: on-link for
/// an address of its own subnet (sent to that address), the default route otherwise (sent to
/// the gateway). T (node2, 10.0.0.60/24) sends to the client on its LAN and to the internet.
#[test]
fn a_transparent_endpoints_route_step_says_on_link_or_gateway() {
    use hnsim_sim::testkit::{ctr, Lab};
    use hnsim_sim::{Place, Step, L4};
    let mut lab = Lab::common(23);
    let n = lab.network(
        "node2",
        serde_json::json!({"Name": "ext", "Type": "Transparent", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.0.0.0/24",
            "Routes": [{"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let t = lab.endpoint(
        "node2",
        n,
        serde_json::json!({"Name": "T", "IpConfigurations": [{"IpAddress": "10.0.0.60"}], "MacAddress": "00-15-5D-00-00-60"}),
    );
    lab.container("node2", "T", &[t]);
    for (station, dst, route) in [
        ("client", "10.0.0.50", ("on-link", "10.0.0.50")),
        ("inet", "203.0.113.50", ("0.0.0.0/0", "10.0.0.1")),
    ] {
        lab.listen(Place::Station(station.into()), L4::Tcp, 80);
        let x = lab.send(ctr("T"), dst, L4::Tcp, 80, Some(40000));
        assert!(x.completed(), "{x}");
        let routes: Vec<(&str, &str)> = x.request.hops[0]
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Route { prefix, next_hop, .. } => Some((prefix.as_str(), next_hop.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(routes, [route], "{x}");
    }
}

/// A packet from the wire for a NAT network's pod is not switched to the pod's port by the
/// vSwitch (only a Transparent, L2Bridge, L2Tunnel or overlay endpoint is): r1 routes
/// 172.30.0.0/24 to node1, whose host stack routes it to the pod through its vNIC.
#[test]
fn a_nat_pod_is_reached_from_the_wire_through_the_host_stack() {
    use hnsim_sim::testkit::{ctr, ip as ip4, Lab};
    use hnsim_sim::{Place, L4};
    let mut lab = Lab::common(29);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "nat", "Type": "NAT", "Ipams": [{"Type": "Static", "Subnets": [
            {"IpAddressPrefix": "172.30.0.0/24", "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let a = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"Name": "A", "IpConfigurations": [{"IpAddress": "172.30.0.10"}],
            "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}),
    );
    lab.container("node1", "A", &[a]);
    lab.w
        .add_router_route("r1", "172.30.0.0/24".parse().unwrap(), ip4("10.0.0.11"))
        .unwrap();
    lab.listen(ctr("A"), L4::Tcp, 80);
    let x = lab.send(
        Place::Station("inet".into()),
        "172.30.0.10",
        L4::Tcp,
        80,
        Some(40000),
    );
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
    let ports: Vec<&str> = x.request.hops.iter().map(|h| h.port.as_str()).collect();
    assert_eq!(ports, ["eth0", "internet", "uplink", "host stack", "A"], "{x}");
}

/// A flow entry lives for its whole idle timeout: a lookup exactly `idle_timeout_ns` after its
/// last use still hits (and refreshes it), one a nanosecond past the refreshed timeout misses as
/// expired. The same bound keeps a pinned NAT restore from being replaced, so an entry
/// `insert_unless_pinned` still protects is one `lookup` still finds.
#[test]
fn a_flow_entry_lives_for_exactly_its_idle_timeout() {
    let mut t: FlowTable<u8> = FlowTable::new(1_000);
    let t1 = Tuple {
        proto: 6,
        src: ip("10.244.1.10"),
        sport: 40000,
        dst: ip("203.0.113.50"),
        dport: 443,
    };
    let a = key(Zone::Port(1), Dir::Out, t1);
    t.insert(a, 1, 7, 0);
    assert_eq!(t.lookup(&a, 7, 1_000), Ok(1));
    assert_eq!(t.lookup(&a, 7, 2_001), Err(Miss::Expired));
    let b = key(Zone::Uplink, Dir::In, t1.reversed());
    t.insert_pinned(b, 2, 0);
    t.insert_unless_pinned(b, 3, 7, 1_000);
    assert_eq!(t.lookup(&b, 7, 1_000), Ok(2), "the pinned entry is live");
}

/// An HNS service restart reprograms VFP, so a `QOS` meter starts full again: A (L2Bridge, a
/// network that survives the restart; 20,000 B/s, a 2,000-byte bucket) sends a 1,000-byte
/// payload, and a second right after it is rate-limited; after the restart the same passes.
#[test]
fn an_hns_restart_refills_the_qos_meters() {
    use hnsim_sim::testkit::{ctr, std_outbound_nat, Lab};
    use hnsim_sim::{Disposition, Fault, Place, SendRequest, L4};
    let qos = serde_json::json!({"Type": "QOS", "Settings": {"MaximumOutgoingBandwidthInBytes": 20000}});
    let (mut lab, _) = l2bridge_lab(serde_json::json!([std_outbound_nat(), qos]), &[]);
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    let send = |lab: &mut Lab| {
        let mut r = SendRequest::new(ctr("A"), ip("203.0.113.50"), L4::Tcp, 443);
        r.src_port = Some(40000);
        r.data_len = 1000;
        lab.try_send(r).expect("send")
    };
    let x = send(&mut lab);
    assert!(x.request.disposition.is_delivered(), "{x}");
    let x = send(&mut lab);
    assert!(
        matches!(x.request.disposition, Disposition::RateLimited { .. }),
        "{x}"
    );
    lab.w.fault(Fault::HnsRestart { host: "node1".into() }).unwrap();
    let x = send(&mut lab);
    assert!(x.request.disposition.is_delivered(), "{x}");
}

/// node1's NAT network 172.30.0.0/24 (gateway 172.30.0.1, the host vNIC) with pod N
/// (172.30.0.10), beside `l2bridge_lab`'s cbr0 and pod A.
fn nat_pod_beside_l2bridge() -> hnsim_sim::testkit::Lab {
    use hnsim_sim::testkit::std_outbound_nat;
    let (mut lab, _) = l2bridge_lab(serde_json::json!([std_outbound_nat()]), &[]);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "nat", "Type": "NAT", "Ipams": [{"Type": "Static", "Subnets": [
            {"IpAddressPrefix": "172.30.0.0/24", "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let e = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"Name": "N", "IpConfigurations": [{"IpAddress": "172.30.0.10"}],
            "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}),
    );
    lab.container("node1", "N", &[e]);
    lab
}

/// A pod of another vSwitch network on the same host is not switched to directly: N (NAT)
/// reaches A (L2Bridge) through its gateway, the host stack, which routes into cbr0.
#[test]
fn a_pod_of_another_network_on_the_host_is_reached_through_the_host_stack() {
    use hnsim_sim::testkit::ctr;
    use hnsim_sim::L4;
    let mut lab = nat_pod_beside_l2bridge();
    let x = lab.send(ctr("N"), "10.244.1.10", L4::Tcp, 8080, Some(40000));
    assert_eq!(x.request.delivered_to.as_deref(), Some("container:A"), "{x}");
    let ports: Vec<&str> = x.request.hops.iter().map(|h| h.port.as_str()).collect();
    assert_eq!(ports, ["N", "host stack", "A"], "{x}");
}
