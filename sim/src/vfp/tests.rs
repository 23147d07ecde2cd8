//! Unit tests of [`Vfp`] without a `World` (smoltcp style): one host's VFP compiled from a real
//! HNS state, one frame (real bytes, checksums verified) in, one [`VfpAction`] out.
//!
//! The host: node1 (10.0.0.11) with an Overlay network 10.244.1.0/24 (VSID 4096, PA 10.0.0.11),
//! pods A (10.244.1.10) and B (10.244.1.11), the remote endpoint C (10.244.2.10 on PA
//! 10.0.0.12), and the ClusterIP 10.96.0.50:80 → C:8080 with SourceVIP 10.244.1.2.

use super::dataplane::{Env, Vfp, VfpAction};
use crate::host_stack::HostStack;
use crate::path::{Exit, Tracer};
use crate::settings::{Counters, DataplaneSettings};
use crate::testframes::{ip, mac, tcp_syn};
use crate::trace::Disposition;
use hnsim_model::schema::{Endpoint, LoadBalancer, Network};
use hnsim_model::state::{Hns, HostSettings, Isolation};
use hnsim_model::Guid;
use serde_json::{json, Value};
use std::net::IpAddr;

struct Host {
    vfp: Vfp,
    stack: HostStack,
    counters: Counters,
    nonce: u64,
    a: u32,
    b: u32,
    d: u32,
}

fn doc<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("HCN document")
}

fn host() -> Host {
    let mut hns = Hns::new(HostSettings::default(), 7);
    let net = hns
        .network_create(
            Guid::ZERO,
            doc::<Network>(json!({"Name": "vxlan0", "Type": "Overlay",
                "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
                    "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}],
                    "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}],
                "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}]})),
        )
        .expect("network");
    let mut endpoint = |v: Value| {
        let mut v = v;
        v["HostComputeNetwork"] = json!(net.to_string());
        hns.endpoint_create(Guid::ZERO, doc::<Endpoint>(v))
            .expect("endpoint")
    };
    let a = endpoint(
        json!({"IpConfigurations": [{"IpAddress": "10.244.1.10"}], "MacAddress": "0E-2A-0A-F4-01-0A"}),
    );
    let b = endpoint(
        json!({"IpConfigurations": [{"IpAddress": "10.244.1.11"}], "MacAddress": "0E-2A-0A-F4-01-0B"}),
    );
    let c = endpoint(
        json!({"IpConfigurations": [{"IpAddress": "10.244.2.10"}], "MacAddress": "02-11-0A-F4-02-0A",
        "Flags": 1, "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}),
    );
    // D may send nothing: one Switch ACL blocks every outbound packet.
    let d = endpoint(
        json!({"IpConfigurations": [{"IpAddress": "10.244.1.12"}], "MacAddress": "0E-2A-0A-F4-01-0C",
        "Policies": [{"Type": "ACL", "Settings": {"Id": "deny-all", "Action": "Block", "Direction": "Out",
            "RuleType": "Switch", "Priority": 100}}]}),
    );
    for (id, ep) in [("A", a), ("B", b), ("D", d)] {
        hns.create_container(id, Isolation::Process, &[ep])
            .expect("container");
        hns.start_container(id).expect("start");
    }
    let mut lb: LoadBalancer = doc(json!({"SourceVIP": "10.244.1.2", "FrontendVIPs": ["10.96.0.50"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}));
    lb.host_compute_endpoints = vec![c.to_string()];
    hns.load_balancer_create(Guid::ZERO, lb).expect("LB");

    let mut vfp = Vfp::new(
        ip("10.0.0.11"),
        mac("00-15-5D-00-00-11"),
        DataplaneSettings::default(),
    );
    vfp.compile(&hns, 1500);
    assert!(vfp.program().errors.is_empty(), "{:?}", vfp.program().errors);
    let mut stack = HostStack::new(true);
    stack.rebuild_routes(
        &vfp.program().host_routes,
        &[],
        Some(ip("10.0.0.1")),
        "10.0.0.0/24".parse().unwrap(),
    );
    let port = |g: Guid| vfp.program().port_by_ep[&g];
    let (a, b, d) = (port(a), port(b), port(d));
    Host {
        vfp,
        stack,
        counters: Counters::default(),
        nonce: 0,
        a,
        b,
        d,
    }
}

impl Host {
    fn env(&mut self) -> (&mut Vfp, Env<'_>) {
        let env = Env {
            now: 1_000,
            epoch: 0,
            seed: 42,
            node: "node1",
            nonce: &mut self.nonce,
            counters: &mut self.counters,
            stack: &self.stack,
        };
        (&mut self.vfp, env)
    }
}

const A_MAC: &str = "0E-2A-0A-F4-01-0A";
const B_MAC: &str = "0E-2A-0A-F4-01-0B";
const DR_MAC: &str = "00-15-5D-00-00-01";

fn forwarded(action: VfpAction) -> crate::path::FlowAction {
    match action {
        VfpAction::Forward(a) => a,
        other => panic!("expected a forward, got {other:?}"),
    }
}

#[test]
fn out_same_host_switches_to_the_peer_port_then_hits_the_flow_table() {
    let mut h = host();
    let (b, a) = (h.b, h.a);
    let frame = || {
        tcp_syn(
            (mac(A_MAC), mac(B_MAC)),
            (ip("10.244.1.10"), 40000),
            (ip("10.244.1.11"), 80),
            128,
        )
    };
    let mut pkt = frame();
    let (vfp, mut env) = h.env();
    let first = forwarded(vfp.on_port_out(&mut env, a, &mut pkt, &mut Tracer::new(false)));
    assert_eq!(first.exit, Exit::Port(b));
    assert_eq!(pkt, frame(), "no translation between two pods");
    let mut pkt = frame();
    let (vfp, mut env) = h.env();
    let again = forwarded(vfp.on_port_out(&mut env, a, &mut pkt, &mut Tracer::new(false)));
    assert_eq!(again, first);
    assert_eq!((h.counters.slow_path, h.counters.fast_path), (1, 1));
}

#[test]
fn out_cluster_ip_dnats_snats_and_encapsulates_toward_the_backend_pa() {
    let mut h = host();
    let a = h.a;
    let mut pkt = tcp_syn(
        (mac(A_MAC), mac(DR_MAC)),
        (ip("10.244.1.10"), 40000),
        (ip("10.96.0.50"), 80),
        128,
    );
    let (vfp, mut env) = h.env();
    let act = forwarded(vfp.on_port_out(&mut env, a, &mut pkt, &mut Tracer::new(false)));
    let Exit::Encap {
        outer_next_hop,
        pa,
        vni,
        udp_port,
        ..
    } = act.exit
    else {
        panic!("expected VXLAN encap, got {:?}", act.exit)
    };
    assert_eq!(
        (outer_next_hop, pa, vni, udp_port),
        (ip("10.0.0.12"), ip("10.0.0.12"), 4096, 4789)
    );
    assert_eq!(act.after.dst, IpAddr::V4(ip("10.244.2.10")));
    assert_eq!(act.after.dport, 8080);
    assert_eq!(
        act.after.src,
        IpAddr::V4(ip("10.244.1.2")),
        "SNAT to the SourceVIP"
    );
    assert!(act.after.sport >= 49152, "an SNAT port: {}", act.after.sport);
    assert_eq!(
        crate::path::tuple_of(&pkt),
        Some(act.after),
        "the packet carries the translation"
    );
}

#[test]
fn out_acl_block_drops_with_the_rule_that_decided() {
    let mut h = host();
    let d = h.d;
    let mut pkt = tcp_syn(
        (mac("0E-2A-0A-F4-01-0C"), mac(B_MAC)),
        (ip("10.244.1.12"), 40000),
        (ip("10.244.1.11"), 80),
        128,
    );
    let (vfp, mut env) = h.env();
    match vfp.on_port_out(&mut env, d, &mut pkt, &mut Tracer::new(false)) {
        VfpAction::Drop(b) if matches!(*b, Disposition::DeniedOut { .. }) => {
            let Disposition::DeniedOut { rule, priority, .. } = *b else {
                unreachable!()
            };
            assert_eq!((rule.as_str(), priority), ("deny-all", 100))
        }
        other => panic!("expected DeniedOut, got {other:?}"),
    }
}

#[test]
fn in_at_a_port_delivers_with_the_port_mac() {
    let mut h = host();
    let b = h.b;
    let mut pkt = tcp_syn(
        (mac(A_MAC), mac("00-00-00-00-00-00")),
        (ip("10.244.1.10"), 40000),
        (ip("10.244.1.11"), 80),
        128,
    );
    let (vfp, mut env) = h.env();
    let act = forwarded(vfp.on_port_in(&mut env, b, &mut pkt, &mut Tracer::new(false)));
    assert_eq!(act.exit, Exit::Deliver);
    assert_eq!(pkt.eth.dst, mac(B_MAC));
}

#[test]
fn from_uplink_decapsulated_goes_to_the_endpoint_or_is_dropped() {
    let mut h = host();
    let a = h.a;
    let mut pkt = tcp_syn(
        (mac(DR_MAC), mac(A_MAC)),
        (ip("10.244.2.10"), 8080),
        (ip("10.244.1.10"), 40000),
        127,
    );
    let (vfp, mut env) = h.env();
    let act = forwarded(vfp.on_uplink(&mut env, &mut pkt, Some(0), &mut Tracer::new(false)));
    assert_eq!(act.exit, Exit::Port(a));
    let mut pkt = tcp_syn(
        (mac(DR_MAC), mac(A_MAC)),
        (ip("10.244.2.10"), 8080),
        (ip("10.244.1.99"), 40000),
        127,
    );
    let (vfp, mut env) = h.env();
    match vfp.on_uplink(&mut env, &mut pkt, Some(0), &mut Tracer::new(false)) {
        VfpAction::Drop(b) if matches!(*b, Disposition::NoRoute { .. }) => {
            let Disposition::NoRoute { reason, .. } = *b else {
                unreachable!()
            };
            assert!(reason.contains("no endpoint with that address"), "{reason}")
        }
        other => panic!("expected NoRoute, got {other:?}"),
    }
}

#[test]
fn an_endpoint_with_an_unparsable_mac_is_a_compile_error_not_a_zero_mac() {
    let mut hns = Hns::new(HostSettings::default(), 7);
    let net = hns
        .network_create(
            Guid::ZERO,
            doc::<Network>(json!({"Name": "br", "Type": "L2Bridge",
                "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
                    "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]})),
        )
        .expect("network");
    // Validation would refuse this MAC; a restored state can still hold it.
    let mut ep: Endpoint = doc(json!({"IpConfigurations": [{"IpAddress": "10.244.1.10"}],
        "MacAddress": "not-a-mac", "HostComputeNetwork": net.to_string()}));
    ep.id = Guid(0xE1);
    hns.endpoints.insert(ep.id, ep);
    hns.generation += 1;
    let mut vfp = Vfp::new(
        ip("10.0.0.11"),
        mac("00-15-5D-00-00-11"),
        DataplaneSettings::default(),
    );
    vfp.compile(&hns, 1500);
    let prog = vfp.program();
    assert!(
        prog.ports.is_empty(),
        "no port with a made-up MAC: {:?}",
        prog.ports
    );
    assert_eq!(prog.errors.len(), 1, "{:?}", prog.errors);
    assert!(
        prog.errors[0].path.ends_with(".MacAddress"),
        "{:?}",
        prog.errors[0]
    );
    assert!(
        prog.errors[0].message.contains("not-a-mac"),
        "{:?}",
        prog.errors[0]
    );
}

/// WinNAT without a `World`: a container of a NAT network reaching past the host leaves with the
/// host's address and a port from the host's SNAT pool; the reply arriving on the uplink finds
/// the pinned reverse translation back to the container. An address no NAT network holds is
/// left alone.
#[test]
fn winnat_translates_a_nat_network_to_the_host_address_and_pins_the_reply() {
    let mut hns = Hns::new(HostSettings::default(), 7);
    let net = hns
        .network_create(
            Guid::ZERO,
            doc::<Network>(json!({"Name": "nat", "Type": "NAT",
                "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "172.20.0.0/16",
                    "Routes": [{"NextHop": "172.20.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]})),
        )
        .expect("network");
    let ep = hns
        .endpoint_create(
            Guid::ZERO,
            doc::<Endpoint>(json!({"IpConfigurations": [{"IpAddress": "172.20.0.5"}],
                "MacAddress": "00-15-5D-20-00-05", "HostComputeNetwork": net.to_string()})),
        )
        .expect("endpoint");
    hns.create_container("web", Isolation::Process, &[ep])
        .expect("container");
    hns.start_container("web").expect("start");
    let mut vfp = Vfp::new(
        ip("10.0.0.11"),
        mac("00-15-5D-00-00-11"),
        DataplaneSettings::default(),
    );
    vfp.compile(&hns, 1500);
    let stack = HostStack::new(true);
    let (mut nonce, mut counters) = (0, Counters::default());
    let mut env = Env {
        now: 1_000,
        epoch: 0,
        seed: 42,
        node: "node1",
        nonce: &mut nonce,
        counters: &mut counters,
        stack: &stack,
    };
    let t = crate::vfp::Tuple {
        proto: 6,
        src: IpAddr::V4(ip("172.20.0.5")),
        sport: 40000,
        dst: IpAddr::V4(ip("93.184.216.34")),
        dport: 443,
    };
    let mut tr = Tracer::new(false);
    let after = vfp
        .winnat_out(&mut env, t, ip("10.0.0.1"), &mut tr)
        .expect("translated");
    assert_eq!(after.src, IpAddr::V4(ip("10.0.0.11")), "the host's address");
    assert_ne!(after.sport, 0);
    assert_eq!((after.dst, after.dport), (t.dst, t.dport));
    // The reply on the uplink: restored to the container by the pinned entry.
    let reply = after.reversed();
    let restored = vfp
        .probe(&mut env, crate::vfp::Zone::Uplink, crate::vfp::Dir::In, reply)
        .expect("a pinned reverse translation");
    assert_eq!(restored.after, t.reversed());
    assert!(
        matches!(restored.exit, Exit::Restore { .. }),
        "{:?}",
        restored.exit
    );
    // The host's own traffic is not WinNAT's.
    let own = crate::vfp::Tuple {
        src: IpAddr::V4(ip("10.0.0.11")),
        ..t
    };
    assert_eq!(vfp.winnat_out(&mut env, own, ip("10.0.0.1"), &mut tr), Ok(own));
}

/// A host notes its LB choices for `hnsim reach`: the first since the note was cleared, and up
/// to `LbSteer::KEPT` later ones in order (`choices` counts them all, so reach can tell a way
/// it cannot enumerate). Pod A opens ten connections to the ClusterIP.
#[test]
fn a_host_notes_its_first_lb_choice_and_up_to_kept_later_ones() {
    use super::lb::LbSteer;
    let mut h = host();
    let a = h.a;
    for sport in 40000..40010 {
        let mut pkt = tcp_syn(
            (mac(A_MAC), mac(DR_MAC)),
            (ip("10.244.1.10"), sport),
            (ip("10.96.0.50"), 80),
            128,
        );
        let (vfp, mut env) = h.env();
        forwarded(vfp.on_port_out(&mut env, a, &mut pkt, &mut Tracer::new(false)));
    }
    let s = &h.vfp.lb_steer;
    assert_eq!(s.choices, 10);
    assert_eq!(s.first.map(|c| c.tuple.sport), Some(40000));
    let later: Vec<u16> = s.later.iter().map(|c| c.tuple.sport).collect();
    assert_eq!(later, (40001..40001 + LbSteer::KEPT as u16).collect::<Vec<_>>());
    assert!(s.later.windows(2).all(|w| w[0].nonce < w[1].nonce));
}

/// `hnsim reach`'s steer picks the backend only where the LB spreads connections: with source
/// affinity (`LoadBalancerDistribution` 1) the source address fixes the backend, so a steered
/// index is consumed (each choice takes one) but not followed; without it, it is.
#[test]
fn a_steered_lb_choice_is_followed_only_where_the_lb_spreads() {
    use super::lb::{dnat, Backend, LbMapping, LbSteer};
    let backend = |g: u128, a: &str| Backend {
        endpoint: Guid(g),
        ip: IpAddr::V4(ip(a)),
    };
    let mapping = |distribution: u32| LbMapping {
        lb: Guid(1),
        proto: 6,
        external_port: 80,
        internal_port: 8080,
        vips: vec![IpAddr::V4(ip("10.96.0.50"))],
        source_vip: None,
        dsr: false,
        flags: 0,
        distribution,
        backends: vec![backend(10, "10.244.1.10"), backend(11, "10.244.1.11")],
    };
    let t = crate::vfp::Tuple {
        proto: 6,
        src: IpAddr::V4(ip("10.244.1.20")),
        sport: 40000,
        dst: IpAddr::V4(ip("10.96.0.50")),
        dport: 80,
    };
    let pick = |m: &LbMapping, steer: &mut LbSteer| {
        let mut tr = Tracer::new(false);
        dnat(m, t, 42, 1, true, "node1", steer, &mut tr)
            .expect("a backend")
            .0
            .ip
    };
    let affinity = mapping(1);
    let own = pick(&affinity, &mut LbSteer::default());
    for k in 0..2 {
        let mut steer = LbSteer::default();
        steer.take.push_back(k);
        assert_eq!(pick(&affinity, &mut steer), own, "affinity, steered to {k}");
        assert!(steer.take.is_empty(), "the steered index is consumed");
        let spreading = mapping(0);
        steer.take.push_back(k);
        assert_eq!(
            pick(&spreading, &mut steer),
            spreading.backends[k as usize].ip,
            "spreading, steered to {k}"
        );
    }
}

/// The ROUTE layer of a NAT network's port: an address of the network that no endpoint holds
/// is unroutable there ("no endpoint"), everything off the network goes up the host vNIC. One
/// frame each from pod N (172.30.0.10) to its gateway's MAC (a stale neighbour entry would send
/// it so; the pod's own stack ARPs for on-link addresses).
#[test]
fn a_nat_port_routes_off_network_addresses_to_the_host_and_drops_unclaimed_ones() {
    const N_MAC: &str = "00-15-5D-1E-00-0A";
    const HOST_VNIC: &str = "00-15-5D-00-00-11";
    let mut hns = Hns::new(HostSettings::default(), 7);
    let net = hns
        .network_create(
            Guid::ZERO,
            doc::<Network>(json!({"Name": "nat", "Type": "NAT",
                "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "172.30.0.0/24",
                    "Routes": [{"NextHop": "172.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]})),
        )
        .expect("network");
    let n = hns
        .endpoint_create(
            Guid::ZERO,
            doc::<Endpoint>(json!({"IpConfigurations": [{"IpAddress": "172.30.0.10"}],
                "MacAddress": N_MAC, "HostComputeNetwork": net.to_string()})),
        )
        .expect("endpoint");
    hns.create_container("N", Isolation::Process, &[n])
        .expect("container");
    hns.start_container("N").expect("start");
    let mut vfp = Vfp::new(ip("10.0.0.11"), mac(HOST_VNIC), DataplaneSettings::default());
    vfp.compile(&hns, 1500);
    assert!(vfp.program().errors.is_empty(), "{:?}", vfp.program().errors);
    let p = vfp.program().port_by_ep[&n];
    let stack = HostStack::new(true);
    let (mut nonce, mut counters) = (0, Counters::default());
    let mut send = |dst: &str| {
        let mut env = Env {
            now: 1_000,
            epoch: 0,
            seed: 42,
            node: "node1",
            nonce: &mut nonce,
            counters: &mut counters,
            stack: &stack,
        };
        let mut pkt = tcp_syn(
            (mac(N_MAC), mac(HOST_VNIC)),
            (ip("172.30.0.10"), 40000),
            (ip(dst), 80),
            128,
        );
        vfp.on_port_out(&mut env, p, &mut pkt, &mut Tracer::new(false))
    };
    assert_eq!(forwarded(send("203.0.113.50")).exit, Exit::HostStack);
    match send("172.30.0.99") {
        VfpAction::Drop(b) => match *b {
            Disposition::NoRoute { reason, .. } => {
                assert_eq!(reason, "no endpoint with 172.30.0.99 on network nat")
            }
            other => panic!("expected NoRoute, got {other:?}"),
        },
        other => panic!("expected a drop, got {other:?}"),
    }
}
