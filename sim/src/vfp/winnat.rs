//! WinNAT and Internet Connection Sharing on the way out: a packet the host stack routes to the
//! uplink from an address of a NAT network (or of an ICS network that shares the connection) is
//! translated to the host's address, with a port from the host's SNAT pool, and its reverse is
//! pinned where the reply arrives (the uplink). Internal, Private and non-sharing ICS networks
//! have no way out. The state it uses — the SNAT pools, the flow table, the compiled networks —
//! is VFP's, so the host stack asks VFP.

use crate::path::{tuple_headers, v4, Exit, Tracer};
use crate::trace::{Disposition, Step};
use crate::vfp::dataplane::{Env, Vfp};
use crate::vfp::program::NetKind;
use crate::vfp::{NatLayer, SnatOwner, Tuple, Zone};
use hnsim_model::Mac;
use std::net::{IpAddr, Ipv4Addr};

impl Vfp {
    /// The tuple a packet with tuple `t`, routed by the host to `d` on the uplink, leaves with.
    pub(crate) fn winnat_out(
        &mut self,
        env: &mut Env,
        t: Tuple,
        d: Ipv4Addr,
        tr: &mut Tracer,
    ) -> Result<Tuple, Disposition> {
        let mut after = t;
        let src_net = v4(t.src).and_then(|s| {
            self.prog
                .networks
                .iter()
                .find(|n| n.contains(s) && !self.is_host_addr(t.src))
                .map(|n| (n.kind, n.name.clone()))
        });
        match src_net {
            Some((kind @ (NetKind::Nat | NetKind::Ics), _))
                if kind == NetKind::Nat || self.settings.ics_shares_connection =>
            {
                let host_ip = IpAddr::V4(self.ip);
                let zone = v4(t.src)
                    .and_then(|s| self.prog.port_by_ip.get(&s).copied())
                    .map_or(Zone::Uplink, Zone::Port);
                let endpoint = zone
                    .port()
                    .and_then(|p| self.prog.ports.get(p as usize))
                    .map(|p| p.endpoint)
                    .unwrap_or_default();
                after.src = host_ip;
                if t.proto == 6 || t.proto == 17 {
                    after.sport = self.snat_port(host_ip, SnatOwner::WinNat, env.node)?;
                }
                let nat = if kind == NetKind::Nat { NatLayer::WinNat } else { NatLayer::Ics };
                let eth = tr.eth;
                tr.step(|| Step::Transform {
                    layer: nat.layer().into(),
                    rule: "outbound NAT to the host address".into(),
                    before: tuple_headers(&t, eth),
                    after: tuple_headers(&after, eth),
                });
                self.pin_restore(
                    env.now,
                    &Exit::Uplink {
                        next_hop: d,
                        src_mac: Mac::default(),
                    },
                    &after,
                    t.reversed(),
                    zone,
                    endpoint,
                    nat,
                );
            }
            Some((NetKind::Ics | NetKind::Internal | NetKind::Private, name)) => {
                return Err(Disposition::NoRoute {
                    node: env.node.to_string(),
                    reason: format!(
                        "network {name} has no external path (Internal/Private, or ICS with ics_shares_connection off)"
                    ),
                })
            }
            _ => {}
        }
        Ok(after)
    }
}
