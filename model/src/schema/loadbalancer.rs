use super::common::*;
use crate::ids::Guid;
use serde::{Deserialize, Serialize};

/// LoadBalancerFlags.
pub mod lb_flags {
    pub const DSR: u32 = 1;
    pub const IPV6: u32 = 2;
}

/// LoadBalancerPortMappingFlags.
pub mod lb_port_flags {
    pub const ILB: u32 = 1;
    pub const LOCAL_ROUTED_VIP: u32 = 2;
    pub const USE_MUX: u32 = 4;
    pub const PRESERVE_DIP: u32 = 8;
    /// Defined only by kube-proxy.
    pub const VIP_EXTERNAL_IP: u32 = 16;
}

/// LoadBalancerDistribution.
pub mod lb_distribution {
    pub const NONE: u32 = 0;
    pub const SOURCE_IP_PROTOCOL: u32 = 1;
    pub const SOURCE_IP: u32 = 2;
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LbPortMapping {
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub protocol: u32,
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub internal_port: u16,
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub external_port: u16,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub distribution_type: u32,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

/// HostComputeLoadBalancer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancer {
    #[serde(rename = "ID", default)]
    pub id: Guid,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_compute_endpoints: Vec<String>,
    #[serde(rename = "SourceVIP", default, skip_serializing_if = "String::is_empty")]
    pub source_vip: String,
    #[serde(rename = "FrontendVIPs", default, skip_serializing_if = "Vec::is_empty")]
    pub frontend_vips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<LbPortMapping>,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(default)]
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}
