use super::common::*;
use super::policy::{NetworkPolicy, SubnetPolicy};
use crate::ids::Guid;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// HCN network types (hns-schema.md §2.2). Matched case-insensitively; unknown names are kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NetworkType {
    Nat,
    Ics,
    Transparent,
    L2Bridge,
    L2Tunnel,
    Overlay,
    Private,
    Internal,
    Mirrored,
    Infiniband,
    ConstrainedIcs,
    Layered,
    Other(String),
}

impl NetworkType {
    /// The canonical HCN spelling.
    pub fn as_str(&self) -> &str {
        match self {
            NetworkType::Nat => "NAT",
            NetworkType::Ics => "ICS",
            NetworkType::Transparent => "Transparent",
            NetworkType::L2Bridge => "L2Bridge",
            NetworkType::L2Tunnel => "L2Tunnel",
            NetworkType::Overlay => "Overlay",
            NetworkType::Private => "Private",
            NetworkType::Internal => "Internal",
            NetworkType::Mirrored => "Mirrored",
            NetworkType::Infiniband => "Infiniband",
            NetworkType::ConstrainedIcs => "ConstrainedICS",
            NetworkType::Layered => "Layered",
            NetworkType::Other(s) => s,
        }
    }

    /// Parse a type name in any case; numbers 0–2 are confirmed, 3–7 follow the schema's list order (inferred).
    pub fn parse(s: &str) -> NetworkType {
        const ALL: [NetworkType; 12] = [
            NetworkType::Nat,
            NetworkType::Ics,
            NetworkType::Transparent,
            NetworkType::L2Bridge,
            NetworkType::L2Tunnel,
            NetworkType::Overlay,
            NetworkType::Private,
            NetworkType::Internal,
            NetworkType::Mirrored,
            NetworkType::Infiniband,
            NetworkType::ConstrainedIcs,
            NetworkType::Layered,
        ];
        if let Ok(n) = s.trim().parse::<usize>() {
            if n < 8 {
                return ALL[n].clone();
            }
        }
        ALL.iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .cloned()
            .unwrap_or_else(|| NetworkType::Other(s.to_string()))
    }
}

impl Serialize for NetworkType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for NetworkType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(NetworkType::parse(&s)),
            Value::Number(n) => Ok(NetworkType::parse(&n.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected a network type name (NAT, ICS, Transparent, L2Bridge, L2Tunnel, Overlay, Private, Internal) or number, found {other}"
            ))),
        }
    }
}

/// NetworkFlags bits (hns-schema.md §2.2).
pub mod network_flags {
    pub const ENABLE_DNS_PROXY: u32 = 1;
    pub const ENABLE_DHCP_SERVER: u32 = 2;
    pub const ENABLE_MIRRORING: u32 = 4;
    pub const ENABLE_NON_PERSISTENT: u32 = 8;
    /// Inferred from a WSL dump (`265` with `IsolateSwitch: true`); unconfirmed.
    pub const ISOLATE_VSWITCH: u32 = 256;
    pub const DISABLE_HOST_PORT: u32 = 1024;
    pub const ENABLE_IOV: u32 = 8192;
}

/// SubnetFlags bits.
pub mod subnet_flags {
    pub const DO_NOT_RESERVE_GATEWAY_ADDRESS: u32 = 1;
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MacRange {
    #[serde(default)]
    pub start_mac_address: String,
    #[serde(default)]
    pub end_mac_address: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MacPool {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<MacRange>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ip_address_prefix: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<SubnetPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    /// `Static` or `Dhcp` (any case).
    #[serde(default, rename = "Type", skip_serializing_if = "String::is_empty")]
    pub ipam_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<Subnet>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// HostComputeNetwork.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    #[serde(rename = "ID", default)]
    pub id: Guid,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `None` means NAT (HNS omits `Type` for NAT networks in v2 output).
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<NetworkType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<NetworkPolicy>,
    #[serde(default)]
    pub mac_pool: MacPool,
    #[serde(default, skip_serializing_if = "Dns::is_empty")]
    pub dns: Dns,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipams: Vec<Ipam>,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Value>,
    #[serde(default)]
    pub schema_version: Version,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Network {
    /// The effective type (absent = NAT).
    pub fn kind(&self) -> NetworkType {
        self.network_type.clone().unwrap_or(NetworkType::Nat)
    }

    pub fn subnets(&self) -> impl Iterator<Item = &Subnet> {
        self.ipams.iter().flat_map(|i| i.subnets.iter())
    }
}
