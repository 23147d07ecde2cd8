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

/// `find` counts its hash probes (the packet-path work counters add them up): one for the VIP
/// table, a second for the port-only table only when the destination is local and some LB has
/// no VIP.
#[test]
fn a_lookup_counts_one_probe_per_table_it_reads() {
    let probes = |idx: &LbIndex, dst: &str, port: u16, any_local: bool| {
        let mut n = 0;
        let found = idx.find(6, ip(dst), port, any_local, &mut n).map(|m| m.lb.0);
        (found, n)
    };
    let mut idx = LbIndex::default();
    idx.insert_ordered(mapping(1, &["10.96.0.10"], 6, 80), 0);
    assert_eq!(probes(&idx, "10.96.0.10", 80, true), (Some(1), 1));
    // No port-only LB yet: a local miss reads one table.
    assert_eq!(probes(&idx, "10.0.0.11", 30080, true), (None, 1));
    idx.insert_ordered(mapping(2, &[], 6, 30080), 0);
    assert_eq!(probes(&idx, "10.0.0.11", 30080, true), (Some(2), 2));
    assert_eq!(probes(&idx, "10.0.0.11", 30081, true), (None, 2));
    assert_eq!(probes(&idx, "10.0.0.11", 30080, false), (None, 1));
    assert_eq!(probes(&idx, "10.96.0.10", 80, true), (Some(1), 1));
    // The counter adds to what the caller has counted so far.
    let mut n = 5;
    idx.find(6, ip("10.96.0.10"), 80, false, &mut n);
    assert_eq!(n, 6);
}

/// The live mappings are listed in (LB GUID, port-mapping index) order, whatever the order they
/// were added in; `insert` numbers them in the order added, so that among the mappings of one LB
/// the first added wins a key both claim.
#[test]
fn mappings_are_listed_in_lb_order_and_insert_keeps_the_order_added() {
    let mut idx = LbIndex::default();
    assert!(idx.is_empty() && idx.mappings().is_empty());
    assert_eq!(idx.len(), 0);
    idx.insert_ordered(mapping(3, &["10.96.0.10"], 6, 80), 1);
    idx.insert_ordered(mapping(3, &["10.96.0.20"], 6, 80), 0);
    idx.insert_ordered(mapping(1, &[], 6, 30080), 4);
    let order: Vec<(u128, Vec<IpAddr>)> = idx.mappings().iter().map(|m| (m.lb.0, m.vips.clone())).collect();
    assert_eq!(
        order,
        [
            (1, vec![]),
            (3, vec![ip("10.96.0.20")]),
            (3, vec![ip("10.96.0.10")])
        ]
    );
    assert_eq!((idx.len(), idx.is_empty()), (3, false));

    let mut idx = LbIndex::default();
    let tagged = |internal: u16| LbMapping {
        internal_port: internal,
        ..mapping(7, &["10.96.0.30"], 6, 80)
    };
    let first = idx.insert(tagged(1));
    idx.insert(tagged(2));
    idx.insert(tagged(3));
    let mut n = 0;
    let answer = |idx: &LbIndex, n: &mut u64| {
        idx.find(6, ip("10.96.0.30"), 80, false, n)
            .map(|m| m.internal_port)
    };
    assert_eq!(answer(&idx, &mut n), Some(1));
    let listed: Vec<u16> = idx.mappings().iter().map(|m| m.internal_port).collect();
    assert_eq!(listed, [1, 2, 3]);
    // The first one deleted, the key passes to the next added, not to the last.
    idx.remove(first);
    assert_eq!(answer(&idx, &mut n), Some(2));
    // A fourth added into the freed slot still sorts last.
    idx.insert(tagged(4));
    let listed: Vec<u16> = idx.mappings().iter().map(|m| m.internal_port).collect();
    assert_eq!(listed, [2, 3, 4]);
    assert_eq!(answer(&idx, &mut n), Some(2));
}

/// Each LoadBalancerPortMappingFlags bit reads as its own flag and no other.
#[test]
fn each_port_mapping_flag_reads_as_itself() {
    use hnsim_model::schema::lb_port_flags::{ILB, LOCAL_ROUTED_VIP, PRESERVE_DIP};
    let with = |flags: u32| LbMapping {
        flags,
        ..mapping(1, &["10.96.0.10"], 6, 80)
    };
    let read = |m: LbMapping| (m.ilb(), m.local_routed_vip(), m.preserve_dip());
    assert_eq!(read(with(0)), (false, false, false));
    assert_eq!(read(with(ILB)), (true, false, false));
    assert_eq!(read(with(LOCAL_ROUTED_VIP)), (false, true, false));
    assert_eq!(read(with(PRESERVE_DIP)), (false, false, true));
    // The other bits (UseMux 4, VipExternalIp 16, undefined ones) leave the three alone.
    assert_eq!(
        read(with(!(ILB | LOCAL_ROUTED_VIP | PRESERVE_DIP))),
        (false, false, false)
    );
    assert_eq!(
        read(with(ILB | LOCAL_ROUTED_VIP | PRESERVE_DIP)),
        (true, true, true)
    );
}

/// The backend-choice and VXLAN source-port hash is SplitMix64: one word `w` with seed `s` is the
/// first output of SplitMix64 seeded with `s ^ GOLDEN ^ w`, checked against the generator's
/// published outputs (seed 0 and seed 1234567). It must not drift: every recorded trace,
/// pcap and reach report names the backends and source ports it picks.
#[test]
fn the_lb_hash_is_splitmix64() {
    use hnsim_sim::vfp::lb::mix;
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    // Seed 0: outputs 1 and 2 (states GOLDEN and 2 * GOLDEN).
    assert_eq!(mix(GOLDEN, &[0]), 0xE220_A839_7B1D_CDAF);
    assert_eq!(mix(0, &[GOLDEN]), 0xE220_A839_7B1D_CDAF);
    assert_eq!(mix(GOLDEN, &[GOLDEN]), 0x6E78_9E6A_A1B9_65F4);
    // Seed 1234567: outputs 1 to 3.
    assert_eq!(mix(GOLDEN, &[1_234_567]), 6_457_827_717_110_365_317);
    let state2 = 1_234_567u64.wrapping_add(GOLDEN);
    assert_eq!(mix(GOLDEN, &[state2]), 3_203_168_211_198_807_973);
    assert_eq!(mix(0, &[state2 ^ GOLDEN]), 3_203_168_211_198_807_973);
    let state3 = state2.wrapping_add(GOLDEN);
    assert_eq!(mix(GOLDEN, &[state3]), 9_817_491_932_198_370_423);
    // Each further word is folded into the previous output the same way.
    for (s, a, b) in [(7u64, 1u64, 2u64), (0, u64::MAX, 0), (42, 0x0A0A_0A0A, 80)] {
        assert_eq!(mix(s, &[a, b]), mix(GOLDEN, &[mix(s, &[a]) ^ b]), "{s} {a} {b}");
    }
}

/// The word an address contributes to the hash: an IPv4 address as its number, an IPv6 one as
/// the XOR of its halves, so that clients differing in either half hash apart. Like the hash,
/// it must not drift (recorded backend choices depend on it).
#[test]
fn an_address_hashes_by_all_its_bits() {
    use hnsim_sim::vfp::lb::ip_word;
    assert_eq!(ip_word(ip("10.244.1.10")), 0x0AF4_010A);
    assert_eq!(ip_word(ip("255.255.255.255")), 0xFFFF_FFFF);
    assert_eq!(ip_word(ip("2001:db8::1")), 0x2001_0DB8_0000_0000 ^ 1);
    assert_eq!(ip_word(ip("::1")), 1);
    assert_eq!(ip_word(ip("1::")), 0x0001_0000_0000_0000);
    assert_eq!(
        ip_word(ip("fd00::1:0:0:1")),
        0xFD00_0000_0000_0000 ^ 0x0001_0000_0000_0001
    );
    // Bits set in both halves cancel.
    assert_eq!(ip_word(ip("2001:db8::2001:db8:0:1")), 1);
}

/// DistributionType 0 balances each connection on its own, 1 keeps a (source IP, protocol) on
/// one backend, 2 a source IP where the host honours session affinity (otherwise it is 0);
/// `LbMapping::spreads` says which.
#[test]
fn distribution_types_decide_what_a_backend_choice_depends_on() {
    use hnsim_sim::vfp::lb::choose;
    let backends: Vec<Backend> = (0..4)
        .map(|i| Backend {
            endpoint: Guid(100 + i),
            ip: ip(&format!("10.244.1.{}", 10 + i)),
        })
        .collect();
    let with = |distribution: u32, proto: u8| LbMapping {
        distribution,
        backends: backends.clone(),
        ..mapping(1, &["10.96.0.10"], proto, 80)
    };
    let src = ip("10.244.2.10");
    let picks = |m: &LbMapping, affinity: bool| -> Vec<u128> {
        (0..32u16)
            .map(|i| {
                choose(m, 11, src, 40000 + i, u64::from(i), affinity)
                    .expect("a backend")
                    .endpoint
                    .0
            })
            .collect()
    };
    let distinct = |v: &[u128]| v.iter().collect::<std::collections::BTreeSet<_>>().len();
    let per_connection = picks(&with(0, 6), true);
    assert!(distinct(&per_connection) >= 3, "{per_connection:?}");
    for affinity in [false, true] {
        let by_source = picks(&with(1, 6), affinity);
        assert_eq!(distinct(&by_source), 1, "{by_source:?}");
    }
    assert_eq!(distinct(&picks(&with(2, 6), true)), 1);
    // Without host support, affinity is ignored: exactly the per-connection choice.
    assert_eq!(picks(&with(2, 6), false), per_connection);
    // Affinity ignores the protocol; type 1 does not.
    let sticky = |proto| picks(&with(2, proto), true)[0];
    assert_eq!(sticky(6), sticky(17));
    let per_proto: std::collections::BTreeSet<u128> =
        (0..=255u8).map(|p| picks(&with(1, p), true)[0]).collect();
    assert!(per_proto.len() >= 3, "{per_proto:?}");
    // `spreads` says which of them vary per connection (`hnsim reach` steers only those).
    for distribution in 0..=2 {
        for affinity in [false, true] {
            let m = with(distribution, 6);
            assert_eq!(
                m.spreads(affinity),
                distinct(&picks(&m, affinity)) > 1,
                "type {distribution}, affinity supported {affinity}"
            );
        }
    }
    // No backend, no choice.
    let empty = LbMapping {
        backends: vec![],
        ..with(0, 6)
    };
    assert!(choose(&empty, 11, src, 40000, 0, true).is_none());
}
