//! IPAM: allocation order, reservations, prefix lengths, MACs, GUIDs, remote endpoints.

mod state_support;

use hnsim_model::backend::{HnsBackend, ObjectKind};
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::{Guid, Mac};
use serde_json::json;
use state_support::*;
use std::net::IpAddr;

fn ip_of(h: &Hns, e: &Guid) -> Vec<IpAddr> {
    h.endpoint_ips(e).collect()
}

#[test]
fn allocation_skips_network_and_gateway_and_fills_gaps() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let a = ep(&mut h, &n, None);
    let b = ep(&mut h, &n, None);
    let c = ep(&mut h, &n, None);
    assert_eq!(ip_of(&h, &a), vec!["172.20.0.2".parse::<IpAddr>().unwrap()]);
    assert_eq!(ip_of(&h, &b), vec!["172.20.0.3".parse::<IpAddr>().unwrap()]);
    assert_eq!(ip_of(&h, &c), vec!["172.20.0.4".parse::<IpAddr>().unwrap()]);
    // A freed address is reused first (lowest free).
    h.delete_endpoint(&b.to_string()).unwrap();
    let d = ep(&mut h, &n, None);
    assert_eq!(ip_of(&h, &d), vec!["172.20.0.3".parse::<IpAddr>().unwrap()]);
    // An explicit address is taken out of the pool.
    let _x = ep(&mut h, &n, Some("172.20.0.5"));
    let y = ep(&mut h, &n, None);
    assert_eq!(ip_of(&h, &y), vec!["172.20.0.6".parse::<IpAddr>().unwrap()]);
}

#[test]
fn gateway_not_at_start_and_do_not_reserve_gateway_flag() {
    let mut h = hns();
    // Gateway .2; .1 is free.
    let n = net(&mut h, nat_network("a", "10.0.0.0/29", "10.0.0.2"));
    let ips: Vec<String> = (0..5)
        .map(|_| {
            let e = ep(&mut h, &n, None);
            ip_of(&h, &e)[0].to_string()
        })
        .collect();
    // .0 network, .2 gateway, .7 broadcast reserved: a /29 has exactly 5 usable.
    assert_eq!(ips, ["10.0.0.1", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
    let err = create(&mut h, ObjectKind::Endpoint, &endpoint_doc(&n, None)).unwrap_err();
    assert_eq!(err.code, hnsim_model::state::ERROR_NO_MORE_ITEMS);

    let mut d = l2bridge_network("b", "10.1.0.0/30", "10.1.0.1");
    d["Ipams"][0]["Subnets"][0]["Flags"] = json!(1);
    let n = net(&mut h, d);
    let e = ep(&mut h, &n, None);
    assert_eq!(ip_of(&h, &e)[0].to_string(), "10.1.0.1");
    // With the flag the gateway may also be given explicitly (host vNIC == gateway).
    let n2 = {
        let mut d = l2bridge_network("c", "10.2.0.0/24", "10.2.0.1");
        d["Ipams"][0]["Subnets"][0]["Flags"] = json!(1);
        net(&mut h, d)
    };
    ep(&mut h, &n2, Some("10.2.0.1"));
}

#[test]
fn falls_through_to_the_next_subnet_and_fills_prefix_length() {
    let mut h = hns();
    let d = json!({"Name": "two", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [
        {"IpAddressPrefix": "10.0.0.0/30", "Routes": [{"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}]},
        {"IpAddressPrefix": "10.0.1.0/24", "Routes": [{"NextHop": "10.0.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]});
    let n = net(&mut h, d);
    let (_, a) = create(&mut h, ObjectKind::Endpoint, &endpoint_doc(&n, None)).unwrap();
    assert_eq!(
        a["IpConfigurations"],
        json!([{"IpAddress": "10.0.0.2", "PrefixLength": 30}])
    );
    let (_, b) = create(&mut h, ObjectKind::Endpoint, &endpoint_doc(&n, None)).unwrap();
    assert_eq!(
        b["IpConfigurations"],
        json!([{"IpAddress": "10.0.1.2", "PrefixLength": 24}])
    );
    // Explicit address without PrefixLength gets the subnet's; default route from the subnet.
    let (_, c) = create(&mut h, ObjectKind::Endpoint, &endpoint_doc(&n, Some("10.0.1.77"))).unwrap();
    assert_eq!(
        c["IpConfigurations"],
        json!([{"IpAddress": "10.0.1.77", "PrefixLength": 24}])
    );
    assert_eq!(
        c["Routes"],
        json!([{"NextHop": "10.0.1.1", "DestinationPrefix": "0.0.0.0/0"}])
    );
}

#[test]
fn dual_stack_allocates_both_families() {
    let mut h = hns();
    let d = json!({"Name": "ds", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [
        {"IpAddressPrefix": "10.0.0.0/24", "Routes": [{"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}]},
        {"IpAddressPrefix": "fd00::/64", "Routes": [{"NextHop": "fd00::1", "DestinationPrefix": "::/0"}]}]}]});
    let n = net(&mut h, d);
    let e = ep(&mut h, &n, None);
    let ips: Vec<String> = h.endpoint_ips(&e).map(|i| i.to_string()).collect();
    assert_eq!(ips, ["10.0.0.2", "fd00::2"]);
}

#[test]
fn remote_endpoints_may_repeat_a_local_address_but_locals_may_not() {
    let mut h = hns();
    let n = net(&mut h, l2bridge_network("l2", "10.240.0.0/16", "10.240.0.1"));
    let local = ep(&mut h, &n, Some("10.240.0.50"));
    // Stale remote endpoint with the same address (consumers.md P12) is accepted.
    let remote = remote_ep(&mut h, &n, "10.240.0.50", "10.0.0.3");
    assert_ne!(local, remote);
    // Remote endpoints do not need to be inside the local subnet (other nodes' pod CIDRs).
    remote_ep(&mut h, &n, "10.244.7.9", "10.0.0.4");
    // Remote addresses do not block allocation either.
    let r2 = remote_ep(&mut h, &n, "10.240.0.2", "10.0.0.5");
    let a = ep(&mut h, &n, None);
    assert_eq!(ip_of(&h, &a)[0].to_string(), "10.240.0.2");
    assert_eq!(ip_of(&h, &r2)[0].to_string(), "10.240.0.2");
    let q = query(&mut h, ObjectKind::Endpoint, &remote);
    assert_eq!(q["Flags"], json!(1));
    assert_eq!(q["Policies"][0]["Type"], json!("ProviderAddress"));
}

#[test]
fn macs_come_from_the_pool_or_the_hyper_v_oui() {
    let mut h = hns();
    let mut d = nat_network("pool", "172.20.0.0/16", "172.20.0.1");
    d["MacPool"] =
        json!({"Ranges": [{"StartMacAddress": "00-15-5d-52-c0-00", "EndMacAddress": "00-15-5D-52-C0-01"}]});
    let n = net(&mut h, d);
    let a = ep(&mut h, &n, None);
    let b = ep(&mut h, &n, None);
    assert_eq!(h.endpoint_mac(&a), Some("00-15-5D-52-C0-00".parse().unwrap()));
    assert_eq!(h.endpoint_mac(&b), Some("00-15-5D-52-C0-01".parse().unwrap()));
    // Pool exhausted.
    let err = create(&mut h, ObjectKind::Endpoint, &endpoint_doc(&n, None)).unwrap_err();
    assert_eq!(err.code, hnsim_model::state::ERROR_NO_MORE_ITEMS);

    let n2 = net(&mut h, nat_network("nopool", "172.21.0.0/16", "172.21.0.1"));
    let macs: Vec<Mac> = (0..3)
        .map(|_| {
            let e = ep(&mut h, &n2, None);
            h.endpoint_mac(&e).unwrap()
        })
        .collect();
    for m in &macs {
        assert_eq!(&m.0[..3], &[0x00, 0x15, 0x5D], "Hyper-V OUI");
    }
    // Handed out in order: each the next one up in the host's range.
    assert_eq!(macs[1].to_u64(), macs[0].to_u64() + 1, "{macs:?}");
    assert_eq!(macs[2].to_u64(), macs[1].to_u64() + 1, "{macs:?}");
    // Explicit MACs are normalised to dashes, upper case.
    let mut d = endpoint_doc(&n2, None);
    d["MacAddress"] = json!("0e:2a:0a:f4:01:0a");
    let (_, v) = create(&mut h, ObjectKind::Endpoint, &d).unwrap();
    assert_eq!(v["MacAddress"], json!("0E-2A-0A-F4-01-0A"));
}

#[test]
fn ids_are_deterministic_per_seed_and_caller_ids_are_kept() {
    let run = |seed| {
        let mut h = Hns::new(HostSettings::default(), seed);
        let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
        let e = ep(&mut h, &n, None);
        (n, e, h.endpoint_mac(&e))
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1).0, run(2).0);
    let mut h = hns();
    let out = h
        .create_network(
            "404947ac-1234-5678-9abc-def012345678",
            &nat_network("fixed", "172.20.0.0/16", "172.20.0.1").to_string(),
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Emitted in HNS's upper case; NAT's Type omitted in v2 output.
    assert_eq!(v["ID"], json!("404947AC-1234-5678-9ABC-DEF012345678"));
    assert!(v.get("Type").is_none());
    // The zero GUID means "assign one".
    let out = h
        .create_network(
            "00000000-0000-0000-0000-000000000000",
            &nat_network("zero", "172.21.0.0/16", "172.21.0.1").to_string(),
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_ne!(v["ID"], json!("00000000-0000-0000-0000-000000000000"));
}

/// One-subnet L2Bridge network document with the given routes and subnet flags.
fn subnet_network(prefix: &str, routes: serde_json::Value, flags: u32) -> serde_json::Value {
    json!({"Name": prefix, "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [
        {"IpAddressPrefix": prefix, "Routes": routes, "Flags": flags}]}]})
}

/// Allocate until HNS says the pool is empty; every address handed out must lie in `prefix`.
fn drain(h: &mut Hns, n: &Guid, prefix: &str) -> Vec<String> {
    let p: ipnet::IpNet = prefix.parse().unwrap();
    let mut got = Vec::new();
    for _ in 0..8 {
        match create(h, ObjectKind::Endpoint, &endpoint_doc(n, None)) {
            Ok((e, _)) => {
                let ip = ip_of(h, &e)[0];
                assert!(p.contains(&ip), "{ip} handed out from {prefix}");
                got.push(ip.to_string());
            }
            Err(err) => {
                assert_eq!(err.code, hnsim_model::state::ERROR_NO_MORE_ITEMS, "{err:?}");
                return got;
            }
        }
    }
    panic!("{prefix} never ran out: {got:?}");
}

#[test]
fn a_full_ipv6_subnet_runs_out_inside_its_prefix() {
    let mut h = hns();
    let d = subnet_network(
        "fd00::/126",
        json!([{"NextHop": "fd00::1", "DestinationPrefix": "::/0"}]),
        0,
    );
    let n = net(&mut h, d);
    // ::0 is the subnet's own address, ::1 the gateway; IPv6 has no broadcast, so ::3 is usable.
    assert_eq!(drain(&mut h, &n, "fd00::/126"), ["fd00::2", "fd00::3"]);
}

#[test]
fn a_slash_31_allocates_its_upper_address_and_a_slash_32_nothing() {
    let mut h = hns();
    // RFC 3021: a /31 has no broadcast address; the gateway is not reserved (flag 1).
    let d = subnet_network(
        "10.0.0.0/31",
        json!([{"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}]),
        1,
    );
    let n = net(&mut h, d);
    assert_eq!(drain(&mut h, &n, "10.0.0.0/31"), ["10.0.0.1"]);
    // A /32 is only its own (reserved) address: exhausted at once, nothing outside it.
    let d = subnet_network(
        "10.0.1.5/32",
        json!([{"NextHop": "10.0.1.1", "DestinationPrefix": "0.0.0.0/0"}]),
        1,
    );
    let n = net(&mut h, d);
    assert_eq!(drain(&mut h, &n, "10.0.1.5/32"), Vec::<String>::new());
    // A full IPv4 /30 stops before its broadcast address.
    let d = subnet_network(
        "10.0.2.0/30",
        json!([{"NextHop": "10.0.2.1", "DestinationPrefix": "0.0.0.0/0"}]),
        0,
    );
    let n = net(&mut h, d);
    assert_eq!(drain(&mut h, &n, "10.0.2.0/30"), ["10.0.2.2"]);
}

#[test]
fn the_gateway_comes_from_the_default_route_not_the_first_route() {
    let mut h = hns();
    let d = subnet_network(
        "10.0.0.0/29",
        json!([
            {"NextHop": "10.0.0.2", "DestinationPrefix": "192.168.0.0/16"},
            {"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}
        ]),
        0,
    );
    let n = net(&mut h, d);
    // .1 (the default route's next hop) is reserved, .2 (another route's next hop) is not, and
    // the endpoint's default route is the default route's next hop.
    let (_, first) = create(&mut h, ObjectKind::Endpoint, &endpoint_doc(&n, None)).unwrap();
    assert_eq!(first["IpConfigurations"][0]["IpAddress"], "10.0.0.2");
    assert_eq!(
        first["Routes"],
        json!([{"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}])
    );
    assert_eq!(
        drain(&mut h, &n, "10.0.0.0/29"),
        ["10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    );
}

#[test]
fn the_gateway_is_the_default_route_of_the_subnets_own_family() {
    // An IPv4 subnet whose routes list the IPv6 default first: its gateway (reserved, and the
    // endpoint's default route) is the IPv4 default's next hop, as the dataplane compiles it.
    let mut h = hns();
    let d = subnet_network(
        "10.0.0.0/29",
        json!([
            {"NextHop": "fd00::1", "DestinationPrefix": "::/0"},
            {"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}
        ]),
        0,
    );
    let n = net(&mut h, d);
    let (_, first) = create(&mut h, ObjectKind::Endpoint, &endpoint_doc(&n, None)).unwrap();
    assert_eq!(first["IpConfigurations"][0]["IpAddress"], "10.0.0.2");
    assert_eq!(
        first["Routes"],
        json!([{"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}])
    );
    let repr = h.network_repr(&n).expect("stored with the network");
    let (_, gw) = repr.subnets[0]
        .default_route(false)
        .expect("an IPv4 default route");
    assert_eq!(
        gw.next_hop.as_ref().ok().map(|a| a.to_string()).as_deref(),
        Some("10.0.0.1")
    );
}
