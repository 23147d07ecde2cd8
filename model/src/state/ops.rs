//! HNS operations (hns-schema.md §4): create / open / modify / query / enumerate / delete for
//! every object kind, namespace attach/detach, service restart. Each validates fully, then
//! commits; a failed call changes nothing.

use super::filter;
use super::validate::{self, parse_guid};
use super::{err, Feature, Hns, OnReferenced, VmPort, HOST_DEFAULT_COMPARTMENT};
use crate::backend::ObjectKind;
use crate::document;
use crate::hresult::{HResult, HcnError, HcnResult};
use crate::ids::Guid;
use crate::schema::{
    network_flags, Dns, Endpoint, EndpointPolicy, HostComputeQuery, LoadBalancer, ModifyRequest, Namespace,
    NamespaceResource, NamespaceType, Network, NetworkPolicy, NetworkType, RequestType, SdnRoute, Subnet,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The IDs in a namespace's resources of one type (`Endpoint` or `Container`), as strings.
pub(crate) fn resource_strings<'a>(ns: &'a Namespace, kind: &'a str) -> impl Iterator<Item = String> + 'a {
    ns.resources
        .iter()
        .filter(move |r| r.resource_type.eq_ignore_ascii_case(kind))
        .filter_map(|r| filter::field(&r.data, "ID").map(filter::text))
}

/// The endpoint GUIDs in a namespace's resources.
pub(crate) fn resource_ids<'a>(ns: &'a Namespace, kind: &'a str) -> impl Iterator<Item = Guid> + 'a {
    resource_strings(ns, kind).filter_map(|s| s.parse().ok())
}

fn endpoint_resource(ep: &Guid) -> NamespaceResource {
    NamespaceResource {
        resource_type: "Endpoint".into(),
        data: json!({ "ID": ep.to_string() }),
    }
}

fn not_found(kind: ObjectKind, id: &Guid) -> HcnError {
    err(
        HResult::ERROR_NOT_FOUND,
        format!("{} {id} not found", kind.hcn_name()),
    )
}

fn invalid_json(what: &str, e: impl std::fmt::Display) -> HcnError {
    err(HResult::HCN_E_INVALID_JSON, format!("{what}: {e}"))
}

fn doc_err(e: crate::document::DocError) -> HcnError {
    e.to_hcn_error()
}

// The schema module's tolerant decoders (v2 or v1 shape, case-insensitive keys, JSON paths).
pub(crate) fn decode_network(doc: &str) -> HcnResult<Network> {
    document::decode_network(doc).map_err(doc_err)
}
pub(crate) fn decode_endpoint(doc: &str) -> HcnResult<Endpoint> {
    document::decode_endpoint(doc).map_err(doc_err)
}
pub(crate) fn decode_namespace(doc: &str) -> HcnResult<Namespace> {
    // hcsshim creates namespaces with an empty document in places; treat it as `{}`.
    let doc = if doc.trim().is_empty() { "{}" } else { doc };
    document::decode_namespace(doc).map_err(doc_err)
}
pub(crate) fn decode_load_balancer(doc: &str) -> HcnResult<LoadBalancer> {
    document::decode_load_balancer(doc).map_err(doc_err)
}
pub(crate) fn decode_route(doc: &str) -> HcnResult<SdnRoute> {
    document::decode_route(doc).map_err(doc_err)
}
pub(crate) fn decode_query(doc: &str) -> HcnResult<HostComputeQuery> {
    document::decode_query(doc).map_err(doc_err)
}
pub(crate) fn decode_modify(doc: &str) -> HcnResult<ModifyRequest> {
    document::decode_modify(doc).map_err(doc_err)
}

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
    pub(crate) fn check_v2(&self) -> HcnResult<()> {
        if self.supports(Feature::ApiV2) {
            Ok(())
        } else {
            Err(err(
                HResult::E_NOTIMPL,
                format!("HNS {} has no v2 (HCN) API", self.settings.hns_version),
            ))
        }
    }

    fn exists(&self, kind: ObjectKind, id: &Guid) -> bool {
        match kind {
            ObjectKind::Network => self.networks.contains_key(id),
            ObjectKind::Endpoint => self.endpoints.contains_key(id),
            ObjectKind::Namespace => self.namespaces.contains_key(id),
            ObjectKind::LoadBalancer => self.load_balancers.contains_key(id),
            ObjectKind::SdnRoute => self.routes.contains_key(id),
        }
    }

    /// `HcnOpenX`: ERROR_NOT_FOUND for an unknown GUID.
    pub fn open_object(&self, kind: ObjectKind, id: &Guid) -> HcnResult<()> {
        if self.exists(kind, id) {
            Ok(())
        } else {
            Err(not_found(kind, id))
        }
    }

    /// The object's v2 document as HNS returns it.
    pub fn document(&self, kind: ObjectKind, id: &Guid) -> HcnResult<Value> {
        let v = match kind {
            ObjectKind::Network => self.networks.get(id).map(document::encode_network),
            ObjectKind::Endpoint => self.endpoints.get(id).map(document::encode_endpoint),
            ObjectKind::Namespace => self.namespaces.get(id).map(document::encode_namespace),
            ObjectKind::LoadBalancer => self.load_balancers.get(id).map(document::encode_load_balancer),
            ObjectKind::SdnRoute => self.routes.get(id).map(document::encode_route),
        };
        v.ok_or_else(|| not_found(kind, id))
    }

    /// `HcnQueryXProperties`. A query with SchemaVersion 1.x gets the v1 shape for networks and
    /// endpoints (hns-schema.md §1, inferred); everything else is the v2 document.
    pub fn query_object(&self, kind: ObjectKind, id: &Guid, q: &HostComputeQuery) -> HcnResult<Value> {
        if q.wants_v1() {
            match kind {
                ObjectKind::Network => {
                    if let Some(n) = self.networks.get(id) {
                        return Ok(document::encode_network_v1(n));
                    }
                }
                ObjectKind::Endpoint => {
                    if let Some(e) = self.endpoints.get(id) {
                        return Ok(document::encode_endpoint_v1(e));
                    }
                }
                _ => {}
            }
        }
        self.document(kind, id)
    }

    fn ids(&self, kind: ObjectKind) -> Vec<Guid> {
        match kind {
            ObjectKind::Network => self.networks.keys().copied().collect(),
            ObjectKind::Endpoint => self.endpoints.keys().copied().collect(),
            ObjectKind::Namespace => self.namespaces.keys().copied().collect(),
            ObjectKind::LoadBalancer => self.load_balancers.keys().copied().collect(),
            ObjectKind::SdnRoute => self.routes.keys().copied().collect(),
        }
    }

    fn filter_matches(&self, kind: ObjectKind, id: &Guid, doc: &Value, key: &str, want: &Value) -> bool {
        if kind == ObjectKind::Endpoint {
            let ep = self.endpoints.get(id);
            if key.eq_ignore_ascii_case("VirtualNetwork") {
                return filter::field(doc, "HostComputeNetwork")
                    .is_some_and(|f| filter::values_equal(f, want));
            }
            if key.eq_ignore_ascii_case("VirtualNetworkName") {
                let name = self
                    .network_of(id)
                    .and_then(|n| self.networks.get(&n))
                    .map(|n| Value::String(n.name.clone()));
                return name.is_some_and(|n| filter::values_equal(&n, want));
            }
            if key.eq_ignore_ascii_case("IsRemoteEndpoint") {
                let remote = ep.is_some_and(Endpoint::is_remote);
                return filter::values_equal(&Value::Bool(remote), want);
            }
        }
        filter::field(doc, key).is_some_and(|f| filter::values_equal(f, want))
    }

    /// `HcnEnumerateXs`: the IDs of the live objects matching the query's filter, in ID order.
    pub fn enumerate_ids(&self, kind: ObjectKind, q: &HostComputeQuery) -> HcnResult<Vec<Guid>> {
        let filter = q.filter_map().map_err(|e| err(HResult::HCN_E_INVALID_JSON, e))?;
        let mut out = Vec::new();
        for id in self.ids(kind) {
            if filter.is_empty() {
                out.push(id);
                continue;
            }
            let doc = self.document(kind, &id)?;
            if filter
                .iter()
                .all(|(k, v)| self.filter_matches(kind, &id, &doc, k, v))
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    fn pick_id(&mut self, id: Guid) -> Guid {
        if id.is_zero() {
            self.new_guid()
        } else {
            id
        }
    }

    fn check_new_id(&self, id: &Guid) -> HcnResult<()> {
        if !id.is_zero() && self.id_in_use(id) {
            Err(err(
                super::ERROR_OBJECT_ALREADY_EXISTS,
                format!("an object with ID {id} already exists"),
            ))
        } else {
            Ok(())
        }
    }

    // ---- create -------------------------------------------------------------------------

    /// `HcnCreateNetwork`. `id` zero = HNS assigns one (the document's `ID` is used when set).
    pub fn network_create(&mut self, id: Guid, net: Network) -> HcnResult<Guid> {
        self.check_v2()?;
        let id = if id.is_zero() { net.id } else { id };
        let mut net = validate::network(self, id, net)?;
        net.id = self.pick_id(id);
        let id = net.id;
        self.networks.insert(id, net);
        self.bump();
        Ok(id)
    }

    /// `HcnCreateEndpoint`; the network is the document's `HostComputeNetwork`.
    pub fn endpoint_create(&mut self, id: Guid, ep: Endpoint) -> HcnResult<Guid> {
        self.check_v2()?;
        let id = if id.is_zero() { ep.id } else { id };
        let plan = validate::endpoint(self, id, ep)?;
        let mut ep = plan.endpoint;
        ep.id = self.pick_id(id);
        if plan.needs_host_mac {
            ep.mac_address = self.host_mac().to_string();
        }
        let id = ep.id;
        self.endpoints.insert(id, ep);
        self.bump();
        Ok(id)
    }

    /// `HcnCreateNamespace`. Endpoint resources in the document are attached.
    pub fn namespace_create(&mut self, id: Guid, mut ns: Namespace) -> HcnResult<Guid> {
        self.check_v2()?;
        let id = if id.is_zero() { ns.id } else { id };
        self.check_new_id(&id)?;
        if ns.namespace_type == Some(NamespaceType::HostDefault)
            && self
                .namespaces
                .values()
                .any(|n| n.namespace_type == Some(NamespaceType::HostDefault))
        {
            return Err(err(
                HResult::GCN_E_DEFAULTNAMESPACE_EXISTS,
                "a HostDefault namespace already exists",
            ));
        }
        let mut eps = Vec::new();
        let mut resources = Vec::new();
        for (i, r) in std::mem::take(&mut ns.resources).into_iter().enumerate() {
            if r.resource_type.eq_ignore_ascii_case("Endpoint") {
                let s = filter::field(&r.data, "ID").map(filter::text).unwrap_or_default();
                let ep = parse_guid(&s, &format!("Resources[{i}].Data.ID"))?;
                self.check_attachable(&ep)?;
                if eps.contains(&ep) {
                    return Err(err(
                        HResult::HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS,
                        format!("endpoint {ep} is listed twice"),
                    ));
                }
                eps.push(ep);
            } else if r.resource_type.eq_ignore_ascii_case("Container") {
                resources.push(NamespaceResource {
                    resource_type: "Container".into(),
                    data: r.data,
                });
            } else {
                return Err(err(
                    HResult::HCN_E_INVALID_JSON,
                    format!(
                        "Resources[{i}].Type must be Endpoint or Container, found {:?}",
                        r.resource_type
                    ),
                ));
            }
        }
        let id = self.pick_id(id);
        ns.id = id;
        ns.resources = resources;
        if ns.namespace_id == 0 {
            ns.namespace_id = if ns.namespace_type == Some(NamespaceType::HostDefault) {
                HOST_DEFAULT_COMPARTMENT
            } else {
                let c = self.next_compartment;
                self.next_compartment += 1;
                c
            };
        }
        self.namespaces.insert(id, ns);
        for ep in eps {
            self.attach_unchecked(&id, &ep);
        }
        self.bump();
        Ok(id)
    }

    pub fn load_balancer_create(&mut self, id: Guid, lb: LoadBalancer) -> HcnResult<Guid> {
        self.check_v2()?;
        let id = if id.is_zero() { lb.id } else { id };
        self.check_new_id(&id)?;
        let mut lb = validate::load_balancer(self, None, lb)?;
        lb.id = self.pick_id(id);
        let id = lb.id;
        self.load_balancers.insert(id, lb);
        self.bump();
        Ok(id)
    }

    pub fn route_create(&mut self, id: Guid, r: SdnRoute) -> HcnResult<Guid> {
        self.check_v2()?;
        let id = if id.is_zero() { r.id } else { id };
        self.check_new_id(&id)?;
        let mut r = validate::sdn_route(self, r)?;
        r.id = self.pick_id(id);
        let id = r.id;
        self.routes.insert(id, r);
        self.bump();
        Ok(id)
    }

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
        let mut lb = validate::load_balancer(self, Some(id), lb)?;
        lb.id = *id;
        self.load_balancers.insert(*id, lb);
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
                            let prefix = want.map(|w| w.trunc());
                            let in_use = self.endpoints_of(id).any(|(eid, e)| {
                                !e.is_remote()
                                    && self
                                        .endpoint_ips(eid)
                                        .any(|ip| prefix.is_some_and(|p| p.contains(&ip)))
                            });
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
        self.networks.insert(*id, net);
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
                for p in &ps {
                    validate::endpoint_policy(self, p, remote)?;
                }
                if req.request_type == RequestType::Update {
                    ep.policies = ps;
                } else {
                    ep.policies.extend(ps);
                }
                let net = parse_guid(&ep.host_compute_network, "HostComputeNetwork")?;
                validate::port_conflicts(self, &net, Some(id), &ep.policies)?;
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
        self.endpoints.insert(*id, ep);
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
                    self.bump();
                }
                Ok(())
            }
            ("container", RequestType::Remove) => {
                let c = string_setting(req, "ContainerId")?;
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
    fn check_attachable(&self, ep: &Guid) -> HcnResult<()> {
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
        if let Some(n) = self.namespaces.get_mut(ns) {
            n.resources.push(endpoint_resource(ep));
        }
        if let Some(e) = self.endpoints.get_mut(ep) {
            e.host_compute_namespace = ns.to_string();
        }
    }

    pub(crate) fn detach_unchecked(&mut self, ns: &Guid, ep: &Guid) {
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
            self.compute_systems.clear();
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

/// Whether a string is an empty or zero GUID (HNS assigns one).
pub(crate) fn id_arg(s: &str, kind: ObjectKind) -> HcnResult<Guid> {
    if s.trim().is_empty() {
        return Ok(Guid::ZERO);
    }
    parse_guid(s, &format!("{} ID", kind.hcn_name()))
}

/// A required GUID argument (open / modify / query / delete).
pub(crate) fn required_id(s: &str, kind: ObjectKind) -> HcnResult<Guid> {
    parse_guid(s, &format!("{} ID", kind.hcn_name()))
}

pub(crate) fn decode_by_kind_and_create(
    hns: &mut Hns,
    kind: ObjectKind,
    id: Guid,
    doc: &str,
) -> HcnResult<Guid> {
    match kind {
        ObjectKind::Network => hns.network_create(id, decode_network(doc)?),
        ObjectKind::Endpoint => hns.endpoint_create(id, decode_endpoint(doc)?),
        ObjectKind::Namespace => hns.namespace_create(id, decode_namespace(doc)?),
        ObjectKind::LoadBalancer => hns.load_balancer_create(id, decode_load_balancer(doc)?),
        ObjectKind::SdnRoute => hns.route_create(id, decode_route(doc)?),
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
