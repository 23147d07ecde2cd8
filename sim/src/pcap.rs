//! pcap output: one classic pcap file per capture point (`node1-uplink`, `node1-port-A`, …),
//! LINKTYPE_ETHERNET, nanosecond timestamps taken from VIRTUAL time. Written with the
//! `pcap-file` 2 crate's `PcapHeader` for the file header; the 16-byte record headers are
//! written here (its `PcapWriter` cannot hand back its buffer without being consumed). Always
//! little-endian, so the bytes are identical on every platform and run (no wall-clock value).
//!
//! Record layout (little-endian): ts_sec u32, ts_nsec u32, incl_len u32, orig_len u32, data.

use pcap_file::pcap::PcapHeader;
use pcap_file::{DataLink, Endianness, TsResolution};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Frames longer than this are truncated in the file (their original length is kept).
pub const SNAPLEN: u32 = 65535;

/// One capture file in memory.
pub struct PcapWriter {
    buf: Vec<u8>,
    frames: usize,
}

impl std::fmt::Debug for PcapWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapWriter")
            .field("frames", &self.frames)
            .finish()
    }
}

impl Default for PcapWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapWriter {
    pub fn new() -> PcapWriter {
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: SNAPLEN,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
        };
        let mut buf = Vec::with_capacity(4096);
        // Writing into a Vec cannot fail; 24 bytes either way.
        let _ = header.write_to(&mut buf);
        PcapWriter { buf, frames: 0 }
    }

    /// Appends one frame seen at virtual time `t_ns` (nanoseconds since the simulation start).
    pub fn record(&mut self, t_ns: u64, frame: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(frame.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB"))?;
        let secs = u32::try_from(t_ns / 1_000_000_000).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("virtual time {t_ns} ns does not fit pcap's 32-bit seconds"),
            )
        })?;
        let nanos = (t_ns % 1_000_000_000) as u32;
        let incl = frame.len().min(SNAPLEN as usize);
        for v in [secs, nanos, incl as u32, orig_len] {
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.buf.extend_from_slice(&frame[..incl]);
        self.frames += 1;
        Ok(())
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    /// The file's bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// All capture points of a run, iterated (and written) in sorted name order.
#[derive(Debug, Default)]
pub struct PcapSet {
    points: BTreeMap<String, PcapWriter>,
}

impl PcapSet {
    pub fn new() -> PcapSet {
        PcapSet::default()
    }

    /// Appends `frame` to the capture of `point`, creating it on first use. Virtual times past
    /// year 2106 (u32 seconds) cannot be stored and are an error.
    pub fn record(&mut self, point: &str, t_ns: u64, frame: &[u8]) -> io::Result<()> {
        if let Some(w) = self.points.get_mut(point) {
            return w.record(t_ns, frame);
        }
        let mut w = PcapWriter::new();
        w.record(t_ns, frame)?;
        self.points.insert(point.to_string(), w);
        Ok(())
    }

    /// Capture point names, sorted.
    pub fn points(&self) -> impl Iterator<Item = &str> {
        self.points.keys().map(String::as_str)
    }

    /// The pcap file bytes of `point` (an empty capture — header only — if it saw no frame).
    pub fn bytes(&self, point: &str) -> Vec<u8> {
        match self.points.get(point) {
            Some(w) => w.bytes().to_vec(),
            None => PcapWriter::new().bytes().to_vec(),
        }
    }

    /// Writes `<dir>/<point>.pcap` for every point (creating `dir`), in sorted order, and
    /// returns the paths. Characters other than ASCII letters, digits, `-`, `_` and `.` in a
    /// point name become `_`; two points that map to the same file name are an error.
    pub fn write_to_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut names = BTreeMap::new();
        for point in self.points.keys() {
            let file = format!("{}.pcap", file_stem(point));
            if let Some(other) = names.insert(file.clone(), point) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("capture points {other:?} and {point:?} both map to file {file:?}"),
                ));
            }
        }
        std::fs::create_dir_all(dir)?;
        let mut paths = Vec::with_capacity(self.points.len());
        for (point, w) in &self.points {
            let path = dir.join(format!("{}.pcap", file_stem(point)));
            std::fs::write(&path, w.bytes())?;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// A capture point name as a file stem: safe on every platform, never empty, never `..`.
pub fn file_stem(point: &str) -> String {
    let s: String = point
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        format!("_{s}")
    } else {
        s
    }
}
