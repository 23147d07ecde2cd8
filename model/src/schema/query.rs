use super::common::*;
use super::read::{deserialize_via_read, err, Obj, ReadDoc, R};
use serde::Serialize;
use serde_json::Value;

/// HostComputeQuery: `{SchemaVersion, Flags, Filter}` where `Filter` is a string holding a JSON map.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostComputeQuery {
    pub schema_version: Version,
    /// 0 = standard properties, 1 = detailed.
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub filter: String,
}

impl HostComputeQuery {
    /// hcsshim's default query: schema 2.0, flags 0, no filter.
    pub fn v2() -> Self {
        HostComputeQuery {
            schema_version: Version::V2,
            ..Default::default()
        }
    }
    /// Whether the caller asked for the v1 document shape (schema major 1).
    pub fn wants_v1(&self) -> bool {
        self.schema_version.major == 1
    }
    /// The filter as a flat map (empty filter = match everything).
    pub fn filter_map(&self) -> Result<indexmap::IndexMap<String, Value>, String> {
        if self.filter.trim().is_empty() {
            return Ok(Default::default());
        }
        serde_json::from_str(&self.filter).map_err(|e| format!("Filter is not a JSON object: {e}"))
    }
}

impl ReadDoc for HostComputeQuery {
    const WHAT: &'static str = "a query {SchemaVersion, Flags, Filter}";
    fn read_obj(mut o: Obj) -> R<Self> {
        // Filter is a string holding JSON; an inline object is accepted and re-encoded.
        let filter = match o.take(&["Filter"]) {
            None => String::new(),
            Some((_, Value::String(s))) => s,
            Some((_, v @ Value::Object(_))) => v.to_string(),
            Some((p, v)) => return Err(err(p, "a filter string holding a JSON object", &v)),
        };
        Ok(HostComputeQuery {
            schema_version: o.object(&["SchemaVersion"])?.unwrap_or_default(),
            flags: o.u32(&["Flags"])?,
            filter,
        })
    }
}

/// RequestType of a modify request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RequestType {
    Add,
    Remove,
    Update,
    Refresh,
    Reset,
}

impl RequestType {
    pub const ALL: [RequestType; 5] = [
        RequestType::Add,
        RequestType::Remove,
        RequestType::Update,
        RequestType::Refresh,
        RequestType::Reset,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestType::Add => "Add",
            RequestType::Remove => "Remove",
            RequestType::Update => "Update",
            RequestType::Refresh => "Refresh",
            RequestType::Reset => "Reset",
        }
    }
}

impl RequestType {
    /// A name in any case, or its number in [`RequestType::ALL`] order (numeric forms inferred).
    pub fn from_value(v: &Value) -> Option<RequestType> {
        match v {
            Value::String(s) => RequestType::ALL
                .into_iter()
                .find(|r| r.as_str().eq_ignore_ascii_case(s.trim())),
            Value::Number(n) => n.as_u64().and_then(|i| RequestType::ALL.get(i as usize).copied()),
            _ => None,
        }
    }
}

const REQUEST_TYPES: &str = "one of Add, Remove, Update, Refresh, Reset";

impl<'de> serde::Deserialize<'de> for RequestType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        RequestType::from_value(&v).ok_or_else(|| {
            <D::Error as serde::de::Error>::custom(format!("expected {REQUEST_TYPES}, found {v}"))
        })
    }
}

/// ResourceType names of modify requests (hns-schema.md §4.3).
pub const RESOURCE_TYPES: &[&str] = &[
    "Policy",
    "DNS",
    "Extension",
    "Subnet",
    "IPSubnet",
    "Port",
    "Endpoint",
    "Container",
];

/// The modify envelope shared by networks, endpoints and namespaces (hns-schema.md §4.3).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyRequest {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource_type: String,
    pub request_type: RequestType,
    pub settings: Value,
}

impl ReadDoc for ModifyRequest {
    const WHAT: &'static str = "a modify request {ResourceType, RequestType, Settings}";
    fn read_obj(mut o: Obj) -> R<Self> {
        let request_type = match o.take(&["RequestType"]) {
            None => {
                return Err(super::read::DocError {
                    path: o.path.to_string(),
                    expected: "a modify request with a \"RequestType\"".into(),
                    found: "no RequestType".into(),
                })
            }
            Some((p, v)) => RequestType::from_value(&v).ok_or_else(|| err(p, REQUEST_TYPES, &v))?,
        };
        Ok(ModifyRequest {
            resource_type: o.enum_str(&["ResourceType"], RESOURCE_TYPES)?,
            request_type,
            settings: o.raw(&["Settings"]).unwrap_or(Value::Null),
        })
    }
}

deserialize_via_read!(HostComputeQuery, ModifyRequest);
