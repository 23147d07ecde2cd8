use super::common::*;
use super::read::{deserialize_via_read, Obj, ReadDoc, R};
use crate::ids::Guid;
use serde::Serialize;

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

const DISTRIBUTIONS: &[&str] = &["None", "SourceIPProtocol", "SourceIP"];

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LbPortMapping {
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub protocol: u32,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub internal_port: u16,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub external_port: u16,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub distribution_type: u32,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for LbPortMapping {
    const WHAT: &'static str = "a port mapping {Protocol, InternalPort, ExternalPort, …}";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(LbPortMapping {
            protocol: o.protocol(&["Protocol"])?,
            internal_port: o.u16(&["InternalPort"])?,
            external_port: o.u16(&["ExternalPort"])?,
            // A number from hcsshim; names are accepted too.
            distribution_type: o.named_u32(&["DistributionType"], |s| {
                DISTRIBUTIONS
                    .iter()
                    .position(|d| d.eq_ignore_ascii_case(s))
                    .map(|i| i as u32)
            })?,
            flags: o.u32(&["Flags"])?,
            extra: o.rest(),
        })
    }
}

/// HostComputeLoadBalancer.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancer {
    #[serde(rename = "ID")]
    pub id: Guid,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_compute_endpoints: Vec<String>,
    #[serde(rename = "SourceVIP", skip_serializing_if = "String::is_empty")]
    pub source_vip: String,
    #[serde(rename = "FrontendVIPs", skip_serializing_if = "Vec::is_empty")]
    pub frontend_vips: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<LbPortMapping>,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for LoadBalancer {
    const WHAT: &'static str = "a load balancer";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(LoadBalancer {
            id: o.id()?,
            host_compute_endpoints: o.guid_refs(&["HostComputeEndpoints"])?,
            source_vip: o.str(&["SourceVIP"])?,
            frontend_vips: o.strings(&["FrontendVIPs"])?,
            port_mappings: o.list(&["PortMappings"])?,
            flags: o.u32(&["Flags"])?,
            schema_version: o.object(&["SchemaVersion"])?.unwrap_or_default(),
            extra: o.rest(),
        })
    }
}

deserialize_via_read!(LbPortMapping, LoadBalancer);
