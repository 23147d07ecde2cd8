//! What-if without sweeping everything twice: when two worlds differ only in the ACLs of some
//! endpoint ports, a witness can get another outcome only if its packets pass one of those
//! ports, i.e. it leaves from one of them or is addressed to (or rewritten towards) one of their
//! addresses. Every other pair has the same outcome on both sides, port by port, so `hnsim diff`
//! sweeps only the touched pairs. Anything else that differs (a route, an LB, a listener, a
//! fault, the clock or the RNG a witness draws from) makes every pair a candidate again.

use super::{Matchers, Source, Target};
use crate::compile::{HostProgram, PortProgram};
use crate::world::{NodeKind, Place, World};
use hnsim_model::ids::Guid;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The pairs one change can touch (see the module doc).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    /// Endpoints whose ACLs changed.
    pub endpoints: BTreeSet<Guid>,
    /// Their containers.
    pub containers: BTreeSet<String>,
    /// Their addresses.
    pub addrs: BTreeSet<IpAddr>,
    /// Hosts with a changed port no container owns (a host-attached endpoint or host vNIC):
    /// the host's own traffic may pass it.
    pub hosts: BTreeSet<String>,
}

impl Touched {
    /// Do packets from `s` leave through a changed port?
    pub fn from(&self, s: &Source) -> bool {
        match &s.place {
            Place::Container(c) => self.containers.contains(c),
            Place::Endpoint(g) => self.endpoints.contains(g),
            Place::Host(h) => self.hosts.contains(h),
            Place::Station(_) => false,
        }
    }
}

/// The ports whose ACLs alone differ between `a` and `b`, or what else differs that a packet
/// may depend on.
pub fn acl_only(a: &World, b: &World) -> Result<Touched, String> {
    // The underlay: segments, loss, partitions, hosts and links down.
    let same_runtime = a.runtime() == b.runtime()
        && a.listeners() == b.listeners()
        && a.fabric() == b.fabric()
        && a.nodes().len() == b.nodes().len();
    if !same_runtime {
        return Err("the topology, listeners, clock or random state".into());
    }
    let mut t = Touched::default();
    for (x, y) in a.nodes().iter().zip(b.nodes()) {
        if x.name != y.name {
            return Err(format!("node {}", x.name));
        }
        match (&x.kind, &y.kind) {
            (NodeKind::Host(p), NodeKind::Host(q)) => {
                // Settings, routes and neighbour caches have no PartialEq: compare their Debug
                // forms (a spurious difference only costs a full sweep).
                let same =
                    |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{a:?}") == format!("{b:?}");
                if !same(&p.spec, &q.spec)
                    || !same(&p.stack, &q.stack)
                    || !same(p.vfp.settings(), q.vfp.settings())
                {
                    return Err(format!("host {}'s settings, routes or neighbours", x.name));
                }
                if let Err(what) = same_but_acls(p.vfp.program(), q.vfp.program(), &x.name, &mut t) {
                    return Err(format!("host {}'s {what}", x.name));
                }
            }
            (NodeKind::Router(r, i), NodeKind::Router(s, j)) if r == s && i == j => {}
            (NodeKind::Station(r, i), NodeKind::Station(s, j)) if r == s && i == j => {}
            _ => return Err(format!("node {}", x.name)),
        }
    }
    Ok(t)
}

/// Compare two host programs; record the ports whose ACLs differ. Err: what else differs.
fn same_but_acls(a: &HostProgram, b: &HostProgram, host: &str, t: &mut Touched) -> Result<(), &'static str> {
    let checks: [(&str, bool); 8] = [
        ("networks", a.networks == b.networks),
        ("endpoints", a.ports.len() == b.ports.len()),
        ("remote endpoints", a.remote_by_ip == b.remote_by_ip),
        ("port mappings", a.port_maps == b.port_maps),
        ("host addresses", a.host_addrs == b.host_addrs),
        ("host routes", a.host_routes == b.host_routes),
        (
            "transparent endpoints",
            a.transparent_by_ip == b.transparent_by_ip,
        ),
        ("load balancers", a.lbs.mappings() == b.lbs.mappings()),
    ];
    if let Some((what, _)) = checks.iter().find(|(_, same)| !same) {
        return Err(what);
    }
    for (p, q) in a.ports.iter().zip(&b.ports) {
        if p == q {
            continue;
        }
        if !same_but_acl(p, q) {
            return Err("endpoint programs");
        }
        t.endpoints.insert(p.endpoint);
        t.addrs.insert(IpAddr::V4(p.ip));
        t.addrs.extend(p.ip6.map(IpAddr::V6));
        match &p.container {
            Some(c) => {
                t.containers.insert(c.clone());
            }
            None => {
                t.hosts.insert(host.to_string());
            }
        }
    }
    Ok(())
}

fn same_but_acl(p: &PortProgram, q: &PortProgram) -> bool {
    let mut q = q.clone();
    q.acl_switch = p.acl_switch.clone();
    q.acl_host = p.acl_host.clone();
    *p == q
}

/// Which (source, destination) pairs a diff of two worlds must sweep.
pub struct PairFilter {
    touched: Touched,
    /// Both worlds' matchers: a destination's rewrites on either side.
    sides: [Matchers; 2],
}

impl PairFilter {
    /// The filter for `before` → `after` when they differ only in port ACLs (else what else
    /// differs: every pair must be swept).
    pub fn of(before: &mut World, after: &mut World) -> Result<PairFilter, String> {
        super::ensure_compiled(before);
        super::ensure_compiled(after);
        let touched = acl_only(before, after)?;
        Ok(PairFilter {
            touched,
            sides: [Matchers::of(before), Matchers::of(after)],
        })
    }

    pub fn touched(&self) -> &Touched {
        &self.touched
    }

    /// Which of `targets` can be reached through a changed port: a changed port's address,
    /// or rewritten to one on either side (LB backends, port-mapping targets).
    pub fn touched_targets(&self, targets: &[Target]) -> BTreeSet<IpAddr> {
        targets
            .iter()
            .filter(|t| {
                self.sides
                    .iter()
                    .any(|m| m.targets(t.addr).iter().any(|a| self.touched.addrs.contains(a)))
            })
            .map(|t| t.addr)
            .collect()
    }
}
