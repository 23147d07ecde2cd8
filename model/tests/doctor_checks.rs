//! Every doctor check: one test that makes it fire and one that keeps it silent on a near miss.
//! The states are small healthy nodes (an overlay and an L2Bridge one) with one thing changed.

use hnsim_model::doctor::{self, diff, Context, Finding};
use hnsim_model::document::decode_any_value;
use hnsim_model::state::{Hns, HostSettings};
use serde_json::{json, Value};

const NET_O: &str = "3F0E5C9A-5B7D-4C1E-9A2B-6D8E0F1A2B01";
const NET_B: &str = "3F0E5C9A-5B7D-4C1E-9A2B-6D8E0F1A2B02";
const SV: &str = "6A1B2C3D-0000-4A00-8000-00000000A002";
const POD: &str = "6A1B2C3D-0000-4A00-8000-00000000A005";
const REM: &str = "6A1B2C3D-0000-4A00-8000-00000000B207";
const BP5: &str = "6A1B2C3D-0000-4A00-8000-00000000C305";
const BP6: &str = "6A1B2C3D-0000-4A00-8000-00000000C306";
const LB_O: &str = "8D000000-0000-4000-8000-000000000020";
const LB_B: &str = "8D000000-0000-4000-8000-000000000030";
const LB_N: &str = "8D000000-0000-4000-8000-000000000031";

fn onat(exc: &[&str]) -> Value {
    json!({"Type": "OutBoundNAT", "Settings": {"Exceptions": exc}})
}

/// A healthy flannel-style overlay node and a healthy L2Bridge network on the same host.
fn healthy() -> Vec<Value> {
    vec![
        json!({"ID": NET_O, "Name": "vxlan0", "Type": "Overlay", "Flags": 0,
            "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
                "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}],
                "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}],
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.11"}},
                {"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.2.0/24", "IsolationId": 4096,
                    "ProviderAddress": "10.0.0.12", "DistributedRouterMacAddress": "00-15-5D-AA-02-01"}}]}),
        json!({"ID": NET_B, "Name": "cbr0", "Type": "L2Bridge",
            "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.3.0/24",
                "Routes": [{"NextHop": "10.244.3.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
        json!({"ID": SV, "MacAddress": "00-15-5D-52-A0-02", "HostComputeNetwork": NET_O, "IpConfigurations": [{"IpAddress": "10.244.1.2"}]}),
        json!({"ID": POD, "MacAddress": "00-15-5D-52-A0-05", "HostComputeNetwork": NET_O, "IpConfigurations": [{"IpAddress": "10.244.1.5"}],
            "Policies": [onat(&["10.244.0.0/16", "10.96.0.0/12"]), {"Type": "EncapOverhead", "Settings": {"Overhead": 50}}]}),
        json!({"ID": REM, "MacAddress": "02-11-0A-F4-02-07", "HostComputeNetwork": NET_O, "IpConfigurations": [{"IpAddress": "10.244.2.7"}], "Flags": 1,
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}),
        json!({"ID": BP5, "MacAddress": "00-15-5D-52-C0-05", "HostComputeNetwork": NET_B, "IpConfigurations": [{"IpAddress": "10.244.3.5"}],
            "Policies": [onat(&["10.244.0.0/16", "10.96.0.0/12", "10.0.0.0/24"])]}),
        json!({"ID": BP6, "MacAddress": "00-15-5D-52-C0-06", "HostComputeNetwork": NET_B, "IpConfigurations": [{"IpAddress": "10.244.3.6"}],
            "Policies": [onat(&["10.244.0.0/16", "10.96.0.0/12", "10.0.0.0/24"])]}),
        json!({"ID": LB_O, "HostComputeEndpoints": [POD, REM], "SourceVIP": "10.244.1.2", "FrontendVIPs": ["10.96.0.20"],
            "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}),
        json!({"ID": LB_B, "HostComputeEndpoints": [BP5], "SourceVIP": "10.0.0.13", "FrontendVIPs": ["10.96.0.30"],
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]}),
        json!({"ID": LB_N, "HostComputeEndpoints": [BP5], "SourceVIP": "10.0.0.13",
            "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 30080, "Flags": 2}]}),
    ]
}

fn load(docs: &[Value]) -> (Hns, Context) {
    let mut hns = Hns::new(HostSettings::default(), 7);
    let docs: Vec<_> = docs.iter().flat_map(|d| decode_any_value(d).unwrap()).collect();
    let rep = hns.import(docs);
    let ctx = Context {
        node_ip: Some("10.0.0.11".parse().unwrap()),
        import_problems: rep.problems,
        ..Context::default()
    };
    (hns, ctx)
}

fn by_id<'a>(docs: &'a mut [Value], id: &str) -> &'a mut Value {
    docs.iter_mut().find(|d| d["ID"] == id).unwrap()
}

fn findings(name: &str, docs: &[Value], tweak: impl FnOnce(&mut Context)) -> Vec<Finding> {
    let (hns, mut ctx) = load(docs);
    tweak(&mut ctx);
    doctor::run_one(name, &hns, &ctx).unwrap_or_else(|| panic!("no check {name}"))
}

#[test]
fn the_healthy_node_has_no_findings() {
    let (hns, ctx) = load(&healthy());
    assert_eq!(doctor::run(&hns, &ctx), vec![]);
    assert_eq!(doctor::CHECKS.len(), 21);
}

/// `check!(name, |docs| change that fires, |docs| near miss that stays silent, what the
/// finding's message must contain)`.
macro_rules! check {
    ($test:ident, $name:literal, $fire:expr, $silent:expr, $says:literal) => {
        check!($test, $name, $fire, $silent, $says, |_c: &mut Context| {});
    };
    ($test:ident, $name:literal, $fire:expr, $silent:expr, $says:literal, $ctx:expr) => {
        mod $test {
            use super::*;
            #[test]
            fn fires() {
                let mut d = healthy();
                let f: fn(&mut Vec<Value>) = $fire;
                f(&mut d);
                let got = findings($name, &d, $ctx);
                assert_eq!(got.len(), 1, "{got:#?}");
                assert!(got[0].message.contains($says), "{:?}", got[0].message);
                assert_eq!(got[0].check, $name);
            }
            #[test]
            fn stays_silent() {
                let mut d = healthy();
                let f: fn(&mut Vec<Value>) = $silent;
                f(&mut d);
                let got = findings($name, &d, $ctx);
                assert_eq!(got, vec![], "{got:#?}");
            }
        }
    };
}

check!(
    dangling_reference,
    "dangling-reference",
    |d| by_id(d, BP6)["HostComputeNetwork"] = json!("99999999-0000-4000-8000-000000000000"),
    |d| by_id(d, LB_B)["HostComputeEndpoints"] = json!([BP5, "99999999-0000-4000-8000-000000000000"]),
    "not in the dump"
);

check!(
    stale_remote_endpoint,
    "stale-remote-endpoint",
    |d| {
        d.push(json!({"ID": "6A1B2C3D-0000-4A00-8000-00000000B205", "HostComputeNetwork": NET_O, "Flags": 1,
        "IpConfigurations": [{"IpAddress": "10.244.1.5"}], "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}))
    },
    |d| {
        d.push(json!({"ID": "6A1B2C3D-0000-4A00-8000-00000000B205", "HostComputeNetwork": NET_O, "Flags": 1,
        "IpConfigurations": [{"IpAddress": "10.244.2.5"}], "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}))
    },
    "both hold 10.244.1.5"
);

check!(
    duplicate_lb_frontend,
    "duplicate-lb-frontend",
    |d| {
        d.push(json!({"ID": "8D000000-0000-4000-8000-000000000099", "HostComputeEndpoints": [BP6], "FrontendVIPs": ["10.96.0.30"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 80, "ExternalPort": 80}]}))
    },
    // Same VIP and port, other protocol: allowed.
    |d| {
        d.push(json!({"ID": "8D000000-0000-4000-8000-000000000099", "HostComputeEndpoints": [BP6], "FrontendVIPs": ["10.96.0.30"],
        "PortMappings": [{"Protocol": 17, "InternalPort": 80, "ExternalPort": 80}]}))
    },
    "2 load balancers on 10.96.0.30:80/tcp"
);

check!(
    lb_missing_backend,
    "lb-missing-backend",
    |d| by_id(d, LB_B)["HostComputeEndpoints"] = json!([BP5, "99999999-0000-4000-8000-000000000000"]),
    |d| by_id(d, LB_B)["HostComputeEndpoints"] = json!([BP5, BP6]),
    "1 of 2 backend(s) do not exist"
);

check!(
    lb_without_backends,
    "lb-without-backends",
    |d| by_id(d, LB_B)["HostComputeEndpoints"] = json!([]),
    |d| by_id(d, LB_B)["HostComputeEndpoints"] = json!([BP6]),
    "no backends"
);

check!(
    outbound_nat_wide_exception,
    "outbound-nat-wide-exception",
    |d| by_id(d, BP5)["Policies"] = json!([onat(&["10.244.0.0/16", "10.96.0.0/12", "10.0.0.0/8"])]),
    // /12 exactly is the default service CIDR: not too wide.
    |d| by_id(d, BP5)["Policies"] = json!([onat(&["10.244.0.0/16", "10.96.0.0/12", "10.0.0.0/12"])]),
    "10.0.0.0/8 is wider than /12"
);

check!(
    outbound_nat_missing_pod_subnet,
    "outbound-nat-missing-pod-subnet",
    |d| by_id(d, BP5)["Policies"] = json!([onat(&["10.96.0.0/12"])]),
    // A loopback-DSR rule (Destinations) is not the pod's SNAT rule.
    |d| by_id(d, BP5)["Policies"] = json!([onat(&["10.244.3.0/24", "10.96.0.0/12"]),
        {"Type": "OutBoundNAT", "Settings": {"Destinations": ["10.244.3.5"]}}]),
    "do not cover the pod subnet 10.244.3.0/24"
);

check!(
    overlay_remote_without_pa,
    "overlay-remote-without-pa",
    |d| by_id(d, REM)["Policies"] = json!([]),
    // A remote endpoint on L2Bridge has no PA by design.
    |d| d.push(
        json!({"ID": "6A1B2C3D-0000-4A00-8000-00000000C409", "HostComputeNetwork": NET_B, "Flags": 1,
        "IpConfigurations": [{"IpAddress": "10.244.4.9"}]})
    ),
    "without a ProviderAddress"
);

check!(
    vsid_mismatch,
    "vsid-mismatch",
    |d| by_id(d, NET_O)["Policies"][1]["Settings"]["IsolationId"] = json!(4097),
    |d| by_id(d, NET_O)["Policies"][1]["Settings"]["DestinationPrefix"] = json!("10.244.9.0/24"),
    "IsolationId 4097"
);

check!(
    vxlan_parameters,
    "vxlan-parameters",
    |d| {
        let n = by_id(d, NET_O);
        n["Ipams"][0]["Subnets"][0]["Policies"][0]["Settings"]["IsolationId"] = json!(4095);
        n["Policies"][1]["Settings"]["IsolationId"] = json!(4095);
    },
    |d| by_id(d, NET_O)["Policies"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Type": "VxlanPort", "Settings": {"Port": 4789}})),
    "VSID 4095"
);

check!(
    remote_subnet_route,
    "remote-subnet-route",
    |d| by_id(d, NET_O)["Policies"][1]["Settings"]["ProviderAddress"] = json!("10.0.0.11"),
    |d| {
        by_id(d, NET_O)["Policies"].as_array_mut().unwrap().push(json!({"Type": "RemoteSubnetRoute", "Settings": {
        "DestinationPrefix": "10.244.4.0/24", "IsolationId": 4096, "ProviderAddress": "10.0.0.14", "DistributedRouterMacAddress": "00-15-5D-AA-04-01"}}))
    },
    "points at this node's own address 10.0.0.11"
);

mod remote_subnet_route_overlap {
    use super::*;
    #[test]
    fn fires_on_overlapping_routes_and_the_local_subnet() {
        let mut d = healthy();
        let p = by_id(&mut d, NET_O)["Policies"].as_array_mut().unwrap();
        p.push(json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.0.0/16", "IsolationId": 4096,
            "ProviderAddress": "10.0.0.14", "DistributedRouterMacAddress": "00-15-5D-AA-04-01"}}));
        let got = findings("remote-subnet-route", &d, |_| {});
        let msgs: Vec<&str> = got.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].contains("10.244.2.0/24 and 10.244.0.0/16 overlap"),
            "{msgs:?}"
        );
        assert!(
            msgs[1].contains("overlaps the local pod subnet 10.244.1.0/24"),
            "{msgs:?}"
        );
    }
}

check!(
    pod_ip_is_gateway,
    "pod-ip-is-gateway",
    |d| by_id(d, BP6)["IpConfigurations"] = json!([{"IpAddress": "10.244.3.1"}]),
    |d| by_id(d, BP6)["IpConfigurations"] = json!([{"IpAddress": "10.244.3.2"}]),
    "holds 10.244.3.1, the gateway"
);

check!(
    mtu_encap_overhead,
    "mtu-encap-overhead",
    |d| by_id(d, POD)["Policies"][1]["Settings"]["Overhead"] = json!(0),
    |d| by_id(d, POD)["Policies"][1]["Settings"]["Overhead"] = json!(50),
    "EncapOverhead 0"
);

mod mtu_underlay {
    use super::*;
    #[test]
    fn fires_below_1500_and_not_at_1500() {
        let got = findings("mtu-encap-overhead", &healthy(), |c| c.underlay_mtu = 1400);
        assert_eq!(got.len(), 1);
        assert!(got[0].message.contains("underlay MTU 1400"));
        assert!(findings("mtu-encap-overhead", &healthy(), |c| c.underlay_mtu = 1500).is_empty());
    }
}

check!(
    overlay_source_vip,
    "overlay-source-vip",
    |d| d.retain(|x| x["ID"] != SV),
    // The source-VIP endpoint may sit anywhere on the overlay subnet.
    |d| {
        by_id(d, SV)["IpConfigurations"] = json!([{"IpAddress": "10.244.1.250"}]);
        by_id(d, LB_O)["SourceVIP"] = json!("10.244.1.250");
    },
    "SourceVIP 10.244.1.2 is held by no local endpoint"
);

check!(
    non_persistent_network_lbs,
    "non-persistent-network-lbs",
    |d| by_id(d, NET_O)["Flags"] = json!(8),
    // Non-persistent, but no LB depends on it.
    |d| {
        by_id(d, NET_O)["Flags"] = json!(8);
        d.retain(|x| x["ID"] != LB_O);
    },
    "EnableNonPersistent"
);

mod snat_ports_exhausted {
    use super::*;

    /// `blocks` 64-port ranges held for SNAT, as hnsportpoolallocs.txt lists them.
    fn pools(blocks: u32) -> impl FnOnce(&mut Context) {
        move |c: &mut Context| {
            let ranges: Vec<Value> = (0..blocks)
                .map(|i| json!({"StartingPort": 49152 + i * 64, "EndingPort": 49152 + i * 64 + 63}))
                .collect();
            c.port_pools = vec![json!([{"RequiresHostPortReservation": true, "PortRanges": ranges}])];
        }
    }

    #[test]
    fn fires() {
        // 240 blocks = 15360 ports, 94 % of the dynamic range.
        let got = findings("snat-ports-exhausted", &healthy(), pools(240));
        assert_eq!(got.len(), 1);
        assert!(
            got[0].message.contains("15360 of 16384 dynamic ports"),
            "{:?}",
            got[0].message
        );
    }

    #[test]
    fn stays_silent() {
        // 200 blocks = 12800 ports, 78 %.
        assert_eq!(findings("snat-ports-exhausted", &healthy(), pools(200)), vec![]);
    }
}

check!(
    hairpin_without_loopback_dsr,
    "hairpin-without-loopback-dsr",
    |d| by_id(d, LB_B)["Flags"] = json!(1),
    |d| {
        by_id(d, LB_B)["Flags"] = json!(1);
        by_id(d, BP5)["Policies"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Type": "OutBoundNAT", "Settings": {"Destinations": ["10.244.3.5"]}}));
    },
    "loopbackDSR"
);

check!(
    nodeport_without_local_routed_vip,
    "nodeport-without-local-routed-vip",
    |d| by_id(d, LB_N)["PortMappings"][0]["Flags"] = json!(0),
    |d| by_id(d, LB_N)["PortMappings"][0]["Flags"] = json!(2),
    "LocalRoutedVIP"
);

check!(
    empty_source_vip_l2bridge,
    "empty-source-vip-l2bridge",
    |d| by_id(d, LB_B)["SourceVIP"] = json!(""),
    // With DSR the SourceVIP is not used for the backend's reply.
    |d| {
        by_id(d, LB_B)["SourceVIP"] = json!("");
        by_id(d, LB_B)["Flags"] = json!(1);
    },
    "empty SourceVIP"
);

check!(
    scale_limits,
    "scale-limits",
    |d| by_id(d, POD)["IpConfigurations"] = json!([{"IpAddress": "10.244.1.5"}, {"IpAddress": "fd00::5"}]),
    |d| by_id(d, BP5)["IpConfigurations"] = json!([{"IpAddress": "10.244.3.5"}, {"IpAddress": "fd00::5"}]),
    "IPv6 address on an overlay endpoint"
);

#[test]
fn snat_silent_without_port_pools_and_a_large_lb_fires_scale_limits() {
    let (hns, ctx) = load(&healthy());
    assert!(doctor::run_one("snat-ports-exhausted", &hns, &ctx)
        .unwrap()
        .is_empty());
    let mut d = healthy();
    let many: Vec<String> = (0..1025)
        .map(|i| format!("AB000000-0000-4000-8000-{i:012X}"))
        .collect();
    by_id(&mut d, LB_B)["HostComputeEndpoints"] = json!(many);
    let got = findings("scale-limits", &d, |_| {});
    assert!(
        got.iter().any(|f| f.message.contains("1025 backends")),
        "{got:#?}"
    );
}

#[test]
fn diff_names_what_changed_by_meaning() {
    let a = load(&healthy()).0;
    let mut d = healthy();
    // The remote endpoint moved to another PA, an LB lost a backend and gained DSR, and a pod
    // was recreated with a new ID (same address: not a difference).
    by_id(&mut d, REM)["Policies"][0]["Settings"]["ProviderAddress"] = json!("10.0.0.15");
    by_id(&mut d, LB_O)["HostComputeEndpoints"] = json!([POD]);
    by_id(&mut d, LB_O)["Flags"] = json!(1);
    by_id(&mut d, BP6)["ID"] = json!("6A1B2C3D-0000-4A00-8000-0000000FC306");
    d.retain(|x| x["ID"] != LB_N);
    let b = load(&d).0;
    let got: Vec<String> = diff::diff(&a, &b)
        .iter()
        .map(|x| format!("{} {}: {}", x.change, x.object, x.detail))
        .collect();
    assert_eq!(
        got,
        [
            "differs remote endpoint 10.244.2.7 on vxlan0: ProviderAddress \"10.0.0.12\" vs \"10.0.0.15\"",
            "differs load balancer 10.96.0.20:80/tcp: Flags 0 vs 1; backends {\"10.244.1.5\", \"10.244.2.7\"} vs {\"10.244.1.5\"}",
            "only-in-a load balancer node:30080/tcp: ",
        ]
    );
    assert!(diff::diff(&a, &a).is_empty());
}

#[test]
fn unreadable_values_are_named_with_their_path() {
    let mut docs = healthy();
    by_id(&mut docs, BP6)["MacAddress"] = json!("00-15-5D-52-C0");
    by_id(&mut docs, LB_O)["FrontendVIPs"] = json!(["10.96.0.256"]);
    by_id(&mut docs, NET_B)["Ipams"][0]["Subnets"][0]["IpAddressPrefix"] = json!("10.244.3.0/33");
    let f = findings("unreadable-value", &docs, |_| {});
    let got: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f.message.as_str(), f.objects[0].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "network 3F0E5C9A-5B7D-4C1E-9A2B-6D8E0F1A2B02 (cbr0, L2Bridge): Subnets[0].IpAddressPrefix: expected a CIDR, found \"10.244.3.0/33\"",
                "network 3F0E5C9A-5B7D-4C1E-9A2B-6D8E0F1A2B02 (cbr0, L2Bridge)"
            ),
            (
                "endpoint 6A1B2C3D-0000-4A00-8000-00000000C306 (10.244.3.6): MacAddress: expected a MAC address, found \"00-15-5D-52-C0\"",
                "endpoint 6A1B2C3D-0000-4A00-8000-00000000C306 (10.244.3.6)"
            ),
            (
                "load balancer 8D000000-0000-4000-8000-000000000020 (10.96.0.256:80/tcp): FrontendVIPs[0]: expected an IP address, found \"10.96.0.256\"",
                "load balancer 8D000000-0000-4000-8000-000000000020 (10.96.0.256:80/tcp)"
            ),
        ]
    );
    assert!(f.iter().all(|f| f.severity == doctor::Severity::Error));
}

#[test]
fn values_in_another_accepted_form_are_not_unreadable() {
    // Near misses: a MAC with colons, a bare address as an OutBoundNAT exception, an IPv6
    // address where either family is allowed.
    let mut docs = healthy();
    by_id(&mut docs, BP6)["MacAddress"] = json!("00:15:5d:52:c0:06");
    by_id(&mut docs, BP5)["Policies"] = json!([onat(&["10.244.0.0/16", "10.96.0.0/12", "10.0.0.13"])]);
    by_id(&mut docs, LB_B)["FrontendVIPs"] = json!(["fd00::30"]);
    assert_eq!(findings("unreadable-value", &docs, |_| {}), vec![]);
}
