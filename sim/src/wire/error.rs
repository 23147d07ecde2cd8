//! Wire errors: every malformed or unsupported frame gets a named error, never a panic.

use std::fmt;
use std::net::IpAddr;

/// The header a [`WireError`] is about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    Ethernet,
    Arp,
    Ipv4,
    Ipv6,
    Tcp,
    Udp,
    Icmpv4,
    Icmpv6,
    Vxlan,
    /// The IP header + 8 bytes quoted inside an ICMP error.
    IcmpQuote,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Ethernet => "Ethernet",
            Layer::Arp => "ARP",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv6 => "IPv6",
            Layer::Tcp => "TCP",
            Layer::Udp => "UDP",
            Layer::Icmpv4 => "ICMPv4",
            Layer::Icmpv6 => "ICMPv6",
            Layer::Vxlan => "VXLAN",
            Layer::IcmpQuote => "ICMP quote",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("truncated {layer} header: need {need} bytes, have {have}")]
    Truncated { layer: Layer, need: usize, have: usize },
    #[error("bad {layer} checksum: found {found:#06x}, expected {expected:#06x}")]
    BadChecksum { layer: Layer, found: u16, expected: u16 },
    #[error("malformed {layer} header: {reason}")]
    Malformed { layer: Layer, reason: &'static str },
    #[error("unsupported {layer} feature: {what}")]
    Unsupported { layer: Layer, what: &'static str },
    #[error("unsupported EtherType {0:#06x}")]
    UnsupportedEtherType(u16),
    #[error("unsupported IP protocol {protocol} in {layer}")]
    UnsupportedProtocol { layer: Layer, protocol: u8 },
    #[error("source {src} and destination {dst} are different IP versions")]
    AddressFamilyMismatch { src: IpAddr, dst: IpAddr },
    #[error("{layer} length {len} exceeds the maximum {max}")]
    TooLong { layer: Layer, len: usize, max: usize },
    #[error("{field} {value} is out of range (max {max})")]
    OutOfRange {
        field: &'static str,
        value: u64,
        max: u64,
    },
    #[error("in the VXLAN inner frame: {0}")]
    Vxlan(Box<WireError>),
}

pub(crate) fn truncated(layer: Layer, need: usize, have: usize) -> WireError {
    WireError::Truncated { layer, need, have }
}
