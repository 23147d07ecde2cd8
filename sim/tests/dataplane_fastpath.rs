//! The unified flow table: the first packet of a connection takes the slow path, later packets
//! (and replies) one exact-match lookup per VFP point, and that cost does not grow with the
//! number of load balancers. With tracing and capture off, an established packet allocates
//! nothing per hop.

use hnsim_model::schema::{LbPortMapping, LoadBalancer};
use hnsim_model::Guid;
use hnsim_sim::testkit::{ctr, Lab};
use hnsim_sim::{Counters, Place, L4};
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts allocations of the current thread (tests run on several threads).
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn allocs_so_far() -> u64 {
    ALLOCS.with(|c| c.get())
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// An overlay pair (node1: A, B; node2: C) with `extra_lbs` unrelated ClusterIP LBs on node1 and
/// the service 10.96.0.50:80 → C (remote, non-DSR, source VIP 10.244.1.2).
fn lab_with_lbs(extra_lbs: u32) -> Lab {
    let mut lab = Lab::common(42);
    let net = |prefix: &str, gw: &str, pa: &str| {
        json!({"Name": "vxlan0", "Type": "Overlay", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
            "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}],
            "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}],
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": pa}}]})
    };
    let n1 = lab.network("node1", net("10.244.1.0/24", "10.244.1.1", "10.0.0.11"));
    let n2 = lab.network("node2", net("10.244.2.0/24", "10.244.2.1", "10.0.0.12"));
    let rsr = |p: &str, pa: &str| {
        json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": p, "IsolationId": 4096,
            "ProviderAddress": pa, "DistributedRouterMacAddress": "00-15-5D-AA-00-01"}})
    };
    lab.network_policy("node1", n1, rsr("10.244.2.0/24", "10.0.0.12"));
    lab.network_policy("node2", n2, rsr("10.244.1.0/24", "10.0.0.11"));
    let pod = |addr: &str, m: &str| json!({"IpConfigurations": [{"IpAddress": addr}], "MacAddress": m});
    let a = lab.endpoint("node1", n1, pod("10.244.1.10", "0E-2A-0a-f4-01-0a"));
    let b = lab.endpoint("node1", n1, pod("10.244.1.11", "0E-2A-0a-f4-01-0b"));
    let c = lab.endpoint("node2", n2, pod("10.244.2.10", "0E-2A-0a-f4-02-0a"));
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.container("node2", "C", &[c]);
    lab.listen(ctr("C"), L4::Tcp, 8080);
    lab.listen(ctr("A"), L4::Tcp, 80);
    let c_remote = lab.endpoint(
        "node1",
        n1,
        json!({"IpConfigurations": [{"IpAddress": "10.244.2.10"}],
        "MacAddress": "02-11-0a-f4-02-0a", "Flags": 1,
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]}),
    );
    lab.lb(
        "node1",
        &[c_remote],
        json!({"SourceVIP": "10.244.1.2", "FrontendVIPs": ["10.96.0.50"],
        "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}),
    );
    // Bulk LBs are put straight into the state (the HNS create path validates each against all
    // others, which is quadratic and not what this test measures).
    let hns = lab.w.hns("node1").unwrap();
    for i in 0..extra_lbs {
        let vip = format!("10.{}.{}.{}", 100 + (i >> 16), (i >> 8) & 0xff, i & 0xff);
        let lb = LoadBalancer {
            id: Guid(0xB000_0000 + i as u128),
            host_compute_endpoints: vec![a.to_string()],
            frontend_vips: vec![vip],
            port_mappings: vec![LbPortMapping {
                protocol: 6,
                internal_port: 80,
                external_port: 80,
                ..Default::default()
            }],
            ..Default::default()
        };
        hns.load_balancers.insert(lb.id, lb);
    }
    hns.generation += 1;
    lab
}

fn delta(a: Counters, b: Counters) -> Counters {
    Counters {
        slow_path: b.slow_path - a.slow_path,
        fast_path: b.fast_path - a.fast_path,
        rule_evaluations: b.rule_evaluations - a.rule_evaluations,
        table_lookups: b.table_lookups - a.table_lookups,
    }
}

/// (first exchange, established exchange) counter deltas for B → 10.96.0.50:80.
fn measure(extra_lbs: u32) -> (Counters, Counters) {
    let mut lab = lab_with_lbs(extra_lbs);
    let c0 = lab.w.counters();
    let x = lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(50000));
    assert!(x.completed(), "{x}");
    let c1 = lab.w.counters();
    let x = lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(50000));
    assert!(x.completed(), "{x}");
    let c2 = lab.w.counters();
    (delta(c0, c1), delta(c1, c2))
}

#[test]
fn established_flows_take_the_fast_path() {
    let (first, est) = measure(10);
    assert!(
        first.slow_path >= 3,
        "first packet and reply set flows up: {first:?}"
    );
    assert!(first.rule_evaluations > 0);
    assert_eq!(est.slow_path, 0, "established exchange: {est:?}");
    assert_eq!(
        est.rule_evaluations, 0,
        "no rule is evaluated on the fast path: {est:?}"
    );
    // One flow-table probe per VFP point: B's port out, node2's uplink, C's port in; C's port
    // out, node1's uplink (the pinned reverse NAT), B's port in.
    assert_eq!(est.fast_path, 6, "{est:?}");
    // …plus two host neighbour-cache hits (the outer next hops), two compartment neighbour-cache
    // hits (B's and C's stacks resolving their gateways), one vSwitch MAC lookup and the
    // restored port by endpoint.
    assert_eq!(est.table_lookups, 6 + 2 + 2 + 1 + 1, "{est:?}");
}

#[test]
fn lookups_per_established_packet_do_not_grow_with_lbs() {
    let (first10, est10) = measure(10);
    let (first10k, est10k) = measure(10_000);
    assert_eq!(est10, est10k, "established exchange with 10 vs 10,000 LBs");
    // The LB index is O(1) on the slow path too: same probes for the first packet.
    assert_eq!(first10.table_lookups, first10k.table_lookups);
}

#[test]
fn policy_change_rechecks_stale_flows_lazily() {
    let mut lab = lab_with_lbs(0);
    lab.send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(50001));
    // A change on node1 (a new LB) moves the generation: the next packet re-runs the slow path once.
    lab.lb("node1", &[], json!({"FrontendVIPs": ["10.96.0.99"], "PortMappings": [{"Protocol": 6, "InternalPort": 1, "ExternalPort": 1}]}));
    let c0 = lab.w.counters();
    assert!(lab
        .send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(50001))
        .completed());
    let c1 = lab.w.counters();
    assert!(delta(c0, c1).slow_path >= 1);
    assert!(lab
        .send(ctr("B"), "10.96.0.50", L4::Tcp, 80, Some(50001))
        .completed());
    assert_eq!(delta(c1, lab.w.counters()).slow_path, 0);
}

#[test]
fn idle_flows_expire_on_virtual_time() {
    let mut lab = lab_with_lbs(0);
    lab.send(ctr("B"), "10.244.1.10", L4::Tcp, 80, Some(50002));
    lab.w.advance(10 * 60 * 1_000_000_000);
    let c0 = lab.w.counters();
    assert!(lab
        .send(ctr("B"), "10.244.1.10", L4::Tcp, 80, Some(50002))
        .completed());
    assert!(
        delta(c0, lab.w.counters()).slow_path >= 1,
        "expired after the idle timeout"
    );
}

#[test]
fn no_allocation_per_hop_when_tracing_is_off() {
    let mut lab = lab_with_lbs(0);
    lab.w.set_tracing(false);
    lab.w.set_capture(false);
    let allocs = |lab: &mut Lab, to: &str, port: u16, sport: u16| {
        lab.send(ctr("B"), to, L4::Tcp, port, Some(sport));
        let before = allocs_so_far();
        let x = lab.send(ctr("B"), to, L4::Tcp, port, Some(sport));
        assert!(x.completed());
        allocs_so_far() - before
    };
    // Same host (2 VFP points each way) vs across the overlay (uplinks, wire, decap, NAT): the
    // per-exchange allocations (the result's place names) are the same, so none is per hop.
    let local = allocs(&mut lab, "10.244.1.10", 80, 50010);
    let remote = allocs(&mut lab, "10.96.0.50", 80, 50011);
    assert_eq!(
        local, remote,
        "allocations: same-host {local}, cross-node {remote}"
    );
    let _ = Place::Host(String::new());
}

/// The lean entry point the benchmarks use: every benchmark path forwards an established packet
/// with no heap allocation at all (not just "the same number per exchange"), on the fast path.
#[test]
fn benchmark_paths_forward_established_packets_without_allocating() {
    use hnsim_sim::benchkit;
    use hnsim_sim::Forwarded;
    let paths = [
        benchkit::same_host_l2bridge().unwrap(),
        benchkit::cross_host_overlay().unwrap(),
        benchkit::cross_host_clusterip(9).unwrap(),
    ];
    for mut p in paths {
        let c0 = p.world.counters();
        let before = allocs_so_far();
        for _ in 0..100 {
            assert_eq!(p.forward(), Forwarded::Arrived, "{}", p.name);
        }
        let allocs = allocs_so_far() - before;
        let c = delta(c0, p.world.counters());
        assert_eq!(allocs, 0, "{}: {allocs} allocations for 100 packets", p.name);
        assert_eq!(c.slow_path, 0, "{}: {c:?}", p.name);
        assert_eq!(c.rule_evaluations, 0, "{}: {c:?}", p.name);
        // One exact-match probe per VFP point: 2 on the same host, 3 across hosts (sender's
        // port, receiver's uplink, receiver's port).
        let points = if p.name == "same_host_l2bridge" { 2 } else { 3 };
        assert_eq!(c.fast_path, 100 * points, "{}: {c:?}", p.name);
    }
}

/// First packets take the slow path every time (new source port each), and the ACL slow path
/// evaluates every rule of the ladder.
#[test]
fn first_packet_benchmarks_take_the_slow_path() {
    use hnsim_sim::benchkit;
    use hnsim_sim::Forwarded;
    let mut f = benchkit::first_packet_acl(100).unwrap();
    let c0 = f.world.counters();
    for _ in 0..10 {
        assert_eq!(f.forward_new_flow(), Forwarded::Arrived);
    }
    let c = delta(c0, f.world.counters());
    assert_eq!(c.fast_path, 0, "{c:?}");
    assert_eq!(c.slow_path, 20, "sender's port and receiver's port: {c:?}");
    assert!(c.rule_evaluations >= 10 * 100, "{c:?}");
    let mut f = benchkit::first_packet_lbs(10).unwrap();
    let c0 = f.world.counters();
    for _ in 0..10 {
        assert_eq!(f.forward_new_flow(), Forwarded::Arrived);
    }
    assert_eq!(delta(c0, f.world.counters()).fast_path, 0);
}

/// Dual-stack L2Bridge: an established IPv6 packet (A → B on one host, A → C across hosts) takes
/// one exact-match probe per VFP point and allocates nothing, like IPv4.
#[test]
fn established_ipv6_packets_take_the_fast_path_without_allocating() {
    use hnsim_sim::{Forwarded, SendRequest};
    let mut lab = Lab::common(64);
    let net = |p4: &str, g4: &str, p6: &str, g6: &str| {
        json!({"Name": "cbr0", "Type": "L2Bridge", "Ipams": [{"Type": "Static", "Subnets": [
            {"IpAddressPrefix": p4, "Routes": [{"NextHop": g4, "DestinationPrefix": "0.0.0.0/0"}]},
            {"IpAddressPrefix": p6, "Routes": [{"NextHop": g6, "DestinationPrefix": "::/0"}]}]}]})
    };
    let n1 = lab.network(
        "node1",
        net("10.244.1.0/24", "10.244.1.2", "fd00:1::/64", "fd00:1::2"),
    );
    let n2 = lab.network(
        "node2",
        net("10.244.2.0/24", "10.244.2.2", "fd00:2::/64", "fd00:2::2"),
    );
    let pod = |a4: &str, a6: &str| json!({"IpConfigurations": [{"IpAddress": a4}, {"IpAddress": a6}]});
    let a = lab.endpoint("node1", n1, pod("10.244.1.10", "fd00:1::10"));
    let b = lab.endpoint("node1", n1, pod("10.244.1.11", "fd00:1::11"));
    let c = lab.endpoint("node2", n2, pod("10.244.2.10", "fd00:2::10"));
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.container("node2", "C", &[c]);
    lab.w
        .set_host_routes6(
            "node1",
            vec![("fd00:2::/64".parse().unwrap(), "10.0.0.12".parse().unwrap())],
        )
        .unwrap();
    lab.w.set_tracing(false);
    lab.w.set_capture(false);
    for (to, points) in [("fd00:1::11", 2), ("fd00:2::10", 3)] {
        let mut r = SendRequest::new(ctr("A"), to.parse().unwrap(), L4::Udp, 53);
        r.src_port = Some(45000);
        let p = lab.w.prepare_packet(&r).unwrap();
        assert_eq!(lab.w.forward_established(&p), Forwarded::Arrived, "{to}");
        let c0 = lab.w.counters();
        let before = allocs_so_far();
        for _ in 0..100 {
            assert_eq!(lab.w.forward_established(&p), Forwarded::Arrived, "{to}");
        }
        let allocs = allocs_so_far() - before;
        let c = delta(c0, lab.w.counters());
        assert_eq!(allocs, 0, "{to}: {allocs} allocations for 100 packets");
        assert_eq!((c.slow_path, c.rule_evaluations), (0, 0), "{to}: {c:?}");
        assert_eq!(c.fast_path, 100 * points, "{to}: {c:?}");
    }
}
