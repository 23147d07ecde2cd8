//! A load balancer document's typed values: its backends, frontend VIPs, source VIP, flags
//! and port mappings.

use super::{guid, internal_port, ip, mapping_protocol, ReprError};
use crate::ids::Guid;
use crate::schema::{lb_flags, LoadBalancer};
use std::net::IpAddr;

/// A load balancer document, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancerRepr {
    /// `HostComputeEndpoints`, one per entry: the backend endpoints.
    pub backends: Vec<Result<Guid, Box<ReprError>>>,
    /// `FrontendVIPs`, one per entry.
    pub frontend_vips: Vec<Result<IpAddr, Box<ReprError>>>,
    /// `SourceVIP`; empty (or blank) is none (kube-proxy sends "", consumers.md P3).
    pub source_vip: Result<Option<IpAddr>, Box<ReprError>>,
    /// LoadBalancerFlags IPv6 (2): the LB balances to its backends' IPv6 addresses.
    pub v6: bool,
    /// LoadBalancerFlags EnableDirectServerReturn (1).
    pub dsr: bool,
    /// `PortMappings`, one per entry.
    pub port_mappings: Vec<LbMappingRepr>,
}

/// One entry of a load balancer's `PortMappings`, with the defaults of `repr` applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbMappingRepr {
    /// The protocol as the dataplane matches it ([`mapping_protocol`]: 0 is TCP).
    pub protocol: u8,
    pub external_port: u16,
    /// The backend port ([`internal_port`]: 0 is the external port).
    pub internal_port: u16,
    /// LoadBalancerPortMappingFlags as sent.
    pub flags: u32,
    /// `DistributionType` as sent (0 none, 1 source IP + protocol, 2 source IP).
    pub distribution: u32,
}

impl LoadBalancerRepr {
    /// Read `lb`'s values.
    pub fn parse(lb: &LoadBalancer) -> LoadBalancerRepr {
        let backends = (lb.host_compute_endpoints.iter().enumerate())
            .map(|(i, s)| {
                guid(s).ok_or_else(|| ReprError::boxed(format!("HostComputeEndpoints[{i}]"), "a GUID", s))
            })
            .collect();
        let frontend_vips = (lb.frontend_vips.iter().enumerate())
            .map(|(i, s)| {
                ip(s).ok_or_else(|| ReprError::boxed(format!("FrontendVIPs[{i}]"), "an IP address", s))
            })
            .collect();
        let source_vip = match lb.source_vip.trim().is_empty() {
            true => Ok(None),
            false => ip(&lb.source_vip)
                .map(Some)
                .ok_or_else(|| ReprError::boxed("SourceVIP".into(), "an IP address", &lb.source_vip)),
        };
        LoadBalancerRepr {
            backends,
            frontend_vips,
            source_vip,
            v6: lb.flags & lb_flags::IPV6 != 0,
            dsr: lb.flags & lb_flags::DSR != 0,
            port_mappings: (lb.port_mappings.iter())
                .map(|m| LbMappingRepr {
                    protocol: mapping_protocol(m.protocol),
                    external_port: m.external_port,
                    internal_port: internal_port(m.internal_port, m.external_port),
                    flags: m.flags,
                    distribution: m.distribution_type,
                })
                .collect(),
        }
    }

    /// The backend IDs that read, in document order.
    pub fn backend_ids(&self) -> impl Iterator<Item = Guid> + '_ {
        self.backends.iter().filter_map(|b| b.as_ref().ok().copied())
    }

    /// Every value that did not read, in document order (backends, frontend VIPs, source VIP).
    pub fn errors(&self) -> impl Iterator<Item = &ReprError> + '_ {
        let backends = self.backends.iter().filter_map(|b| super::err_of(b));
        let vips = self.frontend_vips.iter().filter_map(|v| super::err_of(v));
        backends.chain(vips).chain(super::err_of(&self.source_vip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repr(doc: serde_json::Value) -> LoadBalancerRepr {
        LoadBalancerRepr::parse(&serde_json::from_value(doc).expect("a load balancer document"))
    }

    #[test]
    fn a_well_formed_load_balancer_reads_into_typed_values() {
        let r = repr(
            json!({"HostComputeEndpoints": ["404947ac-1234-5678-9abc-def012345678"],
            "FrontendVIPs": ["10.96.0.10", " fd00::10 "], "SourceVIP": "",
            "PortMappings": [{"Protocol": 17, "InternalPort": 53, "ExternalPort": 53, "Flags": 1,
                "DistributionType": 2}], "Flags": 3}),
        );
        assert_eq!(r.errors().count(), 0);
        assert_eq!(
            r.backend_ids().collect::<Vec<_>>(),
            ["404947AC-1234-5678-9ABC-DEF012345678".parse().unwrap()]
        );
        assert_eq!(r.frontend_vips[1], Ok("fd00::10".parse().unwrap()));
        assert_eq!(r.source_vip, Ok(None), "an empty SourceVIP is none (P3)");
        assert!(r.v6 && r.dsr);
        assert_eq!(
            r.port_mappings,
            [LbMappingRepr {
                protocol: 17,
                external_port: 53,
                internal_port: 53,
                flags: 1,
                distribution: 2
            }]
        );
    }

    #[test]
    fn each_flag_reads_on_its_own() {
        let flags = |f: u32| {
            let r = repr(json!({"Flags": f}));
            (r.v6, r.dsr)
        };
        assert_eq!(flags(0), (false, false));
        assert_eq!(flags(1), (false, true), "EnableDirectServerReturn only");
        assert_eq!(flags(2), (true, false), "IPv6 only");
    }

    #[test]
    fn values_that_do_not_read_are_typed_errors_and_defaults_are_explicit() {
        let r = repr(
            json!({"HostComputeEndpoints": ["nope"], "FrontendVIPs": ["ten"], "SourceVIP": "src",
            "PortMappings": [{"Protocol": 0, "InternalPort": 0, "ExternalPort": 8080}]}),
        );
        let errors: Vec<String> = r.errors().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                r#"HostComputeEndpoints[0]: expected a GUID, found "nope""#,
                r#"FrontendVIPs[0]: expected an IP address, found "ten""#,
                r#"SourceVIP: expected an IP address, found "src""#,
            ]
        );
        // The inferred defaults (hns-schema.md §6.1): protocol 0 is TCP, InternalPort 0 the
        // external port.
        assert_eq!(
            (r.port_mappings[0].protocol, r.port_mappings[0].internal_port),
            (6, 8080)
        );
    }
}
