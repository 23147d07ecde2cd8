//! Packet → bytes. Headers are built with etherparse and copied into `out`; checksums are
//! computed over the bytes actually written, so they cover exactly what goes on the wire.

use super::*;
use crate::packet::{Arp, ArpOp, EthHeader, IpHeader, Packet, Payload, Transport, VxlanOuter};
use etherparse::checksum::Sum16BitWords;
use etherparse::{EtherType, Ethernet2Header, IpNumber, Ipv4Header, Ipv6Header, TcpHeader};
use std::net::IpAddr;

/// What follows the transport header.
#[derive(Copy, Clone)]
pub(crate) enum Body<'a> {
    /// `n` bytes of [`PATTERN`].
    Pattern(u16),
    /// Exact bytes (an ICMP error's quote).
    Bytes(&'a [u8]),
}

impl Body<'_> {
    fn len(&self) -> usize {
        match self {
            Body::Pattern(n) => usize::from(*n),
            Body::Bytes(b) => b.len(),
        }
    }
    fn push(&self, out: &mut Vec<u8>) {
        match self {
            Body::Bytes(b) => out.extend_from_slice(b),
            Body::Pattern(n) => {
                let mut left = usize::from(*n);
                while left > 0 {
                    let k = left.min(PATTERN.len());
                    out.extend_from_slice(&PATTERN[..k]);
                    left -= k;
                }
            }
        }
    }
}

/// Bytes of the IP packet at the front of `pkt`'s frame (the outer one while encapsulated):
/// the size an MTU check compares. `None` for a bare ARP frame.
pub fn ip_len(pkt: &Packet) -> Option<usize> {
    match (&pkt.outer, &pkt.payload) {
        (None, Payload::Arp(_)) => None,
        _ => Some(frame_len(pkt) - ETH_LEN),
    }
}

/// Bytes [`encode`] writes for `pkt` (Ethernet header included, no FCS, no padding).
pub fn frame_len(pkt: &Packet) -> usize {
    let after_eth = match &pkt.payload {
        Payload::Arp(_) => ARP_LEN,
        Payload::Ip { ip, l4 } => {
            let l3 = if ip.src.is_ipv6() { IPV6_LEN } else { IPV4_LEN };
            l3 + match l4 {
                Transport::Tcp { .. } => TCP_LEN,
                Transport::Udp { .. } => UDP_LEN,
                Transport::Icmp { .. } => ICMP_LEN,
            }
        }
    };
    let outer = if pkt.outer.is_some() { VXLAN_OUTER_LEN } else { 0 };
    outer + ETH_LEN + after_eth + usize::from(pkt.data_len)
}

/// Writes `pkt` as an Ethernet frame into `out` (cleared first; no allocation when its capacity
/// suffices). Errors: mixed IPv4/IPv6 addresses, or a packet longer than IP allows.
pub fn encode(pkt: &Packet, out: &mut Vec<u8>) -> Result<(), WireError> {
    encode_with_body(pkt, Body::Pattern(pkt.data_len), out)
}

pub(crate) fn encode_with_body(pkt: &Packet, body: Body<'_>, out: &mut Vec<u8>) -> Result<(), WireError> {
    out.clear();
    match &pkt.outer {
        None => encode_frame(&pkt.eth, &pkt.payload, body, out),
        Some(outer) => {
            // Reserve the outer headers, write the inner frame, then fill the outer headers in
            // now that the inner length is known.
            out.resize(VXLAN_OUTER_LEN, 0);
            encode_frame(&pkt.eth, &pkt.payload, body, out)?;
            let inner_len = out.len() - VXLAN_OUTER_LEN;
            write_vxlan_outer(outer, inner_len, &mut out[..VXLAN_OUTER_LEN])
        }
    }
}

fn write_vxlan_outer(o: &VxlanOuter, inner_len: usize, hdr: &mut [u8]) -> Result<(), WireError> {
    if o.vni > 0x00ff_ffff {
        return Err(WireError::OutOfRange {
            field: "VXLAN VNI",
            value: u64::from(o.vni),
            max: 0x00ff_ffff,
        });
    }
    let udp_len = UDP_LEN + VXLAN_LEN + inner_len;
    let max = usize::from(u16::MAX) - IPV4_LEN;
    if udp_len > max {
        return Err(WireError::TooLong {
            layer: Layer::Vxlan,
            len: udp_len,
            max,
        });
    }
    hdr[..ETH_LEN].copy_from_slice(&eth_bytes(&o.eth, ETHERTYPE_IPV4));
    let mut ip = Ipv4Header::new(
        udp_len as u16,
        o.ttl,
        IpNumber::UDP,
        o.src.octets(),
        o.dst.octets(),
    )
    .map_err(|_| WireError::TooLong {
        layer: Layer::Vxlan,
        len: udp_len,
        max,
    })?;
    // Inferred: the outer header carries DF clear and identification 0; RFC 7348 leaves both to
    // the VTEP and the model does not track them.
    ip.dont_fragment = false;
    ip.identification = 0;
    ip.header_checksum = ip.calc_header_checksum();
    let l3 = ETH_LEN;
    let l4 = l3 + IPV4_LEN;
    hdr[l3..l4].copy_from_slice(&ip.to_bytes());
    let udp = etherparse::UdpHeader {
        source_port: o.src_port,
        destination_port: o.dst_port,
        length: udp_len as u16,
        // RFC 7348 §5: the outer UDP checksum SHOULD be transmitted as zero.
        checksum: 0,
    };
    hdr[l4..l4 + UDP_LEN].copy_from_slice(&udp.to_bytes());
    let vx = l4 + UDP_LEN;
    let vni = o.vni.to_be_bytes();
    // I flag, 24 reserved bits, 24-bit VNI, 8 reserved bits.
    hdr[vx..vx + VXLAN_LEN].copy_from_slice(&[0x08, 0, 0, 0, vni[1], vni[2], vni[3], 0]);
    Ok(())
}

fn eth_bytes(eth: &EthHeader, ether_type: u16) -> [u8; ETH_LEN] {
    Ethernet2Header {
        source: eth.src.0,
        destination: eth.dst.0,
        ether_type: EtherType(ether_type),
    }
    .to_bytes()
}

/// Appends one Ethernet frame (no VXLAN) to `out`.
pub(crate) fn encode_frame(
    eth: &EthHeader,
    payload: &Payload,
    body: Body<'_>,
    out: &mut Vec<u8>,
) -> Result<(), WireError> {
    match payload {
        Payload::Arp(arp) => {
            out.extend_from_slice(&eth_bytes(eth, ETHERTYPE_ARP));
            out.extend_from_slice(&arp_bytes(arp));
            body.push(out);
            Ok(())
        }
        Payload::Ip { ip, l4 } => {
            let ether_type = if ip.src.is_ipv4() {
                ETHERTYPE_IPV4
            } else {
                ETHERTYPE_IPV6
            };
            check_family(ip)?;
            out.extend_from_slice(&eth_bytes(eth, ether_type));
            encode_ip(ip, l4, body, out)
        }
    }
}

fn check_family(ip: &IpHeader) -> Result<(), WireError> {
    if ip.src.is_ipv4() != ip.dst.is_ipv4() {
        return Err(WireError::AddressFamilyMismatch {
            src: ip.src,
            dst: ip.dst,
        });
    }
    Ok(())
}

fn arp_bytes(a: &Arp) -> [u8; ARP_LEN] {
    let mut b = [0u8; ARP_LEN];
    b[0..2].copy_from_slice(&1u16.to_be_bytes()); // hardware type: Ethernet
    b[2..4].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    b[4] = 6;
    b[5] = 4;
    let op: u16 = match a.op {
        ArpOp::Request => 1,
        ArpOp::Reply => 2,
    };
    b[6..8].copy_from_slice(&op.to_be_bytes());
    b[8..14].copy_from_slice(&a.sender_mac.0);
    b[14..18].copy_from_slice(&a.sender_ip.octets());
    b[18..24].copy_from_slice(&a.target_mac.0);
    b[24..28].copy_from_slice(&a.target_ip.octets());
    b
}

fn encode_ip(ip: &IpHeader, l4: &Transport, body: Body<'_>, out: &mut Vec<u8>) -> Result<(), WireError> {
    let v6 = ip.src.is_ipv6();
    let (l3_len, layer) = if v6 {
        (IPV6_LEN, Layer::Ipv6)
    } else {
        (IPV4_LEN, Layer::Ipv4)
    };
    let l4_hdr = match l4 {
        Transport::Tcp { .. } => TCP_LEN,
        Transport::Udp { .. } => UDP_LEN,
        Transport::Icmp { .. } => ICMP_LEN,
    };
    let l4_len = l4_hdr + body.len();
    // IPv4 total length and the IPv6 payload length (and UDP length) are 16-bit fields.
    let max = usize::from(u16::MAX) - if v6 { 0 } else { IPV4_LEN };
    if l4_len > max {
        return Err(WireError::TooLong {
            layer,
            len: l4_len,
            max,
        });
    }
    let protocol = l4.protocol(v6);
    let l3 = out.len();
    let l4_off = l3 + l3_len;
    out.resize(l4_off + l4_hdr, 0);
    body.push(out);

    // Transport header with a zero checksum, then the checksum over what was written.
    let ck_off = match *l4 {
        Transport::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
        } => {
            let mut h = TcpHeader::new(src_port, dst_port, seq, TCP_WINDOW);
            h.acknowledgment_number = ack;
            h.fin = flags & 0x01 != 0;
            h.syn = flags & 0x02 != 0;
            h.rst = flags & 0x04 != 0;
            h.psh = flags & 0x08 != 0;
            h.ack = flags & 0x10 != 0;
            h.urg = flags & 0x20 != 0;
            h.ece = flags & 0x40 != 0;
            h.cwr = flags & 0x80 != 0;
            out[l4_off..l4_off + TCP_LEN].copy_from_slice(&h.to_bytes());
            16
        }
        Transport::Udp { src_port, dst_port } => {
            let h = etherparse::UdpHeader {
                source_port: src_port,
                destination_port: dst_port,
                length: l4_len as u16,
                checksum: 0,
            };
            out[l4_off..l4_off + UDP_LEN].copy_from_slice(&h.to_bytes());
            6
        }
        Transport::Icmp {
            icmp_type,
            code,
            id,
            seq,
        } => {
            let [i0, i1] = id.to_be_bytes();
            let [s0, s1] = seq.to_be_bytes();
            out[l4_off..l4_off + ICMP_LEN].copy_from_slice(&[icmp_type, code, 0, 0, i0, i1, s0, s1]);
            2
        }
    };
    let sum = match l4 {
        Transport::Icmp { .. } if !v6 => Sum16BitWords::new(),
        _ => pseudo_header(ip.src, ip.dst, protocol, l4_len),
    }
    .add_slice(&out[l4_off..]);
    let ck = match l4 {
        // UDP: a computed 0 is sent as 0xFFFF (0 means "no checksum").
        Transport::Udp { .. } => sum.to_ones_complement_with_no_zero(),
        _ => sum.ones_complement(),
    }
    // etherparse sums native-endian words; `to_be` makes the value big-endian-readable.
    .to_be();
    out[l4_off + ck_off..l4_off + ck_off + 2].copy_from_slice(&ck.to_be_bytes());

    // IP header last (its length fields need l4_len).
    match (ip.src, ip.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let mut h = Ipv4Header::new(
                l4_len as u16,
                ip.ttl,
                IpNumber(protocol),
                src.octets(),
                dst.octets(),
            )
            .map_err(|_| WireError::TooLong {
                layer,
                len: l4_len,
                max,
            })?;
            h.identification = ip.ident;
            h.dont_fragment = ip.dont_fragment;
            h.header_checksum = h.calc_header_checksum();
            out[l3..l4_off].copy_from_slice(&h.to_bytes());
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let h = Ipv6Header {
                traffic_class: 0,
                flow_label: Default::default(),
                payload_length: l4_len as u16,
                next_header: IpNumber(protocol),
                hop_limit: ip.ttl,
                source: src.octets(),
                destination: dst.octets(),
            };
            out[l3..l4_off].copy_from_slice(&h.to_bytes());
        }
        _ => {
            return Err(WireError::AddressFamilyMismatch {
                src: ip.src,
                dst: ip.dst,
            })
        }
    }
    Ok(())
}

/// The TCP/UDP/ICMPv6 pseudo-header sum (RFC 793 / RFC 768 / RFC 8200 §8.1).
pub(crate) fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, l4_len: usize) -> Sum16BitWords {
    match (src, dst) {
        (IpAddr::V6(s), IpAddr::V6(d)) => Sum16BitWords::new()
            .add_16bytes(s.octets())
            .add_16bytes(d.octets())
            .add_4bytes((l4_len as u32).to_be_bytes())
            .add_4bytes([0, 0, 0, protocol]),
        (s, d) => Sum16BitWords::new()
            .add_4bytes(v4_octets(s))
            .add_4bytes(v4_octets(d))
            .add_2bytes([0, protocol])
            .add_2bytes((l4_len as u16).to_be_bytes()),
    }
}

fn v4_octets(a: IpAddr) -> [u8; 4] {
    match a {
        IpAddr::V4(a) => a.octets(),
        // Callers check the family first; a mixed pair never reaches here.
        IpAddr::V6(_) => [0; 4],
    }
}
