use super::common::*;
use super::policy::{NetworkPolicy, SubnetPolicy};
use super::read::{deserialize_via_read, err, Obj, ReadDoc, R};
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

/// What a network `Type` may be, for messages.
const NETWORK_TYPE_EXPECTED: &str =
    "a network type name (NAT, ICS, Transparent, L2Bridge, L2Tunnel, Overlay, Private, Internal) or number 0–7";

impl NetworkType {
    /// From JSON: a name in any case (unknown names are kept as `Other`), or a number 0–7.
    fn from_value(v: &Value) -> Option<NetworkType> {
        match v {
            Value::String(s) => Some(NetworkType::parse(s)),
            Value::Number(n) => n
                .as_u64()
                .filter(|i| *i < 8)
                .map(|i| NetworkType::parse(&i.to_string())),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for NetworkType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        NetworkType::from_value(&v)
            .ok_or_else(|| serde::de::Error::custom(format!("expected {NETWORK_TYPE_EXPECTED}, found {v}")))
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

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MacRange {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub start_mac_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub end_mac_address: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for MacRange {
    const WHAT: &'static str = "a MAC range {StartMacAddress, EndMacAddress}";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(MacRange {
            start_mac_address: o.mac(&["StartMacAddress"])?,
            end_mac_address: o.mac(&["EndMacAddress"])?,
            extra: o.rest(),
        })
    }
}

/// `MacPool` — always emitted (Go never omits a struct value; `"MacPool":{}` is normal).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MacPool {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<MacRange>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for MacPool {
    const WHAT: &'static str = "a MacPool {Ranges}";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(MacPool {
            ranges: o.list(&["Ranges"])?,
            extra: o.rest(),
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip_address_prefix: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<SubnetPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for Subnet {
    const WHAT: &'static str = "a subnet {IpAddressPrefix, Routes, Policies}";
    fn read_obj(mut o: Obj) -> R<Self> {
        let ip_address_prefix = match o.take(&["IpAddressPrefix"]) {
            None => String::new(),
            Some((_, Value::String(s))) => s,
            Some((p, v)) => return Err(err(p, "a CIDR prefix string like \"10.0.0.0/24\"", &v)),
        };
        Ok(Subnet {
            ip_address_prefix,
            policies: o.list(&["Policies"])?,
            routes: o.list(&["Routes"])?,
            flags: o.u32(&["Flags"])?,
            extra: o.rest(),
        })
    }
}

pub(crate) const IPAM_TYPES: &[&str] = &["Static", "Dhcp"];

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    /// `Static` or `Dhcp` (any case on input; \[doc2018\] numbers 0, 1).
    #[serde(rename = "Type", skip_serializing_if = "String::is_empty")]
    pub ipam_type: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<Subnet>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for Ipam {
    const WHAT: &'static str = "an Ipam {Type, Subnets}";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(Ipam {
            ipam_type: o.enum_str(&["Type"], IPAM_TYPES)?,
            subnets: o.list(&["Subnets"])?,
            extra: o.rest(),
        })
    }
}

/// HostComputeNetwork.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    #[serde(rename = "ID")]
    pub id: Guid,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `None` means NAT (HNS omits `Type` for NAT networks in v2 output); decoding maps an
    /// explicit `"NAT"` to `None` so documents compare equal however NAT was spelled.
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub network_type: Option<NetworkType>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<NetworkPolicy>,
    pub mac_pool: MacPool,
    #[serde(skip_serializing_if = "Dns::is_empty")]
    pub dns: Dns,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipams: Vec<Ipam>,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Value>,
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

/// A network's `Type`; NAT (explicit or absent) is `None`, as HNS writes it.
pub(crate) fn read_network_type(o: &mut Obj) -> R<Option<NetworkType>> {
    let t = match o.take(&["Type"]) {
        None => return Ok(None),
        Some((_, Value::String(s))) if s.trim().is_empty() => return Ok(None),
        Some((p, v)) => NetworkType::from_value(&v).ok_or_else(|| err(p, NETWORK_TYPE_EXPECTED, &v))?,
    };
    Ok(Some(t).filter(|t| *t != NetworkType::Nat))
}

impl ReadDoc for Network {
    const WHAT: &'static str = "a network";
    /// The v2 shape only. Documents in either shape (v1 keys converted, hns-schema.md §5.8) are
    /// read by the v1 reader, which takes the v1 keys and reads the rest through this.
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(Network {
            id: o.id()?,
            name: o.str(&["Name"])?,
            network_type: read_network_type(&mut o)?,
            policies: o.list(&["Policies"])?,
            mac_pool: o.object(&["MacPool"])?.unwrap_or_default(),
            dns: o.object(&["Dns"])?.unwrap_or_default(),
            ipams: o.list(&["Ipams"])?,
            flags: o.u32(&["Flags"])?,
            health: o.raw(&["Health"]),
            schema_version: o.object(&["SchemaVersion"])?.unwrap_or_default(),
            extra: o.rest(),
        })
    }
}

deserialize_via_read!(MacRange, MacPool, Subnet, Ipam);
