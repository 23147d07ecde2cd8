//! Endpoint, network and subnet policies (hns-schema.md §3). v2 policies are
//! `{"Type": "<name>", "Settings": {…}}`; the type name matches in any case, the flat v1 forms
//! (`{"Type":"PA","PA":…}`, `{"Type":"VSID","VSID":…}`, §5.5) are read into the same settings, and
//! unknown types are kept verbatim so a document round-trips. Which fields are always emitted
//! follows hcsshim's `omitempty` tags (`hcn/hcnpolicy.go`).

use super::common::*;
use super::read::{self, deserialize_via_read, err, Obj, Path, ReadDoc, R};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// A settings struct whose fields are each read by one expression over the object `o`
/// (`Field: Type = o.str(&["Field"])?,`), declared once: the struct with HCN's PascalCase names,
/// the unknown keys kept in `extra`, its [`ReadDoc`] and `Deserialize`. Serde attributes on a
/// field pass through (they carry hcsshim's `omitempty` rules).
macro_rules! settings {
    ($(#[$m:meta])* $name:ident, $what:literal, |$o:ident| {
        $($(#[$fm:meta])* $field:ident: $ty:ty = $read:expr,)*
    }) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $($(#[$fm])* pub $field: $ty,)*
            #[serde(flatten)]
            pub extra: Extra,
        }

        impl ReadDoc for $name {
            const WHAT: &'static str = $what;
            fn read_obj(mut $o: Obj) -> R<Self> {
                Ok($name {
                    $($field: $read,)*
                    extra: $o.rest(),
                })
            }
        }

        deserialize_via_read!($name);
    };
}

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

settings! {
    /// `QOS`.
    QosPolicy, "QOS settings", |o| {
        maximum_outgoing_bandwidth_in_bytes: u64 = o.u64(&["MaximumOutgoingBandwidthInBytes"])?,
    }
}

settings! {
    /// `OutBoundNAT` (v1 `OutBoundNAT` with `VIP` / `ExceptionList`).
    OutboundNatPolicy, "OutBoundNAT settings", |o| {
        #[serde(rename = "VirtualIP", skip_serializing_if = "String::is_empty")]
        virtual_ip: String = o.str(&["VirtualIP", "VIP"])?,
        /// CIDRs/IPs not SNATed. v1 and some clients spell it `ExceptionList`.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        exceptions: Vec<String> = o.strings(&["Exceptions", "ExceptionList"])?,
        /// When set, SNAT only toward these (loopback DSR uses the pod's own IP).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        destinations: Vec<String> = o.strings(&["Destinations"])?,
        #[serde(skip_serializing_if = "is_zero_u32")]
        flags: u32 = o.u32(&["Flags"])?,
        #[serde(skip_serializing_if = "is_zero_u16")]
        max_port_pool_usage: u16 = o.u16(&["MaxPortPoolUsage"])?,
    }
}

settings! {
    /// `SDNRoute` endpoint policy (v1 `ROUTE`); also one entry of a HostComputeRoute.
    SdnRoutePolicy, "SDNRoute settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        destination_prefix: String = o.str(&["DestinationPrefix"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        next_hop: String = o.str(&["NextHop"])?,
        #[serde(skip_serializing_if = "is_false")]
        need_encap: bool = o.bool(&["NeedEncap"])?,
        #[serde(skip_serializing_if = "is_false")]
        automatic_endpoint_monitor: bool = o.bool(&["AutomaticEndpointMonitor"])?,
    }
}

settings! {
    /// `L4Proxy` (v1 `PROXY`). hcsshim writes `Exceptions`/`OutboundNAT`, \[schema\]/\[sdn\]
    /// `ExceptionList`/`OutboundNat`; both are read, hcsshim's spelling is written.
    L4ProxyPolicy, "L4Proxy settings", |o| {
        #[serde(rename = "IP", skip_serializing_if = "String::is_empty")]
        ip: String = o.str(&["IP"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        port: String = o.str_or_num(&["Port"])?,
        #[serde(skip_serializing_if = "is_zero_u32")]
        protocol: u32 = o.protocol(&["Protocol"])?,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        exceptions: Vec<String> = o.strings(&["Exceptions", "ExceptionList"])?,
        destination: String = o.str(&["Destination"])?,
        #[serde(rename = "OutboundNAT", skip_serializing_if = "is_false")]
        outbound_nat: bool = o.bool(&["OutboundNAT"])?,
    }
}

settings! {
    /// The 5-tuple filter of an `L4WFPPROXY` policy.
    FiveTuple, "a FilterTuple", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        protocols: String = read::protocol_list(&o.str_or_num(&["Protocols"])?),
        #[serde(skip_serializing_if = "String::is_empty")]
        local_addresses: String = o.str(&["LocalAddresses"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        remote_addresses: String = o.str(&["RemoteAddresses"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        local_ports: String = o.str_or_num(&["LocalPorts"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        remote_ports: String = o.str_or_num(&["RemotePorts"])?,
        #[serde(skip_serializing_if = "is_zero_u16")]
        priority: u16 = o.u16(&["Priority"])?,
    }
}

settings! {
    /// `InboundExceptions` / `OutboundExceptions` of an `L4WFPPROXY` policy (schema 2.14).
    ProxyExceptions, "proxy exceptions", |o| {
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ip_address_exceptions: Vec<String> = o.strings(&["IpAddressExceptions"])?,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        port_exceptions: Vec<String> = o.strings(&["PortExceptions"])?,
    }
}

settings! {
    /// `L4WFPPROXY`: WFP-based per-endpoint redirect (HNS ≥ 13.2).
    L4WfpProxyPolicy, "L4WFPPROXY settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        inbound_proxy_port: String = o.str_or_num(&["InboundProxyPort"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        outbound_proxy_port: String = o.str_or_num(&["OutboundProxyPort"])?,
        filter_tuple: FiveTuple = o.object(&["FilterTuple"])?.unwrap_or_default(),
        #[serde(rename = "UserSID", skip_serializing_if = "String::is_empty")]
        user_sid: String = o.str(&["UserSID"])?,
        inbound_exceptions: ProxyExceptions = o.object(&["InboundExceptions"])?.unwrap_or_default(),
        outbound_exceptions: ProxyExceptions = o.object(&["OutboundExceptions"])?.unwrap_or_default(),
    }
}

settings! {
    /// `PortName`.
    PortNamePolicy, "PortName settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        name: String = o.str(&["Name"])?,
    }
}

settings! {
    /// `EncapOverhead` (v1: the endpoint field `EncapOverhead`).
    EncapOverheadPolicy, "EncapOverhead settings", |o| {
        #[serde(skip_serializing_if = "is_zero_u16")]
        overhead: u16 = o.u16(&["Overhead"])?,
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

/// An IovInterruptModeration name, with or without its `IovInterruptModeration` prefix.
fn iov_moderation_by_name(s: &str) -> Option<u32> {
    use iov_interrupt_moderation as m;
    const PREFIX: &str = "IovInterruptModeration";
    let short = match s.get(..PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(PREFIX) => &s[PREFIX.len()..],
        _ => s,
    };
    [
        ("Default", m::DEFAULT),
        ("Adaptive", m::ADAPTIVE),
        ("Off", m::OFF),
        ("Low", m::LOW),
        ("Medium", m::MEDIUM),
        ("High", m::HIGH),
    ]
    .into_iter()
    .find(|(n, _)| n.eq_ignore_ascii_case(short))
    .map(|(_, x)| x)
}

settings! {
    /// `Iov` (schema 2.9).
    IovPolicy, "Iov settings", |o| {
        #[serde(skip_serializing_if = "is_zero_u32")]
        iov_offload_weight: u32 = o.u32(&["IovOffloadWeight"])?,
        #[serde(skip_serializing_if = "is_zero_u32")]
        queue_pairs_requested: u32 = o.u32(&["QueuePairsRequested"])?,
        /// A number, or a name (`IovInterruptModerationHigh` or `High`).
        #[serde(skip_serializing_if = "is_zero_u32")]
        interrupt_moderation: u32 = o.named_u32(&["InterruptModeration"], iov_moderation_by_name)?,
    }
}

settings! {
    /// `ProviderAddress` (v1 `PA` with field `PA`).
    ProviderAddressPolicy, "ProviderAddress settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        provider_address: String = o.str(&["ProviderAddress", "PA"])?,
    }
}

settings! {
    /// `InterfaceConstraint` (endpoint and network policy).
    InterfaceConstraintPolicy, "InterfaceConstraint settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        interface_guid: String = o.guid_ref(&["InterfaceGuid"])?,
        #[serde(skip_serializing_if = "is_zero_u64")]
        interface_luid: u64 = o.u64(&["InterfaceLuid"])?,
        #[serde(skip_serializing_if = "is_zero_u32")]
        interface_index: u32 = o.u32(&["InterfaceIndex"])?,
        #[serde(skip_serializing_if = "is_zero_u32")]
        interface_media_type: u32 = o.u32(&["InterfaceMediaType"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        interface_alias: String = o.str(&["InterfaceAlias"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        interface_description: String = o.str(&["InterfaceDescription"])?,
    }
}

settings! {
    /// One rule of a `TierAcl` policy.
    TierAclRule, "a TierAcl rule", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        id: String = o.str(&["Id"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        protocols: String = read::protocol_list(&o.str_or_num(&["Protocols"])?),
        /// `Allow`, `Block` or `Pass`.
        tier_acl_rule_action: String = o.enum_str(&["TierAclRuleAction"], ACTIONS)?,
        #[serde(skip_serializing_if = "String::is_empty")]
        local_addresses: String = o.str(&["LocalAddresses"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        remote_addresses: String = o.str(&["RemoteAddresses"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        local_ports: String = o.str_or_num(&["LocalPorts"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        remote_ports: String = o.str_or_num(&["RemotePorts"])?,
        #[serde(skip_serializing_if = "is_zero_u16")]
        priority: u16 = o.u16(&["Priority"])?,
    }
}

settings! {
    /// `TierAcl` (HNS ≥ 14.0).
    TierAclPolicy, "TierAcl settings", |o| {
        name: String = o.str(&["Name"])?,
        direction: String = o.enum_str(&["Direction"], DIRECTIONS)?,
        order: u16 = o.u16(&["Order"])?,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tier_acl_rules: Vec<TierAclRule> = o.list(&["TierAclRules"])?,
    }
}

settings! {
    /// `InterfaceParameters` (schema 2.4).
    InterfaceParametersPolicy, "InterfaceParameters settings", |o| {
        #[serde(skip_serializing_if = "is_zero_u32")]
        mtu: u32 = o.u32(&["Mtu"])?,
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
    // Not modelled, so not checked for unknown keys either.
    fn read_obj(o: Obj) -> R<Self> {
        Ok(EmptySettings { extra: o.take_rest() })
    }
}

settings! {
    /// Network `SourceMacAddress` (v1: the network field `SourceMac`).
    SourceMacAddressPolicy, "SourceMacAddress settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        source_mac_address: String = o.mac(&["SourceMacAddress"])?,
    }
}

settings! {
    /// Network `NetAdapterName` (v1: the network field `NetworkAdapterName`).
    NetAdapterNamePolicy, "NetAdapterName settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        network_adapter_name: String = o.str(&["NetworkAdapterName"])?,
    }
}

settings! {
    /// Network `VSwitchExtension`.
    VSwitchExtensionPolicy, "VSwitchExtension settings", |o| {
        #[serde(rename = "ExtensionID", skip_serializing_if = "String::is_empty")]
        extension_id: String = o.guid_ref(&["ExtensionID"])?,
        #[serde(skip_serializing_if = "is_false")]
        enable: bool = o.bool(&["Enable"])?,
    }
}

settings! {
    /// Network `DrMacAddress`: the distributed router MAC.
    DrMacAddressPolicy, "DrMacAddress settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        address: String = o.mac(&["Address"])?,
    }
}

settings! {
    /// Network `AutomaticDNS` (v1: the network field `AutomaticDNS`).
    AutomaticDnsPolicy, "AutomaticDNS settings", |o| {
        #[serde(skip_serializing_if = "is_false")]
        enable: bool = o.bool(&["Enable"])?,
    }
}

settings! {
    /// Network `RemoteSubnetRoute`: overlay remote pod subnet → its node's PA.
    RemoteSubnetRoutePolicy, "RemoteSubnetRoute settings", |o| {
        destination_prefix: String = o.str(&["DestinationPrefix"])?,
        isolation_id: u32 = o.u32(&["IsolationId"])?,
        provider_address: String = o.str(&["ProviderAddress"])?,
        distributed_router_mac_address: String = o.mac(&["DistributedRouterMacAddress"])?,
    }
}

settings! {
    /// Network `VxlanPort`.
    VxlanPortPolicy, "VxlanPort settings", |o| {
        /// Always emitted (no `omitempty` in hcsshim).
        port: u16 = o.u16(&["Port"])?,
    }
}

pub(crate) const SET_POLICY_TYPES: &[&str] = &["IPSET", "NESTEDIPSET"];

settings! {
    /// Network `SetPolicy` (an IP set). The JSON key of the set type is `PolicyType`; \[sdn\] sends it
    /// as a number (0 IPSET, 1 NESTEDIPSET — list order, inferred).
    SetPolicySetting, "SetPolicy settings", |o| {
        id: String = o.str(&["Id"])?,
        name: String = o.str(&["Name"])?,
        policy_type: String = o.enum_str(&["PolicyType"], SET_POLICY_TYPES)?,
        values: String = o.str(&["Values"])?,
    }
}

settings! {
    /// Network `LayerConstraint`.
    LayerConstraintPolicy, "LayerConstraint settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        layer_id: String = o.guid_ref(&["LayerId"])?,
    }
}

settings! {
    /// Network `NeighborDiscovery` (\[sdn\] only).
    NeighborDiscoveryPolicy, "NeighborDiscovery settings", |o| {
        #[serde(skip_serializing_if = "String::is_empty")]
        target_ip_prefix: String = o.str(&["TargetIpPrefix"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        sender_ip_address: String = o.str(&["SenderIpAddress"])?,
        #[serde(skip_serializing_if = "String::is_empty")]
        sender_mac_address: String = o.mac(&["SenderMacAddress"])?,
    }
}

settings! {
    /// `VLAN` / `VSID` settings (v1 flat `{"Type":"VSID","VSID":n}` / `{"Type":"VLAN","VLAN":n}`).
    IsolationIdPolicy, "VLAN/VSID settings", |o| {
        isolation_id: u32 = o.u32(&["IsolationId", "VSID", "VLAN"])?,
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

/// Read a policy: split `{Type, Settings}` (also the stale `Data`, or flat v1-style fields) into
/// its type name and settings, and build it with `from_parts` (type name, settings, the JSON path
/// of the settings).
fn read_policy<T>(v: Value, path: Path<'_>, from_parts: impl FnOnce(&str, Value, Path<'_>) -> R<T>) -> R<T> {
    let mut o = Obj::new(v, path, "a policy {\"Type\":…,\"Settings\":…}")?;
    let type_name = match o.take(&["Type"]) {
        Some((_, Value::String(s))) => s,
        Some((p, other)) => return Err(err(p, "a policy type name", &other)),
        None => return Err(err(path, "a policy with a \"Type\"", &Value::Object(Map::new()))),
    };
    match o.take_key(&["Settings", "Data"]) {
        Some((key, s)) => {
            // Anything next to Type/Settings is kept with the settings so it survives.
            let rest = o.take_rest();
            let s = match s {
                Value::Object(mut m) if !rest.is_empty() => {
                    for (k, v) in rest {
                        m.entry(k).or_insert(v);
                    }
                    Value::Object(m)
                }
                s => s,
            };
            from_parts(&type_name, s, path.key(&key))
        }
        // Flat v1-style policy: the remaining fields are the settings.
        None if !o.is_empty() => from_parts(
            &type_name,
            Value::Object(o.take_rest().into_iter().collect()),
            path,
        ),
        None => from_parts(&type_name, Value::Null, path.key("Settings")),
    }
}

fn typed<T: ReadDoc>(settings: Value, path: Path<'_>) -> R<T> {
    if settings.is_null() {
        return T::read(Value::Object(Map::new()), path);
    }
    T::read(settings, path)
}

/// `{"Type": …, "Settings": …}`, `Settings` omitted when it would be `null` or `{}`.
fn join_policy<S: Serializer, T: Serialize>(s: S, type_name: &str, settings: &T) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let empty = super::empty::serializes_empty(settings);
    let mut m = s.serialize_map(Some(if empty { 1 } else { 2 }))?;
    m.serialize_entry("Type", type_name)?;
    if !empty {
        m.serialize_entry("Settings", settings)?;
    }
    m.end()
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
                Self::from_parts_at(type_name, settings, Path::Root(path))
            }

            fn from_parts_at(type_name: &str, settings: Value, path: Path<'_>) -> R<Self> {
                $(
                    if type_name.eq_ignore_ascii_case($name) $(|| type_name.eq_ignore_ascii_case($alias))* {
                        return Ok($enum::$variant(typed(settings, path)?));
                    }
                )*
                Ok($enum::Unknown { type_name: type_name.to_string(), settings })
            }
        }

        impl ReadDoc for $enum {
            const WHAT: &'static str = $what;
            fn read(v: Value, path: Path<'_>) -> R<Self> {
                read_policy(v, path, $enum::from_parts_at)
            }
            fn read_obj(o: Obj) -> R<Self> {
                let path = o.path;
                Self::read(o.into_value(), path)
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

deserialize_via_read!(PortMappingPolicy, AclPolicy, EmptySettings);
