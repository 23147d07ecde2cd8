//! The ACL rule compiler and the LB index on their own: protocol filters, and what the index
//! answers after load balancers are deleted (docs/testing.md: the mutants these tests kill).

use hnsim_model::schema::AclPolicy;
use hnsim_model::Guid;
use hnsim_sim::vfp::{AclRule, AclSet, AclVerdict, AclView, Backend, LbIndex, LbMapping};
use proptest::prelude::*;
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn rule(protocols: &str, action: &str, priority: u16) -> Result<AclRule, String> {
    let p = AclPolicy {
        protocols: protocols.into(),
        action: action.into(),
        direction: "In".into(),
        local_ports: "80".into(),
        priority,
        ..Default::default()
    };
    AclRule::parse(&p, 0)
}

fn view(proto: u8) -> AclView {
    AclView {
        proto,
        local: ip("10.244.2.10"),
        local_port: Some(80),
        remote: ip("10.244.1.10"),
        remote_port: Some(40000),
    }
}

#[test]
fn a_tcp_only_rule_ignores_udp_and_icmp() {
    let set = AclSet::new(vec![
        rule("6", "Allow", 1000).unwrap(),
        rule("256", "Block", 1001).unwrap(),
    ]);
    let mut n = 0;
    assert_eq!(set.eval(&view(6), &mut n), AclVerdict::Rule(0));
    for proto in [17, 1, 58] {
        assert_eq!(
            set.eval(&view(proto), &mut n),
            AclVerdict::Rule(1),
            "protocol {proto}"
        );
        assert!(!set.rules[1].allow);
    }
    // Names are accepted and mean their numbers.
    let named = rule("TCP, udp", "Allow", 1).unwrap();
    assert_eq!(named.protocols, Some(vec![6, 17]));
    assert!(named.matches(&view(17)) && !named.matches(&view(1)));
}

#[test]
fn protocol_255_is_a_protocol_256_is_any_and_300_is_an_error() {
    let r = rule("255", "Allow", 1).unwrap();
    assert_eq!(r.protocols, Some(vec![255]));
    assert!(r.matches(&view(255)));
    assert!(!r.matches(&view(6)));
    for any in ["256", "", "6,256"] {
        let r = rule(any, "Allow", 1).unwrap();
        assert_eq!(r.protocols, None, "{any:?}");
        assert!(r.matches(&view(6)) && r.matches(&view(1)));
    }
    let e = rule("300", "Allow", 1).unwrap_err();
    assert!(e.contains("Protocols") && e.contains("300"), "{e}");
    let e = rule("6,tcpp", "Allow", 1).unwrap_err();
    assert!(e.contains("Protocols") && e.contains("tcpp"), "{e}");
}

#[test]
fn port_ranges_are_inclusive_and_a_reversed_range_is_an_error() {
    let p = AclPolicy {
        action: "Block".into(),
        direction: "In".into(),
        local_ports: "70-80, 443".into(),
        ..Default::default()
    };
    let r = AclRule::parse(&p, 0).unwrap();
    assert_eq!(r.local_ports, [(70, 80), (443, 443)]);
    let at = |port| AclView {
        local_port: Some(port),
        ..view(6)
    };
    assert!(r.matches(&at(70)) && r.matches(&at(80)) && r.matches(&at(443)));
    assert!(!r.matches(&at(69)) && !r.matches(&at(81)));
    let reversed = AclPolicy {
        local_ports: "80-70".into(),
        ..p
    };
    let e = AclRule::parse(&reversed, 0).unwrap_err();
    assert!(e.contains("LocalPorts") && e.contains("80-70"), "{e}");
}

fn mapping(lb: u128, vips: &[&str], proto: u8, port: u16) -> LbMapping {
    LbMapping {
        lb: Guid(lb),
        proto,
        external_port: port,
        // Tells mappings apart in answers.
        internal_port: lb as u16,
        vips: vips.iter().map(|v| ip(v)).collect(),
        source_vip: None,
        dsr: false,
        flags: 0,
        distribution: 0,
        backends: vec![Backend {
            endpoint: Guid(1000 + lb),
            ip: ip("10.244.1.10"),
        }],
    }
}

/// Which LB answers for (proto, dst, port), by its GUID.
fn who(idx: &LbIndex, proto: u8, dst: &str, port: u16, any_local: bool) -> Option<u128> {
    let mut n = 0;
    idx.find(proto, ip(dst), port, any_local, &mut n).map(|m| m.lb.0)
}

#[test]
fn a_deleted_vip_is_dead_even_when_its_slot_is_reused() {
    let mut idx = LbIndex::default();
    let a = idx.insert_ordered(mapping(1, &["10.96.0.10"], 6, 80), 0);
    assert_eq!(who(&idx, 6, "10.96.0.10", 80, false), Some(1));
    idx.remove(a);
    assert!(!idx.is_vip(ip("10.96.0.10")));
    assert_eq!(who(&idx, 6, "10.96.0.10", 80, false), None);
    // The same VIP again, deleted again: its claim count must be back at zero, not one.
    let b = idx.insert_ordered(mapping(2, &["10.96.0.10"], 6, 80), 0);
    assert_eq!(who(&idx, 6, "10.96.0.10", 80, false), Some(2));
    idx.remove(b);
    assert_eq!(who(&idx, 6, "10.96.0.10", 80, false), None);
    // Another LB takes the freed slot: the old VIP must not lead to it.
    let c = idx.insert_ordered(mapping(3, &["10.96.0.20"], 6, 80), 0);
    assert!([a, b].contains(&c));
    assert_eq!(who(&idx, 6, "10.96.0.10", 80, false), None);
    assert!(!idx.is_vip(ip("10.96.0.10")));
    assert_eq!(who(&idx, 6, "10.96.0.20", 80, false), Some(3));
    assert_eq!(idx.len(), 1);
}

#[test]
fn a_deleted_nodeport_is_dead_even_when_its_slot_is_reused() {
    let mut idx = LbIndex::default();
    let a = idx.insert_ordered(mapping(1, &[], 6, 30080), 0);
    assert_eq!(who(&idx, 6, "10.0.0.11", 30080, true), Some(1));
    idx.remove(a);
    assert_eq!(who(&idx, 6, "10.0.0.11", 30080, true), None);
    let b = idx.insert_ordered(mapping(2, &[], 6, 30080), 0);
    idx.remove(b);
    let c = idx.insert_ordered(mapping(3, &[], 6, 30081), 0);
    assert!([a, b].contains(&c));
    assert_eq!(who(&idx, 6, "10.0.0.11", 30080, true), None);
    assert_eq!(who(&idx, 6, "10.0.0.11", 30081, true), Some(3));
}

#[test]
fn two_lbs_sharing_a_nodeport_hand_it_over_when_the_first_is_deleted() {
    let mut idx = LbIndex::default();
    let first = idx.insert_ordered(mapping(1, &[], 6, 30080), 0);
    let second = idx.insert_ordered(mapping(2, &[], 6, 30080), 0);
    assert_eq!(who(&idx, 6, "10.0.0.11", 30080, true), Some(1));
    idx.remove(first);
    assert_eq!(who(&idx, 6, "10.0.0.11", 30080, true), Some(2));
    // A third LB reusing the first one's slot sorts after the second: the second keeps the port.
    let third = idx.insert_ordered(mapping(3, &[], 6, 30080), 0);
    assert_eq!(third, first);
    assert_eq!(who(&idx, 6, "10.0.0.11", 30080, true), Some(2));
    idx.remove(second);
    assert_eq!(who(&idx, 6, "10.0.0.11", 30080, true), Some(3));
    idx.remove(third);
    assert_eq!(who(&idx, 6, "10.0.0.11", 30080, true), None);
    assert!(idx.is_empty());
}

/// The index against the obvious definition: among live mappings claiming the key, the lowest
/// (LB GUID, port-mapping index) answers; VIP keys before port-only (NodePort) keys.
fn reference(
    live: &[(u32, (u128, u32), LbMapping)],
    proto: u8,
    dst: IpAddr,
    port: u16,
    any_local: bool,
) -> Option<u128> {
    let best = |f: &dyn Fn(&LbMapping) -> bool| {
        live.iter()
            .filter(|(_, _, m)| m.proto == proto && m.external_port == port && f(m))
            .min_by_key(|(_, o, _)| *o)
            .map(|(_, _, m)| m.lb.0)
    };
    best(&|m| m.vips.contains(&dst)).or_else(|| any_local.then(|| best(&|m| m.vips.is_empty())).flatten())
}

const VIPS: [&str; 2] = ["10.96.0.10", "10.96.0.20"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn lookups_match_the_definition_through_inserts_and_deletes(
        ops in prop::collection::vec((any::<bool>(), 0u128..4, 0usize..4, 0u8..2, 0u16..2, any::<prop::sample::Index>()), 1..40)
    ) {
        let mut idx = LbIndex::default();
        let mut live: Vec<(u32, (u128, u32), LbMapping)> = Vec::new();
        let mut seq = 0u32;
        for (insert, lb, vips, proto, port, pick) in ops {
            if insert || live.is_empty() {
                let vs: Vec<&str> = match vips { 0 => vec![], 1 => vec![VIPS[0]], 2 => vec![VIPS[1]], _ => VIPS.to_vec() };
                let m = mapping(lb + 1, &vs, [6, 17][proto as usize], 80 + port);
                seq += 1;
                let slot = idx.insert_ordered(m.clone(), seq);
                live.push((slot, (lb + 1, seq), m));
            } else {
                let (slot, _, _) = live.remove(pick.index(live.len()));
                idx.remove(slot);
            }
            prop_assert_eq!(idx.len(), live.len());
            for dst in VIPS.iter().chain(&["10.0.0.11"]) {
                let dst = ip(dst);
                prop_assert_eq!(idx.is_vip(dst), live.iter().any(|(_, _, m)| m.vips.contains(&dst)));
                for proto in [6, 17] {
                    for port in [80, 81] {
                        for any_local in [false, true] {
                            let mut n = 0;
                            let got = idx.find(proto, dst, port, any_local, &mut n).map(|m| m.lb.0);
                            prop_assert_eq!(got, reference(&live, proto, dst, port, any_local));
                        }
                    }
                }
            }
        }
    }
}
