//! Property tests: arbitrary JSON built from HNS vocabulary never panics the decoders, and the
//! v2 output form is a fixed point (decode(encode(d)) == d).

use hnsim_model::document::*;
use proptest::prelude::*;
use serde_json::{Map, Value};

const KEYS: &[&str] = &[
    "ID",
    "Id",
    "id",
    "Name",
    "Type",
    "type",
    "Settings",
    "Policies",
    "Ipams",
    "Subnets",
    "IpAddressPrefix",
    "ipAddressPrefix",
    "Routes",
    "NextHop",
    "DestinationPrefix",
    "MacPool",
    "Ranges",
    "MacPools",
    "StartMacAddress",
    "Dns",
    "ServerList",
    "Flags",
    "SchemaVersion",
    "Major",
    "Minor",
    "HostComputeNetwork",
    "IpConfigurations",
    "IpAddress",
    "PrefixLength",
    "MacAddress",
    "VirtualNetwork",
    "IPAddress",
    "IsRemoteEndpoint",
    "EncapOverhead",
    "GatewayAddress",
    "AddressPrefix",
    "NamespaceId",
    "Resources",
    "Data",
    "CompartmentId",
    "IsDefault",
    "ResourceList",
    "HostComputeEndpoints",
    "PortMappings",
    "Protocol",
    "InternalPort",
    "ExternalPort",
    "FrontendVIPs",
    "SourceVIP",
    "References",
    "VIPs",
    "ILB",
    "Setting",
    "Exceptions",
    "ExceptionList",
    "VIP",
    "PA",
    "VSID",
    "VLAN",
    "IsolationId",
    "Output",
    "Success",
    "Error",
    "Health",
    "Extra",
    "Unknown1",
    "TierAclRules",
    "FilterTuple",
];

const STRINGS: &[&str] = &[
    "",
    "NAT",
    "nat",
    "Overlay",
    "L2Bridge",
    "HostDefault",
    "Static",
    "PortMapping",
    "ACL",
    "ELB",
    "ROUTE",
    "PA",
    "VSID",
    "VLAN",
    "OutBoundNAT",
    "PROXY",
    "SDNRoute",
    "TierAcl",
    "Iov",
    "SetPolicy",
    "TCP",
    "udp",
    "6",
    "65536",
    "10.0.0.0/24",
    "10.0.0.1",
    "::/0",
    "fd00::1",
    "00:15:5d:00:00:01",
    "0e-2a-0a-f4-02-8d",
    "404947ac-1234-5678-9abc-def012345678",
    "/endpoints/404947ac-1234-5678-9abc-def012345678",
    "Endpoint",
    "Add",
    "true",
    "x,y",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(6),
            Just(-1),
            Just(70000),
            Just(4096),
            any::<i64>()
        ]
        .prop_map(Value::from),
        Just(Value::from(2.5)),
        proptest::sample::select(STRINGS).prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.to_string(), v);
                }
                Value::Object(m)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic(v in json_value()) {
        let _ = decode_any_value(&v);
        let _ = decode_network_value(&v);
        let _ = decode_endpoint_value(&v);
        let _ = decode_namespace_value(&v);
        let _ = decode_load_balancer_value(&v);
        let _ = decode_route_value(&v);
        let _ = decode_query(&v.to_string());
        let _ = decode_modify(&v.to_string());
    }

    #[test]
    fn network_output_is_a_fixed_point(v in json_value()) {
        if let Ok(n) = decode_network_value(&v) {
            let out = encode_network(&n);
            let again = decode_network_value(&out).unwrap();
            prop_assert_eq!(again, n, "output: {}", out);
        }
    }

    /// Every decoded document's output reads back, with the decoder of its kind, to itself.
    /// (Kind detection itself is not a fixed point: an empty namespace prints as `{ID, SchemaVersion}`,
    /// which names no kind.)
    #[test]
    fn any_output_is_a_fixed_point(v in json_value()) {
        if let Ok(docs) = decode_any_value(&v) {
            for d in docs {
                let out = encode_document(&d);
                let again = redecode(&d, &out);
                prop_assert!(again.is_ok(), "output {} fails: {:?}", out, again);
                prop_assert_eq!(again.unwrap(), d, "output: {}", out);
            }
        }
    }
}

fn redecode(d: &HnsDocument, out: &Value) -> Result<HnsDocument, DocError> {
    Ok(match d {
        HnsDocument::Network(_) => HnsDocument::Network(decode_network_value(out)?),
        HnsDocument::Endpoint(_) => HnsDocument::Endpoint(decode_endpoint_value(out)?),
        HnsDocument::Namespace(_) => HnsDocument::Namespace(decode_namespace_value(out)?),
        HnsDocument::LoadBalancer(_) => HnsDocument::LoadBalancer(decode_load_balancer_value(out)?),
        HnsDocument::Route(_) => HnsDocument::Route(decode_route_value(out)?),
    })
}
