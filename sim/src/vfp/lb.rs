//! The load-balancer layer: HNS `HostComputeLoadBalancer` objects compiled into an index that
//! finds the mapping for a packet in O(1) — by (protocol, VIP, port), or by (protocol, port) for
//! LBs with no `FrontendVIPs` (NodePort: "any local address", consumers.md §8). The `HashMap`s are
//! used for lookup only; nothing iterates them.

use crate::fasthash::FastMap;
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

/// What a load-balancing point still needs of a mapping after [`dnat`] chose the backend:
/// copied out so that the mapping stays borrowed from the program only for the choice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LbHit {
    pub lb: Guid,
    pub external_port: u16,
    pub internal_port: u16,
    pub source_vip: Option<IpAddr>,
    pub dsr: bool,
}

impl LbMapping {
    pub(crate) fn summary(&self) -> LbHit {
        LbHit {
            lb: self.lb,
            external_port: self.external_port,
            internal_port: self.internal_port,
            source_vip: self.source_vip,
            dsr: self.dsr,
        }
    }
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

/// The LB index of one host. Mappings live in slots so that one LB can be replaced without
/// rebuilding the rest (incremental compile); a key two mappings claim goes to the first in
/// (LB GUID, port-mapping index) order, as HNS compiles them.
#[derive(Clone, Debug, Default)]
pub struct LbIndex {
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    live: usize,
    seq: u32,
    by_vip: FastMap<(u8, IpAddr, u16), u32>,
    by_port: FastMap<(u8, u16), u32>,
    /// How many mappings claim each key (more than one only when LBs clash).
    vip_claims: FastMap<(u8, IpAddr, u16), u32>,
    port_claims: FastMap<(u8, u16), u32>,
    /// Frontend VIPs (any port) with the number of mappings naming them.
    vips: FastMap<IpAddr, u32>,
}

#[derive(Clone, Debug)]
struct Slot {
    order: (Guid, u32),
    m: LbMapping,
}

#[derive(Copy, Clone, PartialEq, Eq, Hash)]
enum Key {
    Vip(u8, IpAddr, u16),
    Port(u8, u16),
}

fn keys(m: &LbMapping) -> impl Iterator<Item = Key> + '_ {
    let port_key = m.vips.is_empty().then_some(Key::Port(m.proto, m.external_port));
    port_key
        .into_iter()
        .chain(m.vips.iter().map(|v| Key::Vip(m.proto, *v, m.external_port)))
}

impl LbIndex {
    /// Add a mapping; among mappings added this way, the first added wins a key both claim.
    pub fn insert(&mut self, m: LbMapping) -> u32 {
        self.seq += 1;
        let order = (m.lb, self.seq);
        self.insert_ordered(m, order.1)
    }

    /// Add port mapping number `index` of LB `m.lb`; returns its slot.
    pub fn insert_ordered(&mut self, m: LbMapping, index: u32) -> u32 {
        let order = (m.lb, index);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        for k in keys(&m) {
            match k {
                Key::Vip(p, v, port) => {
                    *self.vips.entry(v).or_insert(0) += 1;
                    *self.vip_claims.entry((p, v, port)).or_insert(0) += 1;
                    let cur = self.by_vip.get(&(p, v, port)).copied();
                    if cur.is_none_or(|c| self.order_of(c) > order) {
                        self.by_vip.insert((p, v, port), slot);
                    }
                }
                Key::Port(p, port) => {
                    *self.port_claims.entry((p, port)).or_insert(0) += 1;
                    let cur = self.by_port.get(&(p, port)).copied();
                    if cur.is_none_or(|c| self.order_of(c) > order) {
                        self.by_port.insert((p, port), slot);
                    }
                }
            }
        }
        self.slots[slot as usize] = Some(Slot { order, m });
        self.live += 1;
        slot
    }

    fn order_of(&self, slot: u32) -> (Guid, u32) {
        match self.slots.get(slot as usize) {
            Some(Some(s)) => s.order,
            _ => (Guid(u128::MAX), u32::MAX),
        }
    }

    /// Remove the mapping in `slot` (from [`LbIndex::insert_ordered`]).
    pub fn remove(&mut self, slot: u32) {
        let Some(Slot { m, .. }) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.live -= 1;
        self.free.push(slot);
        for k in keys(&m) {
            match k {
                Key::Vip(p, v, port) => {
                    if let Some(n) = self.vips.get_mut(&v) {
                        *n -= 1;
                        if *n == 0 {
                            self.vips.remove(&v);
                        }
                    }
                    let left = match self.vip_claims.get_mut(&(p, v, port)) {
                        Some(n) => {
                            *n -= 1;
                            *n
                        }
                        None => 0,
                    };
                    if left == 0 {
                        self.vip_claims.remove(&(p, v, port));
                        self.by_vip.remove(&(p, v, port));
                    } else if self.by_vip.get(&(p, v, port)) == Some(&slot) {
                        // A clash: hand the key to the next claimant (a scan, rare).
                        let next = self.first_claimant(Key::Vip(p, v, port));
                        if let Some(n) = next {
                            self.by_vip.insert((p, v, port), n);
                        }
                    }
                }
                Key::Port(p, port) => {
                    let left = match self.port_claims.get_mut(&(p, port)) {
                        Some(n) => {
                            *n -= 1;
                            *n
                        }
                        None => 0,
                    };
                    if left == 0 {
                        self.port_claims.remove(&(p, port));
                        self.by_port.remove(&(p, port));
                    } else if self.by_port.get(&(p, port)) == Some(&slot) {
                        let next = self.first_claimant(Key::Port(p, port));
                        if let Some(n) = next {
                            self.by_port.insert((p, port), n);
                        }
                    }
                }
            }
        }
    }

    fn first_claimant(&self, key: Key) -> Option<u32> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as u32, s)))
            .filter(|(_, s)| keys(&s.m).any(|k| k == key))
            .min_by_key(|(_, s)| s.order)
            .map(|(i, _)| i)
    }

    /// The live mappings in (LB GUID, port-mapping index) order.
    pub fn mappings(&self) -> Vec<&LbMapping> {
        let mut v: Vec<&Slot> = self.slots.iter().flatten().collect();
        v.sort_by_key(|s| s.order);
        v.into_iter().map(|s| &s.m).collect()
    }

    fn get(&self, slot: u32) -> Option<&LbMapping> {
        self.slots.get(slot as usize)?.as_ref().map(|s| &s.m)
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
            return self.get(*i);
        }
        if any_local && !self.by_port.is_empty() {
            *lookups += 1;
            if let Some(i) = self.by_port.get(&(proto, port)) {
                return self.get(*i);
            }
        }
        None
    }

    /// Is `ip` a frontend VIP of some LB (any port)? One hash probe.
    pub fn is_vip(&self, ip: IpAddr) -> bool {
        self.vips.contains_key(&ip)
    }

    pub fn len(&self) -> usize {
        self.live
    }
    pub fn is_empty(&self) -> bool {
        self.live == 0
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
    choose_index(m, seed, src, src_port, nonce, affinity_supported).and_then(|i| m.backends.get(i))
}

/// [`choose`], as an index into the mapping's backends.
fn choose_index(
    m: &LbMapping,
    seed: u64,
    src: IpAddr,
    src_port: u16,
    nonce: u64,
    affinity_supported: bool,
) -> Option<usize> {
    if m.backends.is_empty() {
        return None;
    }
    let h = match m.distribution {
        1 => mix(seed, &[ip_word(src), m.proto as u64]),
        2 if affinity_supported => mix(seed, &[ip_word(src)]),
        _ => mix(seed, &[ip_word(src), src_port as u64, m.proto as u64, nonce]),
    };
    Some((h % m.backends.len() as u64) as usize)
}

/// `hnsim reach`'s handle on backend choice (a witness-only hook, `crate::reach`): left at its
/// default the packet path hashes as always and only notes its choices (the first, and up to
/// [`LbSteer::KEPT`] later ones).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LbSteer {
    /// At the next LB choices on this host, in order, where the LB spreads connections (no
    /// affinity), take the backend with these indexes (modulo the backend count) instead of
    /// hashing. Each choice consumes one, whatever the LB.
    pub take: std::collections::VecDeque<u32>,
    /// The first choice on this host since the steer was cleared.
    pub first: Option<LbChoice>,
    /// How many choices this host made since then.
    pub choices: u32,
    /// The choices after the first, up to [`LbSteer::KEPT`] (`choices` says whether more were
    /// made): `reach` enumerates their backends too.
    pub later: Vec<LbChoice>,
}

impl LbSteer {
    /// How many later choices are kept: a packet's way (request and reply) meets two or three
    /// LBs at most; the bound keeps the note small on a host that is never reset.
    pub const KEPT: usize = 7;
}

/// One backend choice.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LbChoice {
    /// The connection nonce of the choice: it grows over the whole world, so the smallest is the
    /// earliest choice of a packet's way over all hosts.
    pub nonce: u64,
    pub index: u32,
    /// The backends the choice could take: the backend count where the LB spreads, 1 where
    /// affinity pins the source to one.
    pub offered: u32,
    pub backend: IpAddr,
    /// The LB and the tuple it chose for (before its DNAT).
    pub lb: Guid,
    pub tuple: super::Tuple,
}

impl LbMapping {
    /// Does the choice vary per connection (rather than being fixed by the source address)?
    pub fn spreads(&self, affinity_supported: bool) -> bool {
        !(self.distribution == 1 || (self.distribution == 2 && affinity_supported))
    }
}

/// The DNAT every load-balancing point shares (a container port, the uplink, the host stack):
/// choose a backend, trace the choice, and rewrite the destination to the backend's
/// `InternalPort` (keeping the VIP with PreserveDIP). The caller adds SNAT and routing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dnat(
    m: &LbMapping,
    t: super::Tuple,
    seed: u64,
    nonce: u64,
    affinity_supported: bool,
    node: &str,
    steer: &mut LbSteer,
    tr: &mut crate::path::Tracer,
) -> Result<(Backend, super::Tuple), crate::trace::Disposition> {
    let spreads = m.spreads(affinity_supported);
    let index = match steer
        .take
        .pop_front()
        .filter(|_| spreads && !m.backends.is_empty())
    {
        Some(i) => Some(i as usize % m.backends.len()),
        None => choose_index(m, seed, t.src, t.sport, nonce, affinity_supported),
    };
    steer.choices = steer.choices.saturating_add(1);
    if let Some(i) = index {
        let c = LbChoice {
            nonce,
            index: i as u32,
            offered: if spreads { m.backends.len() as u32 } else { 1 },
            backend: m.backends[i].ip,
            lb: m.lb,
            tuple: t,
        };
        if steer.first.is_none() {
            steer.first = Some(c);
        } else if steer.later.len() < LbSteer::KEPT {
            steer.later.push(c);
        }
    }
    let picked = index.and_then(|i| m.backends.get(i));
    let Some(b) = picked.cloned() else {
        return Err(crate::trace::Disposition::NoMatchingLoadBalancer {
            node: node.to_string(),
            vip: t.dst,
            port: t.dport,
        });
    };
    tr.step(|| crate::trace::Step::LoadBalance {
        lb: m.lb.to_string(),
        vip: t.dst,
        port: t.dport,
        backend: format!("{} ({})", b.ip, b.endpoint),
    });
    let mut after = t;
    after.dst = if m.preserve_dip() { t.dst } else { b.ip };
    after.dport = m.internal_port;
    Ok((b, after))
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
    fn clashing_keys_go_to_the_first_lb_and_pass_on_when_it_is_removed() {
        let mut idx = LbIndex::default();
        let vip: IpAddr = "10.96.0.50".parse().unwrap();
        let mut late = mapping(vec![vip], 80);
        late.lb = Guid(9);
        late.internal_port = 9;
        let mut early = mapping(vec![vip], 80);
        early.lb = Guid(2);
        early.internal_port = 2;
        let s_late = idx.insert_ordered(late, 0);
        let s_early = idx.insert_ordered(early, 0);
        let mut n = 0;
        assert_eq!(idx.find(6, vip, 80, false, &mut n).unwrap().internal_port, 2);
        idx.remove(s_early);
        assert_eq!(idx.find(6, vip, 80, false, &mut n).unwrap().internal_port, 9);
        assert!(idx.is_vip(vip));
        idx.remove(s_late);
        assert!(idx.find(6, vip, 80, false, &mut n).is_none());
        assert!(!idx.is_vip(vip));
        assert!(idx.is_empty());
        // Freed slots are reused.
        let again = idx.insert(mapping(vec![], 30080));
        assert!([s_early, s_late].contains(&again));
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
