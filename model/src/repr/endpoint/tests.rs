//! One endpoint document in, its typed values or typed errors out.

use super::*;
use serde_json::json;

fn repr(doc: serde_json::Value) -> EndpointRepr {
    EndpointRepr::parse(&serde_json::from_value(doc).expect("an endpoint document"))
}

fn errors(r: &EndpointRepr) -> Vec<String> {
    r.errors().map(ToString::to_string).collect()
}

#[test]
fn a_well_formed_endpoint_reads_into_typed_values() {
    let r = repr(
        json!({"HostComputeNetwork": "404947ac-1234-5678-9abc-def012345678",
        "IpConfigurations": [{"IpAddress": " 10.0.0.5 "}, {"IpAddress": "fd00::5"}],
        "MacAddress": "00-15-5D-00-00-05",
        "Routes": [{"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.0.0.1"},
            {"DestinationPrefix": "10.9.0.0/16", "NextHop": "10.0.0.2"},
            {"DestinationPrefix": "::/0", "NextHop": "fd00::1"}],
        "Policies": [
            {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080,
                "VIP": "10.0.0.100", "Flags": 1}},
            {"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.0.0.0/8", "fd00::/8"],
                "Destinations": ["1.2.3.4"]}},
            {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12"}},
            {"Type": "ProviderAddress", "Settings": {"ProviderAddress": "192.168.0.5"}},
            {"Type": "QOS", "Settings": {"MaximumOutgoingBandwidthInBytes": 0}},
            {"Type": "EncapOverhead", "Settings": {"Overhead": 50}}]}),
    );
    assert!(errors(&r).is_empty(), "{:?}", errors(&r));
    assert_eq!(r.network, "404947AC-1234-5678-9ABC-DEF012345678".parse().ok());
    assert_eq!(r.ipv4(), Some("10.0.0.5".parse().unwrap()));
    assert_eq!(r.ipv6(), Some("fd00::5".parse().unwrap()));
    assert_eq!(r.mac, Ok("00-15-5D-00-00-05".parse().unwrap()));
    assert_eq!(r.default_route(false).map(|(j, _)| j), Some(0));
    assert_eq!(r.default_route(true).map(|(j, _)| j), Some(2));
    assert_eq!(
        r.routes[1],
        RouteRepr::new("10.9.0.0/16".parse().unwrap(), "10.0.0.2".parse().unwrap())
    );
    let EndpointPolicyRepr::PortMapping(m) = &r.policies[0] else {
        panic!("{:?}", r.policies[0])
    };
    assert_eq!(
        (m.vip.clone(), m.v6, m.local_routed),
        (Ok(Some("10.0.0.100".parse().unwrap())), false, true)
    );
    let EndpointPolicyRepr::OutboundNat(o) = &r.policies[1] else {
        panic!("{:?}", r.policies[1])
    };
    assert_eq!(
        o.exceptions.len(),
        2,
        "both families kept; the compile takes its own"
    );
    assert_eq!(o.destinations, ["1.2.3.4/32".parse().unwrap()]);
    let EndpointPolicyRepr::SdnRoute(s) = &r.policies[2] else {
        panic!("{:?}", r.policies[2])
    };
    assert_eq!(s.next_hop, Ok(None), "an empty NextHop is none");
    assert_eq!(
        r.policies[3],
        EndpointPolicyRepr::ProviderAddress(Ok("192.168.0.5".parse().unwrap()))
    );
    assert_eq!(r.policies[4], EndpointPolicyRepr::Qos(None), "0 is no limit");
    assert_eq!(r.policies[5], EndpointPolicyRepr::EncapOverhead(50));
}

#[test]
fn values_that_do_not_read_are_typed_errors_with_their_path() {
    let r = repr(json!({"IpConfigurations": [{"IpAddress": "ten"}],
        "MacAddress": "00-15-5D",
        "Routes": [{"DestinationPrefix": "0.0.0.0/0", "NextHop": "gateway"},
            {"DestinationPrefix": "10.9.0.0/16", "NextHop": "fe80::1"},
            {"DestinationPrefix": "nowhere", "NextHop": "10.0.0.1"}],
        "Policies": [
            {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 80,
                "VIP": "fd00::1"}},
            {"Type": "OutBoundNAT", "Settings": {"VirtualIP": "10.0.0.9", "Flags": 2,
                "Exceptions": ["no:address"], "Destinations": ["10.0.0.0/8,10.1.0.0/16"]}},
            {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.0.0.0/8", "NextHop": " "}},
            {"Type": "ProviderAddress", "Settings": {"ProviderAddress": ""}}]}));
    assert_eq!(r.network, None);
    assert_eq!(r.ipv4(), None);
    assert_eq!(
        errors(&r),
        [
            r#"IpConfigurations[0].IpAddress: expected an IP address, found "ten""#,
            r#"MacAddress: expected a MAC address, found "00-15-5D""#,
            r#"Routes[0].NextHop: expected an IPv4 address, found "gateway""#,
            r#"Routes[1].NextHop: expected an IPv4 address, found "fe80::1""#,
            r#"Routes[2].DestinationPrefix: expected a CIDR, found "nowhere""#,
            r#"Policies[0].Settings.VIP: expected an IPv4 address, found "fd00::1""#,
            r#"Policies[1].Settings.VirtualIP: expected an IPv6 address, found "10.0.0.9""#,
            r#"Policies[1].Settings.Exceptions[0]: expected an IPv6 address or CIDR, found "no:address""#,
            r#"Policies[1].Settings.Destinations[0]: expected an IPv6 address or CIDR, found "10.0.0.0/8,10.1.0.0/16""#,
            r#"Policies[2].Settings.NextHop: expected an IPv4 address, found " ""#,
            r#"Policies[3].Settings.ProviderAddress: expected an IP address, found """#,
        ]
    );
    // An address of the other family is named, so validation can say which family was meant.
    assert_eq!(
        r.routes[1].next_hop.as_ref().unwrap_err().other_family,
        "fe80::1".parse().ok()
    );
    assert_eq!(r.routes[0].next_hop.as_ref().unwrap_err().other_family, None);
    // The default route of the family is still found, its next hop an error.
    assert_eq!(r.default_route(false).map(|(j, _)| j), Some(0));
}

#[test]
fn an_empty_mac_is_an_error_until_validation_gives_one() {
    let r = repr(json!({"IpConfigurations": [{"IpAddress": "10.0.0.5"}]}));
    assert_eq!(errors(&r), [r#"MacAddress: expected a MAC address, found """#]);
}

#[test]
fn the_first_address_of_each_family_is_found_past_the_others() {
    let r = repr(
        json!({"IpConfigurations": [{"IpAddress": "fd00::5"}, {"IpAddress": "ten"},
        {"IpAddress": "10.0.0.5"}, {"IpAddress": "10.0.0.6"}, {"IpAddress": "fd00::6"}]}),
    );
    assert_eq!(r.ip_of(false), "10.0.0.5".parse().ok());
    assert_eq!(r.ip_of(true), "fd00::5".parse().ok());
    let v4_only = repr(json!({"IpConfigurations": [{"IpAddress": "10.0.0.5"}]}));
    assert_eq!(v4_only.ip_of(true), None);
}

#[test]
fn a_vip_of_the_other_family_names_the_address_it_holds() {
    let r = repr(json!({"Policies": [
        {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 80,
            "VIP": "fd00::1"}},
        {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 80,
            "VIP": "vip"}},
        {"Type": "OutBoundNAT", "Settings": {"VirtualIP": "10.0.0.9", "Flags": 2}}]}));
    let other_family = |i: usize| -> Option<IpAddr> {
        match &r.policies[i] {
            EndpointPolicyRepr::PortMapping(m) => m.vip.as_ref().unwrap_err().other_family,
            EndpointPolicyRepr::OutboundNat(o) => o.virtual_ip.as_ref().unwrap_err().other_family,
            p => panic!("{p:?}"),
        }
    };
    // Validation says which family was meant when the value is an address at all.
    assert_eq!(other_family(0), "fd00::1".parse().ok());
    assert_eq!(other_family(1), None);
    assert_eq!(other_family(2), "10.0.0.9".parse().ok());
}

#[test]
fn policy_settings_read_as_sent() {
    let r = repr(json!({"Policies": [
        {"Type": "QOS", "Settings": {"MaximumOutgoingBandwidthInBytes": 1000}},
        {"Type": "PortMapping", "Settings": {"Protocol": 17, "InternalPort": 53, "ExternalPort": 53,
            "VIP": "fd00::53", "Flags": 2}},
        {"Type": "PortMapping", "Settings": {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080}}]}));
    assert_eq!(r.policies[0], EndpointPolicyRepr::Qos(Some(1000)));
    let flags = |i: usize| match &r.policies[i] {
        EndpointPolicyRepr::PortMapping(m) => (m.v6, m.local_routed),
        p => panic!("{p:?}"),
    };
    assert_eq!(flags(1), (true, false), "flag IPv6 (2) only");
    assert_eq!(flags(2), (false, false), "no flags");
}

#[test]
fn an_acl_policy_that_does_not_read_is_an_endpoint_error() {
    let r = repr(json!({"MacAddress": "00-15-5D-00-00-05", "Policies": [
        {"Type": "ACL", "Settings": {"Action": "Permit", "Direction": "In"}}]}));
    assert_eq!(
        errors(&r),
        [r#"Policies[0].Settings.Action: expected Allow, Block or Pass, found "Permit""#]
    );
}
