//! `HnsBackend` for the in-process model: JSON in, JSON out, HNS's HRESULTs.

use super::ops::{self, decode_query, id_arg, required_id};
use super::Hns;
use crate::backend::{HcnCall, HcnOp, HnsBackend, Verb};
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
    /// JSON text, and the reply document as a value, without writing the document as text and
    /// parsing it back here, nor the reply there.
    pub fn create_value(
        &mut self,
        kind: crate::backend::ObjectKind,
        id: &str,
        doc: Value,
    ) -> HcnResult<Value> {
        let id = id_arg(id, kind)?;
        let id = ops::decode_value_by_kind_and_create(self, kind, id, doc)?;
        self.document(kind, &id)
    }
}
