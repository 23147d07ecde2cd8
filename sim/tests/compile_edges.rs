//! Edges of the compile (`sim/src/compile.rs`, `sim/src/compile/`): one HNS state compiled
//! into a host program, checked in what the packet path reads (kinds, gateways, routes, host
//! routes, LB entries) or in the `CompileError`s it reports. Each test names the behaviour a
//! mutation run found unchecked (docs/testing.md, "Recorded runs").

use hnsim_model::document::HnsDocument;
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::Guid;
use hnsim_sim::compile::{compile, HostInfo, HostProgram, NetKind, Via};
use serde_json::{json, Value};

fn info() -> HostInfo {
    HostInfo {
        ip: "10.0.0.11".parse().unwrap(),
        mac: "00-15-5D-00-00-11".parse().unwrap(),
        mtu: 1500,
        container_mtu_reduction: 0,
        empty_source_vip_uses_node_ip: true,
    }
}

/// A state of the given documents, imported without validation (a restored state).
fn imported(docs: Vec<(&str, Value)>) -> Hns {
    let mut hns = Hns::new(HostSettings::default(), 7);
    let docs = docs.into_iter().map(|(kind, doc)| match kind {
        "network" => HnsDocument::Network(serde_json::from_value(doc).expect("network document")),
        "endpoint" => HnsDocument::Endpoint(serde_json::from_value(doc).expect("endpoint document")),
        "lb" => HnsDocument::LoadBalancer(serde_json::from_value(doc).expect("LB document")),
        other => panic!("no document kind {other}"),
    });
    hns.import(docs);
    hns
}

fn program(hns: &Hns) -> HostProgram {
    compile(hns, &info(), None)
}

fn errors(p: &HostProgram) -> Vec<String> {
    p.errors
        .iter()
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect()
}

fn net_id(i: u128) -> String {
    Guid(0xAA00 + i).to_string()
}

/// A network document of `kind` with one IPv4 subnet 10.(20+i).0.0/24, gateway .1.
fn network(i: u128, kind: &str) -> Value {
    json!({"ID": net_id(i), "Name": format!("{kind}{i}"), "Type": kind,
        "Ipams": [{"Subnets": [{"IpAddressPrefix": format!("10.{}.0.0/24", 20 + i),
            "Routes": [{"NextHop": format!("10.{}.0.1", 20 + i), "DestinationPrefix": "0.0.0.0/0"}]}]}]})
}

#[test]
fn every_hns_network_type_compiles_to_its_dataplane_kind() {
    let kinds = [
        ("NAT", NetKind::Nat),
        ("ICS", NetKind::Ics),
        ("ConstrainedICS", NetKind::Ics),
        ("Transparent", NetKind::Transparent),
        ("L2Bridge", NetKind::L2Bridge),
        ("L2Tunnel", NetKind::L2Tunnel),
        ("Overlay", NetKind::Overlay),
        ("Private", NetKind::Private),
        ("Internal", NetKind::Internal),
        ("Mirrored", NetKind::Other),
    ];
    let docs = kinds
        .iter()
        .enumerate()
        .map(|(i, (t, _))| ("network", network(i as u128, t)))
        .collect();
    let p = program(&imported(docs));
    let got: Vec<_> = p.networks.iter().map(|n| (n.name.clone(), n.kind)).collect();
    let want: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(i, (t, k))| (format!("{t}{i}"), *k))
        .collect();
    assert_eq!(got, want);
    // L2Tunnel: all its traffic goes through the host, so the host routes into its subnet.
    let tunnel = p
        .host_routes
        .iter()
        .find(|r| r.origin == "L2Tunnel")
        .expect("a host route into the L2Tunnel network");
    assert_eq!(tunnel.prefix, "10.25.0.0/24".parse().unwrap());
    assert_eq!(tunnel.via, Via::Switch(5));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

/// A dual-stack network: each subnet's gateway is the next hop of its family's default route,
/// and an endpoint without routes of its own takes both (`gateway`, `gateway6`) from there.
#[test]
fn a_dual_stack_subnet_gives_its_endpoints_both_gateways() {
    let net = json!({"ID": net_id(1), "Name": "dual", "Type": "L2Bridge",
        "Ipams": [{"Subnets": [
            {"IpAddressPrefix": "10.30.0.0/24",
                "Routes": [{"NextHop": "10.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]},
            {"IpAddressPrefix": "fd00:30::/64",
                "Routes": [{"NextHop": "fd00:30::1", "DestinationPrefix": "::/0"}]}]}]});
    let ep = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "MacAddress": "00-15-5D-00-30-05",
        "IpConfigurations": [{"IpAddress": "10.30.0.5"}, {"IpAddress": "fd00:30::5"}]});
    let p = program(&imported(vec![("network", net), ("endpoint", ep)]));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let n = &p.networks[0];
    assert_eq!(
        n.subnets,
        [(
            "10.30.0.0/24".parse().unwrap(),
            Some("10.30.0.1".parse().unwrap())
        )]
    );
    assert_eq!(
        n.subnets6,
        [(
            "fd00:30::/64".parse().unwrap(),
            Some("fd00:30::1".parse().unwrap())
        )]
    );
    let port = &p.ports[0];
    assert_eq!(port.gateway, Some("10.30.0.1".parse().unwrap()));
    assert_eq!(port.ip6, Some("fd00:30::5".parse().unwrap()));
    assert_eq!(port.gateway6, Some("fd00:30::1".parse().unwrap()));
}

/// An empty `SourceVIP` (P3): the node's IPv4 address on older HNS, the LB's first VIP on newer
/// WS2019 builds (the `empty_source_vip_uses_node_ip` host fact), and none for an IPv6 LB (the
/// node's IPv4 address is no IPv6 source).
#[test]
fn an_empty_source_vip_is_the_node_ip_the_first_vip_or_none_for_ipv6() {
    let net = network(1, "L2Bridge");
    let ep = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "MacAddress": "00-15-5D-00-21-05",
        "IpConfigurations": [{"IpAddress": "10.21.0.5"}, {"IpAddress": "fd00:21::5"}]});
    let lb = |id: u128, vips: Value, flags: u32| {
        json!({"ID": Guid(id).to_string(), "HostComputeEndpoints": [Guid(0xE1).to_string()],
            "FrontendVIPs": vips, "SourceVIP": "", "Flags": flags,
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]})
    };
    let hns = imported(vec![
        ("network", net),
        ("endpoint", ep),
        ("lb", lb(0xB1, json!(["10.96.0.10", "10.96.0.11"]), 0)),
        ("lb", lb(0xB2, json!(["fd00:96::10"]), 2)),
    ]);
    let sources = |info: &HostInfo| {
        let p = compile(&hns, info, None);
        assert!(errors(&p).is_empty(), "{:?}", errors(&p));
        let got: Vec<_> = p
            .lbs
            .mappings()
            .iter()
            .map(|m| {
                (
                    m.lb,
                    m.source_vip,
                    m.backends.iter().map(|b| b.ip).collect::<Vec<_>>(),
                )
            })
            .collect();
        got
    };
    let v4_backend = vec!["10.21.0.5".parse().unwrap()];
    let v6_backend = vec!["fd00:21::5".parse().unwrap()];
    assert_eq!(
        sources(&info()),
        [
            (Guid(0xB1), Some("10.0.0.11".parse().unwrap()), v4_backend.clone()),
            (Guid(0xB2), None, v6_backend.clone()),
        ],
        "older HNS: the node's IP"
    );
    let newer = HostInfo {
        empty_source_vip_uses_node_ip: false,
        ..info()
    };
    assert_eq!(
        sources(&newer),
        [
            (Guid(0xB1), Some("10.96.0.10".parse().unwrap()), v4_backend),
            (Guid(0xB2), None, v6_backend),
        ],
        "newer WS2019: the first VIP"
    );
}

/// An overlay network routes its subnets through the host only with the `HostRoute` policy.
#[test]
fn the_host_route_policy_routes_an_overlay_subnet_through_the_host() {
    let with = json!({"ID": net_id(1), "Name": "with", "Type": "Overlay",
        "Ipams": [{"Subnets": [{"IpAddressPrefix": "10.41.0.0/24",
            "Routes": [{"NextHop": "10.41.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}],
        "Policies": [{"Type": "HostRoute", "Settings": {}}]});
    let without = network(2, "Overlay");
    let p = program(&imported(vec![("network", with), ("network", without)]));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    assert_eq!(
        p.networks.iter().map(|n| n.host_route).collect::<Vec<_>>(),
        [true, false]
    );
    let routes: Vec<_> = p
        .host_routes
        .iter()
        .map(|r| (r.prefix.to_string(), r.via, r.origin))
        .collect();
    assert_eq!(
        routes,
        [("10.41.0.0/24".to_string(), Via::Switch(0), "HostRoute policy")]
    );
    assert!(
        p.host_addrs.is_empty(),
        "an overlay has no host vNIC at its gateway"
    );
}
