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
        "namespace" => HnsDocument::Namespace(serde_json::from_value(doc).expect("namespace document")),
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

/// An endpoint's own default routes win over its subnet's gateways; a second default route is
/// not programmed, and one whose next hop does not read is still reported.
#[test]
fn an_endpoints_own_default_routes_are_its_gateways_and_a_second_one_is_reported_not_routed() {
    let net = json!({"ID": net_id(1), "Name": "dual", "Type": "L2Bridge",
        "Ipams": [{"Subnets": [
            {"IpAddressPrefix": "10.30.0.0/24",
                "Routes": [{"NextHop": "10.30.0.1", "DestinationPrefix": "0.0.0.0/0"}]},
            {"IpAddressPrefix": "fd00:30::/64",
                "Routes": [{"NextHop": "fd00:30::1", "DestinationPrefix": "::/0"}]}]}]});
    let ep = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "MacAddress": "00-15-5D-00-30-05",
        "IpConfigurations": [{"IpAddress": "10.30.0.5"}, {"IpAddress": "fd00:30::5"}],
        "Routes": [{"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.30.0.254"},
            {"DestinationPrefix": "::/0", "NextHop": "fd00:30::fe"},
            {"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.30.0.253"},
            {"DestinationPrefix": "0.0.0.0/0", "NextHop": "gateway"},
            {"DestinationPrefix": "10.9.0.0/16", "NextHop": "10.30.0.2"}]});
    let p = program(&imported(vec![("network", net), ("endpoint", ep)]));
    let port = &p.ports[0];
    assert_eq!(port.gateway, Some("10.30.0.254".parse().unwrap()));
    assert_eq!(port.gateway6, Some("fd00:30::fe".parse().unwrap()));
    let routes: Vec<_> = port.routes.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(routes.len(), 1, "only 10.9.0.0/16: {routes:?}");
    assert!(routes[0].contains("10.9.0.0/16"), "{routes:?}");
    assert_eq!(
        errors(&p),
        [format!(
            "endpoints[{}].Routes[3].NextHop: expected an IPv4 address, found \"gateway\"",
            Guid(0xE1)
        )]
    );
}

/// The port's MTU: the host's, less the network type's encapsulation (VXLAN on an overlay)
/// unless an `EncapOverhead` policy names it, less the container reduction.
#[test]
fn a_port_mtu_takes_off_the_overlay_encapsulation_or_the_policys_overhead() {
    let ep = |id: u128, net: u128, ip: &str, policies: Value| {
        json!({"ID": Guid(id).to_string(), "HostComputeNetwork": net_id(net),
            "MacAddress": format!("00-15-5D-00-00-{id:02X}"),
            "IpConfigurations": [{"IpAddress": ip}], "Policies": policies})
    };
    let hns = imported(vec![
        ("network", network(1, "Overlay")),
        ("network", network(2, "L2Bridge")),
        ("endpoint", ep(0x11, 1, "10.21.0.5", json!([]))),
        ("endpoint", ep(0x12, 2, "10.22.0.5", json!([]))),
        (
            "endpoint",
            ep(
                0x13,
                1,
                "10.21.0.6",
                json!([{"Type": "EncapOverhead", "Settings": {"Overhead": 20}}]),
            ),
        ),
    ]);
    let info = HostInfo {
        container_mtu_reduction: 4,
        ..info()
    };
    let p = compile(&hns, &info, None);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let mtus: Vec<_> = p.ports.iter().map(|p| (p.ip.to_string(), p.mtu)).collect();
    let vxlan = hnsim_sim::packet::VXLAN_OVERHEAD;
    assert_eq!(
        mtus,
        [
            ("10.21.0.5".to_string(), 1500 - vxlan - 4),
            ("10.22.0.5".to_string(), 1500 - 4),
            ("10.21.0.6".to_string(), 1500 - 20 - 4),
        ]
    );
}

/// A port is host-attached (its address is the host's) in a namespace of type HostDefault or
/// in the host's default compartment (1), whichever says so.
#[test]
fn a_port_in_a_host_default_namespace_or_compartment_is_host_attached() {
    let ns = |id: u128, compartment: u32, kind: &str| {
        json!({"ID": Guid(id).to_string(), "NamespaceId": compartment, "Type": kind,
            "SchemaVersion": {"Major": 2, "Minor": 0}})
    };
    let ep = |id: u128, ns: u128, ip: &str| {
        json!({"ID": Guid(id).to_string(), "HostComputeNetwork": net_id(1),
            "HostComputeNamespace": Guid(ns).to_string(),
            "MacAddress": format!("00-15-5D-00-00-{id:02X}"), "IpConfigurations": [{"IpAddress": ip}]})
    };
    let hns = imported(vec![
        ("network", network(1, "L2Bridge")),
        ("namespace", ns(0xC1, 7, "HostDefault")),
        ("namespace", ns(0xC2, 1, "Host")),
        ("namespace", ns(0xC3, 8, "Guest")),
        ("endpoint", ep(0x11, 0xC1, "10.21.0.5")),
        ("endpoint", ep(0x12, 0xC2, "10.21.0.6")),
        ("endpoint", ep(0x13, 0xC3, "10.21.0.7")),
    ]);
    let p = program(&hns);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let attached: Vec<_> = p
        .ports
        .iter()
        .map(|p| (p.ip.to_string(), p.host_attached))
        .collect();
    assert_eq!(
        attached,
        [
            ("10.21.0.5".to_string(), true),
            ("10.21.0.6".to_string(), true),
            ("10.21.0.7".to_string(), false),
        ]
    );
    assert_eq!(
        p.host_addrs,
        [
            "10.21.0.5".parse::<std::net::Ipv4Addr>().unwrap(),
            "10.21.0.6".parse().unwrap()
        ]
    );
}

/// ACL rules land in the layer (`RuleType`: Switch → VFP, Host → WFP) and direction they name.
#[test]
fn acl_rules_are_sorted_by_layer_and_direction() {
    let acl = |prio: u32, dir: &str, layer: &str| {
        json!({"Type": "ACL", "Settings": {"Action": "Allow", "Direction": dir, "RuleType": layer,
            "Priority": prio}})
    };
    let ep = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "MacAddress": "00-15-5D-00-21-05", "IpConfigurations": [{"IpAddress": "10.21.0.5"}],
        "Policies": [acl(101, "In", "Switch"), acl(102, "Out", "Switch"), acl(103, "In", "Host"),
            acl(104, "Out", "Host")]});
    let p = program(&imported(vec![
        ("network", network(1, "L2Bridge")),
        ("endpoint", ep),
    ]));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let port = &p.ports[0];
    let prios = |s: &hnsim_sim::vfp::acl::AclSet| s.rules.iter().map(|r| r.priority).collect::<Vec<_>>();
    assert_eq!(
        [
            &port.acl_switch[0],
            &port.acl_switch[1],
            &port.acl_host[0],
            &port.acl_host[1]
        ]
        .map(prios),
        [[101], [102], [103], [104]]
    );
}

/// An incremental compile sees a change to any port of an LB's port mapping (the LB's
/// fingerprint covers both), and gives what a full compile gives.
#[test]
fn a_changed_lb_port_is_recompiled_incrementally() {
    let ep = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "MacAddress": "00-15-5D-00-21-05", "IpConfigurations": [{"IpAddress": "10.21.0.5"}]});
    let lb = json!({"ID": Guid(0xB1).to_string(), "HostComputeEndpoints": [Guid(0xE1).to_string()],
        "FrontendVIPs": ["10.96.0.10"], "SourceVIP": "10.21.0.100",
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]});
    let mut hns = imported(vec![
        ("network", network(1, "L2Bridge")),
        ("endpoint", ep),
        ("lb", lb),
    ]);
    let mut prog = program(&hns);
    let ports = |p: &HostProgram| {
        p.lbs
            .mappings()
            .iter()
            .map(|m| (m.external_port, m.internal_port))
            .collect::<Vec<_>>()
    };
    assert_eq!(ports(&prog), [(80, 8080)]);
    for (internal, external) in [(9090, 80), (9090, 81), (9091, u16::MAX)] {
        let lb = hns.load_balancers.get_mut(&Guid(0xB1)).expect("the LB");
        lb.port_mappings[0].internal_port = internal;
        lb.port_mappings[0].external_port = external;
        hns.generation += 1;
        hns.rebuild_indexes();
        prog = compile(&hns, &info(), Some(&prog));
        assert!(!prog.stats.full);
        assert_eq!(prog.stats.lbs_rebuilt, 1, "{internal} {external}");
        assert_eq!(ports(&prog), [(external, internal)]);
        assert_eq!(ports(&prog), ports(&program(&hns)));
    }
}

/// A network edited in place (as many networks as before) rebuilds everything: its program and
/// the host routes follow the edit.
#[test]
fn a_network_changed_in_place_is_a_full_rebuild() {
    let mut hns = imported(vec![("network", network(1, "Overlay"))]);
    let prog = program(&hns);
    assert!(prog.host_routes.is_empty());
    let again = compile(&hns, &info(), Some(&prog));
    assert!(!again.stats.full, "nothing changed");
    let with_route: hnsim_model::schema::Network = serde_json::from_value(json!({
        "ID": net_id(1), "Name": "Overlay1", "Type": "Overlay",
        "Ipams": [{"Subnets": [{"IpAddressPrefix": "10.21.0.0/24",
            "Routes": [{"NextHop": "10.21.0.1", "DestinationPrefix": "0.0.0.0/0"}]}]}],
        "Policies": [{"Type": "HostRoute", "Settings": {}}]}))
    .expect("network document");
    hns.networks.insert(Guid(0xAA01), with_route);
    hns.generation += 1;
    hns.rebuild_indexes();
    let edited = compile(&hns, &info(), Some(&again));
    assert!(edited.stats.full);
    assert!(edited.networks[0].host_route);
    assert_eq!(edited.host_routes.len(), 1, "{:?}", edited.host_routes);
}

/// A full rebuild keeps a port's generation (its flows stay on the fast path) when neither the
/// port nor a host-wide table changed, and renews every port when a host-wide table did.
#[test]
fn a_full_rebuild_renews_port_generations_only_when_a_host_wide_table_changed() {
    let ep = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "MacAddress": "00-15-5D-00-21-05", "IpConfigurations": [{"IpAddress": "10.21.0.5"}]});
    let mut hns = imported(vec![("network", network(1, "L2Bridge")), ("endpoint", ep)]);
    let first = program(&hns);
    let g0 = hns.generation;
    assert_eq!(first.port_generation, [g0]);
    // A host fact only LBs read (there are none): a full rebuild that changes nothing.
    hns.generation += 1;
    let newer = HostInfo {
        empty_source_vip_uses_node_ip: false,
        ..info()
    };
    let same = compile(&hns, &newer, Some(&first));
    assert!(same.stats.full);
    assert_eq!(same.port_generation, [g0], "the port keeps its flows");
    // Another network: the host-wide network table changed, every port is renewed.
    let other: hnsim_model::schema::Network =
        serde_json::from_value(network(2, "L2Bridge")).expect("network document");
    hns.networks.insert(Guid(0xAA02), other);
    hns.generation += 1;
    hns.rebuild_indexes();
    let renewed = compile(&hns, &newer, Some(&same));
    assert!(renewed.stats.full);
    assert_eq!(renewed.port_generation, [hns.generation]);
}

/// A remote endpoint that appears changes the host-wide remote table: an incremental compile
/// renews every port (a cached exit may have sent that address elsewhere).
#[test]
fn a_new_remote_endpoint_renews_the_local_ports() {
    let local = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "MacAddress": "00-15-5D-00-21-05", "IpConfigurations": [{"IpAddress": "10.21.0.5"}]});
    let mut hns = imported(vec![("network", network(1, "Overlay")), ("endpoint", local)]);
    let first = program(&hns);
    let remote: hnsim_model::schema::Endpoint = serde_json::from_value(json!({
        "ID": Guid(0xE2).to_string(), "HostComputeNetwork": net_id(1), "Flags": 1,
        "MacAddress": "00-15-5D-00-22-06", "IpConfigurations": [{"IpAddress": "10.21.0.6"}],
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}))
    .expect("endpoint document");
    hns.endpoints.insert(Guid(0xE2), remote);
    hns.generation += 1;
    hns.rebuild_indexes();
    let next = compile(&hns, &info(), Some(&first));
    assert!(!next.stats.full);
    assert_eq!(next.stats.remotes_rebuilt, 1);
    let ip = "10.21.0.6".parse().unwrap();
    assert_eq!(next.remote_by_ip.get(&ip).map(|r| r.endpoint), Some(Guid(0xE2)));
    assert_eq!(next.port_generation, [hns.generation]);
}

/// Port indexes, port mappings and host routes are host-wide: a change to any of them renews
/// every port, also the ones whose own program did not change.
#[test]
fn a_new_port_a_port_mapping_or_a_host_route_renews_every_port() {
    let ep = |id: u128, ip: &str| {
        json!({"ID": Guid(id).to_string(), "HostComputeNetwork": net_id(1),
            "MacAddress": format!("00-15-5D-00-00-{id:02X}"), "IpConfigurations": [{"IpAddress": ip}]})
    };
    let host_ns = json!({"ID": Guid(0xC1).to_string(), "NamespaceId": 7, "Type": "HostDefault",
        "SchemaVersion": {"Major": 2, "Minor": 0}});
    let mut hns = imported(vec![
        ("network", network(1, "L2Bridge")),
        ("namespace", host_ns),
        ("endpoint", ep(0xE1, "10.21.0.5")),
    ]);
    let mut prog = program(&hns);
    let mut step = |hns: &mut Hns, what: &str, edit: &dyn Fn(&mut Hns)| {
        edit(hns);
        hns.generation += 1;
        hns.rebuild_indexes();
        prog = compile(hns, &info(), Some(&prog));
        assert!(!prog.stats.full, "{what}");
        assert_eq!(prog.port_generation, [hns.generation; 2], "{what}");
        assert_eq!(
            prog.stats.ports_rebuilt, 1,
            "{what}: only the edited port recompiles"
        );
    };
    step(&mut hns, "a port after the others", &|hns| {
        let e = serde_json::from_value(ep(0xE2, "10.21.0.6")).expect("endpoint document");
        hns.endpoints.insert(Guid(0xE2), e);
    });
    step(&mut hns, "a port mapping", &|hns| {
        let mut e = ep(0xE2, "10.21.0.6");
        e["Policies"] = json!([{"Type": "PortMapping",
            "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080}}]);
        hns.endpoints
            .insert(Guid(0xE2), serde_json::from_value(e).expect("endpoint document"));
    });
    step(&mut hns, "a host route", &|hns| {
        let e = hns.endpoints.get_mut(&Guid(0xE2)).expect("the endpoint");
        e.host_compute_namespace = Guid(0xC1).to_string();
    });
    assert_eq!(prog.host_routes.len(), 1, "{:?}", prog.host_routes);
    assert_eq!(prog.port_maps.len(), 1);
}

/// An endpoint whose namespace changes under it (the endpoint itself unchanged) is recompiled:
/// here its namespace becomes the host's, so its port becomes host-attached.
#[test]
fn an_endpoint_whose_namespace_changes_is_recompiled() {
    let ns = json!({"ID": Guid(0xC1).to_string(), "NamespaceId": 8, "Type": "Guest",
        "SchemaVersion": {"Major": 2, "Minor": 0}});
    let ep = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "HostComputeNamespace": Guid(0xC1).to_string(),
        "MacAddress": "00-15-5D-00-21-05", "IpConfigurations": [{"IpAddress": "10.21.0.5"}]});
    let mut hns = imported(vec![
        ("network", network(1, "L2Bridge")),
        ("namespace", ns),
        ("endpoint", ep),
    ]);
    let first = program(&hns);
    assert!(!first.ports[0].host_attached);
    hns.namespaces
        .get_mut(&Guid(0xC1))
        .expect("the namespace")
        .namespace_type = Some(hnsim_model::schema::NamespaceType::HostDefault);
    hns.generation += 1;
    hns.rebuild_indexes();
    let next = compile(&hns, &info(), Some(&first));
    assert_eq!(next.stats.ports_rebuilt, 1);
    assert!(next.ports[0].host_attached);
    assert_eq!(
        next.host_addrs,
        ["10.21.0.5".parse::<std::net::Ipv4Addr>().unwrap()]
    );
}

/// Without a journal to vouch for the changes, the compile compares every endpoint, every
/// compiled local port and every LB with its cache, and says how many it examined.
#[test]
fn a_scan_without_the_journal_examines_every_endpoint_port_and_lb() {
    let ep = |id: u128, ip: &str, flags: u32| {
        json!({"ID": Guid(id).to_string(), "HostComputeNetwork": net_id(1), "Flags": flags,
            "MacAddress": format!("00-15-5D-00-00-{id:02X}"), "IpConfigurations": [{"IpAddress": ip}]})
    };
    let lb = json!({"ID": Guid(0xB1).to_string(), "HostComputeEndpoints": [Guid(0xE1).to_string()],
        "FrontendVIPs": ["10.96.0.10"], "SourceVIP": "10.21.0.100",
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    let mut hns = imported(vec![
        ("network", network(1, "Overlay")),
        ("endpoint", ep(0xE1, "10.21.0.5", 0)),
        ("endpoint", ep(0xE2, "10.21.0.6", 0)),
        ("endpoint", ep(0xE3, "10.21.0.7", 1)),
        ("lb", lb),
    ]);
    let first = program(&hns);
    assert_eq!(first.ports.len(), 2);
    // Edited behind the journal's back: the next compile scans.
    hns.endpoints.get_mut(&Guid(0xE2)).expect("the endpoint").name = "renamed".into();
    hns.generation += 1;
    hns.rebuild_indexes();
    let next = compile(&hns, &info(), Some(&first));
    assert!(!next.stats.full);
    assert!(!next.scan.journal);
    assert_eq!(next.scan.examined, 3 + 2 + 1, "3 endpoints, 2 local ports, 1 LB");
    assert_eq!(next.stats.ports_rebuilt, 1);
}

/// An endpoint and an LB created and deleted between two compiles leave nothing to recompile
/// (the journal names them; neither the state nor the cache holds them).
#[test]
fn objects_created_and_deleted_between_compiles_recompile_nothing() {
    use hnsim_model::backend::ObjectKind;
    let mut hns = imported(vec![("network", network(1, "L2Bridge"))]);
    let first = program(&hns);
    let ep = json!({"HostComputeNetwork": net_id(1), "IpConfigurations": [{"IpAddress": "10.21.0.5"}]});
    let ep = hns
        .endpoint_create(Guid::ZERO, serde_json::from_value(ep).expect("endpoint document"))
        .expect("a valid endpoint");
    let lb = json!({"HostComputeEndpoints": [ep.to_string()], "FrontendVIPs": ["10.96.0.10"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    let lb = hns
        .load_balancer_create(Guid::ZERO, serde_json::from_value(lb).expect("LB document"))
        .expect("a valid LB");
    hns.delete_object(ObjectKind::LoadBalancer, &lb)
        .expect("LB deleted");
    hns.delete_object(ObjectKind::Endpoint, &ep)
        .expect("endpoint deleted");
    let next = compile(&hns, &info(), Some(&first));
    assert!(next.scan.journal, "the journal vouches for the changes");
    assert_eq!(next.stats, Default::default());
    assert!(next.ports.is_empty() && next.lbs.mappings().is_empty());
}

/// An endpoint the journal names but that did not change (a policy update to the same
/// policies) is not recompiled.
#[test]
fn a_journalled_endpoint_that_did_not_change_is_not_recompiled() {
    use hnsim_model::schema::{ModifyRequest, RequestType};
    let mut hns = imported(vec![("network", network(1, "L2Bridge"))]);
    let ep = json!({"HostComputeNetwork": net_id(1), "IpConfigurations": [{"IpAddress": "10.21.0.5"}]});
    let ep = hns
        .endpoint_create(Guid::ZERO, serde_json::from_value(ep).expect("endpoint document"))
        .expect("a valid endpoint");
    let first = program(&hns);
    assert_eq!(first.ports.len(), 1);
    let same = ModifyRequest {
        resource_type: "Policy".into(),
        request_type: RequestType::Update,
        settings: json!({"Policies": []}),
    };
    hns.endpoint_modify(&ep, &same).expect("the update");
    let next = compile(&hns, &info(), Some(&first));
    assert!(next.scan.journal);
    assert_eq!(next.scan.examined, 1, "the journal names the endpoint");
    assert_eq!(next.stats, Default::default(), "and it did not change");
    assert_eq!(next.port_generation, first.port_generation);
}

/// OutBoundNAT keeps its VirtualIP, per family; an IPv6 port mapping (Flags 2) is not modelled
/// and so not programmed, while the IPv4 one is.
#[test]
fn outbound_nat_keeps_its_virtual_ip_and_an_ipv6_port_mapping_is_not_programmed() {
    let ep = json!({"ID": Guid(0xE1).to_string(), "HostComputeNetwork": net_id(1),
        "MacAddress": "00-15-5D-00-21-05", "IpConfigurations": [{"IpAddress": "10.21.0.5"}],
        "Policies": [
            {"Type": "OutBoundNAT", "Settings": {"VirtualIP": "10.0.0.11", "Exceptions": ["10.21.0.0/16"]}},
            {"Type": "OutBoundNAT", "Settings": {"VirtualIP": "fd00::11", "Flags": 2,
                "Exceptions": ["fd00:21::/64"]}},
            {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080,
                "Flags": 2}},
            {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 81, "ExternalPort": 8081}}]});
    let p = program(&imported(vec![
        ("network", network(1, "L2Bridge")),
        ("endpoint", ep),
    ]));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let port = &p.ports[0];
    let nat: Vec<_> = port
        .outbound_nat
        .iter()
        .map(|o| (o.virtual_ip.map(|a| a.to_string()), o.exceptions.len()))
        .collect();
    assert_eq!(nat, [(Some("10.0.0.11".to_string()), 1)]);
    let nat6: Vec<_> = port
        .outbound_nat6
        .iter()
        .map(|o| (o.virtual_ip.map(|a| a.to_string()), o.exceptions.len()))
        .collect();
    assert_eq!(nat6, [(Some("fd00::11".to_string()), 1)]);
    let maps: Vec<_> = p.port_maps.keys().copied().collect();
    assert_eq!(maps, [(6, 8081)], "only the IPv4 mapping");
}

/// A remote endpoint is compared by what the dataplane reads of it (its fingerprint): a new
/// name recompiles nothing.
#[test]
fn a_renamed_remote_endpoint_recompiles_nothing() {
    let remote = json!({"ID": Guid(0xE2).to_string(), "HostComputeNetwork": net_id(1), "Flags": 1,
        "MacAddress": "00-15-5D-00-22-06", "IpConfigurations": [{"IpAddress": "10.21.0.6"}]});
    let mut hns = imported(vec![("network", network(1, "Overlay")), ("endpoint", remote)]);
    let first = program(&hns);
    assert_eq!(first.remote_by_ip.len(), 1);
    hns.endpoints.get_mut(&Guid(0xE2)).expect("the endpoint").name = "renamed".into();
    hns.generation += 1;
    hns.rebuild_indexes();
    let next = compile(&hns, &info(), Some(&first));
    assert_eq!(next.stats, Default::default());
}

/// An LB deleted and created again, the same, between two compiles is not recompiled.
#[test]
fn an_lb_deleted_and_created_again_unchanged_is_not_recompiled() {
    use hnsim_model::backend::ObjectKind;
    let mut hns = imported(vec![("network", network(1, "L2Bridge"))]);
    let ep = json!({"HostComputeNetwork": net_id(1), "IpConfigurations": [{"IpAddress": "10.21.0.5"}]});
    let ep = hns
        .endpoint_create(Guid::ZERO, serde_json::from_value(ep).expect("endpoint document"))
        .expect("a valid endpoint");
    let lb = json!({"ID": Guid(0xB1).to_string(), "HostComputeEndpoints": [ep.to_string()],
        "FrontendVIPs": ["10.96.0.10"], "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    let create = |hns: &mut Hns| {
        hns.load_balancer_create(
            Guid::ZERO,
            serde_json::from_value(lb.clone()).expect("LB document"),
        )
        .expect("a valid LB")
    };
    let id = create(&mut hns);
    let first = program(&hns);
    hns.delete_object(ObjectKind::LoadBalancer, &id)
        .expect("LB deleted");
    assert_eq!(create(&mut hns), id);
    let next = compile(&hns, &info(), Some(&first));
    assert!(next.scan.journal);
    assert_eq!(next.stats, Default::default());
}
