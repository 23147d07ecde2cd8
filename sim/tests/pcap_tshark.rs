//! Wireshark's dissectors as an independent check of `wire` + `pcap`. Runs when `tshark` is on
//! PATH (CI installs it); otherwise prints a note and passes, except under `CI=true`, where a
//! missing tshark fails.

use hnsim_model::Mac;
use hnsim_sim::packet::*;
use hnsim_sim::pcap::PcapSet;
use hnsim_sim::testkit::tshark_available;
use hnsim_sim::wire::{self, IcmpErrorKind, IcmpQuote};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn mac(s: &str) -> Mac {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// consumers.md §7 S8 packet 1: A (10.244.1.10) → C (10.244.2.10:80) SYN, encapsulated
/// node1 (10.0.0.11) → node2 (10.0.0.12), UDP 4789, VNI 4096.
fn s8_syn() -> Packet {
    Packet {
        outer: Some(VxlanOuter {
            eth: EthHeader {
                src: mac("00-15-5D-AA-00-11"),
                dst: mac("00-15-5D-AA-00-12"),
            },
            src: "10.0.0.11".parse().unwrap(),
            dst: "10.0.0.12".parse().unwrap(),
            ttl: 128,
            src_port: 50123,
            dst_port: 4789,
            vni: 4096,
        }),
        eth: EthHeader {
            src: mac("0E-2A-0a-f4-01-0a"),
            dst: mac("00-15-5D-AA-00-12"),
        },
        payload: Payload::Ip {
            ip: IpHeader {
                src: ip("10.244.1.10"),
                dst: ip("10.244.2.10"),
                ttl: 128,
                dont_fragment: true,
                ident: 0x0101,
            },
            l4: Transport::Tcp {
                src_port: 40000,
                dst_port: 80,
                seq: 12345,
                ack: 0,
                flags: tcp_flags::SYN,
            },
        },
        data_len: 0,
    }
}

fn write(set: &PcapSet, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let paths = set.write_to_dir(&dir).unwrap();
    assert_eq!(paths.len(), 1);
    paths[0].clone()
}

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Checksum validation on, so Wireshark reports bad checksums as errors.
const CHECK: [&str; 8] = [
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    "-o",
    "tcp.analyze_sequence_numbers:FALSE",
];

#[test]
fn tshark_sees_the_s8_vxlan_syn() {
    if !tshark_available() {
        return;
    }
    let mut set = PcapSet::new();
    let mut buf = Vec::new();
    wire::encode(&s8_syn(), &mut buf).unwrap();
    set.record("node1-uplink", 1_000, &buf).unwrap();
    let file = write(&set, "tshark_s8");
    let file = file.to_str().unwrap();

    let mut args = vec!["-r", file, "-T", "fields", "-E", "separator=|"];
    args.extend(CHECK);
    for f in [
        "vxlan.vni",
        "ip.src",
        "ip.dst",
        "udp.dstport",
        "tcp.dstport",
        "tcp.flags.syn",
        "ip.checksum.status",
        "tcp.checksum.status",
    ] {
        args.extend(["-e", f]);
    }
    let line = tshark(&args);
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(
        fields,
        [
            "4096",
            "10.0.0.11,10.244.1.10",
            "10.0.0.12,10.244.2.10",
            "4789",
            "80",
            "1",
            // 1 = PROTO_CHECKSUM_E_GOOD (0 bad, 2 unverified); outer and inner IPv4.
            "1,1",
            "1",
        ],
        "tshark fields: {line}"
    );
    // The frame time is the virtual time (1 µs after the epoch).
    let t = tshark(&["-r", file, "-T", "fields", "-e", "frame.time_epoch"]);
    assert_eq!(t.trim(), "0.000001000");
}

/// Every packet shape wire writes dissects without a malformed or bad-checksum complaint.
#[test]
fn tshark_finds_nothing_malformed() {
    if !tshark_available() {
        return;
    }
    let base = s8_syn();
    let inner = Packet { outer: None, ..base };
    let with = |ip_hdr: IpHeader, l4: Transport, data_len: u16| Packet {
        payload: Payload::Ip { ip: ip_hdr, l4 },
        data_len,
        ..inner
    };
    let v4 = IpHeader {
        src: ip("10.244.1.10"),
        dst: ip("10.244.2.10"),
        ttl: 64,
        dont_fragment: false,
        ident: 7,
    };
    let v6 = IpHeader {
        src: ip("fd00:1::10"),
        dst: ip("fd00:2::10"),
        ttl: 64,
        dont_fragment: true,
        ident: 0,
    };
    let echo = |t| Transport::Icmp {
        icmp_type: t,
        code: 0,
        id: 1,
        seq: 2,
    };
    // Ports without a Wireshark dissector: the pattern payload is not DNS or the like.
    let udp = Transport::Udp {
        src_port: 40001,
        dst_port: 33434,
    };
    let tcp = Transport::Tcp {
        src_port: 40000,
        dst_port: 80,
        seq: 1,
        ack: 2,
        flags: tcp_flags::ACK | tcp_flags::PSH,
    };
    let mut pkts = vec![
        base,
        Packet {
            data_len: 1400,
            ..base
        },
        with(v4, tcp, 1000),
        with(v4, udp, 33),
        with(v4, echo(8), 32),
        with(v4, echo(0), 32),
        with(v6, tcp, 999),
        with(v6, udp, 0),
        with(v6, echo(128), 32),
        with(v6, echo(129), 32),
        Packet {
            payload: Payload::Arp(Arp {
                op: ArpOp::Reply,
                sender_mac: mac("0E-2A-0a-f4-01-0a"),
                sender_ip: "10.244.1.10".parse().unwrap(),
                target_mac: mac("0E-2A-0a-f4-01-0b"),
                target_ip: "10.244.1.11".parse().unwrap(),
            }),
            data_len: 0,
            ..inner
        },
    ];
    let mut frames = Vec::new();
    let mut buf = Vec::new();
    for p in &pkts {
        wire::encode(p, &mut buf).unwrap();
        frames.push(buf.clone());
    }
    // ICMP errors with real quotes.
    let mut scratch = Vec::new();
    for (off, reporter) in [
        (with(v4, tcp, 1400), ip("10.244.1.1")),
        (with(v6, udp, 1400), ip("fd00:1::1")),
    ] {
        let quote = IcmpQuote::from_packet(&off, &mut scratch).unwrap();
        for kind in [
            IcmpErrorKind::TimeExceeded { code: 0 },
            IcmpErrorKind::PacketTooBig { mtu: 1450 },
            IcmpErrorKind::DestUnreachable { code: 3 },
        ] {
            let e = wire::icmp_error(kind, mac("00-15-5D-00-00-01"), reporter, &off, &quote).unwrap();
            wire::encode_icmp_error(&e, &quote, &mut buf).unwrap();
            frames.push(buf.clone());
            pkts.push(e);
        }
    }
    let mut set = PcapSet::new();
    for (i, f) in frames.iter().enumerate() {
        set.record("all", i as u64 * 1_000_000, f).unwrap();
    }
    let file = write(&set, "tshark_all");
    let mut args = vec!["-r", file.to_str().unwrap(), "-V"];
    args.extend(CHECK);
    let text = tshark(&args);
    assert_eq!(text.matches("\nFrame ").count() + 1, frames.len(), "{text}");
    for bad in [
        "Malformed",
        "Status: Bad",
        "status: Bad",
        "Bad checksum",
        "incorrect",
    ] {
        assert!(!text.contains(bad), "tshark reports {bad:?}:\n{text}");
    }
    // One good checksum per IP/transport header, at least one per frame except ARP.
    assert!(text.matches("[Checksum Status: Good]").count() >= frames.len() - 1);
    assert!(text.contains("Time-to-live exceeded"), "{text}");
    assert!(text.contains("MTU of next hop: 1450"), "{text}");
    assert!(text.contains("MTU: 1450"), "{text}");
}
