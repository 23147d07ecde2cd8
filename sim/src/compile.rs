//! compile: one host's HNS state (+ host facts) → per-port VFP programs, the LB index, the
//! port-mapping table, the remote-endpoint table and the host's extra routes.
//!
//! A pure function: the same state gives the same program. It is re-run when `Hns::generation`
//! moves; a port keeps its policy generation when neither its own program nor the host-wide
//! tables changed, so established flows on untouched ports stay on the fast path.

use crate::fasthash::FastMap;
use crate::vfp::{AclRule, AclSet, Backend, Dir, LbIndex, LbMapping};
use hnsim_model::schema::{
    endpoint_flags, lb_flags, network_flags, EndpointPolicy, Network, NetworkPolicy, NetworkType,
    SubnetPolicy,
};
use hnsim_model::state::Hns;
use hnsim_model::{Guid, Mac};
use ipnet::Ipv4Net;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};

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
    fn of(t: &NetworkType) -> NetKind {
        match t {
            NetworkType::Nat => NetKind::Nat,
            NetworkType::Ics | NetworkType::ConstrainedIcs => NetKind::Ics,
            NetworkType::Transparent => NetKind::Transparent,
            NetworkType::L2Bridge => NetKind::L2Bridge,
            NetworkType::L2Tunnel => NetKind::L2Tunnel,
            NetworkType::Overlay => NetKind::Overlay,
            NetworkType::Private => NetKind::Private,
            NetworkType::Internal => NetKind::Internal,
            _ => NetKind::Other,
        }
    }
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
    pub vsid: Option<u32>,
    pub vxlan_port: u16,
    pub dr_mac: Option<Mac>,
    pub remote_subnets: Vec<RemoteSubnet>,
    pub host_route: bool,
    pub persistent: bool,
}

impl NetProgram {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.subnets.iter().any(|(n, _)| n.contains(&ip))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutboundNat {
    pub virtual_ip: Option<Ipv4Addr>,
    pub exceptions: Vec<Ipv4Net>,
    pub destinations: Vec<Ipv4Net>,
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
    pub routes: Vec<(Ipv4Net, Ipv4Addr)>,
    pub mtu: u16,
    pub acl_switch: [AclSet; 2],
    pub acl_host: [AclSet; 2],
    pub outbound_nat: Vec<OutboundNat>,
    pub sdn_routes: Vec<SdnRoute>,
    pub provider_address: Option<Ipv4Addr>,
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

/// How a host route leaves: the uplink (optional next hop) or into a network's vSwitch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    Uplink(Option<Ipv4Addr>),
    Switch(usize),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostRoute {
    pub prefix: Ipv4Net,
    pub via: Via,
    pub origin: &'static str,
}

/// A policy that could not be compiled (skipped), with its JSON path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CompileError {
    pub path: String,
    pub message: String,
}

/// Facts about the host the program is compiled for.
#[derive(Clone, Debug)]
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

/// The compiled dataplane program of one host.
#[derive(Clone, Debug, Default)]
pub struct HostProgram {
    pub hns_generation: u64,
    pub networks: Vec<NetProgram>,
    pub ports: Vec<PortProgram>,
    /// Policy generation per port (same index as `ports`).
    pub port_generation: Vec<u64>,
    pub port_by_ep: FastMap<Guid, u32>,
    pub port_by_ip: FastMap<Ipv4Addr, u32>,
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
    /// Fingerprint of the host-wide tables (LBs, networks, remote endpoints, port maps).
    shared_fingerprint: u64,
}

fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    s.trim().parse().ok()
}

fn parse_net(s: &str) -> Option<Ipv4Net> {
    let s = s.trim();
    if s.contains('/') {
        s.parse().ok()
    } else {
        parse_v4(s).map(|ip| Ipv4Net::new(ip, 32).unwrap_or_default())
    }
}

fn network_program(n: &Network) -> NetProgram {
    let mut subnets = Vec::new();
    let mut vsid = None;
    for s in n.subnets() {
        let Some(prefix) = parse_net(&s.ip_address_prefix) else {
            continue;
        };
        let gw = s
            .routes
            .iter()
            .find(|r| r.destination_prefix.trim() == "0.0.0.0/0")
            .and_then(|r| parse_v4(&r.next_hop));
        subnets.push((prefix, gw));
        for p in &s.policies {
            if let SubnetPolicy::Vsid(i) = p {
                vsid = Some(i.isolation_id);
            }
        }
    }
    let mut prog = NetProgram {
        id: n.id,
        name: n.name.clone(),
        kind: NetKind::of(&n.kind()),
        subnets,
        vsid,
        vxlan_port: 4789,
        dr_mac: None,
        remote_subnets: Vec::new(),
        host_route: false,
        persistent: n.flags & network_flags::ENABLE_NON_PERSISTENT == 0 && n.kind() != NetworkType::Nat,
    };
    for p in &n.policies {
        match p {
            NetworkPolicy::VxlanPort(v) if v.port != 0 => prog.vxlan_port = v.port,
            NetworkPolicy::HostRoute(_) => prog.host_route = true,
            NetworkPolicy::DrMacAddress(v) => prog.dr_mac = v.address.parse().ok(),
            NetworkPolicy::RemoteSubnetRoute(r) => {
                if let (Some(prefix), Some(pa)) =
                    (parse_net(&r.destination_prefix), parse_v4(&r.provider_address))
                {
                    prog.remote_subnets.push(RemoteSubnet {
                        prefix,
                        vni: r.isolation_id,
                        pa,
                        dr_mac: r.distributed_router_mac_address.parse().unwrap_or_default(),
                    });
                }
            }
            _ => {}
        }
    }
    prog
}

fn proto_of(p: u32) -> u8 {
    if p == 0 {
        6
    } else {
        p.min(255) as u8
    }
}

/// Compile `hns` for the host described by `info`. `prev` carries port generations forward.
pub fn compile(hns: &Hns, info: &HostInfo, prev: Option<&HostProgram>) -> HostProgram {
    let mut prog = HostProgram {
        hns_generation: hns.generation,
        ..Default::default()
    };
    let mut net_index: HashMap<Guid, usize> = HashMap::new();
    for n in hns.networks.values() {
        net_index.insert(n.id, prog.networks.len());
        prog.networks.push(network_program(n));
    }

    for ep in hns.endpoints.values() {
        let path = format!("endpoints[{}]", ep.id);
        let Some(net) = ep
            .host_compute_network
            .parse::<Guid>()
            .ok()
            .and_then(|g| net_index.get(&g).copied())
        else {
            prog.errors.push(CompileError {
                path: format!("{path}.HostComputeNetwork"),
                message: format!("no network {:?} on this host", ep.host_compute_network),
            });
            continue;
        };
        let Some(ip) = ep.ip_configurations.iter().find_map(|c| parse_v4(&c.ip_address)) else {
            continue; // IPv6-only or address-less endpoints carry no IPv4 dataplane
        };
        let mac: Mac = ep.mac_address.parse().unwrap_or_default();
        let mut pa = None;
        for p in &ep.policies {
            if let EndpointPolicy::ProviderAddress(a) = p {
                pa = parse_v4(&a.provider_address);
            }
        }
        if ep.flags & endpoint_flags::REMOTE_ENDPOINT != 0 {
            // Local endpoints never lose to remote ones with the same IP (P12): insert only if free.
            prog.remote_by_ip.entry(ip).or_insert(RemoteEndpoint {
                endpoint: ep.id,
                network: net,
                mac,
                pa,
            });
            continue;
        }
        let nprog = &prog.networks[net];
        let gateway = ep
            .routes
            .iter()
            .find(|r| r.destination_prefix.trim() == "0.0.0.0/0")
            .and_then(|r| parse_v4(&r.next_hop))
            .or_else(|| {
                nprog
                    .subnets
                    .iter()
                    .find(|(n, _)| n.contains(&ip))
                    .and_then(|(_, g)| *g)
            });
        let mut overhead = if nprog.kind == NetKind::Overlay {
            crate::packet::VXLAN_OVERHEAD
        } else {
            0
        };
        let mut acls: [Vec<AclRule>; 4] = Default::default();
        let mut outbound_nat = Vec::new();
        let mut sdn_routes = Vec::new();
        let mut port_maps = Vec::new();
        let index = prog.ports.len() as u32;
        for (i, p) in ep.policies.iter().enumerate() {
            let ppath = format!("{path}.Policies[{i}].Settings");
            match p {
                EndpointPolicy::Acl(a) => match AclRule::parse(a, i) {
                    Ok(r) => {
                        let slot = (r.host as usize) * 2 + (r.dir == Dir::Out) as usize;
                        acls[slot].push(r);
                    }
                    Err(message) => prog.errors.push(CompileError { path: ppath, message }),
                },
                EndpointPolicy::OutBoundNat(o) => {
                    let nets = |v: &Vec<String>, field: &str, errs: &mut Vec<CompileError>| {
                        let mut out = Vec::new();
                        for (j, s) in v.iter().enumerate() {
                            match parse_net(s) {
                                Some(n) => out.push(n),
                                None if s.contains(':') => {} // IPv6 entries do not apply to IPv4
                                None => errs.push(CompileError {
                                    path: format!("{ppath}.{field}[{j}]"),
                                    message: format!("expected an IPv4 address or CIDR, found {s:?}"),
                                }),
                            }
                        }
                        out
                    };
                    let exceptions = nets(&o.exceptions, "Exceptions", &mut prog.errors);
                    let destinations = nets(&o.destinations, "Destinations", &mut prog.errors);
                    if o.flags & hnsim_model::schema::nat_flags::IPV6 != 0 {
                        continue;
                    }
                    outbound_nat.push(OutboundNat {
                        virtual_ip: parse_v4(&o.virtual_ip),
                        exceptions,
                        destinations,
                    });
                }
                EndpointPolicy::SdnRoute(r) => match parse_net(&r.destination_prefix) {
                    Some(prefix) => sdn_routes.push(SdnRoute {
                        prefix,
                        next_hop: parse_v4(&r.next_hop),
                        need_encap: r.need_encap,
                    }),
                    None if r.destination_prefix.contains(':') => {}
                    None => prog.errors.push(CompileError {
                        path: format!("{ppath}.DestinationPrefix"),
                        message: format!("expected a CIDR, found {:?}", r.destination_prefix),
                    }),
                },
                EndpointPolicy::PortMapping(m) => {
                    if m.flags & hnsim_model::schema::nat_flags::IPV6 != 0 {
                        continue;
                    }
                    port_maps.push(PortMap {
                        port: index,
                        proto: proto_of(m.protocol),
                        external_port: m.external_port,
                        internal_port: if m.internal_port == 0 {
                            m.external_port
                        } else {
                            m.internal_port
                        },
                        vip: parse_v4(&m.vip),
                        local_routed: m.flags & hnsim_model::schema::nat_flags::LOCAL_ROUTED_VIP != 0,
                    });
                }
                EndpointPolicy::EncapOverhead(o) => overhead = o.overhead,
                _ => {}
            }
        }
        let [sw_in, sw_out, h_in, h_out] = acls;
        let (namespace, container, host_attached, running) = match hns.endpoint_location(&ep.id) {
            Some(l) => (
                Some(l.namespace),
                l.container,
                l.namespace_type == Some(hnsim_model::schema::NamespaceType::HostDefault)
                    || l.compartment == hnsim_model::state::HOST_DEFAULT_COMPARTMENT,
                l.running,
            ),
            None => (None, None, false, true),
        };
        for m in port_maps {
            prog.port_maps
                .entry((m.proto, m.external_port))
                .or_default()
                .push(m);
        }
        if host_attached {
            prog.host_addrs.push(ip);
            if let Some((n, _)) = nprog.subnets.iter().find(|(n, _)| n.contains(&ip)) {
                prog.host_routes.push(HostRoute {
                    prefix: *n,
                    via: Via::Switch(net),
                    origin: "host vNIC",
                });
            }
        }
        prog.port_by_ep.insert(ep.id, index);
        prog.port_by_ip.entry(ip).or_insert(index);
        prog.ports.push(PortProgram {
            endpoint: ep.id,
            name: if ep.name.is_empty() {
                ep.id.to_string()
            } else {
                ep.name.clone()
            },
            network: net,
            ip,
            mac,
            gateway,
            routes: ep
                .routes
                .iter()
                .filter(|r| r.destination_prefix.trim() != "0.0.0.0/0")
                .filter_map(|r| Some((parse_net(&r.destination_prefix)?, parse_v4(&r.next_hop)?)))
                .collect(),
            mtu: info
                .mtu
                .saturating_sub(overhead)
                .saturating_sub(info.container_mtu_reduction),
            acl_switch: [AclSet::new(sw_in), AclSet::new(sw_out)],
            acl_host: [AclSet::new(h_in), AclSet::new(h_out)],
            outbound_nat,
            sdn_routes,
            provider_address: pa,
            namespace,
            container,
            host_attached,
            running,
        });
    }
    for p in &prog.ports {
        if prog.networks[p.network].kind == NetKind::Transparent {
            prog.transparent_by_mac.entry(p.mac).or_insert(p.ip);
            prog.transparent_by_ip.entry(p.ip).or_insert(p.mac);
        }
    }
    // A remote endpoint whose IP is also a local endpoint's loses (kube-proxy keeps local ones).
    let locals: Vec<Ipv4Addr> = prog.port_by_ip.keys().copied().collect();
    for ip in locals {
        prog.remote_by_ip.remove(&ip);
    }

    for (i, n) in prog.networks.iter().enumerate() {
        // Host routes into a network: the host vNIC of NAT/ICS/Internal networks, the overlay
        // `HostRoute` policy, and L2Tunnel (all its traffic goes through the host, P15).
        if n.kind.host_vnic_at_gateway()
            || (n.kind == NetKind::Overlay && n.host_route)
            || n.kind == NetKind::L2Tunnel
        {
            for (prefix, gw) in &n.subnets {
                if n.kind.host_vnic_at_gateway() {
                    if let Some(gw) = gw {
                        prog.host_addrs.push(*gw);
                    }
                }
                prog.host_routes.push(HostRoute {
                    prefix: *prefix,
                    via: Via::Switch(i),
                    origin: match n.kind {
                        NetKind::Overlay => "HostRoute policy",
                        NetKind::L2Tunnel => "L2Tunnel",
                        _ => "host vNIC",
                    },
                });
            }
        }
    }

    for lb in hns.load_balancers.values() {
        let backends: Vec<Backend> = lb
            .host_compute_endpoints
            .iter()
            .filter_map(|s| s.parse::<Guid>().ok())
            .filter_map(|g| {
                let ep = hns.endpoints.get(&g)?;
                let ip = ep
                    .ip_configurations
                    .iter()
                    .find_map(|c| parse_v4(&c.ip_address))?;
                Some(Backend {
                    endpoint: g,
                    ip: IpAddr::V4(ip),
                })
            })
            .collect();
        let vips: Vec<IpAddr> = lb
            .frontend_vips
            .iter()
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        let source_vip: Option<IpAddr> = lb.source_vip.trim().parse().ok();
        for pm in &lb.port_mappings {
            let source_vip = match source_vip {
                Some(v) => Some(v),
                // P3: an empty SourceVIP means the node IP on older HNS, the VIP itself on newer
                // WS2019 builds (setting).
                None if info.empty_source_vip_uses_node_ip => Some(IpAddr::V4(info.ip)),
                None => vips.first().copied(),
            };
            prog.lbs.insert(LbMapping {
                lb: lb.id,
                proto: proto_of(pm.protocol),
                external_port: pm.external_port,
                internal_port: if pm.internal_port == 0 {
                    pm.external_port
                } else {
                    pm.internal_port
                },
                vips: vips.clone(),
                source_vip,
                dsr: lb.flags & lb_flags::DSR != 0,
                flags: pm.flags,
                distribution: pm.distribution_type,
                backends: backends.clone(),
            });
        }
    }

    // Generations: a port keeps its generation when its program and the shared tables are unchanged.
    prog.shared_fingerprint = {
        // A 64-bit hash of the host-wide tables (the hasher has fixed keys, so it is stable).
        let mut h = std::collections::hash_map::DefaultHasher::new();
        prog.networks.hash(&mut h);
        prog.lbs.mappings.hash(&mut h);
        let mut remotes: Vec<_> = prog.remote_by_ip.iter().collect();
        remotes.sort_by_key(|(ip, _)| **ip);
        remotes.hash(&mut h);
        let mut maps: Vec<_> = prog.port_maps.iter().collect();
        maps.sort_by_key(|(k, _)| **k);
        maps.hash(&mut h);
        prog.host_routes.hash(&mut h);
        // Which endpoint sits at which port index (cached exits name port indexes).
        for p in &prog.ports {
            (p.endpoint, p.ip, p.mac, p.network).hash(&mut h);
        }
        h.finish()
    };
    prog.port_generation = prog
        .ports
        .iter()
        .map(|p| {
            let Some(prev) = prev else {
                return hns.generation;
            };
            let same_shared = prev.shared_fingerprint == prog.shared_fingerprint;
            let new_index = prog.port_by_ep.get(&p.endpoint).copied();
            match prev.port_by_ep.get(&p.endpoint) {
                Some(&i) if same_shared && Some(i) == new_index && prev.ports.get(i as usize) == Some(p) => {
                    prev.port_generation[i as usize]
                }
                _ => hns.generation,
            }
        })
        .collect();
    prog
}
