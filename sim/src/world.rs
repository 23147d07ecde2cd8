//! The world: underlay segments, routers, stations and Windows hosts (each with its HNS control
//! plane and compiled dataplane), driven on one virtual clock with one seeded RNG.
//!
//! This is the API the scenario runner and the CLI code against; keep it stable (additions fine).

use crate::capture::PcapSet;
use crate::trace::{Exchange, L4};
use hnsim_model::state::{Hns, HostSettings};
use hnsim_model::{Guid, Mac};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

pub use crate::trace::{Disposition, Hop, Seen, Step, Trace};

/// An underlay L2 segment (one broadcast domain with one IPv4 prefix).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSpec {
    pub name: String,
    pub prefix: Ipv4Net,
    /// Link MTU (IP bytes), typically 1500.
    pub mtu: u16,
}

/// A router interface on a segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterInterface {
    pub segment: String,
    pub ip: Ipv4Addr,
    pub mac: Mac,
}

/// A router joining segments. Connected prefixes are routed automatically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterSpec {
    pub name: String,
    pub interfaces: Vec<RouterInterface>,
    #[serde(default)]
    pub default_route: Option<Ipv4Addr>,
    /// Static routes (prefix, next hop), e.g. a pod subnet toward its node (host-gw / UDR).
    #[serde(default)]
    pub routes: Vec<(Ipv4Net, Ipv4Addr)>,
}

/// Dataplane behaviours that HNS does not document; each is a choice (inferred) made configurable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataplaneSettings {
    /// ACL default when some ACL of the direction exists but none matches (consumers.md S13.5,
    /// unverified): `true` = block.
    pub acl_default_block_when_rules_exist: bool,
    /// ACL default when a direction has no ACL at all: `true` = allow (unverified).
    pub acl_default_allow_when_no_rules: bool,
    /// An LB with an empty `SourceVIP` SNATs to the node IP (older HNS) when true, or to the VIP
    /// itself (newer WS2019 builds, consumers.md P3) when false.
    pub empty_source_vip_uses_node_ip: bool,
    /// SNAT ports per host address available to VFP NAT (handed out in blocks of `snat_block`).
    pub snat_pool_ports: u32,
    /// Block size of SNAT port reservation (HNS reserves 64, consumers.md P13).
    pub snat_block: u16,
    /// First SNAT port.
    pub snat_first_port: u16,
    /// Idle timeout of a flow-table entry (virtual ns).
    pub flow_idle_timeout_ns: u64,
    /// LB port-mapping flag LocalRoutedVIP (2) makes a VIP reachable from the host (P2).
    pub honour_local_routed_vip: bool,
    /// Session affinity (`DistributionType` 2) is honoured (WS2022+, S7).
    pub session_affinity: bool,
    /// Inner MTU of a process-isolated container vNIC = link MTU − this for every network type
    /// (HNS uses 1450 on 1500 by design, P8). Overlay endpoints always subtract the encap overhead.
    pub container_mtu_reduction: u16,
}

impl Default for DataplaneSettings {
    fn default() -> Self {
        DataplaneSettings {
            acl_default_block_when_rules_exist: true,
            acl_default_allow_when_no_rules: true,
            empty_source_vip_uses_node_ip: true,
            snat_pool_ports: 64 * 16,
            snat_block: 64,
            snat_first_port: 49152,
            flow_idle_timeout_ns: 240_000_000_000,
            honour_local_routed_vip: true,
            session_affinity: true,
            container_mtu_reduction: 0,
        }
    }
}

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

/// An external client or Internet host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationSpec {
    pub name: String,
    pub segment: String,
    pub ip: Ipv4Addr,
    pub mac: Mac,
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
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

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    #[error("{kind} {name:?} already exists")]
    Duplicate { kind: &'static str, name: String },
    #[error("unknown {kind} {name:?}")]
    Unknown { kind: &'static str, name: String },
    #[error("{what}: address {ip} is not inside segment {segment} ({prefix})")]
    NotInSegment {
        what: String,
        ip: Ipv4Addr,
        segment: String,
        prefix: Ipv4Net,
    },
    #[error("cannot send from {from}: {reason}")]
    BadSource { from: String, reason: String },
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Counters of the packet path, for tests and benchmarks.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Packets that took the slow path through the VFP layers.
    pub slow_path: u64,
    /// Packets that matched an established flow (one exact-match lookup).
    pub fast_path: u64,
    /// Individual rule evaluations (ACL rules tested, LB/NAT/route entries examined).
    pub rule_evaluations: u64,
    /// Hash-table lookups on the packet path (flow table, LB index, MAC/neighbour tables).
    pub table_lookups: u64,
}

/// The node names of the topology, for `hnsim graph`.
pub type TopologyGraph = petgraph::Graph<String, String>;

/// A fresh HNS state for a host. (The `state` work adds `Hns::new(settings, seed)`; until it
/// lands the public fields are filled here.)
pub(crate) fn new_hns(settings: HostSettings, _seed: u64) -> Hns {
    Hns {
        settings,
        networks: Default::default(),
        endpoints: Default::default(),
        namespaces: Default::default(),
        load_balancers: Default::default(),
        routes: Default::default(),
        generation: 0,
    }
}

/// The simulated world. See the module doc.
pub struct World {
    pub(crate) seed: u64,
    pub(crate) now: u64,
    pub(crate) segments: std::collections::BTreeMap<String, SegmentSpec>,
    pub(crate) routers: std::collections::BTreeMap<String, RouterSpec>,
    pub(crate) stations: std::collections::BTreeMap<String, StationSpec>,
    pub(crate) hosts: std::collections::BTreeMap<String, (HostSpec, Hns)>,
    pub(crate) pcap: PcapSet,
    pub(crate) counters: Counters,
}

impl World {
    pub fn new(seed: u64) -> World {
        World {
            seed,
            now: 0,
            segments: Default::default(),
            routers: Default::default(),
            stations: Default::default(),
            hosts: Default::default(),
            pcap: PcapSet::default(),
            counters: Counters::default(),
        }
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn add_segment(&mut self, spec: SegmentSpec) -> Result<(), WorldError> {
        if self.segments.contains_key(&spec.name) {
            return Err(WorldError::Duplicate {
                kind: "segment",
                name: spec.name,
            });
        }
        self.segments.insert(spec.name.clone(), spec);
        Ok(())
    }
    pub fn add_router(&mut self, spec: RouterSpec) -> Result<(), WorldError> {
        self.routers.insert(spec.name.clone(), spec);
        Ok(())
    }
    pub fn add_host(&mut self, spec: HostSpec) -> Result<(), WorldError> {
        let hns = new_hns(spec.settings.clone(), self.seed);
        self.hosts.insert(spec.name.clone(), (spec, hns));
        Ok(())
    }
    pub fn add_station(&mut self, spec: StationSpec) -> Result<(), WorldError> {
        self.stations.insert(spec.name.clone(), spec);
        Ok(())
    }
    pub fn hns(&mut self, host: &str) -> Result<&mut Hns, WorldError> {
        self.hosts
            .get_mut(host)
            .map(|(_, h)| h)
            .ok_or_else(|| WorldError::Unknown {
                kind: "host",
                name: host.to_string(),
            })
    }
    pub fn listen(&mut self, _at: &Place, _proto: L4, _port: u16) -> Result<(), WorldError> {
        Ok(())
    }
    pub fn send(&mut self, req: &SendRequest) -> Result<Exchange, WorldError> {
        Ok(Exchange {
            request: Trace {
                hops: Vec::new(),
                disposition: Disposition::Unsupported {
                    node: req.from.to_string(),
                    what: "dataplane not built yet".into(),
                },
                delivered_to: None,
                seen: None,
            },
            reply: None,
        })
    }
    pub fn advance(&mut self, ns: u64) {
        self.now += ns;
    }
    pub fn fault(&mut self, _f: Fault) -> Result<(), WorldError> {
        Ok(())
    }
    pub fn enable_pcap(&mut self, _ports: &[String]) {}
    pub fn pcap(&self) -> &PcapSet {
        &self.pcap
    }
    pub fn graph(&self) -> TopologyGraph {
        TopologyGraph::new()
    }
    pub fn now(&self) -> u64 {
        self.now
    }
    pub fn counters(&self) -> Counters {
        self.counters
    }
    pub fn set_tracing(&mut self, _on: bool) {}
}
