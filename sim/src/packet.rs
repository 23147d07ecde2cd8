//! The parsed form of a packet that moves through the model: a fixed-size header stack (`Copy`, so
//! the packet path never allocates) plus a payload length. `wire` turns it into real bytes with
//! correct checksums (and parses real bytes back); pcap captures and uplinks carry those bytes.

use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr};

/// IP protocol numbers.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}

/// TCP flag bits.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct EthHeader {
    pub src: Mac,
    pub dst: Mac,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ArpOp {
    Request,
    Reply,
}

/// An ARP packet (IPv4 over Ethernet).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Arp {
    pub op: ArpOp,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

/// IPv4 or IPv6 header fields the model reads or rewrites. For IPv6, `ttl` is the hop limit and
/// `dont_fragment` is always true (IPv6 routers never fragment).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct IpHeader {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    pub dont_fragment: bool,
    /// IPv4 identification (0 for IPv6).
    pub ident: u16,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: u8,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
    },
    /// ICMPv4 or ICMPv6 (by the IP version). `id`/`seq` are meaningful for echo; for errors
    /// (`quoted` = true) the payload quotes the offending packet's headers.
    Icmp {
        icmp_type: u8,
        code: u8,
        id: u16,
        seq: u16,
    },
}

impl Transport {
    pub fn protocol(&self, v6: bool) -> u8 {
        match self {
            Transport::Tcp { .. } => proto::TCP,
            Transport::Udp { .. } => proto::UDP,
            Transport::Icmp { .. } if v6 => proto::ICMPV6,
            Transport::Icmp { .. } => proto::ICMP,
        }
    }
    /// (source port, destination port); ICMP echo uses the identifier as both.
    pub fn ports(&self) -> (u16, u16) {
        match *self {
            Transport::Tcp {
                src_port, dst_port, ..
            }
            | Transport::Udp { src_port, dst_port } => (src_port, dst_port),
            Transport::Icmp { id, .. } => (id, id),
        }
    }
}

/// What follows the Ethernet header.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Payload {
    Arp(Arp),
    Ip { ip: IpHeader, l4: Transport },
}

/// VXLAN outer headers pushed by an encap (the inner frame is the rest of the packet).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct VxlanOuter {
    pub eth: EthHeader,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub src_port: u16,
    pub dst_port: u16,
    pub vni: u32,
}

/// A frame on a wire or switch port.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Packet {
    /// Present while the packet is VXLAN-encapsulated.
    pub outer: Option<VxlanOuter>,
    pub eth: EthHeader,
    pub payload: Payload,
    /// Bytes of application data after the transport header.
    pub data_len: u16,
}

impl Packet {
    /// A broadcast ARP request from the interface `(ip, mac)` asking who has `target`.
    pub fn arp_request((ip, mac): (Ipv4Addr, Mac), target: Ipv4Addr) -> Packet {
        Packet {
            outer: None,
            eth: EthHeader {
                src: mac,
                dst: Mac::BROADCAST,
            },
            payload: Payload::Arp(Arp {
                op: ArpOp::Request,
                sender_mac: mac,
                sender_ip: ip,
                target_mac: Mac::default(),
                target_ip: target,
            }),
            data_len: 0,
        }
    }

    /// The reply to this ARP request: `mac` has the address asked for, unicast back to the
    /// asker. (Any other frame is answered as if it asked for 0.0.0.0.)
    pub fn arp_reply(&self, mac: Mac) -> Packet {
        let (asker_ip, target) = match self.payload {
            Payload::Arp(a) => (a.sender_ip, a.target_ip),
            Payload::Ip { .. } => (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
        };
        let asker = self.eth.src;
        Packet {
            outer: None,
            eth: EthHeader { src: mac, dst: asker },
            payload: Payload::Arp(Arp {
                op: ArpOp::Reply,
                sender_mac: mac,
                sender_ip: target,
                target_mac: asker,
                target_ip: asker_ip,
            }),
            data_len: 0,
        }
    }
}

/// Outer overhead of VXLAN over IPv4: Ethernet is not counted against the IP MTU, so
/// IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) = 50, the figure HNS uses.
pub const VXLAN_OVERHEAD: u16 = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arp_reply_answers_its_request() {
        let asker = (Ipv4Addr::new(10, 0, 0, 11), Mac([2, 0, 0, 0, 0, 11]));
        let target = Ipv4Addr::new(10, 0, 0, 1);
        let req = Packet::arp_request(asker, target);
        assert_eq!(req.eth.dst, Mac::BROADCAST);
        assert_eq!(req.eth.src, asker.1);
        let Payload::Arp(a) = req.payload else {
            panic!("not ARP: {req:?}")
        };
        assert_eq!(
            (a.op, a.sender_ip, a.sender_mac, a.target_ip),
            (ArpOp::Request, asker.0, asker.1, target)
        );
        assert_eq!(a.target_mac, Mac::default());

        let owner = Mac([2, 0, 0, 0, 0, 1]);
        let rep = req.arp_reply(owner);
        assert_eq!((rep.eth.src, rep.eth.dst), (owner, asker.1));
        let Payload::Arp(r) = rep.payload else {
            panic!("not ARP: {rep:?}")
        };
        assert_eq!(
            (r.op, r.sender_ip, r.sender_mac, r.target_ip, r.target_mac),
            (ArpOp::Reply, target, owner, asker.0, asker.1)
        );
    }
}
