//! Endpoint, network and subnet policies (hns-schema.md §3). v2 policies are
//! `{"Type": "<name>", "Settings": {…}}`; the type name matches in any case and unknown types are
//! kept verbatim so a document round-trips.

use super::common::*;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// NatFlags of PortMapping / OutBoundNAT.
pub mod nat_flags {
    pub const LOCAL_ROUTED_VIP: u32 = 1;
    pub const IPV6: u32 = 2;
    pub const EXTERNAL_PORT_RESERVED: u32 = 4;
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortMappingPolicy {
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub protocol: u32,
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub internal_port: u16,
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub external_port: u16,
    #[serde(rename = "VIP", default, skip_serializing_if = "String::is_empty")]
    pub vip: String,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AclPolicy {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Protocol numbers as a string (`"6"`, `"6,17"`); 256 = any (Calico).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocols: String,
    /// `Allow`, `Block`, `Pass`.
    #[serde(default)]
    pub action: String,
    /// `In` (to the endpoint) or `Out`.
    #[serde(default)]
    pub direction: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub local_addresses: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remote_addresses: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub local_ports: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remote_ports: String,
    /// `Host` (WFP) or `Switch` (VFP).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rule_type: String,
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub priority: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QosPolicy {
    #[serde(default)]
    pub maximum_outgoing_bandwidth_in_bytes: u64,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutboundNatPolicy {
    #[serde(rename = "VirtualIP", default, skip_serializing_if = "String::is_empty")]
    pub virtual_ip: String,
    /// CIDRs/IPs not SNATed. v1 and some clients spell it `ExceptionList`.
    #[serde(default, alias = "ExceptionList", skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
    /// When set, SNAT only toward these (loopback DSR uses the pod's own IP).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub max_port_pool_usage: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SdnRoutePolicy {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub destination_prefix: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub next_hop: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub need_encap: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub automatic_endpoint_monitor: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct L4ProxyPolicy {
    #[serde(rename = "IP", default, skip_serializing_if = "String::is_empty")]
    pub ip: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub port: String,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub protocol: u32,
    #[serde(default, alias = "ExceptionList", skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
    #[serde(default)]
    pub destination: String,
    #[serde(
        rename = "OutboundNAT",
        default,
        alias = "OutboundNat",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub outbound_nat: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortNamePolicy {
    #[serde(default)]
    pub name: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncapOverheadPolicy {
    #[serde(default)]
    pub overhead: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderAddressPolicy {
    #[serde(default)]
    pub provider_address: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoteSubnetRoutePolicy {
    #[serde(default)]
    pub destination_prefix: String,
    #[serde(default)]
    pub isolation_id: u32,
    #[serde(default)]
    pub provider_address: String,
    #[serde(default)]
    pub distributed_router_mac_address: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VxlanPortPolicy {
    #[serde(default)]
    pub port: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IsolationIdPolicy {
    #[serde(default)]
    pub isolation_id: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An endpoint policy. Settings types without simulation semantics are kept as raw JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum EndpointPolicy {
    PortMapping(PortMappingPolicy),
    Acl(AclPolicy),
    Qos(QosPolicy),
    L2Driver(Value),
    OutBoundNat(OutboundNatPolicy),
    SdnRoute(SdnRoutePolicy),
    L4Proxy(L4ProxyPolicy),
    L4WfpProxy(Value),
    PortName(PortNamePolicy),
    EncapOverhead(EncapOverheadPolicy),
    Iov(Value),
    ProviderAddress(ProviderAddressPolicy),
    InterfaceConstraint(Value),
    TierAcl(Value),
    Encryption(Value),
    Vlan(Value),
    InterfaceParameters(Value),
    /// A type this model does not know: kept as it came.
    Unknown {
        type_name: String,
        settings: Value,
    },
}

/// A network policy.
#[derive(Clone, Debug, PartialEq)]
pub enum NetworkPolicy {
    SourceMacAddress(Value),
    NetAdapterName(Value),
    VSwitchExtension(Value),
    DrMacAddress(Value),
    AutomaticDns(Value),
    InterfaceConstraint(Value),
    ProviderAddress(ProviderAddressPolicy),
    RemoteSubnetRoute(RemoteSubnetRoutePolicy),
    VxlanPort(VxlanPortPolicy),
    HostRoute(Value),
    SetPolicy(Value),
    L4Proxy(L4ProxyPolicy),
    LayerConstraint(Value),
    NetworkAcl(AclPolicy),
    NeighborDiscovery(Value),
    Unknown { type_name: String, settings: Value },
}

/// A subnet policy.
#[derive(Clone, Debug, PartialEq)]
pub enum SubnetPolicy {
    Vlan(IsolationIdPolicy),
    Vsid(IsolationIdPolicy),
    Unknown { type_name: String, settings: Value },
}

/// Split `{Type, Settings}` (also the stale `Data`, or flat v1-style fields) into its parts.
fn split_policy(v: Value) -> Result<(String, Value), String> {
    let Value::Object(mut m) = v else {
        return Err(format!(
            "expected a policy object {{\"Type\":…,\"Settings\":…}}, found {v}"
        ));
    };
    let key = m.keys().find(|k| k.eq_ignore_ascii_case("Type")).cloned();
    let type_name = match key.and_then(|k| m.shift_remove(&k)) {
        Some(Value::String(s)) => s,
        Some(other) => return Err(format!("expected policy Type to be a string, found {other}")),
        None => return Err("policy has no Type".to_string()),
    };
    let skey = m
        .keys()
        .find(|k| k.eq_ignore_ascii_case("Settings") || k.eq_ignore_ascii_case("Data"))
        .cloned();
    let settings = match skey {
        Some(k) => m.shift_remove(&k).unwrap_or(Value::Null),
        // Flat v1-style policy: the remaining fields are the settings.
        None if !m.is_empty() => Value::Object(m),
        None => Value::Null,
    };
    Ok((type_name, settings))
}

fn typed<T: for<'de> Deserialize<'de>>(type_name: &str, settings: Value) -> Result<T, String> {
    let settings = if settings.is_null() {
        Value::Object(Map::new())
    } else {
        settings
    };
    serde_json::from_value(settings).map_err(|e| format!("{type_name} Settings: {e}"))
}

fn join_policy<S: Serializer, T: Serialize>(s: S, type_name: &str, settings: &T) -> Result<S::Ok, S::Error> {
    let settings = serde_json::to_value(settings).map_err(serde::ser::Error::custom)?;
    let mut m = Map::new();
    m.insert("Type".into(), Value::String(type_name.into()));
    let empty = match &settings {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if !empty {
        m.insert("Settings".into(), settings);
    }
    Value::Object(m).serialize(s)
}

macro_rules! policy_enum {
    ($enum:ident { $($variant:ident => $name:literal $(| $alias:literal)*),* $(,)? }) => {
        impl $enum {
            /// The canonical HCN type name.
            pub fn type_name(&self) -> &str {
                match self {
                    $($enum::$variant(_) => $name,)*
                    $enum::Unknown { type_name, .. } => type_name,
                }
            }

            /// Build from a type name (any case, v1 aliases too) and its settings.
            pub fn from_parts(type_name: &str, settings: Value) -> Result<Self, String> {
                $(
                    if type_name.eq_ignore_ascii_case($name) $(|| type_name.eq_ignore_ascii_case($alias))* {
                        return Ok($enum::$variant(typed(type_name, settings)?));
                    }
                )*
                Ok($enum::Unknown { type_name: type_name.to_string(), settings })
            }
        }

        impl Serialize for $enum {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $($enum::$variant(v) => join_policy(s, $name, v),)*
                    $enum::Unknown { type_name, settings } => join_policy(s, type_name, settings),
                }
            }
        }

        impl<'de> Deserialize<'de> for $enum {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = Value::deserialize(d)?;
                let (t, settings) = split_policy(v).map_err(D::Error::custom)?;
                $enum::from_parts(&t, settings).map_err(D::Error::custom)
            }
        }
    };
}

policy_enum!(EndpointPolicy {
    PortMapping => "PortMapping" | "NAT",
    Acl => "ACL",
    Qos => "QOS",
    L2Driver => "L2Driver",
    OutBoundNat => "OutBoundNAT",
    SdnRoute => "SDNRoute" | "ROUTE",
    L4Proxy => "L4Proxy" | "PROXY",
    L4WfpProxy => "L4WFPPROXY",
    PortName => "PortName",
    EncapOverhead => "EncapOverhead",
    Iov => "Iov",
    ProviderAddress => "ProviderAddress",
    InterfaceConstraint => "InterfaceConstraint",
    TierAcl => "TierAcl",
    Encryption => "Encryption",
    Vlan => "VLAN",
    InterfaceParameters => "InterfaceParameters",
});

policy_enum!(NetworkPolicy {
    SourceMacAddress => "SourceMacAddress",
    NetAdapterName => "NetAdapterName",
    VSwitchExtension => "VSwitchExtension",
    DrMacAddress => "DrMacAddress",
    AutomaticDns => "AutomaticDNS",
    InterfaceConstraint => "InterfaceConstraint",
    ProviderAddress => "ProviderAddress",
    RemoteSubnetRoute => "RemoteSubnetRoute",
    VxlanPort => "VxlanPort",
    HostRoute => "HostRoute",
    SetPolicy => "SetPolicy",
    L4Proxy => "L4Proxy",
    LayerConstraint => "LayerConstraint",
    NetworkAcl => "NetworkACL",
    NeighborDiscovery => "NeighborDiscovery",
});

policy_enum!(SubnetPolicy {
    Vlan => "VLAN",
    Vsid => "VSID",
});
