//! Applications as a component: the listening sockets, and what a receiver answers a request
//! with — SYN-ACK from a TCP listener, RST from a closed TCP port (`NoListener`), a UDP answer
//! or ICMP port unreachable, ICMP echo replies. One request in, one [`Answer`] out; the driver
//! (`world::app`) names the receiver, sends the reply back and checks that it reaches the
//! sender with the addresses the sender used.

use crate::packet::{tcp_flags, EthHeader, IpHeader, Packet, Payload, Transport};
use crate::trace::L4;
use hnsim_model::Mac;
use std::collections::{BTreeMap, BTreeSet};

/// The open listening sockets: (place as text, protocol, port). Places are `container:ID`,
/// `endpoint:GUID`, `host:NAME`, `station:NAME`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Apps {
    listeners: BTreeSet<(String, L4, u16)>,
    /// The same sockets by (protocol, port): a port no socket listens on reads no place.
    by_port: BTreeMap<(L4, u16), BTreeSet<String>>,
}

/// A receiver's answer to a request (an IP packet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Delivered to a listener (or an echo responder); `reply` goes back.
    Delivered { reply: Packet },
    /// The port is closed: `reason` for the `NoListener`, and the RST or ICMP port unreachable.
    Refused { reason: String, reply: Packet },
}

impl Apps {
    pub fn listen(&mut self, place: String, proto: L4, port: u16) {
        self.by_port
            .entry((proto, port))
            .or_default()
            .insert(place.clone());
        self.listeners.insert((place, proto, port));
    }

    pub fn listeners(&self) -> &BTreeSet<(String, L4, u16)> {
        &self.listeners
    }

    /// Does a socket of one of `places` listen on `proto`/`port`? The places are read in
    /// order, only while none matched, and not at all when no socket listens on the port (the
    /// driver names receivers lazily: that text is most of a refused packet's cost).
    fn listening<S: AsRef<str>>(&self, places: impl IntoIterator<Item = S>, proto: L4, port: u16) -> bool {
        let Some(open) = self.by_port.get(&(proto, port)) else {
            return false;
        };
        places.into_iter().any(|k| open.contains(k.as_ref()))
    }

    /// The receiver known as `places` got `request`; it answers from MAC `mac` with TTL `ttl`.
    /// `None` when the request is not IP.
    pub fn answer<S: AsRef<str>>(
        &self,
        request: &Packet,
        places: impl IntoIterator<Item = S>,
        (mac, ttl): (Mac, u8),
    ) -> Option<Answer> {
        let Payload::Ip { ip, l4 } = request.payload else {
            return None;
        };
        let v6 = ip.dst.is_ipv6();
        let (refused, l4) = match l4 {
            Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ..
            } => {
                let open = self.listening(places, L4::Tcp, dst_port);
                let flags = if open {
                    tcp_flags::SYN | tcp_flags::ACK
                } else {
                    tcp_flags::RST | tcp_flags::ACK
                };
                let reply = Transport::Tcp {
                    src_port: dst_port,
                    dst_port: src_port,
                    seq: 5000,
                    ack: seq.wrapping_add(1),
                    flags,
                };
                (
                    (!open).then(|| format!("TCP port {dst_port} is closed: RST sent")),
                    reply,
                )
            }
            Transport::Udp { src_port, dst_port } => {
                if self.listening(places, L4::Udp, dst_port) {
                    let reply = Transport::Udp {
                        src_port: dst_port,
                        dst_port: src_port,
                    };
                    (None, reply)
                } else {
                    // Port unreachable: ICMPv4 3/3, ICMPv6 1/4.
                    let reply = Transport::Icmp {
                        icmp_type: if v6 { 1 } else { 3 },
                        code: if v6 { 4 } else { 3 },
                        id: src_port,
                        seq: dst_port,
                    };
                    let reason = format!("UDP port {dst_port} is closed: ICMP port unreachable sent");
                    (Some(reason), reply)
                }
            }
            Transport::Icmp {
                icmp_type: 8 | 128,
                id,
                seq,
                ..
            } => (
                None,
                Transport::Icmp {
                    icmp_type: if v6 { 129 } else { 0 },
                    code: 0,
                    id,
                    seq,
                },
            ),
            Transport::Icmp { .. } => (None, l4),
        };
        let reply = Packet {
            outer: None,
            eth: EthHeader {
                src: mac,
                dst: Mac::default(),
            },
            payload: Payload::Ip {
                ip: IpHeader {
                    src: ip.dst,
                    dst: ip.src,
                    ttl,
                    dont_fragment: ip.dont_fragment,
                    ident: ip.ident.wrapping_add(1),
                },
                l4,
            },
            data_len: 0,
        };
        Some(match refused {
            None => Answer::Delivered { reply },
            Some(reason) => Answer::Refused { reason, reply },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testframes::{ip, mac, tcp_syn, through_wire};
    use std::net::IpAddr;

    const A_MAC: &str = "0E-2A-0A-F4-01-0A";

    fn syn_to_a() -> Packet {
        tcp_syn(
            (mac("0E-2A-0A-F4-01-0B"), mac(A_MAC)),
            (ip("10.244.1.11"), 40000),
            (ip("10.244.1.10"), 80),
            128,
        )
    }

    fn l4_of(p: &Packet) -> Transport {
        match p.payload {
            Payload::Ip { l4, .. } => l4,
            Payload::Arp(_) => panic!("not IP"),
        }
    }

    #[test]
    fn a_tcp_listener_answers_syn_ack_and_a_closed_port_rst() {
        let mut apps = Apps::default();
        let a = ["container:A".to_string(), "endpoint:0".to_string()];
        let Some(Answer::Refused { reason, reply }) = apps.answer(&syn_to_a(), &a, (mac(A_MAC), 128)) else {
            panic!("a closed port refuses");
        };
        assert_eq!(reason, "TCP port 80 is closed: RST sent");
        assert!(
            matches!(l4_of(&reply), Transport::Tcp { flags, .. } if flags == tcp_flags::RST | tcp_flags::ACK)
        );
        // A socket under the endpoint's name counts as well as the container's.
        apps.listen("endpoint:0".into(), L4::Tcp, 80);
        let Some(Answer::Delivered { reply }) = apps.answer(&syn_to_a(), &a, (mac(A_MAC), 128)) else {
            panic!("a listener accepts");
        };
        // The reply is a real frame: back to the sender, ports swapped, ACK = SEQ + 1.
        let reply = through_wire(reply);
        let Payload::Ip { ip: h, l4 } = reply.payload else {
            panic!("not IP")
        };
        assert_eq!(
            (h.src, h.dst, h.ttl),
            (IpAddr::V4(ip("10.244.1.10")), IpAddr::V4(ip("10.244.1.11")), 128)
        );
        assert_eq!(
            l4,
            Transport::Tcp {
                src_port: 80,
                dst_port: 40000,
                seq: 5000,
                ack: 1001,
                flags: tcp_flags::SYN | tcp_flags::ACK,
            }
        );
        assert_eq!(reply.eth.src, mac(A_MAC));
    }

    #[test]
    fn a_closed_udp_port_answers_icmp_port_unreachable_and_echo_is_always_answered() {
        let apps = Apps::default();
        let mut udp = syn_to_a();
        let mut echo = syn_to_a();
        if let Payload::Ip { l4, .. } = &mut udp.payload {
            *l4 = Transport::Udp {
                src_port: 40000,
                dst_port: 53,
            };
        }
        if let Payload::Ip { l4, .. } = &mut echo.payload {
            *l4 = Transport::Icmp {
                icmp_type: 8,
                code: 0,
                id: 7,
                seq: 1,
            };
        }
        let (udp, echo) = (through_wire(udp), through_wire(echo));
        let places = ["host:node1".to_string()];
        let Some(Answer::Refused { reason, reply }) = apps.answer(&udp, &places, (mac(A_MAC), 128)) else {
            panic!("a closed UDP port refuses");
        };
        assert_eq!(reason, "UDP port 53 is closed: ICMP port unreachable sent");
        assert_eq!(
            l4_of(&reply),
            Transport::Icmp {
                icmp_type: 3,
                code: 3,
                id: 40000,
                seq: 53,
            }
        );
        let Some(Answer::Delivered { reply }) = apps.answer(&echo, &places, (mac(A_MAC), 64)) else {
            panic!("echo is answered");
        };
        assert_eq!(
            l4_of(&reply),
            Transport::Icmp {
                icmp_type: 0,
                code: 0,
                id: 7,
                seq: 1,
            }
        );
        let arp = Packet::arp_request((ip("10.244.1.11"), mac(A_MAC)), ip("10.244.1.10"));
        assert_eq!(apps.answer(&arp, &places, (mac(A_MAC), 64)), None);
    }
}
