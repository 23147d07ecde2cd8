//! Frames for the components' unit tests (smoltcp style: one frame in, one action out). Each is
//! written to real bytes by the `wire` encoder and parsed back by the decoder, which verifies
//! every checksum, so a test feeds a component exactly what the wire would carry.

use crate::packet::{EthHeader, IpHeader, Packet, Payload, Transport};
use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr};

/// Through the wire: encode to bytes, check their length, decode (checksums verified).
pub(crate) fn through_wire(p: Packet) -> Packet {
    let mut bytes = Vec::new();
    crate::wire::encode(&p, &mut bytes).expect("encodable frame");
    assert_eq!(bytes.len(), crate::wire::frame_len(&p));
    crate::wire::decode(&bytes).expect("a well-formed frame with correct checksums")
}

/// A TCP SYN from `src:sport` to `dst:dport`, with TTL `ttl`, between two MACs.
pub(crate) fn tcp_syn(
    (src_mac, dst_mac): (Mac, Mac),
    (src, sport): (Ipv4Addr, u16),
    (dst, dport): (Ipv4Addr, u16),
    ttl: u8,
) -> Packet {
    through_wire(Packet {
        outer: None,
        eth: EthHeader {
            src: src_mac,
            dst: dst_mac,
        },
        payload: Payload::Ip {
            ip: IpHeader {
                src: IpAddr::V4(src),
                dst: IpAddr::V4(dst),
                ttl,
                dont_fragment: true,
                ident: 1,
            },
            l4: Transport::Tcp {
                src_port: sport,
                dst_port: dport,
                seq: 1000,
                ack: 0,
                flags: crate::packet::tcp_flags::SYN,
            },
        },
        data_len: 0,
    })
}

pub(crate) fn mac(s: &str) -> Mac {
    s.parse().expect("MAC")
}

pub(crate) fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("IPv4 address")
}
