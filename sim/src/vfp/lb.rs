//! The load-balancer layer: HNS `HostComputeLoadBalancer` objects compiled into an index that
//! finds the mapping for a packet in O(1) — by (protocol, VIP, port), or by (protocol, port) for
//! LBs with no `FrontendVIPs` (NodePort: "any local address", consumers.md §8). The `HashMap`s are
//! used for lookup only; nothing iterates them.

use crate::fasthash::{FastMap, FastSet};
use hnsim_model::Guid;
use std::net::IpAddr;

/// A backend (DIP).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Backend {
    pub endpoint: Guid,
    pub ip: IpAddr,
}

/// One port mapping of one LB, with everything the slow path needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LbMapping {
    pub lb: Guid,
    pub proto: u8,
    pub external_port: u16,
    pub internal_port: u16,
    /// Empty = any local address (NodePort).
    pub vips: Vec<IpAddr>,
    pub source_vip: Option<IpAddr>,
    pub dsr: bool,
    /// LoadBalancerPortMappingFlags.
    pub flags: u32,
    pub distribution: u32,
    pub backends: Vec<Backend>,
}

impl LbMapping {
    pub fn ilb(&self) -> bool {
        self.flags & hnsim_model::schema::lb_port_flags::ILB != 0
    }
    pub fn local_routed_vip(&self) -> bool {
        self.flags & hnsim_model::schema::lb_port_flags::LOCAL_ROUTED_VIP != 0
    }
    pub fn preserve_dip(&self) -> bool {
        self.flags & hnsim_model::schema::lb_port_flags::PRESERVE_DIP != 0
    }
}

/// The LB index of one host.
#[derive(Clone, Debug, Default)]
pub struct LbIndex {
    pub mappings: Vec<LbMapping>,
    by_vip: FastMap<(u8, IpAddr, u16), u32>,
    by_port: FastMap<(u8, u16), u32>,
    vips: FastSet<IpAddr>,
}

impl LbIndex {
    /// Add a mapping; the first LB (in GUID order, as compiled) wins a key both claim.
    pub fn insert(&mut self, m: LbMapping) {
        let idx = self.mappings.len() as u32;
        if m.vips.is_empty() {
            self.by_port.entry((m.proto, m.external_port)).or_insert(idx);
        } else {
            self.vips.extend(m.vips.iter().copied());
            for vip in &m.vips {
                self.by_vip.entry((m.proto, *vip, m.external_port)).or_insert(idx);
            }
        }
        self.mappings.push(m);
    }

    /// Look up by VIP; `any_local` says the destination is one of this host's addresses, so
    /// port-only (NodePort) LBs apply too. `lookups` counts hash-table probes.
    pub fn find(
        &self,
        proto: u8,
        dst: IpAddr,
        port: u16,
        any_local: bool,
        lookups: &mut u64,
    ) -> Option<&LbMapping> {
        *lookups += 1;
        if let Some(i) = self.by_vip.get(&(proto, dst, port)) {
            return self.mappings.get(*i as usize);
        }
        if any_local && !self.by_port.is_empty() {
            *lookups += 1;
            if let Some(i) = self.by_port.get(&(proto, port)) {
                return self.mappings.get(*i as usize);
            }
        }
        None
    }

    /// Is `ip` a frontend VIP of some LB (any port)? One hash probe.
    pub fn is_vip(&self, ip: IpAddr) -> bool {
        self.vips.contains(&ip)
    }

    pub fn len(&self) -> usize {
        self.mappings.len()
    }
    pub fn is_empty(&self) -> bool {
        self.mappings.is_empty()
    }
}

/// A seeded, portable hash (SplitMix64 over the words) for backend choice and VXLAN source ports.
pub fn mix(seed: u64, words: &[u64]) -> u64 {
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    for w in words {
        h ^= *w;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

pub fn ip_word(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u64,
        IpAddr::V6(a) => {
            let v = u128::from(a);
            (v as u64) ^ ((v >> 64) as u64)
        }
    }
}

/// Choose a backend. DistributionType 0 hashes the whole 5-tuple plus a per-connection nonce
/// (each new connection is balanced independently); 1 hashes (source IP, protocol); 2 hashes the
/// source IP (session affinity) when the host honours it (WS2022+, consumers.md S7).
pub fn choose(
    m: &LbMapping,
    seed: u64,
    src: IpAddr,
    src_port: u16,
    nonce: u64,
    affinity_supported: bool,
) -> Option<&Backend> {
    if m.backends.is_empty() {
        return None;
    }
    let h = match m.distribution {
        1 => mix(seed, &[ip_word(src), m.proto as u64]),
        2 if affinity_supported => mix(seed, &[ip_word(src)]),
        _ => mix(seed, &[ip_word(src), src_port as u64, m.proto as u64, nonce]),
    };
    m.backends.get((h % m.backends.len() as u64) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(vips: Vec<IpAddr>, port: u16) -> LbMapping {
        LbMapping {
            lb: Guid(1),
            proto: 6,
            external_port: port,
            internal_port: 8080,
            vips,
            source_vip: None,
            dsr: false,
            flags: 0,
            distribution: 0,
            backends: vec![
                Backend {
                    endpoint: Guid(10),
                    ip: "10.244.1.10".parse().unwrap(),
                },
                Backend {
                    endpoint: Guid(11),
                    ip: "10.244.2.10".parse().unwrap(),
                },
            ],
        }
    }

    #[test]
    fn vip_and_nodeport_lookup() {
        let mut idx = LbIndex::default();
        idx.insert(mapping(vec!["10.96.0.50".parse().unwrap()], 80));
        idx.insert(mapping(vec![], 30080));
        let mut n = 0;
        assert!(idx
            .find(6, "10.96.0.50".parse().unwrap(), 80, false, &mut n)
            .is_some());
        assert!(idx
            .find(6, "10.96.0.50".parse().unwrap(), 81, false, &mut n)
            .is_none());
        assert!(idx
            .find(6, "10.0.0.11".parse().unwrap(), 30080, false, &mut n)
            .is_none());
        assert!(idx
            .find(6, "10.0.0.11".parse().unwrap(), 30080, true, &mut n)
            .is_some());
    }

    #[test]
    fn affinity_is_sticky_and_none_spreads() {
        let mut m = mapping(vec![], 80);
        m.distribution = 2;
        let src: IpAddr = "10.244.1.11".parse().unwrap();
        let first = choose(&m, 7, src, 1000, 0, true).unwrap().endpoint;
        for n in 1..20 {
            assert_eq!(
                choose(&m, 7, src, 1000 + n as u16, n, true).unwrap().endpoint,
                first
            );
        }
        m.distribution = 0;
        let picks: std::collections::BTreeSet<Guid> = (0..20)
            .map(|n| choose(&m, 7, src, 1000 + n as u16, n, true).unwrap().endpoint)
            .collect();
        assert_eq!(picks.len(), 2);
    }
}
