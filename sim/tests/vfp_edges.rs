//! Behaviours of the VFP building blocks that a mutation-testing sample found unchecked
//! (docs/testing.md "Recorded runs" names the mutant each test kills).

use hnsim_sim::vfp::{Dir, FlowKey, FlowTable, Miss, SnatOwner, SnatPools, Tuple, Zone};
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn hash_of<T: Hash>(x: &T) -> u64 {
    // A fixed-key SipHash: deterministic, and distinct inputs give distinct hashes.
    std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(x)
}

fn key(zone: Zone, dir: Dir, t: Tuple) -> FlowKey {
    FlowKey { zone, dir, tuple: t }
}

/// The flow cache is probed on every hop: two keys that differ in any one field must not hash
/// alike, or the connections of a busy port pile up in one bucket. Checked field by field, for
/// IPv4 and IPv6 tuples.
#[test]
fn every_field_of_a_flow_key_reaches_its_hash() {
    for (a, b) in [("10.244.1.10", "10.96.0.10"), ("fd00::a", "fd00:96::a")] {
        let t = Tuple {
            proto: 6,
            src: ip(a),
            sport: 40000,
            dst: ip(b),
            dport: 80,
        };
        let base = key(Zone::Port(3), Dir::Out, t);
        let variants: Vec<(&str, Vec<FlowKey>)> = vec![
            (
                "zone",
                [Zone::Port(3), Zone::Port(4), Zone::HostStack, Zone::Uplink]
                    .map(|z| FlowKey { zone: z, ..base })
                    .to_vec(),
            ),
            (
                "dir",
                [Dir::Out, Dir::In].map(|d| FlowKey { dir: d, ..base }).to_vec(),
            ),
            (
                "proto",
                [6u8, 17, 1, 58]
                    .map(|p| key(base.zone, base.dir, Tuple { proto: p, ..t }))
                    .to_vec(),
            ),
            (
                "sport",
                [40000u16, 40001, 1]
                    .map(|p| key(base.zone, base.dir, Tuple { sport: p, ..t }))
                    .to_vec(),
            ),
            (
                "dport",
                [80u16, 81, 443]
                    .map(|p| key(base.zone, base.dir, Tuple { dport: p, ..t }))
                    .to_vec(),
            ),
            (
                "src",
                [t.src, t.dst]
                    .map(|s| key(base.zone, base.dir, Tuple { src: s, ..t }))
                    .to_vec(),
            ),
            (
                "dst",
                [t.dst, t.src]
                    .map(|d| key(base.zone, base.dir, Tuple { dst: d, ..t }))
                    .to_vec(),
            ),
        ];
        for (field, keys) in variants {
            let hashes: BTreeSet<u64> = keys.iter().map(hash_of).collect();
            assert_eq!(hashes.len(), keys.len(), "{field} ({a}): {keys:?}");
            let tuples: BTreeSet<u64> = keys.iter().map(|k| hash_of(&k.tuple)).collect();
            if !matches!(field, "zone" | "dir") {
                assert_eq!(tuples.len(), keys.len(), "tuple {field} ({a})");
            }
        }
    }
}

/// A flow table counts its entries: one per key, replaced in place, none after `clear`.
#[test]
fn a_flow_table_counts_one_entry_per_key() {
    let mut t: FlowTable<u8> = FlowTable::new(1_000);
    assert!(t.is_empty());
    let t1 = Tuple {
        proto: 6,
        src: ip("10.244.1.10"),
        sport: 40000,
        dst: ip("10.96.0.10"),
        dport: 80,
    };
    let a = key(Zone::Port(1), Dir::Out, t1);
    let b = key(Zone::Port(1), Dir::In, t1.reversed());
    t.insert(a, 1, 7, 0);
    t.insert(b, 2, 7, 0);
    t.insert(a, 3, 7, 5);
    assert_eq!(t.len(), 2);
    assert!(!t.is_empty());
    assert_eq!(t.lookup(&a, 7, 10), Ok(3));
    t.clear();
    assert_eq!((t.len(), t.is_empty()), (0, true));
    assert_eq!(t.lookup(&a, 7, 10), Err(Miss::Absent));
}

/// SNAT ports come from each owner's block in order, never outside the pool and never twice,
/// however the owners interleave (consumers.md P13: blocks of 64 per port).
#[test]
fn snat_ports_are_distinct_and_inside_the_pool() {
    let mut p = SnatPools::new(256, 64, 49152);
    let a = ip("10.0.0.11");
    let mut seen = BTreeSet::new();
    let mut mine: Vec<u16> = Vec::new();
    let mut take = |p: &mut SnatPools, owner| {
        let port = p.alloc(a, owner).expect("pool not exhausted");
        assert!((49152..49152 + 256).contains(&port), "{port}");
        assert!(seen.insert(port), "port {port} handed out twice");
        port
    };
    for i in 0..192 {
        if i % 3 == 0 {
            take(&mut p, SnatOwner::WinNat);
        } else {
            mine.push(take(&mut p, SnatOwner::Port(1)));
        }
    }
    assert!(mine.windows(2).take(63).all(|w| w[1] == w[0] + 1), "{mine:?}");
    assert_eq!(p.blocks(a), 3);
    for _ in 0..64 {
        take(&mut p, SnatOwner::InboundLb);
    }
    assert_eq!(p.alloc(a, SnatOwner::InboundLb), None);
}

/// A packet from the uplink for an address of an L2Bridge subnet that no endpoint holds goes to
/// the host stack; only on an overlay network is it "decapsulated … no endpoint" (NoRoute).
#[test]
fn an_unclaimed_address_on_l2bridge_goes_to_the_host_stack() {
    use hnsim_sim::testkit::{ip as ip4, Lab};
    use hnsim_sim::{Disposition, Place, L4};
    let mut lab = Lab::common(1);
    let n = lab.network(
        "node1",
        serde_json::json!({"Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24",
            "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}]}]}]}),
    );
    let gw = lab.endpoint(
        "node1",
        n,
        serde_json::json!({"IpConfigurations": [{"IpAddress": "10.244.1.2"}]}),
    );
    lab.host_attach("node1", &[gw]);
    lab.w
        .add_router_route("r1", "10.244.1.99/32".parse().unwrap(), ip4("10.0.0.11"))
        .unwrap();
    let x = lab.send(
        Place::Station("inet".into()),
        "10.244.1.99",
        L4::Tcp,
        80,
        Some(40000),
    );
    // The host stack routes it toward the network, where no endpoint holds it.
    match &x.request.disposition {
        Disposition::NoRoute { reason, .. } => {
            assert_eq!(reason, "no endpoint with 10.244.1.99 on network cbr0", "{x}")
        }
        other => panic!("expected NoRoute, found {other:?}\n{x}"),
    }
}
