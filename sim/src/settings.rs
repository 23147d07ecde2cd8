//! settings: what the dataplane components share without depending on `World` — the
//! behaviours HNS leaves undocumented ([`DataplaneSettings`]) and the packet-path work
//! [`Counters`]. `World` re-exports both.

use serde::{Deserialize, Serialize};

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
    /// SNAT ports per host address available to VFP NAT (handed out in blocks of `snat_block`;
    /// capped by the port space above `snat_first_port`). Default: the Windows dynamic range.
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
    /// The host forwards packets not addressed to it (flannel host-gw and L2Bridge setups enable
    /// forwarding on the vNICs, consumers.md §2.2).
    pub ip_forwarding: bool,
    /// ICS networks (the Hyper-V Default Switch, WSL) share the host's connection: egress is
    /// NATed to the host address like WinNAT (hns-schema.md §2.2, §5.7). Off = no external path.
    pub ics_shares_connection: bool,
    /// How much traffic an endpoint's `QOS` token bucket holds, as time at its rate (virtual
    /// ns; at least one full frame). HNS does not document a burst size: inferred, docs/qos.md.
    pub qos_burst_ns: u64,
}

impl Default for DataplaneSettings {
    fn default() -> Self {
        DataplaneSettings {
            acl_default_block_when_rules_exist: true,
            acl_default_allow_when_no_rules: true,
            empty_source_vip_uses_node_ip: true,
            snat_pool_ports: 16384,
            snat_block: 64,
            snat_first_port: 49152,
            flow_idle_timeout_ns: 240_000_000_000,
            honour_local_routed_vip: true,
            session_affinity: true,
            container_mtu_reduction: 0,
            ip_forwarding: true,
            ics_shares_connection: true,
            qos_burst_ns: 100_000_000,
        }
    }
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
