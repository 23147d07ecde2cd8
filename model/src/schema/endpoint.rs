use super::common::*;
use super::policy::EndpointPolicy;
use crate::ids::Guid;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// EndpointFlags bits (hns-schema.md §2.3).
pub mod endpoint_flags {
    pub const REMOTE_ENDPOINT: u32 = 1;
    pub const DISABLE_ICC: u32 = 2;
    pub const ENABLE_MIRRORING: u32 = 4;
    pub const ENABLE_LOW_INTERFACE_METRIC: u32 = 8;
    pub const OVERRIDE_DNS_SERVER_ORDER: u32 = 16;
    pub const ENABLE_DHCP: u32 = 32;
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpConfig {
    #[serde(default)]
    pub ip_address: String,
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub prefix_length: u8,
    #[serde(flatten)]
    pub extra: Extra,
}

/// HostComputeEndpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    #[serde(rename = "ID", default)]
    pub id: Guid,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Network GUID (a string as callers send it; the state machine resolves it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_compute_network: String,
    /// Read-only: filled by HNS after a namespace attach.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_compute_namespace: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<EndpointPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_configurations: Vec<IpConfig>,
    #[serde(default, skip_serializing_if = "Dns::is_empty")]
    pub dns: Dns,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Value>,
    #[serde(default)]
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Endpoint {
    pub fn is_remote(&self) -> bool {
        self.flags & endpoint_flags::REMOTE_ENDPOINT != 0
    }
}
