//! Modify requests (hns-schema.md §4.3, §6.6): network `Policy`/`DNS`/`Subnet`, endpoint
//! `Policy`/`Port`, namespace `Endpoint`/`Container` (attach/detach, §4.5), and the full-document
//! load balancer update. Each works on a copy and stores it only when every check passed.

use super::filter;
use super::ops::{
    decode_load_balancer, decode_modify, doc_err, endpoint_resource, invalid_json, not_found, resource_ids,
    resource_strings,
};
use super::validate::{self, parse_guid};
use super::{err, Change, Feature, Hns, VmPort};
use crate::backend::ObjectKind;
use crate::document;
use crate::hresult::{HResult, HcnError, HcnResult};
use crate::ids::Guid;
use crate::repr::EndpointPolicyRepr;
use crate::schema::{
    Dns, EndpointPolicy, LoadBalancer, ModifyRequest, NamespaceResource, Network, NetworkPolicy, RequestType,
    Subnet,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

fn settings<T: DeserializeOwned>(req: &ModifyRequest, what: &str) -> HcnResult<T> {
    let v = if req.settings.is_null() {
        json!({})
    } else {
        req.settings.clone()
    };
    serde_json::from_value(v).map_err(|e| invalid_json(what, e))
}

/// `Settings` of a policy modify with `{}` entries dropped: [sdn] clears policies with an
/// Update of `[{}]` (§4.3).
fn policy_settings(req: &ModifyRequest) -> Value {
    let mut v = req.settings.clone();
    if let Some(Value::Array(items)) = v
        .as_object_mut()
        .and_then(|o| o.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case("Policies")))
        .map(|(_, v)| v)
    {
        items.retain(|p| p.as_object().is_none_or(|o| !o.is_empty()));
    }
    v
}

fn endpoint_policies(req: &ModifyRequest) -> HcnResult<Vec<EndpointPolicy>> {
    document::decode_endpoint_policies(&policy_settings(req)).map_err(doc_err)
}

fn network_policies(req: &ModifyRequest) -> HcnResult<Vec<NetworkPolicy>> {
    document::decode_network_policies(&policy_settings(req)).map_err(doc_err)
}

fn string_setting(req: &ModifyRequest, key: &str) -> HcnResult<String> {
    filter::field(&req.settings, key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| invalid_json(&format!("Settings.{key}"), "expected a string"))
}

fn unsupported(what: &str, req: &ModifyRequest) -> HcnError {
    err(
        HResult::HCN_E_REQUEST_UNSUPPORTED,
        format!(
            "{what} modify {:?}/{:?} is not supported",
            req.resource_type, req.request_type
        ),
    )
}

/// Remove every policy of `remove` from `from` (each must be present, HCN_E_POLICY_NOT_FOUND).
fn remove_policies<T: PartialEq + std::fmt::Debug>(from: &mut Vec<T>, remove: &[T]) -> HcnResult<()> {
    for p in remove {
        let Some(i) = from.iter().position(|q| q == p) else {
            return Err(err(
                HResult::HCN_E_POLICY_NOT_FOUND,
                format!("policy {p:?} is not on the object"),
            ));
        };
        from.remove(i);
    }
    Ok(())
}

impl Hns {
    // ---- modify -------------------------------------------------------------------------

    /// `HcnModifyLoadBalancer` with the full document (hcsshim `Update`, HNS ≥ 15.4, §6.6).
    pub fn load_balancer_update(&mut self, id: &Guid, lb: LoadBalancer) -> HcnResult<()> {
        self.check_v2()?;
        if !self.supports(Feature::ModifyLoadBalancer) {
            return Err(err(
                HResult::E_NOTIMPL,
                format!(
                    "HcnModifyLoadBalancer needs HNS 15.4 (ModifyLoadbalancer); this is HNS {}",
                    self.settings.hns_version
                ),
            ));
        }
        self.open_object(ObjectKind::LoadBalancer, id)?;
        let (mut lb, repr) = validate::load_balancer(self, Some(id), lb)?;
        lb.id = *id;
        self.put_lb_repr(lb, repr);
        self.bump();
        Ok(())
    }

    /// `HcnModifyNetwork`: `Policy` Add/Remove/Update, `DNS` Update, `Subnet` Add/Remove.
    pub fn network_modify(&mut self, id: &Guid, req: &ModifyRequest) -> HcnResult<()> {
        self.check_v2()?;
        self.open_object(ObjectKind::Network, id)?;
        let mut net = self.networks[id].clone();
        let rt = req.resource_type.to_ascii_lowercase();
        match (rt.as_str(), req.request_type) {
            ("policy", RequestType::Add | RequestType::Update) => {
                let ps = network_policies(req)?;
                for p in &ps {
                    validate::network_policy(self, p)?;
                }
                if req.request_type == RequestType::Update {
                    net.policies = ps;
                } else {
                    net.policies.extend(ps);
                }
            }
            ("policy", RequestType::Remove) => {
                let ps = network_policies(req)?;
                remove_policies(&mut net.policies, &ps)?;
            }
            ("dns", RequestType::Update | RequestType::Add) => {
                net.dns = settings::<Dns>(req, "DNS settings")?;
            }
            ("subnet", RequestType::Add) => {
                let subs: Vec<Subnet> = match filter::field(&req.settings, "Subnets") {
                    Some(v) => {
                        serde_json::from_value(v.clone()).map_err(|e| invalid_json("Settings.Subnets", e))?
                    }
                    None => return Err(invalid_json("Settings.Subnets", "missing")),
                };
                let mut probe = Network::default();
                probe.ipams.push(crate::schema::Ipam {
                    ipam_type: "Static".into(),
                    subnets: subs.clone(),
                    ..Default::default()
                });
                validate::subnets(self, &probe)?;
                match net.ipams.first_mut() {
                    Some(ipam) => ipam.subnets.extend(subs),
                    None => net.ipams = probe.ipams,
                }
            }
            ("subnet", RequestType::Remove) => {
                let subs: Vec<Subnet> = match filter::field(&req.settings, "Subnets") {
                    Some(v) => {
                        serde_json::from_value(v.clone()).map_err(|e| invalid_json("Settings.Subnets", e))?
                    }
                    None => return Err(invalid_json("Settings.Subnets", "missing")),
                };
                for s in &subs {
                    let want: Option<ipnet::IpNet> = s.ip_address_prefix.trim().parse().ok();
                    let mut found = false;
                    for ipam in net.ipams.iter_mut() {
                        if let Some(i) = ipam
                            .subnets
                            .iter()
                            .position(|x| x.ip_address_prefix.trim().parse::<ipnet::IpNet>().ok() == want)
                        {
                            let in_use = want.is_some_and(|p| self.index.any_local_ip_in(*id, p));
                            if in_use {
                                return Err(err(
                                    HResult::HCN_E_ENTITY_HAS_REFERENCES,
                                    format!("subnet {} still has endpoints", s.ip_address_prefix),
                                ));
                            }
                            ipam.subnets.remove(i);
                            found = true;
                            break;
                        }
                    }
                    if !found {
                        return Err(err(
                            HResult::HCN_E_SUBNET_NOT_FOUND,
                            format!("network {id} has no subnet {:?}", s.ip_address_prefix),
                        ));
                    }
                }
            }
            _ => return Err(unsupported("network", req)),
        }
        self.put_network(net);
        self.bump();
        Ok(())
    }

    /// `HcnModifyEndpoint`: `Policy` Add/Remove/Update (§6.6), `Port` Add/Remove (VM NIC).
    pub fn endpoint_modify(&mut self, id: &Guid, req: &ModifyRequest) -> HcnResult<()> {
        self.check_v2()?;
        self.open_object(ObjectKind::Endpoint, id)?;
        let mut ep = self.endpoints[id].clone();
        let remote = ep.is_remote();
        let rt = req.resource_type.to_ascii_lowercase();
        match (rt.as_str(), req.request_type) {
            ("policy", RequestType::Add | RequestType::Update) => {
                let ps = endpoint_policies(req)?;
                // The new policies read once, at their index in the endpoint's list.
                let first = match req.request_type {
                    RequestType::Update => 0,
                    _ => ep.policies.len(),
                };
                let typed: Vec<EndpointPolicyRepr> = (ps.iter().enumerate())
                    .map(|(k, p)| EndpointPolicyRepr::parse(p, first + k))
                    .collect();
                for (p, r) in ps.iter().zip(&typed) {
                    validate::endpoint_policy_repr(self, p, r, remote)?;
                }
                let mut repr = self.endpoint_values(&ep).into_owned();
                repr.policies.truncate(first);
                repr.policies.extend(typed);
                if req.request_type == RequestType::Update {
                    ep.policies = ps;
                } else {
                    ep.policies.extend(ps);
                }
                let net = parse_guid(&ep.host_compute_network, "HostComputeNetwork")?;
                validate::port_conflicts(self, &net, Some(id), &ep.policies)?;
                self.put_endpoint_repr(ep, repr);
                self.bump();
                return Ok(());
            }
            ("policy", RequestType::Remove) => {
                let ps = endpoint_policies(req)?;
                remove_policies(&mut ep.policies, &ps)?;
            }
            ("port", RequestType::Add) => {
                if remote {
                    return Err(err(
                        HResult::HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION,
                        format!("endpoint {id} is remote and has no switch port"),
                    ));
                }
                if self.vm_ports.contains_key(id) {
                    return Err(err(
                        HResult::HCN_E_ENDPOINT_ALREADY_ATTACHED,
                        format!("endpoint {id} already has a VM port"),
                    ));
                }
                let guid_or_zero = |key: &str| -> HcnResult<Guid> {
                    match filter::field(&req.settings, key).map(filter::text) {
                        Some(s) if !s.trim().is_empty() => parse_guid(&s, key),
                        _ => Ok(Guid::ZERO),
                    }
                };
                let vm = guid_or_zero("VirtualMachineId")?;
                let mut port_id = guid_or_zero("PortId")?;
                let nic = filter::field(&req.settings, "VirtualNicName")
                    .map(filter::text)
                    .unwrap_or_else(|| format!("{vm}--{id}"));
                if port_id.is_zero() {
                    port_id = self.new_guid();
                }
                self.record(Change::Endpoint(*id));
                self.vm_ports.insert(
                    *id,
                    VmPort {
                        port_id,
                        virtual_nic_name: nic,
                        virtual_machine_id: vm,
                    },
                );
                self.bump();
                return Ok(());
            }
            ("port", RequestType::Remove) => {
                self.record(Change::Endpoint(*id));
                if self.vm_ports.remove(id).is_none() {
                    return Err(err(
                        HResult::HCN_E_ENDPOINT_NOT_ATTACHED,
                        format!("endpoint {id} has no VM port"),
                    ));
                }
                self.bump();
                return Ok(());
            }
            _ => return Err(unsupported("endpoint", req)),
        }
        self.put_endpoint(ep);
        self.bump();
        Ok(())
    }

    /// `HcnModifyNamespace`: `Endpoint` Add/Remove (attach/detach, §4.5), `Container` Add/Remove.
    pub fn namespace_modify(&mut self, id: &Guid, req: &ModifyRequest) -> HcnResult<()> {
        self.check_v2()?;
        self.open_object(ObjectKind::Namespace, id)?;
        let rt = req.resource_type.to_ascii_lowercase();
        match (rt.as_str(), req.request_type) {
            ("endpoint", RequestType::Add) => {
                let ep = parse_guid(&string_setting(req, "EndpointId")?, "EndpointId")?;
                self.namespace_attach(id, &ep)
            }
            ("endpoint", RequestType::Remove) => {
                let ep = parse_guid(&string_setting(req, "EndpointId")?, "EndpointId")?;
                self.namespace_detach(id, &ep)
            }
            ("container", RequestType::Add) => {
                let c = string_setting(req, "ContainerId")?;
                let ns = &self.namespaces[id];
                // Adding a container that is already listed changes nothing (inferred).
                if !resource_strings(ns, "Container").any(|x| x.eq_ignore_ascii_case(&c)) {
                    if let Some(ns) = self.namespaces.get_mut(id) {
                        ns.resources.push(NamespaceResource {
                            resource_type: "Container".into(),
                            data: json!({ "ID": c }),
                        });
                    }
                    self.record_placement(id);
                    self.bump();
                }
                Ok(())
            }
            ("container", RequestType::Remove) => {
                let c = string_setting(req, "ContainerId")?;
                if self.namespaces.contains_key(id) {
                    self.record_placement(id);
                }
                let ns = self
                    .namespaces
                    .get_mut(id)
                    .ok_or_else(|| not_found(ObjectKind::Namespace, id))?;
                let before = ns.resources.len();
                ns.resources.retain(|r| {
                    !(r.resource_type.eq_ignore_ascii_case("Container")
                        && filter::field(&r.data, "ID")
                            .is_some_and(|v| filter::text(v).eq_ignore_ascii_case(&c)))
                });
                if ns.resources.len() == before {
                    return Err(err(
                        HResult::ERROR_NOT_FOUND,
                        format!("container {c:?} is not in namespace {id}"),
                    ));
                }
                self.bump();
                Ok(())
            }
            _ => Err(unsupported("namespace", req)),
        }
    }

    /// Whether an endpoint may be attached to a namespace.
    pub(super) fn check_attachable(&self, ep: &Guid) -> HcnResult<()> {
        let e = self.endpoints.get(ep).ok_or_else(|| {
            err(
                HResult::HCN_E_ENDPOINT_NOT_FOUND,
                format!("endpoint {ep} not found"),
            )
        })?;
        if e.is_remote() {
            return Err(err(
                HResult::HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION,
                format!("endpoint {ep} is remote and cannot join a namespace"),
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

    pub(crate) fn attach_unchecked(&mut self, ns: &Guid, ep: &Guid) {
        self.record(Change::Namespace(*ns));
        self.record(Change::Endpoint(*ep));
        if let Some(n) = self.namespaces.get_mut(ns) {
            n.resources.push(endpoint_resource(ep));
        }
        if let Some(e) = self.endpoints.get_mut(ep) {
            e.host_compute_namespace = ns.to_string();
        }
    }

    pub(crate) fn detach_unchecked(&mut self, ns: &Guid, ep: &Guid) {
        self.record(Change::Namespace(*ns));
        self.record(Change::Endpoint(*ep));
        if let Some(n) = self.namespaces.get_mut(ns) {
            n.resources.retain(|r| {
                !(r.resource_type.eq_ignore_ascii_case("Endpoint")
                    && filter::field(&r.data, "ID").and_then(|v| filter::text(v).parse::<Guid>().ok())
                        == Some(*ep))
            });
        }
        if let Some(e) = self.endpoints.get_mut(ep) {
            e.host_compute_namespace.clear();
        }
        // A container that attached it no longer has it.
        for u in self.index.users_of(*ns) {
            if let Some(c) = self.compute_systems.get_mut(u) {
                c.endpoints.retain(|x| x != ep);
            }
        }
    }

    /// Add an endpoint to a namespace (`AddNamespaceEndpoint`). One namespace per endpoint.
    pub fn namespace_attach(&mut self, ns: &Guid, ep: &Guid) -> HcnResult<()> {
        self.open_object(ObjectKind::Namespace, ns)?;
        self.check_attachable(ep)?;
        self.attach_unchecked(ns, ep);
        self.bump();
        Ok(())
    }

    /// Remove an endpoint from a namespace; HCN_E_ENDPOINT_NOT_ATTACHED if it is not a member.
    pub fn namespace_detach(&mut self, ns: &Guid, ep: &Guid) -> HcnResult<()> {
        self.open_object(ObjectKind::Namespace, ns)?;
        if !self.endpoints.contains_key(ep) {
            return Err(err(
                HResult::HCN_E_ENDPOINT_NOT_FOUND,
                format!("endpoint {ep} not found"),
            ));
        }
        if !resource_ids(&self.namespaces[ns], "Endpoint").any(|e| e == *ep) {
            return Err(err(
                HResult::HCN_E_ENDPOINT_NOT_ATTACHED,
                format!("endpoint {ep} is not in namespace {ns}"),
            ));
        }
        self.detach_unchecked(ns, ep);
        self.bump();
        Ok(())
    }
}

pub(crate) fn modify_by_kind(hns: &mut Hns, kind: ObjectKind, id: &Guid, doc: &str) -> HcnResult<()> {
    match kind {
        ObjectKind::Network => hns.network_modify(id, &decode_modify(doc)?),
        ObjectKind::Endpoint => hns.endpoint_modify(id, &decode_modify(doc)?),
        ObjectKind::Namespace => hns.namespace_modify(id, &decode_modify(doc)?),
        ObjectKind::LoadBalancer => {
            // Check the gate before decoding so old HNS answers E_NOTIMPL for any payload.
            hns.check_v2()?;
            if !hns.supports(Feature::ModifyLoadBalancer) {
                return hns.load_balancer_update(id, LoadBalancer::default());
            }
            hns.open_object(kind, id)?;
            hns.load_balancer_update(id, decode_load_balancer(doc)?)
        }
        ObjectKind::SdnRoute => {
            hns.open_object(kind, id)?;
            Err(err(
                HResult::E_NOTIMPL,
                "SDN routes cannot be modified; delete and re-create (§6.6)",
            ))
        }
    }
}
