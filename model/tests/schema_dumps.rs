//! Real HNS output (tests/data/hns-dumps: published in public issues and fixtures, see its README
//! and docs/reference/hns-schema.md §5.7) decodes, and its v2 form reads back to the same value.

use hnsim_model::document::*;
use hnsim_model::schema::*;

fn dump(name: &str) -> String {
    let p = format!("{}/../tests/data/hns-dumps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn roundtrip(docs: &[HnsDocument]) {
    for d in docs {
        let again = decode_any_value(&encode_document(d)).unwrap();
        assert_eq!(again.len(), 1);
        // v1 input becomes v2 output with the same meaning.
        assert_eq!(&again[0], d);
    }
}

#[test]
fn sdn_371_networks_reply() {
    let docs = decode_any(&dump(
        "sdn-issue-371-lanzhiwang-flannel-overlay-external-and-nat-networks.json",
    ))
    .unwrap();
    assert_eq!(docs.len(), 2);
    let HnsDocument::Network(ext) = &docs[0] else {
        panic!()
    };
    assert_eq!(
        (ext.name.as_str(), ext.kind()),
        ("External", NetworkType::Overlay)
    );
    let s = &ext.ipams[0].subnets[0];
    assert_eq!(s.ip_address_prefix, "192.168.255.0/30");
    assert_eq!(s.routes[0].next_hop, "192.168.255.1");
    assert_eq!(
        s.policies[0],
        SubnetPolicy::Vsid(IsolationIdPolicy {
            isolation_id: 9999,
            ..Default::default()
        })
    );
    assert!(matches!(&ext.policies[0], NetworkPolicy::DrMacAddress(d) if d.address == "00-15-5D-BB-6E-B1"));
    assert_eq!(ext.extra["ManagementIP"], "10.1.36.50");
    let HnsDocument::Network(nat) = &docs[1] else {
        panic!()
    };
    assert_eq!(nat.name, "nat");
    roundtrip(&docs);
}

#[test]
fn flannel_remote_endpoint() {
    let docs = decode_any(&dump("flannel-vxlan-windows-test-remote-endpoint.json")).unwrap();
    let HnsDocument::Endpoint(e) = &docs[0] else {
        panic!()
    };
    assert!(e.is_remote());
    assert_eq!(e.host_compute_network, "9D59C0DF-B1E2-4EEE-9FDE-B7EA829FC6A1");
    assert_eq!(e.mac_address, "0E-2A-0A-F4-02-8D");
    assert_eq!(e.ip_configurations[0].ip_address, "10.244.2.141");
    assert!(e
        .policies
        .contains(&EndpointPolicy::ProviderAddress(ProviderAddressPolicy {
            provider_address: "10.123.74.74".into(),
            ..Default::default()
        })));
    // The "VNET Policy" allocator with its HNS-internal keys is kept.
    assert_eq!(e.extra["Resources"]["Allocators"][0]["Tag"], "VNET Policy");
    roundtrip(&docs);
}

#[test]
fn calico_v2_load_balancer() {
    let docs = decode_any(&dump("calico-issue-7305-kubeproxy-v2-loadbalancer-nodeport.json")).unwrap();
    let HnsDocument::LoadBalancer(lb) = &docs[0] else {
        panic!()
    };
    assert_eq!(lb.port_mappings[0].external_port, 31416);
    assert_eq!(lb.port_mappings[0].flags, lb_port_flags::LOCAL_ROUTED_VIP);
    assert!(lb.frontend_vips.is_empty());
    roundtrip(&docs);
}

#[test]
fn opengcs_nat_network_truncated() {
    let docs = decode_any(&dump(
        "opengcs-issue-174-dockerd-nat-network-response-TRUNCATED.json",
    ))
    .unwrap();
    let HnsDocument::Network(n) = &docs[0] else {
        panic!()
    };
    assert_eq!(n.kind(), NetworkType::Nat);
    assert_eq!(n.mac_pool.ranges[0].start_mac_address, "00-15-5D-50-40-00");
    // HNS's own misspelling is kept as it is.
    assert_eq!(n.extra["Resources"]["Allocators"][0]["CompartmendId"], 0);
    roundtrip(&docs);
}

#[test]
fn aks_remote_endpoint_truncated() {
    let docs = decode_any(&dump(
        "aks-issue-1367-azurecni-l2bridge-remote-endpoint-TRUNCATED.json",
    ))
    .unwrap();
    let HnsDocument::Endpoint(e) = &docs[0] else {
        panic!()
    };
    assert!(e.is_remote());
    assert_eq!(e.mac_address, "02-11-0A-F0-00-0B");
    assert!(matches!(e.policies[0], EndpointPolicy::L2Driver(_)));
    assert_eq!(e.dns.server_list, vec!["10.0.0.10"]);
    roundtrip(&docs);
}

#[test]
fn docker_inspect_is_not_hns() {
    let e = decode_any(&dump("docker-inspect-niroyb-docs-l2bridge-network.json")).unwrap_err();
    assert_eq!(e.path, "$[0]");
    assert!(
        e.found
            .starts_with("`docker network inspect` output, not an HNS document"),
        "{}",
        e.found
    );
}
