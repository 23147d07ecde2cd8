//! Capture points: the frames seen at each host uplink (always, `HOST/uplink`) and at named ports
//! (on request, `HOST/ENDPOINT`), encoded to real bytes by `wire::encode` (VXLAN included), kept
//! with their virtual timestamps and written as classic pcap files by the `pcap` module.

use hnsim_model::Guid;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

/// What is captured where: the named port capture points asked for (`HOST/ENDPOINT-NAME` or
/// `HOST/ENDPOINT-GUID`) and the frames every point saw. Uplinks are always capture points.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Taps {
    frames: PcapSet,
    ports: BTreeSet<String>,
}

impl Taps {
    /// Capture at these named ports too.
    pub fn watch_ports(&mut self, ports: &[String]) {
        self.ports.extend(ports.iter().cloned());
    }

    /// Some port is watched (checked on every hop, before any name is built).
    #[inline]
    pub fn watches_ports(&self) -> bool {
        !self.ports.is_empty()
    }

    /// The capture point of a port of `node` (by endpoint name, else ID) when it is watched.
    pub fn port_point(&self, node: &str, endpoint_name: &str, endpoint: Guid) -> Option<String> {
        let by_name = format!("{node}/{endpoint_name}");
        let by_id = format!("{node}/{endpoint}");
        if self.ports.contains(&by_name) {
            Some(by_name)
        } else if self.ports.contains(&by_id) {
            Some(by_id)
        } else {
            None
        }
    }

    /// Record a frame (real bytes) seen at `point` at virtual time `t_ns`.
    pub fn record(&mut self, point: &str, t_ns: u64, frame: &[u8]) {
        self.frames.record(point, t_ns, frame);
    }

    /// The frames per capture point.
    pub fn frames(&self) -> &PcapSet {
        &self.frames
    }
}

/// One captured frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub t_ns: u64,
    pub frame: Vec<u8>,
}

/// Frames per capture point, in sorted point order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PcapSet {
    points: BTreeMap<String, Vec<Captured>>,
}

impl PcapSet {
    pub fn new() -> PcapSet {
        PcapSet::default()
    }

    pub fn record(&mut self, point: &str, t_ns: u64, frame: &[u8]) {
        let c = Captured {
            t_ns,
            frame: frame.to_vec(),
        };
        match self.points.get_mut(point) {
            Some(v) => v.push(c),
            None => {
                self.points.insert(point.to_string(), vec![c]);
            }
        }
    }

    /// Capture point names, sorted.
    pub fn points(&self) -> impl Iterator<Item = &str> {
        self.points.keys().map(String::as_str)
    }

    pub fn frames(&self, point: &str) -> &[Captured] {
        self.points.get(point).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// The pcap file of one point (header only when it saw nothing).
    pub fn to_pcap_bytes(&self, point: &str) -> Vec<u8> {
        self.bytes(point)
    }

    /// The pcap file of one point (same as [`PcapSet::to_pcap_bytes`]).
    pub fn bytes(&self, point: &str) -> Vec<u8> {
        let mut w = crate::pcap::PcapWriter::new();
        for c in self.frames(point) {
            // Only virtual times past 2106 fail; such frames are left out.
            let _ = w.record(c.t_ns, &c.frame);
        }
        w.bytes().to_vec()
    }

    /// Writes `<dir>/<point>.pcap` for every point (see `pcap::PcapSet::write_to_dir`).
    pub fn write_to_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut set = crate::pcap::PcapSet::new();
        for (point, frames) in &self.points {
            for c in frames {
                set.record(point, c.t_ns, &c.frame)?;
            }
        }
        set.write_to_dir(dir)
    }

    pub fn clear(&mut self) {
        self.points.clear();
    }
}

/// Encode a frame for capture; `out` is left empty when the packet cannot be encoded.
pub(crate) fn encode(pkt: &crate::packet::Packet, out: &mut Vec<u8>) {
    if crate::wire::encode(pkt, out).is_err() {
        out.clear();
    }
}
