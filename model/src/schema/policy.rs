//! Endpoint, network and subnet policies (hns-schema.md §3). v2 policies are
//! `{"Type": "<name>", "Settings": {…}}`; the type name matches in any case, the flat v1 forms
//! (`{"Type":"PA","PA":…}`, `{"Type":"VSID","VSID":…}`, §5.5) are read into the same settings, and
//! unknown types are kept verbatim so a document round-trips. Which fields are always emitted
//! follows hcsshim's `omitempty` tags (`hcn/hcnpolicy.go`).

use super::common::*;
use super::read::{self, deserialize_via_read, err, Obj, ReadDoc, R};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// NatFlags of PortMapping / OutBoundNAT.
pub mod nat_flags {
    pub const LOCAL_ROUTED_VIP: u32 = 1;
    pub const IPV6: u32 = 2;
    /// From \[sdn\]; v1 `NAT` policies say `ExternalPortReserved: true`.
    pub const EXTERNAL_PORT_RESERVED: u32 = 4;
}

/// `PortMapping` (v1 `NAT`): inbound NAT of a host port to the endpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortMappingPolicy {
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub protocol: u32,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub internal_port: u16,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub external_port: u16,
    #[serde(rename = "VIP", skip_serializing_if = "String::is_empty")]
    pub vip: String,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for PortMappingPolicy {
    const WHAT: &'static str = "PortMapping settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        let mut p = PortMappingPolicy {
            protocol: o.protocol(&["Protocol"])?,
            internal_port: o.u16(&["InternalPort"])?,
            external_port: o.u16(&["ExternalPort"])?,
            vip: o.str(&["VIP"])?,
            flags: o.u32(&["Flags"])?,
            extra: Extra::new(),
        };
        // v1 NAT policy flag (§5.8).
        if o.bool(&["ExternalPortReserved"])? {
            p.flags |= nat_flags::EXTERNAL_PORT_RESERVED;
        }
        p.extra = o.rest();
        Ok(p)
    }
}

/// `ACL` endpoint policy and `NetworkACL` network policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AclPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Protocol numbers as a string (`"6"`, `"6,17"`); 256 = any (Calico). Names are converted.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protocols: String,
    /// `Allow`, `Block`, `Pass`. Always emitted.
    pub action: String,
    /// `In` (to the endpoint) or `Out`. Always emitted.
    pub direction: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub local_addresses: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_addresses: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub local_ports: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_ports: String,
    /// `Host` (WFP) or `Switch` (VFP).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rule_type: String,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub priority: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

pub(crate) const ACTIONS: &[&str] = &["Allow", "Block", "Pass"];
pub(crate) const DIRECTIONS: &[&str] = &["In", "Out"];
pub(crate) const RULE_TYPES: &[&str] = &["Host", "Switch"];

impl ReadDoc for AclPolicy {
    const WHAT: &'static str = "ACL settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        let mut p = AclPolicy {
            id: o.str(&["Id"])?,
            protocols: read::protocol_list(&o.str_or_num(&["Protocols"])?),
            action: o.enum_str(&["Action"], ACTIONS)?,
            direction: o.enum_str(&["Direction"], DIRECTIONS)?,
            local_addresses: o.str(&["LocalAddresses"])?,
            remote_addresses: o.str(&["RemoteAddresses"])?,
            local_ports: o.str_or_num(&["LocalPorts"])?,
            remote_ports: o.str_or_num(&["RemotePorts"])?,
            rule_type: o.enum_str(&["RuleType"], RULE_TYPES)?,
            priority: o.u16(&["Priority"])?,
            extra: Extra::new(),
        };
        // The v1 single-valued forms (§5.5) fold into the v2 lists when those are absent.
        if p.protocols.is_empty() && o.has(&["Protocol"]) {
            let n = o.protocol(&["Protocol"])?;
            if n != 0 {
                p.protocols = n.to_string();
            }
        }
        if p.local_ports.is_empty() && o.has(&["LocalPort"]) {
            let n = o.u16(&["LocalPort"])?;
            if n != 0 {
                p.local_ports = n.to_string();
            }
        }
        if p.remote_ports.is_empty() && o.has(&["RemotePort"]) {
            let n = o.u16(&["RemotePort"])?;
            if n != 0 {
                p.remote_ports = n.to_string();
            }
        }
        p.extra = o.rest();
        Ok(p)
    }
}

/// `QOS`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QosPolicy {
    pub maximum_outgoing_bandwidth_in_bytes: u64,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for QosPolicy {
    const WHAT: &'static str = "QOS settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(QosPolicy {
            maximum_outgoing_bandwidth_in_bytes: o.u64(&["MaximumOutgoingBandwidthInBytes"])?,
            extra: o.rest(),
        })
    }
}

/// `OutBoundNAT` (v1 `OutBoundNAT` with `VIP` / `ExceptionList`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutboundNatPolicy {
    #[serde(rename = "VirtualIP", skip_serializing_if = "String::is_empty")]
    pub virtual_ip: String,
    /// CIDRs/IPs not SNATed. v1 and some clients spell it `ExceptionList`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
    /// When set, SNAT only toward these (loopback DSR uses the pod's own IP).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<String>,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub max_port_pool_usage: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for OutboundNatPolicy {
    const WHAT: &'static str = "OutBoundNAT settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(OutboundNatPolicy {
            virtual_ip: o.str(&["VirtualIP", "VIP"])?,
            exceptions: o.strings(&["Exceptions", "ExceptionList"])?,
            destinations: o.strings(&["Destinations"])?,
            flags: o.u32(&["Flags"])?,
            max_port_pool_usage: o.u16(&["MaxPortPoolUsage"])?,
            extra: o.rest(),
        })
    }
}

/// `SDNRoute` endpoint policy (v1 `ROUTE`); also one entry of a HostComputeRoute.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SdnRoutePolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub destination_prefix: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub next_hop: String,
    #[serde(skip_serializing_if = "is_false")]
    pub need_encap: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub automatic_endpoint_monitor: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for SdnRoutePolicy {
    const WHAT: &'static str = "SDNRoute settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(SdnRoutePolicy {
            destination_prefix: o.str(&["DestinationPrefix"])?,
            next_hop: o.str(&["NextHop"])?,
            need_encap: o.bool(&["NeedEncap"])?,
            automatic_endpoint_monitor: o.bool(&["AutomaticEndpointMonitor"])?,
            extra: o.rest(),
        })
    }
}

/// `L4Proxy` (v1 `PROXY`). hcsshim writes `Exceptions`/`OutboundNAT`, \[schema\]/\[sdn\]
/// `ExceptionList`/`OutboundNat`; both are read, hcsshim's spelling is written.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct L4ProxyPolicy {
    #[serde(rename = "IP", skip_serializing_if = "String::is_empty")]
    pub ip: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub port: String,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub protocol: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
    pub destination: String,
    #[serde(rename = "OutboundNAT", skip_serializing_if = "is_false")]
    pub outbound_nat: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for L4ProxyPolicy {
    const WHAT: &'static str = "L4Proxy settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(L4ProxyPolicy {
            ip: o.str(&["IP"])?,
            port: o.str_or_num(&["Port"])?,
            protocol: o.protocol(&["Protocol"])?,
            exceptions: o.strings(&["Exceptions", "ExceptionList"])?,
            destination: o.str(&["Destination"])?,
            outbound_nat: o.bool(&["OutboundNAT"])?,
            extra: o.rest(),
        })
    }
}

/// The 5-tuple filter of an `L4WFPPROXY` policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FiveTuple {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protocols: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub local_addresses: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_addresses: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub local_ports: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_ports: String,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub priority: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for FiveTuple {
    const WHAT: &'static str = "a FilterTuple";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(FiveTuple {
            protocols: read::protocol_list(&o.str_or_num(&["Protocols"])?),
            local_addresses: o.str(&["LocalAddresses"])?,
            remote_addresses: o.str(&["RemoteAddresses"])?,
            local_ports: o.str_or_num(&["LocalPorts"])?,
            remote_ports: o.str_or_num(&["RemotePorts"])?,
            priority: o.u16(&["Priority"])?,
            extra: o.rest(),
        })
    }
}

/// `InboundExceptions` / `OutboundExceptions` of an `L4WFPPROXY` policy (schema 2.14).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProxyExceptions {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_address_exceptions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub port_exceptions: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ProxyExceptions {
    pub fn is_empty(&self) -> bool {
        self.ip_address_exceptions.is_empty() && self.port_exceptions.is_empty() && self.extra.is_empty()
    }
}

impl ReadDoc for ProxyExceptions {
    const WHAT: &'static str = "proxy exceptions";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(ProxyExceptions {
            ip_address_exceptions: o.strings(&["IpAddressExceptions"])?,
            port_exceptions: o.strings(&["PortExceptions"])?,
            extra: o.rest(),
        })
    }
}

/// `L4WFPPROXY`: WFP-based per-endpoint redirect (HNS ≥ 13.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct L4WfpProxyPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub inbound_proxy_port: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub outbound_proxy_port: String,
    pub filter_tuple: FiveTuple,
    #[serde(rename = "UserSID", skip_serializing_if = "String::is_empty")]
    pub user_sid: String,
    #[serde(skip_serializing_if = "ProxyExceptions::is_empty")]
    pub inbound_exceptions: ProxyExceptions,
    #[serde(skip_serializing_if = "ProxyExceptions::is_empty")]
    pub outbound_exceptions: ProxyExceptions,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for L4WfpProxyPolicy {
    const WHAT: &'static str = "L4WFPPROXY settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(L4WfpProxyPolicy {
            inbound_proxy_port: o.str_or_num(&["InboundProxyPort"])?,
            outbound_proxy_port: o.str_or_num(&["OutboundProxyPort"])?,
            filter_tuple: o.object(&["FilterTuple"])?.unwrap_or_default(),
            user_sid: o.str(&["UserSID"])?,
            inbound_exceptions: o.object(&["InboundExceptions"])?.unwrap_or_default(),
            outbound_exceptions: o.object(&["OutboundExceptions"])?.unwrap_or_default(),
            extra: o.rest(),
        })
    }
}

/// `PortName`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortNamePolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for PortNamePolicy {
    const WHAT: &'static str = "PortName settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(PortNamePolicy {
            name: o.str(&["Name"])?,
            extra: o.rest(),
        })
    }
}

/// `EncapOverhead` (v1: the endpoint field `EncapOverhead`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncapOverheadPolicy {
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub overhead: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for EncapOverheadPolicy {
    const WHAT: &'static str = "EncapOverhead settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(EncapOverheadPolicy {
            overhead: o.u16(&["Overhead"])?,
            extra: o.rest(),
        })
    }
}

/// IovInterruptModeration values (\[schema\] list order; numeric values inferred).
pub mod iov_interrupt_moderation {
    pub const DEFAULT: u32 = 0;
    pub const ADAPTIVE: u32 = 1;
    pub const OFF: u32 = 2;
    pub const LOW: u32 = 100;
    pub const MEDIUM: u32 = 200;
    pub const HIGH: u32 = 300;
}

/// `Iov` (schema 2.9).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IovPolicy {
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub iov_offload_weight: u32,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub queue_pairs_requested: u32,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub interrupt_moderation: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for IovPolicy {
    const WHAT: &'static str = "Iov settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        use iov_interrupt_moderation as m;
        let interrupt_moderation = match o.take(&["InterruptModeration"]) {
            None => 0,
            Some((p, v)) => {
                let names = [
                    ("IovInterruptModerationDefault", m::DEFAULT),
                    ("IovInterruptModerationAdaptive", m::ADAPTIVE),
                    ("IovInterruptModerationOff", m::OFF),
                    ("IovInterruptModerationLow", m::LOW),
                    ("IovInterruptModerationMedium", m::MEDIUM),
                    ("IovInterruptModerationHigh", m::HIGH),
                ];
                let by_name = v.as_str().and_then(|s| {
                    names
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(s) || n[22..].eq_ignore_ascii_case(s))
                        .map(|(_, x)| *x)
                });
                match by_name {
                    Some(x) => x,
                    None => read::uint_value(&v, &p, u32::MAX as u64)? as u32,
                }
            }
        };
        Ok(IovPolicy {
            iov_offload_weight: o.u32(&["IovOffloadWeight"])?,
            queue_pairs_requested: o.u32(&["QueuePairsRequested"])?,
            interrupt_moderation,
            extra: o.rest(),
        })
    }
}

/// `ProviderAddress` (v1 `PA` with field `PA`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderAddressPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub provider_address: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for ProviderAddressPolicy {
    const WHAT: &'static str = "ProviderAddress settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(ProviderAddressPolicy {
            provider_address: o.str(&["ProviderAddress", "PA"])?,
            extra: o.rest(),
        })
    }
}

/// `InterfaceConstraint` (endpoint and network policy).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InterfaceConstraintPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interface_guid: String,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub interface_luid: u64,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub interface_index: u32,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub interface_media_type: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interface_alias: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interface_description: String,
    #[serde(flatten)]
    pub extra: Extra,
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

impl ReadDoc for InterfaceConstraintPolicy {
    const WHAT: &'static str = "InterfaceConstraint settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(InterfaceConstraintPolicy {
            interface_guid: o.guid_ref(&["InterfaceGuid"])?,
            interface_luid: o.u64(&["InterfaceLuid"])?,
            interface_index: o.u32(&["InterfaceIndex"])?,
            interface_media_type: o.u32(&["InterfaceMediaType"])?,
            interface_alias: o.str(&["InterfaceAlias"])?,
            interface_description: o.str(&["InterfaceDescription"])?,
            extra: o.rest(),
        })
    }
}

/// One rule of a `TierAcl` policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TierAclRule {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protocols: String,
    /// `Allow`, `Block` or `Pass`.
    pub tier_acl_rule_action: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub local_addresses: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_addresses: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub local_ports: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_ports: String,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub priority: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for TierAclRule {
    const WHAT: &'static str = "a TierAcl rule";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(TierAclRule {
            id: o.str(&["Id"])?,
            protocols: read::protocol_list(&o.str_or_num(&["Protocols"])?),
            tier_acl_rule_action: o.enum_str(&["TierAclRuleAction"], ACTIONS)?,
            local_addresses: o.str(&["LocalAddresses"])?,
            remote_addresses: o.str(&["RemoteAddresses"])?,
            local_ports: o.str_or_num(&["LocalPorts"])?,
            remote_ports: o.str_or_num(&["RemotePorts"])?,
            priority: o.u16(&["Priority"])?,
            extra: o.rest(),
        })
    }
}

/// `TierAcl` (HNS ≥ 14.0).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TierAclPolicy {
    pub name: String,
    pub direction: String,
    pub order: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tier_acl_rules: Vec<TierAclRule>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for TierAclPolicy {
    const WHAT: &'static str = "TierAcl settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(TierAclPolicy {
            name: o.str(&["Name"])?,
            direction: o.enum_str(&["Direction"], DIRECTIONS)?,
            order: o.u16(&["Order"])?,
            tier_acl_rules: o.list(&["TierAclRules"])?,
            extra: o.rest(),
        })
    }
}

/// `InterfaceParameters` (schema 2.4).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InterfaceParametersPolicy {
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub mtu: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for InterfaceParametersPolicy {
    const WHAT: &'static str = "InterfaceParameters settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(InterfaceParametersPolicy {
            mtu: o.u32(&["Mtu"])?,
            extra: o.rest(),
        })
    }
}

/// Settings with no modelled fields (`L2Driver`, `HostRoute {}`, `Encryption`): anything sent is kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EmptySettings {
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for EmptySettings {
    const WHAT: &'static str = "policy settings";
    fn read_obj(o: Obj) -> R<Self> {
        Ok(EmptySettings { extra: o.rest() })
    }
}

/// Network `SourceMacAddress` (v1: the network field `SourceMac`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SourceMacAddressPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_mac_address: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for SourceMacAddressPolicy {
    const WHAT: &'static str = "SourceMacAddress settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(SourceMacAddressPolicy {
            source_mac_address: o.mac(&["SourceMacAddress"])?,
            extra: o.rest(),
        })
    }
}

/// Network `NetAdapterName` (v1: the network field `NetworkAdapterName`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetAdapterNamePolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network_adapter_name: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for NetAdapterNamePolicy {
    const WHAT: &'static str = "NetAdapterName settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(NetAdapterNamePolicy {
            network_adapter_name: o.str(&["NetworkAdapterName"])?,
            extra: o.rest(),
        })
    }
}

/// Network `VSwitchExtension`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VSwitchExtensionPolicy {
    #[serde(rename = "ExtensionID", skip_serializing_if = "String::is_empty")]
    pub extension_id: String,
    #[serde(skip_serializing_if = "is_false")]
    pub enable: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for VSwitchExtensionPolicy {
    const WHAT: &'static str = "VSwitchExtension settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(VSwitchExtensionPolicy {
            extension_id: o.guid_ref(&["ExtensionID"])?,
            enable: o.bool(&["Enable"])?,
            extra: o.rest(),
        })
    }
}

/// Network `DrMacAddress`: the distributed router MAC.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DrMacAddressPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for DrMacAddressPolicy {
    const WHAT: &'static str = "DrMacAddress settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(DrMacAddressPolicy {
            address: o.mac(&["Address"])?,
            extra: o.rest(),
        })
    }
}

/// Network `AutomaticDNS` (v1: the network field `AutomaticDNS`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AutomaticDnsPolicy {
    #[serde(skip_serializing_if = "is_false")]
    pub enable: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for AutomaticDnsPolicy {
    const WHAT: &'static str = "AutomaticDNS settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(AutomaticDnsPolicy {
            enable: o.bool(&["Enable"])?,
            extra: o.rest(),
        })
    }
}

/// Network `RemoteSubnetRoute`: overlay remote pod subnet → its node's PA.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoteSubnetRoutePolicy {
    pub destination_prefix: String,
    pub isolation_id: u32,
    pub provider_address: String,
    pub distributed_router_mac_address: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for RemoteSubnetRoutePolicy {
    const WHAT: &'static str = "RemoteSubnetRoute settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(RemoteSubnetRoutePolicy {
            destination_prefix: o.str(&["DestinationPrefix"])?,
            isolation_id: o.u32(&["IsolationId"])?,
            provider_address: o.str(&["ProviderAddress"])?,
            distributed_router_mac_address: o.mac(&["DistributedRouterMacAddress"])?,
            extra: o.rest(),
        })
    }
}

/// Network `VxlanPort`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VxlanPortPolicy {
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub port: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for VxlanPortPolicy {
    const WHAT: &'static str = "VxlanPort settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(VxlanPortPolicy {
            port: o.u16(&["Port"])?,
            extra: o.rest(),
        })
    }
}

pub(crate) const SET_POLICY_TYPES: &[&str] = &["IPSET", "NESTEDIPSET"];

/// Network `SetPolicy` (an IP set). The JSON key of the set type is `PolicyType`; \[sdn\] sends it
/// as a number (0 IPSET, 1 NESTEDIPSET — list order, inferred).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetPolicySetting {
    pub id: String,
    pub name: String,
    pub policy_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub values: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for SetPolicySetting {
    const WHAT: &'static str = "SetPolicy settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(SetPolicySetting {
            id: o.str(&["Id"])?,
            name: o.str(&["Name"])?,
            policy_type: o.enum_str(&["PolicyType"], SET_POLICY_TYPES)?,
            values: o.str(&["Values"])?,
            extra: o.rest(),
        })
    }
}

/// Network `LayerConstraint`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerConstraintPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub layer_id: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for LayerConstraintPolicy {
    const WHAT: &'static str = "LayerConstraint settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(LayerConstraintPolicy {
            layer_id: o.guid_ref(&["LayerId"])?,
            extra: o.rest(),
        })
    }
}

/// Network `NeighborDiscovery` (\[sdn\] only).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NeighborDiscoveryPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target_ip_prefix: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sender_ip_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sender_mac_address: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for NeighborDiscoveryPolicy {
    const WHAT: &'static str = "NeighborDiscovery settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(NeighborDiscoveryPolicy {
            target_ip_prefix: o.str(&["TargetIpPrefix"])?,
            sender_ip_address: o.str(&["SenderIpAddress"])?,
            sender_mac_address: o.mac(&["SenderMacAddress"])?,
            extra: o.rest(),
        })
    }
}

/// `VLAN` / `VSID` settings (v1 flat `{"Type":"VSID","VSID":n}` / `{"Type":"VLAN","VLAN":n}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IsolationIdPolicy {
    pub isolation_id: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for IsolationIdPolicy {
    const WHAT: &'static str = "VLAN/VSID settings";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(IsolationIdPolicy {
            isolation_id: o.u32(&["IsolationId", "VSID", "VLAN"])?,
            extra: o.rest(),
        })
    }
}

/// An endpoint policy. (Variants are unboxed for easy matching; policies are control-plane data,
/// not on the packet path, so the size difference does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum EndpointPolicy {
    PortMapping(PortMappingPolicy),
    Acl(AclPolicy),
    Qos(QosPolicy),
    L2Driver(EmptySettings),
    OutBoundNat(OutboundNatPolicy),
    SdnRoute(SdnRoutePolicy),
    L4Proxy(L4ProxyPolicy),
    L4WfpProxy(L4WfpProxyPolicy),
    PortName(PortNamePolicy),
    EncapOverhead(EncapOverheadPolicy),
    Iov(IovPolicy),
    ProviderAddress(ProviderAddressPolicy),
    InterfaceConstraint(InterfaceConstraintPolicy),
    TierAcl(TierAclPolicy),
    Encryption(EmptySettings),
    Vlan(IsolationIdPolicy),
    InterfaceParameters(InterfaceParametersPolicy),
    /// A type this model does not know: kept as it came.
    Unknown {
        type_name: String,
        settings: Value,
    },
}

/// A network policy.
#[derive(Clone, Debug, PartialEq)]
pub enum NetworkPolicy {
    SourceMacAddress(SourceMacAddressPolicy),
    NetAdapterName(NetAdapterNamePolicy),
    VSwitchExtension(VSwitchExtensionPolicy),
    DrMacAddress(DrMacAddressPolicy),
    AutomaticDns(AutomaticDnsPolicy),
    InterfaceConstraint(InterfaceConstraintPolicy),
    ProviderAddress(ProviderAddressPolicy),
    RemoteSubnetRoute(RemoteSubnetRoutePolicy),
    VxlanPort(VxlanPortPolicy),
    HostRoute(EmptySettings),
    SetPolicy(SetPolicySetting),
    L4Proxy(L4ProxyPolicy),
    LayerConstraint(LayerConstraintPolicy),
    NetworkAcl(AclPolicy),
    NeighborDiscovery(NeighborDiscoveryPolicy),
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
fn split_policy(v: &Value, path: &str) -> R<(String, Value, String)> {
    let mut o = Obj::new(v, path, "a policy {\"Type\":…,\"Settings\":…}")?;
    let type_name = match o.take(&["Type"]) {
        Some((_, Value::String(s))) => s,
        Some((p, other)) => return Err(err(&p, "a policy type name", &other)),
        None => return Err(err(path, "a policy with a \"Type\"", v)),
    };
    let settings_path = format!("{path}.Settings");
    match o.take(&["Settings", "Data"]) {
        Some((p, s)) => {
            // Anything next to Type/Settings is kept with the settings so it survives.
            let rest = o.rest();
            match s {
                Value::Object(mut m) if !rest.is_empty() => {
                    for (k, v) in rest {
                        m.entry(k).or_insert(v);
                    }
                    Ok((type_name, Value::Object(m), p))
                }
                s => Ok((type_name, s, p)),
            }
        }
        // Flat v1-style policy: the remaining fields are the settings.
        None if !o.is_empty() => Ok((
            type_name,
            Value::Object(o.rest().into_iter().collect()),
            path.to_string(),
        )),
        None => Ok((type_name, Value::Null, settings_path)),
    }
}

fn typed<T: ReadDoc>(settings: &Value, path: &str) -> R<T> {
    if settings.is_null() {
        return T::read(&Value::Object(Map::new()), path);
    }
    T::read(settings, path)
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
    ($enum:ident, $what:literal { $($variant:ident => $name:literal $(| $alias:literal)*),* $(,)? }) => {
        impl $enum {
            /// The canonical HCN type name.
            pub fn type_name(&self) -> &str {
                match self {
                    $($enum::$variant(_) => $name,)*
                    $enum::Unknown { type_name, .. } => type_name,
                }
            }

            /// All type names this enum models, canonical spelling.
            pub const TYPE_NAMES: &'static [&'static str] = &[$($name),*];

            /// Build from a type name (any case, v1 aliases too) and its settings; `path` is the
            /// JSON path of the settings, for errors.
            pub fn from_parts(type_name: &str, settings: Value, path: &str) -> R<Self> {
                $(
                    if type_name.eq_ignore_ascii_case($name) $(|| type_name.eq_ignore_ascii_case($alias))* {
                        return Ok($enum::$variant(typed(&settings, path)?));
                    }
                )*
                Ok($enum::Unknown { type_name: type_name.to_string(), settings })
            }
        }

        impl ReadDoc for $enum {
            const WHAT: &'static str = $what;
            fn read(v: &Value, path: &str) -> R<Self> {
                let (t, settings, spath) = split_policy(v, path)?;
                $enum::from_parts(&t, settings, &spath)
            }
            fn read_obj(o: Obj) -> R<Self> {
                let path = o.path.clone();
                Self::read(&o.into_value(), &path)
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

        deserialize_via_read!($enum);
    };
}

policy_enum!(EndpointPolicy, "an endpoint policy" {
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
    ProviderAddress => "ProviderAddress" | "PA",
    InterfaceConstraint => "InterfaceConstraint",
    TierAcl => "TierAcl",
    Encryption => "Encryption",
    Vlan => "VLAN",
    InterfaceParameters => "InterfaceParameters",
});

policy_enum!(NetworkPolicy, "a network policy" {
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

policy_enum!(SubnetPolicy, "a subnet policy" {
    Vlan => "VLAN",
    Vsid => "VSID",
});

deserialize_via_read!(
    PortMappingPolicy,
    AclPolicy,
    QosPolicy,
    OutboundNatPolicy,
    SdnRoutePolicy,
    L4ProxyPolicy,
    L4WfpProxyPolicy,
    FiveTuple,
    ProxyExceptions,
    PortNamePolicy,
    EncapOverheadPolicy,
    IovPolicy,
    ProviderAddressPolicy,
    InterfaceConstraintPolicy,
    TierAclPolicy,
    TierAclRule,
    InterfaceParametersPolicy,
    EmptySettings,
    SourceMacAddressPolicy,
    NetAdapterNamePolicy,
    VSwitchExtensionPolicy,
    DrMacAddressPolicy,
    AutomaticDnsPolicy,
    RemoteSubnetRoutePolicy,
    VxlanPortPolicy,
    SetPolicySetting,
    LayerConstraintPolicy,
    NeighborDiscoveryPolicy,
    IsolationIdPolicy,
);
