//! Attach/detach, modify semantics, delete cascades, service restart / reboot, HCS containers,
//! enumerate filters.

mod state_support;

use hnsim_model::backend::{HnsBackend, ObjectKind};
use hnsim_model::hresult::HResult;
use hnsim_model::state::{ContainerState, Isolation, HOST_DEFAULT_COMPARTMENT};
use hnsim_model::Guid;
use serde_json::json;
use state_support::*;

#[test]
fn attach_and_detach_update_both_sides() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let ns = namespace(&mut h, None);
    let g0 = h.generation;
    h.modify_namespace(&ns.to_string(), &attach_req(&e, "Add"))
        .unwrap();
    assert!(h.generation > g0);
    let nsq = query(&mut h, ObjectKind::Namespace, &ns);
    assert_eq!(
        nsq["Resources"],
        json!([{"Type": "Endpoint", "Data": {"ID": e.to_string()}}])
    );
    let epq = query(&mut h, ObjectKind::Endpoint, &e);
    assert_eq!(epq["HostComputeNamespace"], json!(ns.to_string()));
    assert_eq!(h.namespace_endpoints(&ns), vec![e]);
    h.modify_namespace(&ns.to_string(), &attach_req(&e, "Remove"))
        .unwrap();
    let nsq = query(&mut h, ObjectKind::Namespace, &ns);
    assert!(nsq.get("Resources").is_none());
    assert!(query(&mut h, ObjectKind::Endpoint, &e)
        .get("HostComputeNamespace")
        .is_none());
    // Attach with lower-case GUID works (GUIDs are case-insensitive).
    let req = json!({"ResourceType": "Endpoint", "RequestType": "Add", "Settings": {"EndpointId": e.to_string().to_lowercase()}});
    h.modify_namespace(&ns.to_string(), &req.to_string()).unwrap();
    assert_eq!(h.namespace_of(&e), Some(ns));
}

#[test]
fn compartments_are_numbered_and_host_default_is_one() {
    let mut h = hns();
    let d = namespace(&mut h, Some("HostDefault"));
    let a = namespace(&mut h, None);
    let b = namespace(&mut h, Some("Host"));
    assert_eq!(h.namespaces[&d].namespace_id, HOST_DEFAULT_COMPARTMENT);
    assert_eq!(h.namespaces[&a].namespace_id, 2);
    assert_eq!(h.namespaces[&b].namespace_id, 3);
    // Creating with endpoint resources attaches them.
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let (c, _) = create(
        &mut h,
        ObjectKind::Namespace,
        &json!({"NamespaceId": 5, "Resources": [
        {"Type": "Endpoint", "Data": {"ID": e.to_string()}}]}),
    )
    .unwrap();
    assert_eq!(h.namespaces[&c].namespace_id, 5);
    assert_eq!(h.namespace_of(&e), Some(c));
}

#[test]
fn container_resources_add_and_remove() {
    let mut h = hns();
    let ns = namespace(&mut h, None);
    let add = json!({"ResourceType": "Container", "RequestType": "Add", "Settings": {"ContainerId": "abc"}});
    h.modify_namespace(&ns.to_string(), &add.to_string()).unwrap();
    h.modify_namespace(&ns.to_string(), &add.to_string()).unwrap();
    assert_eq!(h.namespaces[&ns].resources.len(), 1);
    let rm =
        json!({"ResourceType": "Container", "RequestType": "Remove", "Settings": {"ContainerId": "abc"}});
    h.modify_namespace(&ns.to_string(), &rm.to_string()).unwrap();
    assert_eq!(
        code(h.modify_namespace(&ns.to_string(), &rm.to_string())),
        HResult::ERROR_NOT_FOUND
    );
}

#[test]
fn endpoint_policy_add_remove_update() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let acl = json!({"Type": "ACL", "Settings": {"Protocols": "6", "Action": "Block", "Direction": "In", "RemotePorts": "80-90", "Priority": 200}});
    let obn = json!({"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.0.0.0/8"]}});
    let req = |rt: &str, ps: serde_json::Value| {
        json!({"ResourceType": "Policy", "RequestType": rt, "Settings": {"Policies": ps}}).to_string()
    };
    h.modify_endpoint(&e.to_string(), &req("Add", json!([acl, obn])))
        .unwrap();
    let types = |h: &mut hnsim_model::state::Hns| -> Vec<String> {
        query(h, ObjectKind::Endpoint, &e)["Policies"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| p["Type"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(types(&mut h), ["ACL", "OutBoundNAT"]);
    h.modify_endpoint(&e.to_string(), &req("Remove", json!([acl])))
        .unwrap();
    assert_eq!(types(&mut h), ["OutBoundNAT"]);
    h.modify_endpoint(&e.to_string(), &req("Update", json!([acl])))
        .unwrap();
    assert_eq!(types(&mut h), ["ACL"]);
    // [sdn] clears with an Update of [{}].
    h.modify_endpoint(&e.to_string(), &req("Update", json!([{}])))
        .unwrap();
    assert!(types(&mut h).is_empty());
}

#[test]
fn network_policy_dns_and_subnet_modify() {
    let mut h = hns();
    let n = net(&mut h, l2bridge_network("l2", "10.0.0.0/24", "10.0.0.1"));
    let rsr = json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.2.0/24",
        "IsolationId": 4096, "ProviderAddress": "192.168.1.12", "DistributedRouterMacAddress": "00-11-22-33-44-55"}});
    let add = json!({"ResourceType": "Policy", "RequestType": "Add", "Settings": {"Policies": [rsr]}});
    h.modify_network(&n.to_string(), &add.to_string()).unwrap();
    assert_eq!(
        query(&mut h, ObjectKind::Network, &n)["Policies"][0]["Type"],
        json!("RemoteSubnetRoute")
    );
    let rm = json!({"ResourceType": "Policy", "RequestType": "Remove", "Settings": {"Policies": [rsr]}});
    h.modify_network(&n.to_string(), &rm.to_string()).unwrap();
    assert!(query(&mut h, ObjectKind::Network, &n).get("Policies").is_none());

    let dns = json!({"ResourceType": "DNS", "RequestType": "Update", "Settings": {"Domain": "svc.local", "ServerList": ["10.96.0.10"]}});
    h.modify_network(&n.to_string(), &dns.to_string()).unwrap();
    assert_eq!(
        query(&mut h, ObjectKind::Network, &n)["Dns"]["ServerList"],
        json!(["10.96.0.10"])
    );

    let sub = json!({"ResourceType": "Subnet", "RequestType": "Add", "Settings": {"Subnets": [
        {"IpAddressPrefix": "10.0.1.0/24", "Routes": [{"NextHop": "10.0.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}});
    h.modify_network(&n.to_string(), &sub.to_string()).unwrap();
    ep(&mut h, &n, Some("10.0.1.9"));
    let bad = json!({"ResourceType": "Subnet", "RequestType": "Add", "Settings": {"Subnets": [{"IpAddressPrefix": "10.0.2.0/24"}]}});
    assert_eq!(
        code(h.modify_network(&n.to_string(), &bad.to_string())),
        HResult::HCN_E_INVALID_NETWORK
    );
    // A subnet in use cannot be removed.
    let rm = json!({"ResourceType": "Subnet", "RequestType": "Remove", "Settings": {"Subnets": [{"IpAddressPrefix": "10.0.1.0/24"}]}});
    assert_eq!(
        code(h.modify_network(&n.to_string(), &rm.to_string())),
        HResult::HCN_E_ENTITY_HAS_REFERENCES
    );
}

#[test]
fn endpoint_port_add_remove() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let add = json!({"ResourceType": "Port", "RequestType": "Add", "Settings": {
        "PortId": "AAAAAAAA-0000-0000-0000-000000000001", "VirtualNicName": "vm--nic",
        "VirtualMachineId": "BBBBBBBB-0000-0000-0000-000000000002"}});
    h.modify_endpoint(&e.to_string(), &add.to_string()).unwrap();
    assert_eq!(h.vm_ports[&e].virtual_nic_name, "vm--nic");
    assert_eq!(
        code(h.modify_endpoint(&e.to_string(), &add.to_string())),
        HResult::HCN_E_ENDPOINT_ALREADY_ATTACHED
    );
    let rm = json!({"ResourceType": "Port", "RequestType": "Remove", "Settings": {}});
    h.modify_endpoint(&e.to_string(), &rm.to_string()).unwrap();
    assert!(h.vm_ports.is_empty());
    assert_eq!(
        code(h.modify_endpoint(&e.to_string(), &rm.to_string())),
        HResult::HCN_E_ENDPOINT_NOT_ATTACHED
    );
}

#[test]
fn load_balancer_update_replaces_the_document() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let a = ep(&mut h, &n, None);
    let b = ep(&mut h, &n, None);
    let mut lb = json!({"HostComputeEndpoints": [a.to_string()], "SourceVIP": "", "FrontendVIPs": ["10.96.0.10"],
        "PortMappings": [{"Protocol": 17, "InternalPort": 53, "ExternalPort": 53}], "SchemaVersion": {"Major": 2, "Minor": 0}});
    let (id, v) = create(&mut h, ObjectKind::LoadBalancer, &lb).unwrap();
    assert_eq!(v["HostComputeEndpoints"].as_array().unwrap().len(), 1);
    lb["HostComputeEndpoints"] = json!([a.to_string(), b.to_string().to_lowercase()]);
    h.modify_load_balancer(&id.to_string(), &lb.to_string()).unwrap();
    let q = query(&mut h, ObjectKind::LoadBalancer, &id);
    assert_eq!(q["HostComputeEndpoints"], json!([a.to_string(), b.to_string()]));
    assert_eq!(q["ID"], json!(id.to_string()));
    // SDN routes have no modify.
    let (r, _) = create(
        &mut h,
        ObjectKind::SdnRoute,
        &json!({"HostComputeEndpoints": [a.to_string()],
        "Setting": [{"DestinationPrefix": "10.0.0.0/8", "NextHop": "172.20.0.1", "NeedEncap": true}]}),
    )
    .unwrap();
    assert_eq!(code(h.modify_sdn_route(&r.to_string(), "{}")), HResult::E_NOTIMPL);
}

#[test]
fn deleting_releases_every_reference_by_default() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let a = ep(&mut h, &n, None);
    let b = ep(&mut h, &n, None);
    let ns = namespace(&mut h, None);
    h.modify_namespace(&ns.to_string(), &attach_req(&a, "Add"))
        .unwrap();
    let (lb, _) = create(
        &mut h,
        ObjectKind::LoadBalancer,
        &json!({"HostComputeEndpoints": [a.to_string(), b.to_string()],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]}),
    )
    .unwrap();
    h.delete_endpoint(&a.to_string()).unwrap();
    assert!(h.namespace_endpoints(&ns).is_empty());
    assert_eq!(h.load_balancers[&lb].host_compute_endpoints, vec![b.to_string()]);
    // Deleting the network cascades to its endpoints.
    h.delete_network(&n.to_string()).unwrap();
    assert!(h.endpoints.is_empty());
    assert!(h.load_balancers[&lb].host_compute_endpoints.is_empty());
}

#[test]
fn restart_drops_non_persistent_networks_and_what_references_them() {
    let mut h = hns();
    let nat = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let mut flannel = l2bridge_network("vxlan0", "10.244.1.0/24", "10.244.1.1");
    flannel["Type"] = json!("Overlay");
    flannel["Flags"] = json!(8);
    let ov = net(&mut h, flannel);
    let l2 = net(&mut h, l2bridge_network("cbr0", "10.240.0.0/24", "10.240.0.1"));
    let e_nat = ep(&mut h, &nat, None);
    let e_ov = ep(&mut h, &ov, None);
    let e_l2 = ep(&mut h, &l2, None);
    let ns = namespace(&mut h, None);
    h.modify_namespace(&ns.to_string(), &attach_req(&e_ov, "Add"))
        .unwrap();
    let ns2 = namespace(&mut h, None);
    h.modify_namespace(&ns2.to_string(), &attach_req(&e_l2, "Add"))
        .unwrap();
    let lbdoc = |eps: Vec<Guid>, port: u16| {
        json!({"HostComputeEndpoints": eps.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": port}]})
    };
    let (lb_mixed, _) = create(&mut h, ObjectKind::LoadBalancer, &lbdoc(vec![e_ov, e_l2], 80)).unwrap();
    let (lb_l2, _) = create(&mut h, ObjectKind::LoadBalancer, &lbdoc(vec![e_l2], 81)).unwrap();

    h.restart_service();
    assert_eq!(h.networks.keys().copied().collect::<Vec<_>>(), vec![l2]);
    assert!(!h.endpoints.contains_key(&e_nat) && !h.endpoints.contains_key(&e_ov));
    assert!(h.endpoints.contains_key(&e_l2));
    assert!(!h.load_balancers.contains_key(&lb_mixed));
    assert!(h.load_balancers.contains_key(&lb_l2));
    // Namespaces survive a service restart; the dropped endpoint is no longer in them.
    assert!(h.namespaces.contains_key(&ns) && h.namespace_endpoints(&ns).is_empty());
    assert_eq!(h.namespace_of(&e_l2), Some(ns2));

    // A reboot drops namespaces too; persistent objects stay, detached.
    h.reboot();
    assert!(h.namespaces.is_empty());
    assert!(h.endpoints.contains_key(&e_l2));
    assert_eq!(h.namespace_of(&e_l2), None);
    assert!(h.load_balancers.contains_key(&lb_l2));
}

#[test]
fn restart_through_the_backend_and_service_version() {
    let mut h = hns();
    net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    assert_eq!(h.service_version().unwrap(), r#"{"Major":15,"Minor":4}"#);
    HnsBackend::restart_service(&mut h).unwrap();
    assert!(h.networks.is_empty());
    let mut keep = hns_with(|s| s.nat_networks_persist = true);
    net(&mut keep, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    HnsBackend::restart_service(&mut keep).unwrap();
    assert_eq!(keep.networks.len(), 1);
}

#[test]
fn process_container_lifecycle() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let cs = h.create_container("c1", Isolation::Process, &[e]).unwrap();
    let ns = cs.namespace.unwrap();
    // hcsshim creates the namespace with no Type; it holds the endpoint and the container.
    assert_eq!(h.namespaces[&ns].namespace_type, None);
    let loc = h.endpoint_location(&e).unwrap();
    assert_eq!(loc.namespace, ns);
    assert_eq!(loc.container.as_deref(), Some("c1"));
    assert!(!loc.running);
    h.start_container("c1").unwrap();
    assert!(h.endpoint_location(&e).unwrap().running);
    assert_eq!(h.container_of(&e).map(|c| c.id.as_str()), Some("c1"));
    assert_eq!(
        code(h.start_container("c1")),
        hnsim_model::state::hcs::HCS_E_INVALID_STATE
    );
    h.stop_container("c1").unwrap();
    assert_eq!(h.compute_systems["c1"].state, ContainerState::Stopped);
    assert_eq!(h.endpoint_location(&e), None, "stopping detaches the endpoints");
    assert_eq!(
        code(h.stop_container("c1")),
        hnsim_model::state::hcs::HCS_E_SYSTEM_ALREADY_STOPPED
    );
    h.remove_container("c1").unwrap();
    assert!(h.namespaces.is_empty() && h.compute_systems.is_empty());
    assert_eq!(
        code(h.remove_container("c1")),
        hnsim_model::state::hcs::HCS_E_SYSTEM_NOT_FOUND
    );
    // The endpoint can be reused by a new container.
    h.create_container("c2", Isolation::Process, &[e]).unwrap();
}

#[test]
fn hyperv_container_gets_guest_namespace_and_vm_ports() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let cs = h.create_container("uvm1", Isolation::HyperV, &[e]).unwrap();
    let vm = cs.utility_vm.unwrap();
    let ns = cs.namespace.unwrap();
    assert_eq!(
        h.namespaces[&ns].namespace_type,
        Some(hnsim_model::schema::NamespaceType::Guest)
    );
    assert_eq!(h.vm_ports[&e].virtual_machine_id, vm);
    assert_eq!(h.vm_ports[&e].virtual_nic_name, format!("{vm}--{e}"));
    h.start_container("uvm1").unwrap();
    h.remove_container("uvm1").unwrap();
    assert!(h.vm_ports.is_empty() && h.namespaces.is_empty());
    assert_eq!(h.namespace_of(&e), None);
}

#[test]
fn container_create_is_all_or_nothing() {
    let mut h = hns();
    let n = net(&mut h, l2bridge_network("l2", "10.240.0.0/24", "10.240.0.1"));
    let a = ep(&mut h, &n, None);
    let r = remote_ep(&mut h, &n, "10.240.9.9", "10.0.0.2");
    let before = h.clone();
    assert_eq!(
        code(h.create_container("c", Isolation::Process, &[a, r])),
        HResult::HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION
    );
    assert_eq!(h, before);
    h.create_container("c", Isolation::Process, &[a]).unwrap();
    let before = h.clone();
    assert_eq!(
        code(h.create_container("d", Isolation::Process, &[a])),
        HResult::HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS
    );
    assert_eq!(
        code(h.create_container("c", Isolation::Process, &[])),
        hnsim_model::state::hcs::HCS_E_SYSTEM_ALREADY_EXISTS
    );
    assert_eq!(h, before);
}

#[test]
fn enumerate_filters() {
    let mut h = hns();
    let n1 = net(&mut h, l2bridge_network("one", "10.0.0.0/24", "10.0.0.1"));
    let n2 = net(&mut h, nat_network("two", "172.20.0.0/16", "172.20.0.1"));
    let a = ep(&mut h, &n1, None);
    let b = ep(&mut h, &n2, None);
    let r = remote_ep(&mut h, &n1, "10.9.0.5", "192.168.0.2");
    let mut all = vec![a, b, r];
    all.sort();
    assert_eq!(enumerate(&mut h, ObjectKind::Endpoint, None), all);
    assert_eq!(enumerate(&mut h, ObjectKind::Endpoint, Some(json!({}))), all);
    assert_eq!(
        enumerate(&mut h, ObjectKind::Network, Some(json!({"Name": "ONE"}))),
        vec![n1]
    );
    assert_eq!(
        enumerate(
            &mut h,
            ObjectKind::Network,
            Some(json!({"ID": n2.to_string().to_lowercase()}))
        ),
        vec![n2]
    );
    let mut of1 = vec![a, r];
    of1.sort();
    assert_eq!(
        enumerate(
            &mut h,
            ObjectKind::Endpoint,
            Some(json!({"VirtualNetwork": n1.to_string()}))
        ),
        of1
    );
    assert_eq!(
        enumerate(
            &mut h,
            ObjectKind::Endpoint,
            Some(json!({"HostComputeNetwork": n1.to_string()}))
        ),
        of1
    );
    assert_eq!(
        enumerate(
            &mut h,
            ObjectKind::Endpoint,
            Some(json!({"VirtualNetworkName": "two"}))
        ),
        vec![b]
    );
    let mut local = vec![a, b];
    local.sort();
    assert_eq!(
        enumerate(
            &mut h,
            ObjectKind::Endpoint,
            Some(json!({"IsRemoteEndpoint": "False"}))
        ),
        local
    );
    assert_eq!(
        enumerate(
            &mut h,
            ObjectKind::Endpoint,
            Some(json!({"IsRemoteEndpoint": true}))
        ),
        vec![r]
    );
    assert!(enumerate(&mut h, ObjectKind::Network, Some(json!({"Name": "three"}))).is_empty());
    assert!(enumerate(&mut h, ObjectKind::Network, Some(json!({"NoSuchKey": "x"}))).is_empty());
}

#[test]
fn pod_containers_share_the_sandbox_namespace() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let sandbox = h.create_container("pause", Isolation::Process, &[e]).unwrap();
    let ns = sandbox.namespace.unwrap();
    let work = h.create_container_in("app", Isolation::Process, &ns).unwrap();
    assert_eq!(work.namespace, Some(ns));
    assert_eq!(h.namespaces[&ns].resources.len(), 3, "endpoint + two containers");
    assert_eq!(
        h.endpoint_location(&e).unwrap().container.as_deref(),
        Some("pause")
    );
    h.start_container("app").unwrap();
    assert!(
        h.endpoint_location(&e).unwrap().running,
        "any running user makes it live"
    );
    // Removing the workload keeps the namespace; removing the sandbox drops it.
    h.remove_container("app").unwrap();
    assert_eq!(h.namespaces[&ns].resources.len(), 2);
    h.remove_container("pause").unwrap();
    assert!(h.namespaces.is_empty());
}

#[test]
fn container_in_a_namespace_built_through_hns() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let ns = namespace(&mut h, None);
    h.modify_namespace(&ns.to_string(), &attach_req(&e, "Add"))
        .unwrap();
    // A bare compartment is live.
    let loc = h.endpoint_location(&e).unwrap();
    assert!(loc.running && loc.container.is_none());
    h.create_container_in("c", Isolation::Process, &ns).unwrap();
    assert!(!h.endpoint_location(&e).unwrap().running);
    h.start_container("c").unwrap();
    assert!(h.endpoint_location(&e).unwrap().running);
    // The caller's namespace and endpoint outlive the container.
    h.remove_container("c").unwrap();
    assert_eq!(h.namespace_of(&e), Some(ns));
    let ghost: Guid = "11111111-2222-3333-4444-555555555555".parse().unwrap();
    assert_eq!(
        code(h.create_container_in("d", Isolation::Process, &ghost)),
        HResult::ERROR_NOT_FOUND
    );
}

#[test]
fn optional_host_default_namespace_exists_from_the_start_and_after_reboot() {
    let mut h = hns_with(|s| s.host_default_namespace = true);
    let d = h.host_default_namespace().expect("default namespace");
    assert_eq!(h.namespaces[&d].namespace_id, HOST_DEFAULT_COMPARTMENT);
    assert_eq!(
        code(create(
            &mut h,
            ObjectKind::Namespace,
            &json!({"Type": "HostDefault"})
        )),
        HResult::GCN_E_DEFAULTNAMESPACE_EXISTS
    );
    // "Attach to host" (ncproxy): add the endpoint to the HostDefault namespace.
    let n = net(&mut h, l2bridge_network("l2", "10.0.0.0/24", "10.0.0.1"));
    let e = ep(&mut h, &n, None);
    h.modify_namespace(&d.to_string(), &attach_req(&e, "Add"))
        .unwrap();
    assert_eq!(
        h.endpoint_location(&e).unwrap().compartment,
        HOST_DEFAULT_COMPARTMENT
    );
    h.reboot();
    let d2 = h
        .host_default_namespace()
        .expect("default namespace after reboot");
    assert!(h.namespace_endpoints(&d2).is_empty());
    assert!(hns().host_default_namespace().is_none());
}

#[test]
fn detaching_through_hns_also_leaves_the_container() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let cs = h.create_container("c", Isolation::Process, &[e]).unwrap();
    let ns = cs.namespace.unwrap();
    h.modify_namespace(&ns.to_string(), &attach_req(&e, "Remove"))
        .unwrap();
    assert!(h.compute_systems["c"].endpoints.is_empty());
    assert_eq!(h.container_of(&e), None);
}

#[test]
fn reboot_drops_vm_ports_with_the_containers() {
    let mut h = hns();
    let n = net(&mut h, l2bridge_network("l2", "10.0.0.0/24", "10.0.0.1"));
    let e = ep(&mut h, &n, None);
    h.create_container("uvm", Isolation::HyperV, &[e]).unwrap();
    h.restart_service();
    assert!(
        h.vm_ports.contains_key(&e),
        "containers and VMs survive an HNS restart"
    );
    h.reboot();
    assert!(h.vm_ports.is_empty() && h.compute_systems.is_empty());
    assert!(h.endpoints.contains_key(&e));
}

#[test]
fn create_normalises_references_and_ignores_read_only_namespace() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let ns = namespace(&mut h, None);
    let d = json!({"HostComputeNetwork": n.to_string().to_lowercase(),
        "HostComputeNamespace": ns.to_string(), "MacAddress": "00:15:5d:aa:bb:cc"});
    let (e, v) = create(&mut h, ObjectKind::Endpoint, &d).unwrap();
    assert_eq!(v["HostComputeNetwork"], json!(n.to_string()));
    // Read-only: only a namespace attach sets it.
    assert!(v.get("HostComputeNamespace").is_none());
    assert!(h.namespace_endpoints(&ns).is_empty());
    assert_eq!(h.endpoint_mac(&e), Some("00-15-5D-AA-BB-CC".parse().unwrap()));
    // An explicit IpSubnetId naming the subnet is accepted.
    let mut sub = nat_network("ids", "10.1.0.0/24", "10.1.0.1");
    sub["Ipams"][0]["Subnets"][0]["ID"] = json!("5A5A5A5A-0000-0000-0000-000000000001");
    let n2 = net(&mut h, sub);
    let mut d = endpoint_doc(&n2, Some("10.1.0.9"));
    d["IpConfigurations"][0]["IpSubnetId"] = json!("5a5a5a5a-0000-0000-0000-000000000001");
    create(&mut h, ObjectKind::Endpoint, &d).unwrap();
}

#[test]
fn maps_changed_directly_are_indexed_again_by_rebuild_indexes() {
    let mut h = hns();
    let n = net(&mut h, l2bridge_network("l2", "10.1.0.0/24", "10.1.0.1"));
    let e = ep(&mut h, &n, None);
    let mut lb: hnsim_model::schema::LoadBalancer = serde_json::from_value(json!({
        "HostComputeEndpoints": [e.to_string()], "FrontendVIPs": ["10.96.0.1"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]}))
    .expect("lb document");
    lb.id = "0BADF00D-0000-4000-8000-0000000000B1".parse().expect("guid");
    h.load_balancers.insert(lb.id, lb);
    assert!(h.verify_indexes().is_err(), "a planted LB is not indexed");
    h.rebuild_indexes();
    h.verify_indexes().expect("indexed again");
    // The planted LB now takes part in the frontend check and in the endpoint's references.
    let dup = json!({"HostComputeEndpoints": [], "FrontendVIPs": ["10.96.0.1"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 81, "ExternalPort": 80}]});
    assert_eq!(
        code(h.create(ObjectKind::LoadBalancer, "", &dup.to_string())),
        HResult::HCN_E_PORT_ALREADY_EXISTS
    );
    h.delete(ObjectKind::Endpoint, &e.to_string()).expect("delete");
    let lb = &h.load_balancers.values().next().expect("the LB stays");
    assert!(lb.host_compute_endpoints.is_empty(), "the reference was released");
}
