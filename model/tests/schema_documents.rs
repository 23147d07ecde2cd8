//! v2 documents: tolerance of what real callers send (hns-schema.md §1), HNS-style output, and
//! exact error messages with JSON paths.

use hnsim_model::document::*;
use hnsim_model::hresult::HResult;
use hnsim_model::schema::*;
use serde_json::json;

fn doc_err(path: &str, expected: &str, found: &str) -> DocError {
    DocError {
        path: path.into(),
        expected: expected.into(),
        found: found.into(),
    }
}

#[test]
fn subnet_prefix_of_wrong_type_names_its_path() {
    let e = decode_network(r#"{"Ipams":[{"Type":"Static","Subnets":[{"IpAddressPrefix":"10.0.0.0/24"},{"IpAddressPrefix":5}]}]}"#).unwrap_err();
    assert_eq!(
        e,
        doc_err(
            "$.Ipams[0].Subnets[1].IpAddressPrefix",
            "a CIDR prefix string like \"10.0.0.0/24\"",
            "5"
        )
    );
    assert_eq!(e.to_string(), "at $.Ipams[0].Subnets[1].IpAddressPrefix: expected a CIDR prefix string like \"10.0.0.0/24\", found 5");
}

#[test]
fn path_uses_the_key_as_written() {
    let e = decode_network(r#"{"ipams":[{"subnets":[{"ipAddressPrefix":[]}]}]}"#).unwrap_err();
    assert_eq!(
        e,
        doc_err(
            "$.ipams[0].subnets[0].ipAddressPrefix",
            "a CIDR prefix string like \"10.0.0.0/24\"",
            "an array of 0 item(s)"
        )
    );
}

#[test]
fn port_out_of_range() {
    let e = decode_endpoint(
        r#"{"HostComputeNetwork":"","Policies":[{"Type":"PortMapping","Settings":{"InternalPort":70000}}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        e,
        doc_err(
            "$.Policies[0].Settings.InternalPort",
            "an integer from 0 to 65535",
            "70000"
        )
    );
    let e =
        decode_endpoint(r#"{"IpConfigurations":[{"IpAddress":"10.0.0.1","PrefixLength":-1}]}"#).unwrap_err();
    assert_eq!(
        e,
        doc_err(
            "$.IpConfigurations[0].PrefixLength",
            "an integer from 0 to 128",
            "-1"
        )
    );
}

#[test]
fn v1_flat_policy_errors_point_at_the_policy() {
    let e = decode_endpoint(
        r#"{"VirtualNetwork":"x","Policies":[{"Type":"NAT","Protocol":"SCTPX","InternalPort":80}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        e,
        doc_err(
            "$.Policies[0].Protocol",
            "a protocol number (6, 17, …) or name (TCP, UDP, ICMPv4, ICMPv6, IGMP)",
            "\"SCTPX\""
        )
    );
}

#[test]
fn bad_guid_and_missing_policy_type() {
    let e = decode_load_balancer(r#"{"ID":"not-a-guid","PortMappings":[]}"#).unwrap_err();
    assert_eq!(
        e,
        doc_err(
            "$.ID",
            "a GUID like 01234567-89AB-CDEF-0123-456789ABCDEF",
            "\"not-a-guid\""
        )
    );
    let e = decode_network(r#"{"Ipams":[],"Policies":[{"Settings":{}}]}"#).unwrap_err();
    assert_eq!(
        e,
        doc_err("$.Policies[0]", "a policy with a \"Type\"", "an object")
    );
    let e = decode_network(r#"{"Ipams":[],"Policies":{"Type":"HostRoute"}}"#).unwrap_err();
    assert_eq!(e, doc_err("$.Policies", "an array", "an object"));
}

#[test]
fn malformed_json_and_not_hns() {
    let e = decode_any("{\"Name\": \n ").unwrap_err();
    assert_eq!(e.path, "$");
    assert_eq!(e.expected, "well-formed JSON");
    assert_eq!(e.found, "EOF while parsing a value at line 2 column 1");
    let e = decode_any(r#"{"Foo":1}"#).unwrap_err();
    assert_eq!(e.path, "$");
    assert_eq!(e.found, "an object with keys Foo");
    let e = decode_any("[1]").unwrap_err();
    assert_eq!(
        e,
        doc_err("$[0]", "an HNS document (a JSON object) or an array of them", "1")
    );
}

#[test]
fn doc_error_as_hcn_error() {
    let e = decode_modify(r#"{"ResourceType":"Policy","RequestType":"Frobnicate"}"#).unwrap_err();
    assert_eq!(
        e,
        doc_err(
            "$.RequestType",
            "one of Add, Remove, Update, Refresh, Reset",
            "\"Frobnicate\""
        )
    );
    let h = e.to_hcn_error();
    assert_eq!(h.code, HResult::HCN_E_INVALID_JSON);
    assert_eq!(h.message, e.to_string());
}

#[test]
fn empty_objects_and_zero_schema_version() {
    // What hcsshim sends for an empty network (hns-schema.md §1).
    let n = decode_network(r#"{"ID":"00000000-0000-0000-0000-000000000000","Name":"nat1","Type":"NAT","MacPool":{},"Dns":{},"Health":{"Extra":{}},"SchemaVersion":{"Major":0,"Minor":0}}"#).unwrap();
    assert_eq!(n.schema_version, Version::new(0, 0));
    assert!(n.dns.is_empty() && n.mac_pool.ranges.is_empty());
    let ns = decode_namespace(r#"{"SchemaVersion":{},"NamespaceId":0,"Resources":[]}"#).unwrap();
    assert_eq!(ns.namespace_type, None);
    let q = decode_query("").unwrap();
    assert_eq!(q, HostComputeQuery::v2());
}

/// hcsshim tags IpConfig.IpAddress and MacRange's addresses `omitempty` (hcn/hcnendpoint.go,
/// hcn/hcnnetwork.go): an empty one is not emitted.
#[test]
fn empty_ip_and_mac_range_fields_are_omitted() {
    let ip: IpConfig = serde_json::from_value(json!({"PrefixLength":24})).unwrap();
    assert_eq!(serde_json::to_value(&ip).unwrap(), json!({"PrefixLength":24}));
    let r: MacRange = serde_json::from_value(json!({"StartMacAddress":"00-15-5D-00-00-00"})).unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"StartMacAddress":"00-15-5D-00-00-00"})
    );
}

#[test]
fn keys_in_any_case() {
    let e = decode_endpoint(r#"{"Id":"404947ac-1234-5678-9abc-def012345678","hostComputeNetwork":"b4e14e41-5ee4-441a-9675-138f88c43db0","IPCONFIGURATIONS":[{"ipaddress":"10.0.0.5","prefixlength":"24"}],"macaddress":"00:15:5d:00:00:01"}"#).unwrap();
    assert_eq!(e.id.to_string(), "404947AC-1234-5678-9ABC-DEF012345678");
    assert_eq!(e.host_compute_network, "B4E14E41-5EE4-441A-9675-138F88C43DB0");
    assert_eq!(e.ip_configurations[0].prefix_length, 24);
    assert!(e.extra.is_empty());
    let out = encode_endpoint(&e);
    assert_eq!(out["ID"], "404947AC-1234-5678-9ABC-DEF012345678");
    assert_eq!(out["MacAddress"], "00-15-5D-00-00-01");
}

#[test]
fn nat_type_omitted_in_output() {
    for t in ["NAT", "nat", "0"] {
        let n = decode_network(&json!({"Name":"n","Type":t,"Ipams":[]}).to_string()).unwrap();
        assert_eq!(n.kind(), NetworkType::Nat);
        assert!(encode_network(&n).get("Type").is_none(), "{t}");
    }
    let n = Network {
        network_type: Some(NetworkType::Nat),
        ..Default::default()
    };
    assert!(encode_network(&n).get("Type").is_none());
    let n = decode_network(r#"{"Type":"l2bridge","Ipams":[]}"#).unwrap();
    assert_eq!(encode_network(&n)["Type"], "L2Bridge");
}

#[test]
fn unknown_fields_survive_everywhere() {
    let input = json!({
        "ID":"B4E14E41-5EE4-441A-9675-138F88C43DB0","Name":"n","Type":"Overlay",
        "Policies":[{"Type":"RemoteSubnetRoute","Settings":{"DestinationPrefix":"10.244.2.0/24","IsolationId":4096,"ProviderAddress":"10.0.0.5","DistributedRouterMacAddress":"00-15-5D-BB-6E-B1","X1":1}}],
        "MacPool":{"Ranges":[{"StartMacAddress":"00-15-5D-00-00-00","EndMacAddress":"00-15-5D-00-0F-FF","X2":2}],"X3":3},
        "Dns":{"Domain":"d","X4":4},
        "Ipams":[{"Type":"Static","Subnets":[{"IpAddressPrefix":"10.244.1.0/24","Routes":[{"NextHop":"10.244.1.1","DestinationPrefix":"0.0.0.0/0","X5":5}],"X6":6}],"X7":7}],
        "Flags":8,"Health":{"Extra":{"LayeredOn":"x"}},"SchemaVersion":{"Major":2,"Minor":2},
        "AdditionalParams":{"ICSFlags":1},"IPv6":true
    });
    let n = decode_network(&input.to_string()).unwrap();
    assert_eq!(encode_network(&n), input);
}

#[test]
fn enums_as_numbers_or_strings() {
    let lb = decode_load_balancer(r#"{"HostComputeEndpoints":[],"PortMappings":[{"Protocol":"UDP","DistributionType":"SourceIP","Flags":"8"}]}"#).unwrap();
    assert_eq!(
        (
            lb.port_mappings[0].protocol,
            lb.port_mappings[0].distribution_type,
            lb.port_mappings[0].flags
        ),
        (17, 2, 8)
    );
    let m = decode_modify(r#"{"resourcetype":"policy","requesttype":"add","Settings":{"Policies":[{"Type":"ACL","Settings":{"Action":"Allow","Direction":"In"}}]}}"#).unwrap();
    assert_eq!(
        (m.resource_type.as_str(), m.request_type),
        ("Policy", RequestType::Add)
    );
    let p = decode_endpoint_policies(&m.settings).unwrap();
    assert!(matches!(&p[0], EndpointPolicy::Acl(a) if a.action == "Allow"));
    // RequestType by number (list order, inferred) — the same through serde as through the reader.
    let m = decode_modify(r#"{"ResourceType":"Policy","RequestType":1}"#).unwrap();
    assert_eq!(m.request_type, RequestType::Remove);
    let r: RequestType = serde_json::from_value(json!(1)).unwrap();
    assert_eq!(r, RequestType::Remove);
    assert!(serde_json::from_value::<RequestType>(json!("Frob")).is_err());
    let ns = decode_namespace(r#"{"Type":1,"Resources":[]}"#).unwrap();
    assert_eq!(ns.namespace_type, Some(NamespaceType::HostDefault));
    let n = decode_network(r#"{"Type":"Overlay","Ipams":[{"Type":"DHCP"}]}"#).unwrap();
    assert_eq!(n.ipams[0].ipam_type, "Dhcp");
    // Network and namespace types read the same through serde as through the document reader.
    let t: NetworkType = serde_json::from_value(json!(3)).unwrap();
    assert_eq!(t, NetworkType::L2Bridge);
    assert!(serde_json::from_value::<NetworkType>(json!(9)).is_err());
    assert_eq!(
        decode_network(r#"{"Type":9,"Ipams":[]}"#).unwrap_err().path,
        "$.Type"
    );
    let t: NamespaceType = serde_json::from_value(json!("guestdefault")).unwrap();
    assert_eq!(t, NamespaceType::GuestDefault);
    assert!(serde_json::from_value::<NamespaceType>(json!(4)).is_err());
}

#[test]
fn route_setting_and_routes_both_read() {
    let a = decode_route(r#"{"HostComputeEndpoints":["fd6bec0f-7b88-4b61-b5af-70897ab0960b"],"Setting":[{"DestinationPrefix":"10.0.0.0/8","NextHop":"10.0.0.1","NeedEncap":true}]}"#).unwrap();
    let b = decode_route(r#"{"HostComputeEndpoints":["FD6BEC0F-7B88-4B61-B5AF-70897AB0960B"],"Routes":[{"DestinationPrefix":"10.0.0.0/8","NextHop":"10.0.0.1","NeedEncap":true}]}"#).unwrap();
    assert_eq!(a, b);
    assert_eq!(encode_route(&a)["Routes"][0]["NeedEncap"], true);
}

#[test]
fn query_filter_string_or_object() {
    let q =
        decode_query(r#"{"SchemaVersion":{"Major":1,"Minor":0},"Flags":1,"Filter":"{\"Name\":\"nat\"}"}"#)
            .unwrap();
    assert!(q.wants_v1());
    assert_eq!(q.filter_map().unwrap()["Name"], "nat");
    let q = decode_query(r#"{"Filter":{"VirtualNetwork":"x"}}"#).unwrap();
    assert_eq!(q.filter_map().unwrap()["VirtualNetwork"], "x");
}

#[test]
fn decode_any_detects_kinds() {
    let docs = decode_any(
        r#"[
        {"Name":"n","Ipams":[]},
        {"HostComputeNetwork":"B4E14E41-5EE4-441A-9675-138F88C43DB0"},
        {"NamespaceId":3},
        {"HostComputeEndpoints":[],"FrontendVIPs":["10.0.0.1"]},
        {"HostComputeEndpoints":[],"Routes":[]},
        {"Type":"HostDefault"},
        {"References":[],"Policies":[{"Type":"ELB","InternalPort":1,"ExternalPort":2}]}
    ]"#,
    )
    .unwrap();
    let kinds: Vec<&str> = docs.iter().map(|d| d.kind_name()).collect();
    assert_eq!(
        kinds,
        [
            "network",
            "endpoint",
            "namespace",
            "load balancer",
            "route",
            "namespace",
            "load balancer"
        ]
    );
}

#[test]
fn wrong_kind_is_reported() {
    // A v1 ROUTE policy list where a load balancer is expected, and an ELB one where a route is.
    let route_list = r#"{"References":[],"Policies":[{"Type":"ROUTE","NextHop":"1.1.1.1"}]}"#;
    assert_eq!(
        decode_load_balancer(route_list).unwrap_err(),
        doc_err(
            "$",
            "a load balancer (HostComputeLoadBalancer or a v1 ELB PolicyList)",
            "a route document"
        )
    );
    let elb_list = r#"{"References":[],"Policies":[{"Type":"ELB","Protocol":6,"InternalPort":8080,"ExternalPort":80,"VIPs":["10.96.0.10"]}]}"#;
    assert_eq!(
        decode_route(elb_list).unwrap_err(),
        doc_err(
            "$",
            "an SDN route (HostComputeRoute or a v1 ROUTE PolicyList)",
            "a load balancer document"
        )
    );
    // Each is what its own reader and `decode_any` (which tells the kind by the keys) make of it.
    assert!(decode_route(route_list).is_ok());
    assert!(decode_load_balancer(elb_list).is_ok());
    let kinds: Vec<&str> = [route_list, elb_list]
        .iter()
        .map(|d| decode_any(d).unwrap()[0].kind_name())
        .collect();
    assert_eq!(kinds, ["route", "load balancer"]);
}

/// The per-kind readers take their input as that kind: an endpoint's key in a network document
/// is an unknown network key, not a reason to read an endpoint; `decode_any` does tell it.
#[test]
fn a_kind_reader_does_not_guess_the_kind() {
    let doc = r#"{"HostComputeNetwork":"6DD4A0B4-6D3A-4244-9C89-517C1CCDF53F"}"#;
    assert!(decode_network(doc).is_ok());
    assert_eq!(decode_any(doc).unwrap()[0].kind_name(), "endpoint");
}

/// The minimal documents of hns-schema.md §7 decode and print back unchanged (NAT's `Type`
/// aside, which HNS omits).
#[test]
fn section_7_minimal_documents() {
    let nat = r#"{"Name":"nat1","Type":"NAT","Ipams":[{"Type":"Static","Subnets":[{"IpAddressPrefix":"172.20.0.0/16","Routes":[{"NextHop":"172.20.0.1","DestinationPrefix":"0.0.0.0/0"}]}]}],"SchemaVersion":{"Major":2,"Minor":0}}"#;
    let n = decode_network(nat).unwrap();
    let mut want: serde_json::Value = serde_json::from_str(nat).unwrap();
    let w = want.as_object_mut().unwrap();
    w.shift_remove("Type");
    w.insert("ID".into(), json!("00000000-0000-0000-0000-000000000000"));
    w.insert("MacPool".into(), json!({}));
    let got = encode_network(&n);
    assert_eq!(got.as_object().unwrap().len(), w.len(), "{got}");
    for (k, v) in w.iter() {
        assert_eq!(&got[k], v, "{k}");
    }

    let ep = r#"{"ID":"00000000-0000-0000-0000-000000000000","Name":"ep1","HostComputeNetwork":"B4E14E41-5EE4-441A-9675-138F88C43DB0","Policies":[{"Type":"PortMapping","Settings":{"Protocol":6,"InternalPort":80,"ExternalPort":8080}}],"IpConfigurations":[{"IpAddress":"172.20.0.5","PrefixLength":16}],"SchemaVersion":{"Major":2,"Minor":0}}"#;
    assert_eq!(
        encode_endpoint(&decode_endpoint(ep).unwrap()),
        serde_json::from_str::<serde_json::Value>(ep).unwrap()
    );

    let remote = r#"{"ID":"00000000-0000-0000-0000-000000000000","HostComputeNetwork":"B4E14E41-5EE4-441A-9675-138F88C43DB0","Policies":[{"Type":"ProviderAddress","Settings":{"ProviderAddress":"10.0.0.3"}}],"IpConfigurations":[{"IpAddress":"10.244.1.5","PrefixLength":24}],"MacAddress":"00-15-5D-00-00-05","Flags":1,"SchemaVersion":{"Major":2,"Minor":0}}"#;
    let e = decode_endpoint(remote).unwrap();
    assert!(e.is_remote());
    assert_eq!(
        encode_endpoint(&e),
        serde_json::from_str::<serde_json::Value>(remote).unwrap()
    );

    let m = decode_modify(r#"{"ResourceType":"Endpoint","RequestType":"Add","Settings":{"EndpointId":"B4E14E41-5EE4-441A-9675-138F88C43DB0"}}"#).unwrap();
    assert_eq!(
        (m.resource_type.as_str(), m.request_type),
        ("Endpoint", RequestType::Add)
    );

    let lb = r#"{"ID":"00000000-0000-0000-0000-000000000000","HostComputeEndpoints":["B4E14E41-5EE4-441A-9675-138F88C43DB0"],"SourceVIP":"10.0.0.1","FrontendVIPs":["10.96.0.10"],"PortMappings":[{"Protocol":6,"InternalPort":8080,"ExternalPort":80,"Flags":1}],"SchemaVersion":{"Major":2,"Minor":0}}"#;
    assert_eq!(
        encode_load_balancer(&decode_load_balancer(lb).unwrap()),
        serde_json::from_str::<serde_json::Value>(lb).unwrap()
    );

    let q =
        decode_query(r#"{"SchemaVersion":{"Major":2,"Minor":0},"Flags":0,"Filter":"{\"Name\":\"nat1\"}"}"#)
            .unwrap();
    assert_eq!(q.filter_map().unwrap()["Name"], "nat1");
    assert_eq!(
        encode_query(&q),
        json!({"SchemaVersion":{"Major":2,"Minor":0},"Filter":"{\"Name\":\"nat1\"}"})
    );

    let v1lb = decode_load_balancer(r#"{"References":["/endpoints/b4e14e41-5ee4-441a-9675-138f88c43db0"],"Policies":[{"Type":"ELB","Protocol":6,"InternalPort":8080,"ExternalPort":80,"VIPs":["10.96.0.10"],"ILB":true}]}"#).unwrap();
    assert_eq!(v1lb.port_mappings[0].flags, 1);
    assert_eq!(v1lb.frontend_vips, vec!["10.96.0.10"]);
}
