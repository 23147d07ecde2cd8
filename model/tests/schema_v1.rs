//! HNS v1 documents → v2, one test per row of the hns-schema.md §5.8 mapping table, plus the v1
//! reply wrapper and v2 → v1 rendering.

use hnsim_model::document::*;
use hnsim_model::schema::*;
use hnsim_model::v1;
use serde_json::{json, Value};

fn net(v: Value) -> Network {
    decode_network(&v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}
fn ep(v: Value) -> Endpoint {
    decode_endpoint(&v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn row_subnets_address_prefix_and_gateway() {
    let n = net(json!({"Name":"n","Type":"L2Bridge","Subnets":[
        {"AddressPrefix":"10.0.0.0/24","GatewayAddress":"10.0.0.1"},
        {"AddressPrefix":"fd00::/64","GatewayAddress":"fd00::1"}]}));
    assert_eq!(n.ipams.len(), 1);
    assert_eq!(n.ipams[0].ipam_type, "Static");
    let s = &n.ipams[0].subnets;
    assert_eq!(s[0].ip_address_prefix, "10.0.0.0/24");
    assert_eq!(
        (
            s[0].routes[0].next_hop.as_str(),
            s[0].routes[0].destination_prefix.as_str()
        ),
        ("10.0.0.1", "0.0.0.0/0")
    );
    assert_eq!(
        (
            s[1].routes[0].next_hop.as_str(),
            s[1].routes[0].destination_prefix.as_str()
        ),
        ("fd00::1", "::/0")
    );
    assert_eq!(n.kind(), NetworkType::L2Bridge);
}

#[test]
fn row_mac_pools() {
    let n = net(
        json!({"MacPools":[{"StartMacAddress":"00-15-5d-50-40-00","EndMacAddress":"00:15:5D:50:4F:FF"}]}),
    );
    assert_eq!(n.mac_pool.ranges[0].start_mac_address, "00-15-5D-50-40-00");
    assert_eq!(n.mac_pool.ranges[0].end_mac_address, "00-15-5D-50-4F-FF");
}

#[test]
fn row_network_adapter_name_source_mac_automatic_dns() {
    let n = net(
        json!({"Type":"Transparent","NetworkAdapterName":"Ethernet","SourceMac":"00-15-5D-00-00-09","AutomaticDNS":true}),
    );
    assert_eq!(
        n.policies,
        vec![
            NetworkPolicy::NetAdapterName(NetAdapterNamePolicy {
                network_adapter_name: "Ethernet".into(),
                ..Default::default()
            }),
            NetworkPolicy::SourceMacAddress(SourceMacAddressPolicy {
                source_mac_address: "00-15-5D-00-00-09".into(),
                ..Default::default()
            }),
            NetworkPolicy::AutomaticDns(AutomaticDnsPolicy {
                enable: true,
                ..Default::default()
            }),
        ]
    );
}

#[test]
fn row_network_dns() {
    let n = net(json!({"Subnets":[],"DNSSuffix":"corp.example","DNSServerList":"10.0.0.10, 10.0.0.11"}));
    assert_eq!(n.dns.domain, "corp.example");
    assert_eq!(n.dns.server_list, vec!["10.0.0.10", "10.0.0.11"]);
}

#[test]
fn row_flat_vsid_and_vlan_subnet_policies() {
    let n = net(
        json!({"Type":"Overlay","Subnets":[{"AddressPrefix":"10.244.0.0/24","GatewayAddress":"10.244.0.1","Policies":[{"Type":"VSID","VSID":4096},{"Type":"VLAN","VLAN":"7"}]}]}),
    );
    let p = &n.ipams[0].subnets[0].policies;
    assert_eq!(
        p[0],
        SubnetPolicy::Vsid(IsolationIdPolicy {
            isolation_id: 4096,
            ..Default::default()
        })
    );
    assert_eq!(
        p[1],
        SubnetPolicy::Vlan(IsolationIdPolicy {
            isolation_id: 7,
            ..Default::default()
        })
    );
    let out = encode_network(&n);
    assert_eq!(
        out["Ipams"][0]["Subnets"][0]["Policies"][0],
        json!({"Type":"VSID","Settings":{"IsolationId":4096}})
    );
}

#[test]
fn row_endpoint_virtual_network() {
    let e =
        ep(json!({"VirtualNetwork":"9d59c0df-b1e2-4eee-9fde-b7ea829fc6a1","VirtualNetworkName":"vxlan0"}));
    assert_eq!(e.host_compute_network, "9D59C0DF-B1E2-4EEE-9FDE-B7EA829FC6A1");
    assert_eq!(e.extra["VirtualNetworkName"], json!("vxlan0"));
}

#[test]
fn row_ip_addresses_and_gateways() {
    let e = ep(
        json!({"IPAddress":"10.0.0.5","PrefixLength":24,"IPv6Address":"fd00::5","IPv6PrefixLength":64,
        "GatewayAddress":"10.0.0.1","GatewayAddressV6":"fd00::1"}),
    );
    assert_eq!(e.ip_configurations.len(), 2);
    assert_eq!(
        (
            e.ip_configurations[0].ip_address.as_str(),
            e.ip_configurations[0].prefix_length
        ),
        ("10.0.0.5", 24)
    );
    assert_eq!(
        (
            e.ip_configurations[1].ip_address.as_str(),
            e.ip_configurations[1].prefix_length
        ),
        ("fd00::5", 64)
    );
    assert_eq!(
        e.routes[0],
        Route {
            next_hop: "10.0.0.1".into(),
            destination_prefix: "0.0.0.0/0".into(),
            ..Default::default()
        }
    );
    assert_eq!(
        e.routes[1],
        Route {
            next_hop: "fd00::1".into(),
            destination_prefix: "::/0".into(),
            ..Default::default()
        }
    );
}

#[test]
fn row_endpoint_dns() {
    let e = ep(
        json!({"VirtualNetwork":"9d59c0df-b1e2-4eee-9fde-b7ea829fc6a1","DNSSuffix":"svc.cluster.local","DNSServerList":"10.96.0.10"}),
    );
    assert_eq!(e.dns.domain, "svc.cluster.local");
    assert_eq!(e.dns.server_list, vec!["10.96.0.10"]);
}

#[test]
fn row_flags_remote_disable_icc_low_metric() {
    assert_eq!(ep(json!({"IsRemoteEndpoint":true})).flags, 1);
    assert_eq!(ep(json!({"DisableICC":true})).flags, 2);
    assert_eq!(ep(json!({"EnableLowMetric":true})).flags, 8);
    assert_eq!(
        ep(json!({"IsRemoteEndpoint":true,"DisableICC":true,"EnableLowMetric":true})).flags,
        11
    );
    assert_eq!(ep(json!({"IsRemoteEndpoint":false,"VirtualNetwork":""})).flags, 0);
}

#[test]
fn row_encap_overhead() {
    let e = ep(json!({"EncapOverhead":50}));
    assert_eq!(
        e.policies,
        vec![EndpointPolicy::EncapOverhead(EncapOverheadPolicy {
            overhead: 50,
            ..Default::default()
        })]
    );
}

#[test]
fn row_namespace_and_shared_containers() {
    let e = ep(
        json!({"VirtualNetwork":"9d59c0df-b1e2-4eee-9fde-b7ea829fc6a1","Namespace":{"ID":"c0ffee00-0000-0000-0000-000000000001","CompartmentGuid":"00000000-0000-0000-0000-000000000000"},"SharedContainers":["abc"]}),
    );
    assert_eq!(e.host_compute_namespace, "C0FFEE00-0000-0000-0000-000000000001");
    assert_eq!(e.extra["SharedContainers"], json!(["abc"]));
    // The zero namespace of real v1 output means none.
    let e = ep(json!({"IsRemoteEndpoint":true,"Namespace":{"ID":"00000000-0000-0000-0000-000000000000"}}));
    assert_eq!(e.host_compute_namespace, "");
}

#[test]
fn row_nat_policy_to_port_mapping() {
    let e = ep(
        json!({"VirtualNetwork":"9d59c0df-b1e2-4eee-9fde-b7ea829fc6a1","Policies":[
        {"Type":"NAT","Protocol":"TCP","InternalPort":80,"ExternalPort":8080,"ExternalPortReserved":true},
        {"Type":"NAT","Protocol":"udp","InternalPort":53,"ExternalPort":5353}]}),
    );
    assert_eq!(
        e.policies[0],
        EndpointPolicy::PortMapping(PortMappingPolicy {
            protocol: 6,
            internal_port: 80,
            external_port: 8080,
            flags: nat_flags::EXTERNAL_PORT_RESERVED,
            ..Default::default()
        })
    );
    assert_eq!(
        e.policies[1],
        EndpointPolicy::PortMapping(PortMappingPolicy {
            protocol: 17,
            internal_port: 53,
            external_port: 5353,
            ..Default::default()
        })
    );
    assert_eq!(
        encode_endpoint(&e)["Policies"][0],
        json!({"Type":"PortMapping","Settings":{"Protocol":6,"InternalPort":80,"ExternalPort":8080,"Flags":4}})
    );
}

#[test]
fn row_outbound_nat_vip_and_exception_list() {
    let e = ep(
        json!({"IPAddress":"10.0.0.5","Policies":[{"Type":"OutBoundNAT","VIP":"10.0.0.4","ExceptionList":["10.0.0.0/8","192.168.0.0/16"],"Destinations":["10.0.0.9"]}]}),
    );
    assert_eq!(
        e.policies[0],
        EndpointPolicy::OutBoundNat(OutboundNatPolicy {
            virtual_ip: "10.0.0.4".into(),
            exceptions: vec!["10.0.0.0/8".into(), "192.168.0.0/16".into()],
            destinations: vec!["10.0.0.9".into()],
            ..Default::default()
        })
    );
}

#[test]
fn row_pa_to_provider_address() {
    let e = ep(json!({"IsRemoteEndpoint":true,"Policies":[{"PA":"10.123.74.74","Type":"PA"}]}));
    assert_eq!(
        e.policies[0],
        EndpointPolicy::ProviderAddress(ProviderAddressPolicy {
            provider_address: "10.123.74.74".into(),
            ..Default::default()
        })
    );
}

#[test]
fn row_route_on_endpoint_and_in_policy_list() {
    let e = ep(
        json!({"IPAddress":"10.0.0.5","Policies":[{"Type":"ROUTE","DestinationPrefix":"10.96.0.0/12","NeedEncap":true}]}),
    );
    assert_eq!(
        e.policies[0],
        EndpointPolicy::SdnRoute(SdnRoutePolicy {
            destination_prefix: "10.96.0.0/12".into(),
            need_encap: true,
            ..Default::default()
        })
    );
    let r = decode_route(&json!({"References":["/endpoints/fd6bec0f-7b88-4b61-b5af-70897ab0960b"],"Policies":[{"Type":"ROUTE","DestinationPrefix":"10.0.0.0/8","NextHop":"10.0.0.1"}]}).to_string()).unwrap();
    assert_eq!(
        r.host_compute_endpoints,
        vec!["FD6BEC0F-7B88-4B61-B5AF-70897AB0960B"]
    );
    assert_eq!(
        r.routes,
        vec![SdnRoutePolicy {
            destination_prefix: "10.0.0.0/8".into(),
            next_hop: "10.0.0.1".into(),
            ..Default::default()
        }]
    );
}

#[test]
fn row_proxy_to_l4proxy() {
    let e = ep(
        json!({"IPAddress":"10.0.0.5","Policies":[{"Type":"PROXY","IP":"127.0.0.1","Port":15001,"ExceptionList":["10.0.0.1"],"Destination":"10.0.0.9","OutboundNat":true}]}),
    );
    assert_eq!(
        e.policies[0],
        EndpointPolicy::L4Proxy(L4ProxyPolicy {
            ip: "127.0.0.1".into(),
            port: "15001".into(),
            exceptions: vec!["10.0.0.1".into()],
            destination: "10.0.0.9".into(),
            outbound_nat: true,
            ..Default::default()
        })
    );
}

#[test]
fn row_acl_flat() {
    let e = ep(
        json!({"IPAddress":"10.0.0.5","Policies":[{"Type":"ACL","Id":"r1","Protocol":6,"LocalPort":80,"RemotePort":0,"Action":"Block","Direction":"In","RemoteAddresses":"10.1.0.0/16","RuleType":"Switch","Priority":300}]}),
    );
    let EndpointPolicy::Acl(a) = &e.policies[0] else {
        panic!("{:?}", e.policies)
    };
    assert_eq!(
        (
            a.id.as_str(),
            a.protocols.as_str(),
            a.local_ports.as_str(),
            a.remote_ports.as_str()
        ),
        ("r1", "6", "80", "")
    );
    assert_eq!(
        (
            a.action.as_str(),
            a.direction.as_str(),
            a.rule_type.as_str(),
            a.priority
        ),
        ("Block", "In", "Switch", 300)
    );
    assert!(a.extra.is_empty(), "{:?}", a.extra);
}

#[test]
fn row_qos() {
    let e = ep(
        json!({"IPAddress":"10.0.0.5","Policies":[{"Type":"QOS","MaximumOutgoingBandwidthInBytes":12345}]}),
    );
    assert_eq!(
        e.policies[0],
        EndpointPolicy::Qos(QosPolicy {
            maximum_outgoing_bandwidth_in_bytes: 12345,
            ..Default::default()
        })
    );
}

#[test]
fn row_elb_policy_list_to_load_balancer() {
    let lb = decode_load_balancer(&json!({"ID":"0be07c06-353c-4fbf-8ebc-5531f877e68a","References":["/endpoints/fd6bec0f-7b88-4b61-b5af-70897ab0960b","/endpoints/11111111-2222-3333-4444-555555555555"],
        "Policies":[{"Type":"ELB","Protocol":6,"InternalPort":8080,"ExternalPort":80,"SourceVIP":"10.0.0.4","VIPs":["10.96.0.10"],"ILB":true,"IsDSR":true}]}).to_string()).unwrap();
    assert_eq!(lb.id.to_string(), "0BE07C06-353C-4FBF-8EBC-5531F877E68A");
    assert_eq!(
        lb.host_compute_endpoints,
        vec![
            "FD6BEC0F-7B88-4B61-B5AF-70897AB0960B",
            "11111111-2222-3333-4444-555555555555"
        ]
    );
    assert_eq!(lb.source_vip, "10.0.0.4");
    assert_eq!(lb.frontend_vips, vec!["10.96.0.10"]);
    assert_eq!(lb.flags, lb_flags::DSR);
    assert_eq!(
        lb.port_mappings,
        vec![LbPortMapping {
            protocol: 6,
            internal_port: 8080,
            external_port: 80,
            flags: lb_port_flags::ILB,
            ..Default::default()
        }]
    );
}

#[test]
fn row_namespace_addresource_to_modify() {
    let m = v1::namespace_resource_request(
        &json!({"Type":"Endpoint","Data":{"Id":"fd6bec0f-7b88-4b61-b5af-70897ab0960b"}}),
        true,
    )
    .unwrap();
    assert_eq!(
        encode_modify(&m),
        json!({"ResourceType":"Endpoint","RequestType":"Add","Settings":{"EndpointId":"FD6BEC0F-7B88-4B61-B5AF-70897AB0960B"}})
    );
    let m = v1::namespace_resource_request(
        &json!({"Type":"Endpoint","Data":{"Id":"fd6bec0f-7b88-4b61-b5af-70897ab0960b"}}),
        false,
    )
    .unwrap();
    assert_eq!(m.request_type, RequestType::Remove);
}

#[test]
fn row_endpoint_attach_host() {
    let a = v1::decode_attach_request(r#"{"SystemType":"host","CompartmentId":1}"#).unwrap();
    assert!(a.is_host());
    assert_eq!(a.compartment_id, 1);
    let a = v1::decode_attach_request(r#"{"ContainerId":"abc","SystemType":"Container","CompartmentId":5}"#)
        .unwrap();
    assert!(!a.is_host());
}

#[test]
fn v1_namespace() {
    let n = decode_namespace(r#"{"ID":"c0ffee00-0000-0000-0000-000000000001","IsDefault":true,"CompartmentId":1,"ResourceList":[{"Type":"Endpoint","Data":{"Id":"fd6bec0f-7b88-4b61-b5af-70897ab0960b"}}]}"#).unwrap();
    assert_eq!(n.namespace_id, 1);
    assert_eq!(n.namespace_type, Some(NamespaceType::HostDefault));
    assert_eq!(n.endpoint_ids(), vec!["FD6BEC0F-7B88-4B61-B5AF-70897AB0960B"]);
}

#[test]
fn reply_wrapper() {
    let docs = decode_any(r#"{"Output":[{"Name":"a","Subnets":[]},{"Name":"b","Ipams":[]}],"Success":true}"#)
        .unwrap();
    assert_eq!(docs.len(), 2);
    let e = decode_any(r#"{"Success":false,"Error":"Element not found."}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"at $.Success: expected a successful reply (Success: true), found Success: false with Error "Element not found.""#
    );
    let n = decode_network(r#"{"Success":true,"Output":{"Name":"x","Type":"ICS","Subnets":[]}}"#).unwrap();
    assert_eq!((n.name.as_str(), n.kind()), ("x", NetworkType::Ics));
}

#[test]
fn v1_to_v2_output_reads_back_equal() {
    let n = net(
        json!({"ID":"9b219d6e-6847-43fc-8258-81db4b63c09c","Name":"External","Type":"overlay","DrMacAddress":"00-15-5D-BB-6E-B1","ManagementIP":"10.1.36.50",
        "Subnets":[{"AddressPrefix":"192.168.255.0/30","GatewayAddress":"192.168.255.1","Policies":[{"Type":"VSID","VSID":9999}],"ObjectType":5}]}),
    );
    let again = decode_network(&encode_network(&n).to_string()).unwrap();
    assert_eq!(again, n);
    assert_eq!(n.extra["ManagementIP"], json!("10.1.36.50"));
    assert_eq!(n.ipams[0].subnets[0].extra["ObjectType"], json!(5));
}

#[test]
fn v2_to_v1_network() {
    let n = decode_network(r#"{"Name":"flannel","Type":"Overlay","Policies":[{"Type":"NetAdapterName","Settings":{"NetworkAdapterName":"Ethernet"}}],
        "Dns":{"Domain":"corp","ServerList":["1.1.1.1","8.8.8.8"]},
        "Ipams":[{"Type":"Static","Subnets":[{"IpAddressPrefix":"10.244.1.0/24","Routes":[{"NextHop":"10.244.1.1","DestinationPrefix":"0.0.0.0/0"}],"Policies":[{"Type":"VSID","Settings":{"IsolationId":4096}}]}]}],
        "MacPool":{"Ranges":[{"StartMacAddress":"00-15-5D-00-00-00","EndMacAddress":"00-15-5D-00-0F-FF"}]},"SchemaVersion":{"Major":2,"Minor":0}}"#).unwrap();
    let v = encode_network_v1(&n);
    assert_eq!(v["Type"], "Overlay");
    assert_eq!(v["NetworkAdapterName"], "Ethernet");
    assert_eq!(
        v["Subnets"],
        json!([{"AddressPrefix":"10.244.1.0/24","GatewayAddress":"10.244.1.1","Policies":[{"Type":"VSID","VSID":4096}]}])
    );
    assert_eq!(
        v["MacPools"],
        json!([{"StartMacAddress":"00-15-5D-00-00-00","EndMacAddress":"00-15-5D-00-0F-FF"}])
    );
    assert_eq!(v["DNSServerList"], "1.1.1.1,8.8.8.8");
    // The v1 form reads back to the same v2 network (schema version aside).
    let back = decode_network(&v.to_string()).unwrap();
    assert_eq!(back.ipams, n.ipams);
    assert_eq!(back.policies, n.policies);
    assert_eq!(back.dns, n.dns);
    assert_eq!(back.mac_pool, n.mac_pool);
}

#[test]
fn v2_to_v1_endpoint() {
    let e = decode_endpoint(r#"{"ID":"8f109901-9970-4fda-bb2b-e9882fb3e8fb","HostComputeNetwork":"9d59c0df-b1e2-4eee-9fde-b7ea829fc6a1","Flags":1,
        "IpConfigurations":[{"IpAddress":"10.244.2.141","PrefixLength":16}],"MacAddress":"0e-2a-0a-f4-02-8d",
        "Policies":[{"Type":"ProviderAddress","Settings":{"ProviderAddress":"10.123.74.74"}},
                    {"Type":"PortMapping","Settings":{"Protocol":17,"InternalPort":53,"ExternalPort":53,"Flags":4}},
                    {"Type":"EncapOverhead","Settings":{"Overhead":50}}]}"#).unwrap();
    let v = encode_endpoint_v1(&e);
    assert_eq!(v["VirtualNetwork"], "9D59C0DF-B1E2-4EEE-9FDE-B7EA829FC6A1");
    assert_eq!(v["IsRemoteEndpoint"], true);
    assert_eq!(v["IPAddress"], "10.244.2.141");
    assert_eq!(v["PrefixLength"], 16);
    assert_eq!(v["EncapOverhead"], 50);
    assert_eq!(v["MacAddress"], "0E-2A-0A-F4-02-8D");
    assert_eq!(
        v["Policies"],
        json!([{"Type":"PA","PA":"10.123.74.74"},{"Type":"NAT","Protocol":"UDP","InternalPort":53,"ExternalPort":53,"ExternalPortReserved":true}])
    );
    // v1 carries EncapOverhead as a field, so on the way back it becomes the last policy.
    let mut back = decode_endpoint(&v.to_string()).unwrap();
    back.schema_version = e.schema_version;
    assert_eq!(back, e);
}
