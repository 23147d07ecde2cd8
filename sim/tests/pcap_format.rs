//! pcap files: byte-exact header and records, read back by pcap-file's reader, sorted capture
//! points, deterministic bytes, and the error cases.

use hnsim_sim::pcap::{file_stem, PcapSet, PcapWriter, SNAPLEN};
use pcap_file::pcap::PcapReader;
use pcap_file::{DataLink, Endianness, TsResolution};

#[test]
fn header_and_record_bytes() {
    let mut w = PcapWriter::new();
    w.record(1_500_000_123, &[0xaa, 0xbb, 0xcc]).unwrap();
    let b = w.bytes();
    // Nanosecond magic, little-endian; v2.4; tz 0; sigfigs 0; snaplen; LINKTYPE_ETHERNET (1).
    assert_eq!(&b[0..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
    assert_eq!(&b[4..8], &[2, 0, 4, 0]);
    assert_eq!(&b[8..16], &[0; 8]);
    assert_eq!(&b[16..20], &SNAPLEN.to_le_bytes());
    assert_eq!(&b[20..24], &1u32.to_le_bytes());
    // Record: 1 s, 500000123 ns, incl 3, orig 3, data.
    assert_eq!(&b[24..28], &1u32.to_le_bytes());
    assert_eq!(&b[28..32], &500_000_123u32.to_le_bytes());
    assert_eq!(&b[32..36], &3u32.to_le_bytes());
    assert_eq!(&b[36..40], &3u32.to_le_bytes());
    assert_eq!(&b[40..], &[0xaa, 0xbb, 0xcc]);
    assert_eq!(w.frames(), 1);
}

#[test]
fn pcap_file_reads_it_back() {
    let mut set = PcapSet::new();
    let frames: Vec<(u64, Vec<u8>)> = (0..5u64)
        .map(|i| (i * 1_000_000_007, vec![i as u8; 60 + i as usize]))
        .collect();
    for (t, f) in &frames {
        set.record("node1-uplink", *t, f).unwrap();
    }
    let bytes = set.bytes("node1-uplink");
    let mut r = PcapReader::new(&bytes[..]).unwrap();
    let h = r.header();
    assert_eq!(h.datalink, DataLink::ETHERNET);
    assert_eq!(h.ts_resolution, TsResolution::NanoSecond);
    assert_eq!(h.endianness, Endianness::Little);
    for (t, f) in &frames {
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.timestamp.as_nanos(), u128::from(*t));
        assert_eq!(&p.data[..], &f[..]);
        assert_eq!(p.orig_len as usize, f.len());
    }
    assert!(r.next_packet().is_none());
}

#[test]
fn points_are_sorted_and_written_as_files() {
    let build = || {
        let mut set = PcapSet::new();
        set.record("node2-uplink", 20, &[2; 42]).unwrap();
        set.record("node1-port-A", 10, &[1; 42]).unwrap();
        set.record("node1-uplink", 30, &[3; 42]).unwrap();
        set.record("node1-port-A", 40, &[4; 42]).unwrap();
        set
    };
    let set = build();
    assert_eq!(
        set.points().collect::<Vec<_>>(),
        ["node1-port-A", "node1-uplink", "node2-uplink"]
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pcap_format_points");
    let _ = std::fs::remove_dir_all(&dir);
    let paths = set.write_to_dir(&dir).unwrap();
    let names: Vec<_> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["node1-port-A.pcap", "node1-uplink.pcap", "node2-uplink.pcap"]
    );
    for (p, point) in paths.iter().zip(set.points()) {
        assert_eq!(std::fs::read(p).unwrap(), set.bytes(point));
    }
    // Same records → same bytes.
    let again = build();
    for point in set.points() {
        assert_eq!(set.bytes(point), again.bytes(point));
    }
    // Two frames on node1-port-A: header + 2 × (16 + 42).
    assert_eq!(set.bytes("node1-port-A").len(), 24 + 2 * 58);
    // A point that saw nothing is a valid empty capture.
    assert_eq!(set.bytes("nowhere").len(), 24);
}

#[test]
fn unsafe_names_are_sanitized_and_collisions_rejected() {
    assert_eq!(file_stem("node1-port-{a/b}"), "node1-port-_a_b_");
    assert_eq!(file_stem(".."), "_..");
    assert_eq!(file_stem(""), "_");
    let mut set = PcapSet::new();
    set.record("a/b", 0, &[0; 14]).unwrap();
    set.record("a_b", 0, &[0; 14]).unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pcap_format_collide");
    let err = set.write_to_dir(&dir).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("a_b.pcap"), "{err}");
}

#[test]
fn long_frames_are_truncated_and_late_times_rejected() {
    let mut w = PcapWriter::new();
    let big = vec![7u8; SNAPLEN as usize + 10];
    w.record(0, &big).unwrap();
    let b = w.bytes();
    assert_eq!(&b[32..36], &SNAPLEN.to_le_bytes());
    assert_eq!(&b[36..40], &(SNAPLEN + 10).to_le_bytes());
    assert_eq!(b.len(), 24 + 16 + SNAPLEN as usize);
    let before = w.bytes().len();
    assert!(w
        .record(u64::from(u32::MAX) * 1_000_000_000 + 1_000_000_000, &[1])
        .is_err());
    assert_eq!(w.bytes().len(), before, "a rejected record writes nothing");
}
