//! Every policy type of hns-schema.md §3 decodes into its typed settings, encodes back to the v2
//! envelope, and decodes again to the same value, with unknown fields preserved.

use hnsim_model::schema::*;
use serde_json::{json, Value};

/// (type name, settings with every §3 field, plus one unknown field).
fn endpoint_samples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "PortMapping",
            json!({"Protocol":6,"InternalPort":80,"ExternalPort":8080,"VIP":"10.0.0.9","Flags":5}),
        ),
        (
            "ACL",
            json!({"Id":"r1","Protocols":"6,17","Action":"Block","Direction":"Out","LocalAddresses":"10.0.0.0/8","RemoteAddresses":"1.2.3.4","LocalPorts":"80-90","RemotePorts":"443","RuleType":"Switch","Priority":200}),
        ),
        ("QOS", json!({"MaximumOutgoingBandwidthInBytes":1000000})),
        ("L2Driver", json!({})),
        (
            "OutBoundNAT",
            json!({"VirtualIP":"10.0.0.4","Exceptions":["10.0.0.0/8"],"Destinations":["10.0.0.5"],"Flags":2,"MaxPortPoolUsage":50}),
        ),
        (
            "SDNRoute",
            json!({"DestinationPrefix":"10.96.0.0/12","NextHop":"10.0.0.1","NeedEncap":true,"AutomaticEndpointMonitor":true}),
        ),
        (
            "L4Proxy",
            json!({"IP":"127.0.0.1","Port":"15001","Protocol":6,"Exceptions":["10.0.0.1"],"Destination":"10.0.0.9","OutboundNAT":true}),
        ),
        (
            "L4WFPPROXY",
            json!({"InboundProxyPort":"15006","OutboundProxyPort":"15001","FilterTuple":{"Protocols":"6","LocalAddresses":"1.1.1.1","RemoteAddresses":"2.2.2.2","LocalPorts":"1","RemotePorts":"2","Priority":3},"UserSID":"S-1-5-18","InboundExceptions":{"IpAddressExceptions":["1.2.3.4"],"PortExceptions":["22"]},"OutboundExceptions":{"PortExceptions":["53"]}}),
        ),
        ("PortName", json!({"Name":"port1"})),
        ("EncapOverhead", json!({"Overhead":50})),
        (
            "Iov",
            json!({"IovOffloadWeight":100,"QueuePairsRequested":4,"InterruptModeration":200}),
        ),
        ("ProviderAddress", json!({"ProviderAddress":"10.123.74.74"})),
        (
            "InterfaceConstraint",
            json!({"InterfaceGuid":"43FEC9AD-655D-4569-BEB9-0E51CA9D1103","InterfaceLuid":123,"InterfaceIndex":7,"InterfaceMediaType":6,"InterfaceAlias":"Ethernet","InterfaceDescription":"NIC"}),
        ),
        (
            "TierAcl",
            json!({"Name":"tier1","Direction":"In","Order":1001,"TierAclRules":[{"Id":"a","Protocols":"6","TierAclRuleAction":"Pass","LocalAddresses":"1.1.1.1","RemoteAddresses":"2.2.2.2","LocalPorts":"80","RemotePorts":"81","Priority":5}]}),
        ),
        ("Encryption", json!({"Something":1})),
        ("VLAN", json!({"IsolationId":7})),
        ("InterfaceParameters", json!({"Mtu":1450})),
    ]
}

fn network_samples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "SourceMacAddress",
            json!({"SourceMacAddress":"00-15-5D-00-00-01"}),
        ),
        ("NetAdapterName", json!({"NetworkAdapterName":"Ethernet 2"})),
        (
            "VSwitchExtension",
            json!({"ExtensionID":"E9B59CFA-2BE1-4B21-828F-B6FBDBDDC017","Enable":true}),
        ),
        ("DrMacAddress", json!({"Address":"00-15-5D-BB-6E-B1"})),
        ("AutomaticDNS", json!({"Enable":true})),
        (
            "InterfaceConstraint",
            json!({"InterfaceIndex":4,"InterfaceAlias":"eth0"}),
        ),
        ("ProviderAddress", json!({"ProviderAddress":"10.0.0.4"})),
        (
            "RemoteSubnetRoute",
            json!({"DestinationPrefix":"10.244.2.0/24","IsolationId":4096,"ProviderAddress":"10.0.0.5","DistributedRouterMacAddress":"00-15-5D-BB-6E-B1"}),
        ),
        ("VxlanPort", json!({"Port":4789})),
        ("HostRoute", json!({})),
        (
            "SetPolicy",
            json!({"Id":"s1","Name":"set1","PolicyType":"NESTEDIPSET","Values":"a,b"}),
        ),
        (
            "L4Proxy",
            json!({"IP":"127.0.0.1","Port":"15001","Destination":""}),
        ),
        (
            "LayerConstraint",
            json!({"LayerId":"395B983F-DCC7-4E77-BF04-F01084CFC7DD"}),
        ),
        (
            "NetworkACL",
            json!({"Protocols":"17","Action":"Allow","Direction":"In","RuleType":"Host","Priority":10}),
        ),
        (
            "NeighborDiscovery",
            json!({"TargetIpPrefix":"10.0.0.0/24","SenderIpAddress":"10.0.0.1","SenderMacAddress":"00-15-5D-00-00-02"}),
        ),
    ]
}

fn subnet_samples() -> Vec<(&'static str, Value)> {
    vec![
        ("VLAN", json!({"IsolationId":12})),
        ("VSID", json!({"IsolationId":4096})),
    ]
}

fn with_unknown(settings: &Value) -> Value {
    let mut s = settings.clone();
    s["FutureField"] = json!({"Nested":[1,2]});
    s
}

/// decode → encode → decode is stable; the encoding is exactly the input (canonical input);
/// the type is modelled (not Unknown); the unknown field survives.
fn check_roundtrip<P>(type_name: &str, settings: &Value, unknown: impl Fn(&P) -> bool)
where
    P: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let doc = json!({"Type": type_name, "Settings": with_unknown(settings)});
    let p: P = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{type_name}: {e}"));
    assert!(!unknown(&p), "{type_name} decoded as Unknown: {p:?}");
    let out = serde_json::to_value(&p).unwrap();
    assert_eq!(out, doc, "{type_name}: encoding differs from the canonical input");
    let again: P = serde_json::from_value(out).unwrap();
    assert_eq!(again, p, "{type_name}: decode(encode(p)) != p");
}

#[test]
fn every_endpoint_policy_round_trips() {
    let samples = endpoint_samples();
    assert_eq!(
        samples.len(),
        EndpointPolicy::TYPE_NAMES.len(),
        "a sample per modelled type"
    );
    for (t, s) in &samples {
        check_roundtrip::<EndpointPolicy>(t, s, |p| matches!(p, EndpointPolicy::Unknown { .. }));
    }
}

#[test]
fn every_network_policy_round_trips() {
    let samples = network_samples();
    assert_eq!(samples.len(), NetworkPolicy::TYPE_NAMES.len());
    for (t, s) in &samples {
        check_roundtrip::<NetworkPolicy>(t, s, |p| matches!(p, NetworkPolicy::Unknown { .. }));
    }
}

#[test]
fn every_subnet_policy_round_trips() {
    for (t, s) in &subnet_samples() {
        check_roundtrip::<SubnetPolicy>(t, s, |p| matches!(p, SubnetPolicy::Unknown { .. }));
    }
}

#[test]
fn settings_fields_are_typed() {
    let p: EndpointPolicy = serde_json::from_value(json!({"Type":"TierAcl","Settings":{"Name":"t","Direction":"out","Order":"7","TierAclRules":[{"TierAclRuleAction":"pass","Protocols":"tcp"}]}})).unwrap();
    let EndpointPolicy::TierAcl(t) = p else {
        panic!("not TierAcl: {p:?}")
    };
    assert_eq!((t.direction.as_str(), t.order), ("Out", 7));
    assert_eq!(t.tier_acl_rules[0].tier_acl_rule_action, "Pass");
    assert_eq!(t.tier_acl_rules[0].protocols, "6");

    let p: NetworkPolicy = serde_json::from_value(
        json!({"Type":"SetPolicy","Settings":{"Id":"x","Name":"n","PolicyType":1,"Values":"10.0.0.1"}}),
    )
    .unwrap();
    let NetworkPolicy::SetPolicy(s) = p else { panic!() };
    assert_eq!(s.policy_type, "NESTEDIPSET");

    let p: EndpointPolicy =
        serde_json::from_value(json!({"Type":"Iov","Settings":{"InterruptModeration":"Medium"}})).unwrap();
    let EndpointPolicy::Iov(i) = p else { panic!() };
    assert_eq!(i.interrupt_moderation, iov_interrupt_moderation::MEDIUM);
    for (name, want) in [
        ("IovInterruptModerationHigh", iov_interrupt_moderation::HIGH),
        (" iovinterruptmoderationoff ", iov_interrupt_moderation::OFF),
        ("300", iov_interrupt_moderation::HIGH),
    ] {
        let p: EndpointPolicy =
            serde_json::from_value(json!({"Type":"Iov","Settings":{"InterruptModeration":name}})).unwrap();
        let EndpointPolicy::Iov(i) = p else { panic!() };
        assert_eq!(i.interrupt_moderation, want, "{name:?}");
    }
    let bad = serde_json::from_value::<EndpointPolicy>(
        json!({"Type":"Iov","Settings":{"InterruptModeration":"Turbo"}}),
    );
    assert!(bad.unwrap_err().to_string().contains("InterruptModeration"));
}

/// hcsshim has no `omitempty` on these, and Go never omits a struct: they are always emitted
/// (hcsshim `hcn/hcnpolicy.go`).
#[test]
fn fields_without_omitempty_are_always_emitted() {
    let enc =
        |doc: Value| serde_json::to_value(serde_json::from_value::<NetworkPolicy>(doc).unwrap()).unwrap();
    assert_eq!(
        enc(json!({"Type":"VxlanPort"})),
        json!({"Type":"VxlanPort","Settings":{"Port":0}})
    );
    assert_eq!(
        enc(json!({"Type":"SetPolicy","Settings":{"Id":"s","Name":"n","PolicyType":"IPSET"}})),
        json!({"Type":"SetPolicy","Settings":{"Id":"s","Name":"n","PolicyType":"IPSET","Values":""}})
    );
    let p: EndpointPolicy =
        serde_json::from_value(json!({"Type":"L4WFPPROXY","Settings":{"InboundProxyPort":"15006"}})).unwrap();
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"Type":"L4WFPPROXY","Settings":{"InboundProxyPort":"15006","FilterTuple":{},"InboundExceptions":{},"OutboundExceptions":{}}})
    );
}

#[test]
fn unknown_policy_type_is_kept_verbatim() {
    let doc = json!({"Type":"FancyNewPolicy","Settings":{"A":1,"B":[true]}});
    let p: EndpointPolicy = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(p.type_name(), "FancyNewPolicy");
    assert_eq!(serde_json::to_value(&p).unwrap(), doc);
    let n: NetworkPolicy = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(serde_json::to_value(&n).unwrap(), doc);
    let s: SubnetPolicy = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(serde_json::to_value(&s).unwrap(), doc);
}

#[test]
fn type_names_match_in_any_case() {
    for t in ["portmapping", "PORTMAPPING", "PortMapping", "NAT", "nat"] {
        let p: EndpointPolicy =
            serde_json::from_value(json!({"Type":t,"Settings":{"InternalPort":80}})).unwrap();
        assert_eq!(p.type_name(), "PortMapping", "{t}");
    }
    for t in ["SDNRoute", "SdnRoute", "SDNROUTE", "ROUTE"] {
        let p: EndpointPolicy =
            serde_json::from_value(json!({"Type":t,"Settings":{"NextHop":"1.1.1.1"}})).unwrap();
        assert!(matches!(p, EndpointPolicy::SdnRoute(_)), "{t}");
    }
    let p: NetworkPolicy =
        serde_json::from_value(json!({"Type":"INTERFACECONSTRAINT","Settings":{"InterfaceIndex":3}}))
            .unwrap();
    assert!(matches!(p, NetworkPolicy::InterfaceConstraint(c) if c.interface_index == 3));
}

#[test]
fn protocol_as_number_string_or_name() {
    for proto in [json!(6), json!("6"), json!("TCP"), json!("tcp"), json!("Tcp")] {
        let p: EndpointPolicy =
            serde_json::from_value(json!({"Type":"PortMapping","Settings":{"Protocol":proto.clone()}}))
                .unwrap();
        let EndpointPolicy::PortMapping(pm) = p else {
            panic!()
        };
        assert_eq!(pm.protocol, 6, "{proto}");
    }
    let p: EndpointPolicy = serde_json::from_value(
        json!({"Type":"ACL","Settings":{"Protocols":"tcp,UDP,58","Action":"allow","Direction":"in"}}),
    )
    .unwrap();
    let EndpointPolicy::Acl(a) = p else { panic!() };
    assert_eq!(
        (a.protocols.as_str(), a.action.as_str(), a.direction.as_str()),
        ("6,17,58", "Allow", "In")
    );
}

#[test]
fn both_spellings_where_sources_conflict() {
    let a: EndpointPolicy = serde_json::from_value(json!({"Type":"L4Proxy","Settings":{"ExceptionList":["1.1.1.1"],"OutboundNat":true,"Destination":"d"}})).unwrap();
    let b: EndpointPolicy = serde_json::from_value(
        json!({"Type":"L4Proxy","Settings":{"Exceptions":["1.1.1.1"],"OutboundNAT":true,"Destination":"d"}}),
    )
    .unwrap();
    assert_eq!(a, b);
    let EndpointPolicy::L4Proxy(l) = &a else { panic!() };
    assert!(l.outbound_nat && l.extra.is_empty());
    let a: EndpointPolicy =
        serde_json::from_value(json!({"Type":"OutBoundNAT","Settings":{"ExceptionList":["10.0.0.0/8"]}}))
            .unwrap();
    let b: EndpointPolicy =
        serde_json::from_value(json!({"Type":"OutBoundNAT","Settings":{"Exceptions":["10.0.0.0/8"]}}))
            .unwrap();
    assert_eq!(a, b);
    // Output uses hcsshim's spelling.
    assert_eq!(
        serde_json::to_value(&a).unwrap()["Settings"]["Exceptions"],
        json!(["10.0.0.0/8"])
    );
}

#[test]
fn settings_keys_in_any_case_and_stale_data_envelope() {
    let p: EndpointPolicy = serde_json::from_value(
        json!({"type":"PortMapping","data":{"internalport":80,"EXTERNALPORT":"8080"}}),
    )
    .unwrap();
    let EndpointPolicy::PortMapping(pm) = p else {
        panic!()
    };
    assert_eq!((pm.internal_port, pm.external_port), (80, 8080));
    assert!(pm.extra.is_empty());
}

#[test]
fn empty_settings_print_as_hcsshim_does() {
    // Fields hcsshim tags `omitempty` vanish when empty; the ones it always emits stay.
    for (t, want) in [
        ("ProviderAddress", json!({"Type":"ProviderAddress"})),
        ("EncapOverhead", json!({"Type":"EncapOverhead"})),
        ("PortName", json!({"Type":"PortName"})),
        ("PortMapping", json!({"Type":"PortMapping"})),
        (
            "QOS",
            json!({"Type":"QOS","Settings":{"MaximumOutgoingBandwidthInBytes":0}}),
        ),
        (
            "ACL",
            json!({"Type":"ACL","Settings":{"Action":"","Direction":""}}),
        ),
    ] {
        let p: EndpointPolicy = serde_json::from_value(json!({"Type": t})).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), want, "{t}");
    }
    for (t, want) in [
        ("HostRoute", json!({"Type":"HostRoute"})),
        ("DrMacAddress", json!({"Type":"DrMacAddress"})),
        (
            "RemoteSubnetRoute",
            json!({"Type":"RemoteSubnetRoute","Settings":{"DestinationPrefix":"","IsolationId":0,"ProviderAddress":"","DistributedRouterMacAddress":""}}),
        ),
    ] {
        let p: NetworkPolicy = serde_json::from_value(json!({"Type": t})).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), want, "{t}");
    }
    let p: SubnetPolicy = serde_json::from_value(json!({"Type": "VSID"})).unwrap();
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"Type":"VSID","Settings":{"IsolationId":0}})
    );
}
