//! Capture points: the frames seen at each uplink (always) and at named ports (on request), with
//! their virtual timestamps, written as one classic pcap file per point.
//!
//! The `wire` work owns real packet encoding (`wire::encode`) and the pcap writer; until that lands
//! this module keeps the frames in memory in the same (point, t_ns, bytes) shape.

use std::collections::BTreeMap;

/// One captured frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub t_ns: u64,
    pub frame: Vec<u8>,
}

/// Frames per capture point, in a stable (sorted) order of point names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PcapSet {
    points: BTreeMap<String, Vec<Captured>>,
}

impl PcapSet {
    pub fn record(&mut self, point: &str, t_ns: u64, frame: &[u8]) {
        if let Some(v) = self.points.get_mut(point) {
            v.push(Captured {
                t_ns,
                frame: frame.to_vec(),
            });
        } else {
            self.points.insert(
                point.to_string(),
                vec![Captured {
                    t_ns,
                    frame: frame.to_vec(),
                }],
            );
        }
    }
    /// Capture point names (sorted).
    pub fn points(&self) -> impl Iterator<Item = &str> {
        self.points.keys().map(|s| s.as_str())
    }
    pub fn frames(&self, point: &str) -> &[Captured] {
        self.points.get(point).map(|v| v.as_slice()).unwrap_or(&[])
    }
    /// The classic pcap file (LINKTYPE_ETHERNET, nanosecond timestamps) for one point.
    pub fn to_pcap_bytes(&self, point: &str) -> Vec<u8> {
        let mut out = Vec::new();
        // Global header: nanosecond-resolution magic, version 2.4, snaplen 65535, Ethernet.
        out.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for c in self.frames(point) {
            let secs = (c.t_ns / 1_000_000_000) as u32;
            let nanos = (c.t_ns % 1_000_000_000) as u32;
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&nanos.to_le_bytes());
            out.extend_from_slice(&(c.frame.len() as u32).to_le_bytes());
            out.extend_from_slice(&(c.frame.len() as u32).to_le_bytes());
            out.extend_from_slice(&c.frame);
        }
        out
    }
    pub fn clear(&mut self) {
        self.points.clear();
    }
}

/// Encode a frame for capture. Real bytes come from the `wire` work's encoder; until it is merged
/// nothing is encoded (and nothing recorded).
pub(crate) fn encode(_pkt: &crate::packet::Packet, _out: &mut Vec<u8>) {}
