use super::common::*;
use super::policy::EndpointPolicy;
use super::read::{deserialize_via_read, Obj, ReadDoc, R};
use crate::ids::Guid;
use serde::Serialize;
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

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip_address: String,
    #[serde(skip_serializing_if = "is_zero_u8")]
    pub prefix_length: u8,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for IpConfig {
    const WHAT: &'static str = "an IP configuration {IpAddress, PrefixLength}";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(IpConfig {
            ip_address: o.str(&["IpAddress"])?,
            prefix_length: o.uint(&["PrefixLength"], 128)? as u8,
            extra: o.rest(),
        })
    }
}

/// HostComputeEndpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    #[serde(rename = "ID")]
    pub id: Guid,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Network GUID (a string as callers send it, upper-cased when it parses; the state machine
    /// resolves it).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host_compute_network: String,
    /// Read-only: filled by HNS after a namespace attach.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host_compute_namespace: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<EndpointPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_configurations: Vec<IpConfig>,
    #[serde(skip_serializing_if = "Dns::is_empty")]
    pub dns: Dns,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// Dash form (`00-15-5D-…`) when it parses.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Value>,
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Endpoint {
    pub fn is_remote(&self) -> bool {
        self.flags & endpoint_flags::REMOTE_ENDPOINT != 0
    }
}

impl ReadDoc for Endpoint {
    const WHAT: &'static str = "an endpoint";
    /// The v2 shape only. Documents in either shape (v1 keys converted, hns-schema.md §5.8) are
    /// read by the v1 reader, which takes the v1 keys and reads the rest through this.
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(Endpoint {
            id: o.id()?,
            name: o.str(&["Name"])?,
            host_compute_network: o.guid_ref(&["HostComputeNetwork"])?,
            host_compute_namespace: o.guid_ref(&["HostComputeNamespace"])?,
            policies: o.list(&["Policies"])?,
            ip_configurations: o.list(&["IpConfigurations"])?,
            dns: o.object(&["Dns"])?.unwrap_or_default(),
            routes: o.list(&["Routes"])?,
            mac_address: o.mac(&["MacAddress"])?,
            flags: o.u32(&["Flags"])?,
            health: o.raw(&["Health"]),
            schema_version: o.object(&["SchemaVersion"])?.unwrap_or_default(),
            extra: o.rest(),
        })
    }
}

deserialize_via_read!(IpConfig);
