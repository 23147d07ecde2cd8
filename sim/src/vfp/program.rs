//! The compiled program of one host: what `compile` produces from HNS state and the VFP entry
//! points run — per-port programs ([`PortProgram`]: ACL sets, NAT, routes), per-network
//! programs ([`NetProgram`]), the LB index, port mappings, remote endpoints and the host routes
//! HNS adds, all in a [`HostProgram`]. Data only: it sits below both the compiler (`compile`,
//! which builds it) and the entry points (`Vfp`, which read it), so neither depends on the other.

use super::acl::{AclSet, Dir};
use super::lb::LbIndex;
use crate::fasthash::FastMap;
use crate::host_stack::HostRoute;
use crate::route::{Route, RouteTable};
use hnsim_model::schema::{Endpoint, Network};
use hnsim_model::state::{Cursor, EndpointLocation};
use hnsim_model::{Guid, Mac};
use ipnet::{Ipv4Net, Ipv6Net};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The network types the dataplane distinguishes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NetKind {
    Nat,
    Ics,
    Transparent,
    L2Bridge,
    L2Tunnel,
    Overlay,
    Private,
    Internal,
    /// A type without a dataplane model (Mirrored, Infiniband, …): endpoints only switch locally.
    Other,
}

impl NetKind {
    /// Internal vSwitch with a host vNIC at the gateway (NAT, ICS, Internal).
    pub fn host_vnic_at_gateway(self) -> bool {
        matches!(self, NetKind::Nat | NetKind::Ics | NetKind::Internal)
    }
}

/// A `RemoteSubnetRoute` network policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RemoteSubnet {
    pub prefix: Ipv4Net,
    pub vni: u32,
    pub pa: Ipv4Addr,
    pub dr_mac: Mac,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NetProgram {
    pub id: Guid,
    pub name: String,
    pub kind: NetKind,
    /// (prefix, gateway) per IPv4 subnet.
    pub subnets: Vec<(Ipv4Net, Option<Ipv4Addr>)>,
    /// (prefix, gateway from the `::/0` route) per IPv6 subnet: dual-stack = two subnets in one
    /// Ipam (hns-schema.md §2.2).
    pub subnets6: Vec<(Ipv6Net, Option<Ipv6Addr>)>,
    pub vsid: Option<u32>,
    pub vxlan_port: u16,
    pub dr_mac: Option<Mac>,
    pub remote_subnets: RouteTable<RemoteSubnet>,
    pub host_route: bool,
}

impl NetProgram {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.subnets.iter().any(|(n, _)| n.contains(&ip))
    }
    pub fn contains6(&self, ip: Ipv6Addr) -> bool {
        self.subnets6.iter().any(|(n, _)| n.contains(&ip))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutboundNat {
    pub virtual_ip: Option<Ipv4Addr>,
    pub exceptions: Vec<Ipv4Net>,
    pub destinations: Vec<Ipv4Net>,
}

/// An `OutBoundNAT` policy with the IPv6 flag (`Flags: 2`, consumers.md §3.1 dual-stack).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutboundNat6 {
    pub virtual_ip: Option<Ipv6Addr>,
    pub exceptions: Vec<Ipv6Net>,
    pub destinations: Vec<Ipv6Net>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SdnRoute {
    pub prefix: Ipv4Net,
    pub next_hop: Option<Ipv4Addr>,
    pub need_encap: bool,
}

/// A `PortMapping` endpoint policy (inbound NAT).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortMap {
    pub port: u32,
    pub proto: u8,
    pub external_port: u16,
    pub internal_port: u16,
    pub vip: Option<Ipv4Addr>,
    pub local_routed: bool,
}

/// One local endpoint's port program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortProgram {
    pub endpoint: Guid,
    pub name: String,
    pub network: usize,
    pub ip: Ipv4Addr,
    pub mac: Mac,
    pub gateway: Option<Ipv4Addr>,
    /// The endpoint's other `Routes` (prefix, next hop) in its compartment.
    pub routes: RouteTable<(Ipv4Net, Ipv4Addr)>,
    pub mtu: u16,
    pub acl_switch: [AclSet; 2],
    pub acl_host: [AclSet; 2],
    pub outbound_nat: Vec<OutboundNat>,
    pub sdn_routes: RouteTable<SdnRoute>,
    pub provider_address: Option<Ipv4Addr>,
    /// The IPv6 side of a dual-stack endpoint: its address, its `::/0` next hop (else the
    /// subnet's) and its OutBoundNAT policies with the IPv6 flag (2).
    pub ip6: Option<Ipv6Addr>,
    pub gateway6: Option<Ipv6Addr>,
    pub outbound_nat6: Vec<OutboundNat6>,
    /// The `QOS` policy's `MaximumOutgoingBandwidthInBytes` (bytes per second), metered by
    /// `vfp::meter` on every packet leaving the port.
    pub qos: Option<u64>,
    pub namespace: Option<Guid>,
    /// The HCS container owning the namespace, if any.
    pub container: Option<String>,
    /// Attached to the host's default compartment (e.g. flannel's `cbr0_ep`).
    pub host_attached: bool,
    /// The HCS container using the namespace runs (or no container uses it): packets are
    /// delivered only then.
    pub running: bool,
}

impl PortProgram {
    pub fn acl(&self, host: bool, dir: Dir) -> &AclSet {
        let i = match dir {
            Dir::In => 0,
            Dir::Out => 1,
        };
        if host {
            &self.acl_host[i]
        } else {
            &self.acl_switch[i]
        }
    }
}

/// A remote endpoint (`Flags: 1`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RemoteEndpoint {
    pub endpoint: Guid,
    pub network: usize,
    pub mac: Mac,
    pub pa: Option<Ipv4Addr>,
}

impl Route for RemoteSubnet {
    type Net = Ipv4Net;
    fn prefix(&self) -> Ipv4Net {
        self.prefix
    }
}

impl Route for SdnRoute {
    type Net = Ipv4Net;
    fn prefix(&self) -> Ipv4Net {
        self.prefix
    }
}

/// A policy that could not be compiled (skipped), with its JSON path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CompileError {
    pub path: String,
    pub message: String,
}

/// Facts about the host the program is compiled for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostInfo {
    pub ip: Ipv4Addr,
    pub mac: Mac,
    pub mtu: u16,
    pub container_mtu_reduction: u16,
    pub empty_source_vip_uses_node_ip: bool,
}

/// What one compile rebuilt (the rest was carried over from the previous program). Tests count
/// these so that a regression from incremental to full rebuilds fails.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompileStats {
    /// Everything was rebuilt (first compile, or a network or host fact changed).
    pub full: bool,
    /// Port programs (local endpoints) compiled.
    pub ports_rebuilt: u32,
    /// Remote endpoints compiled.
    pub remotes_rebuilt: u32,
    /// Load balancers compiled (each gives one LB-index entry per port mapping).
    pub lbs_rebuilt: u32,
}

/// How a compile found what changed (statistics for tests: work per change must not grow
/// with the size of the state).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeScan {
    /// Objects compared with their compiled form: the journalled ones, or every endpoint and
    /// LB when the HNS change journal could not be used.
    pub examined: u32,
    /// The changes were read from the HNS change journal.
    pub journal: bool,
}

/// The compiled dataplane program of one host.
#[derive(Clone, Debug, Default)]
pub struct HostProgram {
    pub hns_generation: u64,
    /// Shared (`Arc`) so that the slow path can hold a port's or network's program while it
    /// updates the host (flows, SNAT) without copying rule lists.
    pub networks: Vec<Arc<NetProgram>>,
    pub ports: Vec<Arc<PortProgram>>,
    /// Policy generation per port (same index as `ports`).
    pub port_generation: Vec<u64>,
    pub port_by_ep: FastMap<Guid, u32>,
    pub port_by_ip: FastMap<Ipv4Addr, u32>,
    /// Ports by the HCS container owning their namespace, in port order (a packet sent "from
    /// a container" looks its ports up here, not by scanning every port).
    pub ports_by_container: FastMap<String, Vec<u32>>,
    /// Ports by their IPv6 address (dual-stack endpoints).
    pub port_by_ip6: FastMap<Ipv6Addr, u32>,
    pub remote_by_ip: FastMap<Ipv4Addr, RemoteEndpoint>,
    pub lbs: LbIndex,
    pub port_maps: FastMap<(u8, u16), Vec<PortMap>>,
    /// Transparent endpoints answer ARP and receive frames on the underlay themselves: MAC → IP
    /// and IP → MAC (the first port in port order holding the address).
    pub transparent_by_mac: FastMap<Mac, Ipv4Addr>,
    pub transparent_by_ip: FastMap<Ipv4Addr, Mac>,
    /// Extra host-stack addresses (NAT gateways, host-attached endpoints).
    pub host_addrs: Vec<Ipv4Addr>,
    pub host_routes: Vec<HostRoute>,
    pub errors: Vec<CompileError>,
    /// What the compile that produced this program rebuilt.
    pub stats: CompileStats,
    /// How it found what to rebuild.
    pub scan: ChangeScan,
    /// The sources of the last compile and what each compiled to (for incremental compiles).
    pub(crate) cache: Cache,
}

// `compile`'s memo, kept with the program it produced so that the next compile can be
// incremental; only `compile` reads or writes it.

/// Per source object: the object as last compiled and its compiled unit.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cache {
    pub(crate) info: Option<HostInfo>,
    pub(crate) networks: Vec<Network>,
    pub(crate) net_index: HashMap<Guid, usize>,
    pub(crate) endpoints: BTreeMap<Guid, EpUnit>,
    /// Local endpoints (ports) by endpoint ID, in port order.
    pub(crate) locals: BTreeMap<Guid, LocalUnit>,
    /// Every remote endpoint by (IP, ID): the first for an IP wins it.
    pub(crate) remotes: BTreeMap<(Ipv4Addr, Guid), RemoteEndpoint>,
    pub(crate) lbs: BTreeMap<Guid, LbUnit>,
    /// (backend endpoint, LB) for every compiled LB: the LBs a changed endpoint feeds.
    pub(crate) lbs_by_backend: BTreeSet<(Guid, Guid)>,
    /// The HNS change journal's position at the last compile.
    pub(crate) journal: Option<Cursor>,
    /// Compile errors per endpoint and per load balancer, by object ID (only objects that have
    /// some), in ID order.
    pub(crate) errors: BTreeMap<Guid, Vec<CompileError>>,
    /// Compile errors of the networks (rebuilt with them), in network order.
    pub(crate) net_errors: Vec<CompileError>,
}

#[derive(Clone, Debug)]
pub(crate) struct EpUnit {
    /// A local endpoint as compiled (compared whole: ports read most of it). Boxed: the scan
    /// walks every unit, and most are remote endpoints that only need their fingerprint.
    pub(crate) src: Option<Box<Endpoint>>,
    /// A remote endpoint's `compile`'s `remote_fingerprint` (there are tens of thousands of them).
    pub(crate) fingerprint: u64,
    /// The IPv4 address a remote endpoint claims.
    pub(crate) remote_ip: Option<Ipv4Addr>,
}

#[derive(Clone, Debug)]
pub(crate) struct LocalUnit {
    pub(crate) location: Option<EndpointLocation>,
    pub(crate) port: Arc<PortProgram>,
    /// `PortMap::port` is filled in when the ports are laid out.
    pub(crate) port_maps: Vec<PortMap>,
}

#[derive(Clone, Debug)]
pub(crate) struct LbUnit {
    /// `compile`'s `lb_fingerprint` of the LB as compiled.
    pub(crate) fingerprint: u64,
    pub(crate) backends: Vec<Guid>,
    pub(crate) slots: Vec<u32>,
}
