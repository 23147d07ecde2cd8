//! Parse once: whatever a create accepts, the compile can build. Each value below is one the
//! compile could only drop (a route through a gateway of the other address family, a VIP of the
//! wrong family, a comma-joined list where a single address goes): it is refused at create with
//! HNS's error, and the state is left as it was.

mod state_support;

use hnsim_model::backend::ObjectKind;
use hnsim_model::hresult::HResult;
use hnsim_model::state::Hns;
use serde_json::{json, Value};
use state_support::*;

/// Create `doc`, expect `want`, and check that nothing changed.
fn refused(h: &mut Hns, kind: ObjectKind, doc: &Value, want: HResult) {
    let before = h.clone();
    assert_eq!(code(create(h, kind, doc)), want, "{doc}");
    assert_eq!(*h, before, "a failed create changed the state");
}

fn nat(h: &mut Hns) -> hnsim_model::Guid {
    net(h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"))
}

fn with_policy(n: &hnsim_model::Guid, policy: Value) -> Value {
    let mut d = endpoint_doc(n, Some("172.20.0.9"));
    d["Policies"] = json!([policy]);
    d
}

#[test]
fn endpoint_routes_need_a_prefix_and_a_next_hop_of_its_family() {
    let mut h = hns();
    let n = nat(&mut h);
    let with_route = |dest: &str, hop: &str| {
        let mut d = endpoint_doc(&n, Some("172.20.0.9"));
        d["Routes"] = json!([{"DestinationPrefix": dest, "NextHop": hop}]);
        d
    };
    for (dest, hop) in [
        ("10.1.0.0/16", "gateway"),
        ("10.1.0.0/16", ""),
        ("ten", "172.20.0.1"),
        ("0.0.0.0/0", "fe80::1"),
        ("fd00::/64", "172.20.0.1"),
    ] {
        refused(
            &mut h,
            ObjectKind::Endpoint,
            &with_route(dest, hop),
            HResult::HCN_E_INVALID_ENDPOINT,
        );
    }
    // What the compile reads: a default route and a route to a bare address.
    let mut d = endpoint_doc(&n, Some("172.20.0.9"));
    d["Routes"] = json!([
        {"DestinationPrefix": "0.0.0.0/0", "NextHop": "172.20.0.1"},
        {"DestinationPrefix": "10.9.9.9", "NextHop": "172.20.0.2"}
    ]);
    create(&mut h, ObjectKind::Endpoint, &d).expect("valid routes are accepted");
}

#[test]
fn subnet_routes_need_a_next_hop_of_their_family_and_an_own_default_route() {
    let mut h = hns();
    let mut wrong_hop = nat_network("a", "172.20.0.0/16", "fe80::1");
    refused(
        &mut h,
        ObjectKind::Network,
        &wrong_hop,
        HResult::HCN_E_INVALID_NETWORK,
    );
    // An IPv4 subnet whose only default route is IPv6 has no gateway the compile can use.
    wrong_hop["Ipams"][0]["Subnets"][0]["Routes"] =
        json!([{"NextHop": "fe80::1", "DestinationPrefix": "::/0"}]);
    refused(
        &mut h,
        ObjectKind::Network,
        &wrong_hop,
        HResult::HCN_E_INVALID_NETWORK,
    );
}

#[test]
fn sdn_route_next_hops_are_of_the_prefix_family() {
    let mut h = hns();
    let n = nat(&mut h);
    let pol =
        json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.0.0.0/8", "NextHop": "fe80::1"}});
    refused(
        &mut h,
        ObjectKind::Endpoint,
        &with_policy(&n, pol),
        HResult::HCN_E_INVALID_POLICY,
    );
    let e = ep(&mut h, &n, Some("172.20.0.10"));
    let route = json!({"HostComputeEndpoints": [e.to_string()],
        "Routes": [{"DestinationPrefix": "10.0.0.0/8", "NextHop": "fe80::1"}]});
    refused(
        &mut h,
        ObjectKind::SdnRoute,
        &route,
        HResult::HCN_E_INVALID_POLICY,
    );
}

#[test]
fn nat_vips_match_the_ipv6_flag() {
    let mut h = hns();
    let n = nat(&mut h);
    let pm = |vip: &str, flags: u32| {
        json!({"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080,
            "VIP": vip, "Flags": flags}})
    };
    let onat = |vip: &str, flags: u32| json!({"Type": "OutBoundNAT", "Settings": {"VirtualIP": vip, "Flags": flags}});
    for p in [
        pm("fd00::1", 0),
        pm("10.0.0.1", 2),
        onat("fd00::1", 0),
        onat("10.0.0.1", 2),
    ] {
        refused(
            &mut h,
            ObjectKind::Endpoint,
            &with_policy(&n, p),
            HResult::HCN_E_INVALID_POLICY,
        );
    }
    for (i, p) in [pm("10.0.0.1", 0), onat("10.0.0.1", 0)].into_iter().enumerate() {
        let mut d = with_policy(&n, p);
        d["IpConfigurations"][0]["IpAddress"] = json!(format!("172.20.0.{}", 20 + i));
        create(&mut h, ObjectKind::Endpoint, &d).expect("a VIP of the policy's family");
    }
}

#[test]
fn outbound_nat_lists_hold_one_address_per_entry() {
    let mut h = hns();
    let n = nat(&mut h);
    let p = json!({"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.0.0.0/8,192.168.0.0/16"]}});
    refused(
        &mut h,
        ObjectKind::Endpoint,
        &with_policy(&n, p),
        HResult::HCN_E_INVALID_POLICY,
    );
    let p = json!({"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.0.0.0/8", "192.168.0.1"]}});
    create(&mut h, ObjectKind::Endpoint, &with_policy(&n, p)).expect("one address or CIDR per entry");
}

/// The state keeps each object's typed values beside its document: what validation read is
/// what `*_repr` answers. After a direct edit of the maps it answers `None` (the caller reads
/// the document), even once later operations bring the journal back in step, until the
/// indexes are rebuilt.
#[test]
fn the_stored_reprs_answer_until_the_maps_are_edited_directly() {
    use hnsim_model::repr::{EndpointRepr, LoadBalancerRepr, NetworkRepr};
    let mut h = hns();
    let n = nat(&mut h);
    let e = ep(&mut h, &n, Some("172.20.0.9"));
    let lb = json!({"HostComputeEndpoints": [e.to_string()], "FrontendVIPs": ["10.96.0.10"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    let (lb, _) = create(&mut h, ObjectKind::LoadBalancer, &lb).unwrap();
    let read = |h: &Hns| {
        (
            h.network_repr(&n).cloned(),
            h.endpoint_repr(&e).cloned(),
            h.load_balancer_repr(&lb).cloned(),
        )
    };
    let parsed = |h: &Hns| {
        (
            Some(NetworkRepr::parse(&h.networks[&n])),
            Some(EndpointRepr::parse(&h.endpoints[&e])),
            Some(LoadBalancerRepr::parse(&h.load_balancers[&lb])),
        )
    };
    assert_eq!(read(&h), parsed(&h));
    assert_eq!(
        h.endpoint_repr(&e).and_then(|r| r.ipv4()),
        "172.20.0.9".parse().ok()
    );
    assert_eq!(h.endpoint_repr(&n), None, "no endpoint has that ID");

    h.endpoints.get_mut(&e).unwrap().mac_address = "00-15-5D-99-99-99".into();
    h.generation += 1;
    assert_eq!(read(&h), (None, None, None), "right after the direct edit");
    let f = ep(&mut h, &n, None);
    assert_eq!(read(&h), (None, None, None), "after an operation that follows it");
    assert_eq!(h.endpoint_repr(&f), None);

    h.rebuild_indexes();
    assert_eq!(read(&h), parsed(&h));
    assert_eq!(
        h.endpoint_repr(&e).map(|r| r.mac.clone()),
        Some(Ok("00-15-5D-99-99-99".parse().unwrap()))
    );
}

/// The refusal of a VIP of the other family says which way the flag is wrong, and names the
/// address (read once, by the repr).
#[test]
fn a_vip_of_the_other_family_is_refused_naming_the_flag() {
    let mut h = hns();
    let n = nat(&mut h);
    let message = |h: &mut Hns, policy: Value| {
        create(h, ObjectKind::Endpoint, &with_policy(&n, policy))
            .unwrap_err()
            .message
    };
    let pm = json!({"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80,
        "ExternalPort": 8080, "VIP": "fd00::1"}});
    assert_eq!(
        message(&mut h, pm),
        "PortMapping: VIP fd00::1 does not match the mapping's family (flag IPv6 missing)"
    );
    let onat = json!({"Type": "OutBoundNAT", "Settings": {"VirtualIP": "10.0.0.1", "Flags": 2}});
    assert_eq!(
        message(&mut h, onat),
        "OutBoundNAT: VirtualIP 10.0.0.1 does not match the policy's family (flag IPv6 set)"
    );
}
