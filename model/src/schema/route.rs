use super::common::*;
use super::policy::SdnRoutePolicy;
use crate::ids::Guid;
use serde::{Deserialize, Serialize};

/// HostComputeRoute (an SDN route object). hcsshim marshals the list as `Setting`; the published
/// schema and Microsoft's PowerShell use `Routes`. Both are accepted; output uses `Routes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SdnRoute {
    #[serde(rename = "ID", default)]
    pub id: Guid,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_compute_endpoints: Vec<String>,
    #[serde(default, alias = "Setting", skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SdnRoutePolicy>,
    #[serde(default)]
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}
