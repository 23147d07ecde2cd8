//! Every HNS error code the state machine produces, from the operation that produces it; each
//! failure must also leave the state exactly as it was.

mod state_support;

use hnsim_model::backend::{HnsBackend, ObjectKind};
use hnsim_model::hresult::{HResult, HcnResult};
use hnsim_model::schema::Version;
use hnsim_model::state::{Hns, OnReferenced, ERROR_OBJECT_ALREADY_EXISTS};
use serde_json::json;
use state_support::*;

/// Run `op`, expect `want`, and check that nothing changed.
fn fails<T: std::fmt::Debug>(h: &mut Hns, want: HResult, op: impl FnOnce(&mut Hns) -> HcnResult<T>) {
    let before = h.clone();
    let got = code(op(h));
    assert_eq!(got, want, "wrong HRESULT");
    assert_eq!(*h, before, "a failed call changed the state");
}

#[test]
fn network_not_found_for_endpoint_on_unknown_network() {
    let mut h = hns();
    let ghost = "11111111-2222-3333-4444-555555555555".parse().unwrap();
    fails(&mut h, HResult::HCN_E_NETWORK_NOT_FOUND, |h| {
        create(h, ObjectKind::Endpoint, &endpoint_doc(&ghost, None))
    });
}

#[test]
fn endpoint_not_found_for_attach_lb_and_route() {
    let mut h = hns();
    let ns = namespace(&mut h, None);
    let ghost = "11111111-2222-3333-4444-555555555555".parse().unwrap();
    fails(&mut h, HResult::HCN_E_ENDPOINT_NOT_FOUND, |h| {
        h.modify_namespace(&ns.to_string(), &attach_req(&ghost, "Add"))
    });
    let lb = json!({"HostComputeEndpoints": [ghost.to_string()], "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    fails(&mut h, HResult::HCN_E_ENDPOINT_NOT_FOUND, |h| {
        create(h, ObjectKind::LoadBalancer, &lb)
    });
    let r = json!({"HostComputeEndpoints": [ghost.to_string()], "Routes": [{"DestinationPrefix": "10.0.0.0/8", "NextHop": "10.1.0.1"}]});
    fails(&mut h, HResult::HCN_E_ENDPOINT_NOT_FOUND, |h| {
        create(h, ObjectKind::SdnRoute, &r)
    });
}

#[test]
fn invalid_ip_outside_subnet_or_malformed() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    fails(&mut h, HResult::HCN_E_INVALID_IP, |h| {
        create(h, ObjectKind::Endpoint, &endpoint_doc(&n, Some("10.9.9.9")))
    });
    fails(&mut h, HResult::HCN_E_INVALID_IP, |h| {
        create(h, ObjectKind::Endpoint, &endpoint_doc(&n, Some("172.20.0.999")))
    });
    fails(&mut h, HResult::HCN_E_INVALID_IP, |h| {
        create(
            h,
            ObjectKind::LoadBalancer,
            &json!({"FrontendVIPs": ["not-an-ip"]}),
        )
    });
}

fn port_mapping_ep(n: &hnsim_model::Guid, ip: &str, ext: u16, vip: Option<&str>) -> serde_json::Value {
    let mut d = endpoint_doc(n, Some(ip));
    let mut s = json!({"Protocol": 6, "InternalPort": 80, "ExternalPort": ext});
    if let Some(v) = vip {
        s["VIP"] = json!(v);
    }
    d["Policies"] = json!([{"Type": "PortMapping", "Settings": s}]);
    d
}

#[test]
fn port_already_exists_on_same_network() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    create(
        &mut h,
        ObjectKind::Endpoint,
        &port_mapping_ep(&n, "172.20.0.5", 8080, None),
    )
    .unwrap();
    fails(&mut h, HResult::HCN_E_PORT_ALREADY_EXISTS, |h| {
        create(
            h,
            ObjectKind::Endpoint,
            &port_mapping_ep(&n, "172.20.0.6", 8080, None),
        )
    });
    // A VIP-specific mapping clashes with a wildcard one too.
    fails(&mut h, HResult::HCN_E_PORT_ALREADY_EXISTS, |h| {
        create(
            h,
            ObjectKind::Endpoint,
            &port_mapping_ep(&n, "172.20.0.6", 8080, Some("10.0.0.4")),
        )
    });
    // Another port, or the same port on another protocol, is fine.
    create(
        &mut h,
        ObjectKind::Endpoint,
        &port_mapping_ep(&n, "172.20.0.6", 8081, None),
    )
    .unwrap();
    let mut udp = port_mapping_ep(&n, "172.20.0.7", 8080, None);
    udp["Policies"][0]["Settings"]["Protocol"] = json!(17);
    create(&mut h, ObjectKind::Endpoint, &udp).unwrap();
    // Adding the clashing mapping later through a policy modify fails the same way.
    let e = ep(&mut h, &n, None);
    let add = json!({"ResourceType": "Policy", "RequestType": "Add", "Settings": {"Policies": [
        {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8081}}]}});
    fails(&mut h, HResult::HCN_E_PORT_ALREADY_EXISTS, |h| {
        h.modify_endpoint(&e.to_string(), &add.to_string())
    });
    // The same mapping on another network does not clash.
    let n2 = net(&mut h, nat_network("nat2", "172.21.0.0/16", "172.21.0.1"));
    create(
        &mut h,
        ObjectKind::Endpoint,
        &port_mapping_ep(&n2, "172.21.0.5", 8080, None),
    )
    .unwrap();
}

#[test]
fn endpoint_namespace_already_exists() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let a = namespace(&mut h, None);
    let b = namespace(&mut h, None);
    h.modify_namespace(&a.to_string(), &attach_req(&e, "Add"))
        .unwrap();
    fails(&mut h, HResult::HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS, |h| {
        h.modify_namespace(&b.to_string(), &attach_req(&e, "Add"))
    });
    fails(&mut h, HResult::HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS, |h| {
        h.modify_namespace(&a.to_string(), &attach_req(&e, "Add"))
    });
}

#[test]
fn network_already_exists_by_name_and_by_id() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    fails(&mut h, HResult::HCN_E_NETWORK_ALREADY_EXISTS, |h| {
        create(
            h,
            ObjectKind::Network,
            &nat_network("NAT", "172.21.0.0/16", "172.21.0.1"),
        )
    });
    fails(&mut h, HResult::HCN_E_NETWORK_ALREADY_EXISTS, |h| {
        h.create_network(
            &n.to_string(),
            &nat_network("other", "172.22.0.0/16", "172.22.0.1").to_string(),
        )
    });
}

#[test]
fn invalid_network_subnet_rules() {
    let mut h = hns();
    let mut no_routes = nat_network("a", "10.0.0.0/24", "10.0.0.1");
    no_routes["Ipams"][0]["Subnets"][0]["Routes"] = json!([]);
    fails(&mut h, HResult::HCN_E_INVALID_NETWORK, |h| {
        create(h, ObjectKind::Network, &no_routes)
    });
    // hcsshim's test: a route to 1.1.1.1/0 is not a default route.
    let mut no_default = nat_network("a", "10.0.0.0/24", "10.0.0.1");
    no_default["Ipams"][0]["Subnets"][0]["Routes"][0]["DestinationPrefix"] = json!("1.1.1.1/0");
    fails(&mut h, HResult::HCN_E_INVALID_NETWORK, |h| {
        create(h, ObjectKind::Network, &no_default)
    });
    let mut no_hop = nat_network("a", "10.0.0.0/24", "10.0.0.1");
    no_hop["Ipams"][0]["Subnets"][0]["Routes"][0]["NextHop"] = json!("");
    fails(&mut h, HResult::HCN_E_INVALID_NETWORK, |h| {
        create(h, ObjectKind::Network, &no_hop)
    });
    // A NAT network with no Ipams at all is valid.
    create(
        &mut h,
        ObjectKind::Network,
        &json!({"Name": "bare", "Type": "NAT"}),
    )
    .unwrap();
}

#[test]
fn invalid_network_type() {
    let mut h = hns();
    let mut d = nat_network("x", "10.0.0.0/24", "10.0.0.1");
    d["Type"] = json!("Frobnicated");
    fails(&mut h, HResult::HCN_E_INVALID_NETWORK_TYPE, |h| {
        create(h, ObjectKind::Network, &d)
    });
    // Types match case-insensitively.
    d["Type"] = json!("l2bridge");
    create(&mut h, ObjectKind::Network, &d).unwrap();
}

/// The distributed-router MACs a network carries must be MACs: HNS rejects the policy
/// (HCN_E_INVALID_POLICY) on create and on a policy modify, so the dataplane never defaults one.
#[test]
fn malformed_dr_macs_are_invalid_policies() {
    let mut h = hns();
    let rsr = |mac: &str| {
        json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.2.0/24",
            "IsolationId": 4096, "ProviderAddress": "10.0.0.12", "DistributedRouterMacAddress": mac}})
    };
    let dr = |mac: &str| json!({"Type": "DrMacAddress", "Settings": {"Address": mac}});
    let mut d = l2bridge_network("x", "10.0.0.0/24", "10.0.0.1");
    for bad in [
        rsr("00-15-5D-AA-00"),
        rsr("zz-15-5D-AA-00-12"),
        rsr(""),
        dr("00-15-5D-AA-00-1G"),
    ] {
        d["Policies"] = json!([bad]);
        fails(&mut h, HResult::HCN_E_INVALID_POLICY, |h| {
            create(h, ObjectKind::Network, &d)
        });
    }
    let n = net(&mut h, l2bridge_network("y", "10.1.0.0/24", "10.1.0.1"));
    let add = json!({"ResourceType": "Policy", "RequestType": "Add",
        "Settings": {"Policies": [rsr("00-15-5D-AA-00-12-34")]}});
    fails(&mut h, HResult::HCN_E_INVALID_POLICY, |h| {
        h.modify_network(&n.to_string(), &add.to_string())
    });
    // Well-formed (either separator, any case), and an empty DrMacAddress (no address).
    d["Policies"] = json!([rsr("00:15:5d:aa:00:12"), dr("00-15-5D-AA-00-11")]);
    create(&mut h, ObjectKind::Network, &d).unwrap();
    let mut e = l2bridge_network("z", "10.2.0.0/24", "10.2.0.1");
    e["Policies"] = json!([dr("")]);
    create(&mut h, ObjectKind::Network, &e).unwrap();
}

#[test]
fn invalid_policy_type_and_invalid_policy() {
    let mut h = hns();
    let mut d = nat_network("x", "10.0.0.0/24", "10.0.0.1");
    d["Policies"] = json!([{"Type": "NoSuchPolicy", "Settings": {}}]);
    fails(&mut h, HResult::HCN_E_INVALID_POLICY_TYPE, |h| {
        create(h, ObjectKind::Network, &d)
    });
    let n = net(&mut h, nat_network("y", "10.1.0.0/24", "10.1.0.1"));
    let mut e = endpoint_doc(&n, None);
    e["Policies"] = json!([{"Type": "Bogus"}]);
    fails(&mut h, HResult::HCN_E_INVALID_POLICY_TYPE, |h| {
        create(h, ObjectKind::Endpoint, &e)
    });
    e["Policies"] = json!([{"Type": "ACL", "Settings": {"Action": "Maybe", "Direction": "In"}}]);
    fails(&mut h, HResult::HCN_E_INVALID_POLICY, |h| {
        create(h, ObjectKind::Endpoint, &e)
    });
    e["Policies"] = json!([{"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.0.0.0/33"]}}]);
    fails(&mut h, HResult::HCN_E_INVALID_POLICY, |h| {
        create(h, ObjectKind::Endpoint, &e)
    });
    e["Policies"] = json!([{"Type": "PortMapping", "Settings": {"Protocol": 99, "InternalPort": 80, "ExternalPort": 80}}]);
    fails(&mut h, HResult::HCN_E_INVALID_POLICY, |h| {
        create(h, ObjectKind::Endpoint, &e)
    });
}

#[test]
fn invalid_remote_endpoint_operation() {
    let mut h = hns();
    let n = net(&mut h, l2bridge_network("l2", "10.240.0.0/24", "10.240.0.1"));
    let r = remote_ep(&mut h, &n, "10.240.1.5", "10.0.0.3");
    let ns = namespace(&mut h, None);
    fails(&mut h, HResult::HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION, |h| {
        h.modify_namespace(&ns.to_string(), &attach_req(&r, "Add"))
    });
    let port = json!({"ResourceType": "Port", "RequestType": "Add", "Settings": {
        "PortId": "AAAAAAAA-0000-0000-0000-000000000001", "VirtualMachineId": "BBBBBBBB-0000-0000-0000-000000000002"}});
    fails(&mut h, HResult::HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION, |h| {
        h.modify_endpoint(&r.to_string(), &port.to_string())
    });
}

#[test]
fn invalid_internal_port() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut d = endpoint_doc(&n, None);
    d["Policies"] = json!([{"Type": "PortMapping", "Settings": {"Protocol": 6, "ExternalPort": 80}}]);
    fails(&mut h, HResult::HCN_E_INVALID_INTERNAL_PORT, |h| {
        create(h, ObjectKind::Endpoint, &d)
    });
    let e = ep(&mut h, &n, None);
    let lb = json!({"HostComputeEndpoints": [e.to_string()], "FrontendVIPs": ["10.96.0.1"],
        "PortMappings": [{"Protocol": 6, "ExternalPort": 80}]});
    fails(&mut h, HResult::HCN_E_INVALID_INTERNAL_PORT, |h| {
        create(h, ObjectKind::LoadBalancer, &lb)
    });
}

#[test]
fn guid_conversion_failure_for_bad_ids() {
    let mut h = hns();
    for kind in ObjectKind::ALL {
        fails(&mut h, HResult::HCN_E_GUID_CONVERSION_FAILURE, |h| {
            h.open(kind, "not-a-guid")
        });
        fails(&mut h, HResult::HCN_E_GUID_CONVERSION_FAILURE, |h| {
            h.delete(kind, "1234")
        });
        fails(&mut h, HResult::HCN_E_GUID_CONVERSION_FAILURE, |h| {
            h.query(kind, "zz", "")
        });
    }
    fails(&mut h, HResult::HCN_E_GUID_CONVERSION_FAILURE, |h| {
        create(h, ObjectKind::Endpoint, &json!({"HostComputeNetwork": "nope"}))
    });
}

#[test]
fn error_not_found_for_unknown_guid() {
    let mut h = hns();
    let g = "11111111-2222-3333-4444-555555555555";
    for kind in ObjectKind::ALL {
        fails(&mut h, HResult::ERROR_NOT_FOUND, |h| h.open(kind, g));
        fails(&mut h, HResult::ERROR_NOT_FOUND, |h| h.query(kind, g, ""));
        fails(&mut h, HResult::ERROR_NOT_FOUND, |h| h.delete(kind, g));
    }
    fails(&mut h, HResult::ERROR_NOT_FOUND, |h| {
        h.modify_network(
            g,
            r#"{"ResourceType":"DNS","RequestType":"Update","Settings":{}}"#,
        )
    });
}

#[test]
fn invalid_json() {
    let mut h = hns();
    fails(&mut h, HResult::HCN_E_INVALID_JSON, |h| {
        h.create_network("", "{not json")
    });
    fails(&mut h, HResult::HCN_E_INVALID_JSON, |h| {
        h.create_network("", r#"{"Flags":"many"}"#)
    });
    fails(&mut h, HResult::HCN_E_INVALID_JSON, |h| {
        h.enumerate_networks(r#"{"Filter":"{broken"}"#)
    });
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    fails(&mut h, HResult::HCN_E_INVALID_JSON, |h| {
        h.modify_network(&n.to_string(), r#"{"RequestType":"Sideways"}"#)
    });
}

#[test]
fn entity_has_references_when_configured_to_refuse() {
    let mut h = hns_with(|s| {
        s.network_with_endpoints = OnReferenced::Refuse;
        s.endpoint_in_namespace = OnReferenced::Refuse;
        s.endpoint_in_policy_list = OnReferenced::Refuse;
        s.namespace_with_resources = OnReferenced::Refuse;
    });
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    fails(&mut h, HResult::HCN_E_ENTITY_HAS_REFERENCES, |h| {
        h.delete_network(&n.to_string())
    });
    let ns = namespace(&mut h, None);
    h.modify_namespace(&ns.to_string(), &attach_req(&e, "Add"))
        .unwrap();
    fails(&mut h, HResult::HCN_E_ENTITY_HAS_REFERENCES, |h| {
        h.delete_endpoint(&e.to_string())
    });
    fails(&mut h, HResult::HCN_E_ENTITY_HAS_REFERENCES, |h| {
        h.delete_namespace(&ns.to_string())
    });
    let e2 = ep(&mut h, &n, None);
    let lb = json!({"HostComputeEndpoints": [e2.to_string()], "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    create(&mut h, ObjectKind::LoadBalancer, &lb).unwrap();
    fails(&mut h, HResult::HCN_E_ENTITY_HAS_REFERENCES, |h| {
        h.delete_endpoint(&e2.to_string())
    });
}

#[test]
fn endpoint_not_attached_on_detach_of_non_member() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let a = namespace(&mut h, None);
    let b = namespace(&mut h, None);
    fails(&mut h, HResult::HCN_E_ENDPOINT_NOT_ATTACHED, |h| {
        h.modify_namespace(&a.to_string(), &attach_req(&e, "Remove"))
    });
    h.modify_namespace(&a.to_string(), &attach_req(&e, "Add"))
        .unwrap();
    fails(&mut h, HResult::HCN_E_ENDPOINT_NOT_ATTACHED, |h| {
        h.modify_namespace(&b.to_string(), &attach_req(&e, "Remove"))
    });
    h.modify_namespace(&a.to_string(), &attach_req(&e, "Remove"))
        .unwrap();
}

#[test]
fn default_namespace_exists() {
    let mut h = hns();
    namespace(&mut h, Some("HostDefault"));
    fails(&mut h, HResult::GCN_E_DEFAULTNAMESPACE_EXISTS, |h| {
        create(h, ObjectKind::Namespace, &json!({"Type": "HostDefault"}))
    });
    // Other kinds are unlimited.
    namespace(&mut h, Some("Host"));
    namespace(&mut h, Some("Host"));
}

#[test]
fn policy_not_found_on_remove() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let rm = json!({"ResourceType": "Policy", "RequestType": "Remove", "Settings": {"Policies": [
        {"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.0.0.0/8"]}}]}});
    fails(&mut h, HResult::HCN_E_POLICY_NOT_FOUND, |h| {
        h.modify_endpoint(&e.to_string(), &rm.to_string())
    });
    let rmn = json!({"ResourceType": "Policy", "RequestType": "Remove", "Settings": {"Policies": [
        {"Type": "HostRoute", "Settings": {}}]}});
    fails(&mut h, HResult::HCN_E_POLICY_NOT_FOUND, |h| {
        h.modify_network(&n.to_string(), &rmn.to_string())
    });
}

#[test]
fn subnet_not_found() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let rm = json!({"ResourceType": "Subnet", "RequestType": "Remove", "Settings": {"Subnets": [
        {"IpAddressPrefix": "10.5.0.0/24"}]}});
    fails(&mut h, HResult::HCN_E_SUBNET_NOT_FOUND, |h| {
        h.modify_network(&n.to_string(), &rm.to_string())
    });
    let mut d = endpoint_doc(&n, Some("172.20.0.9"));
    d["IpConfigurations"][0]["IpSubnetId"] = json!("99999999-0000-0000-0000-000000000000");
    fails(&mut h, HResult::HCN_E_SUBNET_NOT_FOUND, |h| {
        create(h, ObjectKind::Endpoint, &d)
    });
}

#[test]
fn duplicate_address_and_duplicate_id_already_exist() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, Some("172.20.0.5"));
    fails(&mut h, ERROR_OBJECT_ALREADY_EXISTS, |h| {
        create(h, ObjectKind::Endpoint, &endpoint_doc(&n, Some("172.20.0.5")))
    });
    fails(&mut h, ERROR_OBJECT_ALREADY_EXISTS, |h| {
        h.create_endpoint(&e.to_string(), &endpoint_doc(&n, None).to_string())
    });
    fails(&mut h, ERROR_OBJECT_ALREADY_EXISTS, |h| {
        h.create_namespace(&n.to_string(), "{}")
    });
}

#[test]
fn reserved_addresses_are_refused() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/24", "172.20.0.1"));
    for ip in ["172.20.0.0", "172.20.0.1", "172.20.0.255"] {
        fails(&mut h, HResult::HCN_E_ADDR_INVALID_OR_RESERVED, |h| {
            create(h, ObjectKind::Endpoint, &endpoint_doc(&n, Some(ip)))
        });
    }
}

#[test]
fn load_balancer_modify_needs_15_4() {
    let mut h = hns_with(|s| s.hns_version = Version::new(15, 3));
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = json!({"HostComputeEndpoints": [e.to_string()], "FrontendVIPs": ["10.96.0.1"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    let (id, _) = create(&mut h, ObjectKind::LoadBalancer, &lb).unwrap();
    fails(&mut h, HResult::E_NOTIMPL, |h| {
        h.modify_load_balancer(&id.to_string(), &lb.to_string())
    });
}

#[test]
fn feature_gates_by_version() {
    let mut h = hns_with(|s| s.hns_version = Version::new(12, 0));
    let mut d = nat_network("x", "10.0.0.0/24", "10.0.0.1");
    d["Policies"] =
        json!([{"Type": "SetPolicy", "Settings": {"Id": "s", "PolicyType": "IPSET", "Values": "10.0.0.1"}}]);
    fails(&mut h, HResult::HCN_E_INVALID_POLICY_TYPE, |h| {
        create(h, ObjectKind::Network, &d)
    });
    d["Policies"] = json!([{"Type": "NetworkACL", "Settings": {"Action": "Allow", "Direction": "In"}}]);
    fails(&mut h, HResult::HCN_E_INVALID_POLICY_TYPE, |h| {
        create(h, ObjectKind::Network, &d)
    });
    d["Policies"] = json!([]);
    d["Flags"] = json!(1024);
    fails(&mut h, HResult::HCN_E_REQUEST_UNSUPPORTED, |h| {
        create(h, ObjectKind::Network, &d)
    });
    let n = net(&mut h, nat_network("ok", "10.1.0.0/24", "10.1.0.1"));
    let mut e = endpoint_doc(&n, None);
    e["Policies"] = json!([{"Type": "TierAcl", "Settings": {"Name": "t", "Direction": "In", "Order": 1}}]);
    fails(&mut h, HResult::HCN_E_INVALID_POLICY_TYPE, |h| {
        create(h, ObjectKind::Endpoint, &e)
    });

    // DSR: not on 10.1, yes on 10.2 and 9.3.
    let mut old = hns_with(|s| s.hns_version = Version::new(10, 1));
    let n = net(&mut old, nat_network("nat", "10.1.0.0/24", "10.1.0.1"));
    let ep1 = ep(&mut old, &n, None);
    let lb = json!({"HostComputeEndpoints": [ep1.to_string()], "Flags": 1,
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]});
    fails(&mut old, HResult::HCN_E_REQUEST_UNSUPPORTED, |h| {
        create(h, ObjectKind::LoadBalancer, &lb)
    });
    let mut nine = hns_with(|s| s.hns_version = Version::new(9, 3));
    let n = net(&mut nine, nat_network("nat", "10.1.0.0/24", "10.1.0.1"));
    let ep1 = ep(&mut nine, &n, None);
    let mut lb9 = lb.clone();
    lb9["HostComputeEndpoints"] = json!([ep1.to_string()]);
    create(&mut nine, ObjectKind::LoadBalancer, &lb9).unwrap();
    // IPv6 subnets need IPv6DualStack (11.10); 9.3 fails.
    let v6 = json!({"Name": "v6", "Type": "L2Bridge", "Ipams": [{"Subnets": [{"IpAddressPrefix": "fd00::/64",
        "Routes": [{"NextHop": "fd00::1", "DestinationPrefix": "::/0"}]}]}]});
    fails(&mut nine, HResult::HCN_E_REQUEST_UNSUPPORTED, |h| {
        create(h, ObjectKind::Network, &v6)
    });
    // Below 9.2 there is no v2 API at all.
    let mut ancient = hns_with(|s| s.hns_version = Version::new(9, 1));
    fails(&mut ancient, HResult::E_NOTIMPL, |h| {
        create(h, ObjectKind::Network, &v6)
    });
}

#[test]
fn load_balancer_frontend_clash_is_port_already_exists() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let lb = |vips: serde_json::Value, port: u16| {
        json!({"HostComputeEndpoints": [e.to_string()], "FrontendVIPs": vips,
            "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": port}]})
    };
    let (id, _) = create(&mut h, ObjectKind::LoadBalancer, &lb(json!(["10.96.0.1"]), 80)).unwrap();
    fails(&mut h, HResult::HCN_E_PORT_ALREADY_EXISTS, |h| {
        create(
            h,
            ObjectKind::LoadBalancer,
            &lb(json!(["10.96.0.2", "10.96.0.1"]), 80),
        )
    });
    // Another VIP, another port, or a NodePort-style LB (no VIPs) does not clash.
    create(&mut h, ObjectKind::LoadBalancer, &lb(json!(["10.96.0.2"]), 80)).unwrap();
    create(&mut h, ObjectKind::LoadBalancer, &lb(json!(["10.96.0.1"]), 81)).unwrap();
    create(&mut h, ObjectKind::LoadBalancer, &lb(json!([]), 80)).unwrap();
    fails(&mut h, HResult::HCN_E_PORT_ALREADY_EXISTS, |h| {
        create(h, ObjectKind::LoadBalancer, &lb(json!([]), 80))
    });
    // Updating an LB with its own frontends is fine; taking another LB's is not.
    h.modify_load_balancer(&id.to_string(), &lb(json!(["10.96.0.1"]), 80).to_string())
        .unwrap();
    fails(&mut h, HResult::HCN_E_PORT_ALREADY_EXISTS, |h| {
        h.modify_load_balancer(&id.to_string(), &lb(json!(["10.96.0.1"]), 81).to_string())
    });
    // The check is a setting.
    let mut lax = hns_with(|s| s.unique_lb_frontends = false);
    let n = net(&mut lax, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut lax, &n, None);
    let d = json!({"HostComputeEndpoints": [e.to_string()], "FrontendVIPs": ["10.96.0.1"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]});
    create(&mut lax, ObjectKind::LoadBalancer, &d).unwrap();
    create(&mut lax, ObjectKind::LoadBalancer, &d).unwrap();
}
