//! The node components' view of HNS: one [`Hcn`] per node wraps any [`HnsBackend`], sends JSON
//! documents as the components' Go libraries do (hcsshim/hnslib `hcn`), and keeps a journal of
//! every call with the component that made it (what `hnsim k8s render` prints).

use hnsim_model::backend::{HcnCall, HcnOp, ObjectKind, Verb};
use hnsim_model::state::{Change, Cursor};
use hnsim_model::{HcnError, HnsBackend};
use serde_json::{json, Value as Json};

/// Who made a call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    /// flannel (or the network plugin that owns the HNS network).
    NetworkPlugin,
    /// The CNI plugin, per pod.
    Cni,
    /// kube-proxy winkernel.
    KubeProxy,
}

impl Component {
    pub fn name(self) -> &'static str {
        match self {
            Component::NetworkPlugin => "network-plugin",
            Component::Cni => "cni",
            Component::KubeProxy => "kube-proxy",
        }
    }
}

/// One call made, with its outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Journaled {
    pub component: Component,
    pub op: HcnOp,
    pub id: String,
    pub document: String,
    /// `Ok(reply)` or `Err((hresult, message))`.
    pub result: Result<String, (u32, String)>,
}

impl Journaled {
    /// Creates, modifies and deletes: the calls that change HNS.
    pub fn is_change(&self) -> bool {
        matches!(
            self.op,
            HcnOp::Object(Verb::Create | Verb::Modify | Verb::Delete, _)
        )
    }
}

/// A backend with a journal. `journal: false` (the benches) keeps no copies of documents.
pub struct Hcn<'a> {
    backend: &'a mut dyn HnsBackend,
    pub journal: Option<Vec<Journaled>>,
    pub component: Component,
    /// Calls made, journalled or not.
    pub calls: u64,
}

/// The schema version every v2 document carries.
pub fn v2() -> Json {
    json!({"Major": 2, "Minor": 0})
}

impl<'a> Hcn<'a> {
    pub fn new(backend: &'a mut dyn HnsBackend, journal: bool) -> Self {
        Hcn {
            backend,
            journal: journal.then(Vec::new),
            component: Component::NetworkPlugin,
            calls: 0,
        }
    }

    pub fn call(&mut self, op: HcnOp, id: &str, doc: &str) -> Result<String, HcnError> {
        self.calls += 1;
        let r = self.backend.call(&HcnCall::new(op, id, doc));
        if let Some(j) = &mut self.journal {
            j.push(Journaled {
                component: self.component,
                op,
                id: id.to_string(),
                document: doc.to_string(),
                result: r.clone().map_err(|e| (e.code.0, e.message)),
            });
        }
        r
    }

    /// Create an object; the new object's ID.
    pub fn create(&mut self, kind: ObjectKind, doc: &Json) -> Result<String, HcnError> {
        let reply = self.call(HcnOp::Object(Verb::Create, kind), "", &doc.to_string())?;
        Ok(reply_id(&reply))
    }

    pub fn delete(&mut self, kind: ObjectKind, id: &str) -> Result<(), HcnError> {
        self.call(HcnOp::Object(Verb::Delete, kind), id, "").map(|_| ())
    }

    pub fn modify(&mut self, kind: ObjectKind, id: &str, doc: &Json) -> Result<(), HcnError> {
        self.call(HcnOp::Object(Verb::Modify, kind), id, &doc.to_string())
            .map(|_| ())
    }

    pub fn query(&mut self, kind: ObjectKind, id: &str) -> Result<Json, HcnError> {
        let q = json!({"SchemaVersion": v2()}).to_string();
        let r = self.call(HcnOp::Object(Verb::Query, kind), id, &q)?;
        Ok(serde_json::from_str(&r).unwrap_or(Json::Null))
    }

    /// Enumerate with an optional filter, then query each object (what hcsshim's `List…Query`
    /// does: HcnEnumerate…, then open and query every ID).
    pub fn list(&mut self, kind: ObjectKind, filter: Option<Json>) -> Result<Vec<Json>, HcnError> {
        let mut q = json!({"SchemaVersion": v2()});
        if let Some(f) = filter {
            q["Filter"] = Json::String(f.to_string());
        }
        let r = self.call(HcnOp::Object(Verb::Enumerate, kind), "", &q.to_string())?;
        let ids: Vec<String> = serde_json::from_str(&r).unwrap_or_default();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Ok(v) = self.query(kind, &id) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// The backend's change-journal position, if it keeps a journal (see
    /// `proxy/inventory.rs`). Not an HCN call: nothing is journalled or counted.
    pub fn journal_cursor(&self) -> Option<Cursor> {
        self.backend.journal_cursor()
    }

    /// The objects changed since `cursor`, or `None` when the backend cannot say.
    pub fn changes_since(&self, cursor: Cursor) -> Option<Vec<Change>> {
        self.backend.changes_since(cursor)
    }

    /// The network named `name` (`GetNetworkByName`).
    pub fn network_by_name(&mut self, name: &str) -> Result<Option<Json>, HcnError> {
        let nets = self.list(ObjectKind::Network, Some(json!({ "Name": name })))?;
        Ok(nets.into_iter().next())
    }

    /// The HNS service version (`Major.Minor`).
    pub fn version(&mut self) -> (u32, u32) {
        let r = self
            .call(HcnOp::GetServiceVersion, "", "")
            .ok()
            .and_then(|s| serde_json::from_str::<Json>(&s).ok())
            .unwrap_or(Json::Null);
        let n = |k: &str| r.get(k).and_then(Json::as_u64).unwrap_or(0) as u32;
        (n("Major"), n("Minor"))
    }
}

/// The `ID` of a create reply.
pub fn reply_id(reply: &str) -> String {
    serde_json::from_str::<Json>(reply)
        .ok()
        .and_then(|v| v.get("ID").and_then(Json::as_str).map(str::to_string))
        .unwrap_or_default()
}

/// The addresses of an endpoint document.
pub fn endpoint_ips(ep: &Json) -> Vec<String> {
    ep.get("IpConfigurations")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("IpAddress").and_then(Json::as_str))
        .map(str::to_string)
        .collect()
}

/// The policies of a network or endpoint document of type `ty`, as their `Settings`.
pub fn policies<'j>(doc: &'j Json, ty: &'j str) -> impl Iterator<Item = &'j Json> + 'j {
    doc.get("Policies")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(move |p| p.get("Type").and_then(Json::as_str) == Some(ty))
        .map(|p| p.get("Settings").unwrap_or(&Json::Null))
}

pub fn str_field<'j>(doc: &'j Json, key: &str) -> &'j str {
    doc.get(key).and_then(Json::as_str).unwrap_or("")
}
