//! Dataplane benchmark kit: the worlds the packet-path benchmarks run in (shared by the criterion
//! benches in `benches/dataplane.rs` and by `hnsim bench`), the `floor` hop every figure is
//! compared with, and [`dataplane_figures`], a quick wall-clock measurement for a user's machine.
//!
//! Every world is built with the HNS documents kube-proxy and flannel send (through
//! [`crate::testkit::Lab`]); bulk load balancers are put straight into the host's HNS state (the
//! dataplane compiles the state, however it got there). Tracing and capture are off, and each
//! path's flow is established by one [`World::send`] before it is measured with
//! [`World::forward_established`].
//!
//! This is a user-facing measurement, not a test: nothing here asserts a time.

use crate::app::{Forwarded, PreparedPacket};
use crate::packet::{proto, tcp_flags, EthHeader, IpHeader, Packet, Payload, Transport};
use crate::testkit::{ctr, std_outbound_nat, Lab};
use crate::wire::{self, FiveTuple, Side};
use crate::world::{SendRequest, World};
use crate::L4;
use hnsim_model::schema::{Endpoint, LbPortMapping, LoadBalancer};
use hnsim_model::{Guid, Mac};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

/// The floor: the least work any simulated hop must do — parse the headers of a real frame, one
/// hash lookup on its 5-tuple (std `HashMap`, 10,002 flows), rewrite the destination address and
/// port, update the checksums incrementally. The same work as `benches/floor.rs`.
pub struct Floor {
    table: HashMap<FiveTuple, (Ipv4Addr, u16)>,
    frame: Vec<u8>,
}

impl Default for Floor {
    fn default() -> Self {
        Floor::new()
    }
}

impl Floor {
    pub fn new() -> Floor {
        let vip = Ipv4Addr::new(10, 96, 0, 50);
        let backend = Ipv4Addr::new(10, 244, 2, 10);
        let client = Ipv4Addr::new(10, 244, 1, 10);
        let mut table = HashMap::with_capacity(10_002);
        for i in 0..10_000u32 {
            let key = FiveTuple {
                src: IpAddr::V4(Ipv4Addr::from(0x0af4_0000 + i)),
                dst: IpAddr::V4(vip),
                protocol: proto::TCP,
                src_port: 30000 + (i % 30000) as u16,
                dst_port: 80,
            };
            table.insert(key, (backend, 8080));
        }
        let key = |dst, dst_port| FiveTuple {
            src: IpAddr::V4(client),
            dst: IpAddr::V4(dst),
            protocol: proto::TCP,
            src_port: 40000,
            dst_port,
        };
        // The frame alternates between the two, so every hop hits and rewrites.
        table.insert(key(vip, 80), (backend, 8080));
        table.insert(key(backend, 8080), (vip, 80));
        let pkt = Packet {
            outer: None,
            eth: EthHeader {
                src: Mac([0x0e, 0x2a, 0x0a, 0xf4, 0x01, 0x0a]),
                dst: Mac([0x00, 0x15, 0x5d, 0xaa, 0x00, 0x12]),
            },
            payload: Payload::Ip {
                ip: IpHeader {
                    src: IpAddr::V4(client),
                    dst: IpAddr::V4(vip),
                    ttl: 128,
                    dont_fragment: true,
                    ident: 1,
                },
                l4: Transport::Tcp {
                    src_port: 40000,
                    dst_port: 80,
                    seq: 1,
                    ack: 1,
                    flags: tcp_flags::ACK | tcp_flags::PSH,
                },
            },
            data_len: 64,
        };
        let mut frame = Vec::new();
        // A fixed, valid packet: encoding cannot fail.
        let _ = wire::encode(&pkt, &mut frame);
        Floor { table, frame }
    }

    /// One floor hop; true when the flow was found and rewritten.
    #[inline]
    pub fn hop(&mut self) -> bool {
        let frame = std::hint::black_box(&mut self.frame[..]);
        let Ok((at, key)) = wire::peek(frame) else {
            return false;
        };
        let Some(&(dst, port)) = self.table.get(&key) else {
            return false;
        };
        wire::rewrite_ipv4_addr(frame, &at, Side::Dst, dst).is_ok()
            && wire::rewrite_port(frame, &at, Side::Dst, port).is_ok()
    }
}

/// One measured packet path: a world and the packet that is pushed through it.
pub struct PathBench {
    pub name: &'static str,
    pub world: World,
    pub packet: PreparedPacket,
}

impl PathBench {
    /// Push the packet once.
    #[inline]
    pub fn forward(&mut self) -> Forwarded {
        self.world.forward_established(&self.packet)
    }
}

/// Why a benchmark world could not be set up (a bug in the kit or in the dataplane).
#[derive(Debug, thiserror::Error)]
#[error("benchmark world {world}: {what}")]
pub struct SetupError {
    pub world: &'static str,
    pub what: String,
}

fn setup_err(world: &'static str, what: impl std::fmt::Display) -> SetupError {
    SetupError {
        world,
        what: what.to_string(),
    }
}

/// Send the request once (sets the flow up both ways), switch tracing and capture off, and
/// prepare the packet for repeated forwarding; checks that the packet now takes the fast path.
fn established(
    name: &'static str,
    mut lab: Lab,
    from: &str,
    dst: &str,
    port: u16,
) -> Result<PathBench, SetupError> {
    let mut req = SendRequest::new(ctr(from), IpAddr::V4(crate::testkit::ip(dst)), L4::Tcp, port);
    req.src_port = Some(40000);
    let x = lab.w.send(&req).map_err(|e| setup_err(name, e))?;
    if !x.completed() {
        return Err(setup_err(name, format!("the exchange did not complete:\n{x}")));
    }
    lab.w.set_tracing(false);
    lab.w.set_capture(false);
    let packet = lab.w.prepare_packet(&req).map_err(|e| setup_err(name, e))?;
    let mut b = PathBench {
        name,
        world: lab.w,
        packet,
    };
    let c0 = b.world.counters();
    if b.forward() != Forwarded::Arrived {
        return Err(setup_err(name, "the established packet was dropped"));
    }
    let c1 = b.world.counters();
    if c1.slow_path != c0.slow_path {
        return Err(setup_err(name, "the established packet took the slow path"));
    }
    Ok(b)
}

fn l2bridge_net(prefix: &str, gw: &str) -> serde_json::Value {
    json!({"Name": "cbr0", "Type": "L2Bridge", "SchemaVersion": {"Major": 2, "Minor": 0},
        "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
            "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}]}]}]})
}

/// A win-bridge pod endpoint (standard OutBoundNAT, SDNRoutes for the service CIDR and the node)
/// with `acls` extra ACL policies.
fn bridge_pod(addr: &str, m: &str, acls: &[serde_json::Value]) -> serde_json::Value {
    let mut policies = vec![
        std_outbound_nat(),
        json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": true}}),
        json!({"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.0.0.11/32", "NeedEncap": true}}),
    ];
    policies.extend(acls.iter().cloned());
    json!({"IpConfigurations": [{"IpAddress": addr}], "MacAddress": m,
        "Routes": [{"NextHop": "10.244.1.1", "DestinationPrefix": "0.0.0.0/0"}], "Policies": policies})
}

/// node1 on L2Bridge (flannel host-gw / win-bridge) with pods A (10.244.1.10, listening on TCP
/// 80) and B (10.244.1.11); B carries `acl_rules` Out ACL rules of which only the last
/// (lowest priority) matches A, so a new flow from B evaluates every one of them.
pub fn l2bridge_lab(acl_rules: u32) -> Lab {
    let mut lab = Lab::common(7);
    let net = lab.network("node1", l2bridge_net("10.244.1.0/24", "10.244.1.1"));
    let a = lab.endpoint("node1", net, bridge_pod("10.244.1.10", "0E-2A-0a-f4-01-0a", &[]));
    let mut acls = Vec::new();
    for i in 0..acl_rules {
        let last = i + 1 == acl_rules;
        // Calico-style: specific remote addresses, priorities rising; the last one allows the pod
        // subnet. Non-matching rules block, so a wrongly matched rule would show as a drop.
        let remote = if last {
            "10.244.1.0/24".to_string()
        } else {
            format!("172.{}.{}.0/24", 16 + (i >> 8) % 16, i & 0xff)
        };
        acls.push(
            json!({"Type": "ACL", "Settings": {"Id": format!("rule-{i}"), "Protocols": "6",
            "Action": if last { "Allow" } else { "Block" }, "Direction": "Out", "RuleType": "Switch",
            "RemoteAddresses": remote, "RemotePorts": "80", "Priority": 100 + i.min(60000)}}),
        );
    }
    let b = lab.endpoint(
        "node1",
        net,
        bridge_pod("10.244.1.11", "0E-2A-0a-f4-01-0b", &acls),
    );
    lab.container("node1", "A", &[a]);
    lab.container("node1", "B", &[b]);
    lab.listen(ctr("A"), L4::Tcp, 80);
    lab
}

/// Same host, L2Bridge: container B → container A:80 (two VFP points, one vSwitch hop).
pub fn same_host_l2bridge() -> Result<PathBench, SetupError> {
    established("same_host_l2bridge", l2bridge_lab(0), "B", "10.244.1.10", 80)
}

fn overlay_net(prefix: &str, gw: &str, pa: &str) -> serde_json::Value {
    json!({"Name": "vxlan0", "Type": "Overlay", "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": prefix,
        "Routes": [{"NextHop": gw, "DestinationPrefix": "0.0.0.0/0"}],
        "Policies": [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]}]}],
        "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": pa}}]})
}

/// flannel VXLAN (Overlay, VNI 4096) on node1 (pod B 10.244.1.11) and node2 (pod C 10.244.2.10,
/// listening on TCP 8080), RemoteSubnetRoutes both ways, and on node1 the ClusterIP service
/// 10.96.0.50:80 → C:8080 (non-DSR, SourceVIP 10.244.1.2) plus `extra_lbs` more ClusterIP
/// services with `backends` remote backends each (drawn from a pool of remote endpoints on node2).
pub fn overlay_lab(extra_lbs: u32, backends: u32) -> Lab {
    overlay_lab_with_pool(
        extra_lbs,
        backends,
        extra_lbs.saturating_mul(backends).clamp(1, 10_000),
    )
}

/// [`overlay_lab`] with `pool` remote endpoints behind the extra LBs.
pub fn overlay_lab_with_pool(extra_lbs: u32, backends: u32, pool: u32) -> Lab {
    let mut lab = Lab::common(42);
    let n1 = lab.network("node1", overlay_net("10.244.1.0/24", "10.244.1.1", "10.0.0.11"));
    let n2 = lab.network("node2", overlay_net("10.244.2.0/24", "10.244.2.1", "10.0.0.12"));
    let rsr = |p: &str, pa: &str| {
        json!({"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": p, "IsolationId": 4096,
            "ProviderAddress": pa, "DistributedRouterMacAddress": "00-15-5D-AA-00-01"}})
    };
    lab.network_policy("node1", n1, rsr("10.244.2.0/24", "10.0.0.12"));
    lab.network_policy("node2", n2, rsr("10.244.1.0/24", "10.0.0.11"));
    let pod = |addr: &str, m: &str| {
        json!({"IpConfigurations": [{"IpAddress": addr}], "MacAddress": m,
            "Policies": [std_outbound_nat(),
                {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": true}}]})
    };
    let b = lab.endpoint("node1", n1, pod("10.244.1.11", "0E-2A-0a-f4-01-0b"));
    let c = lab.endpoint("node2", n2, pod("10.244.2.10", "0E-2A-0a-f4-02-0a"));
    lab.container("node1", "B", &[b]);
    lab.container("node2", "C", &[c]);
    lab.listen(ctr("C"), L4::Tcp, 8080);
    let remote = |addr: &str, m: &str| {
        json!({"IpConfigurations": [{"IpAddress": addr}], "MacAddress": m, "Flags": 1,
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]})
    };
    let c_remote = lab.endpoint("node1", n1, remote("10.244.2.10", "02-11-0a-f4-02-0a"));
    lab.lb(
        "node1",
        &[c_remote],
        json!({"SourceVIP": "10.244.1.2", "FrontendVIPs": ["10.96.0.50"],
            "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}]}),
    );
    add_bulk_lbs_with_pool(&mut lab, n1, extra_lbs, backends, pool);
    lab
}

/// `n` ClusterIP LBs (VIPs 10.100.0.0 + i, port 80 → 8080, SourceVIP 10.244.1.2) with `backends`
/// remote backends each, from a pool of `min(n × backends, 10,000)` remote endpoints on node2
/// (see [`add_bulk_lbs_with_pool`]).
/// Put straight into node1's HNS state: the HNS create path validates each LB against the
/// others, which is the control-plane benchmark's business, not the dataplane's.
pub fn add_bulk_lbs(lab: &mut Lab, net: Guid, n: u32, backends: u32) {
    add_bulk_lbs_with_pool(lab, net, n, backends, n.saturating_mul(backends).clamp(1, 10_000));
}

/// [`add_bulk_lbs`] with a pool of `pool` remote endpoints (`n × backends` gives every LB its
/// own backends: 10,000 × 10 = 100,000 endpoints, the control-plane scale).
pub fn add_bulk_lbs_with_pool(lab: &mut Lab, net: Guid, n: u32, backends: u32, pool: u32) {
    if n == 0 {
        return;
    }
    let pool = pool.clamp(1, 1 << 18);
    let hns = lab.w.hns("node1").expect("node1 exists in every benchmark lab");
    let mut ids = Vec::with_capacity(pool as usize);
    for i in 0..pool {
        let id = Guid(0xE000_0000_0000 + i as u128);
        let o = (i + 256).to_be_bytes();
        let doc = json!({"HostComputeNetwork": net.to_string(),
            "IpConfigurations": [{"IpAddress": format!("10.{}.{}.{}", 245 + o[1] as u32, o[2], o[3])}],
            "MacAddress": format!("02-11-{:02x}-{:02x}-{:02x}-{:02x}", o[0], 0xf5 + o[1] as u32, o[2], o[3]), "Flags": 1,
            "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.12"}}]});
        let mut ep: Endpoint = serde_json::from_value(doc).expect("a valid remote endpoint document");
        ep.id = id;
        hns.endpoints.insert(id, ep);
        ids.push(id.to_string());
    }
    for i in 0..n {
        let vip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 100, 0, 0)) + i);
        let first = (i.wrapping_mul(backends) % pool) as usize;
        let lb = LoadBalancer {
            id: Guid(0xB000_0000 + i as u128),
            host_compute_endpoints: (0..backends as usize)
                .map(|k| ids[(first + k) % ids.len()].clone())
                .collect(),
            source_vip: "10.244.1.2".into(),
            frontend_vips: vec![vip.to_string()],
            port_mappings: vec![LbPortMapping {
                protocol: 6,
                internal_port: 8080,
                external_port: 80,
                ..Default::default()
            }],
            ..Default::default()
        };
        hns.load_balancers.insert(lb.id, lb);
    }
    hns.rebuild_indexes();
    hns.generation += 1;
}

/// One HNS change among many: LB number `index` of [`add_bulk_lbs`] gets a new internal port
/// (what a kube-proxy update of one service's target port does).
/// Made through the state machine (`load_balancer_update`), so the change journal names it.
pub fn touch_one_lb(lab: &mut Lab, index: u32, internal_port: u16) {
    let hns = lab.w.hns("node1").expect("node1 exists in every benchmark lab");
    let id = Guid(0xB000_0000 + index as u128);
    if let Some(mut lb) = hns.load_balancers.get(&id).cloned() {
        if let Some(pm) = lb.port_mappings.first_mut() {
            pm.internal_port = internal_port;
        }
        hns.load_balancer_update(&id, lb)
            .expect("a port change of a planted LB is a valid update");
    }
}

/// Across two hosts on Overlay: container B (node1) → container C:8080 (node2): VXLAN encap on
/// node1, the underlay, decap on node2.
pub fn cross_host_overlay() -> Result<PathBench, SetupError> {
    established("cross_host_overlay", overlay_lab(0, 0), "B", "10.244.2.10", 8080)
}

/// Across two hosts: container B → ClusterIP 10.96.0.50:80 → C:8080 on node2 (LB DNAT, SNAT to
/// the source VIP, encap), with `extra_lbs` other services (10 backends each) on node1.
pub fn cross_host_clusterip(extra_lbs: u32) -> Result<PathBench, SetupError> {
    established(
        "cross_host_clusterip",
        overlay_lab(extra_lbs, 10),
        "B",
        "10.96.0.50",
        80,
    )
}

/// A first-packet (slow path) benchmark: every call forwards a packet of a new flow (source ports
/// cycle); the flow tables and SNAT pools are flushed between batches so they stay small.
pub struct FirstPacketBench {
    pub world: World,
    packet: PreparedPacket,
    next_port: u16,
}

impl FirstPacketBench {
    /// Flows set up per batch before a flush (well inside the 16,384-port SNAT pool).
    pub const BATCH: u64 = 4096;

    fn new(world: World, packet: PreparedPacket) -> FirstPacketBench {
        FirstPacketBench {
            world,
            packet,
            next_port: 1024,
        }
    }

    /// Forget all flows (call between batches, outside the measurement).
    pub fn flush(&mut self) {
        self.world.flush_flows();
        self.next_port = 1024;
    }

    /// Forward the first packet of a new flow.
    #[inline]
    pub fn forward_new_flow(&mut self) -> Forwarded {
        let p = self.packet.with_src_port(self.next_port);
        self.next_port = self.next_port.wrapping_add(1).max(1024);
        self.world.forward_established(&p)
    }
}

fn first_packet(
    name: &'static str,
    lab: Lab,
    from: &str,
    dst: &str,
    port: u16,
) -> Result<FirstPacketBench, SetupError> {
    let b = established(name, lab, from, dst, port)?;
    let mut f = FirstPacketBench::new(b.world, b.packet);
    f.flush();
    let c0 = f.world.counters();
    if f.forward_new_flow() != Forwarded::Arrived {
        return Err(setup_err(name, "the first packet was dropped"));
    }
    if f.world.counters().slow_path == c0.slow_path {
        return Err(setup_err(name, "the first packet did not take the slow path"));
    }
    f.flush();
    Ok(f)
}

/// First packet B → A:80 on L2Bridge (same host) through `rules` Out ACL rules on B.
pub fn first_packet_acl(rules: u32) -> Result<FirstPacketBench, SetupError> {
    first_packet("first_packet_acl", l2bridge_lab(rules), "B", "10.244.1.10", 80)
}

/// First packet B → ClusterIP 10.96.0.50:80 → C (node2) with `lbs` load balancers on node1
/// (the service itself plus `lbs - 1` others with 10 backends each).
pub fn first_packet_lbs(lbs: u32) -> Result<FirstPacketBench, SetupError> {
    first_packet(
        "first_packet_lbs",
        overlay_lab(lbs.saturating_sub(1), 10),
        "B",
        "10.96.0.50",
        80,
    )
}

/// One established path's figures.
#[derive(Clone, Debug, Serialize)]
pub struct PathFigures {
    pub name: String,
    pub ns_per_packet: f64,
    pub packets_per_second: f64,
    /// `ns_per_packet` / floor.
    pub ratio_to_floor: f64,
}

/// What `hnsim bench` prints for the dataplane.
#[derive(Clone, Debug, Serialize)]
pub struct DataplaneFigures {
    /// ns per floor hop (parse, one 5-tuple hash lookup, rewrite, checksum update).
    pub floor_ns: f64,
    pub paths: Vec<PathFigures>,
    /// ns per established ClusterIP packet with 10 and with 10,000 load balancers on the host.
    pub clusterip_ns_10_lbs: f64,
    pub clusterip_ns_10000_lbs: f64,
    /// Per-packet cost at 10,000 vs 10 load balancers (target ≤ 1.3).
    pub lb_scaling_ratio: f64,
    /// Measurement rounds per figure (the median is reported).
    pub rounds: u32,
}

/// Median ns per call of `f` over `rounds` rounds of `per_round` calls.
fn time_ns(rounds: u32, per_round: u32, mut f: impl FnMut() -> bool) -> f64 {
    let mut ok = true;
    for _ in 0..per_round.min(1000) {
        ok &= f();
    }
    let mut samples: Vec<f64> = (0..rounds.max(1))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_round {
                ok &= f();
            }
            t.elapsed().as_nanos() as f64 / per_round.max(1) as f64
        })
        .collect();
    std::hint::black_box(ok);
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// Measure the dataplane's headline figures with `Instant` (quick: about two seconds of
/// measurement plus setup). Figures are wall-clock and depend on the machine and its load.
pub fn dataplane_figures(quick: bool) -> Result<DataplaneFigures, SetupError> {
    let (rounds, per_round) = if quick { (5, 20_000) } else { (15, 100_000) };
    let mut floor = Floor::new();
    let floor_ns = time_ns(rounds, per_round * 5, || floor.hop());
    let mut paths = Vec::new();
    let mut measure = |mut b: PathBench| {
        let ns = time_ns(rounds, per_round, || b.forward() == Forwarded::Arrived);
        paths.push(PathFigures {
            name: b.name.to_string(),
            ns_per_packet: ns,
            packets_per_second: 1e9 / ns,
            ratio_to_floor: ns / floor_ns,
        });
        ns
    };
    measure(same_host_l2bridge()?);
    measure(cross_host_overlay()?);
    let small = measure(cross_host_clusterip(9)?);
    let mut large = cross_host_clusterip(9_999)?;
    let large_ns = time_ns(rounds, per_round, || large.forward() == Forwarded::Arrived);
    Ok(DataplaneFigures {
        floor_ns,
        paths,
        clusterip_ns_10_lbs: small,
        clusterip_ns_10000_lbs: large_ns,
        lb_scaling_ratio: large_ns / small,
        rounds,
    })
}
