//! Vfp: one host's VFP — its compiled port programs, the unified flow table, the SNAT pools and
//! the `QOS` meters — and its entry points, each taking one packet and returning a
//! [`VfpAction`] for the driver to carry out (boringtun's `Tunn` style: the component decides,
//! only the driver moves packets):
//!
//! * [`Vfp::on_port_out`]: a frame leaving a container's port (meter, flow table, ACL Out, the
//!   slow-path layers, route);
//! * [`Vfp::on_port_in`]: a frame the vSwitch hands to a port (flow table, ACL In, delivery);
//! * [`Vfp::on_uplink`]: a frame from the uplink after any decap (reverse NAT, inbound LB,
//!   port mappings, endpoints on the wire, else the host stack).
//!
//! What VFP reads but does not own — the clock, the seed, the host's OS routes, the counters —
//! comes in an [`Env`].

use crate::fasthash::FastMap;
use crate::host_stack::HostStack;
use crate::host_stack::Via;
use crate::path::{Exit, FlowAction};
use crate::settings::{Counters, DataplaneSettings};
use crate::trace::Disposition;
use crate::vfp::flow::{FlowKey, FlowTable, Miss, NatLayer, SnatPools, Tuple, Zone};
use crate::vfp::meter::TokenBucket;
use crate::vfp::program::{HostInfo, HostProgram};
use crate::vfp::Dir;
use hnsim_model::{Guid, Mac};
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What VFP decided for one packet.
#[derive(Debug)]
pub(crate) enum VfpAction {
    /// Carry the packet on as the (cached or fresh) flow action says: to a port, the host
    /// stack, the uplink (plain or encapsulated), delivery, or a NAT session's restore.
    Forward(FlowAction),
    /// A packet the host sends, DNATed by a `LocalRoutedVIP` LB to `after` (toward `dst`): the
    /// host stack routes it, and the reverse translation is pinned where it leaves.
    /// The reverse translation is the packet's own tuple reversed (the packet is not rewritten
    /// yet).
    HostRoute { after: Tuple, dst: Ipv4Addr },
    /// Dropped, with the disposition the trace ends in (boxed: the action stays small on the
    /// established path, where it is returned by value at every VFP point).
    Drop(Box<Disposition>),
}

impl VfpAction {
    #[cold]
    pub(crate) fn dropped(d: Disposition) -> VfpAction {
        VfpAction::Drop(Box::new(d))
    }
}

/// What a VFP entry point reads from outside VFP: virtual time, the topology epoch, the seed
/// (LB choice), the connection nonce, the host's name (drops), its OS routes (the route layer
/// leaves by them) and the packet-path counters.
pub(crate) struct Env<'a> {
    pub now: u64,
    pub epoch: u64,
    pub seed: u64,
    pub node: &'a str,
    pub nonce: &'a mut u64,
    pub counters: &'a mut Counters,
    pub stack: &'a HostStack,
}

impl Env<'_> {
    /// A fresh per-connection nonce (for the LB's backend choice).
    pub fn next_nonce(&mut self) -> u64 {
        *self.nonce += 1;
        *self.nonce
    }

    /// The host's IPv4 route to `d` (one counted lookup).
    pub fn route(&mut self, d: Ipv4Addr) -> Option<(Via, Ipv4Net, &'static str)> {
        self.counters.table_lookups += 1;
        self.stack.route(d)
    }

    /// The host's IPv6 route to `d` (one counted lookup).
    pub fn route6(&mut self, d: Ipv6Addr) -> Option<(Ipv6Net, Ipv4Addr)> {
        self.counters.table_lookups += 1;
        self.stack.route6(d)
    }
}

/// One host's VFP (see the module doc).
pub struct Vfp {
    pub(in crate::vfp) prog: HostProgram,
    pub(in crate::vfp) compiled: bool,
    pub(in crate::vfp) flows: FlowTable<FlowAction>,
    pub(in crate::vfp) snat: SnatPools,
    /// `QOS` meters by endpoint (runtime state: they survive recompiles while the rate stays).
    pub(in crate::vfp) meters: FastMap<Guid, TokenBucket>,
    pub(in crate::vfp) settings: DataplaneSettings,
    /// The host's underlay address and MAC.
    pub(in crate::vfp) ip: Ipv4Addr,
    pub(in crate::vfp) mac: Mac,
    /// `hnsim reach` steers and reads backend choice here (`lb::LbSteer`).
    pub lb_steer: crate::vfp::lb::LbSteer,
}

impl Vfp {
    pub fn new(ip: Ipv4Addr, mac: Mac, settings: DataplaneSettings) -> Vfp {
        Vfp {
            prog: HostProgram::default(),
            compiled: false,
            flows: FlowTable::new(settings.flow_idle_timeout_ns),
            snat: SnatPools::new(
                settings.snat_pool_ports,
                settings.snat_block,
                settings.snat_first_port,
            ),
            meters: FastMap::default(),
            settings,
            ip,
            mac,
            lb_steer: Default::default(),
        }
    }

    /// The compiled program (ports, networks, LBs, routes HNS adds).
    #[inline]
    pub fn program(&self) -> &HostProgram {
        &self.prog
    }

    pub fn settings(&self) -> &DataplaneSettings {
        &self.settings
    }

    /// The program reflects HNS generation `generation`.
    #[inline]
    pub fn is_current(&self, generation: u64) -> bool {
        self.compiled && self.prog.hns_generation == generation
    }

    /// The program to bring up to date (a fresh one if none was compiled yet) and the facts
    /// about this host it is compiled for. `Vfp::compile` (in `compile`: the compiler sits
    /// above vfp) updates it in place; from here on the program counts as compiled.
    pub(crate) fn program_to_compile(&mut self, mtu: u16) -> (&mut HostProgram, HostInfo) {
        let info = HostInfo {
            ip: self.ip,
            mac: self.mac,
            mtu,
            container_mtu_reduction: self.settings.container_mtu_reduction,
            empty_source_vip_uses_node_ip: self.settings.empty_source_vip_uses_node_ip,
        };
        if !self.compiled {
            self.prog = HostProgram::default();
        }
        self.compiled = true;
        (&mut self.prog, info)
    }

    /// HNS service restart (P11): VFP is reprogrammed, so flows, NAT sessions and meters are
    /// gone; a reboot also loses the SNAT reservations.
    pub fn restart(&mut self, reboot: bool) {
        if reboot {
            self.snat.clear();
        }
        self.flows.clear();
        self.meters.clear();
    }

    /// Forget every flow, NAT session and SNAT reservation (first-packet benchmarks, `reach`).
    pub fn flush(&mut self) {
        self.flows.clear();
        self.snat.clear();
    }

    /// Forget all runtime state: flows, NAT sessions, SNAT reservations and meter levels.
    pub fn reset_state(&mut self) {
        self.flush();
        self.meters.clear();
    }

    /// New dataplane settings: fresh SNAT pools and flow table, recompiled before the next packet.
    pub fn set_settings(&mut self, settings: DataplaneSettings) {
        *self = Vfp::new(self.ip, self.mac, settings);
    }

    /// The generation a flow entry of `zone` is valid for: the program's (per port, so one
    /// port's change does not flush the others) and the topology epoch.
    #[inline]
    pub(crate) fn flow_gen(&self, zone: Zone, epoch: u64) -> u64 {
        let g = match zone {
            Zone::Uplink | Zone::HostStack => self.prog.hns_generation,
            Zone::Port(p) => self.prog.port_generation.get(p as usize).copied().unwrap_or(0),
        };
        (g << 24) ^ epoch
    }

    /// Pin the reverse translation of a NAT'd connection where its reply will show up: leaving
    /// the backend's port, arriving on the uplink, or sent by the host stack.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pin_restore(
        &mut self,
        now: u64,
        forward_exit: &Exit,
        after: &Tuple,
        restore: Tuple,
        zone: Zone,
        endpoint: Guid,
        layer: NatLayer,
    ) {
        let (at, dir) = match *forward_exit {
            Exit::Port(q) => (Zone::Port(q), Dir::Out),
            Exit::HostStack if self.is_host_addr(after.dst) => (Zone::HostStack, Dir::Out),
            _ => (Zone::Uplink, Dir::In),
        };
        self.flows.insert_pinned(
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

    /// The flow-table probe of one VFP point (one counted lookup): the cached action if there
    /// is one. A miss rebuilds the key with [`Vfp::flow_key`] (returning it here would copy it
    /// on every hit).
    #[inline(always)]
    pub(crate) fn probe(
        &mut self,
        env: &mut Env,
        zone: Zone,
        dir: Dir,
        tuple: Tuple,
    ) -> Result<FlowAction, Miss> {
        let gen = self.flow_gen(zone, env.epoch);
        env.counters.table_lookups += 1;
        self.flows.lookup(&FlowKey { zone, dir, tuple }, gen, env.now)
    }

    /// The key of a VFP point's entry for `tuple` and the generation it must carry.
    #[inline]
    pub(crate) fn flow_key(&self, env: &Env, zone: Zone, dir: Dir, tuple: Tuple) -> (FlowKey, u64) {
        (FlowKey { zone, dir, tuple }, self.flow_gen(zone, env.epoch))
    }

    /// `ip` is the host's underlay address or one of its host vNIC addresses.
    #[inline]
    pub fn is_host_addr(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => a == self.ip || self.prog.host_addrs.contains(&a),
            IpAddr::V6(_) => false,
        }
    }

    /// The name of port `p` (`?` when it is gone).
    pub fn port_name(&self, p: u32) -> &str {
        self.prog
            .ports
            .get(p as usize)
            .map(|pp| pp.name.as_str())
            .unwrap_or("?")
    }

    /// The place name of a port's owner: `container:ID` or `endpoint:GUID`.
    pub fn port_place(&self, q: u32) -> String {
        let pp = &self.prog.ports[q as usize];
        match &pp.container {
            Some(c) => ["container:", c].concat(),
            None => format!("endpoint:{}", pp.endpoint),
        }
    }
}
