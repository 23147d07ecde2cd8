//! Bytes → Packet, verifying every checksum. etherparse slices the IP and TCP headers (and
//! validates their length fields); ARP, UDP, ICMP and VXLAN are fixed layouts read directly.

use super::encode::pseudo_header;
use super::error::truncated;
use super::*;
use crate::packet::{proto, Arp, ArpOp, EthHeader, IpHeader, Packet, Payload, Transport, VxlanOuter};
use etherparse::checksum::Sum16BitWords;
use etherparse::{Ipv4HeaderSlice, Ipv6HeaderSlice, TcpHeaderSlice};
use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses a frame written by [`encode`] (or a real capture of the same shapes). UDP to port
/// 4789 whose first byte has the VXLAN I flag is decoded as VXLAN.
pub fn decode(bytes: &[u8]) -> Result<Packet, WireError> {
    decode_with_vxlan_ports(bytes, &[VXLAN_PORT])
}

/// [`decode`] with the UDP destination ports treated as VXLAN (HNS lets the port be
/// configured, e.g. flannel's `VNI`/`Port` settings).
///
/// Trailing bytes after the IP packet (Ethernet padding) are ignored. TCP options are skipped
/// (the model does not carry them). IPv4 options, fragments, IPv6 extension headers and VLAN
/// tags are reported as [`WireError::Unsupported`].
pub fn decode_with_vxlan_ports(bytes: &[u8], vxlan_ports: &[u16]) -> Result<Packet, WireError> {
    let f = parse_frame(bytes)?;
    if let Payload::Ip {
        ip:
            IpHeader {
                src: IpAddr::V4(src),
                dst: IpAddr::V4(dst),
                ttl,
                ..
            },
        l4: Transport::Udp { src_port, dst_port },
    } = f.payload
    {
        // The I flag decides: a UDP datagram to the port without it is plain UDP.
        let is_vxlan = vxlan_ports.contains(&dst_port) && f.body.len() >= VXLAN_LEN && f.body[0] & 0x08 != 0;
        if is_vxlan {
            let vni = u32::from_be_bytes([0, f.body[4], f.body[5], f.body[6]]);
            let inner = parse_frame(&f.body[VXLAN_LEN..]).map_err(|e| WireError::Vxlan(Box::new(e)))?;
            return Ok(Packet {
                outer: Some(VxlanOuter {
                    eth: f.eth,
                    src,
                    dst,
                    ttl,
                    src_port,
                    dst_port,
                    vni,
                }),
                eth: inner.eth,
                payload: inner.payload,
                data_len: inner.body.len() as u16,
            });
        }
    }
    Ok(Packet {
        outer: None,
        eth: f.eth,
        payload: f.payload,
        data_len: f.body.len() as u16,
    })
}

pub(crate) struct Frame<'a> {
    pub eth: EthHeader,
    pub payload: Payload,
    /// Bytes after the transport header (or after the ARP body).
    pub body: &'a [u8],
}

pub(crate) fn parse_frame(bytes: &[u8]) -> Result<Frame<'_>, WireError> {
    let (eth, rest) = etherparse::Ethernet2Header::from_slice(bytes)
        .map_err(|_| truncated(Layer::Ethernet, ETH_LEN, bytes.len()))?;
    let eth_h = EthHeader {
        src: Mac(eth.source),
        dst: Mac(eth.destination),
    };
    match eth.ether_type.0 {
        ETHERTYPE_ARP => {
            let arp = parse_arp(rest)?;
            Ok(Frame {
                eth: eth_h,
                payload: Payload::Arp(arp),
                body: &rest[ARP_LEN..],
            })
        }
        ETHERTYPE_IPV4 => {
            let (ip, protocol, l4) = parse_ipv4(rest)?;
            let (t, body) = parse_l4(&ip, protocol, l4)?;
            Ok(Frame {
                eth: eth_h,
                payload: Payload::Ip { ip, l4: t },
                body,
            })
        }
        ETHERTYPE_IPV6 => {
            let (ip, protocol, l4) = parse_ipv6(rest)?;
            let (t, body) = parse_l4(&ip, protocol, l4)?;
            Ok(Frame {
                eth: eth_h,
                payload: Payload::Ip { ip, l4: t },
                body,
            })
        }
        0x8100 | 0x88A8 => Err(WireError::Unsupported {
            layer: Layer::Ethernet,
            what: "VLAN tag",
        }),
        other => Err(WireError::UnsupportedEtherType(other)),
    }
}

fn parse_arp(b: &[u8]) -> Result<Arp, WireError> {
    if b.len() < ARP_LEN {
        return Err(truncated(Layer::Arp, ARP_LEN, b.len()));
    }
    if b[0..2] != [0, 1] || b[2..4] != ETHERTYPE_IPV4.to_be_bytes() || b[4] != 6 || b[5] != 4 {
        return Err(WireError::Unsupported {
            layer: Layer::Arp,
            what: "ARP for other than IPv4 over Ethernet",
        });
    }
    let op = match u16::from_be_bytes([b[6], b[7]]) {
        1 => ArpOp::Request,
        2 => ArpOp::Reply,
        _ => {
            return Err(WireError::Malformed {
                layer: Layer::Arp,
                reason: "operation is neither request (1) nor reply (2)",
            })
        }
    };
    let mac = |o: usize| Mac([b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5]]);
    let ip = |o: usize| Ipv4Addr::new(b[o], b[o + 1], b[o + 2], b[o + 3]);
    Ok(Arp {
        op,
        sender_mac: mac(8),
        sender_ip: ip(14),
        target_mac: mac(18),
        target_ip: ip(24),
    })
}

/// Returns the header, the protocol and the IP payload (bounded by the total length).
pub(crate) fn parse_ipv4(b: &[u8]) -> Result<(IpHeader, u8, &[u8]), WireError> {
    let h = Ipv4HeaderSlice::from_slice(b).map_err(|e| {
        use etherparse::err::ipv4::HeaderSliceError as E;
        match e {
            E::Len(l) => truncated(Layer::Ipv4, l.required_len, b.len()),
            E::Content(_) => WireError::Malformed {
                layer: Layer::Ipv4,
                reason: "version is not 4 or header length below 20",
            },
        }
    })?;
    if h.ihl() != 5 {
        return Err(WireError::Unsupported {
            layer: Layer::Ipv4,
            what: "IPv4 options",
        });
    }
    if h.more_fragments() || h.fragments_offset().value() != 0 {
        return Err(WireError::Unsupported {
            layer: Layer::Ipv4,
            what: "IPv4 fragment",
        });
    }
    let hdr = h.slice();
    if Sum16BitWords::new().add_slice(hdr).ones_complement() != 0 {
        return Err(WireError::BadChecksum {
            layer: Layer::Ipv4,
            found: h.header_checksum(),
            expected: h.to_header().calc_header_checksum(),
        });
    }
    let total = usize::from(h.total_len());
    if total < IPV4_LEN {
        return Err(WireError::Malformed {
            layer: Layer::Ipv4,
            reason: "total length below the header length",
        });
    }
    let payload = b
        .get(IPV4_LEN..total)
        .ok_or(truncated(Layer::Ipv4, total, b.len()))?;
    let ip = IpHeader {
        src: IpAddr::V4(h.source_addr()),
        dst: IpAddr::V4(h.destination_addr()),
        ttl: h.ttl(),
        dont_fragment: h.dont_fragment(),
        ident: h.identification(),
    };
    Ok((ip, h.protocol().0, payload))
}

pub(crate) fn parse_ipv6(b: &[u8]) -> Result<(IpHeader, u8, &[u8]), WireError> {
    let h = Ipv6HeaderSlice::from_slice(b).map_err(|e| {
        use etherparse::err::ipv6::HeaderSliceError as E;
        match e {
            E::Len(l) => truncated(Layer::Ipv6, l.required_len, b.len()),
            E::Content(_) => WireError::Malformed {
                layer: Layer::Ipv6,
                reason: "version is not 6",
            },
        }
    })?;
    let end = IPV6_LEN + usize::from(h.payload_length());
    let payload = b.get(IPV6_LEN..end).ok_or(truncated(Layer::Ipv6, end, b.len()))?;
    let ip = IpHeader {
        src: IpAddr::V6(Ipv6Addr::from(h.source())),
        dst: IpAddr::V6(Ipv6Addr::from(h.destination())),
        ttl: h.hop_limit(),
        dont_fragment: true,
        ident: 0,
    };
    Ok((ip, h.next_header().0, payload))
}

/// Parses the transport header in `l4` (exactly the IP payload) and verifies its checksum.
pub(crate) fn parse_l4<'a>(
    ip: &IpHeader,
    protocol: u8,
    l4: &'a [u8],
) -> Result<(Transport, &'a [u8]), WireError> {
    let v6 = ip.src.is_ipv6();
    let ip_layer = if v6 { Layer::Ipv6 } else { Layer::Ipv4 };
    match protocol {
        proto::TCP => {
            let h = TcpHeaderSlice::from_slice(l4).map_err(|e| match e {
                etherparse::err::tcp::HeaderSliceError::Len(l) => {
                    truncated(Layer::Tcp, l.required_len, l4.len())
                }
                etherparse::err::tcp::HeaderSliceError::Content(_) => WireError::Malformed {
                    layer: Layer::Tcp,
                    reason: "data offset below 5",
                },
            })?;
            verify(
                Layer::Tcp,
                pseudo_header(ip.src, ip.dst, protocol, l4.len()),
                l4,
                16,
            )?;
            let t = Transport::Tcp {
                src_port: h.source_port(),
                dst_port: h.destination_port(),
                seq: h.sequence_number(),
                ack: h.acknowledgment_number(),
                flags: l4[13],
            };
            Ok((t, &l4[h.slice().len()..]))
        }
        proto::UDP => {
            if l4.len() < UDP_LEN {
                return Err(truncated(Layer::Udp, UDP_LEN, l4.len()));
            }
            let len = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
            if len < UDP_LEN || len > l4.len() {
                return Err(WireError::Malformed {
                    layer: Layer::Udp,
                    reason: "length field disagrees with the IP payload length",
                });
            }
            let l4 = &l4[..len];
            let found = u16::from_be_bytes([l4[6], l4[7]]);
            // RFC 768: 0 means "no checksum" over IPv4; RFC 8200 §8.1 forbids it over IPv6.
            if found != 0 || v6 {
                verify(Layer::Udp, pseudo_header(ip.src, ip.dst, protocol, len), l4, 6)?;
            }
            let t = Transport::Udp {
                src_port: u16::from_be_bytes([l4[0], l4[1]]),
                dst_port: u16::from_be_bytes([l4[2], l4[3]]),
            };
            Ok((t, &l4[UDP_LEN..]))
        }
        proto::ICMP if !v6 => parse_icmp(Layer::Icmpv4, Sum16BitWords::new(), l4),
        proto::ICMPV6 if v6 => parse_icmp(
            Layer::Icmpv6,
            pseudo_header(ip.src, ip.dst, protocol, l4.len()),
            l4,
        ),
        0 | 43 | 44 | 50 | 51 | 60 | 135 | 139 | 140 if v6 => Err(WireError::Unsupported {
            layer: Layer::Ipv6,
            what: "IPv6 extension header",
        }),
        other => Err(WireError::UnsupportedProtocol {
            layer: ip_layer,
            protocol: other,
        }),
    }
}

fn parse_icmp(layer: Layer, sum: Sum16BitWords, l4: &[u8]) -> Result<(Transport, &[u8]), WireError> {
    if l4.len() < ICMP_LEN {
        return Err(truncated(layer, ICMP_LEN, l4.len()));
    }
    verify(layer, sum, l4, 2)?;
    let t = Transport::Icmp {
        icmp_type: l4[0],
        code: l4[1],
        id: u16::from_be_bytes([l4[4], l4[5]]),
        seq: u16::from_be_bytes([l4[6], l4[7]]),
    };
    Ok((t, &l4[ICMP_LEN..]))
}

/// Checks a ones-complement checksum at byte `ck_off` (even) of `data`, given the pseudo-header
/// sum (or an empty sum): the sum over everything, checksum included, must be 0xFFFF.
fn verify(layer: Layer, pseudo: Sum16BitWords, data: &[u8], ck_off: usize) -> Result<(), WireError> {
    if pseudo.clone().add_slice(data).ones_complement() == 0 {
        return Ok(());
    }
    let found = u16::from_be_bytes([data[ck_off], data[ck_off + 1]]);
    let without = pseudo.add_slice(&data[..ck_off]).add_slice(&data[ck_off + 2..]);
    // etherparse sums native-endian words; `to_be` gives the value as read big-endian.
    let expected = if layer == Layer::Udp {
        without.to_ones_complement_with_no_zero()
    } else {
        without.ones_complement()
    }
    .to_be();
    Err(WireError::BadChecksum {
        layer,
        found,
        expected,
    })
}
