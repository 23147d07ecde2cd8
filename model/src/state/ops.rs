//! HNS operations (hns-schema.md §4): create / open / query / enumerate for every object kind,
//! and the document decoders. Modify is in `modify.rs`, delete and restart in `delete.rs`. Each
//! operation validates fully, then commits; a failed call changes nothing.

use super::filter;
use super::validate::{self, parse_guid};
use super::{err, Feature, Hns, HOST_DEFAULT_COMPARTMENT};
use crate::backend::ObjectKind;
use crate::document;
use crate::hresult::{HResult, HcnError, HcnResult};
use crate::ids::Guid;
use crate::schema::{
    Endpoint, HostComputeQuery, LoadBalancer, ModifyRequest, Namespace, NamespaceResource, NamespaceType,
    Network, SdnRoute,
};
use serde_json::{json, Value};

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

pub(super) fn endpoint_resource(ep: &Guid) -> NamespaceResource {
    NamespaceResource {
        resource_type: "Endpoint".into(),
        data: json!({ "ID": ep.to_string() }),
    }
}

pub(super) fn not_found(kind: ObjectKind, id: &Guid) -> HcnError {
    err(
        HResult::ERROR_NOT_FOUND,
        format!("{} {id} not found", kind.hcn_name()),
    )
}

pub(super) fn invalid_json(what: &str, e: impl std::fmt::Display) -> HcnError {
    err(HResult::HCN_E_INVALID_JSON, format!("{what}: {e}"))
}

pub(super) fn doc_err(e: crate::document::DocError) -> HcnError {
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

    /// The object's v2 document as JSON text: the same text as `document(..).to_string()`,
    /// serialised straight from the stored object (no intermediate `Value`) where the encoder
    /// is plain serialisation. The create replies of a kube-proxy node are most of its traffic.
    pub fn document_text(&self, kind: ObjectKind, id: &Guid) -> HcnResult<String> {
        let text = match kind {
            ObjectKind::Network => return self.document(kind, id).map(|v| v.to_string()),
            ObjectKind::Endpoint => self.endpoints.get(id).map(serde_json::to_string),
            ObjectKind::Namespace => self.namespaces.get(id).map(serde_json::to_string),
            ObjectKind::LoadBalancer => self.load_balancers.get(id).map(serde_json::to_string),
            ObjectKind::SdnRoute => self.routes.get(id).map(serde_json::to_string),
        };
        match text {
            Some(Ok(t)) => Ok(t),
            // Our types have string keys only, so this does not happen; the encoder decides.
            Some(Err(_)) => self.document(kind, id).map(|v| v.to_string()),
            None => Err(not_found(kind, id)),
        }
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

    /// Whether filter key `key` must read the object's document (the rest read the state).
    fn filter_needs_doc(kind: ObjectKind, key: &str) -> bool {
        !(kind == ObjectKind::Endpoint
            && ["VirtualNetworkName", "IsRemoteEndpoint"]
                .iter()
                .any(|k| key.eq_ignore_ascii_case(k)))
    }

    fn filter_matches(
        &self,
        kind: ObjectKind,
        id: &Guid,
        doc: Option<&Value>,
        key: &str,
        want: &Value,
    ) -> bool {
        if kind == ObjectKind::Endpoint {
            let ep = self.endpoints.get(id);
            if key.eq_ignore_ascii_case("VirtualNetwork") {
                return doc
                    .and_then(|d| filter::field(d, "HostComputeNetwork"))
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
        doc.and_then(|d| filter::field(d, key))
            .is_some_and(|f| filter::values_equal(f, want))
    }

    /// The objects a filter key selects, in ID order, when an index answers it exactly: `ID`
    /// (a document's `ID` is its GUID, so only a GUID value can match it), an endpoint's network
    /// (`HostComputeNetwork`, v1 `VirtualNetwork`, `VirtualNetworkName`) and an endpoint's
    /// `Name` (hcsshim's `GetEndpointByName`). `None` = the key is checked object by object.
    fn filter_candidates(&self, kind: ObjectKind, key: &str, want: &Value) -> Option<Vec<Guid>> {
        let as_guid = || filter::text(want).parse::<Guid>().ok();
        if key.eq_ignore_ascii_case("ID") {
            return Some(as_guid().filter(|g| self.exists(kind, g)).into_iter().collect());
        }
        if kind != ObjectKind::Endpoint {
            return None;
        }
        if key.eq_ignore_ascii_case("HostComputeNetwork") || key.eq_ignore_ascii_case("VirtualNetwork") {
            // The stored value is the network's GUID, so it equals `want` only as GUIDs.
            return Some(match as_guid() {
                Some(n) => self.index.endpoints_of(n).collect(),
                None => Vec::new(),
            });
        }
        if key.eq_ignore_ascii_case("Name") {
            // An unnamed endpoint's document has no Name field, so it never matches.
            return Some(self.index.endpoints_named(&filter::text(want)));
        }
        if key.eq_ignore_ascii_case("VirtualNetworkName") {
            let mut out: Vec<Guid> = Vec::new();
            for (nid, n) in &self.networks {
                if filter::values_equal(&Value::String(n.name.clone()), want) {
                    out.extend(self.index.endpoints_of(*nid));
                }
            }
            out.sort_unstable();
            return Some(out);
        }
        None
    }

    /// `HcnEnumerateXs`: the IDs of the live objects matching the query's filter, in ID order.
    pub fn enumerate_ids(&self, kind: ObjectKind, q: &HostComputeQuery) -> HcnResult<Vec<Guid>> {
        let filter = q.filter_map().map_err(|e| err(HResult::HCN_E_INVALID_JSON, e))?;
        let mut candidates: Option<Vec<Guid>> = None;
        let mut rest: Vec<(&String, &Value)> = Vec::new();
        for (k, v) in &filter {
            match self.filter_candidates(kind, k, v) {
                Some(ids) => {
                    candidates = Some(match candidates {
                        None => ids,
                        Some(c) => c.into_iter().filter(|g| ids.binary_search(g).is_ok()).collect(),
                    })
                }
                None => rest.push((k, v)),
            }
        }
        let ids = candidates.unwrap_or_else(|| self.ids(kind));
        let needs_doc = rest.iter().any(|(k, _)| Self::filter_needs_doc(kind, k));
        let mut out = Vec::new();
        for id in ids {
            if rest.is_empty() {
                out.push(id);
                continue;
            }
            let doc = if needs_doc {
                Some(self.document(kind, &id)?)
            } else {
                None
            };
            if rest
                .iter()
                .all(|(k, v)| self.filter_matches(kind, &id, doc.as_ref(), k, v))
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    pub(super) fn pick_id(&mut self, id: Guid) -> Guid {
        if id.is_zero() {
            self.new_guid()
        } else {
            id
        }
    }

    pub(super) fn check_new_id(&self, id: &Guid) -> HcnResult<()> {
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
        let (mut net, repr) = validate::network(self, id, net)?;
        net.id = self.pick_id(id);
        let id = net.id;
        self.put_network_repr(net, repr);
        self.bump();
        Ok(id)
    }

    /// `HcnCreateEndpoint`; the network is the document's `HostComputeNetwork`.
    pub fn endpoint_create(&mut self, id: Guid, ep: Endpoint) -> HcnResult<Guid> {
        self.check_v2()?;
        let id = if id.is_zero() { ep.id } else { id };
        let plan = validate::endpoint(self, id, ep)?;
        let (mut ep, mut repr) = (plan.endpoint, plan.repr);
        ep.id = self.pick_id(id);
        if plan.needs_host_mac {
            let m = self.host_mac();
            ep.mac_address = m.to_string();
            repr.mac = Ok(m);
        }
        let id = ep.id;
        self.put_endpoint_repr(ep, repr);
        self.bump();
        Ok(id)
    }

    /// `HcnCreateNamespace`. Endpoint resources in the document are attached.
    pub fn namespace_create(&mut self, id: Guid, mut ns: Namespace) -> HcnResult<Guid> {
        self.check_v2()?;
        let id = if id.is_zero() { ns.id } else { id };
        self.check_new_id(&id)?;
        if ns.namespace_type == Some(NamespaceType::HostDefault) && self.host_default_namespace().is_some() {
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
        self.put_namespace(ns);
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
        let (mut lb, repr) = validate::load_balancer(self, None, lb)?;
        lb.id = self.pick_id(id);
        let id = lb.id;
        self.put_lb_repr(lb, repr);
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
        self.put_route(r);
        self.bump();
        Ok(id)
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

/// As [`decode_by_kind_and_create`], from a parsed document.
pub(crate) fn decode_value_by_kind_and_create(
    hns: &mut Hns,
    kind: ObjectKind,
    id: Guid,
    doc: Value,
) -> HcnResult<Guid> {
    match kind {
        ObjectKind::Network => hns.network_create(id, document::decode_network_owned(doc).map_err(doc_err)?),
        ObjectKind::Endpoint => {
            hns.endpoint_create(id, document::decode_endpoint_owned(doc).map_err(doc_err)?)
        }
        ObjectKind::Namespace => {
            hns.namespace_create(id, document::decode_namespace_owned(doc).map_err(doc_err)?)
        }
        ObjectKind::LoadBalancer => {
            hns.load_balancer_create(id, document::decode_load_balancer_owned(doc).map_err(doc_err)?)
        }
        ObjectKind::SdnRoute => hns.route_create(id, document::decode_route_owned(doc).map_err(doc_err)?),
    }
}
