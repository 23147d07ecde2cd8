//! One network document in, its typed values or typed errors out.

use super::*;
use serde_json::json;

fn repr(doc: serde_json::Value) -> NetworkRepr {
    NetworkRepr::parse(&serde_json::from_value(doc).expect("a network document"))
}

fn errors(r: &NetworkRepr) -> Vec<String> {
    r.errors().map(ToString::to_string).collect()
}

#[test]
fn a_well_formed_overlay_network_reads_into_typed_values() {
    let r = repr(json!({"Name": "vxlan0", "Type": "Overlay",
        "Ipams": [{"Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
                "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}],
                "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]},
            {"Subnets": [{"IpAddressPrefix": "fd00:1::/64",
                "Routes": [{"NextHop": "fd00:1::1", "DestinationPrefix": "::/0"}]}, {}]}],
        "Policies": [{"Type": "VxlanPort", "Settings": {"Port": 4790}},
            {"Type": "DrMacAddress", "Settings": {"Address": "00-15-5D-AA-00-11"}},
            {"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.2.0/24",
                "IsolationId": 4096, "ProviderAddress": "10.0.0.12",
                "DistributedRouterMacAddress": "00-15-5D-AA-00-12"}},
            {"Type": "HostRoute", "Settings": {}}]}));
    assert!(errors(&r).is_empty(), "{:?}", errors(&r));
    assert_eq!(r.subnets.len(), 3, "the subnets of every Ipam, in order");
    assert_eq!(r.subnets[0].prefix, Ok(Some("10.244.1.0/24".parse().unwrap())));
    assert_eq!(r.subnets[0].vsid, Some(4096));
    assert_eq!(r.subnets[0].default_route(false).map(|(j, _)| j), Some(0));
    assert_eq!(r.subnets[1].default_route(true).map(|(j, _)| j), Some(0));
    assert_eq!(
        r.subnets[2].prefix,
        Ok(None),
        "no prefix: a subnet without addresses"
    );
    assert_eq!(r.vxlan_port(), 4790);
    assert_eq!(
        r.policies[1],
        NetworkPolicyRepr::DrMacAddress(Ok(Some("00-15-5D-AA-00-11".parse().unwrap())))
    );
    let NetworkPolicyRepr::RemoteSubnetRoute(rs) = &r.policies[2] else {
        panic!("{:?}", r.policies[2])
    };
    assert_eq!(rs.provider_address, Ok("10.0.0.12".parse().unwrap()));
    assert_eq!(r.policies[3], NetworkPolicyRepr::HostRoute);
}

#[test]
fn values_that_do_not_read_are_typed_errors_with_their_path() {
    let r = repr(json!({"Type": "Overlay",
        "Ipams": [{"Subnets": [{"IpAddressPrefix": "10.244.1.0",
                "Routes": [{"NextHop": "fe80::1", "DestinationPrefix": "0.0.0.0/0"},
                    {"NextHop": "10.244.1.1", "DestinationPrefix": "10.9.0.1"}]}]}],
        "Policies": [{"Type": "DrMacAddress", "Settings": {"Address": "00-15-5D-AA"}},
            {"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": " 10.244.2.0/24",
                "ProviderAddress": "pa", "DistributedRouterMacAddress": "not a MAC"}},
            {"Type": "VxlanPort", "Settings": {"Port": 0}}]}));
    assert_eq!(
        errors(&r),
        [
            r#"Subnets[0].IpAddressPrefix: expected a CIDR, found "10.244.1.0""#,
            r#"Subnets[0].Routes[0].NextHop: expected an IPv4 address, found "fe80::1""#,
            r#"Subnets[0].Routes[1].DestinationPrefix: expected a CIDR, found "10.9.0.1""#,
            r#"Policies[0].Settings.Address: expected a MAC address, found "00-15-5D-AA""#,
            r#"Policies[1].Settings.DestinationPrefix: expected a CIDR, found " 10.244.2.0/24""#,
            r#"Policies[1].Settings.ProviderAddress: expected an IP address, found "pa""#,
            r#"Policies[1].Settings.DistributedRouterMacAddress: expected a MAC address, found "not a MAC""#,
        ]
    );
    assert_eq!(r.vxlan_port(), DEFAULT_VXLAN_PORT, "port 0 names no port");
}

#[test]
fn a_provider_address_that_does_not_read_is_a_network_error() {
    let r = repr(json!({"Type": "L2Bridge",
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.300"}},
            {"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}));
    assert_eq!(
        errors(&r),
        [r#"Policies[0].Settings.ProviderAddress: expected an IP address, found "10.0.0.300""#]
    );
    assert_eq!(
        r.policies[1],
        NetworkPolicyRepr::ProviderAddress(Ok("10.0.0.12".parse().unwrap()))
    );
}
