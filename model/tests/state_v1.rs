//! v1-shaped documents through the v2 calls (hcsshim `hcnv1schema_test.go`) and v1-shaped
//! query output for SchemaVersion 1.0 (hns-schema.md §1).

mod state_support;

use hnsim_model::backend::{HnsBackend, ObjectKind};
use serde_json::{json, Value};
use state_support::*;

#[test]
fn v1_network_and_endpoint_documents_are_accepted() {
    let mut h = hns();
    let v1net = json!({"Name": "v1nat", "Type": "NAT",
        "Subnets": [{"AddressPrefix": "192.168.100.0/24", "GatewayAddress": "192.168.100.1"}],
        "MacPools": [{"StartMacAddress": "00-15-5D-52-C0-00", "EndMacAddress": "00-15-5D-52-CF-FF"}]});
    let (n, v) = create(&mut h, ObjectKind::Network, &v1net).unwrap();
    assert_eq!(
        v["Ipams"][0]["Subnets"][0]["IpAddressPrefix"],
        json!("192.168.100.0/24")
    );
    let v1ep = json!({"Name": "v1ep", "VirtualNetwork": n.to_string()});
    let (e, v) = create(&mut h, ObjectKind::Endpoint, &v1ep).unwrap();
    assert_eq!(v["HostComputeNetwork"], json!(n.to_string()));
    assert_eq!(v["IpConfigurations"][0]["IpAddress"], json!("192.168.100.2"));
    assert_eq!(v["MacAddress"], json!("00-15-5D-52-C0-00"));
    assert_eq!(h.network_of(&e), Some(n));
}

#[test]
fn schema_1_0_query_returns_the_v1_shape() {
    let mut h = hns();
    let n = net(&mut h, nat_network("nat", "172.20.0.0/16", "172.20.0.1"));
    let e = ep(&mut h, &n, None);
    let q = r#"{"SchemaVersion":{"Major":1,"Minor":0}}"#;
    let v: Value = serde_json::from_str(&h.query_network_properties(&n.to_string(), q).unwrap()).unwrap();
    assert!(v.get("Subnets").is_some(), "v1 network has Subnets: {v}");
    assert!(v.get("Ipams").is_none());
    let v: Value = serde_json::from_str(&h.query_endpoint_properties(&e.to_string(), q).unwrap()).unwrap();
    assert!(
        v.get("VirtualNetwork").is_some(),
        "v1 endpoint has VirtualNetwork: {v}"
    );
    assert_eq!(v["IPAddress"], json!("172.20.0.2"));
    // 2.0 (and the empty default query) give the v2 shape.
    let v2 = query(&mut h, ObjectKind::Endpoint, &e);
    assert!(v2.get("HostComputeNetwork").is_some());
}
