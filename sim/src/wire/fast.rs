//! The hot path: find header offsets and the 5-tuple without verifying checksums, and rewrite
//! addresses, ports and TTL in place with RFC 1624 incremental checksum updates. Nothing here
//! allocates. Offsets are plain index arithmetic on fixed layouts (etherparse's validating
//! slicers do more than a forwarding hop needs); every access is bounds-checked.

use super::error::truncated;
use super::*;
use crate::packet::proto;
use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where the headers of one (non-VXLAN-aware) frame sit. For a VXLAN frame, `peek` describes
/// the outer packet; peek `&frame[VXLAN_OUTER_LEN..]` for the inner one.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Offsets {
    /// Start of the IP header.
    pub l3: usize,
    /// Start of the transport header.
    pub l4: usize,
    /// End of the IP packet (Ethernet padding follows).
    pub end: usize,
    pub v6: bool,
    pub protocol: u8,
}

/// A flow key. ICMP uses its identifier as both ports, like [`Transport::ports`].
///
/// [`Transport::ports`]: crate::packet::Transport::ports
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiveTuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub src_port: u16,
    pub dst_port: u16,
}

/// Which address or port of a header.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Src,
    Dst,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Parses Ethernet + IPv4/IPv6 + the first bytes of TCP/UDP/ICMP: offsets and 5-tuple. No
/// checksum is verified (use [`decode`] for that).
pub fn peek(frame: &[u8]) -> Result<(Offsets, FiveTuple), WireError> {
    if frame.len() < ETH_LEN {
        return Err(truncated(Layer::Ethernet, ETH_LEN, frame.len()));
    }
    let l3 = ETH_LEN;
    let ip = &frame[l3..];
    let (v6, l4, end, protocol, src, dst) = match be16(frame, 12) {
        ETHERTYPE_IPV4 => {
            if ip.len() < IPV4_LEN {
                return Err(truncated(Layer::Ipv4, IPV4_LEN, ip.len()));
            }
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(be16(ip, 2));
            if ip[0] >> 4 != 4 || ihl < IPV4_LEN || total < ihl {
                return Err(WireError::Malformed {
                    layer: Layer::Ipv4,
                    reason: "bad version, header length or total length",
                });
            }
            if total > ip.len() {
                return Err(truncated(Layer::Ipv4, total, ip.len()));
            }
            let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
            let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
            (
                false,
                l3 + ihl,
                l3 + total,
                ip[9],
                IpAddr::V4(src),
                IpAddr::V4(dst),
            )
        }
        ETHERTYPE_IPV6 => {
            if ip.len() < IPV6_LEN {
                return Err(truncated(Layer::Ipv6, IPV6_LEN, ip.len()));
            }
            let total = IPV6_LEN + usize::from(be16(ip, 4));
            if total > ip.len() {
                return Err(truncated(Layer::Ipv6, total, ip.len()));
            }
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(&ip[8..24]);
            d.copy_from_slice(&ip[24..40]);
            let (src, dst) = (Ipv6Addr::from(s), Ipv6Addr::from(d));
            (
                true,
                l3 + IPV6_LEN,
                l3 + total,
                ip[6],
                IpAddr::V6(src),
                IpAddr::V6(dst),
            )
        }
        other => return Err(WireError::UnsupportedEtherType(other)),
    };
    let t = &frame[l4..end];
    let (need, layer) = match protocol {
        proto::TCP => (TCP_LEN, Layer::Tcp),
        proto::UDP => (UDP_LEN, Layer::Udp),
        proto::ICMP if !v6 => (ICMP_LEN, Layer::Icmpv4),
        proto::ICMPV6 if v6 => (ICMP_LEN, Layer::Icmpv6),
        other => {
            return Err(WireError::UnsupportedProtocol {
                layer: if v6 { Layer::Ipv6 } else { Layer::Ipv4 },
                protocol: other,
            })
        }
    };
    if t.len() < need {
        return Err(truncated(layer, need, t.len()));
    }
    let (src_port, dst_port) = if matches!(layer, Layer::Icmpv4 | Layer::Icmpv6) {
        (be16(t, 4), be16(t, 4))
    } else {
        (be16(t, 0), be16(t, 2))
    };
    let at = Offsets {
        l3,
        l4,
        end,
        v6,
        protocol,
    };
    Ok((
        at,
        FiveTuple {
            src,
            dst,
            protocol,
            src_port,
            dst_port,
        },
    ))
}

/// RFC 1624 eqn. 3: the checksum `cksum` after the 16-bit-aligned field bytes `old` change to
/// `new`: HC' = ~(~HC + ~m + m'). Both slices must have the same length; an odd final byte is
/// treated as the high byte of a word (as in the checksum itself). Extra bytes of the longer
/// slice are ignored.
pub fn checksum_adjust(cksum: u16, old: &[u8], new: &[u8]) -> u16 {
    debug_assert_eq!(old.len(), new.len());
    let mut sum = u32::from(!cksum);
    for (o, n) in old.chunks(2).zip(new.chunks(2)) {
        let word = |c: &[u8]| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]);
        sum += u32::from(!word(o)) + u32::from(word(n));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// What a zero checksum field means: nothing special, UDP over IPv4 (0 = no checksum; a
/// computed 0 is sent as 0xffff) or UDP over IPv6 (a checksum is mandatory and a computed 0 is
/// sent as 0xffff, RFC 8200 §8.1).
#[derive(Copy, Clone, PartialEq, Eq)]
enum Zero {
    Plain,
    UdpV4,
    UdpV6,
}

/// Byte offset (from `at.l4`) of the transport checksum, and what a zero in it means. ICMPv4 has
/// no pseudo-header, so address changes don't touch it.
fn l4_checksum(at: &Offsets) -> Option<(usize, Zero)> {
    match at.protocol {
        proto::TCP => Some((16, Zero::Plain)),
        proto::UDP if at.v6 => Some((6, Zero::UdpV6)),
        proto::UDP => Some((6, Zero::UdpV4)),
        proto::ICMPV6 => Some((2, Zero::Plain)),
        _ => None,
    }
}

fn span(frame: &mut [u8], from: usize, len: usize, layer: Layer) -> Result<&mut [u8], WireError> {
    let have = frame.len();
    frame
        .get_mut(from..from + len)
        .ok_or(truncated(layer, from + len, have))
}

/// Adjusts the 16-bit checksum at `off` for a change of `old` → `new`.
fn adjust_at(
    frame: &mut [u8],
    off: usize,
    zero: Zero,
    layer: Layer,
    old: &[u8],
    new: &[u8],
) -> Result<(), WireError> {
    let f = span(frame, off, 2, layer)?;
    let ck = u16::from_be_bytes([f[0], f[1]]);
    if zero == Zero::UdpV4 && ck == 0 {
        return Ok(());
    }
    let mut n = checksum_adjust(ck, old, new);
    if zero != Zero::Plain && n == 0 {
        n = 0xffff;
    }
    f.copy_from_slice(&n.to_be_bytes());
    Ok(())
}

fn rewrite_addr(frame: &mut [u8], at: &Offsets, side: Side, new: &[u8]) -> Result<(), WireError> {
    let (layer, off) = match (at.v6, side) {
        (false, Side::Src) => (Layer::Ipv4, at.l3 + 12),
        (false, Side::Dst) => (Layer::Ipv4, at.l3 + 16),
        (true, Side::Src) => (Layer::Ipv6, at.l3 + 8),
        (true, Side::Dst) => (Layer::Ipv6, at.l3 + 24),
    };
    let mut old = [0u8; 16];
    let old = &mut old[..new.len()];
    old.copy_from_slice(span(frame, off, new.len(), layer)?);
    // Check every span before changing anything, so an error leaves the frame as it was.
    if let Some((ck, _)) = l4_checksum(at) {
        span(frame, at.l4 + ck, 2, layer)?;
    }
    span(frame, at.l3 + 10, 2, layer)?;
    if !at.v6 {
        adjust_at(frame, at.l3 + 10, Zero::Plain, layer, old, new)?;
    }
    if let Some((ck, zero_none)) = l4_checksum(at) {
        let l4_layer = if at.protocol == proto::TCP {
            Layer::Tcp
        } else if at.protocol == proto::UDP {
            Layer::Udp
        } else {
            Layer::Icmpv6
        };
        adjust_at(frame, at.l4 + ck, zero_none, l4_layer, old, new)?;
    }
    span(frame, off, new.len(), layer)?.copy_from_slice(new);
    Ok(())
}

/// Rewrites the IPv4 source or destination address in place, updating the IPv4 header checksum
/// and the TCP/UDP checksum (pseudo-header) incrementally.
pub fn rewrite_ipv4_addr(frame: &mut [u8], at: &Offsets, side: Side, new: Ipv4Addr) -> Result<(), WireError> {
    if at.v6 {
        return Err(WireError::Unsupported {
            layer: Layer::Ipv6,
            what: "an IPv4 address in an IPv6 header",
        });
    }
    rewrite_addr(frame, at, side, &new.octets())
}

/// Rewrites the IPv6 source or destination address in place, updating the TCP/UDP/ICMPv6
/// checksum (pseudo-header) incrementally.
pub fn rewrite_ipv6_addr(frame: &mut [u8], at: &Offsets, side: Side, new: Ipv6Addr) -> Result<(), WireError> {
    if !at.v6 {
        return Err(WireError::Unsupported {
            layer: Layer::Ipv4,
            what: "an IPv6 address in an IPv4 header",
        });
    }
    rewrite_addr(frame, at, side, &new.octets())
}

/// Rewrites a TCP/UDP port, or the ICMP echo identifier (either side), in place, updating the
/// transport checksum incrementally.
pub fn rewrite_port(frame: &mut [u8], at: &Offsets, side: Side, new: u16) -> Result<(), WireError> {
    let (off, ck, zero_none, layer) = match at.protocol {
        proto::TCP => (if side == Side::Src { 0 } else { 2 }, 16, Zero::Plain, Layer::Tcp),
        proto::UDP => {
            let zero = if at.v6 { Zero::UdpV6 } else { Zero::UdpV4 };
            (if side == Side::Src { 0 } else { 2 }, 6, zero, Layer::Udp)
        }
        proto::ICMP => (4, 2, Zero::Plain, Layer::Icmpv4),
        proto::ICMPV6 => (4, 2, Zero::Plain, Layer::Icmpv6),
        other => {
            return Err(WireError::UnsupportedProtocol {
                layer: if at.v6 { Layer::Ipv6 } else { Layer::Ipv4 },
                protocol: other,
            })
        }
    };
    span(frame, at.l4 + ck, 2, layer)?;
    let f = span(frame, at.l4 + off, 2, layer)?;
    let old = [f[0], f[1]];
    let new = new.to_be_bytes();
    adjust_at(frame, at.l4 + ck, zero_none, layer, &old, &new)?;
    span(frame, at.l4 + off, 2, layer)?.copy_from_slice(&new);
    Ok(())
}

/// Decrements the IPv4 TTL (updating the header checksum) or the IPv6 hop limit. Returns the
/// new value, or `None` without touching the frame when it was already 0 or 1: the packet has
/// expired and the hop answers with ICMP Time Exceeded.
pub fn decrement_ttl(frame: &mut [u8], at: &Offsets) -> Result<Option<u8>, WireError> {
    if at.v6 {
        let f = span(frame, at.l3 + 7, 1, Layer::Ipv6)?;
        if f[0] <= 1 {
            return Ok(None);
        }
        f[0] -= 1;
        return Ok(Some(f[0]));
    }
    span(frame, at.l3 + 10, 2, Layer::Ipv4)?;
    let f = span(frame, at.l3 + 8, 2, Layer::Ipv4)?;
    let old = [f[0], f[1]];
    if old[0] <= 1 {
        return Ok(None);
    }
    let new = [old[0] - 1, old[1]];
    f[0] = new[0];
    adjust_at(frame, at.l3 + 10, Zero::Plain, Layer::Ipv4, &old, &new)?;
    Ok(Some(new[0]))
}

/// Rewrites the Ethernet source or destination MAC (no checksum covers it).
pub fn rewrite_mac(frame: &mut [u8], side: Side, mac: Mac) -> Result<(), WireError> {
    let off = if side == Side::Dst { 0 } else { 6 };
    span(frame, off, 6, Layer::Ethernet)?.copy_from_slice(&mac.0);
    Ok(())
}
