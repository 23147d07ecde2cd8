//! Where traffic starts and ends, the driver's side: a request starts at a container, an
//! endpoint, a host or a station; the receiver's answer (SYN-ACK, RST, a UDP answer or ICMP port
//! unreachable, echo replies) comes from the [`Apps`](crate::apps::Apps) component and walks
//! back. A reply counts as delivered only when it reaches the sender with the addresses the
//! sender used (so a reply that was not reverse-translated is refused by the sender's stack).

use crate::apps::Answer;
use crate::packet::{tcp_flags, EthHeader, IpHeader, Packet, Payload, Transport};
use crate::path::HostId;
use crate::path::{tuple_of, v4, At, Outcome, Receiver, Tracer};
use crate::trace::{Disposition, Exchange, Seen, Trace, L4};
use crate::world::{Place, SendError, SendRequest, World};
use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr};

/// A request packet built once by [`World::prepare_packet`], to forward many times.
#[derive(Copy, Clone, Debug)]
pub struct PreparedPacket {
    origin: Origin,
    pkt: Packet,
}

impl PreparedPacket {
    /// The same packet from another source port (a new flow, for first-packet benchmarks).
    pub fn with_src_port(mut self, port: u16) -> PreparedPacket {
        if let Payload::Ip { l4, .. } = &mut self.pkt.payload {
            match l4 {
                Transport::Tcp { src_port, .. } | Transport::Udp { src_port, .. } => *src_port = port,
                Transport::Icmp { id, .. } => *id = port,
            }
        }
        self
    }
}

/// What became of a packet pushed by [`World::forward_established`] (no names: nothing is
/// allocated; send it with [`World::send`] to see its trace).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Forwarded {
    /// It reached a receiver (a container, a host stack or a station).
    Arrived,
    Dropped,
}

/// Where a packet starts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Origin {
    Port { host: HostId, port: u32 },
    Host(HostId),
    Station(usize),
}

impl World {
    fn resolve_place(&mut self, from: &Place, dst: IpAddr) -> Result<Origin, SendError> {
        let bad = |reason: String| SendError::BadSource {
            from: from.to_string(),
            reason,
        };
        match from {
            Place::Host(name) => Ok(Origin::Host(self.host_index(name)?)),
            Place::Station(name) => Ok(Origin::Station(self.station_index(name)?)),
            Place::Endpoint(g) => {
                for h in 0..self.nodes.len() {
                    if let Some(hn) = self.host_at(h) {
                        if let Some(&p) = hn.vfp.program().port_by_ep.get(g) {
                            return Ok(Origin::Port {
                                host: HostId(h),
                                port: p,
                            });
                        }
                    }
                }
                Err(bad("no local endpoint with this ID on any host".into()))
            }
            Place::Container(id) => {
                // The container's compartment: the endpoint whose subnet holds the destination,
                // else the first one with a default gateway, else the first.
                let mut first = None;
                for h in 0..self.nodes.len() {
                    if let Some(hn) = self.host_at(h) {
                        let prog = hn.vfp.program();
                        for &p in prog.ports_by_container.get(id.as_str()).into_iter().flatten() {
                            let pp = &prog.ports[p as usize];
                            let o = Origin::Port {
                                host: HostId(h),
                                port: p,
                            };
                            let net = &prog.networks[pp.network];
                            let (on_link, has_gw) = match dst {
                                IpAddr::V4(d) => (net.contains(d), pp.gateway.is_some()),
                                // Dual-stack: only endpoints with an IPv6 address send IPv6.
                                IpAddr::V6(d) => match pp.ip6 {
                                    Some(_) => (net.contains6(d), pp.gateway6.is_some()),
                                    None => continue,
                                },
                            };
                            if on_link {
                                return Ok(o);
                            }
                            if first.is_none() || has_gw {
                                first = first.or(Some(o));
                            }
                        }
                    }
                }
                first.ok_or_else(|| {
                    bad(if dst.is_ipv6() {
                        "no HNS namespace holds this container with a dual-stack (IPv6) endpoint".into()
                    } else {
                        "no HNS namespace holds this container (resource Type Container) with an IPv4 endpoint".into()
                    })
                })
            }
        }
    }

    fn place_of(&self, r: Receiver) -> String {
        match r {
            Receiver::Port { host, port } => self.hn(host).vfp.port_place(port),
            Receiver::Host(h) => ["host:", &self.nodes[h.0].name].concat(),
            Receiver::Station(s) => ["station:", &self.nodes[s].name].concat(),
        }
    }

    /// The names a receiver's sockets listen under: its place, and a port's endpoint GUID.
    /// Built as they are read ([`Apps::answer`] reads them only for a port someone listens on).
    fn socket_places(&self, r: Receiver) -> impl Iterator<Item = String> + '_ {
        let port = match r {
            Receiver::Port { host, port } => Some((host, port)),
            _ => None,
        };
        std::iter::once_with(move || self.place_of(r)).chain(
            port.into_iter()
                .map(|(h, q)| format!("endpoint:{}", self.hn(h).vfp.program().ports[q as usize].endpoint)),
        )
    }

    fn start_at(&self, o: Origin, pkt: Packet) -> At {
        match o {
            Origin::Port { host, port } => At::PortOut { host, port, pkt },
            Origin::Host(h) => At::HostStack {
                host: h,
                pkt,
                origin: true,
            },
            Origin::Station(s) => At::StationOut { node: s, pkt },
        }
    }

    /// Send `pkt` from `o`: a packet to one of the sender's own addresses never leaves its
    /// compartment (loopback, no VFP); anything else takes the journey.
    fn run_from(&mut self, o: Origin, pkt: Packet, tr: &mut Tracer) -> Outcome {
        let dst = tuple_of(&pkt).map(|t| t.dst);
        if let Some(r) = dst.and_then(|d| self.loopback(o, d)) {
            if tr.on {
                let (node, port) = match o {
                    Origin::Port { host, port } => (
                        self.nodes[host.0].name.clone(),
                        self.hn(host).vfp.program().ports[port as usize].name.clone(),
                    ),
                    Origin::Host(h) => (self.nodes[h.0].name.clone(), "host stack".to_string()),
                    Origin::Station(s) => (self.nodes[s].name.clone(), "eth0".to_string()),
                };
                tr.hop(&node, &port);
                let to = self.place_of(r);
                tr.step(|| crate::trace::Step::Deliver {
                    to: format!("{to} (loopback)"),
                });
            }
            return Outcome::Arrived(r, pkt);
        }
        let start = self.start_at(o, pkt);
        self.journey(start, tr)
    }

    /// The receiver when `dst` is an address of the sender's own compartment.
    fn loopback(&self, o: Origin, dst: IpAddr) -> Option<Receiver> {
        let dst = match dst {
            IpAddr::V4(d) => d,
            IpAddr::V6(d) => {
                return match o {
                    Origin::Port { host, port } => {
                        let pp = self.hn(host).vfp.program().ports.get(port as usize)?;
                        (pp.ip6 == Some(d)).then_some(Receiver::Port { host, port })
                    }
                    _ => None,
                }
            }
        };
        match o {
            Origin::Port { host, port } => {
                let prog = &self.hn(host).vfp.program();
                let ns = prog.ports.get(port as usize)?.namespace;
                if prog.ports[port as usize].ip == dst {
                    return Some(Receiver::Port { host, port });
                }
                // No port holds `dst` at all (the usual case): not loopback, no scan.
                if !prog.port_by_ip.contains_key(&dst) {
                    return None;
                }
                prog.ports
                    .iter()
                    .position(|p| ns.is_some() && p.namespace == ns && p.ip == dst)
                    .map(|q| Receiver::Port { host, port: q as u32 })
            }
            // The host stack delivers its own addresses itself, after the LocalRoutedVIP
            // checks (a NodePort on the node's own address goes through the LB, P2).
            Origin::Host(_) => None,
            Origin::Station(s) => match self.fabric.station(s) {
                Some((spec, _)) if spec.ip == dst => Some(Receiver::Station(s)),
                _ => None,
            },
        }
    }

    fn origin_of(r: Receiver) -> Origin {
        match r {
            Receiver::Port { host, port } => Origin::Port { host, port },
            Receiver::Host(h) => Origin::Host(h),
            Receiver::Station(s) => Origin::Station(s),
        }
    }

    fn origin_addr(&mut self, o: Origin, dst: Ipv4Addr) -> (Ipv4Addr, Mac, u8) {
        match o {
            Origin::Port { host, port } => {
                let pp = &self.hn(host).vfp.program().ports[port as usize];
                (pp.ip, pp.mac, 128)
            }
            Origin::Host(h) => {
                let src = self.host_source_for(h, dst);
                (src, self.hn(h).spec.mac, 128)
            }
            Origin::Station(s) => match self.fabric.station(s) {
                Some((spec, _)) => (spec.ip, spec.mac, 64),
                None => (Ipv4Addr::UNSPECIFIED, Mac::default(), 64),
            },
        }
    }

    /// Bring every host's program up to date with its HNS state (otherwise done lazily per packet).
    pub(crate) fn ensure_all_compiled(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].host.is_some() {
                self.ensure_compiled(HostId(i));
            }
        }
    }

    /// The trace of a packet that ended `arrived` at a receiver (with the packet it got) or
    /// dropped, with its `disposition`.
    fn trace_of(&self, tr: Tracer, arrived: Option<(Receiver, &Packet)>, disposition: Disposition) -> Trace {
        let (delivered_to, seen) = match arrived {
            Some((r, pkt)) if disposition.is_delivered() => (
                Some(self.place_of(r)),
                tuple_of(pkt).map(|t| Seen {
                    src: t.src,
                    src_port: t.sport,
                    dst: t.dst,
                    dst_port: t.dport,
                }),
            ),
            _ => (None, None),
        };
        Trace {
            hops: tr.hops,
            disposition,
            delivered_to,
            seen,
        }
    }

    /// The request packet of `req` and where it starts (the sender's addresses, a fresh
    /// ephemeral source port unless one is given).
    fn request_packet(&mut self, req: &SendRequest) -> Result<(Origin, Packet), SendError> {
        let dst = req.dst;
        if req.proto != L4::Icmp && req.dst_port == 0 {
            return Err(SendError::Invalid(format!(
                "{} to {dst} needs a destination port",
                req.proto
            )));
        }
        let origin = self.resolve_place(&req.from, dst)?;
        if let Origin::Port { host, port } = origin {
            if !self.hn(host).vfp.program().ports[port as usize].running {
                return Err(SendError::BadSource {
                    from: req.from.to_string(),
                    reason: "its HCS container is not running".into(),
                });
            }
        }
        let (src, mac, default_ttl) = match dst {
            IpAddr::V4(d) => {
                let (s, m, t) = self.origin_addr(origin, d);
                (IpAddr::V4(s), m, t)
            }
            IpAddr::V6(_) => {
                // IPv6 is modelled for dual-stack container endpoints (L2Bridge, consumers.md
                // §3.1); hosts and stations sit on hnsim's IPv4-only underlay.
                let Origin::Port { host, port } = origin else {
                    return Err(SendError::Invalid(format!(
                        "{} -> {dst}: IPv6 is modelled for dual-stack container endpoints only (the underlay, hosts and stations are IPv4)",
                        req.from
                    )));
                };
                let pp = &self.hn(host).vfp.program().ports[port as usize];
                let Some(s) = pp.ip6 else {
                    return Err(SendError::BadSource {
                        from: req.from.to_string(),
                        reason: "its endpoint has no IPv6 address".into(),
                    });
                };
                (IpAddr::V6(s), pp.mac, 128)
            }
        };
        let sport = match req.src_port {
            Some(p) => p,
            None => {
                let p = self.rt.next_ephemeral;
                self.rt.next_ephemeral = if p >= 59999 { 50000 } else { p + 1 };
                p
            }
        };
        let l4 = match req.proto {
            L4::Tcp => Transport::Tcp {
                src_port: sport,
                dst_port: req.dst_port,
                seq: 1000,
                ack: 0,
                flags: tcp_flags::SYN,
            },
            L4::Udp => Transport::Udp {
                src_port: sport,
                dst_port: req.dst_port,
            },
            L4::Icmp => Transport::Icmp {
                // Echo request: ICMPv4 8, ICMPv6 128.
                icmp_type: if dst.is_ipv6() { 128 } else { 8 },
                code: 0,
                id: sport,
                seq: 1,
            },
        };
        let pkt = Packet {
            outer: None,
            eth: EthHeader {
                src: mac,
                dst: Mac::default(),
            },
            payload: Payload::Ip {
                ip: IpHeader {
                    src,
                    dst,
                    ttl: req.ttl.unwrap_or(default_ttl),
                    // IPv6 routers never fragment.
                    dont_fragment: req.dont_fragment || dst.is_ipv6(),
                    ident: (self.rt.conn_nonce & 0xffff) as u16,
                },
                l4,
            },
            data_len: req.data_len,
        };
        Ok((origin, pkt))
    }

    /// Build the request packet of `req` once, for [`World::forward_established`]: the same
    /// packet [`World::send`] would send (give `req.src_port` to stay on one flow).
    pub fn prepare_packet(&mut self, req: &SendRequest) -> Result<PreparedPacket, SendError> {
        self.ensure_all_compiled();
        let (origin, pkt) = self.request_packet(req)?;
        Ok(PreparedPacket { origin, pkt })
    }

    /// Push one prepared packet through the packet path — the same code [`World::send`] runs for
    /// a request — without the exchange bookkeeping: no reply, no trace, no result names, no
    /// sender MTU check. Tracing is off for this packet whatever [`World::set_tracing`] says;
    /// capture follows [`World::set_capture`]. For benchmarks: on an established flow this is
    /// one exact-match flow-table probe per VFP point and allocates nothing.
    pub fn forward_established(&mut self, p: &PreparedPacket) -> Forwarded {
        let mut tr = Tracer::new(false);
        match self.run_from(p.origin, p.pkt, &mut tr) {
            Outcome::Arrived(..) => Forwarded::Arrived,
            Outcome::Dropped(_) => Forwarded::Dropped,
        }
    }

    /// Send one packet and run virtual time until it and its reply (if any) end.
    pub fn send(&mut self, req: &SendRequest) -> Result<Exchange, SendError> {
        self.ensure_all_compiled();
        let (origin, pkt) = self.request_packet(req)?;
        let sent = tuple_of(&pkt);
        let mut tr = Tracer::new(self.tracing);
        // The sender's own stack: MTU of its interface.
        let mtu = match origin {
            Origin::Port { host, port } => self.hn(host).vfp.program().ports[port as usize].mtu,
            Origin::Host(h) => self.hn(h).spec.mtu,
            Origin::Station(s) => match self.fabric.station(s) {
                Some((_, seg)) => self.fabric.spec(seg).mtu,
                None => 1500,
            },
        };
        let size = crate::path::ip_len(&pkt);
        if req.dont_fragment && size > mtu {
            let node = match origin {
                Origin::Port { host, port } => self.hn(host).vfp.port_place(port),
                Origin::Host(h) => self.nodes[h.0].name.clone(),
                Origin::Station(s) => self.nodes[s].name.clone(),
            };
            return Ok(Exchange {
                request: Trace {
                    hops: Vec::new(),
                    disposition: Disposition::MtuExceeded { node, mtu, size },
                    delivered_to: None,
                    seen: None,
                },
                reply: None,
            });
        }
        let (receiver, disposition, reply_pkt) = match self.run_from(origin, pkt, &mut tr) {
            Outcome::Dropped(d) => (None, d, None),
            Outcome::Arrived(r, p) => {
                let (d, reply) = self.answer(r, &p, req.proto);
                (Some((r, p)), d, reply)
            }
        };
        let request = self.trace_of(tr, receiver.as_ref().map(|(r, p)| (*r, p)), disposition);
        let (Some((receiver, _)), Some(reply_pkt)) = (receiver, reply_pkt) else {
            return Ok(Exchange { request, reply: None });
        };
        let mut tr = Tracer::new(self.tracing);
        let (back, disposition) = match self.run_from(Self::origin_of(receiver), reply_pkt, &mut tr) {
            Outcome::Dropped(d) => (None, d),
            Outcome::Arrived(r, p) => {
                let back = tuple_of(&p).map(|t| t.reversed());
                let expected = sent;
                let d = if Self::origin_of(r) == origin && addresses_match(back, expected, req.proto) {
                    Disposition::Delivered
                } else {
                    Disposition::NoListener {
                        node: self.place_of(r),
                        reason: format!(
                            "reply {} matches no connection of the receiver (sent {})",
                            tuple_of(&p).map(|t| t.to_string()).unwrap_or_default(),
                            sent.map(|t| t.to_string()).unwrap_or_default()
                        ),
                    }
                };
                (Some((r, p)), d)
            }
        };
        let reply = self.trace_of(tr, back.as_ref().map(|(r, p)| (*r, p)), disposition);
        Ok(Exchange {
            request,
            reply: Some(reply),
        })
    }

    /// The receiver's answer ([`Apps::answer`]): the request's disposition and the reply packet.
    fn answer(&mut self, r: Receiver, p: &Packet, proto: L4) -> (Disposition, Option<Packet>) {
        let _ = proto;
        let Payload::Ip { ip, .. } = p.payload else {
            return (
                Disposition::Unsupported {
                    node: self.place_of(r),
                    what: "non-IP delivery".into(),
                },
                None,
            );
        };
        let (_, mac, ttl) = self.origin_addr(Self::origin_of(r), v4(ip.src).unwrap_or(Ipv4Addr::UNSPECIFIED));
        match self.apps.answer(p, self.socket_places(r), (mac, ttl)) {
            Some(Answer::Delivered { reply }) => (Disposition::Delivered, Some(reply)),
            Some(Answer::Refused { reason, reply }) => (
                Disposition::NoListener {
                    node: self.place_of(r),
                    reason,
                },
                Some(reply),
            ),
            None => unreachable!("an IP request has an answer"),
        }
    }
}

/// Does the reply (reversed) carry the addresses the sender used? ICMP errors quote the original
/// ports; only their addresses are compared.
fn addresses_match(back: Option<crate::vfp::Tuple>, sent: Option<crate::vfp::Tuple>, proto: L4) -> bool {
    match (back, sent) {
        (Some(b), Some(s)) => {
            if b.proto != s.proto {
                // ICMP port unreachable answering UDP: addresses only.
                return b.src == s.src && b.dst == s.dst;
            }
            let _ = proto;
            b.src == s.src && b.dst == s.dst && b.sport == s.sport && b.dport == s.dport
        }
        _ => false,
    }
}
