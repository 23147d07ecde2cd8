//! `HnsBackend` for the in-process model: JSON in, JSON out, HNS's HRESULTs.

use super::ops::{self, decode_query, id_arg, required_id};
use super::Hns;
use crate::backend::{HcnCall, HcnOp, HnsBackend, Verb};
use crate::document::HnsDocument;
use crate::hresult::HcnResult;
use serde_json::Value;

fn to_json(v: &Value) -> String {
    v.to_string()
}

impl HnsBackend for Hns {
    fn call(&mut self, call: &HcnCall) -> HcnResult<String> {
        match call.op {
            HcnOp::GetServiceVersion => {
                let v = self.version();
                Ok(format!(r#"{{"Major":{},"Minor":{}}}"#, v.major, v.minor))
            }
            HcnOp::RestartService => {
                self.restart_service();
                Ok(String::new())
            }
            HcnOp::Object(verb, kind) => match verb {
                Verb::Enumerate => {
                    let q = decode_query(&call.document)?;
                    let ids = self.enumerate_ids(kind, &q)?;
                    let arr: Vec<Value> = ids.iter().map(|g| Value::String(g.to_string())).collect();
                    Ok(to_json(&Value::Array(arr)))
                }
                Verb::Create => {
                    let id = id_arg(&call.id, kind)?;
                    let id = ops::decode_by_kind_and_create(self, kind, id, &call.document)?;
                    self.document_text(kind, &id)
                }
                Verb::Open => {
                    let id = required_id(&call.id, kind)?;
                    self.open_object(kind, &id)?;
                    Ok(String::new())
                }
                Verb::Modify => {
                    let id = required_id(&call.id, kind)?;
                    super::modify::modify_by_kind(self, kind, &id, &call.document)?;
                    Ok(String::new())
                }
                Verb::Query => {
                    let id = required_id(&call.id, kind)?;
                    let q = decode_query(&call.document)?;
                    Ok(to_json(&self.query_object(kind, &id, &q)?))
                }
                Verb::Delete => {
                    let id = required_id(&call.id, kind)?;
                    self.delete_object(kind, &id)?;
                    Ok(String::new())
                }
            },
        }
    }

    fn describe(&self) -> String {
        format!("sim (HNS {})", self.settings.hns_version)
    }

    fn journal_cursor(&self) -> Option<super::Cursor> {
        Some(Hns::journal_cursor(self))
    }

    fn changes_since(&self, cursor: super::Cursor) -> Option<Vec<super::Change>> {
        Hns::changes_since(self, cursor).map(<[_]>::to_vec)
    }
}

impl Hns {
    /// A create call (`HcnCreateX`) for a caller that holds the document parsed (the scenario
    /// runner): the same checks, errors and state as [`HnsBackend::call`] with the document's
    /// JSON text, without writing the document as text to parse it back here. It answers the
    /// created object as stored: `document::encode_document` of it is the reply `call` would
    /// give, for a caller that may never need the reply as JSON (a scenario's create steps
    /// mostly do not).
    pub fn create_object(
        &mut self,
        kind: crate::backend::ObjectKind,
        id: &str,
        doc: Value,
    ) -> HcnResult<HnsDocument> {
        use crate::backend::ObjectKind as K;
        let id = id_arg(id, kind)?;
        let id = ops::decode_value_by_kind_and_create(self, kind, id, doc)?;
        let object = match kind {
            K::Network => self.networks.get(&id).cloned().map(HnsDocument::Network),
            K::Endpoint => self.endpoints.get(&id).cloned().map(HnsDocument::Endpoint),
            K::Namespace => self.namespaces.get(&id).cloned().map(HnsDocument::Namespace),
            K::LoadBalancer => self
                .load_balancers
                .get(&id)
                .cloned()
                .map(HnsDocument::LoadBalancer),
            K::SdnRoute => self.routes.get(&id).cloned().map(HnsDocument::Route),
        };
        object.ok_or_else(|| ops::not_found(kind, &id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ObjectKind;
    use crate::document::encode_document;

    /// `create_object` and a create through `call`, on two hosts with the same seed: the same
    /// objects, and the object written as JSON is the reply text.
    #[test]
    fn create_object_encodes_to_the_call_reply() {
        let mut by_call = Hns::new(Default::default(), 7);
        let mut by_object = Hns::new(Default::default(), 7);
        let net = r#"{"Name":"n","Type":"NAT","Ipams":[{"Subnets":[{"IpAddressPrefix":"172.20.0.0/16","Routes":[{"NextHop":"172.20.0.1","DestinationPrefix":"0.0.0.0/0"}]}]}],"SchemaVersion":{"Major":2,"Minor":0}}"#;
        let docs = [
            (ObjectKind::Network, net.to_string()),
            (
                ObjectKind::Namespace,
                r#"{"SchemaVersion":{"Major":2,"Minor":0}}"#.to_string(),
            ),
        ];
        let mut net_id = String::new();
        for (kind, doc) in docs {
            let call = HcnCall::new(HcnOp::Object(Verb::Create, kind), "", doc.clone());
            let text = by_call.call(&call).unwrap();
            let object = by_object
                .create_object(kind, "", serde_json::from_str(&doc).unwrap())
                .unwrap();
            assert_eq!(encode_document(&object).to_string(), text);
            if kind == ObjectKind::Network {
                let v: Value = serde_json::from_str(&text).unwrap();
                net_id = v["ID"].as_str().unwrap().to_string();
            }
        }
        let ep = format!(
            r#"{{"Name":"e","HostComputeNetwork":"{net_id}","SchemaVersion":{{"Major":2,"Minor":0}}}}"#
        );
        let call = HcnCall::new(HcnOp::Object(Verb::Create, ObjectKind::Endpoint), "", ep.clone());
        let text = by_call.call(&call).unwrap();
        let object = by_object
            .create_object(ObjectKind::Endpoint, "", serde_json::from_str(&ep).unwrap())
            .unwrap();
        assert_eq!(encode_document(&object).to_string(), text);
        // A refused create is refused the same way.
        let bad = r#"{"Name":"x","HostComputeNetwork":"nope"}"#;
        let call = HcnCall::new(HcnOp::Object(Verb::Create, ObjectKind::Endpoint), "", bad);
        let want = by_call.call(&call).unwrap_err();
        let got = by_object
            .create_object(ObjectKind::Endpoint, "", serde_json::from_str(bad).unwrap())
            .unwrap_err();
        assert_eq!((got.code, got.to_string()), (want.code, want.to_string()));
    }
}
