//! Fabric: the underlay's state — its segments (L2 broadcast domains with a prefix and an MTU)
//! and the faults acting on them, kept as rules ([`FaultRule`]) the fabric consults for every
//! frame (turmoil-net style): nodes down, host uplinks down, partitions between two nodes,
//! seeded loss and added latency per segment. It answers whether a frame leaves its sender
//! ([`Fabric::send`]) and whether, and after how long, it reaches its receiver
//! ([`Fabric::carry`]); the driver (`fabric.rs`) moves the frame, resolves neighbours and runs
//! routers and stations.
//!
//! Nodes are named by their index in the world; the fabric asks for a name only to write a drop.

use crate::trace::Disposition;
use ipnet::Ipv4Net;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Time a frame spends on a wire, besides the segment's configured latency (virtual ns).
pub const WIRE_NS: u64 = 1_000;

/// An underlay L2 segment (one broadcast domain with one IPv4 prefix).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSpec {
    pub name: String,
    pub prefix: Ipv4Net,
    /// Link MTU (IP bytes), typically 1500.
    pub mtu: u16,
}

/// A fault as the fabric keeps it (node and segment indexes).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FaultRule {
    NodeDown(usize),
    NodeUp(usize),
    /// A host's uplink.
    LinkDown(usize),
    LinkUp(usize),
    /// Seeded loss in percent (0 clears it).
    Loss {
        segment: usize,
        percent: u8,
    },
    /// One-way latency added on a segment.
    Latency {
        segment: usize,
        ns: u64,
    },
    Partition(usize, usize),
    Heal(usize, usize),
}

#[derive(PartialEq, Eq)]
struct Segment {
    spec: SegmentSpec,
    loss: u8,
    latency: u64,
}

/// The underlay (see the module doc).
#[derive(Default, PartialEq, Eq)]
pub struct Fabric {
    segments: Vec<Segment>,
    by_name: BTreeMap<String, usize>,
    partitions: BTreeSet<(usize, usize)>,
    down: BTreeSet<usize>,
    link_down: BTreeSet<usize>,
}

fn pair(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

impl Fabric {
    /// Add a segment; `None` when the name is taken.
    pub fn add_segment(&mut self, spec: SegmentSpec) -> Option<usize> {
        if self.by_name.contains_key(&spec.name) {
            return None;
        }
        let i = self.segments.len();
        self.by_name.insert(spec.name.clone(), i);
        self.segments.push(Segment {
            spec,
            loss: 0,
            latency: 0,
        });
        Some(i)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    #[inline]
    pub fn spec(&self, seg: usize) -> &SegmentSpec {
        &self.segments[seg].spec
    }

    pub fn specs(&self) -> impl Iterator<Item = &SegmentSpec> {
        self.segments.iter().map(|s| &s.spec)
    }

    /// Start or end a fault.
    pub fn apply(&mut self, rule: FaultRule) {
        match rule {
            FaultRule::NodeDown(n) => {
                self.down.insert(n);
            }
            FaultRule::NodeUp(n) => {
                self.down.remove(&n);
            }
            FaultRule::LinkDown(n) => {
                self.link_down.insert(n);
            }
            FaultRule::LinkUp(n) => {
                self.link_down.remove(&n);
            }
            FaultRule::Loss { segment, percent } => self.segments[segment].loss = percent.min(100),
            FaultRule::Latency { segment, ns } => self.segments[segment].latency = ns,
            FaultRule::Partition(a, b) => {
                self.partitions.insert(pair(a, b));
            }
            FaultRule::Heal(a, b) => {
                self.partitions.remove(&pair(a, b));
            }
        }
    }

    /// The node is up and (for a host) its uplink too.
    #[inline]
    fn up(&self, n: usize) -> bool {
        !self.down.contains(&n) && !self.link_down.contains(&n)
    }

    /// `a` and `b` can exchange frames directly (ARP asks this).
    pub fn reachable(&self, a: usize, b: usize) -> bool {
        self.up(a) && self.up(b) && !self.partitions.contains(&pair(a, b))
    }

    /// Node `from` puts a frame of `size` IP bytes (`df`: don't fragment) on `seg`: it leaves,
    /// or is dropped at the sender (down, uplink down, larger than the MTU with DF set).
    #[inline]
    pub fn send(
        &self,
        seg: usize,
        from: usize,
        size: u16,
        df: bool,
        name: impl Fn(usize) -> String,
    ) -> Result<(), Disposition> {
        if self.down.contains(&from) {
            return Err(Disposition::HostDown { node: name(from) });
        }
        if self.link_down.contains(&from) {
            return Err(Disposition::LinkDown { node: name(from) });
        }
        let mtu = self.segments[seg].spec.mtu;
        if size > mtu && df {
            return Err(Disposition::MtuExceeded {
                node: name(from),
                mtu,
                size,
            });
        }
        Ok(())
    }

    /// The frame `from` sent on `seg` travels to `to`: its delay on the wire, or the fault that
    /// stops it (receiver down, partition, seeded loss drawn from `rng`).
    #[inline]
    pub fn carry(
        &self,
        seg: usize,
        from: usize,
        to: usize,
        rng: &mut impl Rng,
        name: impl Fn(usize) -> String,
    ) -> Result<u64, Disposition> {
        if self.down.contains(&to) {
            return Err(Disposition::HostDown { node: name(to) });
        }
        if self.link_down.contains(&to) {
            return Err(Disposition::LinkDown { node: name(to) });
        }
        let s = &self.segments[seg];
        if self.partitions.contains(&pair(from, to)) {
            return Err(Disposition::Lost {
                segment: s.spec.name.clone(),
                reason: format!("partition between {} and {}", name(from), name(to)),
            });
        }
        if s.loss > 0 && rng.random_range(0..100u8) < s.loss {
            return Err(Disposition::Lost {
                segment: s.spec.name.clone(),
                reason: format!("seeded loss of {}%", s.loss),
            });
        }
        Ok(WIRE_NS + s.latency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::ip_len;
    use crate::testframes::{ip, mac, tcp_syn};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const NAMES: [&str; 3] = ["node1", "node2", "r1"];

    fn name(n: usize) -> String {
        NAMES[n].to_string()
    }

    fn lan() -> Fabric {
        let mut f = Fabric::default();
        let spec = SegmentSpec {
            name: "lan".into(),
            prefix: "10.0.0.0/24".parse().unwrap(),
            mtu: 1500,
        };
        assert_eq!(f.add_segment(spec.clone()), Some(0));
        assert_eq!(f.add_segment(spec), None, "names are unique");
        f
    }

    /// One frame in (real bytes), one verdict out: sent, then carried after the wire time.
    #[test]
    fn a_frame_crosses_a_healthy_segment_after_the_wire_time_plus_latency() {
        let mut f = lan();
        let frame = tcp_syn(
            (mac("00-15-5D-00-00-11"), mac("00-15-5D-00-00-12")),
            (ip("10.0.0.11"), 40000),
            (ip("10.0.0.12"), 80),
            128,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(f.send(0, 0, ip_len(&frame), true, name), Ok(()));
        assert_eq!(f.carry(0, 0, 1, &mut rng, name), Ok(WIRE_NS));
        f.apply(FaultRule::Latency {
            segment: 0,
            ns: 5_000,
        });
        assert_eq!(f.carry(0, 0, 1, &mut rng, name), Ok(WIRE_NS + 5_000));
    }

    #[test]
    fn faults_are_rules_the_fabric_consults() {
        let mut f = lan();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        f.apply(FaultRule::Partition(1, 0));
        assert!(!f.reachable(0, 1));
        assert!(f.reachable(0, 2));
        match f.carry(0, 0, 1, &mut rng, name) {
            Err(Disposition::Lost { segment, reason }) => {
                assert_eq!(segment, "lan");
                assert_eq!(reason, "partition between node1 and node2");
            }
            other => panic!("expected Lost, got {other:?}"),
        }
        f.apply(FaultRule::Heal(0, 1));
        assert!(f.carry(0, 0, 1, &mut rng, name).is_ok());
        f.apply(FaultRule::LinkDown(1));
        assert_eq!(
            f.carry(0, 0, 1, &mut rng, name),
            Err(Disposition::LinkDown { node: "node2".into() })
        );
        assert_eq!(
            f.send(0, 1, 40, true, name),
            Err(Disposition::LinkDown { node: "node2".into() })
        );
        f.apply(FaultRule::LinkUp(1));
        f.apply(FaultRule::NodeDown(2));
        assert_eq!(
            f.carry(0, 0, 2, &mut rng, name),
            Err(Disposition::HostDown { node: "r1".into() })
        );
        f.apply(FaultRule::NodeUp(2));
        f.apply(FaultRule::Loss {
            segment: 0,
            percent: 200,
        });
        assert!(matches!(
            f.carry(0, 0, 1, &mut rng, name),
            Err(Disposition::Lost { reason, .. }) if reason == "seeded loss of 100%"
        ));
    }

    #[test]
    fn a_frame_over_the_mtu_with_df_stays_at_the_sender() {
        let f = lan();
        assert_eq!(
            f.send(0, 0, 1501, true, name),
            Err(Disposition::MtuExceeded {
                node: "node1".into(),
                mtu: 1500,
                size: 1501,
            })
        );
        assert_eq!(
            f.send(0, 0, 1501, false, name),
            Ok(()),
            "no DF: it passes (no fragmentation modelled)"
        );
    }
}
