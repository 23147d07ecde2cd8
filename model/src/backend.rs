//! `HnsBackend`: the pluggable adapter. It mirrors the HCN calls of `computenetwork.dll` one to one,
//! JSON in and JSON out, so the same scenario and conformance suite run against the in-process
//! model, a child process (on Windows, `hnsim-agent` calling the real HNS), or a recorded transcript.

use crate::hresult::{HcnError, HcnResult};
use crate::journal::{Change, Cursor};
use std::fmt;
use std::str::FromStr;

/// The object kinds HCN manages.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Network,
    Endpoint,
    Namespace,
    LoadBalancer,
    SdnRoute,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 5] = [
        ObjectKind::Network,
        ObjectKind::Endpoint,
        ObjectKind::Namespace,
        ObjectKind::LoadBalancer,
        ObjectKind::SdnRoute,
    ];
    /// The name used in HCN function names (`HcnCreate<Name>`).
    pub fn hcn_name(self) -> &'static str {
        match self {
            ObjectKind::Network => "Network",
            ObjectKind::Endpoint => "Endpoint",
            ObjectKind::Namespace => "Namespace",
            ObjectKind::LoadBalancer => "LoadBalancer",
            ObjectKind::SdnRoute => "SdnRoute",
        }
    }
}

/// What an HCN call does to its object.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `HcnEnumerateXs(query)` → JSON array of GUID strings.
    Enumerate,
    /// `HcnCreateX(id, settings)` → the created object's properties (the model answers with the
    /// document a follow-up default query would return). For endpoints the network is the
    /// document's `HostComputeNetwork`.
    Create,
    /// `HcnOpenX(id)` → empty reply, or ERROR_NOT_FOUND.
    Open,
    /// `HcnModifyX(handle, settings)` → empty reply.
    Modify,
    /// `HcnQueryXProperties(handle, query)` → the object's JSON.
    Query,
    /// `HcnDeleteX(id)` → empty reply.
    Delete,
}

/// One HCN call: `HcnCreateEndpoint`, `HcnQueryNetworkProperties`, … or the service calls.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum HcnOp {
    Object(Verb, ObjectKind),
    /// `GET /globals/version` → `{"Major":15,"Minor":4}`.
    GetServiceVersion,
    /// Restart the HNS service (non-persistent networks are dropped). Not an HCN call; backends
    /// that cannot do it answer E_NOTIMPL.
    RestartService,
}

impl HcnOp {
    /// Every op, in a stable order.
    pub fn all() -> Vec<HcnOp> {
        let mut v = Vec::new();
        for k in ObjectKind::ALL {
            for verb in [
                Verb::Enumerate,
                Verb::Create,
                Verb::Open,
                Verb::Modify,
                Verb::Query,
                Verb::Delete,
            ] {
                v.push(HcnOp::Object(verb, k));
            }
        }
        v.push(HcnOp::GetServiceVersion);
        v.push(HcnOp::RestartService);
        v
    }
}

impl fmt::Display for HcnOp {
    /// The native function name: `HcnCreateNetwork`, `HcnQueryEndpointProperties`, `HcnEnumerateNamespaces`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HcnOp::Object(verb, kind) => {
                let k = kind.hcn_name();
                match verb {
                    Verb::Enumerate => write!(f, "HcnEnumerate{k}s"),
                    Verb::Create => write!(f, "HcnCreate{k}"),
                    Verb::Open => write!(f, "HcnOpen{k}"),
                    Verb::Modify => write!(f, "HcnModify{k}"),
                    Verb::Query => write!(f, "HcnQuery{k}Properties"),
                    Verb::Delete => write!(f, "HcnDelete{k}"),
                }
            }
            HcnOp::GetServiceVersion => f.write_str("HnsGetServiceVersion"),
            HcnOp::RestartService => f.write_str("HnsRestartService"),
        }
    }
}

impl FromStr for HcnOp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HcnOp::all()
            .into_iter()
            .find(|op| op.to_string() == s)
            .ok_or_else(|| format!("unknown HCN call {s:?}"))
    }
}

/// A call with its arguments. `id` is the object GUID (empty for enumerate, or for create when HNS
/// should assign one); `document` is the settings or query JSON (compact, possibly empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HcnCall {
    pub op: HcnOp,
    pub id: String,
    pub document: String,
}

impl HcnCall {
    pub fn new(op: HcnOp, id: impl Into<String>, document: impl Into<String>) -> Self {
        HcnCall {
            op,
            id: id.into(),
            document: document.into(),
        }
    }
}

/// The adapter trait: one entry point that every backend implements, plus one convenience method
/// per HCN call. Errors carry the HRESULT and HNS's message.
pub trait HnsBackend {
    /// Perform one HCN call and return its JSON reply (empty string when HCN returns nothing).
    fn call(&mut self, call: &HcnCall) -> HcnResult<String>;

    /// A short description of the backend (`sim`, `exec:…`, `replay:…`).
    fn describe(&self) -> String;

    /// Where the backend's change journal is now, if it keeps one (the in-process model does;
    /// a real host does not). With [`HnsBackend::changes_since`] a caller that caches what it
    /// listed can re-read only the objects that changed; `None`: list everything.
    fn journal_cursor(&self) -> Option<Cursor> {
        None
    }
    /// The objects changed since `cursor` (in order, possibly repeated), or `None` when the
    /// backend cannot vouch for completeness (then list everything).
    fn changes_since(&self, _cursor: Cursor) -> Option<Vec<Change>> {
        None
    }

    fn enumerate(&mut self, kind: ObjectKind, query: &str) -> HcnResult<String> {
        self.call(&HcnCall::new(HcnOp::Object(Verb::Enumerate, kind), "", query))
    }
    fn create(&mut self, kind: ObjectKind, id: &str, settings: &str) -> HcnResult<String> {
        self.call(&HcnCall::new(HcnOp::Object(Verb::Create, kind), id, settings))
    }
    fn open(&mut self, kind: ObjectKind, id: &str) -> HcnResult<()> {
        self.call(&HcnCall::new(HcnOp::Object(Verb::Open, kind), id, ""))
            .map(|_| ())
    }
    fn modify(&mut self, kind: ObjectKind, id: &str, settings: &str) -> HcnResult<()> {
        self.call(&HcnCall::new(HcnOp::Object(Verb::Modify, kind), id, settings))
            .map(|_| ())
    }
    fn query(&mut self, kind: ObjectKind, id: &str, query: &str) -> HcnResult<String> {
        self.call(&HcnCall::new(HcnOp::Object(Verb::Query, kind), id, query))
    }
    fn delete(&mut self, kind: ObjectKind, id: &str) -> HcnResult<()> {
        self.call(&HcnCall::new(HcnOp::Object(Verb::Delete, kind), id, ""))
            .map(|_| ())
    }

    fn enumerate_networks(&mut self, query: &str) -> HcnResult<String> {
        self.enumerate(ObjectKind::Network, query)
    }
    fn create_network(&mut self, id: &str, settings: &str) -> HcnResult<String> {
        self.create(ObjectKind::Network, id, settings)
    }
    fn open_network(&mut self, id: &str) -> HcnResult<()> {
        self.open(ObjectKind::Network, id)
    }
    fn modify_network(&mut self, id: &str, settings: &str) -> HcnResult<()> {
        self.modify(ObjectKind::Network, id, settings)
    }
    fn query_network_properties(&mut self, id: &str, query: &str) -> HcnResult<String> {
        self.query(ObjectKind::Network, id, query)
    }
    fn delete_network(&mut self, id: &str) -> HcnResult<()> {
        self.delete(ObjectKind::Network, id)
    }

    fn enumerate_endpoints(&mut self, query: &str) -> HcnResult<String> {
        self.enumerate(ObjectKind::Endpoint, query)
    }
    fn create_endpoint(&mut self, id: &str, settings: &str) -> HcnResult<String> {
        self.create(ObjectKind::Endpoint, id, settings)
    }
    fn open_endpoint(&mut self, id: &str) -> HcnResult<()> {
        self.open(ObjectKind::Endpoint, id)
    }
    fn modify_endpoint(&mut self, id: &str, settings: &str) -> HcnResult<()> {
        self.modify(ObjectKind::Endpoint, id, settings)
    }
    fn query_endpoint_properties(&mut self, id: &str, query: &str) -> HcnResult<String> {
        self.query(ObjectKind::Endpoint, id, query)
    }
    fn delete_endpoint(&mut self, id: &str) -> HcnResult<()> {
        self.delete(ObjectKind::Endpoint, id)
    }

    fn enumerate_namespaces(&mut self, query: &str) -> HcnResult<String> {
        self.enumerate(ObjectKind::Namespace, query)
    }
    fn create_namespace(&mut self, id: &str, settings: &str) -> HcnResult<String> {
        self.create(ObjectKind::Namespace, id, settings)
    }
    fn open_namespace(&mut self, id: &str) -> HcnResult<()> {
        self.open(ObjectKind::Namespace, id)
    }
    fn modify_namespace(&mut self, id: &str, settings: &str) -> HcnResult<()> {
        self.modify(ObjectKind::Namespace, id, settings)
    }
    fn query_namespace_properties(&mut self, id: &str, query: &str) -> HcnResult<String> {
        self.query(ObjectKind::Namespace, id, query)
    }
    fn delete_namespace(&mut self, id: &str) -> HcnResult<()> {
        self.delete(ObjectKind::Namespace, id)
    }

    fn enumerate_load_balancers(&mut self, query: &str) -> HcnResult<String> {
        self.enumerate(ObjectKind::LoadBalancer, query)
    }
    fn create_load_balancer(&mut self, id: &str, settings: &str) -> HcnResult<String> {
        self.create(ObjectKind::LoadBalancer, id, settings)
    }
    fn open_load_balancer(&mut self, id: &str) -> HcnResult<()> {
        self.open(ObjectKind::LoadBalancer, id)
    }
    fn modify_load_balancer(&mut self, id: &str, settings: &str) -> HcnResult<()> {
        self.modify(ObjectKind::LoadBalancer, id, settings)
    }
    fn query_load_balancer_properties(&mut self, id: &str, query: &str) -> HcnResult<String> {
        self.query(ObjectKind::LoadBalancer, id, query)
    }
    fn delete_load_balancer(&mut self, id: &str) -> HcnResult<()> {
        self.delete(ObjectKind::LoadBalancer, id)
    }

    fn enumerate_sdn_routes(&mut self, query: &str) -> HcnResult<String> {
        self.enumerate(ObjectKind::SdnRoute, query)
    }
    fn create_sdn_route(&mut self, id: &str, settings: &str) -> HcnResult<String> {
        self.create(ObjectKind::SdnRoute, id, settings)
    }
    fn open_sdn_route(&mut self, id: &str) -> HcnResult<()> {
        self.open(ObjectKind::SdnRoute, id)
    }
    fn modify_sdn_route(&mut self, id: &str, settings: &str) -> HcnResult<()> {
        self.modify(ObjectKind::SdnRoute, id, settings)
    }
    fn query_sdn_route_properties(&mut self, id: &str, query: &str) -> HcnResult<String> {
        self.query(ObjectKind::SdnRoute, id, query)
    }
    fn delete_sdn_route(&mut self, id: &str) -> HcnResult<()> {
        self.delete(ObjectKind::SdnRoute, id)
    }

    fn service_version(&mut self) -> HcnResult<String> {
        self.call(&HcnCall::new(HcnOp::GetServiceVersion, "", ""))
    }
    fn restart_service(&mut self) -> HcnResult<()> {
        self.call(&HcnCall::new(HcnOp::RestartService, "", ""))
            .map(|_| ())
    }
}

impl<B: HnsBackend + ?Sized> HnsBackend for Box<B> {
    fn call(&mut self, call: &HcnCall) -> HcnResult<String> {
        (**self).call(call)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// The error a backend returns for a call it cannot perform.
pub fn not_implemented(op: HcnOp) -> HcnError {
    HcnError::new(
        crate::HResult::E_NOTIMPL,
        format!("{op} is not implemented by this backend"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_names_round_trip() {
        for op in HcnOp::all() {
            assert_eq!(op.to_string().parse::<HcnOp>().unwrap(), op);
        }
        assert_eq!(
            HcnOp::Object(Verb::Query, ObjectKind::Endpoint).to_string(),
            "HcnQueryEndpointProperties"
        );
        assert!("HcnFrobnicate".parse::<HcnOp>().is_err());
    }
}
