//! HCS compute systems (containers) and how they take their networking (hns-schema.md §6.4,
//! §6.5): a process-isolated container gets a namespace created with no `Type` (as hcsshim
//! does — a Host compartment); a Hyper-V isolated container runs in a utility VM with a `Guest`
//! namespace, and each endpoint is also bound to the VM's NIC with an endpoint `Port` add.
//! Stopping or removing a container detaches its endpoints.

use super::{err, Change, Hns, VmPort};
use crate::backend::ObjectKind;
use crate::hresult::{HResult, HcnResult};
use crate::ids::Guid;
use crate::schema::{Namespace, NamespaceResource, NamespaceType, Version};
use serde_json::json;

// HCS error codes as winerror.h and the published HCS reference define them; hcsshim's vmcompute
// layer also sees the 0xC037xxxx forms of the same codes (`ErrComputeSystemDoesNotExist`, …).
/// HCS_E_SYSTEM_NOT_FOUND.
pub const HCS_E_SYSTEM_NOT_FOUND: HResult = HResult(0x8037_010E);
/// HCS_E_SYSTEM_ALREADY_EXISTS.
pub const HCS_E_SYSTEM_ALREADY_EXISTS: HResult = HResult(0x8037_010F);
/// HCS_E_INVALID_STATE (the operation is not valid in the system's state).
pub const HCS_E_INVALID_STATE: HResult = HResult(0x8037_0105);
/// HCS_E_SYSTEM_ALREADY_STOPPED.
pub const HCS_E_SYSTEM_ALREADY_STOPPED: HResult = HResult(0x8037_0110);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// Shares the host kernel; its namespace is a compartment on the host.
    Process,
    /// Runs in a utility VM; its namespace is a compartment inside the guest.
    HyperV,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Stopped,
}

/// An HCS compute system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComputeSystem {
    pub id: String,
    pub isolation: Isolation,
    pub state: ContainerState,
    /// The HostComputeNamespace the container uses (`Container.Networking.Namespace`).
    pub namespace: Option<Guid>,
    /// The utility VM (Hyper-V isolation).
    pub utility_vm: Option<Guid>,
    /// Endpoints this container attached (and detaches when it stops).
    pub endpoints: Vec<Guid>,
    /// Whether the namespace was created for this container (removed with it when unused).
    pub owns_namespace: bool,
}

/// Where an endpoint lives, for the dataplane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointLocation {
    pub namespace: Guid,
    /// The compartment number (`NamespaceId`).
    pub compartment: u32,
    pub namespace_type: Option<NamespaceType>,
    /// The compute system using the namespace, if any.
    pub container: Option<String>,
    /// Whether packets can be delivered: a container using the namespace is running, or the
    /// namespace is a bare compartment no compute system uses (always up).
    pub running: bool,
}

fn not_found(id: &str) -> crate::HcnError {
    err(HCS_E_SYSTEM_NOT_FOUND, format!("compute system {id:?} not found"))
}

impl Hns {
    /// Create a container and attach `endpoint_ids` to a new namespace for it. All-or-nothing.
    pub fn create_container(
        &mut self,
        id: &str,
        isolation: Isolation,
        endpoint_ids: &[Guid],
    ) -> HcnResult<ComputeSystem> {
        if id.trim().is_empty() {
            return Err(err(HResult::E_INVALIDARG, "a compute system needs an ID"));
        }
        if self.compute_systems.contains_key(id) {
            return Err(err(
                HCS_E_SYSTEM_ALREADY_EXISTS,
                format!("compute system {id:?} already exists"),
            ));
        }
        for (i, ep) in endpoint_ids.iter().enumerate() {
            self.check_attachable_for_hcs(ep)?;
            if endpoint_ids[..i].contains(ep) {
                return Err(err(
                    HResult::HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS,
                    format!("endpoint {ep} is listed twice"),
                ));
            }
            if isolation == Isolation::HyperV && self.vm_ports.contains_key(ep) {
                return Err(err(
                    HResult::HCN_E_ENDPOINT_ALREADY_ATTACHED,
                    format!("endpoint {ep} already has a VM port"),
                ));
            }
        }
        // Validation done: commit. The namespace create cannot fail now (fresh ID, no
        // endpoint resources, not HostDefault).
        let ns_type = match isolation {
            // hcsshim creates process-container namespaces with no Type (§6.5).
            Isolation::Process => None,
            Isolation::HyperV => Some(NamespaceType::Guest),
        };
        let ns = Namespace {
            namespace_type: ns_type,
            resources: vec![NamespaceResource {
                resource_type: "Container".into(),
                data: json!({ "ID": id }),
            }],
            schema_version: Version::V2,
            ..Default::default()
        };
        let ns_id = self.namespace_create(Guid::ZERO, ns)?;
        let utility_vm = match isolation {
            Isolation::Process => None,
            Isolation::HyperV => Some(self.new_guid()),
        };
        for ep in endpoint_ids {
            self.attach_unchecked(&ns_id, ep);
            if let Some(vm) = utility_vm {
                self.record(Change::Endpoint(*ep));
                let port_id = self.new_guid();
                self.vm_ports.insert(
                    *ep,
                    VmPort {
                        port_id,
                        virtual_nic_name: format!("{vm}--{ep}"),
                        virtual_machine_id: vm,
                    },
                );
            }
        }
        let cs = ComputeSystem {
            id: id.to_string(),
            isolation,
            state: ContainerState::Created,
            namespace: Some(ns_id),
            utility_vm,
            endpoints: endpoint_ids.to_vec(),
            owns_namespace: true,
        };
        self.put_compute_system(cs.clone());
        self.bump();
        Ok(cs)
    }

    pub fn start_container(&mut self, id: &str) -> HcnResult<()> {
        let cs = self.compute_systems.get_mut(id).ok_or_else(|| not_found(id))?;
        if cs.state != ContainerState::Created {
            return Err(err(
                HCS_E_INVALID_STATE,
                format!("compute system {id:?} is {:?}, not Created", cs.state),
            ));
        }
        cs.state = ContainerState::Running;
        if let Some(ns) = cs.namespace {
            self.record_placement(&ns);
        }
        self.bump();
        Ok(())
    }

    /// Stop (terminate) a container: its endpoints are detached from its namespace and VM.
    pub fn stop_container(&mut self, id: &str) -> HcnResult<()> {
        let cs = self.compute_systems.get(id).ok_or_else(|| not_found(id))?;
        if cs.state == ContainerState::Stopped {
            return Err(err(
                HCS_E_SYSTEM_ALREADY_STOPPED,
                format!("compute system {id:?} is already stopped"),
            ));
        }
        self.detach_container(id);
        if let Some(cs) = self.compute_systems.get_mut(id) {
            cs.state = ContainerState::Stopped;
            if let Some(ns) = cs.namespace {
                self.record_placement(&ns);
            }
        }
        self.bump();
        Ok(())
    }

    /// Remove a container (terminating it if needed) and the namespace created for it.
    pub fn remove_container(&mut self, id: &str) -> HcnResult<()> {
        let cs = self.compute_systems.get(id).ok_or_else(|| not_found(id))?;
        let ns = cs.namespace;
        let owned = cs.owns_namespace;
        self.detach_container(id);
        self.take_compute_system(id);
        if let Some(ns) = ns {
            if self.namespaces.contains_key(&ns) {
                self.record_placement(&ns);
            }
            if let Some(n) = self.namespaces.get_mut(&ns) {
                n.resources.retain(|r| {
                    !(r.resource_type.eq_ignore_ascii_case("Container")
                        && r.data.get("ID").and_then(|v| v.as_str()) == Some(id))
                });
            }
            let shared = self.index.users_of(ns).next().is_some();
            if owned && !shared && self.namespaces.contains_key(&ns) {
                // Detach whatever else was added to it by hand, then drop it.
                for ep in self.namespace_endpoints(&ns) {
                    self.detach_unchecked(&ns, &ep);
                    self.record(Change::Endpoint(ep));
                    self.vm_ports.remove(&ep);
                }
                self.take_namespace(&ns);
            }
        }
        self.bump();
        Ok(())
    }

    fn detach_container(&mut self, id: &str) {
        let Some(cs) = self.compute_systems.get_mut(id) else {
            return;
        };
        let eps = std::mem::take(&mut cs.endpoints);
        let ns = cs.namespace;
        let hyperv = cs.isolation == Isolation::HyperV;
        for ep in eps {
            if let Some(ns) = ns {
                if self.namespace_of(&ep) == Some(ns) {
                    self.detach_unchecked(&ns, &ep);
                }
            }
            if hyperv {
                self.record(Change::Endpoint(ep));
                self.vm_ports.remove(&ep);
            }
        }
    }

    /// Where endpoint `ep` lives: its namespace, compartment, container and whether it runs.
    pub fn endpoint_location(&self, ep: &Guid) -> Option<EndpointLocation> {
        let ns_id = self.namespace_of(ep)?;
        let ns = self.namespaces.get(&ns_id)?;
        let users: Vec<&ComputeSystem> = self
            .index
            .users_of(ns_id)
            .filter_map(|c| self.compute_systems.get(c))
            .collect();
        // Name the container that attached the endpoint, else the namespace's creator, else any.
        let named = users
            .iter()
            .find(|c| c.endpoints.contains(ep))
            .or_else(|| users.iter().find(|c| c.owns_namespace))
            .or_else(|| users.first());
        Some(EndpointLocation {
            namespace: ns_id,
            compartment: ns.namespace_id,
            namespace_type: ns.namespace_type,
            container: named.map(|c| c.id.clone()),
            running: users.is_empty() || users.iter().any(|c| c.state == ContainerState::Running),
        })
    }

    /// Create a container that uses an existing namespace: a pod's workload container joining
    /// its sandbox's namespace, or a namespace the caller built through HNS (hcsshim's
    /// `Container.Networking.Namespace`, §6.5). Its endpoints are whatever the namespace holds.
    pub fn create_container_in(
        &mut self,
        id: &str,
        isolation: Isolation,
        namespace: &Guid,
    ) -> HcnResult<ComputeSystem> {
        if id.trim().is_empty() {
            return Err(err(HResult::E_INVALIDARG, "a compute system needs an ID"));
        }
        if self.compute_systems.contains_key(id) {
            return Err(err(
                HCS_E_SYSTEM_ALREADY_EXISTS,
                format!("compute system {id:?} already exists"),
            ));
        }
        self.open_object(ObjectKind::Namespace, namespace)?;
        // A Hyper-V container joins its sandbox's utility VM.
        let utility_vm = self
            .index
            .users_of(*namespace)
            .next()
            .and_then(|c| self.compute_systems.get(c))
            .and_then(|c| c.utility_vm);
        self.record_placement(namespace);
        if let Some(ns) = self.namespaces.get_mut(namespace) {
            ns.resources.push(NamespaceResource {
                resource_type: "Container".into(),
                data: json!({ "ID": id }),
            });
        }
        let cs = ComputeSystem {
            id: id.to_string(),
            isolation,
            state: ContainerState::Created,
            namespace: Some(*namespace),
            utility_vm,
            endpoints: Vec::new(),
            owns_namespace: false,
        };
        self.put_compute_system(cs.clone());
        self.bump();
        Ok(cs)
    }

    /// The compute system using endpoint `ep`, if any. Only a container using the endpoint's
    /// namespace can list it (an invariant the property tests check).
    pub fn container_of(&self, ep: &Guid) -> Option<&ComputeSystem> {
        let ns = self.namespace_of(ep)?;
        self.index
            .users_of(ns)
            .filter_map(|c| self.compute_systems.get(c))
            .find(|c| c.endpoints.contains(ep))
    }

    fn check_attachable_for_hcs(&self, ep: &Guid) -> HcnResult<()> {
        self.open_object(ObjectKind::Endpoint, ep).map_err(|_| {
            err(
                HResult::HCN_E_ENDPOINT_NOT_FOUND,
                format!("endpoint {ep} not found"),
            )
        })?;
        let e = &self.endpoints[ep];
        if e.is_remote() {
            return Err(err(
                HResult::HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION,
                format!("endpoint {ep} is remote and cannot join a container"),
            ));
        }
        if !e.host_compute_namespace.is_empty() {
            return Err(err(
                HResult::HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS,
                format!(
                    "endpoint {ep} is already in namespace {}",
                    e.host_compute_namespace
                ),
            ));
        }
        Ok(())
    }
}
