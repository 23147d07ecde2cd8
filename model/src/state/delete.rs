//! Deleting objects and what happens to their references (the `OnReferenced` settings), and
//! the service restart / reboot that drops non-persistent state (consumers.md P11).

use super::ops::resource_ids;
use super::{err, Hns, OnReferenced, HOST_DEFAULT_COMPARTMENT};
use crate::backend::ObjectKind;
use crate::hresult::{HResult, HcnResult};
use crate::ids::Guid;
use crate::schema::{network_flags, Network, NetworkType};
use std::collections::BTreeSet;

impl Hns {
    // ---- delete -------------------------------------------------------------------------

    fn lists_endpoint(&self, ep: &Guid) -> bool {
        let s = ep.to_string();
        self.load_balancers
            .values()
            .any(|l| l.host_compute_endpoints.contains(&s))
            || self
                .routes
                .values()
                .any(|r| r.host_compute_endpoints.contains(&s))
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
        self.vm_ports.remove(ep);
        let s = ep.to_string();
        for l in self.load_balancers.values_mut() {
            l.host_compute_endpoints.retain(|x| *x != s);
        }
        for r in self.routes.values_mut() {
            r.host_compute_endpoints.retain(|x| *x != s);
        }
        for c in self.compute_systems.values_mut() {
            c.endpoints.retain(|x| x != ep);
        }
        self.endpoints.remove(ep);
    }

    /// `HcnDeleteX`: ERROR_NOT_FOUND for an unknown GUID; what happens to references follows
    /// the `HostSettings` `OnReferenced` choices.
    pub fn delete_object(&mut self, kind: ObjectKind, id: &Guid) -> HcnResult<()> {
        self.check_v2()?;
        self.open_object(kind, id)?;
        match kind {
            ObjectKind::Network => {
                let eps: Vec<Guid> = self.endpoints_of(id).map(|(e, _)| *e).collect();
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
                self.networks.remove(id);
            }
            ObjectKind::Endpoint => {
                self.check_endpoint_delete(id)?;
                self.remove_endpoint(id);
            }
            ObjectKind::Namespace => {
                let ns = &self.namespaces[id];
                let in_use = !ns.resources.is_empty()
                    || self.compute_systems.values().any(|c| c.namespace == Some(*id));
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
                for c in self.compute_systems.values_mut() {
                    if c.namespace == Some(*id) {
                        c.namespace = None;
                        c.endpoints.clear();
                    }
                }
                self.namespaces.remove(id);
            }
            ObjectKind::LoadBalancer => {
                self.load_balancers.remove(id);
            }
            ObjectKind::SdnRoute => {
                self.routes.remove(id);
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
        let eps: BTreeSet<Guid> = self
            .endpoints
            .keys()
            .filter(|e| self.network_of(e).is_some_and(|n| nets.contains(&n)))
            .copied()
            .collect();
        let names: BTreeSet<String> = eps.iter().map(Guid::to_string).collect();
        self.load_balancers
            .retain(|_, l| !l.host_compute_endpoints.iter().any(|e| names.contains(e)));
        self.routes
            .retain(|_, r| !r.host_compute_endpoints.iter().any(|e| names.contains(e)));
        for e in &eps {
            self.remove_endpoint(e);
        }
        self.networks.retain(|id, _| !nets.contains(id));
        if drop_containers {
            // The VMs are gone with the containers, and so are their NIC ports.
            self.compute_systems.clear();
            self.vm_ports.clear();
        }
        if drop_namespaces {
            let all: Vec<Guid> = self.namespaces.keys().copied().collect();
            for ns in all {
                for e in self.namespace_endpoints(&ns) {
                    self.detach_unchecked(&ns, &e);
                }
            }
            self.namespaces.clear();
            for c in self.compute_systems.values_mut() {
                c.namespace = None;
                c.endpoints.clear();
            }
            self.next_compartment = HOST_DEFAULT_COMPARTMENT + 1;
            self.ensure_host_default();
        }
        self.bump();
    }
}
