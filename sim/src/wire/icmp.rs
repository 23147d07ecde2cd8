//! ICMP errors (destination unreachable, time exceeded, packet too big) with the offending
//! packet's IP header + first 8 transport bytes quoted (RFC 792; RFC 4443 §2.4 allows more,
//! hnsim quotes the same minimum for both versions).
//!
//! The packet model (`Transport::Icmp`) has no room for the quote, so an error travels as a
//! `Packet` plus an [`IcmpQuote`] (a fixed-size, `Copy` byte array), and is written with
//! [`encode_icmp_error`]. Plain [`encode`] of an error packet writes pattern bytes instead.

use super::decode::parse_frame;
use super::encode::{encode_with_body, Body};
use super::error::truncated;
use super::*;
use crate::packet::{EthHeader, IpHeader, Packet, Payload, Transport};
use hnsim_model::Mac;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TTL of ICMP errors a hop generates: Windows' default TTL (`DefaultTTL` = 128).
pub const ICMP_ERROR_TTL: u8 = 128;

/// The IP header (20 bytes for IPv4 without options, 40 for IPv6) and up to 8 transport
/// bytes of an offending packet, exactly as they were on the wire.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct IcmpQuote {
    len: u8,
    bytes: [u8; IcmpQuote::MAX_LEN],
}

impl fmt::Debug for IcmpQuote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IcmpQuote({:02x?})", self.as_bytes())
    }
}

impl IcmpQuote {
    pub const MAX_LEN: usize = IPV6_LEN + 8;

    /// Quotes the IP packet of an Ethernet frame (the outer packet if it is VXLAN: that is
    /// what the rejecting hop sees).
    pub fn from_frame(frame: &[u8]) -> Result<IcmpQuote, WireError> {
        let ip = frame
            .get(ETH_LEN..)
            .ok_or(truncated(Layer::Ethernet, ETH_LEN, frame.len()))?;
        Self::from_ip_bytes(ip)
    }

    /// Encodes `pkt` into `scratch` and quotes it.
    pub fn from_packet(pkt: &Packet, scratch: &mut Vec<u8>) -> Result<IcmpQuote, WireError> {
        encode(pkt, scratch)?;
        Self::from_frame(scratch)
    }

    /// Quotes the start of an IP packet: its header and up to 8 more bytes.
    pub fn from_ip_bytes(ip: &[u8]) -> Result<IcmpQuote, WireError> {
        let hdr = match ip.first().map(|b| b >> 4) {
            Some(4) if ip[0] & 0x0f == 5 => IPV4_LEN,
            Some(4) => {
                return Err(WireError::Unsupported {
                    layer: Layer::IcmpQuote,
                    what: "IPv4 options in the quoted header",
                })
            }
            Some(6) => IPV6_LEN,
            Some(_) => {
                return Err(WireError::Malformed {
                    layer: Layer::IcmpQuote,
                    reason: "quoted IP version is neither 4 nor 6",
                })
            }
            None => return Err(truncated(Layer::IcmpQuote, IPV4_LEN, 0)),
        };
        if ip.len() < hdr {
            return Err(truncated(Layer::IcmpQuote, hdr, ip.len()));
        }
        let len = ip.len().min(hdr + 8);
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..len].copy_from_slice(&ip[..len]);
        Ok(IcmpQuote {
            len: len as u8,
            bytes,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// For NAT of the quoted header (RFC 5508 §4.2); adjust the ICMP checksum afterwards.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..usize::from(self.len)]
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The quoted IP header, protocol and ports (ICMP: the identifier twice; 0 when the quote
    /// is too short to hold them).
    pub fn headers(&self) -> (IpHeader, u8, u16, u16) {
        let b = self.as_bytes();
        let (ip, protocol, l4) = if b[0] >> 4 == 4 {
            let a = |o: usize| IpAddr::V4(Ipv4Addr::new(b[o], b[o + 1], b[o + 2], b[o + 3]));
            let ip = IpHeader {
                src: a(12),
                dst: a(16),
                ttl: b[8],
                dont_fragment: b[6] & 0x40 != 0,
                ident: u16::from_be_bytes([b[4], b[5]]),
            };
            (ip, b[9], &b[IPV4_LEN..])
        } else {
            let a = |o: usize| {
                let mut x = [0u8; 16];
                x.copy_from_slice(&b[o..o + 16]);
                IpAddr::V6(Ipv6Addr::from(x))
            };
            let ip = IpHeader {
                src: a(8),
                dst: a(24),
                ttl: b[7],
                dont_fragment: true,
                ident: 0,
            };
            (ip, b[6], &b[IPV6_LEN..])
        };
        let w = |o: usize| match l4.get(o..o + 2) {
            Some(x) => u16::from_be_bytes([x[0], x[1]]),
            None => 0,
        };
        let (sp, dp) = match protocol {
            crate::packet::proto::ICMP | crate::packet::proto::ICMPV6 => (w(4), w(4)),
            _ => (w(0), w(2)),
        };
        (ip, protocol, sp, dp)
    }
}

/// The ICMP errors a simulated hop sends.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum IcmpErrorKind {
    /// ICMPv4 type 3 / ICMPv6 type 1 with this code (v4 3 and v6 4 = port unreachable).
    DestUnreachable { code: u8 },
    /// ICMPv4 type 3 code 4 "fragmentation needed", next-hop MTU in bytes 6-7 (RFC 1191) /
    /// ICMPv6 type 2 "packet too big", MTU in bytes 4-7 (RFC 4443 §3.2).
    PacketTooBig { mtu: u32 },
    /// ICMPv4 type 11 / ICMPv6 type 3; code 0 = TTL / hop limit exceeded in transit.
    TimeExceeded { code: u8 },
}

impl IcmpErrorKind {
    /// The ICMP header fields; the 4 bytes after the checksum are `id:seq`.
    pub fn transport(self, v6: bool) -> Transport {
        let (icmp_type, code, rest) = match (self, v6) {
            (IcmpErrorKind::DestUnreachable { code }, false) => (3, code, 0),
            (IcmpErrorKind::DestUnreachable { code }, true) => (1, code, 0),
            (IcmpErrorKind::PacketTooBig { mtu }, false) => (3, 4, mtu.min(0xffff)),
            (IcmpErrorKind::PacketTooBig { mtu }, true) => (2, 0, mtu),
            (IcmpErrorKind::TimeExceeded { code }, false) => (11, code, 0),
            (IcmpErrorKind::TimeExceeded { code }, true) => (3, code, 0),
        };
        Transport::Icmp {
            icmp_type,
            code,
            id: (rest >> 16) as u16,
            seq: rest as u16,
        }
    }

    /// The inverse of [`IcmpErrorKind::transport`]; `None` for non-error ICMP (e.g. echo).
    pub fn from_transport(t: &Transport, v6: bool) -> Option<IcmpErrorKind> {
        let Transport::Icmp {
            icmp_type,
            code,
            id,
            seq,
        } = *t
        else {
            return None;
        };
        let rest = (u32::from(id) << 16) | u32::from(seq);
        match (icmp_type, code, v6) {
            (3, 4, false) => Some(IcmpErrorKind::PacketTooBig { mtu: rest & 0xffff }),
            (3, code, false) | (1, code, true) => Some(IcmpErrorKind::DestUnreachable { code }),
            (2, _, true) => Some(IcmpErrorKind::PacketTooBig { mtu: rest }),
            (11, code, false) | (3, code, true) => Some(IcmpErrorKind::TimeExceeded { code }),
            _ => None,
        }
    }
}

/// The error a hop (`reporter_mac`, `reporter_ip`) sends back to the source of `offending`
/// (its outer source while VXLAN-encapsulated). `data_len` is the quote's length, so
/// `decode(encode_icmp_error(..))` returns this packet.
pub fn icmp_error(
    kind: IcmpErrorKind,
    reporter_mac: Mac,
    reporter_ip: IpAddr,
    offending: &Packet,
    quote: &IcmpQuote,
) -> Result<Packet, WireError> {
    let (to_mac, to_ip) = match (&offending.outer, &offending.payload) {
        (Some(o), _) => (o.eth.src, IpAddr::V4(o.src)),
        (None, Payload::Ip { ip, .. }) => (offending.eth.src, ip.src),
        (None, Payload::Arp(_)) => {
            return Err(WireError::Unsupported {
                layer: Layer::Arp,
                what: "ICMP error about an ARP packet",
            })
        }
    };
    if to_ip.is_ipv4() != reporter_ip.is_ipv4() {
        return Err(WireError::AddressFamilyMismatch {
            src: reporter_ip,
            dst: to_ip,
        });
    }
    Ok(Packet {
        outer: None,
        eth: EthHeader {
            src: reporter_mac,
            dst: to_mac,
        },
        payload: Payload::Ip {
            ip: IpHeader {
                src: reporter_ip,
                dst: to_ip,
                ttl: ICMP_ERROR_TTL,
                dont_fragment: to_ip.is_ipv6(),
                ident: 0,
            },
            l4: kind.transport(to_ip.is_ipv6()),
        },
        data_len: quote.len() as u16,
    })
}

/// Writes an ICMP packet whose body is `quote` (its `data_len` is ignored).
pub fn encode_icmp_error(pkt: &Packet, quote: &IcmpQuote, out: &mut Vec<u8>) -> Result<(), WireError> {
    if !matches!(
        pkt.payload,
        Payload::Ip {
            l4: Transport::Icmp { .. },
            ..
        }
    ) {
        return Err(WireError::Unsupported {
            layer: Layer::IcmpQuote,
            what: "a quote on a packet that is not ICMP",
        });
    }
    encode_with_body(pkt, Body::Bytes(quote.as_bytes()), out)
}

/// The quote inside an ICMP error frame (checksums verified; VXLAN on port 4789 is looked
/// through). Errors if the frame is not an ICMP error.
pub fn decode_icmp_quote(frame: &[u8]) -> Result<IcmpQuote, WireError> {
    let pkt = decode(frame)?;
    let inner = if pkt.outer.is_some() {
        &frame[VXLAN_OUTER_LEN..]
    } else {
        frame
    };
    let f = parse_frame(inner)?;
    let Payload::Ip { ip, l4 } = f.payload else {
        return Err(WireError::Malformed {
            layer: Layer::IcmpQuote,
            reason: "not an ICMP error (ARP)",
        });
    };
    if IcmpErrorKind::from_transport(&l4, ip.src.is_ipv6()).is_none() {
        return Err(WireError::Malformed {
            layer: Layer::IcmpQuote,
            reason: "not an ICMP error message",
        });
    }
    IcmpQuote::from_ip_bytes(f.body)
}
