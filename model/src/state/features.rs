//! HNS feature gates by service version (hns-schema.md §4.6, from hcsshim `hcn/hcnglobals.go`).

use crate::schema::Version;

/// A feature whose support depends on the HNS service version.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    ApiV2,
    RemoteSubnet,
    HostRoute,
    Dsr,
    Slash32EndpointPrefixes,
    AclSupportForProtocol252,
    SessionAffinity,
    Ipv6DualStack,
    SetPolicy,
    VxlanPort,
    L4Proxy,
    L4WfpProxy,
    TierAcl,
    NetworkAcl,
    NestedIpSet,
    DisableHostPort,
    ModifyLoadBalancer,
    Accelnet,
}

fn at_least(v: Version, major: u32, minor: u32) -> bool {
    v >= Version::new(major, minor)
}

/// `major.minor ..= major.max`.
fn within_major(v: Version, major: u32, minor: u32) -> bool {
    v.major == major && v.minor >= minor
}

impl Feature {
    /// The SupportedFeatures JSON key hcsshim uses.
    pub fn name(self) -> &'static str {
        match self {
            Feature::ApiV2 => "API.V2",
            Feature::RemoteSubnet => "RemoteSubnet",
            Feature::HostRoute => "HostRoute",
            Feature::Dsr => "DSR",
            Feature::Slash32EndpointPrefixes => "Slash32EndpointPrefixes",
            Feature::AclSupportForProtocol252 => "AclSupportForProtocol252",
            Feature::SessionAffinity => "SessionAffinity",
            Feature::Ipv6DualStack => "IPv6DualStack",
            Feature::SetPolicy => "SetPolicy",
            Feature::VxlanPort => "VxlanPort",
            Feature::L4Proxy => "L4Proxy",
            Feature::L4WfpProxy => "L4WfpProxy",
            Feature::TierAcl => "TierAcl",
            Feature::NetworkAcl => "NetworkACL",
            Feature::NestedIpSet => "NestedIpSet",
            Feature::DisableHostPort => "DisableHostPort",
            Feature::ModifyLoadBalancer => "ModifyLoadbalancer",
            Feature::Accelnet => "Accelnet",
        }
    }

    pub fn supported(self, v: Version) -> bool {
        match self {
            Feature::ApiV2 | Feature::RemoteSubnet | Feature::HostRoute => at_least(v, 9, 2),
            Feature::Dsr => within_major(v, 9, 3) || at_least(v, 10, 2),
            Feature::Slash32EndpointPrefixes => within_major(v, 9, 3) || at_least(v, 10, 4),
            Feature::AclSupportForProtocol252 => at_least(v, 11, 0),
            Feature::SessionAffinity => at_least(v, 12, 0),
            Feature::Ipv6DualStack => at_least(v, 11, 10),
            Feature::SetPolicy => at_least(v, 13, 0),
            Feature::VxlanPort => at_least(v, 10, 3),
            Feature::L4Proxy => {
                within_major(v, 9, 5)
                    || within_major(v, 10, 5)
                    || within_major(v, 11, 11)
                    || within_major(v, 12, 1)
                    || at_least(v, 13, 1)
            }
            Feature::L4WfpProxy => at_least(v, 13, 2),
            Feature::TierAcl => at_least(v, 14, 0),
            Feature::NetworkAcl | Feature::NestedIpSet => at_least(v, 15, 0),
            Feature::DisableHostPort => at_least(v, 15, 1),
            Feature::ModifyLoadBalancer | Feature::Accelnet => at_least(v, 15, 4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_follow_hcsshim_ranges() {
        assert!(Feature::Dsr.supported(Version::new(9, 3)));
        assert!(!Feature::Dsr.supported(Version::new(10, 1)));
        assert!(Feature::Dsr.supported(Version::new(10, 2)));
        assert!(Feature::L4Proxy.supported(Version::new(11, 11)));
        assert!(!Feature::L4Proxy.supported(Version::new(12, 0)));
        assert!(!Feature::ModifyLoadBalancer.supported(Version::new(15, 3)));
        assert!(Feature::ModifyLoadBalancer.supported(Version::new(15, 4)));
    }
}
