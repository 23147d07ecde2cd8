//! engine: the driver. It runs a packet's chain of events on the virtual clock
//! ([`World::journey`]), keeps each host's compiled program current (`ensure_compiled`), and
//! owns the flow-table bookkeeping shared by the stages (`flow_gen`, `pin_restore`). The stages
//! themselves are in `vfp::port`, `vfp::ingress`, `host`, `neigh` and `fabric`; the types they
//! exchange (`At`, `Next`, `Exit`, `FlowAction`, `Tracer`) are in `path`, which depends on no
//! stage. docs/packet-walk.md lists the walk function by function.
//!
//! A packet's journey is a chain of events `(time, location)`: each event is processed and names
//! at most one next event (wire transmissions advance virtual time by the segment's latency).
//! One packet is in flight at a time (`World::send` runs a request to its end, then its reply)
//! and ARP exchanges are resolved inline (their frames are captured), so the chain needs no
//! priority queue and its order is the processing order.
//!
//! Locations inside a host: a container port's outbound VFP (`PortOut`), a port's inbound VFP
//! (`PortIn`), the host TCP/IP stack (`HostStack`), and frames on the underlay (`Wire`, `Arrive`).

use crate::compile::{HostInfo, HostProgram};
use crate::path::HostId;
use crate::path::{v4, At, Exit, FlowAction, Next, Outcome, Tracer, HOP_BUDGET};
use crate::switch::SwitchPort;
use crate::trace::Disposition;
use crate::vfp::{Dir, FlowKey, Tuple, Zone};
use crate::world::{HostNode, NodeKind, World};
use std::net::IpAddr;

impl World {
    pub(crate) fn hn(&self, h: HostId) -> &HostNode {
        match &self.nodes[h.0].kind {
            NodeKind::Host(x) => x,
            _ => unreachable!("node {h:?} is not a host"),
        }
    }
    pub(crate) fn hn_mut(&mut self, h: HostId) -> &mut HostNode {
        match &mut self.nodes[h.0].kind {
            NodeKind::Host(x) => x,
            _ => unreachable!("node {h:?} is not a host"),
        }
    }

    /// Recompile a host's program when its HNS generation moved (checked on every hop).
    #[inline]
    pub(crate) fn ensure_compiled(&mut self, h: HostId) {
        let hn = self.hn(h);
        if hn.compiled && hn.prog.hns_generation == hn.hns.generation {
            return;
        }
        self.compile_host(h);
    }

    #[cold]
    fn compile_host(&mut self, h: HostId) {
        let hn = self.hn_mut(h);
        let info = HostInfo {
            ip: hn.spec.ip,
            mac: hn.spec.mac,
            mtu: hn.spec.mtu,
            container_mtu_reduction: hn.spec.dataplane.container_mtu_reduction,
            empty_source_vip_uses_node_ip: hn.spec.dataplane.empty_source_vip_uses_node_ip,
        };
        if !hn.compiled {
            hn.prog = HostProgram::default();
        }
        // Incremental: only the objects that changed since the last compile are recompiled.
        crate::compile::update(&mut hn.prog, &hn.hns, &info);
        hn.compiled = true;
        // Endpoints and their MACs may have changed: compartments ARP again.
        hn.neigh.clear();
        let statics = hn
            .prog
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| (p.mac, SwitchPort::Endpoint(i as u32)))
            .chain([(hn.spec.mac, SwitchPort::HostVnic)]);
        hn.switch.program(statics.collect::<Vec<_>>());
        let connected = self.segments[self.hn(h).seg].spec.prefix;
        self.hn_mut(h).rebuild_routes(connected);
    }

    pub(crate) fn flow_gen(&self, h: HostId, zone: Zone) -> u64 {
        let hn = self.hn(h);
        let g = match zone {
            Zone::Uplink | Zone::HostStack => hn.prog.hns_generation,
            Zone::Port(p) => hn.prog.port_generation.get(p as usize).copied().unwrap_or(0),
        };
        (g << 24) ^ self.epoch
    }

    /// Pin the reverse translation of a NAT'd connection where its reply will show up: leaving
    /// the backend's port, arriving on the uplink, or sent by the host stack.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pin_restore(
        &mut self,
        h: HostId,
        forward_exit: &Exit,
        after: &Tuple,
        restore: Tuple,
        zone: Zone,
        endpoint: hnsim_model::Guid,
        layer: crate::vfp::NatLayer,
    ) {
        let (at, dir) = match *forward_exit {
            Exit::Port(q) => (Zone::Port(q), Dir::Out),
            Exit::HostStack if Self::is_host_addr(self.hn(h), after.dst) => (Zone::HostStack, Dir::Out),
            _ => (Zone::Uplink, Dir::In),
        };
        let now = self.now;
        self.hn_mut(h).flows.insert_pinned(
            FlowKey {
                zone: at,
                dir,
                tuple: after.reversed(),
            },
            FlowAction {
                after: restore,
                exit: Exit::Restore {
                    zone,
                    endpoint,
                    layer,
                },
            },
            now,
        );
    }

    pub(crate) fn is_host_addr(hn: &HostNode, ip: IpAddr) -> bool {
        match v4(ip) {
            Some(a) => a == hn.spec.ip || hn.prog.host_addrs.contains(&a),
            None => false,
        }
    }

    /// Run one packet from `start` to its end.
    pub(crate) fn journey(&mut self, start: At, tr: &mut Tracer) -> Outcome {
        let mut at = start;
        let mut n = 0u32;
        let mut last = start.node();
        loop {
            n += 1;
            if n > HOP_BUDGET {
                return Outcome::Dropped(Disposition::Loop {
                    node: self.nodes[last].name.clone(),
                    hops: HOP_BUDGET,
                });
            }
            last = at.node();
            match self.process(at, tr) {
                Next::Go(next, delay) => {
                    self.now = self.now.saturating_add(delay);
                    at = next;
                }
                Next::End(o) => return o,
            }
        }
    }

    fn process(&mut self, at: At, tr: &mut Tracer) -> Next {
        tr.eth = match at {
            At::PortOut { pkt, .. }
            | At::PortIn { pkt, .. }
            | At::HostStack { pkt, .. }
            | At::StationOut { pkt, .. }
            | At::Wire { pkt, .. }
            | At::Arrive { pkt, .. } => pkt.eth,
        };
        match at {
            At::PortOut { host, port, pkt } => self.port_out(host, port, pkt, tr),
            At::PortIn { host, port, pkt } => self.port_in(host, port, pkt, tr),
            At::HostStack { host, pkt, origin } => self.host_stack(host, pkt, origin, tr),
            At::StationOut { node, pkt } => self.station_out(node, pkt, tr),
            At::Wire { seg, from, pkt } => self.transmit(seg, from, pkt, tr),
            At::Arrive { node, seg, pkt } => self.arrive(node, seg, pkt, tr),
        }
    }
}
