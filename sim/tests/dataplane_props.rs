//! Properties of the packet path (proptest):
//! - every injected packet ends in exactly one disposition, and no packet loops forever;
//! - a NAT'd flow's reply reaches the sender with the original addresses restored;
//! - a packet sent to an LB VIP is only ever delivered to a backend of that LB;
//! - adding a Block ACL never makes a dropped flow deliverable;
//! - the same seed gives the same traces and the same pcap bytes.

use hnsim_model::Guid;
use hnsim_sim::testkit::{ctr, ip, mac, std_outbound_nat, Lab};
use hnsim_sim::{Disposition, Exchange, Place, RouterInterface, RouterSpec, SendRequest, L4};
use proptest::prelude::*;
use serde_json::{json, Value};

struct Pods {
    lab: Lab,
    a: Guid,
    b: Guid,
    c_remote: Guid,
    e_remote: Guid,
}

fn net(prefix: &str, gw: &str) -> Value {
    json!({"Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
        "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}]})
}

fn pod(name: &str, addr: &str, m: &str, gw: &str, node: &str, acls: &[Value]) -> Value {
    let mut p = vec![
        std_outbound_nat(),
        json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": true}}),
        json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": format!("{node}/32"), "NeedEncap": true}}),
    ];
    p.extend(acls.iter().cloned());
    json!({"Name": name, "IpConfigurations": [{"IpAddress": addr}], "MacAddress": m,
        "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}], "Policies": p})
}

/// flannel host-gw on two nodes: A, B on node1; C, E on node2 (C carries `c_acls`).
fn pods(seed: u64, c_acls: &[Value]) -> Pods {
    let mut lab = Lab::common(seed);
    lab.w
        .set_host_routes("node1", vec![("10.244.2.0/24".parse().unwrap(), ip("10.0.0.12"))])
        .unwrap();
    lab.w
        .set_host_routes("node2", vec![("10.244.1.0/24".parse().unwrap(), ip("10.0.0.11"))])
        .unwrap();
    let n1 = lab.network("node1", net("10.244.1.0/24", "10.244.1.1"));
    let n2 = lab.network("node2", net("10.244.2.0/24", "10.244.2.1"));
    let g1 = lab.endpoint(
        "node1",
        n1,
        json!({"IpConfigurations": [{"IpAddress": "10.244.1.2"}]}),
    );
    lab.host_attach("node1", &[g1]);
    let g2 = lab.endpoint(
        "node2",
        n2,
        json!({"IpConfigurations": [{"IpAddress": "10.244.2.2"}]}),
    );
    lab.host_attach("node2", &[g2]);
    let a = lab.endpoint(
        "node1",
        n1,
        pod(
            "A",
            "10.244.1.10",
            "00-15-5D-01-01-0A",
            "10.244.1.2",
            "10.0.0.11",
            &[],
        ),
    );
    let b = lab.endpoint(
        "node1",
        n1,
        pod(
            "B",
            "10.244.1.11",
            "00-15-5D-01-01-0B",
            "10.244.1.2",
            "10.0.0.11",
            &[],
        ),
    );
    let c = lab.endpoint(
        "node2",
        n2,
        pod(
            "C",
            "10.244.2.10",
            "00-15-5D-01-02-0A",
            "10.244.2.2",
            "10.0.0.12",
            c_acls,
        ),
    );
    let e = lab.endpoint(
        "node2",
        n2,
        pod(
            "E",
            "10.244.2.11",
            "00-15-5D-01-02-0B",
            "10.244.2.2",
            "10.0.0.12",
            &[],
        ),
    );
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.container("node2", "C", &[c]);
    lab.container("node2", "E", &[e]);
    let remote =
        |addr: &str, m: &str| json!({"IpConfigurations": [{"IpAddress": addr}], "MacAddress": m, "Flags": 1});
    let c_remote = lab.endpoint("node1", n1, remote("10.244.2.10", "02-11-0a-f4-02-0a"));
    let e_remote = lab.endpoint("node1", n1, remote("10.244.2.11", "02-11-0a-f4-02-0b"));
    for p in ["A", "B", "C", "E"] {
        for port in [80, 8080] {
            lab.listen(ctr(p), L4::Tcp, port);
            lab.listen(ctr(p), L4::Udp, port);
        }
    }
    lab.listen(Place::Station("inet".into()), L4::Tcp, 443);
    lab.listen(Place::Station("inet".into()), L4::Udp, 443);
    lab.listen(Place::Host("node1".into()), L4::Tcp, 22);
    Pods {
        lab,
        a,
        b,
        c_remote,
        e_remote,
    }
}

fn lb_doc(vip: &str, ext: u16, int: u16, proto: u32, dsr: bool, flags: u32) -> Value {
    let vips: Vec<&str> = if vip.is_empty() { vec![] } else { vec![vip] };
    json!({"FrontendVIPs": vips, "SourceVIP": "",
        "PortMappings": [{"Protocol": proto, "InternalPort": int, "ExternalPort": ext, "Flags": flags}],
        "Flags": if dsr { 1 } else { 0 }})
}

fn with_services(seed: u64) -> Pods {
    let mut p = pods(seed, &[]);
    let (a, c) = (p.a, p.c_remote);
    p.lab
        .lb("node1", &[a, c], lb_doc("10.96.0.50", 80, 8080, 6, false, 0));
    p.lab
        .lb("node1", &[a, c], lb_doc("10.96.0.51", 80, 8080, 17, false, 0));
    p.lab
        .lb("node1", &[c], lb_doc("10.96.0.52", 80, 8080, 6, true, 0));
    p.lab.lb("node1", &[a, c], lb_doc("", 30080, 8080, 6, false, 18));
    p
}

fn place(i: usize) -> Place {
    match i % 7 {
        0 => ctr("A"),
        1 => ctr("B"),
        2 => ctr("C"),
        3 => ctr("E"),
        4 => Place::Station("client".into()),
        5 => Place::Station("inet".into()),
        _ => Place::Host("node1".into()),
    }
}

const DSTS: &[&str] = &[
    "10.244.1.10",
    "10.244.1.11",
    "10.244.2.10",
    "10.244.2.11",
    "10.244.3.3",
    "10.96.0.50",
    "10.96.0.51",
    "10.96.0.52",
    "10.96.0.99",
    "10.0.0.11",
    "10.0.0.12",
    "10.0.0.50",
    "10.0.0.77",
    "203.0.113.50",
    "198.51.100.1",
];
const PORTS: &[u16] = &[80, 8080, 30080, 443, 22, 53];

fn proto(i: usize) -> L4 {
    [L4::Tcp, L4::Udp, L4::Icmp][i % 3]
}

#[derive(Clone, Debug)]
struct Req {
    from: usize,
    dst: usize,
    proto: usize,
    port: usize,
    sport: u16,
    ttl: u8,
    df: bool,
    len: u16,
}

fn req() -> impl Strategy<Value = Req> {
    (
        0..7usize,
        0..DSTS.len(),
        0..3usize,
        0..PORTS.len(),
        1024..65535u16,
        1..=255u8,
        any::<bool>(),
        0..1500u16,
    )
        .prop_map(|(from, dst, proto, port, sport, ttl, df, len)| Req {
            from,
            dst,
            proto,
            port,
            sport,
            ttl,
            df,
            len,
        })
}

fn to_request(r: &Req) -> SendRequest {
    let mut s = SendRequest::new(
        place(r.from),
        ip(DSTS[r.dst]).into(),
        proto(r.proto),
        PORTS[r.port],
    );
    s.src_port = Some(r.sport);
    s.ttl = Some(r.ttl);
    s.dont_fragment = r.df;
    s.data_len = r.len;
    s
}

fn check_shape(x: &Exchange) {
    let t = &x.request;
    assert_eq!(t.disposition.is_delivered(), t.delivered_to.is_some(), "{x}");
    assert_eq!(t.disposition.is_delivered(), t.seen.is_some(), "{x}");
    if let Some(r) = &x.reply {
        assert!(
            matches!(
                t.disposition,
                Disposition::Delivered | Disposition::NoListener { .. }
            ),
            "a reply only follows a packet that arrived: {x}"
        );
        assert_eq!(r.disposition.is_delivered(), r.delivered_to.is_some(), "{x}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_packet_ends_in_one_disposition(reqs in proptest::collection::vec(req(), 1..12), seed in 0..1000u64) {
        let mut p = with_services(seed);
        for r in &reqs {
            let x = p.lab.try_send(to_request(r)).expect("valid request");
            check_shape(&x);
        }
    }

    #[test]
    fn nat_reply_restores_the_original_addresses(sport in 1024..65535u16, which in 0..4usize, seed in 0..1000u64) {
        let mut p = with_services(seed);
        let (from, dst, proto, port) = match which {
            0 => (ctr("B"), "10.96.0.50", L4::Tcp, 80),
            1 => (ctr("B"), "10.96.0.51", L4::Udp, 80),
            2 => (ctr("A"), "203.0.113.50", L4::Tcp, 443),
            _ => (Place::Station("client".into()), "10.0.0.11", L4::Tcp, 30080),
        };
        let x = p.lab.send(from, dst, proto, port, Some(sport));
        prop_assert!(x.completed(), "{}", x);
        let s = x.reply.as_ref().unwrap().seen.unwrap();
        prop_assert_eq!((s.src, s.src_port, s.dst_port), (ip(dst).into(), port, sport));
        let sent_from = x.request.seen.unwrap();
        // The sender got it back on its own address (not the SNAT or VIP address).
        prop_assert_ne!(s.dst, sent_from.dst);
    }

    #[test]
    fn a_vip_only_delivers_to_its_backends(mask in 1..8u8, dsr in any::<bool>(), sports in proptest::collection::vec(1024..65535u16, 1..8), seed in 0..1000u64) {
        let mut p = pods(seed, &[]);
        let all = [(p.a, "container:A"), (p.c_remote, "container:C"), (p.e_remote, "container:E")];
        let chosen: Vec<_> = all.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, x)| *x).collect();
        let ids: Vec<Guid> = chosen.iter().map(|x| x.0).collect();
        p.lab.lb("node1", &ids, lb_doc("10.96.0.60", 80, 8080, 6, dsr, 0));
        for sp in sports {
            let x = p.lab.send(ctr("B"), "10.96.0.60", L4::Tcp, 80, Some(sp));
            if let Some(to) = &x.request.delivered_to {
                prop_assert!(chosen.iter().any(|c| c.1 == to), "delivered to {} outside {:?}", to, chosen);
            }
        }
        let _ = p.b;
    }

    #[test]
    fn a_block_acl_never_unblocks(
        rules in proptest::collection::vec((any::<bool>(), any::<bool>(), 100..2000u16, 0..4usize, 0..3usize), 0..5),
        extra in (any::<bool>(), 100..2000u16, 0..4usize, 0..3usize),
        flows in proptest::collection::vec((0..4usize, 0..2usize, 0..3usize, 1024..65535u16), 1..6),
        seed in 0..1000u64,
    ) {
        let remotes = ["10.244.1.0/24", "10.244.1.10", "10.0.0.0/24", ""];
        let ports = ["80", "8080", ""];
        let acl = |allow: bool, inbound: bool, prio: u16, r: usize, lp: usize| {
            let mut s = json!({"Action": if allow { "Allow" } else { "Block" }, "Direction": if inbound { "In" } else { "Out" },
                "Priority": prio, "RuleType": "Switch"});
            if !remotes[r].is_empty() { s["RemoteAddresses"] = json!(remotes[r]); }
            if !ports[lp].is_empty() { s["LocalPorts"] = json!(ports[lp]); s["Protocols"] = json!("6"); }
            json!({"Type": "ACL", "Settings": s})
        };
        let base: Vec<Value> = rules.iter().map(|&(al, inb, pr, r, lp)| acl(al, inb, pr, r, lp)).collect();
        let mut more = base.clone();
        more.push(acl(false, extra.0, extra.1, extra.2, extra.3));
        let mut w1 = pods(seed, &base);
        let mut w2 = pods(seed, &more);
        let froms = [ctr("A"), ctr("B"), Place::Station("client".into()), ctr("E")];
        for &(f, proto_i, port_i, sp) in &flows {
            let (pr, port) = ([L4::Tcp, L4::Udp][proto_i], [80u16, 8080, 443][port_i]);
            let x1 = w1.lab.send(froms[f].clone(), "10.244.2.10", pr, port, Some(sp));
            let x2 = w2.lab.send(froms[f].clone(), "10.244.2.10", pr, port, Some(sp));
            if !x1.request.disposition.is_delivered() {
                prop_assert!(!x2.request.disposition.is_delivered(), "before: {}\nafter: {}", x1, x2);
            }
        }
    }

    #[test]
    fn same_seed_same_traces_and_pcap(reqs in proptest::collection::vec(req(), 1..8), seed in 0..1000u64) {
        let run = || {
            let mut p = with_services(seed);
            p.lab.w.enable_pcap(&["node1/A".to_string(), "node2/C".to_string()]);
            let xs: Vec<Exchange> = reqs.iter().map(|r| p.lab.try_send(to_request(r)).unwrap()).collect();
            let pcaps: Vec<(String, Vec<u8>)> = p.lab.w.pcap().points().map(|pt| (pt.to_string(), p.lab.w.pcap().bytes(pt))).collect();
            (serde_json::to_string(&xs).unwrap(), pcaps)
        };
        prop_assert_eq!(run(), run());
    }
}

#[test]
fn a_routing_loop_ends_as_loop_or_ttl_exceeded() {
    let mut lab = Lab::new(9);
    lab.segment("a", "10.1.0.0/24");
    lab.segment("b", "10.2.0.0/24");
    let r = |name: &str, ip1: &str, m1: &str, ip2: &str, m2: &str, gw: &str| RouterSpec {
        name: name.into(),
        interfaces: vec![
            RouterInterface {
                segment: "a".into(),
                ip: ip(ip1),
                mac: mac(m1),
            },
            RouterInterface {
                segment: "b".into(),
                ip: ip(ip2),
                mac: mac(m2),
            },
        ],
        default_route: Some(ip(gw)),
        routes: vec![],
    };
    lab.w
        .add_router(r(
            "r1",
            "10.1.0.1",
            "00-00-5E-00-00-01",
            "10.2.0.1",
            "00-00-5E-00-00-02",
            "10.2.0.2",
        ))
        .unwrap();
    lab.w
        .add_router(r(
            "r2",
            "10.1.0.2",
            "00-00-5E-00-00-03",
            "10.2.0.2",
            "00-00-5E-00-00-04",
            "10.2.0.1",
        ))
        .unwrap();
    lab.station("s", "a", "10.1.0.10", "02-00-00-00-00-0A", Some("10.1.0.1"));
    for ttl in [1u8, 2, 5, 30, 64, 128, 255] {
        let mut req = SendRequest::new(Place::Station("s".into()), ip("192.0.2.1").into(), L4::Udp, 53);
        req.ttl = Some(ttl);
        let x = lab.try_send(req).unwrap();
        assert!(
            matches!(
                x.request.disposition,
                Disposition::TtlExceeded { .. } | Disposition::Loop { .. }
            ),
            "ttl {ttl}: {x}"
        );
        if ttl <= 5 {
            assert!(
                matches!(x.request.disposition, Disposition::TtlExceeded { .. }),
                "ttl {ttl}: {x}"
            );
        }
    }
}

/// Random network types, endpoint policies (some malformed) and LBs, fed through the HNS
/// operations (rejected documents are skipped), then random packets: nothing panics and every
/// packet ends in one well-formed disposition.
mod random_configs {
    use super::*;
    use hnsim_model::schema::{Endpoint, LoadBalancer, Network};

    const KINDS: &[&str] = &[
        "NAT",
        "ICS",
        "Transparent",
        "L2Bridge",
        "L2Tunnel",
        "Overlay",
        "Private",
        "Internal",
        "Mirrored",
    ];

    fn policy(i: usize) -> Value {
        match i % 12 {
            0 => std_outbound_nat(),
            1 => json!({"Type": "OutBoundNAT", "Settings": {"Destinations": ["10.244.1.10"]}}),
            2 => json!({"Type": "OutBoundNAT", "Settings": {"Exceptions": ["not-a-cidr"]}}),
            3 => {
                json!({"Type": "ACL", "Settings": {"Action": "Block", "Direction": "In", "Priority": 100, "RemotePorts": "80-70"}})
            }
            4 => {
                json!({"Type": "ACL", "Settings": {"Action": "Allow", "Direction": "Out", "Priority": 200, "Protocols": "6,17"}})
            }
            5 => {
                json!({"Type": "ACL", "Settings": {"Action": "Block", "Direction": "Out", "Priority": 300, "RemoteAddresses": "10.0.0.0/8"}})
            }
            6 => {
                json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": true}})
            }
            7 => {
                json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": "203.0.113.0/24", "NextHop": "10.0.0.1"}})
            }
            8 => {
                json!({"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080}})
            }
            9 => json!({"Type": "EncapOverhead", "Settings": {"Overhead": 50}}),
            10 => json!({"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}}),
            _ => json!({"Type": "L4Proxy", "Settings": {"Port": "15001"}}),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn random_configurations_never_panic(
            kind in 0..KINDS.len(),
            pols in proptest::collection::vec(proptest::collection::vec(0..12usize, 0..4), 1..4),
            lbs in proptest::collection::vec((0..3usize, any::<bool>(), 0..4usize), 0..4),
            reqs in proptest::collection::vec(req(), 1..8),
            seed in 0..1000u64,
        ) {
            let mut lab = Lab::common(seed);
            let mut n = json!({"Name": "n", "Type": KINDS[kind], "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
                "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}],
                "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}]});
            if KINDS[kind] == "Transparent" {
                n["Ipams"][0]["Subnets"][0]["IpAddressPrefix"] = json!("10.0.0.0/24");
                n["Ipams"][0]["Subnets"][0]["Routes"][0]["NextHop"] = json!("10.0.0.1");
            }
            let Ok(net) = serde_json::from_value::<Network>(n) else { return Ok(()) };
            let Ok(net) = lab.w.hns("node1").unwrap().network_create(Guid::ZERO, net) else { return Ok(()) };
            let base = if KINDS[kind] == "Transparent" { 60 } else { 10 };
            let mut eps = Vec::new();
            for (i, ps) in pols.iter().enumerate() {
                let names = ["A", "B", "C"];
                let addr = if KINDS[kind] == "Transparent" { format!("10.0.0.{}", base + i) } else { format!("10.244.1.{}", base + i) };
                let doc = json!({"Name": names[i], "HostComputeNetwork": net.to_string(), "IpConfigurations": [{"IpAddress": addr}],
                    "Policies": ps.iter().map(|p| policy(*p)).collect::<Vec<_>>()});
                let Ok(e) = serde_json::from_value::<Endpoint>(doc) else { continue };
                let hns = lab.w.hns("node1").unwrap();
                if let Ok(id) = hns.endpoint_create(Guid::ZERO, e) {
                    if hns.create_container(names[i], hnsim_model::state::Isolation::Process, &[id]).is_ok() {
                        let _ = hns.start_container(names[i]);
                    }
                    eps.push(id);
                }
            }
            for (i, &(backends, dsr, port)) in lbs.iter().enumerate() {
                let b: Vec<String> = eps.iter().take(backends + 1).map(|g| g.to_string()).collect();
                let vips = if port == 3 { vec![] } else { vec![format!("10.96.0.{}", 50 + i)] };
                let ext = [80u16, 8080, 443, 30080][port];
                let doc = json!({"HostComputeEndpoints": b, "FrontendVIPs": vips, "Flags": if dsr { 1 } else { 0 },
                    "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": ext}]});
                if let Ok(lb) = serde_json::from_value::<LoadBalancer>(doc) {
                    let _ = lab.w.hns("node1").unwrap().load_balancer_create(Guid::ZERO, lb);
                }
            }
            for name in ["A", "B", "C"] {
                let _ = lab.w.listen(&ctr(name), L4::Tcp, 80);
            }
            let _ = lab.w.compile_errors("node1").unwrap();
            for r in &reqs {
                let mut sr = to_request(r);
                if r.from < 4 {
                    sr.from = ctr(["A", "B", "C"][r.from % 3]);
                }
                match lab.try_send(sr) {
                    Ok(x) => check_shape(&x),
                    Err(e) => prop_assert!(!e.to_string().is_empty()),
                }
            }
        }
    }
}
