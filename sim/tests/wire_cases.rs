//! Fixed cases for `wire`: known byte vectors, the S8 VXLAN frame layout, every named error,
//! ICMP errors with quotes, and buffer reuse.

use hnsim_model::Mac;
use hnsim_sim::packet::*;
use hnsim_sim::wire::{self, IcmpErrorKind, IcmpQuote, Layer, WireError, VXLAN_OUTER_LEN};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn mac(s: &str) -> Mac {
    s.parse().unwrap()
}

fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse().unwrap())
}

fn tcp_syn(src: &str, dst: &str, sport: u16, dport: u16) -> Packet {
    Packet {
        outer: None,
        eth: EthHeader {
            src: mac("0E-2A-0a-f4-01-0a"),
            dst: mac("00-15-5D-AA-00-12"),
        },
        payload: Payload::Ip {
            ip: IpHeader {
                src: v4(src),
                dst: v4(dst),
                ttl: 128,
                dont_fragment: true,
                ident: 0x1234,
            },
            l4: Transport::Tcp {
                src_port: sport,
                dst_port: dport,
                seq: 1000,
                ack: 0,
                flags: tcp_flags::SYN,
            },
        },
        data_len: 0,
    }
}

/// consumers.md §7 S8 packet 1: A → C TCP 80 encapsulated node1 → node2, VNI 4096.
fn s8_vxlan_syn() -> Packet {
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
        ..tcp_syn("10.244.1.10", "10.244.2.10", 40000, 80)
    }
}

fn enc(p: &Packet) -> Vec<u8> {
    let mut b = Vec::new();
    wire::encode(p, &mut b).unwrap();
    b
}

#[test]
fn ipv4_header_matches_a_known_vector() {
    // The classic example header 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7
    // (UDP, 115 bytes total, DF, TTL 64): checksum 0xb861.
    let p = Packet {
        outer: None,
        eth: EthHeader {
            src: mac("02-00-00-00-00-01"),
            dst: mac("02-00-00-00-00-02"),
        },
        payload: Payload::Ip {
            ip: IpHeader {
                src: v4("192.168.0.1"),
                dst: v4("192.168.0.199"),
                ttl: 64,
                dont_fragment: true,
                ident: 0,
            },
            l4: Transport::Udp {
                src_port: 1,
                dst_port: 2,
            },
        },
        data_len: 115 - 20 - 8,
    };
    let b = enc(&p);
    let want = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0,
        0xa8, 0x00, 0xc7,
    ];
    assert_eq!(&b[14..34], &want);
    assert_eq!(&b[12..14], &[0x08, 0x00]);
    assert_eq!(b.len(), 14 + 115);
}

#[test]
fn s8_vxlan_frame_layout() {
    let p = s8_vxlan_syn();
    let b = enc(&p);
    let inner = enc(&Packet { outer: None, ..p });
    assert_eq!(
        &b[VXLAN_OUTER_LEN..],
        &inner[..],
        "inner frame follows the outer headers"
    );
    assert_eq!(b.len(), inner.len() + 50);
    // Outer IPv4: total length = inner IP packet + VXLAN_OVERHEAD (inner Ethernet counted).
    let outer_total = u16::from_be_bytes([b[16], b[17]]);
    let inner_total = u16::from_be_bytes([inner[16], inner[17]]);
    assert_eq!(outer_total, inner_total + VXLAN_OVERHEAD);
    assert_eq!(b[23], 17, "outer protocol UDP");
    assert_eq!(&b[26..30], &[10, 0, 0, 11]);
    assert_eq!(&b[30..34], &[10, 0, 0, 12]);
    assert_eq!(u16::from_be_bytes([b[36], b[37]]), 4789);
    assert_eq!(&b[40..42], &[0, 0], "outer UDP checksum 0 (RFC 7348)");
    assert_eq!(
        &b[42..50],
        &[0x08, 0, 0, 0, 0x00, 0x10, 0x00, 0],
        "I flag, VNI 4096"
    );
    assert_eq!(wire::decode(&b).unwrap(), p);
    // On another port it is plain UDP unless that port is configured.
    let mut q = p;
    q.outer.as_mut().unwrap().dst_port = 8472;
    let b = enc(&q);
    let plain = wire::decode(&b).unwrap();
    assert_eq!(plain.outer, None);
    assert!(matches!(
        plain.payload,
        Payload::Ip {
            l4: Transport::Udp { dst_port: 8472, .. },
            ..
        }
    ));
    assert_eq!(usize::from(plain.data_len), b.len() - 42);
    assert_eq!(wire::decode_with_vxlan_ports(&b, &[8472]).unwrap(), q);
}

/// S8 packet 4: a 1500-byte inner IP packet becomes a 1550-byte outer one (> 1500 MTU).
#[test]
fn vxlan_adds_50_bytes_to_the_ip_length() {
    let mut p = s8_vxlan_syn();
    p.data_len = 1500 - 40;
    assert_eq!(wire::ip_len(&Packet { outer: None, ..p }), Some(1500));
    assert_eq!(wire::ip_len(&p), Some(1550));
    assert_eq!(wire::frame_len(&p), 1564);
}

#[test]
fn vni_wider_than_24_bits_is_rejected() {
    let mut p = s8_vxlan_syn();
    p.outer.as_mut().unwrap().vni = 1 << 24;
    let mut out = Vec::new();
    assert_eq!(
        wire::encode(&p, &mut out),
        Err(WireError::OutOfRange {
            field: "VXLAN VNI",
            value: 1 << 24,
            max: 0xff_ffff
        })
    );
}

#[test]
fn encode_reuses_the_buffer() {
    let mut b = Vec::with_capacity(2048);
    let ptr = b.as_ptr();
    let mut p = s8_vxlan_syn();
    p.data_len = 1400;
    for _ in 0..3 {
        wire::encode(&p, &mut b).unwrap();
        wire::encode(&tcp_syn("1.1.1.1", "2.2.2.2", 1, 2), &mut b).unwrap();
    }
    assert_eq!(b.as_ptr(), ptr, "no reallocation when capacity suffices");
    assert_eq!(
        b,
        enc(&tcp_syn("1.1.1.1", "2.2.2.2", 1, 2)),
        "out is cleared first"
    );
}

#[test]
fn arp_round_trips() {
    let p = Packet {
        outer: None,
        eth: EthHeader {
            src: mac("0E-2A-0a-f4-01-0a"),
            dst: Mac::BROADCAST,
        },
        payload: Payload::Arp(Arp {
            op: ArpOp::Request,
            sender_mac: mac("0E-2A-0a-f4-01-0a"),
            sender_ip: "10.244.1.10".parse().unwrap(),
            target_mac: Mac([0; 6]),
            target_ip: "10.244.1.1".parse().unwrap(),
        }),
        data_len: 0,
    };
    let b = enc(&p);
    assert_eq!(b.len(), 42);
    assert_eq!(&b[12..22], &[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
    assert_eq!(wire::decode(&b).unwrap(), p);
}

/// Corrupting each checksum field gives a named error carrying the right checksum.
#[test]
fn bad_checksums_are_named() {
    let cases: Vec<(Packet, usize, Layer)> = vec![
        (tcp_syn("10.0.0.1", "10.0.0.2", 1, 80), 14 + 10, Layer::Ipv4),
        (tcp_syn("10.0.0.1", "10.0.0.2", 1, 80), 34 + 16, Layer::Tcp),
        (
            Packet {
                payload: Payload::Ip {
                    ip: IpHeader {
                        src: v4("10.0.0.1"),
                        dst: v4("10.0.0.2"),
                        ttl: 5,
                        dont_fragment: false,
                        ident: 9,
                    },
                    l4: Transport::Udp {
                        src_port: 53,
                        dst_port: 5353,
                    },
                },
                data_len: 33,
                ..tcp_syn("10.0.0.1", "10.0.0.2", 1, 80)
            },
            34 + 6,
            Layer::Udp,
        ),
        (
            Packet {
                payload: Payload::Ip {
                    ip: IpHeader {
                        src: v4("10.0.0.1"),
                        dst: v4("10.0.0.2"),
                        ttl: 5,
                        dont_fragment: false,
                        ident: 9,
                    },
                    l4: Transport::Icmp {
                        icmp_type: 8,
                        code: 0,
                        id: 7,
                        seq: 1,
                    },
                },
                data_len: 32,
                ..tcp_syn("10.0.0.1", "10.0.0.2", 1, 80)
            },
            34 + 2,
            Layer::Icmpv4,
        ),
        (
            Packet {
                payload: Payload::Ip {
                    ip: IpHeader {
                        src: IpAddr::V6("fd00::1".parse().unwrap()),
                        dst: IpAddr::V6("fd00::2".parse().unwrap()),
                        ttl: 64,
                        dont_fragment: true,
                        ident: 0,
                    },
                    l4: Transport::Icmp {
                        icmp_type: 128,
                        code: 0,
                        id: 7,
                        seq: 1,
                    },
                },
                data_len: 32,
                ..tcp_syn("10.0.0.1", "10.0.0.2", 1, 80)
            },
            54 + 2,
            Layer::Icmpv6,
        ),
    ];
    for (p, off, layer) in cases {
        let mut b = enc(&p);
        let good = u16::from_be_bytes([b[off], b[off + 1]]);
        b[off] ^= 0x5a;
        let err = wire::decode(&b).unwrap_err();
        assert_eq!(
            err,
            WireError::BadChecksum {
                layer,
                found: good ^ 0x5a00,
                expected: good
            }
        );
        assert!(err.to_string().contains("checksum"), "{err}");
    }
    // Inside VXLAN the error says so.
    let mut b = enc(&s8_vxlan_syn());
    b[VXLAN_OUTER_LEN + 34 + 20 - 1] ^= 1; // last byte of the inner TCP header (urgent ptr)
    assert!(matches!(
        wire::decode(&b),
        Err(WireError::Vxlan(e)) if matches!(*e, WireError::BadChecksum { layer: Layer::Tcp, .. })
    ));
}

#[test]
fn udp_zero_checksum_is_none_over_ipv4_only() {
    let p4 = Packet {
        payload: Payload::Ip {
            ip: IpHeader {
                src: v4("10.0.0.1"),
                dst: v4("10.0.0.2"),
                ttl: 5,
                dont_fragment: false,
                ident: 0,
            },
            l4: Transport::Udp {
                src_port: 1,
                dst_port: 2,
            },
        },
        data_len: 10,
        ..tcp_syn("10.0.0.1", "10.0.0.2", 1, 80)
    };
    let mut b = enc(&p4);
    b[40] = 0;
    b[41] = 0;
    assert_eq!(wire::decode(&b).unwrap(), p4);
    let mut p6 = p4;
    if let Payload::Ip { ip, .. } = &mut p6.payload {
        ip.src = IpAddr::V6(Ipv6Addr::LOCALHOST);
        ip.dst = IpAddr::V6(Ipv6Addr::LOCALHOST);
        ip.dont_fragment = true;
    }
    let mut b = enc(&p6);
    b[60] = 0;
    b[61] = 0;
    assert!(matches!(
        wire::decode(&b),
        Err(WireError::BadChecksum {
            layer: Layer::Udp,
            found: 0,
            ..
        })
    ));
}

#[test]
fn every_truncation_is_an_error() {
    let b = enc(&s8_vxlan_syn());
    for n in 0..b.len() {
        assert!(wire::decode(&b[..n]).is_err(), "prefix of {n} bytes decoded");
    }
    // Ethernet padding after the IP packet is ignored.
    let mut padded = enc(&tcp_syn("10.0.0.1", "10.0.0.2", 1, 80));
    padded.resize(60 + 4, 0);
    assert_eq!(
        wire::decode(&padded).unwrap(),
        tcp_syn("10.0.0.1", "10.0.0.2", 1, 80)
    );
}

#[test]
fn unsupported_shapes_are_named() {
    let mut b = enc(&tcp_syn("10.0.0.1", "10.0.0.2", 1, 80));
    b[12..14].copy_from_slice(&[0x81, 0x00]);
    assert!(matches!(
        wire::decode(&b),
        Err(WireError::Unsupported {
            layer: Layer::Ethernet,
            ..
        })
    ));
    b[12..14].copy_from_slice(&[0x88, 0xcc]);
    assert_eq!(wire::decode(&b), Err(WireError::UnsupportedEtherType(0x88cc)));

    let mut b = enc(&tcp_syn("10.0.0.1", "10.0.0.2", 1, 80));
    b[20] |= 0x20; // more fragments (checked before the header checksum)
    assert_eq!(
        wire::decode(&b),
        Err(WireError::Unsupported {
            layer: Layer::Ipv4,
            what: "IPv4 fragment"
        })
    );

    let mixed = Packet {
        payload: Payload::Ip {
            ip: IpHeader {
                src: v4("10.0.0.1"),
                dst: IpAddr::V6(Ipv6Addr::LOCALHOST),
                ttl: 1,
                dont_fragment: false,
                ident: 0,
            },
            l4: Transport::Udp {
                src_port: 1,
                dst_port: 2,
            },
        },
        ..tcp_syn("10.0.0.1", "10.0.0.2", 1, 80)
    };
    let mut out = Vec::new();
    assert!(matches!(
        wire::encode(&mixed, &mut out),
        Err(WireError::AddressFamilyMismatch { .. })
    ));
    let huge = Packet {
        data_len: u16::MAX,
        ..tcp_syn("10.0.0.1", "10.0.0.2", 1, 80)
    };
    assert!(matches!(
        wire::encode(&huge, &mut out),
        Err(WireError::TooLong {
            layer: Layer::Ipv4,
            ..
        })
    ));
}

#[test]
fn ttl_exceeded_quotes_the_offending_header() {
    let offending = tcp_syn("10.244.1.10", "203.0.113.50", 40000, 443);
    let mut scratch = Vec::new();
    let quote = IcmpQuote::from_packet(&offending, &mut scratch).unwrap();
    assert_eq!(quote.len(), 28);
    assert_eq!(quote.as_bytes(), &scratch[14..42]);
    let (ip, protocol, sp, dp) = quote.headers();
    let Payload::Ip { ip: off_ip, .. } = offending.payload else {
        unreachable!()
    };
    assert_eq!((ip, protocol, sp, dp), (off_ip, proto::TCP, 40000, 443));

    let kind = IcmpErrorKind::TimeExceeded { code: 0 };
    let err = wire::icmp_error(
        kind,
        mac("00-15-5D-00-00-01"),
        v4("10.244.1.1"),
        &offending,
        &quote,
    )
    .unwrap();
    let mut b = Vec::new();
    wire::encode_icmp_error(&err, &quote, &mut b).unwrap();
    assert_eq!(wire::decode(&b).unwrap(), err);
    assert_eq!(wire::decode_icmp_quote(&b).unwrap(), quote);
    assert_eq!(&b[34..36], &[11, 0], "ICMP time exceeded");
    assert_eq!(&b[30..34], &[10, 244, 1, 10], "sent back to the source");
    assert_eq!(&b[0..6], &offending.eth.src.0);
    // etherparse reads the quoted header as the offending packet's.
    let h = etherparse::PacketHeaders::from_ethernet_slice(&b).unwrap();
    let quoted = etherparse::Ipv4HeaderSlice::from_slice(h.payload.slice()).unwrap();
    assert_eq!(quoted.source_addr(), Ipv4Addr::new(10, 244, 1, 10));
    assert_eq!(quoted.destination_addr(), Ipv4Addr::new(203, 0, 113, 50));
    // An echo reply is not an error.
    assert!(wire::decode_icmp_quote(&enc(&offending)).is_err());
}

#[test]
fn packet_too_big_carries_the_mtu() {
    let offending = Packet {
        data_len: 1460,
        ..tcp_syn("10.244.1.10", "10.244.2.10", 40000, 80)
    };
    let mut scratch = Vec::new();
    let quote = IcmpQuote::from_packet(&offending, &mut scratch).unwrap();
    let kind = IcmpErrorKind::PacketTooBig { mtu: 1450 };
    let err = wire::icmp_error(
        kind,
        mac("00-15-5D-00-00-01"),
        v4("10.244.1.1"),
        &offending,
        &quote,
    )
    .unwrap();
    let mut b = Vec::new();
    wire::encode_icmp_error(&err, &quote, &mut b).unwrap();
    // RFC 1191: type 3 code 4, unused(2), next-hop MTU(2).
    assert_eq!(&b[34..36], &[3, 4]);
    assert_eq!(&b[38..42], &[0, 0, 0x05, 0xaa]);
    let back = wire::decode(&b).unwrap();
    let Payload::Ip { l4, .. } = back.payload else {
        unreachable!()
    };
    assert_eq!(IcmpErrorKind::from_transport(&l4, false), Some(kind));

    // IPv6: type 2, 32-bit MTU.
    let mut off6 = offending;
    off6.payload = Payload::Ip {
        ip: IpHeader {
            src: IpAddr::V6("fd00:1::10".parse().unwrap()),
            dst: IpAddr::V6("fd00:2::10".parse().unwrap()),
            ttl: 64,
            dont_fragment: true,
            ident: 0,
        },
        l4: Transport::Udp {
            src_port: 5000,
            dst_port: 53,
        },
    };
    let quote6 = IcmpQuote::from_packet(&off6, &mut scratch).unwrap();
    assert_eq!(quote6.len(), 48);
    let err6 = wire::icmp_error(
        kind,
        mac("00-15-5D-00-00-01"),
        IpAddr::V6("fd00:1::1".parse().unwrap()),
        &off6,
        &quote6,
    )
    .unwrap();
    wire::encode_icmp_error(&err6, &quote6, &mut b).unwrap();
    assert_eq!(&b[54..56], &[2, 0]);
    assert_eq!(&b[58..62], &1450u32.to_be_bytes());
    assert_eq!(wire::decode(&b).unwrap(), err6);
    assert_eq!(wire::decode_icmp_quote(&b).unwrap(), quote6);
    // Wrong family for the reporter.
    assert!(wire::icmp_error(kind, Mac([0; 6]), v4("10.0.0.1"), &off6, &quote6).is_err());
}

#[test]
fn rfc1624_example() {
    // RFC 1624 §4: HC = 0xDD2F, m = 0x5555 → m' = 0x3285 gives HC' = 0x0000 by eqn. 3.
    assert_eq!(
        wire::checksum_adjust(0xDD2F, &[0x55, 0x55], &[0x32, 0x85]),
        0x0000
    );
}

#[test]
fn rewrite_inside_vxlan_via_inner_offsets() {
    let p = s8_vxlan_syn();
    let mut b = enc(&p);
    let inner = &mut b[VXLAN_OUTER_LEN..];
    let (at, key) = wire::peek(inner).unwrap();
    assert_eq!(key.dst_port, 80);
    wire::rewrite_ipv4_addr(inner, &at, wire::Side::Dst, "10.244.2.20".parse().unwrap()).unwrap();
    wire::rewrite_mac(inner, wire::Side::Dst, mac("0E-2A-0a-f4-02-0a")).unwrap();
    let got = wire::decode(&b).unwrap();
    let mut want = p;
    want.eth.dst = mac("0E-2A-0a-f4-02-0a");
    if let Payload::Ip { ip, .. } = &mut want.payload {
        ip.dst = v4("10.244.2.20");
    }
    assert_eq!(got, want);
}
