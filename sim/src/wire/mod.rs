//! Real packet bytes: [`Packet`](crate::packet::Packet) header stacks to Ethernet frames and back.
//!
//! Byte layouts written by [`encode`] (all fields big-endian, no Ethernet padding, no FCS):
//!
//! ```text
//! Ethernet II  dst(6) src(6) ethertype(2)                       0x0806 ARP, 0x0800 IPv4, 0x86DD IPv6
//! ARP          htype=1 ptype=0x0800 hlen=6 plen=4 op sha spa tha tpa   (28 bytes)
//! IPv4         20 bytes, no options; DSCP/ECN 0; DF from the packet; header checksum
//! IPv6         40 bytes; traffic class 0, flow label 0; no extension headers
//! TCP          20 bytes, no options; window TCP_WINDOW; checksum incl. pseudo-header
//! UDP          8 bytes; checksum incl. pseudo-header (never 0)
//! ICMP(v6)     type code checksum id(2) seq(2), i.e. the 4 "rest of header" bytes are id:seq
//!              (echo id/seq; for PTB / frag-needed the MTU sits there, see icmp.rs)
//! data         `data_len` bytes of PATTERN repeated (the Windows `ping` payload)
//! VXLAN        (outer IPv4 only: VxlanOuter holds IPv4 addresses; VNI ≤ 2^24-1)
//!              outer Ethernet / IPv4 (DF clear, ident 0) / UDP (checksum 0, RFC 7348 §5)
//!              / flags=0x08 (I) rsvd(3) VNI(3) rsvd(1) / inner Ethernet frame
//! ```
//!
//! [`decode`] parses the same layouts (etherparse does the header slicing) and verifies every
//! checksum; the hot-path helpers in [`fast`] parse offsets and rewrite addresses/ports in
//! place with RFC 1624 incremental checksum updates.

mod decode;
mod encode;
mod error;
pub mod fast;
pub mod icmp;

pub use decode::{decode, decode_with_vxlan_ports};
pub use encode::{encode, frame_len, ip_len};
pub use error::{Layer, WireError};
pub use fast::{
    checksum_adjust, decrement_ttl, peek, rewrite_ipv4_addr, rewrite_ipv6_addr, rewrite_mac, rewrite_port,
    FiveTuple, Offsets, Side,
};
pub use icmp::{decode_icmp_quote, encode_icmp_error, icmp_error, IcmpErrorKind, IcmpQuote, ICMP_ERROR_TTL};

/// IANA-assigned VXLAN UDP port.
pub const VXLAN_PORT: u16 = 4789;
/// Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8) bytes in front of the inner frame.
pub const VXLAN_OUTER_LEN: usize = 50;
/// Window advertised in every encoded TCP header (the packet model carries no window). 64240 is
/// what Windows advertises in a SYN for a 1460-byte MSS (44 × 1460).
pub const TCP_WINDOW: u16 = 64240;
/// Application data written for `data_len`: the payload of Windows `ping`, repeated.
pub const PATTERN: &[u8; 23] = b"abcdefghijklmnopqrstuvw";

pub(crate) const ETH_LEN: usize = 14;
pub(crate) const ARP_LEN: usize = 28;
pub(crate) const IPV4_LEN: usize = 20;
pub(crate) const IPV6_LEN: usize = 40;
pub(crate) const TCP_LEN: usize = 20;
pub(crate) const UDP_LEN: usize = 8;
pub(crate) const ICMP_LEN: usize = 8;
pub(crate) const VXLAN_LEN: usize = 8;
pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86DD;
