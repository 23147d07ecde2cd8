use super::common::*;
use super::policy::SdnRoutePolicy;
use super::read::{deserialize_via_read, Obj, ReadDoc, R};
use crate::ids::Guid;
use serde::Serialize;

/// HostComputeRoute (an SDN route object). hcsshim marshals the list as `Setting`; the published
/// schema and Microsoft's PowerShell use `Routes` (hns-schema.md §2.6). Both are accepted; output
/// uses `Routes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SdnRoute {
    #[serde(rename = "ID")]
    pub id: Guid,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_compute_endpoints: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SdnRoutePolicy>,
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for SdnRoute {
    const WHAT: &'static str = "an SDN route";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(SdnRoute {
            id: o.id()?,
            host_compute_endpoints: o.guid_refs(&["HostComputeEndpoints"])?,
            routes: o.list(&["Routes", "Setting"])?,
            schema_version: o.object(&["SchemaVersion"])?.unwrap_or_default(),
            extra: o.rest(),
        })
    }
}

deserialize_via_read!(SdnRoute);
