//! Properties of `wire`: decode(encode(p)) == p, etherparse agrees with every encoded field and
//! checksum, and the incremental rewrites equal a full re-encode.

use etherparse::{NetHeaders, PacketHeaders, TransportHeader};
use hnsim_model::Mac;
use hnsim_sim::packet::*;
use hnsim_sim::wire::{self, IcmpErrorKind, Side, VXLAN_OUTER_LEN};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn mac() -> impl Strategy<Value = Mac> {
    any::<[u8; 6]>().prop_map(Mac)
}

fn eth() -> impl Strategy<Value = EthHeader> {
    (mac(), mac()).prop_map(|(src, dst)| EthHeader { src, dst })
}

fn ip_header() -> impl Strategy<Value = IpHeader> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            any::<u8>(),
            any::<bool>(),
            any::<u16>()
        )
            .prop_map(|(s, d, ttl, df, ident)| IpHeader {
                src: IpAddr::V4(Ipv4Addr::from(s)),
                dst: IpAddr::V4(Ipv4Addr::from(d)),
                ttl,
                dont_fragment: df,
                ident,
            }),
        (any::<u128>(), any::<u128>(), any::<u8>()).prop_map(|(s, d, ttl)| IpHeader {
            src: IpAddr::V6(Ipv6Addr::from(s)),
            dst: IpAddr::V6(Ipv6Addr::from(d)),
            ttl,
            dont_fragment: true,
            ident: 0,
        }),
    ]
}

/// Any transport; ICMP with any type/code/id/seq.
fn transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        (
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
            any::<u8>()
        )
            .prop_map(|(src_port, dst_port, seq, ack, flags)| Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags
            }),
        (any::<u16>(), any::<u16>()).prop_map(|(src_port, dst_port)| Transport::Udp { src_port, dst_port }),
        (any::<u8>(), any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(icmp_type, code, id, seq)| {
            Transport::Icmp {
                icmp_type,
                code,
                id,
                seq,
            }
        }),
    ]
}

fn arp() -> impl Strategy<Value = Arp> {
    (any::<bool>(), mac(), any::<u32>(), mac(), any::<u32>()).prop_map(|(req, sm, si, tm, ti)| Arp {
        op: if req { ArpOp::Request } else { ArpOp::Reply },
        sender_mac: sm,
        sender_ip: Ipv4Addr::from(si),
        target_mac: tm,
        target_ip: Ipv4Addr::from(ti),
    })
}

fn data_len() -> impl Strategy<Value = u16> {
    prop_oneof![4 => 0u16..64, 4 => 0u16..1500, 1 => 1500u16..9000]
}

fn outer() -> impl Strategy<Value = VxlanOuter> {
    (
        eth(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<u16>(),
        prop_oneof![Just(4789u16), Just(4790), Just(8472)],
        0u32..(1 << 24),
    )
        .prop_map(|(eth, s, d, ttl, src_port, dst_port, vni)| VxlanOuter {
            eth,
            src: Ipv4Addr::from(s),
            dst: Ipv4Addr::from(d),
            ttl,
            src_port,
            dst_port,
            vni,
        })
}

fn packet_with(t: impl Strategy<Value = Transport>) -> impl Strategy<Value = Packet> {
    let payload = prop_oneof![
        1 => arp().prop_map(Payload::Arp),
        6 => (ip_header(), t).prop_map(|(ip, l4)| Payload::Ip { ip, l4 }),
    ];
    (proptest::option::of(outer()), eth(), payload, data_len()).prop_map(|(outer, eth, payload, data_len)| {
        Packet {
            outer,
            eth,
            payload,
            data_len,
        }
    })
}

fn packet() -> impl Strategy<Value = Packet> {
    packet_with(transport())
}

/// ICMP as the RFCs lay it out (etherparse models the per-type fields): echo with any id/seq,
/// errors through `IcmpErrorKind`.
fn rfc_icmp(v6: bool) -> impl Strategy<Value = Transport> {
    prop_oneof![
        (any::<bool>(), any::<u16>(), any::<u16>()).prop_map(move |(req, id, seq)| {
            let icmp_type = match (v6, req) {
                (false, true) => 8,
                (false, false) => 0,
                (true, true) => 128,
                (true, false) => 129,
            };
            Transport::Icmp {
                icmp_type,
                code: 0,
                id,
                seq,
            }
        }),
        prop_oneof![
            (0u8..16).prop_map(|code| IcmpErrorKind::DestUnreachable { code }),
            (68u32..65536).prop_map(|mtu| IcmpErrorKind::PacketTooBig { mtu }),
            (0u8..2).prop_map(|code| IcmpErrorKind::TimeExceeded { code }),
        ]
        .prop_filter("v4 code 4 is PacketTooBig", move |k| v6
            || *k != IcmpErrorKind::DestUnreachable { code: 4 })
        .prop_map(move |k| k.transport(v6)),
    ]
}

fn rfc_packet() -> impl Strategy<Value = Packet> {
    packet().prop_flat_map(|p| {
        let v6 = matches!(p.payload, Payload::Ip { ip, .. } if ip.src.is_ipv6());
        let is_icmp = matches!(
            p.payload,
            Payload::Ip {
                l4: Transport::Icmp { .. },
                ..
            }
        );
        let t = if is_icmp {
            rfc_icmp(v6).boxed()
        } else {
            Just(match p.payload {
                Payload::Ip { l4, .. } => l4,
                Payload::Arp(_) => Transport::Udp {
                    src_port: 0,
                    dst_port: 0,
                },
            })
            .boxed()
        };
        (Just(p), t).prop_map(|(mut p, t)| {
            if let Payload::Ip { l4, .. } = &mut p.payload {
                *l4 = t;
            }
            p
        })
    })
}

fn vxlan_port(p: &Packet) -> u16 {
    p.outer.map_or(wire::VXLAN_PORT, |o| o.dst_port)
}

/// Checks one Ethernet frame (no VXLAN) against etherparse; returns the transport payload.
fn check_with_etherparse<'a>(bytes: &'a [u8], eth: &EthHeader, payload: &Payload) -> &'a [u8] {
    let h = PacketHeaders::from_ethernet_slice(bytes).expect("etherparse parses the frame");
    let Some(etherparse::LinkHeader::Ethernet2(e)) = &h.link else {
        panic!("no Ethernet II header")
    };
    assert_eq!(e.source, eth.src.0);
    assert_eq!(e.destination, eth.dst.0);
    let Payload::Ip { ip, l4 } = payload else {
        assert_eq!(e.ether_type, etherparse::EtherType::ARP);
        return &[];
    };
    let data = h.payload.slice();
    match h.net.as_ref().expect("an IP header") {
        NetHeaders::Ipv4(v4, _) => {
            assert_eq!(IpAddr::V4(v4.source.into()), ip.src);
            assert_eq!(IpAddr::V4(v4.destination.into()), ip.dst);
            assert_eq!(v4.time_to_live, ip.ttl);
            assert_eq!(v4.dont_fragment, ip.dont_fragment);
            assert_eq!(v4.identification, ip.ident);
            assert_eq!(v4.header_checksum, v4.calc_header_checksum(), "IPv4 checksum");
            match (h.transport.as_ref().expect("transport"), l4) {
                (
                    TransportHeader::Tcp(t),
                    Transport::Tcp {
                        src_port,
                        dst_port,
                        seq,
                        ack,
                        flags,
                    },
                ) => {
                    assert_eq!((t.source_port, t.destination_port), (*src_port, *dst_port));
                    assert_eq!((t.sequence_number, t.acknowledgment_number), (*seq, *ack));
                    assert_eq!(t.syn, flags & tcp_flags::SYN != 0);
                    assert_eq!(t.ack, flags & tcp_flags::ACK != 0);
                    assert_eq!(t.fin, flags & tcp_flags::FIN != 0);
                    assert_eq!(t.rst, flags & tcp_flags::RST != 0);
                    assert_eq!(t.psh, flags & tcp_flags::PSH != 0);
                    assert_eq!(
                        t.checksum,
                        t.calc_checksum_ipv4(v4, data).unwrap(),
                        "TCP checksum"
                    );
                }
                (TransportHeader::Udp(u), Transport::Udp { src_port, dst_port }) => {
                    assert_eq!((u.source_port, u.destination_port), (*src_port, *dst_port));
                    assert_eq!(
                        u.checksum,
                        u.calc_checksum_ipv4(v4, data).unwrap(),
                        "UDP checksum"
                    );
                }
                (TransportHeader::Icmpv4(i), Transport::Icmp { icmp_type, code, .. }) => {
                    assert_eq!(i.to_bytes()[0], *icmp_type);
                    assert_eq!(i.to_bytes()[1], *code);
                    let full = etherparse::Icmpv4Header::with_checksum(i.icmp_type.clone(), data);
                    assert_eq!(i.checksum, full.checksum, "ICMPv4 checksum");
                    assert_eq!(&i.to_bytes()[4..8], &rest_bytes(l4)[..]);
                }
                other => panic!("transport mismatch {other:?}"),
            }
        }
        NetHeaders::Ipv6(v6, _) => {
            assert_eq!(IpAddr::V6(v6.source.into()), ip.src);
            assert_eq!(IpAddr::V6(v6.destination.into()), ip.dst);
            assert_eq!(v6.hop_limit, ip.ttl);
            match (h.transport.as_ref().expect("transport"), l4) {
                (
                    TransportHeader::Tcp(t),
                    Transport::Tcp {
                        src_port,
                        dst_port,
                        seq,
                        ack,
                        ..
                    },
                ) => {
                    assert_eq!((t.source_port, t.destination_port), (*src_port, *dst_port));
                    assert_eq!((t.sequence_number, t.acknowledgment_number), (*seq, *ack));
                    assert_eq!(
                        t.checksum,
                        t.calc_checksum_ipv6(v6, data).unwrap(),
                        "TCP checksum"
                    );
                }
                (TransportHeader::Udp(u), Transport::Udp { src_port, dst_port }) => {
                    assert_eq!((u.source_port, u.destination_port), (*src_port, *dst_port));
                    assert_eq!(
                        u.checksum,
                        u.calc_checksum_ipv6(v6, data).unwrap(),
                        "UDP checksum"
                    );
                }
                (TransportHeader::Icmpv6(i), Transport::Icmp { icmp_type, code, .. }) => {
                    assert_eq!(i.icmp_type.type_u8(), *icmp_type);
                    assert_eq!(i.icmp_type.code_u8(), *code);
                    let full =
                        etherparse::Icmpv6Header::with_checksum(i.icmp_type, v6.source, v6.destination, data)
                            .unwrap();
                    assert_eq!(i.checksum, full.checksum, "ICMPv6 checksum");
                    assert_eq!(&i.to_bytes()[4..8], &rest_bytes(l4)[..]);
                }
                other => panic!("transport mismatch {other:?}"),
            }
        }
    }
    data
}

fn rest_bytes(t: &Transport) -> [u8; 4] {
    match *t {
        Transport::Icmp { id, seq, .. } => {
            let [a, b] = id.to_be_bytes();
            let [c, d] = seq.to_be_bytes();
            [a, b, c, d]
        }
        _ => [0; 4],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_inverts_encode(p in packet()) {
        let mut buf = Vec::new();
        wire::encode(&p, &mut buf).unwrap();
        prop_assert_eq!(wire::frame_len(&p), buf.len());
        match (p.outer, p.payload) {
            (None, Payload::Arp(_)) => prop_assert_eq!(wire::ip_len(&p), None),
            _ => prop_assert_eq!(wire::ip_len(&p), Some(buf.len() - 14)),
        }
        let back = wire::decode_with_vxlan_ports(&buf, &[vxlan_port(&p)]).unwrap();
        prop_assert_eq!(back, p);
        if p.outer.is_none_or(|o| o.dst_port == wire::VXLAN_PORT) {
            prop_assert_eq!(wire::decode(&buf).unwrap(), p);
        }
    }

    #[test]
    fn etherparse_agrees(p in rfc_packet()) {
        let mut buf = Vec::new();
        wire::encode(&p, &mut buf).unwrap();
        let inner = match p.outer {
            None => &buf[..],
            Some(o) => {
                let h = PacketHeaders::from_ethernet_slice(&buf).unwrap();
                let Some(NetHeaders::Ipv4(ip, _)) = &h.net else { panic!("outer IPv4") };
                prop_assert_eq!(ip.source, o.src.octets());
                prop_assert_eq!(ip.destination, o.dst.octets());
                prop_assert_eq!(ip.time_to_live, o.ttl);
                prop_assert_eq!(ip.header_checksum, ip.calc_header_checksum());
                let Some(TransportHeader::Udp(u)) = &h.transport else { panic!("outer UDP") };
                prop_assert_eq!((u.source_port, u.destination_port), (o.src_port, o.dst_port));
                prop_assert_eq!(u.checksum, 0);
                let vx = h.payload.slice();
                prop_assert_eq!(vx[0], 0x08);
                prop_assert_eq!(u32::from_be_bytes([0, vx[4], vx[5], vx[6]]), o.vni);
                prop_assert_eq!(vx.as_ptr() as usize - buf.as_ptr() as usize + 8, VXLAN_OUTER_LEN);
                &vx[8..]
            }
        };
        let data = check_with_etherparse(inner, &p.eth, &p.payload);
        if let Payload::Ip { .. } = p.payload {
            prop_assert_eq!(data.len(), usize::from(p.data_len));
            prop_assert!(data.iter().enumerate().all(|(i, b)| *b == wire::PATTERN[i % 23]));
        }
    }

    /// The hot path's offsets and 5-tuple agree with the full decode.
    #[test]
    fn peek_agrees_with_decode(p in packet()) {
        let mut buf = Vec::new();
        wire::encode(&p, &mut buf).unwrap();
        let frame = if p.outer.is_some() { &buf[VXLAN_OUTER_LEN..] } else { &buf[..] };
        match p.payload {
            Payload::Arp(_) => prop_assert!(wire::peek(frame).is_err()),
            Payload::Ip { ip, l4 } => {
                let (at, key) = wire::peek(frame).unwrap();
                let (sp, dp) = l4.ports();
                prop_assert_eq!(key, wire::FiveTuple {
                    src: ip.src, dst: ip.dst, protocol: l4.protocol(ip.src.is_ipv6()),
                    src_port: sp, dst_port: dp,
                });
                prop_assert_eq!(at.end, frame.len());
            }
        }
    }

    /// Rewriting an address, a port and the TTL in place gives exactly the bytes of encoding
    /// the rewritten packet from scratch (all checksums recomputed).
    #[test]
    fn incremental_rewrite_equals_full_encode(
        p in packet(), new4 in any::<u32>(), new6 in any::<u128>(), port in any::<u16>(),
        src_side in any::<bool>(),
    ) {
        let Payload::Ip { mut ip, mut l4 } = p.payload else { return Ok(()) };
        let side = if src_side { Side::Src } else { Side::Dst };
        let mut buf = Vec::new();
        wire::encode(&Packet { outer: None, ..p }, &mut buf).unwrap();
        let (at, _) = wire::peek(&buf).unwrap();

        let new_addr = match ip.src {
            IpAddr::V4(_) => {
                let a = Ipv4Addr::from(new4);
                wire::rewrite_ipv4_addr(&mut buf, &at, side, a).unwrap();
                prop_assert!(wire::rewrite_ipv6_addr(&mut buf, &at, side, new6.into()).is_err());
                IpAddr::V4(a)
            }
            IpAddr::V6(_) => {
                let a = Ipv6Addr::from(new6);
                wire::rewrite_ipv6_addr(&mut buf, &at, side, a).unwrap();
                IpAddr::V6(a)
            }
        };
        if src_side { ip.src = new_addr } else { ip.dst = new_addr }
        wire::rewrite_port(&mut buf, &at, side, port).unwrap();
        match &mut l4 {
            Transport::Tcp { src_port, dst_port, .. } | Transport::Udp { src_port, dst_port } => {
                *if src_side { src_port } else { dst_port } = port;
            }
            Transport::Icmp { id, .. } => *id = port,
        }
        let ttl = wire::decrement_ttl(&mut buf, &at).unwrap();
        if ip.ttl > 1 {
            ip.ttl -= 1;
            prop_assert_eq!(ttl, Some(ip.ttl));
        } else {
            prop_assert_eq!(ttl, None);
        }
        let mut expected = Vec::new();
        let q = Packet { outer: None, payload: Payload::Ip { ip, l4 }, ..p };
        wire::encode(&q, &mut expected).unwrap();
        prop_assert_eq!(&buf, &expected);
        prop_assert_eq!(wire::decode(&buf).unwrap(), q);
    }

    /// RFC 1624 eqn. 3 against recomputing the checksum of random 16-bit words.
    #[test]
    fn checksum_adjust_equals_recompute(
        words in proptest::collection::vec(any::<u16>(), 3..64), idx in any::<prop::sample::Index>(),
        new in any::<u16>(),
    ) {
        let bytes = |w: &[u16]| w.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
        let full = |w: &[u16]| etherparse::checksum::Sum16BitWords::new().add_slice(&bytes(w)).ones_complement().to_be();
        // Word 0 is the checksum field: zero while computing it. Word 1 stays non-zero, as in
        // every IP/TCP/UDP header (version, protocol): only all-zero data has the two
        // representations of zero (0x0000 / 0xFFFF) tell the methods apart.
        let mut w = words.clone();
        w[0] = 0;
        w[1] |= 0x4500;
        let ck = full(&w);
        let i = 2 + idx.index(w.len() - 2);
        let old = w[i];
        w[i] = new;
        let want = full(&w);
        prop_assert_eq!(wire::checksum_adjust(ck, &old.to_be_bytes(), &new.to_be_bytes()), want);
    }

    /// Arbitrary bytes never panic any parser or rewriter.
    #[test]
    fn garbage_never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..200), et in 0usize..3) {
        if bytes.len() >= 14 {
            let t: [u8; 2] = [[0x08, 0x00], [0x86, 0xdd], [0x08, 0x06]][et];
            bytes[12..14].copy_from_slice(&t);
            if et == 0 && bytes.len() > 14 { bytes[14] = 0x45 }
            if et == 1 && bytes.len() > 14 { bytes[14] = 0x60 }
        }
        let _ = wire::decode(&bytes);
        let _ = wire::decode_icmp_quote(&bytes);
        let _ = wire::IcmpQuote::from_frame(&bytes);
        if let Ok((at, _)) = wire::peek(&bytes) {
            let mut b = bytes.clone();
            let _ = wire::rewrite_ipv4_addr(&mut b, &at, Side::Src, Ipv4Addr::LOCALHOST);
            let _ = wire::rewrite_port(&mut b, &at, Side::Dst, 1);
            let _ = wire::decrement_ttl(&mut b, &at);
            // Offsets of this frame applied to a shorter one: an error leaves it untouched.
            for cut in 0..b.len() {
                let mut short = b[..cut].to_vec();
                if wire::rewrite_ipv4_addr(&mut short, &at, Side::Dst, Ipv4Addr::BROADCAST).is_err() {
                    prop_assert_eq!(&short[..], &b[..cut]);
                }
                if wire::rewrite_port(&mut short, &at, Side::Src, 7).is_err() {
                    prop_assert_eq!(&short[..], &b[..cut]);
                }
            }
        }
    }
}

/// The other direction: frames built by etherparse (a Windows-like SYN with MSS, window scale
/// and SACK-permitted options; UDP; ICMP echo) decode with the fields etherparse wrote.
mod from_etherparse {
    use super::*;
    use etherparse::{PacketBuilder, TcpOptionElement};

    proptest! {
        #[test]
        fn decode_reads_etherparse_frames(
            src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(), ttl in any::<u8>(),
            sp in any::<u16>(), dp in any::<u16>(), seq in any::<u32>(),
            payload in proptest::collection::vec(any::<u8>(), 0..300), kind in 0u8..3,
            v6 in any::<bool>(), src6 in any::<[u8; 16]>(), dst6 in any::<[u8; 16]>(),
        ) {
            let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
            let b = if v6 { b.ipv6(src6, dst6, ttl) } else { b.ipv4(src, dst, ttl) };
            let mut out = Vec::new();
            let l4 = match kind {
                0 => {
                    b.tcp(sp, dp, seq, 64240)
                        .syn()
                        .options(&[
                            TcpOptionElement::MaximumSegmentSize(1460),
                            TcpOptionElement::Noop,
                            TcpOptionElement::WindowScale(8),
                            TcpOptionElement::Noop,
                            TcpOptionElement::Noop,
                            TcpOptionElement::SelectiveAcknowledgementPermitted,
                        ])
                        .unwrap()
                        .write(&mut out, &payload)
                        .unwrap();
                    Transport::Tcp { src_port: sp, dst_port: dp, seq, ack: 0, flags: tcp_flags::SYN }
                }
                1 => {
                    b.udp(sp, dp).write(&mut out, &payload).unwrap();
                    Transport::Udp { src_port: sp, dst_port: dp }
                }
                _ if v6 => {
                    b.icmpv6_echo_request(sp, dp).write(&mut out, &payload).unwrap();
                    Transport::Icmp { icmp_type: 128, code: 0, id: sp, seq: dp }
                }
                _ => {
                    b.icmpv4_echo_request(sp, dp).write(&mut out, &payload).unwrap();
                    Transport::Icmp { icmp_type: 8, code: 0, id: sp, seq: dp }
                }
            };
            // UDP to 4789 with the I bit in the payload would be VXLAN; not this test's subject.
            let got = wire::decode_with_vxlan_ports(&out, &[]).unwrap();
            let Payload::Ip { ip, l4: got_l4 } = got.payload else { panic!("not IP") };
            prop_assert_eq!(got_l4, l4);
            prop_assert_eq!(usize::from(got.data_len), payload.len());
            prop_assert_eq!(ip.ttl, ttl);
            if v6 {
                prop_assert_eq!(ip.src, IpAddr::V6(src6.into()));
                prop_assert_eq!(ip.dst, IpAddr::V6(dst6.into()));
            } else {
                prop_assert_eq!(ip.src, IpAddr::V4(src.into()));
                prop_assert_eq!(ip.dst, IpAddr::V4(dst.into()));
            }
            // And the hot path agrees on the flow.
            let (_, key) = wire::peek(&out).unwrap();
            prop_assert_eq!((key.src, key.dst), (ip.src, ip.dst));
        }
    }
}
