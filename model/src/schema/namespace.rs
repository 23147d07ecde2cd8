use super::common::*;
use super::read::{deserialize_via_read, err, Obj, ReadDoc, R};
use crate::ids::Guid;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Namespace types; \[doc2018\] numbers them 0–3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NamespaceType {
    Host,
    HostDefault,
    Guest,
    GuestDefault,
}

impl NamespaceType {
    pub fn as_str(&self) -> &'static str {
        match self {
            NamespaceType::Host => "Host",
            NamespaceType::HostDefault => "HostDefault",
            NamespaceType::Guest => "Guest",
            NamespaceType::GuestDefault => "GuestDefault",
        }
    }
    pub fn parse(s: &str) -> Option<NamespaceType> {
        let all = [
            NamespaceType::Host,
            NamespaceType::HostDefault,
            NamespaceType::Guest,
            NamespaceType::GuestDefault,
        ];
        if let Ok(n) = s.trim().parse::<usize>() {
            return all.get(n).copied();
        }
        all.into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
    pub fn is_default(&self) -> bool {
        matches!(self, NamespaceType::HostDefault | NamespaceType::GuestDefault)
    }
    pub fn is_guest(&self) -> bool {
        matches!(self, NamespaceType::Guest | NamespaceType::GuestDefault)
    }
}

impl Serialize for NamespaceType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a namespace `Type` may be, for messages.
const NAMESPACE_TYPE_EXPECTED: &str = "a namespace type (Host, HostDefault, Guest, GuestDefault, or 0-3)";

impl NamespaceType {
    /// From JSON: a name in any case, or a number 0–3.
    fn from_value(v: &Value) -> Option<NamespaceType> {
        match v {
            Value::String(s) => NamespaceType::parse(s),
            Value::Number(n) => NamespaceType::parse(&n.to_string()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for NamespaceType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        NamespaceType::from_value(&v)
            .ok_or_else(|| serde::de::Error::custom(format!("expected {NAMESPACE_TYPE_EXPECTED}, found {v}")))
    }
}

/// A namespace resource: `{"Type":"Endpoint"|"Container","Data":{"ID":…}}`. v1's `Data.Id` is
/// read as `ID` (\[doc2018\] numbers the types Container 0, Endpoint 1).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NamespaceResource {
    #[serde(rename = "Type")]
    pub resource_type: String,
    pub data: Value,
}

impl NamespaceResource {
    /// The `Data.ID` of the resource (endpoint GUID or container id).
    pub fn id(&self) -> Option<&str> {
        self.data.get("ID").and_then(Value::as_str)
    }
}

impl ReadDoc for NamespaceResource {
    const WHAT: &'static str = "a namespace resource {Type, Data}";
    fn read_obj(mut o: Obj) -> R<Self> {
        let resource_type = o.enum_str(&["Type"], &["Container", "Endpoint"])?;
        let mut data = o.raw(&["Data"]).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut data {
            if !m.contains_key("ID") {
                if let Some(k) = m.keys().find(|k| k.eq_ignore_ascii_case("id")).cloned() {
                    if let Some(v) = m.shift_remove(&k) {
                        m.insert("ID".into(), v);
                    }
                }
            }
            if resource_type == "Endpoint" {
                if let Some(Value::String(s)) = m.get_mut("ID") {
                    *s = super::read::canon_guid_owned(std::mem::take(s));
                }
            }
        }
        Ok(NamespaceResource { resource_type, data })
    }
}

/// HostComputeNamespace: a network compartment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Namespace {
    #[serde(rename = "ID")]
    pub id: Guid,
    /// The compartment number.
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub namespace_id: u32,
    /// May be omitted (hcsshim creates process-container namespaces with no type).
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub namespace_type: Option<NamespaceType>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<NamespaceResource>,
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Namespace {
    /// GUIDs of the endpoints in `Resources`.
    pub fn endpoint_ids(&self) -> Vec<&str> {
        self.resources
            .iter()
            .filter(|r| r.resource_type == "Endpoint")
            .filter_map(|r| r.id())
            .collect()
    }
}

pub(crate) fn read_namespace_type(o: &mut Obj) -> R<Option<NamespaceType>> {
    match o.take(&["Type"]) {
        None => Ok(None),
        Some((_, Value::String(s))) if s.trim().is_empty() => Ok(None),
        Some((p, v)) => NamespaceType::from_value(&v)
            .map(Some)
            .ok_or_else(|| err(p, NAMESPACE_TYPE_EXPECTED, &v)),
    }
}

impl ReadDoc for Namespace {
    const WHAT: &'static str = "a namespace";
    /// The v2 shape only. Documents in either shape (v1 keys converted, hns-schema.md §5.8) are
    /// read by the v1 reader, which takes the v1 keys and reads the rest through this.
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(Namespace {
            id: o.id()?,
            namespace_id: o.u32(&["NamespaceId"])?,
            namespace_type: read_namespace_type(&mut o)?,
            resources: o.list(&["Resources"])?,
            schema_version: o.object(&["SchemaVersion"])?.unwrap_or_default(),
            extra: o.rest(),
        })
    }
}

deserialize_via_read!(NamespaceResource);
