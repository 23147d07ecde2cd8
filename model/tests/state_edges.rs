//! Behaviours of the HNS store that a mutation-testing sample found unchecked (docs/testing.md
//! "Recorded runs" names the mutant each test kills).

mod state_support;

use hnsim_model::backend::{HnsBackend, ObjectKind};
use hnsim_model::document::decode_any;
use hnsim_model::hresult::HResult;
use hnsim_model::schema::Version;
use hnsim_model::state::workload::KubeProxyWorkload;
use hnsim_model::state::{lint, Change, HostSettings, OnReferenced};
use hnsim_model::Guid;
use serde_json::json;
use state_support::*;
use std::collections::BTreeSet;

/// HNS hands out random RFC 4122 version 4 GUIDs: the version nibble is 4 and the variant
/// bits are `10`, whatever the random bits were.
#[test]
fn created_ids_are_version_4_rfc_4122_guids() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut ids: Vec<Guid> = vec![n];
    for _ in 0..24 {
        ids.push(ep(&mut h, &n, None));
    }
    for id in ids {
        let s = id.to_string();
        let hex: Vec<char> = s.chars().filter(|c| *c != '-').collect();
        assert_eq!(hex[12], '4', "version nibble of {s}");
        assert!(
            matches!(hex[16].to_ascii_lowercase(), '8' | '9' | 'a' | 'b'),
            "variant nibble of {s}"
        );
    }
}

/// With `endpoint_in_policy_list: Refuse` only an endpoint a load balancer lists is kept; one
/// nobody lists is deleted as usual.
#[test]
fn refusing_listed_endpoints_still_deletes_unlisted_ones() {
    let mut h = hns_with(|s| s.endpoint_in_policy_list = OnReferenced::Refuse);
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let listed = ep(&mut h, &n, None);
    let free = ep(&mut h, &n, None);
    let lb = json!({"HostComputeEndpoints": [listed.to_string()],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    create(&mut h, ObjectKind::LoadBalancer, &lb).unwrap();
    h.delete_endpoint(&free.to_string()).unwrap();
    assert_eq!(
        code(h.delete_endpoint(&listed.to_string())),
        HResult::HCN_E_ENTITY_HAS_REFERENCES
    );
}

/// A reboot drops every namespace and numbers compartments afresh: the first new namespace is
/// compartment 2 again (1 is the host's default compartment).
#[test]
fn compartments_are_numbered_afresh_after_a_reboot() {
    let mut h = hns();
    for _ in 0..3 {
        namespace(&mut h, None);
    }
    h.reboot();
    let ns = namespace(&mut h, None);
    assert_eq!(h.namespaces[&ns].namespace_id, 2);
    assert_eq!(query(&mut h, ObjectKind::Namespace, &ns)["NamespaceId"], 2);
}

/// A version-gated request that fails names the missing feature by its SupportedFeatures key,
/// so the user can see which of hcsshim's feature flags their HNS lacks.
#[test]
fn a_feature_gate_error_names_the_feature() {
    let mut h = hns_with(|s| s.hns_version = Version::new(10, 1));
    let n = net(&mut h, nat_network("nat", "10.1.0.0/24", "10.1.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = json!({"HostComputeEndpoints": [e.to_string()], "Flags": 1,
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    let e = create(&mut h, ObjectKind::LoadBalancer, &lb).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_REQUEST_UNSUPPORTED);
    assert!(e.message.contains("feature DSR "), "{}", e.message);
    assert!(e.message.contains("10.1"), "{}", e.message);
}

/// kube-proxy's dual-stack NodePort LBs: no FrontendVIPs, the same port, one per family
/// (`Flags` 2 = IPv6). They coexist; a second one of the same family clashes; once the first is
/// deleted its frontend is free again.
#[test]
fn nodeport_lbs_of_both_families_share_a_port_and_free_it_on_delete() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = |flags: u32| {
        json!({"HostComputeEndpoints": [e.to_string()], "Flags": flags,
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 30080}]})
    };
    let (v4, _) = create(&mut h, ObjectKind::LoadBalancer, &lb(0)).unwrap();
    create(&mut h, ObjectKind::LoadBalancer, &lb(2)).unwrap();
    for flags in [0, 2] {
        let clash = create(&mut h, ObjectKind::LoadBalancer, &lb(flags));
        assert_eq!(code(clash), HResult::HCN_E_PORT_ALREADY_EXISTS, "Flags {flags}");
    }
    h.delete_load_balancer(&v4.to_string()).unwrap();
    // The deleted LB's frontends leave the index (a stale entry could hide a real clash).
    h.verify_indexes().unwrap();
    create(&mut h, ObjectKind::LoadBalancer, &lb(0)).unwrap();
}

/// A consumer that is up to date gets "no changes", not "cannot say" (which would make the
/// dataplane compiler compare every object again), also right after `rebuild_indexes`.
#[test]
fn an_up_to_date_journal_cursor_sees_an_empty_list() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let c = h.journal_cursor();
    assert_eq!(h.changes_since(c), Some(&[][..]));
    let e = ep(&mut h, &n, None);
    assert!(h.changes_since(c).unwrap().contains(&Change::Endpoint(e)));
    h.rebuild_indexes();
    let c = h.journal_cursor();
    assert_eq!(h.changes_since(c), Some(&[][..]));
}

/// `hnsim hns validate` paths: a key of letters, digits and `_` is written `.Key`, any other
/// as `["key"]`.
#[test]
fn lint_paths_quote_only_odd_keys() {
    assert_eq!(
        lint::child_path("$.Policies[0]", "Ip_Tag2"),
        "$.Policies[0].Ip_Tag2"
    );
    assert_eq!(lint::child_path("$", "odd key"), r#"$["odd key"]"#);
    assert_eq!(lint::child_path("$", ""), r#"$[""]"#);
}

/// An IPv6 endpoint address is fine where HNS has IPv6DualStack, and an error where not.
#[test]
fn lint_accepts_an_ipv6_endpoint_address_only_where_hns_supports_it() {
    let doc = json!({"Name": "e", "HostComputeNetwork": "00000000-0000-0000-0000-000000000001",
        "IpConfigurations": [{"IpAddress": "fd00::5", "PrefixLength": 64}]});
    let (_, p) = lint::check_value(&doc, &HostSettings::default()).unwrap();
    assert_eq!(p, []);
    let old = HostSettings {
        hns_version: Version::new(10, 1),
        ..HostSettings::default()
    };
    let (_, p) = lint::check_value(&doc, &old).unwrap();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].code, Some(HResult::HCN_E_REQUEST_UNSUPPORTED));
}

/// Importing a dump: an SDN route naming an endpoint the dump lacks is reported (and kept); one
/// whose endpoints are all there is not.
#[test]
fn import_reports_only_routes_with_missing_endpoints() {
    let net = "0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11";
    let ep = "11111111-2222-4333-8444-555555555555";
    let docs = format!(
        r#"[{{"ID":"{net}","Name":"cbr0","Type":"L2Bridge"}},
           {{"ID":"{ep}","HostComputeNetwork":"{net}","IpConfigurations":[{{"IpAddress":"10.244.1.5"}}]}},
           {{"ID":"A1111111-2222-4333-8444-555555555555","HostComputeEndpoints":["{ep}"],
             "Routes":[{{"DestinationPrefix":"10.0.0.0/8","NextHop":"10.244.1.1"}}]}},
           {{"ID":"A2222222-2222-4333-8444-555555555555","HostComputeEndpoints":["99999999-2222-4333-8444-555555555555"],
             "Routes":[{{"DestinationPrefix":"10.0.0.0/8","NextHop":"10.244.1.1"}}]}}]"#
    );
    let mut h = hns();
    let rep = h.import(decode_any(&docs).unwrap());
    assert_eq!(rep.routes, 2);
    assert_eq!(rep.problems.len(), 1, "{:?}", rep.problems);
    assert_eq!(rep.problems[0].kind, "route");
    assert!(rep.problems[0].id.to_string().starts_with("A2222222"));
    assert!(rep.problems[0].message.contains("99999999"));
    assert_eq!(h.routes.len(), 2);
}

/// A subnet added to a network that has no IPAM yet arrives in a `Static` IPAM, as HNS lists it.
#[test]
fn a_subnet_added_to_a_network_without_ipams_is_static() {
    let mut h = hns();
    let n = net(
        &mut h,
        json!({"Name": "bare", "Type": "NAT", "SchemaVersion": {"Major": 2, "Minor": 0}}),
    );
    assert!(query(&mut h, ObjectKind::Network, &n).get("Ipams").is_none());
    let sub = json!({"ResourceType": "Subnet", "RequestType": "Add", "Settings": {"Subnets": [
        {"IpAddressPrefix": "10.0.1.0/24", "Routes": [{"NextHop": "10.0.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}});
    h.modify_network(&n.to_string(), &sub.to_string()).unwrap();
    let ipams = &query(&mut h, ObjectKind::Network, &n)["Ipams"];
    assert_eq!(ipams[0]["Type"], "Static", "{ipams}");
    assert_eq!(
        ipams[0]["Subnets"][0]["IpAddressPrefix"], "10.0.1.0/24",
        "{ipams}"
    );
}

/// The work counter the scaling tests compare counts index lookups: an operation that looks
/// something up moves it.
#[test]
fn index_probes_count_lookups() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let before = h.index_probes();
    ep(&mut h, &n, None);
    assert!(h.index_probes() > before);
}

/// An endpoint may carry one address of each family, never two of one.
#[test]
fn an_endpoint_has_at_most_one_address_per_family() {
    let mut h = hns();
    let d = json!({"Name": "ds", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [
        {"IpAddressPrefix": "10.0.0.0/24", "Routes": [{"NextHop": "10.0.0.1", "DestinationPrefix": "0.0.0.0/0"}]},
        {"IpAddressPrefix": "fd00::/64", "Routes": [{"NextHop": "fd00::1", "DestinationPrefix": "::/0"}]}]}]});
    let n = net(&mut h, d);
    let with = |ips: &[&str]| {
        let mut d = endpoint_doc(&n, None);
        d["IpConfigurations"] = ips.iter().map(|i| json!({"IpAddress": i})).collect();
        d
    };
    let (e, _) = create(&mut h, ObjectKind::Endpoint, &with(&["10.0.0.5", "fd00::5"])).unwrap();
    let ips: Vec<String> = h.endpoint_ips(&e).map(|i| i.to_string()).collect();
    assert_eq!(ips, ["10.0.0.5", "fd00::5"]);
    for two in [["10.0.0.6", "10.0.0.7"], ["fd00::6", "fd00::7"]] {
        let r = create(&mut h, ObjectKind::Endpoint, &with(&two));
        assert_eq!(code(r), HResult::HCN_E_INVALID_ENDPOINT, "{two:?}");
    }
}

/// HCN_E_PORT_ALREADY_EXISTS says which load balancer holds the frontend and which frontend:
/// protocol, VIP (or "any address" for NodePort-style LBs) and port.
#[test]
fn a_frontend_clash_names_the_owner_and_the_frontend() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = |vips: serde_json::Value, proto: u32, port: u16| {
        json!({"HostComputeEndpoints": [e.to_string()], "FrontendVIPs": vips,
            "PortMappings": [{"Protocol": 17, "InternalPort": 53, "ExternalPort": 5353},
                             {"Protocol": proto, "InternalPort": 8080, "ExternalPort": port}]})
    };
    let (a, _) = create(
        &mut h,
        ObjectKind::LoadBalancer,
        &lb(json!(["10.96.0.1", "10.96.0.2"]), 6, 80),
    )
    .unwrap();
    let (b, _) = create(&mut h, ObjectKind::LoadBalancer, &lb(json!([]), 6, 30080)).unwrap();
    let clash =
        |h: &mut hnsim_model::state::Hns, doc| create(h, ObjectKind::LoadBalancer, &doc).unwrap_err().message;
    let m = clash(&mut h, lb(json!(["10.96.0.9", "10.96.0.2"]), 6, 80));
    assert!(
        m.starts_with(&format!(
            "load balancer {a} already serves protocol 17 10.96.0.2 port 5353"
        )),
        "{m}"
    );
    let m = clash(&mut h, lb(json!([]), 6, 30080));
    assert!(
        m.starts_with(&format!(
            "load balancer {b} already serves protocol 17 (any address) port 5353"
        )),
        "{m}"
    );
}

/// The workload the benches and `hnsim bench` measure is the one its docs describe: every
/// tenth backend a local pod endpoint with an HNS-allocated address, the rest remote endpoints
/// (Flags 1) of distinct pods with their node's ProviderAddress.
#[test]
fn the_bench_workload_programs_what_it_describes() {
    let w = KubeProxyWorkload::new(3, 12);
    let mut h = hns();
    let p = w.program(&mut h).unwrap();
    assert_eq!((p.endpoints.len(), p.load_balancers.len()), (36, 3));
    let mut local = 0;
    let mut addrs = BTreeSet::new();
    for (i, id) in p.endpoints.iter().enumerate() {
        let e = query(&mut h, ObjectKind::Endpoint, &id.parse().unwrap());
        let remote = e["Flags"].as_u64().unwrap_or(0) & 1 == 1;
        assert_eq!(!remote, w.is_local(i), "endpoint {i}: {e}");
        local += usize::from(!remote);
        assert!(
            addrs.insert(e["IpConfigurations"][0]["IpAddress"].to_string()),
            "{e}"
        );
        if remote {
            assert_eq!(e["Policies"][0]["Type"], "ProviderAddress", "{e}");
        }
    }
    assert_eq!(local, 4);
    // An update rotates the service's own backends and sets the target port.
    w.update_lb(&mut h, &p, 1, 9090).unwrap();
    let lb = query(
        &mut h,
        ObjectKind::LoadBalancer,
        &p.load_balancers[1].parse().unwrap(),
    );
    let mut want = p.endpoints[12..24].to_vec();
    want.rotate_left(1);
    assert_eq!(lb["HostComputeEndpoints"], json!(want));
    assert_eq!(lb["PortMappings"][0]["InternalPort"], 9090);
}

/// One endpoint may map several ports; mapping one protocol and port twice is refused, and
/// the error names the mapping that clashes.
#[test]
fn an_endpoint_maps_several_ports_but_not_one_twice() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let with = |ip: &str, ports: &[(u32, u16)]| {
        let mut d = endpoint_doc(&n, Some(ip));
        d["Policies"] = ports
            .iter()
            .map(|(p, ext)| json!({"Type": "PortMapping", "Settings": {"Protocol": p, "InternalPort": 80, "ExternalPort": ext}}))
            .collect();
        d
    };
    create(
        &mut h,
        ObjectKind::Endpoint,
        &with("172.20.0.5", &[(6, 8080), (6, 8443), (17, 8080)]),
    )
    .unwrap();
    let e = create(
        &mut h,
        ObjectKind::Endpoint,
        &with("172.20.0.6", &[(6, 9000), (6, 9000)]),
    )
    .unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_PORT_ALREADY_EXISTS);
    let e = create(
        &mut h,
        ObjectKind::Endpoint,
        &with("172.20.0.7", &[(6, 9001), (6, 8443)]),
    )
    .unwrap_err();
    assert!(
        e.message
            .starts_with("PortMapping protocol 6 external port 8443 "),
        "{}",
        e.message
    );
}

/// With `host_default_namespace`, HNS starts with the host's own namespace: a real (non-zero)
/// ID, compartment 1, type HostDefault, a v2 document.
#[test]
fn the_host_default_namespace_is_a_real_v2_object() {
    let mut h = hns_with(|s| s.host_default_namespace = true);
    let ns = h.host_default_namespace().expect("created at start");
    assert!(!ns.is_zero());
    let q = query(&mut h, ObjectKind::Namespace, &ns);
    assert_eq!(q["ID"], ns.to_string());
    assert_eq!(q["NamespaceId"], 1);
    assert_eq!(q["Type"], "HostDefault");
    assert_eq!(q["SchemaVersion"], json!({"Major": 2, "Minor": 0}));
}

/// HNS never hands out an ID a caller already chose for another object, whatever its kind: the
/// same seed that would generate `g` skips it when `g` is taken.
#[test]
fn a_generated_id_skips_one_a_caller_chose() {
    // The first ID this seed generates.
    let g = net(&mut hns(), nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let with_id = |mut doc: serde_json::Value, id: Guid| {
        doc["ID"] = json!(id.to_string());
        doc
    };
    let other = Guid(0x0102_0304_0506_4708_890A_0B0C_0D0E_0F10);
    for kind in [
        ObjectKind::Network,
        ObjectKind::Endpoint,
        ObjectKind::Namespace,
        ObjectKind::LoadBalancer,
    ] {
        let mut h = hns();
        let n = nat_network("nat", "172.20.0.0/16", "172.20.0.1");
        let n = create(&mut h, ObjectKind::Network, &with_id(n, other)).unwrap().0;
        let doc = match kind {
            ObjectKind::Network => nat_network("nat2", "172.21.0.0/16", "172.21.0.1"),
            ObjectKind::Endpoint => endpoint_doc(&n, None),
            ObjectKind::Namespace => json!({"SchemaVersion": {"Major": 2, "Minor": 0}}),
            _ => json!({"PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}],
                "SchemaVersion": {"Major": 2, "Minor": 0}}),
        };
        let (taken, _) = create(&mut h, kind, &with_id(doc, g)).unwrap();
        assert_eq!(taken, g, "{kind:?}");
        let fresh = net(&mut h, nat_network("nat3", "172.22.0.0/16", "172.22.0.1"));
        assert_ne!(fresh, g, "a new network got the ID of the {kind:?}");
        assert_eq!(
            enumerate(&mut h, kind, None).iter().filter(|i| **i == g).count(),
            1
        );
    }
}

/// The read API for the dataplane: an endpoint's addresses with their prefix lengths (HNS fills
/// in the subnet's when the document names none), a network's subnets in order.
#[test]
fn endpoint_prefixes_and_network_subnets_are_read_back() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut d = endpoint_doc(&n, None);
    d["IpConfigurations"] = json!([{"IpAddress": "172.20.0.9", "PrefixLength": 24}]);
    let e = create(&mut h, ObjectKind::Endpoint, &d).unwrap().0;
    let nets: Vec<String> = h.endpoint_ip_nets(&e).map(|n| n.to_string()).collect();
    assert_eq!(nets, ["172.20.0.9/24"]);
    let e = ep(&mut h, &n, Some("172.20.0.10"));
    let nets: Vec<String> = h.endpoint_ip_nets(&e).map(|n| n.to_string()).collect();
    assert_eq!(nets, ["172.20.0.10/16"]);
    assert_eq!(h.endpoint_ip_nets(&Guid(1)).count(), 0);

    let mut doc = nat_network("two", "172.30.0.0/24", "172.30.0.1");
    doc["Ipams"][0]["Subnets"]
        .as_array_mut()
        .unwrap()
        .push(json!({"IpAddressPrefix": "172.31.0.0/24",
            "Routes": [{"NextHop": "172.31.0.1", "DestinationPrefix": "0.0.0.0/0"}]}));
    let two = net(&mut h, doc);
    let subnets: Vec<String> = h.network_subnets(&two).iter().map(|s| s.to_string()).collect();
    assert_eq!(subnets, ["172.30.0.0/24", "172.31.0.0/24"]);
    assert!(h.network_subnets(&Guid(1)).is_empty());
}

/// The namespace HCS creates for a container (process or Hyper-V isolated) is a v2 object like
/// one created through HCN: queried, it says SchemaVersion 2.0.
#[test]
fn a_container_namespace_is_a_v2_object() {
    use hnsim_model::state::Isolation;
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    for (id, isolation) in [("c1", Isolation::Process), ("uvm1", Isolation::HyperV)] {
        let e = ep(&mut h, &n, None);
        let ns = h
            .create_container(id, isolation, &[e])
            .unwrap()
            .namespace
            .unwrap();
        let q = query(&mut h, ObjectKind::Namespace, &ns);
        assert_eq!(q["SchemaVersion"], json!({"Major": 2, "Minor": 0}), "{id}");
    }
}

/// After the public maps are edited directly (the generation moved without a journal entry), a
/// cursor from before the edit is answered "cannot say" even once ordinary changes follow: a
/// list of only those would hide the direct edit from the consumer.
#[test]
fn a_cursor_from_before_a_direct_edit_is_never_answered_with_a_list() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let edited = ep(&mut h, &n, None);
    let c = h.journal_cursor();
    // A direct edit that needs no index rebuild (which would restart the journal itself).
    h.endpoints.get_mut(&edited).unwrap().mac_address = "00-15-5D-99-99-99".into();
    h.generation += 1;
    assert_eq!(h.changes_since(c), None);
    let e = ep(&mut h, &n, None);
    assert_eq!(h.changes_since(c), None, "a list would miss the edit of {edited}");
    // A cursor taken after the edit sees the later changes.
    let c = h.journal_cursor();
    let f = ep(&mut h, &n, None);
    assert!(h.changes_since(c).unwrap().contains(&Change::Endpoint(f)));
    assert!(!h.changes_since(c).unwrap().contains(&Change::Endpoint(e)));
}

/// Removing one container or detaching one endpoint from a namespace leaves the other
/// resources alone: the other container, the other endpoint.
#[test]
fn removing_one_namespace_resource_keeps_the_others() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let ns = namespace(&mut h, None);
    let (a, b) = (ep(&mut h, &n, None), ep(&mut h, &n, None));
    let nss = ns.to_string();
    let container = |id: &str, op: &str| {
        json!({"ResourceType": "Container", "RequestType": op, "Settings": {"ContainerId": id}}).to_string()
    };
    for r in [
        attach_req(&a, "Add"),
        attach_req(&b, "Add"),
        container("c1", "Add"),
        container("c2", "Add"),
    ] {
        h.modify_namespace(&nss, &r).unwrap();
    }
    let resources = |h: &mut hnsim_model::state::Hns| -> Vec<(String, String)> {
        let q = query(h, ObjectKind::Namespace, &ns);
        q["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let id = r["Data"]["ID"].as_str().unwrap_or_default().to_ascii_uppercase();
                (r["Type"].as_str().unwrap_or_default().to_string(), id)
            })
            .collect()
    };
    assert_eq!(resources(&mut h).len(), 4);
    h.modify_namespace(&nss, &container("c1", "Remove")).unwrap();
    h.modify_namespace(&nss, &attach_req(&a, "Remove")).unwrap();
    assert_eq!(
        resources(&mut h),
        [
            ("Endpoint".to_string(), b.to_string()),
            ("Container".to_string(), "C2".to_string())
        ]
    );
}

/// A network's `ProviderAddress` policy must be an IP address: anything else is refused at
/// create, naming the policy and the value.
#[test]
fn a_network_provider_address_must_be_an_ip_address() {
    let mut h = hns();
    let doc = |pa: &str| {
        let mut d = nat_network("nat", "172.20.0.0/16", "172.20.0.1");
        d["Type"] = json!("Overlay");
        d["Policies"] = json!([{"Type": "ProviderAddress", "Settings": {"ProviderAddress": pa}}]);
        d
    };
    let e = create(&mut h, ObjectKind::Network, &doc("10.0.0.x")).unwrap_err();
    assert!(
        e.message.contains("ProviderAddress") && e.message.contains("10.0.0.x"),
        "{}",
        e.message
    );
    create(&mut h, ObjectKind::Network, &doc("10.0.0.11")).unwrap();
}

/// An endpoint's `PrefixLength` may be at most the address length: 33 on IPv4 is refused as
/// too long; 32 is not "too long" (it is the /32 feature's question).
#[test]
fn an_endpoint_prefix_longer_than_its_address_is_refused() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let with_prefix = |len: u8| {
        let mut d = endpoint_doc(&n, None);
        let ip = format!("172.20.0.{len}");
        d["IpConfigurations"] = json!([{"IpAddress": ip, "PrefixLength": len}]);
        d
    };
    let e = create(&mut h, ObjectKind::Endpoint, &with_prefix(33)).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_INVALID_IP, "{}", e.message);
    assert!(e.message.contains("PrefixLength 33 is too long"), "{}", e.message);
    match create(&mut h, ObjectKind::Endpoint, &with_prefix(32)) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.code, HResult::HCN_E_REQUEST_UNSUPPORTED, "{}", e.message),
    }
    create(&mut h, ObjectKind::Endpoint, &with_prefix(16)).unwrap();
}

/// A port-only (NodePort) LB and a VIP LB on the same protocol and port do not clash: the VIP
/// is matched first, the port-only LB answers the host's other addresses. Two port-only LBs
/// on one port do clash.
#[test]
fn a_nodeport_lb_and_a_vip_lb_share_a_port() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = |vips: &[&str]| {
        json!({"HostComputeEndpoints": [e.to_string()], "FrontendVIPs": vips,
            "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 30080}],
            "SchemaVersion": {"Major": 2, "Minor": 0}})
    };
    create(&mut h, ObjectKind::LoadBalancer, &lb(&["10.96.0.10"])).unwrap();
    create(&mut h, ObjectKind::LoadBalancer, &lb(&[])).unwrap();
    assert!(create(&mut h, ObjectKind::LoadBalancer, &lb(&[])).is_err());
    assert!(create(&mut h, ObjectKind::LoadBalancer, &lb(&["10.96.0.10"])).is_err());
}

/// A filter value compares as a GUID when both sides are GUIDs: `{...}` braces and lower case
/// name the same endpoint as HNS's own upper-case form. Also: a load balancer's fields are
/// read from its document (no index answers `HostComputeEndpoints`).
#[test]
fn a_filter_matches_a_guid_in_any_of_its_spellings() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let a = ep(&mut h, &n, None);
    let b = ep(&mut h, &n, None);
    let lb = |e: &Guid, port: u16| {
        json!({"HostComputeEndpoints": [e.to_string()],
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": port}]})
    };
    let (la, _) = create(&mut h, ObjectKind::LoadBalancer, &lb(&a, 80)).unwrap();
    create(&mut h, ObjectKind::LoadBalancer, &lb(&b, 81)).unwrap();
    for spelling in [
        a.to_string(),
        a.to_string().to_lowercase(),
        format!("{{{}}}", a.to_string().to_lowercase()),
    ] {
        let found = enumerate(
            &mut h,
            ObjectKind::LoadBalancer,
            Some(json!({ "HostComputeEndpoints": spelling })),
        );
        assert_eq!(found, vec![la], "{spelling}");
    }
}

/// Deleting an endpoint an SDN route lists takes it out of the route's list (the default,
/// `Release`), and is refused under `Refuse`: the route's references are indexed like an LB's.
#[test]
fn an_endpoint_listed_by_an_sdn_route_is_released_or_refused() {
    let route = |e: &Guid| {
        json!({"HostComputeEndpoints": [e.to_string()],
            "Routes": [{"DestinationPrefix": "10.0.0.0/8", "NextHop": "172.20.0.1"}]})
    };
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let a = ep(&mut h, &n, None);
    let b = ep(&mut h, &n, None);
    let (r, _) = create(&mut h, ObjectKind::SdnRoute, &route(&a)).unwrap();
    let mut both = route(&a);
    both["HostComputeEndpoints"] = json!([a.to_string(), b.to_string()]);
    let (r2, _) = create(&mut h, ObjectKind::SdnRoute, &both).unwrap();
    h.delete_endpoint(&a.to_string()).unwrap();
    // An empty list is left out of the document.
    let left = query(&mut h, ObjectKind::SdnRoute, &r);
    assert!(
        left.get("HostComputeEndpoints")
            .and_then(|l| l.as_array())
            .is_none_or(|l| l.is_empty()),
        "{left}"
    );
    assert_eq!(
        query(&mut h, ObjectKind::SdnRoute, &r2)["HostComputeEndpoints"],
        json!([b.to_string()])
    );
    h.verify_indexes().unwrap();
    // Deleting a route removes it and nothing else.
    h.delete_object(ObjectKind::SdnRoute, &r).unwrap();
    assert_eq!(enumerate(&mut h, ObjectKind::SdnRoute, None), vec![r2]);
    h.verify_indexes().unwrap();

    let mut h = hns_with(|s| s.endpoint_in_policy_list = OnReferenced::Refuse);
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let a = ep(&mut h, &n, None);
    create(&mut h, ObjectKind::SdnRoute, &route(&a)).unwrap();
    assert_eq!(
        code(h.delete_endpoint(&a.to_string())),
        HResult::HCN_E_ENTITY_HAS_REFERENCES
    );
}

/// A clone starts a journal of its own: a cursor of the original is "cannot say" there, but a
/// cursor of the clone is answered, now and after the clone changes (its consumers compare
/// everything once, not at every change).
#[test]
fn a_clone_keeps_a_journal_of_its_own() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    ep(&mut h, &n, None);
    let old = h.journal_cursor();
    let mut c = h.clone();
    assert_eq!(c.changes_since(old), None);
    let cur = c.journal_cursor();
    assert_eq!(c.changes_since(cur), Some(&[][..]));
    let e = ep(&mut c, &n, None);
    assert!(c.changes_since(cur).unwrap().contains(&Change::Endpoint(e)));
    assert_eq!(h.changes_since(old), Some(&[][..]), "the original is untouched");
}

/// The L4 WFP proxy (Istio on Windows) needs HNS 13.2: an older HNS does not know the policy
/// type (HCN_E_INVALID_POLICY_TYPE, naming it), 13.2 accepts it.
#[test]
fn an_l4_wfp_proxy_policy_needs_hns_13_2() {
    let proxy = |h: &mut hnsim_model::state::Hns, n: &Guid| {
        let mut d = endpoint_doc(n, None);
        d["Policies"] = json!([{"Type": "L4WFPPROXY", "Settings": {"InboundProxyPort": "15006"}}]);
        create(h, ObjectKind::Endpoint, &d)
    };
    let mut old = hns_with(|s| s.hns_version = Version::new(13, 1));
    let n = net(&mut old, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = proxy(&mut old, &n).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_INVALID_POLICY_TYPE);
    assert!(e.message.contains("L4WFPPROXY"), "{}", e.message);
    let mut new = hns_with(|s| s.hns_version = Version::new(13, 2));
    let n = net(&mut new, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    proxy(&mut new, &n).unwrap();
}

/// Two endpoints of a network may map the same protocol and port on different VIPs, not on
/// the same VIP (nor when either has none).
#[test]
fn port_mappings_on_one_port_clash_only_on_the_same_vip() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let with = |h: &mut hnsim_model::state::Hns, vip: Option<&str>| {
        let mut d = endpoint_doc(&n, None);
        let mut m = json!({"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080});
        if let Some(v) = vip {
            m["VIP"] = json!(v);
        }
        d["Policies"] = json!([{"Type": "PortMapping", "Settings": m}]);
        create(h, ObjectKind::Endpoint, &d).map(|_| ())
    };
    with(&mut h, Some("10.0.0.5")).unwrap();
    with(&mut h, Some("10.0.0.6")).unwrap();
    assert_eq!(
        code(with(&mut h, Some("10.0.0.5"))),
        HResult::HCN_E_PORT_ALREADY_EXISTS
    );
    assert_eq!(code(with(&mut h, None)), HResult::HCN_E_PORT_ALREADY_EXISTS);
}

/// Each service of the bench workload gets its own slice of the backends: service `i` lists
/// endpoints `i*B .. (i+1)*B` in creation order.
#[test]
fn each_bench_service_lists_its_own_backends() {
    let w = KubeProxyWorkload::new(3, 4);
    let mut h = hns();
    let p = w.program(&mut h).unwrap();
    for (i, lb) in p.load_balancers.iter().enumerate() {
        let q = query(&mut h, ObjectKind::LoadBalancer, &lb.parse().unwrap());
        assert_eq!(
            q["HostComputeEndpoints"],
            json!(p.endpoints[i * 4..(i + 1) * 4]),
            "service {i}"
        );
    }
}

/// The in-process model offers its journal through the backend trait too (a real host has
/// none), so a caller holding only a `dyn HnsBackend` re-reads just what changed.
#[test]
fn the_model_backend_answers_from_its_journal() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let b: &mut dyn HnsBackend = &mut h;
    let c = b.journal_cursor().expect("the model keeps a journal");
    assert_eq!(b.changes_since(c), Some(vec![]));
    let out = b
        .create_endpoint("", &endpoint_doc(&n, None).to_string())
        .unwrap();
    let e: Guid = serde_json::from_str::<serde_json::Value>(&out).unwrap()["ID"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(b.changes_since(c).unwrap().contains(&Change::Endpoint(e)));
}

/// Removing a pod's workload container takes exactly its own `Container` resource out of the
/// shared namespace: the sandbox's stays.
#[test]
fn removing_a_container_removes_its_own_namespace_resource() {
    use hnsim_model::state::Isolation;
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let ns = h
        .create_container("pause", Isolation::Process, &[e])
        .unwrap()
        .namespace
        .unwrap();
    h.create_container_in("app", Isolation::Process, &ns).unwrap();
    h.remove_container("app").unwrap();
    let containers: Vec<&serde_json::Value> = h.namespaces[&ns]
        .resources
        .iter()
        .filter(|r| r.resource_type == "Container")
        .map(|r| &r.data["ID"])
        .collect();
    assert_eq!(containers, vec![&json!("pause")]);
}

/// A Hyper-V container needs a VM port of its own: an endpoint that already has one (added
/// through `HcnModifyEndpoint`) is refused as already attached.
#[test]
fn a_hyper_v_container_refuses_an_endpoint_with_a_vm_port() {
    use hnsim_model::state::Isolation;
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let port = json!({"ResourceType": "Port", "RequestType": "Add", "Settings": {
        "VirtualMachineId": "BBBBBBBB-0000-0000-0000-000000000002"}});
    h.modify_endpoint(&e.to_string(), &port.to_string()).unwrap();
    assert_eq!(
        code(h.create_container("uvm", Isolation::HyperV, &[e])),
        HResult::HCN_E_ENDPOINT_ALREADY_ATTACHED
    );
    let free = ep(&mut h, &n, None);
    h.create_container("uvm", Isolation::HyperV, &[free]).unwrap();
}

/// hcsshim's `GetEndpointByName`: a `Name` filter finds the endpoints of that name (case
/// aside) and nothing when none has it.
#[test]
fn a_name_filter_finds_exactly_the_named_endpoints() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut d = endpoint_doc(&n, None);
    d["Name"] = json!("web");
    let (web, _) = create(&mut h, ObjectKind::Endpoint, &d).unwrap();
    ep(&mut h, &n, None);
    let named = |h: &mut hnsim_model::state::Hns, name: &str| {
        enumerate(h, ObjectKind::Endpoint, Some(json!({ "Name": name })))
    };
    assert_eq!(named(&mut h, "WEB"), vec![web]);
    assert_eq!(named(&mut h, "nobody"), Vec::<Guid>::new());
}

/// A VM port added through `HcnModifyEndpoint` keeps the `PortId` and `VirtualMachineId` the
/// caller gave; without a `PortId` HNS makes one up.
#[test]
fn a_vm_port_keeps_the_ids_it_was_given() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let (port, vm): (Guid, Guid) = (
        "AAAAAAAA-0000-0000-0000-000000000001".parse().unwrap(),
        "BBBBBBBB-0000-0000-0000-000000000002".parse().unwrap(),
    );
    let e = ep(&mut h, &n, None);
    let add = json!({"ResourceType": "Port", "RequestType": "Add", "Settings": {
        "PortId": port.to_string(), "VirtualMachineId": vm.to_string()}});
    h.modify_endpoint(&e.to_string(), &add.to_string()).unwrap();
    assert_eq!(
        (h.vm_ports[&e].port_id, h.vm_ports[&e].virtual_machine_id),
        (port, vm)
    );
    let f = ep(&mut h, &n, None);
    let add = json!({"ResourceType": "Port", "RequestType": "Add", "Settings": {
        "VirtualMachineId": vm.to_string()}});
    h.modify_endpoint(&f.to_string(), &add.to_string()).unwrap();
    assert!(!h.vm_ports[&f].port_id.is_zero());
    assert_ne!(h.vm_ports[&f].port_id, port);
}

/// An endpoint filter on a field no index answers (`MacAddress`) reads each endpoint's
/// document and finds the one with that MAC.
#[test]
fn an_endpoint_filter_on_a_document_field_reads_the_document() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let a = ep(&mut h, &n, None);
    ep(&mut h, &n, None);
    let mac = query(&mut h, ObjectKind::Endpoint, &a)["MacAddress"].clone();
    assert!(mac.is_string(), "{mac}");
    let found = enumerate(&mut h, ObjectKind::Endpoint, Some(json!({ "MacAddress": mac })));
    assert_eq!(found, vec![a]);
}

/// The work counter survives `rebuild_indexes`: it counts every lookup the state made so far,
/// so a bench that plants objects and rebuilds still measures from where it was (a counter
/// that went back would make its differences wrap).
#[test]
fn index_probes_are_kept_across_a_rebuild() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    ep(&mut h, &n, None);
    let before = h.index_probes();
    assert!(before > 0);
    h.rebuild_indexes();
    assert!(h.index_probes() >= before, "{} < {before}", h.index_probes());
}

/// `HcnModifyLoadBalancer` moves the LB's frontend and its endpoint references: the frontend
/// it takes is held (another LB on it clashes), the one it left is free, the endpoint it now
/// lists is referenced (refused under `Refuse`) and the one it dropped is not.
#[test]
fn an_updated_lb_moves_its_frontend_and_its_references() {
    let mut h = hns_with(|s| s.endpoint_in_policy_list = OnReferenced::Refuse);
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let (a, b) = (ep(&mut h, &n, None), ep(&mut h, &n, None));
    let lb = |e: &Guid, port: u16| {
        json!({"HostComputeEndpoints": [e.to_string()], "FrontendVIPs": ["10.96.0.1"],
            "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": port}]})
    };
    let (id, _) = create(&mut h, ObjectKind::LoadBalancer, &lb(&a, 80)).unwrap();
    h.modify_load_balancer(&id.to_string(), &lb(&b, 81).to_string())
        .unwrap();
    h.verify_indexes().unwrap();
    let other = ep(&mut h, &n, None);
    assert_eq!(
        code(create(&mut h, ObjectKind::LoadBalancer, &lb(&other, 81))),
        HResult::HCN_E_PORT_ALREADY_EXISTS
    );
    create(&mut h, ObjectKind::LoadBalancer, &lb(&other, 80)).unwrap();
    assert_eq!(
        code(h.delete_endpoint(&b.to_string())),
        HResult::HCN_E_ENTITY_HAS_REFERENCES
    );
    h.delete_endpoint(&a.to_string()).unwrap();
}

/// `hnsim hns validate` tells warnings (unknown keys: HNS ignores them) from errors (what a
/// create would refuse, with its HRESULT); `--strict` and the fuzz target rely on the split.
#[test]
fn lint_tells_a_warning_from_an_error() {
    let doc = json!({"Name": "e", "HostComputeNetwork": "00000000-0000-0000-0000-000000000001",
        "Nmae": "typo", "IpConfigurations": [{"IpAddress": "fd00::5", "PrefixLength": 64}]});
    let old = HostSettings {
        hns_version: Version::new(10, 1),
        ..HostSettings::default()
    };
    let (_, p) = lint::check_value(&doc, &old).unwrap();
    let kinds: Vec<(bool, Option<HResult>)> = p.iter().map(|p| (p.is_warning(), p.code)).collect();
    assert_eq!(
        kinds,
        [(true, None), (false, Some(HResult::HCN_E_REQUEST_UNSUPPORTED))],
        "{p:?}"
    );
}

/// ACL protocol 252 (VXLAN in HNS's numbering) needs HNS 11.0 (`AclSupportForProtocol252`):
/// refused before, accepted from then on, like any other protocol number up to 256.
#[test]
fn an_acl_on_protocol_252_needs_hns_11() {
    let acl = |h: &mut hnsim_model::state::Hns, protocols: &str| {
        let n = net(h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
        let mut d = endpoint_doc(&n, None);
        d["Policies"] = json!([{"Type": "ACL", "Settings": {"Protocols": protocols,
            "Action": "Allow", "Direction": "In"}}]);
        create(h, ObjectKind::Endpoint, &d).map(drop)
    };
    let mut old = hns_with(|s| s.hns_version = Version::new(10, 1));
    let e = acl(&mut old, "6,252").unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_INVALID_POLICY, "{}", e.message);
    assert!(e.message.contains("ACL protocol 252"), "{}", e.message);
    acl(&mut hns_with(|s| s.hns_version = Version::new(10, 1)), "6,251").unwrap();
    acl(&mut hns_with(|s| s.hns_version = Version::new(11, 0)), "6,252").unwrap();
}

/// An endpoint's `SDNRoute` policy is checked at create: `DestinationPrefix` must be a CIDR and
/// `NextHop`, when given, an address; a well-formed one is accepted.
#[test]
fn an_endpoint_sdn_route_policy_must_be_well_formed() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let route = |h: &mut hnsim_model::state::Hns, prefix: &str, hop: &str| {
        let mut d = endpoint_doc(&n, None);
        d["Policies"] = json!([{"Type": "SDNRoute", "Settings": {"DestinationPrefix": prefix,
            "NextHop": hop, "NeedEncap": true}}]);
        create(h, ObjectKind::Endpoint, &d).map(drop)
    };
    for (prefix, hop, bad) in [
        ("10.96.0.0/x", "", "DestinationPrefix"),
        ("10.96.0.0/12", "gateway", "NextHop"),
    ] {
        let e = route(&mut h, prefix, hop).unwrap_err();
        assert_eq!(e.code, HResult::HCN_E_INVALID_POLICY, "{}", e.message);
        assert!(e.message.contains(bad), "{}", e.message);
    }
    route(&mut h, "10.96.0.0/12", "").unwrap();
    route(&mut h, "10.96.0.0/12", "172.20.0.1").unwrap();
}

/// A `SetPolicy` needs HNS 13.0, a nested set (`NESTEDIPSET`, or 1 as [sdn] sends it) 15.0:
/// on HNS 14.0 a plain IP set is accepted and a nested one refused in either spelling.
#[test]
fn a_nested_ip_set_needs_hns_15() {
    let with_set = |h: &mut hnsim_model::state::Hns, kind: serde_json::Value| {
        let mut d = nat_network("nat", "172.20.0.0/16", "172.20.0.1");
        d["Policies"] = json!([{"Type": "SetPolicy", "Settings": {"Id": "s", "Name": "set",
            "PolicyType": kind, "Values": "10.0.0.1"}}]);
        create(h, ObjectKind::Network, &d).map(drop)
    };
    let v14 = || hns_with(|s| s.hns_version = Version::new(14, 0));
    with_set(&mut v14(), json!("IPSET")).unwrap();
    for kind in [json!("NESTEDIPSET"), json!(1)] {
        let e = with_set(&mut v14(), kind.clone()).unwrap_err();
        assert_eq!(
            e.code,
            HResult::HCN_E_INVALID_POLICY_TYPE,
            "{kind}: {}",
            e.message
        );
        assert!(e.message.contains("NESTEDIPSET"), "{}", e.message);
        with_set(&mut hns_with(|s| s.hns_version = Version::new(15, 0)), kind).unwrap();
    }
}

/// Only a port mapping flagged IPv6 (the `IPV6` NatFlag) needs dual-stack support: on an HNS
/// without it an IPv4 port mapping is accepted and an IPv6 one refused, naming the flag.
#[test]
fn only_an_ipv6_port_mapping_needs_dual_stack() {
    use hnsim_model::schema::nat_flags::IPV6;
    let mut h = hns_with(|s| s.hns_version = Version::new(11, 0));
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mapping = |h: &mut hnsim_model::state::Hns, flags: u32, port: u16| {
        let mut d = endpoint_doc(&n, None);
        d["Policies"] = json!([{"Type": "PortMapping", "Settings": {"Protocol": 6,
            "InternalPort": 80, "ExternalPort": port, "Flags": flags}}]);
        create(h, ObjectKind::Endpoint, &d).map(drop)
    };
    mapping(&mut h, 0, 8080).unwrap();
    let e = mapping(&mut h, IPV6, 8081).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_REQUEST_UNSUPPORTED, "{}", e.message);
    assert!(e.message.contains("PortMapping flag IPv6"), "{}", e.message);
}

/// An HNS without dual stack allocates an endpoint only its IPv4 address.
#[test]
fn an_hns_without_dual_stack_allocates_ipv4() {
    let mut h = hns_with(|s| s.hns_version = Version::new(11, 0));
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let ips: Vec<String> = h.endpoint_ips(&e).map(|i| i.to_string()).collect();
    assert_eq!(ips, ["172.20.0.2"]);
}

/// Deleting a namespace that still holds an endpoint detaches it under `Release` (the default)
/// and keeps the endpoint; under `Refuse` only an empty namespace may go.
#[test]
fn a_namespace_in_use_is_released_by_default_and_refused_only_when_configured() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let ns = namespace(&mut h, None);
    h.modify_namespace(&ns.to_string(), &attach_req(&e, "Add"))
        .unwrap();
    h.delete_namespace(&ns.to_string()).unwrap();
    assert_eq!(enumerate(&mut h, ObjectKind::Namespace, None), Vec::<Guid>::new());
    assert_eq!(enumerate(&mut h, ObjectKind::Endpoint, None), vec![e]);
    h.verify_indexes().unwrap();
    // The endpoint is free again: another namespace may take it.
    let other = namespace(&mut h, None);
    h.modify_namespace(&other.to_string(), &attach_req(&e, "Add"))
        .unwrap();

    let mut h = hns_with(|s| s.namespace_with_resources = OnReferenced::Refuse);
    let empty = namespace(&mut h, None);
    h.delete_namespace(&empty.to_string()).unwrap();
}

/// The model backend names itself and the HNS version it models (the adapter's hello line, a
/// conformance report's `backend`, a transcript's header).
#[test]
fn the_model_backend_names_itself_and_its_hns_version() {
    let h = hns_with(|s| s.hns_version = Version::new(13, 2));
    assert_eq!(HnsBackend::describe(&h), "sim (HNS 13.2)");
}

/// A /32 endpoint prefix needs HNS 9.3–9.x or 10.4 and later (hns-schema.md §4.6): refused on
/// 9.2 and 10.3, accepted on 9.3 and 10.4.
#[test]
fn a_slash_32_endpoint_prefix_follows_its_version_ranges() {
    for (major, minor, ok) in [(9, 2, false), (9, 3, true), (10, 3, false), (10, 4, true)] {
        let mut h = hns_with(|s| s.hns_version = Version::new(major, minor));
        let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
        let mut d = endpoint_doc(&n, None);
        d["IpConfigurations"] = json!([{"IpAddress": "172.20.0.9", "PrefixLength": 32}]);
        match create(&mut h, ObjectKind::Endpoint, &d) {
            Ok(_) => assert!(ok, "{major}.{minor} accepted /32"),
            Err(e) => {
                assert!(!ok, "{major}.{minor}: {}", e.message);
                assert_eq!(e.code, HResult::HCN_E_REQUEST_UNSUPPORTED, "{}", e.message);
                assert!(e.message.contains("/32"), "{}", e.message);
            }
        }
    }
}

/// A NodePort-style LB (no FrontendVIPs) is IPv6 when its `IPv6` flag is set, whatever its
/// other flags: an IPv6 DSR one (Flags 3) clashes with a plain IPv6 one (Flags 2) on the same
/// port and coexists with an IPv4 one (Flags 0).
#[test]
fn a_nodeport_lb_family_is_its_ipv6_flag_alone() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = |flags: u32| {
        json!({"HostComputeEndpoints": [e.to_string()], "Flags": flags,
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 30080}]})
    };
    create(&mut h, ObjectKind::LoadBalancer, &lb(0)).unwrap();
    create(&mut h, ObjectKind::LoadBalancer, &lb(3)).unwrap();
    assert_eq!(
        code(create(&mut h, ObjectKind::LoadBalancer, &lb(2))),
        HResult::HCN_E_PORT_ALREADY_EXISTS
    );
    assert_eq!(
        code(create(&mut h, ObjectKind::LoadBalancer, &lb(1))),
        HResult::HCN_E_PORT_ALREADY_EXISTS
    );
}

/// Deleting a container's namespace under `Release` (the default) leaves the container without
/// one: no namespace, no endpoints, and its endpoint is free for another container.
#[test]
fn deleting_a_containers_namespace_releases_the_container() {
    use hnsim_model::state::Isolation;
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let ns = h
        .create_container("c", Isolation::Process, &[e])
        .unwrap()
        .namespace
        .unwrap();
    h.delete_namespace(&ns.to_string()).unwrap();
    let c = &h.compute_systems["c"];
    assert_eq!((c.namespace, c.endpoints.len()), (None, 0));
    assert!(h.container_of(&e).is_none());
    h.verify_indexes().unwrap();
    let c2 = h.create_container("c2", Isolation::Process, &[e]).unwrap();
    assert_eq!(h.container_of(&e).map(|c| c.id.as_str()), Some("c2"));
    assert_ne!(c2.namespace, Some(ns));
}

/// A network `VxlanPort` policy needs HNS 10.3 (an older HNS does not know the type) and a
/// non-zero port.
#[test]
fn a_vxlan_port_policy_needs_hns_10_3_and_a_port() {
    let with_port = |major: u32, minor: u32, port: u16| {
        let mut h = hns_with(|s| s.hns_version = Version::new(major, minor));
        let mut d = nat_network("vx", "172.20.0.0/16", "172.20.0.1");
        d["Type"] = json!("Overlay");
        d["Policies"] = json!([{"Type": "VxlanPort", "Settings": {"Port": port}}]);
        create(&mut h, ObjectKind::Network, &d).map(drop)
    };
    let e = with_port(10, 2, 4790).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_INVALID_POLICY_TYPE, "{}", e.message);
    assert!(e.message.contains("VxlanPort"), "{}", e.message);
    let e = with_port(10, 3, 0).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_INVALID_POLICY, "{}", e.message);
    assert!(e.message.contains("Port must be non-zero"), "{}", e.message);
    with_port(10, 3, 4790).unwrap();
}

/// A load balancer's `DistributionType` is 0, 1 or 2 (none, source IP and protocol, source
/// IP): 2 is accepted, 3 refused naming the field.
#[test]
fn an_lb_distribution_type_is_0_1_or_2() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = |dist: u32, port: u16| {
        json!({"HostComputeEndpoints": [e.to_string()], "PortMappings": [{"Protocol": 6,
            "InternalPort": 80, "ExternalPort": port, "DistributionType": dist}]})
    };
    create(&mut h, ObjectKind::LoadBalancer, &lb(2, 80)).unwrap();
    let e = create(&mut h, ObjectKind::LoadBalancer, &lb(3, 81)).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_INVALID_POLICY, "{}", e.message);
    assert!(e.message.contains("DistributionType"), "{}", e.message);
}

/// The network `L4Proxy` policy follows hcsshim's version ranges (hns-schema.md §4.6):
/// 9.5–9.x, 10.5–10.x, 11.11–11.x, 12.1–12.x and 13.1 on; the version just before each range
/// refuses it as an unknown policy type.
#[test]
fn an_l4_proxy_policy_follows_its_version_ranges() {
    let proxy = |major: u32, minor: u32| {
        let mut h = hns_with(|s| s.hns_version = Version::new(major, minor));
        let mut d = nat_network("nat", "172.20.0.0/16", "172.20.0.1");
        d["Policies"] = json!([{"Type": "L4Proxy", "Settings": {"Port": "15001",
            "Destination": "127.0.0.1"}}]);
        create(&mut h, ObjectKind::Network, &d).map(drop)
    };
    for (major, first) in [(9, 5), (10, 5), (11, 11), (12, 1), (13, 1)] {
        proxy(major, first).unwrap_or_else(|e| panic!("{major}.{first}: {}", e.message));
        let e = proxy(major, first - 1).unwrap_err();
        assert_eq!(
            e.code,
            HResult::HCN_E_INVALID_POLICY_TYPE,
            "{major}.{}",
            first - 1
        );
    }
    proxy(15, 4).unwrap();
}

/// A host MAC HNS hands out skips one an endpoint already holds (given by its caller).
#[test]
fn a_host_mac_skips_one_a_caller_gave() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    // The MAC this state would hand out next.
    let mut probe = h.clone();
    let e = ep(&mut probe, &n, None);
    let next = query(&mut probe, ObjectKind::Endpoint, &e)["MacAddress"].clone();
    let mut d = endpoint_doc(&n, None);
    d["MacAddress"] = next.clone();
    create(&mut h, ObjectKind::Endpoint, &d).unwrap();
    let e = ep(&mut h, &n, None);
    assert_ne!(query(&mut h, ObjectKind::Endpoint, &e)["MacAddress"], next);
}

/// `hnsim hns validate` checks an endpoint's `HostComputeNetwork` only when it is given: a
/// malformed one is an error at its path, a missing one none.
#[test]
fn lint_checks_an_endpoint_network_only_when_given() {
    let at_network = |doc: serde_json::Value| {
        let (_, p) = lint::check_value(&doc, &HostSettings::default()).unwrap();
        p.iter().filter(|p| p.path == "$.HostComputeNetwork").count()
    };
    assert_eq!(
        at_network(json!({"Name": "e", "IpConfigurations": [{"IpAddress": "10.0.0.5"}]})),
        0
    );
    assert_eq!(at_network(json!({"Name": "e", "HostComputeNetwork": "nope"})), 1);
}

/// Only a DSR load balancer needs the DSR feature: HNS 10.1 takes a plain one.
#[test]
fn only_a_dsr_lb_needs_dsr_support() {
    let mut h = hns_with(|s| s.hns_version = Version::new(10, 1));
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = |flags: u32, port: u16| {
        json!({"HostComputeEndpoints": [e.to_string()], "Flags": flags,
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": port}]})
    };
    create(&mut h, ObjectKind::LoadBalancer, &lb(0, 80)).unwrap();
    let e = create(&mut h, ObjectKind::LoadBalancer, &lb(1, 81)).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_REQUEST_UNSUPPORTED, "{}", e.message);
}

/// A network's name is taken while it lives (a second one of that name, in any case, is
/// HCN_E_NETWORK_ALREADY_EXISTS) and free again once it is deleted.
#[test]
fn a_deleted_network_frees_its_name() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    assert_eq!(
        code(create(
            &mut h,
            ObjectKind::Network,
            &nat_network("NAT", "172.21.0.0/16", "172.21.0.1")
        )),
        HResult::HCN_E_NETWORK_ALREADY_EXISTS
    );
    h.delete_network(&n.to_string()).unwrap();
    net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
}

/// A network's MacPool range may hold a single MAC (start = end) but not run backwards.
#[test]
fn a_mac_pool_range_may_be_one_mac_but_not_reversed() {
    let with_range = |start: &str, end: &str| {
        let mut h = hns();
        let mut d = nat_network("nat", "172.20.0.0/16", "172.20.0.1");
        d["MacPool"] = json!({"Ranges": [{"StartMacAddress": start, "EndMacAddress": end}]});
        create(&mut h, ObjectKind::Network, &d).map(drop)
    };
    with_range("00-15-5D-52-C0-10", "00-15-5D-52-C0-10").unwrap();
    with_range("00-15-5D-52-C0-00", "00-15-5D-52-CF-FF").unwrap();
    let e = with_range("00-15-5D-52-C0-11", "00-15-5D-52-C0-10").unwrap_err();
    assert!(e.message.contains("is above EndMacAddress"), "{}", e.message);
}

/// `Hns::endpoints_of` lists exactly the network's endpoints, in ID order, and no longer one
/// that was deleted.
#[test]
fn a_network_lists_its_own_endpoints_in_id_order() {
    let mut h = hns();
    let a = net(&mut h, nat_network("a", "172.20.0.0/16", "172.20.0.1"));
    let b = net(&mut h, nat_network("b", "172.21.0.0/16", "172.21.0.1"));
    let mut on_a: Vec<Guid> = (0..4).map(|_| ep(&mut h, &a, None)).collect();
    let on_b = ep(&mut h, &b, None);
    on_a.sort();
    let listed = |h: &hnsim_model::state::Hns, n: &Guid| -> Vec<Guid> {
        h.endpoints_of(n).map(|(id, _)| *id).collect()
    };
    assert_eq!(listed(&h, &a), on_a);
    assert_eq!(listed(&h, &b), [on_b]);
    for (id, e) in h.endpoints_of(&a) {
        assert_eq!(h.network_of(id), Some(a), "{}", e.host_compute_network);
    }
    h.delete_endpoint(&on_a[1].to_string()).unwrap();
    on_a.remove(1);
    assert_eq!(listed(&h, &a), on_a);
}

/// `hnsim hns validate` prints a document as it came: one object as an object, an array (even
/// of one document) as an array, and the documents of a v1 reply's `Output` list as an array
/// of all of them (none: an empty array).
#[test]
fn validate_prints_an_array_for_an_array_or_a_v1_reply() {
    let s = HostSettings::default();
    let ns = r#"{"ID":"0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11","Type":"Host"}"#;
    let (one, _) = lint::check_text(ns, &s).unwrap();
    assert_eq!(one["Type"], "Host", "{one}");
    let (array, _) = lint::check_text(&format!("[{ns}]"), &s).unwrap();
    assert_eq!(array, json!([one]));
    let reply = r#"{"Success":true,"Output":[{"Name":"a","Type":"NAT"},{"Name":"b","Type":"L2Bridge"}]}"#;
    let (out, _) = lint::check_text(reply, &s).unwrap();
    let names: Vec<&str> = out
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, found {out}"))
        .iter()
        .map(|d| d["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    let (none, _) = lint::check_text(r#"{"Success":true,"Output":[]}"#, &s).unwrap();
    assert_eq!(none, json!([]));
}

/// An ACL's `RuleType` may be left out; given, it must be `Host` or `Switch` (in any case):
/// anything else is HCN_E_INVALID_POLICY.
#[test]
fn an_acl_rule_type_is_host_switch_or_none() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut acl = |rule_type: Option<&str>| {
        let mut settings = json!({"Protocols": "6", "Action": "Block", "Direction": "In"});
        if let Some(t) = rule_type {
            settings["RuleType"] = json!(t);
        }
        let mut d = endpoint_doc(&n, None);
        d["Policies"] = json!([{"Type": "ACL", "Settings": settings}]);
        create(&mut h, ObjectKind::Endpoint, &d).map(drop)
    };
    acl(None).unwrap();
    acl(Some("Switch")).unwrap();
    acl(Some("host")).unwrap();
    let e = acl(Some("Firewall")).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_INVALID_POLICY, "{}", e.message);
    assert!(
        e.message.contains("RuleType must be Host or Switch"),
        "{}",
        e.message
    );
}

/// A deleted endpoint leaves the name index: a `Name` filter (hcsshim's `GetEndpointByName`)
/// no longer finds it, and finds a new endpoint of that name.
#[test]
fn a_deleted_endpoint_is_no_longer_found_by_name() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut d = endpoint_doc(&n, None);
    d["Name"] = json!("web");
    let (old, _) = create(&mut h, ObjectKind::Endpoint, &d).unwrap();
    let named =
        |h: &mut hnsim_model::state::Hns| enumerate(h, ObjectKind::Endpoint, Some(json!({"Name": "web"})));
    assert_eq!(named(&mut h), [old]);
    h.delete_endpoint(&old.to_string()).unwrap();
    assert_eq!(named(&mut h), Vec::<Guid>::new());
    let (new, _) = create(&mut h, ObjectKind::Endpoint, &d).unwrap();
    assert_eq!(named(&mut h), [new]);
}

/// A PortMapping with `ExternalPort` 0 publishes no host port (the model's reading: 0 is "none
/// requested"), so it takes no port from other mappings of the endpoint or the network; two
/// mappings of one external port still clash (HCN_E_PORT_ALREADY_EXISTS).
#[test]
fn a_port_mapping_without_an_external_port_never_clashes() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut with_ports = |ports: &[(u16, u16)]| {
        let mut d = endpoint_doc(&n, None);
        let policies: Vec<_> = ports
            .iter()
            .map(|(internal, external)| {
                json!({"Type": "PortMapping", "Settings": {"Protocol": 6,
                    "InternalPort": internal, "ExternalPort": external}})
            })
            .collect();
        d["Policies"] = json!(policies);
        create(&mut h, ObjectKind::Endpoint, &d).map(drop)
    };
    with_ports(&[(80, 0), (443, 0)]).unwrap();
    with_ports(&[(80, 0), (8080, 8080)]).unwrap();
    assert_eq!(
        code(with_ports(&[(81, 8080)])),
        HResult::HCN_E_PORT_ALREADY_EXISTS
    );
}

/// A VM port request's `PortId` and `VirtualMachineId` may be blank, read as not given (a
/// fresh `PortId`, no VM); a malformed one is HCN_E_GUID_CONVERSION_FAILURE.
#[test]
fn a_vm_port_request_may_leave_its_ids_blank() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let port = |settings: serde_json::Value| {
        json!({"ResourceType": "Port", "RequestType": "Add", "Settings": settings}).to_string()
    };
    let e = ep(&mut h, &n, None);
    h.modify_endpoint(
        &e.to_string(),
        &port(json!({"PortId": "", "VirtualMachineId": " "})),
    )
    .unwrap();
    assert!(!h.vm_ports[&e].port_id.is_zero());
    assert!(h.vm_ports[&e].virtual_machine_id.is_zero());
    let f = ep(&mut h, &n, None);
    let bad = h.modify_endpoint(&f.to_string(), &port(json!({"PortId": "port-1"})));
    assert_eq!(code(bad), HResult::HCN_E_GUID_CONVERSION_FAILURE);
}

/// The endpoints of a network (`VirtualNetwork`, the key hcsshim's `ListEndpointsOfNetwork`
/// filters on, or `HostComputeNetwork`) come from the network's index: the answer, and its
/// index probes, are the same whether another network holds 10 endpoints or 200.
#[test]
fn listing_a_networks_endpoints_costs_the_same_beside_a_larger_network() {
    let run = |others: usize| {
        let mut h = hns();
        let mine = net(&mut h, nat_network("mine", "172.20.0.0/16", "172.20.0.1"));
        let big = net(&mut h, nat_network("big", "172.21.0.0/16", "172.21.0.1"));
        let mut want: Vec<Guid> = (0..3).map(|_| ep(&mut h, &mine, None)).collect();
        want.sort();
        for _ in 0..others {
            ep(&mut h, &big, None);
        }
        let mut probes = Vec::new();
        for key in ["VirtualNetwork", "HostComputeNetwork"] {
            let before = h.index_probes();
            let got = enumerate(&mut h, ObjectKind::Endpoint, Some(json!({key: mine.to_string()})));
            probes.push(h.index_probes() - before);
            assert_eq!(got, want, "{key}");
        }
        probes
    };
    let small = run(10);
    assert!(small.iter().all(|p| *p > 0), "no index probes counted: {small:?}");
    assert_eq!(run(200), small);
}

/// Only one HostDefault namespace lives at a time (GCN_E_DEFAULTNAMESPACE_EXISTS), but once it
/// is deleted another may be created; and a reboot, which drops every namespace, creates the
/// host's own one afresh when the host has one.
#[test]
fn a_deleted_host_default_namespace_can_be_created_again() {
    let mut h = hns();
    let first = namespace(&mut h, Some("HostDefault"));
    assert_eq!(
        code(create(
            &mut h,
            ObjectKind::Namespace,
            &json!({"Type": "HostDefault"})
        )),
        HResult::GCN_E_DEFAULTNAMESPACE_EXISTS
    );
    h.delete_namespace(&first.to_string()).unwrap();
    assert_eq!(h.host_default_namespace(), None);
    let second = namespace(&mut h, Some("HostDefault"));
    assert_eq!(h.host_default_namespace(), Some(second));

    let mut h = hns_with(|s| s.host_default_namespace = true);
    h.host_default_namespace().expect("created at start");
    h.reboot();
    let after = h.host_default_namespace().expect("created again at the reboot");
    assert_eq!(
        query(&mut h, ObjectKind::Namespace, &after)["Type"],
        "HostDefault"
    );
}

/// A local endpoint created without `Routes` gets its subnet's gateway as default route; one
/// created with routes keeps exactly those; a remote endpoint gets none (the remote endpoints
/// of tests/data/hns-dumps carry no gateway; the document omits an empty `Routes`).
#[test]
fn only_a_local_endpoint_without_routes_gets_the_gateway_route() {
    let mut h = hns();
    let n = net(&mut h, l2bridge_network("cbr0", "10.244.1.0/24", "10.244.1.1"));
    let routes =
        |h: &mut hnsim_model::state::Hns, id: &Guid| query(h, ObjectKind::Endpoint, id)["Routes"].clone();
    let plain = ep(&mut h, &n, None);
    assert_eq!(
        routes(&mut h, &plain),
        json!([{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}])
    );
    let mut d = endpoint_doc(&n, None);
    let own = json!([{"NextHop": "10.244.1.254", "DestinationPrefix": "10.0.0.0/8"}]);
    d["Routes"] = own.clone();
    let (routed, _) = create(&mut h, ObjectKind::Endpoint, &d).unwrap();
    assert_eq!(routes(&mut h, &routed), own);
    let remote = remote_ep(&mut h, &n, "10.244.1.77", "192.168.0.12");
    let r = routes(&mut h, &remote);
    assert!(r.is_null(), "a remote endpoint given routes {r}");
}

/// Starting a container changes where its endpoints run: the journal lists its namespace and
/// each endpoint placed in it, so the dataplane compiler looks at them again.
#[test]
fn starting_a_container_journals_its_namespace_and_endpoints() {
    use hnsim_model::state::Isolation;
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let (a, b) = (ep(&mut h, &n, None), ep(&mut h, &n, None));
    let ns = h
        .create_container("pause", Isolation::Process, &[a, b])
        .unwrap()
        .namespace
        .unwrap();
    let c = h.journal_cursor();
    h.start_container("pause").unwrap();
    let changes: BTreeSet<&Change> = h.changes_since(c).unwrap().iter().collect();
    let want = [Change::Namespace(ns), Change::Endpoint(a), Change::Endpoint(b)];
    assert_eq!(changes, want.iter().collect());
}

/// The `L4Proxy` feature gates the endpoint's `L4Proxy` policy as it does the network's: HNS
/// 12.0 refuses it (HCN_E_INVALID_POLICY_TYPE), 12.1 takes it.
#[test]
fn an_endpoint_l4_proxy_policy_needs_the_l4_proxy_feature() {
    let proxy = |major: u32, minor: u32| {
        let mut h = hns_with(|s| s.hns_version = Version::new(major, minor));
        let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
        let mut d = endpoint_doc(&n, None);
        d["Policies"] = json!([{"Type": "L4Proxy", "Settings": {"Port": "15001",
            "Destination": "127.0.0.1"}}]);
        create(&mut h, ObjectKind::Endpoint, &d).map(drop)
    };
    assert_eq!(code(proxy(12, 0)), HResult::HCN_E_INVALID_POLICY_TYPE);
    proxy(12, 1).unwrap();
}

/// Importing a dump: a namespace that lists an endpoint the dump lacks loses that entry (and
/// the import reports it) but keeps the rest of its resources as dumped, in their order, and
/// the endpoints the dump has are placed in it.
#[test]
fn import_drops_only_the_missing_endpoints_of_a_namespace() {
    let net = "0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11";
    let ep = "11111111-2222-4333-8444-555555555555";
    let gone = "99999999-2222-4333-8444-555555555555";
    let ns = "B1111111-2222-4333-8444-555555555555";
    let docs = format!(
        r#"[{{"ID":"{net}","Name":"cbr0","Type":"L2Bridge"}},
           {{"ID":"{ep}","HostComputeNetwork":"{net}","IpConfigurations":[{{"IpAddress":"10.244.1.5"}}]}},
           {{"ID":"{ns}","NamespaceId":2,"Type":"Host","SchemaVersion":{{"Major":2,"Minor":0}},
             "Resources":[{{"Type":"Endpoint","Data":{{"ID":"{ep}"}}}},{{"Type":"Container","Data":{{"ID":"pause"}}}},
               {{"Type":"Endpoint","Data":{{"ID":"{gone}"}}}}]}}]"#
    );
    let mut h = hns();
    let rep = h.import(decode_any(&docs).unwrap());
    assert_eq!(rep.namespaces, 1);
    assert_eq!(rep.problems.len(), 1, "{:?}", rep.problems);
    assert_eq!(rep.problems[0].kind, "namespace");
    assert!(
        rep.problems[0].message.contains(gone),
        "{}",
        rep.problems[0].message
    );
    let (ns, ep): (Guid, Guid) = (ns.parse().unwrap(), ep.parse().unwrap());
    let listed: Vec<(&str, &serde_json::Value)> = h.namespaces[&ns]
        .resources
        .iter()
        .map(|r| (r.resource_type.as_str(), &r.data["ID"]))
        .collect();
    assert_eq!(
        listed,
        [
            ("Endpoint", &json!("11111111-2222-4333-8444-555555555555")),
            ("Container", &json!("pause"))
        ]
    );
    assert_eq!(h.namespace_of(&ep), Some(ns));
}

/// Checking documents for a given HNS version (`lint::check_value`): an IPv4 prefix may be
/// up to 32 bits long (33 is HCN_E_INVALID_IP) and an IPv6 one up to 128 (the reader refuses
/// more); a network's
/// `HostRoute` policy needs HNS 9.2 (hns-schema.md §4.6), reported at the policy.
#[test]
fn lint_checks_prefix_lengths_and_the_host_route_feature() {
    let problems = |doc: serde_json::Value, version: Version| {
        let s = HostSettings {
            hns_version: version,
            ..HostSettings::default()
        };
        let (_, p) = lint::check_value(&doc, &s).unwrap();
        p.into_iter().map(|p| (p.path, p.code)).collect::<Vec<_>>()
    };
    let ep = |ip: &str, len: u8| {
        json!({"Name": "e", "HostComputeNetwork": "00000000-0000-0000-0000-000000000001",
            "IpConfigurations": [{"IpAddress": ip, "PrefixLength": len}]})
    };
    let now = HostSettings::default().hns_version;
    assert_eq!(problems(ep("10.0.0.5", 32), now), []);
    assert_eq!(problems(ep("fd00::5", 128), now), []);
    let p = problems(ep("10.0.0.5", 33), now);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].1, Some(HResult::HCN_E_INVALID_IP), "{p:?}");
    let net = json!({"Name": "n", "Type": "L2Bridge", "Policies": [{"Type": "HostRoute", "Settings": {}}]});
    let at_policy = |version| {
        problems(net.clone(), version)
            .into_iter()
            .filter(|(path, _)| path == "$.Policies[0]")
            .map(|(_, code)| code)
            .collect::<Vec<_>>()
    };
    assert_eq!(at_policy(Version::new(9, 2)), []);
    assert_eq!(
        at_policy(Version::new(9, 1)),
        [Some(HResult::HCN_E_INVALID_POLICY_TYPE)]
    );
}

/// An ACL's `Protocols` are protocol numbers up to 256 (HNS's "any"): 257 is
/// HCN_E_INVALID_POLICY.
#[test]
fn acl_protocols_go_up_to_256() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut acl = |protocols: &str| {
        let mut d = endpoint_doc(&n, None);
        d["Policies"] = json!([{"Type": "ACL", "Settings": {"Protocols": protocols,
            "Action": "Block", "Direction": "Out"}}]);
        create(&mut h, ObjectKind::Endpoint, &d).map(drop)
    };
    acl("256").unwrap();
    acl("6,17,255").unwrap();
    for bad in ["257", "6,300"] {
        let e = acl(bad).unwrap_err();
        assert_eq!(e.code, HResult::HCN_E_INVALID_POLICY, "{bad}: {}", e.message);
        assert!(
            e.message.contains("Protocols must be protocol numbers"),
            "{}",
            e.message
        );
    }
}

/// A subnet that no local endpoint uses can be removed from its network; one that holds an
/// endpoint's address is HCN_E_ENTITY_HAS_REFERENCES, and free again once the endpoint is gone.
#[test]
fn only_a_subnet_in_use_cannot_be_removed() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let sub = |op: &str, prefix: &str| {
        json!({"ResourceType": "Subnet", "RequestType": op, "Settings": {"Subnets": [
            {"IpAddressPrefix": prefix, "Routes": [{"NextHop": "10.0.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}})
        .to_string()
    };
    h.modify_network(&n.to_string(), &sub("Add", "10.0.1.0/24"))
        .unwrap();
    h.modify_network(&n.to_string(), &sub("Remove", "10.0.1.0/24"))
        .unwrap();
    h.modify_network(&n.to_string(), &sub("Add", "10.0.1.0/24"))
        .unwrap();
    let e = ep(&mut h, &n, Some("10.0.1.9"));
    assert_eq!(
        code(h.modify_network(&n.to_string(), &sub("Remove", "10.0.1.0/24"))),
        HResult::HCN_E_ENTITY_HAS_REFERENCES
    );
    h.delete_endpoint(&e.to_string()).unwrap();
    h.modify_network(&n.to_string(), &sub("Remove", "10.0.1.0/24"))
        .unwrap();
}

/// The work counter is a statistic that clones copy: a bench that clones a planted host and
/// measures the clone keeps counting from where the original was.
#[test]
fn a_clone_keeps_the_index_probe_count() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    ep(&mut h, &n, None);
    assert!(h.index_probes() > 0);
    assert_eq!(h.clone().index_probes(), h.index_probes());
}

/// Importing a dump: an endpoint whose namespace is the nil GUID (v1 dumps write
/// `"Namespace": {"ID": "00000000-…"}` for an endpoint in none) is simply unattached, not
/// reported as naming a namespace the dump lacks.
#[test]
fn import_reads_a_nil_namespace_as_none() {
    let net = "0E3AF5E0-7C4E-4D3C-9B79-2B5C5D1C1A11";
    let ep = "11111111-2222-4333-8444-555555555555";
    let docs = format!(
        r#"[{{"ID":"{net}","Name":"cbr0","Type":"L2Bridge"}},
           {{"ID":"{ep}","HostComputeNetwork":"{net}","HostComputeNamespace":"00000000-0000-0000-0000-000000000000",
             "IpConfigurations":[{{"IpAddress":"10.244.1.5"}}]}}]"#
    );
    let mut h = hns();
    let rep = h.import(decode_any(&docs).unwrap());
    assert_eq!(rep.endpoints, 1);
    assert_eq!(rep.problems, []);
    assert_eq!(h.namespace_of(&ep.parse().unwrap()), None);
}

/// A load balancer's endpoint references are stored as HNS writes GUIDs (upper case, no
/// braces: hns-schema.md §1) whatever spelling the caller used: through the JSON reader, and
/// through the typed create a caller that builds the document in code uses (sim's testkit).
#[test]
fn endpoint_references_are_stored_in_upper_case() {
    use hnsim_model::schema::{LbPortMapping, LoadBalancer};
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let canonical = e.to_string();
    assert_eq!(canonical, canonical.to_ascii_uppercase());
    for spelling in [canonical.to_ascii_lowercase(), format!("{{{canonical}}}")] {
        let lb = json!({"HostComputeEndpoints": [spelling],
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
        let (id, _) = create(&mut h, ObjectKind::LoadBalancer, &lb).unwrap();
        let q = query(&mut h, ObjectKind::LoadBalancer, &id);
        assert_eq!(q["HostComputeEndpoints"], json!([canonical]), "{spelling}");
        h.delete(ObjectKind::LoadBalancer, &id.to_string()).unwrap();

        let lb = LoadBalancer {
            host_compute_endpoints: vec![spelling.clone()],
            port_mappings: vec![LbPortMapping {
                protocol: 6,
                internal_port: 80,
                external_port: 80,
                ..Default::default()
            }],
            ..Default::default()
        };
        let id = h.load_balancer_create(Guid::ZERO, lb).unwrap();
        assert_eq!(
            h.load_balancers[&id].host_compute_endpoints,
            std::slice::from_ref(&canonical),
            "{spelling}"
        );
        h.delete(ObjectKind::LoadBalancer, &id.to_string()).unwrap();
    }
}

/// An endpoint's bad address is reported at its JSON path: `IpConfigurations[1].IpAddress`.
#[test]
fn a_bad_endpoint_address_names_its_ip_configuration() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut d = endpoint_doc(&n, None);
    d["IpConfigurations"] = json!([{"IpAddress": "172.20.0.9"}, {"IpAddress": "fd00::zz"}]);
    let e = create(&mut h, ObjectKind::Endpoint, &d).unwrap_err();
    assert_eq!(e.code, HResult::HCN_E_INVALID_IP, "{}", e.message);
    assert!(
        e.message
            .starts_with("IpConfigurations[1].IpAddress: expected an IP address"),
        "{}",
        e.message
    );
}

/// The strict reader `hnsim hns validate` uses reads every JSON number as serde_json does,
/// negative integers included (so a negative `Flags` is reported as -1, not as null).
#[test]
fn the_strict_json_reader_keeps_negative_numbers() {
    let text = r#"{"a": [-5, 5, -2.5, 18446744073709551615, -9223372036854775808]}"#;
    assert_eq!(
        lint::parse_json_strict(text).unwrap(),
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );
    assert_eq!(lint::parse_json_strict("-1").unwrap(), json!(-1));
}

/// A network policy `Add` appends to the network's policies; an `Update` replaces them all.
#[test]
fn a_network_policy_update_replaces_and_an_add_appends() {
    let mut h = hns();
    let n = net(&mut h, l2bridge_network("cbr0", "10.244.1.0/24", "10.244.1.1"));
    let req = |op: &str, port: u16| {
        json!({"ResourceType": "Policy", "RequestType": op, "Settings": {"Policies": [
            {"Type": "VxlanPort", "Settings": {"Port": port}}]}})
        .to_string()
    };
    let ports = |h: &mut hnsim_model::state::Hns| -> Vec<serde_json::Value> {
        let q = query(h, ObjectKind::Network, &n);
        q["Policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["Settings"]["Port"].clone())
            .collect()
    };
    h.modify_network(&n.to_string(), &req("Add", 4789)).unwrap();
    h.modify_network(&n.to_string(), &req("Add", 4790)).unwrap();
    assert_eq!(ports(&mut h), [json!(4789), json!(4790)]);
    h.modify_network(&n.to_string(), &req("Update", 4791)).unwrap();
    assert_eq!(ports(&mut h), [json!(4791)]);
}

/// An endpoint's `ProviderAddress` must be an IP address (HCN_E_INVALID_POLICY); and HNS
/// stores NAT as network mode 0, so a NAT network's v2 document has no `Type` (an L2Bridge
/// one keeps its own).
#[test]
fn a_provider_address_is_an_ip_and_a_nat_network_has_no_type() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut d = endpoint_doc(&n, None);
    d["Policies"] = json!([{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "node-1"}}]);
    assert_eq!(
        code(create(&mut h, ObjectKind::Endpoint, &d)),
        HResult::HCN_E_INVALID_POLICY
    );
    assert!(query(&mut h, ObjectKind::Network, &n).get("Type").is_none());
    let b = net(&mut h, l2bridge_network("cbr0", "10.244.1.0/24", "10.244.1.1"));
    assert_eq!(query(&mut h, ObjectKind::Network, &b)["Type"], "L2Bridge");
    // The same through the typed create, for a caller that spells NAT out.
    let doc = nat_network("nat2", "172.21.0.0/16", "172.21.0.1").to_string();
    let mut typed = hnsim_model::document::decode_network(&doc).unwrap();
    typed.network_type = Some(hnsim_model::schema::NetworkType::Nat);
    let t = h.network_create(Guid::ZERO, typed).unwrap();
    assert_eq!(h.networks[&t].network_type, None);
    assert!(query(&mut h, ObjectKind::Network, &t).get("Type").is_none());
}
