//! From a scenario's `underlay`, `hosts` and `stations` to the dataplane's world specs.

use super::format::{HostDef, Scenario};
use super::parse::suggest;
use crate::world::{
    DataplaneSettings, HostSpec, RouterInterface, RouterSpec, SegmentSpec, StationSpec, TopologyError, World,
    WorldError,
};
use hnsim_model::schema::Version;
use hnsim_model::state::{HostSettings, OnReferenced};
use hnsim_model::Mac;
use ipnet::{IpNet, Ipv4Net};
use serde_json::Value as Json;
use std::net::{IpAddr, Ipv4Addr};

/// Control-plane host settings (`HostSettings`, inferred HNS behaviours).
const CONTROL_SETTINGS: &[&str] = &[
    "network-with-endpoints",
    "endpoint-in-namespace",
    "endpoint-in-policy-list",
    "namespace-with-resources",
    "nat-networks-persist",
    "namespaces-survive-restart",
    "reject-reserved-addresses",
];

/// Every host setting (docs/scenario-format.md "Host settings"): the control plane's, then every
/// field of the dataplane's `DataplaneSettings` in kebab case (read from the type, so new
/// dataplane settings are accepted without a change here).
pub fn setting_names() -> Vec<String> {
    let mut out: Vec<String> = CONTROL_SETTINGS.iter().map(|s| s.to_string()).collect();
    if let Ok(Json::Object(m)) = serde_json::to_value(DataplaneSettings::default()) {
        out.extend(m.keys().map(|k| k.replace('_', "-")));
    }
    out
}

/// A host's settings from its `hns-version` and `settings:`; errors name the offending key.
pub fn host_settings(h: &HostDef) -> Result<(HostSettings, DataplaneSettings), (String, String)> {
    let mut hs = HostSettings::default();
    if let Some(v) = &h.hns_version {
        if let Some((a, b)) = super::validate::parse_version(v) {
            hs.hns_version = Version::new(a, b);
        }
    }
    let mut dp =
        serde_json::to_value(DataplaneSettings::default()).map_err(|e| (String::new(), e.to_string()))?;
    for (key, val) in &h.settings {
        let on_ref = |v: &serde_yaml::Value| -> Result<OnReferenced, (String, String)> {
            match v.as_str() {
                Some("refuse") => Ok(OnReferenced::Refuse),
                Some("release") => Ok(OnReferenced::Release),
                _ => Err((
                    key.clone(),
                    format!("`{key}`: expected `refuse` or `release`, found {}", show(v)),
                )),
            }
        };
        let boolean = |v: &serde_yaml::Value| -> Result<bool, (String, String)> {
            v.as_bool().ok_or_else(|| {
                (
                    key.clone(),
                    format!("`{key}`: expected true or false, found {}", show(v)),
                )
            })
        };
        match key.as_str() {
            "network-with-endpoints" => hs.network_with_endpoints = on_ref(val)?,
            "endpoint-in-namespace" => hs.endpoint_in_namespace = on_ref(val)?,
            "endpoint-in-policy-list" => hs.endpoint_in_policy_list = on_ref(val)?,
            "namespace-with-resources" => hs.namespace_with_resources = on_ref(val)?,
            "nat-networks-persist" => hs.nat_networks_persist = boolean(val)?,
            "namespaces-survive-restart" => hs.namespaces_survive_restart = boolean(val)?,
            "reject-reserved-addresses" => hs.reject_reserved_addresses = boolean(val)?,
            k if setting_names().iter().any(|n| n == k) => {
                let field = k.replace('-', "_");
                let json: Json = serde_json::to_value(val).map_err(|e| (key.clone(), e.to_string()))?;
                if let Some(o) = dp.as_object_mut() {
                    o.insert(field, json);
                }
            }
            other => {
                let mut msg = format!("unknown host setting `{other}`");
                if let Some(s) = suggest(other, &setting_names()) {
                    msg.push_str(&format!("; did you mean `{s}`?"));
                }
                return Err((key.clone(), msg));
            }
        }
    }
    let dp: DataplaneSettings = serde_json::from_value(dp.clone()).map_err(|e| {
        // Find which key has the wrong type by checking them one at a time.
        for (key, val) in &h.settings {
            let mut one = serde_json::to_value(DataplaneSettings::default()).unwrap_or(Json::Null);
            if let (Some(o), Ok(v)) = (one.as_object_mut(), serde_json::to_value(val)) {
                o.insert(key.replace('-', "_"), v);
            }
            if let Err(e) = serde_json::from_value::<DataplaneSettings>(one) {
                return (key.clone(), format!("`{key}`: {e}"));
            }
        }
        (String::new(), e.to_string())
    })?;
    settings_in_range(h, &dp)?;
    Ok((hs, dp))
}

/// Values that parse but cannot work (a zero block, a first port with no room for one block, a
/// vNIC MTU below IPv4's 576): the key and a message.
fn settings_in_range(h: &HostDef, dp: &DataplaneSettings) -> Result<(), (String, String)> {
    let bad = |key: &str, msg: String| Err((key.to_string(), format!("`{key}`: {msg}")));
    if dp.snat_block == 0 {
        return bad(
            "snat-block",
            "expected a block size of at least 1, found 0".into(),
        );
    }
    if dp.snat_first_port == 0 || u32::from(dp.snat_first_port) + u32::from(dp.snat_block) - 1 > 65535 {
        return bad(
            "snat-first-port",
            format!(
                "expected a first port from 1 to {} (room for one block of {}), found {}",
                65536 - u32::from(dp.snat_block),
                dp.snat_block,
                dp.snat_first_port
            ),
        );
    }
    if dp.snat_pool_ports == 0 {
        return bad("snat-pool-ports", "expected at least 1 port, found 0".into());
    }
    let link = h.mtu.unwrap_or(1500);
    let max = link.saturating_sub(576);
    if dp.container_mtu_reduction > max {
        return bad(
            "container-mtu-reduction",
            format!(
                "expected at most {max} (the link MTU {link} minus IPv4's minimum 576), found {}",
                dp.container_mtu_reduction
            ),
        );
    }
    if dp.flow_idle_timeout_ns == 0 {
        return bad("flow-idle-timeout-ns", "expected at least 1 ns, found 0".into());
    }
    Ok(())
}

fn show(v: &serde_yaml::Value) -> String {
    serde_yaml::to_string(v)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn v4(ip: IpAddr, what: &str) -> Result<Ipv4Addr, TopologyError> {
    match ip {
        IpAddr::V4(a) => Ok(a),
        IpAddr::V6(_) => Err(TopologyError::Invalid(format!(
            "{what}: the underlay is IPv4 only, found {ip}"
        ))),
    }
}

fn v4net(n: IpNet, what: &str) -> Result<Ipv4Net, TopologyError> {
    match n {
        IpNet::V4(a) => Ok(a),
        IpNet::V6(_) => Err(TopologyError::Invalid(format!(
            "{what}: the underlay is IPv4 only, found {n}"
        ))),
    }
}

/// Deterministic default MACs: hosts get the Hyper-V OUI 00-15-5D (P10) plus the low three bytes
/// of their address; stations and routers get locally administered MACs from their address.
fn host_mac(ip: Ipv4Addr) -> Mac {
    let o = ip.octets();
    Mac([0x00, 0x15, 0x5D, o[1], o[2], o[3]])
}
fn station_mac(ip: Ipv4Addr) -> Mac {
    let o = ip.octets();
    Mac([0x02, 0x00, o[0], o[1], o[2], o[3]])
}
fn router_mac(ip: Ipv4Addr) -> Mac {
    let o = ip.octets();
    Mac([0x02, 0x01, o[0], o[1], o[2], o[3]])
}

/// The segment whose prefix holds `ip` (the first, in file order).
pub fn segment_containing(s: &Scenario, ip: IpAddr) -> Option<String> {
    s.underlay
        .segments
        .iter()
        .find(|(_, d)| d.prefix.contains(&ip))
        .map(|(n, _)| n.clone())
}

fn segment_for(s: &Scenario, seg: &Option<String>, ip: IpAddr) -> String {
    match seg {
        Some(x) => x.clone(),
        None => segment_containing(s, ip).unwrap_or_default(),
    }
}

/// Build the world's underlay, hosts and stations (no HNS objects yet).
pub fn build_world(s: &Scenario, seed: u64) -> Result<World, WorldError> {
    let mut w = World::new(seed);
    for (name, seg) in &s.underlay.segments {
        w.add_segment(SegmentSpec {
            name: name.clone(),
            prefix: v4net(seg.prefix, &format!("segment {name}"))?,
            mtu: seg.mtu.unwrap_or(1500),
        })?;
    }
    for (name, r) in &s.underlay.routers {
        let mut interfaces = Vec::new();
        for i in &r.interfaces {
            let ip = v4(i.ip, &format!("router {name}"))?;
            interfaces.push(RouterInterface {
                segment: i.segment.clone(),
                ip,
                mac: i.mac.unwrap_or_else(|| router_mac(ip)),
            });
        }
        let mut routes = Vec::new();
        for rt in &r.routes {
            routes.push((v4net(rt.prefix, name)?, v4(rt.via, name)?));
        }
        w.add_router(RouterSpec {
            name: name.clone(),
            interfaces,
            default_route: r.default_route.map(|a| v4(a, name)).transpose()?,
            routes,
        })?;
    }
    for (name, h) in &s.hosts {
        let ip = v4(h.ip, &format!("host {name}"))?;
        let mut spec = HostSpec::new(
            name,
            &segment_for(s, &h.segment, h.ip),
            ip,
            h.mac.unwrap_or_else(|| host_mac(ip)),
        );
        spec.gateway = h.gateway.map(|g| v4(g, name)).transpose()?;
        spec.mtu = h.mtu.unwrap_or(1500);
        let (hs, dp) = host_settings(h).map_err(|(_, m)| TopologyError::Invalid(m))?;
        spec.settings = hs;
        spec.dataplane = dp;
        // IPv6 OS routes name their next-hop node by its IPv4 underlay address (the underlay is
        // IPv4 only; World::set_host_routes6).
        let mut routes6 = Vec::new();
        for rt in &h.routes {
            match rt.prefix {
                IpNet::V6(p6) => routes6.push((p6, v4(rt.via, name)?)),
                IpNet::V4(_) => spec.routes.push((v4net(rt.prefix, name)?, v4(rt.via, name)?)),
            }
        }
        w.add_host(spec)?;
        if !routes6.is_empty() {
            w.set_host_routes6(name, routes6)?;
        }
    }
    for (name, st) in &s.stations {
        let ip = v4(st.ip, &format!("station {name}"))?;
        w.add_station(StationSpec {
            name: name.clone(),
            segment: segment_for(s, &st.segment, st.ip),
            ip,
            mac: st.mac.unwrap_or_else(|| station_mac(ip)),
            gateway: st.gateway.map(|g| v4(g, name)).transpose()?,
        })?;
    }
    Ok(w)
}
