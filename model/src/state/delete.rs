//! Deleting objects and what happens to their references (the `OnReferenced` settings), and
//! the service restart / reboot that drops non-persistent state (consumers.md P11).

use super::ops::resource_ids;
use super::{err, Change, Hns, OnReferenced, HOST_DEFAULT_COMPARTMENT};
use crate::backend::ObjectKind;
use crate::hresult::{HResult, HcnResult};
use crate::ids::Guid;
use crate::schema::{network_flags, Network, NetworkType};
use std::collections::BTreeSet;

impl Hns {
    // ---- delete -------------------------------------------------------------------------

    fn lists_endpoint(&self, ep: &Guid) -> bool {
        self.index.referrers(*ep).next().is_some()
    }

    fn check_endpoint_delete(&self, ep: &Guid) -> HcnResult<()> {
        let e = &self.endpoints[ep];
        let attached = !e.host_compute_namespace.is_empty() || self.vm_ports.contains_key(ep);
        if attached && self.settings.endpoint_in_namespace == OnReferenced::Refuse {
            return Err(err(
                HResult::HCN_E_ENTITY_HAS_REFERENCES,
                format!("endpoint {ep} is attached to a namespace or VM"),
            ));
        }
        if self.lists_endpoint(ep) && self.settings.endpoint_in_policy_list == OnReferenced::Refuse {
            return Err(err(
                HResult::HCN_E_ENTITY_HAS_REFERENCES,
                format!("endpoint {ep} is used by a load balancer or SDN route"),
            ));
        }
        Ok(())
    }

    /// Remove an endpoint and every reference to it.
    fn remove_endpoint(&mut self, ep: &Guid) {
        if let Some(ns) = self.namespace_of(ep) {
            self.detach_unchecked(&ns, ep);
        }
        self.record(Change::Endpoint(*ep));
        self.vm_ports.remove(ep);
        // The LBs and routes that list it (references are stored normalised, upper case).
        let s = ep.to_string();
        let referrers: Vec<Guid> = self.index.referrers(*ep).collect();
        for r in referrers {
            if let Some(mut l) = self.take_lb(&r) {
                l.host_compute_endpoints.retain(|x| *x != s);
                self.put_lb(l);
            } else if let Some(mut rt) = self.take_route(&r) {
                rt.host_compute_endpoints.retain(|x| *x != s);
                self.put_route(rt);
            }
        }
        // Only a container using its namespace can list it (the detach above took it out of
        // those), so no other compute system needs looking at.
        self.take_endpoint(ep);
    }

    /// `HcnDeleteX`: ERROR_NOT_FOUND for an unknown GUID; what happens to references follows
    /// the `HostSettings` `OnReferenced` choices.
    pub fn delete_object(&mut self, kind: ObjectKind, id: &Guid) -> HcnResult<()> {
        self.check_v2()?;
        self.open_object(kind, id)?;
        match kind {
            ObjectKind::Network => {
                let eps: Vec<Guid> = self.index.endpoints_of(*id).collect();
                if !eps.is_empty() && self.settings.network_with_endpoints == OnReferenced::Refuse {
                    return Err(err(
                        HResult::HCN_E_ENTITY_HAS_REFERENCES,
                        format!("network {id} still has {} endpoint(s)", eps.len()),
                    ));
                }
                for e in &eps {
                    self.check_endpoint_delete(e)?;
                }
                for e in &eps {
                    self.remove_endpoint(e);
                }
                self.take_network(id);
            }
            ObjectKind::Endpoint => {
                self.check_endpoint_delete(id)?;
                self.remove_endpoint(id);
            }
            ObjectKind::Namespace => {
                let ns = &self.namespaces[id];
                let in_use = !ns.resources.is_empty() || self.index.users_of(*id).next().is_some();
                if in_use && self.settings.namespace_with_resources == OnReferenced::Refuse {
                    return Err(err(
                        HResult::HCN_E_ENTITY_HAS_REFERENCES,
                        format!("namespace {id} still has endpoints or containers"),
                    ));
                }
                let eps: Vec<Guid> = resource_ids(ns, "Endpoint").collect();
                for e in &eps {
                    self.detach_unchecked(id, e);
                }
                self.release_namespace_users(id);
                self.take_namespace(id);
            }
            ObjectKind::LoadBalancer => {
                self.take_lb(id);
            }
            ObjectKind::SdnRoute => {
                self.take_route(id);
            }
        }
        self.bump();
        Ok(())
    }

    // ---- service lifecycle --------------------------------------------------------------

    fn persists(&self, n: &Network) -> bool {
        n.flags & network_flags::ENABLE_NON_PERSISTENT == 0
            && (self.settings.nat_networks_persist || n.kind() != NetworkType::Nat)
    }

    /// Restart the HNS service: non-persistent networks (Flags 8, and NAT networks unless
    /// `nat_networks_persist`) go with their endpoints and with every LB / route that lists one
    /// of those endpoints (consumers.md P11). Namespaces stay unless
    /// `namespaces_survive_restart` is false.
    pub fn restart_service(&mut self) {
        let keep_ns = self.settings.namespaces_survive_restart;
        self.drop_volatile(!keep_ns, false);
    }

    /// Reboot the host: as a service restart, and every namespace and compute system is gone.
    pub fn reboot(&mut self) {
        self.drop_volatile(true, true);
    }

    fn drop_volatile(&mut self, drop_namespaces: bool, drop_containers: bool) {
        let nets: BTreeSet<Guid> = self
            .networks
            .iter()
            .filter(|(_, n)| !self.persists(n))
            .map(|(id, _)| *id)
            .collect();
        let eps: BTreeSet<Guid> = nets.iter().flat_map(|n| self.index.endpoints_of(*n)).collect();
        // Every LB / route that lists one of those endpoints goes with them.
        let listing: BTreeSet<Guid> = eps.iter().flat_map(|e| self.index.referrers(*e)).collect();
        for r in &listing {
            if self.take_lb(r).is_none() {
                self.take_route(r);
            }
        }
        for e in &eps {
            self.remove_endpoint(e);
        }
        for n in &nets {
            self.take_network(n);
        }
        if drop_containers {
            // The VMs are gone with the containers, and so are their NIC ports.
            let all: Vec<String> = self.compute_systems.keys().cloned().collect();
            for c in all {
                self.take_compute_system(&c);
            }
            let ported: Vec<Guid> = self.vm_ports.keys().copied().collect();
            for ep in ported {
                self.record(Change::Endpoint(ep));
            }
            self.vm_ports.clear();
        }
        if drop_namespaces {
            let all: Vec<Guid> = self.namespaces.keys().copied().collect();
            for ns in &all {
                for e in self.namespace_endpoints(ns) {
                    self.detach_unchecked(ns, &e);
                }
            }
            for ns in &all {
                self.take_namespace(ns);
            }
            let cs: Vec<String> = self.compute_systems.keys().cloned().collect();
            for id in cs {
                if let Some(mut c) = self.take_compute_system(&id) {
                    c.namespace = None;
                    c.endpoints.clear();
                    self.put_compute_system(c);
                }
            }
            self.next_compartment = HOST_DEFAULT_COMPARTMENT + 1;
            self.ensure_host_default();
        }
        self.bump();
    }
}
