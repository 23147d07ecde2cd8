//! HNS v1 documents (hns-schema.md §5) and their conversion to and from v2 (§5.8).
//!
//! v1 shapes are read straight into the v2 types: `HNSNetwork`, `HNSEndpoint`, the v1 namespace,
//! and `PolicyList` (ELB → load balancer, ROUTE → SDN route). v1 policies are flat objects; their
//! v1 type names (`NAT`, `PA`, `ROUTE`, `PROXY`, flat `VSID`/`VLAN`) are aliases of the v2
//! policy types, so the policy readers handle both. Real v1 output carries many runtime keys no
//! client models (§5.7: `ActivityId`, `Resources`, `State`, `Version`, …); they are kept in
//! `extra` so nothing is lost, and never cause a failure.

use crate::ids::Guid;
use crate::schema::read::{self, err, Obj, Path, ReadDoc, R};
use crate::schema::*;
use serde_json::{json, Map, Value};

/// The v1 reply envelope `{"Success":…,"Error":…,"Output":…}` (§5.1). Returns the `Output`
/// (`None` when the reply has none), or an error when `Success` is false.
pub fn unwrap_reply(v: &Value, path: &str) -> Result<Option<Value>, DocError> {
    reply_output(v.clone(), Path::Root(path))
}

/// [`unwrap_reply`], consuming the reply.
pub(crate) fn reply_output(v: Value, path: Path<'_>) -> Result<Option<Value>, DocError> {
    let mut o = Obj::new(v, path, "a v1 reply {Success, Error, Output}")?;
    let success = match o.take(&["Success"]) {
        Some((p, s)) => read::bool_value(&s, p)?,
        None => true,
    };
    if !success {
        let msg = o.str(&["Error"]).unwrap_or_default();
        return Err(DocError {
            path: path.key("Success").to_string(),
            expected: "a successful reply (Success: true)".into(),
            found: format!("Success: false with Error {msg:?}"),
        });
    }
    Ok(o.raw(&["Output"]))
}

fn default_route(gateway: String) -> Route {
    let destination_prefix = if gateway.contains(':') {
        "::/0"
    } else {
        "0.0.0.0/0"
    };
    Route {
        next_hop: gateway,
        destination_prefix: destination_prefix.into(),
        ..Default::default()
    }
}

/// A v1 network subnet `{AddressPrefix, GatewayAddress, Policies}`.
struct SubnetV1(Subnet);

impl ReadDoc for SubnetV1 {
    const WHAT: &'static str = "a v1 subnet {AddressPrefix, GatewayAddress, Policies}";
    fn read_obj(mut o: Obj) -> R<Self> {
        let ip_address_prefix = o.str(&["AddressPrefix", "IpAddressPrefix"])?;
        let gateway = o.str(&["GatewayAddress"])?;
        let policies = o.list(&["Policies"])?;
        let mut routes: Vec<Route> = o.list(&["Routes"])?;
        if !gateway.is_empty() {
            routes.insert(0, default_route(gateway));
        }
        Ok(SubnetV1(Subnet {
            ip_address_prefix,
            policies,
            routes,
            flags: o.u32(&["Flags"])?,
            extra: o.rest(),
        }))
    }
}

/// Keys only the v1 shapes use (hns-schema.md §5.2–§5.4, §5.7).
pub(crate) const NETWORK_V1: &[&str] = &[
    "Subnets",
    "MacPools",
    "NetworkAdapterName",
    "SourceMac",
    "DNSServerCompartment",
    "ManagementIP",
    "LayeredOn",
    "Extensions",
    "NatName",
    "SwitchName",
    "SwitchGuid",
    "AutomaticDNS",
    "DNSSuffix",
    "DNSServerList",
    "DrMacAddress",
    "CurrentEndpointCount",
    "TotalEndpoints",
    "MaxConcurrentEndpoints",
];
pub(crate) const ENDPOINT_V1: &[&str] = &[
    "VirtualNetwork",
    "VirtualNetworkName",
    "IPAddress",
    "IPv6Address",
    "IsRemoteEndpoint",
    "EncapOverhead",
    "SharedContainers",
    "GatewayAddress",
    "GatewayAddressV6",
    "PrefixLength",
    "DisableICC",
    "EnableLowMetric",
    "DNSSuffix",
    "DNSServerList",
];
pub(crate) const NAMESPACE_V1: &[&str] = &["CompartmentId", "IsDefault", "ResourceList"];

/// A network in either shape: `HNSNetwork` (§5.2) keys are converted to v2 (§5.8), everything
/// else is read as HostComputeNetwork. A v1 document without `SchemaVersion` becomes 2.0.
pub fn network_from_v1(v: &Value, path: &str) -> Result<Network, DocError> {
    read_network(v.clone(), Path::Root(path))
}

/// [`network_from_v1`], consuming the document.
pub(crate) fn read_network(v: Value, path: Path<'_>) -> Result<Network, DocError> {
    let mut o = Obj::new(v, path, "a network (HostComputeNetwork or v1 HNSNetwork)")?;
    let v1_shaped = o.has(NETWORK_V1) && !o.has(&["SchemaVersion"]);
    let id = o.id()?;
    let name = o.str(&["Name"])?;
    let network_type = crate::schema::read_network_type(&mut o)?;
    let mut policies: Vec<NetworkPolicy> = o.list(&["Policies"])?;
    let adapter = o.str(&["NetworkAdapterName"])?;
    if !adapter.is_empty() {
        policies.push(NetworkPolicy::NetAdapterName(NetAdapterNamePolicy {
            network_adapter_name: adapter,
            ..Default::default()
        }));
    }
    let source_mac = o.mac(&["SourceMac"])?;
    if !source_mac.is_empty() {
        policies.push(NetworkPolicy::SourceMacAddress(SourceMacAddressPolicy {
            source_mac_address: source_mac,
            ..Default::default()
        }));
    }
    if o.bool(&["AutomaticDNS"])? {
        policies.push(NetworkPolicy::AutomaticDns(AutomaticDnsPolicy {
            enable: true,
            ..Default::default()
        }));
    }
    // Real v1 output of overlay networks carries the distributed-router MAC at top level.
    let dr_mac = o.mac(&["DrMacAddress"])?;
    if !dr_mac.is_empty() {
        policies.push(NetworkPolicy::DrMacAddress(DrMacAddressPolicy {
            address: dr_mac,
            ..Default::default()
        }));
    }
    let mac_pool = MacPool {
        ranges: o.list(&["MacPools"])?,
        ..Default::default()
    };
    let dns = Dns {
        domain: o.str(&["DNSSuffix"])?,
        server_list: o.strings(&["DNSServerList"])?,
        ..Default::default()
    };
    let subnets: Vec<SubnetV1> = o.list(&["Subnets"])?;
    let ipams = if subnets.is_empty() {
        Vec::new()
    } else {
        vec![Ipam {
            ipam_type: "Static".into(),
            subnets: subnets.into_iter().map(|s| s.0).collect(),
            ..Default::default()
        }]
    };
    let flags = o.u32(&["Flags"])?;
    let health = o.raw(&["Health"]);
    // Whatever is left is read as v2 (keys both shapes share, v2 keys in a mixed document, and
    // unknown keys into `extra`), so v2 output of a converted document reads back the same.
    let mut n = Network::read_obj(o)?;
    n.id = id;
    if n.name.is_empty() {
        n.name = name;
    }
    if network_type.is_some() {
        n.network_type = network_type;
    }
    n.policies.extend(policies);
    n.mac_pool.ranges.extend(mac_pool.ranges);
    merge_dns(&mut n.dns, dns);
    n.ipams.extend(ipams);
    n.flags |= flags;
    if health.is_some() {
        n.health = health;
    }
    if v1_shaped {
        // A v1 document converted to v2.
        n.schema_version = Version::V2;
    }
    Ok(n)
}

fn merge_dns(into: &mut Dns, from: Dns) {
    if into.domain.is_empty() {
        into.domain = from.domain;
    }
    into.server_list.extend(from.server_list);
}

/// An endpoint in either shape: `HNSEndpoint` (§5.3) keys are converted, the rest is read as
/// HostComputeEndpoint.
pub fn endpoint_from_v1(v: &Value, path: &str) -> Result<Endpoint, DocError> {
    read_endpoint(v.clone(), Path::Root(path))
}

/// [`endpoint_from_v1`], consuming the document.
pub(crate) fn read_endpoint(v: Value, path: Path<'_>) -> Result<Endpoint, DocError> {
    let mut o = Obj::new(v, path, "an endpoint (HostComputeEndpoint or v1 HNSEndpoint)")?;
    let v1_shaped = o.has(ENDPOINT_V1) && !o.has(&["SchemaVersion"]);
    let id = o.id()?;
    let name = o.str(&["Name"])?;
    let host_compute_network = o.guid_ref(&["VirtualNetwork"])?;
    let mut policies: Vec<EndpointPolicy> = o.list(&["Policies"])?;
    let mac_address = o.mac(&["MacAddress"])?;
    let mut ip_configurations = Vec::new();
    let ip = o.str(&["IPAddress"])?;
    let prefix = o.uint(&["PrefixLength"], 32)? as u8;
    if !ip.is_empty() {
        ip_configurations.push(IpConfig {
            ip_address: ip,
            prefix_length: prefix,
            ..Default::default()
        });
    }
    let ip6 = o.str(&["IPv6Address"])?;
    let prefix6 = o.uint(&["IPv6PrefixLength"], 128)? as u8;
    if !ip6.is_empty() {
        ip_configurations.push(IpConfig {
            ip_address: ip6,
            prefix_length: prefix6,
            ..Default::default()
        });
    }
    let mut routes = Vec::new();
    for key in ["GatewayAddress", "GatewayAddressV6"] {
        let gw = o.str(&[key])?;
        if !gw.is_empty() {
            routes.push(default_route(gw));
        }
    }
    let mut domain = o.str(&["DNSSuffix"])?;
    let dns_domain = o.str(&["DNSDomain"])?;
    if domain.is_empty() {
        domain = dns_domain;
    }
    let dns = Dns {
        domain,
        server_list: o.strings(&["DNSServerList"])?,
        ..Default::default()
    };
    let mut flags = 0;
    if o.bool(&["IsRemoteEndpoint"])? {
        flags |= endpoint_flags::REMOTE_ENDPOINT;
    }
    if o.bool(&["DisableICC"])? {
        flags |= endpoint_flags::DISABLE_ICC;
    }
    if o.bool(&["EnableLowMetric"])? {
        flags |= endpoint_flags::ENABLE_LOW_INTERFACE_METRIC;
    }
    let overhead = o.u16(&["EncapOverhead"])?;
    let has_encap = policies
        .iter()
        .any(|p| matches!(p, EndpointPolicy::EncapOverhead(_)));
    if overhead != 0 && !has_encap {
        policies.push(EndpointPolicy::EncapOverhead(EncapOverheadPolicy {
            overhead,
            ..Default::default()
        }));
    }
    // `Namespace` is a v1 namespace object; only its ID carries over (a zero ID = none).
    let mut host_compute_namespace = String::new();
    if let Some((p, ns)) = o.take(&["Namespace"]) {
        let mut no = Obj::new(ns, p, "a v1 namespace {ID}")?;
        let nsid = no.id()?;
        if !nsid.is_zero() {
            host_compute_namespace = nsid.to_string();
        }
    }
    let health = o.raw(&["Health"]);
    let mut e = Endpoint::read_obj(o)?;
    e.id = id;
    if e.name.is_empty() {
        e.name = name;
    }
    if e.host_compute_network.is_empty() {
        e.host_compute_network = host_compute_network;
    }
    if e.host_compute_namespace.is_empty() {
        e.host_compute_namespace = host_compute_namespace;
    }
    prepend(&mut e.policies, policies);
    prepend(&mut e.ip_configurations, ip_configurations);
    prepend(&mut e.routes, routes);
    merge_dns(&mut e.dns, dns);
    if e.mac_address.is_empty() {
        e.mac_address = mac_address;
    }
    e.flags |= flags;
    if health.is_some() {
        e.health = health;
    }
    if v1_shaped {
        // A v1 document converted to v2.
        e.schema_version = Version::V2;
    }
    Ok(e)
}

/// `front` then `v` (without `splice`'s cost when one of them is empty, the usual case).
fn prepend<T>(v: &mut Vec<T>, mut front: Vec<T>) {
    if front.is_empty() {
        return;
    }
    if !v.is_empty() {
        front.append(v);
    }
    *v = front;
}

/// v1 namespace `{ID, IsDefault, ResourceList, CompartmentId}` (§5.4) → HostComputeNamespace.
/// `IsDefault: true` becomes `HostDefault`; otherwise the type is left unset, as hcsshim does
/// for process-container namespaces.
pub fn namespace_from_v1(v: &Value, path: &str) -> Result<Namespace, DocError> {
    read_namespace(v.clone(), Path::Root(path))
}

/// [`namespace_from_v1`], consuming the document.
pub(crate) fn read_namespace(v: Value, path: Path<'_>) -> Result<Namespace, DocError> {
    let mut o = Obj::new(v, path, "a namespace (HostComputeNamespace or v1 namespace)")?;
    let v1_shaped = o.has(NAMESPACE_V1) && !o.has(&["SchemaVersion"]);
    let id = o.id()?;
    let namespace_id = o.u32(&["CompartmentId"])?;
    let namespace_type = if o.bool(&["IsDefault"])? {
        Some(NamespaceType::HostDefault)
    } else {
        None
    };
    let resources: Vec<NamespaceResource> = o.list(&["ResourceList"])?;
    let mut n = Namespace::read_obj(o)?;
    n.id = id;
    if n.namespace_id == 0 {
        n.namespace_id = namespace_id;
    }
    if n.namespace_type.is_none() {
        n.namespace_type = namespace_type;
    }
    n.resources.splice(0..0, resources);
    if v1_shaped {
        // A v1 document converted to v2.
        n.schema_version = Version::V2;
    }
    Ok(n)
}

/// What a v1 PolicyList becomes.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyListV2 {
    LoadBalancer(LoadBalancer),
    Route(SdnRoute),
}

/// v1 `PolicyList` (§5.6): ELB policies → HostComputeLoadBalancer, ROUTE policies →
/// HostComputeRoute. A list with no ROUTE policy is a load balancer.
pub fn policy_list_from_v1(v: &Value, path: &str) -> Result<PolicyListV2, DocError> {
    read_policy_list(v.clone(), Path::Root(path))
}

/// [`policy_list_from_v1`], consuming the document.
pub(crate) fn read_policy_list(v: Value, path: Path<'_>) -> Result<PolicyListV2, DocError> {
    let mut o = Obj::new(v, path, "a v1 PolicyList {References, Policies}")?;
    let had_version = o.has(&["SchemaVersion"]);
    let id = o.id()?;
    let endpoints = o.list_with(&["References"], |v, p| match v {
        Value::String(s) => Ok(match s.rsplit_once('/') {
            Some((_, tail)) => read::canon_guid(tail),
            None => read::canon_guid_owned(s),
        }),
        other => Err(err(p, "an endpoint reference \"/endpoints/<guid>\"", &other)),
    })?;
    // Each policy without its `Type`, and its path (formatted: the policies are read after the
    // list they came from is gone).
    let policies = o.list_with(&["Policies"], |v, p| {
        let mut po = Obj::new(v, p, "a v1 policy {Type, …}")?;
        let t = match po.take(&["Type"]) {
            Some((_, Value::String(s))) => s,
            Some((tp, other)) => return Err(err(tp, "a policy type name", &other)),
            None => return Err(err(p, "a policy with a \"Type\"", &Value::Object(Map::new()))),
        };
        Ok((t, po.into_value(), p.to_string()))
    })?;
    // The rest is read as v2 (for a mixed document, and so unknown keys land in `extra`).
    let rest = o.into_value();
    let mut lb = LoadBalancer::read(rest.clone(), path)?;
    lb.id = id;
    lb.host_compute_endpoints.splice(0..0, endpoints.iter().cloned());
    if !had_version {
        lb.schema_version = Version::V2;
    }
    let mut route = SdnRoute::read(rest, path)?;
    route.id = id;
    route.host_compute_endpoints.splice(0..0, endpoints);
    if !had_version {
        route.schema_version = Version::V2;
    }
    let mut others = Vec::new();
    for (t, po, ppath) in policies {
        let mut po = Obj::new(po, Path::Root(&ppath), "a v1 policy {Type, …}")?;
        if t.eq_ignore_ascii_case("ELB") {
            let vips = po.strings(&["VIPs"])?;
            for vip in vips {
                if !lb.frontend_vips.contains(&vip) {
                    lb.frontend_vips.push(vip);
                }
            }
            let svip = po.str(&["SourceVIP"])?;
            if lb.source_vip.is_empty() {
                lb.source_vip = svip;
            }
            if po.bool(&["IsDSR"])? {
                lb.flags |= lb_flags::DSR;
            }
            let mut pm = LbPortMapping {
                protocol: po.protocol(&["Protocol"])?,
                internal_port: po.u16(&["InternalPort"])?,
                external_port: po.u16(&["ExternalPort"])?,
                ..Default::default()
            };
            if po.bool(&["ILB"])? {
                pm.flags |= lb_port_flags::ILB;
            }
            pm.extra = po.rest();
            lb.port_mappings.push(pm);
        } else if t.eq_ignore_ascii_case("ROUTE") || t.eq_ignore_ascii_case("SDNRoute") {
            route.routes.push(SdnRoutePolicy::read_obj(po)?);
        } else {
            let mut m: Map<String, Value> = Map::new();
            m.insert("Type".into(), Value::String(t));
            m.extend(po.take_rest());
            others.push(Value::Object(m));
        }
    }
    if !route.routes.is_empty() && lb.port_mappings.is_empty() {
        if !others.is_empty() {
            route.extra.insert("Policies".into(), Value::Array(others));
        }
        Ok(PolicyListV2::Route(route))
    } else {
        if !route.routes.is_empty() {
            others.extend(route.routes.iter().map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("Type".into(), "ROUTE".into());
                }
                v
            }));
        }
        if !others.is_empty() {
            lb.extra.insert("Policies".into(), Value::Array(others));
        }
        Ok(PolicyListV2::LoadBalancer(lb))
    }
}

// ---- v2 → v1 rendering (for queries that ask for SchemaVersion 1.0) ----

fn protocol_name(p: u32) -> Value {
    match p {
        6 => "TCP".into(),
        17 => "UDP".into(),
        1 => "ICMP".into(),
        58 => "ICMPv6".into(),
        n => n.to_string().into(),
    }
}

fn flat(type_name: &str, settings: Value) -> Value {
    let mut m = Map::new();
    m.insert("Type".into(), type_name.into());
    if let Value::Object(s) = settings {
        m.extend(s);
    }
    Value::Object(m)
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

fn rename(v: &mut Value, from: &str, to: &str) {
    if let Value::Object(m) = v {
        if let Some(x) = m.shift_remove(from) {
            m.insert(to.into(), x);
        }
    }
}

/// One endpoint policy in its flat v1 form (§5.5 names).
pub fn endpoint_policy_to_v1(p: &EndpointPolicy) -> Value {
    match p {
        EndpointPolicy::PortMapping(pm) => {
            let mut m = json!({
                "Protocol": protocol_name(pm.protocol),
                "InternalPort": pm.internal_port,
                "ExternalPort": pm.external_port,
            });
            if pm.flags & nat_flags::EXTERNAL_PORT_RESERVED != 0 {
                m["ExternalPortReserved"] = true.into();
            }
            if !pm.vip.is_empty() {
                m["VIP"] = pm.vip.clone().into();
            }
            flat("NAT", m)
        }
        EndpointPolicy::ProviderAddress(pa) => flat("PA", json!({"PA": pa.provider_address})),
        EndpointPolicy::SdnRoute(r) => flat("ROUTE", to_value(r)),
        EndpointPolicy::L4Proxy(lp) => {
            let mut v = to_value(lp);
            rename(&mut v, "Exceptions", "ExceptionList");
            rename(&mut v, "OutboundNAT", "OutboundNat");
            flat("PROXY", v)
        }
        EndpointPolicy::OutBoundNat(on) => {
            let mut v = to_value(on);
            rename(&mut v, "VirtualIP", "VIP");
            rename(&mut v, "Exceptions", "ExceptionList");
            flat("OutBoundNAT", v)
        }
        EndpointPolicy::Unknown { type_name, settings } => flat(type_name, settings.clone()),
        other => flat(
            other.type_name(),
            to_value(other).get("Settings").cloned().unwrap_or(Value::Null),
        ),
    }
}

/// A HostComputeNetwork in the v1 `HNSNetwork` shape.
pub fn network_to_v1(n: &Network) -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), n.id.to_string().into());
    if !n.name.is_empty() {
        m.insert("Name".into(), n.name.clone().into());
    }
    m.insert("Type".into(), n.kind().as_str().into());
    let mut policies = Vec::new();
    for p in &n.policies {
        match p {
            NetworkPolicy::NetAdapterName(a) => {
                m.insert("NetworkAdapterName".into(), a.network_adapter_name.clone().into());
            }
            NetworkPolicy::SourceMacAddress(s) => {
                m.insert("SourceMac".into(), s.source_mac_address.clone().into());
            }
            NetworkPolicy::AutomaticDns(a) => {
                m.insert("AutomaticDNS".into(), a.enable.into());
            }
            NetworkPolicy::DrMacAddress(d) => {
                m.insert("DrMacAddress".into(), d.address.clone().into());
            }
            NetworkPolicy::Unknown { type_name, settings } => {
                policies.push(flat(type_name, settings.clone()))
            }
            other => policies.push(flat(
                other.type_name(),
                to_value(other).get("Settings").cloned().unwrap_or(Value::Null),
            )),
        }
    }
    m.insert("Policies".into(), Value::Array(policies));
    m.insert("MacPools".into(), to_value(&n.mac_pool.ranges));
    let subnets: Vec<Value> = n
        .subnets()
        .map(|s| {
            let mut sm = Map::new();
            sm.insert("AddressPrefix".into(), s.ip_address_prefix.clone().into());
            if let Some(gw) = s
                .routes
                .iter()
                .find(|r| r.destination_prefix == "0.0.0.0/0" || r.destination_prefix == "::/0")
            {
                sm.insert("GatewayAddress".into(), gw.next_hop.clone().into());
            }
            let pols: Vec<Value> = s
                .policies
                .iter()
                .map(|p| match p {
                    SubnetPolicy::Vsid(i) => json!({"Type": "VSID", "VSID": i.isolation_id}),
                    SubnetPolicy::Vlan(i) => json!({"Type": "VLAN", "VLAN": i.isolation_id}),
                    SubnetPolicy::Unknown { type_name, settings } => flat(type_name, settings.clone()),
                })
                .collect();
            sm.insert("Policies".into(), Value::Array(pols));
            Value::Object(sm)
        })
        .collect();
    if !subnets.is_empty() {
        m.insert("Subnets".into(), Value::Array(subnets));
    }
    m.insert("Flags".into(), n.flags.into());
    put_dns_health_extra(&mut m, &n.dns, &n.health, &n.extra);
    Value::Object(m)
}

/// The v1 keys networks and endpoints share: `DNSSuffix`, `DNSServerList` (comma-separated),
/// `Health`; then every unknown key kept from input, unless a v1 key already has its name.
fn put_dns_health_extra(m: &mut Map<String, Value>, dns: &Dns, health: &Option<Value>, extra: &Extra) {
    if !dns.domain.is_empty() {
        m.insert("DNSSuffix".into(), dns.domain.clone().into());
    }
    if !dns.server_list.is_empty() {
        m.insert("DNSServerList".into(), dns.server_list.join(",").into());
    }
    if let Some(h) = health {
        m.insert("Health".into(), h.clone());
    }
    for (k, v) in extra {
        m.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

/// A HostComputeEndpoint in the v1 `HNSEndpoint` shape.
pub fn endpoint_to_v1(e: &Endpoint) -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), e.id.to_string().into());
    if !e.name.is_empty() {
        m.insert("Name".into(), e.name.clone().into());
    }
    if !e.host_compute_network.is_empty() {
        m.insert("VirtualNetwork".into(), e.host_compute_network.clone().into());
    }
    let mut policies = Vec::new();
    for p in &e.policies {
        match p {
            EndpointPolicy::EncapOverhead(o) => {
                m.insert("EncapOverhead".into(), o.overhead.into());
            }
            other => policies.push(endpoint_policy_to_v1(other)),
        }
    }
    m.insert("Policies".into(), Value::Array(policies));
    if !e.mac_address.is_empty() {
        m.insert("MacAddress".into(), e.mac_address.clone().into());
    }
    for ip in &e.ip_configurations {
        let (a, l) = if ip.ip_address.contains(':') {
            ("IPv6Address", "IPv6PrefixLength")
        } else {
            ("IPAddress", "PrefixLength")
        };
        m.insert(a.into(), ip.ip_address.clone().into());
        m.insert(l.into(), ip.prefix_length.into());
    }
    for r in &e.routes {
        match r.destination_prefix.as_str() {
            "0.0.0.0/0" => {
                m.insert("GatewayAddress".into(), r.next_hop.clone().into());
            }
            "::/0" => {
                m.insert("GatewayAddressV6".into(), r.next_hop.clone().into());
            }
            _ => {}
        }
    }
    if e.is_remote() {
        m.insert("IsRemoteEndpoint".into(), true.into());
    }
    if e.flags & endpoint_flags::DISABLE_ICC != 0 {
        m.insert("DisableICC".into(), true.into());
    }
    if e.flags & endpoint_flags::ENABLE_LOW_INTERFACE_METRIC != 0 {
        m.insert("EnableLowMetric".into(), true.into());
    }
    if !e.host_compute_namespace.is_empty() {
        m.insert("Namespace".into(), json!({"ID": e.host_compute_namespace}));
    }
    put_dns_health_extra(&mut m, &e.dns, &e.health, &e.extra);
    Value::Object(m)
}

/// Whether `g` is the zero GUID string (v1 output uses it for "none").
pub fn is_zero_guid(g: &str) -> bool {
    g.parse::<Guid>().map(|g| g.is_zero()).unwrap_or(false)
}

/// `POST /namespaces/<id>/addresource` (or `removeresource`) body `{"Type":"Endpoint","Data":{"Id":…}}`
/// → the v2 namespace modify `{ResourceType:"Endpoint", RequestType:"Add"|"Remove", Settings:{EndpointId}}`
/// (§5.4, §5.8). A `Container` resource becomes `Settings:{ContainerId}`.
pub fn namespace_resource_request(body: &Value, add: bool) -> Result<ModifyRequest, DocError> {
    let r = NamespaceResource::read(body.clone(), Path::ROOT)?;
    let id = r.id().unwrap_or_default().to_string();
    let settings = match r.resource_type.as_str() {
        "Endpoint" => json!({ "EndpointId": id }),
        "Container" => json!({ "ContainerId": id }),
        other => {
            return Err(DocError {
                path: "$.Type".into(),
                expected: "a namespace resource type (Endpoint or Container)".into(),
                found: format!("{other:?}"),
            })
        }
    };
    Ok(ModifyRequest {
        resource_type: r.resource_type,
        request_type: if add {
            RequestType::Add
        } else {
            RequestType::Remove
        },
        settings,
    })
}

/// `POST /endpoints/<id>/attach|detach` body (§5.3).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachRequestV1 {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container_id: String,
    /// `Container`, `VirtualMachine` or `Host` (always emitted).
    pub system_type: String,
    #[serde(skip_serializing_if = "crate::schema::is_zero_u16")]
    pub compartment_id: u16,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub virtual_nic_name: String,
}

impl AttachRequestV1 {
    /// A host attach: the v2 equivalent is adding the endpoint to a Host/HostDefault namespace
    /// (the one whose `NamespaceId` is `compartment_id`; compartment 1 is the host default).
    pub fn is_host(&self) -> bool {
        self.system_type == "Host"
    }
}

impl ReadDoc for AttachRequestV1 {
    const WHAT: &'static str = "an attach request {ContainerId, SystemType, CompartmentId, VirtualNicName}";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(AttachRequestV1 {
            container_id: o.str(&["ContainerId"])?,
            system_type: o.enum_str(&["SystemType"], &["Container", "VirtualMachine", "Host"])?,
            compartment_id: o.u16(&["CompartmentId"])?,
            virtual_nic_name: o.str(&["VirtualNicName"])?,
        })
    }
}

/// Decode an endpoint attach/detach request body.
pub fn decode_attach_request(json: &str) -> Result<AttachRequestV1, DocError> {
    AttachRequestV1::read(read::parse_json(json)?, Path::ROOT)
}
