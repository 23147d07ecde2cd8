//! kube-proxy's load-balancer documents and identities (docs/reference/kubernetes.md §2.5–§2.7).

use crate::hcn::{str_field, v2};
use hnsim_model::schema::{lb_distribution, lb_flags, lb_port_flags};
use serde_json::{json, Value as Json};

/// The five LB kinds of one service port, in the order kube-proxy manages them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LbKind {
    ClusterIp,
    NodePort,
    ExternalIp,
    Ingress,
    HealthCheck,
}

impl LbKind {
    pub fn name(self) -> &'static str {
        match self {
            LbKind::ClusterIp => "ClusterIP",
            LbKind::NodePort => "NodePort",
            LbKind::ExternalIp => "ExternalIP",
            LbKind::Ingress => "IngressIP",
            LbKind::HealthCheck => "HealthCheck",
        }
    }
}

/// kube-proxy's `loadBalancerFlags`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LbFlags {
    pub dsr: bool,
    pub ipv6: bool,
    pub local_routed_vip: bool,
    pub use_mux: bool,
    pub preserve_dip: bool,
    pub session_affinity: bool,
    pub vip_external_ip: bool,
}

impl LbFlags {
    /// `HostComputeLoadBalancer.Flags`: DSR 1, IPv6 2.
    pub fn lb(self) -> u32 {
        (if self.dsr { lb_flags::DSR } else { 0 }) | (if self.ipv6 { lb_flags::IPV6 } else { 0 })
    }
    /// `PortMappings[0].Flags`: LocalRoutedVIP 2, UseMux 4, PreserveDIP 8, VipExternalIP 16
    /// (ILB 1 is never set by kube-proxy).
    pub fn port(self) -> u32 {
        let mut f = 0;
        if self.local_routed_vip {
            f |= lb_port_flags::LOCAL_ROUTED_VIP;
        }
        if self.use_mux {
            f |= lb_port_flags::USE_MUX;
        }
        if self.preserve_dip {
            f |= lb_port_flags::PRESERVE_DIP;
        }
        if self.vip_external_ip {
            f |= lb_port_flags::VIP_EXTERNAL_IP;
        }
        f
    }
}

/// What one LB should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbSpec {
    pub kind: LbKind,
    pub source_vip: String,
    /// Empty for the NodePort LB (no FrontendVIPs).
    pub vip: String,
    pub protocol: u16,
    pub internal_port: u16,
    pub external_port: u16,
    pub flags: LbFlags,
    /// HNS endpoint IDs.
    pub endpoints: Vec<String>,
}

/// The identity kube-proxy keys LBs by: (protocol, internal port, external port, first
/// frontend VIP, hash of the endpoint IDs). Flags, SourceVIP and DistributionType are not part
/// of it, so an LB that differs only in those is reused. PR #136241 added the IP family
/// (`ipv6`, only set by the `latest` profile); before it a v4 and a v6 LB with the same ports
/// and backend IDs were one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LbIdentity {
    pub ipv6: bool,
    pub protocol: u16,
    pub internal_port: u16,
    pub external_port: u16,
    pub vip: String,
    pub endpoints_hash: u64,
}

/// Order-independent hash of endpoint IDs: the XOR of a hash of each upper-cased ID, as
/// kube-proxy XORs SHA-1s (so two equal IDs cancel, as upstream).
pub fn hash_endpoints<'a>(ids: impl IntoIterator<Item = &'a str>) -> u64 {
    ids.into_iter().fold(0, |acc, id| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.bytes() {
            h ^= u64::from(b.to_ascii_uppercase());
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        acc ^ h
    })
}

impl LbSpec {
    pub fn identity(&self, with_family: bool) -> LbIdentity {
        LbIdentity {
            ipv6: with_family && self.flags.ipv6,
            protocol: self.protocol,
            internal_port: self.internal_port,
            external_port: self.external_port,
            vip: self.vip.clone(),
            endpoints_hash: hash_endpoints(self.endpoints.iter().map(String::as_str)),
        }
    }

    /// The `HostComputeLoadBalancer` document. Empty SourceVIP, empty FrontendVIPs, Flags 0 and
    /// DistributionType 0 are left out, as hnslib's `omitempty` tags do.
    pub fn document(&self) -> Json {
        let mut pm = json!({
            "Protocol": self.protocol,
            "InternalPort": self.internal_port,
            "ExternalPort": self.external_port,
        });
        if self.flags.session_affinity {
            pm["DistributionType"] = json!(lb_distribution::SOURCE_IP);
        }
        if self.flags.port() != 0 {
            pm["Flags"] = json!(self.flags.port());
        }
        let mut d = json!({"HostComputeEndpoints": self.endpoints});
        if !self.source_vip.is_empty() {
            d["SourceVIP"] = json!(self.source_vip);
        }
        if !self.vip.is_empty() {
            d["FrontendVIPs"] = json!([self.vip]);
        }
        d["PortMappings"] = json!([pm]);
        if self.flags.lb() != 0 {
            d["Flags"] = json!(self.flags.lb());
        }
        d["SchemaVersion"] = v2();
        d
    }
}

/// The identity of an LB read back from HNS; `None` for an LB without PortMappings (which made
/// older kube-proxy panic, PR #141489; newer ones skip it).
pub fn identity_of(lb: &Json, with_family: bool) -> Option<LbIdentity> {
    let pm = lb.get("PortMappings")?.as_array()?.first()?;
    let n = |k: &str| pm.get(k).and_then(Json::as_u64).unwrap_or(0);
    let vip = lb
        .get("FrontendVIPs")
        .and_then(Json::as_array)
        .and_then(|v| v.first())
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    let eps = lb
        .get("HostComputeEndpoints")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).collect::<Vec<_>>())
        .unwrap_or_default();
    let flags = lb.get("Flags").and_then(Json::as_u64).unwrap_or(0) as u32;
    Some(LbIdentity {
        ipv6: with_family && flags & lb_flags::IPV6 != 0,
        protocol: n("Protocol") as u16,
        internal_port: n("InternalPort") as u16,
        external_port: n("ExternalPort") as u16,
        vip,
        endpoints_hash: hash_endpoints(eps),
    })
}

/// The ID of an LB document.
pub fn id_of(lb: &Json) -> String {
    str_field(lb, "ID").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodeport_flags_are_vip_external_ip_and_local_routed_vip() {
        let f = LbFlags {
            vip_external_ip: true,
            local_routed_vip: true,
            ..Default::default()
        };
        assert_eq!(f.port(), 18);
        let ingress = LbFlags {
            vip_external_ip: true,
            use_mux: true,
            preserve_dip: true,
            dsr: true,
            ..Default::default()
        };
        assert_eq!((ingress.port(), ingress.lb()), (28, 1));
    }

    #[test]
    fn endpoint_hash_ignores_order_and_case() {
        assert_eq!(hash_endpoints(["ab", "CD"]), hash_endpoints(["cd", "AB"]));
        assert_ne!(hash_endpoints(["ab"]), hash_endpoints(["ab", "cd"]));
    }

    #[test]
    fn empty_fields_are_omitted() {
        let s = LbSpec {
            kind: LbKind::NodePort,
            source_vip: String::new(),
            vip: String::new(),
            protocol: 6,
            internal_port: 80,
            external_port: 30080,
            flags: LbFlags::default(),
            endpoints: vec!["x".into()],
        };
        let d = s.document();
        assert!(d.get("SourceVIP").is_none() && d.get("FrontendVIPs").is_none() && d.get("Flags").is_none());
        assert!(d["PortMappings"][0].get("DistributionType").is_none());
    }
}
