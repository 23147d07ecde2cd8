//! The world: underlay segments, routers, stations and Windows hosts (each with its HNS control
//! plane and compiled dataplane), driven on one virtual clock with one seeded RNG (ChaCha8).
//!
//! This is the API the scenario runner and the CLI code against; keep it stable (additions fine).
//!
//! How to use it: add segments, then routers, hosts and stations; drive each host's control plane
//! through [`World::hns`] (the dataplane recompiles when `Hns::generation` moves); open listening
//! sockets with [`World::listen`]; [`World::send`] runs one request and its reply to their ends
//! and returns both traces.
//!
//! Names in traces and results: `container:ID` (an HCS container), `endpoint:GUID` (an endpoint in
//! a namespace no container uses), `host:NAME`, `station:NAME`; drops name the node, or
//! `HOST/ENDPOINT` for a port. Capture points are `HOST/uplink` (always) and `HOST/ENDPOINT` (on
//! request).
//!
//! Modelling choices worth knowing (each a [`DataplaneSettings`] field where HNS is silent):
//! - one packet is in flight at a time; ARP is resolved inline (the frames are captured);
//! - IPv4 underlay; IPv6 for dual-stack L2Bridge container endpoints (same host, and across
//!   hosts by [`World::set_host_routes6`]), with LBs and OutBoundNAT carrying the IPv6 flag;
//!   IPv6 on other network types is `Unsupported` (consumers.md P14); a container's ND sends
//!   real NS/NA frames on its port (`Step::Nd`); hosts and stations do not send IPv6;
//! - no IP fragmentation: a packet larger than an MTU passes when DF is clear;
//! - SNAT ports are not returned to the pool within a run.

pub mod app;
pub mod engine;
pub mod fabric;
pub mod host;
mod neigh;

use crate::apps::Apps;
use crate::capture::{PcapSet, Taps};
use crate::host_stack::HostStack;
use crate::path::HostId;
use crate::switch::VSwitch;
use crate::trace::L4;
use crate::underlay::{Attachment, Fabric, FaultRule};
pub use crate::underlay::{RouterInterface, RouterSpec, SegmentSpec, StationSpec};
use crate::vfp::{Env, Vfp};
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::{Guid, Mac};
use ipnet::Ipv4Net;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

pub use crate::settings::{Counters, DataplaneSettings};
pub use crate::trace::{Disposition, Hop, Seen, Step, Trace};

/// A Windows node.
#[derive(Clone, Debug)]
pub struct HostSpec {
    pub name: String,
    pub segment: String,
    pub ip: Ipv4Addr,
    pub mac: Mac,
    pub gateway: Option<Ipv4Addr>,
    /// Uplink MTU.
    pub mtu: u16,
    pub settings: HostSettings,
    /// Extra OS routes (prefix, next hop), e.g. flannel host-gw's remote pod subnets.
    pub routes: Vec<(Ipv4Net, Ipv4Addr)>,
    pub dataplane: DataplaneSettings,
}

impl HostSpec {
    pub fn new(name: &str, segment: &str, ip: Ipv4Addr, mac: Mac) -> HostSpec {
        HostSpec {
            name: name.to_string(),
            segment: segment.to_string(),
            ip,
            mac,
            gateway: None,
            mtu: 1500,
            settings: HostSettings::default(),
            routes: Vec::new(),
            dataplane: DataplaneSettings::default(),
        }
    }
}

/// Where a packet starts or an application listens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Place {
    /// An HCS container by id (its namespace's endpoints).
    Container(String),
    /// A local HNS endpoint by GUID (on whichever host owns it).
    Endpoint(Guid),
    /// A host's own stack (default compartment).
    Host(String),
    /// A station.
    Station(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Container(id) => write!(f, "container:{id}"),
            Place::Endpoint(g) => write!(f, "endpoint:{g}"),
            Place::Host(h) => write!(f, "host:{h}"),
            Place::Station(s) => write!(f, "station:{s}"),
        }
    }
}

/// One packet to send (and the reply to wait for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    pub from: Place,
    pub dst: IpAddr,
    pub proto: L4,
    #[serde(default)]
    pub src_port: Option<u16>,
    #[serde(default)]
    pub dst_port: u16,
    #[serde(default)]
    pub data_len: u16,
    #[serde(default)]
    pub dont_fragment: bool,
    #[serde(default)]
    pub ttl: Option<u8>,
}

impl SendRequest {
    pub fn new(from: Place, dst: IpAddr, proto: L4, dst_port: u16) -> SendRequest {
        SendRequest {
            from,
            dst,
            proto,
            src_port: None,
            dst_port,
            data_len: 0,
            dont_fragment: false,
            ttl: None,
        }
    }
}

/// Faults on virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    LinkDown {
        host: String,
    },
    LinkUp {
        host: String,
    },
    HostDown {
        host: String,
    },
    HostUp {
        host: String,
    },
    /// Seeded packet loss on a segment, in percent (0 clears it).
    Loss {
        segment: String,
        percent: u8,
    },
    /// One-way latency added on a segment.
    Latency {
        segment: String,
        ns: u64,
    },
    /// Nodes `a` and `b` (hosts, stations or routers) can no longer reach each other directly.
    Partition {
        a: String,
        b: String,
    },
    Heal {
        a: String,
        b: String,
    },
    /// HNS service restart: non-persistent networks and their endpoints vanish (P11).
    HnsRestart {
        host: String,
    },
    /// Reboot: as HNS restart, plus flow tables and neighbour caches are cleared.
    Reboot {
        host: String,
    },
}

/// A name that is not in the world (or names something of another kind).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {name:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
}

/// Building or changing the topology (segments, routers, hosts, stations, routes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    #[error("{kind} {name:?} already exists")]
    Duplicate { kind: &'static str, name: String },
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    #[error("{what}: address {ip} is not inside segment {segment} ({prefix})")]
    NotInSegment {
        what: String,
        ip: Ipv4Addr,
        segment: String,
        prefix: Ipv4Net,
    },
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Sending a packet or opening a listening socket.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    #[error("cannot send from {from}: {reason}")]
    BadSource { from: String, reason: String },
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Any of the world's errors, for callers that do several kinds of operation (the scenario
/// set-up). Each operation returns its own family; this only wraps them (same messages).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    #[error(transparent)]
    Topology(#[from] TopologyError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Unknown(#[from] UnknownName),
}

/// The topology as a graph (nodes: segments, routers, hosts, stations; edges: attachments).
pub type TopologyGraph = petgraph::Graph<String, String>;

pub(crate) struct HostNode {
    pub spec: HostSpec,
    pub seg: usize,
    pub hns: Hns,
    /// VFP: compiled programs, flows, SNAT pools, meters.
    pub vfp: Vfp,
    /// The vSwitch's MAC table.
    pub switch: VSwitch,
    /// The TCP/IP stack: routes and compartment neighbours.
    pub stack: HostStack,
}

impl HostNode {
    /// HNS service restart (P11): the model drops non-persistent networks with their endpoints;
    /// VFP is reprogrammed, so flows and NAT sessions are gone. A reboot also loses namespaces,
    /// containers, SNAT reservations and learned MACs.
    pub(crate) fn hns_restart(&mut self, reboot: bool) {
        if reboot {
            self.hns.reboot();
            self.switch.clear_learned();
        } else {
            self.hns.restart_service();
        }
        self.vfp.restart(reboot);
    }

    /// Replace the dataplane settings (VFP starts afresh and recompiles before the next packet).
    /// Only the test lab does this to a host already added.
    #[cfg(feature = "lab")]
    pub(crate) fn set_settings(&mut self, d: DataplaneSettings) {
        self.vfp.set_settings(d.clone());
        self.stack.set_forwarding(d.ip_forwarding);
        self.spec.dataplane = d;
    }

    /// Rebuild the default compartment's route table (see [`HostStack::rebuild_routes`]).
    pub(crate) fn rebuild_routes(&mut self, connected: Ipv4Net) {
        self.stack.rebuild_routes(
            &self.vfp.program().host_routes,
            &self.spec.routes,
            self.spec.gateway,
            connected,
        );
    }
}

/// A node as the world keeps it: its name and, for a Windows host, the host (routers and
/// stations live in the [`Fabric`]).
struct Node {
    name: String,
    host: Option<Box<HostNode>>,
}

/// What a node is, as [`World::nodes`] shows it.
#[derive(Clone, Copy)]
pub(crate) enum NodeKind<'a> {
    Host(&'a HostNode),
    /// A router and the segment index of each interface.
    Router(&'a RouterSpec, &'a [usize]),
    Station(&'a StationSpec, usize),
}

/// One node of [`World::nodes`] (its name copied: readers build labels from it).
#[derive(Clone)]
pub(crate) struct NodeView<'a> {
    pub name: String,
    pub kind: NodeKind<'a>,
}

/// What a packet changes outside the hosts' dataplanes: the virtual clock, the seeded RNG, the
/// next ephemeral source port and the connection nonce. `reach` takes one before its witnesses
/// and puts it back ([`World::rewind`]) before each; two worlds with equal runtimes draw the same.
#[derive(Clone, PartialEq, Eq)]
pub struct Runtime {
    now: u64,
    rng: ChaCha8Rng,
    next_ephemeral: u16,
    conn_nonce: u64,
}

impl Runtime {
    /// The source port the next packet gets when it names none.
    pub fn next_ephemeral(&self) -> u16 {
        self.next_ephemeral
    }

    /// The nonce the next connection (LB choice, SNAT) is numbered with.
    pub fn conn_nonce(&self) -> u64 {
        self.conn_nonce
    }
}

/// The simulated world. See the module doc. Its fields are private: the driver (the child
/// modules `engine`, `host`, `neigh`, `fabric`, `app`) is `World`'s own code; everything else
/// reads it through the named methods below.
pub struct World {
    seed: u64,
    rt: Runtime,
    /// The underlay: segments and the fault rules on them.
    fabric: Fabric,
    nodes: Vec<Node>,
    node_by_name: BTreeMap<String, usize>,
    /// The listening sockets and what receivers answer.
    apps: Apps,
    /// Capture points and what they saw.
    taps: Taps,
    capture: bool,
    counters: Counters,
    tracing: bool,
    /// Bumped by topology changes and faults; part of every flow entry's generation.
    epoch: u64,
}

fn unknown(kind: &'static str, name: &str) -> UnknownName {
    UnknownName {
        kind,
        name: name.to_string(),
    }
}

impl World {
    pub fn new(seed: u64) -> World {
        World {
            seed,
            rt: Runtime {
                now: 0,
                rng: ChaCha8Rng::seed_from_u64(seed),
                next_ephemeral: 50000,
                conn_nonce: 0,
            },
            fabric: Fabric::default(),
            nodes: Vec::new(),
            node_by_name: BTreeMap::new(),
            apps: Apps::default(),
            taps: Taps::default(),
            capture: true,
            counters: Counters::default(),
            tracing: true,
            epoch: 0,
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn segment_index(&self, name: &str, ip: Ipv4Addr, what: &str) -> Result<usize, TopologyError> {
        let i = self.fabric.index(name).ok_or_else(|| unknown("segment", name))?;
        let prefix = self.fabric.spec(i).prefix;
        if !prefix.contains(&ip) {
            return Err(TopologyError::NotInSegment {
                what: what.to_string(),
                ip,
                segment: name.to_string(),
                prefix,
            });
        }
        Ok(i)
    }

    /// Add a node: attached to the fabric as `at`, with its host when it is one.
    fn add_node(&mut self, name: &str, at: Attachment, host: Option<HostNode>) -> Result<(), TopologyError> {
        if self.node_by_name.contains_key(name) {
            return Err(TopologyError::Duplicate {
                kind: "node",
                name: name.to_string(),
            });
        }
        self.node_by_name.insert(name.to_string(), self.nodes.len());
        let i = self.fabric.attach(at);
        debug_assert_eq!(i, self.nodes.len());
        self.nodes.push(Node {
            name: name.to_string(),
            host: host.map(Box::new),
        });
        self.epoch += 1;
        Ok(())
    }

    pub fn add_segment(&mut self, spec: SegmentSpec) -> Result<(), TopologyError> {
        if self.fabric.index(&spec.name).is_some() {
            return Err(TopologyError::Duplicate {
                kind: "segment",
                name: spec.name,
            });
        }
        if spec.mtu < 576 {
            return Err(TopologyError::Invalid(format!(
                "segment {}: mtu {} is below the IPv4 minimum of 576",
                spec.name, spec.mtu
            )));
        }
        self.fabric.add_segment(spec);
        Ok(())
    }

    pub fn add_router(&mut self, spec: RouterSpec) -> Result<(), TopologyError> {
        let mut segs = Vec::new();
        for (i, itf) in spec.interfaces.iter().enumerate() {
            segs.push(self.segment_index(
                &itf.segment,
                itf.ip,
                &format!("router {} interface {i}", spec.name),
            )?);
        }
        let name = spec.name.clone();
        self.add_node(&name, Attachment::Router(spec, segs), None)
    }

    pub fn add_host(&mut self, spec: HostSpec) -> Result<(), TopologyError> {
        let seg = self.segment_index(&spec.segment, spec.ip, &format!("host {}", spec.name))?;
        let node = HostNode {
            seg,
            hns: Hns::new(
                spec.settings.clone(),
                self.seed ^ crate::vfp::lb::mix(0x6e6f6465, &[self.nodes.len() as u64]),
            ),
            vfp: Vfp::new(spec.ip, spec.mac, spec.dataplane.clone()),
            switch: VSwitch::default(),
            stack: HostStack::new(spec.dataplane.ip_forwarding),
            spec,
        };
        let mut node = node;
        node.rebuild_routes(self.fabric.spec(seg).prefix);
        let name = node.spec.name.clone();
        let at = Attachment::Host {
            seg,
            ip: node.spec.ip,
            mac: node.spec.mac,
        };
        self.add_node(&name, at, Some(node))
    }

    pub fn add_station(&mut self, spec: StationSpec) -> Result<(), TopologyError> {
        let seg = self.segment_index(&spec.segment, spec.ip, &format!("station {}", spec.name))?;
        let name = spec.name.clone();
        self.add_node(&name, Attachment::Station(spec, seg), None)
    }

    pub(crate) fn host_index(&self, host: &str) -> Result<HostId, UnknownName> {
        match self.node_by_name.get(host) {
            Some(&i) if self.nodes[i].host.is_some() => Ok(HostId(i)),
            _ => Err(unknown("host", host)),
        }
    }

    /// The node index of station `name`.
    pub(crate) fn station_index(&self, name: &str) -> Result<usize, UnknownName> {
        match self.node_by_name.get(name) {
            Some(&i) if self.fabric.station(i).is_some() => Ok(i),
            _ => Err(unknown("station", name)),
        }
    }

    /// A host's VFP with the [`Env`] it reads (the clock, the seed, the host's routes, the
    /// counters): the split borrow every VFP entry point goes through.
    #[inline]
    pub(crate) fn vfp_env(&mut self, h: HostId) -> (&mut Vfp, Env<'_>) {
        let World {
            nodes,
            counters,
            rt,
            epoch,
            seed,
            ..
        } = self;
        let Node { name, host } = &mut nodes[h.0];
        let Some(hn) = host else {
            unreachable!("node {h:?} is not a host")
        };
        let HostNode { vfp, stack, .. } = &mut **hn;
        let env = Env {
            now: rt.now,
            epoch: *epoch,
            seed: *seed,
            node: name,
            nonce: &mut rt.conn_nonce,
            counters,
            stack,
        };
        (vfp, env)
    }

    /// The control plane of a host. The dataplane recompiles when its `generation` moves.
    pub fn hns(&mut self, host: &str) -> Result<&mut Hns, UnknownName> {
        Ok(&mut self.host_mut(host)?.hns)
    }

    /// Read-only view of a host's HNS state.
    pub fn hns_ref(&self, host: &str) -> Result<&Hns, UnknownName> {
        let i = self.host_index(host)?;
        Ok(&self.hn(i).hns)
    }

    /// Open a listening socket. TCP and UDP only; ICMP echo is always answered.
    pub fn listen(&mut self, at: &Place, proto: L4, port: u16) -> Result<(), SendError> {
        if proto == L4::Icmp {
            return Err(SendError::Invalid(
                "ICMP has no ports to listen on; echo requests are always answered".into(),
            ));
        }
        match at {
            Place::Host(h) => {
                self.host_index(h)?;
            }
            Place::Station(s) => {
                self.station_index(s)?;
            }
            Place::Container(_) | Place::Endpoint(_) => {}
        }
        self.apps.listen(at.to_string(), proto, port);
        Ok(())
    }

    pub fn advance(&mut self, ns: u64) {
        self.rt.now = self.rt.now.saturating_add(ns);
    }

    pub fn now(&self) -> u64 {
        self.rt.now
    }

    /// The clock, RNG and counters packets draw from (see [`Runtime`]).
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Put the clock, RNG and counters back to `rt` (dataplane state is the hosts').
    pub fn rewind(&mut self, rt: &Runtime) {
        self.rt = rt.clone();
    }

    /// Packet-path counters (slow path, fast path, rule evaluations, table lookups).
    pub fn counters(&self) -> Counters {
        self.counters
    }

    pub fn reset_counters(&mut self) {
        self.counters = Counters::default();
    }

    /// Put the counters back to `c` (after work that should not count, e.g. `reach`'s witnesses).
    pub fn set_counters(&mut self, c: Counters) {
        self.counters = c;
    }

    /// Switch tracing off for benchmarks: no steps or hops are built.
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    pub fn tracing(&self) -> bool {
        self.tracing
    }

    /// Switch all packet capture off (or back on) for benchmarks.
    pub fn set_capture(&mut self, on: bool) {
        self.capture = on;
    }

    pub fn capture(&self) -> bool {
        self.capture
    }

    /// The open listening sockets: (place as text, protocol, port).
    pub fn listeners(&self) -> &BTreeSet<(String, L4, u16)> {
        self.apps.listeners()
    }

    /// The underlay: segments and fault rules (read-only; faults go through [`World::fault`]).
    pub(crate) fn fabric(&self) -> &Fabric {
        &self.fabric
    }

    /// Every node (hosts, routers, stations) in the order they were added.
    pub(crate) fn nodes(&self) -> Vec<NodeView<'_>> {
        (self.nodes.iter().enumerate())
            .map(|(i, n)| NodeView {
                name: n.name.clone(),
                kind: match (&n.host, self.fabric.attachment(i)) {
                    (Some(h), _) => NodeKind::Host(h),
                    (None, Attachment::Router(spec, segs)) => NodeKind::Router(spec, segs),
                    (None, Attachment::Station(spec, seg)) => NodeKind::Station(spec, *seg),
                    (None, Attachment::Host { .. }) => unreachable!("a host attachment without a host"),
                },
            })
            .collect()
    }

    /// Every Windows host with its node index, without building views (reach reads these
    /// once per witness).
    pub(crate) fn hosts(&self) -> impl Iterator<Item = (usize, &HostNode)> {
        (self.nodes.iter().enumerate()).filter_map(|(i, n)| Some((i, n.host.as_deref()?)))
    }

    /// The Windows host at node index `node`, if it is one.
    pub(crate) fn host_at(&self, node: usize) -> Option<&HostNode> {
        self.nodes.get(node)?.host.as_deref()
    }

    /// [`World::host_at`], to change.
    pub(crate) fn host_at_mut(&mut self, node: usize) -> Option<&mut HostNode> {
        self.nodes.get_mut(node)?.host.as_deref_mut()
    }

    /// Every Windows host, to change (in node order).
    pub(crate) fn hosts_mut(&mut self) -> impl Iterator<Item = &mut HostNode> {
        self.nodes.iter_mut().filter_map(|n| n.host.as_deref_mut())
    }

    /// Capture at named ports too (`HOST/ENDPOINT-NAME` or `HOST/ENDPOINT-GUID`); uplinks are
    /// always captured (`HOST/uplink`).
    pub fn enable_pcap(&mut self, ports: &[String]) {
        self.taps.watch_ports(ports);
    }

    pub fn pcap(&self) -> &PcapSet {
        self.taps.frames()
    }

    /// The topology for `hnsim graph`: segments, routers, hosts and stations; edges carry the
    /// attachment address. HNS networks and local endpoints hang off their host.
    pub fn graph(&self) -> TopologyGraph {
        let mut g = TopologyGraph::new();
        let segs: Vec<_> = self
            .fabric
            .specs()
            .map(|s| g.add_node(format!("segment {} {}", s.name, s.prefix)))
            .collect();
        for n in self.nodes() {
            match n.kind {
                NodeKind::Host(h) => {
                    let me = g.add_node(format!("host {}", n.name));
                    g.add_edge(me, segs[h.seg], format!("{} {}", h.spec.ip, h.spec.mac));
                    for net in h.hns.networks.values() {
                        let nn = g.add_node(format!(
                            "network {} ({}) on {}",
                            net.name,
                            net.kind().as_str(),
                            n.name
                        ));
                        g.add_edge(me, nn, "vSwitch".to_string());
                        // The state's index of endpoints by network (ID order, as the map's).
                        for (_, ep) in h.hns.endpoints_of(&net.id) {
                            let ip = ep
                                .ip_configurations
                                .first()
                                .map(|c| c.ip_address.clone())
                                .unwrap_or_default();
                            let kind = if ep.is_remote() {
                                "remote endpoint"
                            } else {
                                "endpoint"
                            };
                            let label = if ep.name.is_empty() {
                                ep.id.to_string()
                            } else {
                                ep.name.clone()
                            };
                            let e = g.add_node(format!("{kind} {label} {ip}"));
                            g.add_edge(nn, e, "port".to_string());
                        }
                    }
                }
                NodeKind::Router(spec, ss) => {
                    let me = g.add_node(format!("router {}", n.name));
                    for (itf, s) in spec.interfaces.iter().zip(ss) {
                        g.add_edge(me, segs[*s], format!("{} {}", itf.ip, itf.mac));
                    }
                }
                NodeKind::Station(spec, s) => {
                    let me = g.add_node(format!("station {}", n.name));
                    g.add_edge(me, segs[s], format!("{} {}", spec.ip, spec.mac));
                }
            }
        }
        g
    }

    /// Inject a fault (effective immediately, on virtual time).
    pub fn fault(&mut self, f: Fault) -> Result<(), UnknownName> {
        self.epoch += 1;
        self.fabric.clear_neighbours(None);
        for h in self.hosts_mut() {
            h.stack.clear_neighbours();
        }
        let node = |w: &World, name: &str| -> Result<usize, UnknownName> {
            w.node_by_name
                .get(name)
                .copied()
                .ok_or_else(|| unknown("node", name))
        };
        match f {
            Fault::LinkDown { host } => {
                let i = self.host_index(&host)?;
                self.fabric.apply(FaultRule::LinkDown(i.0));
            }
            Fault::LinkUp { host } => {
                let i = self.host_index(&host)?;
                self.fabric.apply(FaultRule::LinkUp(i.0));
            }
            Fault::HostDown { host } => {
                let i = node(self, &host)?;
                self.fabric.apply(FaultRule::NodeDown(i));
            }
            Fault::HostUp { host } => {
                let i = node(self, &host)?;
                self.fabric.apply(FaultRule::NodeUp(i));
            }
            Fault::Loss { segment, percent } => {
                let segment = self
                    .fabric
                    .index(&segment)
                    .ok_or_else(|| unknown("segment", &segment))?;
                self.fabric.apply(FaultRule::Loss { segment, percent });
            }
            Fault::Latency { segment, ns } => {
                let segment = self
                    .fabric
                    .index(&segment)
                    .ok_or_else(|| unknown("segment", &segment))?;
                self.fabric.apply(FaultRule::Latency { segment, ns });
            }
            Fault::Partition { a, b } => {
                let (a, b) = (node(self, &a)?, node(self, &b)?);
                self.fabric.apply(FaultRule::Partition(a, b));
            }
            Fault::Heal { a, b } => {
                let (a, b) = (node(self, &a)?, node(self, &b)?);
                self.fabric.apply(FaultRule::Heal(a, b));
            }
            Fault::HnsRestart { host } => self.host_mut(&host)?.hns_restart(false),
            Fault::Reboot { host } => {
                let i = self.host_index(&host)?;
                self.fabric.clear_neighbours(Some(i.0));
                self.host_mut(&host)?.hns_restart(true);
            }
        }
        Ok(())
    }

    pub(crate) fn host_mut(&mut self, host: &str) -> Result<&mut HostNode, UnknownName> {
        let i = self.host_index(host)?;
        Ok(self.hn_mut(i))
    }

    /// Replace a host's extra OS routes (flannel host-gw adds and re-checks them).
    pub fn set_host_routes(
        &mut self,
        host: &str,
        routes: Vec<(Ipv4Net, Ipv4Addr)>,
    ) -> Result<(), TopologyError> {
        let seg = self.host_mut(host)?.seg;
        let connected = self.fabric.spec(seg).prefix;
        let hn = self.host_mut(host)?;
        hn.spec.routes = routes;
        hn.rebuild_routes(connected);
        self.epoch += 1;
        Ok(())
    }

    /// Replace a host's IPv6 routes toward other nodes' dual-stack pod subnets (flannel host-gw
    /// style). Simplification: hnsim's underlay is IPv4-only, so a route names the next-hop
    /// node by its IPv4 address on the segment and its MAC is resolved by ARP (a dual-stack node
    /// would resolve the same MAC by ND on the node's IPv6 address).
    pub fn set_host_routes6(
        &mut self,
        host: &str,
        routes: Vec<(ipnet::Ipv6Net, Ipv4Addr)>,
    ) -> Result<(), TopologyError> {
        self.host_mut(host)?.stack.set_routes6(routes);
        self.epoch += 1;
        Ok(())
    }

    /// Attach a router to one more segment.
    pub fn add_router_interface(
        &mut self,
        router: &str,
        segment: &str,
        ip: Ipv4Addr,
        mac: Mac,
    ) -> Result<(), TopologyError> {
        let seg = self.segment_index(segment, ip, &format!("router {router}"))?;
        let i = *self
            .node_by_name
            .get(router)
            .ok_or_else(|| unknown("router", router))?;
        let Some((spec, segs)) = self.fabric.router_mut(i) else {
            return Err(unknown("router", router).into());
        };
        spec.interfaces.push(RouterInterface {
            segment: segment.to_string(),
            ip,
            mac,
        });
        segs.push(seg);
        self.epoch += 1;
        Ok(())
    }

    /// Add a static route to a router (e.g. an external IP toward a node).
    pub fn add_router_route(
        &mut self,
        router: &str,
        prefix: Ipv4Net,
        next_hop: Ipv4Addr,
    ) -> Result<(), TopologyError> {
        let i = *self
            .node_by_name
            .get(router)
            .ok_or_else(|| unknown("router", router))?;
        let Some((spec, _)) = self.fabric.router_mut(i) else {
            return Err(unknown("router", router).into());
        };
        spec.routes.push((prefix, next_hop));
        self.epoch += 1;
        Ok(())
    }

    /// Forget every established flow, NAT session and SNAT port reservation on every host (VFP
    /// state only; HNS objects stay). For first-packet benchmarks, which need fresh flows.
    pub fn flush_flows(&mut self) {
        for h in self.hosts_mut() {
            h.vfp.flush();
        }
    }

    /// Bring a host's dataplane program up to date with its HNS state now (it is otherwise done
    /// lazily before a packet) and say what the compile rebuilt (nothing when it was current).
    pub fn recompile(&mut self, host: &str) -> Result<crate::compile::CompileStats, UnknownName> {
        let i = self.host_index(host)?;
        if self.hn(i).vfp.is_current(self.hn(i).hns.generation) {
            return Ok(Default::default());
        }
        self.ensure_compiled(i);
        Ok(self.hn(i).vfp.program().stats)
    }

    /// Compile errors of a host's current HNS state (policies the dataplane skipped).
    pub fn compile_errors(&mut self, host: &str) -> Result<Vec<String>, UnknownName> {
        let i = self.host_index(host)?;
        self.ensure_compiled(i);
        Ok((self.hn(i).vfp.program().errors.iter())
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_stack::Via;

    fn world_with_host(routes: Vec<(Ipv4Net, Ipv4Addr)>) -> World {
        let mut w = World::new(1);
        w.add_segment(SegmentSpec {
            name: "lan".into(),
            prefix: "10.0.0.0/24".parse().unwrap(),
            mtu: 1500,
        })
        .unwrap();
        let mut spec = HostSpec::new("h", "lan", Ipv4Addr::new(10, 0, 0, 11), Mac([2, 0, 0, 0, 0, 11]));
        spec.gateway = Some(Ipv4Addr::new(10, 0, 0, 1));
        spec.routes = routes;
        w.add_host(spec).unwrap();
        w
    }

    fn route_of(w: &mut World, d: &str) -> Option<(Via, String, &'static str)> {
        let hn = w.host_mut("h").unwrap();
        hn.stack
            .route(d.parse().unwrap())
            .map(|(via, prefix, origin)| (via, prefix.to_string(), origin))
    }

    #[test]
    fn host_routes_rank_connected_then_gateway_then_os_routes_among_equal_prefixes() {
        let os_nh = Ipv4Addr::new(10, 0, 0, 99);
        let mut w = world_with_host(vec![
            ("0.0.0.0/0".parse().unwrap(), os_nh),
            ("10.0.0.0/24".parse().unwrap(), os_nh),
            ("192.168.0.0/16".parse().unwrap(), os_nh),
        ]);
        let gw = Ipv4Addr::new(10, 0, 0, 1);
        assert_eq!(
            route_of(&mut w, "8.8.8.8"),
            Some((Via::Uplink(Some(gw)), "0.0.0.0/0".into(), "default gateway"))
        );
        assert_eq!(
            route_of(&mut w, "10.0.0.50"),
            Some((Via::Uplink(None), "10.0.0.0/24".into(), "connected"))
        );
        assert_eq!(
            route_of(&mut w, "192.168.3.4"),
            Some((Via::Uplink(Some(os_nh)), "192.168.0.0/16".into(), "OS route"))
        );
    }

    #[test]
    fn replacing_os_routes_rebuilds_the_table() {
        let mut w = world_with_host(Vec::new());
        assert_eq!(
            route_of(&mut w, "192.168.3.4").map(|r| r.2),
            Some("default gateway")
        );
        w.set_host_routes(
            "h",
            vec![("192.168.0.0/16".parse().unwrap(), Ipv4Addr::new(10, 0, 0, 7))],
        )
        .unwrap();
        assert_eq!(route_of(&mut w, "192.168.3.4").map(|r| r.2), Some("OS route"));
    }
}
