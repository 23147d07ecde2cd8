//! The unified flow table (vfp.md "UFT"): the first packet of a connection runs every layer (slow
//! path) and caches the composed result; later packets of the flow, and its replies, take one
//! exact-match lookup per VFP point. Entries record the port's policy generation and are
//! re-checked lazily when it moves; idle entries expire on virtual time. The reverse translation
//! of a NAT'd connection is pinned where its reply shows up (the backend's port, the uplink or
//! the host stack) and survives policy changes. SNAT ports are handed out per host address in
//! blocks (64, as HNS does).

use crate::fasthash::FastMap;
use crate::path::Dir;
pub use crate::path::{NatLayer, Tuple, Zone};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Where a flow entry lives: a zone and a direction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FlowKey {
    pub zone: Zone,
    pub dir: Dir,
    pub tuple: Tuple,
}

/// The words of an address: IPv4 as one (tagged), IPv6 as two.
#[inline(always)]
fn addr_words<H: Hasher>(ip: &IpAddr, h: &mut H) {
    match ip {
        IpAddr::V4(a) => h.write_u64(u32::from(*a) as u64),
        IpAddr::V6(a) => h.write_u128(u128::from(*a) ^ (1 << 127)),
    }
}

// Hashed as a few whole words rather than field by field (the flow table is probed on every
// hop); consistent with `Eq`, which compares the same fields.
impl Hash for Tuple {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(((self.proto as u64) << 32) | ((self.sport as u64) << 16) | self.dport as u64);
        addr_words(&self.src, h);
        addr_words(&self.dst, h);
    }
}

impl Hash for FlowKey {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        let t = &self.tuple;
        h.write_u64(
            (self.zone.word() << 32)
                | ((matches!(self.dir, Dir::Out) as u64) << 24)
                | ((t.proto as u64) << 16)
                | t.sport as u64,
        );
        match (t.src, t.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                h.write_u64(((u32::from(s) as u64) << 32) | u32::from(d) as u64);
                h.write_u16(t.dport);
            }
            (s, d) => {
                h.write_u16(t.dport);
                addr_words(&s, h);
                addr_words(&d, h);
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Entry<A> {
    action: A,
    generation: u64,
    last_used: u64,
}

/// Exact-match flow cache. `A` is the composed action the engine caches.
#[derive(Clone, Debug)]
pub struct FlowTable<A> {
    map: FastMap<FlowKey, Entry<A>>,
    pub idle_timeout_ns: u64,
}

/// Why a lookup missed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Miss {
    Absent,
    /// The entry's generation is older than the port's: re-run the slow path (lazy re-check).
    Stale,
    Expired,
}

impl<A: Clone> FlowTable<A> {
    pub fn new(idle_timeout_ns: u64) -> Self {
        FlowTable {
            map: FastMap::default(),
            idle_timeout_ns,
        }
    }

    #[inline(always)]
    pub fn lookup(&mut self, key: &FlowKey, generation: u64, now: u64) -> Result<A, Miss> {
        match self.map.get_mut(key) {
            None => Err(Miss::Absent),
            Some(e) if e.generation != generation && e.generation != PINNED => Err(Miss::Stale),
            Some(e) if now.saturating_sub(e.last_used) > self.idle_timeout_ns => Err(Miss::Expired),
            Some(e) => {
                e.last_used = now;
                Ok(e.action.clone())
            }
        }
    }

    pub fn insert(&mut self, key: FlowKey, action: A, generation: u64, now: u64) {
        self.map.insert(
            key,
            Entry {
                action,
                generation,
                last_used: now,
            },
        );
    }

    /// An entry that survives policy changes: the reverse translation of an established NAT'd
    /// connection (VFP keeps NAT state across reprogramming; only idleness ends it).
    pub fn insert_pinned(&mut self, key: FlowKey, action: A, now: u64) {
        self.insert(key, action, PINNED, now);
    }

    /// Insert unless a live pinned entry holds the key (a reply's NAT restore wins over the
    /// stateful-ACL entry for the same tuple).
    pub fn insert_unless_pinned(&mut self, key: FlowKey, action: A, generation: u64, now: u64) {
        let idle = self.idle_timeout_ns;
        if let Some(e) = self.map.get(&key) {
            if e.generation == PINNED && now.saturating_sub(e.last_used) <= idle {
                return;
            }
        }
        self.insert(key, action, generation, now);
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

/// Generation of pinned entries (never stale).
pub const PINNED: u64 = u64::MAX;

// `NatLayer` is packet-path vocabulary (`crate::path`); the VFP layer it names is this
// module's business.
impl NatLayer {
    /// The layer that made the translation.
    pub fn layer(self) -> super::Layer {
        match self {
            NatLayer::Lb => super::Layer::SlbNat,
            NatLayer::OutboundNat => super::Layer::OutboundNat,
            NatLayer::PortMapping => super::Layer::PortMapping,
            NatLayer::WinNat => super::Layer::WinNat,
            NatLayer::Ics => super::Layer::Ics,
        }
    }

    pub fn name(self) -> &'static str {
        self.layer().as_str()
    }
}

/// SNAT ports of one host: per address a pool of `total` ports from `first`, reserved by owners
/// (ports) in blocks of `block` ports (consumers.md P13). Ports are never reused within a run
/// (inferred simplification: HNS returns them when connections close; exhausting a pool is what
/// tests need to reach).
#[derive(Clone, Debug)]
pub struct SnatPools {
    pub total: u32,
    pub block: u16,
    pub first: u16,
    pools: BTreeMap<IpAddr, Pool>,
}

/// Who reserves SNAT port blocks: an endpoint's port (its LB and OutBoundNAT connections), the
/// inbound LB on the uplink, or WinNAT / ICS in the host stack.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SnatOwner {
    Port(u32),
    InboundLb,
    WinNat,
}

#[derive(Clone, Debug, Default)]
struct Pool {
    blocks_reserved: u32,
    /// owner → (block start, ports used in block)
    current: BTreeMap<SnatOwner, (u16, u16)>,
}

impl SnatPools {
    pub fn new(total: u32, block: u16, first: u16) -> Self {
        SnatPools {
            total,
            block: block.max(1),
            first,
            pools: BTreeMap::new(),
        }
    }

    /// A fresh port on `addr` for `owner`, or `None` when no block is left.
    pub fn alloc(&mut self, addr: IpAddr, owner: SnatOwner) -> Option<u16> {
        let block = self.block;
        let max_blocks = self.total / block as u32;
        let space = (u16::MAX - self.first) as u32 / block as u32;
        let max_blocks = max_blocks.min(space);
        let pool = self.pools.entry(addr).or_default();
        let cur = pool.current.get(&owner).copied();
        match cur {
            Some((start, used)) if used < block => {
                pool.current.insert(owner, (start, used + 1));
                Some(start + used)
            }
            _ => {
                if pool.blocks_reserved >= max_blocks {
                    return None;
                }
                let start = self.first + (pool.blocks_reserved as u16) * block;
                pool.blocks_reserved += 1;
                pool.current.insert(owner, (start, 1));
                Some(start)
            }
        }
    }

    /// Blocks reserved on `addr`.
    pub fn blocks(&self, addr: IpAddr) -> u32 {
        self.pools.get(&addr).map(|p| p.blocks_reserved).unwrap_or(0)
    }

    pub fn clear(&mut self) {
        self.pools.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snat_blocks_of_64_then_exhaustion() {
        let mut p = SnatPools::new(128, 64, 49152);
        let a: IpAddr = "10.0.0.11".parse().unwrap();
        let ports: Vec<u16> = (0..128)
            .map(|_| p.alloc(a, SnatOwner::Port(1)).unwrap())
            .collect();
        assert_eq!(ports[0], 49152);
        assert_eq!(ports[64], 49216);
        assert_eq!(p.blocks(a), 2);
        assert_eq!(p.alloc(a, SnatOwner::Port(1)), None);
        assert_eq!(p.alloc(a, SnatOwner::WinNat), None);
    }

    #[test]
    fn stale_and_expired_entries_miss() {
        let mut t: FlowTable<u8> = FlowTable::new(100);
        let k = FlowKey {
            zone: Zone::Port(1),
            dir: Dir::Out,
            tuple: Tuple {
                proto: 6,
                src: "1.1.1.1".parse().unwrap(),
                sport: 1,
                dst: "2.2.2.2".parse().unwrap(),
                dport: 2,
            },
        };
        t.insert(k, 7, 3, 0);
        assert_eq!(t.lookup(&k, 3, 50), Ok(7));
        assert_eq!(t.lookup(&k, 4, 60), Err(Miss::Stale));
        assert_eq!(t.lookup(&k, 3, 500), Err(Miss::Expired));
    }
}
