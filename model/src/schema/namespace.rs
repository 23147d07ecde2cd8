use super::common::*;
use crate::ids::Guid;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Namespace types; [doc2018] numbers them 0–3.
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

impl<'de> Deserialize<'de> for NamespaceType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let s = match &v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        NamespaceType::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a namespace type (Host, HostDefault, Guest, GuestDefault), found {v}"
            ))
        })
    }
}

/// A namespace resource: `{"Type":"Endpoint"|"Container","Data":{"ID":…}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NamespaceResource {
    #[serde(rename = "Type", default)]
    pub resource_type: String,
    #[serde(default)]
    pub data: Value,
}

/// HostComputeNamespace: a network compartment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Namespace {
    #[serde(rename = "ID", default)]
    pub id: Guid,
    /// The compartment number.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub namespace_id: u32,
    /// May be omitted (hcsshim creates process-container namespaces with no type).
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub namespace_type: Option<NamespaceType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<NamespaceResource>,
    #[serde(default)]
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}
