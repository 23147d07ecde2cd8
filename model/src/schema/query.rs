use super::common::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// HostComputeQuery: `{SchemaVersion, Flags, Filter}` where `Filter` is a string holding a JSON map.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostComputeQuery {
    #[serde(default)]
    pub schema_version: Version,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub filter: String,
}

impl HostComputeQuery {
    pub fn v2() -> Self {
        HostComputeQuery {
            schema_version: Version::V2,
            ..Default::default()
        }
    }
    /// The filter as a flat map (empty filter = match everything).
    pub fn filter_map(&self) -> Result<indexmap::IndexMap<String, Value>, String> {
        if self.filter.trim().is_empty() {
            return Ok(Default::default());
        }
        serde_json::from_str(&self.filter).map_err(|e| format!("Filter is not a JSON object: {e}"))
    }
}

/// RequestType of a modify request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestType {
    Add,
    Remove,
    Update,
    Refresh,
    Reset,
}

/// The modify envelope shared by networks, endpoints and namespaces (hns-schema.md §4.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyRequest {
    #[serde(default)]
    pub resource_type: String,
    pub request_type: RequestType,
    #[serde(default)]
    pub settings: Value,
}
